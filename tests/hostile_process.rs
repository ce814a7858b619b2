//! A hostile process environment through the real binary: a Zig that never answers, stdout and
//! stderr that cannot be written, tokens and repositories that must not reach an HTTP request,
//! colour codes in logs, and clap's errors kept to one line.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

/// How long a probe may take in these tests (`LAMBDA_BUILD_PROBE_TIMEOUT`, seconds).
const PROBE_SECS: &str = "1";

/// A generous outer limit for a run that must end by itself (far above the probe bound).
const OUTER_LIMIT: Duration = Duration::from_secs(90);

/// A folder for PATH holding only cargo and rustc (no python3, so no `python3 -m ziglang` and
/// no pip), plus the extra scripts the test adds.
fn bare_path(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc"] {
        let real = which::which(tool).unwrap_or_else(|_| panic!("{tool} on PATH"));
        std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
    }
    bin
}

/// A `zig` that records its process id in `pids` and then sleeps, never answering `zig
/// version` (`exec`, so the recorded id is the sleeping process itself).
fn sleeping_zig(bin: &Path, pids: &Path) -> PathBuf {
    let sleep = which::which("sleep").expect("sleep on PATH");
    let script = bin.join("zig");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ >> {}\nexec {} 120\n",
            pids.display(),
            sleep.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script
}

/// lambda-build on the tiny fixture with a bare PATH holding a sleeping `zig`, which is also
/// `ZIG`, an empty tool cache, no reachable download, and a one-second probe bound.
fn with_sleeping_zig(work: &Path) -> (Command, PathBuf) {
    let bin = bare_path(work);
    let pids = work.join("pids");
    let zig = sleeping_zig(&bin, &pids);
    let mut cmd = lambda_build(&tiny());
    cmd.env("PATH", &bin)
        .env("ZIG", &zig)
        .env("LAMBDA_BUILD_CACHE", work.join("cache"))
        .env("LAMBDA_BUILD_ZIG_MIRRORS", "http://127.0.0.1:9")
        .env("LAMBDA_BUILD_HTTP_TIMEOUT", "2")
        .env("LAMBDA_BUILD_PROBE_TIMEOUT", PROBE_SECS)
        .env("CARGO_TARGET_DIR", work.join("target"));
    (cmd, pids)
}

