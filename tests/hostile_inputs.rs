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

// Files that settings name (issues 27 and 28): read as includes are, checked before compiling,
// and never quoted back.

/// A secret in the job's environment and in every file planted below.
const SECRET: &str = "s3cr3t-d0-not-print-7731";

fn mkfifo(path: &Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

/// Runs with the secret in the environment, at default and high verbosity, inside and outside
/// GitHub Actions; each run must be a usage error holding `needles` that never shows the secret.
fn refused_quietly(dir: &Path, args: &[&str], needles: &[&str]) {
    let summary = tempfile::NamedTempFile::new().unwrap();
    let summary = summary.path().to_string_lossy().into_owned();
    for actions in [false, true] {
        for verbose in [&[][..], &["-vv"][..]] {
            let mut cmd = lambda_build(dir);
            cmd.args(args).args(verbose).env("JOB_TOKEN", SECRET);
            if actions {
                cmd.env("GITHUB_ACTIONS", "true").env("GITHUB_STEP_SUMMARY", &summary);
            }
            let run = run_bounded(&mut cmd, std::time::Duration::from_secs(120));
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert_not_shown(&run, SECRET);
            assert!(!run.stderr.contains("JOB_TOKEN"), "{}", run.stderr);
            let error = run
                .stderr
                .lines()
                .find(|l| l.starts_with("error: "))
                .unwrap_or_default();
            for needle in needles {
                assert!(error.contains(needle), "{args:?}: {error:?} lacks {needle:?}");
            }
        }
    }
    assert!(!dir.join("target/debug").exists(), "nothing may compile on bad input");
}

#[test]
fn an_env_file_symlinked_to_the_environment_never_prints_it() {
    let ws = workspace();
    std::os::unix::fs::symlink("/proc/self/environ", ws.path().join("envlink")).unwrap();
    // Named by the repository: a symlink out of the workspace is refused, as for includes.
    append(
        ws.path(),
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\nenv_file = \"envlink\"",
    );
    refused_quietly(
        ws.path(),
        &[],
        &["env file", "envlink", "outside the workspace", "accepted:"],
    );
    // Named on the command line: read, and its bad line named by number only.
    let ws = workspace();
    std::os::unix::fs::symlink("/proc/self/environ", ws.path().join("envlink")).unwrap();
    refused_quietly(
        ws.path(),
        &["--env-file", "envlink"],
        &["env file", "envlink", "(from flag --env-file)", "line 1"],
    );
}

#[test]
fn env_files_and_env_vars_cargo_could_not_start_with_are_refused_before_compiling() {
    let ws = workspace();
    std::fs::write(ws.path().join("nul.env"), format!("A=1\nTOKEN={SECRET}\0x\n")).unwrap();
    refused_quietly(
        ws.path(),
        &["--env-file", "nul.env"],
        &["nul.env", "NUL byte on line 2"],
    );
    let many: String = (0..250_000).map(|i| format!("V{i}=1\n")).collect();
    std::fs::write(ws.path().join("many.env"), many).unwrap();
    refused_quietly(
        ws.path(),
        &["--env-file", "many.env"],
        &["many.env", "is larger than 1048576 bytes"],
    );
    std::fs::write(ws.path().join("bad.env"), format!("A=1\n{SECRET} is not a pair\n")).unwrap();
    refused_quietly(
        ws.path(),
        &["--env-file", "bad.env"],
        &["bad.env", "line 2 is not KEY=VALUE"],
    );
    let fifo = ws.path().join("fifo.env");
    mkfifo(&fifo);
    refused_quietly(
        ws.path(),
        &["--env-file", "fifo.env"],
        &["fifo.env", "is a FIFO, not a regular file"],
    );
    std::fs::write(ws.path().join("CargoLambda.toml"), "[build]\nenv_var = { PATH = 5 }\n").unwrap();
    refused_quietly(
        ws.path(),
        &[],
        &["env_var PATH", "CargoLambda.toml", "is a number, not a string"],
    );
}

#[test]
fn a_global_file_that_is_a_folder_fifo_or_device_is_refused_by_what_it_is() {
    let ws = workspace();
    std::fs::create_dir(ws.path().join("folder.toml")).unwrap();
    mkfifo(&ws.path().join("fifo.toml"));
    for (global, what) in [
        ("folder.toml", "is a folder, not a regular file"),
        ("fifo.toml", "is a FIFO, not a regular file"),
        ("/dev/zero", "is a device, not a regular file"),
    ] {
        refused_quietly(ws.path(), &["--global", global], &["configuration file", global, what]);
    }
    // Found, not named: a FIFO CargoLambda.toml is refused, not silently skipped.
    mkfifo(&ws.path().join("CargoLambda.toml"));
    refused_quietly(ws.path(), &[], &["CargoLambda.toml", "is a FIFO"]);
    // Its text never appears in a parse error; the line does.
    let ws = workspace();
    std::fs::write(
        ws.path().join("CargoLambda.toml"),
        format!("[build]\nrelease = true\ntoken = {SECRET}\n"),
    )
    .unwrap();
    refused_quietly(ws.path(), &[], &["CargoLambda.toml", "is not valid TOML at line 3"]);
    std::os::unix::fs::symlink("/proc/self/environ", ws.path().join("environ.toml")).unwrap();
    refused_quietly(
        ws.path(),
        &["--global", "environ.toml"],
        &["environ.toml", "is not valid TOML"],
    );
}

#[test]
fn a_smoke_event_that_is_a_fifo_a_device_or_too_large_is_refused_at_once() {
    let ws = workspace();
    mkfifo(&ws.path().join("event.json"));
    refused_quietly(
        ws.path(),
        &["--smoke", "--smoke-event", "event.json"],
        &["smoke_event", "is a FIFO"],
    );
    refused_quietly(
        ws.path(),
        &["--smoke", "--smoke-event", "/dev/zero"],
        &["smoke_event", "is a device"],
    );
    let big = vec![b' '; 6 * 1024 * 1024 + 1];
    std::fs::write(ws.path().join("big.json"), big).unwrap();
    refused_quietly(
        ws.path(),
        &["--smoke", "--smoke-event", "big.json"],
        &["smoke_event", "is larger than 6291456 bytes", "6 MiB"],
    );
    std::fs::write(ws.path().join("bad.json"), format!("{{\"a\": {SECRET}}}")).unwrap();
    refused_quietly(
        ws.path(),
        &["--smoke", "--smoke-event", "bad.json"],
        &["smoke_event", "is not JSON: not JSON at line 1"],
    );
    // Named by the repository: not outside it.
    std::os::unix::fs::symlink("/proc/self/environ", ws.path().join("alpha/environ.json")).unwrap();
    append(
        ws.path(),
        "alpha/Cargo.toml",
        "smoke = true\nsmoke_event = \"environ.json\"",
    );
    refused_quietly(ws.path(), &[], &["smoke_event", "outside the workspace"]);
}
