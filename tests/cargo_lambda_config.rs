//! cargo-lambda's configuration, read as cargo-lambda reads it, through the real binary:
//! every layer (flag, INPUT_*, LAMBDA_BUILD_*, CARGO_LAMBDA_*, per-binary, package and workspace
//! metadata, CargoLambda.toml with --global/--context/--admerge, CARGO_LAMBDA_BUILD.*) named in
//! `--print-config`, in cargo-lambda's order; unknown keys warned about; cargo-lambda's short
//! flags and cargo pass-through options; the host's architecture as the default target; and a
//! real `--compiler cargo` build showing `--env-var`, `--config` and `--target-dir` took effect.

mod support;

use std::path::Path;

use support::{append, copy_tree, fixture, lambda_build, names, print_config, run, tiny};

/// A copy of a fixture to edit.
fn copy(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(from, dir.path());
    dir
}

/// A binary's resolved value of `key`: its per-binary entry, else its package's, else the
/// run-wide one (print-config shows only what differs).
fn binary_value<'j>(config: &'j serde_json::Value, package: &str, bin: &str, key: &str) -> &'j serde_json::Value {
    let own = &config["bins"][format!("{package}/{bin}")][key];
    let pkg = &config["packages"][package][key];
    match (own.is_null(), pkg.is_null()) {
        (false, _) => own,
        (true, false) => pkg,
        (true, true) => &config[key],
    }
}

#[test]
fn every_layer_is_named_in_print_config_in_cargo_lambdas_precedence_order() {
    let ws = copy(&tiny());
    let dir = ws.path();
    let file = dir.join("CargoLambda.toml").display().to_string();
    // Lowest first; each step adds one layer, which must then be the source.
    let mut env: Vec<(&str, &str)> = vec![("CARGO_LAMBDA_BUILD.COMPILER", "cargo")];
    let mut args: Vec<&str> = vec![];
    // (file to append to, what, the source it must then be); the first adds nothing.
    let steps = [
        ("", "", "env CARGO_LAMBDA_BUILD.COMPILER"),
        (
            "CargoLambda.toml",
            "[build]\ncompiler = \"zigbuild\"",
            "[build] of FILE",
        ),
        (
            "Cargo.toml",
            "[workspace.metadata.lambda.build]\ncompiler = \"cargo\"",
            "[workspace.metadata.lambda.build]",
        ),
        (
            "Cargo.toml",
            "[workspace.metadata.lambda.bin.alpha.build]\ncompiler = \"zigbuild\"",
            "[workspace.metadata.lambda.bin.alpha.build]",
        ),
        (
            "alpha/Cargo.toml",
            "[package.metadata.lambda.build.compiler]\ntype = \"cargo\"",
            "[package.metadata.lambda.build] of package alpha",
        ),
        (
            "alpha/Cargo.toml",
            "[package.metadata.lambda.bin.alpha.build]\ncompiler = \"zigbuild\"",
            "[package.metadata.lambda.bin.alpha.build] of package alpha",
        ),
    ];
    let mut expected_value = ["cargo", "cargo-zigbuild"].iter().cycle();
    for (target, text, source) in steps {
        if !target.is_empty() {
            append(dir, target, text);
        }
        let (_, config) = print_config(dir, &args, &env);
        let compiler = binary_value(&config, "alpha", "alpha", "compiler");
        assert_eq!(compiler["source"], source.replace("FILE", &file), "{config:#}");
        assert_eq!(compiler["value"], *expected_value.next().unwrap(), "{source}");
    }
    for (name, value) in [
        ("CARGO_LAMBDA_COMPILER", "cargo"),
        ("LAMBDA_BUILD_COMPILER", "zigbuild"),
        ("INPUT_COMPILER", "cargo"),
    ] {
        env.push((name, value));
        let (_, config) = print_config(dir, &args, &env);
        assert_eq!(
            binary_value(&config, "alpha", "alpha", "compiler")["source"],
            format!("env {name}")
        );
    }
    args.extend(["-c", "zigbuild"]);
    let (_, config) = print_config(dir, &args, &env);
    let compiler = binary_value(&config, "alpha", "alpha", "compiler");
    assert_eq!(
        (&compiler["value"], &compiler["source"]),
        (&"cargo-zigbuild".into(), &"flag --compiler".into())
    );
    // beta has no tables of its own: the workspace's per-binary table was alpha's only.
    assert_eq!(
        binary_value(&config, "beta", "beta", "compiler")["source"],
        "flag --compiler"
    );
    let (_, below) = print_config(dir, &[], &[]);
    assert_eq!(
        binary_value(&below, "beta", "beta", "compiler")["source"],
        "[workspace.metadata.lambda.build]"
    );
}

