//! Helpers for the tests of the `cargo-lambda` entry point (tests/cargo_lambda_entry.rs,
//! tests/sam.rs, tests/cdk.rs): installing it, running tools with it first on PATH, and
//! reading what a build left.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{lambda_build, run_ok};

/// `program` run in `dir` with the environment `lambda_build` gives (no inputs inherited from
/// the caller's environment).
pub fn clean(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let template = lambda_build(dir);
    let mut cmd = Command::new(program);
    cmd.current_dir(dir).stdin(Stdio::null());
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd
}

/// Installs the entry point into a new folder with `lambda-build install-cargo-lambda DIR`.
pub fn installed(extra: &[&str]) -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    let mut cmd = lambda_build(bin.path());
    cmd.arg("install-cargo-lambda").arg(bin.path()).args(extra);
    run_ok(&mut cmd);
    bin
}

/// `PATH` with `bin` first.
pub fn path_with(bin: &Path) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path))).unwrap()
}

/// `cargo lambda ARGS` in `dir`, with `bin` (holding the entry point) first on PATH.
pub fn cargo_lambda_in(bin: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = clean(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()), dir);
    cmd.env("PATH", path_with(bin)).arg("lambda").args(args);
    cmd
}

/// The one records folder an entry-point build wrote under `target`.
pub fn records_dir(target: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(target.join("lambda-build/records"))
        .expect("records under <target dir>/lambda-build/records")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// A program pip installed, from the test tools' venv (`.tools/venv`, scripts/setup-test.sh)
/// or else Python's scripts folder, so it runs without a pyenv shim (a shim puts that folder,
/// where pip's real `cargo-lambda` lives, first on the tool's PATH).
pub fn python_script(name: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    let out = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name);
    path.is_file().then_some(path)
}
