//! `jobs`: the join and leave requests accepted. A job is `pending` until the step it stands for
//! was accepted (its calendar message by the mail server), `done` after (with its outcome), and
//! `failed` when it can never succeed (the reason is kept for `invitebot status`); it carries its
//! attempts and the time of the next one.
//!
//! What a job asks is stored as the JSON of its [`JobKind`], serialised here and nowhere else,
//! and read back as a [`JobRequest`]; the steps it has done as the JSON of its [`Progress`].

use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlResult, ValueRef};
use rusqlite::{Connection, params};

use super::accepted_bodies::BodyDigest;
use super::columns::{Json, Stamp, to_json};
use super::deliveries::set_outcome;
use super::erase::ERASED;
use super::handled_issues::record_handled;
use super::replies::{NewReply, enqueue};
use super::rows::{StoredRow, all_rows, first_row};
use super::work::{WorkState, schedule_retry, work_state};
use super::{Store, StoreError};
use crate::core::job::{Hold, JobKind, Outcome, Progress};

/// The table.
pub(super) const TABLE: &str = "jobs";

/// The columns of a [`JobRecord`].
const RECORD_COLUMNS: &str = "id, delivery_id, action, series_id, repo, issue, status, attempts, next_attempt_at, last_error, created_at";

/// Where [`Store::next_due_job`] finds the lowest pending id that is due at `?1`: in the partial
/// index of pending jobs, in id order (SQLite would otherwise choose `jobs_due` and sort every
/// due job for the first; see migration 9).
pub(super) const NEXT_DUE: &str = "FROM jobs INDEXED BY jobs_pending
    WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT 1";

/// What a stored job asks.
#[derive(Debug, Clone)]
pub enum JobRequest {
    /// The request.
    Kind(JobKind),
    /// Its person was forgotten (`invitebot roster forget`): the request is gone, and the job
    /// can't run again.
    Erased,
}

/// A job to insert: a join or leave request for one issue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    /// The delivery it came from (or `catch-up:…`, `replay:…`).
    pub delivery_id: &'a str,
    /// The GitHub action, for logs.
    pub action: &'a str,
    /// The series.
    pub series_id: &'a str,
    /// `owner/name`.
    pub repo: &'a str,
    /// The issue.
    pub issue: u64,
    /// What the job asks (stored as JSON).
    pub kind: &'a JobKind,
    /// Add it only if the issue has no job and was never handled (`opened`, `labeled`,
    /// catch-up: each issue is handled once); `false` for `reopened`, `edited`, replays.
    pub once_per_issue: bool,
    /// What identifies the webhook body that asked for it: a body accepted before adds no job
    /// (see [`super::accepted_bodies`]). `None` for work that came another way.
    pub body: Option<BodyDigest>,
}

/// A stored job, as `invitebot status` lists it (what it asks comes with [`StoredJob`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Row id.
    pub id: i64,
    /// The delivery it came from.
    pub delivery_id: String,
    /// The GitHub action (or how else it came: `catch-up`, `replay`, `confirmed`, …).
    pub action: String,
    /// The series.
    pub series_id: String,
    /// `owner/name`.
    pub repo: String,
    /// The issue (0: a request from a link).
    pub issue: u64,
    /// Its status and attempts.
    pub state: WorkState,
}

/// A stored job with what it asks and the steps it has done.
#[derive(Debug, Clone)]
pub struct StoredJob {
    /// The job.
    pub record: JobRecord,
    /// What it asks.
    pub request: JobRequest,
    /// The steps done so far.
    pub progress: Progress,
}

impl Store {
    /// Adds a job that did not come with a delivery of its own (catch-up, replay, links);
    /// `None` when `once_per_issue` found the issue handled already.
    pub fn add_job(&self, job: &NewJob<'_>) -> Result<Option<i64>, StoreError> {
        self.transaction(|tx| insert_job(tx, job))
    }

