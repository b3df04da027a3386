//! The schema, as versioned migrations: SQLite's `user_version` counts the ones applied, and
//! [`migrate`] brings an older file up to date.

use std::path::Path;

use rusqlite::Connection;

use super::StoreError;
use super::daily_counts::{confirmation_address, job_login};

/// Schema migrations, in order; `user_version` counts the ones applied.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 4: the SHA-256 of every accepted request's body, so a replay with a new delivery id is
    // recognised.
    "CREATE TABLE accepted_bodies (
        sha256      TEXT PRIMARY KEY,
        delivery_id TEXT NOT NULL,
        accepted_at TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 5: why a request waits for a maintainer (`needs-approval`), for `invitebot status`.
    "ALTER TABLE jobs ADD COLUMN hold TEXT;",
    // 6: the issue comments whose command was accepted, so each runs once.
    "CREATE TABLE commands (
        comment_id  INTEGER PRIMARY KEY,
        delivery_id TEXT NOT NULL,
        accepted_at TEXT NOT NULL
    );",
    // 7: indexes for the queries that scanned every row kept, so that each request cost more
    // with every job or reply in the store. An issue's jobs (compared case-blind on
    // `lower(repo)`, which the index on `repo` could not serve) and a delivery's jobs are looked
    // up while a request is accepted; a series' jobs finished since a time are counted for its
    // daily limits before each invitation; an issue's earlier pending replies are checked
    // before each reply is sent (one at a time per issue, in order).
    "DROP INDEX jobs_by_issue;
    CREATE INDEX jobs_by_issue ON jobs (lower(repo), issue);
    CREATE INDEX jobs_by_delivery ON jobs (delivery_id);
    CREATE INDEX jobs_finished ON jobs (series_id, finished_at);
    CREATE INDEX outbox_by_issue ON outbox (repo, issue, status);",
    // 8: the guard's daily counts (see daily_counts.rs) read only the rows they count. With an
    // index on a series' finished jobs, each count still read every job the series finished
    // that day and parsed its request, so a day with many requests cost the worker more for
    // each one; by login, the outcome comes before the time, so that the many requests one
    // account may open (and that end otherwise) are not read either. The job indexes hold
    // finished jobs only (the accepting path, which inserts
    // unfinished ones, maintains neither); their expressions are the queries' own.
    concat!(
        "DROP INDEX jobs_finished;
        CREATE INDEX jobs_outcomes ON jobs (series_id, outcome, finished_at)
            WHERE finished_at IS NOT NULL;
        CREATE INDEX jobs_mailed_by_login ON jobs (series_id, ",
        job_login!(),
        ", outcome, finished_at) WHERE finished_at IS NOT NULL;
        CREATE INDEX confirmations_made ON confirmations (series_id, created_at);
        CREATE INDEX confirmations_to_address ON confirmations (",
        confirmation_address!(),
        ", created_at);"
    ),
    // 9: the worker's next job and next reply are the lowest id among the pending ones that are
    // due. Through `jobs_due` / `outbox_due` (status, time) SQLite read every pending row that
    // was due and sorted them for the first: with a backlog (a burst of requests, or an outage
    // of the mail server or GitHub) each step cost more the longer the queue, and the worker
    // fell further behind. These partial indexes hold the pending rows in id order, with the
    // time to check, so the first due one is near the start (see jobs.rs, replies.rs).
    // An accepted body is known by its verified signature, no longer by a second hash of the
    // body on the request path (see accepted_bodies.rs).
    "CREATE INDEX jobs_pending ON jobs (id, next_attempt_at) WHERE status = 'pending';
    CREATE INDEX outbox_pending ON outbox (id, next_attempt_at) WHERE status = 'pending';
    ALTER TABLE accepted_bodies RENAME COLUMN sha256 TO signature;",
];

/// Applies the migrations `connection` lacks, each in its own transaction.
pub(super) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version = version(connection)?;
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(too_new(path, version));
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

/// Checks that a file opened read-only has exactly this invitebot's schema.
pub(super) fn ensure_current(connection: &Connection, path: &Path) -> Result<(), StoreError> {
    let version = version(connection)?;
    if (version as usize) < MIGRATIONS.len() {
        return Err(StoreError::Outdated {
            path: path.to_path_buf(),
            found: version,
        });
    }
    if version as usize != MIGRATIONS.len() {
        return Err(too_new(path, version));
    }
    Ok(())
}

fn version(connection: &Connection) -> Result<i64, StoreError> {
    Ok(connection.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

fn too_new(path: &Path, found: i64) -> StoreError {
    StoreError::TooNew {
        path: path.to_path_buf(),
        found,
        known: MIGRATIONS.len(),
    }
}

#[cfg(test)]
mod tests {
    use crate::store::testing::store;

    /// The plan SQLite makes for `sql`, one step a line.
    fn plan(store: &crate::store::Store, sql: &str) -> String {
        store
            .with(|c| {
                let mut statement = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let unbound = statement.parameter_count();
                let nulls = std::iter::repeat_n(rusqlite::types::Null, unbound);
                let steps = statement
                    .query_map(rusqlite::params_from_iter(nulls), |row| {
                        row.get::<_, String>(3)
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(steps.join("\n"))
            })
            .unwrap()
    }

    #[test]
    fn the_lookups_made_per_request_use_an_index() {
        let (_dir, store) = store();
        // The shapes of the store's own queries (see jobs.rs and replies.rs), and the guard's
        // daily counts themselves.
        for sql in [
            "SELECT 1 FROM jobs WHERE lower(repo) = lower('A/B') AND issue = 2",
            "SELECT 1 FROM jobs WHERE delivery_id = 'd'",
            "SELECT 1 FROM outbox WHERE status = 'pending' AND repo = 'A/B' AND issue = 2 AND id < 9",
        ]
        .into_iter()
        .chain(crate::store::daily_counts::QUERIES)
        {
            let plan = plan(&store, sql);
            assert!(plan.contains("USING"), "{sql}: {plan}");
            // A query of subqueries reads its one result row as a "scan" of a constant.
            let scans = plan
                .lines()
                .filter(|step| step.starts_with("SCAN") && *step != "SCAN CONSTANT ROW");
            assert_eq!(scans.count(), 0, "{sql}: {plan}");
        }
    }

    #[test]
    fn the_next_due_job_and_reply_are_found_without_sorting_the_queue() {
        let (_dir, store) = store();
        for (from, index) in [
            (crate::store::jobs::NEXT_DUE, "jobs_pending"),
            (crate::store::replies::NEXT_DUE, "outbox_pending"),
        ] {
            let plan = plan(&store, &format!("SELECT 1 {from}"));
            assert!(plan.contains(&format!("INDEX {index}")), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
    }
}
