//! `--smoke`: every selected function and extension is invoked once against the built-in
//! Lambda Runtime API emulator before anything is packaged. The fixture's binaries speak the
//! Runtime API themselves with std only, so these builds take seconds and need no registry.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// A build of the smoke fixture with `--smoke` into `dir`'s own target and lambda dirs.
fn smoke_build(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = lambda_build(&fixture("smoke"));
    cmd.args(["--compiler", "cargo", "--smoke", "--lambda-dir"])
        .arg(dir.join("lambda"))
        .arg("--target-dir")
        .arg(dir.join("target"))
        .args(args);
    cmd
}

/// The manifest's `smoke` object of artifact `name`.
fn smoke_of(lambda: &Path, name: &str) -> serde_json::Value {
    let manifest = manifest(lambda);
    let record = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} not recorded"))
        .clone();
    record["smoke"].clone()
}

/// Runs a smoke build that must fail, bounded, and returns it.
fn failing(dir: &Path, args: &[&str]) -> Run {
    let run = run_bounded(&mut smoke_build(dir, args), Duration::from_secs(120));
    assert_eq!(run.code, 1, "stderr:\n{}", run.stderr);
    assert!(
        run.stderr.contains("smoke test failed; nothing was packaged"),
        "{}",
        run.stderr
    );
    run
}

#[test]
fn a_function_that_answers_and_an_extension_that_registers_pass_and_are_recorded() {
    let t = tempfile::tempdir().unwrap();
    let run = run_ok(&mut smoke_build(
        t.path(),
        &["--bin", "ok", "--bin", "rejects", "--bin", "ext"],
    ));
    let lambda = t.path().join("lambda");
    let ok = smoke_of(&lambda, "ok");
    assert_eq!(ok["outcome"], "response", "{}", run.stderr);
    assert!(ok["init_ms"].is_u64() && ok["invoke_ms"].is_u64(), "{ok}");
    // rejects answers with a handled error, which its per-binary metadata expects.
    assert_eq!(smoke_of(&lambda, "rejects")["outcome"], "error");
    let ext = smoke_of(&lambda, "ext");
    assert_eq!(ext["outcome"], "registered");
    assert!(ext["init_ms"].is_u64(), "{ext}");
    assert!(
        run.stderr.contains("smoke ok (x86_64): response, init "),
        "{}",
        run.stderr
    );
    // ok's event is its per-binary smoke_event, relative to its package's folder; ok echoes it.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("smoke ok (x86_64)") && l.ends_with(": {\"name\": \"smoke\"}")),
        "{}",
        run.stderr
    );
}

#[test]
fn without_smoke_nothing_is_invoked_and_nothing_recorded() {
    let t = tempfile::tempdir().unwrap();
    let mut cmd = lambda_build(&fixture("smoke"));
    cmd.args(["--compiler", "cargo", "--bin", "panics", "--lambda-dir"])
        .arg(t.path().join("lambda"))
        .arg("--target-dir")
        .arg(t.path().join("target"));
    run_ok(&mut cmd);
    assert_eq!(smoke_of(&t.path().join("lambda"), "panics"), serde_json::Value::Null);
}

