//! The lambda dir as a run changes it: one writer at a time, and all of a run's files or none.
//!
//! Two runs sharing a lambda dir (two CI steps, two packages built side by side) would otherwise
//! interleave their zips and records, so a writer holds an advisory lock (`flock`) on the folder
//! itself while it stages and commits; a second run waits for it, saying every so often who holds
//! it ([`holder`]), and gives up after `--lock-timeout`. Locking the folder, not a lock file in it,
//! leaves nothing behind that tools reading the folder (SAM, CDK) would pick up. Every file is
//! first written under a marked temporary name next to its destination ([`stage`]); only when
//! the whole run's outputs are staged are they made visible together, records last
//! ([`commit`], see [`transaction`]), so a failure or a kill at any step leaves the folder as it
//! was or as the run meant it, and records never describe files that are not there. What a
//! killed run left (staged files, a half-done commit) is cleaned up by the next run that takes
//! the lock, before it reads anything.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub mod holder;
pub mod transaction;

pub use transaction::{JOURNAL, is_stray, recover};

/// A lambda dir this process holds the lock of; the lock is released when it is dropped.
#[derive(Debug)]
pub struct Locked {
    dir: PathBuf,
    lock: File,
}

impl Locked {
    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        holder::clear(&self.lock);
    }
}

/// How a run waits for a lock another process holds.
pub struct Wait<'a> {
    /// How long before giving up (exit 1).
    pub timeout: Duration,
    /// Where the timeout came from, for the messages (`--lock-timeout 600s (from default)`).
    pub setting: String,
    /// Prints a line about the wait.
    pub note: &'a dyn Fn(&str),
}

/// How often a waiting run says again who holds the lock.
const NOTE_EVERY: Duration = Duration::from_secs(30);

/// How often a waiting run tries the lock again.
const POLL: Duration = Duration::from_millis(200);

/// Creates `dir` if needed, takes its lock (waiting as `wait` says), and then cleans up what an
/// earlier, killed run left there ([`recover`]).
pub fn lock(dir: &Path, wait: &Wait<'_>) -> anyhow::Result<Locked> {
    fs::create_dir_all(dir).with_context(|| format!("creating the lambda dir {}", dir.display()))?;
    take(dir, wait)
}

/// Takes the lock of a lambda dir that exists, creating nothing: for reading the folder
/// consistently before a build (a folder that does not exist has no writer).
pub fn lock_existing(dir: &Path, wait: &Wait<'_>) -> anyhow::Result<Option<Locked>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    take(dir, wait).map(Some)
}

fn take(dir: &Path, wait: &Wait<'_>) -> anyhow::Result<Locked> {
    let file = File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    let started = Instant::now();
    let mut noted: Option<Instant> = None;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(err)) => {
                return Err(err).with_context(|| format!("locking {}", dir.display()));
            }
        }
        let who = || match holder::of(dir) {
            Some(holder) => format!("held by {holder}"),
            None => "held by a process the kernel does not name here".to_owned(),
        };
        let waited = started.elapsed();
        if waited >= wait.timeout {
            bail!(
                "gave up waiting for the lock on the lambda dir {} after {}s ({}): {}; another run (perhaps stopped or stuck) is writing there: let it finish, stop it, or raise --lock-timeout",
                dir.display(),
                waited.as_secs(),
                wait.setting,
                who()
            );
        }
        if noted.is_none_or(|at| at.elapsed() >= NOTE_EVERY) {
            (wait.note)(&format!(
                "waiting for the lock on the lambda dir {} ({}), giving up after {}s ({})",
                dir.display(),
                who(),
                wait.timeout.as_secs(),
                wait.setting
            ));
            noted = Some(Instant::now());
        }
        std::thread::sleep(POLL.min(wait.timeout.saturating_sub(waited)));
    }
    holder::record(&file);
    let locked = Locked {
        dir: dir.to_path_buf(),
        lock: file,
    };
    let (restored, removed) = recover(dir)?;
    if restored + removed > 0 {
        (wait.note)(&format!(
            "cleaned up after an interrupted run in {}: {restored} files put back as they were, {removed} staged files removed",
            dir.display()
        ));
    }
    Ok(locked)
}

/// The staged files of this process that are not committed yet, for [`abandon`].
static STAGED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn staged_files() -> MutexGuard<'static, BTreeSet<PathBuf>> {
    STAGED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every file this process has staged and not committed, and keeps any other from being
