//! Parity with the real `cargo lambda build` (pip's cargo-lambda): the same command line runs
//! through cargo-lambda, through lambda-build's `cargo-lambda` entry point, and through
//! lambda-build itself, each on its own copy of tests/fixtures/parity (its own target dir:
//! cargo-lambda packages whatever binaries of the workspace lie in the target dir, so a shared
//! one would hand it lambda-build's), and the lambda dirs they leave are compared: file names and
//! modes, and each zip's entry names and modes. The bytes are not compared: binaries embed their
//! build folder, and zips differ where lambda-build is documented to differ (fixed timestamps,
//! sorted entries). The documented differences are asserted, not ignored:
//!
//! - cargo-lambda also stores folder entries in zips (`extensions/`, included folders);
//!   lambda-build stores files only (the unzipped trees are the same);
//! - lambda-build run directly writes `SHA256SUMS` and `manifest.json` into the lambda dir;
//!   through the entry point it writes them under `<target dir>/lambda-build/records/`.
//!
//! Every build uses `--compiler cargo` (no Zig link; cargo-lambda supports it too).

mod entry_support;
mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use entry_support::*;
use support::*;

/// What a comparison looks at in one file of a lambda dir.
#[derive(Debug, PartialEq, Eq)]
enum Node {
    /// A file that is not a zip: its mode.
    File { mode: u32 },
    /// A zip: its mode, and its file entries (name, mode), sorted.
    Zip { mode: u32, entries: Vec<(String, u32)> },
}

/// A lambda dir as the comparison sees it, by relative path.
type Tree = BTreeMap<String, Node>;

/// One command line, run the same way through every tool.
struct Case {
    /// The fixture workspace (tests/fixtures/NAME).
    fixture: &'static str,
    /// `cargo lambda build` arguments (after `build`).
    args: &'static [&'static str],
    /// The lambda dir, relative to the workspace copy.
    lambda_dir: &'static str,
    /// Files written into each workspace copy before the builds: (relative path, text).
    files: &'static [(&'static str, &'static str)],
    /// The tree cargo-lambda leaves (`path mode`; `zip!entry mode` per zip entry).
    expected: &'static [&'static str],
    /// The tree lambda-build leaves where it differs on purpose (documented in the README);
    /// empty: the same as cargo-lambda's.
    ours: &'static [&'static str],
    /// The tree lambda-build run directly leaves where its own selection differs from
    /// cargo-lambda's, which the entry point keeps (it leaves out binaries that reach no
    /// Lambda crate); empty: the same as the entry point's.
    native: &'static [&'static str],
}

/// Reads a lambda dir. Folder entries of cargo-lambda's zips are checked here (each must be a
/// folder holding one of the zip's files, which is all they are) and left out, since
/// lambda-build writes files only.
fn tree(lambda_dir: &Path) -> Tree {
    assert!(lambda_dir.is_dir(), "no lambda dir at {}", lambda_dir.display());
    files_below(lambda_dir)
        .into_iter()
        .map(|path| {
            let full = lambda_dir.join(&path);
            let mode = std::fs::metadata(&full).unwrap().permissions().mode() & 0o777;
            let node = if path.ends_with(".zip") {
                let all = zip_entries(&full);
                let (folders, mut entries): (Vec<_>, Vec<_>) = all.into_iter().partition(|(n, _)| n.ends_with('/'));
                for (folder, _) in &folders {
                    assert!(
                        entries.iter().any(|(name, _)| name.starts_with(folder.as_str())),
                        "{path}: folder entry {folder} holds no file: {entries:?}"
                    );
                }
                entries.sort();
                Node::Zip { mode, entries }
            } else {
                Node::File { mode }
            };
            (path, node)
        })
        .collect()
}

