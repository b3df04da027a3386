//! Who may approve a waiting request: `GET /repos/{owner}/{repo}/collaborators/{user}/permission`.

use serde::Deserialize;

use super::Client;
use crate::core::identity::RepoName;
use crate::github::auth::Target;
use crate::github::error::{GitHubApiError, api_error};

#[derive(Deserialize)]
struct PermissionAnswer {
    /// `admin`, `write`, `read` or `none` (`maintain` shows as `write`).
    #[serde(default)]
    permission: String,
    /// The finer role (`admin`, `maintain`, `write`, `triage`, `read`), when GitHub sends it.
    #[serde(default)]
    role_name: Option<String>,
}

impl Client {
    /// Whether `login` maintains `repo`: their permission on it is admin, maintain or write.
    /// Without credentials nobody can be checked, so nobody is a maintainer.
    pub async fn is_maintainer(
        &self,
        repo: &RepoName,
        login: &str,
    ) -> Result<bool, GitHubApiError> {
        if !self.can_write() {
            tracing::warn!(repo = %repo, user = login, "no GitHub credentials: cannot check who approved a request");
            return Ok(false);
        }
        let route = format!("/repos/{repo}/collaborators/{login}/permission");
        let answer: Result<PermissionAnswer, _> = self
            .with_crab(Target::Repo(repo), async |crab| {
                crab.get(&route, None::<&()>)
                    .await
                    .map_err(|e| api_error(format!("GET {route}"), e))
            })
            .await;
        match answer {
            // Not a collaborator at all.
            Err(error) if error.is_not_found() => Ok(false),
            Err(error) => Err(error),
            Ok(answer) => Ok(is_maintainer_role(
                &answer.permission,
                answer.role_name.as_deref(),
            )),
        }
    }
}

fn is_maintainer_role(permission: &str, role: Option<&str>) -> bool {
    matches!(permission, "admin" | "maintain" | "write")
        || matches!(role, Some("admin" | "maintain" | "write"))
}

#[cfg(test)]
mod tests {
    use super::is_maintainer_role;

    #[test]
    fn write_and_above_maintain() {
        assert!(is_maintainer_role("admin", None));
        assert!(is_maintainer_role("write", Some("maintain")));
        assert!(is_maintainer_role("write", None));
        assert!(!is_maintainer_role("read", Some("triage")));
        assert!(!is_maintainer_role("none", None));
        assert!(!is_maintainer_role("", None));
    }
}
