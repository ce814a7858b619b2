//! GitHub Actions reporting through the real binary: masking, groups, annotations from cargo's
//! diagnostics, step outputs, the job summary, and Lambda's size limits.

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// A job's files: `GITHUB_OUTPUT` (with an earlier step's line in it) and `GITHUB_STEP_SUMMARY`.
struct Job {
    dir: tempfile::TempDir,
}

impl Job {
    fn new() -> Self {
        let job = Job {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(job.output(), "earlier=step\n").unwrap();
        job
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("github_output")
    }

    fn summary(&self) -> PathBuf {
        self.dir.path().join("step_summary")
    }

    /// lambda-build on the tiny fixture as an Actions step.
    fn build(&self, lambda_dir: &Path) -> Command {
        let mut cmd = lambda_build(&tiny());
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", self.output())
            .env("GITHUB_STEP_SUMMARY", self.summary())
            .env("GITHUB_WORKSPACE", repo())
            .env("CARGO_TARGET_DIR", self.dir.path().join("target"))
            .arg("--lambda-dir")
            .arg(lambda_dir);
        cmd
    }

    /// `GITHUB_OUTPUT` parsed back: `name=value` lines and `name<<DELIMITER` blocks.
    fn outputs(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.output()).unwrap();
        let mut outputs = Vec::new();
        let mut lines = text.split('\n');
        while let Some(line) = lines.next() {
            if let Some((name, delimiter)) = line.split_once("<<") {
                assert!(
                    delimiter.starts_with("ghadelimiter_") && delimiter.len() > 20,
                    "{delimiter}"
                );
                let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
                outputs.push((name.to_owned(), value.join("\n")));
            } else if let Some((name, value)) = line.split_once('=') {
                outputs.push((name.to_owned(), value.to_owned()));
            }
        }
        outputs
    }
}

