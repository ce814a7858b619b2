//! Inputs through the real binary: provenance in `--print-config`, and bad values refused with
//! exit 2 and one line that names the input, its source and what is accepted, before building.

mod support;

use support::*;

fn print_config(cmd: &mut std::process::Command) -> serde_json::Value {
    let run = run_ok(cmd.arg("--print-config"));
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

#[test]
fn print_config_shows_each_value_and_where_it_came_from() {
    let mut cmd = lambda_build(&examples());
    cmd.env("CARGO_LAMBDA_COMPILER", "cargo")
        .env("INPUT_OUTPUT-FORMAT", "zip")
        .env("LAMBDA_BUILD_ARM64", "true")
        .arg("--release");
    let config = print_config(&mut cmd);
    assert_eq!(
        config["compiler"],
        serde_json::json!({"value": "cargo", "source": "env CARGO_LAMBDA_COMPILER"})
    );
    assert_eq!(
        config["output_format"],
        serde_json::json!({"value": ["zip"], "source": "env INPUT_OUTPUT-FORMAT"})
    );
    assert_eq!(
        config["target"],
        serde_json::json!({"value": ["aarch64-unknown-linux-gnu"], "source": "env LAMBDA_BUILD_ARM64"})
    );
    assert_eq!(
        config["profile"]["value"],
        serde_json::json!({"name": "release", "tuned": true})
    );
    assert_eq!(config["profile"]["source"], "flag --release");
    let kinds: Vec<(String, String)> = config["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["name"].as_str().unwrap().to_owned(),
                b["detected"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("echo-extension".into(), "extension".into()),
            ("hello".into(), "function".into()),
            ("http-hello".into(), "function".into())
        ]
    );
    // The plan shows the release tuning and why: each profile setting, the Lambda CPU for arm64.
    let tuning = &config["plan"]["invocations"][0]["tuning"];
    assert_eq!(tuning["applied"], true, "{tuning}");
    assert_eq!(tuning["why"], "release profile (from flag --release)");
    assert_eq!(
        tuning["profile"][0],
        serde_json::json!({"key": "strip", "value": "\"symbols\"", "applied": true, "why": "default: cargo-lambda's release tuning"})
    );
    assert_eq!(
        tuning["targets"]["aarch64-unknown-linux-gnu"],
        serde_json::json!({
            "cpu": "neoverse-n1",
            "why": "default: the Lambda CPU for arm64",
            "user_flags": [],
            "user_flags_from": "none",
            "config_rustflags": ["-C", "target-cpu=neoverse-n1"]
        })
    );
}

#[test]
fn a_flag_beats_every_env_form() {
    let mut cmd = lambda_build(&examples());
    cmd.env("INPUT_COMPILER", "cross")
        .env("LAMBDA_BUILD_COMPILER", "cross")
        .env("CARGO_LAMBDA_COMPILER", "cross");
    cmd.args(["--compiler", "zigbuild"]);
    assert_eq!(print_config(&mut cmd)["compiler"]["value"], "cargo-zigbuild");
    let mut cmd = lambda_build(&examples());
    cmd.env("INPUT_COMPILER", "")
        .env("LAMBDA_BUILD_COMPILER", "cargo")
        .env("CARGO_LAMBDA_COMPILER", "cross");
    assert_eq!(
        print_config(&mut cmd)["compiler"]["source"],
        "env LAMBDA_BUILD_COMPILER"
    );
}

#[test]
fn per_package_metadata_stays_with_its_package() {
    let config = print_config(&mut lambda_build(&tiny()));
    let packages = &config["packages"];
    assert_eq!(packages["alpha"]["output_format"]["value"], serde_json::json!(["zip"]));
    assert_eq!(
        packages["alpha"]["output_format"]["source"],
        "[package.metadata.lambda.build] of package alpha"
    );
    assert_eq!(packages["beta"]["extension"]["value"], true);
    assert!(
        packages["beta"].get("output_format").is_none()
            || packages["beta"]["output_format"]["value"] == serde_json::json!(["binary"])
    );
}

/// (env, args, what the one error line must say)
type BadInput = (Vec<(&'static str, &'static str)>, Vec<&'static str>, Vec<&'static str>);

#[test]
fn bad_inputs_exit_2_with_one_line_naming_input_source_and_accepted_values() {
    let cases: Vec<BadInput> = vec![
        (
            vec![],
            vec!["--target", "mips-unknown-linux-gnu"],
            vec![
                "invalid target \"mips-unknown-linux-gnu\" from flag --target",
                "aarch64-unknown-linux-gnu",
            ],
        ),
        (
            vec![("LAMBDA_BUILD_TARGET", "x86_64,sparc")],
            vec![],
            vec![
                "invalid target \"sparc\" from env LAMBDA_BUILD_TARGET",
                "x86_64-unknown-linux-musl",
            ],
        ),
        (
            vec![("INPUT_OUTPUT-FORMAT", "tarball")],
            vec![],
            vec![
                "invalid output format \"tarball\" from env INPUT_OUTPUT-FORMAT",
                "binary, zip",
            ],
        ),
        (
            vec![("INPUT_RELEASE", "sometimes")],
            vec![],
            vec![
                "invalid release \"sometimes\" from env INPUT_RELEASE",
                "true, false, 1, 0, yes, no, on, off",
            ],
        ),
        (
            vec![("LAMBDA_BUILD_ARM64", "2")],
            vec![],
            vec!["invalid arm64 \"2\" from env LAMBDA_BUILD_ARM64"],
        ),
        (
            vec![("CARGO_LAMBDA_COMPILER", "gcc")],
            vec![],
            vec![
                "invalid compiler \"gcc\" from env CARGO_LAMBDA_COMPILER",
                "cargo-zigbuild (or zigbuild), cargo, cross",
            ],
        ),
        (vec![], vec!["--jobs", "0"], vec!["invalid jobs \"0\" from flag --jobs"]),
        (
            vec![],
            vec!["--manifest-path", "nope/Cargo.toml"],
            vec!["manifest path", "(from flag --manifest-path) is not a file"],
        ),
        (
            vec![],
            vec!["--package", "ghost"],
            vec!["package \"ghost\" (from --package) is not a member", "hello"],
        ),
        (
            vec![],
            vec!["--include", "no-such-file"],
            vec!["include path \"no-such-file\" from flag --include does not exist"],
        ),
        (
            vec![("SOURCE_DATE_EPOCH", "yesterday")],
            vec![],
            vec!["invalid SOURCE_DATE_EPOCH \"yesterday\""],
        ),
        (
            vec![],
            vec!["--compiler", "cargo", "--target", "x86_64-unknown-linux-gnu.2.17"],
            vec!["only cargo-zigbuild"],
        ),
    ];
    let out = tempfile::tempdir().unwrap();
    for (env, args, needles) in cases {
        let mut cmd = lambda_build(&examples());
        cmd.envs(env.iter().copied())
            .args(&args)
            .arg("--lambda-dir")
            .arg(out.path());
        let run = run(&mut cmd);
        assert_eq!(run.code, 2, "{env:?} {args:?}: {}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line for {env:?} {args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        for needle in needles {
            assert!(
                lines[0].contains(needle),
                "{env:?} {args:?}: {:?} lacks {needle:?}",
                lines[0]
            );
        }
    }
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "a refused run writes nothing"
    );
}

#[test]
fn a_workspace_without_lambda_binaries_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"plain\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}").unwrap();
    let run = run(&mut lambda_build(dir.path()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no Lambda functions or extensions found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("lambda_runtime, lambda_http or lambda-extension"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_documents_every_flag_with_its_env_variable() {
    let run = run_ok(lambda_build(&examples()).arg("--help"));
    for setting in lambda_build::settings::SETTINGS {
        assert!(
            run.stdout.contains(&format!("--{}", setting.name)),
            "--{} missing from --help",
            setting.name
        );
        if let Some(env) = setting.primary_env() {
            assert!(run.stdout.contains(&env), "{env} missing from --help");
        }
    }
    assert_eq!(
        run_ok(lambda_build(&examples()).arg("--version")).stdout.trim(),
        format!("lambda-build {}", env!("CARGO_PKG_VERSION"))
    );
}
