//! The `.ics` text of an invitation (iTIP `REQUEST` or `CANCEL`, RFC 5545/5546).
//!
//! # Why the text is built here and not with the `icalendar` crate's builder
//!
//! The project rule is "don't write by hand what a good crate does", so icalendar 0.17.17's
//! writer was read (`src/properties.rs`, `src/text.rs`, `src/components.rs`) against the
//! checklist in `docs/invites.md`, and tried (`Event::new()` + `Property::add_parameter`). It
//! fails on untrusted input and on the folding rule:
//!
//! - **Parameter values** (`Property::quote_special_chars`) are quoted only when they contain
//!   `:` `;` `,`, and a value that already starts and ends with `"` is written verbatim; nothing
//!   removes `"`, CR or LF. A CN of `Eve\r\nATTENDEE:mailto:x@evil.org` came out as a second
//!   `ATTENDEE:mailto:x@evil.org"…` line, and `"x";ROLE=CHAIR;X="y"` as
//!   `ORGANIZER;CN="x";ROLE=CHAIR;X="y":…` (an injected parameter).
//! - **TEXT escaping** (`text::escape_text`) turns LF into `\n` but keeps CR and every other
//!   control character: `a\r\nb` came out as `DESCRIPTION:a<CR>\nb`, and many readers end the
//!   line at that CR.
//! - **Folding** (`properties::fold_line`) keeps UTF-8 characters whole but splits between a
//!   backslash and the character it escapes (seen: `…\\\` / ` ,tail`), which the checklist
//!   forbids.
//! - It writes properties in `BTreeMap` order, adds a `DTSTAMP` of *now* and a random `UID`
//!   when they are missing, and has no `VTIMEZONE` support.
//!
//! Correctness wins, so the few lines are written here with `text.rs`'s escaping, quoting
//! and folding; the unit tests read the output back with `icalendar::parser` (and the
//! `calendar_python` integration test with Python's `icalendar` + `recurring-ical-events`).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::schedule::{DstNoteEdge, DstNoteKind, Meeting, MeetingStatus, Schedule};
use super::text::{ContentLines, escape_text, format_local, param_value, strip_controls};
use super::vtimezone::vtimezone;
use crate::core::email_address::EmailAddress;

/// `PRODID` of every calendar we write.
pub const PRODID: &str = concat!(
    "-//invitebot//invitebot ",
    env!("CARGO_PKG_VERSION"),
    "//EN"
);

/// How far after `DTSTAMP` (or the first meeting, if later) the `VTIMEZONE` lists every
/// transition explicitly; beyond it, the derived yearly rule (if any) applies.
pub const VTIMEZONE_YEARS: i64 = 10;

/// A person in the invitation: a display name (untrusted text) and an address.
#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub email: EmailAddress,
}

/// The iTIP method: the calendar's `METHOD` and the MIME part's `method=` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// An invitation or an update (higher `SEQUENCE`).
    Request,
    /// The series is cancelled for this attendee (`STATUS:CANCELLED`).
    Cancel,
    /// The series as a public feed anyone may subscribe to: the events of a `REQUEST`, with no
    /// `ATTENDEE` (RFC 5546 §3.2.1).
    Publish,
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Publish => "PUBLISH",
        }
    }
}

/// One invitation to one attendee for a whole series, or (`Method::Publish`, no attendee) the
/// series as a public feed.
#[derive(Clone, Copy, Debug)]
pub struct Invitation<'a> {
    pub method: Method,
    /// Stable for the whole life of the series (never random).
    pub uid: &'a str,
    /// Raised by the caller whenever start, end, recurrence, location or exceptions change.
    pub sequence: u32,
    /// When this message was made (written in UTC).
    pub dtstamp: Timestamp,
    pub summary: &'a str,
    pub description: &'a str,
    pub location: Option<&'a str>,
    pub organizer: &'a Person,
    /// The one attendee of a `REQUEST` or `CANCEL`; `None` for a `PUBLISH`, which names nobody.
    pub attendee: Option<&'a Person>,
    pub schedule: &'a Schedule,
}