    /// The earliest pending job that is due at `at`.
    pub fn next_due_job(&self, at: Timestamp) -> Result<Option<StoredJob>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS}, request, progress {NEXT_DUE}");
        self.with(|c| first_row(c, TABLE, &sql, [Stamp(at)], stored_job))
    }

    /// The jobs that came from a delivery, with what they ask.
    pub fn jobs_of_delivery(&self, delivery_id: &str) -> Result<Vec<StoredJob>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS}, request, progress FROM jobs WHERE delivery_id = ?1 ORDER BY id"
        );
        self.with(|c| all_rows(c, TABLE, &sql, [delivery_id], stored_job))
    }

    /// Pending and failed jobs, oldest first.
    pub fn open_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM jobs WHERE status != 'done' ORDER BY id");
        self.with(|c| all_rows(c, TABLE, &sql, [], job_record))
    }

    /// Queues the jobs of a stored delivery again (`invitebot replay`), as pending jobs of a new
    /// delivery id `replay:<delivery id>:<at>`; returns how many (none when the delivery needed
    /// no work or is unknown). Each request is copied as stored: an erased one stays erased
    /// (the worker gives it up).
    pub fn replay_delivery(&self, delivery_id: &str, at: Timestamp) -> Result<usize, StoreError> {
        let replay_id = format!("replay:{delivery_id}:{at}");
        self.execute(
            "INSERT INTO jobs (delivery_id, action, series_id, repo, issue, request, status, attempts, next_attempt_at, created_at)
             SELECT ?2, 'replay', series_id, repo, issue, request, 'pending', 0, ?3, ?3
             FROM jobs WHERE delivery_id = ?1 ORDER BY id",
            params![delivery_id, replay_id, Stamp::now()],
        )
    }

    /// Saves the steps a job has done, so a retry doesn't redo or misreport them.
    pub fn save_job_progress(&self, id: i64, progress: &Progress) -> Result<(), StoreError> {
        let progress = to_json(TABLE, "progress", progress)?;
        self.execute(
            "UPDATE jobs SET progress = ?2 WHERE id = ?1",
            params![id, progress],
        )
        .map(drop)
    }

    /// Finishes a job: marks it done, records the outcome on its delivery and the issue as
    /// handled, and enqueues its replies, all in one transaction.
    pub fn finish_job(
        &self,
        job: &JobRecord,
        outcome: &Outcome,
        replies: &[NewReply<'_>],
    ) -> Result<(), StoreError> {
        self.transaction(|tx| {
            let now = Stamp::now();
            tx.execute(
                "UPDATE jobs SET status = 'done', outcome = ?2, finished_at = ?3, last_error = NULL, hold = ?4 WHERE id = ?1",
                params![job.id, outcome.as_str(), now, outcome.hold().map(Hold::as_str)],
            )?;
            set_outcome(tx, &job.delivery_id, outcome.as_str())?;
            // Issue 0: a request from a link (leave), not from an issue.
            if let Some(state) = outcome.issue_state().filter(|_| job.issue != 0) {
                let issue = (job.repo.as_str(), job.issue);
                record_handled(tx, issue, &job.series_id, state, now)?;
            }
            replies.iter().try_for_each(|reply| enqueue(tx, reply, now))
        })
    }

    /// Schedules a job's next attempt after a failure that may pass.
    pub fn retry_job(&self, id: i64, next: Timestamp, error: &str) -> Result<(), StoreError> {
        self.with(|c| schedule_retry(c, TABLE, id, next, error))
    }

    /// Gives a job up for good, keeping the reason.
    pub fn fail_job(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.transaction(|tx| {
            tx.execute(
                "UPDATE jobs SET status = 'failed', attempts = attempts + 1, last_error = ?2, outcome = 'failed', finished_at = ?3 WHERE id = ?1",
                params![id, error, Stamp::now()],
            )?;
            tx.execute(
                "UPDATE deliveries SET outcome = 'failed' WHERE id = (SELECT delivery_id FROM jobs WHERE id = ?1)",
                [id],
            )?;
            Ok(())
        })
    }

    /// Whether any job (in any state) exists for this issue.
    pub fn has_job_for(&self, repo: &str, issue: u64) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM jobs WHERE lower(repo) = lower(?1) AND issue = ?2 LIMIT 1",
            )?
            .exists(params![repo, issue])?)
        })
    }
}

