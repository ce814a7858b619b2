//! Unpacking a Zig release tarball (`.tar.xz` with one top-level folder) into a folder.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

/// Unpacks `bytes` (an xz-compressed tar) into `dest`, dropping the top-level folder every
/// entry sits in. Entries that would land outside `dest` are refused, links included.
pub fn unpack_tar_xz(bytes: &[u8], dest: &Path) -> anyhow::Result<()> {
    let xz = lzma_rust2::XzReader::new(bytes, true);
    unpack_tar(xz, dest)
}

fn unpack_tar(reader: impl Read, dest: &Path) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    let mut count = 0usize;
    for entry in archive.entries().context("reading the tarball")? {
        let mut entry = entry.context("reading the tarball")?;
        let path = entry.path().context("reading an entry's path")?.into_owned();
        let Some(relative) = strip_top(&path)? else {
            continue;
        };
        if let Some(target) = entry.link_name().context("reading a link")? {
            let escapes = target.is_absolute() || !inside(&relative.parent().unwrap_or(Path::new("")).join(&target));
            if escapes {
                bail!("the tarball's link {} points outside the install", path.display());
            }
        }
        let out = dest.join(&relative);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        entry
            .unpack(&out)
            .with_context(|| format!("unpacking {}", path.display()))?;
        count += 1;
    }
    if count == 0 {
        bail!("the tarball is empty");
    }
    Ok(())
}

/// The path without its first component; `None` for the top-level folder itself.
fn strip_top(path: &Path) -> anyhow::Result<Option<PathBuf>> {
    let rest: PathBuf = path.components().skip(1).collect();
    if rest.as_os_str().is_empty() {
        return Ok(None);
    }
    if !inside(&rest) {
        bail!("the tarball's entry {} would land outside the install", path.display());
    }
    Ok(Some(rest))
}

/// Whether a relative path stays below its base (`..` never climbs above it).
fn inside(path: &Path) -> bool {
    let mut depth = 0i32;
    for component in path.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data, mode) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(*mode);
            header.set_entry_type(tar::EntryType::Regular);
            // append_data refuses `..`; write the name raw so hostile archives can be tested.
            header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn the_top_folder_is_dropped_and_modes_kept() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_of(&[
            ("zig-1/zig", b"#!/bin/sh\n", 0o755),
            ("zig-1/lib/std.zig", b"std", 0o644),
        ]);
        unpack_tar(&tar[..], dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join("lib/std.zig")).unwrap(), b"std");
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.path().join("zig")).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o755);
    }

    #[test]
    fn entries_climbing_out_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_of(&[("zig-1/../../evil", b"x", 0o644)]);
        let err = unpack_tar(&tar[..], &dir.path().join("in")).unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        assert!(!dir.path().join("evil").exists());
    }

    #[test]
    fn an_empty_tarball_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let tar = tar_of(&[]);
        assert!(unpack_tar(&tar[..], dir.path()).is_err());
    }

    #[test]
    fn inside_stays_below_the_base() {
        assert!(inside(Path::new("a/../b")));
        assert!(!inside(Path::new("a/../../b")));
        assert!(!inside(Path::new("/etc")));
    }
}
