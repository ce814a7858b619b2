//! Verification of a downloaded Zig: the SHA-256 the download index gives, and the minisign
//! signature made with the Zig project's key. Both must pass; there is no switch to skip either.

use anyhow::{Context, bail};
use minisign_verify::{PublicKey, Signature};
use sha2::{Digest, Sha256};

use crate::cli::EnvVars;

/// The Zig project's minisign public key, as published on <https://ziglang.org/download/>.
pub const ZIG_PUBLIC_KEY: &str = "RWSGOq2NVecA2UPNdBUZykf1CCb147pkmdtYxgb3Ti+JO/wCYvhbAb/U";

/// Debug builds (the test suite's) accept a test key from this variable, so tests can sign the
/// tarballs they serve. Release builds do not contain this code.
#[cfg(debug_assertions)]
pub const TEST_KEY_VAR: &str = "LAMBDA_BUILD_TEST_ZIG_PUBLIC_KEY";

/// The key signatures are checked against.
pub fn public_key(env: &EnvVars) -> String {
    #[cfg(debug_assertions)]
    if let Some(key) = env.get(TEST_KEY_VAR) {
        return key.to_owned();
    }
    let _ = env;
    ZIG_PUBLIC_KEY.to_owned()
}

/// Checks a tarball against the index's SHA-256 and its minisign signature. The signature's
/// trusted comment must name the same file, so a validly signed but different tarball (an older
/// version, another platform) cannot be passed off as the one asked for.
pub fn check_tarball(
    bytes: &[u8],
    sha256_hex: &str,
    signature: &str,
    file_name: &str,
    key: &str,
) -> anyhow::Result<()> {
    let actual = crate::record::hex(&Sha256::digest(bytes));
    if !actual.eq_ignore_ascii_case(sha256_hex.trim()) {
        bail!("SHA-256 mismatch: the index says {sha256_hex}, the download is {actual}");
    }
    let key = PublicKey::from_base64(key)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reading the Zig public key")?;
    let signature = Signature::decode(signature)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reading the minisign signature")?;
    key.verify(bytes, &signature, false)
        .map_err(|e| anyhow::anyhow!("minisign signature does not verify with the Zig key: {e}"))?;
    let named = signature
        .trusted_comment()
        .split_whitespace()
        .any(|word| word.strip_prefix("file:") == Some(file_name));
    if !named {
        bail!(
            "the signature is for another file (trusted comment {:?}, expected file:{file_name})",
            signature.trusted_comment()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(bytes: &[u8], comment: &str) -> (String, String) {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        let signature = minisign::sign(Some(&pair.pk), &pair.sk, bytes, Some(comment), None).unwrap();
        (pair.pk.to_base64(), signature.into_string())
    }

    fn sha(bytes: &[u8]) -> String {
        crate::record::hex(&Sha256::digest(bytes))
    }

    #[test]
    fn a_matching_signed_tarball_passes() {
        let (key, sig) = signed(b"zig", "timestamp:0\tfile:zig.tar.xz");
        check_tarball(b"zig", &sha(b"zig"), &sig, "zig.tar.xz", &key).unwrap();
    }

    #[test]
    fn a_wrong_checksum_is_refused_before_the_signature() {
        let (key, sig) = signed(b"zig", "file:zig.tar.xz");
        let err = check_tarball(b"zig", &sha(b"other"), &sig, "zig.tar.xz", &key).unwrap_err();
        assert!(err.to_string().starts_with("SHA-256 mismatch"), "{err}");
    }

    #[test]
    fn a_signature_by_another_key_is_refused() {
        let (_, sig) = signed(b"zig", "file:zig.tar.xz");
        let err = check_tarball(b"zig", &sha(b"zig"), &sig, "zig.tar.xz", ZIG_PUBLIC_KEY).unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
    }

    #[test]
    fn a_signature_over_other_bytes_is_refused() {
        let (key, sig) = signed(b"other", "file:zig.tar.xz");
        let err = check_tarball(b"zig", &sha(b"zig"), &sig, "zig.tar.xz", &key).unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
    }

    #[test]
    fn a_signature_for_another_file_name_is_refused() {
        let (key, sig) = signed(b"zig", "file:zig-0.1.0.tar.xz");
        let err = check_tarball(b"zig", &sha(b"zig"), &sig, "zig.tar.xz", &key).unwrap_err();
        assert!(err.to_string().contains("another file"), "{err}");
    }

    #[test]
    fn garbage_is_not_a_signature() {
        let err = check_tarball(b"zig", &sha(b"zig"), "not a signature", "zig.tar.xz", ZIG_PUBLIC_KEY).unwrap_err();
        assert!(format!("{err:#}").contains("minisign signature"), "{err:#}");
    }

    #[test]
    fn the_pinned_key_parses() {
        PublicKey::from_base64(ZIG_PUBLIC_KEY).unwrap();
    }
}
