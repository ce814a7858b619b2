//! Hostile and sloppy inputs through the real binary: empty values, misspelled metadata keys,
//! manifest paths that are not a Cargo.toml, undefined profiles, lambda dirs that cannot be
//! directories. Each is either harmless (unset, a warning) or refused with exit 2 and one line
//! naming the input and its source, before anything compiles.

mod support;

use std::path::Path;

use support::*;

/// A private copy of the tiny fixture workspace, for tests that edit it.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&tiny(), dir.path());
    dir
}

/// Runs in `dir` and asserts exit 2 with exactly one `error:` line holding every needle.
fn refused(dir: &Path, args: &[&str], env: &[(&str, &str)], needles: &[&str]) {
    let run = run(lambda_build(dir).args(args).envs(env.iter().copied()));
    eprintln!("{args:?} {env:?}");
    assert_usage(&run, needles);
}

/// Every file and folder under `dir` except `target/`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if rel == "target" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            }
            out.push(rel);
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

// A. Empty values count as unset, on the command line as in the environment.

#[test]
fn an_empty_lambda_dir_flag_is_unset_and_the_build_writes_nothing_into_the_current_directory() {
    let ws = workspace();
    let (_, config) = print_config(ws.path(), &["--lambda-dir", ""], &[]);
    assert_eq!(
        config["lambda_dir"],
        serde_json::json!({"value": null, "source": "default"})
    );
    assert_eq!(
        config["plan"]["lambda_dir"],
        ws.path().join("target/lambda").to_string_lossy().as_ref()
    );
    // The real build: its artifacts go to target/lambda, nothing lands next to Cargo.toml.
    let before = listing(ws.path());
    run_ok(lambda_build(ws.path()).args(["--lambda-dir", " ", "--compiler", "cargo", "-p", "alpha"]));
    assert_eq!(listing(ws.path()), before, "the build wrote outside target/");
    assert!(ws.path().join("target/lambda/alpha/bootstrap.zip").is_file());
}

#[test]
fn empty_flags_do_not_override_metadata_or_narrow_the_selection() {
    let ws = workspace();
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\ntarget = [\"arm64\"]\n",
    );
    let (_, plain) = print_config(ws.path(), &[], &[]);
    let (_, config) = print_config(
        ws.path(),
        &[
            "--target",
            "",
            "--bin",
            "",
            "--package",
            " ",
            "--features",
            "",
            "--profile",
            "",
        ],
        &[],
    );
    assert_eq!(
        config["target"],
        serde_json::json!({"value": ["aarch64-unknown-linux-gnu"], "source": "[workspace.metadata.lambda.build]"})
    );
    for key in ["bin", "package", "features", "profile"] {
        assert_eq!(config[key]["source"], "default", "{key}: {}", config[key]);
    }
    assert_eq!(config["binaries"], plain["binaries"]);
    // Empty items of a repeated list flag are dropped; the rest is the flag's value.
    let (_, some) = print_config(ws.path(), &["--target", "", "--target", "x86_64"], &[]);
    assert_eq!(
        some["target"],
        serde_json::json!({"value": ["x86_64-unknown-linux-gnu"], "source": "flag --target"})
    );
    // An empty value from a parser-checked flag is unset too, not an error.
    for flag in [
        "--runtime",
        "--jobs",
        "--shard",
        "--zig-version",
        "--release",
        "--compiler",
    ] {
        let arg = format!("{flag}=");
        let (_, config) = print_config(ws.path(), &[&arg], &[]);
        let key = flag.trim_start_matches("--").replace('-', "_");
        let key = if key == "release" { "profile".to_owned() } else { key };
        assert_eq!(config[&key]["source"], "default", "{flag}: {}", config[&key]);
    }
}

#[test]
fn empty_metadata_strings_are_unset_too() {
    let ws = workspace();
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\nlambda_dir = \"\"\nprofile = \" \"\n",
    );
    let (_, config) = print_config(ws.path(), &[], &[]);
    assert_eq!(config["lambda_dir"]["source"], "default");
    assert_eq!(config["profile"]["source"], "default");
}

