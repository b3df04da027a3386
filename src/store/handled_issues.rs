//! `handled_issues`: the issues whose request the bot handled, and how each stands. Each issue
//! is handled once: `opened`, `labeled` and catch-up add no job for an issue found here.

use rusqlite::{Connection, params};

use super::columns::Stamp;
use super::jobs::{NewJob, insert_job};
use super::rows::first_row;
use super::{Store, StoreError};
use crate::core::job::IssueState;

/// The table.
const TABLE: &str = "handled_issues";

impl Store {
    /// How an issue was last handled (invited, asked for an address, …), if it was.
    pub fn issue_state(&self, repo: &str, issue: u64) -> Result<Option<IssueState>, StoreError> {
        self.with(|c| {
            first_row(
                c,
                TABLE,
                "SELECT rowid, state FROM handled_issues WHERE repo = lower(?1) AND issue = ?2",
                params![repo, issue],
                |r| r.get("state"),
            )
        })
    }

    /// Marks an issue handled without a job (catch-up found the bot's own comment on it); an
    /// issue handled before keeps its state.
    pub fn mark_issue_handled(
        &self,
        repo: &str,
        issue: u64,
        series_id: &str,
        state: IssueState,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO handled_issues (repo, issue, series_id, state, at) VALUES (lower(?1), ?2, ?3, ?4, ?5)
             ON CONFLICT (repo, issue) DO NOTHING",
            params![repo, issue, series_id, state, Stamp::now()],
        )
        .map(drop)
    }
}

/// What became of a private email form's answer ([`Store::answer_email_form`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAnswer {
    /// The first accepted answer: the request continues with it (its job is queued).
    Taken,
    /// The form was answered before (it works once), or the request went on another way.
    AlreadyAnswered,
    /// The issue was closed: the link is void.
    Closed,
    /// The issue never waited for an address (or the store doesn't know it).
    NotWaiting,
}

impl Store {
    /// Takes a private email form's answer if the issue still waits for an address: in one
    /// transaction the issue moves from `needs-email` to `address-given` and `job` is added, so
    /// of concurrent answers exactly one wins; the others change nothing.
    pub fn answer_email_form(&self, job: &NewJob<'_>) -> Result<FormAnswer, StoreError> {
        self.transaction(|tx| {
            let taken = tx.prepare_cached(
                "UPDATE handled_issues SET state = ?3, at = ?4 WHERE repo = lower(?1) AND issue = ?2 AND state = ?5",
            )?
            .execute(params![
                job.repo,
                job.issue,
                IssueState::AddressGiven,
                Stamp::now(),
                IssueState::NeedsEmail
            ])?;
            if taken == 1 {
                insert_job(tx, job)?;
                return Ok(FormAnswer::Taken);
            }
            let state: Option<IssueState> = first_row(
                tx,
                TABLE,
                "SELECT rowid, state FROM handled_issues WHERE repo = lower(?1) AND issue = ?2",
                params![job.repo, job.issue],
                |r| r.get("state"),
            )?;
            Ok(match state {
                None => FormAnswer::NotWaiting,
                Some(IssueState::Closed) => FormAnswer::Closed,
                Some(_) => FormAnswer::AlreadyAnswered,
            })
        })
    }

    /// The issue was closed: if it waited for an address, its private form link is void from
    /// now on. Returns whether it waited.
    pub fn close_issue(&self, repo: &str, issue: u64) -> Result<bool, StoreError> {
        let changed = self.execute(
            "UPDATE handled_issues SET state = ?3, at = ?4 WHERE repo = lower(?1) AND issue = ?2 AND state = ?5",
            params![repo, issue, IssueState::Closed, Stamp::now(), IssueState::NeedsEmail],
        )?;
        Ok(changed == 1)
    }
}

/// Records how an issue (`owner/name`, number) stands after a job, inside the caller's
/// transaction.
pub(super) fn record_handled(
    c: &Connection,
    (repo, issue): (&str, u64),
    series_id: &str,
    state: IssueState,
    at: Stamp,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO handled_issues (repo, issue, series_id, state, at) VALUES (lower(?1), ?2, ?3, ?4, ?5)
         ON CONFLICT (repo, issue) DO UPDATE SET series_id = ?3, state = ?4, at = ?5",
    )?
    .execute(params![repo, issue, series_id, state, at])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{corrupt, store};

    #[test]
    fn marking_keeps_an_earlier_state() {
        let (_dir, store) = store();
        assert_eq!(store.issue_state("a/b", 1).unwrap(), None);
        store
            .mark_issue_handled("A/B", 1, "s", IssueState::Answered)
            .unwrap();
        store
            .mark_issue_handled("a/b", 1, "s", IssueState::NeedsEmail)
            .unwrap();
        assert_eq!(
            store.issue_state("a/B", 1).unwrap(),
            Some(IssueState::Answered)
        );
    }

    #[test]
    fn an_unknown_state_is_an_error() {
        let (_dir, store) = store();
        store
            .mark_issue_handled("a/b", 1, "s", IssueState::Left)
            .unwrap();
        corrupt(&store, "UPDATE handled_issues SET state = 'maybe'");
        let error = store.issue_state("a/b", 1).unwrap_err().to_string();
        assert!(
            error.contains("handled_issues row 1 has an unreadable state"),
            "{error}"
        );
    }
}
