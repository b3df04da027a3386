//! The only place that talks to the GitHub REST API.
//!
//! A thin wrapper over octocrab with the few calls invitebot makes. Writes (comment, labels,
//! close) are never retried by the HTTP layer: octocrab's default retry repeats a POST after a
//! 5xx, which can post the same comment twice. Responses to writes are checked for their status
//! only, so a change in GitHub's response shape can't turn a done write into a failure.
//!
//! It authenticates with a token, or as a GitHub App: then each call uses the token of the App's
//! installation on the repository or organisation it acts on ([`super::auth`]).

use std::sync::Arc;
use std::time::Duration;

use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::auth::{Installations, Target, is_refused};
use super::error::GitHubApiError;
use super::error::{api_error, error_chain};

mod permission;
mod repository;
use crate::core::identity::{RepoName, TeamName};
use crate::github::settings::GitHubConfig;

/// An open issue, as listed for catch-up.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedIssue {
    /// The number.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body.
    #[serde(default)]
    pub body: Option<String>,
    /// The author.
    pub user: crate::core::webhook_event::Account,
    /// The labels.
    #[serde(default)]
    pub labels: Vec<crate::core::webhook_event::Label>,
    /// Present on pull requests (the issues API lists them too).
    #[serde(default)]
    pub pull_request: Option<serde::de::IgnoredAny>,
}

/// `since` as GitHub's lists take it.
fn since_param(since: jiff::Timestamp) -> String {
    since.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A comment on one of a repository's issues, as catch-up reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedIssueComment {
    /// GitHub's id of the comment.
    pub id: u64,
    /// The text.
    #[serde(default)]
    pub body: Option<String>,
    /// The author.
    pub user: crate::core::webhook_event::Account,
    /// The API URL of its issue (`.../issues/12`).
    pub issue_url: String,
}

impl ListedIssueComment {
    /// The number of its issue, from `issue_url`.
    pub fn issue_number(&self) -> Option<u64> {
        self.issue_url.rsplit('/').next()?.parse().ok()
    }
}

/// A comment, as far as the marker check needs it.
#[derive(Debug, Clone, Deserialize)]
struct ListedComment {
    #[serde(default)]
    body: Option<String>,
}

/// How many items a page of a list asks for (GitHub's maximum).
const PER_PAGE: usize = 100;
/// A bound on pages read from one list, so a runaway list can't stall the worker.
const MAX_PAGES: usize = 50;

/// A user's public profile, as far as invitebot needs it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile {
    /// The display name, if set.
    #[serde(default)]
    pub name: Option<String>,
    /// The public email, if the user made one public.
    #[serde(default)]
    pub email: Option<String>,
    /// When the account was made (RFC 3339), for the account-age rule.
    #[serde(default)]
    pub created_at: Option<String>,
}

/// The GitHub API, or (without credentials) a stand-in that logs the replies it would send.
#[derive(Clone)]
pub struct Client {
    auth: Auth,
}

/// octocrab's builder once configured: `app` and `personal_token` keep its type.
pub(super) type Builder = octocrab::OctocrabBuilder<
    octocrab::NoSvc,
    octocrab::DefaultOctocrabBuilderConfig,
    octocrab::NoAuth,
    octocrab::NotLayerReady,
>;

/// octocrab's builder for `base` (the setting `what`): no retries, bounded waits.
pub(super) fn builder(what: &str, base: &str) -> Result<Builder, GitHubApiError> {
    Ok(Octocrab::builder()
        .base_uri(base)
        .map_err(|e| GitHubApiError::Setup(format!("{what} {base:?}: {}", error_chain(&e))))?
        .add_retry_config(RetryConfig::None)
        .set_connect_timeout(Some(Duration::from_secs(10)))
        .set_read_timeout(Some(Duration::from_secs(20)))
        .set_write_timeout(Some(Duration::from_secs(20))))
}

/// Builds a configured builder's client.
pub(super) fn build(builder: Builder) -> Result<Octocrab, GitHubApiError> {
    builder
        .build()
        .map_err(|e| GitHubApiError::Setup(error_chain(&e)))
}

