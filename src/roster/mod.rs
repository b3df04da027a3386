//! The roster file: who belongs to a meeting series.
//!
//! Maintainers edit the roster by hand and the bot appends newcomers to it, so the file is
//! treated as theirs: [`Roster::load`] only reads it, [`add`] appends one `[[member]]` table
//! at the very end, keeping every byte that was there before (comments, blank lines, key order,
//! odd spacing), and [`remove`] cuts one `[[member]]` table out, keeping every other byte; both
//! replace the file atomically.
//!
//! ```toml
//! # Members of the ISPO Working Group meeting series.
//!
//! [[member]]
//! github = "octocat"
//! name = "The Octocat"                 # optional, defaults to the login
//! email = "octocat@example.org"
//! added = "2026-11-24"                 # optional; a TOML date 2026-11-24 works too
//! via = "InnerSourceCommons/ispo-working-group#12"   # optional
//! ```
//!
//! Every problem is reported as `path:line:col: what is wrong; how to fix it`. Email addresses
//! never appear in errors or `Debug` output: members hold an [`EmailAddress`], whose printed
//! forms are redacted, and invalid addresses are reported by position only.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::email::EmailAddress;

/// The keys a `[[member]]` table may hold, in the order the bot writes them.
const MEMBER_KEYS: &[&str] = &["github", "name", "email", "added", "via"];
/// The keys allowed at the top level of the file.
const TOP_LEVEL_KEYS: &[&str] = &["member"];

/// One person on the roster.
///
/// `Debug` is safe to log: the email address prints redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The GitHub login, as written in the file.
    pub github: String,
    /// The display name; the login when the file gives none.
    pub name: String,
    /// The address invitations go to.
    pub email: EmailAddress,
    /// The local date the member was added, if recorded.
    pub added: Option<jiff::civil::Date>,
    /// Where the request came from (e.g. `owner/repo#12`), if recorded.
    pub via: Option<String>,
}

/// The validated members of one roster file, in file order.
///
/// Logins and email addresses are unique (both compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roster {
    members: Vec<Member>,
}

/// What [`add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// The member was appended to the file (the value is what was written).
    Added(Member),
    /// The login or the email address was already on the roster; the file was not touched.
    /// The value is the existing entry, which may differ from the one asked for.
    AlreadyMember(Member),
}

impl AddOutcome {
    /// The member written, or the existing entry.
    pub fn member(&self) -> &Member {
        match self {
            AddOutcome::Added(member) | AddOutcome::AlreadyMember(member) => member,
        }
    }
}

/// What [`remove`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveOutcome {
    /// The member's table was cut out of the file (the value is the entry as it was).
    Removed(Member),
    /// No member has that login; the file was not touched.
    NotAMember,
}

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
            } => {
                let place = if *in_member {
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
                if *in_member {
                    write!(f, " (allowed keys: {})", MEMBER_KEYS.join(", "))
                } else {
                    f.write_str(" (the file holds only [[member]] tables and comments)")
                }
            }
            Problem::MissingKey { key } => {
                let example = if *key == "github" {
                    "github = \"their-login\""
                } else {
                    "email = \"name@example.org\""
                };
                write!(
                    f,
                    "this [[member]] table has no `{key}`, which is required; add `{example}`"
                )
            }
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

/// Everything that can go wrong reading or changing a roster file.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file does not exist.
    #[error(
        "{}: the roster file does not exist; create it (it may contain only comments, \
         e.g. `# Members of this meeting series`) or correct the configured path",
        path.display()
    )]
    NotFound {
        /// The roster file.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, not UTF-8, …).
    #[error("{}: cannot read the roster file: {error}", path.display())]
    Read {
        /// The roster file.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
    /// The file's content is wrong at a position.
    #[error("{at}: {problem}")]
    Invalid {
        /// Where.
        at: Location,
        /// What, and how to fix it.
        problem: Problem,
    },
    /// The member passed to [`add`] cannot be written.
    #[error("{}: cannot add this member: {reason}", path.display())]
    InvalidNewMember {
        /// The roster file.
        path: PathBuf,
        /// What is wrong with the member (never contains the email address).
        reason: &'static str,
    },
    /// The appended text did not read back as the member asked for. This is a bug; nothing was
    /// written.
    #[error(
        "{}: the new entry did not read back as written, so the file was left unchanged \
         (this is a bug in invitebot; please report it)",
        path.display()
    )]
    AppendCheck {
        /// The roster file.
        path: PathBuf,
    },
    /// The text left after cutting out a member did not read back as the other members,
    /// unchanged. This is a bug; nothing was written.
    #[error(
        "{}: without the removed entry the roster did not read back as the other members \
         unchanged, so the file was left unchanged (this is a bug in invitebot; please report it)",
        path.display()
    )]
    RemoveCheck {
        /// The roster file.
        path: PathBuf,
    },
    /// Writing the new version failed; the original file is unchanged.
    #[error("{}: cannot write the roster file ({step}): {error}; the file was left unchanged", path.display())]
    Write {
        /// The roster file.
        path: PathBuf,
        /// Which step failed.
        step: &'static str,
        /// The OS error.
        error: io::Error,
    },
    /// The new version replaced the file, but syncing the directory failed, so the change may
    /// not survive a crash.
    #[error(
        "{}: the roster was updated but its directory could not be synced to disk ({error}); \
         check the file after a crash or power loss",
        path.display()
    )]
    SyncDirectory {
        /// The roster file.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
}

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
        let invalid = |span: Range<usize>, problem| RosterError::Invalid {
            at: location(text, path, span.start),
            problem,
        };

        let mut members: Vec<Member> = Vec::with_capacity(raw.member.len());
        // Each login and address seen (lower-case), with the member's index and the offset of the
        // value, for duplicate reports (the line is counted only when there is one to report:
        // counting it for every member made loading a 10,000-member roster take seconds).
        let mut logins: HashMap<String, usize> = HashMap::with_capacity(raw.member.len());
        let mut emails: HashMap<String, (usize, usize)> = HashMap::with_capacity(raw.member.len());
        let line_of = |offset: usize| crate::config::line_col(text, offset).0;
        for entry in raw.member {
            let raw = entry.into_inner();
            let (github_span, github) = (raw.github.span(), raw.github.into_inner());
            if !is_valid_github_login(&github) {
                return Err(invalid(github_span, Problem::InvalidLogin));
            }
            let email_span = raw.email.span();
            let email = EmailAddress::parse(raw.email.get_ref()).map_err(|_| {
                invalid(
                    email_span.clone(),
                    Problem::InvalidEmail {
                        member: github.clone(),
                    },
                )
            })?;
            let name = match raw.name.map(Spanned::into_inner) {
                Some(name) if !name.trim().is_empty() => name,
                _ => github.clone(),
            };
            let added = match raw.added {
                None => None,
                Some(added) => {
                    let span = added.span();
                    let date = parse_added(added.get_ref()).map_err(|reason| {
                        invalid(
                            span,
                            Problem::InvalidDate {
                                member: github.clone(),
                                reason,
                            },
                        )
                    })?;
                    Some(date)
                }
            };
            let via = raw.via.map(Spanned::into_inner);

            if let Some(&offset) = logins.get(&github.to_ascii_lowercase()) {
                return Err(invalid(
                    github_span,
                    Problem::DuplicateLogin {
                        login: github,
                        first_line: line_of(offset),
                    },
                ));
            }
            if let Some(&(index, offset)) = emails.get(&email.expose().to_ascii_lowercase()) {
                return Err(invalid(
                    email_span,
                    Problem::DuplicateEmail {
                        member: github,
                        other: members[index].github.clone(),
                        first_line: line_of(offset),
                    },
                ));
            }
            logins.insert(github.to_ascii_lowercase(), github_span.start);
            emails.insert(
                email.expose().to_ascii_lowercase(),
                (members.len(), email_span.start),
            );
            members.push(Member {
                github,
                name,
                email,
                added,
                via,
            });
        }
        Ok(Roster { members })
    }

    /// The members, in file order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the roster has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// A member by login (case-insensitive).
    pub fn find_login(&self, github: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|member| member.github.eq_ignore_ascii_case(github))
    }

    /// A member by login (case-insensitive) or, failing that, by email (case-insensitive).
    pub fn find(&self, github: &str, email: Option<&EmailAddress>) -> Option<&Member> {
        self.find_login(github).or_else(|| {
            let email = email?;
            self.members
                .iter()
                .find(|member| member.email.same_mailbox(email))
        })
    }
}

