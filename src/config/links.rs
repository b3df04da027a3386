//! The settings for links people open (confirm an address, leave a series, give an address
//! privately) and for the guard in front of the roster (daily limits, account age, approval,
//! double opt-in).

use secrecy::SecretString;
use toml::Spanned;

use super::{Checker, ConfigError, RawServer, Series};

/// Env: `[server] public_url`.
pub const PUBLIC_URL_ENV: &str = "INVITEBOT_PUBLIC_URL";
/// Env: the link secret (instead of `[server] link_secret_file`).
pub const LINK_SECRET_ENV: &str = "INVITEBOT_LINK_SECRET";
/// New members a series takes per day before further requests wait for a maintainer.
pub const DEFAULT_MAX_NEW_PER_DAY: u32 = 20;
/// Requests one person may make per series per day before further ones wait for a maintainer.
pub const DEFAULT_MAX_REQUESTS_PER_PERSON_PER_DAY: u32 = 3;
/// The label the bot adds to a request that waits for a maintainer.
pub const DEFAULT_APPROVAL_LABEL: &str = "needs-approval";
/// The label a maintainer adds to release a waiting request.
pub const DEFAULT_APPROVED_LABEL: &str = "approved";

/// Links in mails and comments.
#[derive(Debug, Clone, Default)]
pub struct LinksConfig {
    /// The address people reach this service at (`https://invitebot.example.org`); without it
    /// no links are made (no leave link in invites, no private email form, no confirmation).
    pub public_url: Option<url::Url>,
    /// The secret links are signed with; without one, `serve` keeps a generated key in the data
    /// folder.
    pub secret: Option<SecretString>,
}

impl LinksConfig {
    /// The absolute URL of `path` (which starts with `/`) on the public address.
    pub fn url(&self, path: &str) -> Option<String> {
        let base = self.public_url.as_ref()?;
        Some(format!("{}{path}", base.as_str().trim_end_matches('/')))
    }
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

/// `value` if given and not blank, else `default`.
pub(super) fn label_or(value: Option<String>, default: &str) -> String {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

impl Checker<'_> {
    /// The links settings; double opt-in needs a public URL for its link.
    pub(super) fn links(
        &self,
        raw: &RawServer,
        series: &[Series],
    ) -> Result<LinksConfig, ConfigError> {
        let public_url = self.public_url(raw.public_url.as_ref())?;
        if public_url.is_none()
            && let Some(s) = series.iter().find(|s| s.guard.confirm_email)
        {
            return Err(ConfigError::file(
                self.path,
                format!(
                    "series `{}` has confirm_email = true, which mails a link: set [server] public_url (or {PUBLIC_URL_ENV}) to the address people reach invitebot at",
                    s.id
                ),
            ));
        }
        Ok(LinksConfig {
            public_url,
            secret: self.link_secret(raw.link_secret_file.as_ref())?,
        })
    }

    fn public_url(&self, raw: Option<&Spanned<String>>) -> Result<Option<url::Url>, ConfigError> {
        let (text, span) = match (self.env.var(PUBLIC_URL_ENV), raw) {
            (Some(text), _) => (text, None),
            (None, Some(text)) => (text.get_ref().clone(), Some(text.span())),
            (None, None) => return Ok(None),
        };
        let problem = |why: &str| {
            ConfigError::at(
                self.path,
                self.source,
                span.clone(),
                format!(
                    "public_url {text:?} {why}; give the address people reach invitebot at, like \"https://invitebot.example.org\""
                ),
            )
        };
        let url = url::Url::parse(text.trim()).map_err(|_| problem("is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(problem("must be an http(s) address with a host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(problem("must not have a query or fragment"));
        }
        Ok(Some(url))
    }

    fn link_secret(
        &self,
        file: Option<&Spanned<String>>,
    ) -> Result<Option<SecretString>, ConfigError> {
        if let Some(secret) = self.env.var(LINK_SECRET_ENV) {
            return Ok(Some(SecretString::from(secret.trim().to_string())));
        }
        let Some(file) = file else { return Ok(None) };
        let path = self.resolve(file.get_ref());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            self.err(
                file.span(),
                format!("cannot read the link secret file {}: {e}", path.display()),
            )
        })?;
        let secret = text.trim();
        if secret.len() < 16 {
            return Err(self.err(
                file.span(),
                format!(
                    "the link secret in {} is shorter than 16 characters; use a long random string",
                    path.display()
                ),
            ));
        }
        Ok(Some(SecretString::from(secret.to_string())))
    }
}
