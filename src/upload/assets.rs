//! The release assets of a build: `<name>-<arch>.zip` (binaries: `<name>-<arch>`), a
//! `SHA256SUMS` that lists those asset names (so `sha256sum -c` works on a download folder),
//! and the build's `manifest.json`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::files::{self, Links};
use crate::record::{self, Manifest, Record};

/// One asset: its name on the release and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    /// The asset name.
    pub name: String,
    /// The bytes to upload.
    pub bytes: Vec<u8>,
    /// Their SHA-256, hex.
    pub sha256: String,
}

impl Asset {
    fn new(name: String, bytes: Vec<u8>) -> Self {
        let sha256 = record::hex(&Sha256::digest(&bytes));
        Asset { name, bytes, sha256 }
    }
}

/// The asset name of an artifact.
pub fn asset_name(name: &str, arch: &str, format: &str) -> String {
    match format {
        "zip" => format!("{name}-{arch}.zip"),
        _ => format!("{name}-{arch}"),
    }
}

/// Every asset of the build in `lambda_dir`, artifacts first, then `SHA256SUMS` and
/// `manifest.json` (the file at `manifest_path`, as written). Each artifact is checked against
/// the manifest as it is read.
pub fn assets(lambda_dir: &Path, manifest_path: &Path, manifest: &Manifest) -> anyhow::Result<Vec<Asset>> {
    let mut names = BTreeSet::new();
    let mut assets = Vec::new();
    for r in &manifest.artifacts {
        let name = asset_name(&r.name, &r.arch, &r.format);
        if !names.insert(name.clone()) {
            bail!("two artifacts would be uploaded as {name}; build them in separate runs or rename one");
        }
        assets.push(Asset::new(name, read_artifact(lambda_dir, r)?));
    }
    let sums = record::checksums_named(manifest, |r| asset_name(&r.name, &r.arch, &r.format));
    assets.push(Asset::new(record::CHECKSUMS.into(), sums.into_bytes()));
    let manifest_bytes =
        std::fs::read(manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    assets.push(Asset::new(record::MANIFEST.into(), manifest_bytes));
    Ok(assets)
}

/// An artifact's bytes as the lambda dir holds them, checked against its record: a regular file
/// (no symlink followed), no larger than recorded, with the recorded SHA-256.
pub fn read_artifact(lambda_dir: &Path, record: &Record) -> anyhow::Result<Vec<u8>> {
    let path = lambda_dir.join(&record.path);
    let bytes = files::read_regular(&path, Links::Refuse, record.size)
        .with_context(|| format!("reading {}", path.display()))?;
    let sha256 = record::hex(&Sha256::digest(&bytes));
    if sha256 != record.sha256 {
        bail!(
            "{} changed since it was built (sha256 {} recorded, {sha256} now)",
            path.display(),
            record.sha256
        );
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_arch_and_keep_zip_extensions() {
        assert_eq!(asset_name("hello", "arm64", "zip"), "hello-arm64.zip");
        assert_eq!(asset_name("echo", "x86_64", "binary"), "echo-x86_64");
    }
}
