//! The dependency chain from a workspace member to the crate that failed, from `cargo
//! metadata`'s resolve graph with features, and the Cargo.toml line where the member declares
//! the chain's first crate (what the user edits).
//!
//! Written over [`Metadata`], so a run that already holds a resolve graph can pass its own;
//! [`resolve`] reads one only after a failure was diagnosed.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;

use cargo_metadata::semver::Version;
use cargo_metadata::{DependencyKind, Metadata, Package, PackageId};

use super::Location;
use crate::cli::EnvVars;
use crate::plan::{Invocation, Plan};

/// A member's path to a crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The workspace member.
    pub member: String,
    /// Its manifest.
    pub manifest: PathBuf,
    /// The crates from the member's dependency to the failed crate.
    pub links: Vec<Link>,
}

/// One crate on a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The crate.
    pub name: String,
    /// Its resolved version.
    pub version: Version,
    /// The feature of this crate that pulls in the next one, and whether it is on by default.
    pub feature: Option<(String, bool)>,
}

impl fmt::Display for Chain {
    /// `fn-a → reqwest (default feature default-tls) → native-tls → openssl-sys`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.member)?;
        for link in &self.links {
            write!(f, " → {}", link.name)?;
            match &link.feature {
                Some((feature, true)) => write!(f, " (default feature {feature})")?,
                Some((feature, false)) => write!(f, " (feature {feature})")?,
                None => {}
            }
        }
        Ok(())
    }
}

impl Chain {
    /// The line of the member's Cargo.toml declaring the chain's first crate.
    pub fn location(&self) -> Option<Location> {
        let first = self.links.first()?;
        let text = std::fs::read_to_string(&self.manifest).ok()?;
        declaration_line(&text, &first.name).map(|line| Location {
            file: self.manifest.clone(),
            line,
        })
    }
}

