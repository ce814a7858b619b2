//! Fast builds of the tiny fixture workspace: per-package settings in a multi-package run,
//! only selected binaries recorded, a failed compile leaving earlier artifacts untouched,
//! release tuning, and no overwriting of another target's artifacts.

mod support;

use std::path::Path;

use object::Object;
use support::*;

/// Each test gets its own target dir, so no test relinks a binary another is packaging.
fn tiny_build(target_dir: &Path, lambda_dir: &Path) -> std::process::Command {
    let mut cmd = lambda_build(&tiny());
    cmd.env("CARGO_TARGET_DIR", target_dir)
        .arg("--lambda-dir")
        .arg(lambda_dir);
    cmd
}

#[test]
fn each_package_keeps_its_own_metadata_in_a_multi_package_run() {
    let t = tempfile::tempdir().unwrap();
    let lambda = t.path().join("lambda");
    run_ok(&mut tiny_build(&t.path().join("target"), &lambda));
    // alpha: zip with its include; beta: an extension binary. Nothing else.
    assert_eq!(
        files_below(&lambda),
        ["SHA256SUMS", "alpha/bootstrap.zip", "extensions/beta", "manifest.json"]
    );
    assert_eq!(
        zip_entries(&lambda.join("alpha/bootstrap.zip")),
        [
            ("bootstrap".to_owned(), 0o755),
            ("static/config.json".to_owned(), 0o644)
        ]
    );
    let manifest = manifest(&lambda);
    let kinds: Vec<_> = manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["path"].clone(), a["kind"].clone(), a["format"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("alpha/bootstrap.zip".into(), "function".into(), "zip".into()),
            ("extensions/beta".into(), "extension".into(), "binary".into())
        ]
    );
}

#[test]
fn a_run_records_only_the_binaries_it_selected() {
    let t = tempfile::tempdir().unwrap();
    let (target, lambda) = (t.path().join("target"), t.path().join("lambda"));
    run_ok(&mut tiny_build(&target, &lambda));
    run_ok(tiny_build(&target, &lambda).args(["--bin", "beta"]));
    assert_eq!(recorded_paths(&lambda), ["extensions/beta"]);
    // The earlier alpha artifact is still there: a run never deletes what it did not build.
    assert!(lambda.join("alpha/bootstrap.zip").is_file());
}

#[test]
fn includes_land_only_in_their_own_zip_and_a_package_run_leaves_the_others_alone() {
    let t = tempfile::tempdir().unwrap();
    let ws = t.path().join("meta");
    copy_tree(&fixture("meta"), &ws);
    let (target, lambda) = (t.path().join("target"), t.path().join("lambda"));
    let build = || {
        let mut cmd = lambda_build(&ws);
        cmd.env("CARGO_TARGET_DIR", &target).arg("--lambda-dir").arg(&lambda);
        cmd
    };
    run_ok(&mut build());
    // `one` replaces the workspace's include with its own; `two` gets the workspace's.
    assert_eq!(
        zip_entries(&lambda.join("one/bootstrap.zip")),
        [("assets/one.json".to_owned(), 0o644), ("bootstrap".to_owned(), 0o755)]
    );
    assert_eq!(
        zip_entries(&lambda.join("two/bootstrap.zip")),
        [("bootstrap".to_owned(), 0o755), ("shared/notice.txt".to_owned(), 0o644)]
    );
    let two = lambda.join("two/bootstrap.zip");
    let (bytes, mtime) = (
        std::fs::read(&two).unwrap(),
        std::fs::metadata(&two).unwrap().modified().unwrap(),
    );

    // A -p run re-packages its own package (its include changed) and nothing else.
    std::fs::write(ws.join("one/assets/one.json"), "{\"package\": \"one\", \"v\": 2}\n").unwrap();
    let run = run_ok(build().args(["-p", "one"]));
    assert_eq!(
        zip_file(&lambda.join("one/bootstrap.zip"), "assets/one.json"),
        b"{\"package\": \"one\", \"v\": 2}\n"
    );
    assert!(!run.stderr.contains("two/"), "the run touched two:\n{}", run.stderr);
    assert_eq!(std::fs::read(&two).unwrap(), bytes, "two's zip changed");
    assert_eq!(
        std::fs::metadata(&two).unwrap().modified().unwrap(),
        mtime,
        "two's zip was rewritten"
    );
    assert_eq!(recorded_paths(&lambda), ["one/bootstrap.zip"]);
    let sums = std::fs::read_to_string(lambda.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 1, "{sums}");
    assert!(sums.ends_with("  one/bootstrap.zip\n"), "{sums}");
}

