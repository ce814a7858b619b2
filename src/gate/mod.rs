//! The Lambda runtime gate: after compiling and before packaging, every binary is checked to
//! start on its Lambda runtime. The most common way a Rust Lambda fails after a green build is
//! `version 'GLIBC_2.28' not found` at cold start; this makes such a binary impossible to ship.
//!
//! A binary passes when its ELF machine is its target's, it is static or needs only libraries
//! every Lambda runtime has, and the highest `GLIBC_x.y` it requires is at most the runtime's.

pub mod elf;

use std::fmt::Write as _;

use anyhow::Context;

use crate::compile::Built;
use crate::config::{GlibcVersion, Runtime};
use crate::plan::{Artifact, Plan};
use elf::ElfFacts;

/// Shared libraries every Lambda OS-only runtime provides: glibc's own libraries, libgcc_s and the
/// dynamic loader. Anything else must be linked statically or shipped in a layer.
pub const RUNTIME_LIBRARIES: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

/// What the gate learned about each artifact, by index into [`Plan::artifacts`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gated {
    /// The highest glibc version each binary requires; `None` for a static binary (or when
    /// `--no-verify` skipped a file that could not be read).
    pub glibc_required: Vec<Option<GlibcVersion>>,
}

/// Checks every artifact's binary. With `verify` off, violations are only warned about.
/// A violation fails the run before anything is packaged, naming each offending artifact.
pub fn check(plan: &Plan, built: &Built, verify: bool) -> anyhow::Result<Gated> {
    let mut gated = Gated::default();
    let mut refusals = String::new();
    let mut hints = std::collections::BTreeSet::new();
    for artifact in &plan.artifacts {
        let Some(path) = built.get(&artifact.built_key()) else {
            gated.glibc_required.push(None);
            continue;
        };
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let facts = match elf::inspect(&data) {
            Ok(facts) => facts,
            Err(err) if !verify => {
                tracing::warn!("{} not inspected: {err:#}", path.display());
                gated.glibc_required.push(None);
                continue;
            }
            Err(err) => return Err(err.context(format!("inspecting {}", path.display()))),
        };
        for problem in problems(artifact, &facts) {
            let _ = write!(refusals, "\n  - {}", problem.message);
            hints.insert(problem.kind.hint());
        }
        gated.glibc_required.push(facts.glibc.map(|(version, _)| version));
    }
    if refusals.is_empty() {
        return Ok(gated);
    }
    if !verify {
        crate::output::line(format_args!(
            "warning: --no-verify: these binaries may not start on Lambda:{refusals}"
        ));
        return Ok(gated);
    }
    let hints: Vec<&str> = hints.into_iter().collect();
    anyhow::bail!(
        "binaries that would not start on their Lambda runtime; nothing was packaged:{refusals}\n{} (--no-verify skips this check)",
        hints.join("\n")
    )
}

/// Why a binary would not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// Built for another CPU.
    Machine,
    /// Needs a shared library the runtime lacks.
    Library,
    /// Needs a newer glibc than the runtime's.
    Glibc,
}

impl ProblemKind {
    /// What to do about it.
    pub fn hint(self) -> &'static str {
        match self {
            ProblemKind::Machine => {
                "A binary built for another CPU than its target means a linker or build script misconfiguration; check the target's linker and RUSTFLAGS."
            }
            ProblemKind::Library => {
                "Link other libraries statically (many -sys crates have a `vendored` or `static` feature), or use a -musl target."
            }
            ProblemKind::Glibc => {
                "Build with cargo-zigbuild (it links against the runtime's glibc), choose the runtime the binary needs with --runtime, or use a -musl target."
            }
        }
    }
}

/// One reason an artifact would not start on its runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The kind, for the hint.
    pub kind: ProblemKind,
    /// The message, naming the artifact, what it needs and the runtime's limit.
    pub message: String,
}

/// Every reason an artifact would not start on its runtime.
pub fn problems(artifact: &Artifact, facts: &ElfFacts) -> Vec<Problem> {
    messages(artifact, facts)
        .into_iter()
        .map(|(kind, message)| Problem { kind, message })
        .collect()
}

