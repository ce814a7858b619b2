//! When to try a GitHub request again: server errors, dropped connections and rate limits are
//! retried with exponential backoff and jitter (bounded in tries and in waiting); an answer that
//! another try cannot change (401, 403 without rate-limit headers, 404) fails at once, saying
//! what to check.

use std::time::Duration;

/// Tries per request, the first included.
pub const MAX_TRIES: u32 = 5;
/// The longest single wait, whatever `retry-after` asks for.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// The first backoff; it doubles per try.
const BASE: Duration = Duration::from_millis(500);

/// What a response said about trying again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A success.
    Done,
    /// Worth another try after this long.
    Retry(Duration),
    /// Another try would get the same answer.
    Fail(String),
}

/// The parts of a response the verdict depends on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `retry-after` (seconds).
    pub retry_after: Option<String>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<String>,
    /// `x-ratelimit-reset` (Unix seconds).
    pub reset: Option<String>,
}

/// The verdict on a reply after `attempt` tries (1-based), at Unix time `now`.
pub fn classify(reply: &Reply, attempt: u32, now: u64) -> Verdict {
    let status = reply.status;
    if (200..300).contains(&status) {
        return Verdict::Done;
    }
    let rate_limited =
        status == 429 || (status == 403 && (reply.retry_after.is_some() || reply.remaining.as_deref() == Some("0")));
    if rate_limited {
        let asked = reply
            .retry_after
            .as_deref()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .or_else(|| {
                let reset = reply.reset.as_deref()?.trim().parse::<u64>().ok()?;
                Some(Duration::from_secs(reset.saturating_sub(now)))
            });
        return Verdict::Retry(asked.unwrap_or_else(|| backoff(attempt)).min(MAX_WAIT));
    }
    match status {
        500..=599 | 408 => Verdict::Retry(backoff(attempt)),
        401 => Verdict::Fail(
            "GitHub rejected the token (401): check that GITHUB_TOKEN is set to a valid token".into(),
        ),
        403 => Verdict::Fail(
            "GitHub refused the request (403): the token needs `contents: write` on the repository (in a workflow: `permissions: contents: write`)".into(),
        ),
        404 => Verdict::Fail(
            "GitHub answered 404: check GITHUB_REPOSITORY, that the token can see it, and GITHUB_API_URL (GitHub Enterprise Server: https://HOST/api/v3)".into(),
        ),
        other => Verdict::Fail(format!("GitHub answered {other}")),
    }
}

/// The wait before try `attempt + 1`: doubling from 500 ms, plus up to 250 ms of jitter so
/// parallel jobs do not retry in lockstep.
pub fn backoff(attempt: u32) -> Duration {
    let doubling = BASE * 2u32.saturating_pow(attempt.saturating_sub(1).min(6));
    (doubling + Duration::from_millis(fastrand::u64(..250))).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16) -> Reply {
        Reply {
            status,
            ..Reply::default()
        }
    }

    #[test]
    fn server_errors_back_off_and_client_errors_fail_with_advice() {
        assert_eq!(classify(&reply(201), 1, 0), Verdict::Done);
        let Verdict::Retry(first) = classify(&reply(502), 1, 0) else {
            panic!()
        };
        let Verdict::Retry(third) = classify(&reply(503), 3, 0) else {
            panic!()
        };
        assert!(first >= Duration::from_millis(500) && first < Duration::from_millis(750));
        assert!(third >= Duration::from_secs(2));
        for (status, advice) in [(401, "token"), (403, "contents: write"), (404, "GITHUB_REPOSITORY")] {
            let Verdict::Fail(message) = classify(&reply(status), 1, 0) else {
                panic!("{status}")
            };
            assert!(message.contains(advice), "{message}");
        }
    }

    #[test]
    fn rate_limits_wait_as_asked_within_the_cap() {
        let asked = Reply {
            status: 429,
            retry_after: Some("1".into()),
            ..Reply::default()
        };
        assert_eq!(classify(&asked, 1, 0), Verdict::Retry(Duration::from_secs(1)));
        let reset = Reply {
            status: 403,
            remaining: Some("0".into()),
            reset: Some("1030".into()),
            ..Reply::default()
        };
        assert_eq!(classify(&reset, 1, 1000), Verdict::Retry(Duration::from_secs(30)));
        let far = Reply {
            status: 403,
            retry_after: Some("3600".into()),
            ..Reply::default()
        };
        assert_eq!(classify(&far, 1, 0), Verdict::Retry(MAX_WAIT));
    }
}
