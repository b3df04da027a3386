//! The durable work: deliveries seen, jobs, the outbox of GitHub replies, failed mail with its
//! retry schedule, issues already handled, and the catch-up position per repository.
//!
//! A job or an outbox row is `pending` until the step it stands for was accepted (by the mail
//! server or GitHub), `done` after, and `failed` when it can never succeed (the reason is kept for
//! `invitebot status`). Each carries its attempts and the time of the next one.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, now, stamp};

/// What happened to a new delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Recorded (with its job, if any).
    New,
    /// This delivery id was seen before: nothing recorded.
    Duplicate,
    /// Recorded, but the issue is handled (or being handled) already: no job added.
    AlreadyHandled,
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
    pub received_at: String,
    /// What became of it (`queued`, `ignored`, `not-a-join-request`, then the job's outcome).
    pub outcome: String,
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
    /// The request, as JSON (the pipeline's `JobKind`).
    pub request: &'a str,
    /// Add it only if the issue has no job and was never handled (`opened`, `labeled`,
    /// catch-up: each issue is handled once); `false` for `reopened`, `edited`, replays.
    pub once_per_issue: bool,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// Row id.
    pub id: i64,
    /// The delivery it came from.
    pub delivery_id: String,
    /// The GitHub action.
    pub action: String,
    /// The series.
    pub series_id: String,
    /// `owner/name`.
    pub repo: String,
    /// The issue.
    pub issue: u64,
    /// The request JSON.
    pub request: String,
    /// Progress JSON (steps already done).
    pub progress: String,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was accepted.
    pub created_at: String,
}

/// An outbox row to insert: one GitHub write.
#[derive(Debug, Clone)]
pub struct NewReply<'a> {
    /// Unique per write, so enqueuing twice is harmless.
    pub key: String,
    /// `comment`, `labels` or `close`.
    pub kind: &'a str,
    /// `owner/name`.
    pub repo: &'a str,
    /// The issue.
    pub issue: u64,
    /// What to send, as JSON.
    pub payload: String,
}

/// A stored outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRecord {
    /// Row id.
    pub id: i64,
    /// `comment`, `labels` or `close`.
    pub kind: String,
    /// `owner/name`.
    pub repo: String,
    /// The issue.
    pub issue: u64,
    /// What to send.
    pub payload: String,
    /// `pending`, `done` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: String,
}

/// A member whose calendar message failed.
#[derive(Clone, PartialEq, Eq)]
pub struct MailFailure {
    /// The series.
    pub series_id: String,
    /// The login, lowercased.
    pub github: String,
    /// The address that failed (personal data).
    pub email: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When to try again.
    pub next_attempt_at: String,
    /// When the first attempt failed.
    pub first_failed_at: String,
    /// The mail server's answer.
    pub last_error: String,
    /// Whether retrying can't help (5xx for the address).
    pub permanent: bool,
}

impl std::fmt::Debug for MailFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailFailure")
            .field("series_id", &self.series_id)
            .field("github", &self.github)
            .field("attempts", &self.attempts)
            .field("permanent", &self.permanent)
            .finish_non_exhaustive()
    }
}

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

const JOB_COLUMNS: &str = "id, delivery_id, action, series_id, repo, issue, request, progress, status, attempts, next_attempt_at, last_error, created_at";
const REPLY_COLUMNS: &str =
    "id, kind, repo, issue, payload, status, attempts, next_attempt_at, last_error, created_at";

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    Ok(JobRecord {
        id: r.get(0)?,
        delivery_id: r.get(1)?,
        action: r.get(2)?,
        series_id: r.get(3)?,
        repo: r.get(4)?,
        issue: r.get(5)?,
        request: r.get(6)?,
        progress: r.get(7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        next_attempt_at: r.get(10)?,
        last_error: r.get(11)?,
        created_at: r.get(12)?,
    })
}

