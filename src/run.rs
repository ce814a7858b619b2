//! One run, stage by stage: resolve → discover → plan → toolchain → compile → package → record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cargo_metadata::Metadata;

use crate::cli::{EnvVars, Inputs};
use crate::config::resolve::{self, lambda_build_table};
use crate::config::{CompilerKind, MetadataLayer, PackageSettings, Resolver, RunSettings, Target};
use crate::discover::{self, Selection};
use crate::error::{Error, Result};
use crate::plan::{self, CargoFlags, Plan, Selected};
use crate::progress::{Phase, Progress, human_duration};
use crate::record::{self, Manifest};
use crate::{ci, compile, gate, package, print_config, toolchain, tuning, upload};

/// What a finished run produced.
#[derive(Debug)]
pub enum Outcome {
    /// `--print-config`: the JSON that was printed.
    PrintedConfig(serde_json::Value),
    /// `--toolchain-only`: the toolchain that was found or provisioned.
    ToolchainReady(Toolchain),
    /// A build: the manifest written to the lambda dir.
    Built { lambda_dir: PathBuf, manifest: Manifest },
}

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
    /// The upload after the build, checked before anything compiles.
    pub upload: Option<upload::Release>,
}

/// Runs lambda-build with the given inputs.
pub fn run(inputs: &Inputs, env: &EnvVars, cwd: &Path) -> Result<Outcome> {
    let actions = ci::Actions::start(env, cwd);
    let progress = Progress::new(actions.is_some());
    let result = build(inputs, env, cwd, &progress, actions.as_ref());
    progress.end();
    if let (Err(err), Some(actions)) = (&result, &actions) {
        actions.annotate(&ci::commands::Annotation {
            title: Some("lambda-build".into()),
            message: format!("{err:#}"),
            ..Default::default()
        });
    }
    result
}

fn build(
    inputs: &Inputs,
    env: &EnvVars,
    cwd: &Path,
    progress: &Progress,
    actions: Option<&ci::Actions>,
) -> Result<Outcome> {
    progress.phase(Phase::Resolve, "settings, workspace and plan");
    let resolved = resolve(inputs, env, cwd)?;
    if resolved.run.print_config.value {
        let json = print_config::json(&resolved, env);
        println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        return Ok(Outcome::PrintedConfig(json));
    }
    let plan = &resolved.plan;
    let stamp = zip_stamp(env)?;
    let previous = record::previous_manifest(&plan.lambda_dir);
    record::check_previous(plan, previous.as_ref())?;

    let toolchain = provision(&resolved, env, cwd, progress)?;
    if resolved.run.toolchain_only.value {
        println!("{}", serde_json::to_string_pretty(&toolchain).unwrap_or_default());
        return Ok(Outcome::ToolchainReady(toolchain));
    }

    if let Some(shard) = resolved.run.shard.value {
        progress.note(&format!(
            "shard {shard}: {} of the selected binaries (from {})",
            resolved.binaries.len(),
            resolved.run.shard.source
        ));
    }
    let mut built = compile::Built::new();
    let annotate = |diagnostic: &cargo_metadata::diagnostic::Diagnostic| {
        let annotation = actions
            .and_then(|a| ci::diagnostics::annotation(diagnostic, &plan.workspace_root, &a.checkout).map(|n| (a, n)));
        if let Some((actions, annotation)) = annotation {
            actions.annotate(&annotation);
        }
    };
    for invocation in &plan.invocations {
        progress.phase(Phase::Compile, &describe(invocation));
        for warning in &invocation.tuning.warnings {
            warn(actions, "Lambda release tuning", warning);
        }
        built.extend(compile::compile(plan, invocation, &annotate)?);
    }

    progress.phase(Phase::Gate, "every binary against its Lambda runtime");
    let verify = !resolved.run.no_verify.value;
    if !verify {
        progress.note(&format!(
            "warning: --no-verify (from {}): binaries are not checked against their Lambda runtime",
            resolved.run.no_verify.source
        ));
    }
    let gated = gate::check(plan, &built, verify)?;

    let outputs: usize = plan.artifacts.iter().map(|a| a.outputs.len()).sum();
    progress.phase(
        Phase::Package,
        &format!("{outputs} files into {}", plan.lambda_dir.display()),
    );
    let steps = progress.steps(outputs, "artifacts");
    let reusable = record::previous_outputs(previous.as_ref());
    let packaged = package::package(plan, &built, stamp, &reusable, &|p| {
        steps.done(if p.reused { "unchanged" } else { "wrote" }, &p.path)
    })?;
    steps.finish();
    let warnings = package::size_warnings(&packaged);

    progress.phase(Phase::Record, "SHA256SUMS and manifest.json");
    let manifest = record::manifest(plan, &packaged, &gated);
    record::write(&plan.lambda_dir, &manifest)?;

    let phases = progress.phase_times();
    let times: Vec<String> = phases
        .iter()
        .map(|(k, t)| format!("{k} {}", human_duration(*t)))
        .collect();
    progress.phase(
        Phase::Finished,
        &format!(
            "{} artifacts in {} in {:.1}s ({})",
            manifest.artifacts.len(),
            plan.lambda_dir.display(),
            progress.elapsed().as_secs_f64(),
            times.join(", ")
        ),
    );
    eprint!("{}", manifest.listing());
    for warning in &warnings {
        warn(actions, "Lambda size limit", warning);
    }
    let published = match &resolved.upload {
        Some(release) => Some(publish(release, &plan.lambda_dir, &manifest, progress)?),
        None => None,
    };
    if let Some(actions) = actions {
        // Phase times again, so an upload's time is in the summary too.
        actions.report(&plan.lambda_dir, &manifest, &progress.phase_times(), &warnings)?;
        if let Some(published) = &published {
            actions.report_release(published)?;
        }
    }
    Ok(Outcome::Built {
        lambda_dir: plan.lambda_dir.clone(),
        manifest,
    })
}

