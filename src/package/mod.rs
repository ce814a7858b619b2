//! Packaging: each built binary copied and/or zipped, staged in the lambda dir under temporary
//! names. Nothing is renamed into place here: the run commits every staged file together with
//! the records ([`crate::lambda_dir`]), so a failure leaves what was there before.

pub mod zip;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::compile::Built;
use crate::config::OutputFormat;
use crate::discover::Kind;
use crate::files::{self, Links, ReadError};
use crate::includes::IncludeFile;
use crate::lambda_dir::{self, Staged};
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

/// Warnings for zips over the direct-upload limit, each with how much of its binary is debug
/// info when that is what makes it large.
pub fn size_warnings(plan: &Plan, built: &Built, packaged: &[Packaged]) -> Vec<String> {
    packaged
        .iter()
        .filter(|p| p.format == OutputFormat::Zip && p.size > ZIPPED_LIMIT)
        .map(|p| {
            let hint = plan
                .artifacts
                .get(p.artifact)
                .and_then(|a| Some((a, built.get(&a.built_key())?)))
                .and_then(|(a, binary)| crate::diagnose::size::hint_for(binary, p.unzipped_size, &a.profile.name));
            format!(
                "{} is {} zipped, over Lambda's 50 MB ({ZIPPED_LIMIT} bytes) limit for a direct upload; deploy it from S3{}",
                p.path,
                human_size(p.size),
                hint.map(|h| format!("\n{h}")).unwrap_or_default()
            )
        })
        .collect()
}

