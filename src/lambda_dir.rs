//! The lambda dir as a run changes it: one writer at a time, and all of a run's files or none.
//!
//! Two runs sharing a lambda dir (two CI steps, two packages built side by side) would otherwise
//! interleave their zips and records, so a writer holds an advisory lock (`flock`) on the folder
//! itself while it stages and commits; a second run waits for it. Locking the folder, not a lock
//! file in it, leaves nothing behind that tools reading the folder (SAM, CDK) would pick up. Every file
//! is first written under a temporary name next to its destination ([`stage`]); only when the
//! whole run's outputs are staged are they renamed into place, records last ([`commit`]), so a
//! failure at any earlier step leaves the folder exactly as it was, and records never describe
//! files that are not there.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

/// A lambda dir this process holds the lock of; the lock is released when it is dropped.
#[derive(Debug)]
pub struct Locked {
    dir: PathBuf,
    _lock: File,
}

impl Locked {
    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

/// Creates `dir` if needed and takes its lock, calling `on_wait` once first when another run
/// holds it (the caller says so; the wait itself is unbounded, as a build sharing the folder
/// finishes in its own time).
pub fn lock(dir: &Path, on_wait: impl FnOnce()) -> anyhow::Result<Locked> {
    fs::create_dir_all(dir).with_context(|| format!("creating the lambda dir {}", dir.display()))?;
    let file = File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            on_wait();
            file.lock().with_context(|| format!("locking {}", dir.display()))?;
        }
        Err(fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("locking {}", dir.display()));
        }
    }
    Ok(Locked {
        dir: dir.to_path_buf(),
        _lock: file,
    })
}

/// Takes the lock of a lambda dir that exists, creating nothing: for reading the folder
/// consistently before a build (a folder that does not exist has no writer).
pub fn lock_existing(dir: &Path) -> anyhow::Result<Option<File>> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let file = File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    file.lock().with_context(|| format!("locking {}", dir.display()))?;
    Ok(Some(file))
}

/// A file written under a temporary name beside its destination, waiting for [`commit`].
/// Dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct Staged {
    temp: tempfile::TempPath,
    dest: PathBuf,
}

/// Writes `bytes` with `mode` under a temporary name next to `dir/relative`. The folders below
/// `dir` are created as needed and must be real folders: a symlink or a file there (left by
/// someone else) is refused, so nothing is ever written outside the lambda dir.
pub fn stage(dir: &Path, relative: &str, bytes: &[u8], mode: u32) -> anyhow::Result<Staged> {
    let dest = dir.join(relative);
    let parent = real_folders(dir, relative)?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&parent)
        .with_context(|| format!("creating a temporary file in {}", parent.display()))?;
    temp.write_all(bytes)
        .with_context(|| format!("writing {}", temp.path().display()))?;
    fs::set_permissions(temp.path(), fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", temp.path().display()))?;
    Ok(Staged {
        temp: temp.into_temp_path(),
        dest,
    })
}

/// Renames every staged file into place, in order (put the records last).
pub fn commit(staged: Vec<Staged>) -> anyhow::Result<()> {
    for file in staged {
        let dest = file.dest;
        file.temp
            .persist(&dest)
            .with_context(|| format!("renaming into {}", dest.display()))?;
    }
    Ok(())
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
    let path = Path::new(relative);
    let plain = !relative.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        bail!(
            "refusing to write {relative:?} into {}: not a plain relative path",
            dir.display()
        );
    }
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

    #[test]
    fn a_second_lock_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), || panic!("nobody holds it yet")).unwrap();
        let waited = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let second = s.spawn(|| lock(dir.path(), || waited.store(true, std::sync::atomic::Ordering::SeqCst)));
            while !waited.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::yield_now();
            }
            drop(first);
            second.join().unwrap().unwrap();
        });
    }
}
