//! A stateful stand-in for GitHub's REST API on 127.0.0.1, laid out like GitHub Enterprise
//! Server: the API under `/api/v3` on one port, uploads under `/api/uploads` on another (the
//! host the release's `upload_url` names). It checks the token, hides nothing from list calls
//! (drafts included), answers 422 on duplicate release tags and asset names, and can inject
//! failures: 502s on uploads, a 429 with `retry-after`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One asset as the server holds it.
#[derive(Clone, Debug)]
pub struct StoredAsset {
    pub id: u64,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One release.
#[derive(Clone, Debug)]
pub struct StoredRelease {
    pub id: u64,
    pub tag: String,
    pub draft: bool,
    pub prerelease: bool,
    pub assets: Vec<StoredAsset>,
}

/// Everything the server knows, and the knobs tests turn.
#[derive(Debug, Default)]
pub struct State {
    pub releases: Vec<StoredRelease>,
    next_id: u64,
    /// Upload requests answered 502 before the next ones succeed.
    pub fail_uploads: u32,
    /// Answer the next upload with 429 and `retry-after: 1`.
    pub rate_limit_once: bool,
    /// Leave the `digest` field out of assets (older GitHub, GHES).
    pub no_digest: bool,
    /// Upload requests seen (including failed ones).
    pub upload_requests: u32,
    /// Every request: `METHOD path`.
    pub log: Vec<String>,
}

pub struct FakeGitHub {
    servers: Vec<Arc<tiny_http::Server>>,
    threads: Vec<JoinHandle<()>>,
    pub state: Arc<Mutex<State>>,
    /// `GITHUB_API_URL`.
    pub api_url: String,
    pub token: String,
}

const OWNER_REPO: &str = "/repos/octo/lambda";

impl FakeGitHub {
    pub fn start(token: &str) -> Self {
        Self::start_with_resets(token, 0)
    }

    /// A server whose upload host drops its first `resets` connections without answering.
    pub fn start_with_resets(token: &str, resets: u32) -> Self {
        let api = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let uploads = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let api_origin = format!("http://{}", api.server_addr().to_ip().unwrap());
        let upload_addr = uploads.server_addr().to_ip().unwrap();
        let upload_origin = match resets {
            0 => format!("http://{upload_addr}"),
            n => format!("http://{}", flaky_proxy(upload_addr, n)),
        };
        let state = Arc::new(Mutex::new(State {
            next_id: 1,
            ..State::default()
        }));
        let mut threads = Vec::new();
        for server in [&api, &uploads] {
            let server = Arc::clone(server);
            let state = Arc::clone(&state);
            let token = token.to_owned();
            let urls = (api_origin.clone(), upload_origin.clone());
            threads.push(std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let (status, headers, reply) = handle(&state, &token, &urls, &request, &body);
                    let mut response = tiny_http::Response::from_data(reply).with_status_code(status);
                    for (name, value) in headers {
                        response.add_header(tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap());
                    }
                    let _ = request.respond(response);
                }
            }));
        }
        FakeGitHub {
            servers: vec![api, uploads],
            threads,
            state,
            api_url: format!("{api_origin}/api/v3"),
            token: token.to_owned(),
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// The environment a workflow step would have.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_REPOSITORY", "octo/lambda".to_owned()),
            ("GITHUB_API_URL", self.api_url.clone()),
            ("GITHUB_TOKEN", self.token.clone()),
        ]
    }
}

/// A TCP proxy to `target` that closes its first `drops` connections at once (a reset as the
/// client sees it: no answer) and forwards the others. It lives until the test process ends.
fn flaky_proxy(target: std::net::SocketAddr, drops: u32) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut dropped = 0;
        for client in listener.incoming().flatten() {
            if dropped < drops {
                dropped += 1;
                drop(client);
                continue;
            }
            let Ok(server) = std::net::TcpStream::connect(target) else {
                continue;
            };
            let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        for server in &self.servers {
            server.unblock();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

type Reply = (u16, Vec<(String, String)>, Vec<u8>);

fn json_reply(status: u16, value: Value) -> Reply {
    (
        status,
        vec![("Content-Type".into(), "application/json".into())],
        value.to_string().into_bytes(),
    )
}

fn asset_json(asset: &StoredAsset, api: &str, no_digest: bool) -> Value {
    let mut value = json!({
        "id": asset.id,
        "name": asset.name,
        "size": asset.bytes.len(),
        "url": format!("{api}/api/v3{OWNER_REPO}/releases/assets/{}", asset.id),
        "browser_download_url": format!("{api}/octo/lambda/releases/download/{}", asset.name),
    });
    if !no_digest {
        let digest = lambda_build::record::hex(&Sha256::digest(&asset.bytes));
        value["digest"] = json!(format!("sha256:{digest}"));
    }
    value
}

fn release_json(release: &StoredRelease, (api, uploads): &(String, String), no_digest: bool) -> Value {
    json!({
        "id": release.id,
        "tag_name": release.tag,
        "draft": release.draft,
        "prerelease": release.prerelease,
        "html_url": format!("{api}/octo/lambda/releases/tag/{}", release.tag),
        "upload_url": format!("{uploads}/api/uploads{OWNER_REPO}/releases/{}/assets{{?name,label}}", release.id),
        "assets": release.assets.iter().map(|a| asset_json(a, api, no_digest)).collect::<Vec<_>>(),
    })
}

fn query(url: &str) -> BTreeMap<String, String> {
    url.split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.replace("%20", " ")))
                .collect()
        })
        .unwrap_or_default()
}

