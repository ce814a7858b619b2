//! `--upload github-release` against a local stand-in for GitHub (GHES layout, separate upload
//! host): a fresh draft release with every asset, re-runs that upload nothing, replaced assets,
//! retried 502s and 429s, a rejected token, concurrent jobs, and the token never shown.

mod support;

use std::path::Path;
use std::process::Command;

use support::github::FakeGitHub;
use support::*;

const TOKEN: &str = "ghp_fake_token_for_tests_0123456789";

/// The tiny fixture built and uploaded to release `tag`.
fn upload(github: &FakeGitHub, target: &Path, lambda_dir: &Path, tag: &str) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.envs(github.env())
        .env("CARGO_TARGET_DIR", target)
        .args(["--upload", "github-release", "--release-tag", tag, "--lambda-dir"])
        .arg(lambda_dir);
    cmd
}

fn asset_names(github: &FakeGitHub) -> Vec<String> {
    github.with(|s| {
        let mut names: Vec<String> = s
            .releases
            .iter()
            .flat_map(|r| r.assets.iter().map(|a| a.name.clone()))
            .collect();
        names.sort();
        names
    })
}

#[test]
fn a_fresh_draft_release_gets_every_asset_and_a_rerun_uploads_nothing() {
    let github = FakeGitHub::start(TOKEN);
    let t = tempfile::tempdir().unwrap();
    let (target, lambda_dir) = (t.path().join("target"), t.path().join("lambda"));
    let output = t.path().join("github_output");
    let first = run_ok(
        upload(&github, &target, &lambda_dir, "v1.0.0")
            .arg("--draft")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .arg("-vv"),
    );
    assert_not_shown(&first, TOKEN);
    assert_eq!(
        asset_names(&github),
        ["SHA256SUMS", "alpha-x86_64.zip", "beta-x86_64", "manifest.json"]
    );
    github.with(|s| {
        assert_eq!(s.releases.len(), 1);
        let release = &s.releases[0];
        assert!(release.draft && release.tag == "v1.0.0");
        let bytes = |name: &str| release.assets.iter().find(|a| a.name == name).unwrap().bytes.clone();
        assert_eq!(
            bytes("alpha-x86_64.zip"),
            std::fs::read(lambda_dir.join("alpha/bootstrap.zip")).unwrap()
        );
        assert_eq!(
            bytes("beta-x86_64"),
            std::fs::read(lambda_dir.join("extensions/beta")).unwrap()
        );
        assert_eq!(
            bytes("manifest.json"),
            std::fs::read(lambda_dir.join("manifest.json")).unwrap()
        );
        let sums = String::from_utf8(bytes("SHA256SUMS")).unwrap();
        assert!(
            sums.contains("  alpha-x86_64.zip\n") && sums.contains("  beta-x86_64\n"),
            "{sums}"
        );
        // Uploads went to the upload host, not the API.
        assert!(
            s.log
                .iter()
                .any(|l| l.starts_with("POST /api/uploads/repos/octo/lambda/releases/"))
        );
    });
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(
        outputs.contains("release-url<<") && outputs.contains("/octo/lambda/releases/tag/v1.0.0"),
        "{outputs}"
    );
    assert!(
        outputs.contains("assets<<") && outputs.contains("alpha-x86_64.zip"),
        "{outputs}"
    );

    let uploads = github.with(|s| s.upload_requests);
    let again = run_ok(&mut upload(&github, &target, &lambda_dir, "v1.0.0"));
    assert!(again.stderr.contains("nothing to upload"), "{}", again.stderr);
    assert_eq!(
        github.with(|s| s.upload_requests),
        uploads,
        "a re-run uploaded something"
    );

    // A changed artifact replaces the old asset; the unchanged ones stay.
    let changed = run_ok(upload(&github, &target, &lambda_dir, "v1.0.0").env("SOURCE_DATE_EPOCH", "1700000000"));
    assert!(
        changed.stderr.contains("replaced alpha-x86_64.zip"),
        "{}",
        changed.stderr
    );
    assert!(changed.stderr.contains("unchanged beta-x86_64"), "{}", changed.stderr);
    assert_eq!(
        asset_names(&github),
        ["SHA256SUMS", "alpha-x86_64.zip", "beta-x86_64", "manifest.json"]
    );
    github.with(|s| {
        let zip = s.releases[0]
            .assets
            .iter()
            .find(|a| a.name == "alpha-x86_64.zip")
            .unwrap();
        assert_eq!(
            zip.bytes,
            std::fs::read(lambda_dir.join("alpha/bootstrap.zip")).unwrap()
        );
    });
}

#[test]
fn server_errors_and_rate_limits_are_retried() {
    let github = FakeGitHub::start(TOKEN);
    github.with(|s| {
        s.fail_uploads = 2;
        s.rate_limit_once = true;
    });
    let t = tempfile::tempdir().unwrap();
    let run = run_ok(&mut upload(
        &github,
        &t.path().join("target"),
        &t.path().join("lambda"),
        "v2",
    ));
    assert_not_shown(&run, TOKEN);
    assert_eq!(asset_names(&github).len(), 4);
    assert_eq!(
        github.with(|s| s.upload_requests),
        4 + 3,
        "two 502s and one 429 were retried"
    );
}

