//! Toolchain provisioning through the real binary: Zig downloaded from a local server (index,
//! tarball, minisign signature made with a test key), verified, unpacked into the tool cache
//! under a lock; mirrors, timeouts, broken candidates, and missing Rust targets.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use support::http::{Faulty, Misbehaviour, Reply, Server, Silent};
use support::*;

/// A version no real Zig has, so nothing on the machine can stand in for it.
const VERSION: &str = "0.99.0";

/// A Zig "release" for tests: a tarball whose `zig` is a script answering `zig version`.
struct Release {
    file_name: String,
    tarball: Vec<u8>,
    signature: String,
    public_key: String,
}

impl Release {
    fn new() -> Self {
        let platform = format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS);
        let top = format!("zig-{platform}-{VERSION}");
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |name: &str, body: &[u8], mode: u32| {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(mode);
            tar.append_data(&mut header, format!("{top}/{name}"), body).unwrap();
        };
        add(
            "zig",
            format!("#!/bin/sh\n[ \"$1\" = version ] && echo {VERSION}\n").as_bytes(),
            0o755,
        );
        add("lib/std/std.zig", b"// std\n", 0o644);
        let tar = tar.into_inner().unwrap();
        let mut xz = lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
        xz.write_all(&tar).unwrap();
        let tarball = xz.finish().unwrap();
        let file_name = format!("{top}.tar.xz");
        let keys = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let comment = format!("timestamp:1700000000\tfile:{file_name}\thashed");
        let signature = minisign::sign(Some(&keys.pk), &keys.sk, &tarball[..], Some(&comment), None)
            .unwrap()
            .into_string();
        Release {
            file_name,
            tarball,
            signature,
            public_key: keys.pk.to_base64(),
        }
    }

    fn sha256(&self) -> String {
        lambda_build::record::hex(&Sha256::digest(&self.tarball))
    }

    fn index(&self, shasum: &str) -> String {
        let platform = format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS);
        serde_json::json!({
            "master": {"version": "1.0.0-dev"},
            VERSION: {platform: {
                "tarball": format!("https://ziglang.org/download/{VERSION}/{}", self.file_name),
                "shasum": shasum,
                "size": self.tarball.len().to_string(),
            }}
        })
        .to_string()
    }

    /// A mirror serving this release; `edit` may change its routes.
    fn serve(&self, edit: impl FnOnce(&mut BTreeMap<String, Reply>)) -> Server {
        let mut routes = BTreeMap::new();
        routes.insert("/index.json".into(), Reply::ok(self.index(&self.sha256())));
        routes.insert(format!("/{}", self.file_name), Reply::ok(self.tarball.clone()));
        routes.insert(
            format!("/{}.minisig", self.file_name),
            Reply::ok(self.signature.clone()),
        );
        edit(&mut routes);
        Server::start(routes, None)
    }
}

/// A folder for PATH holding only cargo and rustc: no zig, no python3 (so no pip, and nothing
/// on the machine can stand in for the Zig under test).
fn bare_path(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["cargo", "rustc"] {
        let real = which::which(tool).unwrap_or_else(|_| panic!("{tool} on PATH"));
        let link = bin.join(tool);
        if !link.exists() {
            std::os::unix::fs::symlink(real, link).unwrap();
        }
    }
    bin
}

/// `lambda-build --toolchain-only` on the tiny fixture, provisioning from `mirrors`.
fn provision(work: &Path, mirrors: &str, release: &Release) -> Command {
    let mut cmd = isolated(work, mirrors, release);
    cmd.arg("--toolchain-only");
    cmd
}

/// lambda-build on the tiny fixture with a bare PATH, its own cache, the given mirrors and the
/// release's test key, asking for the test version.
fn isolated(work: &Path, mirrors: &str, release: &Release) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.env("PATH", bare_path(work))
        .env_remove("ZIG")
        .env("LAMBDA_BUILD_CACHE", work.join("cache"))
        .env("LAMBDA_BUILD_ZIG_MIRRORS", mirrors)
        .env("LAMBDA_BUILD_HTTP_TIMEOUT", "2")
        .env("LAMBDA_BUILD_TEST_ZIG_PUBLIC_KEY", &release.public_key)
        .args(["--zig-version", VERSION]);
    cmd
}

