//! `outbox`: the replies on issues still to be sent (comment, labels, close, unlabel), each once.
//! A row is `pending` until GitHub accepted the write, `done` after, and `failed` when it can
//! never succeed; it carries its attempts and the time of the next one. What to send is stored as
//! the JSON of its [`Reply`], serialised here and nowhere else.

use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::columns::{Json, Stamp, to_json};
use super::rows::{StoredRow, all_rows, first_row};
use super::work::{WorkState, schedule_retry, work_state};
use super::{Store, StoreError};
use crate::core::reply::{Reply, ReplyKind};

/// The table.
pub(super) const TABLE: &str = "outbox";

/// The columns of a [`ReplyRecord`].
const RECORD_COLUMNS: &str =
    "id, kind, repo, issue, status, attempts, next_attempt_at, last_error, created_at";

/// Where [`Store::next_due_reply`] finds the lowest pending id that is due at `?1` and that no
/// earlier pending reply to its issue holds back: in the partial index of pending replies, in id
/// order (SQLite would otherwise choose `outbox_due` and sort every due reply; see migration 9).
pub(super) const NEXT_DUE: &str = "FROM outbox AS o INDEXED BY outbox_pending
    WHERE status = 'pending' AND next_attempt_at <= ?1
    AND NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.status = 'pending'
                    AND e.repo = o.repo AND e.issue = o.issue AND e.id < o.id)
    ORDER BY id LIMIT 1";

/// An outbox row to insert: one GitHub write.
#[derive(Debug, Clone)]
pub struct NewReply<'a> {
    /// Unique per write, so enqueuing twice is harmless.
    pub key: String,
    /// What to send.
    pub reply: Reply,
    /// `owner/name`.
    pub repo: &'a str,
    /// The issue.
    pub issue: u64,
}

/// A stored outbox row, as `invitebot status` lists it (what it sends comes with
/// [`StoredReply`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRecord {
    /// Row id.
    pub id: i64,
    /// Which kind of write.
    pub kind: ReplyKind,
    /// `owner/name`.
    pub repo: String,
    /// The issue.
    pub issue: u64,
    /// Its status and attempts.
    pub state: WorkState,
}

/// A stored outbox row with what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    /// The row.
    pub record: ReplyRecord,
    /// What to send.
    pub reply: Reply,
}

impl Store {
    /// The earliest pending reply that is due at `at`.
    pub fn next_due_reply(&self, at: Timestamp) -> Result<Option<StoredReply>, StoreError> {
        // Replies to one issue go out in order: one waiting for a retry holds back the ones
        // after it (no "closed" before the comment).
        let sql = format!("SELECT {RECORD_COLUMNS}, payload {NEXT_DUE}");
        self.with(|c| first_row(c, TABLE, &sql, [Stamp(at)], stored_reply))
    }

    /// Pending and failed replies, oldest first.
    pub fn open_replies(&self) -> Result<Vec<ReplyRecord>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM outbox WHERE status != 'done' ORDER BY id");
        self.with(|c| all_rows(c, TABLE, &sql, [], reply_record))
    }

    /// Marks a reply done.
    pub fn reply_done(&self, id: i64) -> Result<(), StoreError> {
        self.execute(
            "UPDATE outbox SET status = 'done', done_at = ?2, last_error = NULL, attempts = attempts + 1 WHERE id = ?1",
            params![id, Stamp::now()],
        )
        .map(drop)
    }

    /// Schedules a reply's next attempt.
    pub fn retry_reply(&self, id: i64, next: Timestamp, error: &str) -> Result<(), StoreError> {
        self.with(|c| schedule_retry(c, TABLE, id, next, error))
    }

    /// Gives a reply up for good, keeping the reason.
    pub fn fail_reply(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.execute(
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
            params![id, error],
        )
        .map(drop)
    }
}

