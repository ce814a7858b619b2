//! The compile plan as plain data: a workspace's metadata, env and flags in, the cargo
//! invocations (arguments and environment) out, without compiling anything.

use std::ffi::OsString;
use std::path::Path;

use super::command;
use crate::cli::{self, EnvVars};
use crate::prepare;

/// A workspace of function packages (each depending on a local `lambda_runtime` stub, which is
/// all discovery looks at) with `workspace_extra` appended to the root manifest and each
/// package's own `[package.metadata.lambda.build]` lines.
fn workspace(workspace_extra: &str, packages: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let mut members: Vec<String> = packages.iter().map(|(name, _)| format!("{name:?}")).collect();
    members.push("\"lambda_runtime\"".into());
    write(
        "Cargo.toml",
        &format!(
            "[workspace]\nresolver = \"2\"\nmembers = [{}]\n{workspace_extra}\n",
            members.join(", ")
        ),
    );
    write(
        "lambda_runtime/Cargo.toml",
        "[package]\nname = \"lambda_runtime\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
    );
    write("lambda_runtime/src/lib.rs", "");
    for (name, metadata) in packages {
        write(
            &format!("{name}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nlambda_runtime = {{ path = \"../lambda_runtime\" }}\n\n[package.metadata.lambda.build]\n{metadata}\n"
            ),
        );
        write(&format!("{name}/src/main.rs"), "fn main() {}\n");
    }
    dir
}

/// One cargo invocation as plain data.
#[derive(Debug)]
struct CargoRun {
    args: Vec<String>,
    /// Variables set (`Some`) or removed (`None`).
    env: Vec<(String, Option<String>)>,
}

impl CargoRun {
    /// The values of every `--config` argument.
    fn config(&self) -> Vec<&str> {
        self.values("--config")
    }

    fn values(&self, flag: &str) -> Vec<&str> {
        self.args
            .windows(2)
            .filter(|w| w[0] == flag)
            .map(|w| w[1].as_str())
            .collect()
    }

    fn removes(&self, var: &str) -> bool {
        self.env.iter().any(|(k, v)| k == var && v.is_none())
    }

    /// What the invocation does to cargo's rustflags variables.
    fn rustflags_env(&self) -> Vec<&(String, Option<String>)> {
        self.env.iter().filter(|(k, _)| k.contains("RUSTFLAGS")).collect()
    }
}

