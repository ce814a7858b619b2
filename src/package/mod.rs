//! Packaging: each built binary copied and/or zipped into the lambda dir. Every file is written
//! under a temporary name and renamed into place, so a reader never sees half a file and a
//! failure leaves what was there before.

pub mod zip;

use std::collections::BTreeMap;
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
use crate::progress::human_size;
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
    /// Digest of everything that went into the file ([`inputs_digest`]).
    pub inputs_sha256: [u8; 32],
    /// Whether the file from an earlier run already had these inputs and was left as it was.
    pub reused: bool,
}

/// What an earlier run wrote at a path: its inputs digest, size and SHA-256 (from its manifest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Previous {
    /// Digest of the inputs it was made from.
    pub inputs_sha256: [u8; 32],
    /// Its size.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: [u8; 32],
}

/// Lambda's limit on a function's unzipped code (250 MB), in bytes.
pub const UNZIPPED_LIMIT: u64 = 262_144_000;
/// Lambda's limit on a zip uploaded directly (50 MB); larger ones must be deployed from S3.
pub const ZIPPED_LIMIT: u64 = 52_428_800;

/// Warnings for zips over the direct-upload limit.
pub fn size_warnings(packaged: &[Packaged]) -> Vec<String> {
    packaged
        .iter()
        .filter(|p| p.format == OutputFormat::Zip && p.size > ZIPPED_LIMIT)
        .map(|p| {
            format!(
                "{} is {} zipped, over Lambda's 50 MB ({ZIPPED_LIMIT} bytes) limit for a direct upload; deploy it from S3",
                p.path,
                human_size(p.size)
            )
        })
        .collect()
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
///
/// An output whose file an earlier run made from the same inputs (`previous`, by path) and which
/// is still intact on disk is left as it is: the bytes would be identical, and a no-op rebuild
/// then costs a hash instead of a deflate, and keeps the file's mtime.
pub fn package(
    plan: &Plan,
    built: &Built,
    stamp: Stamp,
    previous: &BTreeMap<String, Previous>,
    on_done: &(dyn Fn(&Packaged) + Sync),
) -> anyhow::Result<Vec<Packaged>> {
    let results: Vec<anyhow::Result<Vec<Packaged>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .artifacts
            .iter()
            .enumerate()
            .map(|(index, artifact)| {
                scope.spawn(move || {
                    let outputs = package_one(plan, index, artifact, built, stamp, previous)?;
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
    previous: &BTreeMap<String, Previous>,
) -> anyhow::Result<Vec<Packaged>> {
    let source = built.get(&artifact.built_key()).with_context(|| {
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
        let entries = match output.format {
            OutputFormat::Binary => vec![Entry {
                name: String::new(),
                data: binary.clone(),
                mode: 0o755,
            }],
            OutputFormat::Zip => zip_entries(artifact, &binary)?,
        };
        let unzipped_size: u64 = entries.iter().map(|e| e.data.len() as u64).sum();
        if unzipped_size > UNZIPPED_LIMIT {
            anyhow::bail!(
                "{} would be {} unzipped, over Lambda's 250 MB ({UNZIPPED_LIMIT} bytes) limit for a function's code; nothing was written for it",
                output.path,
                human_size(unzipped_size)
            );
        }
        let inputs_sha256 = inputs_digest(output.format, &entries, stamp);
        let done = |size, sha256, reused| Packaged {
            artifact: index,
            format: output.format,
            path: output.path.clone(),
            size,
            sha256,
            unzipped_size,
            inputs_sha256,
            reused,
        };
        if let Some(old) = previous
            .get(&output.path)
            .filter(|old| old.inputs_sha256 == inputs_sha256)
            && intact(&path, old)
        {
            packaged.push(done(old.size, old.sha256, true));
            continue;
        }
        let (bytes, mode) = match output.format {
            // The binary's one entry holds exactly the bytes to write.
            OutputFormat::Binary => (entries.into_iter().next().map(|e| e.data).unwrap_or_default(), 0o755),
            OutputFormat::Zip => (
                zip::write(entries, stamp).with_context(|| format!("zipping {}", output.path))?,
                0o644,
            ),
        };
        write_atomic(&path, &bytes, mode)?;
        packaged.push(done(bytes.len() as u64, Sha256::digest(&bytes).into(), false));
    }
    Ok(packaged)
}

/// Digest of everything that decides an output's bytes: the tool version, the format, the zip
/// timestamp, and each entry's name, mode and contents.
pub fn inputs_digest(format: OutputFormat, entries: &[Entry], stamp: Stamp) -> [u8; 32] {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hasher = Sha256::new();
    hasher.update(concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"), "\n"));
    hasher.update(format!("{} {stamp:?}\n", format.as_str()));
    for entry in sorted {
        let data: [u8; 32] = Sha256::digest(&entry.data).into();
        hasher.update(format!(
            "{} {:o} {}\n",
            entry.name,
            entry.mode,
            crate::record::hex(&data)
        ));
    }
    hasher.finalize().into()
}

/// Whether the file at `path` is still exactly what an earlier run recorded.
fn intact(path: &Path, old: &Previous) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    if meta.len() != old.size {
        return false;
    }
    fs::read(path).is_ok_and(|bytes| <[u8; 32]>::from(Sha256::digest(&bytes)) == old.sha256)
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
    fn the_inputs_digest_covers_names_modes_contents_format_and_time() {
        let entry = |name: &str, data: &[u8], mode| Entry {
            name: name.into(),
            data: data.to_vec(),
            mode,
        };
        let base = [entry("bootstrap", b"elf", 0o755), entry("static/a.json", b"{}", 0o644)];
        let digest = |entries: &[Entry], format, stamp| inputs_digest(format, entries, stamp);
        let reference = digest(&base, OutputFormat::Zip, Stamp::EPOCH);
        let reordered = [base[1].clone(), base[0].clone()];
        assert_eq!(digest(&reordered, OutputFormat::Zip, Stamp::EPOCH), reference);
        let changes = [
            [entry("bootstrap", b"elf2", 0o755), base[1].clone()],
            [entry("bootstrap", b"elf", 0o644), base[1].clone()],
            [entry("bootstrap", b"elf", 0o755), entry("static/b.json", b"{}", 0o644)],
        ];
        for changed in changes {
            assert_ne!(digest(&changed, OutputFormat::Zip, Stamp::EPOCH), reference);
        }
        assert_ne!(digest(&base, OutputFormat::Binary, Stamp::EPOCH), reference);
        assert_ne!(
            digest(&base, OutputFormat::Zip, Stamp::from_unix(86_400 * 365 * 40)),
            reference
        );
    }

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
