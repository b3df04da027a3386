//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, keyed with the webhook secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::WebhookSecret;

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
    /// The signature does not match the body and the configured secret.
    #[error("the signature does not match the body (check the webhook secret)")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value) against `body`, in constant time.
pub fn verify(
    secret: &WebhookSecret,
    body: &[u8],
    header: Option<&[u8]>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .strip_prefix(b"sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex_digest.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let expected = hex::decode(hex_digest).map_err(|_| SignatureError::Malformed)?;
    let mut mac =
        HmacSha256::new_from_slice(secret.expose_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value GitHub would send for `body` (used by tests and the `sign` helper).
pub fn sign(secret: &WebhookSecret, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.expose_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented test vector.
    const VECTOR: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn secret() -> WebhookSecret {
        WebhookSecret::new("It's a Secret to Everybody").unwrap()
    }

    #[test]
    fn github_test_vector_verifies() {
        assert_eq!(
            verify(&secret(), b"Hello, World!", Some(VECTOR.as_bytes())),
            Ok(())
        );
        assert_eq!(sign(&secret(), b"Hello, World!"), VECTOR);
    }

    #[test]
    fn uppercase_hex_is_accepted() {
        let upper = format!("sha256={}", VECTOR[7..].to_uppercase());
        assert_eq!(
            verify(&secret(), b"Hello, World!", Some(upper.as_bytes())),
            Ok(())
        );
    }

    #[test]
    fn wrong_body_secret_or_header_is_rejected() {
        let other = WebhookSecret::new("another secret").unwrap();
        let secret = secret();
        type Case<'a> = (
            &'a WebhookSecret,
            &'a [u8],
            Option<&'a [u8]>,
            SignatureError,
        );
        let cases: Vec<Case> = vec![
            (
                &secret,
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
            (&secret, b"Hello, World!", None, SignatureError::Missing),
            (
                &secret,
                b"Hello, World!",
                Some(&VECTOR.as_bytes()[7..]),
                SignatureError::Malformed,
            ),
            (
                &secret,
                b"Hello, World!",
                Some(b"sha1=757107ea0eb2509fc211221cce984b8a37570b6d"),
                SignatureError::Malformed,
            ),
            (
                &secret,
                b"Hello, World!",
                Some(&VECTOR.as_bytes()[..70]),
                SignatureError::Malformed,
            ),
            (
                &secret,
                b"Hello, World!",
                Some(b"sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
                SignatureError::Malformed,
            ),
            (
                &secret,
                b"Hello, World!",
                Some(b""),
                SignatureError::Malformed,
            ),
        ];
        for (secret, body, header, expected) in cases {
            assert_eq!(
                verify(secret, body, header),
                Err(expected),
                "{:?}",
                header.map(String::from_utf8_lossy)
            );
        }
    }

    #[test]
    fn a_secret_with_surrounding_whitespace_is_trimmed() {
        let padded = WebhookSecret::new("  It's a Secret to Everybody\n").unwrap();
        assert_eq!(
            verify(&padded, b"Hello, World!", Some(VECTOR.as_bytes())),
            Ok(())
        );
        assert!(WebhookSecret::new(" \n").is_none());
        assert_eq!(format!("{padded:?}"), "WebhookSecret([REDACTED])");
    }
}
