//! Erasing one person from the state store (`invitebot roster forget`): the GDPR-style right to
//! erasure.
//!
//! What the store holds about a person, and what erasure does with it:
//! - `member_state` (what was sent to them, with their name and address): deleted;
//! - `mail_failures` (a calendar message waiting for a retry, with their address): deleted;
//! - stored requests ([`REQUEST_COLUMNS`]: jobs, pending confirmations), JSON with their login,
//!   name and address: a job keeps its row (the history of what the bot did for which issue, as
//!   `invitebot status` shows it) but its request is replaced by [`ERASED`], and a job still
//!   pending is marked failed so it never runs; a pending confirmation is deleted;
//! - deliveries, handled issues and the outbox hold no name or address (a reply's text mentions
//!   at most the login, as posted publicly on the issue), and stay: forgetting the handled issue
//!   would let catch-up handle it again and add the person back.
//!
//! Deleted content is overwritten (`secure_delete`) and the write-ahead log is checkpointed, so
//! the old bytes don't linger in the files.
//!
//! Erasure reads the stored requests and addresses as raw text, not through the typed columns:
//! it must find a person even in a value that no longer reads as what its column holds. A job
//! whose request was erased reads back as [`JobRequest::Erased`](super::JobRequest::Erased).

use rusqlite::{Connection, params};
use serde_json::Value;

use super::rows::all_rows;
use super::{Store, StoreError};

/// What a stored request is replaced with once its person is forgotten.
pub const ERASED: &str = "\"erased\"";

/// Why a pending job whose request was erased will not run.
const ERASED_JOB_ERROR: &str = "the requester's data was erased (invitebot roster forget)";

/// A column holding a request as JSON (the login, name and address of a requester).
struct RequestColumn {
    table: &'static str,
    column: &'static str,
    /// What to do with a row that is about the person.
    action: Action,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Replace the JSON by [`ERASED`], keeping the row.
    Redact,
    /// Delete the row.
    Delete,
}

/// Every column that stores a request: a table added with requests in it gets its line here.
const REQUEST_COLUMNS: &[RequestColumn] = &[
    RequestColumn {
        table: "jobs",
        column: "request",
        action: Action::Redact,
    },
    RequestColumn {
        table: "confirmations",
        column: "request",
        action: Action::Delete,
    },
];

/// Whom to forget.
#[derive(Clone, Copy)]
pub struct ErasureTarget<'a> {
    /// The GitHub login (any case); `None` to erase by address only (`roster forget --email`).
    pub login: Option<&'a str>,
    /// Addresses known to be theirs besides those the store has for the login (e.g. from the
    /// roster); requests naming one of them are erased too.
    pub addresses: &'a [String],
    /// Only this series (`None`: all).
    pub series_id: Option<&'a str>,
}

/// What [`Store::forget_member`] erased.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Records of what was sent to them (one per series).
    pub sent_records: usize,
    /// Calendar messages waiting for a retry or refused.
    pub mail_failures: usize,
    /// Stored requests replaced by [`ERASED`] (their rows stay, as history).
    pub requests_redacted: usize,
    /// Stored requests deleted (pending confirmations).
    pub requests_deleted: usize,
}

impl std::ops::AddAssign for Erasure {
    fn add_assign(&mut self, other: Self) {
        self.sent_records += other.sent_records;
        self.mail_failures += other.mail_failures;
        self.requests_redacted += other.requests_redacted;
        self.requests_deleted += other.requests_deleted;
    }
}

impl Erasure {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        *self == Erasure::default()
    }
}

/// What the store says about a person's calendar in one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldInvitation {
    /// The series.
    pub series_id: String,
}

impl Store {
    /// The series in which the person's calendar still holds the invitation, by the store's
    /// record (their last message was a `REQUEST`). Erasing them there means no cancellation
    /// can ever be sent: the address is gone.
    pub fn held_invitations(
        &self,
        login: &str,
        series_id: Option<&str>,
    ) -> Result<Vec<HeldInvitation>, StoreError> {
        self.with(|c| {
            all_rows(
                c,
                "member_state",
                "SELECT rowid, series_id FROM member_state
                 WHERE lower(github) = lower(?1) AND status = 'invited' AND (?2 IS NULL OR series_id = ?2)
                 ORDER BY series_id",
                params![login, series_id],
                |r| {
                    Ok(HeldInvitation {
                        series_id: r.get("series_id")?,
                    })
                },
            )
        })
    }

