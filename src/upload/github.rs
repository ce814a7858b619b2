//! Publishing to a GitHub Release through octocrab: find the release by tag (drafts included,
//! which the by-tag endpoint hides), create it when missing (a parallel job's 422 means "re-read"),
//! then make each asset match: equal name, size and digest is left alone, a different one is
//! replaced, a missing one uploaded to the host the release's `upload_url` names.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use http::{Method, Request};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::assets::Asset;
use super::retry::{self, MAX_TRIES, Reply, Verdict};
use super::{Action, Release};
use crate::network;
use crate::record;

/// One asset on the release.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    /// Its name.
    pub name: String,
    /// Its download URL.
    pub url: String,
    /// What was done.
    pub action: Action,
}

/// The release after an upload.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    /// The release page.
    pub release_url: String,
    /// Each asset.
    pub assets: Vec<Published>,
}

/// Publishes `assets` to the release, creating it when missing, within `total`
/// (`--upload-timeout`).
pub fn publish(release: &Release, assets: &[Asset], total: Duration) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the HTTP runtime")?;
    runtime.block_on(async {
        tokio::time::timeout(total, publish_async(release, assets))
            .await
            .unwrap_or_else(|_| {
                Err(anyhow!(
                    "the upload to GitHub release {} did not finish within {}s (--upload-timeout); requests in flight were abandoned",
                    release.tag,
                    total.as_secs()
                ))
            })
    })
}

async fn publish_async(release: &Release, assets: &[Asset]) -> anyhow::Result<Outcome> {
    let api = client(release, &release.api, &release.api)?;
    let found = find_or_create(&api, release).await?;
    let release_id = found["id"].as_u64().context("the release has no id")?;
    let upload_url = found["upload_url"].as_str().context("the release has no upload_url")?;
    let upload_base = upload_url.split('{').next().unwrap_or(upload_url).to_owned();
    let upload_origin = origin(&upload_base)?;
    let uploads = client(release, &upload_origin, &upload_origin)?;
    let mut existing = list(&api, &format!("{}/releases/{release_id}/assets", repo_path(release))).await?;
    let mut published = Vec::new();
    for asset in assets {
        let action = match existing.iter().find(|a| a["name"] == asset.name.as_str()) {
            Some(old) if same(&api, old, asset).await? => Action::Unchanged,
            Some(old) => {
                delete(&api, release, old).await?;
                upload(&api, &uploads, release, &upload_base, release_id, asset, &mut existing).await?;
                Action::Replaced
            }
            None => upload(&api, &uploads, release, &upload_base, release_id, asset, &mut existing).await?,
        };
        let url = existing
            .iter()
            .find(|a| a["name"] == asset.name.as_str())
            .and_then(|a| a["browser_download_url"].as_str())
            .unwrap_or_default()
            .to_owned();
        published.push(Published {
            name: asset.name.clone(),
            url,
            action,
        });
    }
    Ok(Outcome {
        release_url: found["html_url"].as_str().unwrap_or_default().to_owned(),
        assets: published,
    })
}

/// An octocrab client sending relative paths to `base` (absolute URLs keep their host); the
/// token goes only to `base` and `upload_origin`.
fn client(release: &Release, base: &str, upload_origin: &str) -> anyhow::Result<Octocrab> {
    Octocrab::builder()
        .base_uri(base)
        .context("GITHUB_API_URL is not a valid URL")?
        .upload_uri(upload_origin)
        .context("the release's upload_url is not a valid URL")?
        .personal_token(release.token.expose().to_owned())
        .set_connect_timeout(Some(network::CONNECT))
        .set_read_timeout(Some(Duration::from_secs(120)))
        // Per write: a body no byte of which moves for this long has stalled.
        .set_write_timeout(Some(network::STALL_GRACE))
        .build()
        .context("building the GitHub client")
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> anyhow::Result<String> {
    let uri: http::Uri = url.parse().with_context(|| format!("invalid upload_url {url}"))?;
    let scheme = uri.scheme_str().context("upload_url has no scheme")?;
    let authority = uri.authority().context("upload_url has no host")?;
    Ok(format!("{scheme}://{authority}"))
}

fn repo_path(release: &Release) -> String {
    format!("/repos/{}/{}", release.owner, release.repo)
}

/// A response: status and body.
struct Response {
    status: u16,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).context("GitHub answered with something that is not JSON")
    }
}

