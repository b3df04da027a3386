//! What is waiting across the work tables (jobs, the outbox) and the mail failures: when the next
//! piece is due and how much there is, for the worker, `/metrics`, `/readyz` and `invitebot
//! status`; and giving up a row that can't be read.

use jiff::Timestamp;
use rusqlite::Connection;

use super::rows::first_row;
use super::{Store, StoreError, jobs, replies};

/// A job or an outbox row whose stored values can't be read (see
/// [`StoreError::unreadable_work`]): it can never run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnreadableWork {
    /// The job with this id.
    Job(i64),
    /// The outbox row with this id.
    Reply(i64),
}

/// The rows of a job or outbox table still to be done.
const PENDING: &str = "status = 'pending'";
/// The mail failures that wait for a retry.
const RETRYING: &str = "permanent = 0";

/// Counts for `status`, `/metrics` and `/readyz`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueueDepth {
    /// Pending jobs.
    pub jobs: u64,
    /// Pending replies.
    pub replies: u64,
    /// Members whose mail waits for a retry.
    pub mail: u64,
    /// Age in seconds of the oldest pending job or reply.
    pub oldest_age_seconds: f64,
}

impl Store {
    /// Gives up a row that can't be read, keeping `reason` (the worker then goes on to the next
    /// instead of stopping at it).
    pub fn give_up(&self, work: UnreadableWork, reason: &str) -> Result<(), StoreError> {
        match work {
            UnreadableWork::Job(id) => self.fail_job(id, reason),
            UnreadableWork::Reply(id) => self.fail_reply(id, reason),
        }
    }

    /// When the next pending job, reply or mail retry is due, if any.
    pub fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        self.with(|c| {
            let due = [
                earliest(c, jobs::TABLE, "next_attempt_at", PENDING)?,
                earliest(c, replies::TABLE, "next_attempt_at", PENDING)?,
                earliest(c, "mail_failures", "next_attempt_at", RETRYING)?,
            ];
            Ok(due.into_iter().flatten().min())
        })
    }

    /// What is waiting, for metrics and status.
    pub fn depth(&self) -> Result<QueueDepth, StoreError> {
        self.with(|c| {
            let (jobs, replies, mail) = c.query_row(
                "SELECT
                    (SELECT count(*) FROM jobs WHERE status = 'pending'),
                    (SELECT count(*) FROM outbox WHERE status = 'pending'),
                    (SELECT count(*) FROM mail_failures WHERE permanent = 0)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let oldest = [
                earliest(c, jobs::TABLE, "created_at", PENDING)?,
                earliest(c, replies::TABLE, "created_at", PENDING)?,
            ];
            let oldest_age_seconds = oldest.into_iter().flatten().min().map_or(0.0, |t| {
                Timestamp::now().duration_since(t).as_secs_f64().max(0.0)
            });
            Ok(QueueDepth {
                jobs,
                replies,
                mail,
                oldest_age_seconds,
            })
        })
    }
}

impl StoreError {
    /// The job or outbox row whose stored values can't be read, when that is what went wrong.
    pub fn unreadable_work(&self) -> Option<UnreadableWork> {
        match self {
            StoreError::Corrupt { table, row, .. } if *table == jobs::TABLE => {
                Some(UnreadableWork::Job(*row))
            }
            StoreError::Corrupt { table, row, .. } if *table == replies::TABLE => {
                Some(UnreadableWork::Reply(*row))
            }
            _ => None,
        }
    }
}

/// The earliest time in `column` among the rows of `table` that `filter` keeps (stored times
/// sort as text).
fn earliest(
    c: &Connection,
    table: &'static str,
    column: &'static str,
    filter: &str,
) -> Result<Option<Timestamp>, StoreError> {
    let sql =
        format!("SELECT rowid, {column} FROM {table} WHERE {filter} ORDER BY {column} LIMIT 1");
    first_row(c, table, &sql, [], |r| r.timestamp(column))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::group_commit::tests::accept_one;
    use crate::store::testing::{corrupt, store};

    #[test]
    fn an_empty_store_waits_for_nothing() {
        let (_dir, store) = store();
        assert_eq!(store.next_due_at().unwrap(), None);
        assert_eq!(store.depth().unwrap(), QueueDepth::default());
    }

    #[test]
    fn pending_work_is_counted_and_due() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        let depth = store.depth().unwrap();
        assert_eq!((depth.jobs, depth.replies, depth.mail), (1, 0, 0));
        assert!(store.next_due_at().unwrap().unwrap() <= Timestamp::now());
    }

    #[test]
    fn a_bad_due_time_is_an_error() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        corrupt(&store, "UPDATE jobs SET next_attempt_at = '0'");
        let error = store.next_due_at().unwrap_err().to_string();
        assert!(
            error.contains("jobs row 1 has an unreadable next_attempt_at"),
            "{error}"
        );
    }
}