/// Whether `login` is a GitHub login: 1 to 39 ASCII letters, digits or hyphens, not starting or
/// ending with a hyphen.
pub fn is_valid_github_login(login: &str) -> bool {
    (1..=39).contains(&login.len())
        && login
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        && !login.starts_with('-')
        && !login.ends_with('-')
}

/// Reads the file fresh, validates it, and if neither the login nor the email is present appends
/// a `[[member]]` table (github, name, email, added, via) at the end, keeping everything else
/// byte for byte; then writes atomically. If already present: changes nothing, returns
/// [`AddOutcome::AlreadyMember`].
///
/// `added` and `via` are written only when set; a blank `name` is written as the login. The
/// caller must serialise calls for the same file (there is no file lock).
pub fn add(path: &Path, member: Member) -> Result<AddOutcome, RosterError> {
    let bad_member = |reason| RosterError::InvalidNewMember {
        path: path.to_owned(),
        reason,
    };
    if !is_valid_github_login(&member.github) {
        return Err(bad_member(
            "the GitHub login is not valid (1 to 39 ASCII letters, digits or hyphens, not \
             starting or ending with a hyphen)",
        ));
    }
    if member.added.is_some_and(|date| date.year() < 0) {
        return Err(bad_member("the `added` date has a negative year"));
    }
    let member = Member {
        name: if member.name.trim().is_empty() {
            member.github.clone()
        } else {
            member.name
        },
        ..member
    };

    let text = read(path)?;
    let roster = Roster::parse(&text, path)?;
    if let Some(existing) = roster.find(&member.github, Some(&member.email)) {
        return Ok(AddOutcome::AlreadyMember(existing.clone()));
    }
    parse_document(&text, path)?;

    let mut new_text = String::with_capacity(text.len() + 200);
    new_text.push_str(&text);
    new_text.push_str(separator(&text));
    new_text.push_str(&render(&member));

    // The appended text must read back as exactly one more member, equal to the one asked for.
    let check = Roster::parse(&new_text, path).map_err(|_| RosterError::AppendCheck {
        path: path.to_owned(),
    })?;
    if check.len() != roster.len() + 1 || check.members().last() != Some(&member) {
        return Err(RosterError::AppendCheck {
            path: path.to_owned(),
        });
    }

    write_atomically(path, new_text.as_bytes())?;
    Ok(AddOutcome::Added(member))
}

/// Reads the file fresh, validates it, and removes the `[[member]]` table whose `github` equals
/// `github` (case-insensitive), keeping everything else byte for byte: the other members,
/// comments, blank lines, key order and spacing. Then writes atomically. If no member has that
/// login: changes nothing, returns [`RemoveOutcome::NotAMember`].
///
/// What is cut out:
/// - the table itself, from the start of its `[[member]]` header line through the line ending of
///   its last key/value line, including a comment at the end of that line and the comment and
///   blank lines between its keys;
/// - the comment lines directly above the header (no blank line between them and the header),
///   provided a blank line separates them from what comes before: they are taken to be about
///   this member (e.g. `# joined at the kick-off`). Comments separated from the header by a
///   blank line, comments touching the previous table's last key line, and comments at the very
///   start of the file (the file's own header) stay;
/// - not comments after the table's last key/value line: they stay where they are.
///
/// The blank lines on both sides of the cut become one blank line if there was any on either
/// side, none if there was none. When nothing but blank lines follows the table, the blank
/// lines before it go too, so the file ends with the previous line (and without a final newline
/// if the file had none); when nothing but blank lines precedes it, the blank lines after it go.
///
/// So removing a member [`add`] just appended gives back the file as it was before, byte for
/// byte, if that file was empty or ended with a newline and no blank line. It cannot be exact
/// for a file that ended without a newline (`add` to `"x"` and to `"x\n"` write the same text;
/// the result ends with `"x\n"`) or with blank lines (they are not restored).
///
/// The new text must read back as the old members minus this one, else nothing is written
/// ([`RosterError::RemoveCheck`]). A file whose `member` entries are an inline array is refused
/// ([`Problem::InlineMemberArray`]). The caller must serialise calls for the same file (there is
/// no file lock).
pub fn remove(path: &Path, github: &str) -> Result<RemoveOutcome, RosterError> {
    let text = read(path)?;
    let roster = Roster::parse(&text, path)?;
    let document = parse_document(&text, path)?;
    let Some(removed) = roster.find_login(github) else {
        return Ok(RemoveOutcome::NotAMember);
    };
    let check_failed = || RosterError::RemoveCheck {
        path: path.to_owned(),
    };

    let new_text = without_member(&document, &removed.github).ok_or_else(check_failed)?;
    let check = Roster::parse(&new_text, path).map_err(|_| check_failed())?;
    let expected = roster
        .members()
        .iter()
        .filter(|member| !std::ptr::eq(*member, removed));
    if !check.members().iter().eq(expected) {
        return Err(check_failed());
    }

    write_atomically(path, new_text.as_bytes())?;
    Ok(RemoveOutcome::Removed(removed.clone()))
}

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

