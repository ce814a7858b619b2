//! The toolchain a build needs: Zig for cargo-zigbuild, and each target's Rust standard library.
//! Nothing here prompts; every failure says what was tried and how to fix it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::cli::EnvVars;
use crate::config::Target;

/// A working Zig: the program and the arguments that make it `zig` (`python3 -m ziglang`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Zig {
    /// The program to run.
    pub program: PathBuf,
    /// Arguments before the zig subcommand.
    pub args: Vec<String>,
    /// What `zig version` printed.
    pub version: String,
    /// Where it was found (`env ZIG`, `PATH`, `python3 -m ziglang`).
    pub found: String,
}

/// Finds a working Zig: `ZIG` (a path or a command), `zig` on PATH, then `python3 -m ziglang`.
/// Each candidate must answer `zig version`; a broken one is reported and skipped.
pub fn find_zig(env: &EnvVars) -> anyhow::Result<Zig> {
    let mut tried = Vec::new();
    let mut candidates: Vec<(String, Vec<String>)> = Vec::new();
    if let Some(spec) = env.get("ZIG") {
        let mut words = spec.split_whitespace().map(str::to_owned);
        if let Some(program) = words.next() {
            candidates.push(("env ZIG".into(), std::iter::once(program).chain(words).collect()));
        }
    }
    candidates.push(("PATH".into(), vec!["zig".into()]));
    candidates.push((
        "python3 -m ziglang".into(),
        vec!["python3".into(), "-m".into(), "ziglang".into()],
    ));
    for (found, words) in candidates {
        match try_zig(&words, env) {
            Ok((program, version)) => {
                return Ok(Zig {
                    program,
                    args: words[1..].to_vec(),
                    version,
                    found,
                });
            }
            Err(why) => {
                tracing::warn!("zig from {found} ({}) is not usable: {why:#}", words.join(" "));
                tried.push(format!("{found} ({}): {why:#}", words.join(" ")));
            }
        }
    }
    bail!(
        "no working Zig found for cargo-zigbuild; tried {}. Install it with `python3 -m pip install ziglang`, put `zig` on PATH, set ZIG, or use --compiler cargo",
        tried.join("; ")
    )
}

fn try_zig(words: &[String], env: &EnvVars) -> anyhow::Result<(PathBuf, String)> {
    let program = resolve_program(&words[0], env).with_context(|| format!("{} not found", words[0]))?;
    let output = Command::new(&program)
        .args(&words[1..])
        .arg("version")
        .output()
        .with_context(|| format!("running {}", program.display()))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || version.is_empty() || !version.starts_with(|c: char| c.is_ascii_digit()) {
        bail!(
            "`zig version` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok((program, version))
}

/// A program name resolved against PATH (a path with a slash is taken as it is).
fn resolve_program(name: &str, env: &EnvVars) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    which::which_in(name, env.get("PATH"), std::env::current_dir().ok()?).ok()
}

impl Zig {
    /// Points the linked-in cargo-zigbuild at this Zig. cargo-zigbuild reads its Zig from the
    /// process environment, and its linker wrappers inherit it.
    pub fn activate(&self) {
        // SAFETY: called from the main thread before any other thread is started (the progress
        // display starts later), so no thread can read the environment concurrently.
        unsafe {
            std::env::set_var("CARGO_ZIGBUILD_ZIG_COMMAND", &self.program);
            std::env::set_var("CARGO_ZIGBUILD_ZIG_COMMAND_ARGS", self.args.join(" "));
        }
    }
}

/// The rustc a build uses: `RUSTC`, else `rustc` (rustup's proxy when rustup manages it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rustc {
    /// The program.
    pub program: String,
    /// `RUSTC` or `PATH`.
    pub found: String,
}

impl Rustc {
    /// The rustc cargo will use.
    pub fn from_env(env: &EnvVars) -> Self {
        match env.get("RUSTC") {
            Some(rustc) => Rustc {
                program: rustc.to_owned(),
                found: "env RUSTC".into(),
            },
            None => Rustc {
                program: "rustc".into(),
                found: "PATH".into(),
            },
        }
    }

    /// Whether rustup manages this rustc, so `rustup target add` can fix a missing target.
    fn rustup_managed(&self, env: &EnvVars) -> bool {
        self.found == "PATH" && resolve_program("rustup", env).is_some()
    }
}

/// Makes sure every target's standard library is there for `rustc`, adding it with rustup when
/// rustup manages the toolchain; otherwise fails before compiling, saying how to add it.
pub fn ensure_targets(rustc: &Rustc, targets: &[Target], dir: &Path, env: &EnvVars) -> anyhow::Result<()> {
    for target in targets {
        let triple = target.triple();
        if has_std(rustc, &triple, dir)? {
            continue;
        }
        if rustc.rustup_managed(env) {
            tracing::info!("adding Rust target {triple} with rustup");
            let status = Command::new("rustup")
                .args(["target", "add", &triple])
                .current_dir(dir)
                .stdin(std::process::Stdio::null())
                .status()
                .context("running rustup target add")?;
            if status.success() && has_std(rustc, &triple, dir)? {
                continue;
            }
            bail!("`rustup target add {triple}` failed ({status}); add the target by hand and retry");
        }
        bail!(
            "the Rust standard library for {triple} is not installed for {} (from {}); add it with `rustup target add {triple}`, or install that target's standard library for this rustc (on Debian: the libstd-rust-dev package of the target's architecture)",
            rustc.program,
            rustc.found
        );
    }
    Ok(())
}

fn has_std(rustc: &Rustc, triple: &str, dir: &Path) -> anyhow::Result<bool> {
    let output = Command::new(&rustc.program)
        .args(["--print", "target-libdir", "--target", triple])
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {} (from {})", rustc.program, rustc.found))?;
    if !output.status.success() {
        return Ok(false);
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let Ok(entries) = std::fs::read_dir(&libdir) else {
        return Ok(false);
    };
    Ok(entries
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_zig_is_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let env = EnvVars::from_pairs([
            ("ZIG", "/nonexistent/zig".to_owned()),
            ("PATH", dir.path().display().to_string()),
        ]);
        // PATH holds no zig and python3 is not on it either: every candidate fails.
        let err = find_zig(&env).unwrap_err().to_string();
        assert!(err.contains("env ZIG (/nonexistent/zig)"), "{err}");
        assert!(err.contains("PATH (zig)"), "{err}");
        assert!(err.contains("python3 -m ziglang"), "{err}");
    }

    #[test]
    fn zig_from_env_may_be_a_command_with_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-zig");
        std::fs::write(
            &script,
            "#!/bin/sh\n[ \"$1\" = --flavor ] && [ \"$2\" = version ] && echo 0.99.0\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let env = EnvVars::from_pairs([("ZIG", format!("{} --flavor", script.display()))]);
        let zig = find_zig(&env).unwrap();
        assert_eq!((zig.version.as_str(), zig.found.as_str()), ("0.99.0", "env ZIG"));
        assert_eq!(zig.args, ["--flavor"]);
    }
}