/// Inserts a job (inside the caller's transaction, so the check and the insert are one step);
/// `None` when `once_per_issue` finds the issue taken, or a command's comment was accepted
/// before.
pub(super) fn insert_job(c: &Connection, job: &NewJob<'_>) -> Result<Option<i64>, StoreError> {
    if job.once_per_issue && issue_taken(c, job.repo, job.issue)? {
        return Ok(None);
    }
    if let JobKind::Command(command) = job.kind
        && !super::commands::record(c, command.comment_id, job.delivery_id)?
    {
        return Ok(None);
    }
    let request = to_json(TABLE, "request", job.kind)?;
    c.prepare_cached(
        "INSERT INTO jobs (delivery_id, action, series_id, repo, issue, request, status, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)",
    )?
    .execute(params![
        job.delivery_id,
        job.action,
        job.series_id,
        job.repo,
        job.issue,
        request,
        Stamp::now()
    ])?;
    Ok(Some(c.last_insert_rowid()))
}

/// Whether the issue has a job or was handled.
fn issue_taken(c: &Connection, repo: &str, issue: u64) -> Result<bool, StoreError> {
    Ok(c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE lower(repo) = lower(?1) AND issue = ?2)
             OR EXISTS (SELECT 1 FROM handled_issues WHERE repo = lower(?1) AND issue = ?2)",
    )?
    .query_row(params![repo, issue], |r| r.get(0))?)
}

fn job_record(r: &StoredRow<'_, '_>) -> Result<JobRecord, StoreError> {
    Ok(JobRecord {
        id: r.rowid(),
        delivery_id: r.get("delivery_id")?,
        action: r.get("action")?,
        series_id: r.get("series_id")?,
        repo: r.get("repo")?,
        issue: r.get("issue")?,
        state: work_state(r)?,
    })
}

fn stored_job(r: &StoredRow<'_, '_>) -> Result<StoredJob, StoreError> {
    Ok(StoredJob {
        record: job_record(r)?,
        request: r.get("request")?,
        progress: r.get::<Json<Progress>>("progress")?.0,
    })
}

/// A job's request: the JSON of its [`JobKind`], or [`ERASED`] once its person was forgotten.
impl FromSql for JobRequest {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        if value.as_str()? == ERASED {
            return Ok(JobRequest::Erased);
        }
        Json::<JobKind>::column_result(value).map(|Json(kind)| JobRequest::Kind(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::IssueState;
    use crate::core::reply::Reply;
    use crate::core::request::EmailSource;
    use crate::store::group_commit::tests::{accept_one, job_for};
    use crate::store::testing::{corrupt, store};
    use crate::store::{UnreadableWork, WorkStatus};

    /// A time a minute from now, in whole seconds (as stored: no fraction is lost).
    fn in_a_minute() -> Timestamp {
        Timestamp::from_second(Timestamp::now().as_second() + 60).unwrap()
    }

    fn reply(key: &str, reply: Reply) -> NewReply<'static> {
        NewReply {
            key: key.into(),
            reply,
            repo: "A/B",
            issue: 2,
        }
    }

    #[test]
    fn the_next_due_job_is_the_lowest_id_among_the_due_ones() {
        let (_dir, store) = store();
        let kind = JobKind::LeaveByLink {
            login: "ada".into(),
        };
        let ids: Vec<i64> = ["d1", "d2", "d3"]
            .into_iter()
            .map(|id| {
                let job = NewJob {
                    once_per_issue: false,
                    ..job_for(id, &kind)
                };
                store.add_job(&job).unwrap().unwrap()
            })
            .collect();
        let next = |at| store.next_due_job(at).unwrap().map(|job| job.record.id);
        assert_eq!(next(Timestamp::now()), Some(ids[0]));
        // The first waits for a retry: the next due one is the second, until the retry is due.
        let later = in_a_minute();
        store.retry_job(ids[0], later, "smtp down").unwrap();
        assert_eq!(next(Timestamp::now()), Some(ids[1]));
        assert_eq!(next(later), Some(ids[0]));
        store.fail_job(ids[1], "given up").unwrap();
        assert_eq!(next(Timestamp::now()), Some(ids[2]));
    }

    #[test]
    fn jobs_retry_then_finish_with_their_replies_in_one_step() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        let due = store.next_due_job(Timestamp::now()).unwrap().unwrap();
        assert!(matches!(
            due.request,
            JobRequest::Kind(JobKind::LeaveByLink { .. })
        ));
        let later = in_a_minute();
        store.retry_job(due.record.id, later, "smtp down").unwrap();
        assert!(store.next_due_job(Timestamp::now()).unwrap().is_none());
        assert_eq!(store.next_due_at().unwrap(), Some(later));
        let due = store.next_due_job(later).unwrap().unwrap().record;
        assert_eq!(
            (
                due.state.attempts,
                due.state.last_error.as_deref(),
                due.state.next_attempt_at
            ),
            (1, Some("smtp down"), later)
        );
        let replies = [
            reply("j1:comment", Reply::Comment { body: "Hi".into() }),
            reply("j1:close", Reply::Close),
        ];
        let invited = Outcome::Invited(EmailSource::Form);
        store.finish_job(&due, &invited, &replies).unwrap();
        store.finish_job(&due, &invited, &replies).unwrap();
        assert_eq!(
            store.open_replies().unwrap().len(),
            2,
            "enqueuing twice is harmless"
        );
        assert_eq!(
            store.issue_state("a/b", 2).unwrap(),
            Some(IssueState::Invited)
        );
        assert_eq!(store.recent_deliveries(1).unwrap()[0].outcome, "invited");
        assert!(store.open_jobs().unwrap().is_empty());
    }

