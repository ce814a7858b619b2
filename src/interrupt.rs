//! SIGINT and SIGTERM: an interrupted run removes the files it staged and exits with the
//! conventional code (130, 143), leaving the lambda dir as it was or, when the signal came
//! during the final renames, as the run meant it (the commit finishes first).
//!
//! The signals are blocked in every thread and taken by one thread that waits for them
//! (`sigwait`), so the cleanup runs as ordinary code (it may lock, print, remove files) instead
//! of in a signal handler. Children get the default signal mask back when they start (the
//! standard library resets it), so cargo and the tools it runs still stop on Ctrl-C.

use crate::{lambda_dir, output};

/// Takes SIGINT and SIGTERM for the rest of the process. Call it first, before any thread starts
/// (threads inherit the blocked mask; one started earlier would still be killed by the signal).
pub fn install() {
    // SAFETY: the set is initialised by sigemptyset before use, and pthread_sigmask and sigwait
    // only read it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        std::thread::spawn(move || {
            let mut signal: libc::c_int = 0;
            while libc::sigwait(&set, &mut signal) != 0 {}
            let removed = lambda_dir::abandon();
            let name = if signal == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
            output::line(format_args!(
                "lambda-build: interrupted by {name}; removed the {removed} files this run had staged, the lambda dir is as it was"
            ));
            std::process::exit(128 + signal);
        });
    }
}