#[test]
fn the_configuration_file_is_found_upwards_and_global_and_context_choose_it_and_its_tables() {
    let ws = copy(&tiny());
    let dir = ws.path();
    append(
        dir,
        "CargoLambda.toml",
        "[build]\nruntime = \"al2\"\n[default.build]\nrelease = true\n[prod.build]\narm64 = true\n[global.build]\noutput_format = \"zip\"",
    );
    append(dir, "other.toml", "[build]\njobs = 3");
    let file = dir.join("CargoLambda.toml").display().to_string();
    // From a folder below the workspace, with --manifest-path: the file above is found.
    let (_, config) = print_config(&dir.join("beta"), &["--manifest-path", "../Cargo.toml"], &[]);
    assert_eq!(config["runtime"]["source"], format!("[build] of {file}"));
    assert_eq!(config["profile"]["source"], "default");
    for (args, env) in [
        (vec!["--context", "prod"], vec![]),
        (vec!["-x", "prod"], vec![]),
        (vec![], vec![("CARGO_LAMBDA_CONTEXT", "prod")]),
    ] {
        let (_, config) = print_config(dir, &args, &env);
        assert_eq!(config["runtime"]["source"], "default", "{args:?}");
        assert_eq!(config["profile"]["source"], format!("[default.build] of {file}"));
        assert_eq!(config["target"]["source"], format!("[prod.build] of {file}"));
        assert_eq!(
            config["target"]["value"],
            serde_json::json!(["aarch64-unknown-linux-gnu"])
        );
        assert_eq!(config["output_format"]["source"], format!("[global.build] of {file}"));
    }
    let other = dir.join("other.toml").display().to_string();
    for (args, env) in [
        (vec!["--global", "other.toml"], vec![]),
        (vec![], vec![("CARGO_LAMBDA_GLOBAL", "other.toml")]),
    ] {
        let (_, config) = print_config(dir, &args, &env);
        assert_eq!(config["jobs"]["source"], format!("[build] of {other}"));
        assert_eq!(
            config["runtime"]["source"], "default",
            "--global replaces CargoLambda.toml"
        );
    }
    let missing = run(lambda_build(dir).args(["--print-config", "--global", "nope.toml"]));
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("nope.toml (from flag --global) does not exist"),
        "{}",
        missing.stderr
    );
    std::fs::write(dir.join("CargoLambda.toml"), "[build\n").unwrap();
    let broken = run(lambda_build(dir).arg("--print-config"));
    assert_eq!(broken.code, 2, "{}", broken.stderr);
    assert!(broken.stderr.contains("is not valid TOML"), "{}", broken.stderr);
}

