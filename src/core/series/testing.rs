//! Test support: the series the shipped example describes (the ISPO working group's biweekly
//! call), built directly, so tests of `core` need nothing outside it.

use std::path::PathBuf;

use regex::Regex;

use super::{Guard, Matcher, ReplyConfig, Series, default_uid};
use crate::core::calendar::{Person, Schedule};
use crate::core::email_address::EmailAddress;
use crate::core::identity::RepoName;

/// A schedule in `zone` from `first` (local), every other week, minus `skip`.
pub(crate) fn schedule(zone: &str, first: &str, minutes: u32, skip: &[&str]) -> Schedule {
    let skip = skip.iter().map(|d| d.parse().unwrap()).collect();
    Schedule::new(zone, first.parse().unwrap(), minutes, 2, skip).unwrap()
}

/// Series `ispo-wg` of `InnerSourceCommons/ispo-working-group`: every other Monday from
/// 2024-05-06 08:00 America/Los_Angeles for an hour, matched by the label `meeting-invite`,
/// with the default reply and guard.
pub(crate) fn sample_series() -> Series {
    let repo = RepoName::parse("InnerSourceCommons/ispo-working-group").unwrap();
    Series {
        id: "ispo-wg".into(),
        uid: default_uid("ispo-wg", &repo),
        repo,
        github_repo: None,
        title: "ISPO Working Group".into(),
        description: String::new(),
        location: None,
        schedule: schedule("America/Los_Angeles", "2024-05-06T08:00", 60, &[]),
        organizer: Person {
            name: "WG".into(),
            email: EmailAddress::parse("wg@example.org").unwrap(),
        },
        roster: PathBuf::from("/etc/invitebot/roster/ispo-wg.toml"),
        join_template: super::DEFAULT_JOIN_TEMPLATE.into(),
        matcher: Matcher {
            labels: vec!["meeting-invite".into()],
            title: None,
            leave_labels: vec!["leave-meeting".into()],
            leave_title: Some(Regex::new(r"(?i)\b(leave|unsubscribe)\b").unwrap()),
        },
        reply: ReplyConfig {
            labels: Vec::new(),
            close: true,
            needs_email_label: None,
        },
        team: None,
        guard: Guard {
            max_new_per_day: 20,
            max_requests_per_person_per_day: 3,
            min_account_age_days: 0,
            confirm_email: super::ConfirmEmail::Unproven,
            approval_label: "needs-approval".into(),
            approved_label: "approved".into(),
        },
    }
}
