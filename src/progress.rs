//! What a person sees while a run goes: on a terminal a progress bar for packaging, in a pipe
//! (CI logs) plain lines, in GitHub Actions each phase in a collapsible `::group::`. It also
//! keeps the time each phase took, for the job summary.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::ci::commands;
use crate::output;

/// A stage of a run, as reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading inputs, metadata and planning.
    Resolve,
    /// Finding or provisioning Zig and Rust targets.
    Toolchain,
    /// A cargo invocation.
    Compile,
    /// The runtime gate.
    Gate,
    /// `--smoke`: each binary against the built-in Runtime API emulator.
    Smoke,
    /// Writing artifacts.
    Package,
    /// Writing SHA256SUMS and manifest.json.
    Record,
    /// Uploading.
    Upload,
    /// The end.
    Finished,
}

impl Phase {
    /// The word shown before the phase's detail.
    fn label(self) -> &'static str {
        match self {
            Phase::Resolve => "Resolving",
            Phase::Toolchain => "Toolchain",
            Phase::Compile => "Compiling",
            Phase::Gate => "Checking",
            Phase::Smoke => "Smoke-testing",
            Phase::Package => "Packaging",
            Phase::Record => "Recording",
            Phase::Upload => "Uploading",
            Phase::Finished => "Finished",
        }
    }

    /// The name in the summary's phase times.
    fn key(self) -> &'static str {
        match self {
            Phase::Resolve => "resolve",
            Phase::Toolchain => "toolchain",
            Phase::Compile => "compile",
            Phase::Gate => "gate",
            Phase::Smoke => "smoke",
            Phase::Package => "package",
            Phase::Record => "record",
            Phase::Upload => "upload",
            Phase::Finished => "finished",
        }
    }
}

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// A terminal: coloured phase words and a progress bar.
    Terminal,
    /// A pipe: plain lines.
    Plain,
    /// GitHub Actions: plain lines, each phase in a group.
    Actions,
}

/// Phase and artifact reporting to stderr.
#[derive(Debug)]
pub struct Progress {
    display: Display,
    started: Instant,
    /// Phases entered so far, with their start.
    phases: Mutex<Vec<(Phase, Instant)>>,
}

/// Progress over a known number of steps.
#[derive(Debug)]
pub struct Steps {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Actions when `actions` is set, else chosen from whether stderr is a terminal.
    pub fn new(actions: bool) -> Self {
        let display = if actions {
            Display::Actions
        } else if std::io::stderr().is_terminal() {
            Display::Terminal
        } else {
            Display::Plain
        };
        Progress {
            display,
            started: Instant::now(),
            phases: Mutex::new(Vec::new()),
        }
    }

    /// Enters a phase (ending the one before) and announces it.
    pub fn phase(&self, phase: Phase, detail: &str) {
        let mut phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        let label = phase.label();
        // Resolving is only timed outside Actions: a bad input then stays a one-line error.
        let quiet = phase == Phase::Resolve && self.display != Display::Actions;
        match self.display {
            _ if quiet => {}
            Display::Terminal => output::line(format_args!("\x1b[1;32m{label:>12}\x1b[0m {detail}")),
            Display::Plain => output::line(format_args!("lambda-build: {label}: {detail}")),
            Display::Actions => {
                if phases.last().is_some_and(|(p, _)| *p != Phase::Finished) {
                    output::line(commands::END_GROUP);
                }
                if phase == Phase::Finished {
                    output::line(format_args!("lambda-build: {label}: {detail}"));
                } else {
                    output::line(commands::group(&format!("lambda-build: {label}: {detail}")));
                }
            }
        }
        phases.push((phase, Instant::now()));
    }

    /// A line inside the current phase.
    pub fn note(&self, text: &str) {
        match self.display {
            Display::Terminal => output::line(format_args!("{:>12} {text}", "")),
            Display::Plain | Display::Actions => output::line(format_args!("lambda-build:   {text}")),
        }
    }

    /// Closes the open group, if any (Actions), so later output is not folded into it.
    pub fn end(&self) {
        let mut phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        if self.display == Display::Actions && phases.last().is_some_and(|(p, _)| *p != Phase::Finished) {
            output::line(commands::END_GROUP);
        }
        phases.push((Phase::Finished, Instant::now()));
    }

    /// Total time per phase so far, in order of first appearance (repeated phases summed).
    pub fn phase_times(&self) -> Vec<(String, Duration)> {
        let phases = self.phases.lock().unwrap_or_else(|e| e.into_inner());
        let mut times: Vec<(String, Duration)> = Vec::new();
        for (i, (phase, start)) in phases.iter().enumerate() {
            if *phase == Phase::Finished {
                continue;
            }
            let end = phases.get(i + 1).map(|(_, t)| *t).unwrap_or_else(Instant::now);
            let took = end.saturating_duration_since(*start);
            match times.iter_mut().find(|(k, _)| k == phase.key()) {
                Some((_, total)) => *total += took,
                None => times.push((phase.key().to_owned(), took)),
            }
        }
        times
    }

    /// Starts counting `len` steps.
    pub fn steps(&self, len: usize, what: &str) -> Steps {
        let bar = (self.display == Display::Terminal).then(|| {
            let bar = ProgressBar::new(len as u64).with_message(what.to_owned());
            let style = ProgressStyle::with_template("{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix("Packaging");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Steps { bar }
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Steps {
    /// One step done.
    pub fn done(&self, verb: &str, what: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_message(what.to_owned());
                bar.inc(1);
            }
            None => output::line(format_args!("lambda-build:   {verb} {what}")),
        }
    }

    /// All steps done.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A duration in human units: `12ms`, `61.5s`.
pub fn human_duration(time: Duration) -> String {
    if time < Duration::from_secs(1) {
        format!("{}ms", time.as_millis())
    } else {
        format!("{:.1}s", time.as_secs_f64())
    }
}

/// Bytes in human units: `1.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        // The loop keeps `unit` below UNITS.len().
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_times_sum_repeated_phases_in_order() {
        let progress = Progress::new(false);
        progress.phase(Phase::Resolve, "x");
        progress.phase(Phase::Compile, "a");
        progress.phase(Phase::Compile, "b");
        progress.phase(Phase::Package, "c");
        progress.end();
        let keys: Vec<String> = progress.phase_times().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["resolve", "compile", "package"]);
        assert_eq!(human_duration(Duration::from_millis(61_500)), "61.5s");
        assert_eq!(human_duration(Duration::from_millis(12)), "12ms");
    }

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 * 1024 * 1024), "50.0 MiB");
    }
}
