//! Checks one `[[series]]`: id, repository, schedule, organizer, matching, reply and guard.

use regex::Regex;
use toml::Spanned;

use super::checker::Checker;
use super::env;
use super::links::label_or;
use super::raw::{LocalDate, RawConfirmEmail, RawException, RawSeries, date_text, literal_text};
use super::{
    ConfigError, DEFAULT_APPROVAL_LABEL, DEFAULT_APPROVED_LABEL, DEFAULT_LEAVE_LABEL,
    DEFAULT_LEAVE_TITLE, DEFAULT_MAX_NEW_PER_DAY, DEFAULT_MAX_REQUESTS_PER_PERSON_PER_DAY,
};
use jiff::civil::{Date, DateTime};

use crate::core::calendar::{Change, Exception, Person, Schedule, ScheduleSpec};
use crate::core::email_address::EmailAddress;
use crate::core::identity::{RepoName, TeamName};
use crate::core::series::{
    ConfirmEmail, DEFAULT_JOIN_TEMPLATE, Guard, Matcher, ReplyConfig, Series, default_uid,
};

/// Non-empty, only ASCII letters, digits, `-`, `_` and `.`: safe in a URL path or query.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

impl Checker<'_> {
    pub(super) fn series(&self, raw: RawSeries) -> Result<Series, ConfigError> {
        let id = raw.id.get_ref().trim().to_string();
        if !is_plain_name(&id) {
            return Err(self.err(
                raw.id.span(),
                "series `id` must be non-empty and use only letters, digits, '-', '_' and '.'",
            ));
        }
        let repo = RepoName::parse(raw.repo.get_ref().trim()).ok_or_else(|| {
            self.err(
                raw.repo.span(),
                "`repo` must be \"owner/name\", like \"InnerSourceCommons/ispo-working-group\"",
            )
        })?;
        let schedule = self.schedule(&raw)?;
        let organizer_email = EmailAddress::parse(raw.organizer.email.get_ref())
            .map_err(|e| self.err(raw.organizer.email.span(), format!("organizer email: {e}")))?;
        let uid = match raw.uid {
            Some(uid) if uid.get_ref().trim().is_empty() => {
                return Err(self.err(uid.span(), "`uid` must not be empty"));
            }
            Some(uid) => uid.into_inner().trim().to_string(),
            None => default_uid(&id, &repo),
        };
        let join_template = self.join_template(raw.join_template.as_ref())?;
        let title = self.regex("title", raw.matcher.title.as_ref())?;
        let leave_title = match &raw.matcher.leave_title {
            Some(_) => self.regex("leave_title", raw.matcher.leave_title.as_ref())?,
            None => Some(Regex::new(DEFAULT_LEAVE_TITLE).expect("valid default")),
        };
        let team = match &raw.github_team {
            Some(team) => Some(TeamName::parse(team.get_ref()).ok_or_else(|| {
                self.err(
                    team.span(),
                    "`github_team` must be \"org/team-slug\", like \"InnerSourceCommons/ispo-wg\"",
                )
            })?),
            None => None,
        };
        if raw.matcher.labels.is_empty() && title.is_none() {
            return Err(self.err(raw.id.span(), format!("series `{id}` has no [series.match]: give `labels` or `title`, or no issue will ever match")));
        }
        Ok(Series {
            id,
            repo,
            github_repo: None,
            title: raw.title,
            description: raw.description,
            location: raw.location.filter(|l| !l.trim().is_empty()),
            schedule,
            organizer: Person {
                name: raw.organizer.name,
                email: organizer_email,
            },
            roster: self.resolve(raw.roster.get_ref()),
            join_template,
            uid,
            matcher: Matcher {
                labels: raw.matcher.labels,
                title,
                leave_labels: raw
                    .matcher
                    .leave_labels
                    .unwrap_or_else(|| vec![DEFAULT_LEAVE_LABEL.to_string()]),
                leave_title,
            },
            reply: ReplyConfig {
                labels: raw.reply.labels,
                close: raw.reply.close,
                needs_email_label: raw.reply.needs_email_label.filter(|l| !l.is_empty()),
            },
            team,
            guard: Guard {
                max_new_per_day: raw.max_new_per_day.unwrap_or(DEFAULT_MAX_NEW_PER_DAY),
                max_requests_per_person_per_day: raw
                    .max_requests_per_person_per_day
                    .unwrap_or(DEFAULT_MAX_REQUESTS_PER_PERSON_PER_DAY),
                min_account_age_days: raw.min_account_age_days,
                confirm_email: self.confirm_email(raw.confirm_email.as_ref())?,
                approval_label: label_or(raw.approval_label, DEFAULT_APPROVAL_LABEL),
                approved_label: label_or(raw.approved_label, DEFAULT_APPROVED_LABEL),
            },
        })
    }

    /// `confirm_email`: the environment's word wins over the file's.
    fn confirm_email(
        &self,
        raw: Option<&Spanned<RawConfirmEmail>>,
    ) -> Result<ConfirmEmail, ConfigError> {
        if let Some(word) = self.env.var(env::CONFIRM_EMAIL) {
            return ConfirmEmail::parse(&word).ok_or_else(|| {
                ConfigError::file(
                    self.path,
                    format!(
                        "{} = {word:?} is not one of \"unproven\", \"always\", \"never\"",
                        env::CONFIRM_EMAIL
                    ),
                )
            });
        }
        let Some(raw) = raw else {
            return Ok(ConfirmEmail::default());
        };
        match raw.get_ref() {
            RawConfirmEmail::Bool(true) => Ok(ConfirmEmail::Always),
            RawConfirmEmail::Bool(false) => Ok(ConfirmEmail::Never),
            RawConfirmEmail::Word(word) => ConfirmEmail::parse(word).ok_or_else(|| {
                self.err(
                    raw.span(),
                    "`confirm_email` must be \"unproven\" (confirm typed addresses), \"always\" or \"never\"",
                )
            }),
        }
    }

    /// `join_template`: a file name in `.github/ISSUE_TEMPLATE/` (it goes into a URL).
    fn join_template(&self, raw: Option<&Spanned<String>>) -> Result<String, ConfigError> {
        let Some(raw) = raw else {
            return Ok(DEFAULT_JOIN_TEMPLATE.to_string());
        };
        let name = raw.get_ref().trim();
        if !is_plain_name(name) {
            return Err(self.err(
                raw.span(),
                "`join_template` must be the file name of an issue form in .github/ISSUE_TEMPLATE/, like \"join-meeting.yml\"",
            ));
        }
        Ok(name.to_string())
    }

    fn regex(
        &self,
        key: &str,
        text: Option<&Spanned<String>>,
    ) -> Result<Option<Regex>, ConfigError> {
        let Some(text) = text else { return Ok(None) };
        Regex::new(text.get_ref()).map(Some).map_err(|e| {
            self.err(
                text.span(),
                format!("`match.{key}` is not a valid regex: {e}"),
            )
        })
    }

    fn schedule(&self, raw: &RawSeries) -> Result<Schedule, ConfigError> {
        let first_text = literal_text(raw.first.get_ref());
        let first: DateTime = first_text.parse().map_err(|_| {
            self.err(
                raw.first.span(),
                format!(
                    "`first` = {first_text:?} is not a local date-time like \"2024-05-06T08:00\""
                ),
            )
        })?;
        let skip = raw
            .skip
            .iter()
            .map(|date| self.date(date, "skip date"))
            .collect::<Result<Vec<_>, _>>()?;
        let until = raw
            .until
            .as_ref()
            .map(|date| self.date(date, "`until`"))
            .transpose()?;
        let exceptions = raw
            .exceptions
            .iter()
            .map(|exception| self.exception(exception))
            .collect::<Result<Vec<_>, _>>()?;
        Schedule::from_spec(ScheduleSpec {
            tz_name: raw.timezone.get_ref().trim(),
            first,
            duration_minutes: *raw.duration_minutes.get_ref(),
            interval_weeks: *raw.interval_weeks.get_ref(),
            skip,
            exceptions,
            until,
        })
        .map_err(|e| {
            use crate::core::calendar::ScheduleError as E;
            let skip_span = |date: &Date| {
                raw.skip
                    .iter()
                    .find(|d| date_text(d.get_ref()).parse::<Date>().ok() == Some(*date))
                    .map(Spanned::span)
            };
            let exception = |date: &Date| {
                raw.exceptions.iter().find(|x| {
                    date_text(x.get_ref().date.get_ref()).parse::<Date>().ok() == Some(*date)
                })
            };
            let exception_span = |date: &Date| exception(date).map(|x| x.get_ref().date.span());
            let span = match &e {
                E::UnknownTimeZone { .. } => Some(raw.timezone.span()),
                E::ZeroInterval | E::IntervalTooLong { .. } => Some(raw.interval_weeks.span()),
                E::BadDuration { .. } => Some(raw.duration_minutes.span()),
                E::SkipNotAMeetingDate { date, .. } => skip_span(date),
                E::ExceptionNotAMeetingDate { date, .. } => exception_span(date),
                // The second of the two: an exception (exceptions come after `skip`).
                E::ChangedTwice { date } => raw
                    .exceptions
                    .iter()
                    .filter(|x| {
                        date_text(x.get_ref().date.get_ref()).parse::<Date>().ok() == Some(*date)
                    })
                    .nth(usize::from(skip_span(date).is_none()))
                    .map(|x| x.get_ref().date.span()),
                E::MoveOutOfRange { date, .. } | E::MoveAcrossClockChange { date, .. } => {
                    exception(date)
                        .and_then(|x| x.get_ref().move_to.as_ref())
                        .map(Spanned::span)
                }
                E::UntilBeforeFirst { .. } => raw.until.as_ref().map(Spanned::span),
                E::FirstOutOfRange { .. } | E::NoMeetingLeft | E::NoCleanMeeting { .. } => None,
            };
            self.err(span.unwrap_or(raw.first.span()), e.to_string())
        })
    }

    /// A local date (a skip date, `until`, an exception's `date`).
    fn date(&self, date: &Spanned<LocalDate>, what: &str) -> Result<Date, ConfigError> {
        let text = date_text(date.get_ref());
        text.parse::<Date>().map_err(|_| {
            self.err(
                date.span(),
                format!("{what} {text:?} is not a date like \"2026-12-28\""),
            )
        })
    }

    /// One `[[series.exception]]`: `date` and either `cancel = true` or `move_to`.
    fn exception(&self, raw: &Spanned<RawException>) -> Result<Exception, ConfigError> {
        let x = raw.get_ref();
        let date = self.date(&x.date, "exception `date`")?;
        let change = match (&x.cancel, &x.move_to) {
            (Some(cancel), None) if *cancel.get_ref() => Change::Cancelled,
            (Some(cancel), None) => {
                return Err(self.err(
                    cancel.span(),
                    format!(
                        "`cancel = false` changes nothing: remove the exception for {date}, or \
                         give `cancel = true` or `move_to`"
                    ),
                ));
            }
            (None, Some(to)) => {
                let text = literal_text(to.get_ref());
                let to = text.parse::<DateTime>().map_err(|_| {
                    self.err(
                        to.span(),
                        format!(
                            "`move_to` = {text:?} is not a local date-time like \
                             \"2026-12-29T09:00\" (in the series' time zone)"
                        ),
                    )
                })?;
                Change::Moved { to }
            }
            (Some(cancel), Some(_)) => {
                return Err(self.err(
                    cancel.span(),
                    format!(
                        "the exception for {date} both cancels and moves the meeting: keep \
                         `cancel = true` or `move_to`"
                    ),
                ));
            }
            (None, None) => {
                return Err(self.err(
                    raw.span(),
                    format!(
                        "the exception for {date} says neither `cancel = true` nor `move_to = \
                         \"YYYY-MM-DDTHH:MM\"`"
                    ),
                ));
            }
        };
        Ok(Exception {
            date,
            change,
            note: x
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
        })
    }
}
