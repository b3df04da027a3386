//! Keeping personal data only as long as it is needed (`[storage] retention_days`): the names
//! and addresses in finished requests and in used or expired confirmations are erased once the
//! retention period has passed since they ended.
//!
//! - a job that is no longer pending keeps its row (the history `invitebot status` shows) but
//!   its request becomes [`ERASED`]; a request that waits for a maintainer's approval label is
//!   not finished and is kept;
//! - a confirmation confirmed, or expired, before the cut-off is deleted;
//! - what was sent to current members (`member_state`) is not a request: it stays while they
//!   are members (a cancellation needs the address), and `roster forget` erases it.
//!
//! Like erasure, the freed bytes are overwritten (`secure_delete`) and the log is checkpointed.

use jiff::Timestamp;
use rusqlite::params;

use super::columns::Stamp;
use super::erase::ERASED;
use super::{Store, StoreError};

/// What [`Store::erase_expired`] erased.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// Finished requests whose personal data was erased (their rows stay, as history).
    pub requests: usize,
    /// Used or expired confirmations deleted.
    pub confirmations: usize,
}

impl Store {
    /// Erases the personal data of requests that finished, and confirmations that were used or
    /// expired, before `cutoff` (see the module docs).
    pub fn erase_expired(&self, cutoff: Timestamp) -> Result<Expired, StoreError> {
        self.with(|c| {
            c.pragma_update(None, "secure_delete", true)?;
            let tx = c.transaction()?;
            let requests = tx.execute(
                "UPDATE jobs SET request = ?1
                 WHERE status != 'pending' AND request != ?1 AND finished_at IS NOT NULL
                   AND finished_at < ?2 AND coalesce(outcome, '') != 'needs-approval'",
                params![ERASED, Stamp(cutoff)],
            )?;
            let confirmations = tx.execute(
                "DELETE FROM confirmations WHERE confirmed_at < ?1 OR expires_at < ?1",
                [Stamp(cutoff)],
            )?;
            tx.commit()?;
            if requests + confirmations > 0 {
                // Busy readers may keep part of the log: best effort.
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            }
            Ok(Expired {
                requests,
                confirmations,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::Outcome;
    use crate::store::confirmations::tests::join;
    use crate::store::group_commit::tests::job_for;
    use crate::store::testing::store;
    use crate::store::{JobRequest, NewConfirmation, NewJob};

    fn later() -> Timestamp {
        Timestamp::now() + jiff::SignedDuration::from_secs(60)
    }

    #[test]
    fn finished_requests_and_used_confirmations_are_erased_after_the_cut_off() {
        let (_dir, store) = store();
        let kind = join("ada", "ada@example.org");
        let done = store.add_job(&job_for("d-1", &kind)).unwrap().unwrap();
        let again = NewJob {
            once_per_issue: false,
            ..job_for("d-2", &kind)
        };
        store.add_job(&again).unwrap().unwrap();
        let record = store.jobs_of_delivery("d-1").unwrap().remove(0).record;
        store
            .finish_job(&record, &Outcome::AwaitingConfirmation, &[])
            .unwrap();
        let waiting = store
            .create_confirmation(&NewConfirmation {
                series_id: "s",
                repo: "a/b",
                issue: 1,
                login: "ada",
                request: &kind,
                expires_at: later() + jiff::SignedDuration::from_hours(1),
            })
            .unwrap();
        let expired = store
            .create_confirmation(&NewConfirmation {
                series_id: "s",
                repo: "a/b",
                issue: 2,
                login: "ada",
                request: &kind,
                expires_at: Timestamp::now(),
            })
            .unwrap();

        // Nothing ended before an old cut-off.
        let old = Timestamp::now() - jiff::SignedDuration::from_hours(1);
        assert_eq!(store.erase_expired(old).unwrap(), Expired::default());

        let erased = store.erase_expired(later()).unwrap();
        assert_eq!(
            erased,
            Expired {
                requests: 1,
                confirmations: 1
            }
        );
        let finished = store.jobs_of_delivery("d-1").unwrap().remove(0);
        assert_eq!(finished.record.id, done);
        assert!(matches!(finished.request, JobRequest::Erased));
        // The pending job and the waiting confirmation are kept.
        let pending = store.jobs_of_delivery("d-2").unwrap().remove(0);
        assert!(matches!(pending.request, JobRequest::Kind(_)));
        assert_ne!(
            store.confirm(waiting, Timestamp::now()).unwrap(),
            crate::store::Confirmed::Unknown
        );
        assert_eq!(
            store.confirm(expired, Timestamp::now()).unwrap(),
            crate::store::Confirmed::Unknown
        );
    }
}
