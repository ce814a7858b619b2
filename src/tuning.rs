//! cargo-lambda's Lambda release tuning, reproduced so that switching tools changes no binary:
//! profile settings the workspace does not set itself, and each target's Lambda CPU.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::config::Target;

/// The release profile keys cargo-lambda sets, with its values, as cargo `--config` TOML.
const PROFILE_DEFAULTS: [(&str, &str); 4] = [
    ("strip", "\"symbols\""),
    ("lto", "\"thin\""),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
];

/// What a tuned release build adds to the cargo invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tuning {
    /// `--config` values, e.g. `profile.release.strip="symbols"`.
    pub config: Vec<String>,
    /// Per-target rustflags (the user's own flags first), given as `target.<triple>.rustflags`
    /// so that each target gets its own CPU in a single cargo invocation.
    pub rustflags: BTreeMap<String, Vec<String>>,
}

impl Tuning {
    /// Every `--config` argument: profile settings, then per-target rustflags.
    pub fn config_args(&self) -> Vec<String> {
        let mut args = self.config.clone();
        for (triple, flags) in &self.rustflags {
            let list: Vec<String> = flags
                .iter()
                .map(|f| toml::Value::String(f.clone()).to_string())
                .collect();
            args.push(format!("target.{triple}.rustflags=[{}]", list.join(", ")));
        }
        args
    }
}

/// The profile keys the workspace's `[profile.release]` leaves unset, as `--config` values.
pub fn profile_config(workspace_manifest: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(workspace_manifest)
        .with_context(|| format!("reading {}", workspace_manifest.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", workspace_manifest.display()))?;
    let release = manifest
        .get("profile")
        .and_then(|p| p.get("release"))
        .and_then(|r| r.as_table());
    Ok(PROFILE_DEFAULTS
        .iter()
        .filter(|(key, _)| !release.is_some_and(|r| r.contains_key(*key)))
        .map(|(key, value)| format!("profile.release.{key}={value}"))
        .collect())
}

/// Each target's rustflags: the user's resolved flags (`user_flags`, from RUSTFLAGS or cargo
/// config) plus `-C target-cpu=<Lambda CPU>`, unless the user already names a target CPU.
pub fn rustflags(targets: &[Target], user_flags: impl Fn(&Target) -> Vec<String>) -> BTreeMap<String, Vec<String>> {
    targets
        .iter()
        .map(|target| {
            let mut flags = user_flags(target);
            if !flags.iter().any(|f| f.contains("target-cpu")) {
                flags.push("-C".into());
                flags.push(format!("target-cpu={}", target.arch.lambda_cpu()));
            }
            (target.triple(), flags)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_keys_the_workspace_sets_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(
            &manifest,
            "[workspace]\n[profile.release]\nlto = \"fat\"\npanic = \"unwind\"\n",
        )
        .unwrap();
        assert_eq!(
            profile_config(&manifest).unwrap(),
            ["profile.release.strip=\"symbols\"", "profile.release.codegen-units=1"]
        );
        std::fs::write(&manifest, "[workspace]\n").unwrap();
        assert_eq!(profile_config(&manifest).unwrap().len(), 4);
    }

    #[test]
    fn each_target_gets_its_lambda_cpu_unless_the_user_chose_one() {
        let targets = [Target::x86_64(), Target::arm64()];
        let flags = rustflags(&targets, |t| match t.arch {
            crate::config::Arch::X86_64 => vec!["--cfg".into(), "foo".into()],
            crate::config::Arch::Arm64 => vec!["-Ctarget-cpu=neoverse-v1".into()],
        });
        assert_eq!(
            flags["x86_64-unknown-linux-gnu"],
            ["--cfg", "foo", "-C", "target-cpu=haswell"]
        );
        assert_eq!(flags["aarch64-unknown-linux-gnu"], ["-Ctarget-cpu=neoverse-v1"]);
        let tuning = Tuning {
            config: vec![],
            rustflags: flags,
        };
        assert_eq!(
            tuning.config_args()[1],
            "target.x86_64-unknown-linux-gnu.rustflags=[\"--cfg\", \"foo\", \"-C\", \"target-cpu=haswell\"]"
        );
    }
}
