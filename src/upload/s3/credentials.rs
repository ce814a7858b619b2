//! The credentials an S3 upload signs with, bounded and checked whatever their source.
//!
//! The SDK runs a profile's `credential_process` with no time limit and reads its output until
//! every holder of the pipe has closed it, so a helper that never exits, or one that exits and
//! leaves a background child, hangs the run; on a time-out it could not kill the process
//! either. A profile whose credentials come from `credential_process` alone therefore gets
//! [`Process`], which runs it through [`crate::process`] (a time limit, its process group killed
//! on expiry, finished when it exits). Every provider, that one or the SDK's chain, is wrapped in
//! [`Checked`]: a time limit on the whole lookup (SSO, web identity, container and instance
//! steps included), and credentials that could not be HTTP header values (a CR/LF made the SDK
//! panic while signing) refused.

use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};

use crate::process::Limit;

/// Profile keys that make the SDK use something other than (or before) the profile's
/// `credential_process`: then its own chain runs, bounded by [`Checked`] only.
const OTHER_SOURCES: &[&str] = &[
    "role_arn",
    "credential_source",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "login_session",
];

/// The most of a failing helper's stderr a message shows.
const STDERR_SHOWN: usize = 400;

/// A profile's `credential_process`, run as the SDK would (`sh -c COMMAND`) within a limit.
#[derive(Debug)]
pub struct Process {
    /// The profile's name, for messages.
    pub profile: String,
    /// The command.
    pub command: String,
    /// How long it may take.
    pub limit: Limit,
}

impl Process {
    /// The profile's `credential_process`, when it is where the SDK would get credentials
    /// from: no credentials in the environment and no other source in the profile.
    pub fn of(env: &crate::cli::EnvVars, profiles: &super::preflight::Profiles, limit: Limit) -> Option<Process> {
        if env.get("AWS_ACCESS_KEY_ID").is_some() || OTHER_SOURCES.iter().any(|key| profiles.get(key).is_some()) {
            return None;
        }
        let command = profiles.get("credential_process")?.trim();
        (!command.is_empty()).then(|| Process {
            profile: profiles.selected_name().to_owned(),
            command: command.to_owned(),
            limit,
        })
    }

    /// The command's program, for messages: its arguments may carry secrets (as the SDK, which
    /// redacts them in its logs, assumes).
    fn program(&self) -> &str {
        self.command.split_whitespace().next().unwrap_or("")
    }

    fn fail(&self, why: impl std::fmt::Display) -> CredentialsError {
        CredentialsError::provider_error(format!(
            "the credential_process of AWS profile {:?} (`{}`, arguments not shown) {why}",
            self.profile,
            self.program()
        ))
    }

    /// Runs the command and reads its answer (the `credential_process` JSON, version 1).
    fn run(&self) -> Result<Credentials, CredentialsError> {
        let mut command = Command::new("sh");
        command.args(["-c", &self.command]);
        let output = crate::process::output(&mut command, self.limit).map_err(|err| {
            if crate::process::timed_out(&err) {
                self.fail(format!(
                    "did not answer within {}; it was stopped with its process group",
                    self.limit
                ))
            } else {
                self.fail(format!("could not be run: {err}"))
            }
        })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stderr: String = super::aws::one_line(&stderr).chars().take(STDERR_SHOWN).collect();
            return Err(self.fail(format!("failed ({}): {stderr}", output.status)));
        }
        parse(&output.stdout).map_err(|why| self.fail(format!("answered with {why}; accepted: the credential_process JSON (Version 1, AccessKeyId, SecretAccessKey, optional SessionToken and Expiration)")))
    }
}

impl ProvideCredentials for Process {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            // A blocking wait of up to the limit, off the runtime's one thread.
            let process = Process {
                profile: self.profile.clone(),
                command: self.command.clone(),
                limit: self.limit,
            };
            tokio::task::spawn_blocking(move || process.run())
                .await
                .map_err(|err| CredentialsError::provider_error(format!("running credential_process: {err}")))?
        })
    }
}

