//! The settings of the GitHub adapter (`[github]`), as checked by `config`.

use secrecy::SecretString;

use crate::github::auth::AppCredentials;

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
