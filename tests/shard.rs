//! Scale-out: `--shard K/N` slices of the selection, and `lambda-build merge` joining the shards'
//! lambda dirs into the set an unsharded run would have made.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use support::*;

fn selected(args: &[&str]) -> BTreeSet<String> {
    let out = run_ok(lambda_build(&examples()).arg("--print-config").args(args));
    let config: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    config["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn shards_partition_the_selection() {
    let all = selected(&[]);
    assert_eq!(all.len(), 3);
    for count in 1..=4 {
        let shards: Vec<BTreeSet<String>> = (1..=count)
            .map(|k| selected(&["--shard", &format!("{k}/{count}")]))
            .collect();
        let union: BTreeSet<String> = shards.iter().flatten().cloned().collect();
        assert_eq!(union, all, "{count} shards");
        assert_eq!(
            shards.iter().map(BTreeSet::len).sum::<usize>(),
            all.len(),
            "overlap in {count} shards"
        );
        let (min, max) = (
            shards.iter().map(BTreeSet::len).min(),
            shards.iter().map(BTreeSet::len).max(),
        );
        assert!(max.unwrap() - min.unwrap() <= 1, "unbalanced: {shards:?}");
    }
    let bad = run(lambda_build(&examples()).args(["--print-config", "--shard", "3/2"]));
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("invalid shard \"3/2\" from flag --shard; accepted: K/N"),
        "{}",
        bad.stderr
    );
}

fn tiny_into(target: &Path, lambda_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.env("CARGO_TARGET_DIR", target)
        .args(args)
        .arg("--lambda-dir")
        .arg(lambda_dir);
    cmd
}

fn merge(dirs: &[&Path], out: &Path) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.arg("merge").args(dirs).arg("--out").arg(out);
    cmd
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn merged_shards_equal_an_unsharded_run_and_tampering_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let (one, two, whole) = (t.path().join("one"), t.path().join("two"), t.path().join("whole"));
    run_ok(&mut tiny_into(&target, &one, &["--shard", "1/2"]));
    run_ok(&mut tiny_into(&target, &two, &["--shard", "2/2"]));
    run_ok(&mut tiny_into(&target, &whole, &[]));
    assert_eq!(manifest(&one)["artifacts"].as_array().unwrap().len(), 1);
    assert_eq!(manifest(&two)["artifacts"].as_array().unwrap().len(), 1);

    let merged = t.path().join("merged");
    let out = run_ok(&mut merge(&[&one, &two], &merged));
    assert!(
        out.stderr.contains("Merged: 2 artifacts from 2 lambda dirs"),
        "{}",
        out.stderr
    );
    assert_eq!(read(&merged.join("manifest.json")), read(&whole.join("manifest.json")));
    assert_eq!(read(&merged.join("SHA256SUMS")), read(&whole.join("SHA256SUMS")));
    sha256sum_check(&merged);
    // Merging a shard with the unsharded set is fine: the shared paths are identical.
    run_ok(&mut merge(&[&one, &whole], &t.path().join("overlap")));

    // A shard whose file no longer matches its manifest is refused and nothing is written.
    std::fs::write(two.join("extensions/beta"), b"tampered").unwrap();
    let refused_dir = t.path().join("refused");
    let refused = run(&mut merge(&[&one, &two], &refused_dir));
    // A shard is input: a bad one is a usage error, like a bad flag.
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("does not match its recorded SHA-256"),
        "{}",
        refused.stderr
    );
    assert!(!refused_dir.exists());
}

#[test]
fn shards_that_built_the_same_artifact_differently_are_a_conflict() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    run_ok(&mut tiny_into(&target, &a, &["--bin", "alpha"]));
    run_ok(tiny_into(&target, &b, &["--bin", "alpha"]).env("SOURCE_DATE_EPOCH", "1700000000"));
    let conflict = run(&mut merge(&[&a, &b], &t.path().join("merged")));
    assert_eq!(conflict.code, 2, "{}", conflict.stderr);
    assert!(
        conflict.stderr.contains("alpha/bootstrap.zip differs between"),
        "{}",
        conflict.stderr
    );
    let missing = run(&mut merge(&[&t.path().join("nowhere")], &t.path().join("merged")));
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("has no readable manifest.json"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_shard_with_nothing_to_build_succeeds_with_an_empty_manifest_that_verifies() {
    let t = tempfile::tempdir().unwrap();
    let lambda_dir = t.path().join("lambda");
    let out = run_ok(&mut tiny_into(
        &t.path().join("target"),
        &lambda_dir,
        &["--shard", "3/3"],
    ));
    assert!(
        out.stderr.contains("shard 3/3: 0 of the selected binaries"),
        "{}",
        out.stderr
    );
    assert_eq!(manifest(&lambda_dir)["artifacts"], serde_json::json!([]));
    // Records that verify: an empty run's SHA256SUMS lists manifest.json itself.
    assert!(read(&lambda_dir.join("SHA256SUMS")).ends_with("  manifest.json\n"));
    assert_eq!(sha256sum_check(&lambda_dir), 1);
}
