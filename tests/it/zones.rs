//! `invitebot check` in several time zones: the next meetings it prints are compared with an
//! independent expansion (first date + k × interval weeks, converted with jiff directly, the
//! strings formatted by hand), including a skipped date.

use std::path::Path;
use std::process::Command;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};

struct Case {
    zone: &'static str,
    first: &'static str,
    interval_weeks: i64,
    /// The zone's abbreviations by UTC offset in seconds (what `check` must print).
    abbreviations: &'static [(i32, &'static str)],
}

const CASES: &[Case] = &[
    // 17:00 in Los Angeles is 00:00 or 01:00 UTC the next day.
    Case {
        zone: "America/Los_Angeles",
        first: "2024-05-06T17:00",
        interval_weeks: 2,
        abbreviations: &[(-8 * 3600, "PST"), (-7 * 3600, "PDT")],
    },
    Case {
        zone: "Europe/Berlin",
        first: "2024-01-09T08:00",
        interval_weeks: 1,
        abbreviations: &[(3600, "CET"), (2 * 3600, "CEST")],
    },
    Case {
        zone: "Asia/Kolkata",
        first: "2024-06-06T19:30",
        interval_weeks: 3,
        abbreviations: &[(5 * 3600 + 1800, "IST")],
    },
    // 09:00 in Sydney is 22:00 or 23:00 UTC the day before.
    Case {
        zone: "Australia/Sydney",
        first: "2023-02-01T09:00",
        interval_weeks: 1,
        abbreviations: &[(10 * 3600, "AEST"), (11 * 3600, "AEDT")],
    },
];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn weekday_index(weekday: Weekday) -> usize {
    usize::from(weekday.to_monday_zero_offset().unsigned_abs())
}

/// One meeting as `check` prints it: local date-time with the zone's abbreviation, and the UTC
/// time (with its date when that differs from the local date).
fn expected_line(case: &Case, local: DateTime, offset_seconds: i32) -> String {
    let abbreviation = case
        .abbreviations
        .iter()
        .find(|(o, _)| *o == offset_seconds)
        .map(|(_, a)| *a)
        .unwrap_or_else(|| panic!("{}: unexpected offset {offset_seconds}", case.zone));
    let utc = local
        .checked_sub(SignedDuration::from_secs(i64::from(offset_seconds)))
        .unwrap();
    let local_text = format!(
        "{} {} {} {}, {:02}:{:02} {abbreviation}",
        WEEKDAYS[weekday_index(local.weekday())],
        local.day(),
        MONTHS[local.month() as usize - 1],
        local.year(),
        local.hour(),
        local.minute(),
    );
    let utc_text = if utc.date() == local.date() {
        format!("{:02}:{:02} UTC", utc.hour(), utc.minute())
    } else {
        format!(
            "{} {} {} {:02}:{:02} UTC",
            &WEEKDAYS[weekday_index(utc.weekday())][..3],
            utc.day(),
            &MONTHS[utc.month() as usize - 1][..3],
            utc.hour(),
            utc.minute(),
        )
    };
    format!("{local_text} ({utc_text})")
}

/// The meetings starting at or after `now`, skipped dates left out: (local date, printed line).
fn expected_meetings(case: &Case, skip: &[Date], now: Timestamp, n: usize) -> Vec<(Date, String)> {
    let tz = TimeZone::get(case.zone).unwrap();
    let first: DateTime = case.first.parse().unwrap();
    let mut out = Vec::new();
    for k in 0.. {
        let date = first
            .date()
            .checked_add(Span::new().days(k * case.interval_weeks * 7))
            .unwrap();
        let local = date.to_datetime(first.time());
        // The configured times are ordinary wall times (no DST gap or fold).
        let instant = tz.to_ambiguous_timestamp(local).unambiguous().unwrap();
        if instant < now || skip.contains(&date) {
            continue;
        }
        let offset = tz.to_offset(instant).seconds();
        out.push((date, expected_line(case, local, offset)));
        if out.len() == n {
            break;
        }
    }
    out
}

