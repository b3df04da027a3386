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
pub fn invited_comment(
    series: &Series,
    login: &str,
    next: Option<&Occurrence>,
    already_member: bool,
) -> String {
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
    let next = next.map_or_else(String::new, |o| {
        format!("\n\nThe next meeting is on {}.", when(o))
    });
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
        NoEmail::Missing => {
            "I couldn't find an email address to send the invitation to, neither in this issue nor on your public GitHub profile"
        }
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
        "\nAccept the invitation in your calendar to add the whole series to it.\n\n{}\n",
        how_to_leave(series)
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::minimal_config;
    use jiff::Timestamp;

    fn series() -> Series {
        let description = "title = \"ISPO Working Group\"\ndescription = \"Biweekly call.\"\nlocation = \"https://example.org/call\"";
        minimal_config(&[("title = \"ISPO Working Group\"", description)])
            .series
            .remove(0)
    }

    fn occurrence_after(instant: &str) -> Occurrence {
        series()
            .schedule
            .next_occurrences(instant.parse::<Timestamp>().unwrap(), 1)
            .remove(0)
    }

    #[test]
    fn when_shows_local_and_utc_on_both_sides_of_dst() {
        assert_eq!(
            when(&occurrence_after("2026-11-26T00:00:00Z")),
            "Monday 30 November 2026, 08:00 PST (16:00 UTC)"
        );
        assert_eq!(
            when(&occurrence_after("2026-03-10T00:00:00Z")),
            "Monday 23 March 2026, 08:00 PDT (15:00 UTC)"
        );
    }

    #[test]
    fn when_shows_the_utc_date_when_it_differs() {
        let text = minimal_config(&[("2024-05-06T08:00", "2024-05-06T20:00")]);
        let next = text.series[0]
            .schedule
            .next_occurrences("2026-11-26T00:00:00Z".parse().unwrap(), 1);
        assert_eq!(
            when(&next[0]),
            "Monday 30 November 2026, 20:00 PST (Tue 1 Dec 04:00 UTC)"
        );
    }

    #[test]
    fn comments_mention_the_requester_the_series_and_the_marker() {
        let series = series();
        let next = occurrence_after("2026-11-26T00:00:00Z");
        let new = invited_comment(&series, "ada", Some(&next), false);
        assert!(new.starts_with("Thanks @ada, welcome!"), "{new}");
        assert!(new.contains("**ISPO Working Group**"));
        assert!(
            new.contains("The next meeting is on Monday 30 November 2026, 08:00 PST (16:00 UTC).")
        );
        assert!(new.contains("https://github.com/InnerSourceCommons/ispo-working-group/issues"));
        assert!(new.ends_with("<!-- invitebot:ispo-wg:invited -->"));
        let again = invited_comment(&series, "ada", None, true);
        assert!(
            again.contains("already on the list") && !again.contains("next meeting"),
            "{again}"
        );
        for reason in [NoEmail::Invalid, NoEmail::Missing] {
            let ask = needs_email_comment(&series, "ada", reason);
            assert!(
                ask.contains("@ada") && ask.contains("Public email"),
                "{ask}"
            );
            assert!(ask.ends_with("<!-- invitebot:ispo-wg:needs-email -->"));
        }
    }

    #[test]
    fn invite_text_describes_the_series() {
        let series = series();
        let upcoming = series
            .schedule
            .next_occurrences("2026-11-26T00:00:00Z".parse().unwrap(), 2);
        let text = invite_text(&series, "Ada Lovelace", &upcoming);
        assert!(text.starts_with("Hello Ada Lovelace,\n\nyou're invited to ISPO Working Group, every other week on Monday at 08:00 (America/Los_Angeles), 60 minutes.\n"), "{text}");
        assert!(text.contains("\nBiweekly call.\n"));
        assert!(text.contains("\nWhere: https://example.org/call\n"));
        assert!(text.contains("- Monday 30 November 2026, 08:00 PST (16:00 UTC)\n- Monday 14 December 2026, 08:00 PST (16:00 UTC)\n"), "{text}");
        assert!(text.contains("To leave the series"));
        assert_eq!(invite_subject(&series), "Invitation: ISPO Working Group");
    }
}