impl Invitation<'_> {
    /// The full `VCALENDAR` text: CRLF line ends, lines folded at 75 octets.
    ///
    /// One `VEVENT` holds the series: `DTSTART`/`DTEND` on [`Schedule::calendar_start`] (the
    /// first meeting without a DST problem, so every reader gets each meeting's time and length
    /// right), the `RRULE` (with `UNTIL` when the series ends), an `RDATE` in UTC for each
    /// meeting held before that `DTSTART`, and an `EXDATE` for each cancelled meeting (a second
    /// one, in UTC, when its start time is in a gap). A
    /// `REQUEST` adds one `VEVENT` with the same `UID` and a `RECURRENCE-ID` for each moved
    /// meeting (RFC 5545 §3.8.4.4); a `PUBLISH` holds the same events as a `REQUEST`, without
    /// `ATTENDEE`; a `CANCEL` cancels the whole series with the first one.
    pub fn to_ics(&self) -> String {
        let s = self.schedule;
        let start = s.calendar_start_occurrence();
        let held_before = s.held_before_calendar_start();
        let moved: Vec<Meeting> = match self.method {
            Method::Request | Method::Publish => s
                .changed_meetings(Timestamp::MIN)
                .into_iter()
                .filter(|m| matches!(m.status, MeetingStatus::Moved { .. }))
                .filter(|m| m.date >= s.calendar_start().date())
                .collect(),
            Method::Cancel => Vec::new(),
        };
        let mut lines = ContentLines::new();
        lines.push("BEGIN:VCALENDAR");
        lines.push("VERSION:2.0");
        lines.push(&format!("PRODID:{}", escape_text(PRODID)));
        lines.push(&format!("METHOD:{}", self.method.as_str()));
        lines.push("CALSCALE:GREGORIAN");

        // Exact from the earliest meeting the calendar holds to 10 years after the latest of
        // that, DTSTAMP and any moved meeting.
        let instants = std::iter::once(&start)
            .chain(&held_before)
            .chain(moved.iter().map(|m| &m.occurrence))
            .map(|o| o.start.timestamp());
        let from = instants.clone().min().unwrap_or(self.dtstamp);
        let until = instants
            .chain([self.dtstamp])
            .max()
            .unwrap_or(self.dtstamp)
            .checked_add(SignedDuration::from_hours(VTIMEZONE_YEARS * 8766))
            .unwrap_or(Timestamp::MAX);
        lines.push_raw(&vtimezone(s.tz_name(), s.time_zone(), from, until));

        let mut times = vec![
            self.local("DTSTART", &start.start),
            self.local("DTEND", &start.end),
            format!("RRULE:{}", s.rrule()),
        ];
        times.extend(
            held_before
                .iter()
                .map(|o| format!("RDATE:{}", format_utc(o.start.timestamp()))),
        );
        let in_gap = |date: Date| {
            s.dst_note_on(date)
                .filter(|n| n.edge == DstNoteEdge::Start && n.kind == DstNoteKind::Gap)
        };
        for date in s
            .cancelled_dates()
            .filter(|&d| d >= s.calendar_start().date())
        {
            times.push(format!("EXDATE;TZID={}:{}", s.tz_name(), self.usual(date)));
            // On a day whose usual start time is in a gap, libical takes the instance and a
            // local EXDATE for different instants, and keeps the meeting: an EXDATE with the
            // instant in UTC (later than any reading of the local time, matching nothing else
            // in any reader), right after the local one, makes it drop it. Not for a moved
            // meeting: recurring-ical-events then drops its override too. (Nor in a fold:
            // libical matches there, and a UTC EXDATE made ical.js keep the meeting.) See
            // docs/calendar-interop.md.
            if let Some(note) = in_gap(date) {
                times.push(format!(
                    "EXDATE:{}",
                    format_utc(note.actual_start.timestamp())
                ));
            }
        }
        self.push_event(&mut lines, &times, self.description);
        for meeting in &moved {
            let MeetingStatus::Moved { from } = &meeting.status else {
                continue;
            };
            // The occurrence's usual wall time, as the RRULE makes it (on a gap day not the time
            // it is held at): every reader resolves it as it resolves that occurrence.
            let times = [
                format!(
                    "RECURRENCE-ID;TZID={}:{}",
                    s.tz_name(),
                    self.usual(meeting.date)
                ),
                self.local("DTSTART", &meeting.occurrence.start),
                self.local("DTEND", &meeting.occurrence.end),
            ];
            let mut description = format!(
                "Moved from {}.",
                from.start.strftime("%A %-d %B %Y, %H:%M %Z")
            );
            if let Some(note) = &meeting.note {
                description.push_str(&format!(" {note}"));
            }
            if !self.description.is_empty() {
                description = format!("{description}\n\n{}", self.description);
            }
            self.push_event(&mut lines, &times, &description);
        }
        lines.push("END:VCALENDAR");
        lines.finish()
    }

    /// The usual local start of the meeting of `date`, as the `RRULE` makes it.
    fn usual(&self, date: Date) -> String {
        format_local(date.to_datetime(self.schedule.first().time()))
    }

    /// `NAME;TZID=zone:local` for an instant the schedule made (never in a gap; in a fold only
    /// as the earlier reading, which is how a reader takes it).
    fn local(&self, name: &str, at: &jiff::Zoned) -> String {
        format!(
            "{name};TZID={}:{}",
            self.schedule.tz_name(),
            format_local(at.datetime())
        )
    }

    /// One `VEVENT` with the given time properties.
    fn push_event(&self, lines: &mut ContentLines, times: &[String], description: &str) {
        lines.push("BEGIN:VEVENT");
        lines.push(&format!("UID:{}", escape_text(self.uid)));
        lines.push(&format!("SEQUENCE:{}", self.sequence));
        lines.push(&format!("DTSTAMP:{}", format_utc(self.dtstamp)));
        for line in times {
            lines.push(line);
        }
        lines.push(&format!("SUMMARY:{}", escape_text(self.summary)));
        lines.push(&format!("DESCRIPTION:{}", escape_text(description)));
        if let Some(location) = self.location.filter(|l| !l.trim().is_empty()) {
            lines.push(&format!("LOCATION:{}", escape_text(location)));
        }
        lines.push(&format!(
            "ORGANIZER{}:{}",
            cn(&self.organizer.name),
            mailto(self.organizer)
        ));
        if let Some(attendee) = self.attendee {
            // No reply is expected to a CANCEL (RFC 5546 §3.2.5).
            let rsvp = match self.method {
                Method::Request => "TRUE",
                Method::Cancel | Method::Publish => "FALSE",
            };
            lines.push(&format!(
                "ATTENDEE{};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP={rsvp}:{}",
                cn(&attendee.name),
                mailto(attendee)
            ));
        }
        let status = match self.method {
            Method::Request | Method::Publish => "CONFIRMED",
            Method::Cancel => "CANCELLED",
        };
        lines.push(&format!("STATUS:{status}"));
        lines.push("TRANSP:OPAQUE");
        lines.push("END:VEVENT");
    }
}

