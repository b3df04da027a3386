//! Checks one `[[series]]`: id, repository, schedule, organizer, matching, reply and guard.

use regex::Regex;
use toml::Spanned;

use super::checker::Checker;
use super::links::label_or;
use super::raw::{RawSeries, date_text, literal_text};
use super::{
    ConfigError, DEFAULT_APPROVAL_LABEL, DEFAULT_APPROVED_LABEL, DEFAULT_LEAVE_LABEL,
    DEFAULT_LEAVE_TITLE, DEFAULT_MAX_NEW_PER_DAY, DEFAULT_MAX_REQUESTS_PER_PERSON_PER_DAY,
};
use crate::core::calendar::{Person, Schedule};
use crate::core::email_address::EmailAddress;
use crate::core::identity::{RepoName, TeamName};
use crate::core::series::{Guard, Matcher, ReplyConfig, Series, default_uid};

impl Checker<'_> {
    pub(super) fn series(&self, raw: RawSeries) -> Result<Series, ConfigError> {
        let id = raw.id.get_ref().trim().to_string();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
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
            title: raw.title,
            description: raw.description,
            location: raw.location.filter(|l| !l.trim().is_empty()),
            schedule,
            organizer: Person {
                name: raw.organizer.name,
                email: organizer_email,
            },
            roster: self.resolve(raw.roster.get_ref()),
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
                confirm_email: raw.confirm_email,
                approval_label: label_or(raw.approval_label, DEFAULT_APPROVAL_LABEL),
                approved_label: label_or(raw.approved_label, DEFAULT_APPROVED_LABEL),
            },
        })
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
        let first: jiff::civil::DateTime = first_text.parse().map_err(|_| {
            self.err(
                raw.first.span(),
                format!(
                    "`first` = {first_text:?} is not a local date-time like \"2024-05-06T08:00\""
                ),
            )
        })?;
        let mut skip = Vec::with_capacity(raw.skip.len());
        for date in &raw.skip {
            let text = date_text(date.get_ref());
            skip.push(text.parse::<jiff::civil::Date>().map_err(|_| {
                self.err(
                    date.span(),
                    format!("skip date {text:?} is not a date like \"2026-12-28\""),
                )
            })?);
        }
        Schedule::new(
            raw.timezone.get_ref().trim(),
            first,
            *raw.duration_minutes.get_ref(),
            *raw.interval_weeks.get_ref(),
            skip,
        )
        .map_err(|e| {
            use crate::core::calendar::ScheduleError as E;
            let span = match &e {
                E::UnknownTimeZone { .. } => raw.timezone.span(),
                E::ZeroInterval => raw.interval_weeks.span(),
                E::BadDuration { .. } => raw.duration_minutes.span(),
                E::SkipNotAMeetingDate { date, .. } => raw
                    .skip
                    .iter()
                    .find(|d| {
                        date_text(d.get_ref()).parse::<jiff::civil::Date>().ok() == Some(*date)
                    })
                    .map_or(raw.first.span(), |d| d.span()),
                #[allow(unreachable_patterns)]
                _ => raw.first.span(),
            };
            self.err(span, e.to_string())
        })
    }
}
