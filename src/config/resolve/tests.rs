//! Resolution: precedence, layers, bad values and their one-line errors.

use super::*;
use crate::config::values::{Arch, Libc};
use serde_json::json;

fn text(source: Source, value: &str) -> RawValue {
    RawValue {
        raw: Raw::Text(value.into()),
        source,
    }
}

fn env(name: &str, value: &str) -> RawValue {
    text(Source::Env(name.into()), value)
}

fn flag(name: &str, value: &str) -> RawValue {
    text(Source::Flag(format!("--{name}")), value)
}

fn resolve(
    inputs: Vec<(&'static str, RawValue)>,
    package: Option<Json>,
    workspace: Option<Json>,
) -> Result<PackageSettings> {
    let inputs = Inputs::from_values(inputs);
    let dir = std::env::temp_dir();
    let shared: Vec<Table<'_>> = workspace
        .iter()
        .map(|table| Table {
            source: Source::WorkspaceMetadata,
            dir: dir.clone(),
            table,
        })
        .collect();
    let resolver = Resolver::new(&inputs, dir.clone(), shared, || None)?;
    let scope: Vec<Table<'_>> = package
        .iter()
        .map(|table| Table {
            source: Source::PackageMetadata("hello".into()),
            dir: dir.clone(),
            table,
        })
        .collect();
    resolver.package_settings(&scope)
}

/// (inputs, package metadata, workspace metadata, expected compiler, expected source)
type PrecedenceCase = (
    Vec<(&'static str, RawValue)>,
    Option<Json>,
    Option<Json>,
    CompilerKind,
    &'static str,
);
/// (inputs, package metadata, what the error must say)
type BadCase = (Vec<(&'static str, RawValue)>, Option<Json>, &'static [&'static str]);

fn err(result: Result<PackageSettings>) -> String {
    match result {
        Err(Error::Usage(message)) => message,
        other => panic!("expected a usage error, got {other:?}"),
    }
}

#[test]
fn precedence_table() {
    // (inputs, package metadata, workspace metadata, expected compiler, expected source)
    let pkg = Some(json!({"compiler": {"type": "cross"}}));
    let ws = Some(json!({"compiler": "cargo"}));
    let cases: Vec<PrecedenceCase> = vec![
        (vec![], None, None, CompilerKind::CargoZigbuild, "default"),
        (
            vec![],
            None,
            ws.clone(),
            CompilerKind::Cargo,
            "[workspace.metadata.lambda.build]",
        ),
        (
            vec![],
            pkg.clone(),
            ws.clone(),
            CompilerKind::Cross,
            "[package.metadata.lambda.build] of package hello",
        ),
        (
            vec![("compiler", env("CARGO_LAMBDA_COMPILER", "cargo"))],
            pkg.clone(),
            ws.clone(),
            CompilerKind::Cargo,
            "env CARGO_LAMBDA_COMPILER",
        ),
        (
            vec![("compiler", env("INPUT_COMPILER", "zigbuild"))],
            pkg.clone(),
            ws.clone(),
            CompilerKind::CargoZigbuild,
            "env INPUT_COMPILER",
        ),
        (
            vec![("compiler", flag("compiler", "CARGO"))],
            pkg,
            ws,
            CompilerKind::Cargo,
            "flag --compiler",
        ),
    ];
    for (inputs, pkg, ws, expected, source) in cases {
        let settings = resolve(inputs, pkg, ws).unwrap();
        assert_eq!(settings.compiler.value, expected);
        assert_eq!(settings.compiler.source.to_string(), source);
    }
}

#[test]
fn bad_values_name_the_input_its_source_and_what_is_accepted() {
    let cases: Vec<BadCase> = vec![
        (
            vec![("target", env("LAMBDA_BUILD_TARGET", "x86_64,mips"))],
            None,
            &[
                "invalid target \"mips\"",
                "env LAMBDA_BUILD_TARGET",
                "aarch64-unknown-linux-gnu",
            ],
        ),
        (
            vec![("output-format", flag("output-format", "tar"))],
            None,
            &["invalid output format \"tar\"", "flag --output-format", "binary, zip"],
        ),
        (
            vec![("release", env("INPUT_RELEASE", "maybe"))],
            None,
            &["invalid release \"maybe\"", "env INPUT_RELEASE", "true, false"],
        ),
        (
            vec![("compiler", env("CARGO_LAMBDA_COMPILER", "gcc"))],
            None,
            &[
                "invalid compiler \"gcc\"",
                "env CARGO_LAMBDA_COMPILER",
                "cargo-zigbuild",
            ],
        ),
        (
            vec![],
            Some(json!({"arm64": "sometimes"})),
            &[
                "invalid arm64 \"sometimes\"",
                "arm64 in [package.metadata.lambda.build] of package hello",
            ],
        ),
        (
            vec![],
            Some(json!({"output_format": 3})),
            &[
                "output_format in [package.metadata.lambda.build]",
                "a string or an array",
            ],
        ),
        (
            vec![],
            Some(json!({"include": ["no/such/file"]})),
            &["include path \"no/such/file\"", "does not exist"],
        ),
        (
            vec![(
                "target",
                flag("target", "x86_64-unknown-linux-gnu.2.17,x86_64-unknown-linux-gnu.2.26"),
            )],
            None,
            &["conflicting targets"],
        ),
        (
            vec![
                ("release", flag("release", "true")),
                ("profile", flag("profile", "dev")),
            ],
            None,
            &["conflicting profile"],
        ),
    ];
    for (inputs, pkg, needles) in cases {
        let message = err(resolve(inputs, pkg, None));
        assert!(!message.contains('\n'), "{message}");
        for needle in needles {
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }
}

#[test]
fn blank_metadata_strings_are_unset_and_lists_without_items_are_refused() {
    let blank = resolve(
        vec![],
        Some(json!({"compiler": " "})),
        Some(json!({"compiler": "cross"})),
    )
    .unwrap();
    assert_eq!(blank.compiler.source, Source::WorkspaceMetadata);
    let empty_array = resolve(vec![], Some(json!({"include": []})), None).unwrap();
    assert_eq!(empty_array.include.value, []);
    for (inputs, pkg) in [
        (vec![("target", env("LAMBDA_BUILD_TARGET", ","))], None),
        (vec![], Some(json!({"target": ["", " "]}))),
        (vec![], Some(json!({"output_format": ","}))),
    ] {
        let message = err(resolve(inputs, pkg, None));
        assert!(message.contains("this value has no items"), "{message}");
    }
    let number = err(resolve(vec![], Some(json!({"runtime": 2023})), None));
    assert!(number.contains("accepted: a string"), "{number}");
}

#[test]
fn lambda_dirs_under_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    check_lambda_dir(&dir.path().join("new/deeper"), &Source::Default).unwrap();
    check_lambda_dir(dir.path(), &Source::Default).unwrap();
    for bad in [file.clone(), file.join("out/more")] {
        let Err(Error::Usage(message)) = check_lambda_dir(&bad, &Source::Flag("--lambda-dir".into())) else {
            panic!("{} was accepted", bad.display());
        };
        assert!(message.contains("(from flag --lambda-dir)"), "{message}");
        assert!(message.contains(&file.display().to_string()), "{message}");
        assert!(message.contains("is a file"), "{message}");
    }
}

#[test]
fn targets_come_from_the_highest_layer_that_mentions_any_arch_key() {
    let both = resolve(
        vec![("arm64", flag("arm64", "true")), ("x86-64", flag("x86-64", "true"))],
        None,
        None,
    )
    .unwrap();
    assert_eq!(both.target.value, vec![Target::x86_64(), Target::arm64()]);
    // A flag beats package metadata entirely, even though they name different keys.
    let flag_wins = resolve(
        vec![("target", flag("target", "x86_64"))],
        Some(json!({"arm64": true})),
        None,
    )
    .unwrap();
    assert_eq!(flag_wins.target.value, vec![Target::x86_64()]);
    let meta = resolve(
        vec![],
        Some(json!({"target": ["arm64", "x86_64-unknown-linux-musl"]})),
        None,
    )
    .unwrap();
    assert_eq!(
        meta.target.value,
        vec![
            Target {
                arch: Arch::X86_64,
                libc: Libc::Musl
            },
            Target::arm64()
        ]
    );
    let off = resolve(
        vec![("arm64", env("LAMBDA_BUILD_ARM64", "off"))],
        None,
        Some(json!({"arm64": true})),
    )
    .unwrap();
    assert_eq!(off.target.value, vec![Target::x86_64()]);
    assert_eq!(off.target.source, Source::Env("LAMBDA_BUILD_ARM64".into()));
}

#[test]
fn profile_and_release_tuning() {
    let dev = resolve(vec![], None, None).unwrap().profile;
    assert_eq!((dev.value.name.as_str(), dev.value.tuned), ("dev", false));
    let rel = resolve(vec![("release", env("LAMBDA_BUILD_RELEASE", "yes"))], None, None)
        .unwrap()
        .profile;
    assert_eq!((rel.value.name.as_str(), rel.value.tuned), ("release", true));
    let untuned = resolve(
        vec![],
        Some(json!({"release": true, "disable_optimizations": true})),
        None,
    )
    .unwrap()
    .profile;
    assert_eq!((untuned.value.name.as_str(), untuned.value.tuned), ("release", false));
    let flag_over_meta = resolve(
        vec![("profile", flag("profile", "dev"))],
        Some(json!({"release": true})),
        None,
    )
    .unwrap()
    .profile;
    assert_eq!(flag_over_meta.value.name, "dev");
    let custom = resolve(vec![("profile", flag("profile", "lambda"))], None, None)
        .unwrap()
        .profile;
    assert_eq!((custom.value.name.as_str(), custom.value.tuned), ("lambda", false));
}

#[test]
fn output_formats_and_includes() {
    let both = resolve(
        vec![("output-format", env("INPUT_OUTPUT-FORMAT", "ZIP, binary"))],
        None,
        None,
    )
    .unwrap();
    assert_eq!(both.output_format.value, vec![OutputFormat::Binary, OutputFormat::Zip]);
    // One per line, as a multi-line Action input gives them.
    let lines = resolve(
        vec![("output-format", env("INPUT_OUTPUT-FORMAT", "zip\nbinary\n"))],
        None,
        None,
    )
    .unwrap();
    assert_eq!(lines.output_format.value, both.output_format.value);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conf/sub")).unwrap();
    let inc = include_of("./conf/sub", dir.path(), &Source::Default).unwrap();
    assert_eq!(inc.name, "conf/sub");
    let up = include_of("../", &dir.path().join("conf/sub"), &Source::Default).unwrap();
    assert_eq!(up.name, "conf");
}

/// A resolver over explicit tables (highest first) with `admerge`.
fn layered<'t>(inputs: &'t Inputs, tables: Vec<Table<'t>>) -> Resolver<'t> {
    Resolver::new(inputs, std::env::temp_dir(), tables, || {
        Some("aarch64-unknown-linux-gnu".into())
    })
    .unwrap()
}

fn table(source: Source, json: &Json) -> Table<'_> {
    Table {
        source,
        dir: std::env::temp_dir(),
        table: json,
    }
}

#[test]
fn every_layer_resolves_the_same_way_in_cargo_lambdas_order() {
    let file = |tier| Source::ConfigFile {
        path: "CargoLambda.toml".into(),
        table: "build".into(),
        tier,
    };
    let layers = [
        Source::BinMetadata {
            package: "p".into(),
            bin: "b".into(),
        },
        Source::PackageMetadata("p".into()),
        Source::WorkspaceBinMetadata("b".into()),
        Source::WorkspaceMetadata,
        file(0),
        file(1),
        file(2),
        Source::ConfigEnv("CARGO_LAMBDA_BUILD.RUNTIME".into()),
    ];
    let json = json!({"runtime": "al2"});
    let inputs = Inputs::default();
    // Given in reverse, each layer still wins over every one below it.
    for top in 0..layers.len() {
        let tables: Vec<Table<'_>> = layers[top..].iter().rev().map(|s| table(s.clone(), &json)).collect();
        let (scope, shared) = tables.split_at(tables.len() / 2);
        let resolver = layered(&inputs, shared.to_vec());
        let settings = resolver.package_settings(scope).unwrap();
        assert_eq!(settings.runtime.source, layers[top], "{top}");
    }
}

#[test]
fn admerge_joins_lists_lowest_layer_first_and_keeps_the_highest_for_single_values() {
    let low = json!({"features": ["a"], "jobs": "2", "target": "x86_64"});
    let high = json!({"features": "b,c", "jobs": "4", "target": "arm64"});
    let inputs = Inputs::from_values([
        ("admerge", env("CARGO_LAMBDA_ADMERGE", "true")),
        ("features", flag("features", "d")),
    ]);
    let tables = vec![
        table(Source::PackageMetadata("p".into()), &high),
        table(Source::WorkspaceMetadata, &low),
    ];
    let resolver = layered(&inputs, tables);
    let run = resolver
        .run_settings(Sourced::default_value("Cargo.toml".into()), &[])
        .unwrap();
    assert_eq!(run.features.value, ["a", "b", "c", "d"]);
    assert_eq!(
        run.features.source.to_string(),
        "admerge of flag --features + [package.metadata.lambda.build] of package p + [workspace.metadata.lambda.build]"
    );
    assert_eq!(run.jobs.value, Some(4));
    let targets = resolver.package_settings(&[]).unwrap().target;
    assert_eq!(targets.value, [Target::arm64()]);
    // Without admerge the highest layer's list wins whole.
    let plain = Inputs::from_values([("features", flag("features", "d"))]);
    let tables = vec![table(Source::WorkspaceMetadata, &low)];
    let run = layered(&plain, tables)
        .run_settings(Sourced::default_value("Cargo.toml".into()), &[])
        .unwrap();
    assert_eq!(run.features.value, ["d"]);
}

#[test]
fn no_target_anywhere_is_the_hosts_and_says_so() {
    let inputs = Inputs::default();
    let target = layered(&inputs, vec![]).package_settings(&[]).unwrap().target;
    assert_eq!(target.value, [Target::arm64()]);
    assert_eq!(
        target.source.to_string(),
        "default (host architecture: aarch64-unknown-linux-gnu)"
    );
}

#[test]
fn env_vars_take_cargo_lambdas_forms_and_refuse_items_without_a_value() {
    let meta = json!({"env": {"B": "2", "A": "1"}});
    let inputs = Inputs::default();
    let tables = vec![table(Source::WorkspaceMetadata, &meta)];
    let run = layered(&inputs, tables)
        .run_settings(Sourced::default_value("Cargo.toml".into()), &[])
        .unwrap();
    assert_eq!(
        run.env_var.value,
        [("A".to_owned(), "1".to_owned()), ("B".to_owned(), "2".to_owned())]
    );
    for bad in ["NOVALUE", "=x", "K="] {
        let inputs = Inputs::from_values([("env-var", flag("env-var", bad))]);
        let Err(Error::Usage(message)) =
            layered(&inputs, vec![]).run_settings(Sourced::default_value("Cargo.toml".into()), &[])
        else {
            panic!("{bad} was accepted");
        };
        assert!(
            message.contains("invalid env-var") && message.contains("KEY=VALUE"),
            "{message}"
        );
        assert!(!message.contains("=x"), "the item's value is never echoed: {message}");
    }
}

#[test]
fn includes_take_cargo_lambdas_dest_src_form() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conf/sub")).unwrap();
    std::fs::write(dir.path().join("conf/app.toml"), "").unwrap();
    let at = include_of("etc/app:conf", dir.path(), &Source::Default).unwrap();
    assert_eq!(
        (at.name.as_str(), at.path.clone()),
        ("etc/app", dir.path().join("conf"))
    );
    let file = include_of("settings.toml:conf/app.toml", dir.path(), &Source::Default).unwrap();
    assert_eq!(file.name, "settings.toml");
    for bad in ["../up:conf", "/abs:conf", ":conf", ".:conf"] {
        let err = include_of(bad, dir.path(), &Source::Flag("--include".into())).unwrap_err();
        assert!(err.to_string().contains("DEST:PATH"), "{bad}: {err}");
    }
    let missing = include_of("x:nope", dir.path(), &Source::Default).unwrap_err();
    assert!(
        missing.to_string().contains("\"nope\" from default does not exist"),
        "{missing}"
    );
}
