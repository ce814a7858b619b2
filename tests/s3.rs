//! `--upload s3://` against a real S3-compatible server (`s3s-fs`, which verifies SigV4 and
//! `x-amz-checksum-sha256`) behind a proxy that logs requests and injects faults: objects land
//! with the right bytes and checksums at content-addressed keys, a re-run puts nothing, a wrong
//! secret fails before any object is written, 503s and dropped connections are retried, a
//! corrupted body is refused by S3, concurrent runs leave one right object per key, and missing
//! credentials, region or a malformed URL are usage errors before anything compiles.

mod support;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha256};
use support::s3::{Fault, Proxy, S3, SECRET_KEY, aws_env};
use support::*;

const BUCKET: &str = "lambda-artifacts";

/// The tiny fixture built into `lambda_dir` and uploaded through `endpoint`.
fn upload(endpoint: &str, secret: &str, scratch: &Path, lambda_dir: &Path, to: &str) -> Command {
    let mut cmd = lambda_build(&tiny());
    cmd.envs(aws_env(endpoint, secret, scratch))
        .env("CARGO_TARGET_DIR", repo().join("target/test-s3"))
        .args(["--upload", to, "--lambda-dir"])
        .arg(lambda_dir);
    cmd
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// The tiny fixture uploaded to `to` through a proxy that injects `faults` in front of a
/// fresh server holding the bucket; `None` when s3s-fs is not installed.
fn through(faults: &[Fault], to: &str) -> Option<(S3, Proxy, tempfile::TempDir, Run)> {
    let s3 = S3::start()?;
    s3.bucket(BUCKET);
    let proxy = Proxy::start(s3.port, faults);
    let t = tempfile::tempdir().unwrap();
    let run = run(&mut upload(
        &proxy.url,
        SECRET_KEY,
        t.path(),
        &t.path().join("lambda"),
        to,
    ));
    Some((s3, proxy, t, run))
}

#[test]
fn objects_land_at_content_keys_with_checksums_and_a_rerun_puts_nothing() {
    let Some(s3) = S3::start() else { return };
    s3.bucket(BUCKET);
    let proxy = Proxy::start(s3.port, &[]);
    let t = tempfile::tempdir().unwrap();
    let lambda_dir = t.path().join("lambda");
    let (output, summary) = (t.path().join("output"), t.path().join("summary"));
    let first = run_ok(
        upload(
            &proxy.url,
            SECRET_KEY,
            t.path(),
            &lambda_dir,
            "s3://lambda-artifacts/ci/main",
        )
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary),
    );
    assert_not_shown(&first, SECRET_KEY);
    assert!(
        first.stderr.contains(&format!("::add-mask::{SECRET_KEY}")),
        "{}",
        first.stderr
    );

    let zip = std::fs::read(lambda_dir.join("alpha/bootstrap.zip")).unwrap();
    let binary = std::fs::read(lambda_dir.join("extensions/beta")).unwrap();
    let manifest_json = std::fs::read(lambda_dir.join("manifest.json")).unwrap();
    let (zip_key, binary_key) = (
        format!("ci/main/alpha/x86_64/{}.zip", sha256_hex(&zip)),
        format!("ci/main/beta/x86_64/{}", sha256_hex(&binary)),
    );
    let records = format!("ci/main/builds/{}", sha256_hex(&manifest_json));
    let objects = s3.objects(BUCKET);
    let keys: Vec<&str> = objects.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected = vec![
        zip_key.clone(),
        binary_key.clone(),
        format!("{records}/SHA256SUMS"),
        format!("{records}/manifest.json"),
    ];
    expected.sort();
    assert_eq!(keys, expected);
    let object = |key: &str| objects.iter().find(|(k, _)| k == key).unwrap().1.clone();
    assert_eq!(object(&zip_key), zip, "the zip in the bucket is not the one built");
    assert_eq!(object(&binary_key), binary);
    assert_eq!(object(&format!("{records}/manifest.json")), manifest_json);
    // SHA256SUMS lists the keys below the prefix, so `sha256sum -c` works in a copy of it.
    assert_eq!(
        String::from_utf8(object(&format!("{records}/SHA256SUMS"))).unwrap(),
        format!(
            "{}  {}\n{}  {}\n",
            sha256_hex(&zip),
            zip_key.trim_start_matches("ci/main/"),
            sha256_hex(&binary),
            binary_key.trim_start_matches("ci/main/")
        )
    );

    // Every PUT carried the checksum S3 verified: the artifact's code_sha256.
    let puts: Vec<_> = proxy.log().into_iter().filter(|l| l.method == "PUT").collect();
    assert_eq!(puts.len(), 4, "{puts:?}");
    for put in &puts {
        let bytes = object(put.path.trim_start_matches(&format!("/{BUCKET}/")));
        assert_eq!(put.checksum.as_deref(), Some(code_sha256(&bytes).as_str()), "{put:?}");
        assert_eq!(put.outcome, "200", "{put:?}");
    }

    // manifest.json records each artifact's object; s3-objects says the same.
    let manifest = support::manifest(&lambda_dir);
    for artifact in manifest["artifacts"].as_array().unwrap() {
        let stored = &artifact["s3"][0];
        assert_eq!(stored["bucket"], BUCKET);
        assert!(
            stored["key"]
                .as_str()
                .unwrap()
                .ends_with(artifact["sha256"].as_str().unwrap())
                || stored["key"].as_str().unwrap().ends_with(".zip"),
            "{artifact}"
        );
        assert_eq!(stored["version_id"], serde_json::Value::Null);
    }
    let outputs = std::fs::read_to_string(&output).unwrap();
    let start = outputs.find("s3-objects<<").expect("an s3-objects output");
    let json_line = outputs[start..].lines().nth(1).unwrap();
    let listed: serde_json::Value = serde_json::from_str(json_line).unwrap();
    let alpha = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "alpha")
        .unwrap();
    assert_eq!(alpha["key"], zip_key.as_str());
    assert_eq!(alpha["code_sha256"], code_sha256(&zip).as_str());
    assert_eq!(
        (alpha["arch"].as_str(), alpha["action"].as_str()),
        (Some("x86_64"), Some("uploaded"))
    );
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains(&format!("s3://{BUCKET}/{zip_key}"))
    );

    // A re-run finds every object by its checksum and puts nothing.
    let again = run_ok(&mut upload(
        &proxy.url,
        SECRET_KEY,
        t.path(),
        &lambda_dir,
        "s3://lambda-artifacts/ci/main",
    ));
    assert!(again.stderr.contains("nothing to upload"), "{}", again.stderr);
    assert_eq!(proxy.count("PUT"), 4, "a re-run put objects: {:?}", proxy.log());
    assert_eq!(s3.objects(BUCKET), objects);
}

