//! The configuration file and its environment overrides.
//!
//! [`Config::load`] reads `invitebot.toml`, applies the `INVITEBOT_*` environment variables and
//! turns every value into its checked type (addresses, time zones, schedules, regexes). Every
//! error names the file, line and column and says what to fix. Relative paths are resolved
//! against the folder of the config file.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::Mailbox;
use regex::Regex;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use toml::Spanned;

use crate::calendar::{Person, Schedule};
use crate::email::EmailAddress;
use crate::github::auth::AppCredentials;

/// Where the configuration is read from when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config/invitebot.toml";
/// How far back the first catch-up looks by default.
pub const DEFAULT_CATCH_UP_DAYS: u32 = 7;
/// The default limit on a webhook body (GitHub caps payloads at 25 MB; ours are ~15 KB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
/// How many requests are handled at once by default.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// How long a request may take by default (GitHub gives up after 10 s).
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 10;
/// Failed signatures allowed per source address and minute by default.
pub const DEFAULT_FAILED_SIGNATURE_LIMIT: u32 = 60;

/// Environment variables that override or complete the file.
pub mod env {
    /// `[server] listen`.
    pub const LISTEN: &str = "INVITEBOT_LISTEN";
    /// The webhook secrets, comma-separated (instead of `[webhook] secret_file`).
    pub const WEBHOOK_SECRET: &str = "INVITEBOT_WEBHOOK_SECRET";
    /// `[github] api_url`.
    pub const GITHUB_API_URL: &str = "INVITEBOT_GITHUB_API_URL";
    /// The GitHub token.
    pub const GITHUB_TOKEN: &str = "INVITEBOT_GITHUB_TOKEN";
    /// The GitHub token, as GitHub Actions and many tools name it (used when the above is unset).
    pub const GITHUB_TOKEN_FALLBACK: &str = "GITHUB_TOKEN";
    /// `[github] app_id`: authenticate as this GitHub App (with the key below).
    pub const GITHUB_APP_ID: &str = "INVITEBOT_GITHUB_APP_ID";
    /// `[github] app_key_file`: the GitHub App's private key (PEM).
    pub const GITHUB_APP_KEY_FILE: &str = "INVITEBOT_GITHUB_APP_KEY_FILE";
    /// `[mail] transport`.
    pub const MAIL_TRANSPORT: &str = "INVITEBOT_MAIL_TRANSPORT";
    /// `[mail] url` (may hold the SMTP password).
    pub const SMTP_URL: &str = "INVITEBOT_SMTP_URL";
    /// `[storage] data_dir`.
    pub const DATA_DIR: &str = "INVITEBOT_DATA_DIR";
}

/// A configuration problem, located in a file.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file the problem is in.
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub location: Option<(usize, usize)>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    /// An error at a byte span of `source` (the text of `path`).
    pub fn at(
        path: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            location: span.map(|s| line_col(source, s.start)),
            message: message.into(),
        }
    }

    /// An error about a file as a whole (unreadable, missing).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            location: None,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters, as editors count) of a byte offset in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let in_line = before.rsplit('\n').next().unwrap_or("");
    // A byte-order mark is invisible in editors: don't count it.
    let in_line = in_line.strip_prefix('\u{feff}').unwrap_or(in_line);
    (line, in_line.chars().count() + 1)
}

/// Parses TOML text into `T`, turning syntax and shape errors into located [`ConfigError`]s.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    source: &str,
) -> Result<T, ConfigError> {
    toml::from_str(source)
        .map_err(|e| ConfigError::at(path, source, e.span(), e.message().trim().to_string()))
}

/// The whole, checked configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// HTTP listener settings.
    pub server: ServerConfig,
    /// The `[webhook]` settings: secrets and the failed-signature limit.
    pub webhook: WebhookConfig,
    /// GitHub API settings.
    pub github: GitHubConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Where the bot keeps its own files.
    pub data_dir: PathBuf,
    /// The meeting series, in file order.
    pub series: Vec<Series>,
    /// Links in mails and comments (confirm, leave, private email form).
    pub links: LinksConfig,
}

