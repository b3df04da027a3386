//! The invitation read by the parsers real calendar clients use: ical.js (Thunderbird), libical
//! (Evolution and most Linux clients), vobject (Radicale and other servers) and Python's
//! icalendar + recurring-ical-events, through `scripts/interop/interop.py`.
//!
//! For each zone of [`ZONES`] and each kind of series ([`Kind`]: an ordinary time, a first
//! meeting in a DST gap or fold, one across a clock change), the real code writes the `REQUEST`
//! (with a skipped meeting), the update (`SEQUENCE` + 1: one meeting cancelled with a note, one
//! moved, an end date) and the `CANCEL`; every parser reads each, and every occurrence's UTC
//! start and end over 3 years is compared with a truth the script computes on its own from the
//! series as configured, with Python's zoneinfo. A parser may differ from the truth only in the
//! ways [`KNOWN_FAULTS`] lists for it, each a parser bug on the days the clocks change
//! (documented with evidence in `docs/calendar-interop.md`).
//!
//! The public feed (`PUBLISH`, no `ATTENDEE`) of the updated series is read too: each parser
//! must show exactly the occurrences it shows for the update.
//!
//! A cancelled meeting is an `EXDATE`; the update is also sent with the cancelled meeting as an
//! override with `STATUS:CANCELLED` instead, to show how the parsers take that form.
//!
//! Needs what `scripts/test-deps` installs (libical-dev, node and the harness's npm packages,
//! the pip packages); fails (does not skip) without them.

use crate::common::run_test_script;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use invitebot::core::calendar::{
    Change, Exception, Invitation, Method, Person, Schedule, ScheduleSpec,
};
use invitebot::core::email_address::EmailAddress;
use jiff::civil::{Date, DateTime, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde_json::{Value, json};

/// The zones of the suite: DST in either hemisphere, negative DST (Dublin), +00:00 in winter
/// (London, Dublin, Lisbon), 30- and 45-minute offsets and shifts (Kolkata, Lord Howe, Chatham,
/// St John's), and rule changes inside the window (São Paulo dropped DST in 2019, Tehran in 2022).
const ZONES: &[&str] = &[
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Asia/Tehran",
];

/// The parsers, as the script names them.
const PARSERS: &[&str] = &["ical.js", "libical", "vobject", "recurring-ical-events"];

/// The ways a parser may read a meeting differently from RFC 5545, each only on a day the
/// clocks change (or, for libical, the meeting right after one) and each a bug of that parser
/// (see `docs/calendar-interop.md` for the evidence). The script names them:
/// - `gap-start`: a start time that doesn't exist read with the offset after the gap (01:30
///   instead of 03:30 for 02:30 in Los Angeles);
/// - `fold-start`: a start time that happens twice read as the second one;
/// - `wall-clock-end`: the end taken as start + length on the wall clock, so the meeting grows
///   or shrinks by the clock change;
/// - `after-gap`: the meeting one period after a gap day read at the shifted wall time;
/// - `moved-gap-kept`: a meeting moved off a gap day also still shown at its usual time.
const KNOWN_FAULTS: &[(&str, &[&str])] = &[
    ("ical.js", &["gap-start", "fold-start", "wall-clock-end"]),
    ("libical", &["fold-start", "after-gap", "moved-gap-kept"]),
    ("vobject", &["gap-start"]),
    ("recurring-ical-events", &["wall-clock-end"]),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// 08:00 on Mondays, every other week.
    Ordinary,
    /// Weekly, the first meeting in the middle of a spring-forward gap.
    Gap,
    /// Weekly, the first meeting in the middle of a fall-back fold.
    Fold,
    /// Weekly, the first meeting starting an hour before a spring-forward change and lasting 2.5 h.
    Spans,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Ordinary => "ordinary",
            Kind::Gap => "gap",
            Kind::Fold => "fold",
            Kind::Spans => "spans",
        }
    }
}

/// One series: as configured (what the truth is computed from) and its window.
struct Series {
    zone: &'static str,
    kind: Kind,
    first: DateTime,
    minutes: u32,
    interval: u32,
    skip: Vec<Date>,
    exceptions: Vec<Exception>,
    until: Option<Date>,
}

