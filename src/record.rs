//! Records of a run, written last: `SHA256SUMS` (`sha256sum -c` format) and `manifest.json`
//! (with Lambda's base64 `CodeSha256`), both listing only what this run built. They live in the
//! lambda dir, except through the cargo-lambda entry point ([`Records`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::cargo_lambda::EntryPoint;
use crate::config::Source;
use crate::discover::Kind;
use crate::error::{Error, Result};
use crate::files::{self, Links};
use crate::gate::Gated;
use crate::lambda_dir::{self, Place, Staged};
use crate::package::{Packaged, Previous};
use crate::plan::Plan;

/// The manifest file name.
pub const MANIFEST: &str = "manifest.json";
/// The checksums file name.
pub const CHECKSUMS: &str = "SHA256SUMS";

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema version: 1.
    pub version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// Every artifact of the run, sorted by path.
    pub artifacts: Vec<Record>,
}

/// The tool that wrote a manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `lambda-build`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// One artifact in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The binary's name.
    pub name: String,
    /// `function` or `extension`.
    pub kind: Kind,
    /// `x86_64` or `arm64`.
    pub arch: String,
    /// The target triple as built (with a glibc suffix if one was given).
    pub target: String,
    /// The cargo profile.
    pub profile: String,
    /// `zip` or `binary`.
    pub format: String,
    /// Path relative to the lambda dir.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-256, base64 of the raw digest: what Lambda reports as `CodeSha256`.
    pub code_sha256: String,
    /// Size once unzipped.
    pub unzipped_size: u64,
    /// The Lambda runtime the binary was checked against.
    #[serde(default)]
    pub runtime: String,
    /// The highest glibc version the binary requires (`2.28`); `null` for a static binary.
    #[serde(default)]
    pub glibc_required: Option<String>,
    /// SHA-256 (hex) of everything packaged into the file: entries, modes, timestamp, tool
    /// version. A later run with the same inputs leaves the file as it is.
    #[serde(default)]
    pub inputs_sha256: String,
    /// `--smoke`: how the binary answered the built-in Runtime API emulator; absent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoke: Option<crate::smoke::Smoke>,
    /// `--upload s3://...`: the object in each bucket; absent without it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s3: Vec<S3Object>,
}

/// Where an artifact was stored in a bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Object {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The object's version id, in a bucket with versioning; `null` otherwise.
    pub version_id: Option<String>,
}

impl Record {
    /// The first 12 hex digits of the SHA-256, for listings (the whole text when it is not hex).
    pub fn short_sha256(&self) -> &str {
        self.sha256.get(..12).unwrap_or(&self.sha256)
    }
}

/// The manifest for what a run packaged.
pub fn manifest(
    plan: &Plan,
    packaged: &[Packaged],
    gated: &Gated,
    smoked: &[Option<crate::smoke::Smoked>],
) -> Manifest {
    let artifacts: Vec<Record> = packaged
        .iter()
        .map(|p| {
            let artifact = &plan.artifacts[p.artifact];
            Record {
                name: artifact.name.clone(),
                kind: artifact.kind,
                arch: artifact.target.arch.lambda_name().to_owned(),
                target: artifact.target.to_string(),
                profile: artifact.profile.name.clone(),
                format: p.format.as_str().to_owned(),
                path: p.path.clone(),
                size: p.size,
                sha256: hex(&p.sha256),
                code_sha256: base64::engine::general_purpose::STANDARD.encode(p.sha256),
                unzipped_size: p.unzipped_size,
                inputs_sha256: hex(&p.inputs_sha256),
                runtime: artifact.runtime.as_str().to_owned(),
                glibc_required: gated
                    .glibc_required
                    .get(p.artifact)
                    .copied()
                    .flatten()
                    .map(|v| v.to_string()),
                smoke: smoked.get(p.artifact).cloned().flatten().map(|s| s.record),
                s3: Vec::new(),
            }
        })
        .collect();
    Manifest::of(artifacts)
}

impl Manifest {
    /// A manifest written by this tool, artifacts sorted by path.
    pub fn of(mut artifacts: Vec<Record>) -> Manifest {
        artifacts.sort_by(|a, b| a.path.cmp(&b.path));
        Manifest {
            version: 1,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            artifacts,
        }
    }