#[test]
fn a_wrong_secret_fails_with_exit_1_before_any_object_is_written() {
    let Some(s3) = S3::start() else { return };
    s3.bucket(BUCKET);
    let t = tempfile::tempdir().unwrap();
    let lambda_dir = t.path().join("lambda");
    let wrong = "not-the-secret-key-0123456789";
    let run = run(&mut upload(
        &s3.url(),
        wrong,
        t.path(),
        &lambda_dir,
        "s3://lambda-artifacts/ci",
    ));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("access denied") && run.stderr.contains("SignatureDoesNotMatch"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(wrong), "the secret was printed:\n{}", run.stderr);
    assert_eq!(s3.objects(BUCKET), Vec::new(), "an object was written");
}

#[test]
fn a_missing_bucket_fails_at_once_saying_so() {
    let Some((_s3, proxy, _t, run)) = through(&[Fault::MissingBucket], "s3://no-such-bucket/x") else {
        return;
    };
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("bucket no-such-bucket does not exist (NoSuchBucket"),
        "{}",
        run.stderr
    );
    // Not retried: at most one PUT per artifact, none for the records.
    assert!(proxy.count("PUT") <= 2, "{:?}", proxy.log());
}

#[test]
fn a_bucket_in_another_region_fails_at_once_naming_its_region() {
    let Some((_s3, proxy, _t, run)) = through(&[Fault::OtherRegion], "s3://lambda-artifacts/x") else {
        return;
    };
    assert_eq!(run.code, 1, "{}", run.stderr);
    let error = run.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(
        error.contains("bucket lambda-artifacts is not in region eu-west-1")
            && error.contains("it is in us-west-2")
            && error.contains("set AWS_REGION"),
        "{}",
        run.stderr
    );
    assert!(
        proxy.count("PUT") == 0 && proxy.count("HEAD") <= 2,
        "retried: {:?}",
        proxy.log()
    );
}

