//! Signed link tokens: what a link in a mail or a comment may do, for whom, until when.
//!
//! A token is `base64url(payload) "." base64url(mac)`, where the payload is a small JSON object
//! (`{"p": purpose, "s": subject, "e": expiry}`) and the MAC is HMAC-SHA256 keyed with the
//! deployment's [`LinkKey`] over a domain-separated text (`invitebot-link-v1` + payload). The
//! purpose is part of what is signed, so a token made for one purpose (leaving a series) can't
//! be used for another (confirming an address), and the subject names the one member or request
//! it is for. Tokens carry no email address: a link can be logged by a proxy without leaking one.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::core::identity::Login;

type HmacSha256 = Hmac<Sha256>;

/// The text every MAC starts with: a key used elsewhere can't produce a valid token.
const DOMAIN: &[u8] = b"invitebot-link-v1\n";

/// Longest token accepted (a real one is ~150 characters).
const MAX_TOKEN_LEN: usize = 1024;

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Confirming an address (double opt-in); the subject is the confirmation's id.
    #[serde(rename = "confirm")]
    Confirm,
    /// Leaving a series; the subject names the series, the member and their address's digest.
    #[serde(rename = "leave")]
    Leave,
    /// Giving an address privately for a join request; the subject names the request.
    #[serde(rename = "email")]
    Email,
    /// The `state` of a sign-in with GitHub for one private form link; the subject is the
    /// link's [`link_digest`].
    #[serde(rename = "sign-in")]
    SignInState,
    /// Proof that the issue's author signed in with GitHub for one private form link; the
    /// subject is the link's [`link_digest`] and the login.
    #[serde(rename = "signed-in")]
    SignedIn,
}

/// A digest of a link's token, binding another token (a sign-in's `state`, its proof) to that
/// one link.
pub fn link_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(token.as_bytes())[..16])
}

/// The key tokens are signed with. Its `Debug` form is redacted.
#[derive(Clone)]
pub struct LinkKey(SecretSlice<u8>);

impl LinkKey {
    /// A key from secret bytes (the configured link secret, or the generated key file).
    pub fn new(secret: &[u8]) -> Self {
        // Derived rather than used as is: the configured secret may be shared with other uses.
        let mut mac = HmacSha256::new_from_slice(b"invitebot link key").expect("any key length");
        mac.update(secret);
        Self(SecretSlice::from(mac.finalize().into_bytes().to_vec()))
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.0.expose_secret())
            .expect("HMAC accepts any key length");
        mac.update(DOMAIN);
        mac.update(payload);
        mac
    }

    /// Signs a token for `purpose` and `subject`, valid until `expires` (forever if `None`).
    pub fn sign(&self, purpose: Purpose, subject: &str, expires: Option<Timestamp>) -> String {
        let claims = Claims {
            purpose,
            subject: subject.to_string(),
            expires: expires.map(|t| t.as_second()),
        };
        let payload = serde_json::to_vec(&claims).expect("plain fields serialise");
        let mac = self.mac(&payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// Checks a token: well formed, signed with this key (compared in constant time), made for
    /// `purpose` and not expired at `now`. Returns its subject.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now: Timestamp,
    ) -> Result<String, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let (payload, mac) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenError::Malformed)?;
        if mac.len() != 32 {
            return Err(TokenError::Malformed);
        }
        self.mac(&payload)
            .verify_slice(&mac)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.purpose != purpose {
            return Err(TokenError::WrongPurpose);
        }
        if claims.expires.is_some_and(|e| now.as_second() > e) {
            return Err(TokenError::Expired);
        }
        Ok(claims.subject)
    }
}

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey([REDACTED])")
    }
}

/// Why a token is not accepted. Says nothing about the key or the expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token at all.
    #[error("the link is malformed")]
    Malformed,
    /// Changed, or signed with another key.
    #[error("the link's signature does not match")]
    BadSignature,
    /// A token made for something else.
    #[error("the link is not meant for this page")]
    WrongPurpose,
    /// Past its expiry.
    #[error("the link has expired")]
    Expired,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "p")]
    purpose: Purpose,
    #[serde(rename = "s")]
    subject: String,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    expires: Option<i64>,
}

/// What the MAC of an address digest starts with (so it is never a valid token's MAC).
const ADDRESS_DOMAIN: &[u8] = b"invitebot-leave-address-v2\n";