/// Uploads the build to its GitHub release and says what happened to each asset.
fn publish(
    release: &upload::Release,
    lambda_dir: &Path,
    manifest: &Manifest,
    progress: &Progress,
) -> Result<upload::github::Outcome> {
    progress.phase(
        Phase::Upload,
        &format!(
            "GitHub release {} of {}/{} ({})",
            release.tag, release.owner, release.repo, release.api
        ),
    );
    let assets = upload::assets::assets(lambda_dir, manifest)?;
    let outcome = upload::github::publish(release, &assets)?;
    for asset in &outcome.assets {
        progress.note(&format!("{} {}", asset.action.as_str(), asset.name));
    }
    let changed = outcome
        .assets
        .iter()
        .filter(|a| a.action != upload::github::Action::Unchanged)
        .count();
    progress.note(&match changed {
        0 => format!("nothing to upload: every asset is already on {}", outcome.release_url),
        n => format!(
            "{n} of {} assets uploaded to {}",
            outcome.assets.len(),
            outcome.release_url
        ),
    });
    progress.end();
    Ok(outcome)
}

/// A warning on stderr, and in GitHub Actions an annotation with `title`.
fn warn(actions: Option<&ci::Actions>, title: &str, message: &str) {
    eprintln!("warning: {message}");
    if let Some(actions) = actions {
        actions.annotate(&ci::commands::Annotation {
            level: Some(ci::commands::Level::Warning),
            title: Some(title.into()),
            message: message.to_owned(),
            ..Default::default()
        });
    }
}

/// One line about a cargo invocation.
fn describe(invocation: &plan::Invocation) -> String {
    let targets: Vec<String> = invocation.targets.iter().map(|t| t.to_string()).collect();
    format!(
        "{} binaries for {} with {} ({}{})",
        invocation.bins.len(),
        targets.join(", "),
        invocation.compiler.as_str(),
        invocation.profile.name,
        if invocation.tuning.applied {
            ", Lambda release tuning"
        } else {
            ""
        }
    )
}

