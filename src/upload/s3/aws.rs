//! The AWS side of an S3 upload: credentials, region and endpoint found as every AWS SDK and the
//! AWS CLI find them (the SDK's own default chains read the process environment and
//! `~/.aws/config`), checked before anything compiles, and an S3 client over rustls (ring).
//!
//! A [`Session`] lives from that check to the upload: one runtime, one configuration and so one
//! credentials cache, which renews short-lived credentials (web identity, SSO) on its own when a
//! long build outlasts them.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use super::credentials::{Checked, Process};
use super::{Destination, preflight};
use crate::cli::EnvVars;
use crate::error::{Error, Result};
use crate::network::{CONNECT, FIRST_BYTE, STALL_GRACE};

/// Where credentials are looked for, in the order the SDK's default chain tries them.
pub const CREDENTIAL_SOURCES: &str = "env AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN, as aws-actions/configure-aws-credentials exports them), the profile AWS_PROFILE names (else [default]) in ~/.aws/config and ~/.aws/credentials, web identity (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN), container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI) and instance metadata";

/// Variables that name the S3 endpoint, highest precedence first (as the SDKs read them).
const ENDPOINT_VARS: &[&str] = &["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"];

/// The AWS configuration of a run, from the check before compiling to the upload.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    config: SdkConfig,
    /// The S3 endpoint the environment names; `None`: AWS's own for the region.
    pub endpoint: Option<Endpoint>,
    /// The region.
    pub region: String,
    /// Path-style addressing (`endpoint/bucket/key`) instead of `bucket.endpoint/key`.
    pub path_style: bool,
    /// The credentials, bounded and checked ([`Checked`]).
    credentials: SharedCredentialsProvider,
    /// `--upload-timeout`: the most the run's S3 upload may take, from its first request.
    total: Duration,
    /// When the first upload request was made.
    began: OnceLock<Instant>,
}

/// An S3 endpoint from the environment or the AWS profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL.
    pub url: String,
    /// Where it came from: `env AWS_ENDPOINT_URL_S3`, or the profile's `endpoint_url`.
    pub from: String,
}

/// Where an endpoint set in the AWS config file comes from, for messages.
const PROFILE_ENDPOINT: &str = "endpoint_url of the AWS profile (AWS_PROFILE, else default)";

