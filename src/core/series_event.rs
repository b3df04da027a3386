//! What members' calendars hold for a series: the event, either as the config says now or as it
//! was last sent (kept in the state store, so a series removed from the config can still be
//! cancelled and a change can be recognised).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::calendar::{
    Change, Exception, Invitation, Method, Person, Schedule, ScheduleError, ScheduleSpec,
};
use crate::core::email_address::{EmailAddress, InvalidEmail};
use crate::core::series::Series;

/// The calendar event of a series, with the repository (for "how to leave").
#[derive(Debug, Clone)]
pub struct SeriesEvent {
    /// The series id.
    pub series_id: String,
    /// `owner/name` of the repository where members ask to join or leave.
    pub repo: String,
    /// The calendar UID.
    pub uid: String,
    /// SUMMARY.
    pub title: String,
    /// DESCRIPTION.
    pub description: String,
    /// LOCATION.
    pub location: Option<String>,
    /// ORGANIZER.
    pub organizer: Person,
    /// When the meetings happen.
    pub schedule: Schedule,
}

impl SeriesEvent {
    /// The event as the config describes it now.
    pub fn of(series: &Series) -> SeriesEvent {
        SeriesEvent {
            series_id: series.id.clone(),
            repo: series.repo.to_string(),
            uid: series.uid.clone(),
            title: series.title.clone(),
            description: series.description.clone(),
            location: series.location.clone(),
            organizer: series.organizer.clone(),
            schedule: series.schedule.clone(),
        }
    }

    /// The invitation (or cancellation) of this event for one attendee.
    pub fn invitation<'a>(
        &'a self,
        attendee: &'a Person,
        method: Method,
        sequence: u32,
        dtstamp: Timestamp,
    ) -> Invitation<'a> {
        self.calendar(method, Some(attendee), sequence, dtstamp)
    }

    /// The event as a public feed (`METHOD:PUBLISH`): the invitation's events (same UID,
    /// rules, skipped, cancelled and moved meetings, `VTIMEZONE`) with no attendee. Its
    /// `SEQUENCE` is 0: a subscribed calendar replaces the whole feed each time it reads it.
    pub fn feed(&self, dtstamp: Timestamp) -> Invitation<'_> {
        self.calendar(Method::Publish, None, 0, dtstamp)
    }

    fn calendar<'a>(
        &'a self,
        method: Method,
        attendee: Option<&'a Person>,
        sequence: u32,
        dtstamp: Timestamp,
    ) -> Invitation<'a> {
        Invitation {
            method,
            uid: &self.uid,
            sequence,
            dtstamp,
            summary: &self.title,
            description: &self.description,
            location: self.location.as_deref(),
            organizer: &self.organizer,
            attendee,
            schedule: &self.schedule,
        }
    }

    /// The stored form.
    pub fn snapshot(&self) -> EventSnapshot {
        let schedule = &self.schedule;
        EventSnapshot {
            repo: self.repo.clone(),
            uid: self.uid.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            timezone: schedule.tz_name().to_string(),
            first: schedule.first().to_string(),
            duration_minutes: schedule.duration_minutes(),
            interval_weeks: schedule.interval_weeks(),
            skip: schedule
                .exceptions()
                .iter()
                .filter(|e| e.change == Change::Cancelled && e.note.is_none())
                .map(|e| e.date.to_string())
                .collect(),
            organizer_name: self.organizer.name.clone(),
            organizer_email: self.organizer.email.expose().to_string(),
            exceptions: schedule
                .exceptions()
                .iter()
                .filter(|e| e.change != Change::Cancelled || e.note.is_some())
                .map(ExceptionSnapshot::of)
                .collect(),
            until: schedule.until().map(|d| d.to_string()),
            calendar_start: schedule
                .first_meeting_note()
                .map(|_| schedule.calendar_start().to_string()),
        }
    }
}

/// The fields of a [`SeriesEvent`] as stored: plain values, stable JSON.
///
/// Fields added after the first release are left out of the JSON while they are empty, and
/// read as empty when missing: a series without them keeps the JSON, and so the fingerprint, it
/// had (no update is sent because invitebot was upgraded), and an older database still reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSnapshot {
    repo: String,
    uid: String,
    title: String,
    description: String,
    location: Option<String>,
    timezone: String,
    first: String,
    duration_minutes: u32,
    interval_weeks: u32,
    /// Cancelled meetings without a note (`skip`).
    skip: Vec<String>,
    organizer_name: String,
    organizer_email: String,
    /// Moved meetings, and cancelled ones with a note.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exceptions: Vec<ExceptionSnapshot>,
    /// The series' last date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<String>,
    /// The calendar's `DTSTART` when the first meeting has a DST problem (so `DTSTART` is a
    /// later meeting): derived, not read back, but part of the fingerprint, so the members of a
    /// series sent before `DTSTART` was chosen this way get one update with the corrected one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    calendar_start: Option<String>,
}

