//! What the roster tests share: an example file, writing it, and building members.

use std::fs;
use std::path::{Path, PathBuf};

use jiff::civil::date;

use crate::core::email_address::EmailAddress;

use super::{Problem, Roster, RosterError};
use crate::core::member::Member;

/// Two members: one with every key, one with the maintainers' own spacing and a TOML date.
pub(super) const EXAMPLE: &str = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

[[member]]
github = "octocat"
name = "The Octocat"
email = "octocat@example.org"
added = "2026-11-24"            # local date
via = "InnerSourceCommons/ispo-working-group#12"   # where the request came from

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
"#;

/// Writes `text` to `roster.toml` in `dir` and returns its path.
pub(super) fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("roster.toml");
    fs::write(&path, text).unwrap();
    path
}

/// A valid address.
pub(super) fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

/// A member with every key set.
pub(super) fn member(github: &str, name: &str, address: &str) -> Member {
    Member {
        github: github.into(),
        name: name.to_owned(),
        email: email(address),
        added: Some(date(2026, 12, 1)),
        via: Some("InnerSourceCommons/ispo-working-group#40".to_owned()),
    }
}

/// Parses `text` expecting an error; returns (line, column, problem, message).
pub(super) fn error_of(text: &str) -> (usize, usize, Problem, String) {
    match Roster::parse(text, Path::new("roster.toml")) {
        Err(error @ RosterError::Invalid { .. }) => {
            let message = error.to_string();
            let RosterError::Invalid { at, problem } = error else {
                unreachable!()
            };
            assert!(
                message.starts_with(&format!("roster.toml:{}:{}: ", at.line, at.column)),
                "{message}"
            );
            (at.line, at.column, problem, message)
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}
