//! The settings of the HTTP edge: the listener (`[server]`) and the webhook secrets and limits
//! (`[webhook]`), as checked by `config`.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// HTTP listener settings: where to listen, and the limits that keep a flood, a slow client or
/// a huge body from sinking the edge. A per-source limit of `0` is off (behind a reverse proxy,
/// where every request has the proxy's address, limit at the proxy instead).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The public listener: webhook and link pages (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// The operations listener: `/metrics`, `/readyz`, `/healthz`; keep it off the internet.
    pub admin_listen: SocketAddr,
    /// Largest accepted webhook body, in bytes.
    pub max_body_bytes: usize,
    /// Requests handled at once; more get `503` at once.
    pub max_in_flight: usize,
    /// Requests one source address may have in progress at once (`0`: no per-source limit).
    pub max_in_flight_per_source: usize,
    /// Request body bytes buffered at once across all requests; past it `503` before reading.
    pub max_buffered_bytes: usize,
    /// Open connections at once; past it new connections are closed at once.
    pub max_connections: usize,
    /// Open connections one source address may hold (`0`: no per-source limit).
    pub max_connections_per_source: usize,
    /// How long one request may take (reading the body included) before it gets `408`.
    pub request_timeout: Duration,
    /// How long a client has to send a request's whole head (request line and headers).
    pub header_timeout: Duration,
    /// How long a connection may sit without a byte in either direction before it is closed.
    pub idle_timeout: Duration,
    /// How often rejected requests are summarised in the log (one line per kind, with counts).
    pub log_summary_interval: Duration,
}

impl ServerConfig {
    /// The largest head (request line and headers) accepted: GitHub's are a few KB.
    pub const MAX_HEAD_BYTES: usize = 16 * 1024;

    /// The body bytes one source may have buffered at once: its share of
    /// `max_buffered_bytes`, in the proportion of its request slots, and at least one whole
    /// body. `None` when there is no per-source limit.
    pub fn buffered_bytes_per_source(&self) -> Option<usize> {
        if self.max_in_flight_per_source == 0 {
            return None;
        }
        let share = (self.max_buffered_bytes as u128 * self.max_in_flight_per_source as u128
            / self.max_in_flight.max(1) as u128) as usize;
        Some(share.max(self.max_body_bytes).min(self.max_buffered_bytes))
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            // GitHub's `issues` payloads are 10-30 KB; the largest measured is in the README.
            max_body_bytes: 1024 * 1024,
            max_in_flight: 256,
            max_in_flight_per_source: 32,
            max_buffered_bytes: 32 * 1024 * 1024,
            max_connections: 1024,
            max_connections_per_source: 64,
            // GitHub gives up after 10 s.
            request_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            log_summary_interval: Duration::from_secs(60),
        }
    }
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
pub struct WebhookSecret {
    secret: SecretString,
    /// HMAC-SHA256 keyed with the secret: keying costs two SHA-256 blocks, done once here
    /// instead of for every delivery.
    keyed: Hmac<Sha256>,
}

impl WebhookSecret {
    /// Wraps a secret; surrounding white space (a trailing newline in a file) is not part of it.
    pub fn new(secret: &str) -> Option<Self> {
        let secret = secret.trim();
        (!secret.is_empty()).then(|| Self {
            secret: SecretString::from(secret.to_string()),
            keyed: Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC accepts keys of any length"),
        })
    }

    /// The secret's bytes.
    pub fn expose_bytes(&self) -> &[u8] {
        self.secret.expose_secret().as_bytes()
    }

    /// HMAC-SHA256 keyed with the secret, ready for a body.
    pub fn hmac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
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
