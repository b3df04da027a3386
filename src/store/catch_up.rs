//! `catch_up`: per repository, up to when catch-up has looked at its issues.

use jiff::Timestamp;
use rusqlite::params;

use super::columns::Stamp;
use super::rows::first_row;
use super::{Store, StoreError};

/// The table.
const TABLE: &str = "catch_up";

impl Store {
    /// Where the last catch-up of a repository stopped.
    pub fn catch_up_position(&self, repo: &str) -> Result<Option<Timestamp>, StoreError> {
        self.with(|c| {
            first_row(
                c,
                TABLE,
                "SELECT rowid, checked_until FROM catch_up WHERE repo = lower(?1)",
                [repo],
                |r| r.timestamp("checked_until"),
            )
        })
    }

    /// Remembers where a catch-up of a repository stopped.
    pub fn set_catch_up_position(&self, repo: &str, until: Timestamp) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO catch_up (repo, checked_until) VALUES (lower(?1), ?2)
             ON CONFLICT (repo) DO UPDATE SET checked_until = ?2",
            params![repo, Stamp(until)],
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{corrupt, store};

    #[test]
    fn positions_are_kept_per_repository() {
        let (_dir, store) = store();
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        store.set_catch_up_position("A/B", t).unwrap();
        assert_eq!(store.catch_up_position("a/b").unwrap(), Some(t));
        assert_eq!(store.catch_up_position("a/c").unwrap(), None);
    }

    #[test]
    fn a_bad_position_is_an_error_not_a_fresh_start() {
        let (_dir, store) = store();
        store
            .set_catch_up_position("a/b", Timestamp::now())
            .unwrap();
        corrupt(&store, "UPDATE catch_up SET checked_until = ''");
        let error = store.catch_up_position("a/b").unwrap_err().to_string();
        assert!(
            error.contains("catch_up row 1 has an unreadable checked_until"),
            "{error}"
        );
    }
}
