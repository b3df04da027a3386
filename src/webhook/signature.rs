//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed with the webhook secret (any of
//! the configured ones, so that a secret can be rotated without losing deliveries).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::webhook::settings::{WebhookSecret, WebhookSecrets};

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was not accepted. Says nothing about the expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<64 hex digits>")]
    Malformed,
    /// The signature does not match the body and any configured secret.
    #[error("the signature does not match the body (check the webhook secret)")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value) against `body` and each of `secrets`, and
/// returns the signature it verified: the HMAC-SHA256 of `body` under one of the secrets, which
/// identifies the body as well as a digest of it would (a replay carries the same bytes and the
/// same signature) without hashing it again.
///
/// Each comparison runs in constant time, and every secret is tried whatever the outcome of
/// the others, so the time taken says nothing about which secret matched or how close a
/// guess came.
pub fn verify(
    secrets: &WebhookSecrets,
    body: &[u8],
    header: Option<&[u8]>,
) -> Result<[u8; 32], SignatureError> {
    let expected = parse(header)?;
    let matched = secrets
        .iter()
        .map(|secret| mac(secret, body).verify_slice(&expected).is_ok())
        .fold(false, |any, this| any | this);
    if matched {
        Ok(expected)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Whether `header` has the form of a signature (checked before a body is read for it).
pub fn check_form(header: Option<&[u8]>) -> Result<(), SignatureError> {
    parse(header).map(|_| ())
}

/// The digest in a header of the form `sha256=<64 hex digits>`.
fn parse(header: Option<&[u8]>) -> Result<[u8; 32], SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .strip_prefix(b"sha256=")
        .ok_or(SignatureError::Malformed)?;
    let mut digest = [0; 32];
    hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| SignatureError::Malformed)?;
    Ok(digest)
}

/// The HMAC of `body` keyed with `secret`, ready to finalise or verify.
fn mac(secret: &WebhookSecret, body: &[u8]) -> HmacSha256 {
    let mut mac = secret.hmac();
    mac.update(body);
    mac
}

/// The header value GitHub would send for `body` (used by tests and the `sign` helper).
pub fn sign(secret: &WebhookSecret, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, body).finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented test vector.
    const VECTOR: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    const VECTOR_SECRET: &str = "It's a Secret to Everybody";

    /// The test vector's signature, as bytes.
    fn vector() -> [u8; 32] {
        let mut bytes = [0; 32];
        hex::decode_to_slice(&VECTOR[7..], &mut bytes).unwrap();
        bytes
    }

    fn secret(text: &str) -> WebhookSecret {
        WebhookSecret::new(text).unwrap()
    }

    fn only(text: &str) -> WebhookSecrets {
        secret(text).into()
    }

    #[test]
    fn github_test_vector_verifies() {
        assert_eq!(
            verify(
                &only(VECTOR_SECRET),
                b"Hello, World!",
                Some(VECTOR.as_bytes())
            ),
            Ok(vector())
        );
        assert_eq!(sign(&secret(VECTOR_SECRET), b"Hello, World!"), VECTOR);
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let upper = format!("sha256={}", VECTOR[7..].to_uppercase());
        assert_eq!(
            verify(
                &only(VECTOR_SECRET),
                b"Hello, World!",
                Some(upper.as_bytes())
            ),
            Ok(vector())
        );
    }

    #[test]
    fn any_configured_secret_is_accepted_and_no_other() {
        let body = b"{\"zen\":\"rotate\"}";
        let both = WebhookSecrets::from_lines("old-secret\nnew-secret\n").unwrap();
        for key in ["old-secret", "new-secret"] {
            let header = sign(&secret(key), body);
            assert_eq!(
                verify(&both, body, Some(header.as_bytes())).map(hex::encode),
                Ok(header[7..].to_string()),
                "{key}"
            );
        }
        let retired = sign(&secret("older-secret"), body);
        assert_eq!(
            verify(&both, body, Some(retired.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        let new_only = only("new-secret");
        let old = sign(&secret("old-secret"), body);
        assert_eq!(
            verify(&new_only, body, Some(old.as_bytes())),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn wrong_body_secret_or_header_is_rejected() {
        let other = only("another secret");
        let secrets = only(VECTOR_SECRET);
        type Case<'a> = (
            &'a WebhookSecrets,
            &'a [u8],
            Option<&'a [u8]>,
            SignatureError,
        );
        let cases: Vec<Case> = vec![
            (
                &secrets,
                b"Hello, World?",
                Some(VECTOR.as_bytes()),
                SignatureError::Mismatch,
            ),
            (
                &other,
                b"Hello, World!",
                Some(VECTOR.as_bytes()),
                SignatureError::Mismatch,
            ),
            (&secrets, b"Hello, World!", None, SignatureError::Missing),
            (
                &secrets,
                b"Hello, World!",
                Some(&VECTOR.as_bytes()[7..]),
                SignatureError::Malformed,
            ),
            (
                &secrets,
                b"Hello, World!",
                Some(b"sha1=757107ea0eb2509fc211221cce984b8a37570b6d"),
                SignatureError::Malformed,
            ),
            (
                &secrets,
                b"Hello, World!",
                Some(&VECTOR.as_bytes()[..70]),
                SignatureError::Malformed,
            ),
            (
                &secrets,
                b"Hello, World!",
                Some(b"sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                SignatureError::Malformed,
            ),
            (
                &secrets,
                b"Hello, World!",
                Some(b""),
                SignatureError::Malformed,
            ),
        ];
        for (secrets, body, header, expected) in cases {
            assert_eq!(
                verify(secrets, body, header),
                Err(expected),
                "{:?}",
                header.map(String::from_utf8_lossy)
            );
        }
    }

    #[test]
    fn a_secret_with_surrounding_whitespace_is_trimmed() {
        let padded = only("  It's a Secret to Everybody\n");
        assert_eq!(
            verify(&padded, b"Hello, World!", Some(VECTOR.as_bytes())),
            Ok(vector())
        );
        assert!(WebhookSecret::new(" \n").is_none());
        assert_eq!(
            format!("{padded:?}"),
            "WebhookSecrets([WebhookSecret([REDACTED])])"
        );
    }
}