#[test]
fn slowdowns_server_errors_and_dropped_connections_are_retried() {
    let faults = [Fault::SlowDown, Fault::Drop, Fault::InternalError, Fault::SlowDown];
    let Some((s3, proxy, t, ok)) = through(&faults, "s3://lambda-artifacts/r") else {
        return;
    };
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let lambda_dir = t.path().join("lambda");
    assert_eq!(proxy.faults_left(), 0, "{:?}", proxy.log());
    let injected = proxy
        .log()
        .iter()
        .filter(|l| !l.outcome.starts_with('2') && l.outcome != "404")
        .count();
    assert_eq!(injected, faults.len(), "{:?}", proxy.log());
    assert!(ok.stderr.contains("4 of 4 objects uploaded"), "{}", ok.stderr);
    let zip = std::fs::read(lambda_dir.join("alpha/bootstrap.zip")).unwrap();
    let key = format!("r/alpha/x86_64/{}.zip", sha256_hex(&zip));
    let objects = s3.objects(BUCKET);
    assert_eq!(objects.iter().find(|(k, _)| *k == key).map(|(_, b)| b), Some(&zip));
}

#[test]
fn a_body_that_does_not_match_its_checksum_is_refused_naming_the_artifact() {
    let Some((s3, proxy, _t, run)) = through(&[Fault::Corrupt], "s3://lambda-artifacts/c") else {
        return;
    };
    assert_eq!(run.code, 1, "{}", run.stderr);
    let refused = run.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(
        refused.contains("S3 rejected the checksum of") && (refused.contains("alpha") || refused.contains("beta")),
        "{}",
        run.stderr
    );
    let corrupted = proxy
        .log()
        .into_iter()
        .find(|l| l.outcome.ends_with("corrupted"))
        .unwrap();
    assert!(corrupted.outcome.starts_with('4'), "{corrupted:?}");
    let stored: Vec<String> = s3.objects(BUCKET).into_iter().map(|(k, _)| k).collect();
    assert!(
        !stored.iter().any(|k| corrupted.path.ends_with(k.as_str())),
        "the corrupted object was stored: {stored:?}"
    );
}

