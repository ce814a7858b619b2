//! Discovery: which binaries of the workspace are Lambda functions and extensions.

use std::path::{Path, PathBuf};

use cargo_metadata::{DependencyKind, Metadata, Package};
use serde::{Deserialize, Serialize};

use crate::config::Shard;
use crate::config::resolve::lambda_build_table;
use crate::error::{Error, Result};

/// Crates whose dependents are Lambda functions.
const FUNCTION_CRATES: [&str; 2] = ["lambda_runtime", "lambda_http"];
/// The crate whose dependents are Lambda extensions.
const EXTENSION_CRATE: &str = "lambda-extension";

/// What a binary is to Lambda.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A function: packaged as `bootstrap`.
    Function,
    /// An extension: packaged under `extensions/`.
    Extension,
}

impl Kind {
    /// The manifest's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Function => "function",
            Kind::Extension => "extension",
        }
    }
}

/// A binary target selected for this run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Binary {
    /// The package name.
    pub package: String,
    /// cargo's id of the package, to match build messages exactly.
    #[serde(skip)]
    pub package_id: String,
    /// The binary's name.
    pub name: String,
    /// What detection says it is; `None` for a binary selected by name that uses no Lambda crate.
    pub detected: Option<Kind>,
    /// Why it was selected, for `--print-config` and logs.
    pub reason: String,
    /// The package folder.
    pub package_dir: PathBuf,
}

/// `-p` and `--bin` narrowing, and the manifest that picks the packages when none is named.
#[derive(Clone, Debug, Default)]
pub struct Selection<'a> {
    /// Package names.
    pub packages: &'a [String],
    /// Binary names.
    pub bins: &'a [String],
    /// The Cargo.toml the run was pointed at (`--manifest-path`, or the one in the current
    /// folder): a member's manifest selects that member, as it does for cargo.
    pub manifest_path: Option<&'a Path>,
    /// Every member, whatever the manifest (cargo's `--workspace`).
    pub workspace: bool,
}

/// How a package relates to Lambda, from its dependencies and metadata.
pub fn detect(package: &Package) -> Option<(Kind, String)> {
    let uses = |name: &str| {
        package
            .dependencies
            .iter()
            .any(|d| d.kind == DependencyKind::Normal && d.name == name)
    };
    if let Some(krate) = FUNCTION_CRATES.iter().find(|c| uses(c)) {
        return Some((Kind::Function, format!("depends on {krate}")));
    }
    if uses(EXTENSION_CRATE) {
        return Some((Kind::Extension, format!("depends on {EXTENSION_CRATE}")));
    }
    let marked = lambda_build_table(&package.metadata)
        .and_then(|t| t.get("extension"))
        .is_some_and(|v| {
            v.as_bool() == Some(true) || v.as_str().and_then(crate::config::values::parse_bool) == Some(true)
        });
    marked.then(|| {
        (
            Kind::Extension,
            "extension = true in [package.metadata.lambda.build]".to_owned(),
        )
    })
}

/// The packages a run looks in when `-p` names none, as cargo picks them: the package whose
/// Cargo.toml the run was pointed at (a member's manifest builds that member, not the whole
/// workspace around it), else the workspace's default members (all members of a virtual
/// workspace without `default-members`). `cargo metadata --no-deps` reports no resolve root,
/// so the package is found by its manifest path.
fn default_packages<'m>(metadata: &'m Metadata, selection: &Selection<'_>) -> Vec<&'m Package> {
    let members = metadata.workspace_packages();
    if selection.workspace {
        return members;
    }
    let canonical = |path: &Path| path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if let Some(manifest) = selection.manifest_path.map(canonical)
        && let Some(package) = members
            .iter()
            .find(|p| canonical(p.manifest_path.as_std_path()) == manifest)
    {
        return vec![package];
    }
    if metadata.workspace_default_members.is_available() {
        return metadata.workspace_default_packages();
    }
    members
}

