//! `member_state`: per series and member, what the last message was (invitation or
//! cancellation), its address and `SEQUENCE`, the fingerprint the member's calendar has, and how
//! the GitHub team change went.

use rusqlite::params;

use super::columns::Stamp;
use super::rows::{StoredRow, all_rows};
use super::{Store, StoreError};
use crate::core::identity::Login;
use crate::core::sent::MemberRecord;

/// The table.
const TABLE: &str = "member_state";

impl Store {
    /// Every member record of a series, by login.
    pub fn members(&self, series_id: &str) -> Result<Vec<MemberRecord>, StoreError> {
        self.with(|c| {
            all_rows(
                c,
                TABLE,
                "SELECT rowid, github, name, email, status, sequence, fingerprint, team_error
                 FROM member_state WHERE series_id = ?1 ORDER BY github",
                [series_id],
                member_record,
            )
        })
    }

    /// Records a message sent to a member (after the mail server accepted it).
    pub fn record_message(&self, series_id: &str, record: &MemberRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO member_state (series_id, github, name, email, status, sequence, fingerprint, sent_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (series_id, github) DO UPDATE SET
                name = ?3, email = ?4, status = ?5, sequence = ?6, fingerprint = ?7, sent_at = ?8",
            params![
                series_id,
                record.github,
                record.name,
                record.email,
                record.status,
                record.sequence,
                record.fingerprint,
                Stamp::now()
            ],
        )
        .map(drop)
    }

    /// Records the outcome of a GitHub team membership change (`None`: it worked).
    pub fn record_team_result(
        &self,
        series_id: &str,
        github: &Login,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE member_state SET team_error = ?3 WHERE series_id = ?1 AND github = ?2",
            params![series_id, github, error],
        )
        .map(drop)
    }
}

fn member_record(r: &StoredRow<'_, '_>) -> Result<MemberRecord, StoreError> {
    Ok(MemberRecord {
        github: r.get("github")?,
        name: r.get("name")?,
        email: r.get("email")?,
        status: r.get("status")?,
        sequence: r.get("sequence")?,
        fingerprint: r.get("fingerprint")?,
        team_error: r.get("team_error")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::email_address::EmailAddress;
    use crate::core::sent::MemberStatus;
    use crate::store::testing::{corrupt, store};

    fn member(github: &str, status: MemberStatus, sequence: u32) -> MemberRecord {
        MemberRecord {
            github: github.into(),
            name: "Ada".into(),
            email: EmailAddress::parse(&format!("{github}@example.org")).unwrap(),
            status,
            sequence,
            fingerprint: "fp1".into(),
            team_error: None,
        }
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            for record in [
                member("ada", MemberStatus::Invited, 3),
                member("bob", MemberStatus::Invited, 3),
                member("bob", MemberStatus::Cancelled, 4),
            ] {
                store.record_message("s", &record).unwrap();
            }
            store
                .record_team_result("s", &"ada".into(), Some("403 Forbidden"))
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let members = store.members("s").unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].team_error.as_deref(), Some("403 Forbidden"));
        assert_eq!(members[0].email.expose(), "ada@example.org");
        assert_eq!(
            (members[1].status, members[1].sequence),
            (MemberStatus::Cancelled, 4)
        );
        store.delete_series("s").unwrap();
        assert!(store.members("s").unwrap().is_empty());
    }

    #[test]
    fn debug_output_hides_the_address() {
        let text = format!("{:?}", member("ada", MemberStatus::Invited, 0));
        assert!(!text.contains("ada@example.org"), "{text}");
    }

    #[test]
    fn a_bad_address_or_status_is_an_error_not_a_default() {
        let (_dir, store) = store();
        store
            .record_message("s", &member("ada", MemberStatus::Cancelled, 1))
            .unwrap();
        corrupt(&store, "UPDATE member_state SET email = 'ada@'");
        let error = store.members("s").unwrap_err().to_string();
        assert!(
            error.contains("member_state row 1 has an unreadable email"),
            "{error}"
        );
        assert!(!error.contains("ada@"), "the address is personal: {error}");
        // The CHECK constraint keeps other words out; a damaged file has no such guard.
        corrupt(
            &store,
            "PRAGMA ignore_check_constraints = ON;
             UPDATE member_state SET email = 'ada@example.org', status = 'gone';",
        );
        let error = store.members("s").unwrap_err().to_string();
        assert!(
            error.contains("unreadable status: `gone` is none of"),
            "{error}"
        );
    }
}