    /// One line per artifact (path, size, short digest), as the end of a run prints them.
    pub fn listing(&self) -> String {
        self.artifacts
            .iter()
            .map(|r| {
                let short = r.short_sha256();
                format!(
                    "  {:<40} {:>10}  {short}\n",
                    r.path,
                    crate::progress::human_size(r.size)
                )
            })
            .collect()
    }
}

/// Where a run's records live: the lambda dir, or, through the cargo-lambda entry point,
/// `<cargo target dir>/lambda-build/records/<lambda dir name>-<digest of its path>/`.
///
/// Why not the lambda dir there: SAM copies `target/lambda/<bin>/bootstrap` and, without a
/// `Binary`, wants exactly one entry in `target/lambda`; cargo-lambda-cdk ships its whole
/// `--lambda-dir` as the function's code. Records there would be extra entries, or files in the
/// function. The cargo target dir is build output already (cargo writes there for the same
/// build, so nothing is written outside what the user pointed at), it is where someone debugging
/// a `sam build` looks, and one folder per lambda dir keeps two lambda dirs' records apart. The
/// paths inside stay relative to the lambda dir: `cd <lambda dir> && sha256sum -c <records>/SHA256SUMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Records {
    /// The folder holding `SHA256SUMS` and `manifest.json`.
    pub dir: PathBuf,
    /// Whether that folder is the lambda dir itself.
    pub in_lambda_dir: bool,
    /// The existing folder the records' folders are created below (the lambda dir, or the
    /// cargo target dir), and the path from it: folders are made as real folders only, so a
    /// symlink planted in the way is refused, never written through.
    base: PathBuf,
    below: Option<String>,
}

impl Records {
    /// Records in the lambda dir `dir` itself.
    pub fn in_lambda_dir(dir: &Path) -> Records {
        Records {
            dir: dir.to_path_buf(),
            in_lambda_dir: true,
            base: dir.to_path_buf(),
            below: None,
        }
    }

    /// Where the records of a run planned as `plan`, started through `entry`, go.
    pub fn of(plan: &Plan, entry: EntryPoint) -> Records {
        match entry {
            EntryPoint::LambdaBuild => Records::in_lambda_dir(&plan.lambda_dir),
            EntryPoint::CargoLambda => {
                let below = outside_dir(&plan.lambda_dir);
                Records {
                    dir: plan.target_dir.join(&below),
                    in_lambda_dir: false,
                    base: plan.target_dir.clone(),
                    below: Some(below),
                }
            }
        }
    }

    /// The `manifest.json` path.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join(MANIFEST)
    }

    /// The `SHA256SUMS` path.
    pub fn checksums(&self) -> PathBuf {
        self.dir.join(CHECKSUMS)
    }

    /// The records folder, created below [`Records::base`] as real folders if needed: the
    /// records are staged and committed in it (its own journal, see [`lambda_dir::transaction`]).
    fn folder(&self) -> anyhow::Result<PathBuf> {
        match &self.below {
            Some(below) => lambda_dir::folders(&self.base, below),
            None => Ok(self.base.clone()),
        }
    }
}

/// The records folder of `lambda_dir`, relative to the cargo target dir: named after the lambda
/// dir, plus the start of the SHA-256 of its absolute path, so each lambda dir has its own.
fn outside_dir(lambda_dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let absolute = std::path::absolute(lambda_dir).unwrap_or_else(|_| lambda_dir.to_path_buf());
    let digest = hex(&Sha256::digest(absolute.as_os_str().as_encoded_bytes()));
    let name: String = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("lambda-build/records/{name}-{}", &digest[..16])
}

/// `SHA256SUMS` text: `<hex>  <path>` per artifact.
pub fn checksums(manifest: &Manifest) -> String {
    checksums_named(manifest, |r| r.path.clone())
}

/// `SHA256SUMS` text listing each artifact under the name it has elsewhere (a release asset, a
/// key below an S3 prefix), so `sha256sum -c` works in a copy of that place.
pub fn checksums_named(manifest: &Manifest, name: impl Fn(&Record) -> String) -> String {
    manifest
        .artifacts
        .iter()
        .map(|r| format!("{}  {}\n", r.sha256, name(r)))
        .collect()
}

/// `SHA256SUMS` and `manifest.json`, staged where `records` says to be committed after the
/// artifacts they describe.
pub fn stage(records: &Records, manifest: &Manifest) -> anyhow::Result<Vec<Staged>> {
    let (manifest_file, json) = stage_manifest(records, manifest)?;
    let checksums = lambda_dir::stage(
        &records.folder()?,
        CHECKSUMS,
        checksums_of_records(manifest, &json).as_bytes(),
        0o644,
    )?;
    Ok(vec![checksums, manifest_file])
}

