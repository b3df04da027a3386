//! Commands maintainers write in issue comments (`/invitebot skip 2026-12-28 holidays`): how a
//! comment is recognised as one, and what it asks. Pure: no I/O. Who may run them, and running
//! them, is the pipeline's.
//!
//! ```text
//! /invitebot skip [SERIES] DATE [NOTE]
//! /invitebot move [SERIES] DATE to DATE HH:MM [NOTE]
//! /invitebot remove [SERIES] @LOGIN
//! /invitebot resend [SERIES] @LOGIN
//! /invitebot status [SERIES]
//! /invitebot help
//! ```
//!
//! `SERIES` (a series id) is needed only when several series share the repository.

use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

use crate::core::identity::Login;
use crate::core::request::clean_name;

/// The word every command starts with.
pub const PREFIX: &str = "/invitebot";

/// The longest note kept, in characters.
pub const MAX_NOTE_CHARS: usize = 100;

/// A command comment, as stored with its job: which comment, and its command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    /// GitHub's id of the comment: a command runs once per comment.
    pub comment_id: u64,
    /// The issue the comment is on (the reply goes there).
    pub issue_number: u64,
    /// Who wrote the comment.
    pub author: Login,
    /// The command line, from [`PREFIX`] on.
    pub line: String,
}

/// What a command asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Cancel the meeting of `date` (its usual date).
    Skip {
        /// The meeting's usual date.
        date: Date,
        /// Why, shown in the calendar.
        note: Option<String>,
    },
    /// Move the meeting of `date` to `to` (local time of the series).
    Move {
        /// The meeting's usual date.
        date: Date,
        /// When it happens instead.
        to: DateTime,
        /// Why, shown in the calendar.
        note: Option<String>,
    },
    /// Take a member off the roster.
    Remove(Login),
    /// Send a member's invitation again.
    Resend(Login),
    /// Say how the series stand.
    Status,
    /// Say what the commands are.
    Help,
}

impl Command {
    /// A word for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Skip { .. } => "skip",
            Command::Move { .. } => "move",
            Command::Remove(_) => "remove",
            Command::Resend(_) => "resend",
            Command::Status => "status",
            Command::Help => "help",
        }
    }
}

/// A command line read: the series it names (if any) and what it asks, or why it can't be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCommand {
    /// The series id named in the command.
    pub series: Option<String>,
    /// The command, or what is wrong with it (a sentence for the reply).
    pub command: Result<Command, String>,
}

/// The command line of a comment: its first line starting with [`PREFIX`] (then a space or the
/// end), from the prefix on; `None` when the comment holds no command.
pub fn command_line(body: &str) -> Option<&str> {
    body.lines().map(str::trim).find(|line| {
        line.strip_prefix(PREFIX)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    })
}

/// Reads a command line (as [`command_line`] returns it). `series_ids` are the configured
/// series, so that a word naming one is read as the series.
pub fn parse(line: &str, series_ids: &[&str]) -> ParsedCommand {
    let mut words: Vec<&str> = line.split_whitespace().skip(1).collect();
    let verb = if words.is_empty() {
        "help".to_string()
    } else {
        words.remove(0).to_ascii_lowercase()
    };
    let series = words
        .first()
        .filter(|word| series_ids.iter().any(|id| id == *word))
        .map(|word| word.to_string());
    if series.is_some() {
        words.remove(0);
    }
    let command = match verb.as_str() {
        "skip" => skip(&words),
        "move" => move_meeting(&words),
        "remove" => login(&words).map(Command::Remove),
        "resend" => login(&words).map(Command::Resend),
        "status" => Ok(Command::Status),
        "help" => Ok(Command::Help),
        other => Err(format!(
            "`{}` is not a command I know",
            clean_name(other).unwrap_or_default()
        )),
    };
    ParsedCommand { series, command }
}

fn skip(words: &[&str]) -> Result<Command, String> {
    let (date, rest) = date_first(words)?;
    Ok(Command::Skip {
        date,
        note: note(rest),
    })
}

fn move_meeting(words: &[&str]) -> Result<Command, String> {
    let usage = "write `move DATE to DATE HH:MM`, e.g. `move 2026-12-28 to 2026-12-29 09:00`";
    let (date, rest) = date_first(words)?;
    let [to, day, time, rest @ ..] = rest else {
        return Err(usage.to_string());
    };
    if !to.eq_ignore_ascii_case("to") {
        return Err(usage.to_string());
    }
    let day: Date = day.parse().map_err(|_| usage.to_string())?;
    let time: jiff::civil::Time = time.parse().map_err(|_| usage.to_string())?;
    Ok(Command::Move {
        date,
        to: day.to_datetime(time),
        note: note(rest),
    })
}

