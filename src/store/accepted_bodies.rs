//! `accepted_bodies`: what identifies the body of every delivery that asked for work. A signed
//! body sent again under a new `X-GitHub-Delivery` (a replay: the signature stays valid for the
//! same bytes) is recognised by it and handled once.

use rusqlite::{Connection, params};

use super::StoreError;
use super::columns::Stamp;

/// What identifies a delivery's body: its verified `X-Hub-Signature-256`, the HMAC-SHA256 of
/// the body under the webhook secret. The same bytes sent again carry the same signature, and
/// no other body can (without the secret), so it serves as a digest that costs nothing more.
/// (Before migration 9 the store kept the body's plain SHA-256, which no signature matches: a
/// body accepted before the upgrade is still recognised by its delivery id and its issue.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDigest(pub [u8; 32]);

/// Records `digest` for `delivery_id` inside the caller's transaction; `false` when it was
/// recorded before (the body was accepted already).
pub(super) fn record(
    c: &Connection,
    digest: BodyDigest,
    delivery_id: &str,
) -> Result<bool, StoreError> {
    insert_once(
        c,
        "INSERT OR IGNORE INTO accepted_bodies (signature, delivery_id, accepted_at)
         VALUES (?1, ?2, ?3)",
        params![hex::encode(digest.0), delivery_id, Stamp::now()],
    )
}

/// Runs an `INSERT OR IGNORE` keyed on what must be recorded once; `false` when the row was
/// there already.
pub(super) fn insert_once(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(sql)?.execute(params)? > 0)
}