#[test]
fn a_panic_at_start_up_fails_with_its_output_and_leaves_the_lambda_dir_as_it_was() {
    let t = tempfile::tempdir().unwrap();
    let lambda = t.path().join("lambda");
    run_ok(&mut smoke_build(t.path(), &["--bin", "ok"]));
    let before = contents(&lambda);
    let run = failing(t.path(), &["--bin", "ok", "--bin", "panics", "--output-format", "zip"]);
    assert!(
        run.stderr
            .contains("panics (x86_64): exited (exit code 101) before it asked for an event"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("TABLE_NAME must be set"), "{}", run.stderr);
    // The variable it panicked on is named, with the ways to give the smoke test a value.
    assert!(
        run.stderr.contains(
            "hint: it read the variable TABLE_NAME, which is not set: smoke runs it with Lambda's own variables and the build's only; give it a value with --env-var NAME=value"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(contents(&lambda), before, "the lambda dir changed");
}

#[test]
fn the_variables_given_with_env_var_reach_the_function() {
    let t = tempfile::tempdir().unwrap();
    let run = run_ok(&mut smoke_build(
        t.path(),
        &["--bin", "panics", "--env-var", "TABLE_NAME=t"],
    ));
    assert_eq!(
        smoke_of(&t.path().join("lambda"), "panics")["outcome"],
        "response",
        "{}",
        run.stderr
    );
}

#[test]
fn an_init_error_fails_the_run() {
    let t = tempfile::tempdir().unwrap();
    let run = failing(t.path(), &["--bin", "initerr"]);
    assert!(
        run.stderr
            .contains("initerr (x86_64): reported an init error (ConfigError)"),
        "{}",
        run.stderr
    );
    assert!(!t.path().join("lambda").exists());
}

#[test]
fn a_function_that_never_polls_times_out_and_is_stopped() {
    let t = tempfile::tempdir().unwrap();
    let run = failing(t.path(), &["--bin", "sleeps", "--smoke-timeout", "1"]);
    assert!(
        run.stderr
            .contains("sleeps (x86_64): did not ask for an event within 1s (--smoke-timeout)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("connecting..."), "{}", run.stderr);
}

#[test]
fn a_handled_error_where_a_response_is_expected_is_unexpected() {
    let t = tempfile::tempdir().unwrap();
    // The flag outranks the binary's `smoke_expect = "error"`.
    let run = failing(t.path(), &["--bin", "rejects", "--smoke-expect", "response"]);
    assert!(
        run.stderr
            .contains("rejects (x86_64): answered with a handled error (Rejected); smoke_expect = \"response\""),
        "{}",
        run.stderr
    );
}

#[test]
fn a_response_where_an_error_is_expected_is_unexpected() {
    let t = tempfile::tempdir().unwrap();
    let run = failing(t.path(), &["--bin", "ok", "--smoke-expect", "error"]);
    assert!(
        run.stderr.contains("ok (x86_64): answered with a response"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_smoke_inputs_are_usage_errors_before_anything_compiles() {
    let t = tempfile::tempdir().unwrap();
    let usage = run(&mut smoke_build(t.path(), &["--smoke-expect", "maybe"]));
    assert_usage(
        &usage,
        &[
            "smoke expect",
            "\"maybe\"",
            "flag --smoke-expect",
            "response, error or any",
        ],
    );
    let usage = run(&mut smoke_build(t.path(), &["--smoke-timeout", "0"]));
    assert_usage(&usage, &["smoke timeout", "flag --smoke-timeout"]);
    let usage = run(&mut smoke_build(t.path(), &["--smoke-event", "no-such.json"]));
    assert_usage(&usage, &["smoke_event", "no-such.json"]);
    assert!(!t.path().join("target").exists(), "something compiled");
}

#[test]
fn the_event_file_is_what_the_function_gets() {
    let t = tempfile::tempdir().unwrap();
    let event = t.path().join("event.json");
    std::fs::write(&event, "{\"smoke\": \"named\"}").unwrap();
    // `panics` without TABLE_NAME crashes, so the event shows in its output only through `ok`,
    // which must then fail: expect an error to see its output lines.
    let run = failing(
        t.path(),
        &[
            "--bin",
            "ok",
            "--smoke-expect",
            "error",
            "--smoke-event",
            event.to_str().unwrap(),
        ],
    );
    assert!(run.stderr.contains("got {\"smoke\": \"named\"}"), "{}", run.stderr);
}

/// The real `lambda_runtime`, `lambda_http` and `lambda-extension` binaries of `examples/`
/// (built with the flags and target dir of tests/examples.rs, so nothing recompiles) answer the
/// built-in emulator: x86_64 natively, arm64 under qemu-user.
#[test]
fn the_examples_answer_natively_and_under_qemu() {
    if !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some())
        || !have_tool("qemu-aarch64-static", on_path("qemu-aarch64-static"))
    {
        return;
    }
    let _lock = examples_lock();
    let t = tempfile::tempdir().unwrap();
    let lambda = t.path().join("lambda");
    let mut cmd = lambda_build(&examples());
    cmd.env("CARGO_TARGET_DIR", examples_target_dir())
        .env("RUSTC", arm64_rustc().unwrap())
        .args([
            "--x86-64",
            "--arm64",
            "--output-format",
            "binary,zip",
            "--smoke",
            "--lambda-dir",
        ])
        .arg(&lambda);
    let run = run_ok(&mut cmd);
    let manifest = manifest(&lambda);
    let mut outcomes: Vec<(String, String, String)> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["format"] == "binary")
        .map(|a| {
            let smoke = &a["smoke"];
            assert!(smoke["init_ms"].is_u64(), "{a}");
            (
                a["arch"].as_str().unwrap().to_owned(),
                a["name"].as_str().unwrap().to_owned(),
                smoke["outcome"].as_str().unwrap_or("none").to_owned(),
            )
        })
        .collect();
    outcomes.sort();
    let expected: Vec<(String, String, String)> = ["arm64", "x86_64"]
        .iter()
        .flat_map(|arch| {
            [
                ("echo-extension", "registered"),
                ("hello", "response"),
                ("http-hello", "response"),
            ]
            .map(|(name, outcome)| (arch.to_string(), name.to_owned(), outcome.to_owned()))
        })
        .collect();
    assert_eq!(outcomes, expected, "{}", run.stderr);
    compare_with_cargo_lambda(&lambda, &run.stderr);
}

/// The answer of `name` on `arch` as the smoke line on stderr shows it.
fn smoke_answer(stderr: &str, name: &str, arch: &str) -> serde_json::Value {
    let prefix = format!("smoke {name} ({arch}): response, ");
    let line = stderr
        .lines()
        .find_map(|l| l.split_once(&prefix).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no smoke line for {name} {arch}:\n{stderr}"));
    let (_, answer) = line.split_once(": ").unwrap();
    serde_json::from_str(answer).unwrap_or_else(|e| panic!("{answer:?}: {e}"))
}

/// The same binaries and default events through cargo-lambda's emulator (`cargo lambda watch`
/// + `cargo lambda invoke`) give the same answers as the built-in emulator.
fn compare_with_cargo_lambda(lambda: &Path, stderr: &str) {
    let cargo_lambda = cargo_lambda();
    if !have_tool("cargo-lambda (pip install cargo-lambda)", cargo_lambda.is_some()) {
        return;
    }
    let emulator = Emulator::start(&cargo_lambda.unwrap(), &examples());
    let apigw = std::fs::read_to_string(repo().join("tests/fixtures/apigw-v2-request.json")).unwrap();
    for arch in ["x86_64", "arm64"] {
        for (name, event) in [("hello", "{}"), ("http-hello", apigw.as_str())] {
            let mut function = emulator.serve(name, &lambda.join(format!("{arch}/{name}/bootstrap")), arch == "arm64");
            let theirs = emulator.invoke(name, event);
            let _ = function.kill();
            let _ = function.wait();
            assert_eq!(smoke_answer(stderr, name, arch), theirs, "{name} on {arch}");
        }
    }
}

#[test]
fn smoke_all_refuses_before_compiling_what_no_qemu_here_can_run() {
    let t = tempfile::tempdir().unwrap();
    // A PATH with cargo and rustc (rustup's proxies) but no qemu-user.
    let cargo = which::which("cargo").unwrap();
    let path = cargo.parent().unwrap().to_path_buf();
    assert!(!path.join("qemu-aarch64-static").exists() && !path.join("qemu-aarch64").exists());
    let mut cmd = smoke_build(t.path(), &["--arm64", "--smoke-all"]);
    cmd.env("PATH", &path);
    let run = run(&mut cmd);
    assert_usage(
        &run,
        &[
            "--smoke-all (from flag --smoke-all)",
            "arm64 binaries",
            "qemu-aarch64-static or qemu-aarch64 not found on PATH",
        ],
    );
    assert!(!t.path().join("target").exists(), "nothing may compile");
    // The same from the environment names the variable.
    let mut cmd = smoke_build(t.path(), &["--arm64"]);
    cmd.env("PATH", &path).env("LAMBDA_BUILD_SMOKE_ALL", "true");
    assert_usage(&support::run(&mut cmd), &["(from env LAMBDA_BUILD_SMOKE_ALL)"]);
}
