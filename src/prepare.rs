//! Everything a run decides before it touches anything: settings with their sources, the
//! binaries found, the plan, each zip's include files and the upload, all checked. A build, a
//! `--print-config` and a `--toolchain-only` run start from the same [`Resolved`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cargo_metadata::Metadata;

use crate::cargo_lambda::EntryPoint;
use crate::cli::{EnvVars, Inputs};
use crate::config::resolve::{self, lambda_bin_table, lambda_build_table};
use crate::config::{CompilerKind, PackageSettings, Resolver, RunSettings, Source, Table};
use crate::discover::{self, Selection};
use crate::error::{Error, Result};
use crate::plan::{self, CargoFlags, Plan, Selected};
use crate::{config, includes, toolchain, tuning, upload};

/// Everything resolved before anything is built.
#[derive(Debug)]
pub struct Resolved {
    /// Run-wide settings.
    pub run: RunSettings,
    /// The run-wide view of per-binary settings (the manifest's own package, else workspace).
    pub defaults: PackageSettings,
    /// Each selected package's settings (its metadata, without per-binary tables), for
    /// `--print-config`.
    pub packages: BTreeMap<String, PackageSettings>,
    /// The selected binaries (this shard's, with `--shard`).
    pub binaries: Vec<discover::Binary>,
    /// How many binaries the whole selection has, all shards together: none only through
    /// `cargo lambda build` ([`discover::Selection::every_binary`]).
    pub selected: usize,
    /// Each selected binary's settings, by index into `binaries`: its per-binary tables over
    /// its package's, so one binary's table never leaks into another's.
    pub settings: Vec<PackageSettings>,
    /// The plan.
    pub plan: Plan,
    /// Each artifact's include files (by index into the plan's artifacts), listed and checked.
    pub includes: Vec<Vec<includes::IncludeFile>>,
    /// The uploads after the build, checked before anything compiles.
    pub upload: upload::Uploads,
    /// Configuration lambda-build ignores (unknown keys, ...), one line each, for stderr and
    /// `--print-config`.
    pub warnings: Vec<String>,
}

/// The configuration layers cargo-lambda has besides Cargo.toml, read: the configuration file
/// (with `--global` and `--context` applied) and the `CARGO_LAMBDA_BUILD.*` variables.
struct CargoLambdaSources {
    file: Option<config::file::ConfigFile>,
    context: Option<String>,
    env: Vec<(Source, serde_json::Value)>,
}

impl CargoLambdaSources {
    fn read(inputs: &Inputs, env: &EnvVars, cwd: &Path) -> Result<Self> {
        let early = Resolver::new(inputs, cwd.to_path_buf(), Vec::new(), || None)?;
        let (global, context) = early.file_options()?;
        let global = global.value.as_deref().map(|path| (path, &global.source));
        let file = match config::file::find(cwd, global)? {
            Some(path) => Some(config::file::load(&path)?),
            None => None,
        };
        Ok(CargoLambdaSources {
            file,
            context: context.value,
            env: config::file::env_tables(env),
        })
    }

    /// Their tables, highest first, with `cwd` as the variables' folder.
    fn tables(&self, cwd: &Path) -> Vec<Table<'_>> {
        let file = self.file.iter().flat_map(|f| f.tables(self.context.as_deref()));
        let env = self.env.iter().map(|(source, table)| Table {
            source: source.clone(),
            dir: cwd.to_path_buf(),
            table,
        });
        file.chain(env).collect()
    }

    fn warnings(&self) -> Vec<String> {
        let file = self
            .file
            .iter()
            .flat_map(|f| config::keys::file_warnings(f, self.context.as_deref()));
        let env = self.env.iter().flat_map(|(source, table)| match table {
            serde_json::Value::Object(map) => config::keys::table_warnings(map, source, true),
            _ => Vec::new(),
        });
        file.chain(env).collect()
    }
}

/// A package's own `lambda.build` table as a layer.
fn package_table<'a>(package: &'a cargo_metadata::Package, dir: &Path) -> Option<Table<'a>> {
    Some(Table {
        source: Source::PackageMetadata(package.name.to_string()),
        dir: dir.to_path_buf(),
        table: lambda_build_table(&package.metadata)?,
    })
}

/// The tables one binary reads above the shared ones: its package's per-binary table, its
/// package's table, and the workspace's per-binary table.
fn binary_scope<'a>(
    metadata: &'a Metadata,
    package: &'a cargo_metadata::Package,
    binary: &discover::Binary,
) -> Vec<Table<'a>> {
    let workspace_root = metadata.workspace_root.as_std_path();
    let own = lambda_bin_table(&package.metadata, &binary.name, &binary.package).map(|(table, bin)| Table {
        source: Source::BinMetadata {
            package: binary.package.clone(),
            bin,
        },
        dir: binary.package_dir.clone(),
        table,
    });
    let workspace =
        lambda_bin_table(&metadata.workspace_metadata, &binary.name, &binary.package).map(|(table, bin)| Table {
            source: Source::WorkspaceBinMetadata(bin),
            dir: workspace_root.to_path_buf(),
            table,
        });
    own.into_iter()
        .chain(package_table(package, &binary.package_dir))
        .chain(workspace)
        .collect()
}