/// The binaries to build: every Lambda binary of the packages cargo would build (see
/// [`default_packages`]), or those named.
pub fn discover(metadata: &Metadata, selection: &Selection<'_>) -> Result<Vec<Binary>> {
    let members = metadata.workspace_packages();
    for name in selection.packages {
        if !members.iter().any(|p| p.name.as_str() == name) {
            let known: Vec<&str> = members.iter().map(|p| p.name.as_str()).collect();
            return Err(Error::usage(format!(
                "package {name:?} (from --package) is not a member of the workspace; accepted: {}",
                known.join(", ")
            )));
        }
    }
    let defaults = default_packages(metadata, selection);
    let named_package = |p: &Package| match selection.packages.is_empty() {
        true => defaults.iter().any(|d| d.id == p.id),
        false => selection.packages.iter().any(|n| n == p.name.as_str()),
    };
    let mut found = Vec::new();
    for package in members.iter().filter(|p| named_package(p)) {
        let detected = detect(package);
        for target in package.targets.iter().filter(|t| t.is_bin()) {
            let named = selection.bins.contains(&target.name);
            let wanted = if !selection.bins.is_empty() {
                named
            } else {
                !selection.packages.is_empty() || detected.is_some()
            };
            if !wanted {
                continue;
            }
            let reason = match (&detected, named) {
                (Some((_, why)), _) => why.clone(),
                (None, true) => "named with --bin".to_owned(),
                (None, false) => "in a package named with --package".to_owned(),
            };
            found.push(Binary {
                package: package.name.to_string(),
                package_id: package.id.repr.clone(),
                name: target.name.clone(),
                detected: detected.as_ref().map(|(kind, _)| *kind),
                reason,
                package_dir: package
                    .manifest_path
                    .parent()
                    .map(|d| d.as_std_path().to_path_buf())
                    .unwrap_or_default(),
            });
        }
    }
    for bin in selection.bins {
        if !found.iter().any(|b| &b.name == bin) {
            let known: Vec<String> = members
                .iter()
                .filter(|p| named_package(p))
                .flat_map(|p| p.targets.iter().filter(|t| t.is_bin()).map(|t| t.name.clone()))
                .collect();
            return Err(Error::usage(format!(
                "binary {bin:?} (from --bin) is not in the selected packages; accepted: {}",
                if known.is_empty() {
                    "none found".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    if found.is_empty() {
        let scope = match (selection.packages.is_empty(), defaults.as_slice()) {
            (true, [one]) if defaults.len() < members.len() => {
                format!(
                    "package {} (the manifest path's package, as cargo selects it)",
                    one.name
                )
            }
            _ => "workspace members".to_owned(),
        };
        return Err(Error::usage(format!(
            "no Lambda functions or extensions found in {}: looked for binaries in {scope} that depend on lambda_runtime, lambda_http or lambda-extension, or set extension = true in [package.metadata.lambda.build]; name other binaries with --bin or --package",
            metadata.workspace_root
        )));
    }
    found.sort_by(|a, b| (&a.package, &a.name).cmp(&(&b.package, &b.name)));
    Ok(found)
}

/// This shard's slice of the binaries. The order is by package and name, whatever order cargo
/// listed them in, so every job of a matrix computes the same split. The run still plans the
/// whole selection and narrows the plan to these ([`crate::plan::Plan::only`]), so a shard
/// builds them exactly as the unsharded run does.
pub fn take_shard(mut binaries: Vec<Binary>, shard: Option<Shard>) -> Vec<Binary> {
    let Some(shard) = shard else {
        return binaries;
    };
    binaries.sort_by(|a, b| (&a.package, &a.name).cmp(&(&b.package, &b.name)));
    binaries
        .into_iter()
        .enumerate()
        .filter(|(position, _)| shard.takes(*position))
        .map(|(_, binary)| binary)
        .collect()
}
