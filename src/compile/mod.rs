//! Compiling: one cargo invocation per plan group, through a [`Compiler`] backend. The run's
//! binaries are taken from cargo's own build messages, never from whatever lies in the target
//! dir, so a stale binary from an earlier build is never packaged (cargo-lambda issue #931).

mod cargo;
mod cross;
mod zigbuild;

use std::collections::HashMap;
use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context;
use cargo_metadata::Message;
use cargo_metadata::diagnostic::DiagnosticLevel;

use crate::config::{Color, CompilerKind, MessageFormat};
use crate::plan::{BuiltKey, Invocation, Plan};

/// A compiler backend: turns cargo build options into the command that runs the build.
pub trait Compiler {
    /// The command that builds `options`.
    fn command(&self, options: &cargo_options::Build) -> anyhow::Result<Command>;
}

/// The backend for a compiler kind.
pub fn compiler_for(kind: CompilerKind) -> Box<dyn Compiler> {
    match kind {
        CompilerKind::CargoZigbuild => Box::new(zigbuild::Zigbuild),
        CompilerKind::Cargo => Box::new(cargo::Cargo),
        CompilerKind::Cross => Box::new(cross::Cross),
    }
}

/// The executables one invocation produced.
pub type Built = HashMap<BuiltKey, PathBuf>;

/// cargo build options for an invocation: the run's flags, its targets, packages and binaries,
/// JSON messages (to learn which executables were built, rendered as `--message-format` and
/// `--color` ask), and the release tuning after the user's `--config`.
pub fn build_options(plan: &Plan, invocation: &Invocation) -> cargo_options::Build {
    let cargo = &plan.cargo;
    let mut options = cargo_options::Build {
        manifest_path: Some(plan.manifest_path.clone()),
        packages: invocation.packages.clone(),
        bin: invocation.bins.clone(),
        example: invocation.examples.clone(),
        ignore_rust_version: cargo.ignore_rust_version,
        future_incompat_report: cargo.future_incompat_report,
        ..Default::default()
    };
    let common = &mut options.common;
    common.profile = Some(invocation.profile.name.clone());
    common.target = invocation.targets.iter().map(|t| t.zig_target()).collect();
    common.features = cargo.features.clone();
    common.all_features = cargo.all_features;
    common.no_default_features = cargo.no_default_features;
    common.locked = cargo.locked;
    common.frozen = cargo.frozen;
    common.offline = cargo.offline;
    common.jobs = cargo.jobs.map(|j| j as usize);
    common.keep_going = cargo.keep_going;
    common.quiet = cargo.quiet;
    common.timings = cargo.timings;
    common.target_dir = cargo.target_dir.clone();
    common.unstable_flags = cargo.unstable_flags.clone();
    common.color = cargo.color.map(|c| c.as_str().to_owned());
    let ansi = match cargo.color {
        Some(Color::Always) => true,
        Some(Color::Never) => false,
        Some(Color::Auto) | None => std::io::stderr().is_terminal(),
    };
    common.message_format = MessageFormat::cargo_formats(&cargo.message_format, ansi);
    common.config = cargo.config.clone();
    common.config.extend(invocation.tuning.config_args());
    options
}

/// The backend's command for an invocation: arguments from [`build_options`] (with the cargo
/// compiler's subcommand and extra arguments), the build's variables (`--env-var`,
/// `--env-file`), and cargo's environment without the rustflags variables the tuning passes
/// per target instead.
pub fn command(plan: &Plan, invocation: &Invocation) -> anyhow::Result<Command> {
    let options = build_options(plan, invocation);
    let mut command = match invocation.compiler {
        CompilerKind::Cargo => cargo::command(&options, &invocation.subcommand, &invocation.extra_args),
        other => compiler_for(other).command(&options)?,
    };
    command.envs(&plan.cargo.env);
    for var in &invocation.tuning.env_remove {
        command.env_remove(var);
    }
    Ok(command)
}

/// A failed cargo build, with what it printed, so [`crate::diagnose`] can say why.
#[derive(Debug, thiserror::Error)]
#[error("{program} build failed ({status}); nothing was packaged and earlier artifacts are untouched")]
pub struct Failed {
    /// The program that ran the build (`cargo`, `cross`).
    pub program: String,
    /// How it ended.
    pub status: std::process::ExitStatus,
    /// What it printed.
    pub output: Captured,
}

/// What a cargo build printed that a diagnosis reads: kept only until the build ends, and
/// bounded, so a build that prints without end cannot exhaust memory.
#[derive(Debug, Default)]
pub struct Captured {
    /// The rendered compiler messages (errors and warnings, including linker failures).
    pub messages: Vec<String>,
    /// cargo's stderr lines (build-script failures, with the script's own output), the last
    /// [`STDERR_KEPT`] of them.
    pub stderr: Vec<String>,
}