/// The tree as text, one line per file (`path mode`, and `path!entry mode` per zip entry), to
/// compare with a case's expectation and to show in a failure.
fn describe(tree: &Tree) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, node) in tree {
        match node {
            Node::File { mode } => lines.push(format!("{path} {mode:o}")),
            Node::Zip { mode, entries } => {
                lines.push(format!("{path} {mode:o}"));
                lines.extend(entries.iter().map(|(name, mode)| format!("{path}!{name} {mode:o}")));
            }
        }
    }
    lines
}

/// A fresh copy of the fixture with the case's files.
fn workspace(case: &Case) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(case.fixture), dir.path());
    for (path, text) in case.files {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    dir
}

/// Runs a build that must succeed within a bound (a prompt or a hang fails the test).
fn build(cmd: &mut Command, what: &str) -> Run {
    cmd.env("CI", "true");
    let run = run_bounded(cmd, Duration::from_secs(300));
    assert_eq!(
        run.code, 0,
        "{what} failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

/// The real cargo-lambda, or `None` to skip (a failure with LAMBDA_BUILD_E2E=required).
fn real_cargo_lambda() -> Option<PathBuf> {
    let found = cargo_lambda();
    have_tool("cargo-lambda (pip install cargo-lambda)", found.is_some()).then(|| found.unwrap())
}

/// Runs the case through the three tools and compares what they leave.
fn check(case: &Case) {
    let Some(real) = real_cargo_lambda() else { return };
    let args: Vec<&str> = std::iter::once("build").chain(case.args.iter().copied()).collect();

    let theirs = workspace(case);
    let mut cmd = clean(&real, theirs.path());
    cmd.arg("lambda").args(&args);
    let run = build(&mut cmd, "cargo lambda build (the real one)");
    let expected = tree(&theirs.path().join(case.lambda_dir));
    assert_eq!(
        describe(&expected),
        case.expected,
        "cargo-lambda's own layout is not what this case expects\n{}",
        run.stderr
    );

    let expected = match case.ours {
        [] => describe(&expected),
        ours => ours.iter().map(|line| line.to_string()).collect(),
    };
    let files = expected.iter().filter(|line| !line.contains('!')).count();

    // Through the entry point: the same tree, and the records outside the lambda dir.
    let ours = workspace(case);
    let bin = installed(&[]);
    let run = build(&mut cargo_lambda_in(bin.path(), ours.path(), &args), "the entry point");
    let lambda_dir = ours.path().join(case.lambda_dir);
    assert_eq!(
        describe(&tree(&lambda_dir)),
        expected,
        "entry point differs from cargo-lambda\n{}",
        run.stderr
    );
    let records = records_dir(&ours.path().join("target"));
    assert_eq!(sha256sum_check_sums(&records.join("SHA256SUMS"), &lambda_dir), files);

    // lambda-build itself: the same tree plus its records in the lambda dir.
    std::fs::remove_dir_all(&lambda_dir).unwrap();
    std::fs::remove_dir_all(ours.path().join("target/lambda-build")).unwrap();
    let run = build(lambda_build(ours.path()).args(case.args), "lambda-build");
    let mut direct = tree(&lambda_dir);
    for record in ["SHA256SUMS", "manifest.json"] {
        assert_eq!(
            direct.remove(record),
            Some(Node::File { mode: 0o644 }),
            "{record}\n{}",
            run.stderr
        );
    }
    let (expected, files) = match case.native {
        [] => (expected, files),
        native => (
            native.iter().map(|line| line.to_string()).collect(),
            native.iter().filter(|line| !line.contains('!')).count(),
        ),
    };
    assert_eq!(
        describe(&direct),
        expected,
        "lambda-build differs from cargo-lambda\n{}",
        run.stderr
    );
    assert_eq!(sha256sum_check(&lambda_dir), files);
}

#[test]
fn one_function() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "--bin", "hello"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &["hello/bootstrap 755"],
    });
}

#[test]
fn several_functions_zipped() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "-p", "hello", "-p", "world", "-o", "zip"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &[
            "hello/bootstrap.zip 644",
            "hello/bootstrap.zip!bootstrap 755",
            "world/bootstrap.zip 644",
            "world/bootstrap.zip!bootstrap 755",
        ],
    });
}

