//! What the work rows (jobs and outbox rows) share: where each stands ([`WorkState`]: status,
//! attempts, next attempt) and scheduling a retry. What is waiting across the tables is in
//! [`super::waiting`].

use std::fmt;

use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::StoreError;
use super::columns::{Stamp, Word, stored_as_words};
use super::rows::StoredRow;

/// Where a job or an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkStatus {
    /// Still to be done (when due).
    Pending,
    /// Done.
    Done,
    /// Given up for good.
    Failed,
}

stored_as_words!(WorkStatus {
    Pending => "pending",
    Done => "done",
    Failed => "failed",
});

impl fmt::Display for WorkStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.word())
    }
}

/// A job's or an outbox row's status and attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkState {
    /// Where it stands.
    pub status: WorkStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was accepted (the retry schedule counts from here).
    pub created_at: Timestamp,
}

/// The status and attempts of a job or outbox row.
pub(super) fn work_state(r: &StoredRow<'_, '_>) -> Result<WorkState, StoreError> {
    Ok(WorkState {
        status: r.get("status")?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.timestamp("next_attempt_at")?,
        last_error: r.get("last_error")?,
        created_at: r.timestamp("created_at")?,
    })
}

/// Schedules the next attempt of a job or an outbox row (`table`), keeping the error.
pub(super) fn schedule_retry(
    c: &Connection,
    table: &str,
    id: i64,
    next: Timestamp,
    error: &str,
) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "UPDATE {table} SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1"
        ),
        params![id, Stamp(next), error],
    )?;
    Ok(())
}