/// How many of cargo's last stderr lines are kept for a diagnosis (a failing build script's
/// output, often a few hundred lines, fits many times over).
pub const STDERR_KEPT: usize = 20_000;

/// Runs one invocation and returns the executables cargo reported. Compiler output is shown as
/// rustc renders it; a failed build is a [`Failed`] error and nothing is packaged.
///
/// cargo's stderr is passed through line by line as it comes, and its last lines are kept: a
/// build script's failure is only ever printed there, never in the JSON messages.
///
/// Each diagnostic also goes to `on_diagnostic` (GitHub Actions turns them into annotations).
pub fn compile(
    plan: &Plan,
    invocation: &Invocation,
    on_diagnostic: &dyn Fn(&cargo_metadata::diagnostic::Diagnostic),
) -> anyhow::Result<Built> {
    let mut command = command(plan, invocation)?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // cargo colours what it prints only on a terminal: its stderr is a pipe now, so the
    // terminal lambda-build writes to decides (unless the user chose).
    if plan.cargo.color.is_none() && std::env::var_os("CARGO_TERM_COLOR").is_none() && std::io::stderr().is_terminal() {
        command.env("CARGO_TERM_COLOR", "always");
    }
    tracing::debug!(?command, "running");
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command.spawn().with_context(|| format!("starting {program}"))?;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    let stderr = child.stderr.take().context("cargo's stderr")?;
    let kept = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    let (done, ended) = std::sync::mpsc::channel();
    let keeper = kept.clone();
    std::thread::spawn(move || {
        pass_through(stderr, &keeper);
        let _ = done.send(());
    });
    let mut built = Built::new();
    let mut messages = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.context("reading cargo's build messages")? {
            Message::CompilerArtifact(artifact) => {
                let Some(exe) = artifact.executable else { continue };
                let exe = exe.into_std_path_buf();
                // target/<triple>/<profile>/[examples/]<name>: the triple names the target it was
                // built for.
                let mut profile_dir = exe.parent();
                if artifact.target.is_example() {
                    profile_dir = profile_dir.and_then(|p| p.parent());
                }
                let triple = profile_dir.and_then(|p| p.parent()).and_then(|p| p.file_name());
                if let Some(triple) = triple {
                    let key = (
                        artifact.package_id.repr.clone(),
                        artifact.target.name.clone(),
                        triple.to_string_lossy().into_owned(),
                    );
                    built.insert(key, exe);
                }
            }
            Message::CompilerMessage(message) => {
                if let Some(rendered) = &message.message.rendered {
                    crate::output::text_to_stderr(rendered);
                    if message.message.level == DiagnosticLevel::Error && messages.len() < MESSAGES_KEPT {
                        messages.push(rendered.clone());
                    }
                }
                on_diagnostic(&message.message);
            }
            Message::TextLine(line) => {
                crate::output::line(line);
            }
            _ => {}
        }
    }
    let status = child.wait().with_context(|| format!("waiting for {program}"))?;
    // A process cargo started in the background (a compiler cache's server) may hold its
    // stderr open after cargo exits: what came until then is what there is.
    let _ = ended.recv_timeout(STDERR_DRAIN);
    if !status.success() {
        // Copied out only for a diagnosis: a successful build never needs its lines.
        let stderr: Vec<String> = kept.lock().map(|k| k.iter().cloned().collect()).unwrap_or_default();
        return Err(Failed {
            program,
            status,
            output: Captured { messages, stderr },
        }
        .into());
    }
    Ok(built)
}

/// How many error messages are kept for a diagnosis.
const MESSAGES_KEPT: usize = 200;

/// How long cargo's stderr may stay open after cargo exited.
const STDERR_DRAIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Copies cargo's stderr to lambda-build's, line by line as it comes, keeping its last
/// [`STDERR_KEPT`] lines (without colour codes) in `kept`.
fn pass_through(stderr: impl std::io::Read, kept: &std::sync::Mutex<std::collections::VecDeque<String>>) {
    use std::io::BufRead;
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    // Bytes, not `lines()`: a line that is not UTF-8 is still passed through whole.
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = String::from_utf8_lossy(&line);
        crate::output::text_to_stderr(&text);
        if let Ok(mut kept) = kept.lock() {
            if kept.len() == STDERR_KEPT {
                kept.pop_front();
            }
            kept.push_back(crate::ci::diagnostics::strip_ansi(text.trim_end()));
        }
        line.clear();
    }
}

#[cfg(test)]
mod tests;
