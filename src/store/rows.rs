//! Reading rows into typed records: a value that isn't what its column holds is a
//! [`StoreError::Corrupt`] naming the table, the column and the row.

use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError};
use rusqlite::{Connection, Params, Row};

use super::StoreError;
use super::columns::Stamp;

/// One row of `table`, read column by column. Every query read this way selects the row's
/// `rowid` (or the id column that is its alias) first.
pub(super) struct StoredRow<'a, 'r> {
    row: &'a Row<'r>,
    table: &'static str,
    rowid: i64,
}

impl<'a, 'r> StoredRow<'a, 'r> {
    fn new(row: &'a Row<'r>, table: &'static str) -> Result<Self, StoreError> {
        let rowid = row.get(0)?;
        Ok(Self { row, table, rowid })
    }

    /// The row's `rowid` (the id of a job, an outbox row or a confirmation).
    pub(super) fn rowid(&self) -> i64 {
        self.rowid
    }

    /// The value of `column`.
    pub(super) fn get<T: FromSql>(&self, column: &'static str) -> Result<T, StoreError> {
        let value = self.row.get_ref(column)?;
        T::column_result(value).map_err(|error| {
            let problem = match error {
                FromSqlError::InvalidType => format!("a {} value", value.data_type()),
                other => other.to_string(),
            };
            self.corrupt(column, problem)
        })
    }

    /// The timestamp in `column`.
    pub(super) fn timestamp(&self, column: &'static str) -> Result<Timestamp, StoreError> {
        self.get::<Stamp>(column).map(|Stamp(t)| t)
    }

    /// The error for a bad value in `column`.
    fn corrupt(&self, column: &'static str, problem: String) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            column,
            row: self.rowid,
            problem,
        }
    }
}

/// Every row `sql` selects from `table`, read by `read`.
pub(super) fn all_rows<T>(
    c: &Connection,
    table: &'static str,
    sql: &str,
    params: impl Params,
    read: impl Fn(&StoredRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = c.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        records.push(read(&StoredRow::new(row, table)?)?);
    }
    Ok(records)
}

/// The row `sql` selects from `table` (by its key, or with `LIMIT 1`), read by `read`.
pub(super) fn first_row<T>(
    c: &Connection,
    table: &'static str,
    sql: &str,
    params: impl Params,
    read: impl Fn(&StoredRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(all_rows(c, table, sql, params, read)?.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_its_table_column_and_row() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE t (at TEXT); INSERT INTO t VALUES ('2026-01-01T00:00:00.000000Z'), ('yesterday'), (NULL);",
        )
        .unwrap();
        let read = |sql: &str| {
            all_rows(&c, "t", sql, [], |r| r.timestamp("at"))
                .unwrap_err()
                .to_string()
        };
        let error = read("SELECT rowid, at FROM t");
        assert!(
            error.starts_with(
                "the state store's t row 2 has an unreadable at: `yesterday` is not a timestamp"
            ),
            "{error}"
        );
        let error = read("SELECT rowid, at FROM t WHERE at IS NULL");
        assert!(
            error.contains("t row 3 has an unreadable at: a Null value"),
            "{error}"
        );
    }
}
