//! Checking the settings for links people open (confirm an address, leave a series, give an
//! address privately) and the defaults of the guard in front of the roster (daily limits,
//! account age, approval, double opt-in).

use secrecy::SecretString;
use toml::Spanned;

use super::ConfigError;
use super::checker::Checker;
use super::raw::RawServer;
use crate::links::settings::LinksConfig;

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

/// `value` if given and not blank, else `default`.
pub(super) fn label_or(value: Option<String>, default: &str) -> String {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

impl Checker<'_> {
    /// The links settings. Without a public URL no confirmation link can be mailed: a typed
    /// address then waits for a maintainer (`serve` says so at start).
    pub(super) fn links(&self, raw: &RawServer) -> Result<LinksConfig, ConfigError> {
        let public_url = self.public_url(raw.public_url.as_ref())?;
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