fn messages(artifact: &Artifact, facts: &ElfFacts) -> Vec<(ProblemKind, String)> {
    let who = format!("{} ({})", artifact.name, artifact.target);
    let runtime: Runtime = artifact.runtime;
    let mut found = Vec::new();
    match facts.machine {
        Ok(arch) if arch == artifact.target.arch => {}
        Ok(arch) => found.push((
            ProblemKind::Machine,
            format!(
                "{who} is built for {}, not {}",
                arch.lambda_name(),
                artifact.target.arch.lambda_name()
            ),
        )),
        Err(machine) => found.push((
            ProblemKind::Machine,
            format!(
                "{who} has ELF machine {machine}, not {}",
                artifact.target.arch.lambda_name()
            ),
        )),
    }
    for library in facts.needed.iter().filter(|l| !RUNTIME_LIBRARIES.contains(&l.as_str())) {
        found.push((
            ProblemKind::Library,
            format!(
                "{who} needs the shared library {library}, which {} does not have (it has {})",
                runtime.as_str(),
                RUNTIME_LIBRARIES.join(", ")
            ),
        ));
    }
    if let Some((version, symbol)) = &facts.glibc
        && *version > runtime.glibc()
    {
        let by = symbol.as_deref().map(|s| format!(" (symbol {s})")).unwrap_or_default();
        found.push((
            ProblemKind::Glibc,
            format!(
                "{who} requires GLIBC_{version}{by}, but {} has glibc {}",
                runtime.as_str(),
                runtime.glibc()
            ),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Arch, Libc, Profile, Target};
    use crate::discover::Kind;

    fn artifact(arch: Arch, runtime: Runtime) -> Artifact {
        Artifact {
            name: "hello".into(),
            package: "hello".into(),
            package_id: "hello".into(),
            kind: Kind::Function,
            target_kind: crate::discover::TargetKind::Bin,
            internal: false,
            target: Target {
                arch,
                libc: Libc::Gnu(None),
            },
            profile: Profile::dev(),
            invocation: 0,
            binary: "hello".into(),
            outputs: Vec::new(),
            include: Vec::new(),
            runtime,
            smoke: None,
        }
    }

    fn messages_of(artifact: &Artifact, facts: &ElfFacts) -> Vec<String> {
        problems(artifact, facts).into_iter().map(|p| p.message).collect()
    }

    fn facts(needed: &[&str], glibc: Option<(u32, u32)>) -> ElfFacts {
        ElfFacts {
            machine: Ok(Arch::X86_64),
            needed: needed.iter().map(|s| s.to_string()).collect(),
            glibc: glibc.map(|(a, b)| (GlibcVersion(a, b, 0), Some("__libc_start_main".to_owned()))),
        }
    }

    #[test]
    fn a_binary_within_the_runtimes_glibc_and_libraries_passes() {
        let f = facts(&["libc.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2"], Some((2, 34)));
        assert!(problems(&artifact(Arch::X86_64, Runtime::Al2023), &f).is_empty());
    }

    #[test]
    fn a_newer_glibc_than_the_runtimes_is_named_with_its_symbol_and_the_limit() {
        let f = facts(&["libc.so.6"], Some((2, 34)));
        let found = messages_of(&artifact(Arch::X86_64, Runtime::Al2), &f);
        assert_eq!(
            found,
            [
                "hello (x86_64-unknown-linux-gnu) requires GLIBC_2.34 (symbol __libc_start_main), but provided.al2 has glibc 2.26"
            ]
        );
    }

    #[test]
    fn static_binaries_pass_on_every_runtime() {
        let f = facts(&[], None);
        for runtime in [Runtime::Al2, Runtime::Al2023] {
            assert!(problems(&artifact(Arch::X86_64, runtime), &f).is_empty());
        }
    }

    #[test]
    fn only_the_runtimes_libraries_are_allowed() {
        let f = facts(&["libc.so.6", "libssl.so.3"], Some((2, 17)));
        let found = messages_of(&artifact(Arch::X86_64, Runtime::Al2023), &f);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("hello (x86_64-unknown-linux-gnu) needs the shared library libssl.so.3, which provided.al2023 does not have"), "{found:?}");
        for library in RUNTIME_LIBRARIES {
            assert!(problems(&artifact(Arch::X86_64, Runtime::Al2023), &facts(&[library], None)).is_empty());
        }
    }

    #[test]
    fn this_test_binary_is_read_and_a_wrong_machine_is_refused() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let facts = elf::inspect(&exe).unwrap();
        assert_eq!(facts.machine, Ok(Arch::X86_64));
        assert!(facts.needed.iter().any(|l| l == "libc.so.6"), "{:?}", facts.needed);
        let (version, _) = facts.glibc.clone().expect("a glibc-linked test binary");
        assert!(version >= GlibcVersion(2, 2, 5));
        // The same file claiming to be for aarch64 (e_machine is at offset 18).
        let mut patched = exe;
        patched[18..20].copy_from_slice(&object::elf::EM_AARCH64.0.to_le_bytes());
        let facts = elf::inspect(&patched).unwrap();
        let found = messages_of(&artifact(Arch::X86_64, Runtime::Al2023), &facts);
        assert!(
            found
                .iter()
                .any(|p| p == "hello (x86_64-unknown-linux-gnu) is built for arm64, not x86_64"),
            "{found:?}"
        );
    }

    #[test]
    fn not_an_elf_file_is_an_error() {
        assert!(elf::inspect(b"#!/bin/sh\n").is_err());
    }
}
