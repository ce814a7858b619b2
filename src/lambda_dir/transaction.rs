//! Making a run's staged files visible all at once, on a file system that renames one file at a
//! time.
//!
//! [`commit`] first hard-links every file it replaces to a backup name beside it (an immutable
//! or append-only file refuses the link, so that failure comes before anything changed), then
//! writes a journal naming each destination and its backup (or that it is new), then renames
//! the staged files into place, records last, and finally removes the journal: that removal is
//! the switch. A rename that fails puts back every file already renamed; a run killed before the
//! switch (even by SIGKILL) leaves the journal, and the next run that takes the lock
//! ([`recover`]) puts every named file back as the journal says before doing anything else, so
//! the folder always ends as the old state or the new one. SIGTERM and SIGINT never interrupt a
//! commit (see [`crate::interrupt`]). The journal, backups and staged files all carry
//! lambda-build's mark in their names ([`is_stray`]), so the next run can tell its own leftovers
//! from anyone else's files and removes them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::{Place, Staged, place, plain};
use crate::files::{self, Links};

/// The journal of a commit in progress, in the folder the staged paths are relative to.
pub const JOURNAL: &str = ".lambda-build-journal";

/// What every name lambda-build stages, backs up or journals under carries.
pub const MARK: &str = ".lambda-build-";

/// The largest journal read back (one line per output).
const JOURNAL_LIMIT: u64 = 16 << 20;

/// A journal: the destinations a commit changes, each with the backup of what it replaces.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    entries: Vec<Entry>,
}

/// One destination of a commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Relative to the journal's folder.
    path: String,
    /// The file name, in the destination's folder, of the hard link to the file it replaces;
    /// `None` when there was none (the file is new).
    backup: Option<String>,
}