/// How calls are authenticated.
#[derive(Clone)]
enum Auth {
    /// One client for every call: with a token, or anonymous (then replies are only logged).
    Fixed {
        crab: Arc<Octocrab>,
        can_write: bool,
    },
    /// As a GitHub App: each call uses its installation's client.
    App(Arc<Installations>),
}

impl Client {
    /// Builds the client from the config: as the GitHub App if one is configured, else with the
    /// token. Without either, profile lookups still work (unauthenticated, rate-limited by
    /// GitHub) and replies are logged instead of sent. Every client, the App's token requests
    /// included, talks to `api_url`.
    pub fn new(config: &GitHubConfig) -> Result<Self, GitHubApiError> {
        let builder = builder("api_url", &config.api_url)?;
        let auth = if let Some(app) = &config.app {
            let (id, key) = app.octocrab_parts();
            Auth::App(Arc::new(Installations::new(build(builder.app(id, key))?)))
        } else if let Some(token) = &config.token {
            let token = SecretString::from(token.expose_secret().to_string());
            Auth::Fixed {
                crab: Arc::new(build(builder.personal_token(token))?),
                can_write: true,
            }
        } else {
            Auth::Fixed {
                crab: Arc::new(build(builder)?),
                can_write: false,
            }
        };
        Ok(Self { auth })
    }

    /// Whether replies are really sent (a token or a GitHub App is configured).
    pub fn can_write(&self) -> bool {
        match &self.auth {
            Auth::Fixed { can_write, .. } => *can_write,
            Auth::App(_) => true,
        }
    }

    /// Runs `call` with the client for `target`. As a GitHub App, a call refused with `401` or
    /// `404` makes the installation be looked up again next time.
    async fn with_crab<T>(
        &self,
        target: Target<'_>,
        call: impl AsyncFnOnce(&Octocrab) -> Result<T, GitHubApiError>,
    ) -> Result<T, GitHubApiError> {
        match &self.auth {
            Auth::Fixed { crab, .. } => call(crab).await,
            Auth::App(installations) => {
                let crab = installations.client(target).await?;
                let result = call(&crab).await;
                if let Err(error) = &result
                    && is_refused(error)
                {
                    installations.forget(target);
                }
                result
            }
        }
    }

    /// `GET /users/{login}`: the public profile.
    pub async fn profile(&self, login: &str) -> Result<Profile, GitHubApiError> {
        let route = format!("/users/{login}");
        self.with_crab(Target::Any, async |crab| {
            crab.get(&route, None::<&()>)
                .await
                .map_err(|e| api_error(format!("GET {route}"), e))
        })
        .await
    }

    /// Whether any comment on the issue contains `marker` (the bot's hidden marker), reading
    /// every page.
    pub async fn has_comment_containing(
        &self,
        repo: &RepoName,
        issue: u64,
        marker: &str,
    ) -> Result<bool, GitHubApiError> {
        self.with_crab(Target::Repo(repo), async |crab| {
            for page in 1..=MAX_PAGES {
                let route = format!(
                    "/repos/{repo}/issues/{issue}/comments?per_page={PER_PAGE}&page={page}"
                );
                let comments: Vec<ListedComment> = crab
                    .get(&route, None::<&()>)
                    .await
                    .map_err(|e| api_error(format!("GET {route}"), e))?;
                if comments
                    .iter()
                    .any(|c| c.body.as_deref().is_some_and(|b| b.contains(marker)))
                {
                    return Ok(true);
                }
                if comments.len() < PER_PAGE {
                    break;
                }
            }
            Ok(false)
        })
        .await
    }

    /// The open issues (not pull requests) of a repository updated at or after `since`, every
    /// page.
    pub async fn open_issues_since(
        &self,
        repo: &RepoName,
        since: jiff::Timestamp,
    ) -> Result<Vec<ListedIssue>, GitHubApiError> {
        let route = format!(
            "/repos/{repo}/issues?state=open&since={}",
            since_param(since)
        );
        let listed: Vec<ListedIssue> = self.every_page(repo, &route).await?;
        Ok(listed
            .into_iter()
            .filter(|i| i.pull_request.is_none())
            .collect())
    }