/// Enqueues a reply inside the caller's transaction (a key enqueued before is skipped).
pub(super) fn enqueue(c: &Connection, reply: &NewReply<'_>, now: Stamp) -> Result<(), StoreError> {
    let payload = to_json(TABLE, "payload", &reply.reply)?;
    c.prepare_cached(
        "INSERT OR IGNORE INTO outbox (key, kind, repo, issue, payload, status, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6)",
    )?
    .execute(params![
        reply.key,
        reply.reply.kind(),
        reply.repo,
        reply.issue,
        payload,
        now
    ])?;
    Ok(())
}

fn reply_record(r: &StoredRow<'_, '_>) -> Result<ReplyRecord, StoreError> {
    Ok(ReplyRecord {
        id: r.rowid(),
        kind: r.get("kind")?,
        repo: r.get("repo")?,
        issue: r.get("issue")?,
        state: work_state(r)?,
    })
}

fn stored_reply(r: &StoredRow<'_, '_>) -> Result<StoredReply, StoreError> {
    Ok(StoredReply {
        record: reply_record(r)?,
        reply: r.get::<Json<Reply>>("payload")?.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{corrupt, store};
    use crate::store::{UnreadableWork, WorkStatus};

    fn enqueue_all(store: &Store, replies: &[Reply]) {
        store
            .transaction(|tx| {
                replies.iter().enumerate().try_for_each(|(i, reply)| {
                    let row = NewReply {
                        key: format!("j1:{i}"),
                        reply: reply.clone(),
                        repo: "a/b",
                        issue: 2,
                    };
                    enqueue(tx, &row, Stamp::now())
                })
            })
            .unwrap();
    }

    #[test]
    fn replies_go_out_in_order_and_failures_stay_listed() {
        let (_dir, store) = store();
        let comment = Reply::Comment { body: "Hi".into() };
        enqueue_all(&store, &[comment.clone(), Reply::Close]);
        let first = store.next_due_reply(Timestamp::now()).unwrap().unwrap();
        assert_eq!(
            (first.record.kind, &first.reply),
            (ReplyKind::Comment, &comment)
        );
        store.reply_done(first.record.id).unwrap();
        let second = store.next_due_reply(Timestamp::now()).unwrap().unwrap();
        assert_eq!(second.reply, Reply::Close);
        store.fail_reply(second.record.id, "404").unwrap();
        assert!(store.next_due_reply(Timestamp::now()).unwrap().is_none());
        let open = store.open_replies().unwrap();
        assert_eq!(
            (open.len(), open[0].state.status, open[0].kind),
            (1, WorkStatus::Failed, ReplyKind::Close)
        );
        assert_eq!(store.depth().unwrap().replies, 0);
    }

    #[test]
    fn replies_are_stored_as_before() {
        let (_dir, store) = store();
        let labels = Reply::Labels {
            labels: vec!["invited".into()],
        };
        enqueue_all(&store, &[Reply::Close, labels]);
        let stored: Vec<(String, String)> = store
            .with(|c| {
                let mut statement = c.prepare("SELECT kind, payload FROM outbox ORDER BY id")?;
                let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(
            stored,
            [
                ("close".into(), r#"{"kind":"close"}"#.into()),
                (
                    "labels".into(),
                    r#"{"kind":"labels","labels":["invited"]}"#.into()
                )
            ]
        );
    }

    #[test]
    fn a_bad_payload_or_time_is_an_error_naming_the_row() {
        for sql in [
            "UPDATE outbox SET payload = 'hello'",
            "UPDATE outbox SET created_at = '2026-02-30T00:00:00.000000Z'",
        ] {
            let (_dir, store) = store();
            enqueue_all(&store, &[Reply::Close]);
            corrupt(&store, sql);
            let error = store.next_due_reply(Timestamp::now()).unwrap_err();
            let work = error.unreadable_work();
            assert_eq!(work, Some(UnreadableWork::Reply(1)), "{sql}: {error}");
        }
    }
}
