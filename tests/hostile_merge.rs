//! `lambda-build merge` treats every shard as untrusted input, and `--shard K/N` builds exactly
//! the bytes the unsharded run builds.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::*;

/// A build of tests/fixtures/shardfeat with `--compiler cargo` into `lambda_dir`.
fn shardfeat_into(target: &Path, lambda_dir: &Path, args: &[&str]) -> Command {
    let mut cmd = lambda_build(&fixture("shardfeat"));
    cmd.env("CARGO_TARGET_DIR", target)
        .args(["--compiler", "cargo"])
        .args(args)
        .arg("--lambda-dir")
        .arg(lambda_dir);
    cmd
}

fn merge_into(dirs: &[&Path], out: &Path) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.arg("merge").args(dirs).arg("--out").arg(out);
    cmd
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `one` enables a feature of `shared` that `two` does not. cargo unifies features over the
/// packages it is asked to build, so the unsharded run builds `two` with it; a shard building
/// `two` alone would not, and its `two` would be other bytes.
#[test]
fn shards_of_packages_with_unified_features_merge_into_the_unsharded_bytes() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let (one, two, whole) = (t.path().join("one"), t.path().join("two"), t.path().join("whole"));
    run_ok(&mut shardfeat_into(&target, &whole, &[]));
    run_ok(&mut shardfeat_into(&target, &one, &["--shard", "1/2"]));
    run_ok(&mut shardfeat_into(&target, &two, &["--shard", "2/2"]));
    assert_eq!(recorded_paths(&one), ["one/bootstrap"]);
    assert_eq!(recorded_paths(&two), ["two/bootstrap"]);
    for name in ["one", "two"] {
        let (sharded, unsharded) = (
            t.path().join(name).join(name).join("bootstrap"),
            whole.join(name).join("bootstrap"),
        );
        assert!(
            bytes(&sharded) == bytes(&unsharded),
            "{name}'s binary from shard differs from the unsharded run's (it prints {:?}, the unsharded one {:?})",
            String::from_utf8_lossy(&Command::new(&sharded).output().unwrap().stdout),
            String::from_utf8_lossy(&Command::new(&unsharded).output().unwrap().stdout),
        );
    }
    let merged = t.path().join("merged");
    run_ok(&mut merge_into(&[&one, &two], &merged));
    for record in ["manifest.json", "SHA256SUMS"] {
        assert_eq!(
            bytes(&merged.join(record)),
            bytes(&whole.join(record)),
            "merged {record} differs from the unsharded run's"
        );
    }
    sha256sum_check(&merged);
}

/// `--print-config` shows the shard's plan: the unsharded `-p` list, only this shard's `--bin`s
/// and artifacts.
#[test]
fn a_shards_plan_keeps_the_unsharded_package_list_and_only_its_binaries() {
    let out =
        run_ok(lambda_build(&fixture("shardfeat")).args(["--print-config", "--compiler", "cargo", "--shard", "2/2"]));
    let config: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let invocations = config["plan"]["invocations"].as_array().unwrap();
    assert_eq!(invocations.len(), 1, "{invocations:?}");
    assert_eq!(invocations[0]["packages"], serde_json::json!(["one", "two"]));
    assert_eq!(invocations[0]["bins"], serde_json::json!(["two"]));
    let artifacts = names(&config["plan"]["artifacts"]);
    assert_eq!(artifacts, ["two"]);
    let binaries = names(&config["binaries"]);
    assert_eq!(binaries, ["two"]);
}

// ---- merge: a shard is untrusted input ----------------------------------------------------

/// A manifest record for `bytes`, as lambda-build writes one (x86_64, dev).
fn record(name: &str, kind: &str, format: &str, path: &str, bytes: &[u8]) -> serde_json::Value {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    serde_json::json!({
        "name": name, "kind": kind, "arch": "x86_64", "target": "x86_64-unknown-linux-gnu",
        "profile": "dev", "format": format, "path": path, "size": bytes.len(), "sha256": hex,
        "code_sha256": base64::engine::general_purpose::STANDARD.encode(digest),
        "unzipped_size": bytes.len(), "runtime": "provided.al2023", "glibc_required": null,
        "inputs_sha256": ""
    })
}

/// A function binary record at `path`.
fn function(name: &str, path: &str, bytes: &[u8]) -> serde_json::Value {
    record(name, "function", "binary", path, bytes)
}

