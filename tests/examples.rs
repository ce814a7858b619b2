//! The bundled `examples/` workspace built for x86_64 and arm64 in one run, checked file by
//! file, and every function invoked through a real Lambda Runtime API emulator.

mod support;

use std::path::Path;
use std::process::Command;

use object::{Architecture, Object};
use support::*;

/// Builds `examples/` for both arches as binaries and zips into `lambda_dir`.
fn build_matrix(lambda_dir: &Path) -> Option<Run> {
    if !have_tool("an aarch64 Rust standard library", arm64_rustc().is_some()) {
        return None;
    }
    let mut cmd = lambda_build(&examples());
    cmd.env("CARGO_TARGET_DIR", examples_target_dir())
        .env("RUSTC", arm64_rustc().unwrap())
        .args(["--x86-64", "--arm64", "--output-format", "binary,zip", "--lambda-dir"])
        .arg(lambda_dir);
    Some(run_ok(&mut cmd))
}

fn artifact<'a>(manifest: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in the manifest"))
}

#[test]
fn matrix_build_has_the_layout_zips_checksums_and_manifest() {
    let _lock = examples_lock();
    let out = tempfile::tempdir().unwrap();
    let lambda_dir = out.path().join("lambda");
    let Some(run) = build_matrix(&lambda_dir) else { return };
    assert!(
        run.stderr.contains("aarch64-unknown-linux-gnu") && run.stderr.matches("Compiling: ").count() == 1,
        "one cargo invocation for both targets:\n{}",
        run.stderr
    );
    // With no ZIG and no zig on PATH (the CI machine has `pip install ziglang`), the build finds
    // and uses that Zig, without a download.
    if std::env::var_os("ZIG").is_none() && !on_path("zig") {
        assert!(
            run.stderr.contains("  zig ") && run.stderr.contains(" from python3 -m ziglang"),
            "the build did not use python3 -m ziglang:\n{}",
            run.stderr
        );
    }

    let mut expected = Vec::new();
    for arch in ["x86_64", "arm64"] {
        for f in ["hello", "http-hello"] {
            expected.push(format!("{arch}/{f}/bootstrap"));
            expected.push(format!("{arch}/{f}/bootstrap.zip"));
        }
        expected.push(format!("{arch}/extensions/echo-extension"));
        expected.push(format!("{arch}/extensions/echo-extension.zip"));
    }
    for path in &expected {
        assert!(lambda_dir.join(path).is_file(), "{path} missing");
    }

    // Zip entries and modes.
    assert_eq!(
        zip_entries(&lambda_dir.join("arm64/hello/bootstrap.zip")),
        [("bootstrap".to_owned(), 0o755)]
    );
    assert_eq!(
        zip_entries(&lambda_dir.join("x86_64/extensions/echo-extension.zip")),
        [("extensions/echo-extension".to_owned(), 0o755)]
    );

    // The arm64 binary is an aarch64 ELF; the x86_64 one an x86-64 ELF; zips hold the same bytes.
    for (arch, machine) in [("arm64", Architecture::Aarch64), ("x86_64", Architecture::X86_64)] {
        let binary = std::fs::read(lambda_dir.join(format!("{arch}/hello/bootstrap"))).unwrap();
        assert_eq!(object::File::parse(&*binary).unwrap().architecture(), machine, "{arch}");
        assert_eq!(
            zip_file(&lambda_dir.join(format!("{arch}/hello/bootstrap.zip")), "bootstrap"),
            binary
        );
    }

    // sha256sum -c accepts SHA256SUMS.
    assert_eq!(sha256sum_check(&lambda_dir), expected.len());

    // Manifest fields.
    let manifest = manifest(&lambda_dir);
    assert_eq!(manifest["version"], 1);
    assert_eq!(manifest["tool"]["name"], "lambda-build");
    assert_eq!(manifest["artifacts"].as_array().unwrap().len(), expected.len());
    let zip = artifact(&manifest, "arm64/http-hello/bootstrap.zip");
    assert_eq!(zip["name"], "http-hello");
    assert_eq!(zip["kind"], "function");
    assert_eq!(zip["arch"], "arm64");
    // cargo-zigbuild linked it against provided.al2023's glibc (the default runtime).
    assert_eq!(zip["target"], "aarch64-unknown-linux-gnu.2.34");
    assert_eq!(zip["runtime"], "provided.al2023");
    for record in manifest["artifacts"].as_array().unwrap() {
        let glibc = record["glibc_required"].as_str().expect("glibc-linked binaries");
        let version: Vec<u32> = glibc.split('.').map(|p| p.parse().unwrap()).collect();
        assert!(version[..2] <= [2, 34][..], "{record}");
    }
    assert_eq!(zip["profile"], "dev");
    assert_eq!(zip["format"], "zip");
    let bytes = std::fs::read(lambda_dir.join("arm64/http-hello/bootstrap.zip")).unwrap();
    assert_eq!(zip["size"], bytes.len() as u64);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    assert_eq!(zip["sha256"], lambda_build::record::hex(&digest));
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest);
    assert_eq!(zip["code_sha256"], b64);
    assert!(zip["unzipped_size"].as_u64().unwrap() > zip["size"].as_u64().unwrap());
    assert_eq!(
        artifact(&manifest, "x86_64/extensions/echo-extension")["kind"],
        "extension"
    );
    assert_eq!(
        artifact(&manifest, "x86_64/extensions/echo-extension")["format"],
        "binary"
    );
}

