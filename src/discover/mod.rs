//! Discovery: which binaries of the workspace are Lambda functions and extensions.

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, Package};
use serde::{Deserialize, Serialize};

mod graph;

pub use graph::{Chain, Graph, Hop, LAMBDA_TARGETS, Request, describe};

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
    /// `--exclude`: packages left out (cargo's `--workspace --exclude`).
    pub exclude: &'a [String],
    /// The run's `--features`, `--all-features` and `--no-default-features`: which optional
    /// dependencies a package's build turns on, so which Lambda crates it reaches.
    pub features: Request<'a>,
    /// cargo-lambda's selection (`cargo lambda build` through the entry point): every binary of
    /// the packages cargo builds, Lambda crate or not; none at all is a warning, not an error.
    pub every_binary: bool,
}

impl Selection<'_> {
    /// Whether the run builds example targets instead of binaries, as `cargo lambda build
    /// --examples` / `--example NAME` do (binaries named with `--bin` still build too).
    fn builds_examples(&self) -> bool {
        self.examples || !self.example.is_empty()
    }
}

/// What detection found in a package: what its binaries are to Lambda and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detected {
    /// Function or extension.
    pub kind: Kind,
    /// Why, for `--print-config`: the dependency chain (`reaches lambda_http via api_utils →
    /// lambda_http`).
    pub reason: String,
    /// It reaches `lambda_http` no further than `lambda_runtime`: a smoke test sends it an API
    /// Gateway request.
    pub http: bool,
}

/// How a package's targets relate to Lambda: the Lambda crates its build reaches through any
/// chain of normal dependencies (examples: its dev-dependencies too), with the features the run
/// turns on. Reaching both kinds of crate, the nearer decides (a tie is a function): an
/// extension may use a shared crate that also serves the functions and depends on
/// `lambda_runtime`. `extension = true` in the package's metadata makes any package an extension.
pub fn detect(graph: &Graph, package: &Package, request: &Request<'_>) -> Option<Detected> {
    let node = graph.node(&package.id.repr)?;
    let wanted: Vec<&str> = FUNCTION_CRATES.iter().copied().chain([EXTENSION_CRATE]).collect();
    let found = graph.reach(node, request, &wanted);
    let nearest = |crates: &[&'static str]| {
        crates
            .iter()
            .filter_map(|&c| found.get(c).map(|chain| (chain.len(), c, chain)))
            .min_by_key(|(len, _, _)| *len)
    };
    let function = nearest(&FUNCTION_CRATES);
    let extension = nearest(&[EXTENSION_CRATE]);
    let because = |krate: &str, chain: &Chain| match chain.len() {
        1 => format!("depends on {}", graph::describe(chain)),
        _ => format!("reaches {krate} via {}", graph::describe(chain)),
    };
    let http = found.get("lambda_http").is_some_and(|http| {
        found
            .get("lambda_runtime")
            .is_none_or(|runtime| http.len() <= runtime.len())
    });
    match (function, extension) {
        (Some((f, krate, chain)), e) if e.is_none_or(|(e, _, _)| f <= e) => {
            return Some(Detected {
                kind: Kind::Function,
                reason: because(krate, chain),
                http,
            });
        }
        (_, Some((_, krate, chain))) => {
            return Some(Detected {
                kind: Kind::Extension,
                reason: because(krate, chain),
                http: false,
            });
        }
        _ => {}
    }
    let marked = lambda_build_table(&package.metadata)
        .and_then(|t| t.get("extension"))
        .is_some_and(|v| {
            v.as_bool() == Some(true) || v.as_str().and_then(crate::config::values::parse_bool) == Some(true)
        });
    marked.then(|| Detected {
        kind: Kind::Extension,
        reason: "extension = true in [package.metadata.lambda.build]".to_owned(),
        http: false,
    })
}