/// cargo-lambda-cdk's command line: the asset folder holds the bootstrap and nothing else.
#[test]
fn flatten_into_a_named_lambda_dir() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &[
            "--compiler",
            "cargo",
            "--lambda-dir",
            "asset",
            "--bin",
            "hello",
            "--flatten",
            "hello",
        ],
        lambda_dir: "asset",
        files: &[],
        ours: &[],
        expected: &["bootstrap 755"],
    });
}

/// Only the named function is flattened; the others keep their folders.
#[test]
fn flatten_one_of_several_zipped() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &[
            "--compiler",
            "cargo",
            "-p",
            "hello",
            "-p",
            "world",
            "--flatten",
            "hello",
            "-o",
            "zip",
        ],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &[
            "bootstrap.zip 644",
            "bootstrap.zip!bootstrap 755",
            "world/bootstrap.zip 644",
            "world/bootstrap.zip!bootstrap 755",
        ],
    });
}

#[test]
fn extension() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "--bin", "ext", "--extension", "-o", "zip"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &["extensions/ext.zip 644", "extensions/ext.zip!extensions/ext 755"],
    });
}

#[test]
fn extension_as_a_binary() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "--bin", "ext", "--extension"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &["extensions/ext 755"],
    });
}

/// An internal extension's zip holds the executable at its root.
#[test]
fn internal_extension() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &[
            "--compiler",
            "cargo",
            "--bin",
            "ext",
            "--extension",
            "--internal",
            "-o",
            "zip",
        ],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &["extensions/ext.zip 644", "extensions/ext.zip!ext 755"],
    });
}

/// Example targets (here a library's, using lambda_runtime as a dev-dependency) as functions.
#[test]
fn examples() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "--examples", "-o", "zip"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &[
            "ex_one/bootstrap.zip 644",
            "ex_one/bootstrap.zip!bootstrap 755",
            "ex_two/bootstrap.zip 644",
            "ex_two/bootstrap.zip!bootstrap 755",
        ],
    });
}

#[test]
fn one_example() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "--example", "ex_two"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &["ex_two/bootstrap 755"],
    });
}

/// A member's manifest builds that member, as cargo does.
#[test]
fn member_manifest() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo", "--manifest-path", "world/Cargo.toml"],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &["world/bootstrap 755"],
    });
}

/// `--include` as a path, as `DEST:SRC` for a folder and for a file.
#[test]
fn includes() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &[
            "--compiler",
            "cargo",
            "--bin",
            "hello",
            "-o",
            "zip",
            "--include",
            "hello/static/config.json",
            "--include",
            "conf:hello/static",
            "--include",
            "settings.json:hello/static/config.json",
        ],
        lambda_dir: "target/lambda",
        files: &[],
        ours: &[],
        expected: &[
            "hello/bootstrap.zip 644",
            "hello/bootstrap.zip!bootstrap 755",
            "hello/bootstrap.zip!conf/config.json 644",
            "hello/bootstrap.zip!conf/nested/data.txt 644",
            "hello/bootstrap.zip!hello/static/config.json 644",
            "hello/bootstrap.zip!settings.json 644",
        ],
    });
}

/// Settings from CargoLambda.toml: the output format, an include and the compiler table.
#[test]
fn cargo_lambda_toml() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--bin", "hello"],
        lambda_dir: "target/lambda",
        files: &[(
            "CargoLambda.toml",
            "[build]\noutput_format = \"zip\"\ninclude = [\"hello/static\"]\n\n[build.compiler]\ntype = \"cargo\"\n",
        )],
        expected: &[
            "hello/bootstrap.zip 644",
            "hello/bootstrap.zip!bootstrap 755",
            "hello/bootstrap.zip!hello/static/config.json 644",
            "hello/bootstrap.zip!hello/static/nested/data.txt 644",
        ],
        ours: &[],
    });
}

