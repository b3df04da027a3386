//! The bot's own state: what it has sent to whom and the work it has accepted, in one SQLite
//! file in the data folder.
//!
//! Config and rosters are the maintainers' files; this store records what the bot did about them,
//! so that a restart sends nothing new and a change sends only the difference. One file per
//! table (or pair of tables kept together):
//! - what was sent: [`series`] (per series the calendar UID, the highest `SEQUENCE` ever used and
//!   the event as last sent), [`members`] (per series and member the address and `SEQUENCE` of
//!   the last message, invitation or cancellation, and the fingerprint their calendar has);
//! - the accepted work: [`deliveries`] (webhook deliveries seen), [`jobs`] (join and leave
//!   requests), [`replies`] (the outbox of GitHub replies), [`mail_failures`] (failed calendar
//!   mail with its retry schedule), [`handled_issues`], [`catch_up`] (positions per
//!   repository), and what the work rows share and what is waiting across them ([`work`]);
//! - consent and limits: [`confirmations`] (addresses waiting for their owner's click) and the
//!   [`daily_counts`] the guard checks;
//! - [`group_commit`] (the writer thread that commits accepted requests in groups),
//!   [`checkpoints`] (the thread that copies the write-ahead log back, off the request path),
//!   [`erase`] (forgetting a person, `roster forget`) and [`retention`] (erasing finished
//!   requests' personal data after `[storage] retention_days`).
//!
//! Nothing outside this module sees SQL. Values are typed in and out ([`columns`]: timestamps,
//! statuses, addresses, JSON); a stored value that isn't what its column holds is a
//! [`StoreError::Corrupt`] naming the table, column and row, never a default. WAL mode; the
//! schema version is SQLite's `user_version` and [`migrations`] brings an older file up to date.
//! The store holds email addresses (to cancel an old address after a change): it lives in the
//! deployment's private data folder, which opening the store makes private ([`private`]: the
//! folder and its subfolders `0700`, every file in them `0600`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, Params, Transaction};

mod accepted_bodies;
mod approvals;
mod catch_up;
mod checkpoints;
mod columns;
mod commands;
mod confirmations;
mod daily_counts;
mod deliveries;
mod erase;
mod error;
mod group_commit;
mod handled_issues;
mod jobs;
mod mail_failures;
mod members;
mod migrations;
mod private;
mod replies;
mod retention;
mod rows;
mod series;
mod waiting;
mod work;

pub use accepted_bodies::BodyDigest;
pub use approvals::HeldRequest;
pub use checkpoints::Checkpoints;
pub use confirmations::{Confirmed, NewConfirmation};
pub use deliveries::{Accepted, DeliveryRecord};
pub use erase::{ERASED, Erasure, ErasureTarget, HeldInvitation};
pub use error::StoreError;
pub use group_commit::{Acceptance, DeliveryJob, GroupCommit, GroupCommitError};
pub use handled_issues::FormAnswer;
pub use jobs::{JobRecord, JobRequest, NewJob, StoredJob};
pub use mail_failures::MailFailure;
pub use replies::{NewReply, ReplyRecord, StoredReply};
pub use retention::Expired;
pub use waiting::{QueueDepth, UnreadableWork};
pub use work::{WorkState, WorkStatus};

/// The file name inside the data folder.
pub const FILE_NAME: &str = "invitebot.sqlite3";

/// The state store. Calls are short and serialised by a mutex.
pub struct Store {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, bringing its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let folder_error = |source| StoreError::Folder {
            path: data_dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(folder_error)?;
        let path = data_dir.join(FILE_NAME);
        create_private(&path).map_err(folder_error)?;
        private::make_private(data_dir).map_err(folder_error)?;
        let open_error = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut connection = Connection::open(&path).map_err(open_error)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(open_error)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        migrations::migrate(&mut connection, &path)?;
        Ok(Store {
            path,
            connection: Mutex::new(connection),
        })
    }

    /// Opens an existing store without creating or migrating anything (for `check`); `None` if
    /// there is no store yet.
    pub fn open_existing(data_dir: &Path) -> Result<Option<Store>, StoreError> {
        let path = data_dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let connection =
            Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|source| StoreError::Open {
                    path: path.clone(),
                    source,
                })?;
        migrations::ensure_current(&connection, &path)?;
        Ok(Some(Store {
            path,
            connection: Mutex::new(connection),
        }))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A trivial query: the store answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    /// Runs `f` on the connection, alone.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut connection)
    }

    /// Runs `f` in a transaction, committed if it succeeds.
    fn transaction<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let result = f(&tx)?;
            tx.commit()?;
            Ok(result)
        })
    }

    /// Runs one statement; returns the number of rows it changed.
    fn execute(&self, sql: &str, params: impl Params) -> Result<usize, StoreError> {
        self.with(|c| Ok(c.prepare_cached(sql)?.execute(params)?))
    }
}

/// Creates the store's file readable by its owner only, if it doesn't exist (SQLite gives its
/// write-ahead log and shared-memory files the same mode).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_opening_needs_an_existing_store() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Store::open_existing(dir.path()).unwrap().is_none());
        Store::open(dir.path())
            .unwrap()
            .put_series(
                "s",
                &crate::core::sent::SeriesRecord {
                    uid: "u".into(),
                    sequence: 0,
                    fingerprint: "f".into(),
                    definition: "{}".into(),
                },
            )
            .unwrap();
        let store = Store::open_existing(dir.path()).unwrap().unwrap();
        assert_eq!(store.series("s").unwrap().unwrap().uid, "u");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        Connection::open(dir.path().join(FILE_NAME))
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let error = Store::open(dir.path()).err().unwrap().to_string();
        assert!(error.contains("schema version 99"), "{error}");
    }
}

/// Helpers for the store's unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::Store;

    /// A store in a fresh temporary folder (kept while the folder lives).
    pub(crate) fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    /// Adds a job for issue 2 of `A/B` in series `s` (delivery `delivery_id`, action `opened`)
    /// and finishes it with `outcome`.
    pub(crate) fn finished_job(
        store: &Store,
        delivery_id: &str,
        kind: &crate::core::job::JobKind,
        outcome: &crate::core::job::Outcome,
    ) {
        let job = super::NewJob {
            once_per_issue: false,
            ..super::group_commit::tests::job_for(delivery_id, kind)
        };
        store.add_job(&job).unwrap();
        let record = store
            .jobs_of_delivery(delivery_id)
            .unwrap()
            .remove(0)
            .record;
        store.finish_job(&record, outcome, &[]).unwrap();
    }

    /// Overwrites one value of the store's file behind its back, as damage or a hand edit would.
    pub(crate) fn corrupt(store: &Store, sql: &str) {
        store
            .with(|c| Ok(c.execute_batch(sql)?))
            .expect("the corrupting statement runs");
    }
}
