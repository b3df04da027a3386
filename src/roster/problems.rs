//! Diagnostics: where a roster file is wrong ([`Location`]), what is wrong and how to fix it
//! ([`Problem`]), turning the TOML parser's errors into those, and "did you mean" suggestions
//! for mistyped keys. Messages never echo an email address.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

use crate::core::source_position::line_col;

use super::model::{MEMBER_KEYS, TOP_LEVEL_KEYS};

/// A place in a roster file: `path:line:column`, both 1-based, the column counted in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The roster file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// What is wrong at a [`Location`] of a roster file. Its `Display` says how to fix it and never
/// echoes an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file is not valid TOML.
    Syntax {
        /// The TOML parser's description.
        message: String,
    },
    /// A key the roster does not know (often a typo, which must not silently drop a member).
    UnknownKey {
        /// The key as written.
        key: String,
        /// Whether the key is inside a `[[member]]` table (else it is at the top level).
        in_member: bool,
        /// The allowed key it most resembles.
        suggestion: Option<&'static str>,
    },
    /// A `[[member]]` table lacks a required key.
    MissingKey {
        /// `github` or `email`.
        key: &'static str,
    },
    /// A value or table has the wrong type (e.g. a number where a string belongs).
    WrongType {
        /// The deserializer's description (string values are not echoed).
        message: String,
    },
    /// The `github` value is not a GitHub login. The value is not echoed: it might be an address.
    InvalidLogin,
    /// The `email` value is not a valid address. The value is not echoed: it is personal data.
    InvalidEmail {
        /// The member's login.
        member: String,
    },
    /// The `added` value is not a date.
    InvalidDate {
        /// The member's login.
        member: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The same login (case-insensitively) appears twice.
    DuplicateLogin {
        /// The login at this location.
        login: String,
        /// The line of the earlier entry.
        first_line: usize,
    },
    /// The same email address (case-insensitively) appears twice.
    DuplicateEmail {
        /// The member at this location.
        member: String,
        /// The earlier member with that address.
        other: String,
        /// The line of the earlier entry's address.
        first_line: usize,
    },
    /// `member = [ … ]` is written as an inline array, which the bot cannot add a table to or
    /// remove one from.
    InlineMemberArray,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Syntax { message } => {
                write!(
                    f,
                    "invalid TOML: {message}; fix the syntax at this position"
                )
            }
            Problem::UnknownKey {
                key,
                in_member,
                suggestion,
            } => write_unknown_key(f, key, *in_member, *suggestion),
            Problem::MissingKey { key } => write_missing_key(f, key),
            Problem::WrongType { message } => write!(
                f,
                "{message}; `github`, `name`, `email` and `via` are strings, `added` is a date \
                 (\"2026-11-24\" or 2026-11-24), and each member is a [[member]] table"
            ),
            Problem::InvalidLogin => f.write_str(
                "`github` is not a valid GitHub login (value not shown); write the person's \
                 GitHub username: 1 to 39 ASCII letters, digits or hyphens, not starting or \
                 ending with a hyphen",
            ),
            Problem::InvalidEmail { member } => write!(
                f,
                "invalid email address for member `{}` (value not shown: it is personal data); \
                 write it like name@example.org",
                shown(member)
            ),
            Problem::InvalidDate { member, reason } => write!(
                f,
                "invalid `added` date for member `{}`: {reason}; write it as \"YYYY-MM-DD\" \
                 (e.g. \"2026-11-24\") or as a TOML date (2026-11-24), or remove the line",
                shown(member)
            ),
            Problem::DuplicateLogin { login, first_line } => write!(
                f,
                "duplicate member `{}` (also at line {first_line}; logins compare \
                 case-insensitively); remove one of the two entries",
                shown(login)
            ),
            Problem::DuplicateEmail {
                member,
                other,
                first_line,
            } => write!(
                f,
                "member `{}` has the same email address as member `{}` (line {first_line}; \
                 addresses compare case-insensitively); remove one entry or correct the address",
                shown(member),
                shown(other)
            ),
            Problem::InlineMemberArray => f.write_str(
                "`member` is written as an inline array, which the bot cannot add to or remove \
                 from; rewrite each entry as a [[member]] table",
            ),
        }
    }
}

