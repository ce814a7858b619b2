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

/// Every file below `dir`, relative, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Runs a tool that drives lambda-build (sam, cdk) to completion, stopping it after `limit` so a
/// stuck tool fails the test instead of hanging the suite.
pub fn run_bounded(cmd: &mut Command, limit: std::time::Duration) -> crate::support::Run {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the tool");
    let id = child.id();
    let (done, waiting) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done.send(());
        out
    });
    if waiting.recv_timeout(limit).is_err() {
        // Only the child this test started, by its id.
        let _ = Command::new("kill").arg("-KILL").arg(id.to_string()).status();
        panic!("the tool did not finish within {limit:?}");
    }
    let out = waiter.join().unwrap().expect("wait for the tool");
    crate::support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A program pip installed, from Python's scripts folder, so it runs without a pyenv shim (a
/// shim puts that folder, where pip's real `cargo-lambda` lives, first on the tool's PATH).
pub fn python_script(name: &str) -> Option<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name);
    path.is_file().then_some(path)
}
