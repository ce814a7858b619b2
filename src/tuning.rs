//! cargo-lambda's Lambda release tuning, reproduced so that switching tools changes no binary:
//! profile settings the workspace does not set itself, and each target's Lambda CPU.
//!
//! The CPU must differ per target inside one cargo invocation, so it goes through
//! `--config target.<triple>.rustflags`, never one global `RUSTFLAGS`. Cargo takes a target's
//! rustflags from exactly one place (`CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS`, the config's
//! `target.*.rustflags`, `build.rustflags`, first found wins) and joins `--config` arrays after
//! the config files' own; [`tune`] builds, for each of those places, the `--config` value that
//! gives cargo the user's flags exactly once plus the CPU. Build scripts and proc-macros get
//! none of it: with `--target`, cargo gives them no rustflags at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::cli::EnvVars;
use crate::config::Target;

/// The release profile keys cargo-lambda sets, with its values, as cargo `--config` TOML.
const PROFILE_DEFAULTS: [(&str, &str); 4] = [
    ("strip", "\"symbols\""),
    ("lto", "\"thin\""),
    ("codegen-units", "1"),
    ("panic", "\"abort\""),
];

/// Cargo's environment form of `[profile.release]` keys.
const PROFILE_VAR_PREFIX: &str = "CARGO_PROFILE_RELEASE_";

/// The variables through which cargo takes rustflags for every target at once.
const ENV_RUSTFLAGS: [&str; 2] = ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"];

/// What the release tuning does to one cargo invocation, and why: plain data that
/// `--print-config` shows and [`crate::compile`] turns into arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tuning {
    /// Whether the tuning applies at all.
    pub applied: bool,
    /// Why it does or does not (the profile or `--disable-optimizations`, and their source).
    pub why: String,
    /// cargo-lambda's four profile settings, each applied or skipped.
    pub profile: Vec<ProfileSetting>,
    /// Per target triple: its CPU and the rustflags given to cargo.
    pub targets: BTreeMap<String, TargetTuning>,
    /// Variables removed from cargo's environment because their flags now go per target.
    pub env_remove: Vec<String>,
    /// Things the user should know (printed as warnings when compiling).
    pub warnings: Vec<String>,
}

/// One profile setting of the tuning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileSetting {
    /// The `[profile.release]` key.
    pub key: &'static str,
    /// Its tuned value, as TOML.
    pub value: &'static str,
    /// Whether it is given to cargo.
    pub applied: bool,
    /// Why: the default, or what already sets the key.
    pub why: String,
}

/// One target of a tuned invocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetTuning {
    /// The Lambda CPU added, or `None` when the user's flags already name one.
    pub cpu: Option<String>,
    /// Why that CPU (or none).
    pub why: String,
    /// The user's own rustflags for this target, kept as they are.
    pub user_flags: Vec<String>,
    /// Where cargo would have taken them from.
    pub user_flags_from: FlagsSource,
    /// The `--config target.<triple>.rustflags` value; empty when nothing needs passing.
    pub config_rustflags: Vec<String>,
}

impl Tuning {
    /// No tuning, for the reason given.
    pub fn off(why: impl Into<String>) -> Self {
        Tuning {
            why: why.into(),
            ..Tuning::default()
        }
    }

    /// Every `--config` argument: applied profile settings, then per-target rustflags.
    pub fn config_args(&self) -> Vec<String> {
        let mut args: Vec<String> = self
            .profile
            .iter()
            .filter(|s| s.applied)
            .map(|s| format!("profile.release.{}={}", s.key, s.value))
            .collect();
        for (triple, target) in &self.targets {
            if target.config_rustflags.is_empty() {
                continue;
            }
            let list: Vec<String> = target
                .config_rustflags
                .iter()
                .map(|f| toml::Value::String(f.clone()).to_string())
                .collect();
            args.push(format!("target.{triple}.rustflags=[{}]", list.join(", ")));
        }
        args
    }
}