/// Writes a shard's manifest.json and SHA256SUMS for `records` (their files are the caller's).
fn write_records(shard: &Path, records: &[serde_json::Value]) {
    std::fs::create_dir_all(shard).unwrap();
    let manifest = serde_json::json!({
        "version": 1, "tool": {"name": "lambda-build", "version": "0.1.0"}, "artifacts": records
    });
    std::fs::write(shard.join("manifest.json"), manifest.to_string()).unwrap();
    let sums: String = records
        .iter()
        .map(|r| format!("{}  {}\n", r["sha256"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    std::fs::write(shard.join("SHA256SUMS"), sums).unwrap();
}

/// Writes `bytes` at `path` (creating folders), for a shard's artifact wherever it points.
fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Every entry under `root` (not following symlinks), with a file's bytes or a link's target.
fn tree(root: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            let what = if kind.is_symlink() {
                format!("-> {}", std::fs::read_link(&path).unwrap().display())
            } else if kind.is_dir() {
                stack.push(path.clone());
                "dir".to_owned()
            } else if kind.is_file() {
                format!("{:?}", std::fs::read(&path).unwrap())
            } else {
                "special".to_owned()
            };
            found.push((path.strip_prefix(root).unwrap().display().to_string(), what));
        }
    }
    found.sort();
    found
}

/// A sandbox with a good shard `s1/s2/good` (function `alpha`), a hostile shard `s1/s2/evil`
/// (written by `hostile`) and `--out` at `o1/o2/o3/out`, deep enough that `..` stays inside.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        let good = sandbox.path("s1/s2/good");
        put(&good.join("alpha/bootstrap"), b"good alpha");
        write_records(&good, &[function("alpha", "alpha/bootstrap", b"good alpha")]);
        std::fs::create_dir_all(sandbox.path("o1/o2/o3")).unwrap();
        sandbox
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Runs merge of the good and the evil shard; asserts it is refused with exit 2 and one
    /// line naming the evil shard and the rule, that --out was not created and that nothing in
    /// the sandbox changed.
    fn assert_refused(&self, rule: &str) {
        self.assert_refused_with(&[&self.path("s1/s2/good"), &self.path("s1/s2/evil")], rule);
    }

    fn assert_refused_with(&self, shards: &[&Path], rule: &str) {
        let before = tree(self.dir.path());
        let out = self.path("o1/o2/o3/out");
        let refused = run(&mut merge_into(shards, &out));
        assert_eq!(refused.code, 2, "{}", refused.stderr);
        assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
        assert!(refused.stderr.starts_with("error: "), "{}", refused.stderr);
        assert!(refused.stderr.contains(rule), "wanted {rule:?}: {}", refused.stderr);
        assert!(!out.exists(), "--out was created: {:?}", tree(&out));
        assert_eq!(tree(self.dir.path()), before, "merge changed the sandbox");
    }
}

use std::path::PathBuf;

#[test]
fn a_path_out_of_the_shard_is_refused_before_anything_is_written() {
    // `..`: the file is really there, so only the path rule stops it.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&s.path("s1/x/evil.sh"), b"#!/bin/sh\necho pwned\n");
    write_records(
        &evil,
        &[function("evil", "../../x/evil.sh", b"#!/bin/sh\necho pwned\n")],
    );
    s.assert_refused("evil: manifest.json artifact 1 (path \"../../x/evil.sh\"): the path has a \"..\" component");
    assert!(!s.path("o1/o2/x/evil.sh").exists());

    // An absolute path.
    let s = Sandbox::new();
    let target = s.path("abs/evil.sh");
    put(&target, b"abs");
    write_records(
        &s.path("s1/s2/evil"),
        &[function("evil", target.to_str().unwrap(), b"abs")],
    );
    s.assert_refused("the path is absolute");

    // A second shard naming a good artifact through `..`: would replace it, and SHA256SUMS
    // would then fail `sha256sum -c`.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&evil.join("x/../alpha/bootstrap"), b"replaced");
    write_records(&evil, &[function("alpha", "x/../alpha/bootstrap", b"replaced")]);
    s.assert_refused("the path has a \"..\" component");

    // A path with a backslash, a newline (a forged SHA256SUMS line) or not lambda-build's layout.
    for (path, rule) in [
        ("a\\b/bootstrap", "backslash"),
        ("a\n0000  b/bootstrap", "control character"),
        ("elsewhere/bootstrap", "not where lambda-build puts"),
    ] {
        let s = Sandbox::new();
        let evil = s.path("s1/s2/evil");
        put(&evil.join(path), b"x");
        write_records(&evil, &[function("evil", path, b"x")]);
        s.assert_refused(rule);
    }
}

