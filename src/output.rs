//! Every byte lambda-build prints goes through here, so a stdout or stderr that cannot be written
//! (a closed pipe, a full disk, `2>/dev/full`) ends the run with exit 1 instead of the panic
//! `println!`/`eprintln!` give (exit 101).
//!
//! stdout carries only the `--print-config`/`--toolchain-only` JSON: a failed write is returned
//! as an error, except a closed pipe, which means the reader stopped reading
//! (`lambda-build --print-config | head -1`) and is a quiet success, as for most Unix tools.
//! stderr carries the log: a failed write cannot be reported anywhere, so it is remembered
//! ([`stderr_failed`]), the run goes on (its artifacts are written whole or not at all either
//! way), and `main` exits 1 at the end.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::anyhow;

use crate::cli::EnvVars;
use crate::error::{Error, Result};

static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// Writes one line to stderr (a failure is remembered, see [`stderr_failed`]).
pub fn line(text: impl Display) {
    text_to_stderr(&format!("{text}\n"));
}

/// Writes text as it is to stderr (a failure is remembered, see [`stderr_failed`]).
pub fn text_to_stderr(text: &str) {
    let mut stderr = io::stderr().lock();
    remember(stderr.write_all(text.as_bytes()).and_then(|()| stderr.flush()));
}

/// Remembers a failed write to stderr.
fn remember(result: io::Result<()>) {
    if result.is_err() {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Whether a write to stderr failed during this run: the run then cannot have reported
/// everything, and exits 1.
pub fn stderr_failed() -> bool {
    STDERR_FAILED.load(Ordering::Relaxed)
}

/// Writes `text` and a newline to stdout. A closed pipe is success (the reader has what it
/// wanted); any other failure is an error.
pub fn stdout_line(text: &str) -> Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(Error::Failed(anyhow!("writing to stdout: {err}"))),
        _ => Ok(()),
    }
}

/// Whether stderr may carry ANSI colour: only a terminal, and not when `NO_COLOR` is set
/// (no-color.org) or `CARGO_TERM_COLOR=never` (cargo's own switch, often set in CI).
pub fn stderr_color(env: &EnvVars) -> bool {
    io::stderr().is_terminal() && env.get("NO_COLOR").is_none() && env.get("CARGO_TERM_COLOR") != Some("never")
}

/// stderr for the tracing subscriber: a failed write is remembered like [`line`]'s and
/// reported to tracing as success, so tracing never falls back to `eprintln!` (which panics).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        remember(io::stderr().write_all(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        remember(io::stderr().flush());
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}