/// The whole workspace with no selection: cargo-lambda packages every binary as a function
/// unless told `--extension`; lambda-build detects the extension from its `lambda-extension`
/// dependency (a documented difference).
#[test]
fn whole_workspace_detects_the_extension() {
    check(&Case {
        fixture: "parity",
        native: &[],
        args: &["--compiler", "cargo"],
        lambda_dir: "target/lambda",
        files: &[],
        expected: &["ext/bootstrap 755", "hello/bootstrap 755", "world/bootstrap 755"],
        ours: &["extensions/ext 755", "hello/bootstrap 755", "world/bootstrap 755"],
    });
}

/// cargo-lambda ignores a `--flatten` name it does not build (a CDK asset folder would be left
/// without its bootstrap); lambda-build refuses it before compiling (a documented difference).
#[test]
fn flatten_naming_nothing_built_is_a_usage_error() {
    let ours = tempfile::tempdir().unwrap();
    copy_tree(&fixture("parity"), ours.path());
    let run = run(lambda_build(ours.path()).args(["--compiler", "cargo", "--bin", "hello", "--flatten", "world"]));
    assert_usage(
        &run,
        &["--flatten \"world\" names no binary this run builds", "accepted: hello"],
    );
    assert!(!ours.path().join("target").exists(), "nothing compiled");
}

/// Functions that reach the runtime only through shared crates (tests/fixtures/shared_libs):
/// through the entry point every binary of the workspace is built, as cargo-lambda builds them
/// (its CLI too; the extension is detected, a documented difference); lambda-build itself
/// finds the functions and the extension through their dependency chains (renamed,
/// Linux-only, behind a feature) and leaves out the binaries whose builds reach no Lambda crate. The zips hold the same entries.
#[test]
fn functions_behind_shared_crates() {
    check(&Case {
        fixture: "shared_libs",
        args: &["--compiler", "cargo", "-o", "zip"],
        lambda_dir: "target/lambda",
        files: &[],
        expected: &[
            "audit-ext/bootstrap.zip 644",
            "audit-ext/bootstrap.zip!bootstrap 755",
            "billing/bootstrap.zip 644",
            "billing/bootstrap.zip!bootstrap 755",
            "cli/bootstrap.zip 644",
            "cli/bootstrap.zip!bootstrap 755",
            "orders/bootstrap.zip 644",
            "orders/bootstrap.zip!bootstrap 755",
            "renamed/bootstrap.zip 644",
            "renamed/bootstrap.zip!bootstrap 755",
            "win-only/bootstrap.zip 644",
            "win-only/bootstrap.zip!bootstrap 755",
            "worker/bootstrap.zip 644",
            "worker/bootstrap.zip!bootstrap 755",
        ],
        ours: &[
            "billing/bootstrap.zip 644",
            "billing/bootstrap.zip!bootstrap 755",
            "cli/bootstrap.zip 644",
            "cli/bootstrap.zip!bootstrap 755",
            "extensions/audit-ext.zip 644",
            "extensions/audit-ext.zip!extensions/audit-ext 755",
            "orders/bootstrap.zip 644",
            "orders/bootstrap.zip!bootstrap 755",
            "renamed/bootstrap.zip 644",
            "renamed/bootstrap.zip!bootstrap 755",
            "win-only/bootstrap.zip 644",
            "win-only/bootstrap.zip!bootstrap 755",
            "worker/bootstrap.zip 644",
            "worker/bootstrap.zip!bootstrap 755",
        ],
        native: &[
            "billing/bootstrap.zip 644",
            "billing/bootstrap.zip!bootstrap 755",
            "extensions/audit-ext.zip 644",
            "extensions/audit-ext.zip!extensions/audit-ext 755",
            "orders/bootstrap.zip 644",
            "orders/bootstrap.zip!bootstrap 755",
            "renamed/bootstrap.zip 644",
            "renamed/bootstrap.zip!bootstrap 755",
            "worker/bootstrap.zip 644",
            "worker/bootstrap.zip!bootstrap 755",
        ],
    });
}