fn reply_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReplyRecord> {
    Ok(ReplyRecord {
        id: r.get(0)?,
        kind: r.get(1)?,
        repo: r.get(2)?,
        issue: r.get(3)?,
        payload: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get(7)?,
        last_error: r.get(8)?,
        created_at: r.get(9)?,
    })
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
        self.with(|c| {
            let tx = c.transaction()?;
            let accepted = batch
                .iter()
                .map(|(delivery, job)| accept_in(&tx, delivery, job.as_ref()))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.commit()?;
            Ok(accepted)
        })
    }

    /// Records deliveries that need nothing, in one transaction (ids seen before are skipped).
    pub fn record_deliveries(&self, deliveries: &[DeliveryRecord]) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO deliveries (id, event, action, repo, issue, received_at, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for d in deliveries {
                    insert.execute(params![d.id, d.event, d.action, d.repo, d.issue, d.received_at, d.outcome])?;
                }
            }
            tx.commit()
        })
    }

    /// Adds a job that did not come with a delivery of its own (catch-up, replay); `None` when
    /// `once_per_issue` found the issue handled already.
    pub fn add_job(&self, job: &NewJob<'_>) -> Result<Option<i64>, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let id = insert_job(&tx, job)?;
            tx.commit()?;
            Ok(id)
        })
    }

    /// The earliest pending job that is due at `at`.
    pub fn next_due_job(&self, at: Timestamp) -> Result<Option<JobRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT 1"),
                [stamp(at)],
                job_row,
            )
            .optional()
        })
    }

    /// Saves the steps a job has done, so a retry doesn't redo or misreport them.
    pub fn save_job_progress(&self, id: i64, progress: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET progress = ?2 WHERE id = ?1",
                params![id, progress],
            )
            .map(drop)
        })
    }

    /// Finishes a job: marks it done, records the outcome on its delivery and the issue as
    /// handled, and enqueues its replies, all in one transaction.
    pub fn finish_job(
        &self,
        job: &JobRecord,
        outcome: &str,
        issue_state: &str,
        replies: &[NewReply<'_>],
    ) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let now = now();
            tx.execute(
                "UPDATE jobs SET status = 'done', outcome = ?2, finished_at = ?3, last_error = NULL WHERE id = ?1",
                params![job.id, outcome, now],
            )?;
            tx.execute("UPDATE deliveries SET outcome = ?2 WHERE id = ?1", params![job.delivery_id, outcome])?;
            // Issue 0: a request from a link (leave), not from an issue.
            if job.issue != 0 {
                tx.execute(
                    "INSERT INTO handled_issues (repo, issue, series_id, state, at) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (repo, issue) DO UPDATE SET series_id = ?3, state = ?4, at = ?5",
                    params![job.repo.to_lowercase(), job.issue, job.series_id, issue_state, now],
                )?;
            }
            for reply in replies {
                tx.execute(
                    "INSERT OR IGNORE INTO outbox (key, kind, repo, issue, payload, status, attempts, next_attempt_at, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)",
                    params![reply.key, reply.kind, reply.repo, reply.issue, reply.payload, now],
                )?;
            }
            tx.commit()
        })
    }

    /// Schedules a job's next attempt after a failure that may pass.
    pub fn retry_job(&self, id: i64, next: Timestamp, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE jobs SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, stamp(next), error],
            )
            .map(drop)
        })
    }

    /// Gives a job up for good, keeping the reason.
    pub fn fail_job(&self, job: &JobRecord, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE jobs SET status = 'failed', attempts = attempts + 1, last_error = ?2, outcome = 'failed', finished_at = ?3 WHERE id = ?1",
                params![job.id, error, now()],
            )?;
            tx.execute("UPDATE deliveries SET outcome = 'failed' WHERE id = ?1", params![job.delivery_id])?;
            tx.commit()
        })
    }

    /// Whether any job (in any state) exists for this issue.
    pub fn has_job_for(&self, repo: &str, issue: u64) -> Result<bool, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM jobs WHERE lower(repo) = lower(?1) AND issue = ?2 LIMIT 1",
                params![repo, issue],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
        })
    }

    /// How an issue was last handled (`invited`, `needs-email`, `left`, …), if it was.
    pub fn issue_state(&self, repo: &str, issue: u64) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT state FROM handled_issues WHERE repo = lower(?1) AND issue = ?2",
                params![repo, issue],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Marks an issue handled without a job (catch-up found the bot's own comment on it).
    pub fn mark_issue_handled(
        &self,
        repo: &str,
        issue: u64,
        series_id: &str,
        state: &str,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO handled_issues (repo, issue, series_id, state, at) VALUES (lower(?1), ?2, ?3, ?4, ?5)
                 ON CONFLICT (repo, issue) DO NOTHING",
                params![repo, issue, series_id, state, now()],
            )
            .map(drop)
        })
    }

    /// The earliest pending reply that is due at `at`.
    pub fn next_due_reply(&self, at: Timestamp) -> Result<Option<ReplyRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                // Replies to one issue go out in order: one waiting for a retry holds back the
                // ones after it (no "closed" before the comment).
                &format!(
                    "SELECT {REPLY_COLUMNS} FROM outbox AS o WHERE status = 'pending' AND next_attempt_at <= ?1
                     AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.status = 'pending'
                                     AND e.repo = o.repo AND e.issue = o.issue AND e.id < o.id)
                     ORDER BY id LIMIT 1"
                ),
                [stamp(at)],
                reply_row,
            )
            .optional()
        })
    }

    /// Marks a reply done.
    pub fn reply_done(&self, id: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("UPDATE outbox SET status = 'done', done_at = ?2, last_error = NULL, attempts = attempts + 1 WHERE id = ?1", params![id, now()])
                .map(drop)
        })
    }

    /// Schedules a reply's next attempt.
    pub fn retry_reply(&self, id: i64, next: Timestamp, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, stamp(next), error],
            )
            .map(drop)
        })
    }

    /// Gives a reply up for good.
    pub fn fail_reply(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2, done_at = ?3 WHERE id = ?1",
                params![id, error, now()],
            )
            .map(drop)
        })
    }

    /// When the next pending job, reply or mail retry is due, if any.
    pub fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let earliest: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT min(t) FROM (
                    SELECT min(next_attempt_at) AS t FROM jobs WHERE status = 'pending'
                    UNION ALL SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'
                    UNION ALL SELECT min(next_attempt_at) FROM mail_failures WHERE permanent = 0)",
                [],
                |r| r.get(0),
            )
        })?;
        Ok(earliest.and_then(|t| t.parse().ok()))
    }

    /// Records a failed calendar message for a member, with its next attempt.
    pub fn record_mail_failure(&self, failure: &MailFailure) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO mail_failures (series_id, github, email, attempts, next_attempt_at, first_failed_at, last_error, permanent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (series_id, github) DO UPDATE SET
                    email = ?3, attempts = ?4, next_attempt_at = ?5, last_error = ?7, permanent = ?8",
                params![
                    failure.series_id,
                    failure.github,
                    failure.email,
                    failure.attempts,
                    failure.next_attempt_at,
                    failure.first_failed_at,
                    failure.last_error,
                    failure.permanent
                ],
            )
            .map(drop)
        })
    }

    /// Whether some failed calendar message is due for a retry at `at`.
    pub fn mail_retry_due(&self, at: Timestamp) -> Result<bool, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM mail_failures WHERE permanent = 0 AND next_attempt_at <= ?1 LIMIT 1",
                [stamp(at)],
                |_| Ok(()),
            )
            .optional()
            .map(|due| due.is_some())
        })
    }

    /// Forgets a member's failure (their message went out).
    pub fn clear_mail_failure(&self, series_id: &str, github: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM mail_failures WHERE series_id = ?1 AND github = ?2",
                params![series_id, github],
            )
            .map(drop)
        })
    }

    /// The mail failures of a series (or of all series with `None`).
    pub fn mail_failures(&self, series_id: Option<&str>) -> Result<Vec<MailFailure>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT series_id, github, email, attempts, next_attempt_at, first_failed_at, last_error, permanent
                 FROM mail_failures WHERE ?1 IS NULL OR series_id = ?1 ORDER BY series_id, github",
            )?;
            let rows = statement.query_map([series_id], |r| {
                Ok(MailFailure {
                    series_id: r.get(0)?,
                    github: r.get(1)?,
                    email: r.get(2)?,
                    attempts: r.get(3)?,
                    next_attempt_at: r.get(4)?,
                    first_failed_at: r.get(5)?,
                    last_error: r.get(6)?,
                    permanent: r.get(7)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Where the last catch-up of a repository stopped.
    pub fn catch_up_position(&self, repo: &str) -> Result<Option<Timestamp>, StoreError> {
        let position: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT checked_until FROM catch_up WHERE repo = lower(?1)",
                [repo],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(position.and_then(|p| p.parse().ok()))
    }

    /// Remembers where a catch-up of a repository stopped.
    pub fn set_catch_up_position(&self, repo: &str, until: Timestamp) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO catch_up (repo, checked_until) VALUES (lower(?1), ?2)
                 ON CONFLICT (repo) DO UPDATE SET checked_until = ?2",
                params![repo, stamp(until)],
            )
            .map(drop)
        })
    }

    /// Pending and failed jobs, oldest first.
    pub fn open_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE status != 'done' ORDER BY id"
            ))?;
            let rows = statement.query_map([], job_row)?;
            rows.collect()
        })
    }

    /// The jobs that came from a delivery.
    pub fn jobs_of_delivery(&self, delivery_id: &str) -> Result<Vec<JobRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE delivery_id = ?1 ORDER BY id"
            ))?;
            let rows = statement.query_map([delivery_id], job_row)?;
            rows.collect()
        })
    }

    /// Queues the jobs of a stored delivery again (`invitebot replay`), as pending jobs of a new
    /// delivery id `replay:<delivery id>:<at>`; returns how many (none when the delivery needed
    /// no work or is unknown).
    pub fn replay_delivery(&self, delivery_id: &str, at: Timestamp) -> Result<usize, StoreError> {
        let jobs = self.jobs_of_delivery(delivery_id)?;
        let replay_id = format!("replay:{delivery_id}:{at}");
        for job in &jobs {
            self.add_job(&NewJob {
                delivery_id: &replay_id,
                action: "replay",
                series_id: &job.series_id,
                repo: &job.repo,
                issue: job.issue,
                request: &job.request,
                once_per_issue: false,
            })?;
        }
        Ok(jobs.len())
    }

    /// Pending and failed replies, oldest first.
    pub fn open_replies(&self) -> Result<Vec<ReplyRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(&format!(
                "SELECT {REPLY_COLUMNS} FROM outbox WHERE status != 'done' ORDER BY id"
            ))?;
            let rows = statement.query_map([], reply_row)?;
            rows.collect()
        })
    }

    /// The most recent deliveries, newest first.
    pub fn recent_deliveries(&self, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT id, event, action, repo, issue, received_at, outcome FROM deliveries ORDER BY received_at DESC LIMIT ?1",
            )?;
            let rows = statement.query_map([limit as i64], |r| {
                Ok(DeliveryRecord {
                    id: r.get(0)?,
                    event: r.get(1)?,
                    action: r.get(2)?,
                    repo: r.get(3)?,
                    issue: r.get(4)?,
                    received_at: r.get(5)?,
                    outcome: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    /// What is waiting, for metrics and status.
    pub fn depth(&self) -> Result<QueueDepth, StoreError> {
        let (jobs, replies, mail, oldest): (u64, u64, u64, Option<String>) = self.with(|c| {
            c.query_row(
                "SELECT
                    (SELECT count(*) FROM jobs WHERE status = 'pending'),
                    (SELECT count(*) FROM outbox WHERE status = 'pending'),
                    (SELECT count(*) FROM mail_failures WHERE permanent = 0),
                    (SELECT min(t) FROM (SELECT min(created_at) AS t FROM jobs WHERE status = 'pending'
                                         UNION ALL SELECT min(created_at) FROM outbox WHERE status = 'pending'))",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
        })?;
        let oldest_age_seconds = oldest
            .and_then(|t| t.parse::<Timestamp>().ok())
            .map_or(0.0, |t| {
                Timestamp::now().duration_since(t).as_secs_f64().max(0.0)
            });
        Ok(QueueDepth {
            jobs,
            replies,
            mail,
            oldest_age_seconds,
        })
    }

    /// A trivial query: the store answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())))
    }
}

/// Inserts a job (inside the caller's transaction, so the check and the insert are one step);
/// `None` when `once_per_issue` finds the issue taken.
/// Records one delivery and its job inside the caller's transaction.
fn accept_in(
    tx: &rusqlite::Transaction<'_>,
    delivery: &DeliveryRecord,
    job: Option<&NewJob<'_>>,
) -> rusqlite::Result<Accepted> {
    let inserted = tx.prepare_cached(
        "INSERT OR IGNORE INTO deliveries (id, event, action, repo, issue, received_at, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![delivery.id, delivery.event, delivery.action, delivery.repo, delivery.issue, delivery.received_at, delivery.outcome])?;
    if inserted == 0 {
        return Ok(Accepted::Duplicate);
    }
    if let Some(job) = job
        && insert_job(tx, job)?.is_none()
    {
        tx.execute(
            "UPDATE deliveries SET outcome = 'already-handled' WHERE id = ?1",
            [&delivery.id],
        )?;
        return Ok(Accepted::AlreadyHandled);
    }
    Ok(Accepted::New)
}

pub(super) fn insert_job(
    c: &rusqlite::Connection,
    job: &NewJob<'_>,
) -> rusqlite::Result<Option<i64>> {
    if job.once_per_issue {
        let taken: bool = c.query_row(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE lower(repo) = lower(?1) AND issue = ?2)
                 OR EXISTS (SELECT 1 FROM handled_issues WHERE repo = lower(?1) AND issue = ?2)",
            params![job.repo, job.issue],
            |r| r.get(0),
        )?;
        if taken {
            return Ok(None);
        }
    }
    let now = now();
    c.execute(
        "INSERT INTO jobs (delivery_id, action, series_id, repo, issue, request, status, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)",
        params![job.delivery_id, job.action, job.series_id, job.repo, job.issue, job.request, now],
    )?;
    Ok(Some(c.last_insert_rowid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: &str) -> DeliveryRecord {
        DeliveryRecord {
            id: id.into(),
            event: "issues".into(),
            action: Some("opened".into()),
            repo: Some("a/b".into()),
            issue: Some(2),
            received_at: now(),
            outcome: "queued".into(),
        }
    }

    fn job<'a>(delivery_id: &'a str) -> NewJob<'a> {
        NewJob {
            delivery_id,
            action: "opened",
            series_id: "s",
            repo: "A/B",
            issue: 2,
            request: "{}",
            once_per_issue: true,
        }
    }

    /// Accepts delivery `id` with its job, alone in its transaction.
    fn accept_one(store: &Store, id: &str) -> Accepted {
        store
            .accept_deliveries(&[(delivery(id), Some(job(id)))])
            .unwrap()[0]
    }

    #[test]
    fn a_delivery_is_accepted_once_with_its_job() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(accept_one(&store, "d1"), Accepted::New);
        assert_eq!(accept_one(&store, "d1"), Accepted::Duplicate);
        // Another delivery for the same issue (catch-up took it, or GitHub sends `labeled`).
        assert_eq!(accept_one(&store, "d2"), Accepted::AlreadyHandled);
        assert_eq!(store.add_job(&job("catch-up:a/b#2")).unwrap(), None);
        let reopened = NewJob {
            once_per_issue: false,
            ..job("d3")
        };
        assert!(store.add_job(&reopened).unwrap().is_some());
        assert_eq!(store.open_jobs().unwrap().len(), 2);
        assert!(store.has_job_for("a/b", 2).unwrap());
        assert_eq!(store.recent_deliveries(10).unwrap().len(), 2);
        assert_eq!(
            store.recent_deliveries(10).unwrap()[0].outcome,
            "already-handled"
        );
    }

    #[test]
    fn a_replay_queues_the_jobs_of_the_delivery_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        accept_one(&store, "d1");
        let at = Timestamp::now();
        assert_eq!(store.replay_delivery("unknown", at).unwrap(), 0);
        assert_eq!(store.replay_delivery("d1", at).unwrap(), 1);
        let replayed = store.jobs_of_delivery(&format!("replay:d1:{at}")).unwrap();
        assert_eq!(replayed.len(), 1);
        let original = &store.jobs_of_delivery("d1").unwrap()[0];
        let job = &replayed[0];
        assert_eq!(
            (job.action.as_str(), job.status.as_str()),
            ("replay", "pending")
        );
        assert_eq!(
            (&job.series_id, &job.repo, job.issue, &job.request),
            (
                &original.series_id,
                &original.repo,
                original.issue,
                &original.request
            )
        );
    }

    #[test]
    fn jobs_retry_then_finish_with_their_replies_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        accept_one(&store, "d1");
        let due = store.next_due_job(Timestamp::now()).unwrap().unwrap();
        let later = Timestamp::now() + jiff::SignedDuration::from_secs(60);
        store.retry_job(due.id, later, "smtp down").unwrap();
        assert!(store.next_due_job(Timestamp::now()).unwrap().is_none());
        assert_eq!(store.next_due_at().unwrap().map(stamp), Some(stamp(later)));
        let due = store.next_due_job(later).unwrap().unwrap();
        assert_eq!(
            (due.attempts, due.last_error.as_deref()),
            (1, Some("smtp down"))
        );
        let replies = [
            NewReply {
                key: "j1:comment".into(),
                kind: "comment",
                repo: "A/B",
                issue: 2,
                payload: "{}".into(),
            },
            NewReply {
                key: "j1:close".into(),
                kind: "close",
                repo: "A/B",
                issue: 2,
                payload: "{}".into(),
            },
        ];
        store
            .finish_job(&due, "invited", "invited", &replies)
            .unwrap();
        store
            .finish_job(&due, "invited", "invited", &replies)
            .unwrap();
        assert_eq!(
            store.open_replies().unwrap().len(),
            2,
            "enqueuing twice is harmless"
        );
        assert_eq!(
            store.issue_state("a/b", 2).unwrap().as_deref(),
            Some("invited")
        );
        assert_eq!(store.recent_deliveries(1).unwrap()[0].outcome, "invited");
        let reply = store.next_due_reply(Timestamp::now()).unwrap().unwrap();
        store.reply_done(reply.id).unwrap();
        let reply = store.next_due_reply(Timestamp::now()).unwrap().unwrap();
        store.fail_reply(reply.id, "404").unwrap();
        assert!(store.next_due_reply(Timestamp::now()).unwrap().is_none());
        assert_eq!(store.open_replies().unwrap()[0].status, "failed");
        assert_eq!(store.depth().unwrap().replies, 0);
    }

    #[test]
    fn mail_failures_and_catch_up_positions_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let failure = MailFailure {
            series_id: "s".into(),
            github: "ada".into(),
            email: "ada@example.org".into(),
            attempts: 1,
            next_attempt_at: now(),
            first_failed_at: now(),
            last_error: "421 try later".into(),
            permanent: false,
        };
        store.record_mail_failure(&failure).unwrap();
        assert_eq!(
            store.mail_failures(Some("s")).unwrap(),
            std::slice::from_ref(&failure)
        );
        assert_eq!(store.depth().unwrap().mail, 1);
        assert!(!format!("{failure:?}").contains("ada@example.org"));
        store.clear_mail_failure("s", "ada").unwrap();
        assert!(store.mail_failures(None).unwrap().is_empty());
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        store.set_catch_up_position("A/B", t).unwrap();
        assert_eq!(store.catch_up_position("a/b").unwrap(), Some(t));
    }
}