fn date_first<'w>(words: &'w [&'w str]) -> Result<(Date, &'w [&'w str]), String> {
    let Some((first, rest)) = words.split_first() else {
        return Err("name the meeting by its date, e.g. `2026-12-28`".to_string());
    };
    let date = first
        .parse()
        .map_err(|_| "name the meeting by its date, e.g. `2026-12-28`".to_string())?;
    Ok((date, rest))
}

fn login(words: &[&str]) -> Result<Login, String> {
    let usage = "name the member by their GitHub login, e.g. `@octocat`";
    let [word] = words else {
        return Err(usage.to_string());
    };
    let login = word.strip_prefix('@').unwrap_or(word);
    let valid = (1..=39).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(Login::new(login))
    } else {
        Err(usage.to_string())
    }
}

/// The note: the rest of the line, cleaned like a name (one line of visible text), at most
/// [`MAX_NOTE_CHARS`] characters.
fn note(words: &[&str]) -> Option<String> {
    let text = words.join(" ");
    clean_name(&text).map(|note| note.chars().take(MAX_NOTE_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(line: &str) -> ParsedCommand {
        parse(line, &["ispo-wg", "other"])
    }

    #[test]
    fn the_command_line_is_the_first_line_with_the_prefix() {
        assert_eq!(
            command_line("Thanks!\r\n  /invitebot skip 2026-12-28\n/invitebot status"),
            Some("/invitebot skip 2026-12-28")
        );
        assert_eq!(command_line("/invitebot"), Some("/invitebot"));
        assert_eq!(command_line("/invitebotx skip"), None);
        assert_eq!(command_line("see /invitebot help"), None);
        assert_eq!(command_line(""), None);
    }

    #[test]
    fn commands_are_read_with_or_without_a_series() {
        let date: Date = "2026-12-28".parse().unwrap();
        let cases = [
            (
                "/invitebot skip 2026-12-28 Winter holidays",
                None,
                Ok(Command::Skip {
                    date,
                    note: Some("Winter holidays".into()),
                }),
            ),
            (
                "/invitebot skip ispo-wg 2026-12-28",
                Some("ispo-wg"),
                Ok(Command::Skip { date, note: None }),
            ),
            (
                "/invitebot MOVE 2026-12-28 to 2026-12-29 09:00 room taken",
                None,
                Ok(Command::Move {
                    date,
                    to: "2026-12-29T09:00".parse().unwrap(),
                    note: Some("room taken".into()),
                }),
            ),
            (
                "/invitebot remove other @Ada-L",
                Some("other"),
                Ok(Command::Remove(Login::new("ada-l"))),
            ),
            (
                "/invitebot resend ada",
                None,
                Ok(Command::Resend(Login::new("ada"))),
            ),
            ("/invitebot status", None, Ok(Command::Status)),
            ("/invitebot", None, Ok(Command::Help)),
            ("/invitebot help", None, Ok(Command::Help)),
        ];
        for (line, series, command) in cases {
            let parsed = parsed(line);
            assert_eq!(parsed.series.as_deref(), series, "{line}");
            assert_eq!(parsed.command, command, "{line}");
        }
    }

    #[test]
    fn mistakes_say_what_to_write() {
        for line in [
            "/invitebot skip",
            "/invitebot skip next-monday",
            "/invitebot move 2026-12-28 2026-12-29",
            "/invitebot move 2026-12-28 to 2026-12-29",
            "/invitebot remove",
            "/invitebot remove @a @b",
            "/invitebot remove @everyone/team",
            "/invitebot frobnicate",
        ] {
            let error = parsed(line).command.unwrap_err();
            assert!(!error.is_empty(), "{line}");
        }
    }

    #[test]
    fn notes_are_one_line_of_visible_text() {
        let long = "x".repeat(300);
        let Ok(Command::Skip { note, .. }) =
            parsed(&format!("/invitebot skip 2026-12-28 a\u{202e}b {long}")).command
        else {
            panic!("not a skip");
        };
        let note = note.unwrap();
        assert!(note.starts_with("ab x"), "{note}");
        assert_eq!(note.chars().count(), MAX_NOTE_CHARS);
    }
}