    #[test]
    fn a_replay_queues_the_jobs_of_the_delivery_again() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        let at = Timestamp::now();
        assert_eq!(store.replay_delivery("unknown", at).unwrap(), 0);
        assert_eq!(store.replay_delivery("d1", at).unwrap(), 1);
        let replayed = store.jobs_of_delivery(&format!("replay:d1:{at}")).unwrap();
        assert_eq!(replayed.len(), 1);
        let original = &store.jobs_of_delivery("d1").unwrap()[0];
        let (job, was) = (&replayed[0].record, &original.record);
        assert_eq!(
            (job.action.as_str(), job.state.status),
            ("replay", WorkStatus::Pending)
        );
        assert_eq!(
            (&job.series_id, &job.repo, job.issue),
            (&was.series_id, &was.repo, was.issue)
        );
        assert!(matches!(
            (&replayed[0].request, &original.request),
            (
                JobRequest::Kind(JobKind::LeaveByLink { login: a }),
                JobRequest::Kind(JobKind::LeaveByLink { login: b })
            ) if a == b
        ));
    }

    #[test]
    fn progress_is_saved_and_a_failed_job_keeps_its_reason() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        let id = store
            .next_due_job(Timestamp::now())
            .unwrap()
            .unwrap()
            .record
            .id;
        let progress = Progress {
            removed: Some(true),
            ..Progress::default()
        };
        store.save_job_progress(id, &progress).unwrap();
        let due = store.next_due_job(Timestamp::now()).unwrap().unwrap();
        assert_eq!(due.progress, progress);
        store.fail_job(id, "refused").unwrap();
        let open = store.open_jobs().unwrap();
        assert_eq!(
            (open[0].state.status, open[0].state.last_error.as_deref()),
            (WorkStatus::Failed, Some("refused"))
        );
        assert_eq!(store.recent_deliveries(1).unwrap()[0].outcome, "failed");
    }

    /// Accepts one job and damages one of its values with `sql`; returns the error reading it.
    fn read_after(sql: &str) -> StoreError {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        corrupt(&store, sql);
        store.jobs_of_delivery("d1").unwrap_err()
    }

    #[test]
    fn a_bad_timestamp_is_an_error_not_now() {
        let error = read_after("UPDATE jobs SET created_at = 'yesterday'");
        assert_eq!(error.unreadable_work(), Some(UnreadableWork::Job(1)));
        let text = error.to_string();
        assert!(
            text.contains("jobs row 1 has an unreadable created_at"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_status_is_an_error() {
        let error =
            read_after("PRAGMA ignore_check_constraints = ON; UPDATE jobs SET status = 'paused';");
        assert!(error.to_string().contains("unreadable status"), "{error}");
    }

    #[test]
    fn a_bad_request_or_progress_is_an_error() {
        for sql in [
            "UPDATE jobs SET request = '{\"Dance\":{}}'",
            "UPDATE jobs SET progress = 'half'",
        ] {
            let error = read_after(sql);
            let work = error.unreadable_work();
            assert_eq!(work, Some(UnreadableWork::Job(1)), "{sql}: {error}");
        }
    }

    #[test]
    fn an_unreadable_job_given_up_lets_the_next_one_through() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        let kind = JobKind::LeaveByLink {
            login: "bob".into(),
        };
        let second = NewJob {
            issue: 3,
            ..crate::store::group_commit::tests::job_for("d2", &kind)
        };
        store.add_job(&second).unwrap();
        corrupt(&store, "UPDATE jobs SET request = 'garbage' WHERE id = 1");
        let error = store.next_due_job(Timestamp::now()).unwrap_err();
        let work = error.unreadable_work().unwrap();
        assert_eq!(work, UnreadableWork::Job(1));
        store.give_up(work, &error.to_string()).unwrap();
        let next = store.next_due_job(Timestamp::now()).unwrap().unwrap();
        assert_eq!(next.record.delivery_id, "d2");
        let failed = &store.open_jobs().unwrap()[0];
        assert_eq!((failed.id, failed.state.status), (1, WorkStatus::Failed));
        assert!(
            failed
                .state
                .last_error
                .as_deref()
                .unwrap()
                .contains("unreadable request")
        );
    }

    #[test]
    fn rows_written_by_earlier_versions_read_back() {
        let (_dir, store) = store();
        corrupt(
            &store,
            r#"INSERT INTO jobs (delivery_id, action, series_id, repo, issue, request, progress, status, attempts, next_attempt_at, created_at)
               VALUES ('d1', 'opened', 's', 'a/b', 2, '{"Leave":{"login":"ada","issue_number":2}}', '{"removed":true}',
                       'pending', 1, '2026-01-01T00:00:05.000000Z', '2026-01-01T00:00:00.123456Z')"#,
        );
        let job = store.jobs_of_delivery("d1").unwrap().remove(0);
        assert!(matches!(job.request, JobRequest::Kind(JobKind::Leave(ref r)) if r.login == "ada"));
        assert_eq!(job.progress.removed, Some(true));
        assert_eq!(
            job.record.state.created_at,
            "2026-01-01T00:00:00.123456Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn the_request_is_stored_as_the_json_of_its_kind() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        let stored: String = store
            .with(|c| Ok(c.query_row("SELECT request FROM jobs", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(stored, r#"{"LeaveByLink":{"login":"ada"}}"#);
    }

    #[test]
    fn an_erased_request_reads_as_erased() {
        let (_dir, store) = store();
        accept_one(&store, "d1");
        corrupt(&store, "UPDATE jobs SET request = '\"erased\"'");
        let jobs = store.jobs_of_delivery("d1").unwrap();
        assert!(matches!(jobs[0].request, JobRequest::Erased));
    }

    #[test]
    fn requests_are_jobs_or_erased() {
        assert!(matches!(
            crate::store::columns::tests::read::<JobRequest>(ERASED),
            Ok(JobRequest::Erased)
        ));
        let leave = r#"{"LeaveByLink":{"login":"ada"}}"#;
        assert!(matches!(
            crate::store::columns::tests::read::<JobRequest>(leave),
            Ok(JobRequest::Kind(JobKind::LeaveByLink { .. }))
        ));
        assert!(crate::store::columns::tests::read::<JobRequest>(r#"{"Dance":{}}"#).is_err());
    }
}
