//! The settings of the public meetings page and feeds (`[server] page`, and the public address
//! the feed links are made on), as checked by `config`.

/// The public meetings page (`GET /`) and the series' calendar feeds
/// (`GET /calendar/{series}.ics`).
#[derive(Debug, Clone)]
pub struct MeetingsConfig {
    /// Whether the page and the feeds are served (`[server] page`, default `true`).
    pub enabled: bool,
    /// The address people reach this service at (`[server] public_url`): the Subscribe links
    /// are made on it. Without it they are made on the `Host` the visitor asked for.
    pub public_url: Option<url::Url>,
}

impl Default for MeetingsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            public_url: None,
        }
    }
}
