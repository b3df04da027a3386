//! The bot's own state: what it has sent to whom, in one SQLite file in the data folder.
//!
//! Config and rosters are the maintainers' files; this store records what the bot did about them,
//! so that a restart sends nothing new and a change sends only the difference:
//! - per series, the calendar UID, the highest `SEQUENCE` ever used and the fingerprint of the
//!   event fields at that sequence;
//! - per series and member, the address and `SEQUENCE` of the last message and whether it was an
//!   invitation or a cancellation, plus the fingerprint the member's calendar has.
//!
//! - the accepted work ([`queue`]): deliveries seen, jobs (join and leave requests), the outbox
//!   of GitHub replies, failed mail with its retry schedule, the issues already handled and the
//!   catch-up position.
//!
//! Nothing outside this module sees SQL. WAL mode; the schema version is SQLite's `user_version`
//! and [`MIGRATIONS`] brings an older file up to date. The store holds email addresses (to cancel
//! an old address after a change): it lives in the deployment's private data folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::core::sent::{MemberRecord, MemberStatus, SeriesRecord};

mod consent;
mod group_commit;
pub use group_commit::{Acceptance, GroupCommit, GroupCommitError};
mod erase;
mod queue;
pub use consent::*;
pub use erase::{ERASED, Erasure, ErasureTarget, HeldInvitation};
pub use queue::*;

/// The file name inside the data folder.
pub const FILE_NAME: &str = "invitebot.sqlite3";

/// Schema migrations, in order; `user_version` counts the ones applied.
const MIGRATIONS: &[&str] = &[
    // 1: what was sent.
    "CREATE TABLE series_state (
        series_id   TEXT PRIMARY KEY,
        uid         TEXT NOT NULL,
        sequence    INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        definition  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    );
    CREATE TABLE member_state (
        series_id   TEXT NOT NULL,
        github      TEXT NOT NULL,
        name        TEXT NOT NULL,
        email       TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('invited', 'cancelled')),
        sequence    INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        sent_at     TEXT NOT NULL,
        team_error  TEXT,
        PRIMARY KEY (series_id, github)
    );",
    // 2: accepted work and what is still to be done.
    "CREATE TABLE deliveries (
        id          TEXT PRIMARY KEY,
        event       TEXT NOT NULL,
        action      TEXT,
        repo        TEXT,
        issue       INTEGER,
        received_at TEXT NOT NULL,
        outcome     TEXT NOT NULL
    );
    CREATE INDEX deliveries_by_time ON deliveries (received_at);
    CREATE TABLE jobs (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        delivery_id     TEXT NOT NULL,
        action          TEXT NOT NULL,
        series_id       TEXT NOT NULL,
        repo            TEXT NOT NULL,
        issue           INTEGER NOT NULL,
        request         TEXT NOT NULL,
        progress        TEXT NOT NULL DEFAULT '{}',
        status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        outcome         TEXT,
        created_at      TEXT NOT NULL,
        finished_at     TEXT
    );
    CREATE INDEX jobs_due ON jobs (status, next_attempt_at);
    CREATE INDEX jobs_by_issue ON jobs (repo, issue);
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        key             TEXT NOT NULL UNIQUE,
        kind            TEXT NOT NULL,
        repo            TEXT NOT NULL,
        issue           INTEGER NOT NULL,
        payload         TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        done_at         TEXT
    );
    CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
    CREATE TABLE handled_issues (
        repo      TEXT NOT NULL,
        issue     INTEGER NOT NULL,
        series_id TEXT NOT NULL,
        state     TEXT NOT NULL,
        at        TEXT NOT NULL,
        PRIMARY KEY (repo, issue)
    );
    CREATE TABLE catch_up (
        repo          TEXT PRIMARY KEY,
        checked_until TEXT NOT NULL
    );
    CREATE TABLE mail_failures (
        series_id       TEXT NOT NULL,
        github          TEXT NOT NULL,
        email           TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        next_attempt_at TEXT NOT NULL,
        first_failed_at TEXT NOT NULL,
        last_error      TEXT NOT NULL,
        permanent       INTEGER NOT NULL,
        PRIMARY KEY (series_id, github)
    );",
    // 3: addresses waiting for their owner's confirmation (double opt-in).
    "CREATE TABLE confirmations (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        series_id    TEXT NOT NULL,
        repo         TEXT NOT NULL,
        issue        INTEGER NOT NULL,
        login        TEXT NOT NULL,
        request      TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        confirmed_at TEXT
    );",
];