/// The cache's `zig/` folder listing.
fn cache_entries(work: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(work.join("cache/zig"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn stdout_json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn a_signed_matching_zig_is_installed_used_and_then_reused_without_a_request() {
    let work = tempfile::tempdir().unwrap();
    let release = Release::new();
    let server = release.serve(|_| {});

    let first = run_ok(&mut provision(work.path(), &server.url, &release));
    let zig = &stdout_json(&first)["zig"];
    assert_eq!(zig["version"], VERSION);
    let found = zig["found"].as_str().unwrap();
    assert!(found.starts_with("tool cache "), "{found}");
    assert!(
        found.contains(&format!("downloaded from {}/{}", server.url, release.file_name)),
        "{found}"
    );
    assert_eq!(cache_entries(work.path()), [".lock", VERSION]);
    let home = work.path().join("cache/zig").join(VERSION);
    assert_eq!(std::fs::read(home.join("lib/std/std.zig")).unwrap(), b"// std\n");
    let requests = server.requests();
    assert_eq!(
        requests,
        [
            "/index.json".to_owned(),
            format!("/{}", release.file_name),
            format!("/{}.minisig", release.file_name)
        ]
    );

    let second = run_ok(&mut provision(work.path(), &server.url, &release));
    assert_eq!(server.requests(), requests, "the second run made a request");
    let found = stdout_json(&second)["zig"]["found"].as_str().unwrap().to_owned();
    assert_eq!(found, format!("tool cache {}", home.display()));

    // --print-config shows the same Zig and where it is, and the rustc from PATH.
    let mut print = isolated(work.path(), &server.url, &release);
    print.arg("--print-config");
    let config = stdout_json(&run_ok(&mut print));
    assert_eq!(
        config["toolchain"]["zig"]["source"],
        format!("tool cache {}", home.display())
    );
    assert_eq!(config["toolchain"]["zig"]["version"], VERSION);
    assert_eq!(config["toolchain"]["rustc"]["source"], "PATH");
    assert!(
        config["toolchain"]["rustc"]["version"]
            .as_str()
            .unwrap()
            .starts_with("rustc ")
    );
    assert_eq!(config["zig_version"]["source"], "flag --zig-version");
}

/// Runs a provisioning that must fail, and checks the cache holds no install or leftovers.
fn refused(release: &Release, edit: impl FnOnce(&mut BTreeMap<String, Reply>)) -> String {
    let work = tempfile::tempdir().unwrap();
    let server = release.serve(edit);
    let out = run(&mut provision(work.path(), &server.url, release));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(cache_entries(work.path()), [".lock"], "the cache is not clean");
    assert!(
        out.stderr.contains("pip install ziglang==0.99.0.*: python3 not found"),
        "{}",
        out.stderr
    );
    out.stderr
}

#[test]
fn a_wrong_checksum_is_refused_and_the_cache_left_clean() {
    let release = Release::new();
    let wrong = "0".repeat(64);
    let stderr = refused(&release, |routes| {
        routes.insert("/index.json".into(), Reply::ok(release.index(&wrong)));
    });
    assert!(stderr.contains("SHA-256 mismatch"), "{stderr}");
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let release = Release::new();
    let other = Release::new();
    let stderr = refused(&release, |routes| {
        routes.insert(
            format!("/{}.minisig", release.file_name),
            Reply::ok(other.signature.clone()),
        );
    });
    assert!(stderr.contains("signature does not verify"), "{stderr}");
}

#[test]
fn a_missing_signature_is_refused() {
    let release = Release::new();
    let stderr = refused(&release, |routes| {
        routes.remove(&format!("/{}.minisig", release.file_name));
    });
    assert!(stderr.contains("fetching the signature: HTTP 404"), "{stderr}");
}

#[test]
fn a_failing_mirror_falls_back_to_the_next() {
    let work = tempfile::tempdir().unwrap();
    let release = Release::new();
    let broken = Server::start(BTreeMap::new(), Some(Reply::status(503)));
    let good = release.serve(|_| {});
    let mirrors = format!("{}, {}", broken.url, good.url);
    let out = run_ok(&mut provision(work.path(), &mirrors, &release));
    let found = stdout_json(&out)["zig"]["found"].as_str().unwrap().to_owned();
    assert!(found.contains(&format!("downloaded from {}/", good.url)), "{found}");
    // The 503s were retried before falling back: three tries for the index and the tarball.
    let tried = broken.requests();
    assert_eq!(tried.iter().filter(|p| *p == "/index.json").count(), 3, "{tried:?}");
    assert_eq!(tried.len(), 6, "{tried:?}");
}

#[test]
fn a_server_that_never_answers_fails_with_every_place_tried() {
    let work = tempfile::tempdir().unwrap();
    let release = Release::new();
    let silent = Silent::start();
    let out = run(&mut provision(work.path(), &silent.url, &release));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let stderr = &out.stderr;
    assert!(
        stderr.contains(&format!("no working Zig {VERSION} for cargo-zigbuild")),
        "{stderr}"
    );
    for place in [
        "PATH (zig): zig not found".to_owned(),
        "python3 -m ziglang (python3 -m ziglang): python3 not found".to_owned(),
        format!("download index {}/index.json: ", silent.url),
        "pip install ziglang==0.99.0.*: python3 not found on PATH".to_owned(),
    ] {
        assert!(stderr.contains(&place), "missing {place:?} in {stderr}");
    }
    assert!(
        stderr.to_lowercase().contains("timeout") || stderr.contains("timed out"),
        "{stderr}"
    );
    assert_eq!(cache_entries(work.path()), [".lock"]);
}

/// A mirror whose index answers but whose tarball drips its headers, stalls mid-body or drips
/// its body a byte at a time: each try is bounded (headers and each read by
/// LAMBDA_BUILD_HTTP_TIMEOUT, the body by that plus its size at the rate floor), so the run
/// fails naming the download instead of crawling for as long as the server likes.
#[test]
fn a_mirror_that_drips_or_stalls_fails_within_its_bounds() {
    let release = Release::new();
    let cases: Vec<_> = [
        Misbehaviour::DripHeaders,
        Misbehaviour::StallMidBody,
        Misbehaviour::DripBody,
    ]
    .into_iter()
    .map(|how| {
        let index = release.index(&release.sha256()).into_bytes();
        let server = Faulty::start(BTreeMap::from([("/index.json".to_owned(), index)]), how);
        let work = tempfile::tempdir().unwrap();
        let mut cmd = provision(work.path(), &server.url, &release);
        let running = std::thread::spawn(move || run_bounded(&mut cmd, std::time::Duration::from_secs(90)));
        (how, server, work, running)
    })
    .collect();
    for (how, server, work, running) in cases {
        let out = running.join().unwrap();
        assert_eq!(out.code, 1, "{how:?}: {}", out.stderr);
        let tried = format!("download {}/{}: ", server.url, release.file_name);
        assert!(
            out.stderr.contains(&tried),
            "{how:?}: missing {tried:?} in {}",
            out.stderr
        );
        assert!(out.stderr.contains("gave up after 3 tries"), "{how:?}: {}", out.stderr);
        assert_eq!(cache_entries(work.path()), [".lock"], "{how:?}");
    }
}

#[test]
fn two_runs_provisioning_at_once_end_with_one_good_install() {
    let work = tempfile::tempdir().unwrap();
    let release = Release::new();
    let server = release.serve(|_| {});
    let runs = run_at_once((0..2).map(|_| provision(work.path(), &server.url, &release)).collect());
    for out in runs {
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert_eq!(cache_entries(work.path()), [".lock", VERSION]);
    let tarballs = server.requests().iter().filter(|p| p.ends_with(".tar.xz")).count();
    assert_eq!(
        tarballs, 1,
        "the second run waited for the first instead of downloading again"
    );
}

#[test]
fn a_broken_zig_env_is_reported_and_skipped() {
    let work = tempfile::tempdir().unwrap();
    let release = Release::new();
    let server = release.serve(|_| {});
    let mut cmd = provision(work.path(), &server.url, &release);
    cmd.env("ZIG", work.path().join("no-such-zig"));
    let out = run_ok(&mut cmd);
    assert!(
        out.stderr.contains("no-such-zig is not usable, skipped"),
        "{}",
        out.stderr
    );
    assert_eq!(stdout_json(&out)["zig"]["version"], VERSION);
}

#[test]
fn zig_is_not_provisioned_for_the_cargo_compiler() {
    let work = tempfile::tempdir().unwrap();
    let release = Release::new();
    let silent = Silent::start();
    let mut cmd = provision(work.path(), &silent.url, &release);
    cmd.args(["--compiler", "cargo"]);
    let out = run_ok(&mut cmd);
    assert_eq!(stdout_json(&out)["zig"], serde_json::Value::Null);
    assert!(cache_entries(work.path()).is_empty());
}

#[test]
fn a_bad_zig_version_is_a_usage_error() {
    let out = run(lambda_build(&tiny()).args(["--print-config", "--zig-version", "latest"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("invalid zig version \"latest\" from flag --zig-version; accepted: a Zig version"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_rust_target_with_a_non_rustup_rustc_stops_before_compiling() {
    let work = tempfile::tempdir().unwrap();
    // The toolchain's own rustc, not rustup's proxy: rustup cannot add targets to it.
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output().unwrap();
    let rustc = Path::new(String::from_utf8_lossy(&sysroot.stdout).trim()).join("bin/rustc");
    let out = run(lambda_build(&tiny())
        .env("RUSTC", &rustc)
        .env("CARGO_TARGET_DIR", work.path().join("target"))
        .args(["--compiler", "cargo", "--target", "aarch64-unknown-linux-musl"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the Rust standard library for aarch64-unknown-linux-musl is not installed for {} (from env RUSTC); add it with `rustup target add aarch64-unknown-linux-musl`",
            rustc.display()
        )),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Compiling"), "{}", out.stderr);
    assert!(!work.path().join("target").exists(), "something was compiled");
}
