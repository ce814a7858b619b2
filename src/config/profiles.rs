//! Which cargo profiles exist, so an undefined `--profile` is refused with exit 2 at resolve
//! time, not by cargo with exit 1 after Zig and the Rust targets were provisioned.
//!
//! A profile is defined where cargo looks for one: built in, `[profile.NAME]` in the workspace
//! manifest, `[profile.NAME]` in a cargo config file (found the way cargo finds them, from the
//! current directory up, then `CARGO_HOME`), or a `CARGO_PROFILE_<NAME>_*` variable. Not seen:
//! `--config` arguments, which lambda-build never passes for custom profiles.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::source::Sourced;
use super::values::Profile;
use crate::cli::EnvVars;
use crate::error::{Error, Result};

/// The profiles cargo defines itself and accepts for `--profile` (`doc` is reserved).
pub const BUILT_IN: &[&str] = &["dev", "release", "test", "bench"];

/// Checks that every profile a run resolved is one cargo would accept. Reads files only when a
/// profile is not built in.
pub fn check<'p>(
    profiles: impl IntoIterator<Item = &'p Sourced<Profile>>,
    workspace_manifest: &Path,
    cwd: &Path,
    env: &EnvVars,
) -> Result<()> {
    let mut defined: Option<Defined> = None;
    for profile in profiles {
        let name = profile.value.name.as_str();
        if BUILT_IN.contains(&name) {
            continue;
        }
        let defined = match &mut defined {
            Some(defined) => defined,
            None => defined.insert(Defined::load(workspace_manifest, cwd, env)?),
        };
        if !defined.has(name) {
            return Err(Error::usage(format!(
                "profile {name:?} (from {}) is not defined; accepted: {}",
                super::resolve::input_name("profile", &profile.source),
                defined.accepted()
            )));
        }
    }
    Ok(())
}

/// Profiles defined outside cargo: name → the file that defines it.
struct Defined {
    files: BTreeMap<String, PathBuf>,
    env_vars: Vec<String>,
}

impl Defined {
    fn load(workspace_manifest: &Path, cwd: &Path, env: &EnvVars) -> Result<Defined> {
        let mut files = BTreeMap::new();
        // CARGO_HOME from the run's environment, as cargo (and tuning's config read) sees it.
        let cargo_home = env
            .get("CARGO_HOME")
            .map(|home| cwd.join(home))
            .or_else(|| cargo_config2::home_dir().map(|home| home.join(".cargo")));
        let configs = cargo_config2::Walk::with_cargo_home(cwd, cargo_home);
        for file in std::iter::once(workspace_manifest.to_path_buf()).chain(configs) {
            for name in profile_names(&file)? {
                files.entry(name).or_insert_with(|| file.clone());
            }
        }
        let env_vars = env
            .iter()
            .filter(|(var, _)| var.starts_with("CARGO_PROFILE_"))
            .map(|(var, _)| var.to_owned())
            .collect();
        Ok(Defined { files, env_vars })
    }

    /// Whether `name` is defined in a file or by a variable (`my-prof` → `CARGO_PROFILE_MY_PROF_*`).
    fn has(&self, name: &str) -> bool {
        let prefix = format!("CARGO_PROFILE_{}_", name.to_ascii_uppercase().replace('-', "_"));
        self.files.contains_key(name) || self.env_vars.iter().any(|var| var.starts_with(&prefix))
    }

    /// The defined profiles, for the error message.
    fn accepted(&self) -> String {
        let mut names: Vec<String> = BUILT_IN.iter().map(|n| n.to_string()).collect();
        names.extend(
            self.files
                .iter()
                .map(|(name, file)| format!("{name} (from {})", file.display())),
        );
        format!(
            "{}, or a profile set by CARGO_PROFILE_<NAME>_* variables",
            names.join(", ")
        )
    }
}

/// The `[profile.*]` names of one TOML file.
fn profile_names(file: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading {} for its [profile.*] tables", file.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {} for its [profile.*] tables", file.display()))?;
    Ok(match table.get("profile") {
        Some(toml::Value::Table(profiles)) => profiles.keys().cloned().collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    fn profile(name: &str) -> Sourced<Profile> {
        Sourced::new(
            Profile {
                name: name.into(),
                tuned: false,
            },
            Source::Flag("--profile".into()),
        )
    }

    #[test]
    fn built_in_manifest_config_and_env_profiles_are_defined() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(&manifest, "[profile.lambda]\ninherits = \"release\"\n").unwrap();
        std::fs::create_dir(dir.path().join(".cargo")).unwrap();
        std::fs::write(
            dir.path().join(".cargo/config.toml"),
            "[profile.ci]\ninherits = \"dev\"\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::write(
            dir.path().join("home/config.toml"),
            "[profile.from-home]\ninherits = \"dev\"\n",
        )
        .unwrap();
        let env = EnvVars::from_pairs([("CARGO_PROFILE_MY_PROF_INHERITS", "release"), ("CARGO_HOME", "home")]);
        for name in ["dev", "bench", "lambda", "ci", "my-prof", "from-home"] {
            check([&profile(name)], &manifest, dir.path(), &env).unwrap();
        }
        let Err(Error::Usage(message)) = check([&profile("nosuch")], &manifest, dir.path(), &env) else {
            panic!("nosuch is not a profile");
        };
        assert!(message.starts_with("profile \"nosuch\" (from flag --profile) is not defined; accepted: dev, release, test, bench, ci (from "), "{message}");
        assert!(message.contains("lambda (from "), "{message}");
    }
}
