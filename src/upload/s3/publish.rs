//! Putting a build's objects in S3: each PutObject carries `x-amz-checksum-sha256` (the
//! artifact's `code_sha256`), so S3 stores exactly the bytes that were built or refuses them;
//! an object already there with that checksum and size (HEAD in checksum mode) is not sent again.
//!
//! Artifacts go first ([`artifacts`]); once manifest.json records where they went, it and
//! `SHA256SUMS` follow ([`records`]). Retries (5xx, `SlowDown`, throttling, dropped
//! connections: backoff with jitter) are the SDK's standard mode; an answer another try cannot
//! change fails at once, saying what to check.

use std::path::Path;

use anyhow::anyhow;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumMode;
use base64::Engine;
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Destination;
use super::aws::{Session, causes, one_line};
use crate::network;
use crate::record::{self, Manifest, Record, S3Object};
use crate::upload::{Action, assets};

/// Objects sent at once: enough to fill a CI runner's uplink, few enough that a handful of
/// 250 MB zips in memory stays small.
const PARALLEL: usize = 4;

/// One object put (or found) in a bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Placed {
    /// The artifact's name; for the records, the file's (`manifest.json`, `SHA256SUMS`).
    pub name: String,
    /// `function` or `extension`; empty for the records.
    pub kind: String,
    /// `x86_64` or `arm64`; empty for the records.
    pub arch: String,
    /// `zip` or `binary`; empty for the records.
    pub format: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The version id, in a bucket with versioning.
    pub version_id: Option<String>,
    /// SHA-256 of the bytes, base64: Lambda's `CodeSha256` for a zip.
    pub code_sha256: String,
    /// What was done.
    pub action: Action,
}

impl Placed {
    /// Where manifest.json says it is.
    pub fn object(&self) -> S3Object {
        S3Object {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            version_id: self.version_id.clone(),
        }
    }
}

/// One object to put.
struct Object<'a> {
    destination: &'a Destination,
    key: String,
    /// The artifact's name, or the records file's.
    name: &'a str,
    bytes: Source<'a>,
    sha256: [u8; 32],
}

/// Where an object's bytes come from.
enum Source<'a> {
    /// An artifact's file in this lambda dir, read when its turn comes (so only [`PARALLEL`]
    /// are in memory) and checked against its record.
    Artifact { lambda_dir: &'a Path, record: &'a Record },
    /// A records file's bytes, in hand.
    Bytes(&'a [u8]),
}

impl Object<'_> {
    /// The artifact's record; `None` for the records files.
    fn record(&self) -> Option<&Record> {
        match self.bytes {
            Source::Artifact { record, .. } => Some(record),
            Source::Bytes(_) => None,
        }
    }

    /// What the object is, for messages: `hello (arm64 zip)`, `manifest.json`.
    fn what(&self) -> String {
        match self.record() {
            Some(r) => format!("{} ({} {})", r.name, r.arch, r.format),
            None => self.name.to_owned(),
        }
    }

    fn content_type(&self) -> &'static str {
        match self.record() {
            Some(r) if r.format == "zip" => "application/zip",
            Some(_) => "application/octet-stream",
            None if self.name == record::MANIFEST => "application/json",
            None => "text/plain; charset=utf-8",
        }
    }

    fn length(&self) -> u64 {
        match self.bytes {
            Source::Artifact { record, .. } => record.size,
            Source::Bytes(bytes) => bytes.len() as u64,
        }
    }

    /// Its bytes: an artifact read and checked now, or the bytes in hand.
    fn read(&self) -> anyhow::Result<Vec<u8>> {
        match self.bytes {
            Source::Artifact { lambda_dir, record } => assets::read_artifact(lambda_dir, record),
            Source::Bytes(bytes) => Ok(bytes.to_vec()),
        }
    }

    /// What was put (or found), with the version id S3 gave.
    fn placed(&self, version_id: Option<&str>, action: Action) -> Placed {
        let field = |f: fn(&Record) -> String| self.record().map(f).unwrap_or_default();
        Placed {
            name: self.name.to_owned(),
            kind: field(|r| r.kind.as_str().to_owned()),
            arch: field(|r| r.arch.clone()),
            format: field(|r| r.format.clone()),
            bucket: self.destination.bucket.clone(),
            key: self.key.clone(),
            version_id: version_id.map(str::to_owned),
            code_sha256: base64::engine::general_purpose::STANDARD.encode(self.sha256),
            action,
        }
    }
}

