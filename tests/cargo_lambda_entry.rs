//! lambda-build as `cargo lambda build`, through the real binary: the `cargo-lambda` entry point
//! its own `install-cargo-lambda` makes, run by the real `cargo` as cargo runs any `cargo-<name>`;
//! and selection by a member's manifest, as cargo does it.

mod entry_support;
mod support;

use std::path::{Path, PathBuf};

use entry_support::*;
use support::*;

/// A copy of the tiny workspace (alpha: a function zipped with `static/`; beta: an extension)
/// in its own temp folder, so builds write only there.
fn tiny_copy() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("ws");
    copy_tree(&tiny(), &root);
    (temp, root)
}

#[test]
fn a_members_manifest_builds_that_member_only() {
    let (_temp, root) = tiny_copy();
    let mut cmd = lambda_build(&root);
    cmd.args(["--manifest-path", "alpha/Cargo.toml", "--compiler", "cargo"]);
    run_ok(&mut cmd);
    assert_eq!(recorded_paths(&root.join("target/lambda")), ["alpha/bootstrap.zip"]);

    // Run inside the member, the same: cargo's current package.
    let mut cmd = lambda_build(&root.join("alpha"));
    cmd.args(["--compiler", "cargo", "--print-config"]);
    let run = run_ok(&mut cmd);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let selected = names(&json["binaries"]);
    assert_eq!(selected, ["alpha"]);

    // The workspace root's manifest still selects every member's Lambda binaries; -p any member.
    let mut cmd = lambda_build(&root);
    cmd.args(["--compiler", "cargo", "--print-config"]);
    assert!(run_ok(&mut cmd).stdout.contains("\"beta\""));
    let mut cmd = lambda_build(&root);
    cmd.args(["--manifest-path", "alpha/Cargo.toml", "-p", "beta", "--print-config"]);
    assert!(run_ok(&mut cmd).stdout.contains("\"beta\""));

    // A binary of another member is not in the member's selection, as with cargo.
    let mut cmd = lambda_build(&root);
    cmd.args(["--manifest-path", "alpha/Cargo.toml", "--bin", "beta", "--print-config"]);
    let out = support::run(&mut cmd);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("binary \"beta\" (from --bin) is not in the selected packages; accepted: alpha"),
        "{}",
        out.stderr
    );
}