impl Session {
    /// Loads the AWS configuration and checks that an upload to `destinations` can be signed:
    /// a region and credentials are found (a usage error naming what is missing and where it was
    /// looked for, exit 2, when not), and the endpoint, if one is set, is a URL. `path_style`
    /// forces path-style addressing, which an endpoint on an IP address or localhost gets anyway.
    pub fn start(destinations: &[Destination], path_style: bool, total: Duration, env: &EnvVars) -> Result<Session> {
        let first = destinations.first().map(|d| d.url.as_str()).unwrap_or("s3://");
        preflight::variables(env)?;
        let files = preflight::config_files(env);
        preflight::files(&files)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| Error::Failed(anyhow::anyhow!("starting the HTTP runtime: {err}")))?;
        let profiles = runtime.block_on(preflight::profiles(env, &files))?;
        preflight::web_identity(env, &profiles)?;
        let endpoint = match endpoint(env)? {
            Some(endpoint) => Some(endpoint),
            None if ignore_configured_endpoints(env) => None,
            None => match profiles.get("endpoint_url") {
                Some(url) => Some(checked(url, profiles.source_of("endpoint_url"))?),
                None => None,
            },
        };
        let limits = crate::process::Limits::of(env);
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT)
                    // From sending a request to the end of its answer's headers; a PutObject
                    // gets more, for its body (see `publish`).
                    .read_timeout(FIRST_BYTE)
                    .build(),
            )
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .grace_period(STALL_GRACE)
                    .build(),
            )
            .retry_config(preflight::retry_config(env, &profiles)?);
        if let Some(process) = Process::of(env, &profiles, limits.probe) {
            loader = loader.credentials_provider(process);
        }
        let config = runtime.block_on(loader.load());
        // The profile's `endpoint_url` as the SDK found it (a `[services]` section), checked.
        let endpoint = match (endpoint, config.endpoint_url()) {
            (None, Some(url)) if !ignore_configured_endpoints(env) => Some(checked(url, PROFILE_ENDPOINT.to_owned())?),
            (endpoint, _) => endpoint,
        };
        let region = match config.region() {
            Some(region) => region.to_string(),
            None => {
                return Err(Error::usage(format!(
                    "--upload {first} needs an AWS region; looked in env AWS_REGION, env AWS_DEFAULT_REGION, the profile's region in ~/.aws/config and instance metadata; accepted: a region such as us-east-1 in AWS_REGION"
                )));
            }
        };
        if !preflight::region(&region) {
            return Err(Error::usage(format!(
                "invalid AWS region {region:?} for --upload {first} (from env AWS_REGION, AWS_DEFAULT_REGION or the profile); accepted: a region name such as us-east-1"
            )));
        }
        let provider = config
            .credentials_provider()
            .ok_or_else(|| Error::Failed(anyhow::anyhow!("the AWS configuration has no credentials provider")))?;
        // Room for a credential_process (bounded by itself) or an SSO or STS exchange.
        let lookup = limits.probe.time().saturating_mul(2);
        let credentials = SharedCredentialsProvider::new(Checked {
            inner: provider,
            limit: lookup,
        });
        if let Err(err) = runtime.block_on(credentials.provide_credentials()) {
            return Err(credentials_error(first, &err));
        }
        let path_style = path_style || endpoint.as_ref().is_some_and(|e| local_host(&e.url));
        Ok(Session {
            runtime,
            config,
            endpoint,
            region,
            path_style,
            credentials,
            total,
            began: OnceLock::new(),
        })
    }

    /// An S3 client.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.config)
            .credentials_provider(self.credentials.clone())
            .force_path_style(self.path_style)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Runs `upload` on the session's runtime within what is left of `--upload-timeout`, which
    /// counts from the first call.
    pub fn within_total<T>(&self, upload: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
        let began = *self.began.get_or_init(Instant::now);
        let left = self.total.saturating_sub(began.elapsed());
        let total = self.total.as_secs();
        self.runtime.block_on(async {
            tokio::time::timeout(left, upload).await.unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "the upload to S3 ({}) did not finish within {total}s (--upload-timeout, counted from its first request); requests in flight were abandoned",
                    self.describe()
                ))
            })
        })
    }

    /// Where requests go, for messages: the endpoint, else AWS's S3 in the region.
    pub fn describe(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!(
                "endpoint {} from {}, region {}",
                endpoint.url, endpoint.from, self.region
            ),
            None => format!("region {}", self.region),
        }
    }
}

/// A failure to find credentials: nothing set up is a usage error (exit 2), a credential
/// service that fails or refuses is a failure (exit 1). Neither shows a secret: the SDK's errors
/// name providers and files, never keys.
fn credentials_error(url: &str, err: &CredentialsError) -> Error {
    match err {
        CredentialsError::CredentialsNotLoaded(_) => Error::usage(format!(
            "--upload {url} needs AWS credentials and none were found; looked in {CREDENTIAL_SOURCES}; accepted: any of these (in GitHub Actions, aws-actions/configure-aws-credentials with OIDC)"
        )),
        CredentialsError::InvalidConfiguration(_) => Error::usage(format!(
            "invalid AWS credentials configuration for --upload {url}: {}; accepted: credentials from {CREDENTIAL_SOURCES}",
            causes(err)
        )),
        _ => Error::Failed(anyhow::anyhow!(
            "loading AWS credentials for --upload {url} failed: {}",
            causes(err)
        )),
    }
}

/// The S3 endpoint the environment names, checked: an http(s) URL with a host.
fn endpoint(env: &EnvVars) -> Result<Option<Endpoint>> {
    if ignore_configured_endpoints(env) {
        return Ok(None);
    }
    let Some((var, url)) = ENDPOINT_VARS.iter().find_map(|var| env.get(var).map(|url| (*var, url))) else {
        return Ok(None);
    };
    checked(url, format!("env {var}")).map(Some)
}