/// HTTP listener settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Largest accepted webhook body, in bytes.
    pub max_body_bytes: usize,
    /// Requests handled at once; more get `503` at once.
    pub max_in_flight: usize,
    /// How long one request may take (reading the body included) before it gets `408`.
    pub request_timeout: Duration,
}

/// The `[webhook]` settings.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The secrets a delivery may be signed with, if any were given (`serve` requires them).
    pub secrets: Option<WebhookSecrets>,
    /// Failed signatures allowed per source address and minute; past it the address gets `429`
    /// for the rest of the minute. `0` turns the limit off.
    pub failed_signature_limit: u32,
}

/// The shared secret GitHub signs deliveries with.
#[derive(Clone)]
pub struct WebhookSecret(SecretString);

impl WebhookSecret {
    /// Wraps a secret; surrounding white space (a trailing newline in a file) is not part of it.
    pub fn new(secret: &str) -> Option<Self> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Self(SecretString::from(secret.to_string())))
    }

    /// The secret's bytes, for the HMAC key.
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

/// The webhook secrets in force: one, or several while a secret is rotated (a delivery signed
/// with any of them is accepted). Never empty.
#[derive(Clone, Debug)]
pub struct WebhookSecrets(Vec<WebhookSecret>);

impl WebhookSecrets {
    /// The most secrets accepted at once: each one costs an HMAC of every rejected body.
    pub const MAX: usize = 10;

    /// The secrets of a comma-separated list (`INVITEBOT_WEBHOOK_SECRET`); blank items are
    /// skipped. `None` when the list names no secret.
    pub fn from_list(text: &str) -> Option<Self> {
        Self::collect(text.split(','))
    }

    /// The secrets of a file's text, one per line; blank lines and lines starting with `#`
    /// are skipped. `None` when the text names no secret.
    pub fn from_lines(text: &str) -> Option<Self> {
        Self::collect(
            text.lines()
                .filter(|line| !line.trim_start().starts_with('#')),
        )
    }

    fn collect<'a>(items: impl Iterator<Item = &'a str>) -> Option<Self> {
        let secrets: Vec<WebhookSecret> = items.filter_map(WebhookSecret::new).collect();
        (!secrets.is_empty()).then_some(Self(secrets))
    }

    /// The secrets, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &WebhookSecret> {
        self.0.iter()
    }

    /// How many secrets there are (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`: there is at least one secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<WebhookSecret> for WebhookSecrets {
    fn from(secret: WebhookSecret) -> Self {
        Self(vec![secret])
    }
}

/// GitHub API settings.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// Base URL of the REST API.
    pub api_url: String,
    /// Token for comments, labels and closing; without it or an App, replies are only logged.
    /// `None` when an App is configured.
    pub token: Option<SecretString>,
    /// The GitHub App to authenticate as (instead of a token), with its checked private key.
    pub app: Option<AppCredentials>,
    /// How far back the first catch-up on a fresh store looks for unanswered requests.
    pub catch_up_days: u32,
}

/// Outgoing mail settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The `From:` mailbox.
    pub from: Mailbox,
    /// How messages leave.
    pub transport: MailTransport,
}

/// How messages leave the bot.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// One `.eml` file per message in this folder (for trying the bot out).
    File {
        /// The folder, created if missing.
        dir: PathBuf,
    },
    /// An SMTP server, given as a lettre URL (`smtp://host:port`, `smtps://…`, `?tls=required`).
    Smtp {
        /// The URL; it may hold a password, so it is a secret.
        url: SecretString,
    },
}

