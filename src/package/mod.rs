//! Packaging: each built binary copied and/or zipped into the lambda dir. Every file is written
//! under a temporary name and renamed into place, so a reader never sees half a file and a
//! failure leaves what was there before.

pub mod zip;

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::compile::Built;
use crate::config::{Include, OutputFormat};
use crate::discover::Kind;
use crate::plan::{Artifact, Plan};
use zip::{Entry, Stamp};

/// One file written to the lambda dir.
#[derive(Clone, Debug)]
pub struct Packaged {
    /// Index into [`Plan::artifacts`].
    pub artifact: usize,
    /// Binary or zip.
    pub format: OutputFormat,
    /// Path relative to the lambda dir.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the file.
    pub sha256: [u8; 32],
    /// Size once unzipped (for a binary: its size).
    pub unzipped_size: u64,
}

/// Writes `bytes` to `path` atomically with `mode`: a temporary file in the same folder, then a
/// rename, so `path` holds either the old or the new contents, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().context("an output path has no folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(mode))?;
    tmp.persist(path)
        .with_context(|| format!("renaming into {}", path.display()))?;
    Ok(())
}

/// Packages every artifact of the plan from the binaries cargo reported, in parallel.
pub fn package(
    plan: &Plan,
    built: &Built,
    stamp: Stamp,
    on_done: &(dyn Fn(&Packaged) + Sync),
) -> anyhow::Result<Vec<Packaged>> {
    let results: Vec<anyhow::Result<Vec<Packaged>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .artifacts
            .iter()
            .enumerate()
            .map(|(index, artifact)| {
                scope.spawn(move || {
                    let outputs = package_one(plan, index, artifact, built, stamp)?;
                    outputs.iter().for_each(on_done);
                    Ok(outputs)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a packaging thread panicked")))
            })
            .collect()
    });
    let mut packaged = Vec::new();
    for result in results {
        packaged.extend(result?);
    }
    Ok(packaged)
}

fn package_one(
    plan: &Plan,
    index: usize,
    artifact: &Artifact,
    built: &Built,
    stamp: Stamp,
) -> anyhow::Result<Vec<Packaged>> {
    let key = (
        artifact.package_id.clone(),
        artifact.name.clone(),
        artifact.target.triple(),
    );
    let source = built.get(&key).with_context(|| {
        format!(
            "cargo did not report building {} for {} (expected at {}); nothing stale is packaged",
            artifact.name,
            artifact.target,
            artifact.binary.display()
        )
    })?;
    let binary = fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let mut packaged = Vec::new();
    for output in &artifact.outputs {
        let path = plan.lambda_dir.join(&output.path);
        let (bytes, unzipped_size) = match output.format {
            OutputFormat::Binary => (None, binary.len() as u64),
            OutputFormat::Zip => {
                let entries = zip_entries(artifact, &binary)?;
                let unzipped = entries.iter().map(|e| e.data.len() as u64).sum();
                (
                    Some(zip::write(entries, stamp).with_context(|| format!("zipping {}", output.path))?),
                    unzipped,
                )
            }
        };
        let bytes = bytes.as_deref().unwrap_or(&binary);
        let mode = if output.format == OutputFormat::Binary {
            0o755
        } else {
            0o644
        };
        write_atomic(&path, bytes, mode)?;
        packaged.push(Packaged {
            artifact: index,
            format: output.format,
            path: output.path.clone(),
            size: bytes.len() as u64,
            sha256: Sha256::digest(bytes).into(),
            unzipped_size,
        });
    }
    Ok(packaged)
}

/// A function zip holds `bootstrap`; an extension zip `extensions/<name>`; both hold the includes.
fn zip_entries(artifact: &Artifact, binary: &[u8]) -> anyhow::Result<Vec<Entry>> {
    let name = match artifact.kind {
        Kind::Function => "bootstrap".to_owned(),
        Kind::Extension => format!("extensions/{}", artifact.name),
    };
    let mut entries = vec![Entry {
        name,
        data: binary.to_vec(),
        mode: 0o755,
    }];
    for include in &artifact.include {
        add_include(&mut entries, include)?;
    }
    Ok(entries)
}

fn add_include(entries: &mut Vec<Entry>, include: &Include) -> anyhow::Result<()> {
    let mut stack: Vec<(PathBuf, String)> = vec![(include.path.clone(), include.name.clone())];
    while let Some((path, name)) = stack.pop() {
        let meta = fs::metadata(&path).with_context(|| format!("reading --include {}", path.display()))?;
        if meta.is_dir() {
            for entry in fs::read_dir(&path).with_context(|| format!("listing {}", path.display()))? {
                let entry = entry?;
                let child = entry.file_name().to_string_lossy().into_owned();
                stack.push((entry.path(), format!("{name}/{child}")));
            }
        } else {
            let data = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o755
            } else {
                0o644
            };
            entries.push(Entry { name, data, mode });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fn/bootstrap");
        write_atomic(&path, b"one", 0o755).unwrap();
        write_atomic(&path, b"two", 0o755).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o755);
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn includes_walk_folders_and_keep_exec_bits() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("assets/sub")).unwrap();
        fs::write(dir.path().join("assets/a.txt"), "a").unwrap();
        fs::write(dir.path().join("assets/sub/run.sh"), "#!/bin/sh").unwrap();
        fs::set_permissions(dir.path().join("assets/sub/run.sh"), fs::Permissions::from_mode(0o700)).unwrap();
        let mut entries = Vec::new();
        add_include(
            &mut entries,
            &Include {
                path: dir.path().join("assets"),
                name: "assets".into(),
            },
        )
        .unwrap();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let got: Vec<_> = entries.iter().map(|e| (e.name.as_str(), e.mode)).collect();
        assert_eq!(got, [("assets/a.txt", 0o644), ("assets/sub/run.sh", 0o755)]);
    }
}
