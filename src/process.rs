//! Child processes lambda-build waits on, each with a time limit, so a tool that never answers
//! (a `ZIG` stuck on a licence prompt, a hung network mount) cannot hang a CI job.
//!
//! A child gets no stdin (nothing can wait for a person), its output is captured, and it runs in
//! its own process group: on the deadline the whole group is killed, so a wrapper script's
//! children go too and nothing is left holding the output pipes. The cargo build itself is not
//! bounded (builds take as long as they take); see `compile`.
//!
//! `LAMBDA_BUILD_PROBE_TIMEOUT` (whole seconds, default 30) bounds the quick questions (`zig
//! version`, where `python3 -m ziglang` keeps its zig). Commands that may download first get
//! [`DOWNLOAD_FACTOR`] times that: `cargo metadata` and `rustc` (rustup may install the
//! toolchain a `rust-toolchain.toml` names), `rustup target add`, `pip install`.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::EnvVars;
use crate::error::{Error, Result};

/// The variable that sets the probe bound.
pub const PROBE_TIMEOUT_VAR: &str = "LAMBDA_BUILD_PROBE_TIMEOUT";

/// The probe bound when the variable is unset, in seconds.
pub const DEFAULT_PROBE_SECS: u64 = 30;

/// How many probe bounds a command that may download gets (10 minutes by default).
pub const DOWNLOAD_FACTOR: u32 = 20;

/// How long the output pipes may stay open after the child exited before what holds them (a
/// background child of a script) is killed with the child's process group.
const AFTER_EXIT: Duration = Duration::from_millis(500);

/// The most seconds a time-limit variable takes (a day): beyond any real wait, and small enough
/// that no deadline computed from it can overflow (which panics).
pub const MAX_SECS: u64 = 86_400;

/// A time-limit variable's whole seconds, 1 to [`MAX_SECS`]; `None` when it is unset.
pub fn seconds(env: &EnvVars, var: &str) -> Result<Option<u64>> {
    let Some(text) = env.get(var) else {
        return Ok(None);
    };
    match text.trim().parse::<u64>() {
        Ok(secs) if (1..=MAX_SECS).contains(&secs) => Ok(Some(secs)),
        _ => Err(Error::usage(format!(
            "invalid {var} {text:?} from env {var}; accepted: seconds, a whole number from 1 to {MAX_SECS}"
        ))),
    }
}

/// How long a child may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    time: Duration,
    /// How many probe bounds this is (1 for a probe).
    factor: u32,
}

impl Limit {
    /// The time.
    pub fn time(&self) -> Duration {
        self.time
    }

    /// A probe-sized limit of `time` (tests).
    #[cfg(test)]
    pub(crate) fn for_test(time: Duration) -> Limit {
        Limit { time, factor: 1 }
    }
}

impl std::fmt::Display for Limit {
    /// `30s (LAMBDA_BUILD_PROBE_TIMEOUT)`: the time and how to change it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let millis = self.time.as_millis();
        match millis % 1000 {
            0 => write!(f, "{}s", millis / 1000)?,
            _ => write!(f, "{millis}ms")?,
        }
        match self.factor {
            1 => write!(f, " ({PROBE_TIMEOUT_VAR})"),
            n => write!(f, " ({n} × {PROBE_TIMEOUT_VAR})"),
        }
    }
}

/// The two limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// For a quick question to a tool.
    pub probe: Limit,
    /// For a command that may download before it answers.
    pub download: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::from_secs(DEFAULT_PROBE_SECS)
    }
}

impl Limits {
    fn from_secs(secs: u64) -> Self {
        let probe = Duration::from_secs(secs);
        Limits {
            probe: Limit { time: probe, factor: 1 },
            download: Limit {
                time: probe.saturating_mul(DOWNLOAD_FACTOR),
                factor: DOWNLOAD_FACTOR,
            },
        }
    }

    /// The limits `LAMBDA_BUILD_PROBE_TIMEOUT` sets; a bad value is a usage error. A run calls
    /// this before it starts any child (while reading the workspace), so later stages can use
    /// [`Limits::of`].
    pub fn check(env: &EnvVars) -> Result<Self> {
        let secs = seconds(env, PROBE_TIMEOUT_VAR)?;
        Ok(Limits::from_secs(secs.unwrap_or(DEFAULT_PROBE_SECS)))
    }

    /// The limits, for stages after [`Limits::check`] has accepted the variable (a bad value
    /// cannot get here; it would give the default).
    pub fn of(env: &EnvVars) -> Self {
        Limits::check(env).unwrap_or_default()
    }
}

/// A child that did not finish within its limit (and was killed with its process group).
#[derive(Debug, thiserror::Error)]
#[error("`{command}` did not answer within {limit}; it was stopped")]
pub struct TimedOut {
    /// The command line.
    pub command: String,
    /// The limit it exceeded.
    pub limit: Limit,
}

/// Whether an error (or one it wraps) is a [`TimedOut`].
pub fn timed_out(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<TimedOut>())
}

/// Runs `command` to completion within `limit`: stdin closed, output captured.
pub fn output(command: &mut Command, limit: Limit) -> anyhow::Result<Output> {
    Running::start(command, limit).finish()
}

/// A child started with [`Running::start`], so its answer can be collected later while other
/// work goes on; the limit counts from the start.
pub struct Running {
    command: String,
    limit: Limit,
    deadline: Instant,
    child: std::io::Result<Child>,
    pipes: Option<Receiver<(usize, Vec<u8>)>>,
}

