//! Downloading a Zig release: the download index, the tarball and its minisign signature, from
//! ziglang.org or from the mirrors in `LAMBDA_BUILD_ZIG_MIRRORS`, each tried in order.
//!
//! A mirror is a base URL laid out like Zig's community mirrors: `<base>/<tarball name>` and
//! `<base>/<tarball name>.minisig`, plus `<base>/index.json` (a copy of Zig's download index).
//! Every request has connect, header and per-read timeouts (`LAMBDA_BUILD_HTTP_TIMEOUT`), its
//! body a total bound (the timeout plus its expected size at [`network::RATE_FLOOR`], so a
//! server dripping a byte a second fails too) and a bounded retry with backoff: an offline
//! machine fails within seconds and a hung server within the bounds.

use std::time::Duration;

use anyhow::{Context, anyhow};
use serde::Deserialize;

use super::Attempts;
use super::verify::{check_tarball, public_key};
use crate::cli::EnvVars;
use crate::network;

/// Zig's official download index.
const OFFICIAL_INDEX: &str = "https://ziglang.org/download/index.json";
/// Tries per URL; transient failures (connection errors, timeouts, 5xx, 429) are retried.
const ATTEMPTS: u32 = 3;
/// The first retry's pause; it doubles each time.
const BACKOFF: Duration = Duration::from_millis(250);
/// The default connect and read timeout, in seconds (`LAMBDA_BUILD_HTTP_TIMEOUT` overrides).
const TIMEOUT_SECS: u64 = 20;
/// The largest index or signature accepted.
const SMALL_LIMIT: u64 = 16 << 20;
/// The size an index or signature is given time for (Zig's index is about 150 kB).
const SMALL_EXPECTED: u64 = 1 << 20;
/// The largest tarball accepted when the index gives no size.
const TARBALL_LIMIT: u64 = 512 << 20;

/// Where releases come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Origin {
    /// ziglang.org: the index, and the tarball URL the index gives.
    Official,
    /// A mirror's base URL.
    Mirror(String),
}

impl Origin {
    fn index_url(&self) -> String {
        match self {
            Origin::Official => OFFICIAL_INDEX.to_owned(),
            Origin::Mirror(base) => format!("{base}/index.json"),
        }
    }

    fn tarball_url(&self, release: &Release) -> String {
        match self {
            Origin::Official => release.tarball.clone(),
            Origin::Mirror(base) => format!("{base}/{}", release.file_name()),
        }
    }
}

/// One platform's entry of the download index.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Release {
    /// The tarball's URL on ziglang.org.
    pub tarball: String,
    /// Its SHA-256, hex.
    pub shasum: String,
    /// Its size in bytes (a string in the index).
    #[serde(default)]
    pub size: Option<String>,
}

impl Release {
    /// The tarball's file name, which mirrors serve it under and its signature names.
    pub fn file_name(&self) -> &str {
        self.tarball.rsplit('/').next().unwrap_or(&self.tarball)
    }
}

/// Zig's name for the platform this binary runs on (`x86_64-linux`, `aarch64-macos`).
pub fn host_platform() -> String {
    // Rust's names match Zig's for every platform Zig publishes (x86_64/aarch64, linux/macos).
    format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS)
}

/// Finds `version` for `platform` in a download index.
fn release_in(index: &[u8], version: &str, platform: &str) -> anyhow::Result<Release> {
    let index: serde_json::Value = serde_json::from_slice(index).context("the index is not JSON")?;
    let entry = index
        .get(version)
        .ok_or_else(|| anyhow!("the index has no Zig {version}"))?
        .get(platform)
        .ok_or_else(|| anyhow!("the index has no {platform} build of Zig {version}"))?;
    serde_json::from_value(entry.clone())
        .with_context(|| format!("the index entry for {version} {platform} is malformed"))
}

/// The HTTP side: an agent with timeouts and the origins to try.
pub struct Downloader {
    agent: ureq::Agent,
    /// `LAMBDA_BUILD_HTTP_TIMEOUT`.
    timeout: Duration,
    origins: Vec<Origin>,
    key: String,
}

/// A verified tarball.
pub struct Tarball {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Where it came from.
    pub url: String,
}

