//! `--smoke`: after the gate and before anything is packaged, each selected function is started
//! against a Lambda Runtime API emulator built into lambda-build and invoked once; each extension
//! must register and ask for its next event. A function that panics in `main`, reports an init
//! error, hangs or crashes fails the run here instead of at its first cold start.
//!
//! The child gets the environment the Lambda service sets (and the `--env-var`/`--env-file`
//! variables), nothing else from the build's environment, so a function that needs a variable
//! at start-up fails here as it would on Lambda. Binaries of the other architecture run under
//! qemu-user when it is on PATH; without it they are skipped, said once.

pub mod emulator;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::cli::EnvVars;
use crate::compile::Built;
use crate::config::{Arch, SmokeExpect};
use crate::discover::Kind;
use crate::files;
use crate::plan::{Artifact, Plan, SmokeSpec};
use emulator::{Ended, Role, Session};

/// The default event of a `lambda_http` function: an API Gateway (HTTP API, payload 2.0) GET.
const HTTP_EVENT: &str = include_str!("apigw-v2-request.json");

/// Every outcome a record may hold.
pub const OUTCOMES: &[&str] = &[
    "response",
    "error",
    "registered",
    "skipped",
    "init-error",
    "exited",
    "crashed",
    "timeout",
    "unexpected",
];

/// A smoke test's result, as manifest.json records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Smoke {
    /// `response`, `error` (a handled error), `registered` (an extension), `skipped`, or a
    /// failure: `init-error`, `exited`, `crashed`, `timeout`, `unexpected`.
    pub outcome: String,
    /// Milliseconds from the start of the process to its first `/next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_ms: Option<u64>,
    /// Milliseconds from handing out the event to the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoke_ms: Option<u64>,
}

/// One artifact's smoke test.
#[derive(Clone, Debug)]
pub struct Smoked {
    /// What manifest.json records.
    pub record: Smoke,
    /// Why it failed; `None` when it passed (or was skipped).
    pub failure: Option<String>,
    /// The child's last output lines.
    pub tail: Vec<String>,
    /// The start of its answer, on one line, for the terminal.
    pub answer: String,
}

/// What the run needs to start the binaries.
pub struct Options<'a> {
    /// How long each may take.
    pub timeout: Duration,
    /// The build's environment: `PATH` (for qemu) and `QEMU_*` are passed on.
    pub env: &'a EnvVars,
    /// The user's variables (`--env-var`, `--env-file`).
    pub vars: &'a [(String, String)],
}

/// Smoke-tests every artifact that asks for it, in parallel within the machine's cores, and
/// returns each one's result by index into [`Plan::artifacts`] (`None`: not smoke-tested).
pub fn run(
    plan: &Plan,
    built: &Built,
    options: &Options<'_>,
    note: &dyn Fn(&str),
) -> anyhow::Result<Vec<Option<Smoked>>> {
    let mut jobs = Vec::new();
    let mut missing_qemu = Vec::new();
    for (index, artifact) in plan.artifacts.iter().enumerate() {
        let (Some(spec), Some(binary)) = (&artifact.smoke, built.get(&artifact.built_key())) else {
            continue;
        };
        let event = event_of(spec, artifact)?;
        match runner(artifact.target.arch, options.env) {
            Some(runner) => jobs.push((index, artifact, binary.clone(), runner, event)),
            None => missing_qemu.push(index),
        }
    }
    let mut results: Vec<Option<Smoked>> = vec![None; plan.artifacts.len()];
    if let Some(&first) = missing_qemu.first() {
        let arch = plan.artifacts[first].target.arch;
        note(&format!(
            "warning: --smoke: {} {} binaries not smoke-tested: {} not found on PATH",
            missing_qemu.len(),
            arch.lambda_name(),
            qemu_names(arch).join(" or ")
        ));
        for index in missing_qemu {
            results[index] = Some(Smoked {
                record: Smoke {
                    outcome: "skipped".into(),
                    init_ms: None,
                    invoke_ms: None,
                },
                failure: None,
                tail: Vec::new(),
                answer: String::new(),
            });
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for chunk in jobs.chunks(cores) {
        let done: Vec<(usize, anyhow::Result<Smoked>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(index, artifact, binary, runner, event)| {
                    let handle = scope.spawn(move || one(artifact, binary, runner.as_deref(), event, options));
                    (*index, handle)
                })
                .collect();
            handles
                .into_iter()
                .map(|(index, handle)| {
                    let result = handle
                        .join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("the smoke test of this binary panicked")));
                    (index, result)
                })
                .collect()
        });
        for (index, result) in done {
            let smoked = result.with_context(|| format!("smoke-testing {}", plan.artifacts[index].name))?;
            results[index] = Some(smoked);
        }
    }
    Ok(results)
}

