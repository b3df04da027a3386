//! The settings of links in mails and comments (`[server] public_url`, `link_secret_file`), as
//! checked by `config`.

use secrecy::SecretString;

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
