//! The counts the guard in front of the roster checks: new members per series per day (jobs
//! that invited without a confirmation, plus every confirmation mailed), mailed requests per
//! person per day, and confirmations per address per day.

use jiff::Timestamp;
use rusqlite::params;

use super::columns::Stamp;
use super::{Store, StoreError};
use crate::core::email_address::EmailAddress;

/// New members of series `?1` since `?2`: see [`Store::new_members_since`].
const NEW_MEMBERS_SINCE: &str = "SELECT (SELECT count(*) FROM jobs WHERE series_id = ?1 AND outcome = 'invited' AND finished_at >= ?2
           AND delivery_id NOT LIKE 'confirm:%')
      + (SELECT count(*) FROM confirmations WHERE series_id = ?1 AND created_at >= ?2)";

/// The address a confirmation was mailed to, lower-cased, as SQL (`NULL` for a request that is
/// not JSON, which a hand edit or damage could leave: an error there would also fail every
/// write to the row, since an index holds the expression). Indexed by migration 8; the query
/// must use the same text for the index to serve it.
macro_rules! confirmation_address {
    () => {
        "CASE WHEN json_valid(request) THEN lower(json_extract(request, '$.Confirmed.email.Found[0]')) END"
    };
}
pub(super) use confirmation_address;

/// The login of a join request (direct or approved), lower-cased, `''` for other jobs, as SQL
/// (`NULL` for a request that is not JSON, as in [`confirmation_address`]). Indexed by
/// migration 8.
macro_rules! job_login {
    () => {
        "CASE WHEN json_valid(request) THEN lower(coalesce(json_extract(request, '$.Join.login'), json_extract(request, '$.Approved.request.login'), '')) END"
    };
}
pub(super) use job_login;

/// Confirmations made for address `?1` since `?2`: see [`Store::confirmations_to_address_since`].
const CONFIRMATIONS_TO_ADDRESS_SINCE: &str = concat!(
    "SELECT count(*) FROM confirmations WHERE created_at >= ?2 AND ",
    confirmation_address!(),
    " = lower(?1)"
);

/// Mailing join requests of series `?1` by login `?2` since `?3`: see
/// [`Store::mailed_requests_since`].
const MAILED_REQUESTS_SINCE: &str = concat!(
    "SELECT count(*) FROM jobs WHERE series_id = ?1 AND finished_at >= ?3
       AND outcome IN ('invited', 'invited-again', 'awaiting-confirmation') AND ",
    job_login!(),
    " = lower(?2)"
);

/// Every count, for the test that each is served by an index.
#[cfg(test)]
pub(super) const QUERIES: [&str; 3] = [
    NEW_MEMBERS_SINCE,
    CONFIRMATIONS_TO_ADDRESS_SINCE,
    MAILED_REQUESTS_SINCE,
];

impl Store {
    /// New members a series took since `since`: requests that ended `invited` without a
    /// confirmation, plus every confirmation made (each mailed a stranger, whether or not it was
    /// clicked; a clicked one's invitation is not counted twice).
    pub fn new_members_since(&self, series_id: &str, since: Timestamp) -> Result<u32, StoreError> {
        self.count(NEW_MEMBERS_SINCE, params![series_id, Stamp(since)])
    }

    /// Confirmations made for `email` since `since`, in any series and whoever asked.
    pub fn confirmations_to_address_since(
        &self,
        email: &EmailAddress,
        since: Timestamp,
    ) -> Result<u32, StoreError> {
        self.count(
            CONFIRMATIONS_TO_ADDRESS_SINCE,
            params![email.expose(), Stamp(since)],
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
            MAILED_REQUESTS_SINCE,
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
    use crate::store::confirmations::tests::join;
    use crate::store::testing::{finished_job, store};

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
            finished_job(&store, delivery_id, &kind, &outcome);
        }
        assert_eq!(store.mailed_requests_since("s", "ada", since).unwrap(), 1);
        assert_eq!(store.new_members_since("s", since).unwrap(), 2);
    }

    #[test]
    fn confirmations_count_per_address_in_every_series_and_for_the_series_cap() {
        let (_dir, store) = store();
        let now = Timestamp::now();
        let since = now - jiff::SignedDuration::from_hours(24);
        let ada = EmailAddress::parse("Ada@Example.org").unwrap();
        assert_eq!(
            store.confirmations_to_address_since(&ada, since).unwrap(),
            0
        );
        for (series_id, login) in [("s", "mallory"), ("t", "eve")] {
            let request = JobKind::Confirmed(match join(login, "ada@example.org") {
                JobKind::Join(request) => request,
                _ => unreachable!(),
            });
            let id = store
                .create_confirmation(&crate::store::NewConfirmation {
                    series_id,
                    repo: "a/b",
                    issue: 2,
                    login,
                    request: &request,
                    expires_at: now + jiff::SignedDuration::from_hours(1),
                })
                .unwrap();
            // Confirmed or not, a confirmation counts once against the series' cap.
            if series_id == "s" {
                let crate::store::Confirmed::Now { job_id } = store.confirm(id, now).unwrap()
                else {
                    panic!("expected a job");
                };
                let record = store
                    .jobs_of_delivery(&format!("confirm:{id}"))
                    .unwrap()
                    .remove(0)
                    .record;
                assert_eq!(record.id, job_id);
                let invited = Outcome::Invited(EmailSource::Body);
                store.finish_job(&record, &invited, &[]).unwrap();
            }
        }
        assert_eq!(
            store.confirmations_to_address_since(&ada, since).unwrap(),
            2
        );
        let later = now + jiff::SignedDuration::from_hours(1);
        assert_eq!(
            store.confirmations_to_address_since(&ada, later).unwrap(),
            0
        );
        assert_eq!(store.new_members_since("s", since).unwrap(), 1);
        assert_eq!(store.new_members_since("t", since).unwrap(), 1);
    }
}
