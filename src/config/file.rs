//! cargo-lambda's own configuration sources: the `CargoLambda.toml` file (or `--global FILE`),
//! with its contexts, and the `CARGO_LAMBDA_BUILD.<KEY>` variables. Each becomes one or more
//! [`Table`] layers, placed as cargo-lambda loads them: under every metadata table, the
//! variables lowest of all.
//!
//! cargo-lambda reads the file with figment: without `--context` its `[build]` table counts;
//! with `--context NAME` the file's top-level keys are contexts, and `[default.build]`,
//! `[NAME.build]` and `[global.build]` count, each over the one before. (Through figment,
//! cargo-lambda lets `[global.build]` override even flags; lambda-build never lets a file beat
//! a flag, so all of the file's tables sit under the metadata.)

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use super::resolve::Table;
use super::source::Source;
use crate::cli::EnvVars;
use crate::error::{Error, Result};
use crate::files::{self, Bound};

/// The file's name, looked up from the current directory upwards.
pub const FILE_NAME: &str = "CargoLambda.toml";

/// The prefix of cargo-lambda's configuration variables for the build command.
pub const ENV_PREFIX: &str = "CARGO_LAMBDA_BUILD.";

/// A configuration file, read.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    /// Where it was found.
    pub path: PathBuf,
    /// Its contents.
    pub doc: Json,
}

/// The configuration file of a run: `global` (from `--global`; an error when it does not
/// exist) or the nearest `CargoLambda.toml` from `cwd` upwards. A relative path is looked up
/// the same way, from `cwd` upwards, as cargo-lambda (figment) does. Whatever is found there
/// counts, a folder or a FIFO too, so that [`load`] refuses it rather than the run silently
/// ignoring it.
pub fn find(cwd: &Path, global: Option<(&Path, &Source)>) -> Result<Option<PathBuf>> {
    let wanted = global.map_or(Path::new(FILE_NAME), |(path, _)| path);
    let found = match wanted.is_absolute() {
        true => wanted.exists().then(|| wanted.to_path_buf()),
        false => cwd.ancestors().map(|dir| dir.join(wanted)).find(|p| p.exists()),
    };
    match (found, global) {
        (None, Some((path, source))) => Err(Error::usage(format!(
            "global configuration file {} (from {source}) does not exist (looked in {} and the folders above); accepted: a cargo-lambda configuration file (TOML)",
            path.display(),
            cwd.display()
        ))),
        (found, _) => Ok(found),
    }
}

/// The largest configuration file read (far above any real one).
const LIMIT: u64 = 1 << 20;

/// Reads and parses a configuration file as every file a setting names is read
/// ([`files::read_named`]: a regular file, never blocking, bounded); a file that cannot be
/// read or is not TOML is a usage error naming it and, for TOML, the line and column, never its
/// text (the file may be anything, `/proc/self/environ` through a symlink included).
pub fn load(path: &Path) -> Result<ConfigFile> {
    let accepted = "accepted: a regular TOML file of at most 1 MiB in cargo-lambda's configuration format, such as [build] release = true";
    let bytes = files::read_named(path, Bound::Anywhere, LIMIT)
        .map_err(|why| Error::usage(format!("configuration file {} {why}; {accepted}", path.display())))?;
    let not_toml = |at: Option<usize>| {
        let position = at.map_or_else(String::new, |at| {
            let before = &bytes[..at.min(bytes.len())];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            format!(" at line {line}, column {column}")
        });
        Error::usage(format!(
            "configuration file {} is not valid TOML{position}; {accepted}",
            path.display()
        ))
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| not_toml(Some(e.valid_up_to())))?;
    let value: toml::Table = toml::from_str(text).map_err(|e| not_toml(e.span().map(|s| s.start)))?;
    Ok(ConfigFile {
        path: path.to_path_buf(),
        doc: serde_json::to_value(value).unwrap_or(Json::Null),
    })
}

impl ConfigFile {
    /// The file's build tables that count with `context`, highest first.
    pub fn tables(&self, context: Option<&str>) -> Vec<Table<'_>> {
        let names: Vec<(String, u8)> = match context {
            None => vec![("build".to_owned(), 2)],
            Some(context) => vec![
                ("global.build".to_owned(), 0),
                (format!("{context}.build"), 1),
                ("default.build".to_owned(), 2),
            ],
        };
        let dir = self.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        names
            .into_iter()
            .filter_map(|(name, tier)| {
                let table = name
                    .split('.')
                    .try_fold(&self.doc, |t, part| t.get(part))
                    .filter(|t| t.is_object())?;
                Some(Table {
                    source: Source::ConfigFile {
                        path: self.path.clone(),
                        table: name,
                        tier,
                    },
                    dir: dir.clone(),
                    table,
                })
            })
            .collect()
    }
}