/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`: the SDK then uses AWS's own endpoints.
fn ignore_configured_endpoints(env: &EnvVars) -> bool {
    env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// An endpoint URL, checked as the SDK will use it (`from` names where it was set): http(s),
/// a host, a port from 1 to 65535 if any, no user, path, query or fragment, and nothing around
/// it (a trailing newline from a secret store reached the SDK before).
fn checked(url: &str, from: String) -> Result<Endpoint> {
    if let Err(why) = endpoint_problem(url) {
        return Err(Error::usage(format!(
            "invalid S3 endpoint {url:?} from {from}: {why}; accepted: an http(s) URL of a host and an optional port, such as https://s3.example.com or http://127.0.0.1:9000"
        )));
    }
    Ok(Endpoint {
        url: url.to_owned(),
        from,
    })
}

/// What is wrong with an endpoint URL, if anything.
fn endpoint_problem(url: &str) -> std::result::Result<(), &'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it holds whitespace or a control character");
    }
    let uri = url.parse::<http::Uri>().map_err(|_| "it is not a URL")?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("its scheme is not http or https");
    }
    let authority = uri.authority().ok_or("it has no host")?;
    if authority.host().is_empty() {
        return Err("it has no host");
    }
    if authority.as_str().contains('@') {
        return Err("it names a user (credentials come from the AWS sources, not the URL)");
    }
    let after_host = match authority.as_str().strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, rest)| rest),
        None => authority.as_str(),
    };
    if after_host.contains(':') && authority.port_u16().is_none_or(|p| p == 0) {
        return Err("its port is not a number from 1 to 65535");
    }
    if !matches!(uri.path(), "" | "/") || url.contains('#') {
        return Err("it has a path or fragment (the bucket and key are added to the host)");
    }
    if uri.query().is_some() {
        return Err("it has a query");
    }
    Ok(())
}

/// Whether an endpoint's host is an IP address or localhost, where bucket names cannot be
/// host names (virtual-hosted style) and S3-compatible servers expect path-style requests.
fn local_host(url: &str) -> bool {
    let Some(host) = url.parse::<http::Uri>().ok().and_then(|u| u.host().map(str::to_owned)) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok()
}

/// An error and its causes on one line, each said once (the SDK's own chain repeats itself and
/// ends in `Debug` output).
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut said: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(cause) = next {
        let text = one_line(&cause.to_string());
        if !text.is_empty() && !said.iter().any(|s| s.contains(&text)) {
            said.push(text);
        }
        next = cause.source();
    }
    said.join(": ")
}

/// Text on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvVars {
        EnvVars::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn the_s3_endpoint_wins_over_the_general_one_and_is_checked() {
        let both = env(&[
            ("AWS_ENDPOINT_URL", "https://all.example"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"),
        ]);
        let found = endpoint(&both).unwrap().unwrap();
        assert_eq!(
            (found.url.as_str(), found.from.as_str()),
            ("http://127.0.0.1:9000", "env AWS_ENDPOINT_URL_S3")
        );
        assert_eq!(endpoint(&env(&[])).unwrap(), None);
        let ignored = env(&[
            ("AWS_ENDPOINT_URL", "http://x"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ]);
        assert_eq!(endpoint(&ignored).unwrap(), None);
        let bad = endpoint(&env(&[("AWS_ENDPOINT_URL_S3", "127.0.0.1:9000")])).unwrap_err();
        assert!(
            bad.to_string()
                .contains("from env AWS_ENDPOINT_URL_S3: its scheme is not http or https; accepted: an http(s) URL"),
            "{bad}"
        );
    }

    #[test]
    fn endpoints_are_refused_for_what_the_sdk_would_choke_on() {
        for (url, why) in [
            ("http://127.0.0.1:99999", "its port is not a number from 1 to 65535"),
            ("http://127.0.0.1:0", "its port"),
            ("http://127.0.0.1:x", "its port"),
            ("https://s3.example.com/base?x=1", "path"),
            ("https://s3.example.com?x=1", "query"),
            ("https://s3.example.com\n", "whitespace"),
            (" https://s3.example.com", "whitespace"),
            ("not a url", "whitespace"),
            ("ftp://s3.example.com", "scheme"),
            ("https://user:pw@s3.example.com", "names a user"),
            ("https://s3.example.com/#x", "fragment"),
        ] {
            let err = checked(url, "env AWS_ENDPOINT_URL_S3".into()).unwrap_err().to_string();
            assert!(
                err.contains(why) && err.contains("from env AWS_ENDPOINT_URL_S3"),
                "{url:?}: {err}"
            );
        }
        for url in [
            "https://s3.example.com",
            "http://127.0.0.1:9000/",
            "http://[::1]:9000",
            "http://[::1]",
            "https://s3.example.com:443",
        ] {
            assert!(checked(url, String::new()).is_ok(), "{url}");
        }
    }

    #[test]
    fn ip_and_localhost_endpoints_are_path_style() {
        for url in [
            "http://127.0.0.1:9000",
            "http://localhost:4566",
            "http://[::1]:9000",
            "https://10.0.0.2",
        ] {
            assert!(local_host(url), "{url}");
        }
        for url in ["https://s3.example.com", "https://minio.internal:9000"] {
            assert!(!local_host(url), "{url}");
        }
    }
}
