//! The Action's installer (scripts/install.sh) against a loopback server serving a fake release,
//! for every ref users write: an exact tag installs that release, a moving tag (`v1`, `v1.2`)
//! the release of the version the action's Cargo.toml declares, the `version` input wins, a
//! branch or commit builds with `cargo install --locked` once per source; a bad checksum is
//! refused, and a platform without binaries builds from source.

mod fake_release;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fake_release::{REPOSITORY, asset, digest, platform, routes};
use support::http::Server;
use support::*;

const FAKE_BINARY: &str = "#!/bin/sh\necho fake lambda-build\n";
/// The version the fake action checkout's Cargo.toml declares.
const OWN: &str = "1.4.2";

/// A fake release binary's tarball.
fn tarball(work: &Path) -> Vec<u8> {
    let script = work.join("fake-lambda-build");
    std::fs::write(&script, FAKE_BINARY).unwrap();
    fake_release::tarball(&script)
}

/// The release `tag` with a correct checksum for this machine.
fn release(work: &Path, tag: &str) -> Server {
    let tarball = tarball(work);
    let sums = digest(&tarball);
    Server::start(routes(tag, &platform(), tarball, &sums), None)
}

/// An action checkout at version OWN: the installer, a Cargo.toml and a source file (made once
/// per work dir, so a test can change it between runs).
fn action_checkout(work: &Path) -> PathBuf {
    let action = work.join("action");
    if action.exists() {
        return action;
    }
    std::fs::create_dir_all(action.join("scripts")).unwrap();
    std::fs::create_dir_all(action.join("src")).unwrap();
    std::fs::copy(repo().join("scripts/install.sh"), action.join("scripts/install.sh")).unwrap();
    std::fs::write(
        action.join("Cargo.toml"),
        format!("[package]\nname = \"lambda-build\"\nversion = \"{OWN}\"\n\n[dependencies]\nversion = \"0\"\n"),
    )
    .unwrap();
    std::fs::write(action.join("Cargo.lock"), "").unwrap();
    std::fs::write(action.join("src/main.rs"), "fn main() {}\n").unwrap();
    action
}

fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// The installer as the Action runs it, used at `git_ref`, with a fake `cargo` first on PATH
/// that logs each call and "installs" a binary into its --root.
fn installer(work: &Path, base: &str, git_ref: &str) -> Command {
    let bin = work.join("fake-bin");
    std::fs::create_dir_all(&bin).unwrap();
    write_script(
        &bin.join("cargo"),
        "#!/bin/sh\necho \"$@\" >> \"$FAKE_CARGO_LOG\"\nroot=\"$6\"\nmkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho built\\n' > \"$root/bin/lambda-build\"\nchmod +x \"$root/bin/lambda-build\"\n",
    );
    let action = action_checkout(work);
    let mut cmd = Command::new("bash");
    cmd.arg(action.join("scripts/install.sh"))
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()))
        .env("FAKE_CARGO_LOG", work.join("cargo.log"))
        .env_remove("LAMBDA_BUILD_VERSION")
        .env("LAMBDA_BUILD_REF", git_ref)
        .env("LAMBDA_BUILD_REPOSITORY", REPOSITORY)
        .env("LAMBDA_BUILD_DOWNLOAD_BASE", base)
        .env("GITHUB_ACTION_PATH", &action)
        .env("RUNNER_TOOL_CACHE", work.join("toolcache"))
        .env("GITHUB_PATH", work.join("github_path"));
    cmd
}

/// Makes `uname` report another platform.
fn fake_uname(work: &Path, cmd: &mut Command, system: &str, machine: &str) {
    let bin = work.join("fake-uname");
    std::fs::create_dir_all(&bin).unwrap();
    write_script(
        &bin.join("uname"),
        &format!("#!/bin/sh\ncase \"$1\" in -s) echo {system} ;; -m) echo {machine} ;; *) echo {system} ;; esac\n"),
    );
    let path = cmd
        .get_envs()
        .find(|(k, _)| *k == "PATH")
        .and_then(|(_, v)| v)
        .unwrap()
        .to_owned();
    cmd.env("PATH", format!("{}:{}", bin.display(), path.to_string_lossy()));
}

fn github_path(work: &Path) -> String {
    std::fs::read_to_string(work.join("github_path")).unwrap_or_default()
}