/// The credential_process answer, or what is wrong with it.
fn parse(stdout: &[u8]) -> Result<Credentials, String> {
    let json: serde_json::Value = serde_json::from_slice(stdout).map_err(|_| "output that is not JSON".to_owned())?;
    let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    if json.get("Version").and_then(|v| v.as_i64()) != Some(1) {
        return Err("no \"Version\": 1".into());
    }
    let (Some(key), Some(secret)) = (text("AccessKeyId"), text("SecretAccessKey")) else {
        return Err("no AccessKeyId or SecretAccessKey".into());
    };
    let expiry = match text("Expiration") {
        None => None,
        Some(when) => {
            Some(expiration(&when).ok_or_else(|| format!("an Expiration {when:?} that is not an RFC 3339 time"))?)
        }
    };
    Ok(Credentials::new(
        key,
        secret,
        text("SessionToken"),
        expiry,
        "CredentialProcess",
    ))
}

/// An RFC 3339 time, as the SDK reads `Expiration`.
fn expiration(text: &str) -> Option<SystemTime> {
    let time =
        aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTimeWithOffset).ok()?;
    SystemTime::try_from(time).ok()
}

/// A provider bounded in time whose credentials are checked before anything signs with them.
#[derive(Debug)]
pub struct Checked {
    /// The provider.
    pub inner: SharedCredentialsProvider,
    /// The most one lookup may take.
    pub limit: Duration,
}

impl ProvideCredentials for Checked {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            let credentials = tokio::time::timeout(self.limit, self.inner.provide_credentials())
                .await
                .map_err(|_| CredentialsError::provider_timed_out(self.limit))??;
            check(&credentials)?;
            Ok(credentials)
        })
    }
}

/// Credentials that can be sent: every part printable ASCII without spaces.
fn check(credentials: &Credentials) -> Result<(), CredentialsError> {
    let parts = [
        ("access key id", Some(credentials.access_key_id())),
        ("secret access key", Some(credentials.secret_access_key())),
        ("session token", credentials.session_token()),
    ];
    for (what, value) in parts {
        if let Some(value) = value
            && !super::preflight::token(value)
        {
            return Err(CredentialsError::invalid_configuration(format!(
                "the AWS {what} found holds a space, control character or non-ASCII byte, so it cannot be sent in an HTTP header; accepted: printable ASCII"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(command: &str, millis: u64) -> Process {
        Process {
            profile: "ci".into(),
            command: command.into(),
            limit: Limit::for_test(Duration::from_millis(millis)),
        }
    }

    const ANSWER: &str = r#"{"Version": 1, "AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "secret", "SessionToken": "token", "Expiration": "2099-01-01T00:00:00Z"}"#;

    #[test]
    fn a_helper_that_answers_gives_its_credentials() {
        let found = process(&format!("echo '{ANSWER}'"), 30_000).run().unwrap();
        assert_eq!(
            (found.access_key_id(), found.session_token()),
            ("AKIDEXAMPLE", Some("token"))
        );
        assert!(found.expiry().is_some());
    }

    #[test]
    fn a_helper_that_never_exits_is_stopped_naming_profile_program_and_limit() {
        let err = process("sleep 1000 || echo secret-arg", 300).run().unwrap_err();
        let text = crate::upload::s3::aws::causes(&err);
        assert!(
            text.contains("the credential_process of AWS profile \"ci\" (`sleep`, arguments not shown) did not answer within 300ms"),
            "{text}"
        );
        assert!(!text.contains("secret-arg"), "{text}");
    }

    #[test]
    fn a_helper_that_exits_leaving_a_child_on_its_pipe_counts_as_finished() {
        let found = process(&format!("sleep 1000 & echo '{ANSWER}'"), 30_000).run().unwrap();
        assert_eq!(found.access_key_id(), "AKIDEXAMPLE");
    }

    #[test]
    fn bad_answers_and_failures_say_what_is_wrong() {
        for (command, said) in [
            ("echo nope", "output that is not JSON"),
            ("echo '{\"Version\": 2}'", "no \"Version\": 1"),
            ("echo denied >&2; exit 3", "failed (exit status: 3): denied"),
        ] {
            let text = crate::upload::s3::aws::causes(&process(command, 30_000).run().unwrap_err());
            assert!(text.contains(said), "{command}: {text}");
        }
    }

    #[test]
    fn credentials_that_cannot_be_a_header_are_refused() {
        let bad = Credentials::new("AKID\r\nX: y", "secret", None, None, "test");
        let text = crate::upload::s3::aws::causes(&check(&bad).unwrap_err());
        assert!(
            text.contains("the AWS access key id found holds a space, control character"),
            "{text}"
        );
        assert!(check(&Credentials::new("AKID", "s/+=", Some("t".into()), None, "test")).is_ok());
    }
}
