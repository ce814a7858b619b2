//! CI integration: what a GitHub Actions job shows and what later steps can use. Outside Actions
//! (`GITHUB_ACTIONS` is not `true`) nothing here prints or writes anything.
//!
//! Workflow commands go to stderr, which the runner reads like stdout, so stdout stays clean
//! for `--print-config` and `--toolchain-only` JSON.

pub mod commands;
pub mod diagnostics;
pub mod outputs;
pub mod summary;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::cli::EnvVars;
use crate::record::{self, Manifest};

/// Variables that may hold a token or secret key; each one set is masked before anything else is
/// printed.
pub const SECRET_VARS: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "LAMBDA_BUILD_GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// A GitHub Actions job: where its outputs and summary go, and the checkout annotations are
/// relative to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actions {
    /// `$GITHUB_OUTPUT`.
    pub output: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`.
    pub summary: Option<PathBuf>,
    /// `$GITHUB_WORKSPACE`, else the current directory.
    pub checkout: PathBuf,
}

impl Actions {
    /// The job, when running in GitHub Actions.
    pub fn from_env(env: &EnvVars, cwd: &Path) -> Option<Actions> {
        if env.get("GITHUB_ACTIONS") != Some("true") {
            return None;
        }
        Some(Actions {
            output: env.get("GITHUB_OUTPUT").map(PathBuf::from),
            summary: env.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            checkout: env
                .get("GITHUB_WORKSPACE")
                .map(PathBuf::from)
                .unwrap_or_else(|| cwd.to_path_buf()),
        })
    }

    /// The job, when running in GitHub Actions, with every token in the environment already
    /// masked: call it before anything is printed, so no later line can show a token.
    pub fn start(env: &EnvVars, cwd: &Path) -> Option<Actions> {
        let actions = Actions::from_env(env, cwd)?;
        actions.mask_secrets(env);
        Some(actions)
    }

    /// Masks every token in the environment.
    fn mask_secrets(&self, env: &EnvVars) {
        for var in SECRET_VARS {
            if let Some(secret) = env.get(var) {
                crate::output::line(commands::add_mask(secret.trim()));
            }
        }
    }

    /// Prints an annotation.
    pub fn annotate(&self, annotation: &commands::Annotation) {
        crate::output::line(annotation);
    }

    /// Writes the step outputs and the job summary for a finished build.
    pub fn report(
        &self,
        lambda_dir: &Path,
        records: &record::Records,
        manifest: &Manifest,
        phases: &[(String, Duration)],
        warnings: &[String],
    ) -> anyhow::Result<()> {
        if let Some(path) = &self.output {
            let artifacts = serde_json::to_string(&manifest.artifacts).context("serializing the artifacts")?;
            outputs::append(
                path,
                &[
                    ("artifacts", artifacts),
                    ("manifest", records.manifest().display().to_string()),
                    ("checksums", records.checksums().display().to_string()),
                    ("lambda-dir", lambda_dir.display().to_string()),
                ],
            )?;
        }
        if let Some(path) = &self.summary {
            append_to(
                path,
                "GITHUB_STEP_SUMMARY",
                &summary::markdown(manifest, phases, warnings),
            )?;
        }
        Ok(())
    }
}

impl Actions {
    /// A failed build's diagnoses: an annotation each (on the Cargo.toml line to change) and a
    /// summary section. A summary that cannot be written is only logged: the run has failed
    /// already, with its own error.
    pub fn report_diagnoses(&self, diagnoses: &[crate::diagnose::Diagnosis]) {
        for diagnosis in diagnoses {
            self.annotate(&diagnostics::diagnosis_annotation(diagnosis, &self.checkout));
        }
        if let (Some(path), false) = (&self.summary, diagnoses.is_empty()) {
            let md = summary::diagnoses_markdown(diagnoses, &self.checkout);
            if let Err(err) = append_to(path, "GITHUB_STEP_SUMMARY", &md) {
                crate::output::line(format_args!("warning: {err:#}"));
            }
        }
    }

    /// The release's outputs (`release-url`, `assets`) and a summary section.
    pub fn report_release(&self, outcome: &crate::upload::github::Outcome) -> anyhow::Result<()> {
        if let Some(path) = &self.output {
            let assets = serde_json::to_string(&outcome.assets).context("serializing the assets")?;
            outputs::append(
                path,
                &[("release-url", outcome.release_url.clone()), ("assets", assets)],
            )?;
        }
        if let Some(path) = &self.summary {
            append_to(path, "GITHUB_STEP_SUMMARY", &summary::release_markdown(outcome))?;
        }
        Ok(())
    }

    /// The S3 upload's output `s3-objects` (each artifact's object, as JSON) and a summary section.
    pub fn report_s3(&self, placed: &[crate::upload::s3::publish::Placed]) -> anyhow::Result<()> {
        let artifacts: Vec<_> = placed.iter().filter(|p| !p.arch.is_empty()).collect();
        if let Some(path) = &self.output {
            let objects = serde_json::to_string(&artifacts).context("serializing the S3 objects")?;
            outputs::append(path, &[("s3-objects", objects)])?;
        }
        if let Some(path) = &self.summary {
            append_to(path, "GITHUB_STEP_SUMMARY", &summary::s3_markdown(placed))?;
        }
        Ok(())
    }
}

/// Appends `text` to one of the files the runner hands a step (`what` names it in errors).
pub fn append_to(path: &Path, what: &str, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {what} {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {what} {}", path.display()))
}
