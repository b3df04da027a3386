//! Texts of the maintainers' commands: the replies on the issue the command was written on.
//! Members are named by their login in code quotes (no mention: removing or resending doesn't
//! ping them), addresses never appear.

use super::{marker, meeting_line, mention};
use crate::core::calendar::Meeting;
use crate::core::identity::Login;
use crate::core::plan::Counts;
use crate::core::series::Series;

/// What the commands are.
pub const COMMANDS_HELP: &str = "Commands (maintainers only; one per comment, on its own line):\n\n\
| command | what it does |\n|---|---|\n\
| `/invitebot skip [SERIES] YYYY-MM-DD [note]` | cancels that meeting in every member's calendar |\n\
| `/invitebot move [SERIES] YYYY-MM-DD to YYYY-MM-DD HH:MM [note]` | moves that meeting (local time of the series) |\n\
| `/invitebot remove [SERIES] @login` | takes the member off the roster and cancels their invitation |\n\
| `/invitebot resend [SERIES] @login` | sends the member's invitation again |\n\
| `/invitebot status` | next meetings, member count, what is waiting or failed |\n\
| `/invitebot help` | this list |\n\n\
`SERIES` (the series id) is needed only when several series share this repository. \
Skip and move write a `[[series.exception]]` into the config file, remove edits the roster \
file: the files stay the source of truth.";

/// The refusal of a command by someone who may not run commands.
pub fn command_refused(series: &Series, author: &Login) -> String {
    format!(
        "Sorry{}, only maintainers of this repository (write, maintain or admin access) can give me commands, so I've changed nothing.\n\n{}",
        mention(author.as_str()),
        marker(series, "command-refused")
    )
}

/// The reply to a command that could not be carried out (a mistake in it, a date that is not a
/// meeting, an ambiguous series).
pub fn command_not_done(series: &Series, author: &Login, why: &str) -> String {
    format!(
        "Sorry{}, I haven't changed anything: {why}.\n\n{COMMANDS_HELP}\n\n{}",
        mention(author.as_str()),
        marker(series, "command-not-done")
    )
}

/// The list of commands.
pub fn command_help(series: &Series) -> String {
    format!("{COMMANDS_HELP}\n\n{}", marker(series, "command-help"))
}

/// After a meeting was cancelled or moved: the meeting as it is now, and to how many members
/// the update went (`failed` of them wait for a retry).
pub fn meeting_changed(
    series: &Series,
    meeting: Option<&Meeting>,
    sent: usize,
    failed: usize,
) -> String {
    let what = meeting.map_or_else(
        || "The meeting is changed".to_string(),
        |m| format!("Done: {}", meeting_line(m)),
    );
    format!(
        "{what}. I wrote it into the config file as a `[[series.exception]]` of **{}** and sent {}{}.\n\n{}",
        series.title,
        sent_phrase(sent),
        retry_phrase(failed),
        marker(series, "command-changed")
    )
}

/// After a member was removed by a command.
pub fn member_removed(series: &Series, login: &Login) -> String {
    format!(
        "Done: `{login}` is off the roster of **{}**, and their calendar got the cancellation.\n\n{}",
        series.title,
        marker(series, "command-removed")
    )
}

/// A member a command names is not on the roster.
pub fn not_on_roster(series: &Series, login: &Login) -> String {
    format!(
        "`{login}` is not on the roster of **{}**, so I've changed nothing.\n\n{}",
        series.title,
        marker(series, "command-not-on-roster")
    )
}

/// After a member's invitation was sent again.
pub fn invitation_resent(series: &Series, login: &Login) -> String {
    format!(
        "Done: I've sent `{login}`'s invitation to **{}** again, to the address on the roster (not shown here).\n\n{}",
        series.title,
        marker(series, "command-resent")
    )
}

/// How one series stands, for `status`.
#[derive(Debug, Clone)]
pub struct SeriesStatus<'s> {
    /// The series.
    pub series: &'s Series,
    /// Its next meetings (moved and cancelled ones included).
    pub next: Vec<Meeting>,
    /// Members on the roster (`None`: the roster does not load).
    pub members: Option<usize>,
    /// What a reconciliation would send now.
    pub pending: Counts,
    /// Calendar messages waiting for a retry.
    pub mail_waiting: usize,
    /// Members whose address the mail server refused for good.
    pub mail_refused: usize,
    /// Requests still being worked on or waiting for a retry.
    pub requests_waiting: usize,
}

/// The reply to `status`: one section per series.
pub fn status_reply(statuses: &[SeriesStatus<'_>]) -> String {
    let mut text = String::new();
    for status in statuses {
        let series = status.series;
        text.push_str(&format!("**{}** (`{}`)\n\n", series.title, series.id));
        for meeting in &status.next {
            text.push_str(&format!("- {}\n", meeting_line(meeting)));
        }
        if status.next.is_empty() {
            text.push_str("- no meetings to come\n");
        }
        let members = status.members.map_or_else(
            || "the roster file does not load (run `invitebot check`)".to_string(),
            |n| n.to_string(),
        );
        text.push_str(&format!(
            "\nMembers: {members}. To send: {}. Calendar mail waiting for a retry: {}; refused for good: {}. Requests in progress: {}.\n\n",
            status.pending, status.mail_waiting, status.mail_refused, status.requests_waiting
        ));
    }
    if let Some(first) = statuses.first() {
        text.push_str(&marker(first.series, "command-status"));
    }
    text
}

fn sent_phrase(sent: usize) -> String {
    match sent {
        0 => "nothing (no member yet)".to_string(),
        1 => "the update to the one member".to_string(),
        n => format!("the update to all {n} members"),
    }
}

fn retry_phrase(failed: usize) -> String {
    match failed {
        0 => String::new(),
        n => format!(" ({n} of them could not be delivered yet and will be retried)"),
    }
}
