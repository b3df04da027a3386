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
    /// The GitHub App's OAuth client: with it, the private email form asks the visitor to sign
    /// in with GitHub and accepts only the author.
    pub oauth: Option<OAuthConfig>,
}

/// The OAuth client of the GitHub App (`[github] oauth_client_id`, `oauth_client_secret`), for
/// GitHub's web application flow. Its `Debug` form redacts the secret.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The client id (public: it is part of the sign-in link).
    pub client_id: String,
    /// The client secret.
    pub client_secret: SecretString,
    /// Where GitHub's sign-in pages are (`https://github.com`): `/login/oauth/authorize` and
    /// `/login/oauth/access_token` are under it.
    pub web_url: String,
}