/// staged or committed until the process exits: what an interrupted run does last. A commit in
/// progress finishes first (it holds the same lock), so the folder is the old state or the new.
/// Returns how many files were removed.
pub fn abandon() -> usize {
    let staged = staged_files();
    let removed = staged.iter().filter(|path| fs::remove_file(path).is_ok()).count();
    // Held until exit: nothing more is staged or renamed into place.
    std::mem::forget(staged);
    removed
}

/// A file written under a temporary name beside its destination, waiting for [`commit`].
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    dest: PathBuf,
    /// The folder `relative` is below (where the commit's journal goes).
    base: PathBuf,
    relative: String,
    committed: bool,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
        staged_files().remove(&self.temp);
    }
}

/// Writes `bytes` with `mode` under a temporary name next to `dir/relative`. The folders below
/// `dir` are created as needed and must be real folders: a symlink or a file there (left by
/// someone else) is refused, so nothing is ever written outside the lambda dir; so is a folder
/// that is immutable or append-only, where a staged file could never be removed.
pub fn stage(dir: &Path, relative: &str, bytes: &[u8], mode: u32) -> anyhow::Result<Staged> {
    let dest = dir.join(relative);
    let parent = real_folders(dir, relative)?;
    if let Err(why) = changeable(dir, relative) {
        bail!("{why}; nothing was written");
    }
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}{}", transaction::MARK))
        .suffix(".tmp")
        .tempfile_in(&parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    let (mut file, temp) = temp
        .keep()
        .map_err(|e| e.error)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    staged_files().insert(temp.clone());
    let staged = Staged {
        temp,
        dest,
        base: dir.to_path_buf(),
        relative: relative.to_owned(),
        committed: false,
    };
    file.write_all(bytes)
        .with_context(|| format!("writing {}", staged.temp.display()))?;
    fs::set_permissions(&staged.temp, fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", staged.temp.display()))?;
    Ok(staged)
}

/// Makes every staged file visible, in order (put the records last), all or none
/// ([`transaction`]); an interrupt waits until it is done.
pub fn commit(mut staged: Vec<Staged>) -> anyhow::Result<()> {
    let result = {
        let _no_interrupt = staged_files();
        transaction::commit(&mut staged)
    };
    drop(staged);
    result
}

/// `chattr` attributes that stop a file from being replaced or a folder from losing a name.
const IMMUTABLE: libc::c_int = 0x10;
const APPEND_ONLY: libc::c_int = 0x20;
/// `FS_IOC_GETFLAGS` (`_IOR('f', 1, long)`), which libc does not export.
const GET_FLAGS: u64 = 0x8008_6601;

/// Why `dir/relative` cannot be replaced by a rename, when an attribute says so: the file itself
/// or a folder from `dir` down to it is immutable (`chattr +i`) or append-only (`chattr +a`).
/// Checked before anything is compiled and again before anything is staged, so such a folder
/// gets nothing written into it rather than half a run.
pub fn changeable(dir: &Path, relative: &str) -> Result<(), String> {
    let mut path = dir.to_path_buf();
    let mut paths = vec![path.clone()];
    for part in relative.split('/') {
        path.push(part);
        paths.push(path.clone());
    }
    for path in paths {
        let Some(flags) = attributes(&path) else { continue };
        let why = match flags {
            f if f & IMMUTABLE != 0 => "immutable (chattr +i)",
            f if f & APPEND_ONLY != 0 => "append-only (chattr +a)",
            _ => continue,
        };
        return Err(format!(
            "{} is {why}, so lambda-build cannot replace its files there all at once; accepted: a lambda dir whose files and folders it may replace (chattr -i / -a), or another --lambda-dir",
            path.display()
        ));
    }
    Ok(())
}

/// The inode flags of what `path` names (not following a symlink), if it can say.
fn attributes(path: &Path) -> Option<libc::c_int> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    let mut flags: libc::c_int = 0;
    // SAFETY: the fd is open for the call; FS_IOC_GETFLAGS writes one int into `flags`.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&file),
            GET_FLAGS as _,
            &mut flags as *mut libc::c_int,
        )
    };
    (rc == 0).then_some(flags)
}

/// What lies at `dir/relative`, as a writer (or a careful reader) there would meet it.
#[derive(Debug)]
pub enum Place {
    /// This component of the path does not exist (every one before it is a real folder).
    Missing(PathBuf),
    /// Every component above the last is a real folder; what the path itself holds.
    Found(fs::Metadata),
    /// A component above the last is not a real folder (a file, or a symlink even to a folder):
    /// its path and metadata.
    Blocked(PathBuf, fs::Metadata),
}

