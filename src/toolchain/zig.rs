//! Zig for cargo-zigbuild: found where users put it, else provisioned into the tool cache.
//!
//! Lookup order: `ZIG` (a path or a command such as `python3 -m ziglang`), `zig` on PATH,
//! `python3 -m ziglang`, the tool cache. Each candidate must answer `zig version` within
//! `LAMBDA_BUILD_PROBE_TIMEOUT` ([`crate::process`]); a broken or silent one is reported and
//! skipped. When none works, the wanted version is downloaded and verified
//! ([`super::download`]), or, when no download works, installed with pip ([`super::pip`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};

use super::cache::Cache;
use super::download::Downloader;
use super::unpack::unpack_tar_xz;
use super::{Attempts, pip, resolve_program};
use crate::cli::EnvVars;
use crate::error::Error;
use crate::process::{self, Limits};

pub use crate::settings::DEFAULT_ZIG_VERSION;

/// The Zig version a run asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZigWanted {
    /// The version to provision.
    pub version: String,
    /// Set by the user (`--zig-version`): then a Zig of another version is not used either.
    pub explicit: bool,
}

impl Default for ZigWanted {
    fn default() -> Self {
        ZigWanted {
            version: DEFAULT_ZIG_VERSION.into(),
            explicit: false,
        }
    }
}

/// A working Zig: the program and the arguments that make it `zig` (`python3 -m ziglang`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Zig {
    /// The program to run.
    pub program: PathBuf,
    /// Arguments before the zig subcommand.
    pub args: Vec<String>,
    /// What `zig version` printed.
    pub version: String,
    /// Where it was found: `env ZIG`, `PATH`, `python3 -m ziglang`, `tool cache ...`.
    pub found: String,
}

impl Zig {
    /// Points the linked-in cargo-zigbuild at this Zig. cargo-zigbuild reads its Zig from the
    /// process environment, and its linker wrappers inherit it.
    pub fn activate(&self) {
        // SAFETY: called from the main thread before any other thread is started (provisioning
        // has finished and joined its threads; the progress display starts later), so no thread
        // can read the environment concurrently.
        unsafe {
            std::env::set_var("CARGO_ZIGBUILD_ZIG_COMMAND", &self.program);
            std::env::set_var("CARGO_ZIGBUILD_ZIG_COMMAND_ARGS", self.args.join(" "));
        }
    }

