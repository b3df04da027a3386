//! Signing in with GitHub (the web application flow of the GitHub App's OAuth client), so the
//! private email form can tell who is filling it in.
//!
//! The visitor is sent to `{web_url}/login/oauth/authorize` with a `state` the caller binds to
//! the link; GitHub sends them back with a `code`, which [`SignIn::login_of`] exchanges for a
//! user access token at `{web_url}/login/oauth/access_token` and uses once, for `GET /user`. The
//! token is dropped right after: nothing is kept, and the client secret never leaves this module
//! but in that exchange.

use octocrab::Octocrab;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::client::{build, builder};
use super::error::{GitHubApiError, api_error};
use crate::core::identity::Login;
use crate::github::settings::OAuthConfig;

/// The sign-in flow. Its `Debug` form shows the client id only.
pub struct SignIn {
    client_id: String,
    client_secret: SecretString,
    web_url: String,
    api_url: String,
    /// The client for the code exchange (answers as JSON).
    web: Octocrab,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// The code exchange's request.
#[derive(Serialize)]
struct Exchange<'a> {
    client_id: &'a str,
    client_secret: &'a str,
    code: &'a str,
    redirect_uri: &'a str,
}

/// The code exchange's answer: a token, or GitHub's error word (`bad_verification_code`).
#[derive(Deserialize)]
struct Granted {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /user`, as far as needed.
#[derive(Deserialize)]
struct SignedInUser {
    login: String,
}

impl SignIn {
    /// The flow for `settings`, reading the user from the REST API at `api_url`.
    pub fn new(settings: &OAuthConfig, api_url: &str) -> Result<Self, GitHubApiError> {
        let web = builder("oauth_url", &settings.web_url)?
            .add_header(axum::http::header::ACCEPT, "application/json".to_string());
        Ok(Self {
            client_id: settings.client_id.clone(),
            client_secret: settings.client_secret.clone(),
            web_url: settings.web_url.trim_end_matches('/').to_string(),
            api_url: api_url.to_string(),
            web: build(web)?,
        })
    }

    /// Where to send the visitor: GitHub's sign-in page, which comes back to `redirect_uri`
    /// with a code and `state`. No scope is asked: the login is public.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair("allow_signup", "false")
            .finish();
        format!("{}/login/oauth/authorize?{query}", self.web_url)
    }

    /// The login of the visitor who came back with `code`; the user access token is used for
    /// that one call and dropped.
    pub async fn login_of(&self, code: &str, redirect_uri: &str) -> Result<Login, GitHubApiError> {
        let route = "/login/oauth/access_token";
        let exchange = Exchange {
            client_id: &self.client_id,
            client_secret: self.client_secret.expose_secret(),
            code,
            redirect_uri,
        };
        let granted: Granted = self
            .web
            .post(route, Some(&exchange))
            .await
            .map_err(|e| api_error(format!("POST {route}"), e))?;
        let token = match (granted.access_token, granted.error) {
            (Some(token), _) => SecretString::from(token),
            (None, error) => {
                return Err(GitHubApiError::Status {
                    what: format!("POST {route}"),
                    status: 200,
                    message: error.unwrap_or_else(|| "no access token".into()),
                    retry_after: None,
                });
            }
        };
        let user = build(builder("api_url", &self.api_url)?.user_access_token(token))?;
        let me: SignedInUser = user
            .get("/user", None::<&()>)
            .await
            .map_err(|e| api_error("GET /user".into(), e))?;
        Ok(Login::new(&me.login))
    }
}
