//! The config file as written, deserialised by serde. Values that need checking keep their
//! span for error messages; `checker` turns them into checked settings.

use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub(super) server: RawServer,
    #[serde(default)]
    pub(super) webhook: RawWebhook,
    #[serde(default)]
    pub(super) github: RawGitHub,
    pub(super) mail: RawMail,
    #[serde(default)]
    pub(super) storage: RawStorage,
    #[serde(default)]
    pub(super) series: Vec<RawSeries>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub(super) listen: Option<Spanned<String>>,
    pub(super) admin_listen: Option<Spanned<String>>,
    pub(super) max_body_bytes: Option<Spanned<usize>>,
    pub(super) max_in_flight: Option<Spanned<usize>>,
    pub(super) max_in_flight_per_source: Option<Spanned<usize>>,
    pub(super) max_buffered_bytes: Option<Spanned<usize>>,
    pub(super) max_connections: Option<Spanned<usize>>,
    pub(super) max_connections_per_source: Option<Spanned<usize>>,
    pub(super) request_timeout_secs: Option<Spanned<u64>>,
    pub(super) header_timeout_secs: Option<Spanned<u64>>,
    pub(super) idle_timeout_secs: Option<Spanned<u64>>,
    pub(super) log_summary_secs: Option<Spanned<u64>>,
    pub(super) public_url: Option<Spanned<String>>,
    pub(super) link_secret_file: Option<Spanned<String>>,
    pub(super) page: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    pub(super) secret_file: Option<Spanned<String>>,
    pub(super) failed_signature_limit: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGitHub {
    pub(super) api_url: Option<Spanned<String>>,
    pub(super) app_id: Option<Spanned<u64>>,
    pub(super) app_key_file: Option<Spanned<String>>,
    pub(super) catch_up_days: Option<u32>,
    pub(super) oauth_client_id: Option<Spanned<String>>,
    pub(super) oauth_client_secret: Option<Spanned<String>>,
    pub(super) oauth_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMail {
    pub(super) from: Spanned<String>,
    pub(super) transport: Option<Spanned<String>>,
    pub(super) dir: Option<Spanned<String>>,
    pub(super) url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    pub(super) data_dir: Option<Spanned<String>>,
    pub(super) retention_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSeries {
    pub(super) id: Spanned<String>,
    pub(super) repo: Spanned<String>,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: String,
    pub(super) location: Option<String>,
    pub(super) timezone: Spanned<String>,
    pub(super) first: Spanned<LocalDateTime>,
    pub(super) duration_minutes: Spanned<u32>,
    #[serde(default = "default_interval")]
    pub(super) interval_weeks: Spanned<u32>,
    #[serde(default)]
    pub(super) skip: Vec<Spanned<LocalDate>>,
    pub(super) until: Option<Spanned<LocalDate>>,
    #[serde(rename = "exception", default)]
    pub(super) exceptions: Vec<Spanned<RawException>>,
    pub(super) organizer: RawPerson,
    pub(super) roster: Spanned<String>,
    pub(super) uid: Option<Spanned<String>>,
    pub(super) github_team: Option<Spanned<String>>,
    pub(super) join_template: Option<Spanned<String>>,
    pub(super) max_new_per_day: Option<u32>,
    pub(super) max_requests_per_person_per_day: Option<u32>,
    #[serde(default)]
    pub(super) min_account_age_days: u32,
    pub(super) confirm_email: Option<Spanned<RawConfirmEmail>>,
    pub(super) approval_label: Option<String>,
    pub(super) approved_label: Option<String>,
    #[serde(rename = "match", default)]
    pub(super) matcher: RawMatch,
    #[serde(default)]
    pub(super) reply: RawReply,
}

/// `confirm_email` as written: a word (`"unproven"`, `"always"`, `"never"`) or the older
/// boolean.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawConfirmEmail {
    /// `true` (always) or `false` (never).
    Bool(bool),
    /// One of the words.
    Word(String),
}

/// One `[[series.exception]]`: a meeting cancelled or moved.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawException {
    pub(super) date: Spanned<LocalDate>,
    pub(super) cancel: Option<Spanned<bool>>,
    pub(super) move_to: Option<Spanned<LocalDateTime>>,
    pub(super) note: Option<String>,
}

pub(super) fn default_interval() -> Spanned<u32> {
    Spanned::new(0..0, 2)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPerson {
    pub(super) name: String,
    pub(super) email: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatch {
    #[serde(default)]
    pub(super) labels: Vec<String>,
    pub(super) title: Option<Spanned<String>>,
    pub(super) leave_labels: Option<Vec<String>>,
    pub(super) leave_title: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReply {
    #[serde(default)]
    pub(super) labels: Vec<String>,
    #[serde(default = "yes")]
    pub(super) close: bool,
    pub(super) needs_email_label: Option<String>,
}

pub(super) fn yes() -> bool {
    true
}

impl Default for RawReply {
    fn default() -> Self {
        Self {
            labels: Vec::new(),
            close: true,
            needs_email_label: None,
        }
    }
}

/// A local date-time written either as a string (`"2024-05-06T08:00"`) or a TOML literal.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum LocalDateTime {
    Text(String),
    Literal(toml::value::Datetime),
}

/// A local date written either as a string (`"2026-12-28"`) or a TOML literal.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum LocalDate {
    Text(String),
    Literal(toml::value::Datetime),
}

pub(super) fn literal_text(text: &LocalDateTime) -> String {
    match text {
        LocalDateTime::Text(s) => s.trim().to_string(),
        LocalDateTime::Literal(d) => d.to_string(),
    }
}

pub(super) fn date_text(text: &LocalDate) -> String {
    match text {
        LocalDate::Text(s) => s.trim().to_string(),
        LocalDate::Literal(d) => d.to_string(),
    }
}