impl Series {
    /// A series without changes (see [`add_changes`]).
    fn new(zone: &'static str, kind: Kind, first: DateTime, minutes: u32, interval: u32) -> Self {
        Series {
            zone,
            kind,
            first,
            minutes,
            interval,
            skip: Vec::new(),
            exceptions: Vec::new(),
            until: None,
        }
    }

    /// The schedule of the `REQUEST` (skips only), or with the changes of the update.
    fn spec(&self, changed: bool) -> ScheduleSpec<'static> {
        ScheduleSpec {
            tz_name: self.zone,
            first: self.first,
            duration_minutes: self.minutes,
            interval_weeks: self.interval,
            skip: self.skip.clone(),
            exceptions: if changed {
                self.exceptions.clone()
            } else {
                Vec::new()
            },
            until: self.until.filter(|_| changed),
        }
    }

    fn schedule(&self, changed: bool) -> Schedule {
        Schedule::from_spec(self.spec(changed))
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.zone, self.kind.name()))
    }

    fn window(&self) -> (Timestamp, Timestamp) {
        let tz = TimeZone::get(self.zone).unwrap();
        let start = self.first.date().yesterday().unwrap().to_zoned(tz).unwrap();
        let end = start.checked_add(Span::new().years(3)).unwrap();
        (start.timestamp(), end.timestamp())
    }
}

/// The first transition after `after` whose offset goes up (`up`) or down: (its instant, the
/// wall time just before it, the length of the change).
fn transition(tz: &TimeZone, after: Timestamp, up: bool) -> Option<(Timestamp, DateTime, i32)> {
    tz.following(after).take(20).find_map(|t| {
        let before = tz.to_offset(t.timestamp() - SignedDuration::from_secs(1));
        let change = t.offset().seconds() - before.seconds();
        ((change > 0) == up && change != 0).then(|| {
            (
                t.timestamp(),
                before.to_datetime(t.timestamp()),
                change.abs(),
            )
        })
    })
}

/// The series of the suite for one zone.
fn series_for(zone: &'static str) -> Vec<Series> {
    let tz = TimeZone::get(zone).unwrap();
    // São Paulo and Tehran: a window with their last DST seasons and the end of DST.
    let base = match zone {
        "America/Sao_Paulo" => date(2017, 5, 8),
        "Asia/Tehran" => date(2020, 5, 4),
        _ => date(2024, 5, 6),
    };
    let mut out = vec![Series::new(
        zone,
        Kind::Ordinary,
        base.at(8, 0, 0, 0),
        60,
        2,
    )];
    let after = base.to_zoned(tz.clone()).unwrap().timestamp();
    let half = |seconds: i32| SignedDuration::from_secs(i64::from(seconds / 2));
    if let Some((_, wall, length)) = transition(&tz, after, true) {
        out.push(Series::new(zone, Kind::Gap, wall + half(length), 60, 1));
        let before = wall - SignedDuration::from_hours(1);
        out.push(Series::new(zone, Kind::Spans, before, 150, 1));
    }
    if let Some((at, _, length)) = transition(&tz, after, false) {
        // The fold is [at, at + length) in the new offset's wall time.
        let wall = tz.to_offset(at).to_datetime(at);
        out.push(Series::new(zone, Kind::Fold, wall + half(length), 60, 1));
    }
    for series in &mut out {
        add_changes(series);
    }
    out
}

