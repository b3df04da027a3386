//! `VTIMEZONE` components built from the tz database (jiff's bundled copy).
//!
//! # Approach
//!
//! Each observance (`STANDARD` / `DAYLIGHT`) is one real transition of the zone: `DTSTART` is
//! the local wall time just before the change, in the old offset (RFC 5545 §3.6.5),
//! `TZOFFSETFROM` the old offset, `TZOFFSETTO` the new one, `TZNAME` the new abbreviation, and
//! `DAYLIGHT` when the tz database flags the new period as DST (except "negative DST", as in
//! Europe/Dublin, where the lower offset is flagged: that one is written as `STANDARD`, the way
//! clients and most generators expect).
//!
//! 1. The first transition written is the last one at or before [`COVER_BEFORE`] ahead of
//!    `from` (the series' first meeting), so every instant from then on is covered, and a local
//!    time reads right even when it falls in the gap or fold of a transition just before the
//!    meeting's instant (a client needs the observance *before* that transition to see the gap);
//!    then every transition up to `until`. A `STANDARD` observance with the offset in effect
//!    before it comes first, from 1970.
//! 2. The ongoing rule. jiff does not expose the zone's POSIX rule, so it is *derived and
//!    verified*: the transitions of the [`RULE_CHECK_YEARS`] years after `until` must alternate
//!    between two kinds (offsets, abbreviation, DST flag), each on one local date-time per year
//!    that a yearly `RRULE` describes exactly (n-th or last weekday of a month, a fixed day, or a
//!    weekday within a 7-day range). If so, the tail of explicit transitions that already follows
//!    that rule is replaced by two observances with that `RRULE` (no end), which stay correct
//!    for as long as the tz database's current rule does. For Los Angeles that gives the usual
//!    pair of `RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU` / `BYMONTH=11;BYDAY=1SU`. When the rule
//!    describes every transition from `from` on, its two observances start in 1970, as most
//!    senders write them: vobject (Radicale and other servers) compares a zone with UTC over
//!    2000–2020 and takes one without transitions there at +00:00 for UTC, which made every
//!    winter meeting in Europe/London an hour early.
//!    If the check fails (e.g. Morocco, whose DST follows Ramadan), the explicit transitions up
//!    to `until` are all there is: after `until` the last offset simply continues, so the caller
//!    passes a generous `until` (the invitation uses 10 years after `DTSTAMP`).
//! 3. A zone with no transition after `from` (Asia/Kolkata, UTC, America/Sao_Paulo since 2019)
//!    gets a single `STANDARD` with `TZOFFSETFROM` = `TZOFFSETTO` and `DTSTART:19700101T000000`.
//!
//! Every `VTIMEZONE` thus starts in 1970 and is exact (the tz database's offsets) from a little
//! before the series' first meeting on; before that it says what the first transition finds.
//!
//! The unit tests read the output back with the `icalendar` parser and an independent
//! interpreter, and compare it hour by hour with jiff around every transition.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{Offset, TimeZone, TimeZoneTransition};
use jiff::{SignedDuration, Timestamp};

use super::schedule::weekday_code;
use super::text::{ContentLines, escape_text, format_local, format_offset};

/// How many years after `until` the derived yearly rule is checked against the tz database.
pub const RULE_CHECK_YEARS: i64 = 40;

/// How long before `from` the `VTIMEZONE` starts being exact: more than the largest difference
/// between a local wall time and its instant (offsets reach ±14 h, and Samoa skipped a whole day).
pub const COVER_BEFORE: SignedDuration = SignedDuration::from_hours(48);

/// The `VTIMEZONE` for `tz` under the name `tz_name` (the `TZID`), correct for every instant from
/// [`COVER_BEFORE`] before `from` through `until`, and beyond `until` when the zone follows a
/// yearly rule (see the module documentation). Returns CRLF-ended, folded lines from
/// `BEGIN:VTIMEZONE` to `END:VTIMEZONE`.
pub fn vtimezone(tz_name: &str, tz: &TimeZone, from: Timestamp, until: Timestamp) -> String {
    let until = until.max(from);
    let from = from.checked_sub(COVER_BEFORE).unwrap_or(from);
    // The last real transition at or before `from`.
    let at_or_before = from
        .checked_add(SignedDuration::from_nanos(1))
        .unwrap_or(from);
    let onset = tz
        .preceding(at_or_before)
        .find_map(|t| Transition::from_tz(tz, &t));
    let inside: Vec<Transition> = transitions(tz, from, until);
    let check_end = until
        .checked_add(SignedDuration::from_hours(RULE_CHECK_YEARS * 8766))
        .unwrap_or(Timestamp::MAX);
    let tail = transitions(tz, until, check_end);

    let mut lines = ContentLines::new();
    lines.push("BEGIN:VTIMEZONE");
    lines.push(&format!("TZID:{}", escape_text(tz_name)));

    if inside.is_empty() && tail.is_empty() {
        // A fixed offset for the whole range.
        write_observance(&mut lines, &fixed_observance(tz, from));
    } else {
        let explicit: Vec<Transition> = onset.into_iter().chain(inside).collect();
        let (explicit, ruled) = match YearlyPair::derive(&tail, check_end) {
            Some(pair) => {
                let keep = pair.explicit_prefix_len(&explicit, &tail);
                let mut ruled = explicit[keep..].to_vec();
                ruled.extend(tail.iter().take(2).cloned());
                (explicit[..keep].to_vec(), Some((pair, ruled)))
            }
            None => (explicit, None),
        };
        match explicit.first() {
            // From 1970 on, the offset in effect before the first transition written.
            Some(first) if first.local() > epoch() => {
                write_observance(&mut lines, &offset_before(tz, first));
            }
            Some(_) => {}
            // No transition before the rule: the rule's observances start in 1970.
            None if ruled.is_some() => {}
            None => write_observance(&mut lines, &fixed_observance(tz, from)),
        }
        for t in &explicit {
            write_observance(&mut lines, &t.observance(None));
        }
        if let Some((pair, ruled)) = ruled {
            for rule in [&pair.a, &pair.b] {
                let first = ruled
                    .iter()
                    .find(|t| t.kind() == rule.kind)
                    .expect("a verified rule has occurrences in the checked range");
                let mut observance = first.observance(Some(rule.rule.rrule()));
                if explicit.is_empty() {
                    // The rule describes every transition from `from` on: start it in 1970, as
                    // most senders do. A reader that compares the zone with others over past
                    // years (vobject does, over 2000–2020, and takes a zone without transitions
                    // there at +00:00 for UTC) then sees the zone's real rule.
                    observance.start = rule.rule.first_from(EPOCH_YEAR);
                }
                write_observance(&mut lines, &observance);
            }
        }
    }
    lines.push("END:VTIMEZONE");
    lines.finish()
}