fn read(path: &Path) -> Result<String, RosterError> {
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

/// Turns a `toml` error into a located [`Problem`].
fn from_toml(error: &toml::de::Error, text: &str, path: &Path) -> RosterError {
    let span = error.span().unwrap_or(0..0);
    let message = error.message();
    let problem = if let Some(key) = message
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
    };
    RosterError::Invalid {
        at: location(text, path, span.start),
        problem,
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
fn scrub(message: &str) -> String {
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

fn location(text: &str, path: &Path, offset: usize) -> Location {
    let (line, column) = crate::config::line_col(text, offset);
    Location {
        path: path.to_owned(),
        line,
        column,
    }
}

/// Parses the text for editing, keeping spans. Refuses files whose `member` entries are an inline
/// array: appending a `[[member]]` table there would be invalid TOML, and removing one entry
/// would need rewriting the array.
fn parse_document<'t>(
    text: &'t str,
    path: &Path,
) -> Result<toml_edit::Document<&'t str>, RosterError> {
    let document = toml_edit::Document::parse(text).map_err(|error| RosterError::Invalid {
        at: location(text, path, error.span().map_or(0, |span| span.start)),
        problem: Problem::Syntax {
            message: scrub(error.message()),
        },
    })?;
    match document.as_table().get_key_value("member") {
        Some((key, item)) if !item.is_array_of_tables() => Err(RosterError::Invalid {
            at: location(text, path, key.span().map_or(0, |span| span.start)),
            problem: Problem::InlineMemberArray,
        }),
        _ => Ok(document),
    }
}

/// The text of `document` without the `[[member]]` table whose `github` is `login`
/// (case-insensitive), cut out by the rule described at [`remove`]. `None` if that table or a
/// span cannot be found, which validation should rule out.
fn without_member(document: &toml_edit::Document<&str>, login: &str) -> Option<String> {
    let text = document.raw();
    let tables: Vec<&toml_edit::Table> = document
        .as_table()
        .get("member")?
        .as_array_of_tables()?
        .iter()
        .collect();
    let index = tables.iter().position(|table| {
        table
            .get("github")
            .and_then(toml_edit::Item::as_str)
            .is_some_and(|github| github.eq_ignore_ascii_case(login))
    })?;
    let table = tables[index];
    // Before the first table there are only comments and blank lines (after a byte order mark).
    let file_start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    // Everything between the end of the previous table's last key/value line and this header is
    // comments and blank lines; lines above that may lie inside a multi-line string.
    let floor = match index {
        0 => file_start,
        _ => table_end(text, tables[index - 1])?,
    };
    let header_line = line_start(text, table.span()?.start).max(floor);
    let end = table_end(text, table)?;

    // The comment block touching the header belongs to the member if a blank line separates it
    // from what comes before.
    let mut block = header_line;
    while block > floor {
        let above = line_start(text, block - 1).max(floor);
        if !text[above..block].trim_start().starts_with('#') {
            break;
        }
        block = above;
    }
    let start = if block < header_line
        && block > floor
        && is_blank(&text[line_start(text, block - 1).max(floor)..block])
    {
        block
    } else {
        header_line
    };

    // Blank lines just before and just after the cut.
    let mut before_end = start;
    while before_end > file_start {
        let above = line_start(text, before_end - 1).max(file_start);
        if !is_blank(&text[above..before_end]) {
            break;
        }
        before_end = above;
    }
    let mut after_start = end;
    while after_start < text.len() {
        let next = line_end(text, after_start);
        if !is_blank(&text[after_start..next]) {
            break;
        }
        after_start = next;
    }

    let mut new_text = String::with_capacity(text.len());
    new_text.push_str(&text[..before_end]);
    if after_start == text.len() {
        // Nothing follows: no trailing blank lines, and no final newline if the file had none.
        if !text.ends_with('\n') {
            let trimmed = new_text.trim_end_matches(['\r', '\n']).len();
            new_text.truncate(trimmed);
        }
    } else if before_end > file_start {
        // Something on both sides: one blank line between them if there was one on either side,
        // taken from the file so that CRLF files stay CRLF.
        if before_end < start {
            new_text.push_str(&text[before_end..line_end(text, before_end)]);
        } else if end < after_start {
            new_text.push_str(&text[line_start(text, after_start - 1)..after_start]);
        }
    }
    new_text.push_str(&text[after_start..]);
    Some(new_text)
}

/// The end of a `[[member]]` table's text: just past the line ending of its last key/value line
/// (or of its header line, were it empty), trailing comment included.
fn table_end(text: &str, table: &toml_edit::Table) -> Option<usize> {
    let mut last = table.span()?.end;
    for (_, item) in table.iter() {
        last = last.max(item.span()?.end);
    }
    Some(line_end(text, last))
}

/// The start of the line holding byte `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |newline| newline + 1)
}

/// Just past the line ending of the line holding byte `offset`, or the end of the text.
fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |newline| offset + newline + 1)
}

/// Whether a line holds nothing but whitespace (its line ending included).
fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// What goes between the existing text and the new table: enough to end the last line and leave
/// one blank line.
fn separator(text: &str) -> &'static str {
    if text.is_empty() || text == "\u{feff}" || text.ends_with("\n\n") || text.ends_with("\n\r\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    }
}

