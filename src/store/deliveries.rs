//! `deliveries`: every verified webhook delivery seen, with what became of it. A delivery id is
//! recorded once: GitHub's redeliveries and retries find it and change nothing.

use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::accepted_bodies;
use super::columns::Stamp;
use super::jobs::{NewJob, insert_job};
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
    /// Records verified deliveries and, for join or leave requests, their jobs, in one
    /// transaction (group commit, see [`super::GroupCommit`]): when a delivery comes back `New`,
    /// its work survives a crash. Each is handled in order, as if alone: a delivery id seen
    /// before records nothing and comes back `Duplicate`. If the commit fails, none is recorded.
    pub fn accept_deliveries(
        &self,
        batch: &[(DeliveryRecord, Option<NewJob<'_>>)],
    ) -> Result<Vec<Accepted>, StoreError> {
        self.transaction(|tx| {
            batch
                .iter()
                .map(|(delivery, job)| accept(tx, delivery, job.as_ref()))
                .collect()
        })
    }

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

/// Records one delivery and its job inside the caller's transaction.
fn accept(
    tx: &Connection,
    delivery: &DeliveryRecord,
    job: Option<&NewJob<'_>>,
) -> Result<Accepted, StoreError> {
    if !insert(tx, delivery)? {
        return Ok(Accepted::Duplicate);
    }
    if let Some(digest) = job.and_then(|job| job.body)
        && !accepted_bodies::record(tx, digest, &delivery.id)?
    {
        set_outcome(tx, &delivery.id, "replayed")?;
        return Ok(Accepted::Replayed);
    }
    if let Some(job) = job
        && insert_job(tx, job)?.is_none()
    {
        set_outcome(tx, &delivery.id, "already-handled")?;
        return Ok(Accepted::AlreadyHandled);
    }
    Ok(Accepted::New)
}

/// Inserts a delivery unless its id was seen; returns whether it was new.
fn insert(c: &Connection, d: &DeliveryRecord) -> Result<bool, StoreError> {
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
    use crate::core::job::JobKind;
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

    fn leave() -> JobKind {
        JobKind::LeaveByLink {
            login: "ada".into(),
        }
    }

    pub(in crate::store) fn job<'a>(delivery_id: &'a str, kind: &'a JobKind) -> NewJob<'a> {
        NewJob {
            delivery_id,
            action: "opened",
            series_id: "s",
            repo: "A/B",
            issue: 2,
            kind,
            once_per_issue: true,
            body: None,
        }
    }

    /// Accepts delivery `id` with its job, alone in its transaction.
    pub(in crate::store) fn accept_one(store: &Store, id: &str) -> Accepted {
        let kind = leave();
        store
            .accept_deliveries(&[(delivery(id), Some(job(id, &kind)))])
            .unwrap()[0]
    }

    #[test]
    fn a_delivery_is_accepted_once_with_its_job() {
        let (_dir, store) = store();
        assert_eq!(accept_one(&store, "d1"), Accepted::New);
        assert_eq!(accept_one(&store, "d1"), Accepted::Duplicate);
        // Another delivery for the same issue (catch-up took it, or GitHub sends `labeled`).
        assert_eq!(accept_one(&store, "d2"), Accepted::AlreadyHandled);
        let kind = leave();
        assert_eq!(store.add_job(&job("catch-up:a/b#2", &kind)).unwrap(), None);
        let reopened = NewJob {
            once_per_issue: false,
            body: None,
            ..job("d3", &kind)
        };
        assert!(store.add_job(&reopened).unwrap().is_some());
        assert_eq!(store.open_jobs().unwrap().len(), 2);
        assert!(store.has_job_for("a/b", 2).unwrap());
        let recent = store.recent_deliveries(10).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].outcome, "already-handled");
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