/// `SHA256SUMS` for a lambda dir whose manifest is `json`: [`checksums`], or, for a run that
/// built nothing (an empty shard, a merge of empty shards), the line of `manifest.json` itself.
/// `sha256sum -c` refuses a file without a line ("no properly formatted checksum lines found"),
/// and records must always verify; the manifest is the one file such a run vouches for.
pub fn checksums_of_records(manifest: &Manifest, json: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    match manifest.artifacts.is_empty() {
        true => format!("{}  {MANIFEST}\n", hex(&Sha256::digest(json))),
        false => checksums(manifest),
    }
}

/// `manifest.json` alone, staged where `records` says, and its bytes: after an upload it records
/// where each artifact was stored (`SHA256SUMS` does not change).
pub fn stage_manifest(records: &Records, manifest: &Manifest) -> anyhow::Result<(Staged, Vec<u8>)> {
    let json = serde_json::to_string_pretty(manifest).context("serializing the manifest")? + "\n";
    let staged = lambda_dir::stage(&records.folder()?, MANIFEST, json.as_bytes(), 0o644)?;
    Ok((staged, json.into_bytes()))
}

/// The largest `manifest.json` read back (a manifest of thousands of artifacts is far smaller).
const MANIFEST_LIMIT: u64 = 64 << 20;

/// The manifest an earlier lambda-build run left in `dir` (the lambda dir, or its [`Records`]
/// folder): `None` when there is none, or when the file there is not one lambda-build wrote
/// (not a regular file, not its JSON).
pub fn previous_manifest(dir: &Path) -> Option<Manifest> {
    let bytes = files::read_regular(&dir.join(MANIFEST), Links::Refuse, MANIFEST_LIMIT).ok()?;
    let manifest: Manifest = serde_json::from_slice(&bytes).ok()?;
    (manifest.tool.name == env!("CARGO_PKG_NAME")).then_some(manifest)
}

/// What an earlier run wrote, by path, for the packager to reuse unchanged files.
pub fn previous_outputs(previous: Option<&Manifest>) -> BTreeMap<String, Previous> {
    let Some(previous) = previous else {
        return BTreeMap::new();
    };
    previous
        .artifacts
        .iter()
        .filter_map(|r| {
            Some((
                r.path.clone(),
                Previous {
                    inputs_sha256: unhex(&r.inputs_sha256)?,
                    size: r.size,
                    sha256: unhex(&r.sha256)?,
                },
            ))
        })
        .collect()
}

/// A SHA-256 from the 64 hex digits `SHA256SUMS` and the manifest write.
pub fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What a run may do with files in the lambda dir that no manifest of lambda-build's lists.
#[derive(Clone, Copy, Debug)]
pub enum Others<'a> {
    /// A lambda dir the user named (`from` this input): they are someone else's; refuse.
    Refuse(&'a Source),
    /// The default lambda dir inside cargo's target dir, build output like the rest of it,
    /// where `cargo lambda build` writes the same paths: replace them, and say so.
    Replace,
    /// The cargo-lambda entry point: replace them and say so, and also replace an earlier run's
    /// build for another arch, as cargo-lambda does. SAM builds every function of a template
    /// into the same `target/lambda` and copies each out right after its build, and CDK points
    /// `--lambda-dir` at its own asset folders: both rely on cargo-lambda overwriting.
    Clobber,
}