fn write_config(dir: &Path, case: &Case, skip: Date) -> std::path::PathBuf {
    std::fs::write(
        dir.join("roster.toml"),
        "# Members of the zones test series (none yet).\n",
    )
    .unwrap();
    let config = format!(
        r#"[mail]
from = "Zones Test <zones@example.org>"
transport = "file"
dir = "mail"

[storage]
data_dir = "data"

[[series]]
id = "zones"
repo = "example/zones"
title = "Zones test"
timezone = "{zone}"
first = "{first}"
duration_minutes = 60
interval_weeks = {interval}
skip = ["{skip}"]
organizer = {{ name = "Zones Test", email = "zones@example.org" }}
roster = "roster.toml"

[series.match]
labels = ["meeting-invite"]
"#,
        zone = case.zone,
        first = case.first,
        interval = case.interval_weeks,
    );
    let path = dir.join("invitebot.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs `invitebot --config <path> check` without any `INVITEBOT_*` override from the
/// environment; returns stdout.
fn run_check(config: &Path) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invitebot"));
    command.arg("--config").arg(config).arg("check");
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("INVITEBOT_") || name_text == "GITHUB_TOKEN" {
            command.env_remove(&name);
        }
    }
    let output = command.output().expect("run invitebot");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The lines under `  next meetings:`, trimmed.
fn printed_meetings(stdout: &str) -> Vec<String> {
    let mut lines = stdout.lines();
    assert!(
        lines.by_ref().any(|l| l == "  next meetings:"),
        "no `next meetings` heading in\n{stdout}"
    );
    lines
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn check_prints_the_next_meetings_in_each_zone() {
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        // Skip the second upcoming meeting, so the list shows the skip is honoured.
        let skip = expected_meetings(case, &[], now, 2)[1].0;
        let config = write_config(dir.path(), case, skip);
        let stdout = run_check(&config);
        let printed = printed_meetings(&stdout);
        assert!(
            printed.len() >= 3,
            "{}: too few meetings in\n{stdout}",
            case.zone
        );
        let expected: Vec<String> = expected_meetings(case, &[skip], now, printed.len() + 1)
            .into_iter()
            .map(|(_, line)| line)
            .collect();
        // A meeting may have started between `now` and the binary's own clock reading.
        assert!(
            printed[..] == expected[..printed.len()] || printed[..] == expected[1..],
            "{}: printed\n{printed:#?}\nexpected\n{expected:#?}",
            case.zone
        );
        let header = format!(
            "every {} week(s) on {} at {} {}",
            case.interval_weeks,
            WEEKDAYS[weekday_index(case.first.parse::<DateTime>().unwrap().weekday())],
            &case.first[11..],
            case.zone
        );
        assert!(stdout.contains(&header), "{header:?} not in\n{stdout}");
    }
}

/// The independent formatting agrees with known lines (as printed in `texts::when`'s tests and
/// worked out by hand).
#[test]
fn expected_lines_by_hand() {
    let la = &CASES[0];
    let cases = [
        (
            la,
            "2026-11-30T17:00",
            -8 * 3600,
            "Monday 30 November 2026, 17:00 PST (Tue 1 Dec 01:00 UTC)",
        ),
        (
            la,
            "2026-03-23T17:00",
            -7 * 3600,
            "Monday 23 March 2026, 17:00 PDT (Tue 24 Mar 00:00 UTC)",
        ),
        (
            &CASES[2],
            "2026-12-03T19:30",
            19800,
            "Thursday 3 December 2026, 19:30 IST (14:00 UTC)",
        ),
        (
            &CASES[3],
            "2027-01-06T09:00",
            11 * 3600,
            "Wednesday 6 January 2027, 09:00 AEDT (Tue 5 Jan 22:00 UTC)",
        ),
    ];
    for (case, local, offset, expected) in cases {
        assert_eq!(
            expected_line(case, local.parse().unwrap(), offset),
            expected
        );
    }
}
