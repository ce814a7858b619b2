//! Why a build failed and what fixes it. After a failed compile, what cargo printed is matched
//! against known failure classes ([`classes`]: a table, so a class is added as data), and each
//! match becomes a [`Diagnosis`]: what went wrong, where in the user's workspace it comes from
//! (the dependency chain, the Cargo.toml line) and the change that fixes it.
//!
//! Nothing here runs on the success path: a build that succeeds never reads its output again
//! nor runs `cargo metadata` for a resolve graph.

pub mod chain;
pub mod classes;
pub mod size;
pub mod smoke;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::cli::EnvVars;
use crate::compile::{Captured, Failed};
use crate::config::CompilerKind;
use crate::plan::{Invocation, Plan};

/// One diagnosed cause of a failure.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnosis {
    /// The class's name (`sys-library`, `c-toolchain`), stable for tools reading it.
    pub class: &'static str,
    /// What went wrong, in one line.
    pub why: String,
    /// The dependency chain from the workspace member to the crate that failed, when known:
    /// `fn-a → reqwest (default feature native-tls) → native-tls → openssl-sys`.
    pub chain: Option<String>,
    /// The fixes, best first.
    pub fixes: Vec<String>,
    /// The Cargo.toml line to change (the member's declaration of the chain's first crate).
    pub at: Option<Location>,
}

/// A line in a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    /// The file (absolute).
    pub file: PathBuf,
    /// Its line, 1-based.
    pub line: usize,
}

impl fmt::Display for Diagnosis {
    /// A few plain lines: `why:`, `from:`, `fix:` (numbered when there are several), `at:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "why: {}", self.why)?;
        if let Some(chain) = &self.chain {
            write!(f, "\n  from: {chain}")?;
        }
        match self.fixes.as_slice() {
            [] => {}
            [one] => write!(f, "\n  fix: {one}")?,
            many => {
                write!(f, "\n  fix, in order of preference:")?;
                for (n, fix) in many.iter().enumerate() {
                    write!(f, "\n    {}. {fix}", n + 1)?;
                }
            }
        }
        if let Some(at) = &self.at {
            write!(f, "\n  at: {}:{}", at.file.display(), at.line)?;
        }
        Ok(())
    }
}

/// A failure with its diagnoses: its message is the failure's, then each diagnosis under it.
#[derive(Debug, thiserror::Error)]
#[error("{failure}{}", blocks(.diagnoses))]
pub struct Diagnosed {
    /// The failure as it was reported.
    pub failure: String,
    /// Why, and what fixes it.
    pub diagnoses: Vec<Diagnosis>,
}

fn blocks(diagnoses: &[Diagnosis]) -> String {
    diagnoses.iter().map(|d| format!("\n{d}")).collect()
}

/// The diagnosed failure a failed run carries, if any (from its error chain).
pub fn of(err: &crate::Error) -> Option<&Diagnosed> {
    match err {
        crate::Error::Failed(err) => err.chain().find_map(|e| e.downcast_ref::<Diagnosed>()),
        crate::Error::Usage(_) => None,
    }
}

/// A failed compile, diagnosed: a [`Failed`] build becomes [`Diagnosed`] when a class matches;
/// any other error (or no match) is returned as it is.
pub fn compile_failure(err: anyhow::Error, plan: &Plan, invocation: &Invocation, env: &EnvVars) -> anyhow::Error {
    let Some(failed) = err.downcast_ref::<Failed>() else {
        return err;
    };
    let facts = Facts {
        plan,
        invocation,
        output: &failed.output,
    };
    let mut found = classes::sys_libraries(&facts);
    if found.is_empty() {
        found.extend(classes::c_toolchain(&facts));
    }
    if found.is_empty() {
        return err;
    }
    // The chains need the resolved graph, read only now that a class needing it matched.
    let needs_chain = found.iter().any(|f| matches!(f, classes::Found::SysLibrary { .. }));
    let metadata = needs_chain.then(|| chain::resolve(plan, invocation, env)).flatten();
    let diagnoses = found
        .into_iter()
        .map(|f| f.diagnose(&facts, metadata.as_ref()))
        .collect();
    anyhow::Error::new(Diagnosed {
        failure: err.to_string(),
        diagnoses,
    })
}

/// What a class looks at.
pub struct Facts<'a> {
    /// The run's plan.
    pub plan: &'a Plan,
    /// The invocation that failed.
    pub invocation: &'a Invocation,
    /// What it printed.
    pub output: &'a Captured,
}

impl Facts<'_> {
    /// The target a failure was for: the one a build script names (`TARGET = ...`), else the
    /// invocation's (all of them, when it has several).
    pub fn target(&self, text: &[String]) -> String {
        let named = text.iter().find_map(|line| {
            let rest = line.split_once("TARGET = ")?.1;
            rest.split_whitespace().next().map(str::to_owned)
        });
        named.unwrap_or_else(|| {
            let targets: Vec<String> = self.invocation.targets.iter().map(|t| t.triple()).collect();
            targets.join(", ")
        })
    }

    /// Whether the invocation links with cargo-zigbuild (which brings a C compiler and linker
    /// for every target).
    pub fn zigbuild(&self) -> bool {
        self.invocation.compiler == CompilerKind::CargoZigbuild
    }
}

/// A path shown relative to `base` when it is inside it.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).display().to_string()
}
