//! Group commit for accepted deliveries: the HTTP handlers hand their delivery and job to one
//! writer thread, which commits whatever has queued up in one transaction and answers each.
//! Under load that is one commit (and one wake-up) for many requests instead of one blocking
//! task, one lock and one commit each; alone, a request waits for nothing but its own commit.

use std::sync::Arc;
use std::sync::mpsc;

use tokio::sync::oneshot;

use rusqlite::Connection;

use super::accepted_bodies::{self, BodyDigest};
use super::deliveries::{insert, set_outcome};
use super::jobs::insert_job;
use super::{Accepted, DeliveryRecord, NewJob, Store, StoreError};
use crate::core::job::JobKind;

/// Most deliveries committed together.
const BATCH: usize = 256;

/// A delivery to record, with the job it asks for.
pub struct Acceptance {
    /// The delivery.
    pub delivery: DeliveryRecord,
    /// The job, if the delivery asks for one.
    pub job: Option<DeliveryJob>,
}

/// The job a delivery asks for (its delivery id, action, repository and issue are the
/// delivery's).
pub struct DeliveryJob {
    /// The series.
    pub series_id: String,
    /// What the job asks.
    pub kind: JobKind,
    /// Add it only for an issue never handled (see [`NewJob::once_per_issue`]).
    pub once_per_issue: bool,
    /// What identifies the delivery's body (see [`NewJob::body`]).
    pub body: BodyDigest,
}

/// Why a delivery was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroupCommitError {
    /// The writer thread is gone (the server is shutting down).
    #[error("the store writer has stopped")]
    Stopped,
    /// The batch's transaction failed: none of its deliveries is recorded.
    #[error("recording the deliveries failed: {0}")]
    Store(#[source] Arc<StoreError>),
}

type Reply = oneshot::Sender<Result<Accepted, GroupCommitError>>;

/// The handlers' side of the writer thread.
#[derive(Clone)]
pub struct GroupCommit {
    sender: mpsc::Sender<(Acceptance, Reply)>,
}

impl GroupCommit {
    /// Starts the writer thread. It ends once every `GroupCommit` is dropped.
    pub fn start(store: Arc<Store>) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel();
        std::thread::Builder::new()
            .name("invitebot-accept".into())
            .spawn(move || write(&store, &receiver))?;
        Ok(Self { sender })
    }

    /// Records the delivery and its job; returns once they are committed (or why not).
    pub async fn accept(&self, acceptance: Acceptance) -> Result<Accepted, GroupCommitError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((acceptance, reply))
            .map_err(|_| GroupCommitError::Stopped)?;
        answer.await.map_err(|_| GroupCommitError::Stopped)?
    }
}

