//! Reading a roster file and validating it into a [`Roster`]: the TOML as written, each member's
//! login, address and date, and the uniqueness of logins and addresses.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::core::email_address::EmailAddress;

use super::error::RosterError;
use super::error::{from_toml, invalid_at};
use super::model::Roster;
use super::problems::{Problem, line_number};
use crate::core::identity::{InvalidLogin, Login};
use crate::core::member::Member;

impl Roster {
    /// Reads and validates the roster file at `path`.
    ///
    /// A missing file is an error ([`RosterError::NotFound`]): create it; it may contain only
    /// comments.
    pub fn load(path: &Path) -> Result<Roster, RosterError> {
        let text = read(path)?;
        Roster::parse(&text, path)
    }

    /// Validates roster text; `path` is used only in error messages.
    pub fn parse(text: &str, path: &Path) -> Result<Roster, RosterError> {
        let raw: RawFile = toml::from_str(text).map_err(|error| from_toml(&error, text, path))?;
        let members = raw
            .validate(text)
            .map_err(|(offset, problem)| invalid_at(text, path, offset, problem))?;
        Ok(Roster { members })
    }
}

/// Reads the roster file at `path` as text.
pub(super) fn read(path: &Path) -> Result<String, RosterError> {
    fs::read_to_string(path).map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            RosterError::NotFound {
                path: path.to_owned(),
            }
        } else {
            RosterError::Read {
                path: path.to_owned(),
                error,
            }
        }
    })
}

/// A [`Problem`] and the byte offset in the text where it is.
type Located = (usize, Problem);

/// The file as deserialized, before validation. No `Debug`: it holds raw addresses.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    member: Vec<Spanned<RawMember>>,
}

/// One `[[member]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    github: Spanned<String>,
    name: Option<Spanned<String>>,
    email: Spanned<String>,
    added: Option<Spanned<toml::Value>>,
    via: Option<Spanned<String>>,
}

/// A validated member and the offsets of its `github` and `email` values in the text.
struct Entry {
    member: Member,
    github_at: usize,
    email_at: usize,
}

impl RawFile {
    /// The members in file order, each validated and checked against those before it; the first
    /// problem found is reported. `text` is what was deserialized.
    fn validate(self, text: &str) -> Result<Vec<Member>, Located> {
        let mut members: Vec<Member> = Vec::with_capacity(self.member.len());
        let mut seen = Seen::with_capacity(self.member.len());
        for table in self.member {
            let entry = table.into_inner().validate()?;
            seen.record(&entry, &members, text)?;
            members.push(entry.member);
        }
        Ok(members)
    }
}

impl RawMember {
    /// Checks the login, then the address, then the date; a blank or missing name becomes the
    /// login.
    fn validate(self) -> Result<Entry, Located> {
        let github_at = self.github.span().start;
        let github = Login::parse(self.github.get_ref())
            .map_err(|InvalidLogin| (github_at, Problem::InvalidLogin))?;
        let email_at = self.email.span().start;
        let email = EmailAddress::parse(self.email.get_ref()).map_err(|_| {
            let member = github.to_string();
            (email_at, Problem::InvalidEmail { member })
        })?;
        let name = match self.name.map(Spanned::into_inner) {
            Some(name) if !name.trim().is_empty() => name,
            _ => github.to_string(),
        };
        let added = match self.added {
            None => None,
            Some(added) => Some(parse_added(added.get_ref()).map_err(|reason| {
                let member = github.to_string();
                (added.span().start, Problem::InvalidDate { member, reason })
            })?),
        };
        let via = self.via.map(Spanned::into_inner);
        let member = Member {
            github,
            name,
            email,
            added,
            via,
        };
        Ok(Entry {
            member,
            github_at,
            email_at,
        })
    }
}

/// The logins and addresses met so far (lower-case), for duplicate reports. Only offsets are
/// kept: the line is counted only when there is a duplicate to report (counting it for every
/// member made loading a 10,000-member roster take seconds).
struct Seen {
    /// Each login, with the offset of its value.
    logins: HashMap<Login, usize>,
    /// Each address, with the index of its member and the offset of its value.
    emails: HashMap<String, (usize, usize)>,
}

impl Seen {
    fn with_capacity(capacity: usize) -> Seen {
        Seen {
            logins: HashMap::with_capacity(capacity),
            emails: HashMap::with_capacity(capacity),
        }
    }

    /// Records `entry`, which comes after `members`, or reports that its login (checked first)
    /// or its address is already among them.
    fn record(&mut self, entry: &Entry, members: &[Member], text: &str) -> Result<(), Located> {
        let member = &entry.member;
        let login = member.github.clone();
        let email = member.email.expose().to_ascii_lowercase();
        if let Some(&offset) = self.logins.get(&login) {
            let problem = Problem::DuplicateLogin {
                login: member.github.to_string(),
                first_line: line_number(text, offset),
            };
            return Err((entry.github_at, problem));
        }
        if let Some(&(index, offset)) = self.emails.get(&email) {
            let problem = Problem::DuplicateEmail {
                member: member.github.to_string(),
                other: members[index].github.to_string(),
                first_line: line_number(text, offset),
            };
            return Err((entry.email_at, problem));
        }
        self.logins.insert(login, entry.github_at);
        self.emails.insert(email, (members.len(), entry.email_at));
        Ok(())
    }
}

/// An `added` value: a `"YYYY-MM-DD"` string or a TOML local date.
fn parse_added(value: &toml::Value) -> Result<jiff::civil::Date, &'static str> {
    let text = match value {
        toml::Value::String(text) => text.trim().to_string(),
        toml::Value::Datetime(datetime) => match (datetime.date, datetime.time, datetime.offset) {
            (Some(date), None, None) => date.to_string(),
            (None, _, _) => return Err("a time, not a date"),
            _ => return Err("a date with a time; only the date is kept"),
        },
        _ => return Err("not a date"),
    };
    let is_iso_shape = text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-';
    if !is_iso_shape {
        return Err("not a date in the form YYYY-MM-DD");
    }
    text.parse().map_err(|_| "no such date")
}

#[cfg(test)]
mod tests;