/// A GitHub repository name, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository.
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Option<Self> {
        let (owner, name) = text.split_once('/')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        (valid(owner) && valid(name)).then(|| Self {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// Whether `full_name` (as in a webhook payload) names this repository; GitHub names are
    /// case-insensitive.
    pub fn matches(&self, full_name: &str) -> bool {
        full_name.eq_ignore_ascii_case(&self.to_string())
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// One recurring meeting series and how join requests for it are recognised and answered.
#[derive(Debug, Clone)]
pub struct Series {
    /// Short, stable identifier (also part of the calendar UID).
    pub id: String,
    /// The repository whose issues are join requests.
    pub repo: RepoName,
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

/// A GitHub team, `org/team-slug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamName {
    /// The organisation.
    pub org: String,
    /// The team's slug.
    pub slug: String,
}

impl fmt::Display for TeamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.slug)
    }
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

/// The default `leave_title`.
pub const DEFAULT_LEAVE_TITLE: &str = r"(?i)\b(leave|unsubscribe)\b";
/// The default `leave_labels`.
pub const DEFAULT_LEAVE_LABEL: &str = "leave-meeting";

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

/// Reads an environment variable; a seam so tests don't touch the process environment.
pub trait Env {
    /// The variable's value, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

// ---------------------------------------------------------------------------------------------
// The file as written. Values that need checking keep their span for error messages.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    webhook: RawWebhook,
    #[serde(default)]
    github: RawGitHub,
    mail: RawMail,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    series: Vec<RawSeries>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    max_body_bytes: Option<Spanned<usize>>,
    max_in_flight: Option<Spanned<usize>>,
    request_timeout_secs: Option<Spanned<u64>>,
    public_url: Option<Spanned<String>>,
    link_secret_file: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    secret_file: Option<Spanned<String>>,
    failed_signature_limit: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGitHub {
    api_url: Option<Spanned<String>>,
    app_id: Option<Spanned<u64>>,
    app_key_file: Option<Spanned<String>>,
    catch_up_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    from: Spanned<String>,
    transport: Option<Spanned<String>>,
    dir: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    data_dir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    id: Spanned<String>,
    repo: Spanned<String>,
    title: String,
    #[serde(default)]
    description: String,
    location: Option<String>,
    timezone: Spanned<String>,
    first: Spanned<LocalDateTime>,
    duration_minutes: Spanned<u32>,
    #[serde(default = "default_interval")]
    interval_weeks: Spanned<u32>,
    #[serde(default)]
    skip: Vec<Spanned<LocalDate>>,
    organizer: RawPerson,
    roster: Spanned<String>,
    uid: Option<Spanned<String>>,
    github_team: Option<Spanned<String>>,
    max_new_per_day: Option<u32>,
    max_requests_per_person_per_day: Option<u32>,
    #[serde(default)]
    min_account_age_days: u32,
    #[serde(default)]
    confirm_email: bool,
    approval_label: Option<String>,
    approved_label: Option<String>,
    #[serde(rename = "match", default)]
    matcher: RawMatch,
    #[serde(default)]
    reply: RawReply,
}

fn default_interval() -> Spanned<u32> {
    Spanned::new(0..0, 2)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    name: String,
    email: Spanned<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    #[serde(default)]
    labels: Vec<String>,
    title: Option<Spanned<String>>,
    leave_labels: Option<Vec<String>>,
    leave_title: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default = "yes")]
    close: bool,
    needs_email_label: Option<String>,
}

fn yes() -> bool {
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
enum LocalDateTime {
    Text(String),
    Literal(toml::value::Datetime),
}

/// A local date written either as a string (`"2026-12-28"`) or a TOML literal.
#[derive(Deserialize)]
#[serde(untagged)]
enum LocalDate {
    Text(String),
    Literal(toml::value::Datetime),
}

fn literal_text(text: &LocalDateTime) -> String {
    match text {
        LocalDateTime::Text(s) => s.trim().to_string(),
        LocalDateTime::Literal(d) => d.to_string(),
    }
}

fn date_text(text: &LocalDate) -> String {
    match text {
        LocalDate::Text(s) => s.trim().to_string(),
        LocalDate::Literal(d) => d.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------

impl Config {
    /// Reads and checks the config file at `path`, completed by the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Self::load_with_env(path, &ProcessEnv)
    }

    /// Reads and checks the config file at `path`, completed by `env`.
    pub fn load_with_env(path: &Path, env: &dyn Env) -> Result<Config, ConfigError> {
        let source = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::file(path, format!("cannot read the config file: {e} (give another with --config or INVITEBOT_CONFIG)"))
        })?;
        Self::from_source(path, &source, env)
    }

    /// Checks config text that was read from `path`.
    pub fn from_source(path: &Path, source: &str, env: &dyn Env) -> Result<Config, ConfigError> {
        let raw: RawConfig = parse_toml(path, source)?;
        Checker {
            path,
            source,
            base: path.parent().unwrap_or(Path::new(".")),
            env,
        }
        .check(raw)
    }

    /// The files maintainers edit: this config and every roster.
    pub fn files(&self) -> Vec<PathBuf> {
        std::iter::once(self.path.clone())
            .chain(self.series.iter().map(|s| s.roster.clone()))
            .collect()
    }

    /// The series with this id.
    pub fn series_by_id(&self, id: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.id == id)
    }
}

