//! Warnings about configuration lambda-build does not read: misspelled or unknown keys in
//! `lambda.build`, `lambda.bin.<name>.build`, `CargoLambda.toml` and `CARGO_LAMBDA_BUILD.*`,
//! cargo-lambda settings it does not support, a `lambda.build` that is not a table, run-wide keys
//! where only one binary's settings are read. Each would otherwise be ignored in silence, and a
//! build would quietly differ from what its configuration says (`output-format = "zip"` giving
//! binaries).
//!
//! These are warnings, not errors: cargo-lambda ignores unknown keys too, and a Cargo.toml
//! shared by both tools must keep building.

use cargo_metadata::Metadata;
use serde_json::Value as Json;

use super::file::ConfigFile;
use super::source::Source;
use crate::settings::{self, Reach, Scope, Setting};

/// The tables cargo-lambda's configuration file may hold besides `build` (other commands').
const FILE_SECTIONS: &[&str] = &["build", "deploy", "watch", "env"];

/// The warnings for every metadata table a run reads: the workspace's, the root package's
/// (`root`) and those of the packages it builds (`builds`), in `cargo metadata`'s order.
pub fn metadata_warnings(metadata: &Metadata, root: Option<&str>, builds: impl Fn(&str) -> bool) -> Vec<String> {
    let mut warnings = warnings_for(&metadata.workspace_metadata, &Source::WorkspaceMetadata, true);
    for package in metadata.workspace_packages() {
        let name = package.name.as_str();
        let is_root = root == Some(name);
        if is_root || builds(name) {
            let source = Source::PackageMetadata(name.to_owned());
            warnings.extend(warnings_for(&package.metadata, &source, is_root));
        }
    }
    warnings
}

/// The warnings for one `metadata` value. `reads_run_settings`: whether this table's run-wide
/// keys (`lambda_dir`, `zig_version`) count, which holds for the workspace and the root package.
fn warnings_for(metadata: &Json, source: &Source, reads_run_settings: bool) -> Vec<String> {
    let Some(lambda) = metadata.get("lambda") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match lambda.get("build") {
        Some(Json::Object(table)) => {
            for (key, value) in table {
                out.extend(key_warning(key, value, source, reads_run_settings));
            }
        }
        Some(other) => out.push(format!(
            "lambda.build in {} is {}, not a table; ignored",
            section(source, ""),
            kind(other)
        )),
        None => {}
    }
    if let Some(Json::Object(bins)) = lambda.get("bin") {
        for (bin, table) in bins {
            let bin_source = match source {
                Source::PackageMetadata(package) => Source::BinMetadata {
                    package: package.clone(),
                    bin: bin.clone(),
                },
                _ => Source::WorkspaceBinMetadata(bin.clone()),
            };
            match table.get("build") {
                Some(Json::Object(build)) => out.extend(table_warnings(build, &bin_source, false)),
                Some(other) => out.push(format!("{bin_source} is {}, not a table; ignored", kind(other))),
                None => {}
            }
        }
    }
    out
}

/// The warnings for every key of one `build` table. `reads_run_settings`: whether this table's
/// run-wide keys count (not in a package that is not the root, nor in a per-binary table).
pub fn table_warnings(table: &serde_json::Map<String, Json>, source: &Source, reads_run_settings: bool) -> Vec<String> {
    table
        .iter()
        .flat_map(|(key, value)| key_warning(key, value, source, reads_run_settings))
        .collect()
}

/// The warnings for a cargo-lambda configuration file read with `context`: unknown top-level
/// keys (a context's table without `--context` says so), build tables that are not tables,
/// and every key of the build tables that are read.
pub fn file_warnings(file: &ConfigFile, context: Option<&str>) -> Vec<String> {
    let Json::Object(doc) = &file.doc else {
        return Vec::new();
    };
    let at = |table: &str| format!("[{table}] of {}", file.path.display());
    let mut out = Vec::new();
    let mut sections: Vec<(String, &Json)> = Vec::new();
    match context {
        None => {
            for (key, value) in doc {
                if FILE_SECTIONS.contains(&key.as_str()) {
                    sections.push((key.clone(), value));
                } else if value.get("build").is_some() || value.get("deploy").is_some() {
                    out.push(format!(
                        "{} is a context's table, read only with --context {key}; ignored",
                        at(key)
                    ));
                } else {
                    let near = nearest(key, FILE_SECTIONS.iter().copied());
                    out.push(unknown(key, &format!("{}", file.path.display()), near));
                }
            }
        }
        Some(context) => {
            for name in ["global", context, "default"] {
                let Some(Json::Object(tables)) = doc.get(name) else {
                    continue;
                };
                for (key, value) in tables {
                    match FILE_SECTIONS.contains(&key.as_str()) {
                        true => sections.push((format!("{name}.{key}"), value)),
                        false => {
                            let near = nearest(key, FILE_SECTIONS.iter().copied());
                            out.push(unknown(key, &at(name), near));
                        }
                    }
                }
            }
        }
    }
    for (name, value) in sections.into_iter().filter(|(name, _)| name.ends_with("build")) {
        let source = Source::ConfigFile {
            path: file.path.clone(),
            table: name.clone(),
            tier: 0,
        };
        match value {
            Json::Object(build) => out.extend(table_warnings(build, &source, true)),
            other => out.push(format!("{} is {}, not a table; ignored", at(&name), kind(other))),
        }
    }
    out
}

