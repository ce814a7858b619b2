//! cargo-lambda-cdk (npm) synthesising a stack with local bundling through lambda-build's
//! `cargo-lambda` entry point: it runs `cargo lambda --version`, then, per function,
//! `cargo lambda build --lambda-dir <asset dir> --release --x86-64|--arm64 --bin B --flatten B`,
//! and the asset dir becomes the function's code. Node runs the app directly (no CDK CLI, so no
//! version check or notices from the network).

mod entry_support;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use entry_support::*;
use lambda_build::config::Arch;
use support::*;

/// Where scripts/setup-test.sh installs cargo-lambda-cdk, aws-cdk-lib and constructs.
fn cdk_modules() -> PathBuf {
    repo().join(".tools/cdk/node_modules")
}

/// The asset folder of `function` in the synthesised template (`aws:asset:path`).
fn asset_of(out: &Path, function: &str) -> PathBuf {
    let template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("Rust.template.json")).unwrap()).unwrap();
    let resources = template["Resources"].as_object().unwrap();
    let (_, resource) = resources
        .iter()
        .find(|(id, r)| id.starts_with(function) && r["Type"] == "AWS::Lambda::Function")
        .unwrap_or_else(|| panic!("no function {function} in {resources:?}"));
    out.join(resource["Metadata"]["aws:asset:path"].as_str().expect("an asset path"))
}

#[test]
fn cargo_lambda_cdk_bundles_locally_through_the_entry_point() {
    let node = which::which("node").ok();
    if !have_tool("node", node.is_some())
        || !have_tool(
            "cargo-lambda-cdk (npm, in .tools/cdk)",
            cdk_modules().join("cargo-lambda-cdk").is_dir(),
        )
        || !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some())
    {
        return;
    }
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("app");
    copy_tree(&fixture("sam"), &root);
    let bin = installed(&[]);
    let out = temp.path().join("cdk.out");
    let mut cmd = clean(node.unwrap(), &root);
    cmd.arg("cdk-app.js")
        .arg(&out)
        .env("PATH", path_with(bin.path()))
        .env("NODE_PATH", cdk_modules())
        .env("CDK_DISABLE_VERSION_CHECK", "1")
        .env("RUSTC", arm64_rustc().unwrap());
    let run = run_bounded(&mut cmd, Duration::from_secs(900));
    assert_eq!(run.code, 0, "synth failed\n{}\n{}", run.stdout, run.stderr);

    // Each function's code is exactly its bootstrap, for its architecture: no records in it.
    for (function, arch) in [("Hello", Arch::X86_64), ("Arm", Arch::Arm64)] {
        let asset = asset_of(&out, function);
        assert_eq!(files_below(&asset), ["bootstrap"], "{function}: {}", run.stderr);
        let data = std::fs::read(asset.join("bootstrap")).unwrap();
        let facts = lambda_build::gate::elf::inspect(&data).unwrap();
        assert_eq!(facts.machine, Ok(arch), "{function}");
    }
    // lambda-build built them: its records are in the workspace's target dir, one folder per
    // asset dir, each listing the flattened bootstrap.
    let records: Vec<PathBuf> = std::fs::read_dir(root.join("target/lambda-build/records"))
        .expect("lambda-build's records")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    for dir in &records {
        assert_eq!(manifest(dir)["tool"]["name"], "lambda-build");
        assert_eq!(recorded_paths(dir), ["bootstrap"]);
    }
}