/// Walks `relative` (`/`-separated) below `dir` component by component without following
/// symlinks, so a caller checks that nothing in the way leads elsewhere. An error names the
/// component that could not be inspected.
pub fn place(dir: &Path, relative: &str) -> Result<Place, (PathBuf, std::io::Error)> {
    let mut path = dir.to_path_buf();
    let mut parts = relative.split('/').peekable();
    while let Some(part) = parts.next() {
        path.push(part);
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Place::Missing(path)),
            Err(err) => return Err((path, err)),
        };
        if parts.peek().is_none() {
            return Ok(Place::Found(meta));
        }
        if !meta.is_dir() {
            return Ok(Place::Blocked(path, meta));
        }
    }
    Ok(Place::Missing(path))
}

/// Creates the folders of `relative` below `dir`, refusing anything that is not a real folder,
/// and returns the innermost one. `relative` must be a plain relative path.
fn real_folders(dir: &Path, relative: &str) -> anyhow::Result<PathBuf> {
    let path = plain(relative).map_err(|()| {
        anyhow::anyhow!(
            "refusing to write {relative:?} into {}: not a plain relative path",
            dir.display()
        )
    })?;
    let mut folder = dir.to_path_buf();
    let parts: Vec<Component<'_>> = path.components().collect();
    for part in &parts[..parts.len() - 1] {
        folder.push(part);
        match fs::symlink_metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            Ok(meta) => bail!(
                "{} is {}, not a folder lambda-build wrote; remove it or use another --lambda-dir",
                folder.display(),
                crate::files::kind_of(&meta.file_type())
            ),
            Err(_) => {
                fs::create_dir(&folder).with_context(|| format!("creating {}", folder.display()))?;
            }
        }
    }
    Ok(folder)
}

/// Creates the folder `relative` (`/`-separated) below `dir` as real folders only, as [`stage`]
/// does for a file's folders, and returns it.
pub fn folders(dir: &Path, relative: &str) -> anyhow::Result<PathBuf> {
    real_folders(dir, &format!("{relative}/file"))
}