/// Resolves inputs and configuration into settings, binaries and a plan; touches nothing.
/// Started through `cargo lambda build` (`entry`), every binary of the packages cargo builds is
/// selected, as cargo-lambda selects them.
pub fn resolve(inputs: &Inputs, env: &EnvVars, cwd: &Path, entry: EntryPoint) -> Result<Resolved> {
    let manifest_path = resolve::manifest_path(inputs, cwd)?;
    let metadata = load_metadata(&manifest_path.value, env)?;
    let workspace_root = metadata.workspace_root.clone().into_std_path_buf();
    let cargo_lambda = CargoLambdaSources::read(inputs, env, cwd)?;
    let workspace_table = lambda_build_table(&metadata.workspace_metadata).map(|table| Table {
        source: Source::WorkspaceMetadata,
        dir: workspace_root.clone(),
        table,
    });
    let shared: Vec<Table<'_>> = workspace_table.into_iter().chain(cargo_lambda.tables(cwd)).collect();
    let host_probe = || toolchain::Rustc::from_env(env).host(&workspace_root);
    let resolver = Resolver::new(inputs, cwd.to_path_buf(), shared, host_probe)?;

    let root_package = metadata.root_package();
    let root_dir = root_package.map(package_dir).unwrap_or_default();
    let root: Vec<Table<'_>> = root_package
        .and_then(|package| package_table(package, &root_dir))
        .into_iter()
        .collect();
    let run = resolver.run_settings(manifest_path, &root)?;
    let defaults = resolver.package_settings(&root)?;

    let selection = Selection {
        packages: &run.package.value,
        bins: &run.bin.value,
        manifest_path: Some(&run.manifest_path.value),
        workspace: run.workspace.value,
        examples: run.examples.value,
        example: &run.example.value,
        exclude: &run.exclude.value,
        features: discover::Request {
            features: &run.features.value,
            all_features: run.all_features.value,
            no_default_features: run.no_default_features.value,
            dev: false,
        },
        every_binary: entry == EntryPoint::CargoLambda,
    };
    let discovered = discover::discover(&metadata, &selection)?;
    // A shard is planned as the whole selection, then narrowed, so it builds its binaries exactly
    // as the unsharded run does (same invocations, same `-p` list, same layout).
    let binaries = discover::take_shard(discovered.clone(), run.shard.value);
    let mut packages = BTreeMap::new();
    let mut all_settings = Vec::new();
    for binary in &discovered {
        let package = metadata
            .workspace_packages()
            .into_iter()
            .find(|p| p.name.as_str() == binary.package)
            .context("a discovered package vanished from cargo metadata")?;
        if !packages.contains_key(&binary.package) {
            let scope: Vec<Table<'_>> = package_table(package, &binary.package_dir).into_iter().collect();
            packages.insert(binary.package.clone(), resolver.package_settings(&scope)?);
        }
        all_settings.push(resolver.package_settings(&binary_scope(&metadata, package, binary))?);
    }
    let profiles = std::iter::once(&defaults).chain(&all_settings).map(|s| &s.profile);
    config::profiles::check(profiles, &workspace_root.join("Cargo.toml"), cwd, env)?;
    let root_name = root_package.map(|p| p.name.as_str());
    let mut warnings = config::keys::metadata_warnings(&metadata, root_name, |name| packages.contains_key(name));
    warnings.extend(cargo_lambda.warnings());
    warnings.extend(compiler_table_warnings(&discovered, &all_settings));
    let selected: Vec<Selected<'_>> = discovered
        .iter()
        .zip(&all_settings)
        .map(|(binary, settings)| Selected { binary, settings })
        .collect();

    let target_dir = run
        .target_dir
        .value
        .clone()
        .unwrap_or_else(|| metadata.target_directory.clone().into_std_path_buf());
    let lambda_dir = run
        .lambda_dir
        .value
        .clone()
        .unwrap_or_else(|| target_dir.join("lambda"));
    resolve::check_lambda_dir(&lambda_dir, &run.lambda_dir.source)?;
    let cargo = CargoFlags::from_run(&run, build_env(&run, &workspace_root)?);
    let mut plan = plan::plan(
        &selected,
        &run.manifest_path.value,
        &workspace_root,
        &target_dir,
        &lambda_dir,
        cargo,
        run.flatten.value.as_deref(),
    )?
    .only(&binaries);
    packages.retain(|name, _| binaries.iter().any(|b| &b.package == name));
    let settings: Vec<PackageSettings> = discovered
        .iter()
        .zip(all_settings)
        .filter(|(binary, _)| binaries.contains(binary))
        .map(|(_, settings)| settings)
        .collect();
    if plan.invocations.iter().any(|i| i.tuning.applied) {
        let profile = tuning::ReleaseProfile::load(&workspace_root.join("Cargo.toml"), env)?;
        let flags = tuning::RustflagsConfig::load(cwd, env)?;
        tune(&mut plan, &profile, &flags)?;
    }
    let bounds = includes::Bounds::new(&workspace_root, &plan.lambda_dir);
    let includes = includes::list_all(plan.artifacts.iter().map(|a| a.include.as_slice()), &bounds)?;
    let upload = upload::resolve(
        &run.upload,
        &upload::Options {
            tag: run.release_tag.value.as_deref().map(|t| (t, &run.release_tag.source)),
            draft: run.draft.value,
            prerelease: run.prerelease.value,
            s3_keys: run.s3_keys.value,
            s3_path_style: run.s3_path_style.value,
            timeout_secs: run.upload_timeout.value,
        },
        env,
    )?;
    warnings.extend(upload::without_effect(
        &upload,
        &[
            ("s3-keys", &run.s3_keys.source, upload::Serves::S3),
            ("s3-path-style", &run.s3_path_style.source, upload::Serves::S3),
            ("release-tag", &run.release_tag.source, upload::Serves::Release),
            ("draft", &run.draft.source, upload::Serves::Release),
            ("prerelease", &run.prerelease.source, upload::Serves::Release),
            ("upload-timeout", &run.upload_timeout.source, upload::Serves::Any),
        ],
    ));
    Ok(Resolved {
        run,
        defaults,
        packages,
        selected: discovered.len(),
        binaries,
        settings,
        plan,
        includes,
        upload,
        warnings,
    })
}