/// Where cargo takes a target's rustflags from: the first of these that is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlagsSource {
    /// `CARGO_ENCODED_RUSTFLAGS`.
    EncodedEnv,
    /// `RUSTFLAGS`.
    Env,
    /// The cargo config's `target.<triple>.rustflags` and matching `target.'cfg(..)'.rustflags`
    /// (files or `CARGO_TARGET_<TRIPLE>_RUSTFLAGS`).
    TargetConfig,
    /// The cargo config's `build.rustflags` (files or `CARGO_BUILD_RUSTFLAGS`).
    BuildConfig,
    /// No rustflags anywhere.
    None,
}

impl FlagsSource {
    fn describe(self, triple: &str) -> String {
        match self {
            FlagsSource::EncodedEnv => "env CARGO_ENCODED_RUSTFLAGS".into(),
            FlagsSource::Env => "env RUSTFLAGS".into(),
            FlagsSource::TargetConfig => format!("cargo config target.{triple}.rustflags"),
            FlagsSource::BuildConfig => "cargo config build.rustflags".into(),
            FlagsSource::None => "no rustflags".into(),
        }
    }
}

/// A target's own rustflags and where they come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFlags {
    /// Where cargo would take them from.
    pub source: FlagsSource,
    /// The flags.
    pub flags: Vec<String>,
    /// With an env source: the config's target flags, which cargo ignores while the env
    /// variable is set but would join to a `--config` value.
    pub shadowed: Vec<String>,
}

impl UserFlags {
    /// No flags at all.
    pub fn none() -> Self {
        UserFlags {
            source: FlagsSource::None,
            flags: Vec::new(),
            shadowed: Vec::new(),
        }
    }
}

/// What the workspace already says about the release profile: the workspace manifest's
/// `[profile.release]` and cargo's `CARGO_PROFILE_RELEASE_*` variables.
#[derive(Clone, Debug, Default)]
pub struct ReleaseProfile {
    manifest: PathBuf,
    table: toml::Table,
    env: BTreeMap<String, String>,
}

impl ReleaseProfile {
    /// Reads `[profile.release]` from the workspace manifest and the profile variables.
    pub fn load(workspace_manifest: &Path, env: &EnvVars) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(workspace_manifest)
            .with_context(|| format!("reading {}", workspace_manifest.display()))?;
        let manifest: toml::Table =
            toml::from_str(&text).with_context(|| format!("parsing {}", workspace_manifest.display()))?;
        let table = manifest
            .get("profile")
            .and_then(|p| p.get("release"))
            .and_then(|r| r.as_table())
            .cloned()
            .unwrap_or_default();
        let env = env
            .iter()
            .filter(|(var, _)| var.starts_with(PROFILE_VAR_PREFIX))
            .map(|(var, value)| (var.to_owned(), value.to_owned()))
            .collect();
        Ok(ReleaseProfile {
            manifest: workspace_manifest.to_path_buf(),
            table,
            env,
        })
    }

    /// The value `key` is set to, if anything sets it, and what does (the variable wins, as
    /// in cargo).
    fn setting(&self, key: &str) -> Option<(String, toml::Value)> {
        let var = format!("{PROFILE_VAR_PREFIX}{}", key.to_ascii_uppercase().replace('-', "_"));
        if let Some(value) = self.env.get(&var) {
            return Some((format!("env {var}={value}"), toml::Value::String(value.clone())));
        }
        let value = self.table.get(key)?;
        let by = format!("[profile.release] in {} sets {key} = {value}", self.manifest.display());
        Some((by, value.clone()))
    }

    /// What already sets `key`, if anything.
    fn set_by(&self, key: &str) -> Option<String> {
        self.setting(key).map(|(by, _)| by)
    }

    /// Why symbols must stay, if they must: a profile that sets `strip` itself, or asks for
    /// debug info (which stripping would throw away; cargo-lambda keeps it too).
    fn keeps_symbols(&self) -> Option<String> {
        self.set_by("strip").or_else(|| {
            self.setting("debug")
                .filter(|(_, value)| debug_enabled(value))
                .map(|(by, _)| by)
        })
    }
}