/// The `[[member]]` table for `member`, as TOML text ending in a newline. toml_edit chooses the
/// quoting and escaping.
fn render(member: &Member) -> String {
    let mut table = toml_edit::Table::new();
    table.insert("github", toml_edit::value(member.github.as_str()));
    table.insert("name", toml_edit::value(member.name.as_str()));
    table.insert("email", toml_edit::value(member.email.expose()));
    if let Some(added) = member.added {
        table.insert(
            "added",
            toml_edit::value(added.strftime("%Y-%m-%d").to_string()),
        );
    }
    if let Some(via) = &member.via {
        table.insert("via", toml_edit::value(via.as_str()));
    }
    let mut members = toml_edit::ArrayOfTables::new();
    members.push(table);
    let mut document = toml_edit::DocumentMut::new();
    document.insert("member", toml_edit::Item::ArrayOfTables(members));
    document.to_string()
}

/// Replaces the file at `path` (following a symlink to its target) with `contents`: a temporary
/// file in the same directory, written, given the original's permissions, synced, renamed over
/// the original; then the directory is synced.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), RosterError> {
    let failed = |step, error| RosterError::Write {
        path: path.to_owned(),
        step,
        error,
    };
    let target = fs::canonicalize(path).map_err(|error| failed("resolving the path", error))?;
    let directory = target.parent().unwrap_or(Path::new("/"));
    let permissions = fs::metadata(&target)
        .map_err(|error| failed("reading the permissions", error))?
        .permissions();
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(".");
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(directory)
        .map_err(|error| failed("creating a temporary file", error))?;
    temporary
        .write_all(contents)
        .map_err(|error| failed("writing the temporary file", error))?;
    temporary
        .as_file()
        .set_permissions(permissions)
        .map_err(|error| failed("setting the permissions", error))?;
    temporary
        .as_file()
        .sync_all()
        .map_err(|error| failed("syncing the temporary file", error))?;
    temporary
        .persist(&target)
        .map_err(|error| failed("renaming the temporary file", error.error))?;
    sync_directory(directory).map_err(|error| RosterError::SyncDirectory {
        path: path.to_owned(),
        error,
    })
}