/// Smoke-tests one binary.
fn one(
    artifact: &Artifact,
    binary: &Path,
    runner: Option<&Path>,
    event: &[u8],
    options: &Options<'_>,
) -> anyhow::Result<Smoked> {
    let mut command = match runner {
        Some(qemu) => {
            let mut c = Command::new(qemu);
            c.arg(binary);
            c
        }
        None => Command::new(binary),
    };
    let task_root = binary.parent().unwrap_or(Path::new("/"));
    command.env_clear().current_dir(task_root);
    let role = match artifact.kind {
        Kind::Function => Role::Function,
        Kind::Extension => Role::Extension,
    };
    let env = lambda_env(artifact, task_root, options);
    let session = emulator::run(command, role, event, &env, options.timeout)?;
    let expect = artifact.smoke.as_ref().map_or(SmokeExpect::Any, |s| s.expect);
    Ok(judge(session, artifact.kind, expect, options.timeout))
}

/// The variables Lambda sets for a function, then the user's, then what qemu needs.
fn lambda_env(artifact: &Artifact, task_root: &Path, options: &Options<'_>) -> Vec<(String, String)> {
    let root = task_root.display().to_string();
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", artifact.name.as_str()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]smoke"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_rust"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("LD_LIBRARY_PATH", "/lib64:/usr/lib64"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.push((
        "AWS_LAMBDA_LOG_GROUP_NAME".into(),
        format!("/aws/lambda/{}", artifact.name),
    ));
    env.push(("LAMBDA_TASK_ROOT".into(), root));
    env.extend(options.vars.iter().cloned());
    env.extend(
        options
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("QEMU_"))
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    env
}

/// The session's outcome against what was expected; `kind` decides which Runtime API calls a
/// message names (an extension registers and asks `/extension/event/next`).
fn judge(session: Session, kind: Kind, expect: SmokeExpect, timeout: Duration) -> Smoked {
    let ms = |d: Option<Duration>| d.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let (outcome, failure) = match &session.ended {
        Ended::Response if expect == SmokeExpect::Error => (
            "unexpected",
            Some("answered with a response; smoke_expect = \"error\" asks for a handled error".to_owned()),
        ),
        Ended::Response => ("response", None),
        Ended::HandledError(kind) if expect == SmokeExpect::Response => (
            "unexpected",
            Some(format!(
                "answered with a handled error ({kind}); smoke_expect = \"response\" asks for a response"
            )),
        ),
        Ended::HandledError(_) => ("error", None),
        Ended::Registered => ("registered", None),
        Ended::InitError(kind) => ("init-error", Some(format!("reported an init error ({kind})"))),
        Ended::Exited { status, initialized } => {
            let when = match (initialized, kind) {
                (false, Kind::Function) => "before it asked for an event (/runtime/invocation/next)",
                (false, Kind::Extension) => {
                    "before it registered and asked for its next event (/extension/register, then /extension/event/next)"
                }
                (true, _) => "before it answered the event",
            };
            match status.starts_with("signal") {
                true => ("crashed", Some(format!("crashed ({status}) {when}"))),
                false => ("exited", Some(format!("exited ({status}) {when}"))),
            }
        }
        Ended::Timeout { initialized } => {
            let what = match (initialized, kind) {
                (false, Kind::Function) => "did not ask for an event",
                (false, Kind::Extension) => "did not register and ask for its next event",
                (true, _) => "did not answer the event",
            };
            (
                "timeout",
                Some(format!("{what} within {}s (--smoke-timeout)", timeout.as_secs())),
            )
        }
    };
    Smoked {
        record: Smoke {
            outcome: outcome.to_owned(),
            init_ms: ms(session.init),
            invoke_ms: ms(session.invoke),
        },
        failure,
        tail: session.tail,
        answer: one_line(&session.answer),
    }
}

/// Reads every `smoke_event` file before anything compiles: a missing or non-JSON file is a
/// usage error naming the file.
pub fn check_events(plan: &Plan) -> crate::error::Result<()> {
    for artifact in &plan.artifacts {
        if let Some(spec) = &artifact.smoke {
            event_of(spec, artifact).map_err(|err| {
                crate::error::Error::usage(format!(
                    "invalid smoke_event for {}: {err:#}; accepted: a regular JSON file of at most 6 MiB (Lambda's payload limit), relative to the folder of the table (or the directory of the flag) that sets it, inside the workspace when a table sets it",
                    artifact.name
                ))
            })?;
        }
    }
    Ok(())
}

