//! Who holds a lambda dir's lock, for the waiter's messages.
//!
//! The kernel knows every `flock` holder, whoever took it (another lambda-build run, a person's
//! `flock DIR sleep 100`): `/proc/locks` lists its pid and the locked file's device and inode.
//! A lambda-build holder also records when it took the lock, in an extended attribute of the
//! folder (`user.lambda-build.lock`: `<pid> <unix seconds>`): SAM and CDK copy files, never
//! attributes, so it is invisible to them, and the waiter trusts it only when its pid is the
//! one the kernel names. Without it, the holder's own start time stands for "since".

use std::ffi::CString;
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The extended attribute a lambda-build holder writes on the folder it locked.
const ATTRIBUTE: &str = "user.lambda-build.lock";

/// A process holding the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its pid.
    pub pid: u32,
    /// Its command name (`/proc/<pid>/comm`), when readable.
    pub command: Option<String>,
    /// How long it has held the lock (or, when it did not say, how long it has run).
    pub held_for: Option<Duration>,
    /// Whether `held_for` is the process's age rather than the lock's.
    pub since_start: bool,
}

impl std::fmt::Display for Holder {
    /// `pid 1234 (lambda-build), holding it for 42s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(command) = &self.command {
            write!(f, " ({command})")?;
        }
        match (self.held_for, self.since_start) {
            (Some(time), false) => write!(f, ", holding it for {}", whole_seconds(time)),
            (Some(time), true) => write!(f, ", running for {}", whole_seconds(time)),
            (None, _) => Ok(()),
        }
    }
}

/// `42s`, `3m 12s`.
fn whole_seconds(time: Duration) -> String {
    match time.as_secs() {
        s if s < 60 => format!("{s}s"),
        s => format!("{}m {}s", s / 60, s % 60),
    }
}

/// Records this process as the holder of the lock on `dir` (best effort: a file system without
/// user attributes just makes the waiter's message shorter).
pub fn record(dir: &File) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let value = format!("{} {now}", std::process::id());
    let name = CString::new(ATTRIBUTE).unwrap_or_default();
    // SAFETY: the fd is open for the call, the name is NUL-terminated, the value pointer and
    // length describe one live buffer.
    unsafe {
        libc::fsetxattr(
            std::os::fd::AsRawFd::as_raw_fd(dir),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        );
    }
}

/// Removes this process's record from `dir`, before it releases the lock.
pub fn clear(dir: &File) {
    let name = CString::new(ATTRIBUTE).unwrap_or_default();
    // SAFETY: as in `record`.
    unsafe {
        libc::fremovexattr(std::os::fd::AsRawFd::as_raw_fd(dir), name.as_ptr());
    }
}

/// Who holds the `flock` on `dir`, when the kernel says.
pub fn of(dir: &Path) -> Option<Holder> {
    let meta = fs::metadata(dir).ok()?;
    let locks = fs::read_to_string("/proc/locks").ok()?;
    let pid = pid_in(&locks, meta.dev(), meta.ino())?;
    let command = fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim().to_owned());
    let recorded = recorded(dir).filter(|(who, _)| *who == pid).map(|(_, since)| since);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (held_for, since_start) = match recorded {
        Some(since) => (now.checked_sub(Duration::from_secs(since)), false),
        None => (process_age(pid), true),
    };
    Some(Holder {
        pid,
        command,
        held_for,
        since_start,
    })
}

/// The pid holding a `FLOCK` on the file `dev`/`ino` in `/proc/locks` text
/// (`1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`; waiting entries carry `->` and are skipped).
fn pid_in(locks: &str, dev: u64, ino: u64) -> Option<u32> {
    let wanted = format!("{:02x}:{:02x}:{ino}", libc::major(dev), libc::minor(dev));
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let fields = fields.get(1..)?;
        if fields.first() == Some(&"->") || fields.first() != Some(&"FLOCK") {
            return None;
        }
        if *fields.get(4)? != wanted.as_str() {
            return None;
        }
        fields.get(3)?.parse().ok()
    })
}

/// The holder record on `dir`: pid and unix seconds.
fn recorded(dir: &Path) -> Option<(u32, u64)> {
    let path = CString::new(dir.as_os_str().as_bytes()).ok()?;
    let name = CString::new(ATTRIBUTE).ok()?;
    let mut buffer = [0u8; 64];
    // SAFETY: both strings are NUL-terminated, the buffer pointer and length describe one live
    // buffer the kernel writes at most that many bytes into.
    let len = unsafe { libc::getxattr(path.as_ptr(), name.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
    let text = std::str::from_utf8(buffer.get(..usize::try_from(len).ok()?)?).ok()?;
    let (pid, since) = text.split_once(' ')?;
    Some((pid.parse().ok()?, since.parse().ok()?))
}

/// How long process `pid` has run: its start (clock ticks after boot, `/proc/<pid>/stat` field
/// 22) against the system's uptime.
fn process_age(pid: u32) -> Option<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = stat.rsplit_once(')')?.1;
    let start_ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    // SAFETY: sysconf takes no pointers.
    let ticks = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).ok()?;
    let uptime: f64 = fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let started = start_ticks as f64 / ticks.max(1) as f64;
    Some(Duration::from_secs_f64((uptime - started).max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flock_holder_of_a_file_is_found_and_waiters_are_not() {
        let locks = "1: POSIX  ADVISORY  WRITE 99 08:01:77 0 EOF\n\
                     2: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 4321 fd:01:5678 0 EOF\n";
        let dev = libc::makedev(0xfd, 1);
        assert_eq!(pid_in(locks, dev, 5678), Some(1234));
        assert_eq!(pid_in(locks, dev, 77), None);
        assert_eq!(pid_in(locks, libc::makedev(8, 1), 77), None);
    }

    #[test]
    fn this_process_is_named_as_the_holder_of_a_folder_it_locked() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::open(dir.path()).unwrap();
        file.lock().unwrap();
        record(&file);
        let holder = of(dir.path()).expect("the kernel lists the lock");
        assert_eq!(holder.pid, std::process::id());
        assert!(holder.held_for.is_some(), "{holder}");
        assert!(holder.to_string().starts_with(&format!("pid {}", std::process::id())));
        clear(&file);
        assert_eq!(recorded(dir.path()), None);
    }
}
