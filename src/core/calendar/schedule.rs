//! The recurrence of a meeting series: every `n` weeks on the weekday of the first meeting, at
//! the same wall-clock time in the series' time zone, until an optional last date, with one-off
//! changes: a meeting cancelled (a skipped date is one without a note) or moved to another local
//! date-time ([`Exception`]).
//!
//! Wall time is what repeats: 08:00 in Los Angeles stays 08:00 across DST, so the UTC instant
//! moves. A wall time that does not exist on some date (inside a DST gap) is moved forward by
//! the length of the gap, and a wall time that happens twice (a fold) takes the earlier
//! instant: jiff's [`Disambiguation::Compatible`](jiff::tz::Disambiguation::Compatible), the
//! rule of RFC 5545 §3.3.5. Calendar libraries do not all follow it on those days (see
//! `docs/calendar-interop.md`), so [`Schedule::dst_notes`] lists such meetings for maintainers,
//! a moved meeting may not be one, and the calendar's `DTSTART` is the first meeting that is not
//! one ([`Schedule::calendar_start`]).
//!
//! [`Schedule::meetings`] is the public view of the series: every meeting in order, regular,
//! moved (with where from) or cancelled, with its note.

use std::fmt;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
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
    /// Sorted by date, one per date, each a meeting date of the series; skipped dates are
    /// cancellations without a note.
    exceptions: Vec<Exception>,
    /// The last date a meeting may fall on.
    until: Option<Date>,
    /// The date of the calendar's `DTSTART` (see [`Schedule::calendar_start`]).
    start_date: Date,
}

/// What a schedule is made from (the config's `[[series]]`, or a stored event).
#[derive(Clone, Debug)]
pub struct ScheduleSpec<'a> {
    /// An IANA zone name (matched case-insensitively).
    pub tz_name: &'a str,
    /// The local date-time of the first meeting; the series repeats on its weekday.
    pub first: DateTime,
    pub duration_minutes: u32,
    pub interval_weeks: u32,
    /// Local dates with no meeting (duplicates are merged).
    pub skip: Vec<Date>,
    /// One-off changes, at most one per date, none on a skipped date.
    pub exceptions: Vec<Exception>,
    /// The series ends on this date (its last meeting is on or before it).
    pub until: Option<Date>,
}

/// A one-off change to one meeting of a series (`[[series.exception]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// The meeting's usual local date (a meeting date of the series).
    pub date: Date,
    pub change: Change,
    /// Why, for the people invited (e.g. "holiday"); `None` when there is nothing to say.
    pub note: Option<String>,
}

/// What happens to the meeting of an [`Exception`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// No meeting that day.
    Cancelled,
    /// The meeting happens at this local date-time instead (in the series' zone), as long as
    /// usual.
    Moved { to: DateTime },
}

/// One meeting of a series, in the series' time zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub start: Zoned,
    pub end: Zoned,
}

/// How a [`Meeting`] stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeetingStatus {
    /// At the usual time.
    Regular,
    /// At another time; `from` is when it would have been.
    Moved { from: Occurrence },
    /// Not held (a skipped date, or a cancelled meeting); the meeting's occurrence is when it
    /// would have been.
    Cancelled,
}

/// One meeting of a series as people should see it: when, its status and the maintainers' note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meeting {
    /// The meeting's usual local date: its place in the series (what an exception names).
    pub date: Date,
    /// When it happens (for a cancelled meeting: when it would have happened).
    pub occurrence: Occurrence,
    pub status: MeetingStatus,
    pub note: Option<String>,
}

impl Meeting {
    /// Whether the meeting takes place (regular or moved).
    pub fn is_held(&self) -> bool {
        self.status != MeetingStatus::Cancelled
    }
}

/// How the clocks change where a [`DstNote`] applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DstNoteKind {
    /// Clocks jump forward: some wall times do not exist that day.
    Gap,
    /// Clocks go back: some wall times happen twice that day.
    Fold,
}

/// Which end of the meeting a [`DstNote`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DstNoteEdge {
    /// The configured start time is in a gap or a fold.
    Start,
    /// The start is fine, but the configured end time (start + duration on the wall clock) is in
    /// a gap or a fold, or the clocks change during the meeting, so the wall-clock end differs
    /// from the usual one (the meeting keeps its length).
    End,
}

/// A meeting whose configured local start or end time falls in a DST gap or fold, or during
/// which the clocks change. The meeting still happens (nothing is moved by the configuration):
/// a start in a gap is shifted forward by the gap's length, a start in a fold is the first of
/// the two, and the meeting keeps its length, as RFC 5545 says. Calendar apps disagree on such
/// meetings (some show them an hour off, or longer or shorter: `docs/calendar-interop.md`),
/// so these notes tell maintainers when that happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DstNote {
    /// The meeting's (local) date.
    pub date: Date,
    pub kind: DstNoteKind,
    pub edge: DstNoteEdge,
    /// When the meeting really starts.
    pub actual_start: Zoned,
    /// When it really ends (`actual_start` + the duration).
    pub actual_end: Zoned,
}

impl DstNote {
    /// One line for maintainers, e.g. `2027-03-14: 02:30 does not exist in America/Los_Angeles
    /// (clocks jump forward); that meeting starts at 03:30 PDT`. `schedule` is the one the note
    /// came from.
    pub fn message(&self, schedule: &Schedule) -> String {
        let date = self.date;
        let zone = schedule.tz_name();
        let planned = date.to_datetime(schedule.first().time());
        let hhmm = |dt: DateTime| dt.strftime("%H:%M").to_string();
        let clocks = match self.kind {
            DstNoteKind::Gap => "clocks jump forward",
            DstNoteKind::Fold => "clocks go back",
        };
        match (self.edge, self.kind) {
            (DstNoteEdge::Start, DstNoteKind::Gap) => format!(
                "{date}: {} does not exist in {zone} ({clocks}); that meeting starts at {}",
                hhmm(planned),
                wall_clock(&self.actual_start, date)
            ),
            (DstNoteEdge::Start, DstNoteKind::Fold) => format!(
                "{date}: {} happens twice in {zone} ({clocks}); that meeting starts at the first \
                 {} ({})",
                hhmm(planned),
                hhmm(planned),
                self.actual_start.strftime("%Z")
            ),
            (DstNoteEdge::End, _) => {
                let planned_end = schedule.planned_end(planned);
                let ambiguity =
                    planned_end.map(|end| (end, schedule.tz.to_ambiguous_timestamp(end)));
                let reason = match ambiguity.map(|(end, a)| (end, a.offset())) {
                    Some((end, AmbiguousOffset::Gap { .. })) => format!(
                        "the end time {} does not exist in {zone} (clocks jump forward)",
                        hhmm(end)
                    ),
                    Some((end, AmbiguousOffset::Fold { .. })) => format!(
                        "the end time {} happens twice in {zone} (clocks go back)",
                        hhmm(end)
                    ),
                    _ => format!("{clocks} in {zone} during the meeting"),
                };
                format!(
                    "{date}: {reason}; that meeting runs {} – {} ({} minutes)",
                    wall_clock(&self.actual_start, date),
                    wall_clock(&self.actual_end, date),
                    schedule.duration_minutes()
                )
            }
        }
    }
}