/// The year every `VTIMEZONE` starts in.
const EPOCH_YEAR: i16 = 1970;

/// 1970-01-01T00:00, where every `VTIMEZONE` starts.
fn epoch() -> DateTime {
    jiff::civil::datetime(EPOCH_YEAR, 1, 1, 0, 0, 0, 0)
}

/// One `STANDARD` observance with the offset in effect at `from`, from 1970 (or earlier, if `from`
/// is) on.
fn fixed_observance(tz: &TimeZone, from: Timestamp) -> Observance {
    let info = tz.to_offset_info(from);
    let local = info.offset().to_datetime(from);
    fixed_from(info.offset(), info.abbreviation(), local)
}

/// One `STANDARD` observance from 1970 (or `local`'s midnight, if earlier) with the offset in
/// effect just before `transition`: the zone as the first written transition finds it.
fn offset_before(tz: &TimeZone, transition: &Transition) -> Observance {
    let before = transition
        .at
        .checked_sub(SignedDuration::from_nanos(1))
        .unwrap_or(transition.at);
    let info = tz.to_offset_info(before);
    fixed_from(transition.from, info.abbreviation(), transition.local())
}

fn fixed_from(offset: Offset, name: &str, local: DateTime) -> Observance {
    let start = if local < epoch() {
        local.date().to_datetime(Time::midnight())
    } else {
        epoch()
    };
    Observance {
        daylight: false,
        start,
        from: offset,
        to: offset,
        name: name.to_string(),
        rrule: None,
    }
}

/// The transitions in `(after, until]`.
fn transitions(tz: &TimeZone, after: Timestamp, until: Timestamp) -> Vec<Transition> {
    tz.following(after)
        .take_while(|t| t.timestamp() <= until)
        .filter_map(|t| Transition::from_tz(tz, &t))
        .collect()
}

/// One change of offset (or of abbreviation or DST flag).
#[derive(Clone, Debug)]
struct Transition {
    at: Timestamp,
    from: Offset,
    to: Offset,
    name: String,
    daylight: bool,
}

/// What must be equal for two transitions to be occurrences of one yearly rule.
type Kind = (Offset, Offset, String, bool);

impl Transition {
    /// The transition, or `None` where nothing (offset, abbreviation, DST flag) changes: jiff
    /// also reports such boundaries, e.g. at 2038-01-19 where the tz data switches to its rule.
    fn from_tz(tz: &TimeZone, t: &TimeZoneTransition<'_>) -> Option<Self> {
        let at = t.timestamp();
        let (to, dst) = (t.offset(), t.dst());
        let before = at.checked_sub(SignedDuration::from_nanos(1)).unwrap_or(at);
        let info = tz.to_offset_info(before);
        let from = info.offset();
        if from == to && info.abbreviation() == t.abbreviation() && info.dst() == dst {
            return None;
        }
        // "Negative DST" (Europe/Dublin's winter GMT, Morocco's Ramadan +00 are flagged as DST in
        // the tz database): label it the way clients expect, the lower offset as STANDARD.
        let daylight = if dst.is_dst() && to < from {
            false
        } else if !dst.is_dst() && info.dst().is_dst() && to > from {
            true
        } else {
            dst.is_dst()
        };
        Some(Transition {
            at,
            from,
            to,
            name: t.abbreviation().to_string(),
            daylight,
        })
    }

    /// Local wall time just before the change, in the old offset.
    fn local(&self) -> DateTime {
        self.from.to_datetime(self.at)
    }

    fn kind(&self) -> Kind {
        (self.from, self.to, self.name.clone(), self.daylight)
    }

    fn observance(&self, rrule: Option<String>) -> Observance {
        Observance {
            daylight: self.daylight,
            start: self.local(),
            from: self.from,
            to: self.to,
            name: self.name.clone(),
            rrule,
        }
    }
}

struct Observance {
    daylight: bool,
    start: DateTime,
    from: Offset,
    to: Offset,
    name: String,
    rrule: Option<String>,
}

