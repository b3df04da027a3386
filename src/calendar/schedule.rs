//! The recurrence of a meeting series: every `n` weeks on the weekday of the first meeting, at
//! the same wall-clock time in the series' time zone, minus skipped dates.
//!
//! Wall time is what repeats: 08:00 in Los Angeles stays 08:00 across DST, so the UTC instant
//! moves. A wall time that does not exist on some date (inside a DST gap) is moved forward by
//! the length of the gap, and a wall time that happens twice (a fold) takes the earlier
//! instant: jiff's [`Disambiguation::Compatible`](jiff::tz::Disambiguation::Compatible), which
//! is the rule of RFC 5545 §3.3.5 that calendar clients apply to `DTSTART;TZID=…` + `RRULE`.

use std::fmt;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp, Unit, Zoned};

/// The longest meeting: 24 hours.
pub const MAX_DURATION_MINUTES: u32 = 24 * 60;
/// The longest interval between two meetings of a series.
pub const MAX_INTERVAL_WEEKS: u32 = 52;
/// The years a first meeting may fall in (anything else is a typo).
pub const FIRST_YEARS: std::ops::RangeInclusive<i16> = 1970..=2199;

/// A validated meeting series schedule. See the module documentation for the rules.
#[derive(Clone, Debug)]
pub struct Schedule {
    tz_name: String,
    tz: TimeZone,
    first: DateTime,
    duration_minutes: u32,
    interval_weeks: u32,
    /// Sorted, without duplicates, each one a meeting date of the series.
    skip: Vec<Date>,
}

/// One meeting of a series, in the series' time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub start: Zoned,
    pub end: Zoned,
}

/// Why a schedule is not usable. Each message says what is wrong and how to fix it; the caller
/// adds where (file:line:col).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "unknown time zone {name:?}: use an IANA time zone name such as \"America/Los_Angeles\", \
         \"Europe/Berlin\", \"Asia/Kolkata\" or \"UTC\" (the \"TZ identifier\" column of \
         https://en.wikipedia.org/wiki/List_of_tz_database_time_zones)"
    )]
    UnknownTimeZone { name: String },

    #[error(
        "the meeting interval is 0 weeks: use 1 for a weekly meeting, 2 for every other week, \
         and so on"
    )]
    ZeroInterval,

    #[error(
        "the meeting interval of {weeks} weeks is too long: use a number of weeks from 1 to \
         {MAX_INTERVAL_WEEKS}"
    )]
    IntervalTooLong { weeks: u32 },

    #[error(
        "a meeting duration of {minutes} minutes is not allowed: use a number of minutes from 1 \
         to {MAX_DURATION_MINUTES} (24 hours)"
    )]
    BadDuration { minutes: u32 },

    #[error(
        "the first meeting ({first}) is outside the years {}–{}: check the year",
        FIRST_YEARS.start(),
        FIRST_YEARS.end()
    )]
    FirstOutOfRange { first: DateTime },

    #[error("{}", SkipProblem { date: *.date, first: *.first, interval_weeks: *.interval_weeks })]
    SkipNotAMeetingDate {
        /// The offending skip date.
        date: Date,
        /// The date of the first meeting.
        first: Date,
        interval_weeks: u32,
    },
}

/// Formats the explanation of [`ScheduleError::SkipNotAMeetingDate`].
struct SkipProblem {
    date: Date,
    first: Date,
    interval_weeks: u32,
}

impl fmt::Display for SkipProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            date,
            first,
            interval_weeks,
        } = *self;
        let day = weekday_name(first.weekday());
        let every = match interval_weeks {
            1 => "every week".to_string(),
            2 => "every other week".to_string(),
            n => format!("every {n} weeks"),
        };
        if date < first {
            return write!(
                f,
                "skip date {date} is before the first meeting ({first}): remove it from the \
                 skip list"
            );
        }
        write!(
            f,
            "skip date {date} ({}) is not a meeting date: the meetings are {every} on {day} \
             starting {first}",
            weekday_name(date.weekday())
        )?;
        if let Some((before, after)) = neighbours(first, interval_weeks, date) {
            write!(f, "; the nearest meeting dates are {before} and {after}")?;
        }
        Ok(())
    }
}

