//! `--upload s3://BUCKET[/PREFIX]`: where each object of a build goes in a bucket, checked
//! before anything compiles.
//!
//! Keys are what deployment tools pin (Terraform's `s3_key`, SAM's `CodeUri.Key`, CDK's
//! `Code.fromBucket`). By default they are content-addressed, so a changed function gets a new key
//! and an unchanged one keeps its key (the zips are reproducible: same sources, toolchain and
//! build paths, same bytes):
//!
//! ```text
//! PREFIX/<name>/<arch>/<sha256>.zip        a zip
//! PREFIX/<name>/<arch>/<sha256>            a binary
//! PREFIX/builds/<sha256 of manifest.json>/manifest.json and SHA256SUMS
//! ```
//!
//! `--s3-keys stable` uses the GitHub release asset names instead (`PREFIX/<name>-<arch>.zip`,
//! `PREFIX/SHA256SUMS`, `PREFIX/manifest.json`), overwritten when they change: for buckets with
//! versioning, where the object's version id (recorded in manifest.json) pins a deployment.
//! `SHA256SUMS` lists keys relative to PREFIX, so `sha256sum -c` works in a copy of the prefix.

pub mod aws;
pub mod credentials;
pub mod preflight;
pub mod publish;

use crate::config::S3Keys;
use crate::config::Source;
use crate::error::{Error, Result};
use crate::record::Record;
use crate::upload::assets;

/// The longest prefix accepted: S3 takes keys of up to 1024 bytes, and this leaves room for
/// `<name>/<arch>/<64 hex digits>.zip` under it.
const MAX_PREFIX: usize = 768;

/// One `s3://` destination, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The URL as written, for messages.
    pub url: String,
    /// Where it came from.
    pub source: Source,
    /// The bucket.
    pub bucket: String,
    /// The key prefix, without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    /// How keys are made.
    pub keys: S3Keys,
}

/// What an `s3://` upload accepts, for messages.
pub const ACCEPTED_URL: &str = "s3://BUCKET or s3://BUCKET/PREFIX, the bucket as S3 names buckets (3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not an IP address, no xn--, sthree- or amzn-s3-demo- prefix, no -s3alias, --ol-s3, .mrap or --table-s3 suffix), the prefix '/'-separated parts without control characters, '.' or '..' parts, or empty parts";

impl Destination {
    /// Parses `s3://BUCKET[/PREFIX]` (`name` and `source` name the input in errors).
    pub fn parse(text: &str, source: &Source, keys: S3Keys) -> Result<Destination> {
        let bad = || {
            Error::usage(format!(
                "invalid upload {text:?} from {}; accepted: github-release or {ACCEPTED_URL}",
                crate::config::resolve::input_name("upload", source)
            ))
        };
        let rest = after_scheme(text).ok_or_else(bad)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        if !valid_bucket(bucket) || !valid_prefix(prefix) {
            return Err(bad());
        }
        Ok(Destination {
            url: text.to_owned(),
            source: source.clone(),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            keys,
        })
    }

    /// The key of an artifact, relative to the prefix.
    pub fn artifact_name(&self, record: &Record) -> String {
        match self.keys {
            S3Keys::Content => {
                let extension = if record.format == "zip" { ".zip" } else { "" };
                format!("{}/{}/{}{extension}", record.name, record.arch, record.sha256)
            }
            S3Keys::Stable => assets::asset_name(&record.name, &record.arch, &record.format),
        }
    }

    /// The folder (relative to the prefix, empty or ending in `/`) of a build's `SHA256SUMS` and
    /// `manifest.json`, given the SHA-256 (hex) of that manifest.json.
    pub fn records_folder(&self, manifest_sha256: &str) -> String {
        match self.keys {
            S3Keys::Content => format!("builds/{manifest_sha256}/"),
            S3Keys::Stable => String::new(),
        }
    }

    /// The full key of `name` (relative to the prefix).
    pub fn key(&self, name: &str) -> String {
        match self.prefix.as_str() {
            "" => name.to_owned(),
            prefix => format!("{prefix}/{name}"),
        }
    }

    /// `s3://bucket/key`, for messages.
    pub fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// What follows `s3://` (in any case) in `text`; `None` when it is not an `s3://` URL.
pub fn after_scheme(text: &str) -> Option<&str> {
    text.get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("s3://"))
        .map(|_| &text[5..])
}

