//! Requests waiting for a maintainer: why each waits (for `invitebot status`, never with an
//! address), and the request as it was stored when it was held, which is what an approval
//! releases (not the issue as edited since).

use rusqlite::params;

use super::jobs::{JobRequest, TABLE};
use super::rows::{StoredRow, all_rows, first_row};
use super::{Store, StoreError};
use crate::core::job::{Hold, JobKind};
use crate::core::request::InviteRequest;

/// A request that waits for a maintainer's approval label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRequest {
    /// The series.
    pub series_id: String,
    /// `owner/name` of the issue.
    pub repo: String,
    /// The issue.
    pub issue: u64,
    /// Why it waits (`None`: held before the reason was recorded).
    pub hold: Option<Hold>,
}

/// The last held job of each issue that still waits for approval.
const LAST_HELD: &str = "FROM jobs j JOIN handled_issues h ON h.repo = lower(j.repo) AND h.issue = j.issue
     WHERE h.state = 'needs-approval' AND j.outcome = 'needs-approval'
       AND j.id = (SELECT max(id) FROM jobs WHERE lower(repo) = lower(j.repo) AND issue = j.issue AND outcome = 'needs-approval')";

impl Store {
    /// The requests that wait for a maintainer, oldest first.
    pub fn held_requests(&self) -> Result<Vec<HeldRequest>, StoreError> {
        let sql =
            format!("SELECT j.id, j.series_id, j.repo, j.issue, j.hold {LAST_HELD} ORDER BY j.id");
        self.with(|c| all_rows(c, TABLE, &sql, [], held_request))
    }

    /// The join request of `repo#issue` as stored when it was held for a maintainer: `None`
    /// when the issue doesn't wait for one, or its person was forgotten.
    pub fn held_request(
        &self,
        repo: &str,
        issue: u64,
    ) -> Result<Option<InviteRequest>, StoreError> {
        let sql = format!(
            "SELECT j.id, j.request {LAST_HELD} AND lower(j.repo) = lower(?1) AND j.issue = ?2"
        );
        let request = self.with(|c| {
            first_row(c, TABLE, &sql, params![repo, issue], |r| {
                r.get::<JobRequest>("request")
            })
        })?;
        Ok(match request {
            Some(JobRequest::Kind(
                JobKind::Join(request)
                | JobKind::Confirmed(request)
                | JobKind::Approved { request, .. },
            )) => Some(request),
            _ => None,
        })
    }
}

fn held_request(r: &StoredRow<'_, '_>) -> Result<HeldRequest, StoreError> {
    Ok(HeldRequest {
        series_id: r.get("series_id")?,
        repo: r.get("repo")?,
        issue: r.get("issue")?,
        hold: r
            .get::<Option<String>>("hold")?
            .as_deref()
            .and_then(Hold::parse),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::Outcome;
    use crate::store::confirmations::tests::join;
    use crate::store::testing::{finished_job, store};

    /// Adds and finishes a join job for issue 2 asking for `email`, ending with `outcome`.
    fn finished(store: &Store, delivery_id: &str, email: &str, outcome: Outcome) {
        finished_job(store, delivery_id, &join("ada", email), &outcome);
    }

    #[test]
    fn a_held_request_is_listed_with_its_reason_and_read_back_as_stored() {
        let (_dir, store) = store();
        assert!(store.held_requests().unwrap().is_empty());
        assert_eq!(store.held_request("a/b", 2).unwrap(), None);
        finished(
            &store,
            "d1",
            "ada@example.org",
            Outcome::NeedsApproval(Hold::AddressOfMember),
        );
        let held = store.held_requests().unwrap();
        assert_eq!(
            held,
            [HeldRequest {
                series_id: "s".into(),
                repo: "A/B".into(),
                issue: 2,
                hold: Some(Hold::AddressOfMember),
            }]
        );
        let request = store.held_request("a/b", 2).unwrap().unwrap();
        assert!(matches!(
            request.email,
            crate::core::request::EmailFinding::Found(ref e, _) if e.expose() == "ada@example.org"
        ));
        // Once the issue no longer waits, nothing is held.
        finished(&store, "d2", "bob@example.org", Outcome::InvitedAgain);
        assert!(store.held_requests().unwrap().is_empty());
        assert_eq!(store.held_request("a/b", 2).unwrap(), None);
    }
}
