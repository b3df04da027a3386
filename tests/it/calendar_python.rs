//! The invitation's recurrence, read by independent parsers: Python's `icalendar` and
//! `recurring-ical-events` (through `scripts/ics-occurrences.py`) must expand the same meetings
//! as `Schedule::next_occurrences`, across DST changes and skipped dates, and read the
//! `VTIMEZONE` as the tz database does.
//!
//! Needs `python3` with `pip install icalendar recurring-ical-events`; fails (does not skip)
//! without them.

use std::path::Path;
use std::process::Command;

use invitebot::core::calendar::{Invitation, Method, Person, Schedule};
use invitebot::core::email_address::EmailAddress;
use jiff::Timestamp;
use jiff::civil::{Date, date, datetime};

const INSTALL: &str = "pip install icalendar recurring-ical-events";

fn python_occurrences(ics: &str, start: Timestamp, end: Timestamp) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invite.ics");
    std::fs::write(&file, ics).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ics-occurrences.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&file)
        .arg(start.to_string())
        .arg(end.to_string())
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): install Python 3, then `{INSTALL}`"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed ({}): {stderr}\n(if a module is missing: `{INSTALL}`)",
        script.display(),
        output.status
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn python_expands_the_same_meetings() {
    // (zone, first meeting, interval, skip dates)
    let cases: [(&str, jiff::civil::DateTime, u32, Vec<Date>); 4] = [
        (
            "America/Los_Angeles",
            datetime(2024, 5, 6, 8, 0, 0, 0),
            2,
            vec![date(2024, 12, 30), date(2025, 11, 3)],
        ),
        (
            "Europe/Berlin",
            datetime(2024, 9, 3, 17, 0, 0, 0),
            1,
            vec![date(2024, 12, 24)],
        ),
        (
            "Australia/Sydney",
            datetime(2024, 9, 25, 9, 30, 0, 0),
            2,
            vec![date(2025, 4, 9)],
        ),
        (
            "Asia/Kolkata",
            datetime(2024, 6, 6, 19, 0, 0, 0),
            3,
            vec![date(2025, 1, 2)],
        ),
    ];
    let organizer = Person {
        name: "ISPO Working Group".into(),
        email: EmailAddress::parse("ispo-wg@example.org").unwrap(),
    };
    let attendee = Person {
        name: "Lovelace, Ada".into(),
        email: EmailAddress::parse("ada@example.org").unwrap(),
    };
    let start: Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
    let end: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
    for (tz, first, interval, skip) in cases {
        let schedule = Schedule::new(tz, first, 60, interval, skip.clone()).unwrap();
        let invitation = Invitation {
            method: Method::Request,
            uid: "ispo-wg@invitebot.example.org",
            sequence: 0,
            dtstamp: "2024-04-20T12:00:00Z".parse().unwrap(),
            summary: "ISPO Working Group",
            description: "Agenda, notes; links\nline two",
            location: Some("https://meet.example.org/ispo"),
            organizer: &organizer,
            attendee: Some(&attendee),
            schedule: &schedule,
        };
        let expected: Vec<String> = schedule
            .next_occurrences(start, 1000)
            .into_iter()
            .map(|o| o.start.timestamp())
            .take_while(|&t| t < end)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect();
        assert!(
            expected.len() >= 30,
            "{tz}: only {} meetings",
            expected.len()
        );
        let got = python_occurrences(&invitation.to_ics(), start, end);
        assert_eq!(got, expected, "{tz}");

        // The skipped meetings are really left out, by both.
        for day in &skip {
            let skipped = day
                .to_datetime(first.time())
                .to_zoned(schedule.time_zone().clone())
                .unwrap()
                .timestamp()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert!(!got.contains(&skipped), "{tz}: {skipped} not skipped");
        }
    }
}

#[test]
fn utc_offsets_move_across_dst_as_python_sees_them() {
    // Los Angeles, the series of the issue: 08:00 local is 16:00Z in winter, 15:00Z in summer.
    let schedule = Schedule::new(
        "America/Los_Angeles",
        datetime(2024, 5, 6, 8, 0, 0, 0),
        60,
        2,
        vec![],
    )
    .unwrap();
    let person = Person {
        name: "Ada".into(),
        email: EmailAddress::parse("ada@example.org").unwrap(),
    };
    let invitation = Invitation {
        method: Method::Request,
        uid: "u@example.org",
        sequence: 1,
        dtstamp: "2026-01-01T00:00:00Z".parse().unwrap(),
        summary: "s",
        description: "",
        location: None,
        organizer: &person,
        attendee: Some(&person),
        schedule: &schedule,
    };
    let got = python_occurrences(
        &invitation.to_ics(),
        "2026-02-20T00:00:00Z".parse().unwrap(),
        "2026-03-20T00:00:00Z".parse().unwrap(),
    );
    assert_eq!(got, ["2026-02-23T16:00:00Z", "2026-03-09T15:00:00Z"]);
}
