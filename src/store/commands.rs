//! `commands`: the issue comments whose command was accepted, by GitHub's comment id. A comment
//! delivered again (a redelivery under a new id, catch-up) finds its id here and runs no second
//! time.

use rusqlite::{Connection, params};

use super::StoreError;
use super::accepted_bodies::insert_once;
use super::columns::Stamp;

/// Records `comment_id` for `delivery_id` inside the caller's transaction; `false` when the
/// comment's command was accepted before.
pub(super) fn record(
    c: &Connection,
    comment_id: u64,
    delivery_id: &str,
) -> Result<bool, StoreError> {
    insert_once(
        c,
        "INSERT OR IGNORE INTO commands (comment_id, delivery_id, accepted_at) VALUES (?1, ?2, ?3)",
        params![comment_id, delivery_id, Stamp::now()],
    )
}
