//! Reading a file of an untrusted shard: only a regular file inside the shard, through real
//! folders, without following a symlink, without blocking on a FIFO or device, and no more bytes
//! than the record promises.

use std::fs::Metadata;
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::files::{self, Links};

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

/// Checks every component with `symlink_metadata`: folders up to the last, a regular file there.
/// Returns the full path and the file's metadata, to compare with what is opened.
fn walk(root: &Path, relative: &str) -> Result<(PathBuf, Metadata), String> {
    let mut path = root.to_path_buf();
    let mut components = relative.split('/').peekable();
    while let Some(component) = components.next() {
        path.push(component);
        let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
        let metadata = std::fs::symlink_metadata(&path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => format!("{shown} does not exist"),
            _ => format!("{shown} cannot be inspected: {e}"),
        })?;
        let last = components.peek().is_none();
        if metadata.file_type().is_symlink() {
            return Err(format!(
                "{shown} is a symlink (only regular files and folders inside the shard are read)"
            ));
        }
        if last {
            if !metadata.is_file() {
                return Err(format!(
                    "{shown} is not a regular file (a folder, FIFO, socket or device)"
                ));
            }
            return Ok((path, metadata));
        }
        if !metadata.is_dir() {
            return Err(format!("{shown} is not a folder"));
        }
    }
    Err("the path is empty".into())
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