    /// The comments on the issues of a repository updated at or after `since`, every page.
    pub async fn issue_comments_since(
        &self,
        repo: &RepoName,
        since: jiff::Timestamp,
    ) -> Result<Vec<ListedIssueComment>, GitHubApiError> {
        let route = format!("/repos/{repo}/issues/comments?since={}", since_param(since));
        self.every_page(repo, &route).await
    }

    /// Every page of a list on a repository, oldest update first (`route` has its query
    /// started), up to [`MAX_PAGES`].
    async fn every_page<T: serde::de::DeserializeOwned>(
        &self,
        repo: &RepoName,
        route: &str,
    ) -> Result<Vec<T>, GitHubApiError> {
        self.with_crab(Target::Repo(repo), async |crab| {
            let mut items = Vec::new();
            for page in 1..=MAX_PAGES {
                let route =
                    format!("{route}&sort=updated&direction=asc&per_page={PER_PAGE}&page={page}");
                let listed: Vec<T> = crab
                    .get(&route, None::<&()>)
                    .await
                    .map_err(|e| api_error(format!("GET {route}"), e))?;
                let full = listed.len() == PER_PAGE;
                items.extend(listed);
                if !full {
                    break;
                }
            }
            Ok(items)
        })
        .await
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
        self.write(Target::Repo(repo), Method::Post, route, &Body { body })
            .await
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
        self.write(Target::Repo(repo), Method::Post, route, &Body { labels })
            .await
    }

    /// Takes a label off an issue (`DELETE /repos/{o}/{r}/issues/{n}/labels/{name}`); a label
    /// that isn't there (404) is already off.
    pub async fn remove_label(
        &self,
        repo: &RepoName,
        issue: u64,
        label: &str,
    ) -> Result<(), GitHubApiError> {
        let name: String = url::form_urlencoded::byte_serialize(label.as_bytes()).collect();
        // `byte_serialize` writes spaces as `+`, which a path keeps literally.
        let name = name.replace('+', "%20");
        let route = format!("/repos/{repo}/issues/{issue}/labels/{name}");
        match self
            .write(Target::Repo(repo), Method::Delete, route, &())
            .await
        {
            Err(error) if error.is_not_found() => Ok(()),
            result => result,
        }
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
            Target::Repo(repo),
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
        self.write(
            Target::Org(&team.org),
            Method::Put,
            route,
            &Body { role: "member" },
        )
        .await
    }

    /// Removes a user from a team (`DELETE` on the same route).
    pub async fn remove_team_member(
        &self,
        team: &TeamName,
        login: &str,
    ) -> Result<(), GitHubApiError> {
        let route = format!("/orgs/{}/teams/{}/memberships/{login}", team.org, team.slug);
        self.write(Target::Org(&team.org), Method::Delete, route, &())
            .await
    }

    async fn write<B: Serialize>(
        &self,
        target: Target<'_>,
        method: Method,
        route: String,
        body: &B,
    ) -> Result<(), GitHubApiError> {
        let what = format!("{} {route}", method.as_str());
        if !self.can_write() {
            tracing::info!(request = %what, "no GitHub token configured: reply not sent");
            return Ok(());
        }
        self.with_crab(target, async |crab| {
            // A path without scheme and host: octocrab's base-URI layer joins it to `api_url`.
            let response = match method {
                Method::Post => crab._post(route.as_str(), Some(body)).await,
                Method::Patch => crab._patch(route.as_str(), Some(body)).await,
                Method::Put => crab._put(route.as_str(), Some(body)).await,
                Method::Delete => crab._delete(route.as_str(), None::<&()>).await,
            };
            let response = response.map_err(|e| api_error(what.clone(), e))?;
            octocrab::map_github_error(response)
                .await
                .map(drop)
                .map_err(|e| api_error(what, e))
        })
        .await
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
