//! One run, stage by stage: resolve ([`crate::prepare`]) → toolchain → compile → gate →
//! package → record → commit → report/upload.

use std::path::{Path, PathBuf};

use crate::cargo_lambda::EntryPoint;
use crate::cli::{EnvVars, Inputs};
use crate::config::{CompilerKind, Target};
use crate::error::{Error, Result};
use crate::plan;
use crate::prepare::{Resolved, needs_zig, resolve, zig_wanted};
use crate::progress::{Phase, Progress, human_duration};
use crate::record::{self, Manifest, Others, Records};
use crate::{ci, compile, diagnose, gate, lambda_dir, output, package, print_config, smoke, toolchain, upload};

/// What a finished run produced.
#[derive(Debug)]
pub enum Outcome {
    /// `--print-config`: the JSON that was printed.
    PrintedConfig(serde_json::Value),
    /// `--toolchain-only`: the toolchain that was found or provisioned.
    ToolchainReady(Toolchain),
    /// A build: the manifest written to the lambda dir (or, through the cargo-lambda entry
    /// point, to its records folder).
    Built { lambda_dir: PathBuf, manifest: Manifest },
    /// `cargo lambda build` on packages without binaries: warned about, nothing built, as
    /// cargo-lambda does.
    NothingToBuild,
}

/// Runs lambda-build with the given inputs.
pub fn run(inputs: &Inputs, env: &EnvVars, cwd: &Path) -> Result<Outcome> {
    run_as(inputs, env, cwd, EntryPoint::LambdaBuild)
}

/// Runs lambda-build with the given inputs, started through `entry` (see [`EntryPoint`]: where
/// the records go, what happens to files already in the lambda dir).
pub fn run_as(inputs: &Inputs, env: &EnvVars, cwd: &Path, entry: EntryPoint) -> Result<Outcome> {
    let actions = ci::Actions::start(env, cwd);
    let progress = Progress::new(actions.is_some());
    let result = build(inputs, env, cwd, entry, &progress, actions.as_ref());
    progress.end();
    if let (Err(err), Some(actions)) = (&result, &actions) {
        // A diagnosed failure's why and fixes get annotations of their own, on their lines.
        let diagnosed = diagnose::of(err);
        actions.annotate(&ci::commands::Annotation {
            title: Some("lambda-build".into()),
            message: diagnosed.map_or_else(|| format!("{err:#}"), |d| d.failure.clone()),
            ..Default::default()
        });
        if let Some(diagnosed) = diagnosed {
            actions.report_diagnoses(&diagnosed.diagnoses);
        }
    }
    result
}

