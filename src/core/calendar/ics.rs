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

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::schedule::Schedule;
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
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// One invitation to one attendee for a whole series.
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
    pub attendee: &'a Person,
    pub schedule: &'a Schedule,
}

impl Invitation<'_> {
    /// The full `VCALENDAR` text: CRLF line ends, lines folded at 75 octets.
    pub fn to_ics(&self) -> String {
        let s = self.schedule;
        let tzid = s.tz_name();
        let first = s.first_occurrence();
        let mut lines = ContentLines::new();
        lines.push("BEGIN:VCALENDAR");
        lines.push("VERSION:2.0");
        lines.push(&format!("PRODID:{}", escape_text(PRODID)));
        lines.push(&format!("METHOD:{}", self.method.as_str()));
        lines.push("CALSCALE:GREGORIAN");

        let from = first.start.timestamp();
        let until = from
            .max(self.dtstamp)
            .checked_add(SignedDuration::from_hours(VTIMEZONE_YEARS * 8766))
            .unwrap_or(Timestamp::MAX);
        lines.push_raw(&vtimezone(tzid, s.time_zone(), from, until));

        lines.push("BEGIN:VEVENT");
        lines.push(&format!("UID:{}", escape_text(self.uid)));
        lines.push(&format!("SEQUENCE:{}", self.sequence));
        lines.push(&format!("DTSTAMP:{}", format_utc(self.dtstamp)));
        lines.push(&format!("DTSTART;TZID={tzid}:{}", format_local(s.first())));
        let end = first.end.datetime();
        if first_reading(s.time_zone(), end) == Some(first.end.timestamp()) {
            lines.push(&format!("DTEND;TZID={tzid}:{}", format_local(end)));
        } else {
            // The end is the second of two equal wall times (the first meeting ends inside a
            // fold), which `DTEND;TZID=` cannot say: a reader would take the first one.
            lines.push(&format!("DURATION:PT{}M", s.duration_minutes()));
        }
        lines.push(&format!("RRULE:{}", s.rrule()));
        for date in s.skip() {
            let local = date.to_datetime(s.first().time());
            lines.push(&format!("EXDATE;TZID={tzid}:{}", format_local(local)));
        }
        lines.push(&format!("SUMMARY:{}", escape_text(self.summary)));
        lines.push(&format!("DESCRIPTION:{}", escape_text(self.description)));
        if let Some(location) = self.location.filter(|l| !l.trim().is_empty()) {
            lines.push(&format!("LOCATION:{}", escape_text(location)));
        }
        lines.push(&format!(
            "ORGANIZER{}:{}",
            cn(&self.organizer.name),
            mailto(self.organizer)
        ));
        // No reply is expected to a CANCEL (RFC 5546 §3.2.5).
        let rsvp = match self.method {
            Method::Request => "TRUE",
            Method::Cancel => "FALSE",
        };
        lines.push(&format!(
            "ATTENDEE{};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP={rsvp}:{}",
            cn(&self.attendee.name),
            mailto(self.attendee)
        ));
        let status = match self.method {
            Method::Request => "CONFIRMED",
            Method::Cancel => "CANCELLED",
        };
        lines.push(&format!("STATUS:{status}"));
        lines.push("TRANSP:OPAQUE");
        lines.push("END:VEVENT");
        lines.push("END:VCALENDAR");
        lines.finish()
    }
}

/// The instant a reader takes for a local date-time in `tz` (the earlier one in a fold).
fn first_reading(tz: &TimeZone, local: jiff::civil::DateTime) -> Option<Timestamp> {
    tz.to_ambiguous_timestamp(local).compatible().ok()
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
                attendee: &self.attendee,
                schedule: &self.schedule,
            }
        }
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
                    attendee: &attendee,
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
                datetime(2025, 10, 5, 1, 30, 0, 0),
                120,
                1,
                vec![],
                "20251005T043000",
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
            // Sydney: 01:30 + 2 h crosses the 02:00 → 03:00 change, so the wall clock says 04:30.
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
            let first_meeting = schedule.first_occurrence();
            assert_eq!(
                read(props(ev, "DTSTART")[0]),
                Some(first_meeting.start.timestamp()),
                "{tz} DTSTART"
            );
            match props(ev, "DTEND").first() {
                Some(dtend) => assert_eq!(
                    read(dtend),
                    Some(first_meeting.end.timestamp()),
                    "{tz} DTEND"
                ),
                // Berlin's first meeting, 02:30 CEST + 30 min, ends at the second 02:00.
                None => {
                    assert_eq!(
                        (tz, value(ev, "DURATION")),
                        ("Europe/Berlin", format!("PT{minutes}M"))
                    );
                    assert_eq!(
                        first_meeting.end.datetime(),
                        datetime(2025, 10, 26, 2, 0, 0, 0)
                    );
                }
            }
            let exdates: Vec<Option<Timestamp>> =
                props(ev, "EXDATE").into_iter().map(read).collect();
            let expected: Vec<Option<Timestamp>> = schedule
                .skip()
                .iter()
                .map(|day| {
                    let midnight = day.to_zoned(schedule.time_zone().clone()).unwrap();
                    let o = &unskipped.next_occurrences(midnight.timestamp(), 1)[0];
                    assert_eq!(o.start.date(), *day);
                    Some(o.start.timestamp())
                })
                .collect();
            assert_eq!(exdates, expected, "{tz} EXDATE");
        }
    }

    #[test]
    fn a_first_meeting_that_ends_in_the_second_half_of_a_fold_gets_a_duration() {
        // 00:30 PDT + 90 min = 01:00 PST, the second 01:00 of 2026-11-01: DTEND;TZID=…T010000
        // would read as the first one (30 minutes), so the length is given as DURATION.
        let schedule = Schedule::new(
            "America/Los_Angeles",
            datetime(2026, 11, 1, 0, 30, 0, 0),
            90,
            1,
            vec![],
        )
        .unwrap();
        let f = Fixture::new();
        let ics = Invitation {
            schedule: &schedule,
            ..f.invitation()
        }
        .to_ics();
        let (_, cal) = parse(&ics);
        let ev = vevent(&cal);
        assert!(props(ev, "DTEND").is_empty(), "{ics}");
        assert_eq!(value(ev, "DURATION"), "PT90M");
        assert_eq!(value(ev, "DTSTART"), "20261101T003000",);
        // Ending in the first half of the fold is fine as DTEND.
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
        assert_eq!(value(vevent(&cal), "DTEND"), "20261101T013000");
    }
}
