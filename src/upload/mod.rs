//! Upload after a successful build: the artifacts, `SHA256SUMS` and `manifest.json` to a GitHub
//! Release ([`release`], [`github`]) and to S3 buckets ([`s3`]), idempotently.
//!
//! Everything an upload needs is resolved and checked before anything compiles ([`resolve`]), so
//! a missing token, a malformed `s3://` URL or absent AWS credentials fail in a second, not after
//! a ten-minute build.

pub mod assets;
pub mod github;
pub mod release;
pub mod retry;
pub mod s3;

pub use release::{GITHUB_API, Release, TOKEN_VARS, Token};

use crate::cli::EnvVars;
use crate::config::{S3Keys, Source, Sourced};
use crate::error::{Error, Result};

/// What was done with one release asset or bucket object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// It was not there and was uploaded.
    Uploaded,
    /// A different file of that name was there and this one replaced it.
    Replaced,
    /// The same file was already there.
    Unchanged,
}

impl Action {
    /// The word for it, in log lines and the job summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Uploaded => "uploaded",
            Action::Replaced => "replaced",
            Action::Unchanged => "unchanged",
        }
    }
}

/// The uploads a run asks for, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Uploads {
    /// `github-release`.
    pub release: Option<Release>,
    /// Each `s3://` destination, in the order given, without repeats.
    pub s3: Vec<s3::Destination>,
    /// `--s3-path-style`.
    pub s3_path_style: bool,
    /// `--upload-timeout`: the most one upload (a release, or a run's S3 objects) may take.
    pub timeout: std::time::Duration,
}

/// What `--upload` accepts.
pub const ACCEPTED: &str = "github-release or s3://BUCKET[/PREFIX]";

/// The options of `--upload`'s GitHub release (`--release-tag`, `--draft`, `--prerelease`) and
/// S3 buckets (`--s3-keys`, `--s3-path-style`).
pub struct Options<'a> {
    /// `--release-tag` and where it came from.
    pub tag: Option<(&'a str, &'a Source)>,
    /// `--draft`.
    pub draft: bool,
    /// `--prerelease`.
    pub prerelease: bool,
    /// `--s3-keys`.
    pub s3_keys: S3Keys,
    /// `--s3-path-style`.
    pub s3_path_style: bool,
    /// `--upload-timeout`, in seconds.
    pub timeout_secs: u64,
}

/// Each `--upload` destination, checked (a usage error names the one that is not).
pub fn resolve(targets: &Sourced<Vec<String>>, options: &Options<'_>, env: &EnvVars) -> Result<Uploads> {
    let mut uploads = Uploads {
        s3_path_style: options.s3_path_style,
        timeout: std::time::Duration::from_secs(options.timeout_secs),
        ..Uploads::default()
    };
    for target in &targets.value {
        let target = target.trim();
        if target == "github-release" {
            if uploads.release.is_none() {
                uploads.release = Some(release::resolve(options.tag, options.draft, options.prerelease, env)?);
            }
        } else if s3::after_scheme(target).is_some() {
            let destination = s3::Destination::parse(target, &targets.source, options.s3_keys)?;
            let repeat = uploads
                .s3
                .iter()
                .any(|d| d.bucket == destination.bucket && d.prefix == destination.prefix);
            if !repeat {
                uploads.s3.push(destination);
            }
        } else {
            return Err(Error::usage(format!(
                "invalid upload {target:?} from {}; accepted: {ACCEPTED}",
                crate::config::resolve::input_name("upload", &targets.source)
            )));
        }
    }
    Ok(uploads)
}

/// Which upload a setting serves, for [`without_effect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serves {
    /// `--upload github-release`.
    Release,
    /// `--upload s3://...`.
    S3,
    /// Any upload.
    Any,
}

