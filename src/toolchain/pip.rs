//! The last resort when no download works: `python3 -m pip install ziglang` from PyPI (often
//! reachable through a company's package proxy when ziglang.org is not).
//!
//! pip installs into a temporary folder (`--target`, so no system or user site is touched and
//! externally managed Pythons do not object); the wheel's `ziglang/` folder holds the same
//! `zig` and `lib/` as a release tarball and becomes the cache's install.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

use super::resolve_program;
use crate::cli::EnvVars;
use crate::process::{self, Limits};

/// The pip requirement for a Zig version: PyPI's ziglang uses Zig's version, sometimes with a
/// `.postN` repackaging suffix, which the prefix match accepts.
pub fn requirement(version: &str) -> String {
    format!("ziglang=={version}.*")
}

/// Installs ziglang for `version` with pip and moves its Zig into `dest`.
pub fn install(version: &str, dest: &Path, env: &EnvVars) -> anyhow::Result<()> {
    let python = resolve_program("python3", env).context("python3 not found on PATH")?;
    let scratch = dest.join(".pip");
    let mut command = Command::new(&python);
    command
        .args([
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "--no-compile",
        ])
        .args(["--retries", "1", "--timeout", "15", "--target"])
        .arg(&scratch)
        .arg(requirement(version));
    let output = process::output(&mut command, Limits::of(env).download)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        bail!(
            "pip install {} failed ({}): {}",
            requirement(version),
            output.status,
            last.trim()
        );
    }
    let zig = scratch.join("ziglang");
    if !zig.join("zig").is_file() {
        bail!("the ziglang package has no ziglang/zig");
    }
    for entry in std::fs::read_dir(&zig).context("reading the ziglang package")? {
        let entry = entry?;
        std::fs::rename(entry.path(), dest.join(entry.file_name())).context("moving the ziglang package")?;
    }
    std::fs::remove_dir_all(&scratch).context("removing pip's leftovers")?;
    Ok(())
}
