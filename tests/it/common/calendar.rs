//! Reading the calendars the tests receive: unfolded fields, and the occurrences an independent
//! parser (Python's `icalendar` + `recurring-ical-events`, via `scripts/ics-occurrences.py`)
//! expands from them.

use std::process::Command;

/// The unfolded content lines of an iCalendar text.
pub fn unfolded_lines(ics: &str) -> Vec<String> {
    ics.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The value of the first property `name` (e.g. `SEQUENCE`, `DTSTART`), parameters dropped.
pub fn ics_value(ics: &str, name: &str) -> Option<String> {
    unfolded_lines(ics).into_iter().find_map(|line| {
        let (head, value) = line.split_once(':')?;
        let property = head.split(';').next()?;
        (property == name).then(|| value.to_string())
    })
}

/// The whole first line of property `name` in the VEVENT (not the VTIMEZONE), parameters
/// included.
pub fn ics_line(ics: &str, name: &str) -> Option<String> {
    unfolded_lines(ics)
        .into_iter()
        .skip_while(|line| line != "BEGIN:VEVENT")
        .find(|line| line.starts_with(&format!("{name}:")) || line.starts_with(&format!("{name};")))
}

/// Every `ATTENDEE` line.
pub fn attendees(ics: &str) -> Vec<String> {
    unfolded_lines(ics)
        .into_iter()
        .filter(|l| l.starts_with("ATTENDEE"))
        .collect()
}

/// The meeting starts (UTC) in `[start, end)` as Python's `icalendar` and
/// `recurring-ical-events` read `ics`; panics with the script's message if it fails (a missing
/// METHOD, ORGANIZER or ATTENDEE, or a VTIMEZONE that disagrees with the tz database).
pub fn python_occurrences(ics: &str, start: &str, end: &str) -> Vec<jiff::Timestamp> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("invite.ics");
    std::fs::write(&file, ics).unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ics-occurrences.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&file)
        .args([start, end])
        .output()
        .expect("python3 runs (pip install -r scripts/requirements.txt)");
    assert!(
        output.status.success(),
        "{}\n{ics}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect()
}
