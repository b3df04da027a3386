//! `mail_failures`: members whose calendar message failed, with the address it went to and the
//! retry schedule (or that the mail server refused it for good).

use jiff::Timestamp;
use rusqlite::params;

use super::columns::Stamp;
use super::rows::{StoredRow, all_rows};
use super::{Store, StoreError};
use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;

/// The table.
const TABLE: &str = "mail_failures";

/// A member whose calendar message failed.
#[derive(Clone, PartialEq, Eq)]
pub struct MailFailure {
    /// The series.
    pub series_id: String,
    /// The login, lowercased.
    pub github: Login,
    /// The address that failed (personal data: its printed forms are redacted).
    pub email: EmailAddress,
    /// Attempts so far.
    pub attempts: u32,
    /// When to try again.
    pub next_attempt_at: Timestamp,
    /// When the first attempt failed (the retry schedule counts from here).
    pub first_failed_at: Timestamp,
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

impl Store {
    /// Records a failed calendar message for a member, with its next attempt.
    pub fn record_mail_failure(&self, failure: &MailFailure) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO mail_failures (series_id, github, email, attempts, next_attempt_at, first_failed_at, last_error, permanent)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (series_id, github) DO UPDATE SET
                email = ?3, attempts = ?4, next_attempt_at = ?5, last_error = ?7, permanent = ?8",
            params![
                failure.series_id,
                failure.github,
                failure.email,
                failure.attempts,
                Stamp(failure.next_attempt_at),
                Stamp(failure.first_failed_at),
                failure.last_error,
                failure.permanent
            ],
        )
        .map(drop)
    }

    /// Whether some failed calendar message is due for a retry at `at`.
    pub fn mail_retry_due(&self, at: Timestamp) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.prepare_cached(
                "SELECT 1 FROM mail_failures WHERE permanent = 0 AND next_attempt_at <= ?1 LIMIT 1",
            )?
            .exists([Stamp(at)])?)
        })
    }

    /// Forgets a member's failure (their message went out).
    pub fn clear_mail_failure(&self, series_id: &str, github: &Login) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM mail_failures WHERE series_id = ?1 AND github = ?2",
            params![series_id, github],
        )
        .map(drop)
    }

    /// The mail failures of a series (or of all series with `None`).
    pub fn mail_failures(&self, series_id: Option<&str>) -> Result<Vec<MailFailure>, StoreError> {
        self.with(|c| {
            all_rows(
                c,
                TABLE,
                "SELECT rowid, series_id, github, email, attempts, next_attempt_at, first_failed_at, last_error, permanent
                 FROM mail_failures WHERE ?1 IS NULL OR series_id = ?1 ORDER BY series_id, github",
                [series_id],
                mail_failure,
            )
        })
    }
}

fn mail_failure(r: &StoredRow<'_, '_>) -> Result<MailFailure, StoreError> {
    Ok(MailFailure {
        series_id: r.get("series_id")?,
        github: r.get("github")?,
        email: r.get("email")?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.timestamp("next_attempt_at")?,
        first_failed_at: r.timestamp("first_failed_at")?,
        last_error: r.get("last_error")?,
        permanent: r.get("permanent")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{corrupt, store};

    fn failure() -> MailFailure {
        MailFailure {
            series_id: "s".into(),
            github: "ada".into(),
            email: EmailAddress::parse("ada@example.org").unwrap(),
            attempts: 1,
            next_attempt_at: "2026-01-01T00:05:00Z".parse().unwrap(),
            first_failed_at: "2026-01-01T00:00:00.250Z".parse().unwrap(),
            last_error: "421 try later".into(),
            permanent: false,
        }
    }

    #[test]
    fn mail_failures_are_kept_until_cleared() {
        let (_dir, store) = store();
        let failure = failure();
        store.record_mail_failure(&failure).unwrap();
        assert_eq!(
            store.mail_failures(Some("s")).unwrap(),
            std::slice::from_ref(&failure)
        );
        assert!(store.mail_retry_due(failure.next_attempt_at).unwrap());
        assert_eq!(store.depth().unwrap().mail, 1);
        assert!(!format!("{failure:?}").contains("ada@example.org"));
        store.clear_mail_failure("s", &"ada".into()).unwrap();
        assert!(store.mail_failures(None).unwrap().is_empty());
    }

    #[test]
    fn a_bad_first_failure_time_is_an_error_not_now() {
        let (_dir, store) = store();
        store.record_mail_failure(&failure()).unwrap();
        corrupt(&store, "UPDATE mail_failures SET first_failed_at = 'soon'");
        let error = store.mail_failures(None).unwrap_err().to_string();
        assert!(
            error.contains("mail_failures row 1 has an unreadable first_failed_at"),
            "{error}"
        );
    }
}
