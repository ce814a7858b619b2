//! How long each network wait may last, for every client lambda-build has (S3, the GitHub
//! release upload, the Zig download): bounded by what is waited for, not by one long timeout,
//! so a slow link is fine and a silent or stalled server fails in seconds to minutes.
//!
//! - connecting: [`CONNECT`];
//! - the start of an answer once the request is sent: [`FIRST_BYTE`];
//! - sending or receiving a body: [`FIRST_BYTE`] plus its length at [`RATE_FLOOR`] (so a server
//!   dripping its headers or body a byte a second fails too), see [`transfer`];
//! - no byte moving at all, where the client can watch for it: [`STALL_GRACE`].
//!
//! Retries repeat these, and a whole upload is bounded by `--upload-timeout` on top.

use std::time::Duration;

/// How long connecting (and resolving the name) may take.
pub const CONNECT: Duration = Duration::from_secs(10);

/// How long a request may wait for the start of its answer once sent: S3 and GitHub answer in
/// well under a second.
pub const FIRST_BYTE: Duration = Duration::from_secs(30);

/// The slowest average rate a body may move at, in bytes a second: a 50 MB zip may take 25
/// minutes, a stalled link fails.
pub const RATE_FLOOR: u64 = 32 * 1024;

/// How long a body may move no byte at all, where the client watches each chunk.
pub const STALL_GRACE: Duration = Duration::from_secs(20);

/// The most a request with a body of `bytes` (sent or received) may take, from sending it to
/// the end of its answer: [`FIRST_BYTE`] plus the body at [`RATE_FLOOR`].
pub fn transfer(bytes: u64) -> Duration {
    FIRST_BYTE + body_time(bytes)
}

/// How long a body of `bytes` may take at [`RATE_FLOOR`].
pub fn body_time(bytes: u64) -> Duration {
    Duration::from_secs(bytes / RATE_FLOOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_gets_the_first_byte_wait_plus_its_body_at_the_floor() {
        assert_eq!(transfer(0), FIRST_BYTE);
        assert_eq!(transfer(50 * 1024 * 1024), FIRST_BYTE + Duration::from_secs(1600));
        assert_eq!(
            transfer(u64::MAX),
            FIRST_BYTE + Duration::from_secs(u64::MAX / RATE_FLOOR)
        );
    }
}