/// One [`Exception`] as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ExceptionSnapshot {
    date: String,
    /// The new local date-time; `None`: cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    move_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl ExceptionSnapshot {
    fn of(exception: &Exception) -> ExceptionSnapshot {
        ExceptionSnapshot {
            date: exception.date.to_string(),
            move_to: match exception.change {
                Change::Cancelled => None,
                Change::Moved { to } => Some(to.to_string()),
            },
            note: exception.note.clone(),
        }
    }

    fn parse(&self) -> Result<Exception, jiff::Error> {
        Ok(Exception {
            date: self.date.parse()?,
            change: match &self.move_to {
                None => Change::Cancelled,
                Some(to) => Change::Moved { to: to.parse()? },
            },
            note: self.note.clone(),
        })
    }
}

/// A stored event that can no longer be read (written by another version, or edited by hand).
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Not the JSON we write.
    #[error("the stored event is not readable: {0}")]
    Json(#[from] serde_json::Error),
    /// A date-time that doesn't parse.
    #[error("the stored event has an invalid date: {0}")]
    Date(#[from] jiff::Error),
    /// The schedule is no longer valid (e.g. a time zone left the tz database).
    #[error("the stored event's schedule is invalid: {0}")]
    Schedule(#[from] ScheduleError),
    /// The organizer address is invalid.
    #[error("the stored event's organizer: {0}")]
    Organizer(#[from] InvalidEmail),
}

impl EventSnapshot {
    /// The JSON kept in the store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain fields serialise")
    }

    /// What changes when anything members' calendars show changes: time, duration, interval, time
    /// zone, skipped, cancelled or moved meetings and their notes, the end of the series, title,
    /// location, description, organizer or UID.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.to_json().as_bytes()))
    }

    /// Reads the stored JSON back into an event for `series_id`.
    pub fn parse(series_id: &str, json: &str) -> Result<SeriesEvent, SnapshotError> {
        let s: EventSnapshot = serde_json::from_str(json)?;
        let skip = s
            .skip
            .iter()
            .map(|d| d.parse())
            .collect::<Result<Vec<_>, _>>()?;
        let exceptions = s
            .exceptions
            .iter()
            .map(ExceptionSnapshot::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let until = s.until.as_deref().map(str::parse).transpose()?;
        let schedule = Schedule::from_spec(ScheduleSpec {
            tz_name: &s.timezone,
            first: s.first.parse()?,
            duration_minutes: s.duration_minutes,
            interval_weeks: s.interval_weeks,
            skip,
            exceptions,
            until,
        })?;
        Ok(SeriesEvent {
            series_id: series_id.to_string(),
            repo: s.repo,
            uid: s.uid,
            title: s.title,
            description: s.description,
            location: s.location,
            organizer: Person {
                name: s.organizer_name,
                email: EmailAddress::parse(&s.organizer_email)?,
            },
            schedule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::series::Series;
    use crate::core::series::testing::{sample_series, schedule};

    /// The sample series, changed by `change`.
    fn changed(change: impl FnOnce(&mut Series)) -> Series {
        let mut series = sample_series();
        change(&mut series);
        series
    }

    fn with_skip(series: &mut Series) {
        series.schedule = schedule(
            "America/Los_Angeles",
            "2024-05-06T08:00",
            60,
            &["2026-12-28"],
        );
    }

    #[test]
    fn a_snapshot_round_trips_and_its_fingerprint_follows_the_fields() {
        let event = SeriesEvent::of(&changed(with_skip));
        let snapshot = event.snapshot();
        let back = EventSnapshot::parse("ispo-wg", &snapshot.to_json()).unwrap();
        assert_eq!(back.snapshot(), snapshot);
        assert_eq!(back.schedule.cancelled_dates().count(), 1);

        let same = SeriesEvent::of(&changed(with_skip));
        assert_eq!(same.snapshot().fingerprint(), snapshot.fingerprint());
        type Change = (&'static str, fn(&mut Series));
        let changes: [Change; 6] = [
            ("start", |s| {
                s.schedule = schedule("America/Los_Angeles", "2024-05-06T09:00", 60, &[])
            }),
            ("duration", |s| {
                s.schedule = schedule("America/Los_Angeles", "2024-05-06T08:00", 45, &[])
            }),
            ("zone", |s| {
                s.schedule = schedule("America/Denver", "2024-05-06T08:00", 60, &[])
            }),
            ("title", |s| s.title = "ISPO WG".into()),
            ("location", |s| {
                s.location = Some("https://example.org/new".into())
            }),
            ("organizer", |s| s.organizer.name = "The WG".into()),
        ];
        let unchanged = SeriesEvent::of(&sample_series()).snapshot().fingerprint();
        for (what, change) in changes {
            let changed = SeriesEvent::of(&changed(change));
            assert_ne!(changed.snapshot().fingerprint(), unchanged, "{what}");
        }
    }

    /// The JSON of a series without the fields added later, as every stored event before them.
    const STORED_BEFORE_EXCEPTIONS: &str = r#"{"repo":"InnerSourceCommons/ispo-working-group","uid":"ispo-wg.innersourcecommons.ispo-working-group@invitebot","title":"ISPO Working Group","description":"","location":null,"timezone":"America/Los_Angeles","first":"2024-05-06T08:00:00","duration_minutes":60,"interval_weeks":2,"skip":[],"organizer_name":"WG","organizer_email":"wg@example.org"}"#;

    #[test]
    fn a_series_without_changes_keeps_its_stored_json_and_old_records_still_read() {
        // Same JSON, same fingerprint: upgrading sends no update.
        let snapshot = SeriesEvent::of(&sample_series()).snapshot();
        assert_eq!(snapshot.to_json(), STORED_BEFORE_EXCEPTIONS);
        let old = EventSnapshot::parse("ispo-wg", STORED_BEFORE_EXCEPTIONS).unwrap();
        assert!(old.schedule.exceptions().is_empty());
        assert_eq!(old.schedule.until(), None);
        assert_eq!(old.snapshot(), snapshot);
    }

    #[test]
    fn exceptions_until_and_a_corrected_dtstart_are_stored_and_change_the_fingerprint() {
        use crate::core::calendar::{Change, Exception, ScheduleSpec};
        let with = |exceptions: Vec<Exception>, until: Option<&str>| {
            changed(|s| {
                s.schedule = Schedule::from_spec(ScheduleSpec {
                    tz_name: "America/Los_Angeles",
                    first: "2024-05-06T08:00".parse().unwrap(),
                    duration_minutes: 60,
                    interval_weeks: 2,
                    skip: vec!["2026-12-14".parse().unwrap()],
                    exceptions,
                    until: until.map(|d| d.parse().unwrap()),
                })
                .unwrap()
            })
        };
        let cancel = |note: Option<&str>| Exception {
            date: "2026-12-28".parse().unwrap(),
            change: Change::Cancelled,
            note: note.map(str::to_string),
        };
        let moved = |to: &str| Exception {
            date: "2027-01-11".parse().unwrap(),
            change: Change::Moved {
                to: to.parse().unwrap(),
            },
            note: None,
        };
        let variants = [
            with(vec![], None),
            with(vec![cancel(None)], None),
            with(vec![cancel(Some("Holidays"))], None),
            with(
                vec![cancel(Some("Holidays")), moved("2027-01-12T09:00")],
                None,
            ),
            with(
                vec![cancel(Some("Holidays")), moved("2027-01-12T10:00")],
                None,
            ),
            with(
                vec![cancel(Some("Holidays")), moved("2027-01-12T10:00")],
                Some("2027-06-30"),
            ),
        ];
        let mut seen = std::collections::HashSet::new();
        for series in &variants {
            let snapshot = SeriesEvent::of(series).snapshot();
            assert!(
                seen.insert(snapshot.fingerprint()),
                "{}",
                snapshot.to_json()
            );
            let back = EventSnapshot::parse("ispo-wg", &snapshot.to_json()).unwrap();
            assert_eq!(back.snapshot(), snapshot);
            assert_eq!(back.schedule.exceptions(), series.schedule.exceptions());
            assert_eq!(back.schedule.until(), series.schedule.until());
        }
        // A cancellation without a note is a skip: written as one.
        let json = SeriesEvent::of(&variants[1]).snapshot().to_json();
        assert!(
            json.contains(r#""skip":["2026-12-14","2026-12-28"]"#),
            "{json}"
        );
        assert!(!json.contains("exceptions"), "{json}");
        let json = SeriesEvent::of(&variants[5]).snapshot().to_json();
        assert!(
            json.ends_with(r#""exceptions":[{"date":"2026-12-28","note":"Holidays"},{"date":"2027-01-11","move_to":"2027-01-12T10:00:00"}],"until":"2027-06-30"}"#),
            "{json}"
        );
        // A first meeting with a DST problem: the calendar's DTSTART is part of the fingerprint.
        let gap =
            changed(|s| s.schedule = schedule("America/Los_Angeles", "2025-03-09T02:30", 60, &[]));
        let json = SeriesEvent::of(&gap).snapshot().to_json();
        assert!(
            json.ends_with(r#""calendar_start":"2025-03-23T02:30:00"}"#),
            "{json}"
        );
        let back = EventSnapshot::parse("ispo-wg", &json).unwrap();
        assert_eq!(back.snapshot().to_json(), json);
    }

    #[test]
    fn unreadable_snapshots_are_errors() {
        assert!(matches!(
            EventSnapshot::parse("s", "{"),
            Err(SnapshotError::Json(_))
        ));
        let json = SeriesEvent::of(&sample_series())
            .snapshot()
            .to_json()
            .replace("America/Los_Angeles", "Nowhere/Land");
        assert!(matches!(
            EventSnapshot::parse("s", &json),
            Err(SnapshotError::Schedule(_))
        ));
    }
}