    /// The command as one string, for messages.
    pub fn command_line(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Finds a working Zig or provisions one into the tool cache. The error lists every place
/// tried and why each failed.
pub fn obtain_zig(env: &EnvVars, wanted: &ZigWanted) -> crate::Result<Zig> {
    let mut attempts = Attempts::default();
    let cache = Cache::locate(env);
    if let Some(zig) = lookup(env, wanted, cache.as_ref(), &mut attempts) {
        return Ok(zig);
    }
    let Some(cache) = cache else {
        attempts.failed("tool cache", "no cache folder: set LAMBDA_BUILD_CACHE");
        return Err(no_zig(wanted, &attempts));
    };
    let downloader = Downloader::from_env(env).map_err(|e| Error::usage(e.to_string()))?;
    let mut via = String::from("installed by another run");
    let mut recorded = false;
    let installed = cache.install_zig(
        &wanted.version,
        |home| runs_as(home, &wanted.version, env),
        |staging| {
            if let Some(tarball) = downloader.fetch(&wanted.version, &mut attempts) {
                match unpack_tar_xz(&tarball.bytes, staging) {
                    Ok(()) => {
                        via = format!("downloaded from {}", tarball.url);
                        return Ok(());
                    }
                    Err(err) => {
                        attempts.failed(format!("unpack {}", tarball.url), format!("{err:#}"));
                        empty(staging)?;
                    }
                }
            }
            match pip::install(&wanted.version, staging, env) {
                Ok(()) => {
                    via = format!("pip install {}", pip::requirement(&wanted.version));
                    Ok(())
                }
                Err(err) => {
                    attempts.failed(
                        format!("pip install {}", pip::requirement(&wanted.version)),
                        format!("{err:#}"),
                    );
                    recorded = true;
                    Err(err)
                }
            }
        },
    );
    let home = match installed {
        Ok(home) => home,
        Err(err) => {
            if !recorded {
                attempts.failed(
                    format!("install into {}", cache.zig_home(&wanted.version).display()),
                    format!("{err:#}"),
                );
            }
            return Err(no_zig(wanted, &attempts));
        }
    };
    let words = vec![home.join("zig").display().to_string()];
    let (program, version) = try_zig(&words, env).context("running the Zig just installed")?;
    Ok(Zig {
        program,
        args: Vec::new(),
        version,
        found: format!("tool cache {} ({via})", home.display()),
    })
}

/// What `--print-config` shows: the Zig a run would use, or what it would provision. Nothing
/// is downloaded.
pub fn describe_zig(env: &EnvVars, wanted: &ZigWanted) -> Value {
    let mut attempts = Attempts::default();
    let cache = Cache::locate(env);
    match lookup(env, wanted, cache.as_ref(), &mut attempts) {
        Some(zig) => json!({"value": zig.command_line(), "version": zig.version, "source": zig.found}),
        None => {
            let into = cache.map(|c| c.zig_home(&wanted.version).display().to_string());
            let from = Downloader::from_env(env)
                .map(|d| d.describe())
                .unwrap_or_else(|e| e.to_string());
            json!({
                "value": null,
                "version": wanted.version,
                "source": format!("not found; a build downloads it from {from} into {}, else installs it with pip", into.as_deref().unwrap_or("the tool cache")),
                "tried": attempts.tried().iter().map(|t| format!("{}: {}", t.place, t.why)).collect::<Vec<_>>(),
            })
        }
    }
}

fn no_zig(wanted: &ZigWanted, attempts: &Attempts) -> Error {
    Error::Failed(anyhow::anyhow!(
        "no working Zig {} for cargo-zigbuild, and none could be installed; tried:{}\nPut zig on PATH or set ZIG, let this machine reach ziglang.org (or set LAMBDA_BUILD_ZIG_MIRRORS), or use --compiler cargo",
        wanted.version,
        attempts.lines()
    ))
}

/// The places users put Zig, then the tool cache.
fn lookup(env: &EnvVars, wanted: &ZigWanted, cache: Option<&Cache>, attempts: &mut Attempts) -> Option<Zig> {
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(spec) = env.get("ZIG") {
        candidates.push(("env ZIG".into(), spec.split_whitespace().map(str::to_owned).collect()));
    }
    candidates.push(("PATH".into(), vec!["zig".into()]));
    candidates.push((
        "python3 -m ziglang".into(),
        vec!["python3".into(), "-m".into(), "ziglang".into()],
    ));
    if let Some(cache) = cache {
        let home = cache.zig_home(&wanted.version);
        candidates.push((
            format!("tool cache {}", home.display()),
            vec![home.join("zig").display().to_string()],
        ));
    }
    for (found, words) in candidates {
        let place = format!("{found} ({})", words.join(" "));
        let words = match python_zig(&words, env) {
            Some(Ok(zig)) => vec![zig.display().to_string()],
            Some(Err(why)) => {
                attempts.failed(place, format!("{why:#}"));
                continue;
            }
            None => words,
        };
        match try_zig(&words, env) {
            Ok((_, version)) if wanted.explicit && version != wanted.version => {
                attempts.failed(
                    place,
                    format!("is Zig {version}; --zig-version asks for {}", wanted.version),
                );
            }
            Ok((program, version)) => {
                return Some(Zig {
                    program,
                    args: words.get(1..).unwrap_or_default().to_vec(),
                    version,
                    found,
                });
            }
            Err(why) => {
                // A silent Zig cost the run its probe bound: say so even when it was not ZIG.
                if found == "env ZIG" {
                    tracing::warn!("ZIG={} is not usable, skipped: {why:#}", words.join(" "));
                } else if process::timed_out(&why) {
                    tracing::warn!("{place} is not usable, skipped: {why:#}");
                }
                attempts.failed(place, format!("{why:#}"));
            }
        }
    }
    None
}

/// For `python3 -m ziglang`, the `zig` binary inside the ziglang package, so cargo-zigbuild and
/// every linker call run Zig directly instead of starting Python (and a pyenv shim) each time.
/// `None` when the command is not of that form.
fn python_zig(words: &[String], env: &EnvVars) -> Option<anyhow::Result<PathBuf>> {
    let [python, dash_m, module] = words else {
        return None;
    };
    let is_python = Path::new(python)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("python"));
    if !is_python || dash_m != "-m" || module != "ziglang" {
        return None;
    }
    Some((|| {
        let program = resolve_program(python, env).with_context(|| format!("{python} not found"))?;
        let output = process::output(
            Command::new(&program).args(["-c", "import os, ziglang; print(os.path.dirname(ziglang.__file__))"]),
            Limits::of(env).probe,
        )?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("{}", stderr.lines().last().unwrap_or("cannot import ziglang").trim());
        }
        let zig = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()).join("zig");
        if !zig.is_file() {
            bail!("the ziglang package has no zig at {}", zig.display());
        }
        Ok(zig)
    })())
}

