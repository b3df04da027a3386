//! Turns the file as written ([`raw`](super::raw)) into checked settings: the listener, webhook
//! secrets, GitHub, mail and storage. Series are checked in [`series`](super::series), links in
//! [`links`](super::links).

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use secrecy::SecretString;
use toml::Spanned;

use super::raw::{RawConfig, RawGitHub, RawMail, RawWebhook};
use super::{
    Config, ConfigError, DEFAULT_CATCH_UP_DAYS, DEFAULT_FAILED_SIGNATURE_LIMIT,
    DEFAULT_RETENTION_DAYS, Env, env,
};
use crate::github::auth::AppCredentials;
use crate::github::settings::{GitHubConfig, OAuthConfig};
use crate::mail::settings::{MailConfig, MailTransport, credentials_without_tls};
use crate::meetings::settings::MeetingsConfig;
use crate::webhook::settings::{WebhookConfig, WebhookSecrets};

/// Turns the raw file into checked values, with the context every error needs.
pub(super) struct Checker<'a> {
    pub(super) path: &'a Path,
    pub(super) source: &'a str,
    pub(super) base: &'a Path,
    pub(super) env: &'a dyn Env,
}

impl Checker<'_> {
    pub(super) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let span = (span != (0..0)).then_some(span);
        ConfigError::at(self.path, self.source, span, message)
    }

    pub(super) fn resolve(&self, relative: &str) -> PathBuf {
        self.base.join(relative)
    }

    pub(super) fn check(&self, raw: RawConfig) -> Result<Config, ConfigError> {
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
        let links = self.links(&raw.server)?;
        let github = self.github(raw.github)?;
        if github.oauth.is_some() && links.public_url.is_none() {
            return Err(ConfigError::file(
                self.path,
                "signing in with GitHub (oauth_client_id) needs [server] public_url: GitHub sends the visitor back to {public_url}/join/...",
            ));
        }
        let retention_days = raw.storage.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS);
        let meetings = MeetingsConfig {
            enabled: raw.server.page.unwrap_or(true),
            public_url: links.public_url.clone(),
        };
        Ok(Config {
            path: self.path.to_path_buf(),
            links,
            meetings,
            server: self.server(raw.server)?,
            webhook: self.webhook(raw.webhook)?,
            github,
            mail: self.mail(raw.mail, &data_dir)?,
            data_dir,
            retention_days,
            series,
        })
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
            .or_else(|| raw.api_url.as_ref().map(|u| u.get_ref().clone()))
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
            oauth: self.github_oauth(&raw)?,
        })
    }

    /// The GitHub App's OAuth client: id and secret together (file or environment), and where
    /// GitHub's sign-in pages are (`oauth_url`, default `https://github.com`).
    fn github_oauth(&self, raw: &RawGitHub) -> Result<Option<OAuthConfig>, ConfigError> {
        let setting = |name: &str, value: &Option<Spanned<String>>| {
            self.env
                .var(name)
                .or_else(|| value.as_ref().map(|v| v.get_ref().clone()))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let id = setting(env::GITHUB_OAUTH_CLIENT_ID, &raw.oauth_client_id);
        let secret = setting(env::GITHUB_OAUTH_CLIENT_SECRET, &raw.oauth_client_secret);
        let (client_id, client_secret) = match (id, secret) {
            (None, None) => return Ok(None),
            (Some(id), Some(secret)) => (id, SecretString::from(secret)),
            (id, _) => {
                let missing = if id.is_none() {
                    "oauth_client_id"
                } else {
                    "oauth_client_secret"
                };
                return Err(ConfigError::file(
                    self.path,
                    format!(
                        "signing in with GitHub needs both `oauth_client_id` and `oauth_client_secret` in [github] (or {} and {}); `{missing}` is missing",
                        env::GITHUB_OAUTH_CLIENT_ID,
                        env::GITHUB_OAUTH_CLIENT_SECRET
                    ),
                ));
            }
        };
        let web_url = setting(env::GITHUB_OAUTH_URL, &raw.oauth_url)
            .unwrap_or_else(|| "https://github.com".to_string());
        Ok(Some(OAuthConfig {
            client_id,
            client_secret,
            web_url,
        }))
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
                if let Some(reason) = credentials_without_tls(&url) {
                    let span = raw
                        .url
                        .as_ref()
                        .map_or(transport_span.clone(), |u| u.span());
                    return Err(self.err(span, reason));
                }
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
}