fn write_observance(lines: &mut ContentLines, o: &Observance) {
    let component = if o.daylight { "DAYLIGHT" } else { "STANDARD" };
    lines.push(&format!("BEGIN:{component}"));
    lines.push(&format!("DTSTART:{}", format_local(o.start)));
    lines.push(&format!("TZOFFSETFROM:{}", format_offset(o.from)));
    lines.push(&format!("TZOFFSETTO:{}", format_offset(o.to)));
    if let Some(rrule) = &o.rrule {
        lines.push(&format!("RRULE:{rrule}"));
    }
    if !o.name.is_empty() {
        lines.push(&format!("TZNAME:{}", escape_text(&o.name)));
    }
    lines.push(&format!("END:{component}"));
}

/// Which day of the month a yearly rule falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayRule {
    /// The n-th (1–4) or last (-1) given weekday of the month.
    Nth(i8, Weekday),
    /// The given weekday within days `d..=d+6` of the month.
    WeekdayFrom(i8, Weekday),
    /// A fixed day of the month.
    Fixed(i8),
}

/// A yearly rule: a month, a day rule and a local time (in the old offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct YearlyRule {
    month: i8,
    day: DayRule,
    time: Time,
}

impl YearlyRule {
    fn date_in(&self, year: i16) -> Option<Date> {
        let first = Date::new(year, self.month, 1).ok()?;
        match self.day {
            DayRule::Nth(n, weekday) => first.nth_weekday_of_month(n, weekday).ok(),
            DayRule::WeekdayFrom(day, weekday) => {
                let start = Date::new(year, self.month, day).ok()?;
                let date = start.nth_weekday(1, weekday).ok()?;
                // `nth_weekday(1, _)` is strictly after `start`; step back if `start` matches.
                let date = if start.weekday() == weekday {
                    start
                } else {
                    date
                };
                (date.month() == self.month).then_some(date)
            }
            DayRule::Fixed(day) => Date::new(year, self.month, day).ok(),
        }
    }

    /// The rule's first occurrence in `year` or a later one.
    fn first_from(&self, year: i16) -> DateTime {
        (year..)
            .take(8)
            .find_map(|y| self.date_in(y))
            .map_or(epoch(), |date| date.to_datetime(self.time))
    }

    fn matches(&self, local: DateTime) -> bool {
        local.time() == self.time && self.date_in(local.year()) == Some(local.date())
    }

    /// The simplest rule that reproduces every one of `dates` (one per consecutive year).
    fn derive(dates: &[DateTime]) -> Option<YearlyRule> {
        let first = dates.first()?;
        let (month, time, weekday) = (first.month(), first.time(), first.weekday());
        let consecutive = dates.windows(2).all(|w| w[1].year() == w[0].year() + 1);
        if !consecutive || dates.iter().any(|d| d.month() != month || d.time() != time) {
            return None;
        }
        let min_day = dates.iter().map(|d| d.day()).min()?;
        let mut candidates = vec![DayRule::Fixed(first.day())];
        candidates.extend([1, 2, 3, 4, -1].map(|n| DayRule::Nth(n, weekday)));
        candidates.push(DayRule::WeekdayFrom(min_day, weekday));
        candidates
            .into_iter()
            .map(|day| YearlyRule { month, day, time })
            .find(|rule| {
                let expressible = match rule.day {
                    // BYMONTHDAY=d..d+6 must stay inside the month in every year (28 days for February).
                    DayRule::WeekdayFrom(d, _) => {
                        Date::new(2001, month, 1).is_ok_and(|m| d + 6 <= m.days_in_month())
                    }
                    _ => true,
                };
                expressible && dates.iter().all(|&d| rule.matches(d))
            })
    }

    fn rrule(&self) -> String {
        let month = self.month;
        match self.day {
            DayRule::Nth(n, weekday) => {
                format!(
                    "FREQ=YEARLY;BYMONTH={month};BYDAY={n}{}",
                    weekday_code(weekday)
                )
            }
            DayRule::WeekdayFrom(d, weekday) => {
                let days: Vec<String> = (d..d + 7).map(|d| d.to_string()).collect();
                format!(
                    "FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={};BYDAY={}",
                    days.join(","),
                    weekday_code(weekday)
                )
            }
            DayRule::Fixed(d) => format!("FREQ=YEARLY;BYMONTH={month};BYMONTHDAY={d}"),
        }
    }
}

#[derive(Debug)]
struct KindRule {
    kind: Kind,
    rule: YearlyRule,
}

/// Two alternating yearly rules (into and out of DST).
#[derive(Debug)]
struct YearlyPair {
    a: KindRule,
    b: KindRule,
}

impl YearlyPair {
    /// Derives the pair from the transitions after `until`, or `None` if they do not follow one.
    fn derive(tail: &[Transition], check_end: Timestamp) -> Option<YearlyPair> {
        let (first, second) = (tail.first()?, tail.get(1)?);
        let (ka, kb) = (first.kind(), second.kind());
        if ka == kb {
            return None;
        }
        // Strict alternation a, b, a, b, …
        for (i, t) in tail.iter().enumerate() {
            let want = if i % 2 == 0 { &ka } else { &kb };
            if t.kind() != *want {
                return None;
            }
        }
        // The rule must still hold at the end of the checked range (not a regime that stops).
        let last_year = tail.last()?.at.to_zoned(TimeZone::UTC).year();
        if last_year + 1 < check_end.to_zoned(TimeZone::UTC).year() {
            return None;
        }
        let locals = |parity: usize| -> Vec<DateTime> {
            tail.iter()
                .skip(parity)
                .step_by(2)
                .map(Transition::local)
                .collect()
        };
        let a = KindRule {
            kind: ka,
            rule: YearlyRule::derive(&locals(0))?,
        };
        let b = KindRule {
            kind: kb,
            rule: YearlyRule::derive(&locals(1))?,
        };
        Some(YearlyPair { a, b })
    }

