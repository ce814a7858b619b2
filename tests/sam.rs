//! The real AWS SAM CLI building a template through lambda-build's `cargo-lambda` entry point:
//! `sam build --beta-features` runs `BuildMethod: rust-cargolambda` without Docker, as
//! `cargo lambda build --release [--target <arch>-unknown-linux-gnu.2.26 | --arm64] --bin <Binary>`
//! in the CodeUri folder with `CARGO_TARGET_DIR=target`, then copies
//! `target/lambda/<Binary>/bootstrap` into `.aws-sam/build/<Function>/`.

mod entry_support;
mod support;

use std::path::Path;
use std::time::Duration;

use entry_support::*;
use lambda_build::config::{Arch, GlibcVersion};
use support::*;

/// The `bootstrap` SAM put in its build folder for `function`: its CPU and highest glibc.
fn built(root: &Path, function: &str) -> (Arch, Option<GlibcVersion>) {
    let path = root.join(".aws-sam/build").join(function).join("bootstrap");
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let facts = lambda_build::gate::elf::inspect(&data).unwrap();
    (
        facts.machine.expect("an x86_64 or aarch64 ELF"),
        facts.glibc.map(|(v, _)| v),
    )
}

#[test]
fn sam_builds_an_al2_and_an_arm64_function_through_the_entry_point() {
    let sam = python_script("sam");
    if !have_tool("aws-sam-cli (sam)", sam.is_some())
        || !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some())
    {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("app");
    copy_tree(&fixture("sam"), &root);
    let bin = installed(&[]);
    // No network: no telemetry, and a version check that is not due (SAM checks weekly).
    let app_dir = temp.path().join("sam-app");
    std::fs::create_dir_all(&app_dir).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        app_dir.join("metadata.json"),
        format!("{{\"lastVersionCheck\": {now}.0, \"telemetryEnabled\": false}}"),
    )
    .unwrap();

    let mut cmd = clean(sam.unwrap(), &root);
    cmd.args(["build", "--beta-features"])
        .env("PATH", path_with(bin.path()))
        .env("SAM_CLI_TELEMETRY", "0")
        .env("__SAM_CLI_APP_DIR", &app_dir)
        .env("RUSTC", arm64_rustc().unwrap());
    let run = run_bounded(&mut cmd, Duration::from_secs(900));
    assert_eq!(run.code, 0, "sam build failed\n{}\n{}", run.stdout, run.stderr);

    let (arch, glibc) = built(&root, "HelloFunction");
    assert_eq!(arch, Arch::X86_64);
    let glibc = glibc.expect("a glibc-linked binary");
    assert!(
        glibc <= GlibcVersion(2, 26, 0),
        "provided.al2 has glibc 2.26; needs {glibc:?}"
    );
    assert_eq!(built(&root, "ArmFunction").0, Arch::Arm64);

    // lambda-build built them, not a cargo-lambda found elsewhere: its records are in the target
    // dir, and target/lambda holds one folder per function with only its bootstrap.
    let target = root.join("target");
    assert_eq!(
        files_below(&target.join("lambda")),
        ["arm/bootstrap", "hello/bootstrap"]
    );
    let records = records_dir(&target);
    let manifest = manifest(&records);
    assert_eq!(manifest["tool"]["name"], "lambda-build");
    // Records list what the latest run built: the function SAM built last.
    let recorded = recorded_paths(&records);
    assert!(
        recorded == ["arm/bootstrap"] || recorded == ["hello/bootstrap"],
        "{recorded:?}"
    );
    assert_eq!(
        std::fs::read(root.join(".aws-sam/build/HelloFunction/bootstrap")).unwrap(),
        std::fs::read(target.join("lambda/hello/bootstrap")).unwrap()
    );
}