/// The meeting dates just before and just after `date` (which is on or after `first`).
fn neighbours(first: Date, interval_weeks: u32, date: Date) -> Option<(Date, Date)> {
    let period = i64::from(interval_weeks) * 7;
    let days = i64::from(first.until((Unit::Day, date)).ok()?.get_days());
    let k = days.div_euclid(period);
    let before = add_days(first, k * period)?;
    let after = add_days(before, period)?;
    Some((before, after))
}

fn add_days(date: Date, days: i64) -> Option<Date> {
    date.checked_add(Span::new().try_days(days).ok()?).ok()
}

pub(crate) fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// The two-letter RFC 5545 weekday (`MO`, `TU`, …).
pub(crate) fn weekday_code(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "MO",
        Weekday::Tuesday => "TU",
        Weekday::Wednesday => "WE",
        Weekday::Thursday => "TH",
        Weekday::Friday => "FR",
        Weekday::Saturday => "SA",
        Weekday::Sunday => "SU",
    }
}

impl Schedule {
    /// Validates a schedule.
    ///
    /// `tz_name`: an IANA zone name (matched case-insensitively; [`Schedule::tz_name`] gives the
    /// database's spelling). `first`: local date-time of the first meeting in that zone; the
    /// series repeats on its weekday. `skip`: local dates with no meeting; each must be one of the
    /// series' meeting dates (duplicates are merged).
    pub fn new(
        tz_name: &str,
        first: DateTime,
        duration_minutes: u32,
        interval_weeks: u32,
        skip: Vec<Date>,
    ) -> Result<Schedule, ScheduleError> {
        let unknown = || ScheduleError::UnknownTimeZone {
            name: tz_name.to_string(),
        };
        let tz = TimeZone::get(tz_name).map_err(|_| unknown())?;
        if tz.is_unknown() {
            return Err(unknown());
        }
        let canonical = tz.iana_name().unwrap_or(tz_name).to_string();
        // The name goes into `TZID=` parameters unquoted: IANA names are made of these only.
        if canonical.is_empty()
            || !canonical
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        {
            return Err(unknown());
        }
        if interval_weeks == 0 {
            return Err(ScheduleError::ZeroInterval);
        }
        if interval_weeks > MAX_INTERVAL_WEEKS {
            return Err(ScheduleError::IntervalTooLong {
                weeks: interval_weeks,
            });
        }
        if duration_minutes == 0 || duration_minutes > MAX_DURATION_MINUTES {
            return Err(ScheduleError::BadDuration {
                minutes: duration_minutes,
            });
        }
        if !FIRST_YEARS.contains(&first.year()) {
            return Err(ScheduleError::FirstOutOfRange { first });
        }
        let mut schedule = Schedule {
            tz_name: canonical,
            tz,
            first,
            duration_minutes,
            interval_weeks,
            skip: Vec::new(),
        };
        let mut skip = skip;
        skip.sort();
        skip.dedup();
        if let Some(&date) = skip.iter().find(|&&d| !schedule.is_meeting_date(d)) {
            return Err(ScheduleError::SkipNotAMeetingDate {
                date,
                first: first.date(),
                interval_weeks,
            });
        }
        schedule.skip = skip;
        Ok(schedule)
    }

    /// The IANA name of the zone, as the tz database spells it (used as `TZID`).
    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date-time of the first meeting (the `DTSTART`).
    pub fn first(&self) -> DateTime {
        self.first
    }

    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    pub fn interval_weeks(&self) -> u32 {
        self.interval_weeks
    }

    /// The skipped dates, sorted, without duplicates.
    pub fn skip(&self) -> &[Date] {
        &self.skip
    }

    /// Whether the series has a meeting (skipped or not) on this local date.
    pub fn is_meeting_date(&self, date: Date) -> bool {
        let first = self.first.date();
        if date < first {
            return false;
        }
        let Ok(span) = first.until((Unit::Day, date)) else {
            return false;
        };
        i64::from(span.get_days()) % self.period_days() == 0
    }

    /// The first meeting as an instant range (whether or not its date is skipped): the instant
    /// `DTSTART` stands for.
    pub fn first_occurrence(&self) -> Occurrence {
        self.occurrence_on(self.first.date())
            .expect("the first meeting is within jiff's range (checked in Schedule::new)")
    }