#[cfg(unix)]
fn sync_directory(directory: &Path) -> io::Result<()> {
    fs::File::open(directory)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_directory: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const EXAMPLE: &str = r#"# Members of the ISPO Working Group meeting series.
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

    fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
        let path = dir.path().join("roster.toml");
        fs::write(&path, text).unwrap();
        path
    }

    fn email(text: &str) -> EmailAddress {
        EmailAddress::parse(text).unwrap()
    }

    fn member(github: &str, name: &str, address: &str) -> Member {
        Member {
            github: github.to_owned(),
            name: name.to_owned(),
            email: email(address),
            added: Some(date(2026, 12, 1)),
            via: Some("InnerSourceCommons/ispo-working-group#40".to_owned()),
        }
    }

    /// Parses `text` expecting an error; returns (line, column, problem, message).
    fn error_of(text: &str) -> (usize, usize, Problem, String) {
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

    #[test]
    fn a_file_of_comments_is_an_empty_roster() {
        for text in ["", "# nobody yet\n", "# a\n\n   # b\n", "\u{feff}# bom\n"] {
            let roster = Roster::parse(text, Path::new("r.toml")).unwrap();
            assert!(roster.is_empty());
            assert_eq!(roster.len(), 0);
        }
    }

    #[test]
    fn loads_several_members_with_both_date_forms() {
        let dir = tempfile::tempdir().unwrap();
        let roster = Roster::load(&write(&dir, EXAMPLE)).unwrap();
        assert_eq!(roster.len(), 2);
        let [octocat, ada] = roster.members() else {
            panic!()
        };
        assert_eq!(octocat.github, "octocat");
        assert_eq!(octocat.name, "The Octocat");
        assert_eq!(octocat.email.expose(), "octocat@example.org");
        assert_eq!(octocat.added, Some(date(2026, 11, 24)));
        assert_eq!(
            octocat.via.as_deref(),
            Some("InnerSourceCommons/ispo-working-group#12")
        );
        assert_eq!(ada.github, "ada-l");
        assert_eq!(ada.name, "ada-l", "the name defaults to the login");
        assert_eq!(ada.email.expose(), "Ada@Example.org");
        assert_eq!(ada.added, Some(date(2026, 1, 5)));
        assert_eq!(ada.via, None);
    }

    #[test]
    fn find_by_login_then_by_email_ignoring_case() {
        let roster = Roster::parse(EXAMPLE, Path::new("r.toml")).unwrap();
        assert_eq!(roster.find("OctoCat", None).unwrap().github, "octocat");
        let ada = email("ada@example.ORG");
        assert_eq!(roster.find("someone", Some(&ada)).unwrap().github, "ada-l");
        assert_eq!(
            roster
                .find("ada-l", Some(&email("octocat@example.org")))
                .unwrap()
                .github,
            "ada-l",
            "the login wins over the address"
        );
        assert!(
            roster
                .find("someone", Some(&email("x@example.org")))
                .is_none()
        );
        assert!(roster.find("someone", None).is_none());
    }

    #[test]
    fn debug_output_redacts_addresses() {
        let roster = Roster::parse(EXAMPLE, Path::new("r.toml")).unwrap();
        let debug = format!("{roster:?}");
        assert!(debug.contains("octocat"));
        assert!(!debug.contains("octocat@"), "{debug}");
        assert!(!debug.to_lowercase().contains("ada@"), "{debug}");
    }

    #[test]
    fn unknown_key_in_member_is_located_and_suggests_a_fix() {
        let text = "[[member]]\ngithub = \"a\"\nemial = \"x@example.org\"\n";
        let (line, column, problem, message) = error_of(text);
        assert_eq!((line, column), (3, 1));
        assert_eq!(
            problem,
            Problem::UnknownKey {
                key: "emial".into(),
                in_member: true,
                suggestion: Some("email")
            }
        );
        assert!(message.contains("did you mean `email`?"), "{message}");
        assert!(!message.contains("x@example.org"), "{message}");
    }

    #[test]
    fn unknown_key_at_top_level() {
        let (line, column, problem, _) = error_of("# c\n[[members]]\ngithub = \"a\"\n");
        assert_eq!((line, column), (2, 3));
        assert_eq!(
            problem,
            Problem::UnknownKey {
                key: "members".into(),
                in_member: false,
                suggestion: Some("member")
            }
        );
        let (_, _, problem, _) = error_of("title = \"x\"\n");
        assert!(matches!(
            problem,
            Problem::UnknownKey {
                suggestion: None,
                ..
            }
        ));
    }

    #[test]
    fn invalid_email_is_located_and_not_echoed() {
        let text = "[[member]]\ngithub = \"octocat\"\nemail =  \"octocat(at)example.org\"\n";
        let (line, column, problem, message) = error_of(text);
        assert_eq!((line, column), (3, 10));
        assert_eq!(
            problem,
            Problem::InvalidEmail {
                member: "octocat".into()
            }
        );
        assert!(message.contains("member `octocat`"), "{message}");
        assert!(!message.contains("(at)example"), "{message}");
    }

    #[test]
    fn bad_dates_are_located() {
        for (value, column) in [
            ("\"2026-13-01\"", 9),
            ("\"2026-02-30\"", 9),
            ("\"24.11.2026\"", 9),
            ("\"2026-1-5\"", 9),
            ("2026-02-30", 9),
            ("2026-11-24T10:00:00Z", 9),
            ("10:00:00", 9),
            ("5", 9),
        ] {
            let text = format!(
                "[[member]]\ngithub = \"octocat\"\nemail = \"o@example.org\"\nadded = {value}\n"
            );
            let (line, col, problem, message) = error_of(&text);
            assert_eq!((line, col), (4, column), "{value}: {message}");
            assert!(
                matches!(problem, Problem::InvalidDate { .. })
                    || matches!(problem, Problem::Syntax { .. }),
                "{value}: {problem:?}"
            );
        }
        // Structurally valid dates that don't exist are ours to report.
        let text =
            "[[member]]\ngithub = \"octocat\"\nemail = \"o@example.org\"\nadded = \"2026-02-30\"\n";
        assert_eq!(
            error_of(text).2,
            Problem::InvalidDate {
                member: "octocat".into(),
                reason: "no such date"
            }
        );
    }

    #[test]
    fn invalid_logins_are_located_and_not_echoed() {
        for login in [
            "",
            "-octo",
            "octo-",
            "octo cat",
            "octo_cat",
            "a@example.org",
            &"a".repeat(40),
        ] {
            let text = format!("[[member]]\nemail = \"o@example.org\"\ngithub = \"{login}\"\n");
            let (line, column, problem, message) = error_of(&text);
            assert_eq!((line, column), (3, 10), "{login}");
            assert_eq!(problem, Problem::InvalidLogin);
            assert!(!message.contains("a@example.org"), "{message}");
        }
        assert!(is_valid_github_login("a"));
        assert!(is_valid_github_login(&"a".repeat(39)));
        assert!(is_valid_github_login("Octo-Cat-2"));
    }

    #[test]
    fn missing_keys_point_at_the_table_header() {
        let text = "# c\n\n[[member]]\ngithub = \"a\"\n";
        let (line, column, problem, message) = error_of(text);
        assert_eq!((line, column), (3, 1));
        assert_eq!(problem, Problem::MissingKey { key: "email" });
        assert!(message.contains("add `email = "), "{message}");

        let text = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n\n[[member]]\nemail = \"b@example.org\"\n";
        let (line, column, problem, _) = error_of(text);
        assert_eq!((line, column), (5, 1));
        assert_eq!(problem, Problem::MissingKey { key: "github" });
    }

    #[test]
    fn duplicate_login_in_another_case() {
        let text = "[[member]]\ngithub = \"octocat\"\nemail = \"a@example.org\"\n\n[[member]]\ngithub = \"OctoCat\"\nemail = \"b@example.org\"\n";
        let (line, column, problem, message) = error_of(text);
        assert_eq!((line, column), (6, 10));
        assert_eq!(
            problem,
            Problem::DuplicateLogin {
                login: "OctoCat".into(),
                first_line: 2
            }
        );
        assert!(
            message.contains("duplicate member `OctoCat` (also at line 2"),
            "{message}"
        );
    }

    #[test]
    fn duplicate_email_in_another_case() {
        let text = "[[member]]\ngithub = \"a\"\nemail = \"same@example.org\"\n\n[[member]]\ngithub = \"b\"\nemail = \"Same@EXAMPLE.org\"\n";
        let (line, column, problem, message) = error_of(text);
        assert_eq!((line, column), (7, 9));
        assert_eq!(
            problem,
            Problem::DuplicateEmail {
                member: "b".into(),
                other: "a".into(),
                first_line: 3
            }
        );
        assert!(!message.to_lowercase().contains("same@"), "{message}");
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\n";
        let (line, column, problem, message) = error_of(text);
        assert_eq!((line, column), (3, 23));
        assert!(matches!(problem, Problem::Syntax { .. }), "{problem:?}");
        assert!(!message.contains("a@example.org"), "{message}");

        let text =
            "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\nemail = \"a@example.org\"\n";
        let (line, column, problem, _) = error_of(text);
        assert_eq!((line, column), (4, 1));
        assert!(matches!(problem, Problem::Syntax { .. }), "{problem:?}");
    }

    #[test]
    fn wrong_types_are_located_without_echoing_strings() {
        let (line, column, problem, _) =
            error_of("[[member]]\ngithub = 5\nemail = \"a@example.org\"\n");
        assert_eq!((line, column), (2, 10));
        assert!(matches!(problem, Problem::WrongType { .. }), "{problem:?}");

        let (line, column, problem, message) = error_of("member = \"a@example.org\"\n");
        assert_eq!((line, column), (1, 10));
        assert!(matches!(problem, Problem::WrongType { .. }), "{problem:?}");
        assert!(!message.contains("a@example.org"), "{message}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text =
            "# Zoë and 🦀\n[[member]]\ngithub = \"a\"\nemail = \"a@example.org\" # ü\nx = 1\n";
        let (line, column, _, _) = error_of(text);
        assert_eq!((line, column), (5, 1));
        assert_eq!(crate::config::line_col("aé🦀b", "aé🦀".len()), (1, 4));
        assert_eq!(crate::config::line_col("\u{feff}ab", 4), (1, 2));
    }

    #[test]
    fn missing_file_says_to_create_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.toml");
        let error = Roster::load(&path).unwrap_err();
        assert!(matches!(error, RosterError::NotFound { .. }));
        let message = error.to_string();
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("create it"), "{message}");
        assert!(matches!(
            add(&path, member("eve", "Eve", "eve@example.org")),
            Err(RosterError::NotFound { .. })
        ));
        assert!(!path.exists());
    }

    #[test]
    fn add_appends_and_keeps_the_maintainers_text_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        let new = member("newbie", "New Bie", "newbie@example.org");
        assert_eq!(
            add(&path, new.clone()).unwrap(),
            AddOutcome::Added(new.clone())
        );

        let after = fs::read_to_string(&path).unwrap();
        let appended = after
            .strip_prefix(EXAMPLE)
            .expect("old text kept as a prefix");
        assert_eq!(
            appended,
            "\n[[member]]\ngithub = \"newbie\"\nname = \"New Bie\"\nemail = \"newbie@example.org\"\n\
             added = \"2026-12-01\"\nvia = \"InnerSourceCommons/ispo-working-group#40\"\n"
        );
        let roster = Roster::load(&path).unwrap();
        assert_eq!(roster.len(), 3);
        assert_eq!(roster.members()[2], new);
    }

    #[test]
    fn add_after_trailing_comments_and_without_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let old = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n# former member:\n# [[member]]\n# github = \"gone\"";
        let path = write(&dir, old);
        let new = Member {
            added: None,
            via: None,
            ..member("b", "B", "b@example.org")
        };
        add(&path, new.clone()).unwrap();
        let after = fs::read_to_string(&path).unwrap();
        assert_eq!(
            after.strip_prefix(old).unwrap(),
            "\n\n[[member]]\ngithub = \"b\"\nname = \"B\"\nemail = \"b@example.org\"\n"
        );
        assert_eq!(Roster::load(&path).unwrap().members()[1], new);
    }

    #[test]
    fn add_to_an_empty_or_comment_only_file() {
        let dir = tempfile::tempdir().unwrap();
        for old in ["", "# nobody yet\n", "# nobody yet\n\n"] {
            let path = write(&dir, old);
            add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
            let after = fs::read_to_string(&path).unwrap();
            let appended = after.strip_prefix(old).unwrap();
            let expected_gap = if old == "# nobody yet\n" { "\n" } else { "" };
            assert!(
                appended.starts_with(&format!("{expected_gap}[[member]]\n")),
                "{after:?}"
            );
            assert_eq!(Roster::load(&path).unwrap().len(), 1);
        }
    }

    #[test]
    fn adding_twice_changes_nothing_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        let new = member("newbie", "New Bie", "newbie@example.org");
        add(&path, new.clone()).unwrap();
        let once = fs::read(&path).unwrap();
        let again = Member {
            github: "NEWBIE".into(),
            ..new.clone()
        };
        assert_eq!(add(&path, again).unwrap(), AddOutcome::AlreadyMember(new));
        assert_eq!(fs::read(&path).unwrap(), once);
    }

    #[test]
    fn an_address_used_by_another_login_is_already_a_member() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        let outcome = add(&path, member("someone-else", "X", "OCTOCAT@example.org")).unwrap();
        let AddOutcome::AlreadyMember(existing) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(existing.github, "octocat");
        assert_eq!(fs::read_to_string(&path).unwrap(), EXAMPLE);
    }

    #[test]
    fn add_to_a_broken_file_fails_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        for broken in [
            "[[member]]\ngithub = \"a\"\nemial = \"a@example.org\"\n",
            "[[member]]\ngithub = \"a\nemail = \"a@example.org\"\n",
            "member = []\n",
            "member = [{ github = \"a\", email = \"a@example.org\" }]\n",
        ] {
            let path = write(&dir, broken);
            let error = add(&path, member("eve", "Eve", "eve@example.org")).unwrap_err();
            assert!(matches!(error, RosterError::Invalid { .. }), "{error:?}");
            assert!(
                error.to_string().contains("roster.toml:1:")
                    || error.to_string().contains("roster.toml:2:")
                    || error.to_string().contains("roster.toml:3:"),
                "{error}"
            );
            assert_eq!(fs::read_to_string(&path).unwrap(), broken);
        }
        let path = write(&dir, "member = []\n");
        let error = add(&path, member("eve", "Eve", "eve@example.org")).unwrap_err();
        assert!(
            matches!(&error, RosterError::Invalid { problem: Problem::InlineMemberArray, at } if (at.line, at.column) == (1, 1)),
            "{error:?}"
        );
        let only: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(only.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn add_rejects_an_invalid_login_without_touching_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        let error = add(&path, member("bad login", "X", "x@example.org")).unwrap_err();
        assert!(
            matches!(error, RosterError::InvalidNewMember { .. }),
            "{error:?}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), EXAMPLE);
    }

    #[test]
    fn hostile_names_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        let hostile = [
            "Eve \"the\" \\ Hacker\n",
            "Zoë 'O''Brien' 🦀",
            "tab\there \u{7} bell \u{7f} del",
            "\"\"\"'''",
            "x\"\n[[member]]\ngithub = \"evil\"\nemail = \"evil@example.org\"\n",
            "\r\nback\\slash\\\n",
        ];
        for (i, name) in hostile.iter().enumerate() {
            let new = Member {
                via: Some(format!("{name}#{i}")),
                ..member(&format!("eve-{i}"), name, &format!("eve{i}@example.org"))
            };
            assert_eq!(
                add(&path, new.clone()).unwrap(),
                AddOutcome::Added(new.clone())
            );
            let roster = Roster::load(&path).unwrap();
            assert_eq!(roster.len(), 3 + i, "exactly one member added");
            assert_eq!(roster.members().last().unwrap(), &new);
        }
        assert!(fs::read_to_string(&path).unwrap().starts_with(EXAMPLE));
    }

    #[test]
    fn blank_name_is_written_as_the_login() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "");
        let outcome = add(&path, member("eve", "  ", "eve@example.org")).unwrap();
        assert_eq!(outcome.member().name, "eve");
        assert_eq!(Roster::load(&path).unwrap().members()[0].name, "eve");
    }

    #[cfg(unix)]
    #[test]
    fn add_keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o640);
    }

    #[cfg(unix)]
    #[test]
    fn add_through_a_symlink_updates_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = write(&dir, EXAMPLE);
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        add(&link, member("eve", "Eve", "eve@example.org")).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(Roster::load(&target).unwrap().len(), 3);
    }

    #[cfg(unix)]
    #[test]
    #[ignore = "needs a non-root user (root writes into read-only folders); run with --ignored"]
    fn a_failed_write_names_the_path_and_leaves_the_file_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let error = add(&path, member("eve", "Eve", "eve@example.org")).unwrap_err();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let message = error.to_string();
        assert!(matches!(error, RosterError::Write { .. }), "{error:?}");
        assert!(
            message.starts_with(&path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("ermission denied"), "{message}");
        assert_eq!(fs::read_to_string(&path).unwrap(), EXAMPLE);
    }

    /// Maintainers' comments, odd spacing, inline comments, a comment inside a table and one
    /// after it, two blank lines, a multi-line string.
    const LAYERED: &str = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# joined at the kick-off
