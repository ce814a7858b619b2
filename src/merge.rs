//! `lambda-build merge DIR... --out DIR`: joins the lambda dirs of a sharded build (`--shard K/N`
//! in several CI jobs) into one set with one `SHA256SUMS` and one `manifest.json`.
//!
//! Every file is checked against its shard's manifest and `SHA256SUMS` before anything is
//! written, and the same path with different contents in two shards is refused, so a tampered
//! or mixed-up shard never makes it into the merged set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use sha2::{Digest, Sha256};

use crate::ci;
use crate::cli::EnvVars;
use crate::error::{Error, Result};
use crate::lambda_dir;
use crate::record::{self, CHECKSUMS, MANIFEST, Manifest, Record};

/// One artifact to copy, with where it came from.
struct Source {
    record: Record,
    dir: PathBuf,
    bytes: Vec<u8>,
}

/// `lambda-build merge`: merges, prints what it wrote, and reports to GitHub Actions.
pub fn run(dirs: &[PathBuf], out: &Path, env: &EnvVars) -> Result<Manifest> {
    let cwd = std::env::current_dir().map_err(|e| Error::Failed(e.into()))?;
    let actions = ci::Actions::start(env, &cwd);
    let manifest = merge(dirs, out)?;
    crate::output::line(format_args!(
        "lambda-build: Merged: {} artifacts from {} lambda dirs into {}",
        manifest.artifacts.len(),
        dirs.len(),
        out.display()
    ));
    crate::output::text_to_stderr(&manifest.listing());
    if let Some(actions) = &actions {
        actions.report(out, &record::Records::in_lambda_dir(out), &manifest, &[], &[])?;
    }
    Ok(manifest)
}

/// Merges the lambda dirs into `out` and returns the merged manifest.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Manifest> {
    let mut merged: BTreeMap<String, Source> = BTreeMap::new();
    for dir in dirs {
        for source in read_shard(dir)? {
            match merged.get(&source.record.path) {
                Some(existing) if existing.record.sha256 != source.record.sha256 => {
                    return Err(Error::Failed(anyhow!(
                        "{} differs between {} (sha256 {}) and {} (sha256 {}); shards must not build the same artifact differently",
                        source.record.path,
                        existing.dir.display(),
                        existing.record.sha256,
                        source.dir.display(),
                        source.record.sha256
                    )));
                }
                Some(_) => {}
                None => {
                    merged.insert(source.record.path.clone(), source);
                }
            }
        }
    }
    let locked = lambda_dir::lock(out, || {
        crate::output::line(format!(
            "lambda-build: waiting for another run writing to {}",
            out.display()
        ))
    })?;
    let mut staged = Vec::new();
    for source in merged.values() {
        let mode = if source.record.format == "binary" { 0o755 } else { 0o644 };
        staged.push(lambda_dir::stage(
            locked.path(),
            &source.record.path,
            &source.bytes,
            mode,
        )?);
    }
    let manifest = Manifest::of(merged.into_values().map(|s| s.record).collect());
    staged.extend(record::stage(
        &record::Records::in_lambda_dir(locked.path()),
        &manifest,
    )?);
    lambda_dir::commit(staged)?;
    Ok(manifest)
}

/// A shard's artifacts, each verified against its manifest and `SHA256SUMS`.
fn read_shard(dir: &Path) -> Result<Vec<Source>> {
    let manifest_path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).map_err(|_| {
        Error::usage(format!(
            "{} has no readable {MANIFEST}; accepted: lambda dirs written by lambda-build (one per shard)",
            dir.display()
        ))
    })?;
    let manifest: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a lambda-build manifest", manifest_path.display()))?;
    let sums_path = dir.join(CHECKSUMS);
    let sums_text = std::fs::read_to_string(&sums_path).with_context(|| format!("reading {}", sums_path.display()))?;
    let mut sums: BTreeMap<String, String> = BTreeMap::new();
    for line in sums_text.lines().filter(|l| !l.trim().is_empty()) {
        let (digest, path) = line
            .split_once("  ")
            .with_context(|| format!("{}: malformed line {line:?}", sums_path.display()))?;
        sums.insert(path.to_owned(), digest.to_owned());
    }
    let mut sources = Vec::new();
    for record in manifest.artifacts {
        let listed = sums.remove(&record.path);
        if listed.as_deref() != Some(record.sha256.as_str()) {
            return Err(Error::Failed(anyhow!(
                "{}: {CHECKSUMS} and {MANIFEST} disagree about {}",
                dir.display(),
                record.path
            )));
        }
        let path = dir.join(&record.path);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let actual = record::hex(&Sha256::digest(&bytes));
        if actual != record.sha256 || bytes.len() as u64 != record.size {
            return Err(Error::Failed(anyhow!(
                "{} does not match its recorded SHA-256 ({} recorded, {actual} found): the shard is tampered or incomplete",
                path.display(),
                record.sha256
            )));
        }
        sources.push(Source {
            record,
            dir: dir.to_path_buf(),
            bytes,
        });
    }
    if let Some(extra) = sums.keys().next() {
        return Err(Error::Failed(anyhow!(
            "{}: {CHECKSUMS} lists {extra}, which {MANIFEST} does not",
            dir.display()
        )));
    }
    Ok(sources)
}
