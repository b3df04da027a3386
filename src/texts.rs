//! What people read: the comments on issues and the plain-text part of the invitation.
//!
//! Pure functions of the series, the requester's login and the schedule. No email address is
//! ever part of a comment: comments are public.

use jiff::tz::TimeZone;

use crate::calendar::Occurrence;
use crate::config::Series;

/// The hidden marker the bot puts in each of its comments, so it can recognise them later.
pub fn marker(series: &Series, kind: &str) -> String {
    format!("<!-- invitebot:{}:{kind} -->", series.id)
}

/// A meeting time in the series' zone and in UTC, e.g.
/// `Monday 30 November 2026, 08:00 PST (16:00 UTC)`.
pub fn when(occurrence: &Occurrence) -> String {
    let local = occurrence.start.strftime("%A %-d %B %Y, %H:%M %Z");
    let utc = occurrence.start.with_time_zone(TimeZone::UTC);
    let utc_text = if utc.date() == occurrence.start.date() {
        utc.strftime("%H:%M UTC").to_string()
    } else {
        utc.strftime("%a %-d %b %H:%M UTC").to_string()
    };
    format!("{local} ({utc_text})")
}

/// How a member leaves the series (said in comments and mails).
pub fn how_to_leave(series: &Series) -> String {
    format!(
        "To leave the series, open an issue on https://github.com/{}/issues saying you'd like to leave, and a maintainer will take you off the list.",
        series.repo
    )
}

/// The comment after the invitation was sent.
pub fn invited_comment(series: &Series, login: &str, next: Option<&Occurrence>, already_member: bool) -> String {
    let opening = if already_member {
        format!(
            "Hi @{login}, you're already on the list for **{}**, so I've sent the calendar invitation again to the address we have for you.",
            series.title
        )
    } else {
        format!(
            "Thanks @{login}, welcome! I've added you to **{}** and sent the calendar invitation to the email address you gave (it isn't shown here).",
            series.title
        )
    };
    let next = next.map_or_else(String::new, |o| format!("\n\nThe next meeting is on {}.", when(o)));
    format!(
        "{opening}{next}\n\nAccept the invitation in your calendar to get every meeting of the series. If it hasn't arrived within a few minutes, please check your spam folder.\n\n{}\n\n{}",
        how_to_leave(series),
        marker(series, "invited")
    )
}

/// Why the bot has no address to send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoEmail {
    /// The form's email field holds something that is not a usable address.
    Invalid,
    /// Neither the issue nor the public profile gives an address.
    Missing,
}

/// The comment asking for an email address.
pub fn needs_email_comment(series: &Series, login: &str, reason: NoEmail) -> String {
    let problem = match reason {
        NoEmail::Invalid => "the email field of your request doesn't hold an address I can send to",
        NoEmail::Missing => "I couldn't find an email address to send the invitation to, neither in this issue nor on your public GitHub profile",
    };
    format!(
        "Hi @{login}, thanks for asking to join **{}**! Unfortunately {problem}.\n\n\
         To fix it, either:\n\
         - edit this issue and put your address in the email field (or anywhere in the text), then close and reopen the issue; or\n\
         - make an email address public on your GitHub profile (Settings → Public profile → Public email), then close and reopen the issue.\n\n\
         {}",
        series.title,
        marker(series, "needs-email")
    )
}

/// The subject of an invitation.
pub fn invite_subject(series: &Series) -> String {
    format!("Invitation: {}", series.title)
}

/// The plain-text part of an invitation.
pub fn invite_text(series: &Series, name: &str, upcoming: &[Occurrence]) -> String {
    let schedule = &series.schedule;
    let every = match schedule.interval_weeks() {
        1 => "every week".to_string(),
        2 => "every other week".to_string(),
        n => format!("every {n} weeks"),
    };
    let first = schedule.first();
    let mut text = format!(
        "Hello {name},\n\nyou're invited to {title}, {every} on {weekday} at {time} ({zone}), {minutes} minutes.\n",
        title = series.title,
        weekday = first.strftime("%A"),
        time = first.strftime("%H:%M"),
        zone = schedule.tz_name(),
        minutes = schedule.duration_minutes(),
    );
    if !series.description.is_empty() {
        text.push_str(&format!("\n{}\n", series.description));
    }
    if let Some(location) = &series.location {
        text.push_str(&format!("\nWhere: {location}\n"));
    }
    if !upcoming.is_empty() {
        text.push_str("\nNext meetings:\n");
        for occurrence in upcoming {
            text.push_str(&format!("- {}\n", when(occurrence)));
        }
    }
    text.push_str(&format!(
        "\nAccept the attached invitation to add the whole series to your calendar.\n\n{}\n",
        how_to_leave(series)
    ));
    text
}