/// Sends a request with retries. 2xx and the answers callers handle (422) come back; answers
/// another try cannot change fail with advice.
async fn send(client: &Octocrab, method: Method, uri: &str, body: Option<(&[u8], &str)>) -> anyhow::Result<Response> {
    let mut attempt = 1;
    loop {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        let request = match body {
            Some((bytes, content_type)) => builder
                .header("content-type", content_type)
                .header("content-length", bytes.len())
                .body(bytes.to_vec()),
            None => {
                builder = builder.header("content-length", 0);
                builder.body(Vec::new())
            }
        }
        .context("building a request")?;
        let sent = body.map_or(0, |(bytes, _)| bytes.len() as u64);
        let wait = match exchange(client, request, sent, MAX_ANSWER).await {
            Ok((head, body)) => {
                let header = |name: &str| head.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let reply = Reply {
                    status: head.status.as_u16(),
                    retry_after: header("retry-after"),
                    remaining: header("x-ratelimit-remaining"),
                    reset: header("x-ratelimit-reset"),
                };
                match retry::classify(&reply, attempt, now()) {
                    Verdict::Done => {
                        return Ok(Response {
                            status: reply.status,
                            body,
                        });
                    }
                    Verdict::Fail(_) if reply.status == 422 => return Ok(Response { status: 422, body }),
                    Verdict::Fail(advice) => bail!("{method} {}: {advice}", path_of(uri)),
                    Verdict::Retry(wait) => (wait, format!("HTTP {}", reply.status)),
                }
            }
            Err(err) => (retry::backoff(attempt), format!("{err:#}")),
        };
        if attempt >= MAX_TRIES {
            bail!(
                "{method} {}: gave up after {MAX_TRIES} tries ({})",
                path_of(uri),
                wait.1
            );
        }
        tracing::debug!(
            "{method} {} failed ({}); retrying in {:?}",
            path_of(uri),
            wait.1,
            wait.0
        );
        tokio::time::sleep(wait.0).await;
        attempt += 1;
    }
}

/// The largest API answer read (a page of a list is a few hundred kilobytes).
const MAX_ANSWER: usize = 16 << 20;

/// Sends `request` and reads its answer, at most `limit` bytes, within [`network::transfer`] of
/// `moved` bytes (the request's body, or the answer expected): a server that accepts and stalls, or
/// drips its headers or body, fails instead of holding the upload (octocrab's own timeouts are
/// per read and write, which a byte a second never trips).
async fn exchange(
    client: &Octocrab,
    request: Request<Vec<u8>>,
    moved: u64,
    limit: usize,
) -> anyhow::Result<(http::response::Parts, Vec<u8>)> {
    let bound = network::transfer(moved);
    let answer = async {
        let response = client.execute(request).await?;
        let (head, body) = response.into_parts();
        let body = http_body_util::Limited::new(body, limit)
            .collect()
            .await
            .map_err(|err| anyhow!("reading the answer: {err}"))?;
        anyhow::Ok((head, body.to_bytes().to_vec()))
    };
    tokio::time::timeout(bound, answer)
        .await
        .unwrap_or_else(|_| Err(anyhow!("no complete answer within {}s", bound.as_secs())))
}