#[test]
fn a_list_value_without_items_is_a_usage_error_naming_the_input() {
    let ws = workspace();
    refused(
        ws.path(),
        &["--target", ","],
        &[],
        &["invalid target \",\" from flag --target", "no items"],
    );
    refused(
        ws.path(),
        &[],
        &[("LAMBDA_BUILD_TARGET", " , ")],
        &["invalid target", "from env LAMBDA_BUILD_TARGET", "no items"],
    );
    refused(
        ws.path(),
        &["--features", ",,"],
        &[],
        &["invalid features \",,\" from flag --features"],
    );
    append(ws.path(), "alpha/Cargo.toml", "target = [\"\"]\n");
    refused(
        ws.path(),
        &[],
        &[],
        &[
            "invalid target",
            "target in [package.metadata.lambda.build] of package alpha",
        ],
    );
}

// B. Unknown and misspelled metadata keys are warned about, on stderr only.

#[test]
fn misspelled_metadata_keys_warn_with_the_nearest_known_key() {
    let ws = workspace();
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\noutput-format = \"zip\"\nrelase = true\nfrobnicate = 1\n",
    );
    append(
        ws.path(),
        "alpha/Cargo.toml",
        "flatten = \"alpha\"\nfeatures = [\"broken\"]\nlambda_dir = \"out\"\n[package.metadata.lambda.build.compiler]\ntype = \"cargo\"\nsubcommand = [\"build\"]\ntyp = \"x\"\n",
    );
    let (run, config) = print_config(ws.path(), &[], &[]);
    let expected = [
        "warning: unknown key \"output-format\" in [workspace.metadata.lambda.build]; did you mean \"output_format\"?",
        "warning: unknown key \"relase\" in [workspace.metadata.lambda.build]; did you mean \"release\"?",
        "warning: unknown key \"frobnicate\" in [workspace.metadata.lambda.build]; ignored",
        "warning: \"flatten\" in [package.metadata.lambda.build] of package alpha is read only from the root package, [workspace.metadata.lambda.build] or CargoLambda.toml, as it applies to the whole run; ignored",
        "warning: \"features\" in [package.metadata.lambda.build] of package alpha is read only from the root package, [workspace.metadata.lambda.build] or CargoLambda.toml, as it applies to the whole run; ignored",
        "warning: \"lambda_dir\" in [package.metadata.lambda.build] of package alpha is read only from the root package, [workspace.metadata.lambda.build] or CargoLambda.toml, as it applies to the whole run; ignored",
        "warning: unknown key \"compiler.typ\" in [package.metadata.lambda.build] of package alpha; did you mean \"compiler.type\"?",
    ];
    for line in expected {
        assert!(
            run.stderr.lines().any(|l| l == line),
            "missing {line:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(run.stderr.lines().count(), expected.len(), "{}", run.stderr);
    // stdout is only the JSON (parsed above); the warnings are listed inside it, too.
    assert!(!run.stdout.contains("warning: "), "warnings stay off stdout");
    let listed: Vec<String> = config["warnings"]
        .as_array()
        .expect("a warnings list")
        .iter()
        .map(|w| format!("warning: {}", w.as_str().unwrap()))
        .collect();
    let mut expected_sorted: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected_sorted.sort();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, expected_sorted);
    // The misspelled keys really were ignored.
    assert_eq!(config["output_format"]["source"], "default");
    assert_eq!(config["profile"]["source"], "default");
}

#[test]
fn a_lambda_build_that_is_not_a_table_and_per_binary_tables_are_warned_about() {
    let ws = workspace();
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda]\nbuild = \"zip\"\n",
    );
    append(
        ws.path(),
        "alpha/Cargo.toml",
        "[package.metadata.lambda.bin.alpha.build]\noutput_format = \"binary\"\n",
    );
    let (run, _) = print_config(ws.path(), &[], &[]);
    let needle = "warning: lambda.build in [workspace.metadata] is a string, not a table; ignored";
    assert!(
        run.stderr.lines().any(|l| l == needle),
        "missing {needle:?} in:\n{}",
        run.stderr
    );
    // Per-binary tables are read now (tests/cargo_lambda_config.rs), so not warned about.
    assert!(!run.stderr.contains("lambda.bin.alpha"), "{}", run.stderr);
}

#[test]
fn metadata_warnings_become_annotations_in_github_actions_and_known_keys_are_quiet() {
    let (quiet, _) = print_config(&tiny(), &[], &[]);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    let ws = workspace();
    append(ws.path(), "alpha/Cargo.toml", "relese = true\n");
    let (run, _) = print_config(ws.path(), &[], &[("GITHUB_ACTIONS", "true")]);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("::warning") && l.contains("unknown key \"relese\"")),
        "{}",
        run.stderr
    );
}

