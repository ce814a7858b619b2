//! A lambda-build release as the release workflow publishes it, served from 127.0.0.1: the
//! tarball `lambda-build-<os>-<arch>.tar.gz` holding an executable `lambda-build`, and a
//! `SHA256SUMS` naming it, under `/<owner>/<name>/releases/download/<tag>/`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::support::http::{Reply, Server};

/// The repository the fake releases belong to.
pub const REPOSITORY: &str = "lambda-build/lambda-build";

/// This machine's platform in the release's asset names, as scripts/install.sh picks it.
pub fn platform() -> String {
    let os = if cfg!(target_os = "macos") { "macos" } else { "linux" };
    let arch = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    };
    format!("{os}-{arch}")
}

/// The asset name of the tarball for `platform`.
pub fn asset(platform: &str) -> String {
    format!("lambda-build-{platform}.tar.gz")
}

/// A gzipped tarball holding `binary` as an executable `lambda-build`, made with `tar` as the
/// release workflow makes it.
pub fn tarball(binary: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("lambda-build");
    std::fs::copy(binary, &exe).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = dir.path().join("out.tar.gz");
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(dir.path())
        .arg("lambda-build")
        .status()
        .expect("run tar");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

pub fn digest(bytes: &[u8]) -> String {
    lambda_build::record::hex(&Sha256::digest(bytes))
}

/// The routes of release `tag` carrying `tarball` for `platform`; `SHA256SUMS` lists
/// `sums_digest` for it (the tarball's real digest unless a test wants a mismatch).
pub fn routes(tag: &str, platform: &str, tarball: Vec<u8>, sums_digest: &str) -> BTreeMap<String, Reply> {
    let prefix = format!("/{REPOSITORY}/releases/download/{tag}");
    let asset = asset(platform);
    let mut routes = BTreeMap::new();
    routes.insert(
        format!("{prefix}/SHA256SUMS"),
        Reply::ok(format!("{sums_digest}  {asset}\n")),
    );
    routes.insert(format!("{prefix}/{asset}"), Reply::ok(tarball));
    routes
}

/// Serves release `tag` with `tarball` for this machine and its true checksum.
pub fn serve(tag: &str, tarball: Vec<u8>) -> Server {
    let sums = digest(&tarball);
    Server::start(routes(tag, &platform(), tarball, &sums), None)
}