#[test]
fn compiler_errors_and_warnings_become_annotations_with_escaping() {
    let job = Job::new();
    let lambda_dir = job.dir.path().join("lambda");
    let run = run(job.build(&lambda_dir).args(["--features", "alpha/broken,beta/noisy"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = |prefix: &str| {
        run.stderr
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{}", run.stderr))
            .to_owned()
    };
    let error = line("::error file=");
    assert!(
        error.starts_with(
            "::error file=tests/fixtures/tiny/alpha/src/main.rs,line=5,col=9,endLine=5,endColumn=23,title=error[E0308]%3A mismatched types::error[E0308]: mismatched types%0A --> alpha/src/main.rs:5:9%0A"
        ),
        "{error}"
    );
    assert!(error.contains("expected `u32`, found `&str`"), "{error}");
    let warning = line("::warning file=");
    assert!(
        warning.starts_with(
            "::warning file=tests/fixtures/tiny/beta/src/main.rs,line=3,col=9,endLine=3,endColumn=21,title=warning[unused_variables]%3A unused variable%3A `unused_width`::warning: unused variable: `unused_width`%0A"
        ),
        "{warning}"
    );
    // The compiler's own output is still in the log, and the phases are groups.
    assert!(
        run.stderr
            .contains("error[E0308]: mismatched types\n --> alpha/src/main.rs:5:9"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("::group::lambda-build: Compiling: "),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("::group::").count(),
        run.stderr.matches("::endgroup::").count()
    );
    assert!(line("::error title=lambda-build::").contains("build failed"));
    // A failed build writes no outputs and no summary.
    assert_eq!(job.outputs(), [("earlier".to_owned(), "step".to_owned())]);
    assert!(!job.summary().exists());
}

#[test]
fn outputs_and_summary_describe_the_artifacts_and_the_token_is_masked() {
    let job = Job::new();
    // A lambda dir whose path holds a newline: the output must still round-trip.
    let lambda_dir = job.dir.path().join("lambda\nartifacts");
    let token = "ghp_test_token_0123456789";
    let run = run_ok(job.build(&lambda_dir).env("GITHUB_TOKEN", token).arg("-vv"));
    assert_eq!(run.stderr.lines().next(), Some(format!("::add-mask::{token}").as_str()));
    assert_eq!(
        run.stderr.matches(token).count(),
        1,
        "the token was printed:\n{}",
        run.stderr
    );
    assert!(!run.stdout.contains(token));

    let manifest = manifest(&lambda_dir);
    let outputs = job.outputs();
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["earlier", "artifacts", "manifest", "checksums", "lambda-dir"]);
    let value = |name: &str| outputs.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let artifacts: serde_json::Value = serde_json::from_str(&value("artifacts")).unwrap();
    assert_eq!(artifacts, manifest["artifacts"]);
    assert_eq!(value("lambda-dir"), lambda_dir.display().to_string());
    assert_eq!(
        value("manifest"),
        lambda_dir.join("manifest.json").display().to_string()
    );
    assert_eq!(value("checksums"), lambda_dir.join("SHA256SUMS").display().to_string());

    let summary = std::fs::read_to_string(job.summary()).unwrap();
    let rows: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| name"))
        .collect();
    let records = manifest["artifacts"].as_array().unwrap();
    assert_eq!(rows.len(), records.len(), "{summary}");
    for (row, record) in rows.iter().zip(records) {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        let sha = record["sha256"].as_str().unwrap();
        assert_eq!(cells[0], record["name"]);
        assert_eq!(cells[1], record["kind"]);
        assert_eq!(cells[2], record["arch"]);
        assert_eq!(cells[3], record["format"]);
        assert!(cells[4].ends_with("MiB") || cells[4].ends_with("KiB"), "{row}");
        assert_eq!(cells[5], format!("`{}`", &sha[..12]));
        assert_eq!(cells[6], record["runtime"]);
        assert_eq!(cells[7], record["glibc_required"]);
    }
    for phase in ["resolve", "toolchain", "compile", "gate", "package", "record"] {
        assert!(summary.contains(&format!("{phase} ")), "no {phase} time in {summary}");
    }
}

#[test]
fn outside_actions_there_are_no_workflow_commands() {
    let t = tempfile::tempdir().unwrap();
    let run = run_ok(
        lambda_build(&tiny())
            .env("CARGO_TARGET_DIR", t.path().join("target"))
            .env("GITHUB_TOKEN", "ghp_not_masked_outside_actions")
            .args(["--features", "beta/noisy", "--lambda-dir"])
            .arg(t.path().join("lambda")),
    );
    assert!(!run.stderr.lines().any(|l| l.starts_with("::")), "{}", run.stderr);
    assert!(run.stderr.contains("lambda-build: Compiling: "), "{}", run.stderr);
}

/// A file of `len` bytes that deflate cannot shrink.
fn incompressible(path: &Path, len: usize) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut bytes = Vec::with_capacity(len);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    std::fs::File::create(path).unwrap().write_all(&bytes).unwrap();
}

#[test]
fn a_zip_over_50_mb_is_a_warning_and_over_250_mb_unzipped_an_error() {
    let job = Job::new();
    let big = job.dir.path().join("big.bin");
    incompressible(&big, 51 * 1024 * 1024);
    let lambda_dir = job.dir.path().join("lambda");
    let warned = run_ok(job.build(&lambda_dir).arg("--include").arg(&big));
    let warning = warned
        .stderr
        .lines()
        .find(|l| l.starts_with("warning: alpha/bootstrap.zip is "))
        .unwrap_or_else(|| panic!("no size warning in\n{}", warned.stderr));
    assert!(
        warning.ends_with(
            " MiB zipped, over Lambda's 50 MB (52428800 bytes) limit for a direct upload; deploy it from S3"
        ),
        "{warning}"
    );
    let text = warning.trim_start_matches("warning: ");
    assert!(
        warned
            .stderr
            .contains(&format!("::warning title=Lambda size limit::{text}")),
        "{}",
        warned.stderr
    );
    let summary = std::fs::read_to_string(job.summary()).unwrap();
    assert!(summary.contains(&format!("> [!WARNING]\n> {text}")), "{summary}");

    // Over 250 MB unzipped: an error naming the artifact and the limit, and the earlier zip stays.
    let before = std::fs::read(lambda_dir.join("alpha/bootstrap.zip")).unwrap();
    let huge = job.dir.path().join("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(260 * 1024 * 1024)
        .unwrap();
    let refused = run(job.build(&lambda_dir).arg("--include").arg(&huge));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("alpha/bootstrap.zip would be 26")
            && refused
                .stderr
                .contains(" MiB unzipped, over Lambda's 250 MB (262144000 bytes) limit for a function's code"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read(lambda_dir.join("alpha/bootstrap.zip")).unwrap(), before);
}
