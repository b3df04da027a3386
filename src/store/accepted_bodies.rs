//! `accepted_bodies`: the SHA-256 of the body of every delivery that asked for work. A signed
//! body sent again under a new `X-GitHub-Delivery` (a replay: the signature stays valid for the
//! same bytes) is recognised by it and handled once.

use rusqlite::{Connection, params};

use super::StoreError;
use super::columns::Stamp;

/// The SHA-256 of a delivery's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDigest(pub [u8; 32]);

impl BodyDigest {
    /// The digest of `body`.
    pub fn of(body: &[u8]) -> Self {
        use sha2::{Digest, Sha256};
        BodyDigest(Sha256::digest(body).into())
    }
}

/// Records `digest` for `delivery_id` inside the caller's transaction; `false` when it was
/// recorded before (the body was accepted already).
pub(super) fn record(
    c: &Connection,
    digest: BodyDigest,
    delivery_id: &str,
) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO accepted_bodies (sha256, delivery_id, accepted_at)
             VALUES (?1, ?2, ?3)",
        )?
        .execute(params![hex::encode(digest.0), delivery_id, Stamp::now()])?;
    Ok(inserted > 0)
}