/// Whether the Zig in `home` runs and is `version`.
fn runs_as(home: &Path, version: &str, env: &EnvVars) -> bool {
    try_zig(&[home.join("zig").display().to_string()], env).is_ok_and(|(_, v)| v == version)
}

fn try_zig(words: &[String], env: &EnvVars) -> anyhow::Result<(PathBuf, String)> {
    let (first, args) = words.split_first().context("empty command")?;
    let program = resolve_program(first, env).with_context(|| format!("{first} not found"))?;
    let output = process::output(Command::new(&program).args(args).arg("version"), Limits::of(env).probe)?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || !version.starts_with(|c: char| c.is_ascii_digit()) {
        bail!(
            "`zig version` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok((program, version))
}

fn empty(dir: &Path) -> anyhow::Result<()> {
    std::fs::remove_dir_all(dir)?;
    std::fs::create_dir(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_zig(dir: &Path, name: &str, body: &str) -> PathBuf {
        let script = dir.join(name);
        std::fs::write(&script, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        script
    }

    fn empty_path(dir: &Path) -> (&'static str, String) {
        ("PATH", dir.display().to_string())
    }

    #[test]
    fn a_broken_zig_is_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let broken = fake_zig(dir.path(), "broken-zig", "exit 3");
        let good = fake_zig(dir.path(), "zig", "echo 0.17.1");
        let env = EnvVars::from_pairs([("ZIG", broken.display().to_string()), empty_path(dir.path())]);
        let mut attempts = Attempts::default();
        let zig = lookup(&env, &ZigWanted::default(), None, &mut attempts).unwrap();
        assert_eq!((zig.program, zig.found.as_str()), (good, "PATH"));
        assert_eq!(attempts.tried().len(), 1);
        assert!(
            attempts.tried()[0].place.starts_with("env ZIG ("),
            "{:?}",
            attempts.tried()
        );
        assert!(
            attempts.tried()[0].why.contains("`zig version` failed"),
            "{:?}",
            attempts.tried()
        );
    }

    #[test]
    fn every_place_is_listed_when_none_works() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache {
            root: dir.path().join("cache"),
            source: "test".into(),
        };
        let env = EnvVars::from_pairs([("ZIG", "/nonexistent/zig".to_owned()), empty_path(dir.path())]);
        let mut attempts = Attempts::default();
        assert!(lookup(&env, &ZigWanted::default(), Some(&cache), &mut attempts).is_none());
        let places: Vec<&str> = attempts.tried().iter().map(|t| t.place.as_str()).collect();
        assert_eq!(
            places[..3],
            [
                "env ZIG (/nonexistent/zig)",
                "PATH (zig)",
                "python3 -m ziglang (python3 -m ziglang)"
            ]
        );
        assert!(places[3].starts_with("tool cache "), "{places:?}");
    }

    #[test]
    fn zig_from_env_may_be_a_command_with_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let script = fake_zig(
            dir.path(),
            "fake-zig",
            "[ \"$1\" = --flavor ] && [ \"$2\" = version ] && echo 0.99.0",
        );
        let env = EnvVars::from_pairs([("ZIG", format!("{} --flavor", script.display()))]);
        let zig = lookup(&env, &ZigWanted::default(), None, &mut Attempts::default()).unwrap();
        assert_eq!((zig.version.as_str(), zig.found.as_str()), ("0.99.0", "env ZIG"));
        assert_eq!(zig.args, ["--flavor"]);
    }

    #[test]
    fn an_explicit_version_skips_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        fake_zig(dir.path(), "zig", "echo 0.16.0");
        let env = EnvVars::from_pairs([empty_path(dir.path())]);
        let wanted = ZigWanted {
            version: "0.17.1".into(),
            explicit: true,
        };
        let mut attempts = Attempts::default();
        assert!(lookup(&env, &wanted, None, &mut attempts).is_none());
        assert_eq!(attempts.tried()[0].why, "is Zig 0.16.0; --zig-version asks for 0.17.1");
        let any = ZigWanted {
            explicit: false,
            ..wanted
        };
        assert_eq!(
            lookup(&env, &any, None, &mut Attempts::default()).unwrap().version,
            "0.16.0"
        );
    }
}
