//! `--upload github-release`: the release to publish to (github.com or GitHub Enterprise
//! Server), resolved from the GitHub Actions environment and checked before anything compiles.

use std::fmt;

use crate::cli::EnvVars;
use crate::config::Source;
use crate::error::{Error, Result};

/// Variables the token is read from, highest precedence first.
pub const TOKEN_VARS: &[&str] = &[
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "LAMBDA_BUILD_GITHUB_TOKEN",
    "GITHUB_TOKEN",
];

/// The default GitHub API.
pub const GITHUB_API: &str = "https://api.github.com";

/// A token: shown as `***` by `Debug` and `Display`, so no log or error can print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// The token's text, for the Authorization header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where and how to upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// Repository owner.
    pub owner: String,
    /// Repository name.
    pub repo: String,
    /// The REST API base, e.g. `https://api.github.com` or `https://ghe.example/api/v3`.
    pub api: String,
    /// The release's tag.
    pub tag: String,
    /// Create it as a draft when missing.
    pub draft: bool,
    /// Create it as a prerelease when missing.
    pub prerelease: bool,
    /// The token.
    pub token: Token,
}

/// `--upload github-release`, checked: the repository, API, tag and token from the environment.
pub fn resolve(tag: Option<(&str, &Source)>, draft: bool, prerelease: bool, env: &EnvVars) -> Result<Release> {
    let repository = env.get("GITHUB_REPOSITORY").ok_or_else(|| {
        Error::usage("--upload github-release needs GITHUB_REPOSITORY (owner/name); accepted: the repository to publish to, as GitHub Actions sets it")
    })?;
    // Both parts go into API paths: only the characters GitHub allows, so none can traverse.
    let (owner, repo) = repository
        .split_once('/')
        .filter(|(o, r)| valid_owner(o) && valid_repo(r))
        .ok_or_else(|| {
            Error::usage(format!(
                "invalid GITHUB_REPOSITORY {repository:?} from env GITHUB_REPOSITORY; accepted: owner/name, the owner of letters, digits and single inner hyphens (at most 39), the name of letters, digits, '-', '_' and '.' (at most 100, not . or ..)"
            ))
        })?;
    let api = env
        .get("GITHUB_API_URL")
        .unwrap_or(GITHUB_API)
        .trim_end_matches('/')
        .to_owned();
    if !valid_api(&api) {
        return Err(Error::usage(format!(
            "invalid GITHUB_API_URL {api:?} from env GITHUB_API_URL; accepted: an http(s) URL with a host and no query, such as https://api.github.com or https://HOST/api/v3"
        )));
    }
    let (tag, tag_source) = match tag {
        Some((tag, source)) if !tag.trim().is_empty() => (tag.trim().to_owned(), source.to_string()),
        _ => match env.get("GITHUB_REF").and_then(|r| r.strip_prefix("refs/tags/")) {
            Some(tag) if !tag.is_empty() => (tag.to_owned(), "env GITHUB_REF".to_owned()),
            _ => {
                return Err(Error::usage(
                    "--upload github-release needs a tag: set --release-tag (LAMBDA_BUILD_RELEASE_TAG) or run on a tag (GITHUB_REF=refs/tags/TAG)",
                ));
            }
        },
    };
    if !valid_tag(&tag) {
        return Err(Error::usage(format!(
            "invalid release tag {tag:?} from {tag_source}; accepted: a git tag name (no spaces, control characters, `..`, `~^:?*[\\`, `@{{`, leading `-` or `/`, trailing `/`, `.` or `.lock`)"
        )));
    }
    let (var, token) = TOKEN_VARS
        .iter()
        .find_map(|var| env.get(var).map(|t| (var, t.trim())))
        .ok_or_else(|| {
            Error::usage(format!(
                "--upload github-release needs a token with contents: write; set one of {}",
                TOKEN_VARS.join(", ")
            ))
        })?;
    // The token becomes an Authorization header; one that cannot be a header value made the
    // HTTP client panic. Its text is never shown.
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::usage(format!(
            "invalid token in env {var}: it holds a space, control character or non-ASCII character, which an HTTP header cannot carry (the token is not shown); accepted: the token alone, printable ASCII"
        )));
    }
    let token = Token(token.to_owned());
    Ok(Release {
        owner: owner.to_owned(),
        repo: repo.to_owned(),
        api,
        tag,
        draft,
        prerelease,
        token,
    })
}

/// A GitHub account name: letters, digits and single hyphens, not at either end; at most 39.
fn valid_owner(name: &str) -> bool {
    (1..=39).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// A GitHub repository name: letters, digits, `-`, `_` and `.`, at most 100, not `.` or `..`.
fn valid_repo(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name != "."
        && name != ".."
}

/// An API base: `http(s)://host[:port][/path]`, without query (paths are appended to it).
fn valid_api(url: &str) -> bool {
    url.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|h| !h.is_empty())
            && uri.query().is_none()
    })
}

/// Roughly git's rules for a tag name (`git check-ref-format`), so the tag GitHub creates is
/// the one asked for, and nothing in it can break a request or a log line.
fn valid_tag(tag: &str) -> bool {
    let forbidden = |c: char| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c);
    !tag.is_empty()
        && !tag.chars().any(forbidden)
        && !tag.contains("..")
        && !tag.contains("@{")
        && !tag.contains("//")
        && tag != "@"
        && !tag.starts_with(['-', '/'])
        && !tag.ends_with(['/', '.'])
        && tag
            .split('/')
            .all(|part| !part.starts_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvVars {
        EnvVars::from_pairs(pairs.iter().copied())
    }

    const FLAG: Source = Source::Default;

    #[test]
    fn everything_comes_from_the_actions_environment() {
        let e = env(&[
            ("GITHUB_REPOSITORY", "octo/lambda"),
            ("GITHUB_REF", "refs/tags/v1.2.3"),
            ("GITHUB_TOKEN", "t0ken"),
            ("GITHUB_API_URL", "https://ghe.example/api/v3/"),
        ]);
        let release = resolve(None, true, false, &e).unwrap();
        assert_eq!((release.owner.as_str(), release.repo.as_str()), ("octo", "lambda"));
        assert_eq!(
            (release.api.as_str(), release.tag.as_str()),
            ("https://ghe.example/api/v3", "v1.2.3")
        );
        assert!(release.draft);
        assert_eq!(
            format!("{release:?}").matches("t0ken").count(),
            0,
            "the token leaks through Debug"
        );
    }

    #[test]
    fn missing_or_bad_inputs_are_usage_errors() {
        let base = [("GITHUB_REPOSITORY", "octo/lambda"), ("GITHUB_TOKEN", "t")];
        let err = |pairs: &[(&str, &str)], tag: Option<&str>| {
            let tag = tag.map(|t| (t, &FLAG));
            match resolve(tag, false, false, &env(pairs)) {
                Err(Error::Usage(message)) => message,
                other => panic!("{other:?}"),
            }
        };
        assert!(err(&base, None).contains("needs a tag"));
        assert!(err(&[("GITHUB_TOKEN", "t")], Some("v1")).contains("needs GITHUB_REPOSITORY"));
        assert!(
            err(&[("GITHUB_REPOSITORY", "nope"), ("GITHUB_TOKEN", "t")], Some("v1")).contains("accepted: owner/name")
        );
        assert!(err(&[("GITHUB_REPOSITORY", "o/r")], Some("v1")).contains("needs a token"));
    }
}
