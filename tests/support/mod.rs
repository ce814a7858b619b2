//! Helpers shared by the integration tests: running the real binary with a clean environment,
//! the fixture workspaces, required tools, and a real Lambda Runtime API emulator.
#![allow(dead_code)]

pub mod github;
pub mod http;
pub mod s3;

use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled `examples/` workspace.
pub fn examples() -> PathBuf {
    repo().join("examples")
}

/// The tiny fixture workspace.
pub fn tiny() -> PathBuf {
    repo().join("tests/fixtures/tiny")
}

/// A fixture workspace by name (`tests/fixtures/<name>`).
pub fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// Copies a folder tree (without `target/`), for tests that edit a fixture.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (path, dest) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_tree(&path, &dest);
            }
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// One target dir for every example build in the suite, so the examples compile once.
pub fn examples_target_dir() -> PathBuf {
    repo().join("target/test-examples")
}

/// Tests that build `examples/` hold this, so none reads a binary another is relinking.
pub fn examples_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether tests must fail, not skip, when a tool is missing (`.ci/run` sets it).
pub fn tools_required() -> bool {
    std::env::var("LAMBDA_BUILD_E2E").is_ok_and(|v| v == "required")
}

/// Checks that a tool is there; in CI a missing tool fails the test, elsewhere it skips it.
pub fn have_tool(name: &str, found: bool) -> bool {
    if !found {
        assert!(
            !tools_required(),
            "{name} is required (LAMBDA_BUILD_E2E=required) but missing; run scripts/setup-test.sh (scripts/test.sh puts its tools on PATH)"
        );
        eprintln!("skipping: {name} is not installed (run scripts/setup-test.sh)");
    }
    found
}

/// A rustc that has the aarch64 standard library: Debian's (these machines cannot run
/// `rustup target add`), else the default one if rustup already has the target.
pub fn arm64_rustc() -> Option<String> {
    if let Ok(rustc) = std::env::var("LAMBDA_BUILD_TEST_RUSTC") {
        return Some(rustc);
    }
    let debian = Path::new("/usr/lib/rustlib/aarch64-unknown-linux-gnu/lib");
    if debian.is_dir() && Path::new("/usr/bin/rustc").is_file() {
        return Some("/usr/bin/rustc".into());
    }
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .contains("aarch64-unknown-linux-gnu")
        .then(|| "rustc".into())
}

/// Whether a program is on PATH.
pub fn on_path(program: &str) -> bool {
    which::which(program).is_ok()
}

/// `lambda-build` with an environment free of the variables that would change its inputs.
pub fn lambda_build(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lambda-build"));
    cmd.current_dir(dir).stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        // AWS_*: this machine's own AWS set-up never reaches a test.
        let input = key.starts_with("INPUT_")
            || key.starts_with("LAMBDA_BUILD_")
            || key.starts_with("CARGO_LAMBDA_")
            || key.starts_with("AWS_");
        if input
            || [
                "RUSTFLAGS",
                "CARGO_ENCODED_RUSTFLAGS",
                "CARGO_BUILD_RUSTFLAGS",
                "CARGO_TARGET_DIR",
                "SOURCE_DATE_EPOCH",
                "GITHUB_ACTIONS",
                "RUSTC",
            ]
            .contains(&key.as_ref())
        {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

/// A finished run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command to completion.
pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("run lambda-build");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts every command at once, then waits for all of them (for tests of concurrent runs).
pub fn run_at_once(commands: Vec<Command>) -> Vec<Run> {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|mut cmd| {
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start lambda-build")
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("wait for lambda-build");
            Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        })
        .collect()
}

/// Runs a command that must end by itself: one still going after `limit` is killed and fails the
/// test, so a hang never blocks the suite. Its output is read while it runs (a chatty tool would
/// otherwise block on a full pipe).
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Run {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {program}: {e}"));
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
        panic!("{program} did not finish within {limit:?}");
    }
    let out = waiter.join().unwrap().expect("child output");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts that `secret` appears nowhere in a run's output but in the runner's `::add-mask::`
/// command (GitHub Actions only).
pub fn assert_not_shown(run: &Run, secret: &str) {
    let shown = run
        .stderr
        .lines()
        .chain(run.stdout.lines())
        .any(|l| l.contains(secret) && l != format!("::add-mask::{secret}"));
    assert!(!shown, "a secret was printed:\n{}", run.stderr);
}

/// Asserts a usage error as the contract gives it: exit 2 and one line on stderr, `error: ...`,
/// holding every needle.
pub fn assert_usage(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{}", run.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    for needle in needles {
        assert!(lines[0].contains(needle), "{:?} lacks {needle:?}", lines[0]);
    }
}

/// Every file below `dir` (not folders), relative, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    files
}

/// Every file under `dir` with its bytes, in path order, to compare a folder before and after.
pub fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_below(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(dir.join(&p)).unwrap();
            (p, bytes)
        })
        .collect()
}

/// `--print-config` in `dir` with extra args and env; asserts success and returns the run and
/// the JSON on stdout.
pub fn print_config(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Run, serde_json::Value) {
    let run = run_ok(
        lambda_build(dir)
            .arg("--print-config")
            .args(args)
            .envs(env.iter().copied()),
    );
    let json = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout));
    (run, json)
}