/// `;CN="…"`, or nothing when the name is empty after sanitising.
fn cn(name: &str) -> String {
    let value = param_value(name.trim());
    if value == "\"\"" {
        String::new()
    } else {
        format!(";CN={value}")
    }
}

fn mailto(person: &Person) -> String {
    format!("mailto:{}", strip_controls(person.email.expose()))
}

/// `YYYYMMDDTHHMMSSZ`, whole seconds.
fn format_utc(t: Timestamp) -> String {
    format_local(t.to_zoned(TimeZone::UTC).datetime()) + "Z"
}

#[cfg(test)]
mod tests {
    use super::super::text::MAX_LINE_OCTETS;
    use super::super::vtimezone::tests::{Interpreter, compare_with_tz};
    use super::*;
    use icalendar::parser::{Calendar, Component, Property, read_calendar, unfold};
    use jiff::civil::{date, datetime};

    fn person(name: &str, email: &str) -> Person {
        Person {
            name: name.to_string(),
            email: EmailAddress::parse(email).unwrap(),
        }
    }

    struct Fixture {
        organizer: Person,
        attendee: Person,
        schedule: Schedule,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                organizer: person("ISPO Working Group", "ispo-wg@example.org"),
                attendee: person("Ada Lovelace", "ada@example.org"),
                schedule: crate::core::calendar::schedule::tests::la_series(),
            }
        }

        fn invitation(&self) -> Invitation<'_> {
            Invitation {
                method: Method::Request,
                uid: "ispo-wg@invitebot.example.org",
                sequence: 3,
                dtstamp: "2026-11-24T12:00:00.75Z".parse().unwrap(),
                summary: "ISPO Working Group",
                description: "Agenda: https://example.org/agenda\nBring questions.",
                location: Some("https://meet.example.org/ispo"),
                organizer: &self.organizer,
                attendee: Some(&self.attendee),
                schedule: &self.schedule,
            }
        }
    }

    /// The fixture's invitation for `schedule`.
    fn ics_of(schedule: &Schedule) -> String {
        let f = Fixture::new();
        Invitation {
            schedule,
            ..f.invitation()
        }
        .to_ics()
    }

    /// Checks the physical form (CRLF everywhere, ≤ 75 octets, folding) and parses the text.
    fn parse(ics: &str) -> (String, Calendar<'static>) {
        assert!(ics.ends_with("\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains(['\r', '\n']),
            "bare CR or LF"
        );
        for line in ics.split_terminator("\r\n") {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line:?}",
                line.len()
            );
            assert!(!line.is_empty());
        }
        let unfolded = unfold(ics);
        let leaked: &'static str = Box::leak(unfolded.clone().into_boxed_str());
        (unfolded, read_calendar(leaked).unwrap())
    }

    fn vevent<'a>(cal: &'a Calendar<'a>) -> &'a Component<'a> {
        let events: Vec<_> = cal
            .components
            .iter()
            .filter(|c| c.name.as_str() == "VEVENT")
            .collect();
        assert_eq!(events.len(), 1);
        events[0]
    }

    fn props<'a>(c: &'a Component<'a>, name: &str) -> Vec<&'a Property<'a>> {
        c.properties
            .iter()
            .filter(|p| p.name.as_str() == name)
            .collect()
    }

    fn value(c: &Component<'_>, name: &str) -> String {
        let found = props(c, name);
        assert_eq!(found.len(), 1, "{name}");
        found[0].val.as_str().to_string()
    }

    fn param(p: &Property<'_>, key: &str) -> Option<String> {
        p.params
            .iter()
            .find(|q| q.key.as_str() == key)
            .and_then(|q| q.val.as_ref())
            .map(|v| v.as_str().to_string())
    }

    #[test]
    fn request_has_the_checklist_shape() {
        let f = Fixture::new();
        let ics = f.invitation().to_ics();
        let (unfolded, cal) = parse(&ics);
        let logical: Vec<&str> = unfolded.split_terminator("\r\n").collect();
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            logical[..5],
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                &format!("PRODID:-//invitebot//invitebot {version}//EN"),
                "METHOD:REQUEST",
                "CALSCALE:GREGORIAN",
            ]
        );
        assert_eq!(logical[5], "BEGIN:VTIMEZONE");
        let event_start = logical.iter().position(|l| *l == "BEGIN:VEVENT").unwrap();
        assert!(logical[..event_start].contains(&"END:VTIMEZONE"));
        assert_eq!(
            logical[event_start..],
            [
                "BEGIN:VEVENT",
                "UID:ispo-wg@invitebot.example.org",
                "SEQUENCE:3",
                "DTSTAMP:20261124T120000Z",
                "DTSTART;TZID=America/Los_Angeles:20240506T080000",
                "DTEND;TZID=America/Los_Angeles:20240506T090000",
                "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
                "EXDATE;TZID=America/Los_Angeles:20241230T080000",
                "EXDATE;TZID=America/Los_Angeles:20251229T080000",
                "SUMMARY:ISPO Working Group",
                "DESCRIPTION:Agenda: https://example.org/agenda\\nBring questions.",
                "LOCATION:https://meet.example.org/ispo",
                "ORGANIZER;CN=\"ISPO Working Group\":mailto:ispo-wg@example.org",
                "ATTENDEE;CN=\"Ada Lovelace\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ada@example.org",
                "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
                "END:VCALENDAR",
            ]
        );

        // The same, through the parser.
        let method: Vec<_> = cal
            .properties
            .iter()
            .filter(|p| p.name.as_str() == "METHOD")
            .collect();
        assert_eq!(method.len(), 1);
        assert_eq!(method[0].val.as_str(), "REQUEST");
        let ev = vevent(&cal);
        assert_eq!(value(ev, "UID"), "ispo-wg@invitebot.example.org");
        assert_eq!(value(ev, "SEQUENCE"), "3");
        assert_eq!(
            value(ev, "DESCRIPTION"),
            "Agenda: https://example.org/agenda\nBring questions."
        );
        let dtstart = props(ev, "DTSTART")[0];
        assert_eq!(
            param(dtstart, "TZID").as_deref(),
            Some("America/Los_Angeles")
        );
        assert_eq!(dtstart.val.as_str(), "20240506T080000");
        assert_eq!(props(ev, "EXDATE").len(), 2);
        let attendees = props(ev, "ATTENDEE");
        assert_eq!(attendees.len(), 1);
        assert_eq!(attendees[0].val.as_str(), "mailto:ada@example.org");
        assert_eq!(param(attendees[0], "CN").as_deref(), Some("Ada Lovelace"));
        assert_eq!(param(attendees[0], "RSVP").as_deref(), Some("TRUE"));
        let vtz: Vec<_> = cal
            .components
            .iter()
            .filter(|c| c.name.as_str() == "VTIMEZONE")
            .collect();
        assert_eq!(vtz.len(), 1);
        assert_eq!(value(vtz[0], "TZID"), "America/Los_Angeles");
    }

    #[test]
    fn cancel_uses_cancel_and_cancelled() {
        let f = Fixture::new();
        let invitation = Invitation {
            method: Method::Cancel,
            sequence: 4,
            ..f.invitation()
        };
        let ics = invitation.to_ics();
        let (_, cal) = parse(&ics);
        let method: Vec<_> = cal
            .properties
            .iter()
            .filter(|p| p.name.as_str() == "METHOD")
            .collect();
        assert_eq!(method[0].val.as_str(), "CANCEL");
        let ev = vevent(&cal);
        assert_eq!(value(ev, "STATUS"), "CANCELLED");
        assert_eq!(value(ev, "SEQUENCE"), "4");
        assert_eq!(value(ev, "UID"), "ispo-wg@invitebot.example.org");
        assert_eq!(
            param(props(ev, "ATTENDEE")[0], "RSVP").as_deref(),
            Some("FALSE")
        );
        assert_eq!(Method::Cancel.as_str(), "CANCEL");
        assert_eq!(Method::Request.as_str(), "REQUEST");
    }

    #[test]
    fn no_location_no_line_and_output_is_deterministic() {
        let f = Fixture::new();
        for location in [None, Some(""), Some("  ")] {
            let ics = Invitation {
                location,
                ..f.invitation()
            }
            .to_ics();
            assert!(!ics.contains("LOCATION"));
        }
        assert_eq!(f.invitation().to_ics(), f.invitation().to_ics());
    }

    #[test]
    fn hostile_text_cannot_change_the_structure() {
        let hostile_names = [
            "Eve\r\nATTENDEE:mailto:x@evil.org",
            "\"Lovelace, Ada\"",
            "a;b:c",
            "x\";ROLE=CHAIR;X=\"",
            "Mallory\nEND:VEVENT\nBEGIN:VEVENT",
            "tab\tand\u{0}nul\u{85}nel\u{2028}ls",
            "\"",
            "",
            &"長い名前😀".repeat(30),
        ];
        let hostile_texts = [
            "Eve\r\nATTENDEE:mailto:x@evil.org",
            "a;b:c,d\\e",
            "\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:other",
            "trailing backslash \\",
            "\\n literally",
            &"会議😀\\;,".repeat(40),
            &format!("{}\\", "x".repeat(60)),
        ];
        let organizer = person("WG", "wg@example.org");
        let schedule = crate::core::calendar::schedule::tests::la_series();
        for name in hostile_names {
            for text in hostile_texts {
                let attendee = person(name, "ada@example.org");
                let invitation = Invitation {
                    method: Method::Request,
                    uid: "u1@example.org",
                    sequence: 0,
                    dtstamp: "2026-11-24T12:00:00Z".parse().unwrap(),
                    summary: text,
                    description: text,
                    location: Some(text),
                    organizer: &organizer,
                    attendee: Some(&attendee),
                    schedule: &schedule,
                };
                let ics = invitation.to_ics();
                let (unfolded, cal) = parse(&ics);
                let ev = vevent(&cal);

                // Exactly one of each property, the expected set, nothing injected.
                let names: Vec<&str> = ev.properties.iter().map(|p| p.name.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "UID",
                        "SEQUENCE",
                        "DTSTAMP",
                        "DTSTART",
                        "DTEND",
                        "RRULE",
                        "EXDATE",
                        "EXDATE",
                        "SUMMARY",
                        "DESCRIPTION",
                        "LOCATION",
                        "ORGANIZER",
                        "ATTENDEE",
                        "STATUS",
                        "TRANSP",
                    ],
                    "{name:?} / {text:?}"
                );
                assert_eq!(value(ev, "UID"), "u1@example.org");
                assert!(ev.components.is_empty());
                let logical: Vec<&str> = unfolded.split_terminator("\r\n").collect();
                assert_eq!(
                    logical
                        .iter()
                        .filter(|l| l.starts_with("BEGIN:VEVENT"))
                        .count(),
                    1
                );

                // TEXT values come back as the input without CR and other controls.
                let expected: String = text
                    .replace('\r', "")
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
                    .collect();
                for p in ["SUMMARY", "DESCRIPTION", "LOCATION"] {
                    assert_eq!(value(ev, p), expected, "{p} of {text:?}");
                }

                // The CN is the name without quotes and controls, always quoted.
                let attendee = props(ev, "ATTENDEE")[0];
                assert_eq!(attendee.val.as_str(), "mailto:ada@example.org");
                let cn_expected: String = name
                    .chars()
                    .filter(|c| {
                        *c != '"' && !c.is_control() && !['\u{2028}', '\u{2029}'].contains(c)
                    })
                    .collect();
                let cn_expected = cn_expected.trim();
                assert_eq!(
                    param(attendee, "CN").as_deref(),
                    (!cn_expected.is_empty()).then_some(cn_expected)
                );
                assert_eq!(param(attendee, "ROLE").as_deref(), Some("REQ-PARTICIPANT"));
                let attendee_line = logical.iter().find(|l| l.starts_with("ATTENDEE")).unwrap();
                if !cn_expected.is_empty() {
                    assert!(
                        attendee_line.starts_with(&format!("ATTENDEE;CN=\"{cn_expected}\";ROLE="))
                    );
                }
                assert_eq!(
                    logical.iter().filter(|l| l.starts_with("ATTENDEE")).count(),
                    1
                );
                assert_eq!(
                    logical
                        .iter()
                        .filter(|l| l.starts_with("END:VEVENT"))
                        .count(),
                    1
                );
            }
        }
    }

    #[test]
    fn long_text_is_folded_and_unfolds_to_the_same_value() {
        let f = Fixture::new();
        let summaries = [
            "😀".repeat(100),
            "議題".repeat(80),
            "\\;,\n".repeat(60),
            format!("{}é", "a".repeat(300)),
        ];
        for summary in &summaries {
            let ics = Invitation {
                summary,
                description: summary,
                ..f.invitation()
            }
            .to_ics();
            let physical: Vec<&str> = ics.split_terminator("\r\n").collect();
            assert!(
                physical.iter().any(|l| l.starts_with(' ')),
                "nothing folded"
            );
            for (i, l) in physical.iter().enumerate() {
                if physical
                    .get(i + 1)
                    .is_some_and(|next| next.starts_with(' '))
                {
                    let backslashes = l.bytes().rev().take_while(|&b| b == b'\\').count();
                    assert_eq!(backslashes % 2, 0, "split inside an escape: {l:?}");
                }
            }
            let (_, cal) = parse(&ics);
            assert_eq!(value(vevent(&cal), "SUMMARY"), *summary);
            assert_eq!(value(vevent(&cal), "DESCRIPTION"), *summary);
        }
    }

    #[test]
    fn event_times_per_zone() {
        // (zone, first, minutes, interval, skips, DTEND, RRULE)
        let cases = [
            (
                "Europe/Berlin",
                datetime(2025, 1, 7, 18, 0, 0, 0),
                90,
                1,
                vec![date(2025, 12, 30)],
                "20250107T193000",
                "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU",
            ),
            (
                "Asia/Kolkata",
                datetime(2025, 1, 9, 23, 30, 0, 0),
                60,
                3,
                vec![],
                "20250110T003000",
                "FREQ=WEEKLY;INTERVAL=3;BYDAY=TH",
            ),
            (
                "Australia/Sydney",
                datetime(2025, 10, 12, 1, 30, 0, 0),
                120,
                1,
                vec![],
                "20251012T033000",
                "FREQ=WEEKLY;INTERVAL=1;BYDAY=SU",
            ),
            (
                "UTC",
                datetime(2025, 1, 1, 0, 0, 0, 0),
                1440,
                1,
                vec![date(2025, 1, 8)],
                "20250102T000000",
                "FREQ=WEEKLY;INTERVAL=1;BYDAY=WE",
            ),
        ];
        for (tz, first, minutes, interval, skip, dtend, rrule) in cases {
            let schedule = Schedule::new(tz, first, minutes, interval, skip.clone()).unwrap();
            let f = Fixture::new();
            let ics = Invitation {
                schedule: &schedule,
                ..f.invitation()
            }
            .to_ics();
            let (unfolded, cal) = parse(&ics);
            let ev = vevent(&cal);
            let line = |name: &str| -> String {
                unfolded
                    .split("\r\n")
                    .find(|l| l.starts_with(name))
                    .unwrap()
                    .to_string()
            };
            assert_eq!(
                line("DTSTART;"),
                format!("DTSTART;TZID={tz}:{}", format_local(first))
            );
            assert_eq!(line("DTEND;"), format!("DTEND;TZID={tz}:{dtend}"));
            assert_eq!(value(ev, "RRULE"), rrule);
            let exdates: Vec<String> = props(ev, "EXDATE")
                .iter()
                .map(|p| p.val.as_str().to_string())
                .collect();
            let expected: Vec<String> = skip
                .iter()
                .map(|d| format_local(d.to_datetime(first.time())))
                .collect();
            assert_eq!(exdates, expected);
            for p in props(ev, "EXDATE") {
                assert_eq!(param(p, "TZID").as_deref(), Some(tz));
            }
        }
    }

    #[test]
    fn the_vtimezone_in_the_invitation_matches_the_tz_database() {
        let may_2024 = datetime(2024, 5, 6, 8, 0, 0, 0);
        for (tz, first) in [
            ("America/Los_Angeles", may_2024),
            ("Europe/Berlin", may_2024),
            ("Australia/Sydney", may_2024),
            ("Asia/Kolkata", may_2024),
            ("Africa/Casablanca", may_2024),
            // First meeting while São Paulo still had DST (dropped in 2019).
            ("America/Sao_Paulo", datetime(2018, 6, 4, 8, 0, 0, 0)),
            ("Asia/Tehran", datetime(2021, 6, 7, 8, 0, 0, 0)),
        ] {
            let schedule = Schedule::new(tz, first, 60, 2, vec![]).unwrap();
            let f = Fixture::new();
            let invitation = Invitation {
                schedule: &schedule,
                ..f.invitation()
            };
            let ics = invitation.to_ics();
            let (tzid, interp) = Interpreter::new(&ics, 2045);
            assert_eq!(tzid, tz);
            let from = schedule.first_occurrence().start.timestamp();
            // At least 3 years past DTSTAMP, as the checklist asks (10 in fact).
            let until = invitation.dtstamp + SignedDuration::from_hours(10 * 8766);
            compare_with_tz(&interp, schedule.time_zone(), from, until, tz);
        }
    }

    /// DTSTART, DTEND and every EXDATE, read through the calendar's own VTIMEZONE the way a
    /// client does, are the instants the tz database gives for those meetings.
    #[test]
    fn dtstart_dtend_and_exdates_read_back_through_the_vtimezone() {
        // (zone, first, minutes, interval, skips)
        let cases = [
            (
                "America/Los_Angeles",
                datetime(2024, 5, 6, 8, 0, 0, 0),
                60,
                2,
                vec![date(2024, 11, 4), date(2025, 3, 10)],
            ),
            // Before and after São Paulo's last DST season (2018-11-04 → 2019-02-17).
            (
                "America/Sao_Paulo",
                datetime(2018, 6, 4, 8, 0, 0, 0),
                60,
                1,
                vec![date(2018, 11, 5), date(2019, 2, 11), date(2019, 11, 4)],
            ),
            // A first meeting in the gap; a skipped date in a later gap.
            (
                "America/Los_Angeles",
                datetime(2027, 3, 14, 2, 30, 0, 0),
                60,
                1,
                vec![date(2028, 3, 12), date(2027, 11, 7)],
            ),
            // A first meeting in the fold; skips in the next gap and fold.
            (
                "Europe/Berlin",
                datetime(2025, 10, 26, 2, 30, 0, 0),
                30,
                1,
                vec![date(2026, 3, 29), date(2026, 10, 25)],
            ),
            (
                "Australia/Lord_Howe",
                datetime(2025, 10, 5, 2, 10, 0, 0),
                45,
                1,
                vec![date(2026, 4, 5), date(2026, 10, 4)],
            ),
            (
                "Asia/Kathmandu",
                datetime(2025, 1, 9, 23, 30, 0, 0),
                60,
                3,
                vec![date(2025, 1, 30)],
            ),
        ];
        for (tz, first, minutes, interval, skip) in cases {
            let schedule = Schedule::new(tz, first, minutes, interval, skip.clone()).unwrap();
            let unskipped = Schedule::new(tz, first, minutes, interval, vec![]).unwrap();
            let f = Fixture::new();
            let ics = Invitation {
                schedule: &schedule,
                ..f.invitation()
            }
            .to_ics();
            let (_, cal) = parse(&ics);
            let (_, interp) = Interpreter::new(&ics, 2045);
            let ev = vevent(&cal);
            let read = |p: &Property<'_>| {
                assert_eq!(param(p, "TZID").as_deref(), Some(tz));
                let local = super::super::vtimezone::tests::parse_local(p.val.as_str());
                interp.resolve_local(local)
            };
            // DTSTART is the first meeting without a DST problem; the ones before it are RDATEs.
            let start = schedule.calendar_start_occurrence();
            assert_eq!(
                read(props(ev, "DTSTART")[0]),
                Some(start.start.timestamp()),
                "{tz} DTSTART"
            );
            assert_eq!(
                read(props(ev, "DTEND")[0]),
                Some(start.end.timestamp()),
                "{tz} DTEND"
            );
            assert!(props(ev, "DURATION").is_empty());
            let rdates: Vec<String> = props(ev, "RDATE")
                .iter()
                .map(|p| p.val.as_str().to_string())
                .collect();
            let held_before: Vec<String> = schedule
                .held_before_calendar_start()
                .iter()
                .map(|o| format_utc(o.start.timestamp()))
                .collect();
            assert_eq!(rdates, held_before, "{tz} RDATE");
            if schedule.first_meeting_note().is_some() {
                assert_eq!(
                    rdates.len(),
                    1,
                    "{tz}: the first meeting is listed on its own"
                );
            }
            // The local EXDATEs (a gap day's second one, in UTC, is checked on its own).
            let exdates: Vec<Option<Timestamp>> = props(ev, "EXDATE")
                .into_iter()
                .filter(|p| param(p, "TZID").is_some())
                .map(read)
                .collect();
            for utc in props(ev, "EXDATE")
                .into_iter()
                .filter(|p| param(p, "TZID").is_none())
            {
                let value = utc.val.as_str();
                assert!(
                    schedule.cancelled_dates().any(|d| {
                        let note = schedule.dst_note_on(d);
                        note.is_some_and(|n| format_utc(n.actual_start.timestamp()) == value)
                    }),
                    "{tz}: {value}"
                );
            }
            let expected: Vec<Option<Timestamp>> = schedule
                .cancelled_dates()
                .filter(|&day| day >= schedule.calendar_start().date())
                .map(|day| {
                    let midnight = day.to_zoned(schedule.time_zone().clone()).unwrap();
                    let o = &unskipped.next_occurrences(midnight.timestamp(), 1)[0];
                    assert_eq!(o.start.date(), day);
                    Some(o.start.timestamp())
                })
                .collect();
            assert_eq!(exdates, expected, "{tz} EXDATE");
        }
    }

    #[test]
    fn a_first_meeting_with_a_dst_problem_is_an_rdate_and_dtstart_is_the_next_clean_one() {
        // 00:30 PDT + 90 min = 01:00 PST, the second 01:00 of 2026-11-01: `DTEND;TZID=…T010000`
        // would read as the first one. The series' DTSTART is the next meeting, whose DTEND
        // says its length for every meeting; the first one is an RDATE in UTC.
        let f = Fixture::new();
        let cases = [
            (
                datetime(2026, 11, 1, 0, 30, 0, 0),
                90,
                "20261108T003000",
                "20261108T020000",
                "20261101T073000Z",
            ),
            // In the gap (02:30 does not exist on 2027-03-14): held at 03:30 PDT.
            (
                datetime(2027, 3, 14, 2, 30, 0, 0),
                60,
                "20270321T023000",
                "20270321T033000",
                "20270314T103000Z",
            ),
            // Across the change: 01:30 PST – 03:30 PDT.
            (
                datetime(2027, 3, 14, 1, 30, 0, 0),
                60,
                "20270321T013000",
                "20270321T023000",
                "20270314T093000Z",
            ),
        ];
        for (first, minutes, dtstart, dtend, rdate) in cases {
            let schedule = Schedule::new("America/Los_Angeles", first, minutes, 1, vec![]).unwrap();
            let ics = Invitation {
                schedule: &schedule,
                ..f.invitation()
            }
            .to_ics();
            let (_, cal) = parse(&ics);
            let ev = vevent(&cal);
            assert!(props(ev, "DURATION").is_empty(), "{ics}");
            assert_eq!(value(ev, "DTSTART"), dtstart);
            assert_eq!(value(ev, "DTEND"), dtend);
            assert_eq!(value(ev, "RDATE"), rdate);
        }
        // Ending in the fold, even its first half, is a DST problem too (`check` lists it).
        let schedule = Schedule::new(
            "America/Los_Angeles",
            datetime(2026, 11, 1, 0, 30, 0, 0),
            60,
            1,
            vec![],
        )
        .unwrap();
        let ics = Invitation {
            schedule: &schedule,
            ..f.invitation()
        }
        .to_ics();
        let (_, cal) = parse(&ics);
        assert_eq!(value(vevent(&cal), "DTSTART"), "20261108T003000");
        assert_eq!(value(vevent(&cal), "DTEND"), "20261108T013000");
        assert_eq!(value(vevent(&cal), "RDATE"), "20261101T073000Z");
    }

    fn changed_schedule() -> Schedule {
        use super::super::schedule::{Change, Exception, ScheduleSpec};
        Schedule::from_spec(ScheduleSpec {
            tz_name: "America/Los_Angeles",
            first: datetime(2024, 5, 6, 8, 0, 0, 0),
            duration_minutes: 60,
            interval_weeks: 2,
            skip: vec![date(2024, 12, 30)],
            exceptions: vec![
                Exception {
                    date: date(2026, 12, 28),
                    change: Change::Cancelled,
                    note: Some("Holidays".into()),
                },
                Exception {
                    date: date(2027, 1, 11),
                    change: Change::Moved {
                        to: datetime(2027, 1, 12, 9, 30, 0, 0),
                    },
                    note: Some("Room taken, a day later".into()),
                },
            ],
            until: Some(date(2027, 6, 30)),
        })
        .unwrap()
    }

    #[test]
    fn a_moved_meeting_is_an_override_with_the_same_uid_and_a_cancelled_one_an_exdate() {
        let f = Fixture::new();
        let schedule = changed_schedule();
        let ics = Invitation {
            schedule: &schedule,
            ..f.invitation()
        }
        .to_ics();
        let (unfolded, cal) = parse(&ics);
        let events: Vec<&Component<'_>> = cal
            .components
            .iter()
            .filter(|c| c.name.as_str() == "VEVENT")
            .collect();
        assert_eq!(events.len(), 2, "{ics}");
        let (series, moved) = (events[0], events[1]);
        assert_eq!(
            value(series, "RRULE"),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20270701T065959Z"
        );
        let exdates: Vec<String> = props(series, "EXDATE")
            .iter()
            .map(|p| p.val.as_str().to_string())
            .collect();
        assert_eq!(exdates, ["20241230T080000", "20261228T080000"]);
        assert!(props(series, "RECURRENCE-ID").is_empty());
        // The override: same UID and SEQUENCE, the usual start as RECURRENCE-ID (same TZID and
        // local time as DTSTART), the new times, the note in its description.
        for name in [
            "UID",
            "SEQUENCE",
            "DTSTAMP",
            "SUMMARY",
            "LOCATION",
            "ORGANIZER",
            "ATTENDEE",
            "STATUS",
        ] {
            assert_eq!(value(moved, name), value(series, name), "{name}");
        }
        let line = |prefix: &str| {
            unfolded
                .split("\r\n")
                .filter(|l| l.starts_with(prefix))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            line("RECURRENCE-ID"),
            ["RECURRENCE-ID;TZID=America/Los_Angeles:20270111T080000"]
        );
        assert_eq!(
            line("DTSTART;"),
            [
                "DTSTART;TZID=America/Los_Angeles:20240506T080000",
                "DTSTART;TZID=America/Los_Angeles:20270112T093000"
            ]
        );
        assert_eq!(
            line("DTEND;")[1],
            "DTEND;TZID=America/Los_Angeles:20270112T103000"
        );
        assert_eq!(
            value(moved, "DESCRIPTION"),
            "Moved from Monday 11 January 2027, 08:00 PST. Room taken, a day later\n\nAgenda: \
             https://example.org/agenda\nBring questions."
        );
        assert!(props(moved, "RRULE").is_empty() && props(moved, "EXDATE").is_empty());

        // The CANCEL cancels the series as a whole: no override.
        let cancel = Invitation {
            method: Method::Cancel,
            schedule: &schedule,
            ..f.invitation()
        }
        .to_ics();
        assert_eq!(cancel.matches("BEGIN:VEVENT").count(), 1, "{cancel}");
        assert!(cancel.contains("STATUS:CANCELLED"));
    }

    #[test]
    fn a_skipped_meeting_in_a_gap_gets_a_second_exdate_in_utc() {
        // Sundays 02:30 in Los Angeles; 2026-03-08 has no 02:30 (held 03:30 PDT = 10:30Z).
        let schedule = Schedule::new(
            "America/Los_Angeles",
            datetime(2026, 1, 4, 2, 30, 0, 0),
            60,
            1,
            vec![date(2026, 3, 8), date(2026, 11, 1), date(2026, 1, 11)],
        )
        .unwrap();
        let ics = ics_of(&schedule);
        let (_, cal) = parse(&ics);
        let exdates: Vec<String> = props(vevent(&cal), "EXDATE")
            .iter()
            .map(|p| p.val.as_str().to_string())
            .collect();
        // Only the gap day gets one (02:30 exists once on 2026-11-01; a fold day would not get
        // one either: every reader matches its local EXDATE there).
        assert_eq!(
            exdates,
            [
                "20260111T023000",
                "20260308T023000",
                "20260308T103000Z",
                "20261101T023000"
            ]
        );
    }

    #[test]
    fn a_meeting_moved_off_a_gap_day_names_its_usual_wall_time() {
        use super::super::schedule::{Change, Exception, ScheduleSpec};
        // Sundays 02:30 in Los Angeles; 2026-03-08 has no 02:30 (held 03:30 PDT): moved to noon.
        let schedule = Schedule::from_spec(ScheduleSpec {
            tz_name: "America/Los_Angeles",
            first: datetime(2026, 1, 4, 2, 30, 0, 0),
            duration_minutes: 60,
            interval_weeks: 1,
            skip: Vec::new(),
            exceptions: vec![Exception {
                date: date(2026, 3, 8),
                change: Change::Moved {
                    to: datetime(2026, 3, 8, 12, 0, 0, 0),
                },
                note: None,
            }],
            until: None,
        })
        .unwrap();
        let ics = ics_of(&schedule);
        let (unfolded, _) = parse(&ics);
        // As the RRULE makes that occurrence (each reader resolves both the same way), not the
        // 03:30 it would be held at; and no UTC EXDATE (recurring-ical-events would then drop
        // the override too).
        assert!(
            unfolded.contains("\r\nRECURRENCE-ID;TZID=America/Los_Angeles:20260308T023000\r\n"),
            "{ics}"
        );
        assert!(!unfolded.contains("EXDATE"), "{ics}");
    }
}