/// With `--smoke-all`, refuses (before anything compiles) a run with binaries to smoke-test that
/// no program here can start: binaries of another architecture without qemu-user on PATH.
pub fn check_runners(plan: &Plan, env: &EnvVars, all: &crate::config::Sourced<bool>) -> crate::error::Result<()> {
    if !all.value {
        return Ok(());
    }
    let stranded: Vec<&Artifact> = plan
        .artifacts
        .iter()
        .filter(|a| a.smoke.is_some() && runner(a.target.arch, env).is_none())
        .collect();
    let Some(first) = stranded.first() else {
        return Ok(());
    };
    let names: Vec<&str> = stranded.iter().map(|a| a.name.as_str()).collect();
    Err(crate::error::Error::usage(format!(
        "--smoke-all (from {}): {} {} binaries ({}) cannot be smoke-tested here: {} not found on PATH; accepted: qemu-user on PATH (Debian: qemu-user-static), or without --smoke-all they are skipped",
        all.source,
        stranded.len(),
        first.target.arch.lambda_name(),
        names.join(", "),
        qemu_names(first.target.arch).join(" or ")
    )))
}

/// The first [`ANSWER_CHARS`] characters of an answer, on one line.
fn one_line(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(answer).trim().replace(['\n', '\r'], " ");
    match text.char_indices().nth(ANSWER_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

/// How much of an answer the terminal shows.
const ANSWER_CHARS: usize = 200;

/// The largest event: Lambda's limit on a synchronous invocation's payload (6 MB); Lambda
/// itself would refuse a larger one.
pub const EVENT_LIMIT: u64 = 6 * 1024 * 1024;

/// The event an artifact is sent: its `smoke_event` file (read as every file a setting names,
/// [`files::read_named`]), else the default for its kind.
fn event_of(spec: &SmokeSpec, artifact: &Artifact) -> anyhow::Result<Vec<u8>> {
    match &spec.event {
        Some(path) => {
            let bound = match &spec.event_inside {
                Some(root) => files::Bound::Inside(root),
                None => files::Bound::Anywhere,
            };
            let bytes = files::read_named(path, bound, EVENT_LIMIT)
                .map_err(|why| anyhow::anyhow!("smoke_event {} of {} {why}", path.display(), artifact.name))?;
            serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "smoke_event {} of {} is not JSON: {}",
                    path.display(),
                    artifact.name,
                    files::json_error(&e)
                )
            })?;
            Ok(bytes)
        }
        None if spec.http => Ok(HTTP_EVENT.as_bytes().to_vec()),
        None => Ok(b"{}".to_vec()),
    }
}

/// How to run a binary of `arch` here: `Some(None)` natively, `Some(Some(qemu))` under
/// qemu-user, `None` when it cannot run.
fn runner(arch: Arch, env: &EnvVars) -> Option<Option<PathBuf>> {
    if host_arch() == Some(arch) {
        return Some(None);
    }
    let path = env.get("PATH").unwrap_or_default();
    let cwd = std::env::current_dir().ok()?;
    qemu_names(arch)
        .iter()
        .find_map(|name| which::which_in(name, Some(path), &cwd).ok())
        .map(Some)
}

/// The qemu-user programs that run `arch` binaries, preferred first.
fn qemu_names(arch: Arch) -> [&'static str; 2] {
    match arch {
        Arch::Arm64 => ["qemu-aarch64-static", "qemu-aarch64"],
        Arch::X86_64 => ["qemu-x86_64-static", "qemu-x86_64"],
    }
}

/// This machine's architecture, when Lambda has it.
fn host_arch() -> Option<Arch> {
    match std::env::consts::ARCH {
        "x86_64" => Some(Arch::X86_64),
        "aarch64" => Some(Arch::Arm64),
        _ => None,
    }
}

/// The one-line summary of a result, for the terminal.
pub fn summary(artifact: &Artifact, smoked: &Smoked) -> String {
    let mut line = format!(
        "smoke {} ({}): {}",
        artifact.name,
        artifact.target.arch.lambda_name(),
        smoked.record.outcome
    );
    if let Some(ms) = smoked.record.init_ms {
        line.push_str(&format!(", init {ms} ms"));
    }
    if let Some(ms) = smoked.record.invoke_ms {
        line.push_str(&format!(", invoke {ms} ms"));
    }
    if !smoked.answer.is_empty() {
        line.push_str(&format!(": {}", smoked.answer));
    }
    line
}

