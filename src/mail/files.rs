//! The `.eml` files the file transport leaves in the mail folder: finding and deleting the ones
//! addressed to a person (`invitebot roster forget`).
//!
//! A file is addressed to a person when one of the mailboxes of its `To:` header is one of
//! their addresses, compared whole and without regard to case: `ba@example.org` is not
//! `a@example.org`. The header is read with a MIME parser, so folded lines, quoted or encoded
//! display names and address groups are understood.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use mail_parser::MessageParser;

/// The extension of the files the file transport writes.
const EXTENSION: &str = "eml";

/// A mail file that could not be read or deleted.
#[derive(Debug, thiserror::Error)]
pub enum MailFileError {
    /// Reading the file failed.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Deleting the file failed.
    #[error("deleting {}: {source}", path.display())]
    Delete {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Creates the mail folder if needed and makes it readable by its owner only: the messages in
/// it hold names and addresses.
pub fn create_private_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Deletes the `.eml` files in `dir` addressed to one of `addresses` (see the module docs);
/// returns how many. A folder that can't be listed (e.g. none yet) holds none.
pub fn delete_addressed_to(dir: &Path, addresses: &[String]) -> Result<usize, MailFileError> {
    delete_where(dir, |path| {
        let message = std::fs::read(path).map_err(|source| MailFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(is_addressed_to(&message, addresses))
    })
}

/// Deletes the `.eml` files in `dir` last written before `cutoff` (`[storage]
/// retention_days`); returns how many. A folder that can't be listed holds none.
pub fn delete_older_than(dir: &Path, cutoff: SystemTime) -> Result<usize, MailFileError> {
    delete_where(dir, |path| {
        let written = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|source| MailFileError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(written < cutoff)
    })
}

/// Deletes the `.eml` files in `dir` that `chosen` picks; returns how many.
fn delete_where(
    dir: &Path,
    mut chosen: impl FnMut(&Path) -> Result<bool, MailFileError>,
) -> Result<usize, MailFileError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut deleted = 0;
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_none_or(|x| x != EXTENSION) || !chosen(&path)? {
            continue;
        }
        std::fs::remove_file(&path).map_err(|source| MailFileError::Delete { path, source })?;
        deleted += 1;
    }
    Ok(deleted)
}

/// Whether a message's `To:` header names one of `addresses` (whole addresses, any case). A
/// message without a readable `To:` is addressed to nobody.
pub fn is_addressed_to(message: &[u8], addresses: &[String]) -> bool {
    let Some(parsed) = MessageParser::default().parse_headers(message) else {
        return false;
    };
    let Some(to) = parsed.to() else {
        return false;
    };
    let wanted: Vec<String> = addresses.iter().map(|a| a.to_lowercase()).collect();
    to.iter()
        .filter_map(|mailbox| mailbox.address())
        .any(|address| wanted.contains(&address.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(to: &str) -> Vec<u8> {
        format!(
            "From: bot@example.org\r\nTo: {to}\r\nSubject: Invitation\r\n\r\nATTENDEE:mailto:body@example.org\r\n"
        )
        .into_bytes()
    }

    fn addresses(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn whole_addresses_match_in_any_case() {
        let to_ada = message("\"Lovelace, Ada\" <Ada@Example.org>");
        assert!(is_addressed_to(&to_ada, &addresses(&["ada@example.org"])));
        assert!(is_addressed_to(&to_ada, &addresses(&["ADA@example.ORG"])));
        assert!(is_addressed_to(
            &message("ada@example.org"),
            &addresses(&["ada@example.org"])
        ));
    }

    #[test]
    fn a_longer_or_shorter_address_does_not_match() {
        let to_ba = message("<ba@b.org>");
        assert!(!is_addressed_to(&to_ba, &addresses(&["a@b.org"])));
        let to_a = message("<a@b.org>");
        assert!(!is_addressed_to(&to_a, &addresses(&["ba@b.org", "a@b.or"])));
        assert!(is_addressed_to(&to_a, &addresses(&["ba@b.org", "a@b.org"])));
    }

    #[test]
    fn only_the_to_header_counts() {
        let to_bob = message("bob@example.org");
        assert!(!is_addressed_to(&to_bob, &addresses(&["body@example.org"])));
        assert!(!is_addressed_to(&to_bob, &addresses(&["bot@example.org"])));
        let no_to = b"From: bot@example.org\r\nSubject: s\r\n\r\nada@example.org\r\n";
        assert!(!is_addressed_to(no_to, &addresses(&["ada@example.org"])));
        assert!(!is_addressed_to(b"", &addresses(&["ada@example.org"])));
    }

    #[test]
    fn folded_headers_encoded_names_and_groups_are_read() {
        let folded = message("=?utf-8?q?Ad=C3=A1?=\r\n <ada@example.org>");
        assert!(is_addressed_to(&folded, &addresses(&["ada@example.org"])));
        let group = message("Team: bob@example.org, ada@example.org;");
        assert!(is_addressed_to(&group, &addresses(&["ada@example.org"])));
        let display_name_only = message("\"ada@example.org\" <bob@example.org>");
        assert!(!is_addressed_to(
            &display_name_only,
            &addresses(&["ada@example.org"])
        ));
    }

    #[test]
    fn deletes_only_eml_files_addressed_to_the_person() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, to: &str| std::fs::write(dir.path().join(name), message(to));
        write("ada.eml", "Ada <ada@example.org>").unwrap();
        write("ba.eml", "<ba@example.org>").unwrap();
        write("ada.txt", "ada@example.org").unwrap();
        let deleted = delete_addressed_to(dir.path(), &addresses(&["ada@example.org"])).unwrap();
        assert_eq!(deleted, 1);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["ada.txt", "ba.eml"]);
    }

    #[test]
    fn only_eml_files_written_before_the_cut_off_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("old.eml"), message("a@b.org")).unwrap();
        std::fs::write(dir.path().join("old.txt"), "x").unwrap();
        let before = SystemTime::now() - std::time::Duration::from_secs(3600);
        assert_eq!(delete_older_than(dir.path(), before).unwrap(), 0);
        let after = SystemTime::now() + std::time::Duration::from_secs(1);
        assert_eq!(delete_older_than(dir.path(), after).unwrap(), 1);
        assert!(dir.path().join("old.txt").exists());
        assert!(!dir.path().join("old.eml").exists());
    }

    #[test]
    fn a_missing_folder_holds_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none");
        assert_eq!(
            delete_addressed_to(&missing, &addresses(&["a@b.org"])).unwrap(),
            0
        );
    }
}