    /// The addresses the store has for the person (what was sent to them, mail waiting for a
    /// retry), in one series or all, lowercased. Personal data.
    pub fn addresses_of(
        &self,
        login: &str,
        series_id: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let target = ErasureTarget {
            login: Some(login),
            addresses: &[],
            series_id,
        };
        self.with(|c| Ok(known_addresses(c, &target)?))
    }

    /// The logins the store has sent to `address` (what was sent, mail waiting for a retry), in
    /// one series or all; the whole address is compared, in any case.
    pub fn logins_with_address(
        &self,
        address: &str,
        series_id: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT github FROM member_state WHERE lower(email) = lower(?1) AND (?2 IS NULL OR series_id = ?2)
                 UNION SELECT github FROM mail_failures WHERE lower(email) = lower(?1) AND (?2 IS NULL OR series_id = ?2)",
            )?;
            let rows = statement.query_map(params![address, series_id], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
        })
    }

    /// Erases the person from the store (see the module docs for what that means per table),
    /// in one transaction, then overwrites the freed bytes and checkpoints the log.
    pub fn forget_member(&self, target: &ErasureTarget<'_>) -> Result<Erasure, StoreError> {
        self.with(|c| {
            c.pragma_update(None, "secure_delete", true)?;
            let tx = c.transaction()?;
            let mut addresses = known_addresses(&tx, target)?;
            addresses.extend(target.addresses.iter().map(|a| a.to_lowercase()));
            let mut erasure = Erasure {
                sent_records: delete_by_login(&tx, "member_state", target)?,
                mail_failures: delete_by_login(&tx, "mail_failures", target)?,
                ..Erasure::default()
            };
            for spec in REQUEST_COLUMNS {
                let count = erase_requests(&tx, spec, target, &addresses)?;
                match spec.action {
                    Action::Redact => erasure.requests_redacted += count,
                    Action::Delete => erasure.requests_deleted += count,
                }
            }
            tx.execute(
                "UPDATE jobs SET status = 'failed', last_error = ?2 WHERE status = 'pending' AND request = ?1",
                params![ERASED, ERASED_JOB_ERROR],
            )?;
            tx.commit()?;
            // Busy readers (a running server) may keep part of the log: best effort.
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(erasure)
        })
    }
}

/// The addresses the store has for the login (lowercased).
fn known_addresses(c: &Connection, target: &ErasureTarget<'_>) -> rusqlite::Result<Vec<String>> {
    let mut statement = c.prepare(
        "SELECT email FROM member_state WHERE lower(github) = lower(?1) AND (?2 IS NULL OR series_id = ?2)
         UNION SELECT email FROM mail_failures WHERE lower(github) = lower(?1) AND (?2 IS NULL OR series_id = ?2)",
    )?;
    let rows = statement.query_map(params![target.login, target.series_id], |r| {
        r.get::<_, String>(0)
    })?;
    rows.map(|r| r.map(|a| a.to_lowercase())).collect()
}

/// Deletes the person's rows of a table keyed by `(series_id, github)`.
fn delete_by_login(
    c: &Connection,
    table: &str,
    target: &ErasureTarget<'_>,
) -> rusqlite::Result<usize> {
    c.execute(
        &format!(
            "DELETE FROM {table} WHERE lower(github) = lower(?1) AND (?2 IS NULL OR series_id = ?2)"
        ),
        params![target.login, target.series_id],
    )
}

