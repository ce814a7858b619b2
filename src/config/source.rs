//! Where a value came from, and the raw (not yet validated) value itself.

use std::fmt;

/// The origin of a value, in precedence order: a lower rank wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--target`.
    Flag(String),
    /// An environment variable, e.g. `INPUT_TARGET` or `CARGO_LAMBDA_COMPILER`.
    Env(String),
    /// `[package.metadata.lambda.build]` of the named package.
    PackageMetadata(String),
    /// `[workspace.metadata.lambda.build]`.
    WorkspaceMetadata,
    /// Nothing set it.
    Default,
}

impl Source {
    /// Precedence rank: flag › INPUT_* › LAMBDA_BUILD_* › CARGO_LAMBDA_* › package › workspace › default.
    pub fn rank(&self) -> u8 {
        match self {
            Source::Flag(_) => 0,
            Source::Env(name) if name.starts_with("INPUT_") => 1,
            Source::Env(name) if name.starts_with("LAMBDA_BUILD_") => 2,
            Source::Env(_) => 3,
            Source::PackageMetadata(_) => 4,
            Source::WorkspaceMetadata => 5,
            Source::Default => 6,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "flag {name}"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::PackageMetadata(package) => {
                write!(f, "[package.metadata.lambda.build] of package {package}")
            }
            Source::WorkspaceMetadata => f.write_str("[workspace.metadata.lambda.build]"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A value as the user wrote it, before validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Raw {
    /// Text from a flag or env variable (a list's items are still comma-joined in env).
    Text(String),
    /// Several texts (a repeated flag, or a metadata array).
    Many(Vec<String>),
    /// A value from Cargo.toml metadata (as `cargo metadata` gives it), so types can be checked.
    Json(serde_json::Value),
}

/// A raw value and its origin.
#[derive(Clone, Debug, PartialEq)]
pub struct RawValue {
    /// The value as written.
    pub raw: Raw,
    /// Where it came from.
    pub source: Source,
}

/// A resolved value and its origin.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from (shown by `--print-config`).
    #[serde(serialize_with = "crate::config::source::display")]
    pub source: Source,
}

impl<T> Sourced<T> {
    /// A value from `source`.
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }

    /// The default value.
    pub fn default_value(value: T) -> Self {
        Sourced::new(value, Source::Default)
    }
}

impl<T> Sourced<Option<T>> {
    /// The value, or `default` (from the default layer) when unset.
    pub fn or_default(self, default: T) -> Sourced<T> {
        match self.value {
            Some(value) => Sourced::new(value, self.source),
            None => Sourced::default_value(default),
        }
    }
}

pub(crate) fn display<S: serde::Serializer>(source: &Source, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(source)
}
