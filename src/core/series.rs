//! A meeting series as the bot understands it: its event, roster file, how join and leave
//! requests are recognised and answered, and what stands between a request and the roster.

use std::path::PathBuf;
use std::sync::Arc;

use regex::Regex;

use crate::core::calendar::{Person, Schedule};
use crate::core::identity::{RepoIdentity, RepoName, TeamName};
use crate::core::request::EmailSource;

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
    /// The issue form of `repo` a newcomer fills in to join (`join-meeting.yml`): where the
    /// public meetings page's Join link leads.
    pub join_template: String,
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
    /// When the requester must confirm the address by a link in a mail before the invite.
    pub confirm_email: ConfirmEmail,
    /// Label added to a request that waits for a maintainer.
    pub approval_label: String,
    /// Label a maintainer adds to let a waiting request through.
    pub approved_label: String,
}

/// When an address must be confirmed by its owner before the invitation goes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfirmEmail {
    /// Unless it is proven: the requester's public GitHub profile email (GitHub lets only
    /// verified addresses be public). Typed addresses (issue, forms) are confirmed first.
    #[default]
    Unproven,
    /// Always, the profile's address too.
    Always,
    /// Never: whatever address a request names gets the invitation at once (anyone can make
    /// the bot mail any address).
    Never,
}

impl ConfirmEmail {
    /// The word the config uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmEmail::Unproven => "unproven",
            ConfirmEmail::Always => "always",
            ConfirmEmail::Never => "never",
        }
    }

    /// Reads the config's word (`unproven`, `always`, `never`) or the older `true`/`false`
    /// (`always`/`never`), ignoring case and surrounding space.
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "unproven" => Some(ConfirmEmail::Unproven),
            "always" | "true" => Some(ConfirmEmail::Always),
            "never" | "false" => Some(ConfirmEmail::Never),
            _ => None,
        }
    }

    /// Whether an address found at `source` must be confirmed before the invitation.
    pub fn requires_confirmation(self, source: EmailSource) -> bool {
        match self {
            ConfirmEmail::Unproven => source != EmailSource::Profile,
            ConfirmEmail::Always => true,
            ConfirmEmail::Never => false,
        }
    }
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

/// The issue form a Join link opens when the series names none.
pub const DEFAULT_JOIN_TEMPLATE: &str = "join-meeting.yml";

impl Series {
    /// Where a newcomer asks to join: the new issue page of the repository with the join form.
    pub fn join_url(&self) -> String {
        format!(
            "https://github.com/{}/issues/new?template={}",
            self.repo, self.join_template
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirm_email_reads_its_words_and_the_old_booleans() {
        for (word, expected) in [
            ("unproven", Some(ConfirmEmail::Unproven)),
            (" Always ", Some(ConfirmEmail::Always)),
            ("never", Some(ConfirmEmail::Never)),
            ("true", Some(ConfirmEmail::Always)),
            ("false", Some(ConfirmEmail::Never)),
            ("sometimes", None),
            ("", None),
        ] {
            assert_eq!(ConfirmEmail::parse(word), expected, "{word:?}");
        }
        assert_eq!(ConfirmEmail::default(), ConfirmEmail::Unproven);
    }

    #[test]
    fn only_a_profile_address_is_proven() {
        use EmailSource::*;
        for source in [Form, Body, PrivateForm] {
            assert!(ConfirmEmail::Unproven.requires_confirmation(source));
        }
        assert!(!ConfirmEmail::Unproven.requires_confirmation(Profile));
        assert!(ConfirmEmail::Always.requires_confirmation(Profile));
        for source in [Form, Body, PrivateForm, Profile] {
            assert!(!ConfirmEmail::Never.requires_confirmation(source));
        }
    }
}
