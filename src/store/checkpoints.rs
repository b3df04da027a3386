//! Write-ahead log checkpoints on a thread of their own, for the server.
//!
//! A commit in WAL mode appends to the log; a checkpoint copies the log back into the database
//! file and syncs both to disk. SQLite runs one automatically in whichever connection's commit
//! takes the log past 1,000 pages, so with one shared connection a request's commit, or the
//! store lock it waited for, sometimes took a whole checkpoint's time. The server's connection
//! therefore checkpoints only as a backstop ([`BACKSTOP_PAGES`]), and a thread with a
//! connection of its own checkpoints every [`CHECKPOINT_EVERY`] in `PASSIVE` mode, which copies
//! what it can without waiting for, or holding, the store's lock.
//!
//! The log starts over from its beginning only when a commit finds it copied whole, and while
//! requests keep coming (1,000 a second is enough) one often commits during a pass: the log
//! then grew to the backstop's size, and every few seconds a request's commit ran the backstop's
//! checkpoint, syncing everything written since the last pass. So once the log is past
//! [`RESET_PAGES`], the thread follows its pass with a second one that holds the store's lock:
//! it has only the last few milliseconds' pages to copy and sync, no commit comes between, and
//! the next commit starts the log over.
//!
//! Commits wait while that second pass runs, and a checkpoint that copies the log whole ends by
//! syncing the database file, which flushes every page the unlocked passes copied since the last
//! sync (megabytes at a few thousand joins a second). So before taking the lock the thread
//! flushes both files itself, while commits go on, and the locked pass syncs only what came in
//! between. A log that no commit touched since the last pass is neither flushed nor
//! checkpointed again, so an idle server makes no disk access.
//!
//! Measured side by side with join requests at 1,000 a second on one CPU: p90 0.9 ms instead of
//! 2.8 ms with SQLite's own checkpoints; a checkpoint every second made p99 five times worse. A
//! checkpoint with nothing to copy costs no disk access. Starting the log over past 1,000 pages
//! (rather than at the backstop) took p99 at that rate from 3.3–5.4 ms, worse with every run, to
//! 2.7–3.0 ms, and at saturation from 27.5 to 18 ms (64 connections, 3 runs each; past 4,000
//! pages: 2.3–3.3 and 20.7 ms). With join requests at 3,000 a second, the locked pass held the
//! lock 8.5 ms (median) and 12.8 ms (p90) with the flush inside it, and 0.02 ms (median) with
//! the flush before it; at saturation, where the thread shares the CPU with the requests,
//! 11.9 ms and 6.6 ms. Flushing before the locked pass took the saturated p99 from 16.4–21.2 ms
//! to 12.6–14.5 ms, and throughput up by 5–9% (3 runs each).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::{Store, StoreError};

/// How often the thread checkpoints.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// Log pages past which the thread makes the log start over (4 KiB each: 4 MiB, SQLite's own
/// size for a checkpoint). Chosen by measurement (see the module docs).
pub const RESET_PAGES: i64 = 1_000;

/// Log pages past which the server's own connection still checkpoints (4 KiB each: 40 MiB), in
/// case the thread falls behind or stops.
pub const BACKSTOP_PAGES: u32 = 10_000;