/// Turns the raw file into checked values, with the context every error needs.
struct Checker<'a> {
    path: &'a Path,
    source: &'a str,
    base: &'a Path,
    env: &'a dyn Env,
}

impl Checker<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let span = (span != (0..0)).then_some(span);
        ConfigError::at(self.path, self.source, span, message)
    }

    fn resolve(&self, relative: &str) -> PathBuf {
        self.base.join(relative)
    }

    fn check(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let data_dir = match self.env.var(env::DATA_DIR) {
            Some(dir) => PathBuf::from(dir),
            None => self.resolve(
                raw.storage
                    .data_dir
                    .as_ref()
                    .map_or("data", |d| d.get_ref()),
            ),
        };
        let mut series = Vec::with_capacity(raw.series.len());
        let mut ids = HashSet::new();
        for s in raw.series {
            if !ids.insert(s.id.get_ref().clone()) {
                return Err(self.err(
                    s.id.span(),
                    format!(
                        "series id `{}` is used twice; each series needs its own id",
                        s.id.get_ref()
                    ),
                ));
            }
            series.push(self.series(s)?);
        }
        if series.is_empty() {
            return Err(ConfigError::file(
                self.path,
                "no [[series]] is configured; add one (see the README)",
            ));
        }
        let links = self.links(&raw.server, &series)?;
        Ok(Config {
            path: self.path.to_path_buf(),
            links,
            server: self.server(raw.server)?,
            webhook: self.webhook(raw.webhook)?,
            github: self.github(raw.github)?,
            mail: self.mail(raw.mail, &data_dir)?,
            data_dir,
            series,
        })
    }

    fn server(&self, raw: RawServer) -> Result<ServerConfig, ConfigError> {
        let listen = match self.env.var(env::LISTEN) {
            Some(text) => text.parse().map_err(|_| {
                ConfigError::file(self.path, format!("{} = {text:?} is not an address like 127.0.0.1:8080", env::LISTEN))
            })?,
            None => match raw.listen {
                Some(text) => text.get_ref().parse().map_err(|_| {
                    self.err(text.span(), "`listen` must be an IP address and port, like \"127.0.0.1:8080\" or \"0.0.0.0:8080\"")
                })?,
                None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            },
        };
        let max_body_bytes = self.at_least(raw.max_body_bytes, 1024, "max_body_bytes")?;
        let max_in_flight = self.at_least(raw.max_in_flight, 1, "max_in_flight")?;
        let timeout = self.at_least(raw.request_timeout_secs, 1, "request_timeout_secs")?;
        Ok(ServerConfig {
            listen,
            max_body_bytes: max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            max_in_flight: max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
            request_timeout: Duration::from_secs(timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS)),
        })
    }

    /// The value of the optional number `key`, which must be at least `min`.
    fn at_least<T: PartialOrd + fmt::Display>(
        &self,
        value: Option<Spanned<T>>,
        min: T,
        key: &str,
    ) -> Result<Option<T>, ConfigError> {
        match value {
            Some(n) if *n.get_ref() < min => {
                Err(self.err(n.span(), format!("`{key}` must be at least {min}")))
            }
            other => Ok(other.map(Spanned::into_inner)),
        }
    }

    fn webhook(&self, raw: RawWebhook) -> Result<WebhookConfig, ConfigError> {
        Ok(WebhookConfig {
            failed_signature_limit: raw
                .failed_signature_limit
                .unwrap_or(DEFAULT_FAILED_SIGNATURE_LIMIT),
            secrets: self.webhook_secrets(raw.secret_file)?,
        })
    }

    /// The secrets from `INVITEBOT_WEBHOOK_SECRET` (comma-separated) or else from the
    /// `secret_file` (one per line); at most [`WebhookSecrets::MAX`].
    fn webhook_secrets(
        &self,
        file: Option<Spanned<String>>,
    ) -> Result<Option<WebhookSecrets>, ConfigError> {
        let listed = self
            .env
            .var(env::WEBHOOK_SECRET)
            .and_then(|list| WebhookSecrets::from_list(&list));
        let (secrets, source, span) = match (listed, file) {
            (Some(secrets), _) => (secrets, env::WEBHOOK_SECRET.to_string(), None),
            (None, Some(file)) => {
                let (secrets, path) = self.secrets_from_file(&file)?;
                let source = format!("the webhook secret file {}", path.display());
                (secrets, source, Some(file.span()))
            }
            (None, None) => return Ok(None),
        };
        if secrets.len() > WebhookSecrets::MAX {
            return Err(ConfigError::at(
                self.path,
                self.source,
                span,
                format!(
                    "{source} holds {} secrets; at most {} are accepted (remove retired ones)",
                    secrets.len(),
                    WebhookSecrets::MAX
                ),
            ));
        }
        Ok(Some(secrets))
    }

    /// The secrets in the file `file` names, and its resolved path.
    fn secrets_from_file(
        &self,
        file: &Spanned<String>,
    ) -> Result<(WebhookSecrets, PathBuf), ConfigError> {
        let path = self.resolve(file.get_ref());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            self.err(
                file.span(),
                format!(
                    "cannot read the webhook secret file {}: {e}",
                    path.display()
                ),
            )
        })?;
        let secrets = WebhookSecrets::from_lines(&text).ok_or_else(|| {
            self.err(
                file.span(),
                format!(
                    "the webhook secret file {} holds no secret (one per line; lines starting with # are comments)",
                    path.display()
                ),
            )
        })?;
        Ok((secrets, path))
    }

    fn github(&self, raw: RawGitHub) -> Result<GitHubConfig, ConfigError> {
        let app = self.github_app(&raw)?;
        if app.is_some() && self.env.var(env::GITHUB_TOKEN).is_some() {
            return Err(ConfigError::file(
                self.path,
                format!(
                    "both {} and a GitHub App (app_id, app_key_file) are configured; keep one of them",
                    env::GITHUB_TOKEN
                ),
            ));
        }
        let api_url = self
            .env
            .var(env::GITHUB_API_URL)
            .or_else(|| raw.api_url.map(Spanned::into_inner))
            .unwrap_or_else(|| "https://api.github.com".to_string());
        // An App wins over the generic GITHUB_TOKEN, which CI and other tools set on their own.
        let token = self
            .env
            .var(env::GITHUB_TOKEN)
            .or_else(|| self.env.var(env::GITHUB_TOKEN_FALLBACK))
            .filter(|_| app.is_none())
            .map(|t| SecretString::from(t.trim().to_string()));
        Ok(GitHubConfig {
            api_url,
            token,
            app,
            catch_up_days: raw.catch_up_days.unwrap_or(DEFAULT_CATCH_UP_DAYS),
        })
    }

    /// The GitHub App: `app_id` and `app_key_file` (or their environment variables) together,
    /// the key file read and checked.
    fn github_app(&self, raw: &RawGitHub) -> Result<Option<AppCredentials>, ConfigError> {
        let id = self.github_app_id(raw)?;
        let key_file = match self.env.var(env::GITHUB_APP_KEY_FILE) {
            Some(file) => Some((PathBuf::from(file.trim()), None)),
            None => raw
                .app_key_file
                .as_ref()
                .map(|f| (self.resolve(f.get_ref()), Some(f.span()))),
        };
        let (id, (key_file, span)) = match (id, key_file) {
            (None, None) => return Ok(None),
            (Some(id), Some(file)) => (id, file),
            (id, _) => {
                let missing = if id.is_none() {
                    "app_id"
                } else {
                    "app_key_file"
                };
                return Err(ConfigError::file(
                    self.path,
                    format!(
                        "a GitHub App needs both `app_id` and `app_key_file` in [github] (or {} and {}); `{missing}` is missing",
                        env::GITHUB_APP_ID,
                        env::GITHUB_APP_KEY_FILE
                    ),
                ));
            }
        };
        AppCredentials::load(id, &key_file).map(Some).map_err(|e| {
            let message = format!("the GitHub App key file {}: {e}", key_file.display());
            match span {
                Some(span) => self.err(span, message),
                None => ConfigError::file(
                    self.path,
                    format!("{} = {message}", env::GITHUB_APP_KEY_FILE),
                ),
            }
        })
    }

    fn github_app_id(&self, raw: &RawGitHub) -> Result<Option<u64>, ConfigError> {
        const WHAT: &str = "must be the App's numeric id (the App's settings page shows it)";
        if let Some(text) = self.env.var(env::GITHUB_APP_ID) {
            return match text.trim().parse::<u64>() {
                Ok(id) if id > 0 => Ok(Some(id)),
                _ => Err(ConfigError::file(
                    self.path,
                    format!("{} = {text:?} {WHAT}", env::GITHUB_APP_ID),
                )),
            };
        }
        match &raw.app_id {
            Some(id) if *id.get_ref() == 0 => Err(self.err(id.span(), format!("`app_id` {WHAT}"))),
            id => Ok(id.as_ref().map(|id| *id.get_ref())),
        }
    }

    fn mail(&self, raw: RawMail, data_dir: &Path) -> Result<MailConfig, ConfigError> {
        let from: Mailbox = raw.from.get_ref().parse().map_err(|_| {
            self.err(
                raw.from.span(),
                "`from` must be a mailbox like \"ISPO Working Group <ispo-wg@example.org>\"",
            )
        })?;
        let transport_span = raw.transport.as_ref().map_or(0..0, |t| t.span());
        let transport_name = self
            .env
            .var(env::MAIL_TRANSPORT)
            .or_else(|| raw.transport.map(Spanned::into_inner))
            .unwrap_or_else(|| "file".to_string());
        let transport = match transport_name.as_str() {
            "file" => MailTransport::File {
                dir: raw
                    .dir
                    .map_or_else(|| data_dir.join("mail"), |d| self.resolve(d.get_ref())),
            },
            "smtp" => {
                let url = self
                    .env
                    .var(env::SMTP_URL)
                    .or_else(|| raw.url.as_ref().map(|u| u.get_ref().clone()));
                let url = url.ok_or_else(|| {
                    self.err(transport_span.clone(), format!("transport \"smtp\" needs `url` (or {}), like \"smtp://127.0.0.1:2525\"", env::SMTP_URL))
                })?;
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url).map_err(|e| {
                    let span = raw.url.as_ref().map_or(transport_span.clone(), |u| u.span());
                    // The URL may contain a password: describe the problem without echoing it.
                    self.err(span, format!("the SMTP url is not valid ({e}); use smtp://host:port, smtp://host:port?tls=required or smtps://host:port"))
                })?;
                MailTransport::Smtp {
                    url: SecretString::from(url),
                }
            }
            other => {
                return Err(self.err(
                    transport_span,
                    format!("unknown mail transport {other:?}: use \"file\" or \"smtp\""),
                ));
            }
        };
        Ok(MailConfig { from, transport })
    }

    fn series(&self, raw: RawSeries) -> Result<Series, ConfigError> {
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
            Some(team) => Some(parse_team(team.get_ref()).ok_or_else(|| {
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
            use crate::calendar::ScheduleError as E;
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

/// Parses `org/team-slug`.
fn parse_team(text: &str) -> Option<TeamName> {
    let repo = RepoName::parse(text.trim())?;
    Some(TeamName {
        org: repo.owner,
        slug: repo.name,
    })
}

/// The calendar UID of a series: stable across restarts and machines, unique per repository, so
/// two working groups that both call their series "community-call" never collide in a calendar.
pub fn default_uid(id: &str, repo: &RepoName) -> String {
    format!("{id}.{}.{}@invitebot", repo.owner, repo.name).to_ascii_lowercase()
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

mod links;
use links::label_or;
pub use links::{
    DEFAULT_APPROVAL_LABEL, DEFAULT_APPROVED_LABEL, DEFAULT_MAX_NEW_PER_DAY,
    DEFAULT_MAX_REQUESTS_PER_PERSON_PER_DAY, Guard, LINK_SECRET_ENV, LinksConfig, PUBLIC_URL_ENV,
};
