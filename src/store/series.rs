//! `series_state`: per series, the calendar UID, the highest `SEQUENCE` ever used, and the event
//! fields as last sent (with their fingerprint).

use rusqlite::params;

use super::columns::Stamp;
use super::rows::{StoredRow, all_rows, first_row};
use super::{Store, StoreError};
use crate::core::sent::SeriesRecord;

/// The table.
const TABLE: &str = "series_state";

impl Store {
    /// The ids of every series the store has records of.
    pub fn series_ids(&self) -> Result<Vec<String>, StoreError> {
        self.with(|c| {
            all_rows(
                c,
                TABLE,
                "SELECT rowid, series_id FROM series_state ORDER BY series_id",
                [],
                |r| r.get("series_id"),
            )
        })
    }

    /// The record of a series, if any.
    pub fn series(&self, series_id: &str) -> Result<Option<SeriesRecord>, StoreError> {
        self.with(|c| {
            first_row(
                c,
                TABLE,
                "SELECT rowid, uid, sequence, fingerprint, definition FROM series_state WHERE series_id = ?1",
                [series_id],
                series_record,
            )
        })
    }

    /// Creates or replaces the record of a series.
    pub fn put_series(&self, series_id: &str, record: &SeriesRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO series_state (series_id, uid, sequence, fingerprint, definition, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (series_id) DO UPDATE SET
                uid = ?2, sequence = ?3, fingerprint = ?4, definition = ?5, updated_at = ?6",
            params![
                series_id,
                record.uid,
                record.sequence,
                record.fingerprint,
                record.definition,
                Stamp::now()
            ],
        )
        .map(drop)
    }

    /// Forgets a series and its members (after every member got its cancellation).
    pub fn delete_series(&self, series_id: &str) -> Result<(), StoreError> {
        self.transaction(|tx| {
            tx.execute("DELETE FROM member_state WHERE series_id = ?1", [series_id])?;
            tx.execute("DELETE FROM series_state WHERE series_id = ?1", [series_id])?;
            Ok(())
        })
    }
}

fn series_record(r: &StoredRow<'_, '_>) -> Result<SeriesRecord, StoreError> {
    Ok(SeriesRecord {
        uid: r.get("uid")?,
        sequence: r.get("sequence")?,
        fingerprint: r.get("fingerprint")?,
        definition: r.get("definition")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::store;

    fn record(sequence: u32) -> SeriesRecord {
        SeriesRecord {
            uid: "u@x".into(),
            sequence,
            fingerprint: "fp1".into(),
            definition: "{}".into(),
        }
    }

    #[test]
    fn series_records_are_replaced_and_deleted() {
        let (_dir, store) = store();
        assert_eq!(store.series("s").unwrap(), None);
        store.put_series("s", &record(3)).unwrap();
        store.put_series("s", &record(4)).unwrap();
        assert_eq!(store.series("s").unwrap(), Some(record(4)));
        assert_eq!(store.series_ids().unwrap(), ["s"]);
        store.delete_series("s").unwrap();
        assert_eq!(store.series("s").unwrap(), None);
    }
}
