//! Reading files lambda-build did not write (includes, an earlier run's records, shards, and
//! every file a setting names: env files, `--global`/`CargoLambda.toml`, smoke events) as
//! hostile input: opening never blocks (a FIFO or device is refused, not waited on), the file
//! must be a regular file once open, and no more than a bound is ever read into memory, so a
//! 20 GiB sparse file, `/dev/zero` or a file that grows while it is read cannot exhaust the
//! machine. [`read_named`] is the one reader for files settings name.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why a file could not be read as a regular file of bounded size.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It is not a regular file (a FIFO, socket, device, folder, or a symlink when not followed).
    #[error("is not a regular file ({0})")]
    NotRegular(&'static str),
    /// It holds more bytes than the caller allows.
    #[error("is larger than {limit} bytes")]
    TooLarge {
        /// The bound.
        limit: u64,
    },
    /// The operating system refused.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Whether a symlink as the last path component is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Follow it (the caller has checked where it leads).
    Follow,
    /// Refuse it.
    Refuse,
}

/// Opens `path` for reading without blocking and checks that it is a regular file; returns the
/// open file's own metadata (what was opened, whatever the path holds by now).
pub fn open_regular(path: &Path, links: Links) -> Result<(File, Metadata), ReadError> {
    let mut flags = libc::O_NONBLOCK;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|err| match err.raw_os_error() {
            Some(libc::ELOOP) => ReadError::NotRegular("a symlink"),
            Some(libc::ENXIO) => ReadError::NotRegular("a socket or FIFO"),
            _ => ReadError::Io(err),
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_of(&meta.file_type())));
    }
    Ok((file, meta))
}

/// Reads a whole regular file of at most `limit` bytes (checked while reading, so a file that
/// grows after it was measured is refused too).
pub fn read_regular(path: &Path, links: Links, limit: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular(path, links)?;
    read_open(file, meta.len(), limit)
}

/// Where a file a setting names may be.
#[derive(Clone, Copy, Debug)]
pub enum Bound<'a> {
    /// Anywhere: the user named it on the command line or in the job's environment.
    Anywhere,
    /// Inside this folder (the workspace), symlinks included: the repository named it (metadata,
    /// `CargoLambda.toml`), and a repository must not reach files outside itself, as includes
    /// may not.
    Inside(&'a Path),
}

/// Reads the file a setting names, as includes are read: it must be (or, a symlink, lead to) a
/// regular file within `bound`, of at most `limit` bytes; opening never blocks. The error is the
/// rest of a sentence about the file (`is a FIFO, not a regular file`), never its contents.
/// Every file a setting names is read through here, checked before anything compiles.
pub fn read_named(path: &Path, bound: Bound<'_>, limit: u64) -> Result<Vec<u8>, String> {
    if let Bound::Inside(root) = bound {
        let real = std::fs::canonicalize(path).map_err(|e| format!("cannot be read: {e}"))?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if !real.starts_with(&root) {
            return Err(format!(
                "is outside the workspace {} (it is {}); a repository's settings may name only files inside it",
                root.display(),
                real.display()
            ));
        }
    }
    read_regular(path, Links::Follow, limit).map_err(|err| match err {
        ReadError::NotRegular(kind) => format!("is {kind}, not a regular file"),
        ReadError::TooLarge { limit } => format!("is larger than {limit} bytes"),
        ReadError::Io(err) => format!("cannot be read: {err}"),
    })
}

/// Reads an open file of `len` bytes (as measured) to its end, refusing more than `limit`.
pub fn read_open(file: File, len: u64, limit: u64) -> Result<Vec<u8>, ReadError> {
    if len > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Where a JSON document failed to parse and what kind of failure it was, never its text: the
/// document is input lambda-build did not write, and serde's messages quote values
/// (`invalid type: string "…"`), which could be anything, a planted secret included.
pub fn json_error(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Syntax => "not JSON",
        Category::Eof => "the JSON ends early",
        Category::Data => "a missing field or a value of the wrong type",
        Category::Io => "unreadable",
    };
    format!("{what} at line {}, column {}", err.line(), err.column())
}

/// A file type in words, for errors.
pub fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symlink"
    } else if file_type.is_fifo() {
        "a FIFO"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "an unknown kind of file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_symlinks_and_large_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(status.success());
        assert!(matches!(
            read_regular(&fifo, Links::Follow, 10),
            Err(ReadError::NotRegular("a FIFO"))
        ));
        let file = dir.path().join("file");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(read_regular(&file, Links::Refuse, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_regular(&file, Links::Refuse, 9),
            Err(ReadError::TooLarge { limit: 9 })
        ));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(
            read_regular(&link, Links::Refuse, 10),
            Err(ReadError::NotRegular("a symlink"))
        ));
        assert_eq!(read_regular(&link, Links::Follow, 10).unwrap().len(), 10);
        assert!(matches!(
            read_regular(dir.path(), Links::Follow, 10),
            Err(ReadError::NotRegular("a folder"))
        ));
    }

    #[test]
    fn a_named_file_from_the_repository_stays_inside_it_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("ws");
        std::fs::create_dir(&inside).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", inside.join("env")).unwrap();
        let err = read_named(&inside.join("env"), Bound::Inside(&inside), 1 << 20).unwrap_err();
        assert!(err.starts_with("is outside the workspace"), "{err}");
        assert!(read_named(&inside.join("env"), Bound::Anywhere, 1 << 20).is_ok());
        let err = read_named(Path::new("/dev/zero"), Bound::Anywhere, 10).unwrap_err();
        assert_eq!(err, "is a device, not a regular file");
        let err = read_named(&inside, Bound::Anywhere, 10).unwrap_err();
        assert_eq!(err, "is a folder, not a regular file");
    }
}