/// The message for [`Problem::UnknownKey`]: the key, a suggestion or the advice to remove it,
/// and what is allowed there.
fn write_unknown_key(
    f: &mut fmt::Formatter<'_>,
    key: &str,
    in_member: bool,
    suggestion: Option<&str>,
) -> fmt::Result {
    let place = if in_member {
        "in a [[member]] table"
    } else {
        "at the top level"
    };
    write!(f, "unknown key `{}` {place}", shown(key))?;
    if let Some(suggestion) = suggestion {
        write!(f, "; did you mean `{suggestion}`?")?;
    } else {
        f.write_str("; remove or rename it")?;
    }
    if in_member {
        write!(f, " (allowed keys: {})", MEMBER_KEYS.join(", "))
    } else {
        f.write_str(" (the file holds only [[member]] tables and comments)")
    }
}

/// The message for [`Problem::MissingKey`], with an example line to add.
fn write_missing_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    let example = if key == "github" {
        "github = \"their-login\""
    } else {
        "email = \"name@example.org\""
    };
    write!(
        f,
        "this [[member]] table has no `{key}`, which is required; add `{example}`"
    )
}

/// The 1-based line of byte `offset` of `text`.
pub(super) fn line_number(text: &str, offset: usize) -> usize {
    line_col(text, offset).0
}

/// What a `toml` error message (from the parser or from serde) says is wrong.
pub(super) fn toml_problem(message: &str) -> Problem {
    if let Some(key) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.rsplit_once("`, expected").map(|(key, _)| key))
    {
        // serde lists the expected fields; only the member table has `github`.
        let in_member = message.contains("`github`");
        let allowed = if in_member {
            MEMBER_KEYS
        } else {
            TOP_LEVEL_KEYS
        };
        Problem::UnknownKey {
            key: key.to_owned(),
            in_member,
            suggestion: suggest(key, allowed),
        }
    } else if let Some(key) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
        .and_then(|key| MEMBER_KEYS.iter().find(|known| **known == key))
    {
        Problem::MissingKey { key }
    } else if is_data_error(message) {
        Problem::WrongType {
            message: scrub(message),
        }
    } else {
        Problem::Syntax {
            message: scrub(message),
        }
    }
}

/// Whether a `toml` message comes from serde (the shape of the data) rather than the parser.
fn is_data_error(message: &str) -> bool {
    [
        "invalid type:",
        "invalid value:",
        "invalid length",
        "missing field",
        "unknown field",
    ]
    .iter()
    .any(|prefix| message.starts_with(prefix))
}

/// Removes values that serde echoes (`invalid type: string "…"`) and anything that looks like an
/// address.
pub(super) fn scrub(message: &str) -> String {
    let message = match message.split_once(" string \"") {
        Some((head, rest)) if head.starts_with("invalid ") => match rest.rsplit_once(", expected ")
        {
            Some((_, expected)) => format!("{head} string, expected {expected}"),
            None => format!("{head} string"),
        },
        _ => message.to_owned(),
    };
    message
        .split(' ')
        .map(|word| {
            if word.contains('@') {
                "(redacted)"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key or login as shown in a message: control characters escaped, anything with `@` hidden.
fn shown(text: &str) -> Cow<'_, str> {
    if text.contains('@') {
        Cow::Borrowed("(not shown: it contains @)")
    } else if text.chars().any(char::is_control) {
        Cow::Owned(text.escape_debug().to_string())
    } else {
        Cow::Borrowed(text)
    }
}

/// The allowed key `key` was most likely meant to be: a common synonym, or the closest key by
/// edit distance (at most 1 for keys of up to 4 letters, else at most 2), ignoring case.
fn suggest(key: &str, allowed: &[&'static str]) -> Option<&'static str> {
    const SYNONYMS: &[(&str, &str)] = &[
        ("login", "github"),
        ("user", "github"),
        ("username", "github"),
        ("handle", "github"),
        ("mail", "email"),
        ("e-mail", "email"),
        ("date", "added"),
        ("joined", "added"),
        ("since", "added"),
        ("source", "via"),
        ("issue", "via"),
        ("members", "member"),
    ];
    let key = key.to_ascii_lowercase();
    if let Some((_, target)) = SYNONYMS.iter().find(|(synonym, _)| *synonym == key)
        && let Some(target) = allowed.iter().find(|allowed| *allowed == target)
    {
        return Some(target);
    }
    allowed
        .iter()
        .map(|candidate| (edit_distance(&key, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= if candidate.len() <= 4 { 1 } else { 2 })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Edit distance over characters, counting a swap of two neighbours as one edit (optimal string
/// alignment), so `emial` is one edit from `email`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between the first i chars of a and the first j chars of b.
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests;
