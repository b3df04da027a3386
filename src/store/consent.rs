//! Consent and limits: addresses waiting for confirmation, and the counts the guard in front of
//! the roster needs (new members per series per day, requests per person per day).

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::queue::insert_job;
use super::{NewJob, Store, StoreError, now, stamp};

/// A request waiting for its address to be confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConfirmation<'a> {
    /// The series.
    pub series_id: &'a str,
    /// `owner/name` of the issue.
    pub repo: &'a str,
    /// The issue.
    pub issue: u64,
    /// The requester's login.
    pub login: &'a str,
    /// The job to run once confirmed (the pipeline's `JobKind` as JSON; holds the address).
    pub request: &'a str,
    /// Until when the link works.
    pub expires_at: Timestamp,
}

/// What confirming did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// Confirmed now: this job sends the invitation.
    Now {
        /// The job that was queued.
        job_id: i64,
    },
    /// Confirmed before: nothing more to do.
    Already,
    /// No such confirmation (it was erased).
    Unknown,
    /// Too late: the request must be made again.
    Expired,
}

impl Store {
    /// Records a confirmation that waits; returns its id (the subject of the link's token).
    pub fn create_confirmation(&self, c: &NewConfirmation<'_>) -> Result<i64, StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO confirmations (series_id, repo, issue, login, request, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![c.series_id, c.repo, c.issue, c.login, c.request, now(), stamp(c.expires_at)],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Marks a confirmation confirmed and queues its job, in one transaction (a second click
    /// queues nothing).
    pub fn confirm(&self, id: i64, at: Timestamp) -> Result<Confirmed, StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            let row = tx
                .query_row(
                    "SELECT series_id, repo, issue, request, expires_at, confirmed_at FROM confirmations WHERE id = ?1",
                    [id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, u64>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, Option<String>>(5)?,
                        ))
                    },
                )
                .optional()?;
            let Some((series_id, repo, issue, request, expires_at, confirmed_at)) = row else {
                return Ok(Confirmed::Unknown);
            };
            if confirmed_at.is_some() {
                return Ok(Confirmed::Already);
            }
            if stamp(at) > expires_at {
                return Ok(Confirmed::Expired);
            }
            tx.execute(
                "UPDATE confirmations SET confirmed_at = ?2 WHERE id = ?1",
                params![id, stamp(at)],
            )?;
            let delivery_id = format!("confirm:{id}");
            let job = NewJob {
                delivery_id: &delivery_id,
                action: "confirmed",
                series_id: &series_id,
                repo: &repo,
                issue,
                request: &request,
                once_per_issue: false,
            };
            let job_id = insert_job(&tx, &job)?.expect("only once-per-issue jobs are refused");
            tx.commit()?;
            Ok(Confirmed::Now { job_id })
        })
    }

    /// New members a series took since `since`: requests that ended `invited`, plus
    /// confirmations still waiting (each may become a member).
    pub fn new_members_since(&self, series_id: &str, since: Timestamp) -> Result<u32, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT (SELECT count(*) FROM jobs WHERE series_id = ?1 AND outcome = 'invited' AND finished_at >= ?2)
                      + (SELECT count(*) FROM confirmations WHERE series_id = ?1 AND confirmed_at IS NULL AND created_at >= ?2)",
                params![series_id, stamp(since)],
                |r| r.get(0),
            )
        })
    }

    /// Join requests by `login` for a series since `since` that sent mail (an invitation, again,
    /// or a confirmation request).
    pub fn mailed_requests_since(
        &self,
        series_id: &str,
        login: &str,
        since: Timestamp,
    ) -> Result<u32, StoreError> {
        self.with(|conn| {
            conn.query_row(
                "SELECT count(*) FROM jobs WHERE series_id = ?1 AND finished_at >= ?3
                   AND outcome IN ('invited', 'invited-again', 'awaiting-confirmation')
                   AND lower(coalesce(json_extract(request, '$.Join.login'), json_extract(request, '$.Approved.request.login'), '')) = lower(?2)",
                params![series_id, login, stamp(since)],
                |r| r.get(0),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn confirmation(expires_at: Timestamp) -> NewConfirmation<'static> {
        NewConfirmation {
            series_id: "s",
            repo: "a/b",
            issue: 2,
            login: "ada",
            request: r#"{"Join":{"login":"ada"}}"#,
            expires_at,
        }
    }

    #[test]
    fn confirming_queues_one_job_once() {
        let (_dir, store) = store();
        let now = Timestamp::now();
        let id = store
            .create_confirmation(&confirmation(now + jiff::SignedDuration::from_hours(1)))
            .unwrap();
        assert_eq!(
            store
                .new_members_since("s", now - jiff::SignedDuration::from_hours(24))
                .unwrap(),
            1
        );
        let Confirmed::Now { job_id } = store.confirm(id, now).unwrap() else {
            panic!("expected a job");
        };
        assert_eq!(store.confirm(id, now).unwrap(), Confirmed::Already);
        let jobs = store.open_jobs().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].id, job_id);
        assert_eq!(jobs[0].request, r#"{"Join":{"login":"ada"}}"#);
        assert_eq!(jobs[0].issue, 2);
        assert_eq!(store.confirm(id + 1, now).unwrap(), Confirmed::Unknown);
    }

    #[test]
    fn an_expired_confirmation_queues_nothing() {
        let (_dir, store) = store();
        let now = Timestamp::now();
        let id = store
            .create_confirmation(&confirmation(now - jiff::SignedDuration::from_secs(1)))
            .unwrap();
        assert_eq!(store.confirm(id, now).unwrap(), Confirmed::Expired);
        assert!(store.open_jobs().unwrap().is_empty());
    }
}
