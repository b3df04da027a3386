//! What can go wrong in the state store.

use std::path::PathBuf;

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
    /// A stored value is not what its column holds (the file was edited, or damaged).
    #[error(
        "the state store's {table} row {row} has an unreadable {column}: {problem} (see it with `SELECT * FROM {table} WHERE rowid = {row}`)"
    )]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The row's `rowid` (for jobs, outbox rows and confirmations: their id).
        row: i64,
        /// What is wrong with the value (never the value itself when it may be personal).
        problem: String,
    },
    /// A value could not be written as the JSON its column holds.
    #[error("cannot store the {column} of a {table} row: {source}")]
    Encode {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The serialiser's error.
        source: serde_json::Error,
    },
    /// A query failed.
    #[error("state store query failed: {0}")]
    Query(#[from] rusqlite::Error),
    /// The thread that checkpoints the store could not be started.
    #[error("cannot start the state store's checkpoint thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A store file could not be flushed to disk.
    #[error("cannot flush {path} to disk: {source}")]
    Sync {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
