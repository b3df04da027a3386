//! The configuration file and its environment overrides.
//!
//! [`Config::load`] reads `invitebot.toml`, applies the `INVITEBOT_*` environment variables and
//! turns every value into its checked type (addresses, time zones, schedules, regexes). Every
//! error names the file, line and column and says what to fix. Relative paths are resolved
//! against the folder of the config file.

use std::path::{Path, PathBuf};

use crate::core::series::Series;
use crate::github::settings::GitHubConfig;
use crate::links::settings::LinksConfig;
use crate::mail::settings::MailConfig;
use crate::meetings::settings::MeetingsConfig;
use crate::webhook::settings::{ServerConfig, WebhookConfig};

mod checker;
pub mod edit;
pub mod env;
mod error;
mod links;
mod raw;
mod series;
mod server;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use env::{Env, ProcessEnv};
pub use error::{ConfigError, parse_toml};
pub use links::{
    DEFAULT_APPROVAL_LABEL, DEFAULT_APPROVED_LABEL, DEFAULT_MAX_NEW_PER_DAY,
    DEFAULT_MAX_REQUESTS_PER_PERSON_PER_DAY, LINK_SECRET_ENV, PUBLIC_URL_ENV,
};

/// Where the configuration is read from when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config/invitebot.toml";
/// How long personal data of finished requests is kept by default (`[storage] retention_days`).
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// How far back the first catch-up looks by default.
pub const DEFAULT_CATCH_UP_DAYS: u32 = 7;
/// Failed signatures allowed per source address and minute by default.
pub const DEFAULT_FAILED_SIGNATURE_LIMIT: u32 = 60;

/// The default `leave_title`.
pub const DEFAULT_LEAVE_TITLE: &str = r"(?i)\b(leave|unsubscribe)\b";
/// The default `leave_labels`.
pub const DEFAULT_LEAVE_LABEL: &str = "leave-meeting";

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
    /// `[storage] retention_days`: how long names and addresses of finished requests (and the
    /// file transport's mail files) are kept.
    pub retention_days: u32,
    /// The meeting series, in file order.
    pub series: Vec<Series>,
    /// Links in mails and comments (confirm, leave, private email form).
    pub links: LinksConfig,
    /// The public meetings page and calendar feeds.
    pub meetings: MeetingsConfig,
}

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
        let raw: raw::RawConfig = parse_toml(path, source)?;
        checker::Checker {
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
        crate::core::series::series_by_id(&self.series, id)
    }
}
