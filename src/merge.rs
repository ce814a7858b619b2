//! `lambda-build merge DIR... --out DIR`: joins the lambda dirs of a sharded build (`--shard K/N`
//! in several CI jobs) into one set with one `SHA256SUMS` and one `manifest.json`.
//!
//! A shard is untrusted input: it comes from another job or an artifact store. Every record must
//! be one lambda-build writes (module `rules`), every file a regular file inside its shard whose bytes
//! match the record (module `read`), and the shards must agree. All of it is checked, and every
//! destination under `--out` too, before the first byte is written; a shard that breaks a rule is
//! a usage error (exit 2) naming the shard, the record and the rule.

mod read;
mod rules;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::ci;
use crate::cli::EnvVars;
use crate::error::{Error, Result};
use crate::files;
use crate::lambda_dir::{self, Place};
use crate::record::{self, CHECKSUMS, MANIFEST, Manifest, Record};

/// The most a shard's `manifest.json` or `SHA256SUMS` may hold: far above any real build's.
const MAX_RECORDS_FILE: u64 = 64 << 20;

/// What every refusal says is accepted.
const ACCEPTED_SHARD: &str = "accepted: lambda dirs written by lambda-build (one per shard), unchanged";

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
    let lock_timeout =
        crate::process::seconds(env, LOCK_TIMEOUT_VAR)?.unwrap_or(crate::config::values::DEFAULT_LOCK_TIMEOUT);
    let manifest = merge(dirs, out, lock_timeout)?;
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

/// The variable bounding the wait for `--out`'s lock (the build's `--lock-timeout`).
const LOCK_TIMEOUT_VAR: &str = "LAMBDA_BUILD_LOCK_TIMEOUT";

