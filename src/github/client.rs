//! The only place that talks to the GitHub REST API.
//!
//! A thin wrapper over octocrab with the few calls invitebot makes. Writes (comment, labels,
//! close) are never retried by the HTTP layer: octocrab's default retry repeats a POST after a
//! 5xx, which can post the same comment twice. Responses to writes are checked for their status
//! only, so a change in GitHub's response shape can't turn a done write into a failure.

use std::time::Duration;

use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::config::{GitHubConfig, RepoName, TeamName};

/// A failed GitHub API call.
#[derive(Debug, thiserror::Error)]
pub enum GitHubApiError {
    /// The API answered with an error status.
    #[error("GitHub answered {status} to {what}: {message}")]
    Status {
        /// What was attempted.
        what: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// The request did not get an answer (network, timeout, TLS) or the answer was unreadable.
    #[error("GitHub request failed ({what}): {detail}")]
    Transport {
        /// What was attempted.
        what: String,
        /// octocrab's error, in its Debug form (its Display says only "GitHub").
        detail: String,
    },
    /// The client could not be set up (bad `api_url`).
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

/// A user's public profile, as far as invitebot needs it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile {
    /// The display name, if set.
    #[serde(default)]
    pub name: Option<String>,
    /// The public email, if the user made one public.
    #[serde(default)]
    pub email: Option<String>,
}

/// The GitHub API, or (without a token) a stand-in that logs the replies it would send.
#[derive(Clone)]
pub struct Client {
    crab: Octocrab,
    can_write: bool,
}

impl Client {
    /// Builds the client from the config. Without a token, profile lookups still work
    /// (unauthenticated, rate-limited by GitHub) and replies are logged instead of sent.
    pub fn new(config: &GitHubConfig) -> Result<Self, GitHubApiError> {
        let mut builder = Octocrab::builder()
            .base_uri(config.api_url.as_str())
            .map_err(|e| GitHubApiError::Setup(format!("api_url {:?}: {e:?}", config.api_url)))?
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(Duration::from_secs(10)))
            .set_read_timeout(Some(Duration::from_secs(20)))
            .set_write_timeout(Some(Duration::from_secs(20)));
        if let Some(token) = &config.token {
            builder = builder.personal_token(SecretString::from(token.expose_secret().to_string()));
        }
        let crab = builder
            .build()
            .map_err(|e| GitHubApiError::Setup(format!("{e:?}")))?;
        Ok(Self {
            crab,
            can_write: config.token.is_some(),
        })
    }

    /// Whether replies are really sent (a token is configured).
    pub fn can_write(&self) -> bool {
        self.can_write
    }

    /// `GET /users/{login}`: the public profile.
    pub async fn profile(&self, login: &str) -> Result<Profile, GitHubApiError> {
        let what = format!("GET /users/{login}");
        self.crab
            .get(format!("/users/{login}"), None::<&()>)
            .await
            .map_err(|e| api_error(what, e))
    }

    /// Posts a comment on an issue.
    pub async fn comment(
        &self,
        repo: &RepoName,
        issue: u64,
        body: &str,
    ) -> Result<(), GitHubApiError> {
        #[derive(Serialize)]
        struct Body<'a> {
            body: &'a str,
        }
        let route = format!("/repos/{repo}/issues/{issue}/comments");
        self.write(Method::Post, route, &Body { body }).await
    }

    /// Adds labels to an issue (labels that don't exist yet are created by GitHub).
    pub async fn add_labels(
        &self,
        repo: &RepoName,
        issue: u64,
        labels: &[String],
    ) -> Result<(), GitHubApiError> {
        #[derive(Serialize)]
        struct Body<'a> {
            labels: &'a [String],
        }
        if labels.is_empty() {
            return Ok(());
        }
        let route = format!("/repos/{repo}/issues/{issue}/labels");
        self.write(Method::Post, route, &Body { labels }).await
    }

    /// Closes an issue as completed.
    pub async fn close(&self, repo: &RepoName, issue: u64) -> Result<(), GitHubApiError> {
        #[derive(Serialize)]
        struct Body {
            state: &'static str,
            state_reason: &'static str,
        }
        let route = format!("/repos/{repo}/issues/{issue}");
        self.write(
            Method::Patch,
            route,
            &Body {
                state: "closed",
                state_reason: "completed",
            },
        )
        .await
    }

    /// Invites a user to a team, or keeps them in it (`PUT /orgs/{org}/teams/{slug}/memberships/{user}`,
    /// role member). octocrab has no helper for it.
    pub async fn add_team_member(
        &self,
        team: &TeamName,
        login: &str,
    ) -> Result<(), GitHubApiError> {
        #[derive(Serialize)]
        struct Body {
            role: &'static str,
        }
        let route = format!("/orgs/{}/teams/{}/memberships/{login}", team.org, team.slug);
        self.write(Method::Put, route, &Body { role: "member" })
            .await
    }

    /// Removes a user from a team (`DELETE` on the same route).
    pub async fn remove_team_member(
        &self,
        team: &TeamName,
        login: &str,
    ) -> Result<(), GitHubApiError> {
        let route = format!("/orgs/{}/teams/{}/memberships/{login}", team.org, team.slug);
        self.write(Method::Delete, route, &()).await
    }

    async fn write<B: Serialize>(
        &self,
        method: Method,
        route: String,
        body: &B,
    ) -> Result<(), GitHubApiError> {
        let what = format!("{} {route}", method.as_str());
        if !self.can_write {
            tracing::info!(request = %what, "no GitHub token configured: reply not sent");
            return Ok(());
        }
        // A path without scheme and host: octocrab's base-URI layer joins it to `api_url`.
        let response = match method {
            Method::Post => self.crab._post(route.as_str(), Some(body)).await,
            Method::Patch => self.crab._patch(route.as_str(), Some(body)).await,
            Method::Put => self.crab._put(route.as_str(), Some(body)).await,
            Method::Delete => self.crab._delete(route.as_str(), None::<&()>).await,
        };
        let response = response.map_err(|e| api_error(what.clone(), e))?;
        octocrab::map_github_error(response)
            .await
            .map(drop)
            .map_err(|e| api_error(what, e))
    }
}

#[derive(Clone, Copy)]
enum Method {
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

fn api_error(what: String, error: octocrab::Error) -> GitHubApiError {
    match error {
        octocrab::Error::GitHub { source, .. } => GitHubApiError::Status {
            what,
            status: source.status_code.as_u16(),
            message: source.message,
        },
        other => GitHubApiError::Transport {
            what,
            detail: format!("{other:?}"),
        },
    }
}