/// The `CARGO_LAMBDA_BUILD.<KEY>` variables, one table each (`CARGO_LAMBDA_BUILD.RELEASE=true`
/// is `{ release = true }`; `CARGO_LAMBDA_BUILD.COMPILER.TYPE=cargo` is `{ compiler = { type =
/// "cargo" } }`). Values are read as TOML values where they are one (`true`, `3`,
/// `["a", "b"]`), as cargo-lambda does; `[a, b]` is a list of two words; anything else is text.
pub fn env_tables(env: &EnvVars) -> Vec<(Source, Json)> {
    env.iter()
        .filter_map(|(name, value)| {
            let prefix = name.get(..ENV_PREFIX.len())?;
            if !prefix.eq_ignore_ascii_case(ENV_PREFIX) {
                return None;
            }
            let path = name[ENV_PREFIX.len()..].to_ascii_lowercase();
            if path.is_empty() {
                return None;
            }
            let table = path.rsplit('.').fold(env_value(value), |inner, key| {
                Json::Object(Map::from_iter([(key.to_owned(), inner)]))
            });
            Some((Source::ConfigEnv(name.to_owned()), table))
        })
        .collect()
}

/// A variable's value as cargo-lambda (figment) reads it.
fn env_value(text: &str) -> Json {
    let text = text.trim();
    if let Ok(table) = toml::from_str::<toml::Table>(&format!("v = {text}"))
        && let Some(value) = table.get("v")
    {
        return serde_json::to_value(value).unwrap_or(Json::Null);
    }
    match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        Some(items) => Json::Array(
            items
                .split(',')
                .map(|item| item.trim().trim_matches(['"', '\'']))
                .filter(|item| !item.is_empty())
                .map(|item| Json::String(item.to_owned()))
                .collect(),
        ),
        None => Json::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(text: &str) -> (tempfile::TempDir, ConfigFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, text).unwrap();
        let file = load(&path).unwrap();
        (dir, file)
    }

    #[test]
    fn the_nearest_file_above_is_found_and_a_missing_global_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find(&deep, None).unwrap(), None);
        std::fs::write(dir.path().join(FILE_NAME), "").unwrap();
        assert_eq!(find(&deep, None).unwrap(), Some(dir.path().join(FILE_NAME)));
        std::fs::write(dir.path().join("a/other.toml"), "").unwrap();
        let flag = Source::Flag("--global".into());
        assert_eq!(
            find(&deep, Some((Path::new("other.toml"), &flag))).unwrap(),
            Some(dir.path().join("a/other.toml"))
        );
        let Err(Error::Usage(message)) = find(&deep, Some((Path::new("nope.toml"), &flag))) else {
            panic!("a missing --global file was accepted");
        };
        assert!(
            message.contains("nope.toml (from flag --global) does not exist"),
            "{message}"
        );
    }

    #[test]
    fn without_a_context_build_counts_and_with_one_global_over_context_over_default() {
        let (_dir, f) = file(
            "[build]\nrelease = true\n[default.build]\na = 1\n[prod.build]\nb = 2\n[global.build]\nc = 3\n[dev.build]\nd = 4\n",
        );
        let plain = f.tables(None);
        assert_eq!(plain.len(), 1);
        assert_eq!(plain[0].table, &json!({"release": true}));
        assert!(
            plain[0].source.to_string().starts_with("[build] of "),
            "{}",
            plain[0].source
        );
        let prod = f.tables(Some("prod"));
        let names: Vec<String> = prod.iter().map(|t| t.source.to_string()).collect();
        assert!(names[0].starts_with("[global.build]"), "{names:?}");
        assert!(names[1].starts_with("[prod.build]"), "{names:?}");
        assert!(names[2].starts_with("[default.build]"), "{names:?}");
        let ranks: Vec<u8> = prod.iter().map(|t| t.source.rank()).collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
        assert!(ranks[0] > Source::WorkspaceMetadata.rank());
    }

    #[test]
    fn a_file_that_is_not_toml_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "[build\n").unwrap();
        let Err(Error::Usage(message)) = load(&path) else {
            panic!("bad TOML was accepted");
        };
        assert!(message.contains("is not valid TOML at line 1"), "{message}");
        assert!(!message.contains('\n'), "{message}");
        std::fs::write(&path, "[build]\nrelease = true\ntoken = SECRET_TOKEN\n").unwrap();
        let Err(Error::Usage(message)) = load(&path) else {
            panic!("bad TOML was accepted");
        };
        assert!(message.contains("at line 3, column 9"), "{message}");
        assert!(!message.contains("SECRET"), "{message}");
        let Err(Error::Usage(message)) = load(Path::new("/dev/zero")) else {
            panic!("a device was read");
        };
        assert!(message.contains("is a device, not a regular file"), "{message}");
    }

    #[test]
    fn build_variables_become_tables_with_toml_values() {
        let env = EnvVars::from_pairs([
            ("CARGO_LAMBDA_BUILD.RELEASE", "true"),
            ("cargo_lambda_build.features", "[lambda, env]"),
            ("CARGO_LAMBDA_BUILD.COMPILER.TYPE", "cargo"),
            ("CARGO_LAMBDA_BUILD.JOBS", "3"),
            ("CARGO_LAMBDA_COMPILER", "cross"),
        ]);
        let mut tables: Vec<Json> = env_tables(&env).into_iter().map(|(_, t)| t).collect();
        tables.sort_by_key(|t| t.to_string());
        assert_eq!(
            tables,
            [
                json!({"compiler": {"type": "cargo"}}),
                json!({"features": ["lambda", "env"]}),
                json!({"jobs": 3}),
                json!({"release": true}),
            ]
        );
    }
}