/// Whether a process is still there and not a zombie waiting to be reaped.
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// Asserts every sleeping zig that was started is gone (killed, not left behind), and kills
/// any that is not so a failed test leaves nothing running.
fn assert_no_sleeper_left(pids: &Path) {
    let text = std::fs::read_to_string(pids).unwrap_or_default();
    let pids: Vec<&str> = text.split_whitespace().collect();
    assert!(!pids.is_empty(), "the fake zig never ran");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<&str> = pids.iter().copied().filter(|p| alive(p)).collect();
    for pid in &left {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    assert!(left.is_empty(), "zig processes left running: {left:?}");
}

#[test]
fn a_zig_that_never_answers_is_warned_about_and_skipped_by_print_config() {
    let work = tempfile::tempdir().unwrap();
    let (mut cmd, pids) = with_sleeping_zig(work.path());
    let r = run_bounded(cmd.arg("--print-config"), OUTER_LIMIT);
    assert_no_sleeper_left(&pids);
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    let warning = r
        .stderr
        .lines()
        .find(|l| l.contains("ZIG") && l.contains("LAMBDA_BUILD_PROBE_TIMEOUT"))
        .unwrap_or_else(|| panic!("no warning naming ZIG and the bound:\n{}", r.stderr));
    assert!(warning.contains("warn") || warning.contains("WARN"), "{warning}");
    let json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let tried = json["toolchain"]["zig"]["tried"].to_string();
    assert!(tried.contains("env ZIG") && tried.contains("PATH (zig)"), "{tried}");
    assert!(tried.contains("did not answer within 1s"), "{tried}");
}

#[test]
fn a_build_whose_only_zigs_never_answer_fails_naming_the_timeout() {
    let work = tempfile::tempdir().unwrap();
    let (mut cmd, pids) = with_sleeping_zig(work.path());
    let r = run_bounded(cmd.args(["--compiler", "cargo-zigbuild"]), OUTER_LIMIT);
    assert_no_sleeper_left(&pids);
    assert_eq!(r.code, 1, "stderr:\n{}", r.stderr);
    let error = r
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .expect("an error line");
    assert!(error.contains("no working Zig"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("did not answer within 1s (LAMBDA_BUILD_PROBE_TIMEOUT)"),
        "{}",
        r.stderr
    );
    assert!(!work.path().join("target").exists(), "something was compiled");
}

#[test]
fn a_bad_or_huge_timeout_is_a_usage_error() {
    // A huge number of seconds overflowed a deadline: a panic, for both timeouts.
    for (var, value) in [
        ("LAMBDA_BUILD_PROBE_TIMEOUT", "soon"),
        ("LAMBDA_BUILD_PROBE_TIMEOUT", "18446744073709551615"),
        ("LAMBDA_BUILD_HTTP_TIMEOUT", "18446744073709551615"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let r = run_bounded(
            lambda_build(&tiny())
                .env("PATH", bare_path(work.path()))
                .env_remove("ZIG")
                .env("LAMBDA_BUILD_CACHE", work.path().join("cache"))
                .env(var, value)
                .arg("--toolchain-only"),
            OUTER_LIMIT,
        );
        assert_eq!(r.code, 2, "{var}={value}: {}", r.stderr);
        let expected = format!("error: invalid {var} \"{value}\"");
        let last = r.stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with(&expected), "{}", r.stderr);
    }
}

/// Runs lambda-build with stdout a pipe nobody reads: the read end is closed before it writes.
fn into_closed_pipe(args: &[&str]) -> (i32, String) {
    let mut child = lambda_build(&tiny())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lambda-build");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("lambda-build output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn json_into_a_closed_pipe_ends_quietly() {
    for args in [
        ["--compiler", "cargo", "--print-config"],
        ["--compiler", "cargo", "--toolchain-only"],
    ] {
        let (code, stderr) = into_closed_pipe(&args);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn json_into_a_full_disk_is_a_failure_not_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let r = run(lambda_build(&tiny())
        .args(["--compiler", "cargo", "--print-config"])
        .stdout(full));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: writing to stdout"), "{}", r.stderr);
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap()
}

#[test]
fn a_stderr_that_cannot_be_written_is_exit_1_not_a_panic() {
    // A bad input: its one error line cannot be written.
    let r = run(lambda_build(&tiny()).args(["--compiler", "nope"]).stderr(dev_full()));
    assert_eq!(r.code, 1);
    // --print-config in GitHub Actions writes workflow commands to stderr; -v adds log lines.
    let r = run(lambda_build(&tiny())
        .args(["--compiler", "cargo", "--print-config", "-v"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_TOKEN", "t0ken")
        .stderr(dev_full()));
    assert_eq!(r.code, 1);
    serde_json::from_str::<serde_json::Value>(&r.stdout).expect("the JSON is still complete");
    // Log lines alone (no Actions): tracing must not panic either.
    let r = run(lambda_build(&tiny())
        .args(["--print-config", "-vv"])
        .env("ZIG", "/nonexistent/zig")
        .stderr(dev_full()));
    assert_eq!(r.code, 1);
}

/// lambda-build on the tiny fixture uploading to a GitHub release, its target dir in `work`.
fn upload(work: &Path) -> Command {
    let mut cmd = lambda_build(&tiny());
    for var in [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_REF",
        "GITHUB_API_URL",
        "GITHUB_REPOSITORY",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["--compiler", "cargo", "--upload", "github-release"])
        .env("CARGO_TARGET_DIR", work.join("target"))
        .env("GITHUB_API_URL", "http://127.0.0.1:9")
        .env("GITHUB_REPOSITORY", "octo/lambda")
        .env("GITHUB_REF", "refs/tags/v1.0.0")
        .env("GITHUB_TOKEN", "t0ken");
    cmd
}

/// Asserts a usage error: exit 2, one line naming `var`, nothing compiled.
fn assert_usage_error(r: &Run, work: &Path, var: &str) {
    assert_usage(r, &[var]);
    assert!(!work.join("target").exists(), "something was compiled");
}

#[test]
fn a_token_that_cannot_be_a_header_is_a_usage_error_that_does_not_show_it() {
    for (var, token) in [
        ("GITHUB_TOKEN", "ghp_se\ncret"),
        ("GITHUB_TOKEN", "ghp_se\u{1}cret"),
        ("INPUT_GITHUB-TOKEN", "ghp_se\u{7f}cret"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let r = run(upload(work.path()).env(var, token));
        assert_usage_error(&r, work.path(), var);
        assert!(
            !r.stderr.contains("ghp_se") && !r.stderr.contains("cret"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_traversing_repository_is_refused_before_compiling() {
    let work = tempfile::tempdir().unwrap();
    let r = run(upload(work.path()).env("GITHUB_REPOSITORY", "../.."));
    assert_usage_error(&r, work.path(), "GITHUB_REPOSITORY");
}

#[test]
fn upload_inputs_are_checked_by_print_config() {
    let cases: &[(&str, &str, &str)] = &[
        ("GITHUB_REPOSITORY", "octo/..", "GITHUB_REPOSITORY"),
        ("GITHUB_REPOSITORY", "octo/.", "GITHUB_REPOSITORY"),
        ("GITHUB_REPOSITORY", "-octo/lambda", "GITHUB_REPOSITORY"),
        ("GITHUB_REPOSITORY", "oc--to/lambda", "GITHUB_REPOSITORY"),
        ("GITHUB_REPOSITORY", "octo/lam%2fbda", "GITHUB_REPOSITORY"),
        ("GITHUB_REPOSITORY", "octo/lambda/x", "GITHUB_REPOSITORY"),
        ("GITHUB_API_URL", "http://", "GITHUB_API_URL"),
        ("GITHUB_API_URL", "https://exa mple.com", "GITHUB_API_URL"),
        ("GITHUB_API_URL", "https://h/api?x=1", "GITHUB_API_URL"),
        ("GITHUB_REF", "refs/tags/v1..2", "GITHUB_REF"),
        ("GITHUB_REF", "refs/tags/a b", "GITHUB_REF"),
        ("LAMBDA_BUILD_RELEASE_TAG", "v1\u{1}", "LAMBDA_BUILD_RELEASE_TAG"),
        ("LAMBDA_BUILD_RELEASE_TAG", "v1.lock", "LAMBDA_BUILD_RELEASE_TAG"),
        ("LAMBDA_BUILD_RELEASE_TAG", "-v1", "LAMBDA_BUILD_RELEASE_TAG"),
    ];
    for (var, value, named) in cases {
        let work = tempfile::tempdir().unwrap();
        let r = run(upload(work.path()).env(var, value).arg("--print-config"));
        assert_usage_error(&r, work.path(), named);
    }
    // And what GitHub allows passes.
    let work = tempfile::tempdir().unwrap();
    let r = run_ok(
        upload(work.path())
            .env("GITHUB_REPOSITORY", "octo-cat/my_lambda.rs")
            .env("GITHUB_API_URL", "https://ghe.example/api/v3/")
            .env("LAMBDA_BUILD_RELEASE_TAG", "release/v1.2.3-rc.1+build")
            .arg("--print-config"),
    );
    assert!(r.stdout.contains("release/v1.2.3-rc.1+build"), "{}", r.stdout);
}

#[test]
fn log_lines_have_no_colour_codes_when_stderr_is_not_a_terminal() {
    let r = run(lambda_build(&tiny())
        .args(["--print-config", "-v"])
        .env("ZIG", "/nonexistent/zig"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("/nonexistent/zig"), "no log line:\n{}", r.stderr);
    assert!(!r.stderr.contains('\u{1b}'), "{:?}", r.stderr);
}

#[test]
fn an_unparsable_log_filter_is_warned_about() {
    let r = run_ok(
        lambda_build(&tiny())
            .args(["--compiler", "cargo", "--print-config"])
            .env("LAMBDA_BUILD_LOG", "lambda_build=[[["),
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("warning: invalid LAMBDA_BUILD_LOG"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("accepted:"), "{}", r.stderr);
}

#[test]
fn clap_errors_are_one_line_and_help_and_version_still_print() {
    for args in [&["-j", "-3"][..], &["--bogus"], &["merge"]] {
        let r = run(lambda_build(&tiny()).args(args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
        assert!(r.stderr.contains("--help"), "{}", r.stderr);
    }
    let help = run_ok(lambda_build(&tiny()).arg("--help"));
    assert!(help.stdout.contains("Usage: lambda-build"), "{}", help.stdout);
    assert!(help.stdout.lines().count() > 20);
    let version = run_ok(lambda_build(&tiny()).arg("--version"));
    assert_eq!(
        version.stdout.trim(),
        format!("lambda-build {}", env!("CARGO_PKG_VERSION"))
    );
}
