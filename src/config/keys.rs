//! Warnings about Cargo.toml metadata lambda-build does not read: misspelled or unknown keys in
//! `lambda.build`, cargo-lambda settings it does not support yet, a `lambda.build` that is not a
//! table, per-binary tables. Each would otherwise be ignored in silence, and a build would quietly
//! differ from what its Cargo.toml says (`output-format = "zip"` giving binaries).
//!
//! These are warnings, not errors: cargo-lambda ignores unknown keys too, and a Cargo.toml
//! shared by both tools must keep building.

use cargo_metadata::Metadata;
use serde_json::Value as Json;

use super::source::Source;
use crate::settings::{self, Reach, Scope, Setting};

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
            if table.get("build").is_some() {
                out.push(format!(
                    "{}: per-binary metadata is not read yet; ignored",
                    section(source, &format!(".lambda.bin.{bin}.build"))
                ));
            }
        }
    }
    out
}

/// What is wrong with one key of a `lambda.build` table, if anything.
fn key_warning(key: &str, value: &Json, source: &Source, reads_run_settings: bool) -> Vec<String> {
    match settings::SETTINGS.iter().find(|s| s.key() == key) {
        Some(setting) if setting.reach != Reach::Metadata => vec![not_in_metadata(setting, source)],
        Some(setting) if setting.scope == Scope::Run && !reads_run_settings => vec![format!(
            "{key:?} in {source} is read only from the root package or [workspace.metadata.lambda.build], as it applies to the whole run; ignored"
        )],
        Some(_) if key == "compiler" => compiler_warnings(value, source),
        Some(_) => Vec::new(),
        None if settings::CARGO_LAMBDA_ONLY_KEYS.contains(&key) => vec![unsupported(key, source)],
        None => {
            let keys: Vec<String> = settings::metadata_settings()
                .map(|(k, _)| k)
                .chain(settings::CARGO_LAMBDA_ONLY_KEYS.iter().map(|k| k.to_string()))
                .collect();
            vec![unknown(key, source, nearest(key, keys.iter().map(String::as_str)))]
        }
    }
}

/// Keys of cargo-lambda's `[...lambda.build.compiler]` table besides `type`.
fn compiler_warnings(value: &Json, source: &Source) -> Vec<String> {
    let Json::Object(table) = value else {
        return Vec::new();
    };
    let known = settings::COMPILER_KEYS
        .iter()
        .chain(settings::CARGO_LAMBDA_ONLY_COMPILER_KEYS);
    table
        .keys()
        .filter(|key| !settings::COMPILER_KEYS.contains(&key.as_str()))
        .map(|key| {
            let path = format!("compiler.{key}");
            if settings::CARGO_LAMBDA_ONLY_COMPILER_KEYS.contains(&key.as_str()) {
                unsupported(&path, source)
            } else {
                let near = nearest(key, known.clone().copied()).map(|k| format!("compiler.{k}"));
                unknown(&path, source, near)
            }
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
    format!("{key:?} in {source} is a cargo-lambda setting lambda-build does not support yet; ignored")
}

fn unknown(key: &str, source: &Source, nearest: Option<String>) -> String {
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
                json!({"lambda": {"build": {"features": ["x"], "print_config": true}}}),
                true
            ),
            [
                "\"features\" in [package.metadata.lambda.build] of package alpha is read from flags and the environment only (--features, LAMBDA_BUILD_FEATURES), not from metadata; ignored",
                "\"print_config\" in [package.metadata.lambda.build] of package alpha is read from the command line only (--print-config), not from metadata; ignored",
            ]
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