/// `03:30 PDT`, with the date in front when it is not `date`.
fn wall_clock(zoned: &Zoned, date: Date) -> String {
    let time = zoned.strftime("%H:%M %Z").to_string();
    if zoned.date() == date {
        time
    } else {
        format!("{} {time}", zoned.date())
    }
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

    #[error("{}", DateProblem { what: "skip date", date: *.date, first: *.first, interval_weeks: *.interval_weeks, until: *.until })]
    SkipNotAMeetingDate {
        /// The offending skip date.
        date: Date,
        /// The date of the first meeting.
        first: Date,
        interval_weeks: u32,
        until: Option<Date>,
    },

    #[error("{}", DateProblem { what: "exception date", date: *.date, first: *.first, interval_weeks: *.interval_weeks, until: *.until })]
    ExceptionNotAMeetingDate {
        /// The offending exception date.
        date: Date,
        /// The date of the first meeting.
        first: Date,
        interval_weeks: u32,
        until: Option<Date>,
    },

    #[error(
        "the meeting of {date} is changed twice (in `skip` and an exception, or in two \
         exceptions): keep one"
    )]
    ChangedTwice { date: Date },

    #[error(
        "`until` = {until} is before the first meeting ({first}): the series would have no \
         meeting; give the date of the last meeting, or remove `until`"
    )]
    UntilBeforeFirst { until: Date, first: Date },

    #[error(
        "the meeting of {date} is moved to {to}, outside the years {}–{}: check the year",
        FIRST_YEARS.start(),
        FIRST_YEARS.end()
    )]
    MoveOutOfRange { date: Date, to: DateTime },

    #[error(
        "the meeting of {date} is moved to {to}, but {problem}: calendar apps disagree on such \
         times (some would show the meeting an hour off, or longer or shorter); choose another \
         time"
    )]
    MoveAcrossClockChange {
        date: Date,
        to: DateTime,
        /// What the clocks do, e.g. "02:30 does not exist in America/Los_Angeles that day
        /// (clocks jump forward)".
        problem: String,
    },

    #[error(
        "no meeting of the series is left: every one is skipped or cancelled, or `until` ends \
         the series before its first meeting is held"
    )]
    NoMeetingLeft,

    #[error(
        "every meeting of the series starts or ends at a wall time that doesn't exist or \
         happens twice in {zone}, or the clocks change during it: calendar apps disagree on \
         such meetings; choose another time (or another `first`)"
    )]
    NoCleanMeeting { zone: String },
}

/// Formats the explanation of a skip or exception date that is not a meeting of the series.
struct DateProblem {
    what: &'static str,
    date: Date,
    first: Date,
    interval_weeks: u32,
    until: Option<Date>,
}

