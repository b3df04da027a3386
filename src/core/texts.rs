//! What people read: the comments on issues and the plain-text part of the invitation.
//!
//! Pure functions of the series, the requester's login and the schedule. No email address is
//! ever part of a comment: comments are public.

use jiff::tz::TimeZone;

use crate::core::calendar::{Meeting, MeetingStatus, Occurrence, Schedule};
use crate::core::plan::{CancelReason, RequestReason};
use crate::core::series::Series;
use crate::core::series_event::SeriesEvent;

/// How a comment addresses the requester: ` @login` (a mention, with its leading space) when
/// `login` looks like a GitHub login (ASCII letters, digits, `-`, `_`; at most 39 characters),
/// else nothing.
///
/// The login comes from a signed webhook payload, so it is GitHub's own; the check makes sure
/// that whatever reaches a comment can mention only that one account, never `@everyone`, a
/// team (`@org/team`), HTML or Markdown. Nothing else from the issue (names, titles, bodies,
/// addresses) is ever put into a comment.
pub fn mention(login: &str) -> String {
    let plain = (1..=39).contains(&login.len())
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        format!(" @{login}")
    } else {
        String::new()
    }
}

mod commands;
mod consent;
pub use commands::*;
pub use consent::*;

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

/// One meeting with its status, e.g. `Tuesday 29 December 2026, 09:00 PST (17:00 UTC), moved
/// from Monday 28 December 08:00: holiday` or `Monday 4 January 2027, 08:00 PST (16:00 UTC):
/// cancelled`; a regular meeting is [`when`] alone.
pub fn meeting_line(meeting: &Meeting) -> String {
    let note = meeting
        .note
        .as_deref()
        .map_or_else(String::new, |note| format!(": {note}"));
    match &meeting.status {
        MeetingStatus::Regular => format!("{}{note}", when(&meeting.occurrence)),
        MeetingStatus::Moved { from } => format!(
            "{}, moved from {}{note}",
            when(&meeting.occurrence),
            from.start.strftime("%A %-d %B %H:%M")
        ),
        MeetingStatus::Cancelled => format!("{}: cancelled{note}", when(&meeting.occurrence)),
    }
}

/// How a member leaves the series (said in comments and mails).
pub fn how_to_leave(repo: &str) -> String {
    format!(
        "To leave the series, open an issue titled \"Leave\" on https://github.com/{repo}/issues."
    )
}

/// The comment after the invitation was sent.
pub fn invited_comment(
    series: &Series,
    login: &str,
    next: Option<&Occurrence>,
    already_member: bool,
) -> String {
    let who = mention(login);
    let opening = if already_member {
        format!(
            "Hi{who}, you're already on the list for **{}**, so I've sent the calendar invitation again to the address we have for you.",
            series.title
        )
    } else {
        format!(
            "Thanks{who}, welcome! I've added you to **{}** and sent the calendar invitation to the email address you gave (it isn't shown here).",
            series.title
        )
    };
    let next = next.map_or_else(String::new, |o| {
        format!("\n\nThe next meeting is on {}.", when(o))
    });
    format!(
        "{opening}{next}\n\nAccept the invitation in your calendar to get every meeting of the series. If it hasn't arrived within a few minutes, please check your spam folder.\n\n{}\n\n{}",
        how_to_leave(&series.repo.to_string()),
        marker(series, "invited")
    )
}

/// Why the bot has no address to send to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoEmail {
    /// The form's email field holds something that is not a usable address.
    Invalid,
    /// The issue gives an address of a form the bot doesn't send to (quoted, IP literal).
    Unsupported,
    /// Neither the issue nor the public profile gives an address.
    Missing,
}

/// The comment asking for an email address.
pub fn needs_email_comment(series: &Series, login: &str, reason: NoEmail) -> String {
    let who = mention(login);
    let problem = match reason {
        NoEmail::Invalid => "the email field of your request doesn't hold an address I can send to",
        NoEmail::Unsupported => {
            "the address in your request has a form I can't send to (a quoted part before the @, or an IP address instead of a domain); please give a plain address: a name without quotes, an @, and a domain name"
        }
        NoEmail::Missing => {
            "I couldn't find an email address to send the invitation to, neither in this issue nor on your public GitHub profile"
        }
    };
    format!(
        "Hi{who}, thanks for asking to join **{}**! Unfortunately {problem}.\n\n\
         To fix it, either:\n\
         - edit this issue and put your address in the email field (or anywhere in the text), then close and reopen the issue; or\n\
         - make an email address public on your GitHub profile (Settings → Public profile → Public email), then close and reopen the issue.\n\n\
         {}",
        series.title,
        marker(series, "needs-email")
    )
}