/// `relative` as a path when it is plain: not empty, only normal components.
fn plain(relative: &str) -> Result<&Path, ()> {
    let path = Path::new(relative);
    match !relative.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_))) {
        true => Ok(path),
        false => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_appear_only_on_commit_and_vanish_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let kept = stage(dir.path(), "fn/bootstrap", b"one", 0o755).unwrap();
        let dropped = stage(dir.path(), "other/bootstrap.zip", b"two", 0o644).unwrap();
        assert!(!dir.path().join("fn/bootstrap").exists());
        drop(dropped);
        commit(vec![kept]).unwrap();
        assert_eq!(fs::read(dir.path().join("fn/bootstrap")).unwrap(), b"one");
        let mode = fs::metadata(dir.path().join("fn/bootstrap"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(fs::read_dir(dir.path().join("other")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.path().join("fn")).unwrap().count(), 1);
    }

    #[test]
    fn symlinked_folders_and_odd_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("fn")).unwrap();
        let err = stage(dir.path(), "fn/bootstrap", b"x", 0o755).unwrap_err();
        assert!(err.to_string().contains("a symlink"), "{err}");
        for odd in ["../x", "/abs", "", "a/../../b"] {
            assert!(stage(dir.path(), odd, b"x", 0o644).is_err(), "{odd}");
        }
        assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    fn quiet(timeout: u64) -> Wait<'static> {
        Wait {
            timeout: Duration::from_secs(timeout),
            setting: "test".into(),
            note: &|_| {},
        }
    }

    #[test]
    fn a_second_lock_waits_for_the_first_and_gives_up_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), &quiet(1)).unwrap();
        let notes = Mutex::new(Vec::new());
        let note = |line: &str| notes.lock().unwrap().push(line.to_owned());
        let wait = Wait {
            timeout: Duration::from_secs(1),
            setting: "test".into(),
            note: &note,
        };
        let err = lock(dir.path(), &wait).unwrap_err().to_string();
        let pid = format!("held by pid {}", std::process::id());
        assert!(err.contains("gave up waiting") && err.contains(&pid), "{err}");
        assert!(notes.lock().unwrap()[0].contains(&pid), "{:?}", notes.lock().unwrap());
        drop(first);
        lock(dir.path(), &quiet(1)).unwrap();
    }

    fn chattr(flag: &str, path: &Path) -> bool {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(path)
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn an_immutable_file_stops_the_commit_before_anything_changes() {
        let dir = tempfile::tempdir().unwrap();
        commit(vec![
            stage(dir.path(), "fn/bootstrap.zip", b"old zip", 0o644).unwrap(),
            stage(dir.path(), "SHA256SUMS", b"old sums", 0o644).unwrap(),
        ])
        .unwrap();
        let staged = vec![
            stage(dir.path(), "fn/bootstrap.zip", b"new zip", 0o644).unwrap(),
            stage(dir.path(), "SHA256SUMS", b"new sums", 0o644).unwrap(),
        ];
        let sums = dir.path().join("SHA256SUMS");
        if !chattr("+i", &sums) {
            return; // not root, or a file system without attributes
        }
        assert!(changeable(dir.path(), "SHA256SUMS").unwrap_err().contains("immutable"));
        let err = commit(staged).unwrap_err();
        chattr("-i", &sums);
        assert!(format!("{err:#}").contains("nothing was changed"), "{err:#}");
        assert_eq!(fs::read(dir.path().join("fn/bootstrap.zip")).unwrap(), b"old zip");
        assert_eq!(fs::read(&sums).unwrap(), b"old sums");
        assert_eq!(recover(dir.path()).unwrap(), (0, 0), "nothing was left behind");
    }

    #[test]
    fn a_rename_refused_halfway_puts_back_what_was_already_renamed() {
        let dir = tempfile::tempdir().unwrap();
        commit(vec![
            stage(dir.path(), "a/bootstrap.zip", b"old a", 0o644).unwrap(),
            stage(dir.path(), "b/bootstrap.zip", b"old b", 0o644).unwrap(),
        ])
        .unwrap();
        let staged = vec![
            stage(dir.path(), "a/bootstrap.zip", b"new a", 0o644).unwrap(),
            stage(dir.path(), "b/bootstrap.zip", b"new b", 0o644).unwrap(),
        ];
        // Append-only after staging: the backup link is allowed, the rename out of it is not.
        let b = dir.path().join("b");
        if !chattr("+a", &b) {
            return;
        }
        let err = commit(staged);
        chattr("-a", &b);
        let err = err.unwrap_err();
        assert!(format!("{err:#}").contains("put back as it was"), "{err:#}");
        assert_eq!(fs::read(dir.path().join("a/bootstrap.zip")).unwrap(), b"old a");
        assert_eq!(fs::read(dir.path().join("b/bootstrap.zip")).unwrap(), b"old b");
        recover(dir.path()).unwrap();
        assert_eq!(
            fs::read_dir(&b).unwrap().count(),
            1,
            "strays are cleaned up once allowed"
        );
    }

    #[test]
    fn a_commit_killed_before_its_switch_is_rolled_back_by_the_next_lock() {
        let dir = tempfile::tempdir().unwrap();
        commit(vec![stage(dir.path(), "fn/bootstrap.zip", b"old", 0o644).unwrap()]).unwrap();
        // What a SIGKILL after the first rename leaves: the journal, a backup, the new file.
        let zip = dir.path().join("fn/bootstrap.zip");
        let backup = ".bootstrap.zip.lambda-build-old-1.tmp";
        fs::hard_link(&zip, dir.path().join("fn").join(backup)).unwrap();
        fs::write(dir.path().join("fn/.bootstrap.zip.lambda-build-x.tmp"), b"new").unwrap();
        fs::rename(dir.path().join("fn/.bootstrap.zip.lambda-build-x.tmp"), &zip).unwrap();
        fs::write(dir.path().join("fn/new.zip"), b"new").unwrap();
        fs::write(dir.path().join("fn/.new.zip.lambda-build-y.tmp"), b"partial").unwrap();
        let journal = format!(
            r#"{{"entries":[{{"path":"fn/bootstrap.zip","backup":"{backup}"}},{{"path":"fn/new.zip","backup":null}},{{"path":"../outside","backup":null}}]}}"#
        );
        fs::write(dir.path().join(JOURNAL), journal).unwrap();
        let locked = lock(dir.path(), &quiet(1)).unwrap();
        drop(locked);
        assert_eq!(fs::read(&zip).unwrap(), b"old");
        let mut left: Vec<String> = fs::read_dir(dir.path().join("fn"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["bootstrap.zip"]);
        assert!(!dir.path().join(JOURNAL).exists());
    }
}