[[member]]   # founding member
github = "octocat"
name = "The Octocat"

# the address below is the work one
email = "octocat@example.org"
added = "2026-11-24"            # local date

# --- people who joined later ---

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
# ada prefers video off


[[member]]
github = "Grace-H"
name = """Grace
[[member]]
Hopper"""
email = "grace@example.org"   # personal
"#;

    /// Writes `text`, removes `login`, checks the outcome against the member as loaded before,
    /// and returns the new text.
    fn removed(text: &str, login: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, text);
        let before = Roster::parse(text, &path).unwrap();
        let expected = before.find_login(login).expect("a member").clone();
        assert_eq!(
            remove(&path, login).unwrap(),
            RemoveOutcome::Removed(expected)
        );
        let after = fs::read_to_string(&path).unwrap();
        assert_eq!(
            Roster::parse(&after, &path).unwrap().len(),
            before.len() - 1
        );
        let only: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(only.len(), 1, "no temporary file left behind");
        after
    }

    #[test]
    fn remove_first_middle_and_last_keeps_every_other_byte() {
        let first = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# --- people who joined later ---

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
# ada prefers video off


[[member]]
github = "Grace-H"
name = """Grace
[[member]]
Hopper"""
email = "grace@example.org"   # personal
"#;
        let middle = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# joined at the kick-off
[[member]]   # founding member
github = "octocat"
name = "The Octocat"

# the address below is the work one
email = "octocat@example.org"
added = "2026-11-24"            # local date

# --- people who joined later ---

# ada prefers video off


[[member]]
github = "Grace-H"
name = """Grace
[[member]]
Hopper"""
email = "grace@example.org"   # personal
"#;
        let last = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# joined at the kick-off
[[member]]   # founding member
github = "octocat"
name = "The Octocat"

# the address below is the work one
email = "octocat@example.org"
added = "2026-11-24"            # local date

# --- people who joined later ---

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
# ada prefers video off
"#;
        assert_eq!(removed(LAYERED, "octocat"), first);
        assert_eq!(removed(LAYERED, "ada-l"), middle);
        assert_eq!(removed(LAYERED, "Grace-H"), last);
        assert_eq!(
            removed(EXAMPLE, "ada-l"),
            EXAMPLE
                .split("\n\n[[member]]\n  email")
                .next()
                .unwrap()
                .to_owned()
                + "\n"
        );
    }

    #[test]
    fn a_comment_touching_the_header_goes_with_it_one_set_apart_stays() {
        let a = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n";
        let b = "[[member]]\ngithub = \"b\"\nemail = \"b@example.org\"\n";
        let c = "[[member]]\ngithub = \"c\"\nemail = \"c@example.org\"\n";
        // Touching the header, set apart from what is above: the member's.
        let text = format!("{a}\n# joined at the kick-off\n# (two lines)\n{b}\n{c}");
        assert_eq!(removed(&text, "b"), format!("{a}\n{c}"));
        // Set apart from the header by a blank line: stays.
        let text = format!("{a}\n# newcomers below\n\n{b}\n{c}");
        assert_eq!(
            removed(&text, "b"),
            format!("{a}\n# newcomers below\n\n{c}")
        );
        // Touching the previous table's last line too: not clearly the member's, stays.
        let text = format!("{a}# about b?\n{b}\n{c}");
        assert_eq!(removed(&text, "b"), format!("{a}# about b?\n\n{c}"));
        // At the very start of the file: the file's own header, stays.
        let text = format!("# roster\n{b}\n{c}");
        assert_eq!(removed(&text, "b"), format!("# roster\n\n{c}"));
        // Below the file's header comment and a blank line: the member's.
        let text = format!("# roster\n\n# joined at the kick-off\n{b}\n{c}");
        assert_eq!(removed(&text, "b"), format!("# roster\n\n{c}"));
    }

    #[test]
    fn blank_lines_around_the_cut_become_at_most_one() {
        let a = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n";
        let b = "[[member]]\ngithub = \"b\"\nemail = \"b@example.org\"\n";
        let c = "[[member]]\ngithub = \"c\"\nemail = \"c@example.org\"\n";
        assert_eq!(removed(&format!("{a}{b}{c}"), "b"), format!("{a}{c}"));
        assert_eq!(removed(&format!("{a}\n{b}{c}"), "b"), format!("{a}\n{c}"));
        assert_eq!(removed(&format!("{a}{b}\n{c}"), "b"), format!("{a}\n{c}"));
        assert_eq!(
            removed(&format!("{a}\n\n \n{b}\n\n{c}"), "b"),
            format!("{a}\n{c}")
        );
        // Leading blank lines of the file go with its first member.
        assert_eq!(removed(&format!("\n\n{a}\n{b}"), "a"), b);
        // Trailing blank lines go with its last member.
        assert_eq!(removed(&format!("{a}\n\n{b}\n\n"), "b"), a);
        // A file without a final newline keeps not having one.
        let text = format!("{a}\n{}", b.trim_end());
        assert_eq!(removed(&text, "b"), a.trim_end());
    }

    #[test]
    fn a_multi_line_string_is_not_mistaken_for_comments() {
        let a = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\nname = \"\"\"A\n\n# quoted\"\"\"\n";
        let b = "[[member]]\ngithub = \"b\"\nemail = \"b@example.org\"\n";
        assert_eq!(removed(&format!("{a}{b}"), "b"), a);
        assert_eq!(removed(&format!("{a}{b}"), "a"), b);
    }

    #[test]
    fn remove_the_only_member_keeps_the_file_header() {
        let text = "# Members of the series.\n# Maintainers: edit freely.\n\n[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"   # work\n";
        let after = removed(text, "a");
        assert_eq!(
            after,
            "# Members of the series.\n# Maintainers: edit freely.\n"
        );
        assert!(
            Roster::parse(&after, Path::new("r.toml"))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            removed(
                "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n",
                "a"
            ),
            ""
        );
        assert_eq!(
            removed(
                "\u{feff}[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n",
                "a"
            ),
            "\u{feff}"
        );
    }

    #[test]
    fn remove_ignores_case_and_leaves_the_file_alone_for_a_stranger() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, LAYERED);
        for stranger in ["nobody", "", "octo", "grace", "octocat@example.org"] {
            assert_eq!(remove(&path, stranger).unwrap(), RemoveOutcome::NotAMember);
            assert_eq!(fs::read(&path).unwrap(), LAYERED.as_bytes());
        }
        let RemoveOutcome::Removed(member) = remove(&path, "GRACE-h").unwrap() else {
            panic!()
        };
        assert_eq!(member.github, "Grace-H");
        assert_eq!(member.name, "Grace\n[[member]]\nHopper");
        assert_eq!(remove(&path, "grace-h").unwrap(), RemoveOutcome::NotAMember);
        assert_eq!(
            Roster::load(&path)
                .unwrap()
                .find_login("ADA-L")
                .unwrap()
                .github,
            "ada-l"
        );
    }

    #[test]
    fn remove_from_a_broken_file_fails_and_leaves_it_alone() {
        let dir = tempfile::tempdir().unwrap();
        for (broken, line) in [
            ("[[member]]\ngithub = \"a\"\nemial = \"a@example.org\"\n", 3),
            ("[[member]]\ngithub = \"a\nemail = \"a@example.org\"\n", 2),
            (
                "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n\n[[member]]\ngithub = \"A\"\nemail = \"b@example.org\"\n",
                6,
            ),
            (
                "member = [{ github = \"a\", email = \"a@example.org\" }]\n",
                1,
            ),
            ("member = []\n", 1),
        ] {
            let path = write(&dir, broken);
            let error = remove(&path, "a").unwrap_err();
            let RosterError::Invalid { at, problem } = &error else {
                panic!("{error:?}")
            };
            assert_eq!(at.line, line, "{error}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{}:{line}:", path.display()))
            );
            assert!(!error.to_string().contains("a@example.org"), "{error}");
            if broken.starts_with("member =") {
                assert_eq!((problem, at.column), (&Problem::InlineMemberArray, 1));
            }
            assert_eq!(fs::read_to_string(&path).unwrap(), broken);
        }
        let only: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(only.len(), 1, "no temporary file left behind");
        assert!(matches!(
            remove(&dir.path().join("nope.toml"), "a"),
            Err(RosterError::NotFound { .. })
        ));
    }

    #[test]
    fn remove_from_a_crlf_file() {
        let text = "# roster\r\n\r\n[[member]]\r\ngithub = \"a\"\r\nemail = \"a@example.org\"\r\n\r\n# joined late\r\n[[member]]\r\ngithub = \"b\"\r\nemail = \"b@example.org\"   # b\r\n\r\n[[member]]\r\ngithub = \"c\"\r\nemail = \"c@example.org\"\r\n";
        assert_eq!(
            removed(text, "b"),
            "# roster\r\n\r\n[[member]]\r\ngithub = \"a\"\r\nemail = \"a@example.org\"\r\n\r\n[[member]]\r\ngithub = \"c\"\r\nemail = \"c@example.org\"\r\n"
        );
        assert_eq!(
            removed(text, "c"),
            "# roster\r\n\r\n[[member]]\r\ngithub = \"a\"\r\nemail = \"a@example.org\"\r\n\r\n# joined late\r\n[[member]]\r\ngithub = \"b\"\r\nemail = \"b@example.org\"   # b\r\n"
        );
        assert_eq!(
            removed(text, "a"),
            "# roster\r\n\r\n# joined late\r\n[[member]]\r\ngithub = \"b\"\r\nemail = \"b@example.org\"   # b\r\n\r\n[[member]]\r\ngithub = \"c\"\r\nemail = \"c@example.org\"\r\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn remove_keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, EXAMPLE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        remove(&path, "octocat").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o7777, 0o640);
    }

    #[test]
    fn add_then_remove_gives_back_the_original() {
        let dir = tempfile::tempdir().unwrap();
        // Exact: files that end with a newline and no blank line, and empty files.
        for old in [EXAMPLE, LAYERED, "", "# nobody yet\n", "\u{feff}# bom\n"] {
            let path = write(&dir, old);
            add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
            assert_ne!(fs::read_to_string(&path).unwrap(), old);
            assert!(matches!(
                remove(&path, "eve").unwrap(),
                RemoveOutcome::Removed(_)
            ));
            assert_eq!(fs::read_to_string(&path).unwrap(), old);
        }
        // Not exact (documented at `remove`): a missing final newline comes back, trailing
        // blank lines don't.
        for (old, back) in [
            (EXAMPLE.trim_end(), EXAMPLE),
            ("# nobody yet", "# nobody yet\n"),
            ("# nobody yet\n\n", "# nobody yet\n"),
        ] {
            let path = write(&dir, old);
            add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
            remove(&path, "eve").unwrap();
            assert_eq!(fs::read_to_string(&path).unwrap(), back);
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("emial", MEMBER_KEYS), Some("email"));
        assert_eq!(suggest("Email", MEMBER_KEYS), Some("email"));
        assert_eq!(suggest("githib", MEMBER_KEYS), Some("github"));
        assert_eq!(suggest("date", MEMBER_KEYS), Some("added"));
        assert_eq!(suggest("nmae", MEMBER_KEYS), Some("name"));
        assert_eq!(suggest("foo", MEMBER_KEYS), None);
        assert_eq!(suggest("vi", MEMBER_KEYS), Some("via"));
        assert_eq!(suggest("login", MEMBER_KEYS), Some("github"));
        assert_eq!(suggest("login", TOP_LEVEL_KEYS), None);
        assert_eq!(suggest("members", TOP_LEVEL_KEYS), Some("member"));
        assert_eq!(edit_distance("emial", "email"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "via"), 3);
    }
}