fn build(
    inputs: &Inputs,
    env: &EnvVars,
    cwd: &Path,
    entry: EntryPoint,
    progress: &Progress,
    actions: Option<&ci::Actions>,
) -> Result<Outcome> {
    progress.phase(Phase::Resolve, "settings, workspace and plan");
    let resolved = resolve(inputs, env, cwd, entry)?;
    for warning in &resolved.warnings {
        warn(actions, "Cargo.toml metadata", warning);
    }
    if resolved.run.print_config.value {
        let json = print_config::json(&resolved, env);
        output::stdout_line(&serde_json::to_string_pretty(&json).unwrap_or_default())?;
        return Ok(Outcome::PrintedConfig(json));
    }
    if resolved.selected == 0 {
        warn(
            actions,
            "cargo lambda build",
            &format!(
                "no binaries found in the packages cargo builds in {}; nothing was built. Try using the --bin, --example, or --package options to build specific binaries",
                resolved.plan.workspace_root.display()
            ),
        );
        return Ok(Outcome::NothingToBuild);
    }
    let plan = &resolved.plan;
    let stamp = zip_stamp(env)?;
    smoke::check_events(plan)?;
    smoke::check_runners(plan, env, &resolved.run.smoke_all)?;
    // Credentials and region for S3, found (or a usage error) before anything is provisioned
    // or compiled.
    let s3 = match resolved.upload.s3.as_slice() {
        [] => None,
        _ if resolved.run.toolchain_only.value => None,
        destinations => Some(upload::s3::aws::Session::start(
            destinations,
            resolved.upload.s3_path_style,
            resolved.upload.timeout,
            env,
        )?),
    };
    let records = Records::of(plan, entry);
    let others = match (entry, &resolved.run.lambda_dir.value) {
        (EntryPoint::CargoLambda, _) => Others::Clobber,
        (EntryPoint::LambdaBuild, Some(_)) => Others::Refuse(&resolved.run.lambda_dir.source),
        (EntryPoint::LambdaBuild, None) => Others::Replace,
    };
    let note = |line: &str| progress.note(line);
    let wait = lambda_dir::Wait {
        timeout: std::time::Duration::from_secs(resolved.run.lock_timeout.value),
        setting: format!(
            "--lock-timeout {}s, from {}",
            resolved.run.lock_timeout.value, resolved.run.lock_timeout.source
        ),
        note: &note,
    };
    let replaced = {
        // Under the lock when the folder exists, so a run committing there is not caught halfway.
        let _locked = lambda_dir::lock_existing(&plan.lambda_dir, &wait)?;
        recover_records(&records, &wait)?;
        record::check_previous(plan, record::previous_manifest(&records.dir).as_ref(), &records, others)?
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
        let compiled = compile::compile(plan, invocation, &annotate)
            .map_err(|err| diagnose::compile_failure(err, plan, invocation, env))?;
        built.extend(compiled);
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
    let smoked = smoke_test(&resolved, &built, env, progress)?;

    let outputs: usize = plan.artifacts.iter().map(|a| a.outputs.len()).sum();
    progress.phase(
        Phase::Package,
        &format!("{outputs} files into {}", plan.lambda_dir.display()),
    );
    let locked = lambda_dir::lock(&plan.lambda_dir, &wait)?;
    recover_records(&records, &wait)?;
    // Read again under the lock: another run may have changed the folder while this one compiled.
    let previous = record::previous_manifest(&records.dir);
    record::check_previous(plan, previous.as_ref(), &records, others)?;
    for warning in &replaced {
        warn(actions, "lambda dir", warning);
    }
    let steps = progress.steps(outputs, "artifacts");
    let reusable = record::previous_outputs(previous.as_ref());
    let (packaged, mut staged) = package::package(plan, &built, &resolved.includes, stamp, &reusable, &|p| {
        steps.done(if p.reused { "unchanged" } else { "wrote" }, &p.path)
    })?;
    steps.finish();
    let warnings = package::size_warnings(plan, &built, &packaged);

    let where_records = match records.in_lambda_dir {
        true => String::new(),
        false => format!(
            " in {} (the cargo-lambda entry point keeps them out of the lambda dir)",
            records.dir.display()
        ),
    };
    progress.phase(Phase::Record, &format!("SHA256SUMS and manifest.json{where_records}"));
    let mut manifest = record::manifest(plan, &packaged, &gated, &smoked);
    // Every artifact and then the records, renamed into place together.
    staged.extend(record::stage(&records, &manifest)?);
    lambda_dir::commit(staged)?;

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
    // Uploads hold the lock: manifest.json is rewritten with where each artifact was stored, and
    // what is uploaded is what this run wrote.
    let stored = match &s3 {
        Some(session) => store(
            session,
            &resolved.upload.s3,
            &plan.lambda_dir,
            &records,
            &mut manifest,
            progress,
        )?,
        None => Vec::new(),
    };
    let published = match &resolved.upload.release {
        Some(release) => Some(publish(
            release,
            resolved.upload.timeout,
            &plan.lambda_dir,
            &records,
            &manifest,
            progress,
        )?),
        None => None,
    };
    drop(locked);
    if let Some(actions) = actions {
        // Phase times again, so an upload's time is in the summary too.
        actions.report(
            &plan.lambda_dir,
            &records,
            &manifest,
            &progress.phase_times(),
            &warnings,
        )?;
        if let Some(published) = &published {
            actions.report_release(published)?;
        }
        if !stored.is_empty() {
            actions.report_s3(&stored)?;
        }
    }
    Ok(Outcome::Built {
        lambda_dir: plan.lambda_dir.clone(),
        manifest,
    })
}

/// Through the cargo-lambda entry point the records live outside the lambda dir: what an
/// interrupted run left there is cleaned up too, under the lambda dir's lock.
fn recover_records(records: &Records, wait: &lambda_dir::Wait<'_>) -> Result<()> {
    if !records.in_lambda_dir && records.dir.is_dir() {
        let (restored, removed) = lambda_dir::recover(&records.dir)?;
        if restored + removed > 0 {
            (wait.note)(&format!(
                "cleaned up after an interrupted run in {}: {restored} files put back, {removed} staged files removed",
                records.dir.display()
            ));
        }
    }
    Ok(())
}

/// `--smoke`: invokes the binaries that ask for it and prints each result; any failure ends the
/// run here, before anything is packaged, recorded or uploaded.
fn smoke_test(
    resolved: &Resolved,
    built: &compile::Built,
    env: &EnvVars,
    progress: &Progress,
) -> Result<Vec<Option<smoke::Smoked>>> {
    let plan = &resolved.plan;
    let count = plan.artifacts.iter().filter(|a| a.smoke.is_some()).count();
    if count == 0 {
        return Ok(Vec::new());
    }
    progress.phase(
        Phase::Smoke,
        &format!("{count} binaries against the built-in Lambda Runtime API emulator"),
    );
    let options = smoke::Options {
        timeout: std::time::Duration::from_secs(resolved.run.smoke_timeout.value),
        env,
        vars: &plan
            .cargo
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>(),
    };
    let smoked = smoke::run(plan, built, &options, &|note| progress.note(note))?;
    for (artifact, result) in plan.artifacts.iter().zip(&smoked) {
        if let Some(result) = result {
            progress.note(&smoke::summary(artifact, result));
        }
    }
    match smoke::failures(plan, &smoked) {
        Some(failures) => Err(Error::Failed(anyhow::anyhow!(failures))),
        None => Ok(smoked),
    }
}

/// Puts the build in each S3 destination: the artifacts, then (once manifest.json in the lambda
/// dir records where each went) `SHA256SUMS` and manifest.json; says what happened to each.
fn store(
    session: &upload::s3::aws::Session,
    destinations: &[upload::s3::Destination],
    lambda_dir: &Path,
    records: &Records,
    manifest: &mut Manifest,
    progress: &Progress,
) -> Result<Vec<upload::s3::publish::Placed>> {
    let urls: Vec<&str> = destinations.iter().map(|d| d.url.as_str()).collect();
    progress.phase(
        Phase::Upload,
        &format!("S3 {} ({})", urls.join(", "), session.describe()),
    );
    let started = std::time::Instant::now();
    let note = |line: &str| progress.note(line);
    let mut placed = upload::s3::publish::artifacts(session, destinations, lambda_dir, manifest, &note)?;
    upload::s3::publish::record_in(manifest, &placed);
    let (staged, json) = record::stage_manifest(records, manifest)?;
    lambda_dir::commit(vec![staged])?;
    placed.extend(upload::s3::publish::records(
        session,
        destinations,
        manifest,
        &json,
        &note,
    )?);
    let sent = placed.iter().filter(|p| p.action != upload::Action::Unchanged).count();
    let took = human_duration(started.elapsed());
    progress.note(&match sent {
        0 => format!(
            "nothing to upload: every object is already in {} ({took})",
            urls.join(", ")
        ),
        n => format!(
            "{n} of {} objects uploaded to {} in {took}",
            placed.len(),
            urls.join(", ")
        ),
    });
    progress.end();
    Ok(placed)
}

/// Uploads the build to its GitHub release and says what happened to each asset.
fn publish(
    release: &upload::Release,
    total: std::time::Duration,
    lambda_dir: &Path,
    records: &Records,
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
    let assets = upload::assets::assets(lambda_dir, &records.manifest(), manifest)?;
    let outcome = upload::github::publish(release, &assets, total)?;
    for asset in &outcome.assets {
        progress.note(&format!("{} {}", asset.action.as_str(), asset.name));
    }
    let changed = outcome
        .assets
        .iter()
        .filter(|a| a.action != upload::Action::Unchanged)
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
        invocation.bins.len() + invocation.examples.len(),
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
    // --skip-target-check: cargo-lambda's "do not check the target"; cargo then reports a
    // missing standard library itself.
    if !resolved.run.skip_target_check.value {
        toolchain::ensure_targets(&rustc, sysroot, &local_targets, workspace_dir, env)?;
    }
    Ok(Toolchain {
        zig,
        rustc,
        targets: local_targets.iter().map(Target::triple).collect(),
    })
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
