//! A meeting series as the bot understands it: its event, roster file, how join and leave
//! requests are recognised and answered, and what stands between a request and the roster.

use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;

use crate::core::calendar::{Person, Schedule};
use crate::core::identity::{RepoIdentity, RepoName, TeamName};

/// One recurring meeting series and how join requests for it are recognised and answered.
#[derive(Debug, Clone)]
pub struct Series {
    /// Short, stable identifier (also part of the calendar UID).
    pub id: String,
    /// The repository whose issues are join requests, as the config names it.
    pub repo: RepoName,
    /// That repository as GitHub knows it now, when it was looked up at start: deliveries are
    /// matched by its id too, and catch-up uses its current name, so a renamed repository keeps
    /// working.
    pub github_repo: Option<RepoIdentity>,
    /// The meeting's title (calendar SUMMARY).
    pub title: String,
    /// The meeting's description.
    pub description: String,
    /// Where the meeting happens (a URL or a room).
    pub location: Option<String>,
    /// When the meetings happen.
    pub schedule: Schedule,
    /// Who organises it (calendar ORGANIZER).
    pub organizer: Person,
    /// The roster file.
    pub roster: PathBuf,
    /// The calendar UID, the same for the life of the series.
    pub uid: String,
    /// Which issues are join requests.
    pub matcher: Matcher,
    /// How the bot answers.
    pub reply: ReplyConfig,
    /// The GitHub team whose membership follows the roster, if any.
    pub team: Option<TeamName>,
    /// Limits and consent: when a request waits for a maintainer or for the requester.
    pub guard: Guard,
}

/// Which issues are join (or leave) requests for a series.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Any of these labels on the issue makes it a join request.
    pub labels: Vec<String>,
    /// A title matching this makes it a join request.
    pub title: Option<Regex>,
    /// Any of these labels makes it a request to leave.
    pub leave_labels: Vec<String>,
    /// A title matching this makes it a request to leave.
    pub leave_title: Option<Regex>,
}

/// How the bot answers a join request on its issue.
#[derive(Debug, Clone)]
pub struct ReplyConfig {
    /// Labels added after the invite is sent.
    pub labels: Vec<String>,
    /// Whether the issue is closed after the invite is sent.
    pub close: bool,
    /// Label added when no usable email address was found.
    pub needs_email_label: Option<String>,
}

/// When a join request waits before anyone is added to the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// New members per day (rolling 24 hours); beyond it requests wait for approval. 0: no limit.
    pub max_new_per_day: u32,
    /// Requests per person per day (rolling 24 hours); beyond it they wait. 0: no limit.
    pub max_requests_per_person_per_day: u32,
    /// Accounts younger than this many days wait for approval. 0: off.
    pub min_account_age_days: u32,
    /// Whether the requester must confirm the address by a link in a mail before the invite.
    pub confirm_email: bool,
    /// Label added to a request that waits for a maintainer.
    pub approval_label: String,
    /// Label a maintainer adds to let a waiting request through.
    pub approved_label: String,
}

impl Series {
    /// The repository's name as GitHub knows it now (the configured one when it was not looked
    /// up).
    pub fn current_repo(&self) -> &RepoName {
        self.github_repo.as_ref().map_or(&self.repo, |r| &r.name)
    }
}

/// The calendar UID of a series: stable across restarts and machines, unique per repository, so
/// two working groups that both call their series "community-call" never collide in a calendar.
pub fn default_uid(id: &str, repo: &RepoName) -> String {
    format!("{id}.{}.{}@invitebot", repo.owner, repo.name).to_ascii_lowercase()
}

/// The configured series, in config order, shared by whoever reads them (the edges read the
/// current list; a reloaded config replaces it whole).
pub type SeriesList = Arc<Vec<Series>>;

/// The series with this id.
pub fn series_by_id<'a>(series: &'a [Series], id: &str) -> Option<&'a Series> {
    series.iter().find(|s| s.id == id)
}

#[cfg(test)]
pub(crate) mod testing;