/// `cargo metadata` with the resolve graph for the failed invocation's features and target,
/// offline (the build has just resolved and fetched everything) and bounded like every probe;
/// `None` when it cannot be read (the diagnosis then goes without a chain).
pub fn resolve(plan: &Plan, invocation: &Invocation, env: &EnvVars) -> Option<Metadata> {
    let limits = crate::process::Limits::of(env);
    let mut command = cargo_metadata::MetadataCommand::new();
    command.manifest_path(&plan.manifest_path);
    let cargo = &plan.cargo;
    if cargo.all_features {
        command.features(cargo_metadata::CargoOpt::AllFeatures);
    }
    if cargo.no_default_features {
        command.features(cargo_metadata::CargoOpt::NoDefaultFeatures);
    }
    if !cargo.features.is_empty() {
        command.features(cargo_metadata::CargoOpt::SomeFeatures(cargo.features.clone()));
    }
    let mut other = vec!["--offline".to_owned()];
    if let Some(target) = invocation.targets.first() {
        other.extend(["--filter-platform".to_owned(), target.triple()]);
    }
    command.other_options(other);
    let mut command = command.cargo_command();
    command.envs(&cargo.env);
    let output = crate::process::output(&mut command, limits.download)
        .inspect_err(|err| tracing::debug!("cargo metadata for the diagnosis: {err:#}"))
        .ok()?;
    if !output.status.success() {
        tracing::debug!(
            "cargo metadata for the diagnosis: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = stdout.lines().find(|line| line.starts_with('{'))?;
    cargo_metadata::MetadataCommand::parse(json).ok()
}

/// The shortest chain from a member (one of `packages`, else any) to the crate `name`, over
/// normal and build dependencies.
pub fn find(metadata: &Metadata, packages: &[String], name: &str) -> Option<Chain> {
    let resolve = metadata.resolve.as_ref()?;
    let nodes: HashMap<&PackageId, _> = resolve.nodes.iter().map(|n| (&n.id, n)).collect();
    let package = |id: &PackageId| metadata.packages.iter().find(|p| &p.id == id);
    let starts: Vec<&PackageId> = metadata
        .workspace_members
        .iter()
        .filter(|id| packages.is_empty() || package(id).is_some_and(|p| packages.iter().any(|n| p.name == n)))
        .collect();
    // Breadth first from every member at once: the first path found is a shortest one.
    let mut came_from: HashMap<&PackageId, Option<&PackageId>> = starts.iter().map(|id| (*id, None)).collect();
    let mut queue: VecDeque<&PackageId> = starts.into_iter().collect();
    let mut end = None;
    while let Some(id) = queue.pop_front() {
        if package(id).is_some_and(|p| p.name == name) {
            end = Some(id);
            break;
        }
        let Some(node) = nodes.get(id) else { continue };
        for dep in &node.deps {
            let used = dep.dep_kinds.iter().any(|k| k.kind != DependencyKind::Development);
            if used && !came_from.contains_key(&dep.pkg) {
                came_from.insert(&dep.pkg, Some(id));
                queue.push_back(&dep.pkg);
            }
        }
    }
    let mut path = vec![end?];
    while let Some(Some(previous)) = path.last().and_then(|id| came_from.get(*id)) {
        path.push(*previous);
    }
    path.reverse();
    let member = package(path[0])?;
    let mut links = Vec::new();
    for pair in path.windows(2) {
        let (parent, child) = (package(pair[0])?, package(pair[1])?);
        links.push(Link {
            name: child.name.to_string(),
            version: child.version.clone(),
            feature: None,
        });
        // The feature goes on the parent's link (the member has none: it is the user's code).
        if let (Some(last), Some(node)) = (links.len().checked_sub(2), nodes.get(pair[0])) {
            let enabled: Vec<&str> = node.features.iter().map(|f| f.as_str()).collect();
            links[last].feature = enabling_feature(parent, child, &enabled);
        }
    }
    Some(Chain {
        member: member.name.to_string(),
        manifest: member.manifest_path.clone().into_std_path_buf(),
        links,
    })
}

/// The feature of `parent` (among `enabled`) that pulls in the optional dependency `child`, the
/// one nearest the user (not itself turned on by another such feature), and whether `default`
/// turns it on; `None` when the dependency is not optional.
fn enabling_feature(parent: &Package, child: &Package, enabled: &[&str]) -> Option<(String, bool)> {
    let dependency = parent
        .dependencies
        .iter()
        .find(|d| d.name == child.name.as_str() && d.optional)?;
    let key = dependency.rename.as_deref().unwrap_or(&dependency.name);
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(feature) = todo.pop() {
            if !seen.insert(feature.clone()) {
                continue;
            }
            for value in parent.features.get(&feature).into_iter().flatten() {
                if !value.contains('/') && !value.starts_with("dep:") {
                    todo.push(value.clone());
                }
            }
        }
        seen
    };
    let pulls = |feature: &str| {
        parent.features.get(feature).into_iter().flatten().any(|value| {
            let value = value.strip_prefix("dep:").unwrap_or(value);
            let crate_part = value.split('/').next().unwrap_or(value).trim_end_matches('?');
            crate_part == key && !value.contains("?/")
        })
    };
    let candidates: Vec<&str> = enabled
        .iter()
        .copied()
        .filter(|f| *f != "default" && reach(f).iter().any(|r| pulls(r)))
        .collect();
    let top = candidates
        .iter()
        .find(|f| !candidates.iter().any(|other| other != *f && reach(other).contains(**f)))?;
    let by_default = enabled.contains(&"default") && reach("default").contains(*top);
    Some(((*top).to_owned(), by_default))
}

/// The features of crate `name` that build its C library from source (their names say so).
pub fn bundling_features(metadata: &Metadata, name: &str) -> Vec<String> {
    let words = ["vendored", "bundled", "static", "build"];
    metadata
        .packages
        .iter()
        .find(|p| p.name == name)
        .map(|p| {
            p.features
                .keys()
                .filter(|f| words.iter().any(|w| f.contains(w)))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// The 1-based line of a Cargo.toml that declares the dependency `name` in a dependency table:
/// `name = ...`, `name.workspace = true`, a `[dependencies.name]` header, or a renamed entry's
/// `package = "name"`.
pub fn declaration_line(text: &str, name: &str) -> Option<usize> {
    let mut in_dependencies = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            let header = line.trim_matches(|c| c == '[' || c == ']').trim();
            let table = header.rsplit_once('.').map_or(header, |(_, last)| last);
            let dependencies = |h: &str| h.ends_with("dependencies") && !h.ends_with("dev-dependencies");
            if dependencies(header.rsplit_once('.').map_or(header, |(head, _)| head)) && unquote(table) == name {
                return Some(index + 1);
            }
            in_dependencies = dependencies(header);
            continue;
        }
        if !in_dependencies {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = unquote(key.trim());
        let key = key.split('.').next().unwrap_or(key);
        if key == name {
            return Some(index + 1);
        }
        let package = value
            .split_once("package")
            .and_then(|(_, rest)| rest.split_once('='))
            .map(|(_, v)| v);
        if package.is_some_and(|v| v.trim_start().trim_start_matches('"').starts_with(&format!("{name}\""))) {
            return Some(index + 1);
        }
    }
    None
}

fn unquote(text: &str) -> &str {
    text.trim().trim_matches('"').trim_matches('\'')
}

#[cfg(test)]
pub(crate) mod tests;
