//! The Lambda runtime gate through the real binary: the runtime's glibc picked for zigbuild,
//! binaries refused before packaging when they need a newer glibc or a library the runtime
//! lacks, `--no-verify`, and the manifest's `runtime` / `glibc_required`.

mod support;

use std::path::{Path, PathBuf};

use support::*;

fn glibc_of(record: &serde_json::Value) -> (u32, u32) {
    let text = record["glibc_required"].as_str().expect("a glibc-linked binary");
    let mut parts = text.split('.').map(|p| p.parse::<u32>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap())
}

fn artifacts(lambda_dir: &Path) -> Vec<serde_json::Value> {
    manifest(lambda_dir)["artifacts"].as_array().unwrap().clone()
}

/// A target dir of its own: a different linker or glibc rebuilds everything, and sharing the
/// examples' dir would make the suites rebuild each other's binaries.
fn own_target_dir(name: &str) -> PathBuf {
    repo().join("target").join(name)
}

#[test]
fn the_gate_refuses_a_binary_linked_against_the_hosts_newer_glibc_for_al2() {
    let out = tempfile::tempdir().unwrap();
    let lambda_dir = out.path().join("lambda");
    let run = run(lambda_build(&examples())
        .env("CARGO_TARGET_DIR", own_target_dir("test-examples-cargo"))
        .args([
            "--compiler",
            "cargo",
            "--runtime",
            "provided.al2",
            "--bin",
            "hello",
            "--lambda-dir",
        ])
        .arg(&lambda_dir));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("hello (x86_64-unknown-linux-gnu) requires GLIBC_2."))
        .unwrap_or_else(|| panic!("no glibc refusal naming hello:\n{}", run.stderr));
    assert!(
        line.contains("(symbol ") && line.ends_with("but provided.al2 has glibc 2.26"),
        "{line}"
    );
    assert!(run.stderr.contains("nothing was packaged"), "{}", run.stderr);
    assert!(run.stderr.contains("Build with cargo-zigbuild"), "{}", run.stderr);
    assert!(!lambda_dir.exists(), "something was packaged");
}

#[test]
fn zigbuild_links_against_al2s_glibc_for_both_architectures() {
    if !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some()) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let lambda_dir = out.path().join("lambda");
    let run = run_ok(
        lambda_build(&examples())
            .env("CARGO_TARGET_DIR", own_target_dir("test-examples-al2"))
            .env("RUSTC", arm64_rustc().unwrap())
            .env("LAMBDA_BUILD_RUNTIME", "provided.al2")
            .args(["--x86-64", "--arm64", "--output-format", "zip", "--lambda-dir"])
            .arg(&lambda_dir),
    );
    assert!(
        run.stderr.contains("x86_64-unknown-linux-gnu.2.26") && run.stderr.contains("aarch64-unknown-linux-gnu.2.26"),
        "{}",
        run.stderr
    );
    let records = artifacts(&lambda_dir);
    assert_eq!(records.len(), 6);
    for record in &records {
        assert_eq!(record["runtime"], "provided.al2", "{record}");
        assert!(glibc_of(record) <= (2, 26), "{record}");
        // The layout does not change with the glibc suffix.
        let path = record["path"].as_str().unwrap();
        assert!(path.starts_with("x86_64/") || path.starts_with("arm64/"), "{path}");
    }
}

fn odd_lib(target: &Path, lambda_dir: &Path) -> std::process::Command {
    let mut cmd = lambda_build(&repo().join("tests/fixtures/odd-lib"));
    cmd.env("CARGO_TARGET_DIR", target)
        .args(["--compiler", "cargo", "--lambda-dir"])
        .arg(lambda_dir);
    cmd
}

#[test]
fn a_binary_needing_a_library_the_runtime_lacks_is_refused_unless_no_verify() {
    let t = tempfile::tempdir().unwrap();
    let (target, lambda_dir) = (t.path().join("target"), t.path().join("lambda"));
    let refused = run(&mut odd_lib(&target, &lambda_dir));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "odd-lib (x86_64-unknown-linux-gnu) needs the shared library libodd.so, which provided.al2023 does not have"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("Link other libraries statically"),
        "{}",
        refused.stderr
    );
    assert!(!lambda_dir.exists());

    let allowed = run_ok(odd_lib(&target, &lambda_dir).env("LAMBDA_BUILD_NO_VERIFY", "true"));
    assert!(
        allowed.stderr.contains("--no-verify (from env LAMBDA_BUILD_NO_VERIFY)"),
        "{}",
        allowed.stderr
    );
    assert!(allowed.stderr.contains("may not start on Lambda"), "{}", allowed.stderr);
    let records = artifacts(&lambda_dir);
    assert_eq!(records[0]["path"], "odd-lib/bootstrap");
}

#[test]
fn the_runtime_comes_with_provenance_and_picks_zigbuilds_glibc() {
    let config = |extra: &[(&str, &str)], args: &[&str]| {
        let mut cmd = lambda_build(&tiny());
        cmd.arg("--print-config").args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = run_ok(&mut cmd);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
    };
    let default = config(&[], &[]);
    assert_eq!(default["runtime"]["value"], "provided.al2023");
    assert_eq!(default["runtime"]["source"], "default");
    assert_eq!(
        default["plan"]["invocations"][0]["targets"][0],
        "x86_64-unknown-linux-gnu.2.34"
    );

    let al2 = config(&[("INPUT_RUNTIME", "provided.al2")], &["--arm64"]);
    assert_eq!(al2["runtime"]["source"], "env INPUT_RUNTIME");
    assert_eq!(
        al2["plan"]["invocations"][0]["targets"][0],
        "aarch64-unknown-linux-gnu.2.26"
    );

    // A suffix the user gave wins; other compilers get no suffix.
    let pinned = config(
        &[("LAMBDA_BUILD_RUNTIME", "al2")],
        &["--target", "x86_64-unknown-linux-gnu.2.17"],
    );
    assert_eq!(
        pinned["plan"]["invocations"][0]["targets"][0],
        "x86_64-unknown-linux-gnu.2.17"
    );
    let cargo = config(&[], &["--compiler", "cargo"]);
    assert_eq!(
        cargo["plan"]["invocations"][0]["targets"][0],
        "x86_64-unknown-linux-gnu"
    );
}

#[test]
fn a_bad_runtime_is_a_usage_error() {
    let out = run(lambda_build(&tiny()).args(["--print-config", "--runtime", "python3.12"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(
            "invalid runtime \"python3.12\" from flag --runtime; accepted: provided.al2023 (glibc 2.34) or provided.al2"
        ),
        "{}",
        out.stderr
    );
}