/// The packages a run looks in when `-p` names none, as cargo picks them: the package whose
/// Cargo.toml the run was pointed at (a member's manifest builds that member, not the whole
/// workspace around it), else the workspace's default members (all members of a virtual
/// workspace without `default-members`). The package is found by its manifest path (a
/// virtual manifest has no resolve root).
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
/// [`default_packages`]), or those named; through the entry point, every binary of those
/// packages ([`Selection::every_binary`]). `metadata` must have its resolve (no `--no-deps`):
/// detection follows the dependency graph.
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
    let graph = Graph::new(metadata);
    let defaults = default_packages(metadata, selection);
    let named_package = |p: &Package| {
        let named = match selection.packages.is_empty() {
            true => defaults.iter().any(|d| d.id == p.id),
            false => selection.packages.iter().any(|n| n == p.name.as_str()),
        };
        named && !selection.exclude.iter().any(|n| n == p.name.as_str())
    };
    let mut found = Vec::new();
    let mut left_out = Vec::new();
    for package in members.iter().filter(|p| named_package(p)) {
        let (taken, left) = package_targets(&graph, package, selection);
        found.extend(taken);
        left_out.extend(left);
    }
    check_named(&members, &named_package, &found, selection.bins, TargetKind::Bin)?;
    check_named(&members, &named_package, &found, selection.example, TargetKind::Example)?;
    if found.is_empty() && !selection.every_binary {
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
            "no Lambda functions or extensions found in {}: looked for {targets} in {scope} whose dependencies reach lambda_runtime, lambda_http or lambda-extension (directly or through other crates), or that set extension = true in [package.metadata.lambda.build]; {}; name other binaries with --bin or --package",
            metadata.workspace_root,
            seen(&left_out),
        )));
    }
    found.sort_by(|a, b| (&a.package, &a.name, a.target_kind).cmp(&(&b.package, &b.name, b.target_kind)));
    Ok(found)
}

/// The targets an empty selection saw and left out, for its error: a few by name.
fn seen(left_out: &[(String, String)]) -> String {
    const SHOWN: usize = 8;
    if left_out.is_empty() {
        return "the selected packages have no such targets".to_owned();
    }
    let mut names: Vec<String> = left_out
        .iter()
        .take(SHOWN)
        .map(|(package, target)| format!("{target} (package {package})"))
        .collect();
    if left_out.len() > SHOWN {
        names.push(format!("and {} more", left_out.len() - SHOWN));
    }
    format!("left out, reaching none of them: {}", names.join(", "))
}

/// The targets of one selected package this run builds: its Lambda binaries (or those named
/// with `--bin`; any of them when the package is named with `--package`, or with
/// [`Selection::every_binary`]), and in examples mode its Lambda examples (or those named with
/// `--example`) instead of the unnamed binaries. Also the (package, target) pairs it looked at
/// and left out.
fn package_targets(
    graph: &Graph,
    package: &Package,
    selection: &Selection<'_>,
) -> (Vec<Binary>, Vec<(String, String)>) {
    let every = !selection.packages.is_empty() || selection.every_binary;
    let mut found = Vec::new();
    let mut left_out = Vec::new();
    let mut push = |target: &cargo_metadata::Target, kind: TargetKind, detected: &Option<Detected>, named| {
        let reason = match (detected, named) {
            (Some(detected), _) => detected.reason.clone(),
            (None, true) => format!("named with {}", kind.flag()),
            (None, false) if selection.packages.is_empty() => {
                "cargo lambda build builds every binary of the packages cargo builds".to_owned()
            }
            (None, false) => "in a package named with --package".to_owned(),
        };
        found.push(Binary {
            package: package.name.to_string(),
            package_id: package.id.repr.clone(),
            name: target.name.clone(),
            target_kind: kind,
            detected: detected.as_ref().map(|d| d.kind),
            http: detected.as_ref().is_some_and(|d| d.http),
            reason,
            package_dir: package
                .manifest_path
                .parent()
                .map(|d| d.as_std_path().to_path_buf())
                .unwrap_or_default(),
        });
    };
    let detected = detect(graph, package, &selection.features);
    for target in package.targets.iter().filter(|t| t.is_bin()) {
        let named = selection.bins.contains(&target.name);
        let wanted = match (selection.bins.is_empty(), selection.builds_examples()) {
            (false, _) => named,
            (true, true) => false,
            (true, false) => every || detected.is_some(),
        };
        if wanted {
            push(target, TargetKind::Bin, &detected, named);
        } else if selection.bins.is_empty() && !selection.builds_examples() {
            left_out.push((package.name.to_string(), target.name.clone()));
        }
    }
    if !selection.builds_examples() {
        return (found, left_out);
    }
    // Examples may also use the package's dev-dependencies, where a library keeps
    // `lambda_runtime` for the examples that show it in use.
    let request = Request {
        dev: true,
        ..selection.features
    };
    let detected = detect(graph, package, &request);
    // cargo-lambda's filter: an example target whose crate type is bin (not a library example).
    let examples = package
        .targets
        .iter()
        .filter(|t| t.is_example() && t.crate_types.contains(&cargo_metadata::CrateType::Bin));
    for target in examples {
        let named = selection.example.contains(&target.name);
        let wanted = match selection.example.is_empty() {
            false => named,
            true => every || detected.is_some(),
        };
        if wanted {
            push(target, TargetKind::Example, &detected, named);
        } else if selection.example.is_empty() {
            left_out.push((package.name.to_string(), target.name.clone()));
        }
    }
    (found, left_out)
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