#[test]
fn concurrent_runs_leave_one_right_object_per_key_and_stable_keys_are_replaced() {
    let Some(s3) = S3::start() else { return };
    s3.bucket(BUCKET);
    let t = tempfile::tempdir().unwrap();
    let (one, two) = (t.path().join("one"), t.path().join("two"));
    let runs = run_at_once(vec![
        upload(&s3.url(), SECRET_KEY, t.path(), &one, "s3://lambda-artifacts/same"),
        upload(&s3.url(), SECRET_KEY, t.path(), &two, "s3://lambda-artifacts/same"),
    ]);
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let objects = s3.objects(BUCKET);
    assert_eq!(
        objects.len(),
        4,
        "{:?}",
        objects.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    for (key, bytes) in &objects {
        if !key.contains("/builds/") {
            assert!(key.contains(&sha256_hex(bytes)), "{key} holds other bytes");
        }
    }

    // Stable keys: the release asset names, replaced when the bytes change; in a bucket with
    // versioning, manifest.json pins each object's version.
    let versioned = Proxy::start(s3.port, &[]).versioned();
    let stable = |epoch: &str| {
        let mut cmd = upload(
            &versioned.url,
            SECRET_KEY,
            t.path(),
            &one,
            "s3://lambda-artifacts/stable",
        );
        cmd.args(["--s3-keys", "stable"]).env("SOURCE_DATE_EPOCH", epoch);
        let ran = run_ok(&mut cmd);
        let manifest = support::manifest(&one);
        let version = |name: &str| {
            let artifact = manifest["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .unwrap();
            artifact["s3"][0]["version_id"].as_str().unwrap().to_owned()
        };
        (ran, version("alpha"), version("beta"))
    };
    let (_, alpha_v1, beta_v1) = stable("1600000000");
    let (changed, alpha_v2, beta_v2) = stable("1700000000");
    assert!(
        changed
            .stderr
            .contains("replaced s3://lambda-artifacts/stable/alpha-x86_64.zip"),
        "{}",
        changed.stderr
    );
    assert!(
        changed
            .stderr
            .contains("unchanged s3://lambda-artifacts/stable/beta-x86_64"),
        "{}",
        changed.stderr
    );
    assert_ne!(alpha_v1, alpha_v2, "a replaced object keeps its version id");
    assert_eq!(beta_v1, beta_v2, "an unchanged object got another version id");
    let objects = s3.objects(BUCKET);
    let zip = std::fs::read(one.join("alpha/bootstrap.zip")).unwrap();
    let stored = objects.iter().find(|(k, _)| k == "stable/alpha-x86_64.zip").unwrap();
    assert_eq!(stored.1, zip);
    assert!(objects.iter().any(|(k, _)| k == "stable/manifest.json"));
}

/// What must fail before anything compiles: the target dir stays empty.
fn assert_usage_before_compiling(run: &Run, target: &Path, needles: &[&str]) {
    assert_usage(run, needles);
    assert!(!target.join("debug").exists(), "something was compiled");
}

/// An upload to `to` (the AWS environment of `scratch` less `drop`, plus `extra`) that must stop
/// before compiling into `target`.
fn checked_run(scratch: &Path, target: &Path, to: &str, drop: &[&str], extra: &[(&str, &str)]) -> Run {
    let mut cmd = lambda_build(&tiny());
    cmd.envs(aws_env("http://127.0.0.1:9", SECRET_KEY, scratch))
        .env("CARGO_TARGET_DIR", target)
        .args(["--upload", to]);
    for var in drop {
        cmd.env_remove(var);
    }
    cmd.envs(extra.iter().copied());
    run_bounded(&mut cmd, std::time::Duration::from_secs(60))
}

#[test]
fn missing_credentials_region_or_a_malformed_url_are_usage_errors_before_compiling() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let cmd = |to: &str, drop: &[&str], extra: &[(&str, &str)]| checked_run(t.path(), &target, to, drop, extra);
    assert_usage_before_compiling(
        &cmd("s3://Bad_Bucket/x", &[], &[]),
        &target,
        &[
            "invalid upload \"s3://Bad_Bucket/x\" from flag --upload",
            "accepted: github-release or s3://BUCKET",
        ],
    );
    assert_usage_before_compiling(
        &cmd("s3://good-bucket", &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"], &[]),
        &target,
        &[
            "needs AWS credentials and none were found",
            "AWS_ACCESS_KEY_ID",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_PROFILE",
        ],
    );
    assert_usage_before_compiling(
        &cmd("s3://good-bucket", &["AWS_REGION"], &[]),
        &target,
        &["needs an AWS region", "AWS_REGION", "AWS_DEFAULT_REGION"],
    );
    assert_usage_before_compiling(
        &cmd("s3://good-bucket", &[], &[("AWS_ENDPOINT_URL_S3", "127.0.0.1:9000")]),
        &target,
        &["invalid S3 endpoint \"127.0.0.1:9000\" from env AWS_ENDPOINT_URL_S3"],
    );
    assert_usage_before_compiling(
        &cmd("s3://good-bucket", &[], &[("LAMBDA_BUILD_S3_KEYS", "random")]),
        &target,
        &[
            "invalid s3 keys \"random\" from env LAMBDA_BUILD_S3_KEYS",
            "accepted: content",
        ],
    );
}

/// What the AWS SDK panicked on, blocked on, or reported only after compiling (or vaguely):
/// each is a one-line usage error naming the variable, file or profile, before compiling.
#[test]
fn hostile_aws_settings_are_usage_errors_naming_them_before_compiling() {
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let fifo = t.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let config = t.path().join("config");
    std::fs::write(
        &config,
        "[default]\nendpoint_url = not a url\n[profile ci]\nregion = eu-west-1\n",
    )
    .unwrap();
    let (fifo, config) = (fifo.to_str().unwrap(), config.to_str().unwrap());
    let cmd = |to: &str, drop: &[&str], extra: &[(&str, &str)]| checked_run(t.path(), &target, to, drop, extra);
    let ok = "s3://good-bucket";
    let endpoint = ["AWS_ENDPOINT_URL_S3"];
    for (to, drop, extra, needles) in [
        (
            ok,
            &[][..],
            &[("AWS_MAX_ATTEMPTS", "0")][..],
            &[
                "invalid AWS_MAX_ATTEMPTS \"0\" from env AWS_MAX_ATTEMPTS",
                "from 1 to 100",
            ][..],
        ),
        (
            ok,
            &[],
            &[("AWS_MAX_ATTEMPTS", "abc")],
            &["invalid AWS_MAX_ATTEMPTS \"abc\""],
        ),
        (
            ok,
            &[],
            &[("AWS_RETRY_MODE", "bogus")],
            &["invalid AWS_RETRY_MODE \"bogus\"", "standard or adaptive"],
        ),
        (
            ok,
            &[],
            &[("AWS_ACCESS_KEY_ID", "AKIA\r\nX-Evil: 1")],
            &["invalid AWS_ACCESS_KEY_ID", "printable ASCII"],
        ),
        (
            ok,
            &[],
            &[("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:99999")],
            &[
                "invalid S3 endpoint \"http://127.0.0.1:99999\" from env AWS_ENDPOINT_URL_S3",
                "port",
            ],
        ),
        (
            ok,
            &[],
            &[("AWS_ENDPOINT_URL_S3", "https://s3.example.com/base?x=1")],
            &["from env AWS_ENDPOINT_URL_S3: it has a path"],
        ),
        (
            ok,
            &[],
            &[("AWS_ENDPOINT_URL_S3", "https://s3.example.com\n")],
            &["whitespace"],
        ),
        (
            ok,
            &endpoint,
            &[("AWS_CONFIG_FILE", config)],
            &["invalid S3 endpoint \"not a url\" from endpoint_url of AWS profile \"default\""],
        ),
        (
            "s3://192.168.1.1",
            &[],
            &[],
            &[
                "invalid upload \"s3://192.168.1.1\" from flag --upload",
                "not an IP address",
            ],
        ),
        (
            ok,
            &[],
            &[("AWS_CONFIG_FILE", fifo)],
            &["an AWS config file", "(from env AWS_CONFIG_FILE) is not a regular file"],
        ),
        (
            ok,
            &[],
            &[("AWS_SHARED_CREDENTIALS_FILE", "/dev/zero")],
            &["(from env AWS_SHARED_CREDENTIALS_FILE) is not a regular file"],
        ),
        (
            ok,
            &[],
            &[("AWS_CONFIG_FILE", config), ("AWS_PROFILE", "nonexistent")],
            &[
                "AWS_PROFILE \"nonexistent\" (from env AWS_PROFILE) names no profile in",
                config,
                "one of [ci, default]",
            ],
        ),
        (
            ok,
            &[],
            &[("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token")],
            &["the web identity token file /nonexistent/token (from env AWS_WEB_IDENTITY_TOKEN_FILE) does not exist"],
        ),
    ] {
        let ran = cmd(to, drop, extra);
        assert!(!ran.stderr.contains("panicked"), "{extra:?}: {}", ran.stderr);
        assert_usage_before_compiling(&ran, &target, needles);
    }
    // A helper that never exits is stopped at its limit with its process group: exit 1.
    std::fs::write(
        t.path().join("helper-config"),
        "[default]\ncredential_process = sleep 1000 || echo secret\n",
    )
    .unwrap();
    let helper = t.path().join("helper-config");
    let hung = cmd(
        ok,
        &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        &[
            ("AWS_CONFIG_FILE", helper.to_str().unwrap()),
            ("LAMBDA_BUILD_PROBE_TIMEOUT", "1"),
        ],
    );
    assert_eq!(hung.code, 1, "{}", hung.stderr);
    assert!(
        hung.stderr.contains("the credential_process of AWS profile \"default\" (`sleep`, arguments not shown) did not answer within 1s (LAMBDA_BUILD_PROBE_TIMEOUT); it was stopped"),
        "{}",
        hung.stderr
    );
    assert!(!hung.stderr.contains("secret"), "{}", hung.stderr);
    assert!(!target.join("debug").exists(), "something was compiled");
}

/// An endpoint that accepts and never answers fails at the first-byte bound of its one try; one
/// that drips its headers is stopped by --upload-timeout. Either hung for good before.
#[test]
fn a_silent_or_dripping_endpoint_fails_within_its_bounds() {
    let silent = support::http::Silent::start();
    let drip = support::http::Faulty::start(Default::default(), support::http::Misbehaviour::DripHeaders);
    let t = tempfile::tempdir().unwrap();
    let mut one_try = upload(
        &silent.url,
        SECRET_KEY,
        t.path(),
        &t.path().join("a"),
        "s3://lambda-artifacts",
    );
    one_try.env("AWS_MAX_ATTEMPTS", "1");
    let mut total = upload(
        &drip.url,
        SECRET_KEY,
        t.path(),
        &t.path().join("b"),
        "s3://lambda-artifacts",
    );
    total.args(["--upload-timeout", "3"]);
    let total = std::thread::spawn(move || run_bounded(&mut total, std::time::Duration::from_secs(300)));
    let one_try = run_bounded(&mut one_try, std::time::Duration::from_secs(300));
    assert_eq!(one_try.code, 1, "{}", one_try.stderr);
    assert!(one_try.stderr.contains("checking alpha"), "{}", one_try.stderr);
    assert!(one_try.stderr.to_lowercase().contains("timeout"), "{}", one_try.stderr);
    let total = total.join().unwrap();
    assert_eq!(total.code, 1, "{}", total.stderr);
    assert!(
        total
            .stderr
            .contains("did not finish within 3s (--upload-timeout, counted from its first request)"),
        "{}",
        total.stderr
    );
}

/// The answer of a stand-in for STS to AssumeRoleWithWebIdentity: the server's own keys.
fn sts_answer() -> String {
    format!(
        r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>{}</AccessKeyId>
      <SecretAccessKey>{SECRET_KEY}</SecretAccessKey>
      <SessionToken>session-token-from-oidc</SessionToken>
      <Expiration>2099-01-01T00:00:00Z</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>repo:octo/lambda:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/deploy/ci</Arn>
      <AssumedRoleId>AROAEXAMPLE:ci</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#,
        support::s3::ACCESS_KEY
    )
}

#[test]
fn credentials_from_a_profile_or_web_identity_sign_real_uploads() {
    let Some(s3) = S3::start() else { return };
    s3.bucket(BUCKET);
    let t = tempfile::tempdir().unwrap();
    let (config, credentials) = (t.path().join("no-aws-config"), t.path().join("no-aws-credentials"));
    std::fs::write(
        &config,
        format!("[profile ci]\nregion = eu-central-1\nendpoint_url = {}\n", s3.url()),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[ci]\naws_access_key_id = {}\naws_secret_access_key = {SECRET_KEY}\n",
            support::s3::ACCESS_KEY
        ),
    )
    .unwrap();
    // A named profile: its keys, its region and its endpoint (on 127.0.0.1: path-style).
    let mut profile = upload(
        &s3.url(),
        SECRET_KEY,
        t.path(),
        &t.path().join("a"),
        "s3://lambda-artifacts/p",
    );
    profile
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_REGION")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env("AWS_PROFILE", "ci");
    let ran = run_ok(&mut profile);
    let said = format!(
        "(endpoint {} from endpoint_url of AWS profile \"ci\", region eu-central-1)",
        s3.url()
    );
    assert!(ran.stderr.contains(&said), "{}", ran.stderr);

    // A credential_process that answers and leaves a background child holding its output:
    // it has answered (the SDK waited for the pipe to close, forever).
    let helper = t.path().join("helper");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nsleep 1000 &\necho '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{SECRET_KEY}\"}}'\n",
            support::s3::ACCESS_KEY
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let process_config = t.path().join("process-config");
    std::fs::write(
        &process_config,
        format!("[default]\ncredential_process = {}\n", helper.display()),
    )
    .unwrap();
    let mut process = upload(
        &s3.url(),
        SECRET_KEY,
        t.path(),
        &t.path().join("c"),
        "s3://lambda-artifacts/c",
    );
    process
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", &process_config);
    let answered = run_bounded(&mut process, std::time::Duration::from_secs(300));
    assert_eq!(answered.code, 0, "{}", answered.stderr);

    // Web identity, as GitHub OIDC sets it up: the token file and role go to STS (a stand-in
    // on 127.0.0.1), whose temporary keys sign the upload.
    let sts = support::http::Server::start(Default::default(), Some(support::http::Reply::ok(sts_answer())));
    let token = t.path().join("oidc-token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.e30.sig").unwrap();
    let mut web = upload(
        &s3.url(),
        SECRET_KEY,
        t.path(),
        &t.path().join("b"),
        "s3://lambda-artifacts/w",
    );
    web.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deploy")
        .env("AWS_ROLE_SESSION_NAME", "ci")
        .env("AWS_ENDPOINT_URL_STS", &sts.url);
    run_ok(&mut web);
    assert!(!sts.requests().is_empty(), "STS was not asked");
    let keys: Vec<String> = s3.objects(BUCKET).into_iter().map(|(k, _)| k).collect();
    assert!(keys.iter().any(|k| k.starts_with("p/alpha/")), "{keys:?}");
    assert!(keys.iter().any(|k| k.starts_with("w/alpha/")), "{keys:?}");
    assert!(keys.iter().any(|k| k.starts_with("c/alpha/")), "{keys:?}");
}

#[test]
fn instance_metadata_is_never_asked_when_disabled() {
    // The SDK's instance-metadata client, pointed at a local server that logs what it is asked.
    let imds = support::http::Server::start(Default::default(), None);
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target");
    let no_credentials = |disabled: &str| {
        let mut cmd = lambda_build(&tiny());
        cmd.envs(aws_env("http://127.0.0.1:9", SECRET_KEY, t.path()))
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_EC2_METADATA_DISABLED", disabled)
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url)
            .env("CARGO_TARGET_DIR", &target)
            .args(["--upload", "s3://good-bucket"]);
        run_bounded(&mut cmd, std::time::Duration::from_secs(120))
    };
    assert_usage(&no_credentials("true"), &["needs AWS credentials and none were found"]);
    assert_eq!(imds.requests(), Vec::<String>::new(), "instance metadata was asked");
    // Control: enabled, the same run asks it (so the check above can fail); its refusal is a
    // failure of a credential service (exit 1), before anything compiles.
    let enabled = no_credentials("false");
    assert_eq!(enabled.code, 1, "{}", enabled.stderr);
    assert!(
        enabled
            .stderr
            .contains("loading AWS credentials for --upload s3://good-bucket failed: "),
        "{}",
        enabled.stderr
    );
    assert!(
        !imds.requests().is_empty(),
        "the control run did not ask instance metadata"
    );
    assert!(!target.join("debug").exists(), "something was compiled");
}

