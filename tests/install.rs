//! The Action's installer (scripts/install.sh) against a loopback server serving a fake release:
//! a good checksum installs into the tool cache, a bad one is refused, no release falls back to
//! `cargo install --locked` from the action's checkout.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};
use support::http::{Reply, Server};
use support::*;

const VERSION: &str = "v9.9.9";
const FAKE_BINARY: &[u8] = b"#!/bin/sh\necho fake lambda-build\n";

fn arch() -> &'static str {
    if std::env::consts::ARCH == "aarch64" {
        "arm64"
    } else {
        "x86_64"
    }
}

fn release(sums_digest: &str) -> Server {
    let asset = format!("lambda-build-{}", arch());
    let prefix = format!("/octo/lambda-build/releases/download/{VERSION}");
    let mut routes = BTreeMap::new();
    routes.insert(format!("{prefix}/{asset}"), Reply::ok(FAKE_BINARY.to_vec()));
    routes.insert(
        format!("{prefix}/SHA256SUMS"),
        Reply::ok(format!("{sums_digest}  {asset}\n")),
    );
    Server::start(routes, None)
}

fn digest(bytes: &[u8]) -> String {
    lambda_build::record::hex(&Sha256::digest(bytes))
}

/// The installer as the Action runs it, with a fake `cargo` first on PATH that records its
/// arguments and "installs" a binary.
fn installer(work: &Path, base: &str) -> Command {
    let bin = work.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\necho \"$@\" > \"$FAKE_CARGO_LOG\"\nroot=\"$6\"\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho built\\n' > \"$root/bin/lambda-build\"\nchmod +x \"$root/bin/lambda-build\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/install.sh"))
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()))
        .env("FAKE_CARGO_LOG", work.join("cargo.log"))
        .env("LAMBDA_BUILD_VERSION", VERSION)
        .env("LAMBDA_BUILD_REPOSITORY", "octo/lambda-build")
        .env("LAMBDA_BUILD_DOWNLOAD_BASE", base)
        .env("GITHUB_ACTION_PATH", repo())
        .env("RUNNER_TOOL_CACHE", work.join("toolcache"))
        .env("GITHUB_PATH", work.join("github_path"));
    cmd
}

fn github_path(work: &Path) -> String {
    std::fs::read_to_string(work.join("github_path")).unwrap_or_default()
}

#[test]
fn a_release_binary_with_a_matching_checksum_is_installed_and_cached() {
    let work = tempfile::tempdir().unwrap();
    let server = release(&digest(FAKE_BINARY));
    run_ok(&mut installer(work.path(), &server.url));
    let dir = work.path().join("toolcache/lambda-build").join(VERSION).join(arch());
    assert_eq!(std::fs::read(dir.join("lambda-build")).unwrap(), FAKE_BINARY);
    assert_eq!(github_path(work.path()).trim(), dir.display().to_string());
    let out = Command::new(dir.join("lambda-build")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fake lambda-build\n");

    let requests = server.requests().len();
    run_ok(&mut installer(work.path(), &server.url));
    assert_eq!(
        server.requests().len(),
        requests,
        "the cached binary was downloaded again"
    );
    assert!(
        !work.path().join("cargo.log").exists(),
        "cargo ran although a release exists"
    );
}

#[test]
fn a_checksum_mismatch_is_refused_and_nothing_is_installed() {
    let work = tempfile::tempdir().unwrap();
    let server = release(&"0".repeat(64));
    let out = run(&mut installer(work.path(), &server.url));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("does not match its SHA256SUMS"), "{}", out.stderr);
    assert!(
        !work
            .path()
            .join("toolcache/lambda-build")
            .join(VERSION)
            .join(arch())
            .exists()
    );
    assert!(github_path(work.path()).is_empty());
    assert!(
        !work.path().join("cargo.log").exists(),
        "a bad checksum must not fall back to a build"
    );
}

#[test]
fn without_a_release_it_builds_from_the_actions_checkout() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(BTreeMap::new(), None);
    let out = run_ok(&mut installer(work.path(), &server.url));
    assert!(out.stderr.contains("no prebuilt lambda-build-"), "{}", out.stderr);
    let root = work.path().join(format!("toolcache/lambda-build/source-{VERSION}"));
    let log = std::fs::read_to_string(work.path().join("cargo.log")).unwrap();
    assert_eq!(
        log.trim(),
        format!("install --locked --path {} --root {}", repo().display(), root.display())
    );
    assert_eq!(github_path(work.path()).trim(), root.join("bin").display().to_string());
}
