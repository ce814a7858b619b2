//! Where a value came from, and the raw (not yet validated) value itself.

use std::fmt;

/// The origin of a value. Variants are in precedence order, highest first; see [`Source::rank`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag, e.g. `--target`.
    Flag(String),
    /// An environment variable, e.g. `INPUT_TARGET` or `CARGO_LAMBDA_COMPILER`.
    Env(String),
    /// `[package.metadata.lambda.bin.<bin>.build]` of a package.
    BinMetadata {
        /// The package.
        package: String,
        /// The binary the table is named after.
        bin: String,
    },
    /// `[package.metadata.lambda.build]` of the named package.
    PackageMetadata(String),
    /// `[workspace.metadata.lambda.bin.<bin>.build]`.
    WorkspaceBinMetadata(String),
    /// `[workspace.metadata.lambda.build]`.
    WorkspaceMetadata,
    /// A table of cargo-lambda's configuration file (`CargoLambda.toml`, or `--global FILE`).
    ConfigFile {
        /// The file, as found.
        path: std::path::PathBuf,
        /// The table, as written in the file: `build`, `production.build`, `global.build`.
        table: String,
        /// Its place among the file's tables: 0 for `[global.build]`, 1 for the context's,
        /// 2 for `[build]` (no context) or `[default.build]`, as cargo-lambda merges them.
        tier: u8,
    },
    /// A `CARGO_LAMBDA_BUILD.<KEY>` variable: cargo-lambda's lowest configuration layer.
    ConfigEnv(String),
    /// Nothing set it.
    Default,
    /// Nothing set it; the default depends on the host, as cargo-lambda's does (the text says how).
    HostDefault(String),
    /// Several layers' lists joined (`--admerge`), highest first.
    Merged(Vec<Source>),
}

/// The precedence list, highest first, for `--help` and the README.
pub const PRECEDENCE: &str = "flag › INPUT_* › LAMBDA_BUILD_* › CARGO_LAMBDA_* › [package.metadata.lambda.bin.<name>.build] › [package.metadata.lambda.build] › [workspace.metadata.lambda.bin.<name>.build] › [workspace.metadata.lambda.build] › CargoLambda.toml ([global.build] › [<context>.build] › [build] or [default.build]) › CARGO_LAMBDA_BUILD.<KEY> › default";

impl Source {
    /// Precedence rank, a lower rank wins: the order of [`PRECEDENCE`]. Metadata over
    /// `CargoLambda.toml` over `CARGO_LAMBDA_BUILD.*` is cargo-lambda's own loading order.
    pub fn rank(&self) -> u8 {
        match self {
            Source::Flag(_) => 0,
            Source::Env(name) if name.starts_with("INPUT_") => 1,
            Source::Env(name) if name.starts_with("LAMBDA_BUILD_") => 2,
            Source::Env(_) => 3,
            Source::BinMetadata { .. } => 4,
            Source::PackageMetadata(_) => 5,
            Source::WorkspaceBinMetadata(_) => 6,
            Source::WorkspaceMetadata => 7,
            Source::ConfigFile { tier, .. } => 8 + tier,
            Source::ConfigEnv(_) => 11,
            Source::Default | Source::HostDefault(_) => 12,
            Source::Merged(sources) => sources.iter().map(Source::rank).min().unwrap_or(12),
        }
    }

    /// Whether the value came from a configuration table (metadata, `CargoLambda.toml`,
    /// `CARGO_LAMBDA_BUILD.*`), where it is named by its key rather than by a flag.
    pub fn is_table(&self) -> bool {
        (4..=11).contains(&self.rank()) && !matches!(self, Source::Merged(_))
    }

    /// Whether nothing set the value.
    pub fn is_default(&self) -> bool {
        matches!(self, Source::Default | Source::HostDefault(_))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(name) => write!(f, "flag {name}"),
            Source::Env(name) | Source::ConfigEnv(name) => write!(f, "env {name}"),
            Source::BinMetadata { package, bin } => {
                write!(f, "[package.metadata.lambda.bin.{bin}.build] of package {package}")
            }
            Source::PackageMetadata(package) => {
                write!(f, "[package.metadata.lambda.build] of package {package}")
            }
            Source::WorkspaceBinMetadata(bin) => write!(f, "[workspace.metadata.lambda.bin.{bin}.build]"),
            Source::WorkspaceMetadata => f.write_str("[workspace.metadata.lambda.build]"),
            Source::ConfigFile { path, table, .. } => write!(f, "[{table}] of {}", path.display()),
            Source::Default => f.write_str("default"),
            Source::HostDefault(why) => write!(f, "default ({why})"),
            Source::Merged(sources) => {
                let names: Vec<String> = sources.iter().map(Source::to_string).collect();
                write!(f, "admerge of {}", names.join(" + "))
            }
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