#[test]
fn symlinks_fifos_and_files_that_do_not_match_their_record_are_refused() {
    // A folder of the path is a symlink out of the shard.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&s.path("elsewhere/bootstrap"), b"outside");
    std::fs::create_dir_all(&evil).unwrap();
    std::os::unix::fs::symlink(s.path("elsewhere"), evil.join("link")).unwrap();
    write_records(&evil, &[function("link", "link/bootstrap", b"outside")]);
    s.assert_refused("link is a symlink");

    // The artifact is a symlink to /etc/passwd, recorded with its digest.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    let passwd = std::fs::read("/etc/passwd").unwrap();
    std::fs::create_dir_all(evil.join("pw")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", evil.join("pw/bootstrap")).unwrap();
    write_records(&evil, &[function("pw", "pw/bootstrap", &passwd)]);
    s.assert_refused("pw/bootstrap is a symlink");

    // A file whose bytes are not what its record says.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&evil.join("beta/bootstrap"), b"tampered");
    write_records(&evil, &[function("beta", "beta/bootstrap", b"original")]);
    s.assert_refused("does not match its recorded SHA-256");

    // Bigger than recorded: read only up to the recorded size + 1.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&evil.join("beta/bootstrap"), b"original and more");
    write_records(&evil, &[function("beta", "beta/bootstrap", b"original")]);
    s.assert_refused("larger than 8 bytes");
}

#[test]
fn a_fifo_in_a_shard_is_refused_without_blocking() {
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    std::fs::create_dir_all(evil.join("f")).unwrap();
    let status = Command::new("mkfifo").arg(evil.join("f/bootstrap")).status().unwrap();
    assert!(status.success());
    write_records(&evil, &[function("f", "f/bootstrap", b"")]);
    // A read of a FIFO with no writer would wait forever: bound the run, generously.
    let mut child = merge_into(&[&s.path("s1/s2/good"), &evil], &s.path("o1/o2/o3/out"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("merge blocked on a FIFO for 60s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("f/bootstrap is not a regular file"), "{stderr}");
    assert!(!s.path("o1/o2/o3/out").exists());
}

#[test]
fn records_that_are_not_what_lambda_build_writes_are_refused() {
    type Change = fn(&mut serde_json::Value);
    let cases: [(&str, Change); 7] = [
        ("format must be zip or binary", |r| r["format"] = "tar".into()),
        ("sha256 must be 64 lower-case hex digits", |r| {
            r["sha256"] = r["sha256"].as_str().unwrap().to_uppercase().into()
        }),
        ("code_sha256 must be the base64 of the sha256 digest", |r| {
            r["code_sha256"] = "AAAA".into()
        }),
        ("name must be", |r| {
            r["name"] = "a|b".into();
            r["path"] = "a|b/bootstrap".into()
        }),
        ("arch must be x86_64", |r| r["arch"] = "mips".into()),
        ("target must be a Lambda target triple", |r| {
            r["target"] = "x86_64".into()
        }),
        ("not where lambda-build puts", |r| r["kind"] = "extension".into()),
    ];
    for (rule, change) in cases {
        let s = Sandbox::new();
        let evil = s.path("s1/s2/evil");
        let mut r = function("beta", "beta/bootstrap", b"beta");
        change(&mut r);
        put(&evil.join(r["path"].as_str().unwrap()), b"beta");
        write_records(&evil, &[r]);
        s.assert_refused(rule);
    }
}

#[test]
fn colliding_paths_in_or_across_shards_are_refused() {
    // The same path twice in one shard.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&evil.join("beta/bootstrap"), b"beta");
    let twice = function("beta", "beta/bootstrap", b"beta");
    write_records(&evil, &[twice.clone(), twice]);
    s.assert_refused("the path is listed twice");

    // A file where another shard needs a folder: function `x86_64` of a one-target run and
    // function `bootstrap` of a two-target run (both lambda-build's layout).
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&evil.join("x86_64/bootstrap/bootstrap"), b"folder");
    write_records(&evil, &[function("bootstrap", "x86_64/bootstrap/bootstrap", b"folder")]);
    let other = s.path("s1/s2/other");
    put(&other.join("x86_64/bootstrap"), b"file");
    write_records(&other, &[function("x86_64", "x86_64/bootstrap", b"file")]);
    s.assert_refused_with(&[&s.path("s1/s2/good"), &evil, &other], "x86_64/bootstrap (from");

    // The same path with other bytes in another shard.
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    put(&evil.join("alpha/bootstrap"), b"other alpha");
    write_records(&evil, &[function("alpha", "alpha/bootstrap", b"other alpha")]);
    s.assert_refused("alpha/bootstrap differs between");
}

/// A shard listing 100k artifacts is checked in time linear in them: every record passes the
/// rules, none of the files is there, and artifact 1 is refused (a scan for repeats before each
/// record took 79 s to get there). The bound only stops a hang; the run takes about a second.
#[test]
fn a_shard_of_100k_records_is_refused_at_its_first_missing_file_without_a_quadratic_wait() {
    let s = Sandbox::new();
    let evil = s.path("s1/s2/evil");
    let records: Vec<_> = (0..100_000)
        .map(|n| function(&format!("f{n}"), &format!("f{n}/bootstrap"), b"absent"))
        .collect();
    write_records(&evil, &records);
    let out = s.path("o1/o2/o3/out");
    let refused = run_bounded(
        &mut merge_into(&[&s.path("s1/s2/good"), &evil], &out),
        Duration::from_secs(120),
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("artifact 1 (path \"f0/bootstrap\"): f0 does not exist"),
        "{}",
        refused.stderr
    );
    assert!(!out.exists());
}

#[test]
fn a_manifest_that_is_not_lambda_builds_is_refused_naming_it() {
    for (text, rule) in [
        (
            "{ not json",
            "is not a lambda-build manifest: not JSON at line 1, column 3",
        ),
        (
            "{\"foo\": 1}",
            "is not a lambda-build manifest: a missing field or a value of the wrong type",
        ),
        ("", "is not a lambda-build manifest: the JSON ends early"),
        (
            "{\"version\": 1, \"tool\": {\"name\": \"other\", \"version\": \"1\"}, \"artifacts\": []}",
            "is not a lambda-build manifest: its tool is not lambda-build",
        ),
    ] {
        let s = Sandbox::new();
        let evil = s.path("s1/s2/evil");
        write_records(&evil, &[]);
        std::fs::write(evil.join("manifest.json"), text).unwrap();
        s.assert_refused(&format!("{} {rule}", evil.join("manifest.json").display()));
    }
}

#[test]
fn out_must_be_a_folder_outside_every_shard() {
    let s = Sandbox::new();
    let good = s.path("s1/s2/good");
    for (out, rule) in [
        (good.clone(), "is inside the shard"),
        (good.join("merged"), "is inside the shard"),
        (good.join("alpha/../merged"), "is inside the shard"),
        (good.join("alpha/bootstrap"), "exists and is not a folder"),
    ] {
        let before = tree(s.dir.path());
        let refused = run(&mut merge_into(&[&good], &out));
        assert_eq!(refused.code, 2, "{}: {}", out.display(), refused.stderr);
        assert!(refused.stderr.contains(rule), "{}", refused.stderr);
        assert_eq!(tree(s.dir.path()), before);
    }
    // Through a symlink to the shard, too.
    std::os::unix::fs::symlink(&good, s.path("alias")).unwrap();
    let refused = run(&mut merge_into(&[&good], &s.path("alias/merged")));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(!good.join("merged").exists());
    // A folder of --out that is a symlink would lead the writes elsewhere.
    let out = s.path("o1/o2/o3/out");
    std::fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink(s.path("o1"), out.join("alpha")).unwrap();
    let refused = run(&mut merge_into(&[&good], &out));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("is in the way of alpha/bootstrap (a symlink)"),
        "{}",
        refused.stderr
    );
    assert!(!s.path("o1/bootstrap").exists());
}

#[test]
fn good_shards_still_merge_and_check() {
    let s = Sandbox::new();
    let other = s.path("s1/s2/other");
    put(&other.join("extensions/e.zip"), b"zip bytes");
    write_records(
        &other,
        &[record("e", "extension", "zip", "extensions/e.zip", b"zip bytes")],
    );
    let out = s.path("o1/o2/o3/out");
    run_ok(&mut merge_into(
        &[&s.path("s1/s2/good"), &other, &s.path("s1/s2/good")],
        &out,
    ));
    assert_eq!(recorded_paths(&out), ["alpha/bootstrap", "extensions/e.zip"]);
    assert_eq!(sha256sum_check(&out), 2);
}

// ---- merge: property test over hostile manifests -----------------------------------------

mod property {
    use std::path::{Path, PathBuf};

    use lambda_build::discover::Kind;
    use lambda_build::record::Record;
    use proptest::prelude::*;
    use sha2::Digest;

    use super::tree;

    /// How deep shards, `--out` and symlink targets sit in the sandbox: paths have at most
    /// [`MAX_COMPONENTS`] components, so neither `..` nor a symlink leads out of it.
    const DEEP: &str = "d1/d2/d3/d4/d5";
    const MAX_COMPONENTS: usize = 4;
    /// Stands for the sandbox's absolute path in a generated path.
    const ABS: &str = "{ABS}";

    /// Where a record's path comes from: lambda-build's layout, or anything at all.
    #[derive(Clone, Debug)]
    enum Place {
        Layout(Option<&'static str>),
        Hostile(String),
    }

    #[derive(Clone, Debug)]
    struct Entry {
        name: &'static str,
        extension: bool,
        zip: bool,
        place: Place,
    }

    fn component() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(vec![
                "..", ".", "", "alpha", "bootstrap", "bootstrap.zip", "extensions", "x86_64", "link",
                "flink", "fifo", "é", "a\\b", "..\\..", "a\0b", "a\nb", " ", "~",
            ])
            .prop_map(str::to_owned),
            1 => Just("x".repeat(300)),
            2 => "[a-z./\\\\\u{e9}\u{0}-\u{1f}]{0,6}",
            1 => any::<String>(),
        ]
    }

    fn hostile_path() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["", "/", "{ABS}/", "./"]),
            prop::collection::vec(component(), 1..=MAX_COMPONENTS),
        )
            .prop_map(|(prefix, parts)| format!("{prefix}{}", parts.join("/")))
    }

    fn entry() -> impl Strategy<Value = Entry> {
        let place = prop_oneof![
            6 => prop::sample::select(vec![None, Some("x86_64"), Some("x86_64-unknown-linux-gnu"), Some("arm64")])
                .prop_map(Place::Layout),
            1 => hostile_path().prop_map(Place::Hostile),
        ];
        (
            prop::sample::select(vec!["alpha", "link", "fifo", "x86_64", "bootstrap", "e"]),
            any::<bool>(),
            any::<bool>(),
            place,
        )
            .prop_map(|(name, extension, zip, place)| Entry {
                name,
                extension,
                zip,
                place,
            })
    }

    /// The path a record names, with `{ABS}` replaced by the sandbox's deep folder.
    fn path_of(entry: &Entry, sandbox: &Path) -> String {
        match &entry.place {
            Place::Layout(dir) => {
                let file = match (entry.extension, entry.zip) {
                    (false, false) => format!("{}/bootstrap", entry.name),
                    (false, true) => format!("{}/bootstrap.zip", entry.name),
                    (true, false) => format!("extensions/{}", entry.name),
                    (true, true) => format!("extensions/{}.zip", entry.name),
                };
                dir.map_or(file.clone(), |d| format!("{d}/{file}"))
            }
            Place::Hostile(path) => path.replace(ABS, &sandbox.join(DEEP).display().to_string()),
        }
    }

    fn record(entry: &Entry, path: &str, bytes: &[u8]) -> Record {
        use base64::Engine;
        let digest = sha2::Sha256::digest(bytes);
        Record {
            name: entry.name.into(),
            kind: if entry.extension {
                Kind::Extension
            } else {
                Kind::Function
            },
            arch: "x86_64".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            profile: "dev".into(),
            format: if entry.zip { "zip" } else { "binary" }.into(),
            path: path.into(),
            size: bytes.len() as u64,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            code_sha256: base64::engine::general_purpose::STANDARD.encode(digest),
            unzipped_size: bytes.len() as u64,
            runtime: "provided.al2023".into(),
            glibc_required: None,
            smoke: None,
            s3: Vec::new(),
            inputs_sha256: String::new(),
        }
    }

    /// A shard with a symlink to a folder elsewhere in the sandbox, one to a file, a FIFO, and
    /// each entry's file written wherever its path leads (unless that is not a regular file).
    fn make_shard(sandbox: &Path, shard: &Path, entries: &[Entry]) {
        let elsewhere = sandbox.join("elsewhere").join(DEEP);
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("secret"), b"secret").unwrap();
        std::fs::create_dir_all(shard).unwrap();
        let _ = std::os::unix::fs::symlink(&elsewhere, shard.join("link"));
        let _ = std::os::unix::fs::symlink(elsewhere.join("secret"), shard.join("flink"));
        let fifo = std::ffi::CString::new(shard.join("fifo").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) };
        let mut records = Vec::new();
        for entry in entries {
            let path = path_of(entry, sandbox);
            let bytes = path.as_bytes().to_vec();
            let file = shard.join(&path);
            // Paths that cannot be made (NUL, through a FIFO, too long) stay missing. Opened
            // without blocking: a path may reach the FIFO only once its folders exist
            // (`a/../fifo`), and opening a FIFO with no reader to write would wait forever.
            let _ = file.parent().map(std::fs::create_dir_all);
            let _ = write_nonblocking(&file, &bytes);
            records.push(record(entry, &path, &bytes));
        }
        let sums: String = records.iter().map(|r| format!("{}  {}\n", r.sha256, r.path)).collect();
        let manifest = lambda_build::record::Manifest::of(records);
        std::fs::write(shard.join("manifest.json"), serde_json::to_string(&manifest).unwrap()).unwrap();
        std::fs::write(shard.join("SHA256SUMS"), sums).unwrap();
    }

    /// Writes `bytes` to a regular file at `path`; a FIFO or other special file there is an error
    /// at once, never a wait.
    fn write_nonblocking(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?;
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        file.write_all(bytes)
    }

    /// A generated path that reaches the shard's FIFO only once the folders before it exist: the
    /// sandbox is still made, and at once (it waited forever for a reader of the FIFO).
    #[test]
    fn a_path_through_new_folders_to_the_fifo_does_not_block_making_the_shard() {
        let sandbox = tempfile::tempdir().unwrap();
        let root = sandbox.path().to_path_buf();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let entry = Entry {
                name: "alpha",
                extension: false,
                zip: false,
                place: Place::Hostile("new/../fifo".into()),
            };
            make_shard(&root, &root.join(DEEP).join("shard0"), &[entry]);
            let _ = done.send(());
        });
        assert!(
            finished.recv_timeout(std::time::Duration::from_secs(20)).is_ok(),
            "making the shard blocked on its FIFO"
        );
    }

    /// A relative path with only normal components, checked independently of the code under test.
    fn is_normal_relative(path: &str) -> bool {
        !path.starts_with('/')
            && !path.contains('\\')
            && !path.chars().any(char::is_control)
            && path.split('/').all(|c| !matches!(c, "" | "." | ".."))
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Whatever the shards say, nothing outside `--out` changes, and a merge either refuses
        /// (writing nothing) or writes exactly its records, at normal relative paths.
        #[test]
        fn merge_writes_nothing_outside_out_whatever_the_shards_say(
            shards in prop::collection::vec(prop::collection::vec(entry(), 1..4), 1..3)
        ) {
            let sandbox = tempfile::tempdir().unwrap();
            let root = sandbox.path();
            let dirs: Vec<PathBuf> = (0..shards.len())
                .map(|i| root.join(DEEP).join(format!("shard{i}")))
                .collect();
            for (dir, entries) in dirs.iter().zip(&shards) {
                make_shard(root, dir, entries);
            }
            let out = root.join("o").join(DEEP).join("out");
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let before = tree(root);
            let result = lambda_build::merge::merge(&dirs, &out, 60);
            let out_prefix = out.strip_prefix(root).unwrap().display().to_string();
            let outside: Vec<_> = tree(root)
                .into_iter()
                .filter(|(path, _)| path != &out_prefix && !path.starts_with(&format!("{out_prefix}/")))
                .collect();
            prop_assert_eq!(outside, before, "merge changed something outside --out");
            match result {
                Err(err) => {
                    prop_assert!(!out.exists(), "refused ({err}) but wrote {:?}", tree(&out));
                    prop_assert_eq!(err.exit_code(), 2, "{}", err);
                    prop_assert!(!format!("{err:#}").contains('\n'), "not one line: {err:#}");
                }
                Ok(manifest) => {
                    let mut expected = vec!["SHA256SUMS".to_owned(), "manifest.json".to_owned()];
                    for record in &manifest.artifacts {
                        prop_assert!(is_normal_relative(&record.path), "wrote {:?}", record.path);
                        let bytes = std::fs::read(out.join(&record.path)).unwrap();
                        prop_assert_eq!(bytes, record.path.as_bytes());
                        expected.push(record.path.clone());
                    }
                    let mut files: Vec<String> = tree(&out)
                        .into_iter()
                        .filter(|(_, what)| what != "dir")
                        .map(|(path, _)| path)
                        .collect();
                    files.sort();
                    expected.sort();
                    prop_assert_eq!(files, expected);
                }
            }
        }
    }
}
