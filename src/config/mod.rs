//! Configuration: raw inputs with their sources in, one plain resolved configuration out.
//!
//! Settings that apply to the whole run ([`RunSettings`]) are resolved once; settings a package
//! may set for itself ([`PackageSettings`]) are resolved per package, so one package's metadata
//! never leaks into another's binaries (cargo-lambda issue #931).

pub mod env_file;
pub mod file;
pub mod keys;
pub mod profiles;
pub mod resolve;
pub mod source;
pub mod values;

use std::path::PathBuf;

use serde::Serialize;

pub use resolve::{Resolver, Table};
pub use source::{PRECEDENCE, Source, Sourced};
pub use values::{
    Arch, Color, CompilerKind, GlibcVersion, Libc, MessageFormat, OutputFormat, Profile, Runtime, S3Keys, Shard,
    SmokeExpect, Target,
};

/// The precedence note under `--help`.
pub const PRECEDENCE_HELP: &str = "Every flag can also be set as LAMBDA_BUILD_<FLAG> or INPUT_<FLAG> (GitHub Actions inputs), and, where noted, in cargo-lambda's configuration tables: [package.metadata.lambda.build], [package.metadata.lambda.bin.<name>.build], [workspace.metadata.lambda.build], [workspace.metadata.lambda.bin.<name>.build], CargoLambda.toml's [build] (or --global FILE; [<context>.build] with --context) and CARGO_LAMBDA_BUILD.<KEY> variables. Precedence, highest first: flag > INPUT_* > LAMBDA_BUILD_* > CARGO_LAMBDA_* > per-binary metadata > package metadata > workspace per-binary metadata > workspace metadata > CargoLambda.toml > CARGO_LAMBDA_BUILD.<KEY> > default. Empty values (flags, variables and metadata strings) count as unset.";

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
    /// `--lock-timeout SECONDS`: how long to wait for the lambda dir's lock (default 600).
    pub lock_timeout: Sourced<u64>,
    /// `--smoke-timeout SECONDS`: how long each smoke test may take (default 10).
    pub smoke_timeout: Sourced<u64>,
    /// `--smoke-all`: a binary that cannot be smoke-tested here is an error, not skipped.
    pub smoke_all: Sourced<bool>,
    /// `--shard K/N`: build only this slice of the selection.
    pub shard: Sourced<Option<Shard>>,
    /// `--upload`: where to publish after a successful build (`github-release`, `s3://...`).
    pub upload: Sourced<Vec<String>>,
    /// `--s3-keys`: how the objects of an S3 upload are named.
    pub s3_keys: Sourced<S3Keys>,
    /// `--upload-timeout SECONDS`: the most one upload may take, retries included.
    pub upload_timeout: Sourced<u64>,
    /// `--s3-path-style`: path-style requests to the S3 endpoint.
    pub s3_path_style: Sourced<bool>,
    /// `--release-tag`.
    pub release_tag: Sourced<Option<String>>,
    /// `--draft`.
    pub draft: Sourced<bool>,
    /// `--prerelease`.
    pub prerelease: Sourced<bool>,
    /// `--flatten NAME`: that binary's artifacts go directly in the lambda dir.
    pub flatten: Sourced<Option<String>>,
    /// `--workspace` (`--all`).
    pub workspace: Sourced<bool>,
    /// `--exclude`: packages left out of the selection.
    pub exclude: Sourced<Vec<String>>,
    /// `--bins`.
    pub bins: Sourced<bool>,
    /// `--examples`: build the example targets as the functions.
    pub examples: Sourced<bool>,
    /// `--example NAME`.
    pub example: Sourced<Vec<String>>,
    /// `--offline`.
    pub offline: Sourced<bool>,
    /// `--keep-going`.
    pub keep_going: Sourced<bool>,
    /// `--target-dir`: cargo's target directory.
    pub target_dir: Sourced<Option<PathBuf>>,
    /// `--config KEY=VALUE|PATH`, passed to cargo.
    pub config: Sourced<Vec<String>>,
    /// `-Z FLAG`, passed to cargo.
    pub unstable_flags: Sourced<Vec<String>>,
    /// `--timings`.
    pub timings: Sourced<bool>,
    /// `--ignore-rust-version`.
    pub ignore_rust_version: Sourced<bool>,
    /// `--future-incompat-report`.
    pub future_incompat_report: Sourced<bool>,
    /// `--message-format`: how diagnostics are rendered.
    pub message_format: Sourced<Vec<MessageFormat>>,
    /// `--color`.
    pub color: Sourced<Color>,
    /// `-q`: cargo prints no log messages.
    pub quiet: Sourced<bool>,
    /// `--skip-target-check`: no check for (or rustup install of) the targets' standard library.
    pub skip_target_check: Sourced<bool>,
    /// `--env-var KEY=VALUE`: variables set on the cargo command.
    pub env_var: Sourced<Vec<(String, String)>>,
    /// `--env-file PATH`: a file of variables set on the cargo command (under `--env-var`).
    pub env_file: Sourced<Option<PathBuf>>,
    /// `--global FILE`: the cargo-lambda configuration file read instead of `CargoLambda.toml`.
    pub global: Sourced<Option<PathBuf>>,
    /// `--context NAME`: the configuration file's context.
    pub context: Sourced<Option<String>>,
    /// `--admerge`: lists from every layer are joined.
    pub admerge: Sourced<bool>,
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
    /// `--internal`: extensions are internal (the executable at the zip's root).
    pub internal: Sourced<bool>,
    /// The compiler table's `subcommand`: what runs instead of `cargo build` (compiler cargo).
    pub compiler_subcommand: Sourced<Vec<String>>,
    /// The compiler table's `extra_args`: appended to the cargo command line (compiler cargo).
    pub compiler_extra_args: Sourced<Vec<String>>,
    /// `--smoke`: invoke the binaries once against the built-in Runtime API emulator.
    pub smoke: Sourced<bool>,
    /// `smoke_event`: the event file, resolved against the folder of the table that set it.
    pub smoke_event: Sourced<Option<PathBuf>>,
    /// `smoke_expect`: the outcome the invocation must have.
    pub smoke_expect: Sourced<SmokeExpect>,
}

/// An extra file or folder to add to zips.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Include {
    /// Where it is on disk.
    pub path: PathBuf,
    /// The entry name (or folder prefix) inside the zip, `/`-separated.
    pub name: String,
}
