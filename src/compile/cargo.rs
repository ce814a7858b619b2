//! Plain `cargo build`: the host's linker, no glibc pinning. cargo-lambda's compiler table may
//! name another cargo subcommand (`subcommand = ["zigbuild"]`, or a wrapper such as
//! `["brazil", "build"]`) and extra arguments, which only this backend takes, as in cargo-lambda.

use std::process::Command;

use super::Compiler;

/// `cargo build`.
pub struct Cargo;

impl Compiler for Cargo {
    fn command(&self, options: &cargo_options::Build) -> anyhow::Result<Command> {
        Ok(command(options, &[], &[]))
    }
}

/// `cargo build <options>`, or `cargo <subcommand...> <options>` when a subcommand is given,
/// then `extra_args`, as cargo-lambda builds it.
pub fn command(options: &cargo_options::Build, subcommand: &[String], extra_args: &[String]) -> Command {
    let build = options.command();
    let mut command = match subcommand.is_empty() {
        true => build,
        false => {
            let mut command = Command::new(build.get_program());
            command.args(subcommand);
            // The first argument of cargo-options' command is `build`: replaced by the subcommand.
            command.args(build.get_args().skip(1));
            for (key, value) in build.get_envs() {
                match value {
                    Some(value) => command.env(key, value),
                    None => command.env_remove(key),
                };
            }
            command
        }
    };
    command.args(extra_args);
    command
}