/// An S3 general purpose bucket name as S3's naming rules define it (directory buckets'
/// `--x-s3` names included): 3-63 lowercase letters, digits, `.` and `-`, starting and ending
/// with a letter or digit, no `..`, not shaped like an IPv4 address (`192.168.1.1`), and none
/// of the prefixes and suffixes S3 reserves.
pub fn valid_bucket(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p))
        && !["-s3alias", "--ol-s3", ".mrap", "--table-s3"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// A key prefix: `/`-separated parts, none empty, `.` or `..`, no control characters.
fn valid_prefix(prefix: &str) -> bool {
    prefix.is_empty()
        || (prefix.len() <= MAX_PREFIX
            && !prefix.chars().any(char::is_control)
            && prefix.split('/').all(|part| !matches!(part, "" | "." | "..")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Destination> {
        Destination::parse(text, &Source::Default, S3Keys::Content)
    }

    #[test]
    fn bucket_and_prefix_are_split_and_trimmed() {
        let d = parse("s3://my-artifacts/lambdas/prod/").unwrap();
        assert_eq!((d.bucket.as_str(), d.prefix.as_str()), ("my-artifacts", "lambdas/prod"));
        assert_eq!(d.key("a/b"), "lambdas/prod/a/b");
        assert!(parse("s3://192.168.1.1.example").is_ok());
        assert!(parse("s3://my-bucket--x-s3").is_ok());
        let root = parse("S3://my.bucket.01").unwrap();
        assert_eq!((root.bucket.as_str(), root.prefix.as_str()), ("my.bucket.01", ""));
        assert_eq!(root.key("SHA256SUMS"), "SHA256SUMS");
        assert_eq!(root.location("x"), "s3://my.bucket.01/x");
    }

    #[test]
    fn malformed_urls_are_usage_errors_naming_the_input() {
        for bad in [
            "s3:/bucket",
            "https://bucket/x",
            "s3://",
            "s3://ab",
            "s3://Upper",
            "s3://-bucket",
            "s3://bucket-",
            "s3://a..b",
            "s3://bucket_x",
            "s3://bucket//x",
            "s3://bucket/a//b",
            "s3://bucket/../x",
            "s3://bucket/./x",
            "s3://bucket/a\nb",
            "s3://bucket?x=1",
            "s3://192.168.1.1",
            "s3://xn--bucket",
            "s3://sthree-bucket",
            "s3://bucket-s3alias",
            "s3://bucket--ol-s3",
            "s3://bucket.mrap",
        ] {
            match parse(bad) {
                Err(Error::Usage(message)) => {
                    assert!(message.contains(&format!("{bad:?}")), "{message}");
                    assert!(message.contains("accepted: github-release or s3://BUCKET"), "{message}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        let long = format!("s3://bucket/{}", "p".repeat(MAX_PREFIX + 1));
        assert!(parse(&long).is_err());
    }

    fn record(format: &str) -> Record {
        serde_json::from_value(serde_json::json!({
            "name": "hello", "kind": "function", "arch": "arm64", "target": "aarch64-unknown-linux-gnu",
            "profile": "release", "format": format, "path": "hello/bootstrap.zip", "size": 1,
            "sha256": "ab".repeat(32), "code_sha256": "x", "unzipped_size": 1,
        }))
        .unwrap()
    }

    #[test]
    fn content_keys_change_with_the_bytes_and_stable_keys_do_not() {
        let content = parse("s3://bucket/p").unwrap();
        let sha = "ab".repeat(32);
        assert_eq!(content.artifact_name(&record("zip")), format!("hello/arm64/{sha}.zip"));
        assert_eq!(content.artifact_name(&record("binary")), format!("hello/arm64/{sha}"));
        assert_eq!(content.records_folder("cd"), "builds/cd/");
        let stable = Destination::parse("s3://bucket/p", &Source::Default, S3Keys::Stable).unwrap();
        assert_eq!(stable.artifact_name(&record("zip")), "hello-arm64.zip");
        assert_eq!(stable.artifact_name(&record("binary")), "hello-arm64");
        assert_eq!(stable.records_folder("cd"), "");
    }
}