/// Packages every artifact of the plan from the binaries cargo reported, in parallel.
///
/// An output whose file an earlier run made from the same inputs (`previous`, by path) and which
/// is still intact on disk is left as it is: the bytes would be identical, and a no-op rebuild
/// then costs a hash instead of a deflate, and keeps the file's mtime.
pub fn package(
    plan: &Plan,
    built: &Built,
    includes: &[Vec<IncludeFile>],
    stamp: Stamp,
    previous: &BTreeMap<String, Previous>,
    on_done: &(dyn Fn(&Packaged) + Sync),
) -> anyhow::Result<(Vec<Packaged>, Vec<Staged>)> {
    type One = anyhow::Result<(Vec<Packaged>, Vec<Staged>)>;
    let results: Vec<One> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .artifacts
            .iter()
            .enumerate()
            .map(|(index, artifact)| {
                let files = includes.get(index).map(Vec::as_slice).unwrap_or_default();
                scope.spawn(move || {
                    let (outputs, staged) = package_one(plan, index, artifact, built, files, stamp, previous)?;
                    outputs.iter().for_each(on_done);
                    Ok((outputs, staged))
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
    let (mut packaged, mut staged) = (Vec::new(), Vec::new());
    for result in results {
        let (outputs, files) = result?;
        packaged.extend(outputs);
        staged.extend(files);
    }
    Ok((packaged, staged))
}

#[allow(clippy::too_many_arguments)]
fn package_one(
    plan: &Plan,
    index: usize,
    artifact: &Artifact,
    built: &Built,
    includes: &[IncludeFile],
    stamp: Stamp,
    previous: &BTreeMap<String, Previous>,
) -> anyhow::Result<(Vec<Packaged>, Vec<Staged>)> {
    let source = built.get(&artifact.built_key()).with_context(|| {
        format!(
            "cargo did not report building {} for {} (expected at {}); nothing stale is packaged",
            artifact.name,
            artifact.target,
            artifact.binary.display()
        )
    })?;
    let binary = files::read_regular(source, Links::Follow, UNZIPPED_LIMIT).map_err(|err| match err {
        ReadError::TooLarge { limit } => {
            let size = std::fs::metadata(source).map_or(limit + 1, |m| m.len());
            over_limit(
                &artifact.name,
                size,
                crate::diagnose::size::hint_for(source, size, &artifact.profile.name),
            )
        }
        err => anyhow::Error::new(err).context(format!("reading {}", source.display())),
    })?;
    let (mut packaged, mut staged) = (Vec::new(), Vec::new());
    for output in &artifact.outputs {
        let path = plan.lambda_dir.join(&output.path);
        let entries = match output.format {
            OutputFormat::Binary => vec![Entry {
                name: String::new(),
                data: binary.clone(),
                mode: 0o755,
            }],
            OutputFormat::Zip => zip_entries(artifact, &output.path, &binary, includes)?,
        };
        let unzipped_size: u64 = entries.iter().map(|e| e.data.len() as u64).sum();
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
            && intact(&path, old, output.format, &entries, stamp)
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
        staged.push(lambda_dir::stage(&plan.lambda_dir, &output.path, &bytes, mode)?);
        packaged.push(done(bytes.len() as u64, Sha256::digest(&bytes).into(), false));
    }
    Ok((packaged, staged))
}

/// The error for an output over Lambda's unzipped limit, with `hint` (how much is debug info)
/// under it.
fn over_limit(path: &str, size: u64, hint: Option<String>) -> anyhow::Error {
    anyhow::anyhow!(
        "{path} would be {} unzipped, over Lambda's 250 MB ({UNZIPPED_LIMIT} bytes) limit for a function's code; nothing was written{}",
        human_size(size),
        hint.map(|h| format!("\n{h}")).unwrap_or_default()
    )
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
        hasher.update(format!("{} {:o} ", entry.name, entry.mode));
        hasher.update(data);
        hasher.update(b"\n");
    }
    hasher.finalize().into()
}

/// Whether the file at `path` is still exactly what an earlier run recorded (a regular file,
/// not a symlink someone put there) and holds exactly `entries`. The earlier manifest is not
/// trusted for the contents: a lambda dir is input lambda-build did not necessarily write, and a
/// forged `inputs_sha256` must not get a zip of someone else's shipped as this build's.
fn intact(path: &Path, old: &Previous, format: OutputFormat, entries: &[Entry], stamp: Stamp) -> bool {
    let Ok(bytes) = files::read_regular(path, Links::Refuse, old.size) else {
        return false;
    };
    bytes.len() as u64 == old.size
        && <[u8; 32]>::from(Sha256::digest(&bytes)) == old.sha256
        && match format {
            OutputFormat::Binary => entries.first().is_some_and(|e| e.data == bytes),
            OutputFormat::Zip => zip::holds(&bytes, entries, stamp),
        }
}

/// A function zip holds `bootstrap`; an extension zip `extensions/<name>`, or `<name>` at its
/// root for an internal extension (`--internal`, cargo-lambda's layout); all hold the includes. The sizes listed for the includes are checked against Lambda's limit before any of
/// them is read, and each is read with its listed size as a bound.
fn zip_entries(artifact: &Artifact, path: &str, binary: &[u8], includes: &[IncludeFile]) -> anyhow::Result<Vec<Entry>> {
    let total = includes
        .iter()
        .fold(binary.len() as u64, |sum, f| sum.saturating_add(f.size));
    if total > UNZIPPED_LIMIT {
        let debug = crate::diagnose::size::debug_info(binary).unwrap_or(0);
        let hint = crate::diagnose::size::hint(debug, binary.len() as u64, total, &artifact.profile.name);
        return Err(over_limit(path, total, hint));
    }
    let name = match artifact.kind {
        Kind::Function => "bootstrap".to_owned(),
        Kind::Extension if artifact.internal => artifact.name.clone(),
        Kind::Extension => format!("extensions/{}", artifact.name),
    };
    let mut entries = vec![Entry {
        name,
        data: binary.to_vec(),
        mode: 0o755,
    }];
    for file in includes {
        let data = files::read_regular(&file.path, Links::Follow, file.size).map_err(|err| match err {
            ReadError::TooLarge { .. } => anyhow::anyhow!(
                "include {} grew while it was packaged (listed at {} bytes); nothing was written",
                file.path.display(),
                file.size
            ),
            err => anyhow::Error::new(err).context(format!("reading include {}", file.path.display())),
        })?;
        entries.push(Entry {
            name: file.name.clone(),
            data,
            mode: file.mode,
        });
    }
    Ok(entries)
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
}
