//! A real S3-compatible server for tests (`s3s-fs`, which checks SigV4 signatures and
//! `x-amz-checksum-sha256`) on 127.0.0.1, and a proxy in front of it that logs each request and
//! injects faults (503 SlowDown, 500, dropped connections, a corrupted body).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "AKIALAMBDABUILDTEST";
pub const SECRET_KEY: &str = "lambda-build-test-secret-key-0123456789";
pub const REGION: &str = "eu-west-1";

/// `s3s-fs` serving a temporary folder; each bucket is a folder in it.
pub struct S3 {
    child: Child,
    root: tempfile::TempDir,
    pub port: u16,
}

impl S3 {
    /// Starts `s3s-fs`, or `None` when it is not installed (in CI, a failure: see `have_tool`).
    pub fn start() -> Option<S3> {
        if !super::have_tool("s3s-fs", super::on_path("s3s-fs")) {
            return None;
        }
        let root = tempfile::tempdir().unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let mut child = Command::new("s3s-fs")
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(root.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start s3s-fs");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(S3 { child, root, port });
                }
                if child.try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: another one
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("s3s-fs did not start listening");
    }

    /// Creates a bucket.
    pub fn bucket(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The server's URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every object in `bucket`: key → bytes, in key order (s3s-fs keeps its metadata files
    /// outside the bucket's folder).
    pub fn objects(&self, bucket: &str) -> Vec<(String, Vec<u8>)> {
        super::contents(&self.root.path().join(bucket))
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of a run that uploads to `endpoint` with `secret`: nothing from this
/// machine's own AWS set-up (config files, instance metadata) can reach it.
pub fn aws_env(endpoint: &str, secret: &str, scratch: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", secret.to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        ("AWS_ENDPOINT_URL_S3", endpoint.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ("AWS_CONFIG_FILE", scratch.join("no-aws-config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            scratch.join("no-aws-credentials").display().to_string(),
        ),
    ]
}

/// What the proxy does to a request instead of passing it on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answers `503 SlowDown` and closes the connection.
    SlowDown,
    /// Answers `500 InternalError` and closes the connection.
    InternalError,
    /// Reads the request and closes the connection without an answer.
    Drop,
    /// Flips a byte of the next request with a body, then passes it on.
    Corrupt,
    /// Answers every request with a body `404 NoSuchBucket` (s3s-fs creates buckets on a PUT,
    /// as S3 does not), and stays in place.
    MissingBucket,
    /// Answers every request `301 PermanentRedirect` with `x-amz-bucket-region: us-west-2`, as S3
    /// does for a bucket of another region, and stays in place.
    OtherRegion,
}

/// One request that reached the proxy.
#[derive(Clone, Debug)]
pub struct Logged {
    pub method: String,
    pub path: String,
    /// The answer's status, or the fault injected.
    pub outcome: String,
    /// The request's `x-amz-checksum-sha256`, if any.
    pub checksum: Option<String>,
}

#[derive(Default)]
struct State {
    faults: VecDeque<Fault>,
    log: Vec<Logged>,
    /// `Some`: answers carry `x-amz-version-id`, as a bucket with versioning gives them (s3s-fs
    /// has no versioning): a new id per PUT of a path, the latest for a HEAD.
    versions: Option<std::collections::BTreeMap<String, u32>>,
    puts: u32,
}

/// An HTTP/1.1 proxy in front of `upstream` that logs requests and injects faults, in order,
/// into the requests that reach it. Bytes pass unchanged, so SigV4 signatures still verify.
pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    pub fn start(upstream: u16, faults: &[Fault]) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            faults: faults.iter().copied().collect(),
            ..State::default()
        }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let state = shared.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, upstream, &state);
                });
            }
        });
        Proxy { url, state }
    }

    /// Answers from now on carry version ids, as a bucket with versioning gives them.
    pub fn versioned(self) -> Proxy {
        self.state.lock().unwrap().versions = Some(Default::default());
        self
    }

    /// Every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// Faults not injected yet.
    pub fn faults_left(&self) -> usize {
        self.state.lock().unwrap().faults.len()
    }

    /// The requests so far with this method.
    pub fn count(&self, method: &str) -> usize {
        self.log().iter().filter(|l| l.method == method).count()
    }
}

/// A request or response head: its lines as read, and the header lookup.
struct Head {
    raw: Vec<u8>,
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn length(&self) -> Option<usize> {
        self.header("content-length").map(|v| v.trim().parse().unwrap())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }
}

fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        raw.extend_from_slice(line.as_bytes());
        let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
        if trimmed.is_empty() {
            break;
        }
        lines.push(trimmed);
    }
    let first = lines.first().cloned().unwrap_or_default();
    let headers = lines
        .iter()
        .skip(1)
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    Ok(Some(Head { raw, first, headers }))
}