// C. Nonsense refused with exit 2 before anything compiles.

#[test]
fn a_manifest_path_that_is_not_a_cargo_toml_is_refused() {
    let ws = workspace();
    std::fs::copy(ws.path().join("Cargo.toml"), ws.path().join("other.toml")).unwrap();
    std::fs::write(ws.path().join("README.md"), "# hi\n").unwrap();
    for (args, env, needles) in [
        (
            vec!["--manifest-path", "README.md"],
            vec![],
            vec![
                "manifest path",
                "README.md",
                "(from flag --manifest-path)",
                "Cargo.toml",
            ],
        ),
        (
            vec![],
            vec![("LAMBDA_BUILD_MANIFEST_PATH", "other.toml")],
            vec![
                "other.toml",
                "(from env LAMBDA_BUILD_MANIFEST_PATH)",
                "named Cargo.toml",
            ],
        ),
        (
            vec!["--manifest-path", "alpha"],
            vec![],
            vec!["is a directory", "(from flag --manifest-path)", "alpha/Cargo.toml"],
        ),
    ] {
        refused(ws.path(), &args, &env, &needles);
    }
}

#[test]
fn an_undefined_profile_is_refused_naming_the_defined_ones() {
    let ws = workspace();
    append(ws.path(), "Cargo.toml", "[profile.lambda]\ninherits = \"release\"\n");
    std::fs::create_dir(ws.path().join(".cargo")).unwrap();
    std::fs::write(
        ws.path().join(".cargo/config.toml"),
        "[profile.fromcfg]\ninherits = \"release\"\n",
    )
    .unwrap();
    refused(
        ws.path(),
        &["--profile", "nosuch"],
        &[],
        &[
            "profile \"nosuch\" (from flag --profile) is not defined",
            "dev, release, test, bench",
            "fromcfg",
            "lambda",
        ],
    );
    refused(
        ws.path(),
        &["--profile", "doc"],
        &[],
        &["profile \"doc\"", "not defined"],
    );
    for (args, env) in [
        (vec!["--profile", "lambda"], vec![]),
        (vec!["--profile", "fromcfg"], vec![]),
        (vec!["--profile", "bench"], vec![]),
        (
            vec!["--profile", "fromenv"],
            vec![("CARGO_PROFILE_FROMENV_INHERITS", "release")],
        ),
    ] {
        let (_, config) = print_config(ws.path(), &args, &env);
        assert_eq!(config["profile"]["value"]["name"], args[1]);
    }
    append(ws.path(), "alpha/Cargo.toml", "profile = \"ghost\"\n");
    refused(
        ws.path(),
        &[],
        &[],
        &["profile \"ghost\" (from profile in [package.metadata.lambda.build] of package alpha) is not defined"],
    );
}

#[test]
fn a_lambda_dir_that_cannot_be_a_directory_is_refused_before_compiling() {
    let ws = workspace();
    for dir in ["Cargo.toml", "Cargo.toml/out"] {
        refused(
            ws.path(),
            &["--lambda-dir", dir, "--compiler", "cargo"],
            &[],
            &["lambda dir", dir, "(from flag --lambda-dir)", "Cargo.toml", "is a file"],
        );
    }
    assert!(!ws.path().join("target").exists(), "nothing was compiled");
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\nlambda_dir = \"alpha/src/main.rs/x\"\n",
    );
    refused(
        ws.path(),
        &["--compiler", "cargo"],
        &[],
        &[
            "lambda dir",
            "(from lambda_dir in [workspace.metadata.lambda.build])",
            "main.rs",
            "is a file",
        ],
    );
}

#[test]
fn metadata_values_of_the_wrong_type_are_refused() {
    let ws = workspace();
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\nlambda_dir = 5\n",
    );
    refused(
        ws.path(),
        &[],
        &[],
        &[
            "invalid lambda dir \"5\" from lambda_dir in [workspace.metadata.lambda.build]",
            "a string",
        ],
    );
    let ws = workspace();
    append(ws.path(), "alpha/Cargo.toml", "release = 2\n");
    refused(
        ws.path(),
        &[],
        &[],
        &[
            "invalid release \"2\"",
            "release in [package.metadata.lambda.build] of package alpha",
        ],
    );
}