/// Whether a file name is one lambda-build stages or backs up under: `.<name>.lambda-build-…tmp`,
/// or the `.<name>.XXXXXX.tmp` earlier versions staged records, bootstraps and zips under.
pub fn is_stray(name: &str) -> bool {
    let Some(inner) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    if inner.contains(&MARK[1..]) {
        return true;
    }
    inner.rsplit_once('.').is_some_and(|(stem, random)| {
        let ours = ["SHA256SUMS", "manifest.json", "bootstrap"].contains(&stem) || stem.ends_with(".zip");
        ours && random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// Renames every staged file into place, in order (records last), all or none: see the module
/// documentation.
pub fn commit(staged: &mut [Staged]) -> anyhow::Result<()> {
    let mut entries = Vec::new();
    for file in staged.iter() {
        match back_up(file) {
            Ok(backup) => entries.push((file, backup)),
            Err(err) => {
                remove_backups(&entries);
                return Err(err);
            }
        }
    }
    let mut by_base: BTreeMap<&Path, Vec<Entry>> = BTreeMap::new();
    for (file, backup) in &entries {
        by_base.entry(&file.base).or_default().push(Entry {
            path: file.relative.clone(),
            backup: backup.as_ref().map(|(name, _)| name.clone()),
        });
    }
    let mut journals = Vec::new();
    for (base, list) in by_base {
        match write_journal(base, list) {
            Ok(path) => journals.push(path),
            Err(err) => {
                remove_all(&journals);
                remove_backups(&entries);
                return Err(err);
            }
        }
    }
    for (done, (file, _)) in entries.iter().enumerate() {
        if let Err(err) = fs::rename(&file.temp, &file.dest) {
            let restored = entries[..done]
                .iter()
                .rev()
                .all(|(file, backup)| put_back(&file.dest, backup.as_ref().map(|(_, path)| path.as_path())));
            if restored {
                remove_all(&journals);
                remove_backups(&entries);
            }
            let after = match restored {
                true => "every file was put back as it was",
                false => "the next run puts every file back as it was, from the journal",
            };
            return Err(anyhow::Error::new(err).context(format!("renaming into {}; {after}", file.dest.display())));
        }
    }
    remove_all(&journals);
    remove_backups(&entries);
    for file in staged.iter_mut() {
        file.committed = true;
    }
    Ok(())
}

/// Hard-links the file `staged` replaces (if any) to a marked name beside it.
fn back_up(staged: &Staged) -> anyhow::Result<Option<(String, PathBuf)>> {
    match fs::symlink_metadata(&staged.dest) {
        Ok(meta) if meta.is_file() => {}
        Ok(meta) => bail!(
            "{} is {}, where lambda-build writes a file; nothing was changed",
            staged.dest.display(),
            files::kind_of(&meta.file_type())
        ),
        Err(_) => return Ok(None),
    }
    let name = staged
        .dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let backup_name = format!(".{name}{MARK}old-{}.tmp", std::process::id());
    let backup = staged.dest.with_file_name(&backup_name);
    let _ = fs::remove_file(&backup);
    fs::hard_link(&staged.dest, &backup).with_context(|| {
        format!(
            "cannot replace {} (keeping a copy of it failed); nothing was changed",
            staged.dest.display()
        )
    })?;
    Ok(Some((backup_name, backup)))
}

/// Puts a destination back: its backup renamed over it, or (a new file) removed. Whether it worked.
fn put_back(dest: &Path, backup: Option<&Path>) -> bool {
    match backup {
        Some(backup) => fs::rename(backup, dest).is_ok(),
        None => fs::remove_file(dest).is_ok(),
    }
}

fn remove_backups(entries: &[(&Staged, Option<(String, PathBuf)>)]) {
    for (_, backup) in entries {
        if let Some((_, path)) = backup {
            let _ = fs::remove_file(path);
        }
    }
}

fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

/// Writes `base`'s journal under a staged name, then renames it into place.
fn write_journal(base: &Path, entries: Vec<Entry>) -> anyhow::Result<PathBuf> {
    let json = serde_json::to_vec(&Journal { entries }).context("serializing the journal")?;
    let temp = base.join(format!("{JOURNAL}{MARK}{}.tmp", std::process::id()));
    let path = base.join(JOURNAL);
    fs::write(&temp, json)
        .and_then(|()| fs::rename(&temp, &path))
        .with_context(|| format!("writing {}; nothing was changed", path.display()))
        .inspect_err(|_| {
            let _ = fs::remove_file(&temp);
        })?;
    Ok(path)
}

/// At the start of a run, under the lock: puts back what a commit killed before its switch
/// changed (from the journal in `base`), then removes every stray staged or backup file below
/// `base` (a few folders deep: the layout is at most `<arch>/extensions/<file>`). Returns how
/// many files were restored and removed.
pub fn recover(base: &Path) -> anyhow::Result<(usize, usize)> {
    let journal = base.join(JOURNAL);
    let mut restored = 0;
    match files::read_regular(&journal, Links::Refuse, JOURNAL_LIMIT) {
        Ok(bytes) => {
            // A journal that is not ours (not its JSON) is left alone: nothing in it is acted on.
            if let Ok(parsed) = serde_json::from_slice::<Journal>(&bytes) {
                for entry in parsed.entries.iter().rev() {
                    restored += usize::from(roll_back(base, entry));
                }
                fs::remove_file(&journal).with_context(|| format!("removing {}", journal.display()))?;
            }
        }
        Err(files::ReadError::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => bail!("{} cannot be read: {err}; remove it", journal.display()),
    }
    Ok((restored, remove_strays(base, 4)))
}

/// Puts one journal entry back, trusting nothing in it: the path must be plain and lead
/// through real folders, the backup a marked name in the same folder.
fn roll_back(base: &Path, entry: &Entry) -> bool {
    if plain(&entry.path).is_err() || !matches!(place(base, &entry.path), Ok(Place::Found(_) | Place::Missing(_))) {
        return false;
    }
    let dest = base.join(&entry.path);
    match &entry.backup {
        Some(name) if !name.contains('/') && is_stray(name) => {
            let backup = dest.with_file_name(name);
            fs::symlink_metadata(&backup).is_ok_and(|m| m.is_file()) && put_back(&dest, Some(&backup))
        }
        Some(_) => false,
        None => fs::symlink_metadata(&dest).is_ok_and(|m| m.is_file()) && put_back(&dest, None),
    }
}

/// Removes the regular files with a stray name in `dir` and its real subfolders, `depth` deep.
fn remove_strays(dir: &Path, depth: usize) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() && depth > 1 {
            removed += remove_strays(&entry.path(), depth - 1);
        } else if kind.is_file() && is_stray(&name) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_and_backup_names_are_strays_and_other_files_are_not() {
        for name in [
            ".bootstrap.zip.lambda-build-a1B2c3.tmp",
            ".SHA256SUMS.lambda-build-old-42.tmp",
            ".manifest.json.Xy12Ab.tmp",
            ".lambda-build-journal.lambda-build-7.tmp",
        ] {
            assert!(is_stray(name), "{name}");
        }
        for name in [
            "bootstrap.zip",
            ".hidden.tmp",
            "SHA256SUMS",
            ".a.toolong.tmp",
            ".notes.abcdef.tmp",
            JOURNAL,
            ".x.ab-cd!.tmp",
        ] {
            assert!(!is_stray(name), "{name}");
        }
    }
}