/// Fills in the Lambda release tuning of every tuned invocation of the plan: the profile
/// settings the workspace leaves unset, and each target's CPU with the user's own rustflags.
fn tune(plan: &mut Plan, profile: &tuning::ReleaseProfile, flags: &tuning::RustflagsConfig) -> Result<()> {
    for invocation in plan.invocations.iter_mut().filter(|i| i.tuning.applied) {
        let why = std::mem::take(&mut invocation.tuning.why);
        invocation.tuning = tuning::tune(&invocation.targets, why, profile, &|t| flags.for_target(t))?;
    }
    Ok(())
}

/// cargo-lambda applies the compiler table's `subcommand` and `extra_args` only with the
/// `cargo` compiler; set for a binary built with another one they are ignored, said once each.
fn compiler_table_warnings(binaries: &[discover::Binary], settings: &[PackageSettings]) -> Vec<String> {
    let mut out = Vec::new();
    for (binary, s) in binaries.iter().zip(settings) {
        if s.compiler.value == CompilerKind::Cargo {
            continue;
        }
        for (what, value) in [
            ("subcommand", &s.compiler_subcommand),
            ("extra_args", &s.compiler_extra_args),
        ] {
            if !value.value.is_empty() {
                let line = format!(
                    "compiler {what} (from {}) applies only to the cargo compiler, and {} builds with {} (from {}); ignored",
                    value.source,
                    binary.name,
                    s.compiler.value.as_str(),
                    s.compiler.source
                );
                if !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out
}

/// The variables `--env-file` and `--env-var` set on the cargo command, the file's first and
/// `--env-var`'s over them, as cargo-lambda merges them. The file is read in dotenv syntax
/// (`KEY=VALUE`, `export`, quotes, `#` comments) and checked as [`config::env_file`] says; a
/// variable Linux could not pass to cargo is a usage error naming it, before anything compiles.
fn build_env(run: &RunSettings, workspace_root: &Path) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    if let Some(path) = &run.env_file.value {
        vars.extend(config::env_file::read(path, &run.env_file.source, workspace_root)?);
    }
    for (key, value) in &run.env_var.value {
        config::env_file::check(key, value).map_err(|why| {
            Error::usage(format!(
                "env_var {key} (from {}): {why}; accepted: KEY=VALUE pairs Linux can pass to a program",
                run.env_var.source
            ))
        })?;
    }
    vars.extend(run.env_var.value.iter().cloned());
    if vars.len() > config::env_file::MAX_VARIABLES {
        return Err(Error::usage(format!(
            "--env-file and --env-var (from {} and {}) set {} variables; accepted: at most {}",
            run.env_file.source,
            run.env_var.source,
            vars.len(),
            config::env_file::MAX_VARIABLES
        )));
    }
    Ok(vars)
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
    // With its resolve: detection follows the dependency graph (a function may reach
    // lambda_runtime through a shared crate), for Lambda's platforms only (no Windows or macOS
    // crates fetched for it).
    command.manifest_path(manifest_path).other_options(
        discover::LAMBDA_TARGETS
            .iter()
            .flat_map(|t| ["--filter-platform".to_owned(), (*t).to_owned()])
            .collect::<Vec<_>>(),
    );
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