impl LinkKey {
    /// A keyed digest of an address for a leave token's subject (HMAC-SHA256 with the link key,
    /// 128 bits): binds the link to the address the invitation went to without putting the
    /// address in the link, and without letting anyone who sees the link check a guessed
    /// address offline (an unkeyed hash would).
    pub fn address_digest(&self, address: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(self.0.expose_secret())
            .expect("HMAC accepts any key length");
        mac.update(ADDRESS_DOMAIN);
        mac.update(address.to_ascii_lowercase().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// The subject of a leave token: series, member (lower-case login) and address digest.
    pub fn leave_subject(&self, series_id: &str, login: &Login, address: &str) -> String {
        format!(
            "{series_id}\n{}\n{}",
            login.key(),
            self.address_digest(address)
        )
    }
}

/// The parts of a leave token's subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveSubject {
    /// The series.
    pub series_id: String,
    /// The member's login.
    pub login: Login,
    /// [`LinkKey::address_digest`] of the address the invitation went to.
    pub digest: String,
}

impl LeaveSubject {
    /// Reads a verified subject (made by [`LinkKey::leave_subject`]).
    pub fn parse(subject: &str) -> Option<Self> {
        let mut parts = subject.split('\n');
        let (series_id, login, digest) = (parts.next()?, parts.next()?, parts.next()?);
        parts.next().is_none().then(|| Self {
            series_id: series_id.to_string(),
            login: Login::new(login),
            digest: digest.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LinkKey {
        LinkKey::new(b"test link secret")
    }

    fn now() -> Timestamp {
        "2026-11-26T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_token_verifies_for_its_purpose() {
        let token = key().sign(Purpose::Confirm, "17", None);
        assert_eq!(
            key().verify(&token, Purpose::Confirm, now()),
            Ok("17".into())
        );
    }

    #[test]
    fn a_token_for_one_purpose_is_refused_for_another() {
        let token = key().sign(Purpose::Leave, "ispo\nada\n00", None);
        assert_eq!(
            key().verify(&token, Purpose::Confirm, now()),
            Err(TokenError::WrongPurpose)
        );
    }

    #[test]
    fn another_key_or_a_changed_payload_is_refused() {
        let token = key().sign(Purpose::Confirm, "17", None);
        let other = LinkKey::new(b"another secret");
        assert_eq!(
            other.verify(&token, Purpose::Confirm, now()),
            Err(TokenError::BadSignature)
        );
        // Re-sign nothing, just swap the subject: the MAC no longer matches.
        let (_, mac) = token.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(br#"{"p":"confirm","s":"18"}"#);
        assert_eq!(
            key().verify(&format!("{forged_payload}.{mac}"), Purpose::Confirm, now()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let expires = now() - jiff::SignedDuration::from_secs(1);
        let token = key().sign(Purpose::Email, "x", Some(expires));
        assert_eq!(
            key().verify(&token, Purpose::Email, now()),
            Err(TokenError::Expired)
        );
        let later = key().sign(Purpose::Email, "x", Some(now()));
        assert!(key().verify(&later, Purpose::Email, now()).is_ok());
    }

    #[test]
    fn garbage_is_malformed() {
        for token in ["", ".", "abc", "a.b", "!!!.???", &"a".repeat(2000)] {
            assert_eq!(
                key().verify(token, Purpose::Confirm, now()),
                Err(TokenError::Malformed),
                "{token:?}"
            );
        }
    }

    #[test]
    fn leave_subjects_round_trip_and_bind_the_address() {
        let subject = key().leave_subject("ispo-wg", &Login::new("Ada"), "Ada@Example.org");
        let parsed = LeaveSubject::parse(&subject).unwrap();
        assert_eq!(parsed.series_id, "ispo-wg");
        assert_eq!(parsed.login.as_str(), "ada");
        assert_eq!(parsed.digest, key().address_digest("ada@example.org"));
        assert_ne!(parsed.digest, key().address_digest("eve@example.org"));
        assert!(!subject.contains("example.org"));
        assert!(LeaveSubject::parse("a\nb").is_none());
    }

    #[test]
    fn the_address_digest_needs_the_key() {
        use sha2::Digest;
        let digest = key().address_digest("ada@example.org");
        assert_eq!(digest.len(), 32);
        assert_ne!(
            digest,
            LinkKey::new(b"another").address_digest("ada@example.org")
        );
        // Not the unkeyed SHA-256 earlier versions put in the link.
        let unkeyed = hex::encode(Sha256::digest(b"ada@example.org"));
        assert!(!unkeyed.starts_with(&digest[..16]));
    }

    #[test]
    fn the_key_is_redacted() {
        assert_eq!(format!("{:?}", key()), "LinkKey([REDACTED])");
    }
}