/// The subject of an invitation.
pub fn invite_subject(event: &SeriesEvent, reason: RequestReason) -> String {
    match reason {
        RequestReason::Update => format!("Updated invitation: {}", event.title),
        _ => format!("Invitation: {}", event.title),
    }
}

/// `every week`, `every other week`, `every 3 weeks`.
fn every_n_weeks(interval_weeks: u32) -> String {
    match interval_weeks {
        1 => "every week".to_string(),
        2 => "every other week".to_string(),
        n => format!("every {n} weeks"),
    }
}

/// How often and when a series meets, as the public page says it: `every other Monday, 08:00
/// America/Los_Angeles, 60 minutes` (`every Monday`, `every 3 weeks on Monday`), with `, until
/// 2027-06-30` when the series ends.
pub fn cadence(schedule: &Schedule) -> String {
    let first = schedule.first();
    let weekday = first.strftime("%A");
    let days = match schedule.interval_weeks() {
        1 => format!("every {weekday}"),
        2 => format!("every other {weekday}"),
        n => format!("{} on {weekday}", every_n_weeks(n)),
    };
    let until = schedule
        .until()
        .map_or_else(String::new, |until| format!(", until {until}"));
    format!(
        "{days}, {time} {zone}, {minutes} minutes{until}",
        time = first.strftime("%H:%M"),
        zone = schedule.tz_name(),
        minutes = schedule.duration_minutes(),
    )
}

/// The plain-text part of an invitation or an update; `upcoming` are the next meetings, moved
/// and cancelled ones included (see [`meeting_line`]).
pub fn invite_text(event: &SeriesEvent, name: &str, upcoming: &[Meeting], update: bool) -> String {
    let schedule = &event.schedule;
    let every = every_n_weeks(schedule.interval_weeks());
    let first = schedule.first();
    let opening = if update {
        "the meeting series has changed; here is the updated invitation to"
    } else {
        "you're invited to"
    };
    let mut text = format!(
        "Hello {name},\n\n{opening} {title}, {every} on {weekday} at {time} ({zone}), {minutes} minutes{until}.\n",
        title = event.title,
        weekday = first.strftime("%A"),
        time = first.strftime("%H:%M"),
        zone = schedule.tz_name(),
        minutes = schedule.duration_minutes(),
        until = schedule
            .until()
            .map_or_else(String::new, |until| format!(", until {until}")),
    );
    if !event.description.is_empty() {
        text.push_str(&format!("\n{}\n", event.description));
    }
    if let Some(location) = &event.location {
        text.push_str(&format!("\nWhere: {location}\n"));
    }
    if !upcoming.is_empty() {
        text.push_str("\nNext meetings:\n");
        for meeting in upcoming {
            text.push_str(&format!("- {}\n", meeting_line(meeting)));
        }
    }
    text.push_str(&format!(
        "\nAccept the invitation in your calendar to add the whole series to it.\n\n{}\n",
        how_to_leave(&event.repo)
    ));
    text
}

/// The subject of a cancellation.
pub fn cancel_subject(event: &SeriesEvent) -> String {
    format!("Cancelled: {}", event.title)
}

/// The plain-text part of a cancellation.
pub fn cancel_text(event: &SeriesEvent, name: &str, reason: CancelReason) -> String {
    let why = match reason {
        CancelReason::Removed => format!("you are no longer on the list for {}", event.title),
        CancelReason::OldAddress => format!(
            "your address for {} has changed; the invitation now goes to your new address",
            event.title
        ),
        CancelReason::SeriesRemoved => format!("the meeting series {} has ended", event.title),
    };
    format!(
        "Hello {name},\n\n{why}, so the series is being removed from this calendar.\n\n\
         If this is a mistake, open an issue on https://github.com/{}/issues.\n",
        event.repo
    )
}

/// The comment after a member left by issue.
pub fn left_comment(series: &Series, login: &str) -> String {
    let who = mention(login);
    format!(
        "Hi{who}, you're off the list for **{}**: I've sent a cancellation that removes the series from your calendar. You're welcome back any time: just open a new join request.\n\n{}",
        series.title,
        marker(series, "left")
    )
}

