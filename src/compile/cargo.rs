//! Plain `cargo build`: the host's linker, no glibc pinning.

use std::process::Command;

use super::Compiler;

/// `cargo build`.
pub struct Cargo;

impl Compiler for Cargo {
    fn command(&self, options: &cargo_options::Build) -> anyhow::Result<Command> {
        Ok(options.command())
    }
}