#[test]
fn a_failed_compile_leaves_earlier_artifacts_untouched() {
    let t = tempfile::tempdir().unwrap();
    let (target, lambda) = (t.path().join("target"), t.path().join("lambda"));
    run_ok(&mut tiny_build(&target, &lambda));
    let before = contents(&lambda);
    let run = run(tiny_build(&target, &lambda).args(["--features", "alpha/broken"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("mismatched types"),
        "the compiler's own message is shown: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("error: ") && l.contains("build failed")),
        "{}",
        run.stderr
    );
    let after = contents(&lambda);
    assert!(before == after, "artifacts changed after a failed build");
}

#[test]
fn release_builds_are_stripped_and_tuned_per_target() {
    let t = tempfile::tempdir().unwrap();
    let (target, lambda) = (t.path().join("target"), t.path().join("lambda"));
    run_ok(tiny_build(&target, &lambda).args(["--release", "--output-format", "binary"]));
    let release = std::fs::read(lambda.join("alpha/bootstrap")).unwrap();
    let file = object::File::parse(&*release).unwrap();
    assert!(
        file.section_by_name(".symtab").is_none(),
        "release binary keeps its symbol table"
    );
    let debug_dir = t.path().join("debug");
    run_ok(tiny_build(&target, &debug_dir).args(["--output-format", "binary"]));
    let debug = std::fs::read(debug_dir.join("alpha/bootstrap")).unwrap();
    assert!(
        object::File::parse(&*debug)
            .unwrap()
            .section_by_name(".symtab")
            .is_some(),
        "a debug build keeps symbols"
    );
    assert!(release.len() < debug.len());
}

#[test]
fn one_target_never_overwrites_another_targets_artifacts() {
    let t = tempfile::tempdir().unwrap();
    let (target, lambda) = (t.path().join("target"), t.path().join("lambda"));
    run_ok(&mut tiny_build(&target, &lambda));
    let zip = std::fs::read(lambda.join("alpha/bootstrap.zip")).unwrap();
    let run = run(tiny_build(&target, &lambda).arg("--arm64"));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("holds the x86_64 build from an earlier run"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(lambda.join("alpha/bootstrap.zip")).unwrap(), zip);
}

#[test]
fn cargo_compiler_builds_the_same_layout() {
    let t = tempfile::tempdir().unwrap();
    let lambda = t.path().join("lambda");
    let run = run_ok(tiny_build(&t.path().join("target"), &lambda).env("CARGO_LAMBDA_COMPILER", "cargo"));
    assert!(run.stderr.contains("with cargo (dev)"), "{}", run.stderr);
    assert_eq!(
        files_below(&lambda),
        ["SHA256SUMS", "alpha/bootstrap.zip", "extensions/beta", "manifest.json"]
    );
}

#[test]
fn a_missing_cross_is_a_clear_error() {
    if on_path("cross") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let run = run(tiny_build(&t.path().join("target"), &t.path().join("lambda")).args(["--compiler", "cross"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("`cross` is not on PATH"), "{}", run.stderr);
}

#[test]
fn a_rebuild_leaves_unchanged_artifacts_alone_and_repairs_tampered_ones() {
    let t = tempfile::tempdir().unwrap();
    let (target, lambda) = (t.path().join("target"), t.path().join("lambda"));
    run_ok(&mut tiny_build(&target, &lambda));
    let zip = lambda.join("alpha/bootstrap.zip");
    let (bytes, mtime) = (
        std::fs::read(&zip).unwrap(),
        std::fs::metadata(&zip).unwrap().modified().unwrap(),
    );

    let again = run_ok(&mut tiny_build(&target, &lambda));
    assert!(
        again.stderr.contains("unchanged alpha/bootstrap.zip"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("unchanged extensions/beta"), "{}", again.stderr);
    assert_eq!(
        std::fs::metadata(&zip).unwrap().modified().unwrap(),
        mtime,
        "an unchanged zip was rewritten"
    );

    std::fs::write(&zip, b"tampered").unwrap();
    let repaired = run_ok(&mut tiny_build(&target, &lambda));
    assert!(
        repaired.stderr.contains("wrote alpha/bootstrap.zip"),
        "{}",
        repaired.stderr
    );
    assert_eq!(std::fs::read(&zip).unwrap(), bytes);
    sha256sum_check(&lambda);
}