/// A body as sent: `Content-Length` bytes, or chunks through the last one and its trailers.
fn read_body(reader: &mut impl BufRead, head: &Head) -> std::io::Result<Vec<u8>> {
    if head.chunked() {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            body.extend_from_slice(size_line.as_bytes());
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            if size == 0 {
                loop {
                    let mut trailer = String::new();
                    reader.read_line(&mut trailer)?;
                    body.extend_from_slice(trailer.as_bytes());
                    if trailer.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk);
        }
    }
    let mut body = vec![0; head.length().unwrap_or(0)];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn serve(client: TcpStream, upstream_port: u16, state: &Mutex<State>) -> std::io::Result<()> {
    let mut to_client = client.try_clone()?;
    let mut from_client = BufReader::new(client);
    let mut upstream: Option<(TcpStream, BufReader<TcpStream>)> = None;
    while let Some(request) = read_head(&mut from_client)? {
        let mut parts = request.first.split(' ');
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").split('?').next().unwrap_or("").to_owned();
        if request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            to_client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let mut body = read_body(&mut from_client, &request)?;
        let has_body = !body.is_empty();
        let fault = {
            let mut s = state.lock().unwrap();
            match s.faults.front() {
                Some(Fault::Corrupt | Fault::MissingBucket) if !has_body => None,
                Some(Fault::MissingBucket) => Some(Fault::MissingBucket),
                Some(Fault::OtherRegion) => Some(Fault::OtherRegion),
                Some(_) => s.faults.pop_front(),
                None => None,
            }
        };
        let log = |outcome: String| {
            state.lock().unwrap().log.push(Logged {
                method: method.clone(),
                path: path.clone(),
                outcome,
                checksum: request.header("x-amz-checksum-sha256").map(str::to_owned),
            })
        };
        let (status, code) = match fault {
            Some(Fault::SlowDown) => (503, "SlowDown"),
            Some(Fault::InternalError) => (500, "InternalError"),
            Some(Fault::MissingBucket) => (404, "NoSuchBucket"),
            Some(Fault::OtherRegion) => (301, "PermanentRedirect"),
            Some(Fault::Drop) => {
                log("dropped".into());
                let _ = to_client.shutdown(Shutdown::Both);
                return Ok(());
            }
            Some(Fault::Corrupt) => {
                let last = body.len() - 1;
                body[last] ^= 0x55;
                (0, "")
            }
            None => (0, ""),
        };
        if status != 0 {
            log(format!("{status} {code}"));
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>"
            );
            let reply = format!(
                "HTTP/1.1 {status} {code}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
                xml.len(),
                if status == 301 {
                    "x-amz-bucket-region: us-west-2\r\n"
                } else {
                    ""
                },
                if method == "HEAD" { "" } else { xml.as_str() }
            );
            to_client.write_all(reply.as_bytes())?;
            let _ = to_client.shutdown(Shutdown::Both);
            return Ok(());
        }
        if upstream.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", upstream_port))?;
            let reader = BufReader::new(stream.try_clone()?);
            upstream = Some((stream, reader));
        }
        let (to_upstream, from_upstream) = upstream.as_mut().unwrap();
        to_upstream.write_all(&request.raw)?;
        to_upstream.write_all(&body)?;
        let response = loop {
            let head = read_head(from_upstream)?.ok_or_else(|| std::io::Error::other("upstream closed"))?;
            if !head.first.split(' ').nth(1).is_some_and(|s| s.starts_with('1')) {
                break head;
            }
        };
        let status: u16 = response
            .first
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let response_body = if method == "HEAD" || status == 204 || status == 304 {
            Vec::new()
        } else if response.chunked() || response.length().is_some() {
            read_body(from_upstream, &response)?
        } else {
            let mut rest = Vec::new();
            from_upstream.read_to_end(&mut rest)?;
            rest
        };
        log(match fault {
            Some(Fault::Corrupt) => format!("{status} corrupted"),
            _ => status.to_string(),
        });
        let mut head = response.raw.clone();
        if status == 200 {
            let mut s = state.lock().unwrap();
            let s = &mut *s;
            if let Some(versions) = s.versions.as_mut() {
                let version = match method.as_str() {
                    "PUT" => {
                        s.puts += 1;
                        versions.insert(path.clone(), s.puts);
                        Some(s.puts)
                    }
                    "HEAD" => versions.get(&path).copied(),
                    _ => None,
                };
                if let Some(version) = version {
                    head.truncate(head.len() - 2);
                    head.extend_from_slice(format!("x-amz-version-id: v{version}\r\n\r\n").as_bytes());
                }
            }
        }
        to_client.write_all(&head)?;
        to_client.write_all(&response_body)?;
        if response
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            let _ = to_client.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
    Ok(())
}