impl Downloader {
    /// Origins from `LAMBDA_BUILD_ZIG_MIRRORS` (comma- or space-separated base URLs), else
    /// ziglang.org; timeouts from `LAMBDA_BUILD_HTTP_TIMEOUT` (seconds).
    pub fn from_env(env: &EnvVars) -> anyhow::Result<Self> {
        let origins = match env.get("LAMBDA_BUILD_ZIG_MIRRORS") {
            Some(list) => list
                .split([',', ' ', '\n'])
                .map(|s| s.trim().trim_end_matches('/'))
                .filter(|s| !s.is_empty())
                .map(|s| Origin::Mirror(s.to_owned()))
                .collect(),
            None => vec![Origin::Official],
        };
        let secs = crate::process::seconds(env, "LAMBDA_BUILD_HTTP_TIMEOUT")?.unwrap_or(TIMEOUT_SECS);
        let timeout = Duration::from_secs(secs);
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(timeout))
            .timeout_resolve(Some(timeout))
            .timeout_send_request(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("lambda-build/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Downloader {
            agent,
            timeout,
            origins,
            key: public_key(env),
        })
    }

    /// The index URLs that would be read, for messages.
    pub fn describe(&self) -> String {
        self.origins
            .iter()
            .map(Origin::index_url)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Downloads Zig `version` for this platform and verifies it; every failed place is noted
    /// in `attempts`.
    pub fn fetch(&self, version: &str, attempts: &mut Attempts) -> Option<Tarball> {
        let platform = host_platform();
        let release = self.origins.iter().find_map(|origin| {
            let url = origin.index_url();
            match self
                .get(&url, SMALL_LIMIT, SMALL_EXPECTED)
                .and_then(|index| release_in(&index, version, &platform))
            {
                Ok(release) => Some(release),
                Err(err) => {
                    attempts.failed(format!("download index {url}"), format!("{err:#}"));
                    None
                }
            }
        })?;
        let limit = release
            .size
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(TARBALL_LIMIT);
        self.origins.iter().find_map(|origin| {
            let url = origin.tarball_url(&release);
            match self.fetch_verified(&url, &release, limit) {
                Ok(bytes) => Some(Tarball { bytes, url }),
                Err(err) => {
                    attempts.failed(format!("download {url}"), format!("{err:#}"));
                    None
                }
            }
        })
    }

    fn fetch_verified(&self, url: &str, release: &Release, limit: u64) -> anyhow::Result<Vec<u8>> {
        let bytes = self.get(url, limit, limit)?;
        let signature = self
            .get(&format!("{url}.minisig"), SMALL_LIMIT, SMALL_EXPECTED)
            .context("fetching the signature")?;
        let signature = String::from_utf8(signature).context("the signature is not text")?;
        check_tarball(&bytes, &release.shasum, &signature, release.file_name(), &self.key)?;
        Ok(bytes)
    }

    /// GET with retries on transient failures, a size limit, and time for `expected` bytes.
    fn get(&self, url: &str, limit: u64, expected: u64) -> anyhow::Result<Vec<u8>> {
        let mut pause = BACKOFF;
        let mut attempt = 1;
        loop {
            match self.get_once(url, limit, expected) {
                Ok(bytes) => return Ok(bytes),
                Err(Failure::Final(err)) => return Err(err),
                Err(Failure::Transient(err)) if attempt >= ATTEMPTS => {
                    return Err(err.context(format!("gave up after {ATTEMPTS} tries")));
                }
                Err(Failure::Transient(err)) => {
                    tracing::debug!("GET {url} failed ({err:#}); retrying in {pause:?}");
                    std::thread::sleep(pause);
                    pause *= 2;
                    attempt += 1;
                }
            }
        }
    }

    fn get_once(&self, url: &str, limit: u64, expected: u64) -> Result<Vec<u8>, Failure> {
        tracing::debug!("GET {url}");
        let mut response = self
            .agent
            .get(url)
            .config()
            .timeout_recv_body(Some(self.timeout + network::body_time(expected)))
            .build()
            .call()
            .map_err(Failure::from_ureq)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let err = anyhow!("HTTP {status}");
            return Err(if status >= 500 || status == 429 || status == 408 {
                Failure::Transient(err)
            } else {
                Failure::Final(err)
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(Failure::from_ureq)
    }
}

/// Whether a failed request is worth another try.
enum Failure {
    Transient(anyhow::Error),
    Final(anyhow::Error),
}

impl Failure {
    fn from_ureq(err: ureq::Error) -> Self {
        match err {
            ureq::Error::BodyExceedsLimit(limit) => Failure::Final(anyhow!("larger than the {limit} bytes expected")),
            ureq::Error::BadUri(_) | ureq::Error::Protocol(_) | ureq::Error::InvalidProxyUrl => {
                Failure::Final(err.into())
            }
            other => Failure::Transient(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = r#"{"master": {"version": "0.18.0-dev"},
        "0.17.1": {"date": "2026-01-01",
                   "x86_64-linux": {"tarball": "https://ziglang.org/download/0.17.1/zig-x86_64-linux-0.17.1.tar.xz",
                                    "shasum": "ab", "size": "123"}}}"#;

    #[test]
    fn the_index_gives_the_platforms_release() {
        let release = release_in(INDEX.as_bytes(), "0.17.1", "x86_64-linux").unwrap();
        assert_eq!(release.file_name(), "zig-x86_64-linux-0.17.1.tar.xz");
        assert_eq!(release.size.as_deref(), Some("123"));
        let missing = release_in(INDEX.as_bytes(), "0.9.0", "x86_64-linux").unwrap_err();
        assert_eq!(missing.to_string(), "the index has no Zig 0.9.0");
        let platform = release_in(INDEX.as_bytes(), "0.17.1", "riscv64-linux").unwrap_err();
        assert!(platform.to_string().contains("no riscv64-linux build"), "{platform}");
    }

    #[test]
    fn mirrors_serve_tarballs_by_file_name() {
        let release = release_in(INDEX.as_bytes(), "0.17.1", "x86_64-linux").unwrap();
        let mirror = Origin::Mirror("https://m.example/zig".into());
        assert_eq!(mirror.index_url(), "https://m.example/zig/index.json");
        assert_eq!(
            mirror.tarball_url(&release),
            "https://m.example/zig/zig-x86_64-linux-0.17.1.tar.xz"
        );
        assert_eq!(Origin::Official.tarball_url(&release), release.tarball);
    }

    #[test]
    fn mirrors_come_from_the_env_in_order() {
        let env = EnvVars::from_pairs([("LAMBDA_BUILD_ZIG_MIRRORS", "http://a/, http://b")]);
        let downloader = Downloader::from_env(&env).unwrap();
        assert_eq!(downloader.describe(), "http://a/index.json, http://b/index.json");
        let official = Downloader::from_env(&EnvVars::default()).unwrap();
        assert_eq!(official.describe(), OFFICIAL_INDEX);
    }

    #[test]
    fn a_bad_timeout_names_the_variable() {
        let env = EnvVars::from_pairs([("LAMBDA_BUILD_HTTP_TIMEOUT", "soon")]);
        let err = Downloader::from_env(&env).err().unwrap().to_string();
        assert!(err.starts_with("invalid LAMBDA_BUILD_HTTP_TIMEOUT \"soon\""), "{err}");
    }
}
