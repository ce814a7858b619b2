//! cargo-zigbuild, linked in as a library: Zig links for any Linux target and glibc version,
//! so users install nothing but Zig. Its linker wrappers call back into this binary
//! (`lambda-build zig cc ...`, and `ar` through a symlink), which `main` dispatches.

use std::process::Command;

use super::Compiler;

/// `cargo build` with Zig as linker and archiver.
pub struct Zigbuild;

impl Compiler for Zigbuild {
    fn command(&self, options: &cargo_options::Build) -> anyhow::Result<Command> {
        let mut build = cargo_zigbuild::Build::new(options.manifest_path.clone());
        build.cargo = options.clone();
        build.enable_zig_ar = true;
        build.build_command()
    }
}