    /// The next `n` meetings that start at or after `after`, skipped dates left out.
    pub fn next_occurrences(&self, after: Timestamp, n: usize) -> Vec<Occurrence> {
        let mut out = Vec::with_capacity(n.min(1024));
        if n == 0 {
            return out;
        }
        let period = self.period_days();
        let first = self.first.date();
        let after_date = self.tz.to_datetime(after).date();
        // Start one period early: a meeting's instant can fall on the next local day at most (a
        // whole skipped day, as in Samoa in 2011), never earlier than its date.
        let days = first
            .until((Unit::Day, after_date))
            .map(|span| i64::from(span.get_days()))
            .unwrap_or(0);
        let mut k = (days.div_euclid(period) - 1).max(0);
        while out.len() < n {
            let Some(date) = k.checked_mul(period).and_then(|d| add_days(first, d)) else {
                break;
            };
            k += 1;
            if self.skip.binary_search(&date).is_ok() {
                continue;
            }
            let Some(occurrence) = self.occurrence_on(date) else {
                break;
            };
            if occurrence.start.timestamp() >= after {
                out.push(occurrence);
            }
        }
        out
    }

    /// The recurrence rule, e.g. `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO`.
    pub fn rrule(&self) -> String {
        format!(
            "FREQ=WEEKLY;INTERVAL={};BYDAY={}",
            self.interval_weeks,
            weekday_code(self.first.weekday())
        )
    }

    fn period_days(&self) -> i64 {
        i64::from(self.interval_weeks) * 7
    }

