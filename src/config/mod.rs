//! Configuration: raw inputs with their sources in, one plain resolved configuration out.
//!
//! Settings that apply to the whole run ([`RunSettings`]) are resolved once; settings a package
//! may set for itself ([`PackageSettings`]) are resolved per package, so one package's metadata
//! never leaks into another's binaries (cargo-lambda issue #931).

pub mod keys;
pub mod profiles;
pub mod resolve;
pub mod source;
pub mod values;

use std::path::PathBuf;

use serde::Serialize;

pub use resolve::{MetadataLayer, Resolver};
pub use source::{Source, Sourced};
pub use values::{Arch, CompilerKind, GlibcVersion, Libc, OutputFormat, Profile, Runtime, Shard, Target};

/// Settings with one value for the whole run.
#[derive(Clone, Debug, Serialize)]
pub struct RunSettings {
    /// The Cargo.toml to build.
    pub manifest_path: Sourced<PathBuf>,
    /// Where artifacts go; `None` = `<target dir>/lambda`.
    pub lambda_dir: Sourced<Option<PathBuf>>,
    /// `-p` selections.
    pub package: Sourced<Vec<String>>,
    /// `--bin` selections.
    pub bin: Sourced<Vec<String>>,
    /// Cargo features.
    pub features: Sourced<Vec<String>>,
    /// `--all-features`.
    pub all_features: Sourced<bool>,
    /// `--no-default-features`.
    pub no_default_features: Sourced<bool>,
    /// `--locked`.
    pub locked: Sourced<bool>,
    /// `--frozen`.
    pub frozen: Sourced<bool>,
    /// `-j`.
    pub jobs: Sourced<Option<u32>>,
    /// `--print-config`: resolve, print, build nothing.
    pub print_config: Sourced<bool>,
    /// `--toolchain-only`: provision the toolchain, print it, build nothing.
    pub toolchain_only: Sourced<bool>,
    /// The Zig version to provision when none is found.
    pub zig_version: Sourced<String>,
    /// `--no-verify`: skip the runtime gate.
    pub no_verify: Sourced<bool>,
    /// `--shard K/N`: build only this slice of the selection.
    pub shard: Sourced<Option<Shard>>,
    /// `--upload`: where to publish after a successful build.
    pub upload: Sourced<Option<String>>,
    /// `--release-tag`.
    pub release_tag: Sourced<Option<String>>,
    /// `--draft`.
    pub draft: Sourced<bool>,
    /// `--prerelease`.
    pub prerelease: Sourced<bool>,
}

/// Settings a package's own metadata may set for its binaries.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PackageSettings {
    /// Targets to build, deduplicated, in a stable order.
    pub target: Sourced<Vec<Target>>,
    /// The cargo profile and whether the Lambda release tuning applies.
    pub profile: Sourced<Profile>,
    /// `--disable-optimizations`: a release build without the Lambda release tuning.
    pub disable_optimizations: Sourced<bool>,
    /// Formats to produce.
    pub output_format: Sourced<Vec<OutputFormat>>,
    /// `Some(true)` forces extensions, `Some(false)` functions, `None` detects.
    pub extension: Sourced<Option<bool>>,
    /// The compiler backend.
    pub compiler: Sourced<CompilerKind>,
    /// Extra files for every zip.
    pub include: Sourced<Vec<Include>>,
    /// The Lambda runtime the binaries must start on.
    pub runtime: Sourced<Runtime>,
}

/// An extra file or folder to add to zips.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Include {
    /// Where it is on disk.
    pub path: PathBuf,
    /// The entry name (or folder prefix) inside the zip, `/`-separated.
    pub name: String,
}
