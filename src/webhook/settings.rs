//! The settings of the HTTP edge: the listener (`[server]`) and the webhook secrets and limits
//! (`[webhook]`), as checked by `config`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

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