/// Merges the lambda dirs into `out` and returns the merged manifest. Everything is read and
/// checked first; only then is anything written (waiting up to `lock_timeout` seconds for
/// another run writing to `out`).
pub fn merge(dirs: &[PathBuf], out: &Path, lock_timeout: u64) -> Result<Manifest> {
    check_out(dirs, out)?;
    let mut merged: BTreeMap<String, Source> = BTreeMap::new();
    for dir in dirs {
        for source in read_shard(dir)? {
            add(&mut merged, source)?;
        }
    }
    check_no_file_is_a_folder(&merged)?;
    let records = [CHECKSUMS, MANIFEST].map(str::to_owned);
    for path in merged.keys().chain(&records) {
        check_destination(out, path)?;
    }
    let note = |line: &str| crate::output::line(format_args!("lambda-build: {line}"));
    let wait = lambda_dir::Wait {
        timeout: std::time::Duration::from_secs(lock_timeout),
        setting: format!("{LOCK_TIMEOUT_VAR}={lock_timeout}"),
        note: &note,
    };
    let locked = lambda_dir::lock(out, &wait)?;
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

/// Adds a shard's artifact; the same path from two shards must be the same record (a shard
/// merged with an overlapping one, or with the unsharded set, is fine).
fn add(merged: &mut BTreeMap<String, Source>, source: Source) -> Result<()> {
    match merged.get(&source.record.path) {
        Some(existing) if existing.record != source.record => Err(Error::usage(format!(
            "{} differs between {} (sha256 {}) and {} (sha256 {}); shards must not build the same artifact differently, {ACCEPTED_SHARD}",
            source.record.path,
            existing.dir.display(),
            existing.record.sha256,
            source.dir.display(),
            source.record.sha256
        ))),
        Some(_) => Ok(()),
        None => {
            merged.insert(source.record.path.clone(), source);
            Ok(())
        }
    }
}

/// `a` and `a/b` cannot both be files: writing one would fail on, or replace, the other.
fn check_no_file_is_a_folder(merged: &BTreeMap<String, Source>) -> Result<()> {
    for (path, source) in merged {
        let folders = path.match_indices('/').map(|(end, _)| &path[..end]);
        for folder in folders {
            if let Some(file) = merged.get(folder) {
                return Err(Error::usage(format!(
                    "{folder} (from {}) is a file but {path} (from {}) needs it to be a folder; {ACCEPTED_SHARD}",
                    file.dir.display(),
                    source.dir.display()
                )));
            }
        }
    }
    Ok(())
}

/// `--out` is a folder (or will be) outside every shard: merging into a shard would change the
/// input while it is the input.
fn check_out(dirs: &[PathBuf], out: &Path) -> Result<()> {
    if out.as_os_str().is_empty() {
        return Err(Error::usage("--out is empty; accepted: a folder outside every shard"));
    }
    if std::fs::symlink_metadata(out).is_ok() && !out.is_dir() {
        return Err(Error::usage(format!(
            "--out {} exists and is not a folder; accepted: a folder outside every shard (created if missing)",
            out.display()
        )));
    }
    let out_real = resolved(out)?;
    for dir in dirs {
        if !dir.is_dir() {
            return Err(Error::usage(format!(
                "{} has no readable {MANIFEST}: it is not a folder; {ACCEPTED_SHARD}",
                dir.display()
            )));
        }
        if out_real.starts_with(resolved(dir)?) {
            return Err(Error::usage(format!(
                "--out {} is inside the shard {}; accepted: a folder outside every shard",
                out.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Where a path really is: component by component from the root, each existing prefix with its
/// symlinks resolved, and a missing one (which holds no symlink) taken by name.
fn resolved(path: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir().map_err(|e| Error::Failed(e.into()))?;
    let mut real = PathBuf::from("/");
    for component in cwd.join(path).components() {
        match component {
            Component::Normal(name) => {
                real.push(name);
                if let Ok(canonical) = real.canonicalize() {
                    real = canonical;
                }
            }
            // `real` has no symlink left, so its parent by name is its real parent.
            Component::ParentDir => {
                real.pop();
            }
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
        }
    }
    Ok(real)
}

/// A destination under `--out` goes through real folders (a symlink there could lead outside
/// `--out`) and is not itself a folder, so every write can succeed.
fn check_destination(out: &Path, relative: &str) -> Result<()> {
    let (path, metadata) = match lambda_dir::place(out, relative) {
        Ok(Place::Found(metadata)) if metadata.is_dir() => (out.join(relative), metadata),
        Ok(Place::Blocked(path, metadata)) => (path, metadata),
        _ => return Ok(()),
    };
    Err(Error::usage(format!(
        "--out {}: {} is in the way of {relative} ({}); accepted: an --out whose folders are real folders",
        out.display(),
        path.display(),
        if metadata.file_type().is_symlink() {
            "a symlink"
        } else if metadata.is_dir() {
            "a folder"
        } else {
            "not a folder"
        }
    )))
}

/// A shard's artifacts: every record checked against the rules, then against its `SHA256SUMS`
/// line, then its file's bytes.
fn read_shard(dir: &Path) -> Result<Vec<Source>> {
    let refuse =
        |what: &str, rule: &str| Error::usage(format!("shard {}: {what}: {rule}; {ACCEPTED_SHARD}", dir.display()));
    let what = |index: usize, record: &Record| format!("{MANIFEST} artifact {} (path {:?})", index + 1, record.path);
    let (manifest, manifest_bytes) = read_manifest(dir)?;
    // A set, not a scan of the records before each one: a 100k-record shard took 79 s that way.
    let mut paths = std::collections::HashSet::with_capacity(manifest.artifacts.len());
    for (index, record) in manifest.artifacts.iter().enumerate() {
        rules::check_record(record).map_err(|rule| refuse(&what(index, record), &rule))?;
        if !paths.insert(record.path.as_str()) {
            return Err(refuse(&what(index, record), "the path is listed twice"));
        }
    }
    let mut sums = read_sums(dir)?;
    // A shard that built nothing lists its manifest instead (see `record::checksums_of_records`).
    if manifest.artifacts.is_empty()
        && let Some(digest) = sums.remove(MANIFEST)
        && digest != record::hex(&Sha256::digest(&manifest_bytes))
    {
        return Err(refuse(
            CHECKSUMS,
            &format!("its {MANIFEST} line does not match {MANIFEST}: the shard is tampered or incomplete"),
        ));
    }
    let mut sources: Vec<Source> = Vec::new();
    for (index, record) in manifest.artifacts.into_iter().enumerate() {
        let what = what(index, &record);
        if sums.remove(&record.path).as_deref() != Some(record.sha256.as_str()) {
            return Err(refuse(
                &what,
                &format!("{CHECKSUMS} lists another sha256 for it, or none"),
            ));
        }
        let bytes = read::read_inside(dir, &record.path, record.size).map_err(|rule| refuse(&what, &rule))?;
        let actual = record::hex(&Sha256::digest(&bytes));
        if actual != record.sha256 || bytes.len() as u64 != record.size {
            return Err(refuse(
                &what,
                &format!(
                    "the file does not match its recorded SHA-256 and size ({} and {} bytes recorded, {actual} and {} bytes found): the shard is tampered or incomplete",
                    record.sha256,
                    record.size,
                    bytes.len()
                ),
            ));
        }
        sources.push(Source {
            record,
            dir: dir.to_path_buf(),
            bytes,
        });
    }
    if let Some(extra) = sums.keys().next() {
        return Err(refuse(
            CHECKSUMS,
            &format!("it lists {extra:?}, which {MANIFEST} does not"),
        ));
    }
    Ok(sources)
}

/// The shard's `manifest.json`, which must be a lambda-build manifest of schema version 1, and
/// its bytes. A parse error says where, never what: a shard is untrusted and its text could be
/// anything (a planted secret).
fn read_manifest(dir: &Path) -> Result<(Manifest, Vec<u8>)> {
    let bytes = read::read_inside(dir, MANIFEST, MAX_RECORDS_FILE).map_err(|rule| {
        Error::usage(format!(
            "{} has no readable {MANIFEST} ({rule}); {ACCEPTED_SHARD}",
            dir.display()
        ))
    })?;
    let not_a_manifest = |why: String| {
        Error::usage(format!(
            "{} is not a lambda-build manifest: {why}; {ACCEPTED_SHARD}",
            dir.join(MANIFEST).display()
        ))
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| not_a_manifest(files::json_error(&e)))?;
    if manifest.tool.name != env!("CARGO_PKG_NAME") || manifest.version != 1 {
        return Err(not_a_manifest(format!(
            "its tool is not lambda-build or its schema version ({}) is not 1",
            manifest.version
        )));
    }
    Ok((manifest, bytes))
}

/// The shard's `SHA256SUMS`, by path: `<64 hex>  <path>` lines, each path once.
fn read_sums(dir: &Path) -> Result<BTreeMap<String, String>> {
    let refuse = |rule: String| {
        Error::usage(format!(
            "shard {}: {CHECKSUMS}: {rule}; {ACCEPTED_SHARD}",
            dir.display()
        ))
    };
    let bytes = read::read_inside(dir, CHECKSUMS, MAX_RECORDS_FILE).map_err(refuse)?;
    let text = String::from_utf8(bytes).map_err(|_| refuse("it is not UTF-8".into()))?;
    let mut sums = BTreeMap::new();
    for (number, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let malformed = || refuse(format!("line {} is not \"<sha256>  <path>\"", number + 1));
        let (digest, path) = line.split_once("  ").ok_or_else(malformed)?;
        if !rules::is_hex_digest(digest) {
            return Err(malformed());
        }
        if sums.insert(path.to_owned(), digest.to_owned()).is_some() {
            return Err(refuse(format!("line {} lists {path:?} again", number + 1)));
        }
    }
    Ok(sums)
}