fn write(store: &Store, receiver: &mpsc::Receiver<(Acceptance, Reply)>) {
    while let Ok(first) = receiver.recv() {
        let pending: Vec<_> = std::iter::once(first)
            .chain(receiver.try_iter().take(BATCH - 1))
            .collect();
        let batch: Vec<_> = pending
            .iter()
            .map(|(a, _)| {
                (
                    a.delivery.clone(),
                    a.job.as_ref().map(|job| new_job(&a.delivery, job)),
                )
            })
            .collect();
        match store.accept_deliveries(&batch) {
            Ok(accepted) => {
                for ((_, reply), accepted) in pending.into_iter().zip(accepted) {
                    let _ = reply.send(Ok(accepted));
                }
            }
            Err(error) => {
                let error = GroupCommitError::Store(Arc::new(error));
                for (_, reply) in pending {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

fn new_job<'a>(delivery: &'a DeliveryRecord, job: &'a DeliveryJob) -> NewJob<'a> {
    NewJob {
        delivery_id: &delivery.id,
        action: delivery.action.as_deref().unwrap_or("-"),
        series_id: &job.series_id,
        repo: delivery.repo.as_deref().unwrap_or_default(),
        issue: delivery.issue.unwrap_or_default(),
        kind: &job.kind,
        once_per_issue: job.once_per_issue,
        body: Some(job.body),
    }
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
        self.transaction(|tx| {
            batch
                .iter()
                .map(|(delivery, job)| accept(tx, delivery, job.as_ref()))
                .collect()
        })
    }
}

/// Records one delivery and its job inside the caller's transaction.
fn accept(
    tx: &Connection,
    delivery: &DeliveryRecord,
    job: Option<&NewJob<'_>>,
) -> Result<Accepted, StoreError> {
    if !insert(tx, delivery)? {
        return Ok(Accepted::Duplicate);
    }
    if let Some(digest) = job.and_then(|job| job.body)
        && !accepted_bodies::record(tx, digest, &delivery.id)?
    {
        set_outcome(tx, &delivery.id, "replayed")?;
        return Ok(Accepted::Replayed);
    }
    if let Some(job) = job
        && insert_job(tx, job)?.is_none()
    {
        set_outcome(tx, &delivery.id, "already-handled")?;
        return Ok(Accepted::AlreadyHandled);
    }
    Ok(Accepted::New)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::store::deliveries::tests::delivery;
    use crate::store::testing::store;

    fn leave() -> JobKind {
        JobKind::LeaveByLink {
            login: "ada".into(),
        }
    }

    pub(in crate::store) fn job_for<'a>(delivery_id: &'a str, kind: &'a JobKind) -> NewJob<'a> {
        NewJob {
            delivery_id,
            action: "opened",
            series_id: "s",
            repo: "A/B",
            issue: 2,
            kind,
            once_per_issue: true,
            body: None,
        }
    }

    /// Accepts delivery `id` with its job, alone in its transaction.
    pub(in crate::store) fn accept_one(store: &Store, id: &str) -> Accepted {
        let kind = leave();
        store
            .accept_deliveries(&[(delivery(id), Some(job_for(id, &kind)))])
            .unwrap()[0]
    }

    #[test]
    fn a_delivery_is_accepted_once_with_its_job() {
        let (_dir, store) = store();
        assert_eq!(accept_one(&store, "d1"), Accepted::New);
        assert_eq!(accept_one(&store, "d1"), Accepted::Duplicate);
        // Another delivery for the same issue (catch-up took it, or GitHub sends `labeled`).
        assert_eq!(accept_one(&store, "d2"), Accepted::AlreadyHandled);
        let kind = leave();
        assert_eq!(
            store.add_job(&job_for("catch-up:a/b#2", &kind)).unwrap(),
            None
        );
        let reopened = NewJob {
            once_per_issue: false,
            body: None,
            ..job_for("d3", &kind)
        };
        assert!(store.add_job(&reopened).unwrap().is_some());
        assert_eq!(store.open_jobs().unwrap().len(), 2);
        assert!(store.has_job_for("a/b", 2).unwrap());
        let recent = store.recent_deliveries(10).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].outcome, "already-handled");
    }

    /// Stands for the signature of `body`: distinct bodies, distinct values.
    fn digest(body: &str) -> BodyDigest {
        use sha2::{Digest, Sha256};
        BodyDigest(Sha256::digest(body).into())
    }

    /// A job for the same issue, asked by a body of its own (`body`).
    fn job(body: &str) -> Option<DeliveryJob> {
        Some(DeliveryJob {
            series_id: "s".into(),
            kind: JobKind::LeaveByLink {
                login: "ada".into(),
            },
            once_per_issue: true,
            body: digest(body),
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_acceptances_are_each_answered_as_if_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let commit = GroupCommit::start(store.clone()).unwrap();
        // 50 deliveries for the same issue at once, and one delivery id sent twice.
        let mut tasks = Vec::new();
        for i in 0..50 {
            let commit = commit.clone();
            let id = if i == 49 {
                "d0".to_string()
            } else {
                format!("d{i}")
            };
            tasks.push(tokio::spawn(async move {
                commit
                    .accept(Acceptance {
                        job: job(&id),
                        delivery: delivery(&id),
                    })
                    .await
                    .unwrap()
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let count = |wanted: Accepted| outcomes.iter().filter(|&&o| o == wanted).count();
        assert_eq!(count(Accepted::New), 1, "{outcomes:?}");
        assert_eq!(count(Accepted::Duplicate), 1, "{outcomes:?}");
        assert_eq!(count(Accepted::AlreadyHandled), 48, "{outcomes:?}");
        assert_eq!(store.open_jobs().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_body_accepted_before_is_a_replay_whatever_its_delivery_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let commit = GroupCommit::start(store.clone()).unwrap();
        let accept = |id: &'static str, body: &'static str| {
            let commit = commit.clone();
            async move {
                let job = job(body);
                commit
                    .accept(Acceptance {
                        delivery: delivery(id),
                        job,
                    })
                    .await
                    .unwrap()
            }
        };
        assert_eq!(accept("d1", "body").await, Accepted::New);
        assert_eq!(accept("d2", "body").await, Accepted::Replayed);
        assert_eq!(accept("d2", "body").await, Accepted::Duplicate);
        assert_eq!(accept("d3", "another body").await, Accepted::AlreadyHandled);
        assert_eq!(store.open_jobs().unwrap().len(), 1);
        let outcomes: Vec<String> = store
            .recent_deliveries(10)
            .unwrap()
            .into_iter()
            .filter(|d| d.id == "d2")
            .map(|d| d.outcome)
            .collect();
        assert_eq!(outcomes, ["replayed"]);
    }

    #[tokio::test]
    async fn a_stopped_writer_is_a_typed_error() {
        let (sender, receiver) = mpsc::channel();
        drop(receiver);
        let commit = GroupCommit { sender };
        let error = commit
            .accept(Acceptance {
                delivery: delivery("d1"),
                job: None,
            })
            .await
            .unwrap_err();
        assert!(matches!(error, GroupCommitError::Stopped), "{error}");
    }
}