/// What is wrong with one key of a `build` table, if anything.
fn key_warning(key: &str, value: &Json, source: &Source, reads_run_settings: bool) -> Vec<String> {
    if let Some(setting) = settings::by_table_key(key) {
        return match setting.scope {
            Scope::Run if !reads_run_settings => vec![format!(
                "{key:?} in {source} is read only from the root package, [workspace.metadata.lambda.build] or CargoLambda.toml, as it applies to the whole run; ignored"
            )],
            _ if key == "compiler" => compiler_warnings(value, source),
            _ => Vec::new(),
        };
    }
    let flag_only = settings::SETTINGS
        .iter()
        .find(|s| s.key() == key && s.reach != Reach::Metadata);
    match flag_only {
        Some(setting) => vec![not_in_metadata(setting, source)],
        None if settings::CARGO_LAMBDA_ONLY_KEYS.contains(&key) => vec![unsupported(key, source)],
        None => {
            let keys: Vec<String> = settings::metadata_settings()
                .map(|(k, _)| k)
                .filter(|k| !k.contains('.'))
                .chain(settings::CARGO_LAMBDA_ONLY_KEYS.iter().map(|k| k.to_string()))
                .collect();
            let near = nearest(key, keys.iter().map(String::as_str));
            vec![unknown(key, &source.to_string(), near)]
        }
    }
}

/// Unknown keys of cargo-lambda's `[...build.compiler]` table.
fn compiler_warnings(value: &Json, source: &Source) -> Vec<String> {
    let Json::Object(table) = value else {
        return Vec::new();
    };
    table
        .keys()
        .filter(|key| !settings::COMPILER_KEYS.contains(&key.as_str()))
        .map(|key| {
            let near = nearest(key, settings::COMPILER_KEYS.iter().copied()).map(|k| format!("compiler.{k}"));
            unknown(&format!("compiler.{key}"), &source.to_string(), near)
        })
        .collect()
}

/// A lambda-build setting that metadata cannot set (`features`, `no_verify`): say where it can.
fn not_in_metadata(setting: &Setting, source: &Source) -> String {
    let from = match setting.primary_env() {
        Some(env) => format!("flags and the environment only (--{}, {env})", setting.name),
        None => format!("the command line only (--{})", setting.name),
    };
    format!(
        "{:?} in {source} is read from {from}, not from metadata; ignored",
        setting.key()
    )
}

fn unsupported(key: &str, source: &Source) -> String {
    format!("{key:?} in {source} is a cargo-lambda setting lambda-build does not support; ignored")
}

fn unknown(key: &str, source: &str, nearest: Option<String>) -> String {
    match nearest {
        Some(near) => format!("unknown key {key:?} in {source}; did you mean {near:?}?"),
        None => format!("unknown key {key:?} in {source}; ignored"),
    }
}

