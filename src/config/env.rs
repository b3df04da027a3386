//! Environment variables that override or complete the file, and the [`Env`] seam that reads
//! them.

/// `[server] listen`.
pub const LISTEN: &str = "INVITEBOT_LISTEN";
/// `[server] admin_listen`.
pub const ADMIN_LISTEN: &str = "INVITEBOT_ADMIN_LISTEN";
/// The webhook secrets, comma-separated (instead of `[webhook] secret_file`).
pub const WEBHOOK_SECRET: &str = "INVITEBOT_WEBHOOK_SECRET";
/// `[github] api_url`.
pub const GITHUB_API_URL: &str = "INVITEBOT_GITHUB_API_URL";
/// The GitHub token.
pub const GITHUB_TOKEN: &str = "INVITEBOT_GITHUB_TOKEN";
/// The GitHub token, as GitHub Actions and many tools name it (used when the above is unset).
pub const GITHUB_TOKEN_FALLBACK: &str = "GITHUB_TOKEN";
/// `[github] app_id`: authenticate as this GitHub App (with the key below).
pub const GITHUB_APP_ID: &str = "INVITEBOT_GITHUB_APP_ID";
/// `[github] app_key_file`: the GitHub App's private key (PEM).
pub const GITHUB_APP_KEY_FILE: &str = "INVITEBOT_GITHUB_APP_KEY_FILE";
/// `[mail] transport`.
pub const MAIL_TRANSPORT: &str = "INVITEBOT_MAIL_TRANSPORT";
/// `[mail] url` (may hold the SMTP password).
pub const SMTP_URL: &str = "INVITEBOT_SMTP_URL";
/// `[github] oauth_client_id`: the GitHub App's OAuth client id.
pub const GITHUB_OAUTH_CLIENT_ID: &str = "INVITEBOT_GITHUB_OAUTH_CLIENT_ID";
/// `[github] oauth_client_secret`: the GitHub App's OAuth client secret.
pub const GITHUB_OAUTH_CLIENT_SECRET: &str = "INVITEBOT_GITHUB_OAUTH_CLIENT_SECRET";
/// `[github] oauth_url`: where GitHub's sign-in pages are.
pub const GITHUB_OAUTH_URL: &str = "INVITEBOT_GITHUB_OAUTH_URL";
/// `[[series]] confirm_email`, for every series.
pub const CONFIRM_EMAIL: &str = "INVITEBOT_CONFIRM_EMAIL";
/// `[storage] data_dir`.
pub const DATA_DIR: &str = "INVITEBOT_DATA_DIR";

/// Reads an environment variable; a seam so tests don't touch the process environment.
pub trait Env {
    /// The variable's value, if set and not empty.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}
