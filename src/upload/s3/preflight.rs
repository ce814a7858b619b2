//! What the AWS SDK will read from the environment and the AWS config files, checked before it
//! reads it. The SDK panics on some values (`AWS_MAX_ATTEMPTS=0` or `abc`, `AWS_RETRY_MODE=bogus`,
//! a credential that cannot be an HTTP header), blocks on others (a FIFO as its config file) and
//! reports others vaguely, or only after the build (a profile that does not exist, a missing
//! web-identity token file, `endpoint_url = not a url`). Here each is a usage error naming the
//! variable, file or profile key and what is accepted, before anything compiles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aws_config::profile::{Profile, ProfileSet};
use aws_config::retry::{RetryConfig, RetryMode};

use crate::cli::EnvVars;
use crate::error::{Error, Result};

/// Tries per request unless `AWS_MAX_ATTEMPTS` or the profile's `max_attempts` says otherwise:
/// a CI upload rides out a longer `SlowDown` or 5xx burst than the SDKs' default of 3.
pub const DEFAULT_ATTEMPTS: u32 = 5;

/// The most tries per request accepted (the upload's total bound caps the time either way).
const MAX_ATTEMPTS: u32 = 100;

/// The largest AWS config or credentials file read: real ones are a few kilobytes.
const MAX_CONFIG_FILE: u64 = 1 << 20;

/// A variable the SDK reads, with what it accepts.
pub struct Var {
    /// Its name.
    pub name: &'static str,
    /// What it accepts, for messages.
    pub accepted: &'static str,
    /// Whether a value is accepted.
    pub valid: fn(&str) -> bool,
}

/// Printable ASCII without spaces: what a credential, token or ARN can be in an HTTP header or
/// a signed query (a CR/LF there made the SDK panic while signing).
pub fn token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())
}

fn boolean(text: &str) -> bool {
    text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")
}

/// A region name as AWS writes them (`us-east-1`, `eu-isoe-west-1`).
pub fn region(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn attempts(text: &str) -> bool {
    text.parse::<u32>().is_ok_and(|n| (1..=MAX_ATTEMPTS).contains(&n))
}

fn retry_mode(text: &str) -> bool {
    text.parse::<RetryMode>().is_ok()
}

fn one_of(options: &'static [&'static str]) -> impl Fn(&str) -> bool {
    move |text| options.iter().any(|o| o.eq_ignore_ascii_case(text))
}

fn checksum_when(text: &str) -> bool {
    one_of(&["when_supported", "when_required"])(text)
}

fn profile_name(text: &str) -> bool {
    !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic())
}

fn compression_size(text: &str) -> bool {
    text.parse::<u32>().is_ok_and(|n| n <= 10_485_760)
}

const TOKEN: &str = "printable ASCII without spaces or control characters";
const BOOLEAN: &str = "true or false";

/// Every variable of the SDK's (and the AWS CLI's) that lambda-build's S3 upload reads, checked
/// before the SDK sees it. Endpoints and files are checked on their own ([`super::aws`],
/// [`files`]).
pub const VARS: &[Var] = &[
    Var {
        name: "AWS_ACCESS_KEY_ID",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_SECRET_ACCESS_KEY",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_SESSION_TOKEN",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_SECURITY_TOKEN",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_ROLE_ARN",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_ROLE_SESSION_NAME",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_SDK_UA_APP_ID",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_ACCOUNT_ID",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        accepted: TOKEN,
        valid: token,
    },
    Var {
        name: "AWS_PROFILE",
        accepted: "a profile name: printable ASCII without spaces, at most 128 bytes",
        valid: profile_name,
    },
    Var {
        name: "AWS_REGION",
        accepted: "a region name such as us-east-1",
        valid: region,
    },
    Var {
        name: "AWS_DEFAULT_REGION",
        accepted: "a region name such as us-east-1",
        valid: region,
    },
    Var {
        name: "AWS_MAX_ATTEMPTS",
        accepted: "a whole number of tries from 1 to 100",
        valid: attempts,
    },
    Var {
        name: "AWS_RETRY_MODE",
        accepted: "standard or adaptive",
        valid: retry_mode,
    },
    Var {
        name: "AWS_USE_FIPS_ENDPOINT",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_USE_DUALSTACK_ENDPOINT",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_EC2_METADATA_DISABLED",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_S3_USE_ARN_REGION",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_DISABLE_REQUEST_COMPRESSION",
        accepted: BOOLEAN,
        valid: boolean,
    },
    Var {
        name: "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES",
        accepted: "a whole number of bytes from 0 to 10485760",
        valid: compression_size,
    },
    Var {
        name: "AWS_REQUEST_CHECKSUM_CALCULATION",
        accepted: "when_supported or when_required",
        valid: checksum_when,
    },
    Var {
        name: "AWS_RESPONSE_CHECKSUM_VALIDATION",
        accepted: "when_supported or when_required",
        valid: checksum_when,
    },
];

