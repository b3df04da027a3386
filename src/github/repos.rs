//! The configured repositories as GitHub knows them now. A renamed repository keeps its id and
//! answers under its old name, but webhooks carry the new `repository.full_name`: looked up at
//! start (and by `check`), each series learns its repository's id and current name, so
//! deliveries match by id and catch-up lists the issues under the current name. Without an
//! answer the series stays matched by its configured name.

use std::time::Duration;

use crate::core::identity::{RepoIdentity, RepoName};
use crate::core::series::Series;
use crate::github::client::Client;

/// How long the lookups may take together (GitHub unreachable must not hold up the start).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// What GitHub said about one configured repository.
#[derive(Debug, Clone)]
pub enum RepoLookup {
    /// GitHub knows it (under `now.name`, which differs from `configured` after a rename).
    Found {
        /// The name in the config.
        configured: RepoName,
        /// Its id and current name.
        now: RepoIdentity,
    },
    /// No usable answer (no network, not found, no access): matched by name only.
    Failed {
        /// The name in the config.
        configured: RepoName,
        /// Why (GitHub's answer or the network error).
        error: String,
    },
}

impl RepoLookup {
    /// The new name, when the repository was renamed.
    pub fn renamed_to(&self) -> Option<&RepoName> {
        match self {
            RepoLookup::Found { configured, now } if *configured != now.name => Some(&now.name),
            _ => None,
        }
    }

    /// One line for maintainers (the log and `check`).
    pub fn message(&self) -> String {
        match self {
            RepoLookup::Found { configured, now } if *configured != now.name => format!(
                "repository {configured} was renamed to {}: update the config (`repo = \"{}\"`); until then deliveries are matched by the repository's id",
                now.name, now.name
            ),
            RepoLookup::Found { configured, now } => {
                format!("repository {configured}: found on GitHub (id {})", now.id)
            }
            RepoLookup::Failed { configured, error } => format!(
                "repository {configured}: cannot look it up on GitHub ({error}); deliveries are matched by its configured name only (a renamed repository would be missed)"
            ),
        }
    }
}

/// Looks up each configured repository once, within [`LOOKUP_TIMEOUT`] in all.
pub async fn look_up(client: &Client, series: &[Series]) -> Vec<RepoLookup> {
    let mut repos: Vec<RepoName> = Vec::new();
    for s in series {
        if !repos.contains(&s.repo) {
            repos.push(s.repo.clone());
        }
    }
    let deadline = tokio::time::Instant::now() + LOOKUP_TIMEOUT;
    let mut lookups = Vec::new();
    for configured in repos {
        let answer = tokio::time::timeout_at(deadline, client.repository(&configured)).await;
        lookups.push(match answer {
            Ok(Ok(now)) => RepoLookup::Found { configured, now },
            Ok(Err(error)) => RepoLookup::Failed {
                configured,
                error: error.to_string(),
            },
            Err(_) => RepoLookup::Failed {
                configured,
                error: format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs()),
            },
        });
    }
    lookups
}

/// Gives each series what the lookups found about its repository.
pub fn apply(lookups: &[RepoLookup], series: &mut [Series]) {
    for s in series {
        s.github_repo = lookups.iter().find_map(|lookup| match lookup {
            RepoLookup::Found { configured, now } if *configured == s.repo => Some(now.clone()),
            _ => None,
        });
    }
}
