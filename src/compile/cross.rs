//! `cross build`: each target built in its own container by the `cross` tool.

use std::process::Command;

use anyhow::Context;

use super::Compiler;

/// `cross build`, with the same arguments cargo would get.
pub struct Cross;

impl Compiler for Cross {
    fn command(&self, options: &cargo_options::Build) -> anyhow::Result<Command> {
        let cross = which::which("cross").context(
            "the cross compiler was selected but `cross` is not on PATH; install it with `cargo install cross --locked` or choose --compiler cargo-zigbuild",
        )?;
        let cargo = options.command();
        let mut command = Command::new(cross);
        command.args(cargo.get_args());
        for (key, value) in cargo.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        Ok(command)
    }
}
