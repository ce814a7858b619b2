//! Reading a file of an untrusted shard: only a regular file inside the shard, through real
//! folders, without following a symlink, without blocking on a FIFO or device, and no more bytes
//! than the record promises.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::files::{self, Links};
use crate::lambda_dir::{self, Place};

/// Reads `relative` (a path [`super::rules::check_path`] accepted) inside `root`, refusing a
/// symlink or a non-folder at any component; at most `limit` bytes, or it is refused as larger.
/// The error is the rule the file breaks.
pub fn read_inside(root: &Path, relative: &str, limit: u64) -> Result<Vec<u8>, String> {
    let (path, listed) = walk(root, relative)?;
    // Not following a symlink at the last component (one swapped in after the walk), and not
    // blocking on a FIFO swapped in (it would wait for a writer forever).
    let (file, opened) = files::open_regular(&path, Links::Refuse).map_err(|e| format!("{relative} {e}"))?;
    if (opened.dev(), opened.ino()) != (listed.dev(), listed.ino()) {
        return Err(format!("{relative} changed while it was being opened"));
    }
    files::read_open(file, opened.len(), limit).map_err(|e| format!("{relative} {e}"))
}

/// Checks every component without following symlinks: folders up to the last, a regular file
/// there. Returns the full path and the file's metadata, to compare with what is opened.
fn walk(root: &Path, relative: &str) -> Result<(PathBuf, Metadata), String> {
    let shown = |path: &Path| path.strip_prefix(root).unwrap_or(path).display().to_string();
    let symlink = |path: &Path| {
        format!(
            "{} is a symlink (only regular files and folders inside the shard are read)",
            shown(path)
        )
    };
    let path = root.join(relative);
    match lambda_dir::place(root, relative) {
        Ok(Place::Missing(missing)) => Err(format!("{} does not exist", shown(&missing))),
        Ok(Place::Blocked(blocked, metadata)) if metadata.file_type().is_symlink() => Err(symlink(&blocked)),
        Ok(Place::Blocked(blocked, _)) => Err(format!("{} is not a folder", shown(&blocked))),
        Ok(Place::Found(metadata)) if metadata.file_type().is_symlink() => Err(symlink(&path)),
        Ok(Place::Found(metadata)) if !metadata.is_file() => Err(format!(
            "{} is not a regular file (a folder, FIFO, socket or device)",
            shown(&path)
        )),
        Ok(Place::Found(metadata)) => Ok((path, metadata)),
        Err((unreadable, e)) => Err(format!("{} cannot be inspected: {e}", shown(&unreadable))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_through_real_folders_within_the_limit() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("shard");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/file"), b"12345").unwrap();
        std::fs::write(t.path().join("outside"), b"secret").unwrap();
        std::os::unix::fs::symlink(t.path(), root.join("link")).unwrap();
        std::os::unix::fs::symlink(t.path().join("outside"), root.join("a/flink")).unwrap();
        let fifo = std::ffi::CString::new(root.join("a/fifo").to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);

        assert_eq!(read_inside(&root, "a/file", 5).unwrap(), b"12345");
        for (path, limit, rule) in [
            ("a/file", 4, "larger than 4 bytes"),
            ("link/outside", 100, "link is a symlink"),
            ("a/flink", 100, "a/flink is a symlink"),
            ("a/fifo", 100, "not a regular file"),
            ("a", 100, "not a regular file"),
            ("a/file/x", 100, "a/file is not a folder"),
            ("a/missing", 100, "does not exist"),
        ] {
            let err = read_inside(&root, path, limit).unwrap_err();
            assert!(err.contains(rule), "{path}: {err}");
        }
    }
}
