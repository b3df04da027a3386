//! `confirmations`: join requests waiting for their address to be confirmed (double opt-in).
//! The click on the link in the mail queues the request's job, once.

use jiff::Timestamp;
use rusqlite::params;

use super::columns::{Json, Stamp, to_json};
use super::jobs::{NewJob, insert_job};
use super::rows::{StoredRow, first_row};
use super::{Store, StoreError};
use crate::core::job::JobKind;

/// The table.
const TABLE: &str = "confirmations";

/// A request waiting for its address to be confirmed.
#[derive(Debug, Clone)]
pub struct NewConfirmation<'a> {
    /// The series.
    pub series_id: &'a str,
    /// `owner/name` of the issue.
    pub repo: &'a str,
    /// The issue.
    pub issue: u64,
    /// The requester's login.
    pub login: &'a str,
    /// The job to run once confirmed (holds the address; stored as JSON).
    pub request: &'a JobKind,
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

/// A stored confirmation, as confirming needs it.
struct StoredConfirmation {
    series_id: String,
    repo: String,
    issue: u64,
    request: JobKind,
    expires_at: Timestamp,
    confirmed: bool,
}

impl Store {
    /// Records a confirmation that waits; returns its id (the subject of the link's token).
    pub fn create_confirmation(&self, c: &NewConfirmation<'_>) -> Result<i64, StoreError> {
        let request = to_json(TABLE, "request", c.request)?;
        self.with(|conn| {
            conn.execute(
                "INSERT INTO confirmations (series_id, repo, issue, login, request, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![c.series_id, c.repo, c.issue, c.login, request, Stamp::now(), Stamp(c.expires_at)],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Marks a confirmation confirmed and queues its job, in one transaction (a second click
    /// queues nothing).
    pub fn confirm(&self, id: i64, at: Timestamp) -> Result<Confirmed, StoreError> {
        self.transaction(|tx| {
            let Some(stored) = first_row(
                tx,
                TABLE,
                "SELECT id, series_id, repo, issue, request, expires_at, confirmed_at FROM confirmations WHERE id = ?1",
                [id],
                stored_confirmation,
            )?
            else {
                return Ok(Confirmed::Unknown);
            };
            if stored.confirmed {
                return Ok(Confirmed::Already);
            }
            if at > stored.expires_at {
                return Ok(Confirmed::Expired);
            }
            tx.execute(
                "UPDATE confirmations SET confirmed_at = ?2 WHERE id = ?1",
                params![id, Stamp(at)],
            )?;
            let delivery_id = format!("confirm:{id}");
            let job = NewJob {
                delivery_id: &delivery_id,
                action: "confirmed",
                series_id: &stored.series_id,
                repo: &stored.repo,
                issue: stored.issue,
                kind: &stored.request,
                once_per_issue: false,
                body: None,
            };
            let job_id = insert_job(tx, &job)?.expect("only once-per-issue jobs are refused");
            Ok(Confirmed::Now { job_id })
        })
    }
}

fn stored_confirmation(r: &StoredRow<'_, '_>) -> Result<StoredConfirmation, StoreError> {
    Ok(StoredConfirmation {
        series_id: r.get("series_id")?,
        repo: r.get("repo")?,
        issue: r.get("issue")?,
        request: r.get::<Json<JobKind>>("request")?.0,
        expires_at: r.timestamp("expires_at")?,
        confirmed: r.get::<Option<Stamp>>("confirmed_at")?.is_some(),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::core::request::{EmailFinding, EmailSource, InviteRequest};
    use crate::store::JobRequest;
    use crate::store::testing::{corrupt, store};

    /// Ada's join request, with her address.
    pub(in crate::store) fn join(login: &str, email: &str) -> JobKind {
        JobKind::Join(InviteRequest {
            login: login.into(),
            issue_number: 2,
            name: None,
            email: EmailFinding::Found(
                crate::core::email_address::EmailAddress::parse(email).unwrap(),
                EmailSource::Form,
            ),
        })
    }

    /// Ada's confirmation, waiting until `expires_at`; returns its id.
    fn waiting_until(store: &Store, expires_at: Timestamp) -> i64 {
        let request = join("ada", "ada@example.org");
        store
            .create_confirmation(&NewConfirmation {
                series_id: "s",
                repo: "a/b",
                issue: 2,
                login: "ada",
                request: &request,
                expires_at,
            })
            .unwrap()
    }

    #[test]
    fn confirming_queues_one_job_once() {
        let (_dir, store) = store();
        let now = Timestamp::now();
        let id = waiting_until(&store, now + jiff::SignedDuration::from_hours(1));
        let day_ago = now - jiff::SignedDuration::from_hours(24);
        assert_eq!(store.new_members_since("s", day_ago).unwrap(), 1);
        let Confirmed::Now { job_id } = store.confirm(id, now).unwrap() else {
            panic!("expected a job");
        };
        assert_eq!(store.confirm(id, now).unwrap(), Confirmed::Already);
        let jobs = store.jobs_of_delivery(&format!("confirm:{id}")).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!((jobs[0].record.id, jobs[0].record.issue), (job_id, 2));
        assert!(matches!(
            &jobs[0].request,
            JobRequest::Kind(JobKind::Join(r)) if r.login == "ada"
        ));
        assert_eq!(store.confirm(id + 1, now).unwrap(), Confirmed::Unknown);
    }

    #[test]
    fn an_expired_confirmation_queues_nothing() {
        let (_dir, store) = store();
        let now = Timestamp::now();
        let id = waiting_until(&store, now - jiff::SignedDuration::from_secs(1));
        assert_eq!(store.confirm(id, now).unwrap(), Confirmed::Expired);
        assert!(store.open_jobs().unwrap().is_empty());
    }

    #[test]
    fn a_bad_expiry_is_an_error_and_queues_nothing() {
        let (_dir, store) = store();
        let id = waiting_until(&store, Timestamp::now());
        corrupt(&store, "UPDATE confirmations SET expires_at = 'never'");
        let error = store.confirm(id, Timestamp::now()).unwrap_err().to_string();
        assert!(
            error.contains("confirmations row 1 has an unreadable expires_at"),
            "{error}"
        );
        assert!(store.open_jobs().unwrap().is_empty());
    }
}
