//! How typed values are written to their columns and read back (`ToSql`/`FromSql`).
//!
//! Every value has one text form on disk, the one earlier invitebots wrote: timestamps as
//! [`Stamp`] text, statuses as words, addresses as the plain address, requests, progress and
//! replies as JSON. Reading checks the form: a value that isn't one is an error (which
//! [`StoredRow`](super::rows::StoredRow) turns into [`StoreError::Corrupt`]), never a default.

use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;
use crate::core::job::IssueState;
use crate::core::reply::ReplyKind;
use crate::core::sent::MemberStatus;

/// The stored form of a timestamp: RFC 3339 in UTC with six fraction digits. Fixed width, so
/// text order is time order (queries compare the text).
const STAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// A timestamp as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Stamp(pub(super) Timestamp);

impl Stamp {
    /// Now.
    pub(super) fn now() -> Self {
        Stamp(Timestamp::now())
    }

    /// The stored text.
    fn text(self) -> String {
        self.0.strftime(STAMP_FORMAT).to_string()
    }

    /// The timestamp `text` holds, if it is in exactly the stored form.
    fn parse(text: &str) -> Result<Timestamp, String> {
        let problem = || format!("`{text}` is not a timestamp like 2026-01-31T09:30:00.000000Z");
        let parsed: Timestamp = text.parse().map_err(|_| problem())?;
        if Stamp(parsed).text() == text {
            Ok(parsed)
        } else {
            Err(problem())
        }
    }
}

impl ToSql for Stamp {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.text()))
    }
}

impl FromSql for Stamp {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Stamp::parse(value.as_str()?).map(Stamp).map_err(bad)
    }
}

/// Stored as the plain address (the store is private); read back only if it is valid.
impl ToSql for EmailAddress {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.expose()))
    }
}

impl FromSql for EmailAddress {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        // The error names no part of the value: it is personal data.
        EmailAddress::parse(value.as_str()?).map_err(|error| bad(error.to_string()))
    }
}

/// A login is stored as its key (lowercase, as GitHub compares logins), so a column of logins
/// is unique and looked up without regard to case.
impl ToSql for Login {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.key()))
    }
}

impl FromSql for Login {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        if text.trim().is_empty() {
            return Err(bad("an empty login".to_string()));
        }
        Ok(Login::new(text))
    }
}

/// A value stored as JSON text.
pub(super) struct Json<T>(pub(super) T);

impl<T: DeserializeOwned> FromSql for Json<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        serde_json::from_str(value.as_str()?)
            .map(Json)
            .map_err(|error| bad(format!("not the JSON expected: {error}")))
    }
}

/// `value` as the JSON text stored in `column` of `table`.
pub(super) fn to_json(
    table: &'static str,
    column: &'static str,
    value: &impl Serialize,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode {
        table,
        column,
        source,
    })
}

/// A value of a closed set, stored as a word.
pub(super) trait Word: Copy {
    /// The stored word.
    fn word(self) -> &'static str;
}

/// Stores the enum `$type` as words: `Word`, `ToSql`, and a `FromSql` that refuses other words.
macro_rules! stored_as_words {
    ($type:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $crate::store::columns::Word for $type {
            fn word(self) -> &'static str {
                match self {
                    $($type::$variant => $word),+
                }
            }
        }

        impl rusqlite::types::ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                use $crate::store::columns::Word;
                Ok(rusqlite::types::ToSqlOutput::from(self.word()))
            }
        }

        impl rusqlite::types::FromSql for $type {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                match value.as_str()? {
                    $($word => Ok($type::$variant),)+
                    other => Err($crate::store::columns::unknown_word(other, &[$($word),+])),
                }
            }
        }
    };
}
pub(super) use stored_as_words;

stored_as_words!(MemberStatus {
    Invited => "invited",
    Cancelled => "cancelled",
});

stored_as_words!(ReplyKind {
    Comment => "comment",
    Labels => "labels",
    Close => "close",
    RemoveLabel => "unlabel",
});

stored_as_words!(IssueState {
    Invited => "invited",
    NeedsEmail => "needs-email",
    Left => "left",
    NotAMember => "not-a-member",
    NeedsApproval => "needs-approval",
    AwaitingConfirmation => "awaiting-confirmation",
    Answered => "answered",
    AddressGiven => "address-given",
    Closed => "closed",
});

/// A word that is none of `known`.
pub(super) fn unknown_word(word: &str, known: &[&str]) -> FromSqlError {
    bad(format!("`{word}` is none of {}", known.join(", ")))
}

/// A value that isn't what its column holds.
pub(super) fn bad(problem: String) -> FromSqlError {
    FromSqlError::Other(problem.into())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::store) fn read<T: FromSql>(text: &str) -> Result<T, String> {
        T::column_result(ValueRef::Text(text.as_bytes())).map_err(|e| e.to_string())
    }

    fn written(value: &impl ToSql) -> String {
        match value.to_sql().unwrap() {
            ToSqlOutput::Borrowed(ValueRef::Text(text)) => {
                String::from_utf8(text.to_vec()).unwrap()
            }
            ToSqlOutput::Owned(rusqlite::types::Value::Text(text)) => text,
            other => panic!("not text: {other:?}"),
        }
    }

    #[test]
    fn timestamps_keep_the_fixed_width_form() {
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        assert_eq!(written(&Stamp(t)), "2026-11-20T10:00:00.000000Z");
        let t: Timestamp = "2026-11-20T10:00:00.123456Z".parse().unwrap();
        assert_eq!(written(&Stamp(t)), "2026-11-20T10:00:00.123456Z");
        assert_eq!(read::<Stamp>("2026-11-20T10:00:00.123456Z"), Ok(Stamp(t)));
    }

    #[test]
    fn other_timestamp_forms_are_refused() {
        for text in [
            "",
            "now",
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00.123456+01:00",
            "2026-11-20 10:00:00.123456Z",
            "2026-13-20T10:00:00.000000Z",
        ] {
            let error = read::<Stamp>(text).unwrap_err();
            assert!(error.contains("is not a timestamp"), "{text}: {error}");
        }
    }

    #[test]
    fn words_read_back_and_others_are_refused() {
        assert_eq!(written(&ReplyKind::RemoveLabel), "unlabel");
        assert_eq!(
            read::<MemberStatus>("cancelled"),
            Ok(MemberStatus::Cancelled)
        );
        assert_eq!(read::<ReplyKind>("unlabel"), Ok(ReplyKind::RemoveLabel));
        assert_eq!(
            read::<IssueState>("needs-email"),
            Ok(IssueState::NeedsEmail)
        );
        let error = read::<MemberStatus>("Invited").unwrap_err();
        assert_eq!(error, "`Invited` is none of invited, cancelled");
    }

    #[test]
    fn a_bad_address_is_refused_without_repeating_it() {
        let error = read::<EmailAddress>("ada@").unwrap_err();
        assert!(!error.contains("ada"), "{error}");
        assert_eq!(
            read::<EmailAddress>("ada@example.org").map(|a| a.expose().to_string()),
            Ok("ada@example.org".to_string())
        );
    }
}