/// Puts every artifact of `manifest` (files under `lambda_dir`) into each destination.
pub fn artifacts(
    session: &Session,
    destinations: &[Destination],
    lambda_dir: &Path,
    manifest: &Manifest,
    note: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Vec<Placed>> {
    let mut objects = Vec::new();
    for destination in destinations {
        let mut keys = std::collections::BTreeSet::new();
        for record in &manifest.artifacts {
            let key = destination.key(&destination.artifact_name(record));
            if !keys.insert(key.clone()) {
                anyhow::bail!(
                    "two artifacts would be stored at {}; use --s3-keys content (a key per content) or build them in separate runs",
                    destination.location(&key)
                );
            }
            objects.push(Object {
                destination,
                key,
                name: &record.name,
                bytes: Source::Artifact { lambda_dir, record },
                sha256: record::unhex(&record.sha256)
                    .ok_or_else(|| anyhow!("the manifest's sha256 {:?} is not 64 hex digits", record.sha256))?,
            });
        }
    }
    put_all(session, objects, note)
}

/// Records in `manifest` where [`artifacts`] put each artifact (`placed` in its order: per
/// destination, the manifest's artifacts).
pub fn record_in(manifest: &mut Manifest, placed: &[Placed]) {
    let count = manifest.artifacts.len();
    if count == 0 {
        return;
    }
    for per_destination in placed.chunks(count) {
        for (record, placed) in manifest.artifacts.iter_mut().zip(per_destination) {
            record.s3.push(placed.object());
        }
    }
}

/// Puts `SHA256SUMS` (listing each artifact's key below the prefix) and `manifest.json` (the
/// bytes of the lambda dir's, which records every artifact's object) into each destination,
/// in the folder [`Destination::records_folder`] gives.
pub fn records(
    session: &Session,
    destinations: &[Destination],
    manifest: &Manifest,
    manifest_json: &[u8],
    note: &(dyn Fn(&str) + Sync),
) -> anyhow::Result<Vec<Placed>> {
    let manifest_sha256: [u8; 32] = Sha256::digest(manifest_json).into();
    let sums: Vec<String> = destinations
        .iter()
        .map(|d| record::checksums_named(manifest, |r| d.artifact_name(r)))
        .collect();
    let mut objects = Vec::new();
    for (destination, sums) in destinations.iter().zip(&sums) {
        let folder = destination.records_folder(&record::hex(&manifest_sha256));
        for (name, bytes) in [(record::CHECKSUMS, sums.as_bytes()), (record::MANIFEST, manifest_json)] {
            objects.push(Object {
                destination,
                key: destination.key(&format!("{folder}{name}")),
                name,
                sha256: Sha256::digest(bytes).into(),
                bytes: Source::Bytes(bytes),
            });
        }
    }
    put_all(session, objects, note)
}

/// Puts `objects`, [`PARALLEL`] at a time; the first failure ends the upload (objects in flight
/// are abandoned: S3 stores an object whole or not at all). Results in the order given.
fn put_all(session: &Session, objects: Vec<Object<'_>>, note: &(dyn Fn(&str) + Sync)) -> anyhow::Result<Vec<Placed>> {
    let client = session.client();
    let client = &client;
    session.within_total(async {
        let mut placed: Vec<(usize, Placed)> = futures_util::stream::iter(objects.into_iter().enumerate())
            .map(|(index, object)| async move {
                let placed = put_one(client, object).await?;
                note(&format!(
                    "{} {}",
                    placed.action.as_str(),
                    format_args!("s3://{}/{}", placed.bucket, placed.key)
                ));
                anyhow::Ok((index, placed))
            })
            .buffer_unordered(PARALLEL)
            .try_collect()
            .await?;
        placed.sort_by_key(|(index, _)| *index);
        Ok(placed.into_iter().map(|(_, p)| p).collect())
    })
}

/// Puts one object unless the bucket already holds it.
async fn put_one(client: &aws_sdk_s3::Client, object: Object<'_>) -> anyhow::Result<Placed> {
    let destination = object.destination;
    let region = client.config().region().map(|r| r.to_string()).unwrap_or_default();
    let code_sha256 = base64::engine::general_purpose::STANDARD.encode(object.sha256);
    let head = client
        .head_object()
        .bucket(&destination.bucket)
        .key(&object.key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await;
    let existed = match head {
        Ok(found)
            if found.checksum_sha256() == Some(code_sha256.as_str())
                && found.content_length() == i64::try_from(object.length()).ok() =>
        {
            return Ok(object.placed(found.version_id(), Action::Unchanged));
        }
        Ok(_) => true,
        // 404: not there. 403: maybe not there either, for credentials without s3:ListBucket,
        // which S3 answers 403 for a missing key; the PUT's answer says which.
        Err(err) if matches!(status(&err), Some(404 | 403)) => false,
        Err(err) => return Err(failure(&err, "checking", &object, &region)),
    };
    // Read only now, so a re-run with everything in place reads nothing.
    let bytes = object.read()?;
    let put = client
        .put_object()
        .bucket(&destination.bucket)
        .key(&object.key)
        .content_type(object.content_type())
        .checksum_sha256(&code_sha256)
        .body(ByteStream::from(bytes))
        .customize()
        .config_override(aws_sdk_s3::config::Builder::default().timeout_config(body_timeouts(object.length())))
        .send()
        .await
        .map_err(|err| failure(&err, "uploading", &object, &region))?;
    if let Some(stored) = put.checksum_sha256()
        && stored != code_sha256
    {
        anyhow::bail!(
            "S3 stored {} ({}) with checksum {stored}, not {code_sha256}: the bytes stored are not the bytes built",
            destination.location(&object.key),
            object.what()
        );
    }
    let action = if existed { Action::Replaced } else { Action::Uploaded };
    Ok(object.placed(put.version_id(), action))
}

/// A PutObject's timeouts: the SDK's read timeout runs from the start of the request, body
/// included, so it gets the body's [`network::transfer`] time. (The SDK's stalled-stream
/// protection watches the body as it is handed to the connection, all at once for bytes in
/// memory; this bounds the socket writes.)
fn body_timeouts(length: u64) -> aws_sdk_s3::config::timeout::TimeoutConfig {
    aws_sdk_s3::config::timeout::TimeoutConfig::builder()
        .connect_timeout(network::CONNECT)
        .read_timeout(network::transfer(length))
        .build()
}

/// The HTTP status of a service's answer.
fn status<E>(err: &SdkError<E>) -> Option<u16> {
    match err {
        SdkError::ServiceError(service) => Some(service.raw().status().as_u16()),
        _ => None,
    }
}

/// A failed request, saying what to check. By now the SDK has retried what another try could
/// change; what is left fails at once.
fn failure<E>(err: &SdkError<E>, doing: &str, object: &Object<'_>, region: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let destination = object.destination;
    let (what, location) = (object.what(), destination.location(&object.key));
    let SdkError::ServiceError(service) = err else {
        return anyhow!("{doing} {what} at {location} failed: {} (after retries)", causes(err));
    };
    let status = service.raw().status().as_u16();
    let code = service.err().code().unwrap_or("");
    let message = service.err().message().map(one_line).unwrap_or_default();
    let bucket = &destination.bucket;
    let said = match (code, message.as_str()) {
        ("", _) => format!("HTTP {status}"),
        (code, "") => format!("{code}, HTTP {status}"),
        (code, message) => format!("{code}: {message}, HTTP {status}"),
    };
    if status == 301 || matches!(code, "PermanentRedirect" | "AuthorizationHeaderMalformed") {
        let elsewhere = service
            .raw()
            .headers()
            .get("x-amz-bucket-region")
            .map(|r| format!(", it is in {r}"))
            .unwrap_or_default();
        return anyhow!(
            "bucket {bucket} is not in region {region} ({said}{elsewhere}) {doing} {what}; set AWS_REGION to the bucket's region"
        );
    }
    match code {
        "NoSuchBucket" => anyhow!(
            "bucket {bucket} does not exist ({said}) {doing} {what}; check the bucket in --upload {} and the region (AWS_REGION) and endpoint",
            destination.url
        ),
        "AccessDenied"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "TokenRefreshRequired"
        | "AllAccessDisabled" => anyhow!(
            "access denied {doing} {what} at {location} ({said}); check the AWS credentials (secret key, session token, expiry) and that they allow s3:PutObject and s3:GetObject on arn:aws:s3:::{bucket}/{}*",
            if destination.prefix.is_empty() {
                String::new()
            } else {
                format!("{}/", destination.prefix)
            }
        ),
        "BadDigest" | "InvalidDigest" | "XAmzContentSHA256Mismatch" | "XAmzContentChecksumMismatch" => anyhow!(
            "S3 rejected the checksum of {what} ({said}): the bytes that reached {location} are not the bytes built; nothing was stored under that key"
        ),
        _ => anyhow!("{doing} {what} at {location} failed ({said})"),
    }
}