/// The known key closest to `key`, if one is close enough to be what was meant: `-` and `_`
/// and case do not count, and up to a third of the letters may differ (at least one).
fn nearest<'k>(key: &str, known: impl Iterator<Item = &'k str>) -> Option<String> {
    let norm = |k: &str| k.to_ascii_lowercase().replace('-', "_");
    let key = norm(key);
    known
        .map(|k| (strsim::levenshtein(&key, &norm(k)), k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.to_owned())
}

/// `[package.metadata<path>] of package NAME` or `[workspace.metadata<path>]`.
fn section(source: &Source, path: &str) -> String {
    match source {
        Source::PackageMetadata(package) => format!("[package.metadata{path}] of package {package}"),
        _ => format!("[workspace.metadata{path}]"),
    }
}

/// "a string", "an array", ... for a value that should have been a table.
fn kind(value: &Json) -> &'static str {
    match value {
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::Null => "null",
        Json::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package(metadata: Json, root: bool) -> Vec<String> {
        warnings_for(&metadata, &Source::PackageMetadata("alpha".into()), root)
    }

    #[test]
    fn known_keys_are_quiet_and_others_name_the_nearest_known_key() {
        let quiet =
            json!({"lambda": {"build": {"release": true, "output_format": "zip", "compiler": {"type": "cargo"}}}});
        assert!(package(quiet, false).is_empty());
        let typos = package(
            json!({"lambda": {"build": {"output-format": "zip", "Relase": 1, "zzz": 0}}}),
            false,
        );
        assert_eq!(
            typos,
            [
                "unknown key \"Relase\" in [package.metadata.lambda.build] of package alpha; did you mean \"release\"?",
                "unknown key \"output-format\" in [package.metadata.lambda.build] of package alpha; did you mean \"output_format\"?",
                "unknown key \"zzz\" in [package.metadata.lambda.build] of package alpha; ignored",
            ]
        );
    }

    #[test]
    fn run_wide_keys_count_only_where_they_are_read() {
        let meta = json!({"lambda": {"build": {"lambda_dir": "out", "zig_version": "0.17.1"}}});
        assert!(package(meta.clone(), true).is_empty());
        assert_eq!(package(meta, false).len(), 2);
    }

    #[test]
    fn flag_and_env_settings_say_where_they_can_be_set() {
        assert_eq!(
            package(
                json!({"lambda": {"build": {"no_verify": true, "print_config": true, "features": ["x"]}}}),
                true
            ),
            [
                "\"no_verify\" in [package.metadata.lambda.build] of package alpha is read from flags and the environment only (--no-verify, LAMBDA_BUILD_NO_VERIFY), not from metadata; ignored",
                "\"print_config\" in [package.metadata.lambda.build] of package alpha is read from the command line only (--print-config), not from metadata; ignored",
            ]
        );
    }

    #[test]
    fn per_binary_tables_are_checked_and_run_wide_keys_there_are_ignored() {
        let meta = json!({"lambda": {"bin": {"hello": {"build": {
            "output_format": "zip", "internal": true, "jobs": 2, "relase": true,
            "compiler": {"type": "cargo", "subcommand": ["zigbuild"], "extra_arg": []}
        }}}}});
        assert_eq!(
            package(meta, true),
            [
                "unknown key \"compiler.extra_arg\" in [package.metadata.lambda.bin.hello.build] of package alpha; did you mean \"compiler.extra_args\"?",
                "\"jobs\" in [package.metadata.lambda.bin.hello.build] of package alpha is read only from the root package, [workspace.metadata.lambda.build] or CargoLambda.toml, as it applies to the whole run; ignored",
                "unknown key \"relase\" in [package.metadata.lambda.bin.hello.build] of package alpha; did you mean \"release\"?",
            ]
        );
    }

    #[test]
    fn cargo_lambda_names_are_read_and_lambda_builds_own_names_for_them_are_not() {
        let meta = json!({"lambda": {"build": {
            "packages": ["a"], "env": {"A": "1"}, "env_var": ["B=2"], "all": true, "unstable_flags": [],
            "package": ["a"], "lib": true
        }}});
        assert_eq!(
            package(meta, true),
            [
                "\"lib\" in [package.metadata.lambda.build] of package alpha is a cargo-lambda setting lambda-build does not support; ignored",
                "unknown key \"package\" in [package.metadata.lambda.build] of package alpha; did you mean \"packages\"?",
            ]
        );
    }

    #[test]
    fn configuration_files_warn_about_unknown_keys_and_unread_contexts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("CargoLambda.toml");
        std::fs::write(
            &path,
            "[build]\nrelease = true\nzzz = 1\n[deploy]\nmemory = 1\n[buld]\nx = 1\n[prod.build]\narm64 = true\n",
        )
        .unwrap();
        let file = crate::config::file::load(&path).unwrap();
        let shown = path.display();
        assert_eq!(
            file_warnings(&file, None),
            [
                format!("unknown key \"buld\" in {shown}; did you mean \"build\"?"),
                format!("[prod] of {shown} is a context's table, read only with --context prod; ignored"),
                format!("unknown key \"zzz\" in [build] of {shown}; ignored"),
            ]
        );
        assert_eq!(
            file_warnings(&file, Some("prod")),
            Vec::<String>::new(),
            "with a context, top-level keys are contexts"
        );
    }

    #[test]
    fn other_metadata_is_not_ours() {
        assert!(
            package(
                json!({"docs": {"rs": true}, "lambda": {"deploy": {"memory": 128}}}),
                false
            )
            .is_empty()
        );
        assert!(package(Json::Null, false).is_empty());
    }

    #[test]
    fn nearest_needs_a_close_match() {
        let known = ["target", "release", "type"];
        assert_eq!(nearest("TARGET", known.into_iter()).as_deref(), Some("target"));
        assert_eq!(nearest("typ", known.into_iter()).as_deref(), Some("type"));
        assert_eq!(nearest("tar", known.into_iter()), None);
        assert_eq!(nearest("frobnicate", known.into_iter()), None);
    }
}