    /// The meeting on a local date (assumed to be a meeting date): wall time of `first`,
    /// gap → later, fold → earlier.
    fn occurrence_on(&self, date: Date) -> Option<Occurrence> {
        let local = date.to_datetime(self.first.time());
        let start = self.tz.to_ambiguous_zoned(local).compatible().ok()?;
        let end = start
            .checked_add(SignedDuration::from_mins(i64::from(self.duration_minutes)))
            .ok()?;
        Some(Occurrence { start, end })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jiff::civil::{date, datetime};

    /// The ISPO series with two skipped dates (also used by the `.ics` tests).
    pub(crate) fn la_series() -> Schedule {
        Schedule::new(
            "America/Los_Angeles",
            datetime(2024, 5, 6, 8, 0, 0, 0),
            60,
            2,
            vec![date(2024, 12, 30), date(2025, 12, 29)],
        )
        .unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn starts(occurrences: &[Occurrence]) -> Vec<String> {
        occurrences
            .iter()
            .map(|o| o.start.timestamp().to_string())
            .collect()
    }

    #[test]
    fn accessors_and_rrule() {
        let s = la_series();
        assert_eq!(s.tz_name(), "America/Los_Angeles");
        assert_eq!(s.time_zone().iana_name(), Some("America/Los_Angeles"));
        assert_eq!(s.first(), datetime(2024, 5, 6, 8, 0, 0, 0));
        assert_eq!(s.duration_minutes(), 60);
        assert_eq!(s.interval_weeks(), 2);
        assert_eq!(s.skip(), &[date(2024, 12, 30), date(2025, 12, 29)]);
        assert_eq!(s.rrule(), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO");

        let cases = [
            (
                datetime(2024, 5, 7, 9, 0, 0, 0),
                1,
                "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU",
            ),
            (
                datetime(2024, 5, 8, 9, 0, 0, 0),
                3,
                "FREQ=WEEKLY;INTERVAL=3;BYDAY=WE",
            ),
            (
                datetime(2024, 5, 9, 9, 0, 0, 0),
                4,
                "FREQ=WEEKLY;INTERVAL=4;BYDAY=TH",
            ),
            (
                datetime(2024, 5, 10, 9, 0, 0, 0),
                1,
                "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR",
            ),
            (
                datetime(2024, 5, 11, 9, 0, 0, 0),
                1,
                "FREQ=WEEKLY;INTERVAL=1;BYDAY=SA",
            ),
            (
                datetime(2024, 5, 12, 9, 0, 0, 0),
                52,
                "FREQ=WEEKLY;INTERVAL=52;BYDAY=SU",
            ),
        ];
        for (first, interval, expected) in cases {
            let s = Schedule::new("Europe/Berlin", first, 30, interval, vec![]).unwrap();
            assert_eq!(s.rrule(), expected);
        }
    }

    #[test]
    fn time_zone_names_are_canonicalised() {
        let s = Schedule::new(
            "america/los_angeles",
            datetime(2024, 5, 6, 8, 0, 0, 0),
            60,
            2,
            vec![],
        )
        .unwrap();
        assert_eq!(s.tz_name(), "America/Los_Angeles");
        let s = Schedule::new("UTC", datetime(2024, 5, 6, 8, 0, 0, 0), 60, 2, vec![]).unwrap();
        assert_eq!(s.tz_name(), "UTC");
    }

    #[test]
    fn invalid_schedules_are_rejected_with_helpful_messages() {
        let first = datetime(2024, 5, 6, 8, 0, 0, 0);
        let la = "America/Los_Angeles";
        let cases: Vec<(Result<Schedule, ScheduleError>, ScheduleError, &[&str])> = vec![
            (
                Schedule::new("America/Los Angeles", first, 60, 2, vec![]),
                ScheduleError::UnknownTimeZone {
                    name: "America/Los Angeles".into(),
                },
                &[
                    "unknown time zone \"America/Los Angeles\"",
                    "IANA",
                    "America/Los_Angeles",
                ],
            ),
            (
                Schedule::new("PST", first, 60, 2, vec![]),
                ScheduleError::UnknownTimeZone { name: "PST".into() },
                &["unknown time zone"],
            ),
            (
                Schedule::new("Etc/Unknown", first, 60, 2, vec![]),
                ScheduleError::UnknownTimeZone {
                    name: "Etc/Unknown".into(),
                },
                &["unknown time zone"],
            ),
            (
                Schedule::new("", first, 60, 2, vec![]),
                ScheduleError::UnknownTimeZone { name: "".into() },
                &["unknown time zone"],
            ),
            (
                Schedule::new(la, first, 60, 0, vec![]),
                ScheduleError::ZeroInterval,
                &["0 weeks", "use 1 for a weekly meeting"],
            ),
            (
                Schedule::new(la, first, 60, 53, vec![]),
                ScheduleError::IntervalTooLong { weeks: 53 },
                &["53 weeks", "from 1 to 52"],
            ),
            (
                Schedule::new(la, first, 0, 2, vec![]),
                ScheduleError::BadDuration { minutes: 0 },
                &["0 minutes", "from 1 to 1440"],
            ),
            (
                Schedule::new(la, first, 1441, 2, vec![]),
                ScheduleError::BadDuration { minutes: 1441 },
                &["1441 minutes", "24 hours"],
            ),
            (
                Schedule::new(la, datetime(1969, 12, 29, 8, 0, 0, 0), 60, 2, vec![]),
                ScheduleError::FirstOutOfRange {
                    first: datetime(1969, 12, 29, 8, 0, 0, 0),
                },
                &["1969-12-29T08:00:00", "check the year"],
            ),
            (
                Schedule::new(la, first, 60, 2, vec![date(2024, 12, 24)]),
                ScheduleError::SkipNotAMeetingDate {
                    date: date(2024, 12, 24),
                    first: date(2024, 5, 6),
                    interval_weeks: 2,
                },
                &[
                    "skip date 2024-12-24 (Tuesday) is not a meeting date",
                    "every other week on Monday starting 2024-05-06",
                    "nearest meeting dates are 2024-12-16 and 2024-12-30",
                ],
            ),
            (
                // A Monday, but the wrong week of the two (the example in docs/invites.md).
                Schedule::new(la, first, 60, 2, vec![date(2024, 12, 23)]),
                ScheduleError::SkipNotAMeetingDate {
                    date: date(2024, 12, 23),
                    first: date(2024, 5, 6),
                    interval_weeks: 2,
                },
                &[
                    "skip date 2024-12-23 (Monday) is not a meeting date",
                    "nearest meeting dates are 2024-12-16 and 2024-12-30",
                ],
            ),
            (
                Schedule::new(la, first, 60, 3, vec![date(2024, 5, 20)]),
                ScheduleError::SkipNotAMeetingDate {
                    date: date(2024, 5, 20),
                    first: date(2024, 5, 6),
                    interval_weeks: 3,
                },
                &["every 3 weeks on Monday", "2024-05-06 and 2024-05-27"],
            ),
            (
                Schedule::new(la, first, 60, 2, vec![date(2024, 4, 22)]),
                ScheduleError::SkipNotAMeetingDate {
                    date: date(2024, 4, 22),
                    first: date(2024, 5, 6),
                    interval_weeks: 2,
                },
                &["before the first meeting (2024-05-06)", "remove it"],
            ),
        ];
        for (result, expected, fragments) in cases {
            let error = result.unwrap_err();
            assert_eq!(error, expected);
            let message = error.to_string();
            for fragment in fragments {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            }
        }
    }

    #[test]
    fn boundaries_are_accepted() {
        let first = datetime(2024, 5, 6, 8, 0, 0, 0);
        for (duration, interval) in [(1, 1), (1440, 52)] {
            Schedule::new("Asia/Kolkata", first, duration, interval, vec![]).unwrap();
        }
        // The first date itself may be skipped; duplicates are merged and sorted.
        let s = Schedule::new(
            "Asia/Kolkata",
            first,
            60,
            1,
            vec![date(2024, 5, 20), date(2024, 5, 6), date(2024, 5, 20)],
        )
        .unwrap();
        assert_eq!(s.skip(), &[date(2024, 5, 6), date(2024, 5, 20)]);
    }

    #[test]
    fn occurrences_around_dst_changes_in_los_angeles() {
        let s = la_series();
        // (local date of the meeting, its start in UTC, its end in UTC)
        let cases = [
            ("2024-05-06", "2024-05-06T15:00:00Z", "2024-05-06T16:00:00Z"),
            ("2024-10-21", "2024-10-21T15:00:00Z", "2024-10-21T16:00:00Z"),
            // DST ended 2024-11-03.
            ("2024-11-04", "2024-11-04T16:00:00Z", "2024-11-04T17:00:00Z"),
            ("2026-02-23", "2026-02-23T16:00:00Z", "2026-02-23T17:00:00Z"),
            // DST began 2026-03-08.
            ("2026-03-09", "2026-03-09T15:00:00Z", "2026-03-09T16:00:00Z"),
            ("2026-10-19", "2026-10-19T15:00:00Z", "2026-10-19T16:00:00Z"),
            // DST ends 2026-11-01.
            ("2026-11-02", "2026-11-02T16:00:00Z", "2026-11-02T17:00:00Z"),
        ];
        for (day, start, end) in cases {
            let day: Date = day.parse().unwrap();
            let next = s.next_occurrences(day.to_zoned(s.tz.clone()).unwrap().timestamp(), 1);
            assert_eq!(next.len(), 1);
            let o = &next[0];
            assert_eq!(o.start.date(), day);
            assert_eq!(o.start.time(), jiff::civil::time(8, 0, 0, 0));
            assert_eq!(o.start.time_zone().iana_name(), Some("America/Los_Angeles"));
            assert_eq!(o.start.timestamp(), ts(start), "{day}");
            assert_eq!(o.end.timestamp(), ts(end), "{day}");
            assert_eq!(o.end.time(), jiff::civil::time(9, 0, 0, 0));
        }
    }

    #[test]
    fn next_occurrences_boundaries_and_skips() {
        let s = la_series();
        let cases: &[(&str, usize, &[&str])] = &[
            // An occurrence starting exactly at `after` is included…
            (
                "2024-05-06T15:00:00Z",
                2,
                &["2024-05-06T15:00:00Z", "2024-05-20T15:00:00Z"],
            ),
            // …one nanosecond later it is not.
            (
                "2024-05-06T15:00:00.000000001Z",
                1,
                &["2024-05-20T15:00:00Z"],
            ),
            // Before the series: the first meeting.
            ("2020-01-01T00:00:00Z", 1, &["2024-05-06T15:00:00Z"]),
            // 2024-12-30 is skipped.
            (
                "2024-12-01T00:00:00Z",
                3,
                &[
                    "2024-12-02T16:00:00Z",
                    "2024-12-16T16:00:00Z",
                    "2025-01-13T16:00:00Z",
                ],
            ),
            (
                "2024-12-16T16:00:00.000000001Z",
                1,
                &["2025-01-13T16:00:00Z"],
            ),
            // 2025-12-29 is skipped too.
            (
                "2025-12-16T00:00:00Z",
                2,
                &["2026-01-12T16:00:00Z", "2026-01-26T16:00:00Z"],
            ),
            ("2024-05-06T15:00:00Z", 0, &[]),
        ];
        for &(after, n, expected) in cases {
            assert_eq!(
                starts(&s.next_occurrences(ts(after), n)),
                expected,
                "after {after}"
            );
        }
    }

    #[test]
    fn skipping_the_first_meeting() {
        let s = Schedule::new(
            "Europe/Berlin",
            datetime(2025, 1, 7, 18, 0, 0, 0),
            90,
            1,
            vec![date(2025, 1, 7)],
        )
        .unwrap();
        let next = s.next_occurrences(ts("2025-01-01T00:00:00Z"), 1);
        assert_eq!(starts(&next), ["2025-01-14T17:00:00Z"]);
        assert_eq!(next[0].end.timestamp(), ts("2025-01-14T18:30:00Z"));
        // first_occurrence ignores skips: it is what DTSTART means.
        assert_eq!(
            s.first_occurrence().start.timestamp(),
            ts("2025-01-07T17:00:00Z")
        );
    }

    #[test]
    fn gaps_move_forward_and_folds_take_the_earlier_instant() {
        // (zone, first meeting, duration, a meeting date, expected start, expected end)
        let cases = [
            // Los Angeles springs forward 02:00 → 03:00 on 2025-03-09 (a Sunday).
            (
                "America/Los_Angeles",
                datetime(2025, 3, 2, 2, 30, 0, 0),
                60,
                date(2025, 3, 9),
                "2025-03-09T03:30:00-07:00",
                "2025-03-09T04:30:00-07:00",
            ),
            // Falls back 02:00 → 01:00 on 2025-11-02: 01:30 happens twice; take the first (PDT).
            (
                "America/Los_Angeles",
                datetime(2025, 3, 2, 1, 30, 0, 0),
                60,
                date(2025, 11, 2),
                "2025-11-02T01:30:00-07:00",
                "2025-11-02T01:30:00-08:00",
            ),
            // Berlin springs forward 02:00 → 03:00 on 2025-03-30.
            (
                "Europe/Berlin",
                datetime(2025, 3, 23, 2, 15, 0, 0),
                30,
                date(2025, 3, 30),
                "2025-03-30T03:15:00+02:00",
                "2025-03-30T03:45:00+02:00",
            ),
            // Lord Howe springs forward 30 minutes, 02:00 → 02:30, on 2025-10-05.
            (
                "Australia/Lord_Howe",
                datetime(2025, 9, 28, 2, 10, 0, 0),
                60,
                date(2025, 10, 5),
                "2025-10-05T02:40:00+11:00",
                "2025-10-05T03:40:00+11:00",
            ),
            // Lord Howe falls back 02:00 → 01:30 on 2025-04-06: 01:45 happens twice.
            (
                "Australia/Lord_Howe",
                datetime(2025, 3, 30, 1, 45, 0, 0),
                60,
                date(2025, 4, 6),
                "2025-04-06T01:45:00+11:00",
                "2025-04-06T02:15:00+10:30",
            ),
        ];
        for (tz, first, minutes, day, start, end) in cases {
            let s = Schedule::new(tz, first, minutes, 1, vec![]).unwrap();
            let midnight = day.to_zoned(s.tz.clone()).unwrap().timestamp();
            let o = &s.next_occurrences(midnight, 1)[0];
            let start: jiff::Timestamp = start.parse().unwrap();
            let end: jiff::Timestamp = end.parse().unwrap();
            assert_eq!(
                (o.start.timestamp(), o.end.timestamp()),
                (start, end),
                "{tz} {day}"
            );
        }
    }

    /// An independent expansion: walk every civil day, keep the meeting weekday at the right
    /// week parity, convert to an instant with an explicit gap/fold rule written from offsets.
    fn brute_force(s: &Schedule, from: Date, until: Date) -> Vec<Timestamp> {
        let first = s.first().date();
        let period = i64::from(s.interval_weeks()) * 7;
        let mut out = Vec::new();
        let mut day = first;
        let mut index: i64 = 0;
        while day <= until {
            let wanted = day.weekday() == first.weekday() && index % period == 0;
            if wanted && day >= from && !s.skip().contains(&day) {
                out.push(local_to_instant(
                    s.time_zone(),
                    day.to_datetime(s.first().time()),
                ));
            }
            day = day.tomorrow().unwrap();
            index += 1;
        }
        out
    }

    /// RFC 5545 §3.3.5 by hand: try the offsets in effect a day before and a day after; keep
    /// the candidates that map back to the same wall time; none → gap (shift by the offset
    /// before the gap); two → fold (earlier instant).
    fn local_to_instant(tz: &TimeZone, local: DateTime) -> Timestamp {
        let naive_utc = local.to_zoned(TimeZone::UTC).unwrap().timestamp();
        let day = SignedDuration::from_hours(26);
        let before = tz.to_offset(naive_utc - day);
        let after = tz.to_offset(naive_utc + day);
        let mut candidates: Vec<Timestamp> = [before, after]
            .into_iter()
            .map(|o| naive_utc - SignedDuration::from_secs(i64::from(o.seconds())))
            .filter(|&t| tz.to_datetime(t) == local)
            .collect();
        candidates.sort();
        candidates.dedup();
        match candidates.first() {
            Some(&t) => t,
            None => naive_utc - SignedDuration::from_secs(i64::from(before.seconds())),
        }
    }

    #[test]
    fn expansion_matches_brute_force() {
        let cases = [
            (
                "America/Los_Angeles",
                datetime(2024, 5, 6, 8, 0, 0, 0),
                2,
                vec![date(2024, 12, 30)],
            ),
            (
                "Europe/Berlin",
                datetime(2024, 1, 9, 17, 0, 0, 0),
                1,
                vec![date(2024, 12, 24)],
            ),
            (
                "Australia/Sydney",
                datetime(2023, 2, 1, 9, 30, 0, 0),
                3,
                vec![],
            ),
            (
                "Asia/Kolkata",
                datetime(2024, 6, 6, 19, 0, 0, 0),
                2,
                vec![date(2024, 6, 20)],
            ),
            (
                "Asia/Kathmandu",
                datetime(2024, 6, 7, 6, 15, 0, 0),
                4,
                vec![],
            ),
            (
                "America/Sao_Paulo",
                datetime(2017, 1, 1, 0, 0, 0, 0),
                1,
                vec![],
            ),
            (
                "Australia/Lord_Howe",
                datetime(2024, 1, 7, 2, 15, 0, 0),
                1,
                vec![],
            ),
            (
                "Pacific/Chatham",
                datetime(2024, 1, 7, 2, 50, 0, 0),
                1,
                vec![],
            ),
            (
                "Africa/Casablanca",
                datetime(2024, 1, 7, 2, 30, 0, 0),
                1,
                vec![],
            ),
            (
                "America/Los_Angeles",
                datetime(2024, 1, 7, 1, 30, 0, 0),
                1,
                vec![],
            ),
            (
                "America/Los_Angeles",
                datetime(2024, 1, 7, 2, 30, 0, 0),
                1,
                vec![],
            ),
            ("UTC", datetime(2024, 2, 29, 23, 0, 0, 0), 2, vec![]),
        ];
        for (tz, first, interval, skip) in cases {
            let s = Schedule::new(tz, first, 45, interval, skip).unwrap();
            for from in [first.date(), date(2025, 10, 1), date(2026, 3, 1)] {
                let until = date(2029, 12, 31);
                let expected = brute_force(&s, from, until);
                let after = from.to_zoned(s.tz.clone()).unwrap().timestamp();
                let got: Vec<Timestamp> = s
                    .next_occurrences(after, expected.len() + 1)
                    .iter()
                    .map(|o| o.start.timestamp())
                    .filter(|&t| s.tz.to_datetime(t).date() <= until)
                    .collect();
                assert_eq!(got, expected, "{tz} from {from}");
                assert!(expected.len() > 50 / interval as usize);
            }
        }
    }

    #[test]
    fn is_meeting_date() {
        let s = la_series();
        let cases = [
            (date(2024, 5, 6), true),
            (date(2024, 5, 13), false),
            (date(2024, 5, 20), true),
            (date(2024, 4, 22), false),
            (date(2024, 12, 23), false),
            (date(2024, 12, 30), true),
            (date(2024, 5, 7), false),
        ];
        for (day, expected) in cases {
            assert_eq!(s.is_meeting_date(day), expected, "{day}");
        }
    }
}
