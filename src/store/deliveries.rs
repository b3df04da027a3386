//! `deliveries`: every verified webhook delivery seen, with what became of it. A delivery id is
//! recorded once: GitHub's redeliveries and retries find it and change nothing.

use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::columns::Stamp;
use super::rows::{StoredRow, all_rows};
use super::{Store, StoreError};

/// The table.
const TABLE: &str = "deliveries";

/// What happened to a new delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Recorded (with its job, if any).
    New,
    /// This delivery id was seen before: nothing recorded.
    Duplicate,
    /// Recorded, but the issue is handled (or being handled) already: no job added.
    AlreadyHandled,
    /// Recorded, but a delivery with the same body was accepted before (a replay under a new
    /// delivery id): no job added.
    Replayed,
}

/// A verified delivery, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `X-GitHub-Delivery`.
    pub id: String,
    /// `X-GitHub-Event`.
    pub event: String,
    /// The payload's action.
    pub action: Option<String>,
    /// `owner/name`, for issues.
    pub repo: Option<String>,
    /// The issue number, for issues.
    pub issue: Option<u64>,
    /// When it arrived.
    pub received_at: Timestamp,
    /// What became of it (`queued`, `ignored`, `not-a-join-request`, then the job's outcome):
    /// an open set of words, kept as text.
    pub outcome: String,
}

impl Store {
    /// Records deliveries that need nothing, in one transaction (ids seen before are skipped).
    pub fn record_deliveries(&self, deliveries: &[DeliveryRecord]) -> Result<(), StoreError> {
        self.transaction(|tx| {
            for delivery in deliveries {
                insert(tx, delivery)?;
            }
            Ok(())
        })
    }

    /// The most recent deliveries, newest first.
    pub fn recent_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.with(|c| {
            all_rows(
                c,
                TABLE,
                "SELECT rowid, id, event, action, repo, issue, received_at, outcome
                 FROM deliveries ORDER BY received_at DESC LIMIT ?1",
                [limit as i64],
                delivery_record,
            )
        })
    }
}

/// Inserts a delivery unless its id was seen; returns whether it was new.
pub(super) fn insert(c: &Connection, d: &DeliveryRecord) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO deliveries (id, event, action, repo, issue, received_at, outcome)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            d.id,
            d.event,
            d.action,
            d.repo,
            d.issue,
            Stamp(d.received_at),
            d.outcome
        ])?;
    Ok(inserted > 0)
}

/// Records what became of a delivery.
pub(super) fn set_outcome(c: &Connection, id: &str, outcome: &str) -> Result<(), StoreError> {
    c.execute(
        "UPDATE deliveries SET outcome = ?2 WHERE id = ?1",
        params![id, outcome],
    )?;
    Ok(())
}

fn delivery_record(r: &StoredRow<'_, '_>) -> Result<DeliveryRecord, StoreError> {
    Ok(DeliveryRecord {
        id: r.get("id")?,
        event: r.get("event")?,
        action: r.get("action")?,
        repo: r.get("repo")?,
        issue: r.get("issue")?,
        received_at: r.timestamp("received_at")?,
        outcome: r.get("outcome")?,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::testing::{corrupt, store};

    pub(in crate::store) fn delivery(id: &str) -> DeliveryRecord {
        DeliveryRecord {
            id: id.into(),
            event: "issues".into(),
            action: Some("opened".into()),
            repo: Some("a/b".into()),
            issue: Some(2),
            // Whole microseconds, as stored.
            received_at: "2026-01-01T10:00:00.123456Z".parse().unwrap(),
            outcome: "queued".into(),
        }
    }

    #[test]
    fn ignored_deliveries_are_recorded_once_with_their_time() {
        let (_dir, store) = store();
        let first = delivery("d1");
        store
            .record_deliveries(&[first.clone(), delivery("d1")])
            .unwrap();
        assert_eq!(store.recent_deliveries(10).unwrap(), [first]);
    }

    #[test]
    fn a_bad_arrival_time_is_an_error() {
        let (_dir, store) = store();
        store.record_deliveries(&[delivery("d1")]).unwrap();
        corrupt(&store, "UPDATE deliveries SET received_at = 'Tuesday'");
        let error = store.recent_deliveries(1).unwrap_err().to_string();
        assert!(
            error.contains("deliveries row 1 has an unreadable received_at"),
            "{error}"
        );
    }
}
