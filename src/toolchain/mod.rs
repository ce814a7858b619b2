//! The toolchain a build needs: Zig for cargo-zigbuild, and each target's Rust standard library.
//!
//! Nothing here prompts. Zig is looked up in the places users put it, then taken from the tool
//! cache, then downloaded (checksum and signature verified) or installed with pip; every failure
//! names each place tried and why it did not work.

mod cache;
mod download;
mod pip;
mod rust;
mod unpack;
mod verify;
mod zig;

use std::path::PathBuf;

pub use cache::Cache;
pub use rust::{Rustc, SysrootQuery, ensure_targets};
pub use verify::ZIG_PUBLIC_KEY;
pub use zig::{DEFAULT_ZIG_VERSION, Zig, ZigWanted, describe_zig, obtain_zig};

use crate::cli::EnvVars;

/// A program name resolved against PATH (a name with a slash is taken as a path).
pub(crate) fn resolve_program(name: &str, env: &EnvVars) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    which::which_in(name, env.get("PATH"), std::env::current_dir().ok()?).ok()
}

/// One place a tool was looked for, and why it was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tried {
    /// The place: `env ZIG (/opt/zig)`, `download https://...`.
    pub place: String,
    /// Why it was not used.
    pub why: String,
}

/// The places tried so far, reported together when nothing worked.
#[derive(Clone, Debug, Default)]
pub struct Attempts(Vec<Tried>);

impl Attempts {
    /// Notes a failed place (and logs it, so `-v` shows the search as it happens).
    pub fn failed(&mut self, place: impl Into<String>, why: impl std::fmt::Display) {
        let tried = Tried {
            place: place.into(),
            why: why.to_string(),
        };
        tracing::debug!("{}: {}", tried.place, tried.why);
        self.0.push(tried);
    }

    /// The places, in the order they were tried.
    pub fn tried(&self) -> &[Tried] {
        &self.0
    }

    /// One line per place, for an error message.
    pub fn lines(&self) -> String {
        self.0.iter().map(|t| format!("\n  - {}: {}", t.place, t.why)).collect()
    }
}