impl fmt::Display for DateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            what,
            date,
            first,
            interval_weeks,
            until,
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
                "{what} {date} is before the first meeting ({first}): remove it"
            );
        }
        if let Some(until) = until.filter(|&until| date > until) {
            return write!(
                f,
                "{what} {date} is after the series ends (`until` = {until}): remove it, or \
                 move `until`"
            );
        }
        write!(
            f,
            "{what} {date} ({}) is not a meeting date: the meetings are {every} on {day} \
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
    /// Validates a schedule without one-off changes or end: see [`Schedule::from_spec`].
    pub fn new(
        tz_name: &str,
        first: DateTime,
        duration_minutes: u32,
        interval_weeks: u32,
        skip: Vec<Date>,
    ) -> Result<Schedule, ScheduleError> {
        Schedule::from_spec(ScheduleSpec {
            tz_name,
            first,
            duration_minutes,
            interval_weeks,
            skip,
            exceptions: Vec::new(),
            until: None,
        })
    }

    /// Validates a schedule.
    ///
    /// `tz_name`: an IANA zone name (matched case-insensitively; [`Schedule::tz_name`] gives the
    /// database's spelling). `first`: local date-time of the first meeting in that zone; the
    /// series repeats on its weekday. Each skip and exception date must be a meeting date of the
    /// series (on or before `until`), each changed once; a meeting is moved to a wall time that
    /// exists once, without a clock change during the meeting; at least one meeting must be held
    /// at a time without such a problem (it becomes the calendar's `DTSTART`).
    pub fn from_spec(spec: ScheduleSpec<'_>) -> Result<Schedule, ScheduleError> {
        let ScheduleSpec {
            tz_name,
            first,
            duration_minutes,
            interval_weeks,
            skip,
            exceptions,
            until,
        } = spec;
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
        if let Some(until) = until.filter(|&until| until < first.date()) {
            return Err(ScheduleError::UntilBeforeFirst {
                until,
                first: first.date(),
            });
        }
        let mut schedule = Schedule {
            tz_name: canonical,
            tz,
            first,
            duration_minutes,
            interval_weeks,
            exceptions: Vec::new(),
            until,
            start_date: first.date(),
        };
        let not_a_meeting = |date: Date, skip: bool| {
            let (first, until) = (first.date(), until);
            if skip {
                ScheduleError::SkipNotAMeetingDate {
                    date,
                    first,
                    interval_weeks,
                    until,
                }
            } else {
                ScheduleError::ExceptionNotAMeetingDate {
                    date,
                    first,
                    interval_weeks,
                    until,
                }
            }
        };
        let mut skip = skip;
        skip.sort();
        skip.dedup();
        if let Some(&date) = skip.iter().find(|&&d| !schedule.is_meeting_date(d)) {
            return Err(not_a_meeting(date, true));
        }
        let mut all: Vec<Exception> = skip
            .into_iter()
            .map(|date| Exception {
                date,
                change: Change::Cancelled,
                note: None,
            })
            .collect();
        for exception in exceptions {
            if !schedule.is_meeting_date(exception.date) {
                return Err(not_a_meeting(exception.date, false));
            }
            if let Change::Moved { to } = exception.change {
                schedule.check_move(exception.date, to)?;
            }
            all.push(Exception {
                note: exception.note.filter(|n| !n.trim().is_empty()),
                ..exception
            });
        }
        all.sort_by_key(|e| e.date);
        if let Some(pair) = all.windows(2).find(|w| w[0].date == w[1].date) {
            return Err(ScheduleError::ChangedTwice { date: pair[0].date });
        }
        schedule.exceptions = all;
        schedule.start_date = schedule.find_start_date()?;
        Ok(schedule)
    }

    /// A moved meeting must start and end at wall times that exist once, with no clock change
    /// in between.
    fn check_move(&self, date: Date, to: DateTime) -> Result<(), ScheduleError> {
        if !FIRST_YEARS.contains(&to.year()) {
            return Err(ScheduleError::MoveOutOfRange { date, to });
        }
        let occurrence = self
            .occurrence_at(to)
            .ok_or(ScheduleError::MoveOutOfRange { date, to })?;
        let zone = &self.tz_name;
        let hhmm = |dt: DateTime| dt.strftime("%H:%M").to_string();
        let ambiguity =
            |local: DateTime, what: &str| match self.tz.to_ambiguous_timestamp(local).offset() {
                AmbiguousOffset::Unambiguous { .. } => None,
                AmbiguousOffset::Gap { .. } => Some(format!(
                    "{what}{} does not exist in {zone} that day (clocks jump forward)",
                    hhmm(local)
                )),
                AmbiguousOffset::Fold { .. } => Some(format!(
                    "{what}{} happens twice in {zone} that day (clocks go back)",
                    hhmm(local)
                )),
            };
        let problem = ambiguity(to, "")
            .or_else(|| {
                self.planned_end(to)
                    .and_then(|end| ambiguity(end, "its end "))
            })
            .or_else(|| {
                (occurrence.start.offset() != occurrence.end.offset())
                    .then(|| format!("the clocks change in {zone} during it"))
            });
        match problem {
            Some(problem) => Err(ScheduleError::MoveAcrossClockChange { date, to, problem }),
            None => Ok(()),
        }
    }

    /// The date of the first meeting held at its usual time without a DST problem.
    fn find_start_date(&self) -> Result<Date, ScheduleError> {
        let mut any_held = false;
        // A DST problem comes back once a year at most, on one date per change of the clocks:
        // a clean date turns up within a few meetings. The bound only stops a pathological
        // zone from looping.
        for date in self.dates().take(4096) {
            match self.exception_on(date).map(|e| e.change) {
                Some(Change::Cancelled) => continue,
                Some(Change::Moved { .. }) => any_held = true,
                None => {
                    any_held = true;
                    let occurrence = self
                        .occurrence_on(date)
                        .ok_or(ScheduleError::NoMeetingLeft)?;
                    if self.dst_note(date, occurrence).is_none() {
                        return Ok(date);
                    }
                }
            }
        }
        if any_held {
            Err(ScheduleError::NoCleanMeeting {
                zone: self.tz_name.clone(),
            })
        } else {
            Err(ScheduleError::NoMeetingLeft)
        }
    }

    /// The IANA name of the zone, as the tz database spells it (used as `TZID`).
    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The local date-time of the first meeting, as configured.
    pub fn first(&self) -> DateTime {
        self.first
    }

    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    pub fn interval_weeks(&self) -> u32 {
        self.interval_weeks
    }

    /// The one-off changes, sorted by date, one per date; skipped dates are cancellations
    /// without a note.
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// The dates of the cancelled meetings (skipped or cancelled), sorted.
    pub fn cancelled_dates(&self) -> impl Iterator<Item = Date> + '_ {
        self.exceptions
            .iter()
            .filter(|e| e.change == Change::Cancelled)
            .map(|e| e.date)
    }

    /// The date the series ends on, if it ends.
    pub fn until(&self) -> Option<Date> {
        self.until
    }

    /// The change made to the meeting of `date`, if any.
    pub fn exception_on(&self, date: Date) -> Option<&Exception> {
        self.exceptions
            .binary_search_by_key(&date, |e| e.date)
            .ok()
            .map(|i| &self.exceptions[i])
    }

    /// Whether the series has a meeting (held or not) on this local date.
    pub fn is_meeting_date(&self, date: Date) -> bool {
        let first = self.first.date();
        if date < first || self.until.is_some_and(|until| date > until) {
            return false;
        }
        let Ok(span) = first.until((Unit::Day, date)) else {
            return false;
        };
        i64::from(span.get_days()) % self.period_days() == 0
    }

    /// The first meeting as configured, as an instant range (whether or not it is held).
    pub fn first_occurrence(&self) -> Occurrence {
        self.occurrence_on(self.first.date())
            .expect("the first meeting is within jiff's range (checked in Schedule::new)")
    }

    /// The calendar's `DTSTART`: the local start of the first meeting that is held at its usual
    /// time, starts and ends at wall times that exist once and has no clock change in between.
    /// Every calendar library reads such a `DTSTART`/`DTEND` pair the same way, and each
    /// meeting's length from it; a `DTSTART` in a gap or fold, or a first meeting across a
    /// change, makes some of them misread every meeting of the series, not just that one.
    pub fn calendar_start(&self) -> DateTime {
        self.start_date.to_datetime(self.first.time())
    }

    /// The DST note of the first meeting as configured (held or not), if it has one: then the
    /// calendar's `DTSTART` is a later meeting.
    pub fn first_meeting_note(&self) -> Option<DstNote> {
        self.dst_note_on(self.first.date())
    }

    /// The DST note of the usual meeting of `date` (a meeting date; held or not), if it has one.
    pub fn dst_note_on(&self, date: Date) -> Option<DstNote> {
        self.dst_note(date, self.occurrence_on(date)?)
    }

    /// The meeting at [`Schedule::calendar_start`].
    pub fn calendar_start_occurrence(&self) -> Occurrence {
        self.occurrence_on(self.start_date)
            .expect("checked in Schedule::from_spec")
    }

    /// The meetings held before [`Schedule::calendar_start`] (at most a few: those with a DST
    /// problem, and moved ones), which the calendar lists one by one.
    pub fn held_before_calendar_start(&self) -> Vec<Occurrence> {
        self.meetings_in_series_order()
            .take_while(|m| m.date < self.start_date)
            .filter(Meeting::is_held)
            .map(|m| m.occurrence)
            .collect()
    }

    /// Every meeting whose time (the new one for a moved meeting, the usual one for a cancelled
    /// one) is at or after `after`, in order of that time: regular, moved and cancelled, with
    /// their notes. The iterator ends with the series (or where jiff's range does).
    pub fn meetings(&self, after: Timestamp) -> impl Iterator<Item = Meeting> + '_ {
        // The changed meetings, a short sorted list, merged into the stream of regular ones
        // (which is in time order, as every period is at least a week).
        let mut changed = self.changed_meetings(after).into_iter().peekable();
        let mut regular = self
            .dates_from(after)
            .filter(|&date| self.exception_on(date).is_none())
            .map_while(|date| {
                Some(Meeting {
                    date,
                    occurrence: self.occurrence_on(date)?,
                    status: MeetingStatus::Regular,
                    note: None,
                })
            })
            .filter(move |m| m.occurrence.start.timestamp() >= after)
            .peekable();
        std::iter::from_fn(move || match (regular.peek(), changed.peek()) {
            (Some(r), Some(c))
                if c.occurrence.start.timestamp() < r.occurrence.start.timestamp() =>
            {
                changed.next()
            }
            (Some(_), _) => regular.next(),
            (None, _) => changed.next(),
        })
    }

    /// The moved and cancelled meetings whose time (the new one for a moved meeting, the usual
    /// one for a cancelled one) is at or after `after`, in order of that time.
    pub fn changed_meetings(&self, after: Timestamp) -> Vec<Meeting> {
        let mut changed: Vec<Meeting> = self
            .exceptions
            .iter()
            .filter_map(|e| self.changed_meeting(e))
            .filter(|m| m.occurrence.start.timestamp() >= after)
            .collect();
        changed.sort_by_key(|m| m.occurrence.start.timestamp());
        changed
    }

    /// The next `n` meetings at or after `after`, cancelled ones included (see
    /// [`Schedule::meetings`]).
    pub fn next_meetings(&self, after: Timestamp, n: usize) -> Vec<Meeting> {
        self.meetings(after).take(n).collect()
    }

    /// The next `n` meetings that are held and start at or after `after`, at their real times
    /// (moved ones at the new time, cancelled ones left out).
    pub fn next_occurrences(&self, after: Timestamp, n: usize) -> Vec<Occurrence> {
        self.meetings(after)
            .filter(Meeting::is_held)
            .take(n)
            .map(|m| m.occurrence)
            .collect()
    }

    /// The meeting of an exception, or `None` outside jiff's range.
    fn changed_meeting(&self, exception: &Exception) -> Option<Meeting> {
        let usual = self.occurrence_on(exception.date)?;
        let (occurrence, status) = match exception.change {
            Change::Cancelled => (usual, MeetingStatus::Cancelled),
            Change::Moved { to } => (
                self.occurrence_at(to)?,
                MeetingStatus::Moved { from: usual },
            ),
        };
        Some(Meeting {
            date: exception.date,
            occurrence,
            status,
            note: exception.note.clone(),
        })
    }

    /// Every meeting from the first, in the order of their usual dates.
    fn meetings_in_series_order(&self) -> impl Iterator<Item = Meeting> + '_ {
        self.dates().map_while(|date| {
            if let Some(exception) = self.exception_on(date) {
                return self.changed_meeting(exception);
            }
            Some(Meeting {
                date,
                occurrence: self.occurrence_on(date)?,
                status: MeetingStatus::Regular,
                note: None,
            })
        })
    }

    /// The meeting dates of the series from the first, held or not, through `until`.
    fn dates(&self) -> impl Iterator<Item = Date> + '_ {
        self.dates_from(Timestamp::MIN)
    }

    /// The meeting dates (held or not) from one period before the date of `after` on, through
    /// `until`: a meeting's instant can fall on the next local day at most (a whole skipped
    /// day, as in Samoa in 2011), never earlier than its date.
    fn dates_from(&self, after: Timestamp) -> impl Iterator<Item = Date> + '_ {
        let period = self.period_days();
        let first = self.first.date();
        let after_date = self.tz.to_datetime(after).date();
        let days = first
            .until((Unit::Day, after_date))
            .map(|span| i64::from(span.get_days()))
            .unwrap_or(0);
        let start = (days.div_euclid(period) - 1).max(0);
        (start..)
            .map_while(move |k| k.checked_mul(period).and_then(|d| add_days(first, d)))
            .take_while(|&date| self.until.is_none_or(|until| date <= until))
    }

    /// The meetings held at their usual time (cancelled and moved ones left out: a moved
    /// meeting has no DST problem) starting in `[from, from + years)` whose configured local
    /// start or end time falls in a DST gap or fold, or during which the clocks change (see
    /// [`DstNoteEdge`]). Years are calendar years in the series' zone; `years <= 0` gives
    /// none.
    pub fn dst_notes(&self, from: Timestamp, years: i64) -> Vec<DstNote> {
        if years <= 0 {
            return Vec::new();
        }
        let until = Span::new()
            .try_years(years)
            .ok()
            .and_then(|span| from.to_zoned(self.tz.clone()).checked_add(span).ok())
            .map_or(Timestamp::MAX, |end| end.timestamp());
        self.meetings(from)
            .take_while(|m| m.occurrence.start.timestamp() < until)
            .filter(|m| m.status == MeetingStatus::Regular)
            .filter_map(|m| self.dst_note(m.date, m.occurrence))
            .collect()
    }

    /// The note for one meeting, if it needs one.
    fn dst_note(&self, date: Date, occurrence: Occurrence) -> Option<DstNote> {
        let planned = date.to_datetime(self.first.time());
        let kind_of = |local: DateTime| match self.tz.to_ambiguous_timestamp(local).offset() {
            AmbiguousOffset::Unambiguous { .. } => None,
            AmbiguousOffset::Gap { .. } => Some(DstNoteKind::Gap),
            AmbiguousOffset::Fold { .. } => Some(DstNoteKind::Fold),
        };
        let (kind, edge) = if let Some(kind) = kind_of(planned) {
            (kind, DstNoteEdge::Start)
        } else if let Some(kind) = self.planned_end(planned).and_then(kind_of) {
            (kind, DstNoteEdge::End)
        } else {
            let (before, after) = (occurrence.start.offset(), occurrence.end.offset());
            let kind = match after.cmp(&before) {
                std::cmp::Ordering::Equal => return None,
                std::cmp::Ordering::Greater => DstNoteKind::Gap,
                std::cmp::Ordering::Less => DstNoteKind::Fold,
            };
            (kind, DstNoteEdge::End)
        };
        Some(DstNote {
            date,
            kind,
            edge,
            actual_start: occurrence.start,
            actual_end: occurrence.end,
        })
    }

    /// The wall-clock end a meeting starting at `start` (local) would have without a change of
    /// the clocks.
    fn planned_end(&self, start: DateTime) -> Option<DateTime> {
        start
            .checked_add(SignedDuration::from_mins(i64::from(self.duration_minutes)))
            .ok()
    }

    /// The recurrence rule, e.g. `FREQ=WEEKLY;INTERVAL=2;BYDAY=MO`, with `;UNTIL=…Z` (the end
    /// of the `until` date, in UTC, as RFC 5545 wants for a `DTSTART` with a `TZID`) when the
    /// series ends.
    pub fn rrule(&self) -> String {
        let mut rule = format!(
            "FREQ=WEEKLY;INTERVAL={};BYDAY={}",
            self.interval_weeks,
            weekday_code(self.first.weekday())
        );
        if let Some(end) = self.until_instant() {
            let utc = end.to_zoned(TimeZone::UTC);
            rule.push_str(&format!(";UNTIL={}", utc.strftime("%Y%m%dT%H%M%SZ")));
        }
        rule
    }

    /// The last second of the `until` date in the series' zone.
    fn until_instant(&self) -> Option<Timestamp> {
        let until = self.until?;
        let last = until.to_datetime(jiff::civil::time(23, 59, 59, 0));
        self.tz
            .to_ambiguous_timestamp(last)
            .later()
            .ok()
            .or(Some(Timestamp::MAX))
    }

    fn period_days(&self) -> i64 {
        i64::from(self.interval_weeks) * 7
    }

    /// The meeting on a local date (assumed to be a meeting date): wall time of `first`,
    /// gap → later, fold → earlier.
    fn occurrence_on(&self, date: Date) -> Option<Occurrence> {
        self.occurrence_at(date.to_datetime(self.first.time()))
    }

    /// A meeting starting at a local date-time: gap → later, fold → earlier.
    fn occurrence_at(&self, local: DateTime) -> Option<Occurrence> {
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
        assert_eq!(
            s.cancelled_dates().collect::<Vec<_>>(),
            [date(2024, 12, 30), date(2025, 12, 29)]
        );
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
                    until: None,
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
                    until: None,
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
                    until: None,
                },
                &["every 3 weeks on Monday", "2024-05-06 and 2024-05-27"],
            ),
            (
                Schedule::new(la, first, 60, 2, vec![date(2024, 4, 22)]),
                ScheduleError::SkipNotAMeetingDate {
                    date: date(2024, 4, 22),
                    first: date(2024, 5, 6),
                    interval_weeks: 2,
                    until: None,
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
        assert_eq!(
            s.cancelled_dates().collect::<Vec<_>>(),
            [date(2024, 5, 6), date(2024, 5, 20)]
        );
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
            if wanted && day >= from && !s.cancelled_dates().any(|d| d == day) {
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

    fn weekly(tz: &str, first: DateTime, minutes: u32) -> Schedule {
        Schedule::new(tz, first, minutes, 1, vec![]).unwrap()
    }

    /// The `n`-th (1-based) or, for `n == -1`, the last `weekday` of a month, by walking its days.
    fn nth_weekday(year: i16, month: i8, weekday: Weekday, n: i32) -> Date {
        let mut days = Vec::new();
        let mut d = date(year, month, 1);
        while d.month() == month {
            if d.weekday() == weekday {
                days.push(d);
            }
            d = d.tomorrow().unwrap();
        }
        if n > 0 {
            days[n as usize - 1]
        } else {
            *days.last().unwrap()
        }
    }

    fn kinds(notes: &[DstNote]) -> Vec<(Date, DstNoteKind, DstNoteEdge)> {
        notes.iter().map(|n| (n.date, n.kind, n.edge)).collect()
    }

    fn zoned(text: &str) -> Zoned {
        text.parse().unwrap()
    }

    #[test]
    fn dst_notes_los_angeles_at_0230_gaps_every_march() {
        let s = weekly("America/Los_Angeles", datetime(2025, 1, 5, 2, 30, 0, 0), 60);
        let notes = s.dst_notes(ts("2025-01-01T00:00:00Z"), 5);
        // 02:30 is in the gap on the second Sunday of March; in November the fold is 01:00–02:00.
        let expected: Vec<_> = (2025..=2029)
            .map(|y| {
                let d = nth_weekday(y, 3, Weekday::Sunday, 2);
                (d, DstNoteKind::Gap, DstNoteEdge::Start)
            })
            .collect();
        assert_eq!(kinds(&notes), expected);
        for note in &notes {
            assert_eq!(note.actual_start.time(), jiff::civil::time(3, 30, 0, 0));
            assert_eq!(note.actual_start.date(), note.date);
            assert_eq!(note.actual_start.offset().seconds(), -7 * 3600);
            assert_eq!(
                note.actual_start
                    .timestamp()
                    .duration_until(note.actual_end.timestamp()),
                SignedDuration::from_hours(1)
            );
        }
        let note = notes.iter().find(|n| n.date == date(2027, 3, 14)).unwrap();
        assert_eq!(
            note.actual_start,
            zoned("2027-03-14T03:30:00-07:00[America/Los_Angeles]")
        );
        assert_eq!(
            note.message(&s),
            "2027-03-14: 02:30 does not exist in America/Los_Angeles (clocks jump forward); \
             that meeting starts at 03:30 PDT"
        );
        // A skipped date has no note; the range is [from, from + years).
        let skipped = Schedule::new(
            "America/Los_Angeles",
            datetime(2025, 1, 5, 2, 30, 0, 0),
            60,
            1,
            vec![date(2027, 3, 14)],
        )
        .unwrap();
        let dates: Vec<Date> = skipped
            .dst_notes(ts("2026-03-08T10:30:00Z"), 2)
            .iter()
            .map(|n| n.date)
            .collect();
        // 2026-03-08 starts at 10:30 UTC exactly (included); 2028-03-12 is past 2028-03-08.
        assert_eq!(dates, [date(2026, 3, 8)]);
        assert!(s.dst_notes(ts("2025-01-01T00:00:00Z"), 0).is_empty());
        assert!(s.dst_notes(ts("2025-01-01T00:00:00Z"), -3).is_empty());
    }

    #[test]
    fn dst_notes_los_angeles_at_0130_folds_every_november_and_ends_in_the_gap() {
        let s = weekly("America/Los_Angeles", datetime(2025, 1, 5, 1, 30, 0, 0), 60);
        let notes = s.dst_notes(ts("2025-01-01T00:00:00Z"), 3);
        let mut expected = Vec::new();
        for y in 2025..=2027 {
            // 01:30 + 60 min = 02:30, in March's gap; 01:30 itself is in November's fold.
            expected.push((
                nth_weekday(y, 3, Weekday::Sunday, 2),
                DstNoteKind::Gap,
                DstNoteEdge::End,
            ));
            expected.push((
                nth_weekday(y, 11, Weekday::Sunday, 1),
                DstNoteKind::Fold,
                DstNoteEdge::Start,
            ));
        }
        assert_eq!(kinds(&notes), expected);
        let fold = notes.iter().find(|n| n.date == date(2027, 11, 7)).unwrap();
        assert_eq!(
            fold.actual_start,
            zoned("2027-11-07T01:30:00-07:00[America/Los_Angeles]")
        );
        assert_eq!(
            fold.message(&s),
            "2027-11-07: 01:30 happens twice in America/Los_Angeles (clocks go back); that \
             meeting starts at the first 01:30 (PDT)"
        );
        let gap_end = notes.iter().find(|n| n.date == date(2027, 3, 14)).unwrap();
        assert_eq!(
            gap_end.actual_end,
            zoned("2027-03-14T03:30:00-07:00[America/Los_Angeles]")
        );
        assert_eq!(
            gap_end.message(&s),
            "2027-03-14: the end time 02:30 does not exist in America/Los_Angeles (clocks jump \
             forward); that meeting runs 01:30 PST – 03:30 PDT (60 minutes)"
        );
    }

    #[test]
    fn dst_notes_when_the_clocks_change_during_a_meeting() {
        // 00:00–03:00: neither end is in a gap or fold, but the clocks change in between.
        let s = weekly("America/Los_Angeles", datetime(2027, 1, 3, 0, 0, 0, 0), 180);
        let notes = s.dst_notes(ts("2027-01-01T00:00:00Z"), 1);
        assert_eq!(
            kinds(&notes),
            [
                (date(2027, 3, 14), DstNoteKind::Gap, DstNoteEdge::End),
                (date(2027, 11, 7), DstNoteKind::Fold, DstNoteEdge::End),
            ]
        );
        assert_eq!(
            notes[0].message(&s),
            "2027-03-14: clocks jump forward in America/Los_Angeles during the meeting; that \
             meeting runs 00:00 PST – 04:00 PDT (180 minutes)"
        );
        assert_eq!(
            notes[1].message(&s),
            "2027-11-07: clocks go back in America/Los_Angeles during the meeting; that meeting \
             runs 00:00 PDT – 02:00 PST (180 minutes)"
        );
        // An end in the fold that comes before the change: the first 01:30.
        let s = weekly("America/Los_Angeles", datetime(2027, 1, 3, 0, 30, 0, 0), 60);
        let notes = s.dst_notes(ts("2027-06-01T00:00:00Z"), 1);
        assert_eq!(
            kinds(&notes),
            [(date(2027, 11, 7), DstNoteKind::Fold, DstNoteEdge::End),]
        );
        assert_eq!(
            notes[0].message(&s),
            "2027-11-07: the end time 01:30 happens twice in America/Los_Angeles (clocks go \
             back); that meeting runs 00:30 PDT – 01:30 PDT (60 minutes)"
        );
    }

    #[test]
    fn dst_notes_lord_howe_half_hour_shift() {
        // Lord Howe: 02:00 → 02:30 on the first Sunday of October, 02:00 → 01:30 on the first
        // Sunday of April.
        let s = weekly("Australia/Lord_Howe", datetime(2025, 1, 5, 2, 10, 0, 0), 30);
        let notes = s.dst_notes(ts("2025-01-01T00:00:00Z"), 3);
        let expected: Vec<_> = (2025..=2027)
            .map(|y| {
                let d = nth_weekday(y, 10, Weekday::Sunday, 1);
                (d, DstNoteKind::Gap, DstNoteEdge::Start)
            })
            .collect();
        assert_eq!(kinds(&notes), expected);
        assert_eq!(
            notes[0].actual_start,
            zoned("2025-10-05T02:40:00+11:00[Australia/Lord_Howe]")
        );
        let abbreviation = notes[0].actual_start.strftime("%Z").to_string();
        assert_eq!(
            notes[0].message(&s),
            format!(
                "2025-10-05: 02:10 does not exist in Australia/Lord_Howe (clocks jump forward); \
                 that meeting starts at 02:40 {abbreviation}"
            )
        );

        let s = weekly("Australia/Lord_Howe", datetime(2025, 1, 5, 1, 45, 0, 0), 60);
        let notes = s.dst_notes(ts("2025-01-01T00:00:00Z"), 1);
        assert_eq!(
            kinds(&notes),
            [
                (date(2025, 4, 6), DstNoteKind::Fold, DstNoteEdge::Start),
                // 01:45 + 60 min = 02:45 exists, but the clocks jump at 02:00: ends at 03:15.
                (date(2025, 10, 5), DstNoteKind::Gap, DstNoteEdge::End),
            ]
        );
        assert_eq!(
            notes[0].actual_start,
            zoned("2025-04-06T01:45:00+11:00[Australia/Lord_Howe]")
        );
        assert_eq!(
            notes[1].actual_end,
            zoned("2025-10-05T03:15:00+11:00[Australia/Lord_Howe]")
        );
        assert!(
            notes[0]
                .message(&s)
                .starts_with("2025-04-06: 01:45 happens twice in Australia/Lord_Howe (clocks go back); that meeting starts at the first 01:45 ("),
            "{}",
            notes[0].message(&s)
        );
    }

    #[test]
    fn dst_notes_berlin_at_0230_gap_in_march_fold_in_october() {
        let s = weekly("Europe/Berlin", datetime(2025, 1, 5, 2, 30, 0, 0), 45);
        let notes = s.dst_notes(ts("2025-01-01T00:00:00Z"), 4);
        let mut expected = Vec::new();
        for y in 2025..=2028 {
            expected.push((
                nth_weekday(y, 3, Weekday::Sunday, -1),
                DstNoteKind::Gap,
                DstNoteEdge::Start,
            ));
            expected.push((
                nth_weekday(y, 10, Weekday::Sunday, -1),
                DstNoteKind::Fold,
                DstNoteEdge::Start,
            ));
        }
        assert_eq!(kinds(&notes), expected);
        let messages: Vec<String> = notes[..2].iter().map(|n| n.message(&s)).collect();
        assert_eq!(
            messages,
            [
                "2025-03-30: 02:30 does not exist in Europe/Berlin (clocks jump forward); that \
                 meeting starts at 03:30 CEST",
                "2025-10-26: 02:30 happens twice in Europe/Berlin (clocks go back); that \
                 meeting starts at the first 02:30 (CEST)",
            ]
        );
        assert_eq!(
            notes[1].actual_start,
            zoned("2025-10-26T02:30:00+02:00[Europe/Berlin]")
        );
    }

    #[test]
    fn dst_notes_none_for_ordinary_times_and_zones_without_dst() {
        assert!(
            la_series()
                .dst_notes(ts("2024-01-01T00:00:00Z"), 10)
                .is_empty()
        );
        for (tz, first) in [
            ("Europe/Berlin", datetime(2025, 1, 5, 8, 0, 0, 0)),
            ("Australia/Sydney", datetime(2025, 1, 5, 9, 30, 0, 0)),
            ("Asia/Kolkata", datetime(2025, 1, 5, 2, 30, 0, 0)),
            ("UTC", datetime(2025, 1, 5, 2, 30, 0, 0)),
        ] {
            let s = weekly(tz, first, 60);
            assert!(
                s.dst_notes(ts("2025-01-01T00:00:00Z"), 10).is_empty(),
                "{tz}"
            );
        }
    }

    #[test]
    fn dst_notes_a_whole_day_skipped_in_samoa() {
        // Samoa skipped 30 December 2011 (UTC-10 → UTC+14): that meeting moves a day later.
        let s = weekly("Pacific/Apia", datetime(2011, 12, 2, 10, 0, 0, 0), 60);
        let notes = s.dst_notes(ts("2011-12-01T00:00:00Z"), 1);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(
            (notes[0].date, notes[0].kind, notes[0].edge),
            (date(2011, 12, 30), DstNoteKind::Gap, DstNoteEdge::Start)
        );
        assert!(
            notes[0]
                .message(&s)
                .ends_with("that meeting starts at 2011-12-31 10:00 +14"),
            "{}",
            notes[0].message(&s)
        );
    }

    /// Independent: the ways a wall time can be read, from the offsets a day before and after.
    fn classify(tz: &TimeZone, local: DateTime) -> Option<DstNoteKind> {
        let naive = local.to_zoned(TimeZone::UTC).unwrap().timestamp();
        let day = SignedDuration::from_hours(26);
        let mut readings: Vec<Timestamp> = [tz.to_offset(naive - day), tz.to_offset(naive + day)]
            .into_iter()
            .map(|o| naive - SignedDuration::from_secs(i64::from(o.seconds())))
            .filter(|&t| tz.to_datetime(t) == local)
            .collect();
        readings.dedup();
        match readings.len() {
            0 => Some(DstNoteKind::Gap),
            1 => None,
            _ => Some(DstNoteKind::Fold),
        }
    }

    #[test]
    fn dst_notes_match_an_independent_classification() {
        let cases = [
            ("America/Los_Angeles", datetime(2024, 1, 7, 1, 30, 0, 0), 60),
            ("America/Los_Angeles", datetime(2024, 1, 7, 2, 0, 0, 0), 30),
            (
                "America/Los_Angeles",
                datetime(2024, 1, 7, 0, 45, 0, 0),
                120,
            ),
            ("Europe/Berlin", datetime(2024, 1, 7, 1, 30, 0, 0), 90),
            ("Europe/Berlin", datetime(2024, 1, 7, 2, 59, 0, 0), 15),
            ("Australia/Lord_Howe", datetime(2024, 1, 7, 1, 40, 0, 0), 30),
            ("Australia/Sydney", datetime(2024, 1, 7, 2, 30, 0, 0), 60),
            ("America/Sao_Paulo", datetime(2017, 1, 1, 0, 0, 0, 0), 60),
            ("America/Santiago", datetime(2024, 1, 6, 23, 30, 0, 0), 60),
            ("Pacific/Chatham", datetime(2024, 1, 7, 2, 50, 0, 0), 30),
            ("Asia/Tehran", datetime(2020, 3, 1, 23, 30, 0, 0), 60),
        ];
        for (tz, first, minutes) in cases {
            let s = weekly(tz, first, minutes);
            let zone = s.time_zone().clone();
            let from = first.to_zoned(zone.clone()).unwrap().timestamp();
            let notes = s.dst_notes(from, 6);
            let mut expected = Vec::new();
            let mut day = first.date();
            let last = first.date().checked_add(Span::new().years(6)).unwrap();
            while day < last {
                let start_local = day.to_datetime(first.time());
                let start = local_to_instant(&zone, start_local);
                let end = start + SignedDuration::from_mins(i64::from(minutes));
                let planned_end = start_local + SignedDuration::from_mins(i64::from(minutes));
                let shift = zone.to_offset(end).seconds() - zone.to_offset(start).seconds();
                let note = if let Some(kind) = classify(&zone, start_local) {
                    Some((kind, DstNoteEdge::Start))
                } else if let Some(kind) = classify(&zone, planned_end) {
                    Some((kind, DstNoteEdge::End))
                } else if shift > 0 {
                    Some((DstNoteKind::Gap, DstNoteEdge::End))
                } else if shift < 0 {
                    Some((DstNoteKind::Fold, DstNoteEdge::End))
                } else {
                    None
                };
                if let Some((kind, edge)) = note {
                    expected.push((day, kind, edge));
                }
                day = day.checked_add(Span::new().days(7)).unwrap();
            }
            assert_eq!(kinds(&notes), expected, "{tz} {first}");
            if !["America/Sao_Paulo", "Asia/Tehran"].contains(&tz) {
                assert!(expected.len() >= 6, "{tz} {first}: {expected:?}");
            }
            for note in &notes {
                assert_eq!(
                    note.actual_start.timestamp(),
                    local_to_instant(&zone, note.date.to_datetime(first.time()))
                );
            }
        }
    }

    fn spec(
        tz: &'static str,
        first: DateTime,
        minutes: u32,
        interval: u32,
    ) -> ScheduleSpec<'static> {
        ScheduleSpec {
            tz_name: tz,
            first,
            duration_minutes: minutes,
            interval_weeks: interval,
            skip: Vec::new(),
            exceptions: Vec::new(),
            until: None,
        }
    }

    fn cancel(day: Date, note: Option<&str>) -> Exception {
        Exception {
            date: day,
            change: Change::Cancelled,
            note: note.map(str::to_string),
        }
    }

    fn move_to(day: Date, to: DateTime, note: Option<&str>) -> Exception {
        Exception {
            date: day,
            change: Change::Moved { to },
            note: note.map(str::to_string),
        }
    }

    #[test]
    fn the_calendar_starts_at_the_first_meeting_without_a_dst_problem() {
        // (zone, first, minutes, interval, skips, the calendar's DTSTART)
        let cases = [
            // Ordinary: the first meeting.
            (
                "America/Los_Angeles",
                datetime(2024, 5, 6, 8, 0, 0, 0),
                60,
                2,
                vec![],
                datetime(2024, 5, 6, 8, 0, 0, 0),
            ),
            // In the gap: the next week.
            (
                "America/Los_Angeles",
                datetime(2025, 3, 9, 2, 30, 0, 0),
                60,
                1,
                vec![],
                datetime(2025, 3, 16, 2, 30, 0, 0),
            ),
            // In the fold.
            (
                "Europe/Berlin",
                datetime(2025, 10, 26, 2, 30, 0, 0),
                30,
                1,
                vec![],
                datetime(2025, 11, 2, 2, 30, 0, 0),
            ),
            // Across the change (00:00 PST – 03:00 PDT), the next one skipped.
            (
                "America/Los_Angeles",
                datetime(2025, 3, 9, 0, 0, 0, 0),
                120,
                1,
                vec![date(2025, 3, 16)],
                datetime(2025, 3, 23, 0, 0, 0, 0),
            ),
            // Ending in Lord Howe's 30-minute fold.
            (
                "Australia/Lord_Howe",
                datetime(2025, 4, 6, 1, 0, 0, 0),
                45,
                2,
                vec![],
                datetime(2025, 4, 20, 1, 0, 0, 0),
            ),
            // A skipped first meeting without a problem: the next one.
            (
                "Asia/Kolkata",
                datetime(2025, 1, 9, 23, 30, 0, 0),
                60,
                3,
                vec![date(2025, 1, 9)],
                datetime(2025, 1, 30, 23, 30, 0, 0),
            ),
        ];
        for (tz, first, minutes, interval, skip, start) in cases {
            let s = Schedule::from_spec(ScheduleSpec {
                skip,
                ..spec(tz, first, minutes, interval)
            })
            .unwrap();
            assert_eq!(s.calendar_start(), start, "{tz} {first}");
            let o = s.calendar_start_occurrence();
            assert!(s.dst_note_on(start.date()).is_none());
            assert_eq!(o.start.datetime(), start);
            // DTEND's wall time is the start's plus the length: the length every reader takes.
            assert_eq!(
                o.end.datetime(),
                start + SignedDuration::from_mins(i64::from(minutes))
            );
            assert_eq!(
                s.first_meeting_note().is_some(),
                start.date() != first.date() && !s.cancelled_dates().any(|d| d == first.date()),
                "{tz} {first}"
            );
            // The meetings held before it are listed on their own (the first one with its DST
            // problem; a skipped one not).
            let before: Vec<Timestamp> = s
                .held_before_calendar_start()
                .iter()
                .map(|o| o.start.timestamp())
                .collect();
            let expected: Vec<Timestamp> = s
                .next_occurrences(Timestamp::MIN, 10)
                .iter()
                .map(|o| o.start.timestamp())
                .filter(|&t| t < o.start.timestamp())
                .collect();
            assert_eq!(before, expected, "{tz} {first}");
        }
        // A moved first meeting is not the calendar's start either.
        let s = Schedule::from_spec(ScheduleSpec {
            exceptions: vec![move_to(
                date(2024, 5, 6),
                datetime(2024, 5, 7, 9, 0, 0, 0),
                None,
            )],
            ..spec(
                "America/Los_Angeles",
                datetime(2024, 5, 6, 8, 0, 0, 0),
                60,
                2,
            )
        })
        .unwrap();
        assert_eq!(s.calendar_start(), datetime(2024, 5, 20, 8, 0, 0, 0));
        assert_eq!(
            s.held_before_calendar_start()[0].start.timestamp(),
            ts("2024-05-07T16:00:00Z")
        );
    }

    #[test]
    fn meetings_show_moved_and_cancelled_ones_in_time_order_with_their_notes() {
        let la = "America/Los_Angeles";
        let s = Schedule::from_spec(ScheduleSpec {
            skip: vec![date(2026, 12, 14)],
            exceptions: vec![
                cancel(date(2026, 12, 28), Some("Holidays")),
                // Moved a day later, and one moved before the previous meeting.
                move_to(
                    date(2027, 1, 11),
                    datetime(2027, 1, 12, 9, 0, 0, 0),
                    Some("MLK"),
                ),
                move_to(date(2027, 2, 8), datetime(2027, 1, 20, 7, 0, 0, 0), None),
            ],
            ..spec(la, datetime(2024, 5, 6, 8, 0, 0, 0), 60, 2)
        })
        .unwrap();
        let meetings = s.next_meetings(ts("2026-12-01T00:00:00Z"), 8);
        let seen: Vec<(Date, String, &'static str, Option<&str>)> = meetings
            .iter()
            .map(|m| {
                let status = match m.status {
                    MeetingStatus::Regular => "regular",
                    MeetingStatus::Moved { .. } => "moved",
                    MeetingStatus::Cancelled => "cancelled",
                };
                (
                    m.date,
                    m.occurrence.start.timestamp().to_string(),
                    status,
                    m.note.as_deref(),
                )
            })
            .collect();
        let t = |s: &str| s.to_string();
        assert_eq!(
            seen,
            [
                (
                    date(2026, 12, 14),
                    t("2026-12-14T16:00:00Z"),
                    "cancelled",
                    None
                ),
                (
                    date(2026, 12, 28),
                    t("2026-12-28T16:00:00Z"),
                    "cancelled",
                    Some("Holidays")
                ),
                (
                    date(2027, 1, 11),
                    t("2027-01-12T17:00:00Z"),
                    "moved",
                    Some("MLK")
                ),
                (date(2027, 2, 8), t("2027-01-20T15:00:00Z"), "moved", None),
                (
                    date(2027, 1, 25),
                    t("2027-01-25T16:00:00Z"),
                    "regular",
                    None
                ),
                (
                    date(2027, 2, 22),
                    t("2027-02-22T16:00:00Z"),
                    "regular",
                    None
                ),
                (date(2027, 3, 8), t("2027-03-08T16:00:00Z"), "regular", None),
                (
                    date(2027, 3, 22),
                    t("2027-03-22T15:00:00Z"),
                    "regular",
                    None
                ),
            ]
        );
        let MeetingStatus::Moved { from } = &meetings[2].status else {
            panic!("{meetings:?}")
        };
        assert_eq!(from.start.timestamp(), ts("2027-01-11T16:00:00Z"));
        // What happens: cancelled ones left out, moved ones at their new time.
        assert_eq!(
            starts(&s.next_occurrences(ts("2026-12-01T00:00:00Z"), 4)),
            [
                "2027-01-12T17:00:00Z",
                "2027-01-20T15:00:00Z",
                "2027-01-25T16:00:00Z",
                "2027-02-22T16:00:00Z"
            ]
        );
        // A moved meeting counts from its new time.
        assert_eq!(
            starts(&s.next_occurrences(ts("2027-01-12T00:00:00Z"), 1)),
            ["2027-01-12T17:00:00Z"]
        );
        assert_eq!(
            s.changed_meetings(ts("2027-01-13T00:00:00Z"))
                .iter()
                .map(|m| m.date)
                .collect::<Vec<_>>(),
            [date(2027, 2, 8)]
        );
        assert_eq!(
            s.cancelled_dates().collect::<Vec<_>>(),
            [date(2026, 12, 14), date(2026, 12, 28)]
        );
        assert_eq!(
            s.exception_on(date(2027, 1, 11)).unwrap().note.as_deref(),
            Some("MLK")
        );
        assert!(s.exception_on(date(2027, 1, 25)).is_none());
    }

    #[test]
    fn until_ends_the_series() {
        let s = Schedule::from_spec(ScheduleSpec {
            until: Some(date(2027, 6, 30)),
            ..spec("Australia/Sydney", datetime(2024, 5, 6, 18, 0, 0, 0), 60, 2)
        })
        .unwrap();
        assert_eq!(s.until(), Some(date(2027, 6, 30)));
        let last = s.next_occurrences(ts("2027-06-01T00:00:00Z"), 10);
        assert_eq!(
            last.iter().map(|o| o.start.date()).collect::<Vec<_>>(),
            [date(2027, 6, 14), date(2027, 6, 28)]
        );
        assert!(s.is_meeting_date(date(2027, 6, 28)));
        assert!(!s.is_meeting_date(date(2027, 7, 12)));
        // UNTIL is the last second of that day in Sydney, in UTC.
        assert_eq!(
            s.rrule(),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;UNTIL=20270630T135959Z"
        );
        // `until` on the first meeting's date: one meeting.
        let one = Schedule::from_spec(ScheduleSpec {
            until: Some(date(2024, 5, 6)),
            ..spec("UTC", datetime(2024, 5, 6, 18, 0, 0, 0), 60, 2)
        })
        .unwrap();
        assert_eq!(one.next_occurrences(Timestamp::MIN, 5).len(), 1);
    }

    #[test]
    fn invalid_changes_are_rejected_with_helpful_messages() {
        let la = "America/Los_Angeles";
        let base = spec(la, datetime(2024, 5, 6, 8, 0, 0, 0), 60, 2);
        let cases: Vec<(ScheduleSpec<'static>, &[&str])> = vec![
            (
                ScheduleSpec {
                    exceptions: vec![cancel(date(2026, 12, 29), None)],
                    ..base.clone()
                },
                &[
                    "exception date 2026-12-29 (Tuesday) is not a meeting date",
                    "every other week on Monday starting 2024-05-06",
                    "nearest meeting dates are 2026-12-28 and 2027-01-11",
                ],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![cancel(date(2027, 7, 12), None)],
                    until: Some(date(2027, 6, 30)),
                    ..base.clone()
                },
                &["exception date 2027-07-12 is after the series ends (`until` = 2027-06-30)"],
            ),
            (
                ScheduleSpec {
                    skip: vec![date(2027, 7, 12)],
                    until: Some(date(2027, 6, 30)),
                    ..base.clone()
                },
                &["skip date 2027-07-12 is after the series ends"],
            ),
            (
                ScheduleSpec {
                    skip: vec![date(2026, 12, 28)],
                    exceptions: vec![cancel(date(2026, 12, 28), Some("x"))],
                    ..base.clone()
                },
                &["the meeting of 2026-12-28 is changed twice"],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![
                        cancel(date(2026, 12, 28), None),
                        move_to(date(2026, 12, 28), datetime(2026, 12, 29, 9, 0, 0, 0), None),
                    ],
                    ..base.clone()
                },
                &["changed twice"],
            ),
            (
                ScheduleSpec {
                    until: Some(date(2024, 5, 5)),
                    ..base.clone()
                },
                &["`until` = 2024-05-05 is before the first meeting (2024-05-06)"],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![move_to(
                        date(2027, 3, 8),
                        datetime(2027, 3, 14, 2, 30, 0, 0),
                        None,
                    )],
                    ..base.clone()
                },
                &[
                    "the meeting of 2027-03-08 is moved to 2027-03-14T02:30:00",
                    "02:30 does not exist in America/Los_Angeles that day (clocks jump forward)",
                    "calendar apps disagree",
                    "choose another time",
                ],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![move_to(
                        date(2026, 11, 2),
                        datetime(2026, 11, 1, 1, 15, 0, 0),
                        None,
                    )],
                    ..base.clone()
                },
                &["01:15 happens twice in America/Los_Angeles that day (clocks go back)"],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![move_to(
                        date(2026, 11, 2),
                        datetime(2026, 11, 1, 0, 45, 0, 0),
                        None,
                    )],
                    ..base.clone()
                },
                &["its end 01:45 happens twice"],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![move_to(
                        date(2027, 3, 8),
                        datetime(2027, 3, 14, 1, 30, 0, 0),
                        None,
                    )],
                    duration_minutes: 120,
                    ..base.clone()
                },
                &["the clocks change in America/Los_Angeles during it"],
            ),
            (
                ScheduleSpec {
                    exceptions: vec![move_to(
                        date(2024, 5, 20),
                        datetime(2224, 5, 21, 9, 0, 0, 0),
                        None,
                    )],
                    ..base.clone()
                },
                &["moved to 2224-05-21T09:00:00, outside the years 1970–2199"],
            ),
            (
                ScheduleSpec {
                    skip: vec![date(2024, 5, 6)],
                    until: Some(date(2024, 5, 19)),
                    ..base.clone()
                },
                &["no meeting of the series is left"],
            ),
            (
                // One meeting, in the gap.
                ScheduleSpec {
                    until: Some(date(2025, 3, 9)),
                    ..spec(la, datetime(2025, 3, 9, 2, 30, 0, 0), 60, 1)
                },
                &[
                    "every meeting of the series starts or ends at a wall time",
                    "America/Los_Angeles",
                ],
            ),
        ];
        for (spec, fragments) in cases {
            let error = Schedule::from_spec(spec).unwrap_err();
            let message = error.to_string();
            for fragment in fragments {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            }
        }
        // The clocks changing during a moved meeting (00:30 PST – 03:30 PDT: its wall-clock end,
        // 02:30, does not exist).
        let error = Schedule::from_spec(ScheduleSpec {
            exceptions: vec![move_to(
                date(2027, 3, 8),
                datetime(2027, 3, 14, 0, 30, 0, 0),
                None,
            )],
            duration_minutes: 120,
            ..base.clone()
        })
        .unwrap_err();
        assert!(matches!(error, ScheduleError::MoveAcrossClockChange { .. }));
        assert!(
            error.to_string().contains("its end 02:30 does not exist"),
            "{error}"
        );
        // Empty notes are no notes.
        let s = Schedule::from_spec(ScheduleSpec {
            exceptions: vec![cancel(date(2026, 12, 28), Some("  "))],
            ..base
        })
        .unwrap();
        assert_eq!(s.exceptions()[0].note, None);
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