/// The checkpoint thread. Dropping it stops the thread after one last checkpoint.
pub struct Checkpoints {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Store {
    /// Moves this store's checkpoints to a thread of their own (see the module docs).
    pub fn checkpoint_in_background(self: &Arc<Self>) -> Result<Checkpoints, StoreError> {
        let open_error = |source| StoreError::Open {
            path: self.path.clone(),
            source,
        };
        let connection = Connection::open(&self.path).map_err(open_error)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(open_error)?;
        self.with(|c| Ok(c.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?))?;
        let (stop, stopped) = mpsc::channel();
        let store = Arc::clone(self);
        let thread = std::thread::Builder::new()
            .name("invitebot-checkpoint".into())
            .spawn(move || run(&store, &connection, &stopped))
            .map_err(StoreError::Thread)?;
        Ok(Checkpoints {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Checkpoints every [`CHECKPOINT_EVERY`] until `stopped` says so, then once more.
fn run(store: &Store, connection: &Connection, stopped: &mpsc::Receiver<()>) {
    let mut failing = false;
    let mut last = None;
    loop {
        let stopping = !matches!(
            stopped.recv_timeout(CHECKPOINT_EVERY),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        match pass(store, connection, &mut last) {
            Ok(_) if failing => {
                tracing::info!("write-ahead log checkpoints work again");
                failing = false;
            }
            Ok(_) => {}
            Err(error) if !failing => {
                tracing::warn!(%error, "cannot checkpoint the write-ahead log; the store's own connection does it past its backstop size");
                failing = true;
            }
            Err(_) => {}
        }
        if stopping {
            return;
        }
    }
}

/// What a [`pass`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// A checkpoint, the log being short of [`RESET_PAGES`].
    Copied,
    /// A checkpoint, both files flushed, and a second checkpoint holding the store's lock.
    Reset,
    /// A checkpoint only: the log is past [`RESET_PAGES`] but copied whole and unchanged since
    /// the last pass (no commit came; it starts over at the next one). Nothing to flush.
    Unchanged,
}

/// One checkpoint, and when the log is past [`RESET_PAGES`] both files flushed and a second
/// one holding the store's lock, after which the next commit starts the log over (see the
/// module docs). `last` is the log as the previous pass left it.
///
/// The second pass is needed even when the first copied the log whole: a commit that was under
/// way meanwhile appends to the log instead of starting it over. Only a log that no commit
/// touched since the last pass is left as it is, so an idle server flushes nothing.
fn pass(
    store: &Store,
    connection: &Connection,
    last: &mut Option<LogPages>,
) -> Result<Pass, StoreError> {
    let log = checkpoint(connection)?;
    let unchanged = log.copied == log.pages && *last == Some(log);
    *last = Some(log);
    if log.pages < RESET_PAGES {
        return Ok(Pass::Copied);
    }
    if unchanged {
        return Ok(Pass::Unchanged);
    }
    sync(&store.path)?;
    sync(&log_path(&store.path))?;
    *last = Some(store.with(|_| Ok(checkpoint(connection)?))?);
    Ok(Pass::Reset)
}

/// The write-ahead log after a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LogPages {
    /// Pages in the log.
    pages: i64,
    /// Pages of it copied into the database file.
    copied: i64,
}

/// Copies what the log holds into the database file, without waiting for anyone.
fn checkpoint(connection: &Connection) -> Result<LogPages, rusqlite::Error> {
    // One row: busy, pages in the log, pages copied.
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok(LogPages {
            pages: row.get(1)?,
            copied: row.get(2)?,
        })
    })
}

/// The write-ahead log of the database at `database`.
fn log_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// Flushes the file at `path` to disk.
fn sync(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|file| file.sync_data())
        .map_err(|source| StoreError::Sync {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::group_commit::tests::accept_one;
    use crate::store::testing::store;

    fn autocheckpoint(store: &Store) -> u32 {
        store
            .with(|c| Ok(c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?))
            .unwrap()
    }

    /// Whether the database file itself (not its write-ahead log) holds `text`.
    fn database_file_holds(store: &Store, text: &str) -> bool {
        let bytes = std::fs::read(store.path()).unwrap();
        bytes.windows(text.len()).any(|w| w == text.as_bytes())
    }

    /// The log file's salt, which changes each time the log starts over from its beginning, and
    /// the file's size.
    fn log_header(store: &Store) -> ([u8; 8], u64) {
        use std::io::Read;
        let mut log = std::fs::File::open(log_path(store.path())).unwrap();
        let mut header = [0; 24];
        log.read_exact(&mut header).unwrap();
        let salt = header[16..24].try_into().unwrap();
        (salt, log.metadata().unwrap().len())
    }

    #[test]
    fn the_log_starts_over_while_commits_keep_coming() {
        let (_dir, store) = store();
        let store = Arc::new(store);
        let _checkpoints = store.checkpoint_in_background().unwrap();
        accept_one(&store, "first");
        let (first, _) = log_header(&store);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        // Commits one after another, with no pause for a checkpoint to finish in: only the
        // thread's reset makes the log start over before the backstop would.
        for n in 0.. {
            let (salt, size) = log_header(&store);
            if salt != first {
                assert!(size < u64::from(BACKSTOP_PAGES) * 4096, "{size} bytes");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the log never started over; it holds {size} bytes"
            );
            accept_one(&store, &format!("delivery-{n}"));
        }
    }

    #[test]
    fn a_log_past_the_reset_size_is_flushed_and_reset_until_no_commit_comes() {
        let (_dir, store) = store();
        // As the server's connection is set: SQLite's own checkpoints only past the backstop.
        store
            .with(|c| Ok(c.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?))
            .unwrap();
        let connection = Connection::open(store.path()).unwrap();
        let mut last = None;
        accept_one(&store, "first");
        assert_eq!(pass(&store, &connection, &mut last).unwrap(), Pass::Copied);
        // Commits without a pass between until the log is past the reset size.
        let mut n = 0;
        // A frame is a page and its 24-byte header; the file has a 32-byte header.
        while log_header(&store).1 < 32 + RESET_PAGES as u64 * (4096 + 24) {
            n += 1;
            accept_one(&store, &format!("delivery-{n}"));
        }
        assert_eq!(pass(&store, &connection, &mut last).unwrap(), Pass::Reset);
        // Idle: nothing to flush, however often the thread looks.
        assert_eq!(
            pass(&store, &connection, &mut last).unwrap(),
            Pass::Unchanged
        );
        assert_eq!(
            pass(&store, &connection, &mut last).unwrap(),
            Pass::Unchanged
        );
        // A commit starts the log over: short again.
        let (salt, _) = log_header(&store);
        accept_one(&store, "after the reset");
        assert_ne!(log_header(&store).0, salt, "the log did not start over");
        assert_eq!(pass(&store, &connection, &mut last).unwrap(), Pass::Copied);
    }

    #[test]
    fn the_log_is_the_database_path_with_wal_appended_and_a_failed_flush_names_its_file() {
        let (dir, store) = store();
        assert_eq!(
            log_path(store.path()),
            dir.path().join("invitebot.sqlite3-wal")
        );
        sync(store.path()).unwrap();
        let missing = dir.path().join("missing");
        let error = sync(&missing).unwrap_err();
        assert!(
            matches!(&error, StoreError::Sync { path, .. } if *path == missing),
            "{error}"
        );
        assert!(error.to_string().contains("missing"), "{error}");
    }

    #[test]
    fn the_thread_copies_the_log_back_and_the_connection_keeps_a_backstop() {
        let (_dir, store) = store();
        let store = Arc::new(store);
        assert_eq!(autocheckpoint(&store), 1000);
        let checkpoints = store.checkpoint_in_background().unwrap();
        assert_eq!(autocheckpoint(&store), BACKSTOP_PAGES);
        // A commit goes to the log; without the thread (the backstop is far off) it would stay
        // there.
        accept_one(&store, "delivery-in-the-log");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !database_file_holds(&store, "delivery-in-the-log") {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint in 10 s"
            );
            std::thread::sleep(CHECKPOINT_EVERY / 5);
        }
        accept_one(&store, "delivery-at-the-stop");
        // Stopping checkpoints once more.
        drop(checkpoints);
        assert!(database_file_holds(&store, "delivery-at-the-stop"));
    }
}