/// Whether a `debug` profile value asks for debug info (cargo's `false`, `0`, `"none"` do not).
fn debug_enabled(value: &toml::Value) -> bool {
    match value {
        toml::Value::Boolean(on) => *on,
        toml::Value::Integer(level) => *level != 0,
        toml::Value::String(text) => !matches!(text.as_str(), "none" | "0" | "false"),
        _ => true,
    }
}

/// The tuning of an invocation building `targets` with the release profile, with each
/// target's own flags from `user_flags`.
pub fn tune(
    targets: &[Target],
    why: String,
    profile: &ReleaseProfile,
    user_flags: &dyn Fn(&str) -> anyhow::Result<UserFlags>,
) -> anyhow::Result<Tuning> {
    let mut tuning = Tuning {
        applied: true,
        why,
        ..Tuning::default()
    };
    let keep_symbols = profile.keeps_symbols();
    for (key, value) in PROFILE_DEFAULTS {
        let set_by = if key == "strip" {
            keep_symbols.clone()
        } else {
            profile.set_by(key)
        };
        tuning.profile.push(ProfileSetting {
            key,
            value,
            applied: set_by.is_none(),
            why: match set_by {
                Some(by) => format!("skipped: {by}"),
                None => "default: cargo-lambda's release tuning".into(),
            },
        });
    }
    for target in targets {
        let triple = target.triple();
        let user = user_flags(&triple)?;
        let named = user.flags.iter().find(|f| f.contains("target-cpu"));
        let (cpu, why) = match named {
            Some(flag) => (
                None,
                format!("none added: {} already sets {flag}", user.source.describe(&triple)),
            ),
            None => (
                Some(target.arch.lambda_cpu().to_owned()),
                format!("default: the Lambda CPU for {}", target.arch.lambda_name()),
            ),
        };
        let cpu_flags: Vec<String> = cpu
            .iter()
            .flat_map(|cpu| ["-C".to_owned(), format!("target-cpu={cpu}")])
            .collect();
        let config_rustflags = match user.source {
            // Cargo joins a --config array after the config's own target flags.
            FlagsSource::TargetConfig | FlagsSource::None => cpu_flags,
            // Target flags replace build.rustflags and env flags are removed: repeat the user's.
            FlagsSource::BuildConfig | FlagsSource::Env | FlagsSource::EncodedEnv if !cpu_flags.is_empty() => {
                user.flags.iter().cloned().chain(cpu_flags).collect()
            }
            FlagsSource::BuildConfig | FlagsSource::Env | FlagsSource::EncodedEnv => Vec::new(),
        };
        let from_env = matches!(user.source, FlagsSource::Env | FlagsSource::EncodedEnv);
        if from_env && !config_rustflags.is_empty() {
            // The env flags are the same for every target, so either all targets get here or none.
            tuning.env_remove = ENV_RUSTFLAGS.map(String::from).to_vec();
            if !user.shadowed.is_empty() {
                tuning.warnings.push(format!(
                    "{} and cargo config target.{triple}.rustflags ({}) are both set: cargo would use only the first, but to give each target its Lambda CPU lambda-build passes the first per target and cargo then adds the config's too; unset one of them, or name a target-cpu in {0}",
                    user.source.describe(&triple),
                    user.shadowed.join(" ")
                ));
            }
        }
        tuning.targets.insert(
            triple,
            TargetTuning {
                cpu,
                why,
                user_flags: user.flags,
                user_flags_from: user.source,
                config_rustflags,
            },
        );
    }
    Ok(tuning)
}

/// The user's rustflags per target, found the way cargo finds them.
pub struct RustflagsConfig {
    config: cargo_config2::Config,
    env: Option<(FlagsSource, Vec<String>)>,
}