/// A URL without its query, for messages.
fn path_of(uri: &str) -> &str {
    uri.split('?').next().unwrap_or(uri)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Every item of a paginated list.
async fn list(client: &Octocrab, path: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    for page in 1..=50 {
        let response = send(client, Method::GET, &format!("{path}?per_page=100&page={page}"), None).await?;
        let Value::Array(batch) = response.json()? else {
            bail!("GET {path}: expected a list");
        };
        let done = batch.len() < 100;
        items.extend(batch);
        if done {
            break;
        }
    }
    Ok(items)
}

/// The release with the tag (drafts included), created when missing.
async fn find_or_create(client: &Octocrab, release: &Release) -> anyhow::Result<Value> {
    let path = format!("{}/releases", repo_path(release));
    let by_tag = |list: Vec<Value>| list.into_iter().find(|r| r["tag_name"] == release.tag.as_str());
    if let Some(found) = by_tag(list(client, &path).await?) {
        return Ok(found);
    }
    let body = json!({
        "tag_name": release.tag,
        "name": release.tag,
        "draft": release.draft,
        "prerelease": release.prerelease,
    });
    let created = send(
        client,
        Method::POST,
        &path,
        Some((body.to_string().as_bytes(), "application/json")),
    )
    .await?;
    if created.status != 422 {
        return created.json();
    }
    // Another job created it between our list and our create: use theirs.
    by_tag(list(client, &path).await?).ok_or_else(|| {
        anyhow!(
            "creating release {} failed (422): {}",
            release.tag,
            String::from_utf8_lossy(&created.body)
        )
    })
}

/// Whether an existing asset already holds these bytes: same size, and the same digest (the
/// API's `digest` when it has one, else the downloaded bytes').
async fn same(client: &Octocrab, old: &Value, asset: &Asset) -> anyhow::Result<bool> {
    if old["size"].as_u64() != Some(asset.bytes.len() as u64) {
        return Ok(false);
    }
    if let Some(digest) = old["digest"].as_str() {
        return Ok(digest.strip_prefix("sha256:") == Some(asset.sha256.as_str()));
    }
    let url = old["url"].as_str().context("an asset without url")?;
    let request = Request::builder()
        .uri(url)
        .header("accept", "application/octet-stream")
        .body(Vec::new())
        .context("building a request")?;
    // One byte more than the asset: a longer answer is another file.
    let size = asset.bytes.len();
    let (_, bytes) = exchange(client, request, size as u64, size + 1)
        .await
        .context("downloading an asset to compare")?;
    Ok(record::hex(&Sha256::digest(bytes)) == asset.sha256)
}

async fn delete(client: &Octocrab, release: &Release, old: &Value) -> anyhow::Result<()> {
    let id = old["id"].as_u64().context("an asset without id")?;
    send(
        client,
        Method::DELETE,
        &format!("{}/releases/assets/{id}", repo_path(release)),
        None,
    )
    .await?;
    Ok(())
}

/// Uploads one asset and checks the size GitHub recorded. A 422 means another job uploaded the
/// same name meanwhile: theirs is kept when it is the same file, else replaced once.
async fn upload(
    api: &Octocrab,
    uploads: &Octocrab,
    release: &Release,
    upload_base: &str,
    release_id: u64,
    asset: &Asset,
    existing: &mut Vec<Value>,
) -> anyhow::Result<Action> {
    let content_type = if asset.name.ends_with(".zip") {
        "application/zip"
    } else if asset.name.ends_with(".json") {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let url = format!("{upload_base}?name={}", encode(&asset.name));
    for round in 0..2 {
        let response = send(uploads, Method::POST, &url, Some((&asset.bytes, content_type))).await?;
        if response.status == 422 {
            let current = list(api, &format!("{}/releases/{release_id}/assets", repo_path(release))).await?;
            let theirs = current.iter().find(|a| a["name"] == asset.name.as_str()).cloned();
            *existing = current;
            match theirs {
                Some(theirs) if same(api, &theirs, asset).await? => return Ok(Action::Unchanged),
                Some(theirs) if round == 0 => delete(api, release, &theirs).await?,
                _ => bail!(
                    "uploading {} failed (422): {}",
                    asset.name,
                    String::from_utf8_lossy(&response.body)
                ),
            }
            continue;
        }
        let uploaded = response.json()?;
        if uploaded["size"].as_u64() != Some(asset.bytes.len() as u64) {
            bail!(
                "GitHub recorded {} bytes for {}, {} were sent",
                uploaded["size"],
                asset.name,
                asset.bytes.len()
            );
        }
        existing.retain(|a| a["name"] != asset.name.as_str());
        existing.push(uploaded);
        return Ok(Action::Uploaded);
    }
    bail!("uploading {} kept conflicting with another upload", asset.name)
}

/// Percent-encoding for a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_query_values() {
        assert_eq!(
            origin("https://uploads.github.com/repos/o/r/releases/1/assets").unwrap(),
            "https://uploads.github.com"
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/api/uploads/x").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(encode("hello-x86_64.zip"), "hello-x86_64.zip");
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }
}
