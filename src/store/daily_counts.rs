//! The counts the guard in front of the roster checks: new members per series per day (jobs
//! that invited, plus confirmations still waiting) and mailed requests per person per day.

use jiff::Timestamp;
use rusqlite::params;

use super::columns::Stamp;
use super::{Store, StoreError};

impl Store {
    /// New members a series took since `since`: requests that ended `invited`, plus
    /// confirmations still waiting (each may become a member).
    pub fn new_members_since(&self, series_id: &str, since: Timestamp) -> Result<u32, StoreError> {
        self.count(
            "SELECT (SELECT count(*) FROM jobs WHERE series_id = ?1 AND outcome = 'invited' AND finished_at >= ?2)
                  + (SELECT count(*) FROM confirmations WHERE series_id = ?1 AND confirmed_at IS NULL AND created_at >= ?2)",
            params![series_id, Stamp(since)],
        )
    }

    /// Join requests by `login` for a series since `since` that sent mail (an invitation, again,
    /// or a confirmation request).
    pub fn mailed_requests_since(
        &self,
        series_id: &str,
        login: &str,
        since: Timestamp,
    ) -> Result<u32, StoreError> {
        self.count(
            "SELECT count(*) FROM jobs WHERE series_id = ?1 AND finished_at >= ?3
               AND outcome IN ('invited', 'invited-again', 'awaiting-confirmation')
               AND lower(coalesce(json_extract(request, '$.Join.login'), json_extract(request, '$.Approved.request.login'), '')) = lower(?2)",
            params![series_id, login, Stamp(since)],
        )
    }

    /// The number a counting query gives.
    fn count(&self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Result<u32, StoreError> {
        self.with(|c| Ok(c.prepare_cached(sql)?.query_row(params, |r| r.get(0))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::{JobKind, Outcome};
    use crate::core::request::EmailSource;
    use crate::store::NewJob;
    use crate::store::confirmations::tests::join;
    use crate::store::testing::store;

    #[test]
    fn mailed_requests_are_counted_per_person() {
        let (_dir, store) = store();
        let since = Timestamp::now() - jiff::SignedDuration::from_hours(24);
        let invited = Outcome::Invited(EmailSource::Form);
        for (delivery_id, kind, outcome) in [
            ("d1", join("Ada", "ada@example.org"), invited),
            ("d2", join("bob", "bob@example.org"), invited),
            (
                "d3",
                JobKind::LeaveByLink {
                    login: "ada".into(),
                },
                Outcome::Left,
            ),
        ] {
            let job = NewJob {
                delivery_id,
                action: "opened",
                series_id: "s",
                repo: "a/b",
                issue: 2,
                kind: &kind,
                once_per_issue: false,
                body: None,
            };
            store.add_job(&job).unwrap();
            let record = store
                .jobs_of_delivery(delivery_id)
                .unwrap()
                .remove(0)
                .record;
            store.finish_job(&record, &outcome, &[]).unwrap();
        }
        assert_eq!(store.mailed_requests_since("s", "ada", since).unwrap(), 1);
        assert_eq!(store.new_members_since("s", since).unwrap(), 2);
    }
}
