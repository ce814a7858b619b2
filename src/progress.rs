//! What a person sees while a run goes: on a terminal a progress bar for packaging, in a pipe
//! (CI logs) plain lines, one per phase and artifact.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Phase and artifact reporting to stderr.
#[derive(Debug)]
pub struct Progress {
    terminal: bool,
    started: Instant,
}

/// Progress over a known number of steps.
#[derive(Debug)]
pub struct Steps {
    bar: Option<ProgressBar>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

impl Progress {
    /// Chooses the display from whether stderr is a terminal.
    pub fn new() -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
        }
    }

    /// Announces a phase.
    pub fn phase(&self, name: &str, detail: &str) {
        if self.terminal {
            eprintln!("\x1b[1;32m{name:>12}\x1b[0m {detail}");
        } else {
            eprintln!("lambda-build: {name}: {detail}");
        }
    }

    /// Starts counting `len` steps.
    pub fn steps(&self, len: usize, what: &str) -> Steps {
        let bar = self.terminal.then(|| {
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
            None => eprintln!("lambda-build:   {verb} {what}"),
        }
    }

    /// All steps done.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
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
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_person_writes_them() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(50 * 1024 * 1024), "50.0 MiB");
    }
}
