//! Rust targets: each target's standard library must exist for the rustc cargo will use.
//! rustup adds a missing one by itself; any other rustc gets a hint before anything compiles.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::Serialize;

use super::resolve_program;
use crate::cli::EnvVars;
use crate::config::Target;
use crate::process::{self, Limits, Running};

/// The rustc a build uses: `RUSTC`, else `rustc` (rustup's proxy when rustup manages it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rustc {
    /// The program.
    pub program: String,
    /// `env RUSTC` or `PATH`.
    pub found: String,
    /// How long it may take to answer (rustup may install a toolchain first).
    #[serde(skip)]
    limits: Limits,
}

impl Rustc {
    /// The rustc cargo will use.
    pub fn from_env(env: &EnvVars) -> Self {
        let (program, found) = match env.get("RUSTC") {
            Some(rustc) => (rustc, "env RUSTC"),
            None => ("rustc", "PATH"),
        };
        Rustc {
            program: program.to_owned(),
            found: found.to_owned(),
            limits: Limits::of(env),
        }
    }

    /// What `rustc --version` prints, or why it could not be run.
    pub fn version(&self, dir: &Path) -> Result<String, String> {
        let output = process::output(
            Command::new(&self.program).arg("--version").current_dir(dir),
            self.limits.download,
        )
        .map_err(|e| format!("{e:#}"))?;
        if !output.status.success() {
            return Err(format!("{} --version failed ({})", self.program, output.status));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// rustc's host triple (`rustc -vV`), as cargo-lambda asks it for its default target;
    /// `None` when rustc cannot say.
    pub fn host(&self, dir: &Path) -> Option<String> {
        let output = process::output(
            Command::new(&self.program).arg("-vV").current_dir(dir),
            self.limits.download,
        )
        .ok()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let host = stdout.lines().find_map(|line| line.strip_prefix("host:"))?;
        output.status.success().then(|| host.trim().to_owned())
    }

    /// Whether rustup manages this rustc, so `rustup target add` can fix a missing target.
    fn rustup_managed(&self, env: &EnvVars) -> bool {
        self.found == "PATH" && resolve_program("rustup", env).is_some()
    }
}

/// Makes sure every target's standard library is there for `rustc`, adding it with rustup when
/// rustup manages the toolchain; otherwise fails before compiling, saying how to add it.
/// A glibc suffix (`.2.26`) is not part of the triple rustc knows, so it is left out.
///
/// `sysroot` is a [`SysrootQuery`] started earlier, so its rustc call overlaps other work.
pub fn ensure_targets(
    rustc: &Rustc,
    sysroot: SysrootQuery,
    targets: &[Target],
    dir: &Path,
    env: &EnvVars,
) -> anyhow::Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    // One rustc call for all targets: a target's libdir is `<sysroot>/lib/rustlib/<triple>/lib`.
    let sysroot = sysroot.finish()?;
    for target in targets {
        let triple = target.triple();
        if has_std(&sysroot, &triple) {
            continue;
        }
        if rustc.rustup_managed(env) {
            tracing::info!("adding Rust target {triple} with rustup");
            let output = process::output(
                Command::new("rustup").args(["target", "add", &triple]).current_dir(dir),
                Limits::of(env).download,
            )?;
            if output.status.success() && has_std(&sysroot, &triple) {
                continue;
            }
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!(
                "`rustup target add {triple}` failed ({}): {}; add the target by hand and retry",
                output.status,
                stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
            );
        }
        bail!(
            "the Rust standard library for {triple} is not installed for {} (from {}); add it with `rustup target add {triple}`, or install that target's standard library for this rustc (on Debian: the libstd-rust-dev package of the target's architecture)",
            rustc.program,
            rustc.found
        );
    }
    Ok(())
}

/// `rustc --print sysroot`, running in the background until its answer is needed.
pub struct SysrootQuery {
    rustc: Rustc,
    child: Running,
}

impl SysrootQuery {
    /// Starts the query.
    pub fn start(rustc: &Rustc, dir: &Path) -> Self {
        let child = Running::start(
            Command::new(&rustc.program)
                .args(["--print", "sysroot"])
                .current_dir(dir),
            rustc.limits.download,
        );
        SysrootQuery {
            rustc: rustc.clone(),
            child,
        }
    }

    /// Waits for the answer.
    pub fn finish(self) -> anyhow::Result<PathBuf> {
        let rustc = &self.rustc;
        let output = self
            .child
            .finish()
            .with_context(|| format!("running {} (from {})", rustc.program, rustc.found))?;
        if !output.status.success() {
            bail!(
                "{} --print sysroot failed ({}): {}",
                rustc.program,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
    }
}

fn has_std(sysroot: &Path, triple: &str) -> bool {
    let libdir = sysroot.join("lib/rustlib").join(triple).join("lib");
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_has_std_when_its_libdir_holds_libstd() {
        let sysroot = tempfile::tempdir().unwrap();
        let libdir = sysroot.path().join("lib/rustlib/aarch64-unknown-linux-gnu/lib");
        std::fs::create_dir_all(&libdir).unwrap();
        assert!(!has_std(sysroot.path(), "aarch64-unknown-linux-gnu"));
        std::fs::write(libdir.join("libstd-0123abcd.rlib"), "").unwrap();
        assert!(has_std(sysroot.path(), "aarch64-unknown-linux-gnu"));
        assert!(!has_std(sysroot.path(), "x86_64-unknown-linux-musl"));
    }
}