/// A failure of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be opened or created.
    #[error("cannot open the state store {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file was written by a newer invitebot.
    #[error(
        "the state store {path} has schema version {found}, newer than this invitebot knows ({known}); upgrade invitebot"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: usize,
    },
    /// The file predates this invitebot's schema and is only read here.
    #[error(
        "the state store {path} has the older schema version {found}; start `invitebot serve` once to upgrade it"
    )]
    Outdated {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
    /// A query failed.
    #[error("state store query failed: {0}")]
    Query(#[from] rusqlite::Error),
}

/// The state store. Calls are short and serialised by a mutex.
pub struct Store {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, bringing its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
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
        migrate(&mut connection, &path)?;
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
        let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if (version as usize) < MIGRATIONS.len() {
            return Err(StoreError::Outdated {
                path,
                found: version,
            });
        }
        if version as usize != MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path,
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        Ok(Some(Store {
            path,
            connection: Mutex::new(connection),
        }))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(f(&mut connection)?)
    }

    /// The ids of every series the store has records of.
    pub fn series_ids(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            let mut statement =
                c.prepare("SELECT series_id FROM series_state ORDER BY series_id")?;
            let ids = statement
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })
    }

    /// The record of a series, if any.
    pub fn series(&self, series_id: &str) -> Result<Option<SeriesRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT uid, sequence, fingerprint, definition FROM series_state WHERE series_id = ?1",
                [series_id],
                |r| Ok(SeriesRecord { uid: r.get(0)?, sequence: r.get(1)?, fingerprint: r.get(2)?, definition: r.get(3)? }),
            )
            .optional()
        })
    }

    /// Creates or replaces the record of a series.
    pub fn put_series(&self, series_id: &str, record: &SeriesRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO series_state (series_id, uid, sequence, fingerprint, definition, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (series_id) DO UPDATE SET
                    uid = ?2, sequence = ?3, fingerprint = ?4, definition = ?5, updated_at = ?6",
                params![series_id, record.uid, record.sequence, record.fingerprint, record.definition, now()],
            )
            .map(drop)
        })
    }

    /// Forgets a series and its members (after every member got its cancellation).
    pub fn delete_series(&self, series_id: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM member_state WHERE series_id = ?1", [series_id])?;
            tx.execute("DELETE FROM series_state WHERE series_id = ?1", [series_id])?;
            tx.commit()
        })
    }

    /// Every member record of a series, by login.
    pub fn members(&self, series_id: &str) -> Result<Vec<MemberRecord>, StoreError> {
        self.with(|c| {
            let mut statement = c.prepare(
                "SELECT github, name, email, status, sequence, fingerprint, team_error
                 FROM member_state WHERE series_id = ?1 ORDER BY github",
            )?;
            let rows = statement.query_map([series_id], |r| {
                Ok(MemberRecord {
                    github: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                    status: MemberStatus::parse(&r.get::<_, String>(3)?),
                    sequence: r.get(4)?,
                    fingerprint: r.get(5)?,
                    team_error: r.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Records a message sent to a member (after the mail server accepted it).
    pub fn record_message(&self, series_id: &str, record: &MemberRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO member_state (series_id, github, name, email, status, sequence, fingerprint, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (series_id, github) DO UPDATE SET
                    name = ?3, email = ?4, status = ?5, sequence = ?6, fingerprint = ?7, sent_at = ?8",
                params![
                    series_id,
                    record.github,
                    record.name,
                    record.email,
                    record.status.as_str(),
                    record.sequence,
                    record.fingerprint,
                    now()
                ],
            )
            .map(drop)
        })
    }

    /// Records the outcome of a GitHub team membership change (`None`: it worked).
    pub fn record_team_result(
        &self,
        series_id: &str,
        github: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE member_state SET team_error = ?3 WHERE series_id = ?1 AND github = ?2",
                params![series_id, github, error],
            )
            .map(drop)
        })
    }
}

/// Now, as stored: RFC 3339 in UTC, which sorts as text.
pub(crate) fn now() -> String {
    stamp(jiff::Timestamp::now())
}

/// A timestamp as stored (fixed width, so text order is time order).
pub(crate) fn stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = connection.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(path = %path.display(), version = index + 1, "state store migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(github: &str, status: MemberStatus, sequence: u32) -> MemberRecord {
        MemberRecord {
            github: github.into(),
            name: "Ada".into(),
            email: format!("{github}@example.org"),
            status,
            sequence,
            fingerprint: "fp1".into(),
            team_error: None,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let record = SeriesRecord {
            uid: "u@x".into(),
            sequence: 3,
            fingerprint: "fp1".into(),
            definition: "{}".into(),
        };
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.series("s").unwrap(), None);
            store.put_series("s", &record).unwrap();
            store
                .record_message("s", &member("ada", MemberStatus::Invited, 3))
                .unwrap();
            store
                .record_message("s", &member("bob", MemberStatus::Invited, 3))
                .unwrap();
            store
                .record_message("s", &member("bob", MemberStatus::Cancelled, 4))
                .unwrap();
            store
                .record_team_result("s", "ada", Some("403 Forbidden"))
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.series("s").unwrap(), Some(record));
        assert_eq!(store.series_ids().unwrap(), ["s"]);
        let members = store.members("s").unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].team_error.as_deref(), Some("403 Forbidden"));
        assert_eq!(
            (members[1].status, members[1].sequence),
            (MemberStatus::Cancelled, 4)
        );
        store.delete_series("s").unwrap();
        assert!(store.members("s").unwrap().is_empty());
        assert_eq!(store.series("s").unwrap(), None);
    }

    #[test]
    fn read_only_opening_needs_an_existing_store() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Store::open_existing(dir.path()).unwrap().is_none());
        Store::open(dir.path())
            .unwrap()
            .put_series(
                "s",
                &SeriesRecord {
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

    #[test]
    fn debug_output_hides_the_address() {
        let text = format!("{:?}", member("ada", MemberStatus::Invited, 0));
        assert!(!text.contains("ada@example.org"), "{text}");
    }
}
