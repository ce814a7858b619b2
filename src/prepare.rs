//! Everything a run decides before it touches anything: settings with their sources, the
//! binaries found, the plan, each zip's include files and the upload, all checked. A build, a
//! `--print-config` and a `--toolchain-only` run start from the same [`Resolved`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cargo_metadata::Metadata;

use crate::cli::{EnvVars, Inputs};
use crate::config::resolve::{self, lambda_build_table};
use crate::config::{CompilerKind, MetadataLayer, PackageSettings, Resolver, RunSettings};
use crate::discover::{self, Selection};
use crate::error::{Error, Result};
use crate::plan::{self, CargoFlags, Plan, Selected};
use crate::{config, includes, toolchain, tuning, upload};

/// Everything resolved before anything is built.
#[derive(Debug)]
pub struct Resolved {
    /// Run-wide settings.
    pub run: RunSettings,
    /// The run-wide view of per-package settings (the manifest's own package, else workspace).
    pub defaults: PackageSettings,
    /// Each selected package's settings.
    pub packages: BTreeMap<String, PackageSettings>,
    /// The selected binaries.
    pub binaries: Vec<discover::Binary>,
    /// The plan.
    pub plan: Plan,
    /// Each artifact's include files (by index into the plan's artifacts), listed and checked.
    pub includes: Vec<Vec<includes::IncludeFile>>,
    /// The upload after the build, checked before anything compiles.
    pub upload: Option<upload::Release>,
    /// Metadata lambda-build ignores (unknown keys, ...), one line each, for stderr and
    /// `--print-config`.
    pub warnings: Vec<String>,
}

/// Resolves inputs and metadata into settings, binaries and a plan; touches nothing.
pub fn resolve(inputs: &Inputs, env: &EnvVars, cwd: &Path) -> Result<Resolved> {
    let manifest_path = resolve::manifest_path(inputs, cwd)?;
    let metadata = load_metadata(&manifest_path.value, env)?;
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let workspace_table = lambda_build_table(&metadata.workspace_metadata);
    let resolver = Resolver::new(inputs, cwd.to_path_buf(), workspace_root.clone(), workspace_table);

    let root_dir;
    let root = match metadata.root_package() {
        Some(package) => {
            root_dir = package_dir(package);
            Some(MetadataLayer {
                package: package.name.as_str(),
                dir: &root_dir,
                build: lambda_build_table(&package.metadata),
            })
        }
        None => None,
    };
    let run = resolver.run_settings(manifest_path, root)?;
    let defaults = resolver.package_settings(root)?;

    let selection = Selection {
        packages: &run.package.value,
        bins: &run.bin.value,
        manifest_path: Some(&run.manifest_path.value),
        workspace: false,
    };
    let binaries = discover::take_shard(discover::discover(&metadata, &selection)?, run.shard.value);
    let mut packages = BTreeMap::new();
    for binary in &binaries {
        if packages.contains_key(&binary.package) {
            continue;
        }
        let package = metadata
            .workspace_packages()
            .into_iter()
            .find(|p| p.name.as_str() == binary.package)
            .context("a discovered package vanished from cargo metadata")?;
        let layer = MetadataLayer {
            package: &binary.package,
            dir: &binary.package_dir,
            build: lambda_build_table(&package.metadata),
        };
        packages.insert(binary.package.clone(), resolver.package_settings(Some(layer))?);
    }
    let profiles = std::iter::once(&defaults).chain(packages.values()).map(|s| &s.profile);
    config::profiles::check(profiles, &workspace_root.join("Cargo.toml"), cwd, env)?;
    let warnings =
        config::keys::metadata_warnings(&metadata, root.map(|r| r.package), |name| packages.contains_key(name));
    let selected: Vec<Selected<'_>> = binaries
        .iter()
        .map(|b| Selected {
            binary: b,
            settings: &packages[&b.package],
        })
        .collect();

    let target_dir = metadata.target_directory.clone().into_std_path_buf();
    let lambda_dir = run
        .lambda_dir
        .value
        .clone()
        .unwrap_or_else(|| target_dir.join("lambda"));
    resolve::check_lambda_dir(&lambda_dir, &run.lambda_dir.source)?;
    let mut plan = plan::plan(
        &selected,
        &run.manifest_path.value,
        &workspace_root,
        &target_dir,
        &lambda_dir,
        CargoFlags::from_run(&run),
    )?;
    if plan.invocations.iter().any(|i| i.tuning.applied) {
        let profile = tuning::ReleaseProfile::load(&workspace_root.join("Cargo.toml"), env)?;
        let flags = tuning::RustflagsConfig::load(cwd, env)?;
        tuning::apply(&mut plan, &profile, &flags)?;
    }
    let bounds = includes::Bounds::new(&workspace_root, &plan.lambda_dir);
    let includes = includes::list_all(plan.artifacts.iter().map(|a| a.include.as_slice()), &bounds)?;
    let upload = upload::resolve(
        run.upload.value.as_deref().map(|u| (u, &run.upload.source)),
        run.release_tag.value.as_deref().map(|t| (t, &run.release_tag.source)),
        run.draft.value,
        run.prerelease.value,
        env,
    )?;
    Ok(Resolved {
        run,
        defaults,
        packages,
        binaries,
        plan,
        includes,
        upload,
        warnings,
    })
}

fn package_dir(package: &cargo_metadata::Package) -> PathBuf {
    package
        .manifest_path
        .parent()
        .map(|d| d.as_std_path().to_path_buf())
        .unwrap_or_default()
}

/// `cargo metadata`, bounded like every child ([`crate::process`]); the first child of a run,
/// so a bad `LAMBDA_BUILD_PROBE_TIMEOUT` is refused here, before anything starts.
fn load_metadata(manifest_path: &Path, env: &EnvVars) -> Result<Metadata> {
    let limits = crate::process::Limits::check(env)?;
    let mut command = cargo_metadata::MetadataCommand::new();
    command.manifest_path(manifest_path).no_deps();
    let read = || -> anyhow::Result<Metadata> {
        let output = crate::process::output(&mut command.cargo_command(), limits.download)?;
        if !output.status.success() {
            anyhow::bail!(
                "`cargo metadata` exited with an error: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let json = stdout
            .lines()
            .find(|line| line.starts_with('{'))
            .context("`cargo metadata` printed no JSON")?;
        Ok(cargo_metadata::MetadataCommand::parse(json)?)
    };
    read()
        .with_context(|| {
            format!(
                "reading the workspace with cargo metadata ({})",
                manifest_path.display()
            )
        })
        .map_err(Error::Failed)
}

/// The Zig version a run asks for: `--zig-version`, or the pinned default.
pub fn zig_wanted(run: &RunSettings) -> toolchain::ZigWanted {
    toolchain::ZigWanted {
        version: run.zig_version.value.clone(),
        explicit: run.zig_version.source != crate::config::Source::Default,
    }
}

/// Whether any invocation of the plan links with cargo-zigbuild (the only one needing Zig).
pub fn needs_zig(plan: &Plan) -> bool {
    plan.invocations
        .iter()
        .any(|i| i.compiler == CompilerKind::CargoZigbuild)
}
