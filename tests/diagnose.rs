//! A failed build says why and what fixes it: real cross builds (arm64, as CI runs them) of
//! small fixtures that fail the way public Lambda projects do, each diagnosed with its chain,
//! its fixes and the Cargo.toml line, in the terminal, the annotation and the step summary.
//! They share one target dir, so what compiles before the failure compiles once.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::*;

/// The target dir every diagnosis build shares.
fn target_dir() -> PathBuf {
    repo().join("target/test-diagnose")
}

/// A failing arm64 build of `workspace` under GitHub Actions (the checkout is the workspace),
/// with `args`; returns the run and the step summary.
fn failing_build(workspace: &Path, args: &[&str]) -> Option<(Run, String)> {
    if !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some()) {
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let summary = t.path().join("summary.md");
    let mut cmd = lambda_build(workspace);
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("RUSTC", arm64_rustc().unwrap())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", workspace)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["--arm64", "--lambda-dir"])
        .arg(t.path().join("lambda"))
        .args(args);
    let run = run_bounded(&mut cmd, Duration::from_secs(600));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!t.path().join("lambda").exists(), "a failed build wrote its lambda dir");
    Some((run, std::fs::read_to_string(&summary).unwrap_or_default()))
}

/// The diagnosis block: from its `why:` line to the end.
fn block(stderr: &str) -> &str {
    let start = stderr
        .rfind("\nwhy: ")
        .unwrap_or_else(|| panic!("no diagnosis in:\n{stderr}"));
    &stderr[start + 1..]
}

#[test]
fn openssl_for_a_cross_target_gets_its_chain_the_vendored_fix_and_the_line() {
    let Some((run, summary)) = failing_build(&fixture("diagnose"), &["--package", "tls-fn"]) else {
        return;
    };
    let diagnosis = block(&run.stderr);
    assert!(
        diagnosis.starts_with(
            "why: openssl-sys needs OpenSSL built for aarch64-unknown-linux-gnu, and its build script found none"
        ),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains("\n  from: tls-fn → openssl → openssl-sys\n"),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains(r#"1. `openssl = { version = "0.10", features = ["vendored"] }`"#),
        "{diagnosis}"
    );
    assert!(diagnosis.contains("tls-fn/Cargo.toml:10"), "{diagnosis}");
    assert!(!diagnosis.contains("libssl-dev"), "{diagnosis}");
    // The annotation sits on the line declaring `openssl`, relative to the checkout.
    assert!(
        run.stderr.contains(
            "::error file=tls-fn/Cargo.toml,line=10,title=lambda-build%3A sys-library::why: openssl-sys needs OpenSSL"
        ),
        "{}",
        run.stderr
    );
    assert!(summary.contains("### lambda-build: why the build failed"), "{summary}");
    assert!(
        summary.contains("- from: `tls-fn → openssl → openssl-sys`"),
        "{summary}"
    );
    assert!(summary.contains("- at: `tls-fn/Cargo.toml` line 10"), "{summary}");
}

#[test]
fn sqlite_without_its_bundled_feature_fails_to_link_and_gets_the_bundled_fix() {
    let Some((run, summary)) = failing_build(&fixture("diagnose"), &["--package", "sqlite-fn"]) else {
        return;
    };
    let diagnosis = block(&run.stderr);
    assert!(
        diagnosis.starts_with(
            "why: libsqlite3-sys needs SQLite built for aarch64-unknown-linux-gnu, and the linker found none"
        ),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains("\n  from: sqlite-fn → libsqlite3-sys\n"),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains(r#"`libsqlite3-sys = { version = "0.30", features = ["bundled"] }`"#),
        "{diagnosis}"
    );
    assert!(
        run.stderr
            .contains("::error file=sqlite-fn/Cargo.toml,line=10,title=lambda-build%3A sys-library::"),
        "{}",
        run.stderr
    );
    assert!(summary.contains("- at: `sqlite-fn/Cargo.toml` line 10"), "{summary}");
}

#[test]
fn the_host_linker_for_a_cross_target_is_named_and_a_good_build_prints_no_diagnosis() {
    let Some((run, _)) = failing_build(&tiny(), &["--compiler", "cargo", "--package", "alpha"]) else {
        return;
    };
    let diagnosis = block(&run.stderr);
    assert!(
        diagnosis.starts_with("why: no C compiler or linker for aarch64-unknown-linux-gnu"),
        "{diagnosis}"
    );
    assert!(
        diagnosis.contains("build with the default compiler, cargo-zigbuild (drop `--compiler cargo`"),
        "{diagnosis}"
    );
    assert!(
        run.stderr.contains("::error title=lambda-build%3A c-toolchain::"),
        "{}",
        run.stderr
    );

    // The same build for the host succeeds, and says nothing of the kind.
    let t = tempfile::tempdir().unwrap();
    let mut ok = lambda_build(&tiny());
    ok.env("CARGO_TARGET_DIR", target_dir())
        .env("GITHUB_ACTIONS", "true")
        .args(["--compiler", "cargo", "--package", "alpha", "--lambda-dir"])
        .arg(t.path().join("lambda"));
    let ok = run_ok(&mut ok);
    assert!(
        !ok.stderr.contains("why: ") && !ok.stderr.contains("lambda-build%3A"),
        "{}",
        ok.stderr
    );
}