impl RustflagsConfig {
    /// Loads the cargo config seen from `cwd`, with `env` as the environment.
    pub fn load(cwd: &Path, env: &EnvVars) -> anyhow::Result<Self> {
        // The config without the env flags, so the flags they shadow can be found too.
        let vars = env.iter().filter(|(k, _)| !ENV_RUSTFLAGS.contains(k));
        let options = cargo_config2::ResolveOptions::default().env(vars);
        let config = cargo_config2::Config::load_with_options(cwd, options).context("reading cargo configuration")?;
        let env = if let Some(encoded) = env.get("CARGO_ENCODED_RUSTFLAGS") {
            Some((
                FlagsSource::EncodedEnv,
                encoded.split('\x1f').map(String::from).collect(),
            ))
        } else {
            env.get("RUSTFLAGS")
                .map(|flags| (FlagsSource::Env, flags.split_whitespace().map(String::from).collect()))
        };
        Ok(RustflagsConfig { config, env })
    }

    /// The flags cargo would give `triple`, and where from.
    pub fn for_target(&self, triple: &str) -> anyhow::Result<UserFlags> {
        let resolved = self
            .config
            .rustflags(triple)
            .with_context(|| format!("reading the cargo config's rustflags for {triple}"))?
            .map(|f| f.flags);
        let build = self.config.build.rustflags.as_ref().map(|f| f.flags.clone());
        // cargo_config2 does not say which place the flags came from: equal to
        // build.rustflags means they came from there.
        let (config_source, config_flags) = match resolved {
            None => (FlagsSource::None, Vec::new()),
            Some(flags) if Some(&flags) == build.as_ref() => (FlagsSource::BuildConfig, flags),
            Some(flags) => (FlagsSource::TargetConfig, flags),
        };
        Ok(match &self.env {
            Some((source, flags)) => UserFlags {
                source: *source,
                flags: flags.clone(),
                shadowed: match config_source {
                    FlagsSource::TargetConfig => config_flags,
                    _ => Vec::new(),
                },
            },
            None => UserFlags {
                source: config_source,
                flags: config_flags,
                shadowed: Vec::new(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(toml_text: &str, env: &[(&str, &str)]) -> ReleaseProfile {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(&manifest, toml_text).unwrap();
        ReleaseProfile::load(&manifest, &EnvVars::from_pairs(env.iter().copied())).unwrap()
    }

    fn flags(source: FlagsSource, flags: &[&str]) -> UserFlags {
        UserFlags {
            source,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            shadowed: Vec::new(),
        }
    }

    /// [`tune`] with a flags lookup that cannot fail.
    fn tune_ok(
        targets: &[Target],
        why: String,
        profile: &ReleaseProfile,
        user_flags: &dyn Fn(&str) -> UserFlags,
    ) -> Tuning {
        tune(targets, why, profile, &|t| Ok(user_flags(t))).unwrap()
    }

    fn applied(tuning: &Tuning) -> Vec<&str> {
        tuning.profile.iter().filter(|s| s.applied).map(|s| s.key).collect()
    }

    #[test]
    fn all_four_profile_defaults_apply_to_a_workspace_that_sets_none() {
        let tuning = tune_ok(
            &[Target::x86_64()],
            "release".into(),
            &profile("[workspace]\n", &[]),
            &|_| UserFlags::none(),
        );
        assert_eq!(applied(&tuning), ["strip", "lto", "codegen-units", "panic"]);
        assert_eq!(
            tuning.config_args(),
            [
                "profile.release.strip=\"symbols\"",
                "profile.release.lto=\"thin\"",
                "profile.release.codegen-units=1",
                "profile.release.panic=\"abort\"",
                "target.x86_64-unknown-linux-gnu.rustflags=[\"-C\", \"target-cpu=haswell\"]",
            ]
        );
        assert!(tuning.env_remove.is_empty());
    }

    #[test]
    fn each_key_the_release_profile_sets_is_skipped_with_the_reason() {
        for (line, key) in [
            ("strip = \"none\"", "strip"),
            ("debug = true", "strip"),
            ("debug = \"limited\"", "strip"),
            ("lto = false", "lto"),
            ("codegen-units = 16", "codegen-units"),
            ("panic = \"unwind\"", "panic"),
        ] {
            let p = profile(&format!("[workspace]\n[profile.release]\n{line}\n"), &[]);
            let tuning = tune_ok(&[Target::x86_64()], String::new(), &p, &|_| UserFlags::none());
            let skipped: Vec<_> = tuning.profile.iter().filter(|s| !s.applied).collect();
            assert_eq!(skipped.len(), 1, "{line}");
            assert_eq!(skipped[0].key, key, "{line}");
            assert!(
                skipped[0].why.starts_with("skipped: [profile.release] in ") && skipped[0].why.contains(line),
                "{line}: {}",
                skipped[0].why
            );
        }
        // Debug info turned off keeps the strip default.
        let p = profile("[profile.release]\ndebug = 0\n", &[]);
        assert_eq!(
            applied(&tune_ok(&[], String::new(), &p, &|_| UserFlags::none())).len(),
            4
        );
    }

    #[test]
    fn cargo_profile_variables_count_as_setting_a_key() {
        let p = profile("[workspace]\n", &[("CARGO_PROFILE_RELEASE_LTO", "fat")]);
        let tuning = tune_ok(&[], String::new(), &p, &|_| UserFlags::none());
        assert_eq!(applied(&tuning), ["strip", "codegen-units", "panic"]);
        assert_eq!(tuning.profile[1].why, "skipped: env CARGO_PROFILE_RELEASE_LTO=fat");
        let p = profile("[workspace]\n", &[("CARGO_PROFILE_RELEASE_DEBUG", "true")]);
        assert_eq!(
            applied(&tune_ok(&[], String::new(), &p, &|_| UserFlags::none())),
            ["lto", "codegen-units", "panic"]
        );
    }

    #[test]
    fn two_targets_in_one_invocation_each_get_their_own_cpu() {
        let p = profile("[workspace]\n", &[]);
        let tuning = tune_ok(&[Target::x86_64(), Target::arm64()], String::new(), &p, &|_| {
            UserFlags::none()
        });
        let args = tuning.config_args();
        assert_eq!(
            &args[4..],
            [
                "target.aarch64-unknown-linux-gnu.rustflags=[\"-C\", \"target-cpu=neoverse-n1\"]",
                "target.x86_64-unknown-linux-gnu.rustflags=[\"-C\", \"target-cpu=haswell\"]",
            ]
        );
        assert_eq!(
            tuning.targets["aarch64-unknown-linux-gnu"].why,
            "default: the Lambda CPU for arm64"
        );
    }

    #[test]
    fn user_rustflags_are_kept_once_and_a_named_cpu_wins() {
        let p = profile("[workspace]\n", &[]);
        let both = [Target::x86_64(), Target::arm64()];
        // RUSTFLAGS: cargo would ignore per-target config, so the variable is removed and its
        // flags go to every target, each with its CPU.
        let env = tune_ok(&both, String::new(), &p, &|_| {
            flags(FlagsSource::Env, &["--cfg", "foo"])
        });
        assert_eq!(env.env_remove, ["CARGO_ENCODED_RUSTFLAGS", "RUSTFLAGS"]);
        assert_eq!(
            env.targets["x86_64-unknown-linux-gnu"].config_rustflags,
            ["--cfg", "foo", "-C", "target-cpu=haswell"]
        );
        assert_eq!(
            env.targets["aarch64-unknown-linux-gnu"].config_rustflags,
            ["--cfg", "foo", "-C", "target-cpu=neoverse-n1"]
        );
        // RUSTFLAGS naming a CPU: nothing changes, the variable stays.
        let named = tune_ok(&both, String::new(), &p, &|_| {
            flags(FlagsSource::Env, &["-C", "target-cpu=native"])
        });
        assert!(named.env_remove.is_empty());
        assert!(
            named
                .targets
                .values()
                .all(|t| t.cpu.is_none() && t.config_rustflags.is_empty())
        );
        assert_eq!(
            named.targets["x86_64-unknown-linux-gnu"].why,
            "none added: env RUSTFLAGS already sets target-cpu=native"
        );
        assert_eq!(named.config_args().len(), 4, "profile settings only");
        // Config target flags: cargo joins ours after them, so only the CPU is passed; a CPU
        // named for one target leaves the other target's default.
        let config = tune_ok(&both, String::new(), &p, &|t| match t {
            "x86_64-unknown-linux-gnu" => flags(FlagsSource::TargetConfig, &["-Ctarget-cpu=znver3"]),
            _ => flags(FlagsSource::TargetConfig, &["--cfg", "bar"]),
        });
        assert!(config.targets["x86_64-unknown-linux-gnu"].config_rustflags.is_empty());
        assert_eq!(
            config.targets["aarch64-unknown-linux-gnu"].config_rustflags,
            ["-C", "target-cpu=neoverse-n1"]
        );
        // build.rustflags stop applying once a target has flags: they are repeated.
        let build = tune_ok(&[Target::arm64()], String::new(), &p, &|_| {
            flags(FlagsSource::BuildConfig, &["-Cforce-frame-pointers=yes"])
        });
        assert_eq!(
            build.targets["aarch64-unknown-linux-gnu"].config_rustflags,
            ["-Cforce-frame-pointers=yes", "-C", "target-cpu=neoverse-n1"]
        );
        assert!(build.env_remove.is_empty());
    }

    #[test]
    fn a_cargo_config_that_cannot_be_read_is_an_error_not_missing_flags() {
        let p = profile("[workspace]\n", &[]);
        let err = tune(&[Target::x86_64()], String::new(), &p, &|_| anyhow::bail!("bad cfg")).unwrap_err();
        assert_eq!(err.to_string(), "bad cfg");
    }

    #[test]
    fn env_flags_over_config_target_flags_are_warned_about() {
        let p = profile("[workspace]\n", &[]);
        let tuning = tune_ok(&[Target::x86_64()], String::new(), &p, &|_| UserFlags {
            shadowed: vec!["--cfg".into(), "file".into()],
            ..flags(FlagsSource::Env, &["--cfg", "env"])
        });
        assert_eq!(tuning.warnings.len(), 1);
        assert!(
            tuning.warnings[0]
                .contains("env RUSTFLAGS and cargo config target.x86_64-unknown-linux-gnu.rustflags (--cfg file)")
        );
    }

    #[test]
    fn cargo_config_and_env_are_read_the_way_cargo_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".cargo")).unwrap();
        std::fs::write(
            dir.path().join(".cargo/config.toml"),
            "[build]\nrustflags = [\"--cfg\", \"everywhere\"]\n[target.aarch64-unknown-linux-gnu]\nrustflags = [\"--cfg\", \"arm\"]\n",
        )
        .unwrap();
        let load = |env: &[(&str, &str)]| {
            RustflagsConfig::load(dir.path(), &EnvVars::from_pairs(env.iter().copied())).unwrap()
        };
        let files = load(&[]);
        assert_eq!(
            files.for_target("x86_64-unknown-linux-gnu").unwrap(),
            flags(FlagsSource::BuildConfig, &["--cfg", "everywhere"])
        );
        assert_eq!(
            files.for_target("aarch64-unknown-linux-gnu").unwrap(),
            flags(FlagsSource::TargetConfig, &["--cfg", "arm"])
        );
        let env = load(&[("RUSTFLAGS", "-C  opt-level=2 ")]);
        assert_eq!(
            env.for_target("x86_64-unknown-linux-gnu").unwrap(),
            flags(FlagsSource::Env, &["-C", "opt-level=2"])
        );
        assert_eq!(
            env.for_target("aarch64-unknown-linux-gnu").unwrap().shadowed,
            ["--cfg", "arm"]
        );
        let encoded = load(&[
            ("CARGO_ENCODED_RUSTFLAGS", "-C\x1fdebug-assertions=on"),
            ("RUSTFLAGS", "-g"),
        ]);
        assert_eq!(
            encoded.for_target("x86_64-unknown-linux-gnu").unwrap(),
            flags(FlagsSource::EncodedEnv, &["-C", "debug-assertions=on"])
        );
    }
}
