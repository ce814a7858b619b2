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

/// Which kind of cargo target an executable is: cargo builds them with different flags
/// (`--bin`, `--example`) and writes examples under `<profile>/examples/`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A `[[bin]]` target.
    #[default]
    Bin,
    /// An `[[example]]` target (built as a function with `--examples` / `--example NAME`, as
    /// cargo-lambda does).
    Example,
}

impl TargetKind {
    /// The cargo flag that selects one target of this kind.
    pub fn flag(self) -> &'static str {
        match self {
            TargetKind::Bin => "--bin",
            TargetKind::Example => "--example",
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
    /// A bin or an example target.
    pub target_kind: TargetKind,
    /// What detection says it is; `None` for a binary selected by name that uses no Lambda crate.
    pub detected: Option<Kind>,
    /// Its package depends on `lambda_http`: a smoke test sends it an API Gateway request.
    #[serde(skip)]
    pub http: bool,
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
    /// `--examples`: every example of the selected packages instead of their binaries.
    pub examples: bool,
    /// `--example NAME`: these examples instead of the binaries.
    pub example: &'a [String],
}

impl Selection<'_> {
    /// Whether the run builds example targets instead of binaries, as `cargo lambda build
    /// --examples` / `--example NAME` do (binaries named with `--bin` still build too).
    fn builds_examples(&self) -> bool {
        self.examples || !self.example.is_empty()
    }
}

/// How a package's binaries relate to Lambda, from its dependencies and metadata.
pub fn detect(package: &Package) -> Option<(Kind, String)> {
    detect_with(package, &[DependencyKind::Normal])
}

/// How a package's examples relate to Lambda: examples may also use its dev-dependencies,
/// where a library keeps `lambda_runtime` for the examples that show it in use.
fn detect_example(package: &Package) -> Option<(Kind, String)> {
    detect_with(package, &[DependencyKind::Normal, DependencyKind::Development])
}

fn detect_with(package: &Package, kinds: &[DependencyKind]) -> Option<(Kind, String)> {
    let uses = |name: &str| {
        package
            .dependencies
            .iter()
            .any(|d| kinds.contains(&d.kind) && d.name == name)
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

/// Whether a target of `package` of this kind can use `lambda_http` (examples also through the
/// dev-dependencies), so its smoke event is an HTTP request.
fn uses_http(package: &Package, kind: TargetKind) -> bool {
    package.dependencies.iter().any(|d| {
        d.name == "lambda_http"
            && (d.kind == DependencyKind::Normal
                || (kind == TargetKind::Example && d.kind == DependencyKind::Development))
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
        found.extend(package_targets(package, selection));
    }
    check_named(&members, &named_package, &found, selection.bins, TargetKind::Bin)?;
    check_named(&members, &named_package, &found, selection.example, TargetKind::Example)?;
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
        let targets = match selection.builds_examples() {
            true => "examples (--examples)",
            false => "binaries",
        };
        return Err(Error::usage(format!(
            "no Lambda functions or extensions found in {}: looked for {targets} in {scope} that depend on lambda_runtime, lambda_http or lambda-extension, or set extension = true in [package.metadata.lambda.build]; name other binaries with --bin or --package",
            metadata.workspace_root
        )));
    }
    found.sort_by(|a, b| (&a.package, &a.name, a.target_kind).cmp(&(&b.package, &b.name, b.target_kind)));
    Ok(found)
}

/// The targets of one selected package this run builds: its Lambda binaries (or those named
/// with `--bin`; any of them when the package is named with `--package`), and in examples mode
/// its Lambda examples (or those named with `--example`) instead of the unnamed binaries.
fn package_targets(package: &Package, selection: &Selection<'_>) -> Vec<Binary> {
    let by_package = !selection.packages.is_empty();
    let mut found = Vec::new();
    let mut push = |target: &cargo_metadata::Target, kind: TargetKind, detected: &Option<(Kind, String)>, named| {
        let reason = match (detected, named) {
            (Some((_, why)), _) => why.clone(),
            (None, true) => format!("named with {}", kind.flag()),
            (None, false) => "in a package named with --package".to_owned(),
        };
        found.push(Binary {
            package: package.name.to_string(),
            package_id: package.id.repr.clone(),
            name: target.name.clone(),
            target_kind: kind,
            detected: detected.as_ref().map(|(kind, _)| *kind),
            http: uses_http(package, kind),
            reason,
            package_dir: package
                .manifest_path
                .parent()
                .map(|d| d.as_std_path().to_path_buf())
                .unwrap_or_default(),
        });
    };
    let detected = detect(package);
    for target in package.targets.iter().filter(|t| t.is_bin()) {
        let named = selection.bins.contains(&target.name);
        let wanted = match (selection.bins.is_empty(), selection.builds_examples()) {
            (false, _) => named,
            (true, true) => false,
            (true, false) => by_package || detected.is_some(),
        };
        if wanted {
            push(target, TargetKind::Bin, &detected, named);
        }
    }
    if !selection.builds_examples() {
        return found;
    }
    // cargo-lambda's filter: an example target whose crate type is bin (not a library example).
    let detected = detect_example(package);
    let examples = package
        .targets
        .iter()
        .filter(|t| t.is_example() && t.crate_types.contains(&cargo_metadata::CrateType::Bin));
    for target in examples {
        let named = selection.example.contains(&target.name);
        let wanted = match selection.example.is_empty() {
            false => named,
            true => by_package || detected.is_some(),
        };
        if wanted {
            push(target, TargetKind::Example, &detected, named);
        }
    }
    found
}

/// Every target named with `--bin` (or `--example`) must be one of the selected packages'.
fn check_named(
    members: &[&Package],
    named_package: &dyn Fn(&Package) -> bool,
    found: &[Binary],
    names: &[String],
    kind: TargetKind,
) -> Result<()> {
    let is_kind = |t: &cargo_metadata::Target| match kind {
        TargetKind::Bin => t.is_bin(),
        TargetKind::Example => t.is_example(),
    };
    for name in names {
        if found.iter().any(|b| &b.name == name && b.target_kind == kind) {
            continue;
        }
        let known: Vec<String> = members
            .iter()
            .filter(|p| named_package(p))
            .flat_map(|p| p.targets.iter().filter(|t| is_kind(t)).map(|t| t.name.clone()))
            .collect();
        let what = match kind {
            TargetKind::Bin => "binary",
            TargetKind::Example => "example",
        };
        return Err(Error::usage(format!(
            "{what} {name:?} (from {}) is not in the selected packages; accepted: {}",
            kind.flag(),
            if known.is_empty() {
                "none found".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(())
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