/// The REQUEST skips a meeting (for a DST series, the next year's one on the same kind of day,
/// so the `EXDATE` is on a gap or fold day); the update cancels one with a note, moves one by a
/// day and an hour (and, for a DST series, the meeting on the kind of day two years on to noon), and ends the series on a meeting date about 2½ years later (so the last
/// meeting is on the `UNTIL` day).
fn add_changes(series: &mut Series) {
    let plain = series.schedule(false);
    let period = i64::from(series.interval) * 7;
    let meeting = |k: i64| {
        series
            .first
            .date()
            .checked_add(Span::new().days(k * period))
            .unwrap()
    };
    let (start, _) = series.window();
    let notes = plain.dst_notes(start, 3);
    let next_year = notes
        .iter()
        .map(|n| n.date)
        .find(|d| d.year() == series.first.year() + 1 && d.month() == series.first.month());
    series.skip = vec![match series.kind {
        Kind::Ordinary => meeting(2),
        _ => next_year.unwrap_or_else(|| meeting(2)),
    }];
    series.exceptions = vec![Exception {
        date: meeting(4),
        change: Change::Cancelled,
        note: Some("Holiday, see you in two weeks".into()),
    }];
    // The first k ≥ 7 whose meeting can move a day and an hour later without a DST problem.
    for k in 7..40 {
        let moved = Exception {
            date: meeting(k),
            change: Change::Moved {
                to: meeting(k).to_datetime(series.first.time()) + SignedDuration::from_hours(25),
            },
            note: Some("Room taken; one day later".into()),
        };
        series.exceptions.push(moved);
        if Schedule::from_spec(series.spec(true)).is_ok() {
            break;
        }
        series.exceptions.pop();
    }
    // A meeting on a DST day moved out of it (what `check` advises): to noon that day.
    let dst_day = notes
        .iter()
        .map(|n| n.date)
        .find(|d| d.year() == series.first.year() + 2 && d.month() == series.first.month());
    if let Some(day) = dst_day.filter(|_| series.kind != Kind::Ordinary) {
        series.exceptions.push(Exception {
            date: day,
            change: Change::Moved {
                to: day.at(12, 0, 0, 0),
            },
            note: Some("Moved out of the clock change".into()),
        });
    }
    series.until = Some(
        series
            .first
            .date()
            .checked_add(Span::new().days(130 * 7))
            .unwrap(),
    );
}

fn person(name: &str, email: &str) -> Person {
    Person {
        name: name.into(),
        email: EmailAddress::parse(email).unwrap(),
    }
}

/// One message of one series, written to `dir`; returns its manifest entry.
fn message(dir: &Path, series: &Series, method: Method, sequence: u32, changed: bool) -> Value {
    let schedule = series.schedule(changed);
    let organizer = person("Interop Working Group", "wg@example.org");
    let attendee = person("Lovelace, Ada", "ada@example.org");
    let uid = format!(
        "{}-{}@interop.invitebot",
        series.zone.replace('/', "-").to_lowercase(),
        series.kind.name()
    );
    let (start, _) = series.window();
    let invitation = Invitation {
        method,
        uid: &uid,
        sequence,
        dtstamp: start - SignedDuration::from_hours(24 * 30),
        summary: "Interop Working Group",
        description: "Agenda, notes; links\nline two",
        location: Some("https://meet.example.org/interop"),
        organizer: &organizer,
        attendee: Some(&attendee).filter(|_| method != Method::Publish),
        schedule: &schedule,
    };
    let label = match (method, changed) {
        (Method::Request, false) => "request",
        (Method::Request, true) => "update",
        (Method::Publish, _) => "feed",
        (Method::Cancel, _) => "cancel",
    };
    let name = format!(
        "{}-{}-{label}",
        series.zone.replace('/', "_"),
        series.kind.name()
    );
    let file = dir.join(format!("{name}.ics"));
    let ics = invitation.to_ics();
    assert_eq!(
        ics.contains("ATTENDEE"),
        method != Method::Publish,
        "{name}"
    );
    std::fs::write(&file, ics).unwrap();
    entry(&name, &file, series, changed, method, &uid, sequence)
}

