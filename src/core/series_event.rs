//! What members' calendars hold for a series: the event, either as the config says now or as it
//! was last sent (kept in the state store, so a series removed from the config can still be
//! cancelled and a change can be recognised).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::calendar::{Invitation, Method, Person, Schedule, ScheduleError};
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
            skip: schedule.skip().iter().map(ToString::to_string).collect(),
            organizer_name: self.organizer.name.clone(),
            organizer_email: self.organizer.email.expose().to_string(),
        }
    }
}

/// The fields of a [`SeriesEvent`] as stored: plain values, stable JSON.
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
    skip: Vec<String>,
    organizer_name: String,
    organizer_email: String,
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
    /// zone, skipped dates, title, location, description, organizer or UID.
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
        let schedule = Schedule::new(
            &s.timezone,
            s.first.parse()?,
            s.duration_minutes,
            s.interval_weeks,
            skip,
        )?;
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
        assert_eq!(back.schedule.skip().len(), 1);

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