fn cargo_calls(work: &Path) -> Vec<String> {
    std::fs::read_to_string(work.join("cargo.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn release_dir(work: &Path, tag: &str) -> PathBuf {
    work.join("toolcache/lambda-build").join(tag).join(platform())
}

#[test]
fn an_exact_tag_installs_that_release_and_caches_it() {
    let work = tempfile::tempdir().unwrap();
    let server = release(work.path(), "v9.9.9");
    let out = run_ok(&mut installer(work.path(), &server.url, "v9.9.9"));
    assert!(
        out.stderr.contains("installed in "),
        "the install time is reported: {}",
        out.stderr
    );
    let dir = release_dir(work.path(), "v9.9.9");
    assert_eq!(std::fs::read_to_string(dir.join("lambda-build")).unwrap(), FAKE_BINARY);
    assert_eq!(github_path(work.path()).trim(), dir.display().to_string());
    let out = Command::new(dir.join("lambda-build")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fake lambda-build\n");

    let requests = server.requests().len();
    let again = run_ok(&mut installer(work.path(), &server.url, "v9.9.9"));
    assert!(again.stderr.contains("from the tool cache"), "{}", again.stderr);
    assert_eq!(
        server.requests().len(),
        requests,
        "the cached binary was downloaded again"
    );
    assert!(
        cargo_calls(work.path()).is_empty(),
        "cargo ran although a release exists"
    );
}

#[test]
fn a_moving_major_or_minor_tag_installs_the_release_of_the_declared_version() {
    for moving in ["v1", "v1.4"] {
        let work = tempfile::tempdir().unwrap();
        let server = release(work.path(), &format!("v{OWN}"));
        run_ok(&mut installer(work.path(), &server.url, moving));
        assert!(
            release_dir(work.path(), &format!("v{OWN}"))
                .join("lambda-build")
                .is_file()
        );
        assert!(
            server
                .requests()
                .iter()
                .all(|r| r.contains(&format!("/download/v{OWN}/"))),
            "{moving}: {:?}",
            server.requests()
        );
        assert!(cargo_calls(work.path()).is_empty(), "{moving}: cargo ran");
    }
}

#[test]
fn the_version_input_wins_over_the_ref() {
    let work = tempfile::tempdir().unwrap();
    let server = release(work.path(), "v2.0.0");
    run_ok(installer(work.path(), &server.url, "v1").env("LAMBDA_BUILD_VERSION", "2.0.0"));
    assert!(release_dir(work.path(), "v2.0.0").join("lambda-build").is_file());
    assert!(cargo_calls(work.path()).is_empty());
}

#[test]
fn a_version_without_a_release_fails_instead_of_building_another_version() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(BTreeMap::new(), None);
    let out = run(installer(work.path(), &server.url, "v1").env("LAMBDA_BUILD_VERSION", "v2.0.0"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("v2.0.0 was asked for"), "{}", out.stderr);
    assert!(
        cargo_calls(work.path()).is_empty(),
        "it built {OWN} for a request of v2.0.0"
    );
    assert!(github_path(work.path()).is_empty());
}

#[test]
fn a_checksum_mismatch_is_refused_and_nothing_is_installed() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(
        routes("v9.9.9", &platform(), tarball(work.path()), &"0".repeat(64)),
        None,
    );
    let out = run(&mut installer(work.path(), &server.url, "v9.9.9"));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("does not match its SHA256SUMS"), "{}", out.stderr);
    assert!(!release_dir(work.path(), "v9.9.9").exists());
    assert!(github_path(work.path()).is_empty());
    assert!(
        cargo_calls(work.path()).is_empty(),
        "a bad checksum must not fall back to a build"
    );
}

#[test]
fn a_branch_builds_from_the_actions_checkout_once_per_source() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(BTreeMap::new(), None);
    let out = run_ok(&mut installer(work.path(), &server.url, "main"));
    assert!(out.stderr.contains("main names no release"), "{}", out.stderr);
    assert!(server.requests().is_empty(), "a branch has no release to ask for");
    let calls = cargo_calls(work.path());
    assert_eq!(calls.len(), 1, "{calls:?}");
    let action = work.path().join("action");
    assert!(
        calls[0].starts_with(&format!("install --locked --path {} --root ", action.display())),
        "{calls:?}"
    );
    let path = github_path(work.path());
    let bin = PathBuf::from(path.trim());
    assert!(bin.join("lambda-build").is_file(), "{path}");
    assert!(bin.starts_with(work.path().join("toolcache/lambda-build")), "{path}");

    let again = run_ok(&mut installer(work.path(), &server.url, "main"));
    assert!(again.stderr.contains("from the tool cache"), "{}", again.stderr);
    assert_eq!(cargo_calls(work.path()).len(), 1, "the same source was built twice");

    // The branch moved: its source differs, so it builds again.
    std::fs::write(work.path().join("action/src/main.rs"), "fn main() { println!(); }\n").unwrap();
    run_ok(&mut installer(work.path(), &server.url, "main"));
    assert_eq!(
        cargo_calls(work.path()).len(),
        2,
        "a changed source reused the old binary"
    );
}

#[test]
fn the_actions_own_version_without_a_binary_builds_from_source() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(BTreeMap::new(), None);
    let out = run_ok(&mut installer(work.path(), &server.url, "v1"));
    assert!(out.stderr.contains("no prebuilt lambda-build-"), "{}", out.stderr);
    assert_eq!(cargo_calls(work.path()).len(), 1);
}

#[test]
fn each_supported_platform_gets_its_own_tarball() {
    for (system, machine, platform) in [
        ("Linux", "x86_64", "linux-x86_64"),
        ("Linux", "aarch64", "linux-arm64"),
        ("Darwin", "x86_64", "macos-x86_64"),
        ("Darwin", "arm64", "macos-arm64"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let tarball = tarball(work.path());
        let sums = digest(&tarball);
        let server = Server::start(routes("v9.9.9", platform, tarball, &sums), None);
        let mut cmd = installer(work.path(), &server.url, "v9.9.9");
        fake_uname(work.path(), &mut cmd, system, machine);
        run_ok(&mut cmd);
        assert!(
            server.requests().iter().any(|r| r.ends_with(&asset(platform))),
            "{system} {machine}: {:?}",
            server.requests()
        );
        let dir = work.path().join("toolcache/lambda-build/v9.9.9").join(platform);
        assert!(dir.join("lambda-build").is_file(), "{system} {machine}");
    }
}

#[test]
fn a_platform_without_binaries_says_so_and_builds_from_source() {
    let work = tempfile::tempdir().unwrap();
    let server = release(work.path(), "v9.9.9");
    let mut cmd = installer(work.path(), &server.url, "v9.9.9");
    fake_uname(work.path(), &mut cmd, "FreeBSD", "riscv64");
    let out = run_ok(&mut cmd);
    assert!(out.stderr.contains("no binary for FreeBSD riscv64"), "{}", out.stderr);
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    assert_eq!(cargo_calls(work.path()).len(), 1);
}
