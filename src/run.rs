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
use crate::{
    ci, compile, config, gate, includes, lambda_dir, output, package, print_config, toolchain, tuning, upload,
};

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
    /// Each artifact's include files (by index into the plan's artifacts), listed and checked.
    pub includes: Vec<Vec<includes::IncludeFile>>,
    /// The upload after the build, checked before anything compiles.
    pub upload: Option<upload::Release>,
    /// Metadata lambda-build ignores (unknown keys, ...), one line each, for stderr and
    /// `--print-config`.
    pub warnings: Vec<String>,
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
    for warning in &resolved.warnings {
        warn(actions, "Cargo.toml metadata", warning);
    }
    if resolved.run.print_config.value {
        let json = print_config::json(&resolved, env);
        output::stdout_line(&serde_json::to_string_pretty(&json).unwrap_or_default())?;
        return Ok(Outcome::PrintedConfig(json));
    }
    let plan = &resolved.plan;
    let stamp = zip_stamp(env)?;
    let foreign = resolved
        .run
        .lambda_dir
        .value
        .as_ref()
        .map(|_| &resolved.run.lambda_dir.source);
    let replaced = {
        // Under the lock when the folder exists, so a run committing there is not caught halfway.
        let _locked = lambda_dir::lock_existing(&plan.lambda_dir)?;
        record::check_previous(plan, record::previous_manifest(&plan.lambda_dir).as_ref(), foreign)?
    };

    let toolchain = provision(&resolved, env, cwd, progress)?;
    if resolved.run.toolchain_only.value {
        output::stdout_line(&serde_json::to_string_pretty(&toolchain).unwrap_or_default())?;
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
    let locked = lambda_dir::lock(&plan.lambda_dir, || {
        progress.note(&format!(
            "waiting for another lambda-build run writing to {}",
            plan.lambda_dir.display()
        ))
    })?;
    // Read again under the lock: another run may have changed the folder while this one compiled.
    let previous = record::previous_manifest(&plan.lambda_dir);
    record::check_previous(plan, previous.as_ref(), foreign)?;
    for warning in &replaced {
        warn(actions, "lambda dir", warning);
    }
    let steps = progress.steps(outputs, "artifacts");
    let reusable = record::previous_outputs(previous.as_ref());
    let (packaged, mut staged) = package::package(plan, &built, &resolved.includes, stamp, &reusable, &|p| {
        steps.done(if p.reused { "unchanged" } else { "wrote" }, &p.path)
    })?;
    steps.finish();
    let warnings = package::size_warnings(&packaged);

    progress.phase(Phase::Record, "SHA256SUMS and manifest.json");
    let manifest = record::manifest(plan, &packaged, &gated);
    // Every artifact and then the records, renamed into place together.
    staged.extend(record::stage(&plan.lambda_dir, &manifest)?);
    lambda_dir::commit(staged)?;
    drop(locked);

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
    output::text_to_stderr(&manifest.listing());
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
    output::line(format_args!("warning: {message}"));
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

/// The zip timestamp: `SOURCE_DATE_EPOCH` when set, else 1980-01-01.
fn zip_stamp(env: &EnvVars) -> Result<package::zip::Stamp> {
    match env.get("SOURCE_DATE_EPOCH") {
        None => Ok(package::zip::Stamp::EPOCH),
        Some(text) => text.trim().parse::<u64>().map(package::zip::Stamp::from_unix).map_err(|_| {
            Error::usage(format!("invalid SOURCE_DATE_EPOCH {text:?} from env SOURCE_DATE_EPOCH; accepted: seconds since 1970-01-01 (a whole number)"))
        }),
    }
}