/// Redacts or deletes the stored requests that are about the person.
fn erase_requests(
    c: &Connection,
    spec: &RequestColumn,
    target: &ErasureTarget<'_>,
    addresses: &[String],
) -> rusqlite::Result<usize> {
    let RequestColumn {
        table,
        column,
        action,
    } = spec;
    let mut statement = c.prepare(&format!(
        "SELECT rowid, {column} FROM {table} WHERE {column} != ?1 AND (?2 IS NULL OR series_id = ?2)"
    ))?;
    let rows = statement
        .query_map(params![ERASED, target.series_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let about: Vec<i64> = rows
        .into_iter()
        .filter(|(_, json)| is_about(json, target.login, addresses))
        .map(|(id, _)| id)
        .collect();
    let sql = match action {
        Action::Redact => format!("UPDATE {table} SET {column} = ?2 WHERE rowid = ?1"),
        Action::Delete => format!("DELETE FROM {table} WHERE rowid = ?1 AND ?2 IS NOT NULL"),
    };
    for id in &about {
        c.execute(&sql, params![id, ERASED])?;
    }
    Ok(about.len())
}

/// Whether a stored request (JSON) is about the person: a `login` field equal to theirs (any
/// case), or any text holding one of their addresses. Text that isn't JSON is searched for the
/// addresses only.
pub(crate) fn is_about(json: &str, login: Option<&str>, addresses: &[String]) -> bool {
    match serde_json::from_str::<Value>(json) {
        Ok(value) => value_is_about(&value, login, addresses),
        Err(_) => holds_address(json, addresses),
    }
}

fn value_is_about(value: &Value, login: Option<&str>, addresses: &[String]) -> bool {
    match value {
        Value::Object(fields) => fields.iter().any(|(key, field)| {
            (key == "login"
                && field
                    .as_str()
                    .zip(login)
                    .is_some_and(|(l, login)| l.eq_ignore_ascii_case(login)))
                || value_is_about(field, login, addresses)
        }),
        Value::Array(items) => items
            .iter()
            .any(|item| value_is_about(item, login, addresses)),
        Value::String(text) => holds_address(text, addresses),
        _ => false,
    }
}

/// Whether `text` holds one of `addresses` whole (any case): `a@b.org` is not in
/// `ba@b.org`. Words are split at spaces and at the characters around addresses in mail
/// headers and text (`<>,;:"'()[]{}`).
fn holds_address(text: &str, addresses: &[String]) -> bool {
    text.split(|c: char| c.is_whitespace() || "<>,;:\"'()[]{}".contains(c))
        .filter(|word| word.contains('@'))
        .any(|word| {
            let word = word.to_lowercase();
            addresses
                .iter()
                .any(|address| word == address.to_lowercase())
        })
}

#[cfg(test)]
mod tests {
    use super::super::{JobRequest, MailFailure, NewConfirmation, NewJob, Store, WorkStatus};
    use super::*;
    use crate::core::email_address::EmailAddress;
    use crate::core::job::JobKind;
    use crate::core::request::{EmailFinding, EmailSource, InviteRequest};
    use crate::core::sent::{MemberRecord, MemberStatus};

    #[test]
    fn requests_are_recognised_by_login_or_address() {
        let addresses = ["ada@example.org".to_string()];
        let cases = [
            (
                r#"{"Join":{"login":"Ada-L","issue_number":1,"name":null,"email":"Missing"}}"#,
                true,
            ),
            (r#"{"Leave":{"login":"ada-l","issue_number":1}}"#, true),
            (
                r#"{"Join":{"login":"bob","email":{"Found":["ADA@example.org","Form"]}}}"#,
                true,
            ),
            (
                r#"{"Join":{"login":"bob","name":"ada-l","email":"Missing"}}"#,
                false,
            ),
            (
                r#"{"Join":{"login":"bob","email":{"Found":["bob@example.org","Form"]}}}"#,
                false,
            ),
            ("not json but ada@example.org", true),
            ("not json, ada-l", false),
            ("Ba <ba@example.org>", false),
            ("mailto:ada@example.org.", false),
            ("mailto:ADA@example.org", true),
            (
                r#"{"Join":{"login":"bob","email":{"Found":["bada@example.org","Form"]}}}"#,
                false,
            ),
            (ERASED, false),
        ];
        for (json, expected) in cases {
            assert_eq!(
                is_about(json, Some("ADA-L"), &addresses),
                expected,
                "{json}"
            );
        }
    }

    fn member(github: &str, email: &str, status: MemberStatus) -> MemberRecord {
        MemberRecord {
            github: github.into(),
            name: "Ada Lovelace".into(),
            email: EmailAddress::parse(email).unwrap(),
            status,
            sequence: 1,
            fingerprint: "fp".into(),
            team_error: None,
        }
    }

    /// A join request by `login` with `email` found in the issue form.
    fn join(login: &str, name: Option<&str>, email: &str) -> JobKind {
        JobKind::Join(InviteRequest {
            login: login.into(),
            issue_number: 1,
            name: name.map(Into::into),
            email: EmailFinding::Found(EmailAddress::parse(email).unwrap(), EmailSource::Form),
        })
    }

    fn job(store: &Store, delivery: &str, series: &str, kind: &JobKind) {
        store
            .add_job(&NewJob {
                delivery_id: delivery,
                action: "opened",
                series_id: series,
                repo: "o/r",
                issue: 1,
                kind,
                once_per_issue: false,
                body: None,
            })
            .unwrap();
    }

    /// The status of the job of `delivery`, and the login its request names (`None`: erased).
    fn job_state(store: &Store, delivery: &str) -> (WorkStatus, Option<String>) {
        let job = store.jobs_of_delivery(delivery).unwrap().remove(0);
        let login = match job.request {
            JobRequest::Kind(JobKind::Join(request)) => Some(request.login.to_string()),
            JobRequest::Kind(other) => panic!("unexpected {other:?}"),
            JobRequest::Erased => None,
        };
        (job.record.state.status, login)
    }

    #[test]
    fn forgetting_erases_the_person_and_nobody_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for series in ["a", "b"] {
            store
                .record_message(
                    series,
                    &member("ada-l", "ada@example.org", MemberStatus::Invited),
                )
                .unwrap();
            store
                .record_message(
                    series,
                    &member("bob", "bob@example.org", MemberStatus::Invited),
                )
                .unwrap();
        }
        let at: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        store
            .record_mail_failure(&MailFailure {
                series_id: "a".into(),
                github: "ada-l".into(),
                email: EmailAddress::parse("ada@example.org").unwrap(),
                attempts: 1,
                next_attempt_at: at,
                first_failed_at: at,
                last_error: "refused".into(),
                permanent: true,
            })
            .unwrap();
        let ada = join("Ada-L", Some("Ada Lovelace"), "ada@example.org");
        job(&store, "d1", "a", &ada);
        job(
            &store,
            "d2",
            "a",
            &join("bob", Some("Bob"), "bob@example.org"),
        );
        job(&store, "d3", "b", &ada);

        assert_eq!(
            store.held_invitations("ADA-L", None).unwrap(),
            [
                HeldInvitation {
                    series_id: "a".into()
                },
                HeldInvitation {
                    series_id: "b".into()
                }
            ]
        );
        let target = ErasureTarget {
            login: Some("ADA-L"),
            addresses: &[],
            series_id: None,
        };
        let erased = store.forget_member(&target).unwrap();
        assert_eq!(
            erased,
            Erasure {
                sent_records: 2,
                mail_failures: 1,
                requests_redacted: 2,
                requests_deleted: 0,
            }
        );
        assert!(store.held_invitations("ada-l", None).unwrap().is_empty());
        for series in ["a", "b"] {
            let members = store.members(series).unwrap();
            assert_eq!(members.len(), 1);
            assert_eq!(members[0].github, "bob");
        }
        assert!(store.mail_failures(None).unwrap().is_empty());
        assert_eq!(job_state(&store, "d1"), (WorkStatus::Failed, None));
        assert_eq!(
            job_state(&store, "d2"),
            (WorkStatus::Pending, Some("bob".into()))
        );
        assert_eq!(job_state(&store, "d3"), (WorkStatus::Failed, None));
        // Erased jobs stay listed, as history.
        assert_eq!(store.open_jobs().unwrap().len(), 3);
        // Twice is harmless and finds nothing.
        assert!(store.forget_member(&target).unwrap().is_empty());
        drop(store);
        assert_file_lacks(dir.path(), "ada@example.org");
    }

    #[test]
    fn one_series_only_and_addresses_given_by_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for series in ["a", "b"] {
            store
                .record_message(
                    series,
                    &member("ada-l", "ada@example.org", MemberStatus::Cancelled),
                )
                .unwrap();
        }
        // Someone else asked with Ada's address: that request is about Ada too.
        let other = join("mallory", None, "ada.old@example.org");
        job(&store, "d1", "a", &other);
        let erased = store
            .forget_member(&ErasureTarget {
                login: Some("ada-l"),
                addresses: &["Ada.Old@example.org".to_string()],
                series_id: Some("a"),
            })
            .unwrap();
        assert_eq!((erased.sent_records, erased.requests_redacted), (1, 1));
        assert!(store.members("a").unwrap().is_empty());
        assert_eq!(store.members("b").unwrap().len(), 1);
    }

    #[test]
    fn pending_confirmations_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ada = join("ada-l", None, "ada@example.org");
        let bob = join("bob", None, "bob@example.org");
        for (login, request) in [("ada-l", &ada), ("bob", &bob)] {
            store
                .create_confirmation(&NewConfirmation {
                    series_id: "a",
                    repo: "o/r",
                    issue: 1,
                    login,
                    request,
                    expires_at: jiff::Timestamp::now(),
                })
                .unwrap();
        }
        let target = ErasureTarget {
            login: Some("Ada-L"),
            addresses: &[],
            series_id: None,
        };
        assert_eq!(store.forget_member(&target).unwrap().requests_deleted, 1);
        drop(store);
        assert_file_lacks(dir.path(), "ada@example.org");
    }

    /// Neither the database nor its log hold the text any more.
    fn assert_file_lacks(dir: &std::path::Path, needle: &str) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} still holds {needle}",
                path.display()
            );
        }
    }
}
