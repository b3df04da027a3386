//! What GitHub calls a configured repository now: `GET /repos/{owner}/{repo}`, which follows
//! renames (the old name keeps answering with the repository under its new name).

use serde::Deserialize;

use super::Client;
use crate::core::identity::{RepoIdentity, RepoName};
use crate::github::auth::Target;
use crate::github::error::{GitHubApiError, api_error};

#[derive(Deserialize)]
struct RepositoryAnswer {
    id: u64,
    full_name: String,
}

impl Client {
    /// GitHub's id and current name of `repo` (the name differs when it was renamed).
    pub async fn repository(&self, repo: &RepoName) -> Result<RepoIdentity, GitHubApiError> {
        let route = format!("/repos/{repo}");
        let answer: RepositoryAnswer = self
            .with_crab(Target::Repo(repo), async |crab| {
                crab.get(&route, None::<&()>)
                    .await
                    .map_err(|e| api_error(format!("GET {route}"), e))
            })
            .await?;
        let name = RepoName::parse(&answer.full_name).ok_or_else(|| GitHubApiError::Transport {
            what: format!("GET {route}"),
            detail: "the answer's full_name is not owner/name".into(),
        })?;
        Ok(RepoIdentity {
            id: answer.id,
            name,
        })
    }
}