#[test]
fn version_answers_and_other_subcommands_say_only_build_is_provided() {
    let bin = installed(&[]);
    let here = tempfile::tempdir().unwrap();
    let run = run_ok(&mut cargo_lambda_in(bin.path(), here.path(), &["--version"]));
    assert!(
        run.stdout.starts_with("cargo-lambda 1.9.2 (lambda-build "),
        "{}",
        run.stdout
    );
    for sub in ["deploy", "watch", "invoke", "new", "init", "system"] {
        let out = support::run(&mut cargo_lambda_in(bin.path(), here.path(), &[sub, "--help"]));
        assert_eq!(out.code, 2, "{sub}: {}", out.stderr);
        assert_eq!(out.stderr.lines().count(), 1, "{sub}: {}", out.stderr);
        assert!(
            out.stderr
                .starts_with(&format!("error: cargo lambda {sub} is not provided: "))
                && out.stderr.contains("provides only `cargo lambda build`"),
            "{sub}: {}",
            out.stderr
        );
    }
    let out = support::run(&mut cargo_lambda_in(bin.path(), here.path(), &["--release", "build"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("unexpected cargo lambda option --release before the subcommand")
    );
    assert!(
        std::fs::read_dir(here.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn install_links_once_and_refuses_a_real_cargo_lambda_without_force() {
    let bin = installed(&[]);
    let link = bin.path().join("cargo-lambda");
    let exe = Path::new(env!("CARGO_BIN_EXE_lambda-build")).canonicalize().unwrap();
    assert_eq!(link.canonicalize().unwrap(), exe);
    let mut again = lambda_build(bin.path());
    run_ok(again.args(["install-cargo-lambda", "."]));
    assert_eq!(link.canonicalize().unwrap(), exe, "a second install keeps the link");

    let other = tempfile::tempdir().unwrap();
    let theirs = other.path().join("cargo-lambda");
    std::fs::write(&theirs, "#!/bin/sh\necho the real one\n").unwrap();
    let mut cmd = lambda_build(other.path());
    let out = support::run(cmd.args(["install-cargo-lambda", "."]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("already exists and is not this lambda-build") && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "#!/bin/sh\necho the real one\n"
    );

    let mut cmd = lambda_build(other.path());
    run_ok(cmd.args(["install-cargo-lambda", ".", "--force", "--copy"]));
    let meta = std::fs::symlink_metadata(&theirs).unwrap();
    assert!(meta.is_file(), "--copy makes a regular file");
    assert_eq!(std::fs::read(&theirs).unwrap(), std::fs::read(&exe).unwrap());
    let run = run_ok(&mut cargo_lambda_in(other.path(), other.path(), &["--version"]));
    assert!(run.stdout.starts_with("cargo-lambda 1.9.2 "), "{}", run.stdout);
}

/// SAM's kind of command line for one function, with plain cargo (fast).
const BUILD_ALPHA: [&str; 8] = [
    "build",
    "--release",
    "--bin",
    "alpha",
    "--compiler",
    "cargo",
    "--output-format",
    "binary",
];

#[test]
fn cargo_lambda_build_leaves_only_function_files_in_the_lambda_dir() {
    let (_temp, root) = tiny_copy();
    let bin = installed(&[]);
    // As SAM runs it (CARGO_TARGET_DIR=target, --release, --bin), with a global option first.
    let mut cmd = cargo_lambda_in(bin.path(), &root, &[["-v"].as_slice(), &BUILD_ALPHA].concat());
    cmd.env("CARGO_TARGET_DIR", "target");
    let run = run_ok(&mut cmd);
    let lambda = root.join("target/lambda");
    assert_eq!(files_below(&lambda), ["alpha/bootstrap"], "{}", run.stderr);
    let records = records_dir(&root.join("target"));
    assert!(
        run.stderr
            .contains(&format!("SHA256SUMS and manifest.json in {}", records.display())),
        "the log says where the records are:\n{}",
        run.stderr
    );
    assert_eq!(recorded_paths(&records), ["alpha/bootstrap"]);
    assert_eq!(manifest(&records)["tool"]["name"], "lambda-build");
    assert_eq!(sha256sum_check_sums(&records.join("SHA256SUMS"), &lambda), 1);

    // Again: the records outside are read back, so the unchanged binary is reused.
    let mut cmd = cargo_lambda_in(bin.path(), &root, &BUILD_ALPHA);
    cmd.env("CARGO_TARGET_DIR", "target");
    let run = run_ok(&mut cmd);
    assert!(run.stderr.contains("unchanged alpha/bootstrap"), "{}", run.stderr);
    assert_eq!(files_below(&lambda), ["alpha/bootstrap"]);
}

#[test]
fn a_named_lambda_dir_with_files_is_overwritten_as_cargo_lambda_does() {
    let (_temp, root) = tiny_copy();
    let bin = installed(&[]);
    // A CDK asset folder left with an old bootstrap: lambda-build alone refuses it ...
    let asset = root.join("asset");
    std::fs::create_dir_all(asset.join("alpha")).unwrap();
    std::fs::write(asset.join("alpha/bootstrap"), "old").unwrap();
    let args = [
        "--lambda-dir",
        "asset",
        "--bin",
        "alpha",
        "--compiler",
        "cargo",
        "--output-format",
        "binary",
    ];
    let mut cmd = lambda_build(&root);
    let refused = support::run(cmd.args(args));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_eq!(std::fs::read(asset.join("alpha/bootstrap")).unwrap(), b"old");

    // ... `cargo lambda build` replaces it, says so, and adds nothing else to the folder.
    let mut cmd = cargo_lambda_in(bin.path(), &root, &[&["build"][..], &args[..]].concat());
    let run = run_ok(&mut cmd);
    assert!(
        run.stderr.contains("warning: replacing") && run.stderr.contains("which lambda-build did not write"),
        "{}",
        run.stderr
    );
    assert_eq!(files_below(&asset), ["alpha/bootstrap"]);
    assert_ne!(std::fs::read(asset.join("alpha/bootstrap")).unwrap(), b"old");
    assert_eq!(recorded_paths(&records_dir(&root.join("target"))), ["alpha/bootstrap"]);
}

#[test]
fn a_copied_entry_point_links_with_zig() {
    // A copy (no symlinks) is the running executable cargo-zigbuild calls back as its linker:
    // `cargo-lambda zig cc -- ...` must reach the wrapper, not the cargo-lambda command line.
    let zig = std::process::Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_tool("zig (python3 -m ziglang)", zig || on_path("zig")) {
        return;
    }
    let (_temp, root) = tiny_copy();
    let bin = installed(&["--copy"]);
    let mut cmd = cargo_lambda_in(
        bin.path(),
        &root,
        &["build", "--bin", "alpha", "--output-format", "binary"],
    );
    run_ok(&mut cmd);
    assert_eq!(files_below(&root.join("target/lambda")), ["alpha/bootstrap"]);
}

#[test]
fn cargo_lambda_build_defaults_are_cargo_lambdas() {
    let (_temp, root) = tiny_copy();
    let bin = installed(&[]);
    let run = run_ok(&mut cargo_lambda_in(bin.path(), &root, &["build", "--print-config"]));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    // cargo-lambda 1.9: cargo-zigbuild, binaries, the dev profile, the host's architecture on a
    // Linux x86_64 or arm64 host.
    assert_eq!(json["compiler"]["value"], "cargo-zigbuild");
    assert_eq!(json["output_format"]["value"], serde_json::json!(["binary"]));
    assert_eq!(json["profile"]["value"]["name"], "dev");
    let host = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    assert_eq!(json["target"]["value"], serde_json::json!([host]));
    assert!(!root.join("target/lambda").exists(), "--print-config builds nothing");
}

#[test]
fn records_are_never_written_through_a_planted_symlink() {
    let (temp, root) = tiny_copy();
    let bin = installed(&[]);
    let outside = temp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(root.join("target")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("target/lambda-build")).unwrap();
    let args = [
        "build",
        "--bin",
        "alpha",
        "--compiler",
        "cargo",
        "--output-format",
        "binary",
    ];
    let out = support::run(&mut cargo_lambda_in(bin.path(), &root, &args));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("is a symlink"), "{}", out.stderr);
    assert!(files_below(&outside).is_empty(), "nothing written through the link");
    assert!(
        !root.join("target/lambda/alpha/bootstrap").exists(),
        "all of a run's files or none"
    );
}