#[test]
fn unknown_keys_in_the_configuration_file_and_build_variables_warn_naming_the_key() {
    let ws = copy(&tiny());
    let dir = ws.path();
    append(
        dir,
        "CargoLambda.toml",
        "[build]\nrelase = true\nflatten = \"alpha\"\n[build.compiler]\ntype = \"cargo\"\nsubcomand = [\"x\"]\n[prod.build]\narm64 = true\n[deploy]\nmemory = 128",
    );
    let file = dir.join("CargoLambda.toml").display().to_string();
    let (run, config) = print_config(dir, &[], &[("CARGO_LAMBDA_BUILD.OUTPUT_FORMATS", "zip")]);
    let expected = [
        format!("warning: [prod] of {file} is a context's table, read only with --context prod; ignored"),
        format!("warning: unknown key \"relase\" in [build] of {file}; did you mean \"release\"?"),
        format!(
            "warning: unknown key \"compiler.subcomand\" in [build] of {file}; did you mean \"compiler.subcommand\"?"
        ),
        "warning: unknown key \"output_formats\" in env CARGO_LAMBDA_BUILD.OUTPUT_FORMATS; did you mean \"output_format\"?"
            .to_owned(),
    ];
    for line in &expected {
        assert!(
            run.stderr.lines().any(|l| l == line),
            "missing {line:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(run.stderr.lines().count(), expected.len(), "{}", run.stderr);
    assert_eq!(config["warnings"].as_array().unwrap().len(), expected.len());
    // The known key beside them was read.
    assert_eq!(config["flatten"]["value"], "alpha");
}

#[test]
fn per_binary_metadata_applies_to_its_binary_only() {
    let (run, config) = print_config(&fixture("two_bins"), &[], &[]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let one = &config["bins"]["duo/one"];
    assert_eq!(one["profile"]["value"]["name"], "release");
    assert_eq!(
        one["profile"]["source"],
        "[package.metadata.lambda.bin.one.build] of package duo"
    );
    assert_eq!(one["include"]["value"][0]["name"], "one.txt");
    assert!(config["bins"]["duo/two"].is_null(), "{:#}", config["bins"]);
    // The package's own table still applies to both.
    assert_eq!(
        binary_value(&config, "duo", "one", "output_format")["source"],
        "[package.metadata.lambda.build] of package duo"
    );
    let plan = &config["plan"];
    assert_eq!(plan["invocations"].as_array().unwrap().len(), 2, "{plan:#}");
    for artifact in plan["artifacts"].as_array().unwrap() {
        let (name, profile) = (artifact["name"].as_str().unwrap(), &artifact["profile"]["name"]);
        assert_eq!(profile, if name == "one" { "release" } else { "dev" }, "{name}");
        let includes = artifact["include"].as_array().unwrap().len();
        assert_eq!(includes, usize::from(name == "one"), "{name}");
    }
}

#[test]
fn admerge_joins_lists_of_every_layer() {
    let ws = copy(&tiny());
    let dir = ws.path();
    append(dir, "CargoLambda.toml", "[build]\nfeatures = [\"from-file\"]");
    append(
        dir,
        "Cargo.toml",
        "[workspace.metadata.lambda.build]\nfeatures = [\"from-workspace\"]",
    );
    let file = dir.join("CargoLambda.toml").display().to_string();
    let (_, plain) = print_config(dir, &["-F", "from-flag"], &[]);
    assert_eq!(plain["features"]["value"], serde_json::json!(["from-flag"]));
    for (args, env) in [
        (vec!["-F", "from-flag", "--admerge"], vec![]),
        (vec!["-F", "from-flag"], vec![("CARGO_LAMBDA_ADMERGE", "true")]),
    ] {
        let (_, config) = print_config(dir, &args, &env);
        assert_eq!(
            config["features"]["value"],
            serde_json::json!(["from-file", "from-workspace", "from-flag"])
        );
        assert_eq!(
            config["features"]["source"],
            format!("admerge of flag --features + [workspace.metadata.lambda.build] + [build] of {file}")
        );
    }
}

#[test]
fn no_target_builds_for_the_hosts_architecture_as_cargo_lambda_does() {
    let host = std::process::Command::new("rustc").arg("-vV").output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout);
    let host = host.lines().find_map(|l| l.strip_prefix("host: ")).unwrap().to_owned();
    let (_, config) = print_config(&tiny(), &[], &[]);
    let linux_gnu = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"].contains(&host.as_str());
    let (value, source) = match linux_gnu {
        true => (host.clone(), format!("default (host architecture: {host})")),
        false => (
            "x86_64-unknown-linux-gnu".to_owned(),
            format!("default (x86_64: the host {host} is not a Linux x86_64 or arm64 glibc host)"),
        ),
    };
    assert_eq!(
        config["target"],
        serde_json::json!({"value": [value], "source": source})
    );
}

#[test]
fn cargo_lambdas_short_flags_and_options_are_accepted_with_their_sources() {
    let ws = copy(&tiny());
    let out = ws.path().join("out");
    let (_, config) = print_config(
        ws.path(),
        &[
            "-o",
            "zip",
            "-l",
            "out",
            "-c",
            "cargo",
            "-r",
            "-i",
            "alpha/static",
            "-q",
            "--flatten",
            "alpha",
            "--skip-target-check",
            "--workspace",
            "--exclude",
            "beta",
            "--bins",
            "--offline",
            "--keep-going",
            "--timings",
            "--ignore-rust-version",
            "--color",
            "never",
            "--message-format",
            "short",
            "-Z",
            "unstable-options",
            "--future-incompat-report",
            "--target-dir",
            "tdir",
            "--env-var",
            "A=1",
        ],
        &[],
    );
    for (key, source) in [
        ("output_format", "flag --output-format"),
        ("lambda_dir", "flag --lambda-dir"),
        ("compiler", "flag --compiler"),
        ("profile", "flag --release"),
        ("quiet", "flag --quiet"),
        ("flatten", "flag --flatten"),
        ("skip_target_check", "flag --skip-target-check"),
        ("workspace", "flag --workspace"),
        ("exclude", "flag --exclude"),
        ("unstable_flags", "flag --unstable-flags"),
        ("message_format", "flag --message-format"),
        ("target_dir", "flag --target-dir"),
        ("env_var", "flag --env-var"),
    ] {
        assert_eq!(config[key]["source"], source, "{key}: {:#}", config[key]);
    }
    assert_eq!(config["lambda_dir"]["value"], out.display().to_string());
    // --exclude leaves beta out; the target dir moves cargo's output and the plan's binaries.
    let binaries = names(&config["binaries"]);
    assert_eq!(binaries, ["alpha"]);
    let binary = config["plan"]["artifacts"][0]["binary"].as_str().unwrap();
    assert!(
        binary.starts_with(&ws.path().join("tdir").display().to_string()),
        "{binary}"
    );
    // The build's variables are listed by name only.
    assert_eq!(config["plan"]["cargo"]["env"], serde_json::json!(["A"]));
}

#[test]
fn env_var_config_and_target_dir_reach_a_real_cargo_build() {
    let ws = copy(&tiny());
    let dir = ws.path();
    // The binary only compiles when the variable reaches rustc, and prints what --config set.
    std::fs::write(
        dir.join("alpha/src/main.rs"),
        "fn main() { println!(\"{} {}\", env!(\"LB_FROM_ENV_VAR\"), cfg!(debug_assertions)); }\n",
    )
    .unwrap();
    std::fs::write(dir.join("build.env"), "LB_FROM_ENV_VAR=from-file\n").unwrap();
    let target_dir = dir.join("elsewhere");
    let build = run(lambda_build(dir).args([
        "--compiler",
        "cargo",
        "-p",
        "alpha",
        "--output-format",
        "binary",
        "--env-file",
        "build.env",
        "--env-vars",
        "LB_FROM_ENV_VAR=from-flag",
        "--config",
        "profile.dev.debug-assertions=false",
        "--target-dir",
        "elsewhere",
    ]));
    assert_eq!(build.code, 0, "{}", build.stderr);
    let bootstrap = target_dir.join("lambda/alpha/bootstrap");
    assert!(
        bootstrap.is_file(),
        "the lambda dir follows --target-dir: {}",
        build.stderr
    );
    assert!(!dir.join("target").exists(), "cargo's default target dir was used");
    let output = std::process::Command::new(&bootstrap).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "from-flag false");
}