/// The cargo invocations `lambda-build <flags>` would run in `dir` with `env` (the plain
/// cargo backend, so no Zig is needed to look at them).
fn invocations(dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> Vec<CargoRun> {
    let mut env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    // The user's own ~/.cargo/config.toml stays out of it.
    env.push(("CARGO_HOME".into(), dir.join("cargo-home").display().to_string()));
    let env = EnvVars::from_pairs(env);
    let args = ["lambda-build", "--compiler", "cargo"]
        .iter()
        .chain(flags)
        .map(OsString::from);
    let cli::Invocation::Build { inputs, .. } = cli::parse(args, &env).unwrap() else {
        panic!("not a build")
    };
    let resolved = prepare::resolve(&inputs, &env, dir, crate::cargo_lambda::EntryPoint::LambdaBuild).unwrap();
    resolved
        .plan
        .invocations
        .iter()
        .map(|invocation| {
            let command = command(&resolved.plan, invocation).unwrap();
            CargoRun {
                args: command.get_args().map(|a| a.to_string_lossy().into_owned()).collect(),
                env: command
                    .get_envs()
                    .map(|(k, v)| {
                        (
                            k.to_string_lossy().into_owned(),
                            v.map(|v| v.to_string_lossy().into_owned()),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

const PROFILE: [&str; 4] = [
    "profile.release.strip=\"symbols\"",
    "profile.release.lto=\"thin\"",
    "profile.release.codegen-units=1",
    "profile.release.panic=\"abort\"",
];
const X86_CPU: &str = "target.x86_64-unknown-linux-gnu.rustflags=[\"-C\", \"target-cpu=haswell\"]";
const ARM_CPU: &str = "target.aarch64-unknown-linux-gnu.rustflags=[\"-C\", \"target-cpu=neoverse-n1\"]";

#[test]
fn a_release_build_of_both_targets_is_one_tuned_invocation() {
    let ws = workspace("", &[("a", ""), ("b", "")]);
    let runs = invocations(ws.path(), &["--release", "--x86-64", "--arm64"], &[]);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(
        run.values("--target"),
        ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"]
    );
    assert_eq!(run.values("--profile"), ["release"]);
    assert_eq!(run.values("--package"), ["a", "b"]);
    let mut expected = PROFILE.to_vec();
    expected.extend([ARM_CPU, X86_CPU]);
    assert_eq!(run.config(), expected);
    assert!(run.rustflags_env().is_empty(), "{:?}", run.env);
}

#[test]
fn debug_and_disabled_builds_get_no_tuning() {
    let ws = workspace("", &[("a", "")]);
    for flags in [&["--arm64"][..], &["--release", "--disable-optimizations"]] {
        let runs = invocations(ws.path(), flags, &[("RUSTFLAGS", "--cfg foo")]);
        assert!(runs[0].config().is_empty(), "{flags:?}: {:?}", runs[0].args);
        assert!(
            runs[0].rustflags_env().is_empty(),
            "{flags:?}: RUSTFLAGS stays as it is"
        );
    }
    let env = invocations(
        ws.path(),
        &["--release"],
        &[("LAMBDA_BUILD_DISABLE_OPTIMIZATIONS", "true")],
    );
    assert!(env[0].config().is_empty());
}

#[test]
fn each_release_profile_key_the_workspace_sets_is_left_to_it() {
    for (key, line) in [
        ("strip", "strip = false"),
        ("strip", "debug = \"full\""),
        ("lto", "lto = \"fat\""),
        ("codegen-units", "codegen-units = 4"),
        ("panic", "panic = \"unwind\""),
    ] {
        let ws = workspace(&format!("[profile.release]\n{line}\n"), &[("a", "")]);
        let run = &invocations(ws.path(), &["--release"], &[])[0];
        let expected: Vec<&str> = PROFILE
            .iter()
            .copied()
            .filter(|c| !c.starts_with(&format!("profile.release.{key}=")))
            .chain([X86_CPU])
            .collect();
        assert_eq!(run.config(), expected, "{line}");
    }
}

#[test]
fn user_rustflags_are_kept_and_each_target_still_gets_its_cpu() {
    let ws = workspace("", &[("a", "")]);
    let both = ["--release", "--x86-64", "--arm64"];
    let run = &invocations(
        ws.path(),
        &both,
        &[("RUSTFLAGS", "--cfg foo -C force-frame-pointers=yes")],
    )[0];
    assert_eq!(
        &run.config()[4..],
        [
            "target.aarch64-unknown-linux-gnu.rustflags=[\"--cfg\", \"foo\", \"-C\", \"force-frame-pointers=yes\", \"-C\", \"target-cpu=neoverse-n1\"]",
            "target.x86_64-unknown-linux-gnu.rustflags=[\"--cfg\", \"foo\", \"-C\", \"force-frame-pointers=yes\", \"-C\", \"target-cpu=haswell\"]",
        ]
    );
    assert!(
        run.removes("RUSTFLAGS") && run.removes("CARGO_ENCODED_RUSTFLAGS"),
        "{:?}",
        run.env
    );

    // A CPU in RUSTFLAGS: no CPU added, RUSTFLAGS left for cargo as it is.
    let named = &invocations(ws.path(), &both, &[("RUSTFLAGS", "-Ctarget-cpu=native")])[0];
    assert_eq!(named.config(), PROFILE);
    assert!(named.rustflags_env().is_empty(), "{:?}", named.env);
}

#[test]
fn cargo_config_rustflags_are_joined_not_repeated() {
    let ws = workspace("", &[("a", "")]);
    std::fs::create_dir(ws.path().join(".cargo")).unwrap();
    std::fs::write(
        ws.path().join(".cargo/config.toml"),
        "[target.x86_64-unknown-linux-gnu]\nrustflags = [\"--cfg\", \"from_file\"]\n[target.aarch64-unknown-linux-gnu]\nrustflags = [\"-C\", \"target-cpu=neoverse-v1\"]\n",
    )
    .unwrap();
    let run = &invocations(ws.path(), &["--release", "--x86-64", "--arm64"], &[])[0];
    // cargo adds the file's flags itself; arm64 already names its CPU.
    let mut expected = PROFILE.to_vec();
    expected.push(X86_CPU);
    assert_eq!(run.config(), expected);
}

#[test]
fn packages_with_different_settings_get_the_fewest_invocations() {
    let ws = workspace(
        "[workspace.metadata.lambda.build]\noutput_format = \"zip\"\n",
        &[
            ("arm", "arm64 = true"),
            ("plain", ""),
            ("binary", "output_format = \"binary\"\nextension = true"),
            ("untuned", "disable_optimizations = true"),
            ("debug", "profile = \"dev\""),
        ],
    );
    let runs = invocations(ws.path(), &["--release"], &[]);
    let summary: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{} for {} ({}, {} --config)",
                r.values("--package").join(" "),
                r.values("--target").join(" "),
                r.values("--profile").join(" "),
                r.config().len()
            )
        })
        .collect();
    // Output format and kind need no invocation of their own; targets and tuning do. The
    // package's own `profile = "dev"` loses to the run's --release flag.
    assert_eq!(
        summary,
        [
            "untuned for x86_64-unknown-linux-gnu (release, 0 --config)",
            "binary debug plain for x86_64-unknown-linux-gnu (release, 5 --config)",
            "arm for aarch64-unknown-linux-gnu (release, 5 --config)",
        ]
    );
}

#[test]
fn cargo_lambdas_pass_through_options_reach_cargo() {
    let ws = workspace("", &[("a", "")]);
    std::fs::create_dir_all(ws.path().join("a/examples")).unwrap();
    std::fs::write(ws.path().join("a/examples/ex.rs"), "fn main() {}\n").unwrap();
    let runs = invocations(
        ws.path(),
        &[
            "-q",
            "--offline",
            "--keep-going",
            "--timings",
            "--ignore-rust-version",
            "--future-incompat-report",
            "-Z",
            "unstable-options",
            "--config",
            "build.rustflags=[\"--cfg\", \"x\"]",
            "--config",
            "extra.toml",
            "--target-dir",
            "out/t",
            "--color",
            "never",
            "--message-format",
            "short",
            "--env-var",
            "A=1,B=2",
            "--env-vars",
            "A=3",
            "--examples",
            "--example",
            "ex",
        ],
        &[],
    );
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    for flag in [
        "--quiet",
        "--offline",
        "--keep-going",
        "--timings",
        "--ignore-rust-version",
        "--future-incompat-report",
    ] {
        assert!(run.args.iter().any(|a| a == flag), "{flag} missing: {:?}", run.args);
    }
    assert_eq!(run.values("-Z"), ["unstable-options"]);
    // A --config value keeps its commas; the user's come before the release tuning's.
    assert_eq!(run.config(), ["build.rustflags=[\"--cfg\", \"x\"]", "extra.toml"]);
    assert_eq!(
        run.values("--target-dir"),
        [ws.path().join("out/t").display().to_string()]
    );
    assert_eq!(run.values("--color"), ["never"]);
    assert_eq!(run.values("--message-format"), ["json-diagnostic-short"]);
    // Examples mode builds exactly the examples it packages, by name, and not the binaries.
    assert_eq!(run.values("--example"), ["ex"]);
    assert!(
        !run.args.iter().any(|a| a == "--examples" || a == "--bin"),
        "{:?}",
        run.args
    );
    let var = |k: &str| run.env.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.clone());
    assert_eq!((var("A").as_deref(), var("B").as_deref()), (Some("3"), Some("2")));
}

#[test]
fn the_compiler_tables_subcommand_and_extra_args_reach_the_cargo_backend_only() {
    let ws = workspace(
        "",
        &[
            (
                "a",
                "compiler = { type = \"cargo\", subcommand = [\"zigbuild\"], extra_args = [\"--verbose\", \"--locked\"] }",
            ),
            ("b", ""),
        ],
    );
    let runs = invocations(ws.path(), &[], &[]);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let own = runs.iter().find(|r| r.values("--package") == ["a"]).unwrap();
    assert_eq!(own.args[0], "zigbuild", "{:?}", own.args);
    assert!(!own.args.iter().any(|a| a == "build"), "{:?}", own.args);
    assert_eq!(own.args[own.args.len() - 2..], ["--verbose", "--locked"]);
    let other = runs.iter().find(|r| r.values("--package") == ["b"]).unwrap();
    assert_eq!(other.args[0], "build");
    // The variables cargo-lambda reads win over the table, split at spaces.
    let runs = invocations(
        ws.path(),
        &["-p", "a"],
        &[
            ("CARGO_LAMBDA_COMPILER_SUBCOMMAND", "brazil build"),
            ("CARGO_LAMBDA_COMPILER_EXTRA_ARGS", "--frozen"),
        ],
    );
    assert_eq!(runs[0].args[..2], ["brazil", "build"]);
    assert_eq!(runs[0].args.last().map(String::as_str), Some("--frozen"));
}
