//! lambda-build: builds AWS Lambda functions and extensions written in Rust, for CI.
//!
//! Data flows one way, one module per stage: [`config`] (settings with provenance) →
//! [`discover`] (functions and extensions) → [`plan`] (invocations and artifacts) →
//! [`toolchain`] (Zig, Rust targets) → [`compile`] (a [`compile::Compiler`] per backend) →
//! [`gate`] (will each binary start on its Lambda runtime?) → [`package`] (reproducible zips,
//! staged) → [`record`] (SHA256SUMS, manifest.json) → [`lambda_dir`] (all of a run's files
//! renamed into place at once, one writer at a time).
//! A failed build goes to [`diagnose`] (why, and what fixes it).
//! [`run`] strings them together; `main` only parses and maps errors to exit codes, and
//! [`cargo_lambda`] reads `cargo lambda build` command lines when the binary runs as `cargo-lambda`.
//! Everything printed goes through [`output`], every child waited on through [`process`].

// A failed write must end the run with an error, not the panic `println!` gives: use `output`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod cargo_lambda;
pub mod ci;
pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnose;
pub mod discover;
pub mod error;
pub mod files;
pub mod gate;
pub mod includes;
pub mod interrupt;
pub mod lambda_dir;
pub mod merge;
pub mod network;
pub mod output;
pub mod package;
pub mod plan;
pub mod prepare;
pub mod print_config;
pub mod process;
pub mod progress;
pub mod record;
pub mod run;
pub mod settings;
pub mod smoke;
pub mod toolchain;
pub mod tuning;
pub mod upload;

pub use error::{Error, Result};
pub use run::{Outcome, run, run_as};