    fn rule_for(&self, t: &Transition) -> Option<&YearlyRule> {
        let kind = t.kind();
        [&self.a, &self.b]
            .into_iter()
            .find(|k| k.kind == kind)
            .map(|k| &k.rule)
    }

    /// How many of `explicit` must stay explicit: the rest, together with `tail`, is exactly
    /// the sequence the two rules generate (alternating, one of each kind per year).
    fn explicit_prefix_len(&self, explicit: &[Transition], tail: &[Transition]) -> usize {
        let mut keep = explicit.len();
        let mut next = tail.first();
        while keep > 0 {
            let t = &explicit[keep - 1];
            let Some(rule) = self.rule_for(t) else { break };
            if !rule.matches(t.local()) {
                break;
            }
            if let Some(next) = next {
                let same_kind_next = explicit[keep..]
                    .iter()
                    .chain(tail)
                    .find(|n| n.kind() == t.kind())
                    .map(|n| n.local().year());
                if next.kind() == t.kind() || same_kind_next != Some(t.local().year() + 1) {
                    break;
                }
            }
            next = Some(t);
            keep -= 1;
        }
        keep
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use icalendar::parser::{Component, read_calendar, unfold};
    use jiff::civil::{date, datetime};

    /// An independent reading of a VTIMEZONE: every onset (DTSTART, and each RRULE occurrence)
    /// as a UTC instant with the offset it starts; the offset at an instant is that of the
    /// latest onset at or before it.
    pub(crate) struct Interpreter {
        onsets: Vec<(Timestamp, i32)>,
    }

    fn parse_offset(text: &str) -> i32 {
        let sign = match &text[..1] {
            "+" => 1,
            "-" => -1,
            _ => panic!("offset without sign: {text}"),
        };
        let digits = &text[1..];
        assert!(digits.len() == 4 || digits.len() == 6, "{text}");
        let h: i32 = digits[0..2].parse().unwrap();
        let m: i32 = digits[2..4].parse().unwrap();
        let s: i32 = if digits.len() == 6 {
            digits[4..6].parse().unwrap()
        } else {
            0
        };
        sign * (h * 3600 + m * 60 + s)
    }

    pub(crate) fn parse_local(text: &str) -> DateTime {
        assert_eq!(text.len(), 15, "{text}");
        assert_eq!(&text[8..9], "T");
        let n = |r: std::ops::Range<usize>| -> i32 { text[r].parse().unwrap() };
        DateTime::new(
            n(0..4) as i16,
            n(4..6) as i8,
            n(6..8) as i8,
            n(9..11) as i8,
            n(11..13) as i8,
            n(13..15) as i8,
            0,
        )
        .unwrap()
    }

    fn weekday_from_code(code: &str) -> Weekday {
        match code {
            "MO" => Weekday::Monday,
            "TU" => Weekday::Tuesday,
            "WE" => Weekday::Wednesday,
            "TH" => Weekday::Thursday,
            "FR" => Weekday::Friday,
            "SA" => Weekday::Saturday,
            "SU" => Weekday::Sunday,
            _ => panic!("weekday {code}"),
        }
    }

    /// The dates of a yearly RRULE in one year, by walking the month's days (deliberately not
    /// the code under test's `nth_weekday_of_month`).
    fn yearly_dates(rrule: &str, year: i16) -> Vec<Date> {
        let mut month = None;
        let mut byday = None;
        let mut bymonthday: Option<Vec<i8>> = None;
        for part in rrule.split(';') {
            let (k, v) = part.split_once('=').unwrap();
            match k {
                "FREQ" => assert_eq!(v, "YEARLY"),
                "BYMONTH" => month = Some(v.parse::<i8>().unwrap()),
                "BYDAY" => byday = Some(v.to_string()),
                "BYMONTHDAY" => {
                    bymonthday = Some(v.split(',').map(|d| d.parse().unwrap()).collect())
                }
                other => panic!("unexpected RRULE part {other}"),
            }
        }
        let month = month.unwrap();
        let mut days: Vec<Date> = Vec::new();
        let mut d = date(year, month, 1);
        while d.month() == month {
            days.push(d);
            d = d.tomorrow().unwrap();
        }
        if let Some(list) = bymonthday {
            days.retain(|d| list.contains(&d.day()));
        }
        if let Some(byday) = byday {
            let code = &byday[byday.len() - 2..];
            let ordinal = &byday[..byday.len() - 2];
            let weekday = weekday_from_code(code);
            days.retain(|d| d.weekday() == weekday);
            if !ordinal.is_empty() {
                let n: i32 = ordinal.parse().unwrap();
                let pick = if n > 0 {
                    days.get(n as usize - 1)
                } else {
                    days.iter().rev().nth((-n - 1) as usize)
                };
                days = pick.into_iter().copied().collect();
            }
        }
        days
    }

    impl Interpreter {
        /// Reads the first VTIMEZONE of a calendar (or a bare VTIMEZONE text), expanding RRULEs
        /// through `until_year`.
        pub(crate) fn new(text: &str, until_year: i16) -> (String, Interpreter) {
            let unfolded = unfold(text);
            let calendar = read_calendar(&unfolded).unwrap();
            let vtz = find_vtimezone(&calendar.components).expect("a VTIMEZONE");
            let tzid = vtz.find_prop("TZID").unwrap().val.as_str().to_string();
            let mut onsets = Vec::new();
            for sub in &vtz.components {
                assert!(
                    matches!(sub.name.as_str(), "STANDARD" | "DAYLIGHT"),
                    "{}",
                    sub.name.as_str()
                );
                let prop = |name: &str| sub.find_prop(name).map(|p| p.val.as_str().to_string());
                let start = parse_local(&prop("DTSTART").unwrap());
                let from = parse_offset(&prop("TZOFFSETFROM").unwrap());
                let to = parse_offset(&prop("TZOFFSETTO").unwrap());
                let onset = |local: DateTime| {
                    local.to_zoned(TimeZone::UTC).unwrap().timestamp()
                        - SignedDuration::from_secs(i64::from(from))
                };
                onsets.push((onset(start), to));
                if let Some(rrule) = prop("RRULE") {
                    for year in start.year()..=until_year {
                        for day in yearly_dates(&rrule, year) {
                            let local = day.to_datetime(start.time());
                            if local > start {
                                onsets.push((onset(local), to));
                            }
                        }
                    }
                }
            }
            onsets.sort();
            (tzid, Interpreter { onsets })
        }

        pub(crate) fn offset_at(&self, t: Timestamp) -> Option<i32> {
            self.onsets
                .iter()
                .rev()
                .find(|(at, _)| *at <= t)
                .map(|&(_, o)| o)
        }

        /// A local date-time read the way RFC 5545 §3.3.5 says, from this VTIMEZONE only: the
        /// earlier of the readings whose offset is in effect at the resulting instant; in a gap,
        /// the offset in effect before the gap. `None` when the VTIMEZONE does not cover it.
        pub(crate) fn resolve_local(&self, local: DateTime) -> Option<Timestamp> {
            let naive = local.to_zoned(TimeZone::UTC).unwrap().timestamp();
            let at = |offset: i32| naive - SignedDuration::from_secs(i64::from(offset));
            let mut offsets: Vec<i32> = self.onsets.iter().map(|&(_, o)| o).collect();
            offsets.sort();
            offsets.dedup();
            let readings = offsets
                .into_iter()
                .filter(|&o| self.offset_at(at(o)) == Some(o))
                .map(at);
            if let Some(earliest) = readings.min() {
                return Some(earliest);
            }
            let before = self.offset_at(naive - SignedDuration::from_hours(26))?;
            Some(at(before))
        }

        fn first_onset(&self) -> Timestamp {
            self.onsets[0].0
        }
    }

    fn find_vtimezone<'a>(components: &'a [Component<'a>]) -> Option<&'a Component<'a>> {
        for c in components {
            if c.name.as_str() == "VTIMEZONE" {
                return Some(c);
            }
            if let Some(found) = find_vtimezone(&c.components) {
                return Some(found);
            }
        }
        None
    }

    /// Compares the interpreter with jiff hour by hour for ±48 h around every transition in
    /// `[from, until]`, plus every 6 hours across the whole range when it is short. Returns how
    /// many transitions were checked.
    pub(crate) fn compare_with_tz(
        interp: &Interpreter,
        tz: &TimeZone,
        from: Timestamp,
        until: Timestamp,
        label: &str,
    ) -> usize {
        let hour = SignedDuration::from_hours(1);
        let check = |t: Timestamp| {
            if t < from || t > until {
                return;
            }
            let expected = tz.to_offset(t).seconds();
            assert_eq!(
                interp.offset_at(t),
                Some(expected),
                "{label}: offset at {t}"
            );
        };
        let mut count = 0;
        for t in tz.following(from).take_while(|t| t.timestamp() <= until) {
            count += 1;
            let at = t.timestamp();
            for h in -48..=48 {
                check(at + hour * h);
            }
            // Exactly at and just before the transition.
            check(at);
            check(at - SignedDuration::from_secs(1));
        }
        // Coarse sweep of the whole range (also covers zones without transitions).
        let mut t = from;
        while t <= until {
            check(t);
            t += SignedDuration::from_hours(37);
        }
        check(from);
        count
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn utc_year(year: i16) -> Timestamp {
        date(year, 1, 1)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
    }

    fn zones() -> Vec<&'static str> {
        vec![
            "America/Los_Angeles",
            "Europe/Berlin",
            "Asia/Kolkata",
            "Asia/Kathmandu",
            "Australia/Sydney",
            "America/Sao_Paulo",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
            "UTC",
            "Africa/Casablanca",
            "Europe/Dublin",
            "America/Santiago",
            "Asia/Tehran",
            "Pacific/Apia",
            "America/Godthab",
            "Antarctica/Troll",
            "America/Asuncion",
            "Europe/Moscow",
            // Dropped DST in October 2022.
            "America/Mexico_City",
        ]
    }

    /// Zones that change offsets twice a year now (the others in `zones()` stopped, or never did).
    const WITH_DST_NOW: &[&str] = &[
        "America/Los_Angeles",
        "Europe/Berlin",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Africa/Casablanca",
        "Europe/Dublin",
        "America/Santiago",
    ];

    #[test]
    fn offsets_match_the_tz_database_around_every_transition() {
        // (first meeting, dtstamp): the explicit range is first meeting → dtstamp + 10 years.
        let ranges = [
            (ts("2024-05-06T15:00:00Z"), ts("2026-11-24T12:00:00Z")),
            (ts("2010-03-01T00:00:00Z"), ts("2011-01-01T00:00:00Z")),
            (ts("2019-01-01T00:00:00Z"), ts("2019-01-02T00:00:00Z")),
            // First meetings before a rule change, sent today: São Paulo still had DST in 2018
            // (dropped in 2019); Apia dropped it in 2021, Mexico City and Tehran in 2022.
            (ts("2018-06-04T11:00:00Z"), ts("2026-11-24T12:00:00Z")),
            (ts("2021-03-01T00:00:00Z"), ts("2026-11-24T12:00:00Z")),
        ];
        for name in zones() {
            let tz = TimeZone::get(name).unwrap();
            for (from, dtstamp) in ranges {
                let until = dtstamp + SignedDuration::from_hours(10 * 8766);
                let text = vtimezone(name, &tz, from, until);
                let (tzid, interp) = Interpreter::new(&text, 2100);
                assert_eq!(tzid, name);
                // Exact from a little before the first meeting (see COVER_BEFORE).
                let from = from - COVER_BEFORE;
                assert!(
                    interp.first_onset() <= from,
                    "{name}: no observance covers {from}"
                );
                let checked = compare_with_tz(&interp, &tz, from, until, name);
                if text.contains("RRULE") {
                    // The derived rule holds far beyond the explicit range.
                    compare_with_tz(&interp, &tz, until, utc_year(2090), name);
                }
                if ["UTC", "Asia/Kolkata", "Asia/Kathmandu"].contains(&name) {
                    assert_eq!(checked, 0);
                } else if from + COVER_BEFORE == ranges[0].0 && WITH_DST_NOW.contains(&name) {
                    assert!(checked >= 20, "{name}: only {checked} transitions");
                }
            }
        }
    }

    #[test]
    fn los_angeles_is_the_classic_rule_pair() {
        let tz = TimeZone::get("America/Los_Angeles").unwrap();
        let text = vtimezone(
            "America/Los_Angeles",
            &tz,
            ts("2024-05-06T15:00:00Z"),
            ts("2036-11-24T12:00:00Z"),
        );
        let expected = "BEGIN:VTIMEZONE\r\n\
            TZID:America/Los_Angeles\r\n\
            BEGIN:DAYLIGHT\r\n\
            DTSTART:19700308T020000\r\n\
            TZOFFSETFROM:-0800\r\n\
            TZOFFSETTO:-0700\r\n\
            RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n\
            TZNAME:PDT\r\n\
            END:DAYLIGHT\r\n\
            BEGIN:STANDARD\r\n\
            DTSTART:19701101T020000\r\n\
            TZOFFSETFROM:-0700\r\n\
            TZOFFSETTO:-0800\r\n\
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n\
            TZNAME:PST\r\n\
            END:STANDARD\r\n\
            END:VTIMEZONE\r\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn expected_shapes_per_zone() {
        let from = ts("2024-05-06T15:00:00Z");
        let until = ts("2036-11-24T12:00:00Z");
        // (zone, lines that must appear in order)
        let cases: &[(&str, &[&str])] = &[
            (
                "Europe/Berlin",
                &[
                    "BEGIN:DAYLIGHT",
                    "DTSTART:19700329T020000",
                    "TZOFFSETFROM:+0100",
                    "TZOFFSETTO:+0200",
                    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
                    "TZNAME:CEST",
                    "BEGIN:STANDARD",
                    "DTSTART:19701025T030000",
                    "TZOFFSETFROM:+0200",
                    "TZOFFSETTO:+0100",
                    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
                    "TZNAME:CET",
                ],
            ),
            (
                "Asia/Kolkata",
                &[
                    "BEGIN:STANDARD",
                    "DTSTART:19700101T000000",
                    "TZOFFSETFROM:+0530",
                    "TZOFFSETTO:+0530",
                    "TZNAME:IST",
                    "END:STANDARD",
                    "END:VTIMEZONE",
                ],
            ),
            (
                "Asia/Kathmandu",
                &[
                    "BEGIN:STANDARD",
                    "TZOFFSETFROM:+0545",
                    "TZOFFSETTO:+0545",
                    "END:STANDARD",
                ],
            ),
            (
                "UTC",
                &[
                    "BEGIN:STANDARD",
                    "TZOFFSETFROM:+0000",
                    "TZOFFSETTO:+0000",
                    "TZNAME:UTC",
                ],
            ),
            (
                "America/Sao_Paulo",
                &[
                    "BEGIN:STANDARD",
                    "TZOFFSETFROM:-0300",
                    "TZOFFSETTO:-0300",
                    "TZNAME:-03",
                ],
            ),
            (
                // Southern hemisphere: DST starts in October, ends in April.
                "Australia/Sydney",
                &[
                    "BEGIN:STANDARD",
                    "DTSTART:19700405T030000",
                    "TZOFFSETFROM:+1100",
                    "TZOFFSETTO:+1000",
                    "RRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU",
                    "TZNAME:AEST",
                    "BEGIN:DAYLIGHT",
                    "DTSTART:19701004T020000",
                    "TZOFFSETFROM:+1000",
                    "TZOFFSETTO:+1100",
                    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU",
                    "TZNAME:AEDT",
                ],
            ),
            (
                // Negative DST in the tz data; written the classic way round.
                "Europe/Dublin",
                &[
                    "BEGIN:DAYLIGHT",
                    "DTSTART:19700329T010000",
                    "TZOFFSETFROM:+0000",
                    "TZOFFSETTO:+0100",
                    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
                    "TZNAME:IST",
                    "BEGIN:STANDARD",
                    "DTSTART:19701025T020000",
                    "TZOFFSETFROM:+0100",
                    "TZOFFSETTO:+0000",
                    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
                    "TZNAME:GMT",
                ],
            ),
            (
                "America/Santiago",
                &[
                    "BEGIN:STANDARD",
                    "DTSTART:19700405T000000",
                    "TZOFFSETFROM:-0300",
                    "TZOFFSETTO:-0400",
                    "RRULE:FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=2,3,4,5,6,7,8;BYDAY=SU",
                ],
            ),
            (
                "Australia/Lord_Howe",
                &[
                    "TZOFFSETFROM:+1100",
                    "TZOFFSETTO:+1030",
                    "TZOFFSETFROM:+1030",
                    "TZOFFSETTO:+1100",
                ],
            ),
            (
                "Pacific/Chatham",
                &[
                    "TZOFFSETFROM:+1345",
                    "TZOFFSETTO:+1245",
                    "TZOFFSETFROM:+1245",
                    "TZOFFSETTO:+1345",
                ],
            ),
        ];
        for &(name, wanted) in cases {
            let tz = TimeZone::get(name).unwrap();
            let text = vtimezone(name, &tz, from, until);
            let lines: Vec<&str> = text.split("\r\n").collect();
            let mut at = 0;
            for want in wanted {
                let found = lines[at..].iter().position(|l| l == want);
                assert!(
                    found.is_some(),
                    "{name}: {want:?} missing (in order) in\n{text}"
                );
                at += found.unwrap() + 1;
            }
            let standard = lines.iter().filter(|l| **l == "BEGIN:STANDARD").count();
            let daylight = lines.iter().filter(|l| **l == "BEGIN:DAYLIGHT").count();
            assert!(standard >= 1, "{name}: no STANDARD");
            if ["Asia/Kolkata", "Asia/Kathmandu", "UTC", "America/Sao_Paulo"].contains(&name) {
                assert_eq!((standard, daylight), (1, 0), "{name}");
            }
        }
    }

    #[test]
    fn sao_paulo_from_2018_keeps_its_last_dst_season_and_then_stays_at_minus_3() {
        let tz = TimeZone::get("America/Sao_Paulo").unwrap();
        // First meeting Monday 2018-06-04 08:00 -03, sent 2026-11-24 (10 years ahead).
        let from = ts("2018-06-04T11:00:00Z");
        let until = ts("2036-11-24T12:00:00Z");
        let text = vtimezone("America/Sao_Paulo", &tz, from, until);
        let expected = "BEGIN:VTIMEZONE\r\n\
            TZID:America/Sao_Paulo\r\n\
            BEGIN:STANDARD\r\n\
            DTSTART:19700101T000000\r\n\
            TZOFFSETFROM:-0200\r\n\
            TZOFFSETTO:-0200\r\n\
            TZNAME:-02\r\n\
            END:STANDARD\r\n\
            BEGIN:STANDARD\r\n\
            DTSTART:20180218T000000\r\n\
            TZOFFSETFROM:-0200\r\n\
            TZOFFSETTO:-0300\r\n\
            TZNAME:-03\r\n\
            END:STANDARD\r\n\
            BEGIN:DAYLIGHT\r\n\
            DTSTART:20181104T000000\r\n\
            TZOFFSETFROM:-0300\r\n\
            TZOFFSETTO:-0200\r\n\
            TZNAME:-02\r\n\
            END:DAYLIGHT\r\n\
            BEGIN:STANDARD\r\n\
            DTSTART:20190217T000000\r\n\
            TZOFFSETFROM:-0200\r\n\
            TZOFFSETTO:-0300\r\n\
            TZNAME:-03\r\n\
            END:STANDARD\r\n\
            END:VTIMEZONE\r\n";
        assert_eq!(text, expected);
        let (_, interp) = Interpreter::new(&text, 2040);
        // Offsets known from the history of Brazil's DST, not from jiff.
        let hours = [
            ("2018-06-04T11:00:00Z", -3),
            ("2018-11-04T02:59:59Z", -3),
            ("2018-11-04T03:00:00Z", -2),
            ("2019-01-15T12:00:00Z", -2),
            ("2019-02-17T01:59:59Z", -2),
            ("2019-02-17T02:00:00Z", -3),
            // No DST season 2019/2020 nor after.
            ("2019-12-01T12:00:00Z", -3),
            ("2023-01-15T12:00:00Z", -3),
            ("2036-01-15T12:00:00Z", -3),
        ];
        for (at, hours) in hours {
            assert_eq!(interp.offset_at(ts(at)), Some(hours * 3600), "{at}");
        }
        // A meeting at 08:00 local reads as 10:00 UTC in the 2018/19 summer only.
        for (local, utc) in [
            (datetime(2018, 6, 4, 8, 0, 0, 0), "2018-06-04T11:00:00Z"),
            (datetime(2018, 12, 3, 8, 0, 0, 0), "2018-12-03T10:00:00Z"),
            (datetime(2019, 12, 2, 8, 0, 0, 0), "2019-12-02T11:00:00Z"),
        ] {
            assert_eq!(interp.resolve_local(local), Some(ts(utc)), "{local}");
        }
        let checked = compare_with_tz(&interp, &tz, from - COVER_BEFORE, until, "Sao_Paulo");
        assert_eq!(checked, 2);
    }

    #[test]
    fn a_first_meeting_in_a_gap_or_fold_reads_right_from_the_vtimezone() {
        // (zone, local DTSTART, its instant by the tz database)
        let cases = [
            // In the gap just before the instant: the VTIMEZONE must show the gap.
            (
                "America/Los_Angeles",
                datetime(2027, 3, 14, 2, 30, 0, 0),
                "2027-03-14T10:30:00Z",
            ),
            (
                "Australia/Lord_Howe",
                datetime(2025, 10, 5, 2, 10, 0, 0),
                "2025-10-04T15:40:00Z",
            ),
            (
                "Europe/Berlin",
                datetime(2026, 3, 29, 2, 30, 0, 0),
                "2026-03-29T01:30:00Z",
            ),
            // In a fold: the first reading.
            (
                "Europe/Berlin",
                datetime(2025, 10, 26, 2, 30, 0, 0),
                "2025-10-26T00:30:00Z",
            ),
            (
                "America/Los_Angeles",
                datetime(2026, 11, 1, 1, 30, 0, 0),
                "2026-11-01T08:30:00Z",
            ),
            // Samoa's skipped day.
            (
                "Pacific/Apia",
                datetime(2011, 12, 30, 10, 0, 0, 0),
                "2011-12-30T20:00:00Z",
            ),
        ];
        for (name, local, instant) in cases {
            let tz = TimeZone::get(name).unwrap();
            let from = tz.to_ambiguous_timestamp(local).compatible().unwrap();
            assert_eq!(from, ts(instant), "{name}: tz database");
            let text = vtimezone(name, &tz, from, from + SignedDuration::from_hours(3 * 8766));
            let (_, interp) = Interpreter::new(&text, 2040);
            assert_eq!(
                interp.resolve_local(local),
                Some(from),
                "{name} {local}\n{text}"
            );
        }
    }

    #[test]
    fn casablanca_has_explicit_transitions_to_the_horizon() {
        let tz = TimeZone::get("Africa/Casablanca").unwrap();
        let from = ts("2024-05-06T15:00:00Z");
        let until = ts("2036-11-24T12:00:00Z");
        let text = vtimezone("Africa/Casablanca", &tz, from, until);
        assert!(
            !text.contains("RRULE"),
            "Ramadan-based DST has no yearly rule"
        );
        let (_, interp) = Interpreter::new(&text, 2040);
        let n = compare_with_tz(&interp, &tz, from, until, "Casablanca");
        assert!(n >= 20);
        assert_eq!(
            text.matches("BEGIN:").count(),
            1 + 1 + n + 1,
            "the offset before the first transition from 1970, then one observance per transition"
        );
    }

    #[test]
    fn rule_derivation() {
        let rule = |dates: &[DateTime]| YearlyRule::derive(dates).map(|r| r.rrule());
        let t = |y, m, d| datetime(y, m, d, 2, 0, 0, 0);
        let cases: Vec<(Vec<DateTime>, Option<&str>)> = vec![
            // Second Sunday of March.
            (
                vec![t(2025, 3, 9), t(2026, 3, 8), t(2027, 3, 14)],
                Some("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU"),
            ),
            // Last Sunday of October.
            (
                vec![t(2025, 10, 26), t(2026, 10, 25), t(2027, 10, 31)],
                Some("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"),
            ),
            // A fixed day (Iran's old rule: 22 March).
            (
                vec![t(2025, 3, 22), t(2026, 3, 22), t(2027, 3, 22)],
                Some("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=22"),
            ),
            // Friday on or after 23 March (Israel).
            (
                vec![
                    t(2025, 3, 28),
                    t(2026, 3, 27),
                    t(2027, 3, 26),
                    t(2028, 3, 24),
                    t(2029, 3, 23),
                    t(2030, 3, 29),
                ],
                Some("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=23,24,25,26,27,28,29;BYDAY=FR"),
            ),
            // A gap in the years, a change of time or month: no rule.
            (vec![t(2025, 3, 9), t(2027, 3, 14)], None),
            (vec![t(2025, 3, 9), datetime(2026, 3, 8, 3, 0, 0, 0)], None),
            (vec![t(2025, 3, 9), t(2026, 4, 12)], None),
            // Different weekdays on different days: no rule.
            (vec![t(2025, 3, 9), t(2026, 3, 10), t(2027, 3, 25)], None),
        ];
        for (dates, expected) in cases {
            assert_eq!(rule(&dates).as_deref(), expected, "{dates:?}");
        }
    }

    #[test]
    fn output_is_well_formed() {
        for name in zones() {
            let tz = TimeZone::get(name).unwrap();
            let text = vtimezone(
                name,
                &tz,
                ts("2024-05-06T15:00:00Z"),
                ts("2036-11-24T12:00:00Z"),
            );
            assert!(text.starts_with("BEGIN:VTIMEZONE\r\n") && text.ends_with("END:VTIMEZONE\r\n"));
            for line in text.split_terminator("\r\n") {
                assert!(
                    line.len() <= 75 && !line.contains(['\r', '\n']),
                    "{name}: {line:?}"
                );
            }
            // Observances are in time order and each has the four required properties.
            let unfolded = unfold(&text);
            let cal = read_calendar(&unfolded).unwrap();
            let vtz = find_vtimezone(&cal.components).unwrap();
            assert!(!vtz.components.is_empty());
            for sub in &vtz.components {
                for p in ["DTSTART", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME"] {
                    assert!(sub.find_prop(p).is_some(), "{name}: {p} missing");
                }
            }
        }
    }
}