/// A warning for each upload setting that was set (not defaulted) but serves no upload of this
/// run: `--s3-keys stable` without an `s3://` upload would otherwise be silently ignored.
/// `settings` are (flag name, where it was set, which upload it serves).
pub fn without_effect(uploads: &Uploads, settings: &[(&str, &Source, Serves)]) -> Vec<String> {
    let has = |serves: Serves| match serves {
        Serves::Release => uploads.release.is_some(),
        Serves::S3 => !uploads.s3.is_empty(),
        Serves::Any => uploads.release.is_some() || !uploads.s3.is_empty(),
    };
    let needs = |serves: Serves| match serves {
        Serves::Release => "--upload github-release",
        Serves::S3 => "an --upload s3://BUCKET",
        Serves::Any => "an --upload",
    };
    settings
        .iter()
        .filter(|(_, source, serves)| **source != Source::Default && !has(*serves))
        .map(|(name, source, serves)| {
            format!(
                "{} has no effect in this run: it applies to {}, and this run has none",
                crate::config::resolve::input_name(name, source),
                needs(*serves)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options<'static> {
        Options {
            tag: None,
            draft: false,
            prerelease: false,
            s3_keys: S3Keys::Content,
            s3_path_style: false,
            timeout_secs: 1800,
        }
    }

    fn targets(items: &[&str]) -> Sourced<Vec<String>> {
        Sourced::new(
            items.iter().map(|s| s.to_string()).collect(),
            Source::Env("LAMBDA_BUILD_UPLOAD".into()),
        )
    }

    #[test]
    fn github_release_and_buckets_together_repeats_dropped() {
        let env = EnvVars::from_pairs([
            ("GITHUB_REPOSITORY", "octo/lambda"),
            ("GITHUB_REF", "refs/tags/v1"),
            ("GITHUB_TOKEN", "t"),
        ]);
        let uploads = resolve(
            &targets(&["s3://bucket-a/x", "github-release", "s3://bucket-b", "s3://bucket-a/x/"]),
            &options(),
            &env,
        )
        .unwrap();
        assert_eq!(uploads.release.unwrap().tag, "v1");
        let buckets: Vec<_> = uploads
            .s3
            .iter()
            .map(|d| (d.bucket.as_str(), d.prefix.as_str()))
            .collect();
        assert_eq!(buckets, [("bucket-a", "x"), ("bucket-b", "")]);
    }

    #[test]
    fn upload_settings_without_their_upload_are_warned_about() {
        let flag = Source::Flag("--s3-keys".into());
        let none = Uploads::default();
        let warnings = without_effect(
            &none,
            &[
                ("s3-keys", &flag, Serves::S3),
                ("draft", &Source::Default, Serves::Release),
                (
                    "upload-timeout",
                    &Source::Env("LAMBDA_BUILD_UPLOAD_TIMEOUT".into()),
                    Serves::Any,
                ),
            ],
        );
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("--s3-keys has no effect in this run: it applies to an --upload s3://BUCKET"),
            "{warnings:?}"
        );
        assert!(warnings[1].contains("env LAMBDA_BUILD_UPLOAD_TIMEOUT"), "{warnings:?}");
        let s3 = resolve(&targets(&["s3://bucket-a"]), &options(), &EnvVars::default()).unwrap();
        assert!(without_effect(&s3, &[("s3-keys", &flag, Serves::S3)]).is_empty());
    }

    #[test]
    fn anything_else_is_a_usage_error_naming_the_variable() {
        let err = resolve(&targets(&["s3"]), &options(), &EnvVars::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("invalid upload \"s3\" from env LAMBDA_BUILD_UPLOAD"),
            "{text}"
        );
        assert!(
            text.contains("accepted: github-release or s3://BUCKET[/PREFIX]"),
            "{text}"
        );
        assert_eq!(
            resolve(&targets(&[]), &options(), &EnvVars::default()).unwrap(),
            Uploads {
                timeout: std::time::Duration::from_secs(1800),
                ..Uploads::default()
            }
        );
    }
}