#[test]
fn zips_are_identical_after_relinking_under_another_umask() {
    let _lock = examples_lock();
    let out = tempfile::tempdir().unwrap();
    let first = out.path().join("first");
    if build_matrix(&first).is_none() {
        return;
    }
    // Remove the built binaries: cargo links them again, with new mtimes.
    for triple in ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] {
        std::fs::remove_file(examples_target_dir().join(triple).join("debug/hello")).unwrap();
    }
    let second = out.path().join("second");
    let mut cmd = lambda_build(&examples());
    cmd.env("CARGO_TARGET_DIR", examples_target_dir())
        .env("RUSTC", arm64_rustc().unwrap())
        .args(["--x86-64", "--arm64", "--output-format", "binary,zip", "--lambda-dir"])
        .arg(&second);
    let script = "umask 077; exec \"$0\" \"$@\"";
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(script)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(examples());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    run_ok(&mut sh);
    for path in [
        "x86_64/hello/bootstrap.zip",
        "arm64/hello/bootstrap.zip",
        "arm64/extensions/echo-extension.zip",
    ] {
        let (a, b) = (
            std::fs::read(first.join(path)).unwrap(),
            std::fs::read(second.join(path)).unwrap(),
        );
        assert!(a == b, "{path} differs after relinking under umask 077");
    }
    assert_eq!(
        std::fs::read(first.join("SHA256SUMS")).unwrap(),
        std::fs::read(second.join("SHA256SUMS")).unwrap()
    );
}

#[test]
fn every_function_answers_through_the_lambda_runtime_api_emulator() {
    let _lock = examples_lock();
    let cargo_lambda = cargo_lambda();
    if !have_tool("cargo-lambda (pip install cargo-lambda)", cargo_lambda.is_some())
        || !have_tool("qemu-aarch64-static", on_path("qemu-aarch64-static"))
    {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let lambda_dir = out.path().join("lambda");
    if build_matrix(&lambda_dir).is_none() {
        return;
    }
    let emulator = Emulator::start(&cargo_lambda.unwrap(), &examples());
    let apigw = std::fs::read_to_string(repo().join("tests/fixtures/apigw-v2-request.json")).unwrap();
    for (arch, machine) in [("x86_64", "x86_64"), ("arm64", "aarch64")] {
        // Run what Lambda would run: the bootstrap out of the zip.
        let hello = unzip(
            &lambda_dir.join(format!("{arch}/hello/bootstrap.zip")),
            &out.path().join(format!("{arch}-hello")),
        );
        let name = "hello";
        let mut function = emulator.serve(name, &hello.join("bootstrap"), arch == "arm64");
        let answer = emulator.invoke(name, r#"{"name":"ci"}"#);
        let _ = function.kill();
        let _ = function.wait();
        assert_eq!(answer["message"], "hello, ci", "{arch}: {answer}");
        assert_eq!(answer["arch"], machine, "{arch}: {answer}");

        let http = unzip(
            &lambda_dir.join(format!("{arch}/http-hello/bootstrap.zip")),
            &out.path().join(format!("{arch}-http")),
        );
        let name = "http-hello";
        let mut function = emulator.serve(name, &http.join("bootstrap"), arch == "arm64");
        let answer = emulator.invoke(name, &apigw);
        let _ = function.kill();
        let _ = function.wait();
        assert_eq!(answer["statusCode"], 200, "{arch}: {answer}");
        assert_eq!(
            answer["body"],
            format!("hello, ci from /greet on {machine}"),
            "{arch}: {answer}"
        );
    }
}