/// The failures among the results, with their last output lines; `None` when all passed.
pub fn failures(plan: &Plan, results: &[Option<Smoked>]) -> Option<String> {
    let mut text = String::new();
    for (artifact, smoked) in plan.artifacts.iter().zip(results) {
        let Some(Smoked {
            failure: Some(failure),
            tail,
            ..
        }) = smoked
        else {
            continue;
        };
        text.push_str(&format!(
            "\n  {} ({}): {failure}",
            artifact.name,
            artifact.target.arch.lambda_name()
        ));
        if !tail.is_empty() {
            text.push_str(&format!("; its last output lines:\n    {}", tail.join("\n    ")));
        }
        if let Some(hint) = crate::diagnose::smoke::missing_setting(tail) {
            text.push_str(&format!("\n    {hint}"));
        }
    }
    (!text.is_empty()).then(|| format!("smoke test failed; nothing was packaged:{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(ended: Ended) -> Session {
        Session {
            ended,
            init: Some(Duration::from_millis(3)),
            invoke: None,
            tail: vec!["last".into()],
            answer: b"{\"a\":\n1}".to_vec(),
        }
    }

    #[test]
    fn each_ending_is_judged_against_the_expected_outcome() {
        let ten = Duration::from_secs(10);
        let cases = [
            (Ended::Response, SmokeExpect::Any, "response", false),
            (Ended::Response, SmokeExpect::Error, "unexpected", true),
            (Ended::HandledError("E".into()), SmokeExpect::Any, "error", false),
            (
                Ended::HandledError("E".into()),
                SmokeExpect::Response,
                "unexpected",
                true,
            ),
            (Ended::Registered, SmokeExpect::Response, "registered", false),
            (Ended::InitError("E".into()), SmokeExpect::Any, "init-error", true),
            (
                Ended::Exited {
                    status: "signal 6".into(),
                    initialized: true,
                },
                SmokeExpect::Any,
                "crashed",
                true,
            ),
            (
                Ended::Exited {
                    status: "exit code 1".into(),
                    initialized: false,
                },
                SmokeExpect::Any,
                "exited",
                true,
            ),
            (Ended::Timeout { initialized: false }, SmokeExpect::Any, "timeout", true),
        ];
        for (ended, expect, outcome, fails) in cases {
            let smoked = judge(session(ended.clone()), Kind::Function, expect, ten);
            assert_eq!(smoked.record.outcome, outcome, "{ended:?}");
            assert_eq!(smoked.failure.is_some(), fails, "{ended:?}");
            assert!(OUTCOMES.contains(&outcome));
            assert_eq!(smoked.record.init_ms, Some(3));
            assert_eq!(smoked.answer, "{\"a\": 1}");
        }
    }

    #[test]
    fn an_extension_that_exits_at_init_is_said_to_miss_its_registration() {
        let exited = || Ended::Exited {
            status: "exit status: 1".into(),
            initialized: false,
        };
        let ten = Duration::from_secs(10);
        let extension = judge(session(exited()), Kind::Extension, SmokeExpect::Any, ten);
        assert_eq!(
            extension.failure.as_deref(),
            Some(
                "exited (exit status: 1) before it registered and asked for its next event (/extension/register, then /extension/event/next)"
            )
        );
        let function = judge(session(exited()), Kind::Function, SmokeExpect::Any, ten);
        assert!(
            function
                .failure
                .unwrap()
                .ends_with("before it asked for an event (/runtime/invocation/next)")
        );
        let waiting = judge(
            session(Ended::Timeout { initialized: false }),
            Kind::Extension,
            SmokeExpect::Any,
            ten,
        );
        assert!(
            waiting
                .failure
                .unwrap()
                .starts_with("did not register and ask for its next event")
        );
    }

    #[test]
    fn long_answers_are_cut_on_a_character_boundary() {
        let long = "é".repeat(ANSWER_CHARS + 5);
        assert_eq!(one_line(long.as_bytes()), format!("{}...", "é".repeat(ANSWER_CHARS)));
    }

    #[test]
    fn the_other_architecture_needs_qemu_on_path() {
        let nowhere = EnvVars::from_pairs([("PATH", "/nonexistent")]);
        let (native, other) = match host_arch() {
            Some(Arch::X86_64) => (Arch::X86_64, Arch::Arm64),
            Some(Arch::Arm64) => (Arch::Arm64, Arch::X86_64),
            None => return,
        };
        assert_eq!(runner(native, &nowhere), Some(None));
        assert_eq!(runner(other, &nowhere), None);
    }
}