fn entry(
    name: &str,
    file: &Path,
    series: &Series,
    changed: bool,
    method: Method,
    uid: &str,
    sequence: u32,
) -> Value {
    let (start, end) = series.window();
    let exceptions: Vec<Value> = if changed {
        series
            .exceptions
            .iter()
            .map(|e| match e.change {
                Change::Cancelled => json!({"date": e.date.to_string(), "cancel": true}),
                Change::Moved { to } => {
                    json!({"date": e.date.to_string(), "move_to": to.strftime("%Y-%m-%dT%H:%M").to_string()})
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    json!({
        "name": name,
        "file": file,
        "zone": series.zone,
        "first": series.first.strftime("%Y-%m-%dT%H:%M").to_string(),
        "duration_minutes": series.minutes,
        "interval_weeks": series.interval,
        "skip": series.skip.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "exceptions": exceptions,
        "until": if changed { series.until.map(|d| d.to_string()) } else { None },
        "window": [start.as_second(), end.as_second()],
        "expect": {
            "method": method.as_str(),
            "uid": uid,
            "sequence": sequence,
            "status": if method == Method::Cancel { "CANCELLED" } else { "CONFIRMED" },
        },
    })
}

/// The update with its cancelled meeting as an override with `STATUS:CANCELLED` instead of an
/// `EXDATE`: the form not chosen, read to show why.
fn cancelled_as_override(dir: &Path, series: &Series, update: &Value) -> Value {
    let file = PathBuf::from(update["file"].as_str().unwrap());
    let ics = std::fs::read_to_string(&file).unwrap();
    let cancelled = series
        .exceptions
        .iter()
        .find(|e| e.change == Change::Cancelled)
        .unwrap();
    let local = cancelled
        .date
        .to_datetime(series.first.time())
        .strftime("%Y%m%dT%H%M%S")
        .to_string();
    let exdate = format!("EXDATE;TZID={}:{local}\r\n", series.zone);
    assert!(ics.contains(&exdate), "{exdate} missing in\n{ics}");
    let master_start = ics.find("BEGIN:VEVENT").unwrap();
    let master_end = ics[master_start..].find("END:VEVENT\r\n").unwrap() + master_start + 12;
    let master = ics[master_start..master_end].replace(&exdate, "");
    let mut single: Vec<String> = Vec::new();
    for line in master.split_inclusive("\r\n") {
        if ["DTSTART;", "DTEND;"].iter().any(|p| line.starts_with(p)) {
            let (name, _) = line.split_once(';').unwrap();
            let end = cancelled.date.to_datetime(series.first.time())
                + SignedDuration::from_mins(i64::from(series.minutes));
            let value = if name == "DTSTART" {
                local.clone()
            } else {
                end.strftime("%Y%m%dT%H%M%S").to_string()
            };
            if name == "DTSTART" {
                single.push(format!("RECURRENCE-ID;TZID={}:{local}\r\n", series.zone));
            }
            single.push(format!("{name};TZID={}:{value}\r\n", series.zone));
        } else if ["RRULE:", "RDATE", "EXDATE"]
            .iter()
            .any(|p| line.starts_with(p))
        {
            // Short lines, never folded: left out of the single meeting.
        } else if line == "STATUS:CONFIRMED\r\n" {
            single.push("STATUS:CANCELLED\r\n".into());
        } else {
            single.push(line.to_string());
        }
    }
    let rewritten = format!(
        "{}{master}{}{}",
        &ics[..master_start],
        single.concat(),
        &ics[master_end..]
    );
    let name = format!("{}-override", update["name"].as_str().unwrap());
    let file = dir.join(format!("{name}.ics"));
    std::fs::write(&file, rewritten).unwrap();
    let mut entry = update.clone();
    entry["name"] = json!(name);
    entry["file"] = json!(file);
    entry["variant"] = json!("cancelled-override");
    entry
}

fn run_script(manifest: &Path, report: &Path) {
    run_test_script(
        "python3",
        "scripts/interop/interop.py",
        &[manifest.as_os_str(), report.as_os_str()],
    );
}

#[test]
fn every_parser_reads_every_occurrence_in_every_zone() {
    // INVITEBOT_INTEROP_DIR keeps the files, the manifest and the report (for the evidence in
    // docs/calendar-interop.md); by default they go to a temporary folder.
    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("INVITEBOT_INTEROP_DIR").map(PathBuf::from);
    if let Some(kept) = &kept {
        std::fs::create_dir_all(kept).unwrap();
    }
    let dir = kept.as_deref().unwrap_or(temporary.path());
    let mut cases = Vec::new();
    let mut all_series = Vec::new();
    for zone in ZONES {
        for series in series_for(zone) {
            cases.push(message(dir, &series, Method::Request, 0, false));
            let update = message(dir, &series, Method::Request, 1, true);
            if series.kind == Kind::Ordinary {
                cases.push(cancelled_as_override(dir, &series, &update));
            }
            cases.push(update);
            cases.push(message(dir, &series, Method::Publish, 0, true));
            cases.push(message(dir, &series, Method::Cancel, 2, true));
            all_series.push(series);
        }
    }
    let manifest = dir.join("manifest.json");
    std::fs::write(&manifest, json!({ "cases": cases }).to_string()).unwrap();
    let report_path = dir.join("report.json");
    run_script(&manifest, &report_path);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    check_report(&report);
    check_feeds_show_the_updates_occurrences(&report);
}

/// Every parser shows the same occurrences for a series' public feed as for its update (the
/// invitation members hold).
fn check_feeds_show_the_updates_occurrences(report: &Value) {
    let cases = report["cases"].as_array().unwrap();
    let by_name = |name: &str| cases.iter().find(|c| c["name"] == name);
    let mut compared = 0;
    for feed in cases {
        let name = feed["name"].as_str().unwrap();
        let Some(series) = name.strip_suffix("-feed") else {
            continue;
        };
        let update = by_name(&format!("{series}-update")).expect("each feed has its update");
        for parser in PARSERS {
            let shown = |case: &Value| case["results"][parser]["shown"].clone();
            assert!(
                shown(feed).as_array().is_some_and(|s| !s.is_empty()),
                "{name} / {parser}: no occurrence read"
            );
            assert_eq!(shown(feed), shown(update), "{name} / {parser}");
            compared += 1;
        }
    }
    let updates = cases
        .iter()
        .filter(|c| c["name"].as_str().unwrap().ends_with("-update"))
        .count();
    assert_eq!(compared, updates * PARSERS.len(), "a feed for every series");
}

/// One zone × parser: [ordinary series, series with DST problems] × (right, read wrong by a
/// known parser bug, compared).
type Cell = [(u64, u64, u64); 2];

/// Fails on anything a parser got wrong, or read wrong in a way not listed as its known fault;
/// prints the zone × parser table.
fn check_report(report: &Value) {
    let mut problems = Vec::new();
    let mut table: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
    for case in report["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let is_override = name.ends_with("-override");
        for parser in PARSERS {
            let result = &case["results"][parser];
            for wrong in result["wrong"].as_array().unwrap() {
                problems.push(format!("{name} / {parser}: {}", wrong.as_str().unwrap()));
            }
            let allowed = KNOWN_FAULTS
                .iter()
                .find(|(p, _)| p == parser)
                .map_or(&[][..], |(_, kinds)| *kinds);
            let mut faults = 0;
            for (kind, count) in result["faults"].as_object().unwrap() {
                faults += count.as_u64().unwrap();
                for part in kind.split('+') {
                    if !allowed.contains(&part) {
                        problems.push(format!(
                            "{name} / {parser}: {count} meeting(s) read with an unexpected fault \
                             {kind}: {}",
                            result["examples"][kind]
                        ));
                    }
                }
            }
            // The cancelled meeting: no parser may show it (as an EXDATE, every parser drops it).
            for (slot, how) in result["cancelled"].as_object().unwrap() {
                let how = how.as_str().unwrap();
                if how == "shown" || (!is_override && how != "absent") {
                    problems.push(format!("{name} / {parser}: cancelled {slot} is {how}"));
                }
            }
            if let Some(truth) = case["truth"].as_u64().filter(|_| !is_override) {
                let right = result["right"].as_u64().unwrap();
                let row = table
                    .entry(case["zone"].as_str().unwrap().to_string())
                    .or_default()
                    .entry(parser.to_string())
                    .or_default();
                let cell = &mut row[usize::from(!name.contains("-ordinary-"))];
                cell.0 += right;
                cell.1 += faults;
                cell.2 += truth;
            }
        }
    }
    println!("parser versions: {}", report["versions"]);
    println!(
        "occurrences read as RFC 5545 says / compared (REQUEST and update), ordinary series; \
         series whose first meeting is in a gap, a fold or across a change (+ read wrong by a \
         known parser bug)"
    );
    println!(
        "| zone | {} |\n|---|{}",
        PARSERS.join(" | "),
        "---|".repeat(PARSERS.len())
    );
    for (zone, row) in &table {
        let cells: Vec<String> = PARSERS
            .iter()
            .map(|p| {
                let [(right, _, total), (dst_right, faults, dst_total)] = row[*p];
                let mut cell = format!("{right}/{total}");
                if dst_total > 0 {
                    cell.push_str(&format!("; {dst_right}/{dst_total}"));
                }
                if faults > 0 {
                    cell.push_str(&format!(" (+{faults})"));
                }
                cell
            })
            .collect();
        println!("| {zone} | {} |", cells.join(" | "));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