/// Appends `text` (TOML, usually) as new lines to `dir/file`, creating it if needed.
pub fn append(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, format!("{old}\n{text}\n")).unwrap();
}

/// Runs and asserts success, showing the output when it fails.
pub fn run_ok(cmd: &mut Command) -> Run {
    let r = run(cmd);
    assert_eq!(
        r.code, 0,
        "lambda-build failed\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    r
}

/// The manifest of a lambda dir.
pub fn manifest(lambda_dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(lambda_dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// The artifact paths a lambda dir's manifest.json records, in its order.
pub fn recorded_paths(lambda_dir: &Path) -> Vec<String> {
    manifest(lambda_dir)["artifacts"]
        .as_array()
        .expect("an artifact list")
        .iter()
        .map(|a| a["path"].as_str().expect("a path").to_owned())
        .collect()
}

/// Runs `sha256sum -c SHA256SUMS` in a lambda dir, as a user would; asserts every file
/// matches and returns how many were checked.
pub fn sha256sum_check(lambda_dir: &Path) -> usize {
    sha256sum_check_sums(&lambda_dir.join("SHA256SUMS"), lambda_dir)
}

/// `sha256sum -c SUMS` run in the lambda dir its paths are relative to (records kept elsewhere,
/// as the `cargo-lambda` entry point keeps them); asserts every file matches and returns how many
/// were checked.
pub fn sha256sum_check_sums(sums: &Path, lambda_dir: &Path) -> usize {
    let check = Command::new("sha256sum")
        .arg("-c")
        .arg(sums)
        .current_dir(lambda_dir)
        .output()
        .expect("running sha256sum");
    let listing = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "sha256sum -c failed:\n{listing}");
    listing.lines().count()
}

/// The `name` of every object in a JSON list (`--print-config`'s binaries, a plan's artifacts).
pub fn names(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item["name"].as_str().expect("a name"))
        .collect()
}

/// Entry names and unix modes of a zip.
pub fn zip_entries(path: &Path) -> Vec<(String, u32)> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = zip::ZipArchive::new(file).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let entry = archive.by_index(i).unwrap();
            (
                entry.name().unwrap().into_owned(),
                entry.unix_mode().unwrap_or(0) & 0o7777,
            )
        })
        .collect()
}

/// One file out of a zip.
pub fn zip_file(path: &Path, name: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut entry = archive.by_name(name).unwrap();
    let mut data = Vec::new();
    entry.read_to_end(&mut data).unwrap();
    data
}

/// The `cargo-lambda` executable (pip puts it in Python's scripts folder).
pub fn cargo_lambda() -> Option<PathBuf> {
    if let Ok(path) = which::which("cargo-lambda") {
        return Some(path);
    }
    let out = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("cargo-lambda");
    path.is_file().then_some(path)
}

/// A running `cargo lambda watch --only-lambda-apis`: the real Lambda Runtime API emulator.
pub struct Emulator {
    child: Child,
    pub port: u16,
    cargo_lambda: PathBuf,
    dir: PathBuf,
}

impl Emulator {
    /// Starts the emulator on a free loopback port; `dir` must hold a Cargo.toml.
    pub fn start(cargo_lambda: &Path, dir: &Path) -> Emulator {
        let port = free_port();
        let child = Command::new(cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lambda watch");
        let emulator = Emulator {
            child,
            port,
            cargo_lambda: cargo_lambda.to_path_buf(),
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the emulator did not open port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        emulator
    }

    /// Runs `bootstrap` as function `name` against the emulator (arm64 under qemu).
    pub fn serve(&self, name: &str, bootstrap: &Path, arm64: bool) -> Child {
        let mut cmd = if arm64 {
            let mut c = Command::new("qemu-aarch64-static");
            c.arg(bootstrap);
            c
        } else {
            Command::new(bootstrap)
        };
        cmd.env(
            "AWS_LAMBDA_RUNTIME_API",
            format!("http://127.0.0.1:{}/.rt/{name}", self.port),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the function")
    }

    /// `cargo lambda invoke NAME --data-ascii PAYLOAD`, returning the response as JSON.
    pub fn invoke(&self, name: &str, payload: &str) -> serde_json::Value {
        let port = self.port.to_string();
        let mut cmd = Command::new(&self.cargo_lambda);
        cmd.args([
            "lambda",
            "invoke",
            name,
            "-A",
            "127.0.0.1",
            "-P",
            &port,
            "--data-ascii",
            payload,
        ])
        .current_dir(&self.dir)
        .stdin(Stdio::null());
        // A function that died never answers; do not let that hang the suite.
        let out = run_bounded(&mut cmd, Duration::from_secs(90));
        assert_eq!(out.code, 0, "invoke {name} failed: {}\n{}", out.stdout, out.stderr);
        let stdout = out.stdout.trim();
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("invoke {name} answered {stdout:?}: {e}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Unzips `zip` into `dir`, keeping unix modes, and returns `dir`.
pub fn unzip(zip: &Path, dir: &Path) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    archive.extract(dir).unwrap();
    dir.to_path_buf()
}