#[test]
fn a_dropped_connection_is_retried() {
    let github = FakeGitHub::start_with_resets(TOKEN, 2);
    let t = tempfile::tempdir().unwrap();
    let run = run_ok(&mut upload(
        &github,
        &t.path().join("target"),
        &t.path().join("lambda"),
        "v6",
    ));
    assert_not_shown(&run, TOKEN);
    assert_eq!(asset_names(&github).len(), 4);
    assert_eq!(
        github.with(|s| s.upload_requests),
        4,
        "the dropped connections never reached the server"
    );
}

#[test]
fn without_digests_existing_assets_are_compared_by_download() {
    let github = FakeGitHub::start(TOKEN);
    github.with(|s| s.no_digest = true);
    let t = tempfile::tempdir().unwrap();
    let (target, lambda_dir) = (t.path().join("target"), t.path().join("lambda"));
    run_ok(&mut upload(&github, &target, &lambda_dir, "v3"));
    let uploads = github.with(|s| s.upload_requests);
    let again = run_ok(&mut upload(&github, &target, &lambda_dir, "v3"));
    assert!(again.stderr.contains("nothing to upload"), "{}", again.stderr);
    assert_eq!(github.with(|s| s.upload_requests), uploads);
}

#[test]
fn a_rejected_token_fails_at_once_with_advice_and_uploads_nothing() {
    let github = FakeGitHub::start(TOKEN);
    let t = tempfile::tempdir().unwrap();
    let run = run(
        upload(&github, &t.path().join("target"), &t.path().join("lambda"), "v4").env("GITHUB_TOKEN", "wrong-token"),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("GitHub rejected the token (401)"), "{}", run.stderr);
    assert!(!run.stderr.contains("wrong-token"), "{}", run.stderr);
    github.with(|s| {
        assert!(s.releases.is_empty());
        assert_eq!(s.log.len(), 1, "401 is not retried: {:?}", s.log);
    });
}

#[test]
fn missing_upload_inputs_fail_before_compiling() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let no_tag = run(lambda_build(&tiny())
        .env("CARGO_TARGET_DIR", &target)
        .env("GITHUB_REPOSITORY", "octo/lambda")
        .env("GITHUB_TOKEN", TOKEN)
        .args(["--upload", "github-release"]));
    assert_eq!(no_tag.code, 2, "{}", no_tag.stderr);
    assert!(no_tag.stderr.contains("needs a tag"), "{}", no_tag.stderr);
    let no_token = run(lambda_build(&tiny())
        .env("CARGO_TARGET_DIR", &target)
        .env("GITHUB_REPOSITORY", "octo/lambda")
        .env_remove("GITHUB_TOKEN")
        .args(["--upload", "github-release", "--release-tag", "v1"]));
    assert_eq!(no_token.code, 2, "{}", no_token.stderr);
    assert!(no_token.stderr.contains("needs a token"), "{}", no_token.stderr);
    assert!(!target.exists(), "something was compiled");
}

#[test]
fn concurrent_jobs_make_one_release_without_duplicate_assets() {
    let github = FakeGitHub::start(TOKEN);
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    // Build once so both jobs only upload (two cargo runs in one target dir would wait on its lock).
    run_ok(
        lambda_build(&tiny())
            .env("CARGO_TARGET_DIR", &target)
            .arg("--lambda-dir")
            .arg(t.path().join("warm")),
    );
    let jobs = (0..2).map(|i| upload(&github, &target, &t.path().join(format!("lambda{i}")), "v5"));
    for out in run_at_once(jobs.collect()) {
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_not_shown(&out, TOKEN);
    }
    github.with(|s| {
        assert_eq!(
            s.releases.len(),
            1,
            "{:?}",
            s.releases.iter().map(|r| &r.tag).collect::<Vec<_>>()
        )
    });
    assert_eq!(
        asset_names(&github),
        ["SHA256SUMS", "alpha-x86_64.zip", "beta-x86_64", "manifest.json"]
    );
}

/// A GitHub API that accepts and never answers, or drips its answer a byte at a time, is given
/// up on at --upload-timeout (each try is bounded too: 30 s plus the body at the rate floor),
/// with exit 1 saying so; both held the upload for as long as the server liked before.
#[test]
fn a_silent_or_dripping_github_is_given_up_on_at_the_upload_timeout() {
    let silent = support::http::Silent::start();
    let drip = support::http::Faulty::start(Default::default(), support::http::Misbehaviour::DripBody);
    let t = tempfile::tempdir().unwrap();
    let runs: Vec<_> = [silent.url.clone(), drip.url.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, api)| {
            let mut cmd = lambda_build(&tiny());
            cmd.env("GITHUB_REPOSITORY", "octo/lambda")
                .env("GITHUB_API_URL", &api)
                .env("GITHUB_TOKEN", TOKEN)
                .env("CARGO_TARGET_DIR", repo().join("target/test-s3"))
                .args([
                    "--upload",
                    "github-release",
                    "--release-tag",
                    "v1",
                    "--upload-timeout",
                    "3",
                ])
                .arg("--lambda-dir")
                .arg(t.path().join(format!("lambda-{n}")));
            std::thread::spawn(move || (api, run_bounded(&mut cmd, std::time::Duration::from_secs(300))))
        })
        .collect();
    for running in runs {
        let (api, out) = running.join().unwrap();
        assert_eq!(out.code, 1, "{api}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("the upload to GitHub release v1 did not finish within 3s (--upload-timeout)"),
            "{api}: {}",
            out.stderr
        );
        assert_not_shown(&out, TOKEN);
    }
}
