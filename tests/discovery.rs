//! Which binaries a run finds, on a workspace laid out as public Lambda workspaces are
//! (tests/fixtures/shared_libs: functions in `lambdas/*` that reach the runtime only through
//! shared crates in `libs/*`, a CLI beside them, an excluded member). `--print-config` shows the
//! selection without compiling; tests/parity.rs builds the same fixture for real against
//! cargo-lambda.

mod entry_support;
mod support;

use entry_support::*;
use support::*;

/// (name, kind, reason) of each selected binary.
fn selected(json: &serde_json::Value) -> Vec<(String, String, String)> {
    json["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let text = |key: &str| b[key].as_str().unwrap_or("none").to_owned();
            (text("name"), text("detected"), text("reason"))
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn functions_are_found_through_shared_crates_with_the_chain_as_the_reason() {
    let (_, json) = print_config(&fixture("shared_libs"), &[], &[]);
    assert_eq!(
        selected(&json),
        owned(&[
            ("audit-ext", "extension", "depends on lambda-extension"),
            (
                "billing",
                "function",
                "reaches lambda_runtime via events → core_rt → lambda_runtime"
            ),
            ("orders", "function", "reaches lambda_http via api_utils → lambda_http"),
            ("renamed", "function", "depends on lambda_runtime"),
            (
                "worker",
                "function",
                "reaches lambda_runtime via maybe_runtime → lambda_runtime (feature runtime)"
            ),
        ]),
        "the CLI (its build leaves the runtime feature off), the Windows-only binary and the excluded member are left out"
    );
}

/// `--features` counts as cargo applies it: `dep/feature` turns the CLI's shared crate's runtime on.
#[test]
fn the_runs_features_decide_what_a_build_reaches() {
    let (_, json) = print_config(&fixture("shared_libs"), &["--features", "maybe_runtime/runtime"], &[]);
    let cli = selected(&json).into_iter().find(|(name, _, _)| name == "cli");
    assert_eq!(
        cli,
        Some((
            "cli".to_owned(),
            "function".to_owned(),
            "reaches lambda_runtime via maybe_runtime → lambda_runtime (feature runtime)".to_owned()
        ))
    );
}

#[test]
fn an_empty_selection_names_what_it_left_out() {
    let dir = fixture("shared_libs");
    let run = run(lambda_build(&dir).args(["--manifest-path", "tools/cli/Cargo.toml", "--print-config"]));
    assert_usage(
        &run,
        &[
            "no Lambda functions or extensions found",
            "package cli (the manifest path's package",
            "left out, reaching none of them: cli (package cli)",
            "name other binaries with --bin or --package",
        ],
    );
}

/// Through `cargo lambda build`, every binary of the packages cargo builds, as cargo-lambda
/// selects them: the CLI too, with the reason saying why.
#[test]
fn the_entry_point_selects_every_binary_as_cargo_lambda_does() {
    let bin = installed(&[]);
    let run = run_ok(&mut cargo_lambda_in(
        bin.path(),
        &fixture("shared_libs"),
        &["build", "--compiler", "cargo", "--print-config"],
    ));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = selected(&json);
    let names: Vec<&str> = rows.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["audit-ext", "billing", "orders", "renamed", "worker", "cli", "win-only"]
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    let cli = rows.iter().find(|(n, _, _)| n == "cli").unwrap();
    assert_eq!(cli.1, "none");
    assert!(cli.2.contains("cargo lambda build builds every binary"), "{cli:?}");
}

/// cargo-lambda warns and exits 0 on packages without binaries; so does the entry point, and
/// builds nothing.
#[test]
fn the_entry_point_warns_and_succeeds_on_a_package_without_binaries() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"only-lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    let bin = installed(&[]);
    let run = run_ok(&mut cargo_lambda_in(
        bin.path(),
        dir.path(),
        &["build", "--compiler", "cargo"],
    ));
    assert!(
        run.stderr
            .contains("warning: no binaries found in the packages cargo builds"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("target/lambda").exists(), "nothing built");

    // lambda-build itself keeps its usage error.
    let own = support::run(lambda_build(dir.path()).args(["--compiler", "cargo"]));
    assert_usage(
        &own,
        &[
            "no Lambda functions or extensions found",
            "the selected packages have no such targets",
        ],
    );
}