#[test]
fn a_github_release_and_a_bucket_in_one_run_share_one_manifest() {
    let Some(s3) = S3::start() else { return };
    s3.bucket(BUCKET);
    let github = support::github::FakeGitHub::start("ghp_test_token_for_both_0123456789");
    let t = tempfile::tempdir().unwrap();
    let lambda_dir = t.path().join("lambda");
    let mut both = upload(
        &s3.url(),
        SECRET_KEY,
        t.path(),
        &lambda_dir,
        "s3://lambda-artifacts/both",
    );
    both.envs(github.env())
        .args(["--upload", "github-release", "--release-tag", "v2.0.0"]);
    run_ok(&mut both);
    let manifest_json = std::fs::read(lambda_dir.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&manifest_json).unwrap();
    assert_eq!(manifest["artifacts"][0]["s3"][0]["bucket"], BUCKET);
    // The release's manifest.json is the lambda dir's: it records the S3 objects too.
    let released = github.with(|s| {
        s.releases[0]
            .assets
            .iter()
            .find(|a| a.name == "manifest.json")
            .unwrap()
            .bytes
            .clone()
    });
    assert_eq!(released, manifest_json);
    let in_bucket = s3
        .objects(BUCKET)
        .into_iter()
        .find(|(k, _)| k.ends_with("/manifest.json"))
        .unwrap()
        .1;
    assert_eq!(in_bucket, manifest_json);
}