/// Checks every variable of [`VARS`] that is set; the first one the SDK would not take is a
/// usage error naming it and what it accepts (its value shown only when it is not a secret).
pub fn variables(env: &EnvVars) -> Result<()> {
    for var in VARS {
        let Some(value) = env.get(var.name) else { continue };
        if !(var.valid)(value) {
            let shown = if secret(var.name) {
                "(value not shown)".to_owned()
            } else {
                format!("{value:?}")
            };
            return Err(Error::usage(format!(
                "invalid {} {shown} from env {}, read by the AWS SDK for --upload s3://; accepted: {}",
                var.name, var.name, var.accepted
            )));
        }
    }
    Ok(())
}

/// Whether a variable holds a secret, never to be printed.
fn secret(name: &str) -> bool {
    matches!(
        name,
        "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" | "AWS_SECURITY_TOKEN" | "AWS_CONTAINER_AUTHORIZATION_TOKEN"
    )
}

/// One of the two AWS configuration files, and where its name came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFile {
    /// The path.
    pub path: PathBuf,
    /// `env AWS_CONFIG_FILE`, or `the default ~/.aws/config`.
    pub from: String,
}

/// The config and credentials files the SDK reads: `AWS_CONFIG_FILE` and
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` and `~/.aws/credentials`.
pub fn config_files(env: &EnvVars) -> Vec<ConfigFile> {
    let home = env.get("HOME").map(PathBuf::from).or_else(dirs::home_dir);
    let expand = |text: &str| match (text.strip_prefix("~/"), &home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(text),
    };
    [
        ("AWS_CONFIG_FILE", "~/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    ]
    .into_iter()
    .map(|(var, default)| match env.get(var) {
        Some(path) => ConfigFile {
            path: expand(path),
            from: format!("env {var}"),
        },
        None => ConfigFile {
            path: expand(default),
            from: format!("the default {default}"),
        },
    })
    .collect()
}

/// Each file the SDK would read, checked without opening it: absent is fine (the SDK reads
/// none), anything else must be a regular file of at most [`MAX_CONFIG_FILE`] bytes (the SDK
/// reading a FIFO waits for a writer forever; `/dev/zero` never ends).
pub fn files(files: &[ConfigFile]) -> Result<()> {
    for file in files {
        regular(&file.path, &file.from, "an AWS config file", MAX_CONFIG_FILE, true)?;
    }
    Ok(())
}

/// `path` (named by `from`) is a regular file of at most `limit` bytes, or absent when
/// `may_be_missing`. Only its metadata is read, which never blocks.
fn regular(path: &Path, from: &str, what: &str, limit: u64, may_be_missing: bool) -> Result<()> {
    let refuse = |why: String| {
        Error::usage(format!(
            "{what} {} (from {from}) {why}; accepted: a regular file{}",
            path.display(),
            if may_be_missing { ", or none there" } else { "" }
        ))
    };
    match std::fs::metadata(path) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && may_be_missing => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(refuse("does not exist".into())),
        Err(err) => Err(refuse(format!("cannot be inspected: {err}"))),
        Ok(metadata) if !metadata.is_file() => Err(refuse(format!(
            "is not a regular file ({})",
            crate::files::kind_of(&metadata.file_type())
        ))),
        Ok(metadata) if metadata.len() > limit => Err(refuse(format!("is larger than {limit} bytes"))),
        Ok(_) => Ok(()),
    }
}

/// The profiles of the config files (already checked by [`files`]), parsed as the SDK parses
/// them, and the selected profile (`AWS_PROFILE`, else `default`). A file the SDK cannot parse
/// and an `AWS_PROFILE` that names no profile are usage errors naming the file or profile.
pub async fn profiles(env: &EnvVars, files: &[ConfigFile]) -> Result<Profiles> {
    let vars: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    let sdk_env = aws_types::os_shim_internal::Env::from(vars);
    let fs = aws_types::os_shim_internal::Fs::real();
    let loaded = aws_config::profile::load(
        &fs,
        &sdk_env,
        &aws_runtime::env_config::file::EnvConfigFiles::default(),
        None,
    )
    .await;
    let named = files
        .iter()
        .map(|f| format!("{} (from {})", f.path.display(), f.from))
        .collect::<Vec<_>>()
        .join(" and ");
    let set = loaded.map_err(|err| {
        Error::usage(format!(
            "the AWS config files {named} cannot be read as the AWS SDK reads them: {}; accepted: INI files of [profile NAME] sections and key = value lines",
            super::aws::causes(&err)
        ))
    })?;
    if let Some(name) = env.get("AWS_PROFILE")
        && set.get_profile(name).is_none()
    {
        let mut known: Vec<&str> = set.profiles().collect();
        known.sort_unstable();
        return Err(Error::usage(format!(
            "AWS_PROFILE {name:?} (from env AWS_PROFILE) names no profile in {named}; accepted: one of [{}], or AWS_PROFILE unset",
            known.join(", ")
        )));
    }
    Ok(Profiles { set })
}

/// The parsed AWS config files.
pub struct Profiles {
    set: ProfileSet,
}

impl Profiles {
    /// The selected profile's name.
    pub fn selected_name(&self) -> &str {
        self.set.selected_profile()
    }

    /// The selected profile, when the files have it.
    pub fn selected(&self) -> Option<&Profile> {
        self.set.get_profile(self.set.selected_profile())
    }

    /// A key of the selected profile.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.selected().and_then(|p| p.get(key))
    }

    /// Where a key of the selected profile comes from, for messages.
    pub fn source_of(&self, key: &str) -> String {
        format!("{key} of AWS profile {:?}", self.selected_name())
    }
}

/// The retry configuration, always given to the SDK (which then reads neither
/// `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE` nor the profile's `max_attempts`/`retry_mode`, and so
/// cannot panic on them): those values checked, env over profile, else standard mode with
/// [`DEFAULT_ATTEMPTS`] tries.
pub fn retry_config(env: &EnvVars, profiles: &Profiles) -> Result<RetryConfig> {
    let value = |var: &str, key: &str| match env.get(var) {
        Some(value) => Some((value.trim().to_owned(), format!("env {var}"))),
        None => profiles
            .get(key)
            .map(|v| (v.trim().to_owned(), profiles.source_of(key))),
    };
    let bad = |value: &str, from: &str, accepted: &str| {
        Error::usage(format!(
            "invalid {value:?} from {from}, read by the AWS SDK for --upload s3://; accepted: {accepted}"
        ))
    };
    let mut config = RetryConfig::standard().with_max_attempts(DEFAULT_ATTEMPTS);
    if let Some((text, from)) = value("AWS_MAX_ATTEMPTS", "max_attempts") {
        let tries = text.parse::<u32>().ok().filter(|n| (1..=MAX_ATTEMPTS).contains(n));
        config =
            config.with_max_attempts(tries.ok_or_else(|| bad(&text, &from, "a whole number of tries from 1 to 100"))?);
    }
    if let Some((text, from)) = value("AWS_RETRY_MODE", "retry_mode") {
        let mode = text
            .parse::<RetryMode>()
            .map_err(|_| bad(&text, &from, "standard or adaptive"))?;
        config = config.with_retry_mode(mode);
    }
    Ok(config)
}

/// The web-identity token file (`AWS_WEB_IDENTITY_TOKEN_FILE`, else the profile's
/// `web_identity_token_file`), when one is named, exists as a regular file: the SDK says only
/// "os error 2" when it is missing.
pub fn web_identity(env: &EnvVars, profiles: &Profiles) -> Result<()> {
    let named = match env.get("AWS_WEB_IDENTITY_TOKEN_FILE") {
        Some(path) => Some((path.to_owned(), "env AWS_WEB_IDENTITY_TOKEN_FILE".to_owned())),
        None => profiles
            .get("web_identity_token_file")
            .map(|p| (p.to_owned(), profiles.source_of("web_identity_token_file"))),
    };
    match named {
        Some((path, from)) => regular(
            Path::new(&path),
            &from,
            "the web identity token file",
            MAX_CONFIG_FILE,
            false,
        ),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> EnvVars {
        EnvVars::from_pairs(pairs.iter().copied())
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn no_profiles() -> Profiles {
        Profiles {
            set: ProfileSet::default(),
        }
    }

    #[test]
    fn retry_values_the_sdk_panics_on_are_usage_errors_naming_the_variable() {
        for (var, value, accepted) in [
            ("AWS_MAX_ATTEMPTS", "0", "from 1 to 100"),
            ("AWS_MAX_ATTEMPTS", "abc", "from 1 to 100"),
            ("AWS_RETRY_MODE", "bogus", "standard or adaptive"),
        ] {
            let env = env(&[(var, value)]);
            let err = retry_config(&env, &no_profiles()).unwrap_err().to_string();
            assert!(
                err.contains(&format!("from env {var}")) && err.contains(accepted),
                "{err}"
            );
            let err = variables(&env).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("invalid {var} {value:?} from env {var}")),
                "{err}"
            );
        }
        let config = retry_config(&env(&[("AWS_MAX_ATTEMPTS", "2")]), &no_profiles()).unwrap();
        assert_eq!(config.max_attempts(), 2);
        assert_eq!(
            retry_config(&env(&[]), &no_profiles()).unwrap().max_attempts(),
            DEFAULT_ATTEMPTS
        );
    }

    #[test]
    fn a_secret_with_a_line_break_is_refused_without_showing_it() {
        let err = variables(&env(&[("AWS_SECRET_ACCESS_KEY", "abc\r\nX-Evil: 1")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AWS_SECRET_ACCESS_KEY (value not shown) from env AWS_SECRET_ACCESS_KEY"),
            "{err}"
        );
        assert!(!err.contains("abc"), "{err}");
        let err = variables(&env(&[("AWS_ACCESS_KEY_ID", "AKIA\n")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("accepted: printable ASCII"), "{err}");
    }

    #[test]
    fn config_files_that_are_not_regular_files_are_refused_and_missing_ones_are_fine() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = env(&[
            ("HOME", t.path().to_str().unwrap()),
            ("AWS_CONFIG_FILE", fifo.to_str().unwrap()),
        ]);
        let found = config_files(&e);
        assert_eq!(found[1].path, t.path().join(".aws/credentials"));
        let err = files(&found).unwrap_err().to_string();
        assert!(
            err.contains("(from env AWS_CONFIG_FILE) is not a regular file"),
            "{err}"
        );
        assert!(files(&found[1..]).is_ok());
        let dir = env(&[("AWS_SHARED_CREDENTIALS_FILE", t.path().to_str().unwrap())]);
        assert!(files(&config_files(&dir)).is_err());
    }

    #[test]
    fn profiles_are_parsed_as_the_sdk_does_and_an_unknown_profile_is_named() {
        let t = tempfile::tempdir().unwrap();
        let config = t.path().join("config");
        std::fs::write(
            &config,
            "[default]\nregion = us-east-1\n[profile ci]\nmax_attempts = 0\n",
        )
        .unwrap();
        let base = [
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut pairs: Vec<(&str, &str)> = base.to_vec();
            pairs.extend_from_slice(extra);
            env(&pairs)
        };
        let e = with(&[("AWS_PROFILE", "nonexistent")]);
        let err = block_on(profiles(&e, &config_files(&e))).err().unwrap().to_string();
        assert!(
            err.contains("AWS_PROFILE \"nonexistent\" (from env AWS_PROFILE) names no profile in"),
            "{err}"
        );
        assert!(err.contains("one of [ci, default]"), "{err}");
        let e = with(&[("AWS_PROFILE", "ci")]);
        let ci = block_on(profiles(&e, &config_files(&e))).unwrap();
        let err = retry_config(&e, &ci).unwrap_err().to_string();
        assert!(err.contains("\"0\" from max_attempts of AWS profile \"ci\""), "{err}");
        std::fs::write(&config, "region = us-east-1\n").unwrap();
        let e = with(&[]);
        let err = block_on(profiles(&e, &config_files(&e))).err().unwrap().to_string();
        assert!(err.contains(config.to_str().unwrap()), "{err}");
    }

    #[test]
    fn a_named_web_identity_token_file_must_exist() {
        let e = env(&[("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token")]);
        let err = web_identity(&e, &no_profiles()).unwrap_err().to_string();
        assert!(
            err.contains(
                "the web identity token file /nonexistent/token (from env AWS_WEB_IDENTITY_TOKEN_FILE) does not exist"
            ),
            "{err}"
        );
        assert!(web_identity(&env(&[]), &no_profiles()).is_ok());
    }

    mod hostile {
        use super::*;
        use proptest::prelude::*;

        fn hostile_value() -> impl Strategy<Value = String> {
            prop_oneof![
                "[ -~]{0,12}",
                "[\\x00-\\x1f\\x7f]{1,3}",
                "[a-zA-Z0-9]{1,8}[\\r\\n\\t\\x00][a-zA-Z0-9]{0,8}",
                "[0-9]{1,25}",
                "-?[0-9]{1,3}",
                "\\PC{1,6}",
            ]
        }

        proptest! {
            /// Whatever any of the SDK's variables holds, the check answers (never panics)
            /// with a usage error naming that variable, or accepts a value the SDK takes:
            /// tokens that are valid HTTP header values, retry settings its parsers accept.
            #[test]
            fn every_sdk_variable_is_refused_by_name_or_safe_for_the_sdk(
                index in 0..VARS.len(),
                value in hostile_value(),
            ) {
                let var = &VARS[index];
                let env = EnvVars::from_pairs([(var.name, value.as_str())]);
                let Some(value) = env.get(var.name) else { return Ok(()) };
                match variables(&env) {
                    Err(Error::Usage(message)) => {
                        prop_assert!(message.contains(&format!("from env {}", var.name)), "{}", message);
                        prop_assert!(message.contains(var.accepted), "{}", message);
                    }
                    Err(other) => prop_assert!(false, "not a usage error: {other}"),
                    Ok(()) => {
                        prop_assert!(http::HeaderValue::from_str(value).is_ok(), "{:?} is no header value", value);
                        prop_assert!(retry_config(&env, &no_profiles()).is_ok());
                        if var.name == "AWS_MAX_ATTEMPTS" {
                            prop_assert!(value.parse::<u32>().is_ok_and(|n| n > 0));
                        }
                    }
                }
            }
        }
    }
}
