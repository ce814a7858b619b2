//! `lambda-build merge` treats every shard as untrusted input, and `--shard K/N` builds exactly
//! the bytes the unsharded run builds.

mod support;

use std::path::Path;
use std::process::Command;

use support::*;

/// A build of tests/fixtures/shardfeat with `--compiler cargo` into `lambda_dir`.
fn shardfeat_into(target: &Path, lambda_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = lambda_build(&fixture("shardfeat"));
    cmd.env("CARGO_TARGET_DIR", target)
        .args(["--compiler", "cargo"])
        .args(args)
        .arg("--lambda-dir")
        .arg(lambda_dir);
    cmd
}

fn merge_into(dirs: &[&Path], out: &Path) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.arg("merge").args(dirs).arg("--out").arg(out);
    cmd
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `one` enables a feature of `shared` that `two` does not. cargo unifies features over the
/// packages it is asked to build, so the unsharded run builds `two` with it; a shard building
/// `two` alone would not, and its `two` would be other bytes.
#[test]
fn shards_of_packages_with_unified_features_merge_into_the_unsharded_bytes() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let (one, two, whole) = (t.path().join("one"), t.path().join("two"), t.path().join("whole"));
    run_ok(&mut shardfeat_into(&target, &whole, &[]));
    run_ok(&mut shardfeat_into(&target, &one, &["--shard", "1/2"]));
    run_ok(&mut shardfeat_into(&target, &two, &["--shard", "2/2"]));
    assert_eq!(recorded_paths(&one), ["one/bootstrap"]);
    assert_eq!(recorded_paths(&two), ["two/bootstrap"]);
    for name in ["one", "two"] {
        let (sharded, unsharded) = (
            t.path().join(name).join(name).join("bootstrap"),
            whole.join(name).join("bootstrap"),
        );
        assert!(
            bytes(&sharded) == bytes(&unsharded),
            "{name}'s binary from shard differs from the unsharded run's (it prints {:?}, the unsharded one {:?})",
            String::from_utf8_lossy(&Command::new(&sharded).output().unwrap().stdout),
            String::from_utf8_lossy(&Command::new(&unsharded).output().unwrap().stdout),
        );
    }
    let merged = t.path().join("merged");
    run_ok(&mut merge_into(&[&one, &two], &merged));
    for record in ["manifest.json", "SHA256SUMS"] {
        assert_eq!(
            bytes(&merged.join(record)),
            bytes(&whole.join(record)),
            "merged {record} differs from the unsharded run's"
        );
    }
    sha256sum_check(&merged);
}

/// `--print-config` shows the shard's plan: the unsharded `-p` list, only this shard's `--bin`s
/// and artifacts.
#[test]
fn a_shards_plan_keeps_the_unsharded_package_list_and_only_its_binaries() {
    let out =
        run_ok(lambda_build(&fixture("shardfeat")).args(["--print-config", "--compiler", "cargo", "--shard", "2/2"]));
    let config: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let invocations = config["plan"]["invocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 1, "{invocations:?}");
    assert_eq!(invocations[0]["packages"], serde_json::json!(["one", "two"]));
    assert_eq!(invocations[0]["bins"], serde_json::json!(["two"]));
    let artifacts: Vec<&str> = config["plan"]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(artifacts, ["two"]);
    let binaries: Vec<&str> = config["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(binaries, ["two"]);
}
