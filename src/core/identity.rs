//! Who and where on GitHub: repository and team names, normalised at construction so they
//! compare the way GitHub does (case-insensitively).

use std::fmt;

/// A GitHub repository name, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoName {
    /// The owner (user or organisation).
    pub owner: String,
    /// The repository.
    pub name: String,
}

impl RepoName {
    /// Parses `owner/name`.
    pub fn parse(text: &str) -> Option<Self> {
        let (owner, name) = text.split_once('/')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        (valid(owner) && valid(name)).then(|| Self {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }

    /// Whether `full_name` (as in a webhook payload) names this repository; GitHub names are
    /// case-insensitive.
    pub fn matches(&self, full_name: &str) -> bool {
        full_name.eq_ignore_ascii_case(&self.to_string())
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A GitHub team, `org/team-slug`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamName {
    /// The organisation.
    pub org: String,
    /// The team's slug.
    pub slug: String,
}

impl fmt::Display for TeamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.slug)
    }
}

impl TeamName {
    /// Parses `org/team-slug`.
    pub fn parse(text: &str) -> Option<Self> {
        let repo = RepoName::parse(text.trim())?;
        Some(TeamName {
            org: repo.owner,
            slug: repo.name,
        })
    }
}