fn page<T: Clone>(items: &[T], url: &str) -> Vec<T> {
    let q = query(url);
    let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect()
}

fn handle(
    state: &Mutex<State>,
    token: &str,
    urls: &(String, String),
    request: &tiny_http::Request,
    body: &[u8],
) -> Reply {
    let mut state = state.lock().unwrap();
    let url = request.url().to_owned();
    let path = url.split('?').next().unwrap_or("").to_owned();
    let method = request.method().to_string();
    state.log.push(format!("{method} {path}"));
    let authorized = request.headers().iter().any(|h| {
        h.field.equiv("Authorization")
            && [format!("Bearer {token}"), format!("token {token}")].contains(&h.value.to_string())
    });
    if !authorized {
        return json_reply(401, json!({"message": "Bad credentials"}));
    }
    let no_digest = state.no_digest;
    let api_releases = format!("/api/v3{OWNER_REPO}/releases");
    let upload_prefix = format!("/api/uploads{OWNER_REPO}/releases/");
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();

    if path == api_releases && method == "GET" {
        let all: Vec<Value> = state
            .releases
            .iter()
            .map(|r| release_json(r, urls, no_digest))
            .collect();
        return json_reply(200, Value::Array(page(&all, &url)));
    }
    if path == api_releases && method == "POST" {
        let wanted: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let tag = wanted["tag_name"].as_str().unwrap_or_default().to_owned();
        if state.releases.iter().any(|r| r.tag == tag) {
            return json_reply(
                422,
                json!({"message": "Validation Failed", "errors": [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]}),
            );
        }
        let id = state.next_id;
        state.next_id += 1;
        let release = StoredRelease {
            id,
            tag,
            draft: wanted["draft"].as_bool().unwrap_or(false),
            prerelease: wanted["prerelease"].as_bool().unwrap_or(false),
            assets: Vec::new(),
        };
        let value = release_json(&release, urls, no_digest);
        state.releases.push(release);
        return json_reply(201, value);
    }
    // /api/v3/repos/octo/lambda/releases/{id}/assets
    if path.starts_with(&api_releases) && path.ends_with("/assets") && method == "GET" {
        let id: u64 = segments[segments.len() - 2].parse().unwrap_or(0);
        let Some(release) = state.releases.iter().find(|r| r.id == id) else {
            return json_reply(404, json!({"message": "Not Found"}));
        };
        let all: Vec<Value> = release
            .assets
            .iter()
            .map(|a| asset_json(a, &urls.0, no_digest))
            .collect();
        return json_reply(200, Value::Array(page(&all, &url)));
    }
    // /api/v3/repos/octo/lambda/releases/assets/{id}
    if path.starts_with(&format!("{api_releases}/assets/")) {
        let id: u64 = segments.last().and_then(|s| s.parse().ok()).unwrap_or(0);
        for release in state.releases.iter_mut() {
            if let Some(index) = release.assets.iter().position(|a| a.id == id) {
                if method == "DELETE" {
                    release.assets.remove(index);
                    return (204, Vec::new(), Vec::new());
                }
                return (
                    200,
                    vec![("Content-Type".into(), "application/octet-stream".into())],
                    release.assets[index].bytes.clone(),
                );
            }
        }
        return json_reply(404, json!({"message": "Not Found"}));
    }
    if path.starts_with(&upload_prefix) && method == "POST" {
        state.upload_requests += 1;
        if state.fail_uploads > 0 {
            state.fail_uploads -= 1;
            return json_reply(502, json!({"message": "Bad Gateway"}));
        }
        if state.rate_limit_once {
            state.rate_limit_once = false;
            let (status, mut headers, body) = json_reply(429, json!({"message": "secondary rate limit"}));
            headers.push(("Retry-After".into(), "1".into()));
            return (status, headers, body);
        }
        let id: u64 = segments[segments.len() - 2].parse().unwrap_or(0);
        let name = query(&url).get("name").cloned().unwrap_or_default();
        let asset_id = state.next_id;
        state.next_id += 1;
        let Some(release) = state.releases.iter_mut().find(|r| r.id == id) else {
            return json_reply(404, json!({"message": "Not Found"}));
        };
        if release.assets.iter().any(|a| a.name == name) {
            return json_reply(
                422,
                json!({"message": "Validation Failed", "errors": [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]}),
            );
        }
        let asset = StoredAsset {
            id: asset_id,
            name,
            bytes: body.to_vec(),
        };
        let value = asset_json(&asset, &urls.0, no_digest);
        release.assets.push(asset);
        return json_reply(201, value);
    }
    json_reply(404, json!({"message": "Not Found", "path": path}))
}
