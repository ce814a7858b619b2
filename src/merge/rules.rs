//! What a shard's `manifest.json` may say. A shard is untrusted input (another CI job, an
//! artifact store): its paths become files under `--out` and its fields text in the merged
//! records, so every record must be exactly what lambda-build itself writes. Each check returns
//! the rule a record breaks, for a one-line error.

use base64::Engine;

use crate::config::{GlibcVersion, OutputFormat, Runtime, Target};
use crate::discover::Kind;
use crate::plan::output_path;
use crate::record::Record;

/// Longest path a record may name, in bytes (Linux's `PATH_MAX` less the `--out` prefix room).
const MAX_PATH: usize = 1024;
/// Longest path component (and binary name), in bytes: `NAME_MAX` on Linux and macOS.
const MAX_COMPONENT: usize = 255;

/// A path that names a file below a folder and nothing else: relative, `/`-separated, with no
/// empty, `.` or `..` component, no backslash and no control character (a newline would also
/// forge a line of `SHA256SUMS`).
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.len() > MAX_PATH {
        return Err(format!("the path is longer than {MAX_PATH} bytes"));
    }
    if path.starts_with('/') {
        return Err("the path is absolute (it must be relative to the lambda dir)".into());
    }
    if path.contains('\\') {
        return Err("the path contains a backslash (it must be '/'-separated)".into());
    }
    if path.chars().any(char::is_control) {
        return Err("the path contains a control character (NUL, newline, ...)".into());
    }
    for component in path.split('/') {
        match component {
            "" => return Err("the path has an empty component (\"//\" or a trailing '/')".into()),
            "." => return Err("the path has a \".\" component".into()),
            ".." => return Err("the path has a \"..\" component".into()),
            c if c.len() > MAX_COMPONENT => {
                return Err(format!("a component of the path is longer than {MAX_COMPONENT} bytes"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every field of a record that ends up in a path or in text the merge writes.
pub fn check_record(record: &Record) -> Result<(), String> {
    check_path(&record.path)?;
    check_name(&record.name)?;
    let format = OutputFormat::parse(&record.format)
        .filter(|f| f.as_str() == record.format)
        .ok_or("format must be zip or binary")?;
    let target = Target::parse(&record.target)
        .filter(|t| t.to_string() == record.target)
        .ok_or("target must be a Lambda target triple such as x86_64-unknown-linux-gnu")?;
    if target.arch.lambda_name() != record.arch {
        return Err(format!(
            "arch must be {}, the architecture of target {}",
            target.arch.lambda_name(),
            record.target
        ));
    }
    check_layout(record, record.kind, format, &target)?;
    if !is_hex_digest(&record.sha256) {
        return Err("sha256 must be 64 lower-case hex digits".into());
    }
    if !(record.inputs_sha256.is_empty() || is_hex_digest(&record.inputs_sha256)) {
        return Err("inputs_sha256 must be empty or 64 lower-case hex digits".into());
    }
    if record.code_sha256 != code_sha256(&record.sha256) {
        return Err("code_sha256 must be the base64 of the sha256 digest (Lambda's CodeSha256)".into());
    }
    check_name(&record.profile).map_err(|_| "profile must be a cargo profile name".to_owned())?;
    if !(record.runtime.is_empty() || Runtime::parse(&record.runtime).is_some_and(|r| r.as_str() == record.runtime)) {
        return Err("runtime must be provided.al2023 or provided.al2".into());
    }
    if let Some(glibc) = &record.glibc_required
        && GlibcVersion::parse(glibc).is_none_or(|v| v.to_string() != *glibc)
    {
        return Err("glibc_required must be a glibc version such as 2.28, or null".into());
    }
    if let Some(smoke) = &record.smoke
        && !crate::smoke::OUTCOMES.contains(&smoke.outcome.as_str())
    {
        return Err(format!(
            "smoke.outcome must be one of {}",
            crate::smoke::OUTCOMES.join(", ")
        ));
    }
    for object in &record.s3 {
        check_s3(object)?;
    }
    Ok(())
}

/// Where a shard says it stored an artifact: a bucket name S3 allows, a key S3 takes, a version
/// id of printable characters. These pass to `s3-objects` and deployment tools unchanged.
fn check_s3(object: &crate::record::S3Object) -> Result<(), String> {
    if !crate::upload::s3::valid_bucket(&object.bucket) {
        return Err("s3.bucket must be an S3 bucket name".into());
    }
    if object.key.is_empty() || object.key.len() > 1024 || object.key.chars().any(char::is_control) {
        return Err("s3.key must be 1 to 1024 bytes without control characters".into());
    }
    if let Some(version) = &object.version_id
        && (version.is_empty() || version.len() > 1024 || !version.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err("s3.version_id must be printable ASCII, or null".into());
    }
    Ok(())
}

/// A binary (or profile) name as cargo allows it: letters, digits, `-` and `_`.
fn check_name(name: &str) -> Result<(), String> {
    let sane = !name.is_empty()
        && name.len() <= MAX_COMPONENT
        && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if sane {
        Ok(())
    } else {
        Err(format!(
            "name must be 1 to {MAX_COMPONENT} bytes of letters, digits, '-' and '_'"
        ))
    }
}

/// The path must be where a run puts this artifact: cargo-lambda's layout, under no folder, its
/// arch's folder, or its triple's folder, flattened (`--flatten`) or not (see
/// [`crate::plan::output_path`]).
fn check_layout(record: &Record, kind: Kind, format: OutputFormat, target: &Target) -> Result<(), String> {
    let triple = target.triple();
    let places = [None, Some(record.arch.as_str()), Some(triple.as_str())];
    let paths = |flat| places.map(|dir| output_path(kind, &record.name, format, dir, flat));
    if paths(false).iter().chain(&paths(true)).any(|path| *path == record.path) {
        return Ok(());
    }
    Err(format!(
        "the path is not where lambda-build puts the {} {} {:?} for {}, which is one of {}",
        format.as_str(),
        kind.as_str(),
        record.name,
        record.target,
        paths(false).join(", ")
    ))
}

/// 64 lower-case hex digits: a SHA-256 as `SHA256SUMS` and the manifest write it.
pub fn is_hex_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Lambda's `CodeSha256` for a hex digest: base64 of the raw bytes.
fn code_sha256(hex: &str) -> String {
    crate::record::unhex(hex)
        .map(|raw| base64::engine::general_purpose::STANDARD.encode(raw))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> Record {
        let sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".to_owned();
        Record {
            name: "hello".into(),
            kind: Kind::Function,
            arch: "x86_64".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            profile: "release".into(),
            format: "zip".into(),
            path: path.into(),
            size: 5,
            code_sha256: "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=".into(),
            sha256,
            unzipped_size: 5,
            runtime: "provided.al2023".into(),
            glibc_required: Some("2.28".into()),
            inputs_sha256: String::new(),
            smoke: None,
            s3: Vec::new(),
        }
    }

    #[test]
    fn only_relative_normal_paths_pass() {
        for good in ["a/bootstrap.zip", "x86_64/extensions/e", "é/bootstrap"] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        for (bad, rule) in [
            ("", "empty"),
            ("/etc/passwd", "absolute"),
            ("../../x/evil.sh", "\"..\""),
            ("x/../extensions/a.zip", "\"..\""),
            ("./a", "\".\""),
            ("a//b", "empty component"),
            ("a/", "empty component"),
            ("a\\..\\b", "backslash"),
            ("a\0b", "control"),
            ("a\nb", "control"),
            (&"x".repeat(300), "component"),
            (&"x/".repeat(600), "longer than 1024"),
        ] {
            let err = check_path(bad).unwrap_err();
            assert!(err.contains(rule), "{bad:?}: {err}");
        }
    }

    #[test]
    fn a_record_must_be_what_lambda_build_writes() {
        for good in [
            "hello/bootstrap.zip",
            "x86_64/hello/bootstrap.zip",
            "x86_64-unknown-linux-gnu/hello/bootstrap.zip",
        ] {
            assert_eq!(check_record(&record(good)), Ok(()), "{good}");
        }
        // cargo-zigbuild records the glibc it linked for; the folder is the plain triple.
        let mut zig = record("x86_64-unknown-linux-gnu/hello/bootstrap.zip");
        zig.target = "x86_64-unknown-linux-gnu.2.34".into();
        assert_eq!(check_record(&zig), Ok(()));
        type Change = fn(&mut Record);
        let bad: [(&str, Change); 16] = [
            ("not where lambda-build puts", |r| r.path = "other/bootstrap.zip".into()),
            ("not where lambda-build puts", |r| {
                r.path = "arm64/hello/bootstrap.zip".into()
            }),
            ("name must be", |r| r.name = "a|b".into()),
            ("name must be", |r| r.name = String::new()),
            ("format must be", |r| r.format = "ZIP".into()),
            ("target must be", |r| r.target = "x86_64".into()),
            ("arch must be x86_64", |r| r.arch = "arm64".into()),
            ("sha256 must be", |r| r.sha256 = r.sha256.to_uppercase()),
            ("code_sha256 must be", |r| r.code_sha256 = "AAAA".into()),
            ("inputs_sha256 must be", |r| r.inputs_sha256 = "x".into()),
            ("runtime must be", |r| r.runtime = "al2".into()),
            ("glibc_required must be", |r| r.glibc_required = Some("2.28\n".into())),
            ("s3.bucket must be", |r| {
                r.s3 = vec![crate::record::S3Object {
                    bucket: "../etc".into(),
                    key: "k".into(),
                    version_id: None,
                }]
            }),
            ("s3.key must be", |r| {
                r.s3 = vec![crate::record::S3Object {
                    bucket: "bucket".into(),
                    key: "a\nb".into(),
                    version_id: None,
                }]
            }),
            ("s3.version_id must be", |r| {
                r.s3 = vec![crate::record::S3Object {
                    bucket: "bucket".into(),
                    key: "k".into(),
                    version_id: Some("v 1".into()),
                }]
            }),
            ("smoke.outcome must be", |r| {
                r.smoke = Some(crate::smoke::Smoke {
                    outcome: "ok\n| injected".into(),
                    init_ms: None,
                    invoke_ms: None,
                })
            }),
        ];
        for (rule, change) in bad {
            let mut r = record("hello/bootstrap.zip");
            change(&mut r);
            let err = check_record(&r).unwrap_err();
            assert!(err.contains(rule), "{rule}: {err}");
        }
    }
}