/// Checks what a run would replace in the lambda dir, before anything compiles and again under
/// the lambda dir's lock:
/// - an artifact an earlier run built for another target is not overwritten (with one target
///   the layout has no arch folder, so an x86_64 and an arm64 run share paths), except through
///   the cargo-lambda entry point ([`Others::Clobber`]), which warns;
/// - a symlink, folder or special file where the run writes (or in the folders above) is refused,
///   so nothing is written outside the lambda dir or through someone else's link;
/// - without a lambda-build `manifest.json` in `records.dir` the lambda dir is not one
///   lambda-build wrote, so a regular file there where the run writes is someone else's: what
///   happens to it is `others`. With one, the folder is lambda-build's, including the files of
///   earlier runs its latest manifest no longer lists (records list only what the latest run
///   built). The records' own paths are checked only when they live in the lambda dir.
pub fn check_previous(
    plan: &Plan,
    previous: Option<&Manifest>,
    records: &Records,
    others: Others<'_>,
) -> Result<Vec<String>> {
    let by_path: BTreeMap<&str, &Record> = previous
        .map(|p| p.artifacts.iter().map(|r| (r.path.as_str(), r)).collect())
        .unwrap_or_default();
    let dir = &plan.lambda_dir;
    let mut theirs = Vec::new();
    let mut warnings = Vec::new();
    let outputs = plan
        .artifacts
        .iter()
        .flat_map(|a| a.outputs.iter().map(move |o| (o.path.as_str(), Some(a))));
    let own_records = [(CHECKSUMS, None), (MANIFEST, None)];
    let own_records = own_records.iter().copied().filter(|_| records.in_lambda_dir);
    for (path, artifact) in outputs.chain(own_records) {
        if existing(dir, path)? == Existing::Nothing {
            continue;
        }
        if previous.is_none() {
            theirs.push(path);
            continue;
        }
        let (Some(artifact), Some(old)) = (artifact, by_path.get(path)) else {
            continue;
        };
        let arch = artifact.target.arch.lambda_name();
        if old.arch == arch {
            continue;
        }
        let target = dir.join(path);
        if let Others::Clobber = others {
            warnings.push(format!(
                "replacing {} (the {} build of an earlier run) with this {arch} build, as cargo-lambda does",
                target.display(),
                old.arch
            ));
            continue;
        }
        return Err(Error::usage(format!(
            "{} holds the {} build from an earlier run and this {arch} build would overwrite it; build both targets in one run (--x86-64 --arm64, which puts each under its arch folder) or use another --lambda-dir",
            target.display(),
            old.arch,
        )));
    }
    let Some((first, rest)) = theirs.split_first() else {
        return Ok(warnings);
    };
    let more = match rest.len() {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    match others {
        Others::Refuse(source) => Err(Error::usage(format!(
            "lambda dir {} (from {source}) holds {first}{more}, but has no manifest.json of lambda-build's, so they are not files lambda-build wrote; accepted: an empty or new folder, or one an earlier lambda-build run wrote (remove those files or choose another --lambda-dir)",
            dir.display()
        ))),
        Others::Replace | Others::Clobber => Ok(theirs
            .iter()
            .map(|path| {
                format!(
                    "replacing {}, which lambda-build did not write",
                    dir.join(path).display()
                )
            })
            .chain(warnings)
            .collect()),
    }
}

/// What is at a path a run writes.
#[derive(PartialEq, Eq)]
enum Existing {
    Nothing,
    File,
}

/// What is at `dir/relative`: nothing, or a regular file behind real folders; anything else in
/// the way, or an attribute that forbids replacing it ([`lambda_dir::changeable`]), is a usage error.
fn existing(dir: &Path, relative: &str) -> Result<Existing> {
    let in_the_way = |path: &Path, meta: &std::fs::Metadata, wanted: &str| {
        Error::usage(format!(
            "{} is {}, where lambda-build writes {wanted}; remove it or choose another --lambda-dir",
            path.display(),
            files::kind_of(&meta.file_type()),
        ))
    };
    if let Err(why) = lambda_dir::changeable(dir, relative) {
        return Err(Error::usage(why));
    }
    match lambda_dir::place(dir, relative) {
        Ok(Place::Missing(_)) => Ok(Existing::Nothing),
        Ok(Place::Found(meta)) if meta.is_file() => Ok(Existing::File),
        Ok(Place::Found(meta)) => Err(in_the_way(&dir.join(relative), &meta, "a file")),
        Ok(Place::Blocked(path, meta)) => Err(in_the_way(&path, &meta, "a folder")),
        Err((_, err)) => Err(Error::usage(format!(
            "cannot write {} into the lambda dir: {err}; accepted: a lambda dir that is a folder",
            dir.join(relative).display()
        ))),
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_bad_hex_is_none() {
        let digest = [0xab; 32];
        assert_eq!(unhex(&hex(&digest)), Some(digest));
        assert_eq!(unhex("ab"), None);
        assert_eq!(unhex(&"zz".repeat(32)), None);
    }

    #[test]
    fn code_sha256_is_base64_of_the_raw_digest() {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::digest(b"hello").into();
        assert_eq!(
            hex(&digest),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(digest),
            "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        );
    }
}
