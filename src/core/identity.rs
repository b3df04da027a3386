//! Who and where on GitHub: logins, repository and team names. GitHub compares all of them
//! without regard to case; these types keep the text as written (for display) and compare, hash
//! and key it the way GitHub does, so no caller lowercases by hand.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// A GitHub login (`octocat`), as written, compared without regard to case.
///
/// It serialises as the plain text, so stored requests written before this type read back.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Login(String);

/// A login that isn't one GitHub would give out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a GitHub login: 1 to 39 letters, digits or hyphens, not starting or ending with a hyphen"
)]
pub struct InvalidLogin;

impl Login {
    /// A login as GitHub sent it (a signed payload, an API answer): taken as given, trimmed.
    pub fn new(text: &str) -> Self {
        Self(text.trim().to_string())
    }

    /// A login a person typed (a roster file, the command line): 1 to 39 ASCII letters, digits
    /// or hyphens, not starting or ending with a hyphen.
    pub fn parse(text: &str) -> Result<Self, InvalidLogin> {
        let valid = (1..=39).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if valid {
            Ok(Self(text.to_string()))
        } else {
            Err(InvalidLogin)
        }
    }

    /// The login as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form: how GitHub compares logins, and the key the state store uses.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Whether `text` names this login.
    pub fn is(&self, text: &str) -> bool {
        self.0.eq_ignore_ascii_case(text.trim())
    }
}

impl PartialEq for Login {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl Eq for Login {}

impl Ord for Login {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let lower = |b: u8| b.to_ascii_lowercase();
        self.0.bytes().map(lower).cmp(other.0.bytes().map(lower))
    }
}

impl PartialOrd for Login {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq<str> for Login {
    fn eq(&self, other: &str) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for Login {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

impl From<&str> for Login {
    /// The same as [`Login::new`]: a login as GitHub gave it.
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl Hash for Login {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for byte in self.0.bytes() {
            state.write_u8(byte.to_ascii_lowercase());
        }
        state.write_u8(0xff);
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A repository as GitHub knows it now: its id (which a rename keeps) and current name.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoIdentity {
    /// GitHub's id of the repository.
    pub id: u64,
    /// Its name now.
    pub name: RepoName,
}

/// A GitHub repository name, `owner/name`, as written; two names are equal when GitHub would
/// take them for the same repository (case does not matter).
#[derive(Debug, Clone)]
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

impl PartialEq for RepoName {
    fn eq(&self, other: &Self) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner) && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl Eq for RepoName {}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// A GitHub team, `org/team-slug`, as written; equal when GitHub would take them for the same
/// team (case does not matter).
#[derive(Debug, Clone)]
pub struct TeamName {
    /// The organisation.
    pub org: String,
    /// The team's slug.
    pub slug: String,
}

impl PartialEq for TeamName {
    fn eq(&self, other: &Self) -> bool {
        self.org.eq_ignore_ascii_case(&other.org) && self.slug.eq_ignore_ascii_case(&other.slug)
    }
}

impl Eq for TeamName {}

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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn logins_compare_hash_and_key_without_case_and_display_as_written() {
        let written = Login::new("OctoCat");
        assert_eq!(written, Login::new("octocat"));
        assert_eq!(written.key(), "octocat");
        assert_eq!(written.to_string(), "OctoCat");
        assert!(written.is(" OCTOCAT "));
        assert!(!written.is("octocat2"));
        let set: HashSet<Login> = [Login::new("Ada"), Login::new("ADA"), Login::new("bob")].into();
        assert_eq!(set.len(), 2);
        assert_eq!(serde_json::to_string(&written).unwrap(), "\"OctoCat\"");
        let back: Login = serde_json::from_str("\"OctoCat\"").unwrap();
        assert_eq!(back.as_str(), "OctoCat");
    }

    #[test]
    fn typed_logins_follow_githubs_rules() {
        for good in ["a", "octo-cat", "A1", &"x".repeat(39)] {
            assert_eq!(Login::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "-ada",
            "ada-",
            "a b",
            "a_b",
            "@everyone",
            "ada@example.org",
            &"x".repeat(40),
        ] {
            assert_eq!(Login::parse(bad), Err(InvalidLogin), "{bad:?}");
        }
    }

    #[test]
    fn repository_and_team_names_compare_without_case() {
        let repo = RepoName::parse("InnerSourceCommons/ispo-working-group").unwrap();
        assert_eq!(
            repo,
            RepoName::parse("innersourcecommons/ISPO-working-group").unwrap()
        );
        assert_ne!(repo, RepoName::parse("InnerSourceCommons/other").unwrap());
        assert!(repo.matches("innersourcecommons/ispo-working-group"));
        assert_eq!(repo.to_string(), "InnerSourceCommons/ispo-working-group");
        assert_eq!(
            TeamName::parse("Org/Team").unwrap(),
            TeamName::parse("org/team").unwrap()
        );
    }
}