/// The toolchain a run uses, as `--toolchain-only` prints it.
#[derive(Debug, serde::Serialize)]
pub struct Toolchain {
    /// The Zig cargo-zigbuild uses; `None` when no invocation uses cargo-zigbuild.
    pub zig: Option<toolchain::Zig>,
    /// The rustc cargo uses.
    pub rustc: toolchain::Rustc,
    /// The targets whose standard library was checked (cross brings its own).
    pub targets: Vec<String>,
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

/// Finds or provisions Zig (only when cargo-zigbuild is used) and makes sure every locally
/// compiled target has its standard library, before anything is compiled.
fn provision(resolved: &Resolved, env: &EnvVars, cwd: &Path, progress: &Progress) -> Result<Toolchain> {
    let plan = &resolved.plan;
    let workspace_dir = plan.manifest_path.parent().unwrap_or(cwd);
    let rustc = toolchain::Rustc::from_env(env);
    let sysroot = toolchain::SysrootQuery::start(&rustc, workspace_dir);
    progress.phase(Phase::Toolchain, &format!("{} ({})", rustc.program, rustc.found));
    let zig = if needs_zig(plan) {
        let zig = toolchain::obtain_zig(env, &zig_wanted(&resolved.run))?;
        progress.note(&format!("zig {} from {}", zig.version, zig.found));
        zig.activate();
        Some(zig)
    } else {
        None
    };
    let mut local_targets: Vec<Target> = plan
        .invocations
        .iter()
        .filter(|i| i.compiler != CompilerKind::Cross)
        .flat_map(|i| i.targets.iter().cloned())
        .collect();
    local_targets.sort();
    local_targets.dedup_by(|a, b| a.triple() == b.triple());
    toolchain::ensure_targets(&rustc, sysroot, &local_targets, workspace_dir, env)?;
    Ok(Toolchain {
        zig,
        rustc,
        targets: local_targets.iter().map(Target::triple).collect(),
    })
}

/// Resolves inputs and metadata into settings, binaries and a plan; touches nothing.
pub fn resolve(inputs: &Inputs, env: &EnvVars, cwd: &Path) -> Result<Resolved> {
    let manifest_path = resolve::manifest_path(inputs, cwd)?;
    if !manifest_path.value.is_file() {
        return Err(Error::usage(format!(
            "manifest path {} (from {}) is not a file; accepted: the Cargo.toml of a package or workspace",
            manifest_path.value.display(),
            manifest_path.source
        )));
    }
    let metadata = load_metadata(&manifest_path.value)?;
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
    };
    // A shard is planned as the whole selection, then narrowed, so it builds its binaries exactly
    // as the unsharded run does (same invocations, same `-p` list, same layout).
    let discovered = discover::discover(&metadata, &selection)?;
    let binaries = discover::take_shard(discovered.clone(), run.shard.value);
    let mut packages = BTreeMap::new();
    for binary in &discovered {
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
    let selected: Vec<Selected<'_>> = discovered
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
    let mut plan = plan::plan(
        &selected,
        &run.manifest_path.value,
        &workspace_root,
        &target_dir,
        &lambda_dir,
        CargoFlags::from_run(&run),
    )?
    .only(&binaries);
    packages.retain(|name, _| binaries.iter().any(|b| &b.package == name));
    if plan.invocations.iter().any(|i| i.tuning.applied) {
        let profile = tuning::ReleaseProfile::load(&workspace_root.join("Cargo.toml"), env)?;
        let flags = tuning::RustflagsConfig::load(cwd, env)?;
        tuning::apply(&mut plan, &profile, &flags)?;
    }
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
        upload,
    })
}

fn package_dir(package: &cargo_metadata::Package) -> PathBuf {
    package
        .manifest_path
        .parent()
        .map(|d| d.as_std_path().to_path_buf())
        .unwrap_or_default()
}

fn load_metadata(manifest_path: &Path) -> Result<Metadata> {
    cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest_path)
        .no_deps()
        .exec()
        .with_context(|| {
            format!(
                "reading the workspace with cargo metadata ({})",
                manifest_path.display()
            )
        })
        .map_err(Error::Failed)
}

/// The zip timestamp: `SOURCE_DATE_EPOCH` when set, else 1980-01-01.
fn zip_stamp(env: &EnvVars) -> Result<package::zip::Stamp> {
    match env.get("SOURCE_DATE_EPOCH") {
        None => Ok(package::zip::Stamp::EPOCH),
        Some(text) => text.trim().parse::<u64>().map(package::zip::Stamp::from_unix).map_err(|_| {
            Error::usage(format!("invalid SOURCE_DATE_EPOCH {text:?} from env SOURCE_DATE_EPOCH; accepted: seconds since 1970-01-01 (a whole number)"))
        }),
    }
}