impl Running {
    /// Starts `command` with stdin closed, its output captured, in a process group of its own.
    pub fn start(command: &mut Command, limit: Limit) -> Self {
        let shown = command_line(command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        let pipes = child.as_mut().ok().map(read_pipes);
        Running {
            command: shown,
            limit,
            deadline: Instant::now() + limit.time,
            child,
            pipes,
        }
    }

    /// Waits for the child and its output until the deadline; past it, kills the child's
    /// process group and fails with [`TimedOut`].
    pub fn finish(self) -> anyhow::Result<Output> {
        let Running {
            command,
            limit,
            deadline,
            child,
            pipes,
        } = self;
        let mut child = child.with_context(|| format!("cannot run `{command}`"))?;
        let timed_out = |child: &mut Child| {
            stop(child);
            anyhow::Error::new(TimedOut {
                command: command.clone(),
                limit,
            })
        };
        let mut pause = Duration::from_millis(1);
        let status = loop {
            if let Some(status) = child.try_wait().with_context(|| format!("waiting for `{command}`"))? {
                break status;
            }
            if Instant::now() >= deadline {
                return Err(timed_out(&mut child));
            }
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            pause = (pause * 2).min(Duration::from_millis(50));
        };
        // A child the command started in the background may still hold the pipes open: the
        // command has finished, so after a moment its group is killed, which closes them (one
        // that left the group too is waited for until the deadline).
        let mut streams = [Vec::new(), Vec::new()];
        if let Some(pipes) = pipes {
            let exited = Instant::now();
            let mut group_killed = false;
            let mut received = 0;
            while received < streams.len() {
                let until = match group_killed {
                    false => (exited + AFTER_EXIT).min(deadline),
                    true => deadline,
                };
                match pipes.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok((index, bytes)) => {
                        if let Some(stream) = streams.get_mut(index) {
                            *stream = bytes;
                        }
                        received += 1;
                    }
                    Err(_) if !group_killed && Instant::now() < deadline => {
                        kill_group(&child);
                        group_killed = true;
                    }
                    Err(_) => return Err(timed_out(&mut child)),
                }
            }
        }
        let [stdout, stderr] = streams;
        Ok(Output { status, stdout, stderr })
    }
}

/// Reads the child's stdout (0) and stderr (1) on threads of their own, so a child filling one
/// pipe never blocks on the other; each arrives whole on the channel at its end of file.
fn read_pipes(child: &mut Child) -> Receiver<(usize, Vec<u8>)> {
    let (sender, receiver) = mpsc::channel();
    let readers: [Option<Box<dyn Read + Send>>; 2] = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for (index, reader) in readers.into_iter().enumerate() {
        let sender = sender.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut reader) = reader {
                // A read error leaves what was read: the exit status tells whether it worked.
                let _ = reader.read_to_end(&mut bytes);
            }
            let _ = sender.send((index, bytes));
        });
    }
    receiver
}

/// Kills the child's process group (the child leads it) and reaps the child.
pub(crate) fn stop(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
}

/// Kills the process group the child leads (`process_group(0)`). The group's id stays taken
/// while any member lives, even once the child itself is reaped, so this reaches only what the
/// child left behind.
fn kill_group(child: &Child) {
    if let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: kill(2) takes no pointers; a negative id names a process group.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// The command as a person would type it, for messages.
fn command_line(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(millis: u64) -> Limit {
        Limit {
            time: Duration::from_millis(millis),
            factor: 1,
        }
    }

    #[test]
    fn output_is_captured_within_the_limit() {
        let out = output(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            limit(30_000),
        )
        .unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_slice()),
            (&b"out\n"[..], &b"err\n"[..])
        );
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_child_past_its_limit_is_stopped_with_its_children() {
        // The shell's own child keeps the pipes open: only killing the group ends the wait.
        let err = output(Command::new("sh").args(["-c", "sleep 60; echo late"]), limit(200)).unwrap_err();
        assert!(timed_out(&err), "{err:#}");
        assert_eq!(
            err.to_string(),
            "`sh -c sleep 60; echo late` did not answer within 200ms (LAMBDA_BUILD_PROBE_TIMEOUT); it was stopped"
        );
    }

    #[test]
    fn a_child_that_exits_leaving_a_background_child_on_its_pipes_has_finished() {
        // Before, the wait went on until the limit (the background child held the pipes).
        let out = output(
            Command::new("sh").args(["-c", "sleep 60 & echo started; exit 4"]),
            limit(30_000),
        )
        .unwrap();
        assert_eq!((out.stdout.as_slice(), out.status.code()), (&b"started\n"[..], Some(4)));
    }

    #[test]
    fn the_probe_timeout_is_whole_seconds() {
        let env = |v: &str| EnvVars::from_pairs([(PROBE_TIMEOUT_VAR, v.to_owned())]);
        let limits = Limits::check(&env("5")).unwrap();
        assert_eq!(limits.download.to_string(), "100s (20 × LAMBDA_BUILD_PROBE_TIMEOUT)");
        assert_eq!(limits.probe.to_string(), "5s (LAMBDA_BUILD_PROBE_TIMEOUT)");
        assert_eq!(Limits::check(&EnvVars::default()).unwrap(), Limits::default());
        for bad in ["0", "soon", "-1", "1.5", "86401", "18446744073709551615"] {
            let err = Limits::check(&env(bad)).unwrap_err().to_string();
            assert!(err.starts_with("invalid LAMBDA_BUILD_PROBE_TIMEOUT"), "{err}");
        }
    }
}