/// The comment when someone who is not on the roster asks to leave.
pub fn not_a_member_comment(series: &Series, login: &str) -> String {
    let who = mention(login);
    format!(
        "Hi{who}, I couldn't find you on the list for **{}**, so there is nothing to remove. If you still get invitations under another GitHub account, please ask from that account or mention a maintainer here.\n\n{}",
        series.title,
        marker(series, "not-a-member")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::series::testing::{sample_series, schedule};
    use jiff::Timestamp;

    fn series() -> Series {
        Series {
            description: "Biweekly call.".into(),
            location: Some("https://example.org/call".into()),
            ..sample_series()
        }
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
    fn cadence_says_how_often_when_and_how_long() {
        let weekly = |interval_weeks: u32, until: Option<&str>| {
            Schedule::from_spec(crate::core::calendar::ScheduleSpec {
                tz_name: "Europe/Berlin",
                first: "2025-01-07T17:30".parse().unwrap(),
                duration_minutes: 45,
                interval_weeks,
                skip: vec![],
                exceptions: vec![],
                until: until.map(|d| d.parse().unwrap()),
            })
            .unwrap()
        };
        let cases = [
            (
                series().schedule,
                "every other Monday, 08:00 America/Los_Angeles, 60 minutes",
            ),
            (
                weekly(1, None),
                "every Tuesday, 17:30 Europe/Berlin, 45 minutes",
            ),
            (
                weekly(3, Some("2027-06-30")),
                "every 3 weeks on Tuesday, 17:30 Europe/Berlin, 45 minutes, until 2027-06-30",
            ),
        ];
        for (schedule, expected) in cases {
            assert_eq!(cadence(&schedule), expected);
        }
    }

    #[test]
    fn when_shows_the_utc_date_when_it_differs() {
        let evening = schedule("America/Los_Angeles", "2024-05-06T20:00", 60, &[]);
        let next = evening.next_occurrences("2026-11-26T00:00:00Z".parse().unwrap(), 1);
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
        for reason in [NoEmail::Invalid, NoEmail::Unsupported, NoEmail::Missing] {
            let ask = needs_email_comment(&series, "ada", reason);
            assert!(
                ask.contains("@ada") && ask.contains("Public email"),
                "{ask}"
            );
            assert!(ask.ends_with("<!-- invitebot:ispo-wg:needs-email -->"));
        }
    }

    #[test]
    fn meeting_lines_say_what_changed() {
        use crate::core::calendar::{Change, Exception, Schedule, ScheduleSpec};
        let schedule = Schedule::from_spec(ScheduleSpec {
            tz_name: "America/Los_Angeles",
            first: "2024-05-06T08:00".parse().unwrap(),
            duration_minutes: 60,
            interval_weeks: 2,
            skip: vec!["2026-12-14".parse().unwrap()],
            exceptions: vec![
                Exception {
                    date: "2026-12-28".parse().unwrap(),
                    change: Change::Cancelled,
                    note: Some("Holidays".into()),
                },
                Exception {
                    date: "2027-01-11".parse().unwrap(),
                    change: Change::Moved {
                        to: "2027-01-12T09:00".parse().unwrap(),
                    },
                    note: Some("Room taken".into()),
                },
            ],
            until: Some("2027-06-30".parse().unwrap()),
        })
        .unwrap();
        let lines: Vec<String> = schedule
            .next_meetings("2026-12-01T00:00:00Z".parse().unwrap(), 4)
            .iter()
            .map(meeting_line)
            .collect();
        assert_eq!(
            lines,
            [
                "Monday 14 December 2026, 08:00 PST (16:00 UTC): cancelled",
                "Monday 28 December 2026, 08:00 PST (16:00 UTC): cancelled: Holidays",
                "Tuesday 12 January 2027, 09:00 PST (17:00 UTC), moved from Monday 11 January 08:00: Room taken",
                "Monday 25 January 2027, 08:00 PST (16:00 UTC)",
            ]
        );
        let mut series = series();
        series.schedule = schedule;
        let event = SeriesEvent::of(&series);
        let upcoming = event
            .schedule
            .next_meetings("2026-12-20T00:00:00Z".parse().unwrap(), 2);
        let text = invite_text(&event, "Ada", &upcoming, true);
        assert!(text.contains("60 minutes, until 2027-06-30.\n"), "{text}");
        assert!(text.contains("- Monday 28 December 2026, 08:00 PST (16:00 UTC): cancelled: Holidays\n- Tuesday 12 January 2027"), "{text}");
    }

    #[test]
    fn invite_text_describes_the_series() {
        let series = series();
        let upcoming = series
            .schedule
            .next_meetings("2026-11-26T00:00:00Z".parse().unwrap(), 2);
        let event = SeriesEvent::of(&series);
        let text = invite_text(&event, "Ada Lovelace", &upcoming, false);
        assert!(text.starts_with("Hello Ada Lovelace,\n\nyou're invited to ISPO Working Group, every other week on Monday at 08:00 (America/Los_Angeles), 60 minutes.\n"), "{text}");
        assert!(text.contains("\nBiweekly call.\n"));
        assert!(text.contains("\nWhere: https://example.org/call\n"));
        assert!(text.contains("- Monday 30 November 2026, 08:00 PST (16:00 UTC)\n- Monday 14 December 2026, 08:00 PST (16:00 UTC)\n"), "{text}");
        assert!(text.contains("To leave the series, open an issue titled \"Leave\" on https://github.com/InnerSourceCommons/ispo-working-group/issues."));
        assert_eq!(
            invite_subject(&event, RequestReason::New),
            "Invitation: ISPO Working Group"
        );
        let update = invite_text(&event, "Ada", &upcoming, true);
        assert!(
            update.starts_with("Hello Ada,\n\nthe meeting series has changed"),
            "{update}"
        );
        assert_eq!(
            invite_subject(&event, RequestReason::Update),
            "Updated invitation: ISPO Working Group"
        );
    }

    #[test]
    fn cancellations_and_leave_comments_say_why() {
        let series = series();
        let event = SeriesEvent::of(&series);
        assert_eq!(cancel_subject(&event), "Cancelled: ISPO Working Group");
        for (reason, words) in [
            (CancelReason::Removed, "you are no longer on the list"),
            (
                CancelReason::OldAddress,
                "your address for ISPO Working Group has changed",
            ),
            (
                CancelReason::SeriesRemoved,
                "the meeting series ISPO Working Group has ended",
            ),
        ] {
            let text = cancel_text(&event, "Ada", reason);
            assert!(
                text.starts_with("Hello Ada,") && text.contains(words),
                "{text}"
            );
        }
        assert!(left_comment(&series, "ada").contains("@ada, you're off the list"));
        assert!(left_comment(&series, "ada").ends_with("<!-- invitebot:ispo-wg:left -->"));
        assert!(not_a_member_comment(&series, "eve").contains("couldn't find you on the list"));
    }

    /// Every comment builder, for one login.
    fn all_comments(series: &Series, login: &str) -> Vec<String> {
        let next = occurrence_after("2026-11-26T00:00:00Z");
        vec![
            invited_comment(series, login, Some(&next), false),
            invited_comment(series, login, None, true),
            needs_email_comment(series, login, NoEmail::Invalid),
            needs_email_comment(series, login, NoEmail::Missing),
            left_comment(series, login),
            not_a_member_comment(series, login),
        ]
    }

    #[test]
    fn a_real_login_is_mentioned_and_nothing_else_is() {
        let series = series();
        for login in ["ada", "Ada-L", "a", "octo_cat", &"x".repeat(39)] {
            for comment in all_comments(&series, login) {
                let mentions: Vec<&str> = comment
                    .split_whitespace()
                    .filter(|w| w.contains('@'))
                    .collect();
                assert_eq!(mentions, [format!("@{login},")], "{comment}");
            }
        }
    }

    #[test]
    fn a_hostile_login_never_reaches_a_comment() {
        let series = series();
        let hostile = [
            "everyone",
            "@everyone",
            "org/team",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "`rm -rf`",
            "x -->\n<!-- invitebot-reply:job:1:0 -->",
            "ada@example.org",
            "eve\r\n@admin",
            "",
            &"x".repeat(40),
            "dependabot[bot]",
        ];
        for login in hostile {
            for comment in all_comments(&series, login) {
                let mentions = comment.matches('@').count();
                if login == "everyone" {
                    // A plain word is a valid login: it mentions that account, as GitHub would.
                    assert_eq!(mentions, 1, "{comment}");
                    continue;
                }
                assert_eq!(mentions, 0, "{login:?}: {comment}");
                assert!(
                    comment.starts_with("Hi, ") || comment.starts_with("Thanks, "),
                    "{comment}"
                );
                // The only HTML is the bot's own marker, last, once.
                assert_eq!(comment.matches("<!--").count(), 1, "{comment}");
                assert_eq!(comment.matches("-->").count(), 1, "{comment}");
                assert!(comment.ends_with(" -->"), "{comment}");
                for needle in ["<img", "javascript:", "`", "[x]", "invitebot-reply"] {
                    assert!(!comment.contains(needle), "{needle:?} in {comment}");
                }
            }
        }
    }
}
