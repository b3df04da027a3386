//! What a roster holds: its members, the keys the file may use, and lookups by login or address.

use crate::core::email_address::EmailAddress;

/// The keys a `[[member]]` table may hold, in the order the bot writes them.
pub(super) const MEMBER_KEYS: &[&str] = &["github", "name", "email", "added", "via"];
/// The keys allowed at the top level of the file.
pub(super) const TOP_LEVEL_KEYS: &[&str] = &["member"];

use crate::core::identity::Login;
use crate::core::member::Member;

/// The validated members of one roster file, in file order.
///
/// Logins and email addresses are unique (both compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roster {
    /// Only [`Roster::parse`] fills it, after validation.
    pub(super) members: Vec<Member>,
}

impl Roster {
    /// The members, in file order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the roster has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// A member by login (case-insensitive).
    pub fn find_login(&self, github: &str) -> Option<&Member> {
        self.members.iter().find(|member| member.github.is(github))
    }

    /// A member by login (case-insensitive) or, failing that, by email (case-insensitive).
    pub fn find(&self, github: &str, email: Option<&EmailAddress>) -> Option<&Member> {
        self.find_login(github).or_else(|| {
            let email = email?;
            self.members
                .iter()
                .find(|member| member.email.same_mailbox(email))
        })
    }
}

/// Whether `login` is a GitHub login: 1 to 39 ASCII letters, digits or hyphens, not starting or
/// ending with a hyphen (see [`Login::parse`]).
pub fn is_valid_github_login(login: &str) -> bool {
    Login::parse(login).is_ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Roster;
    use crate::roster::test_support::{EXAMPLE, email};

    #[test]
    fn find_by_login_then_by_email_ignoring_case() {
        let roster = Roster::parse(EXAMPLE, Path::new("r.toml")).unwrap();
        assert_eq!(roster.find("OctoCat", None).unwrap().github, "octocat");
        let ada = email("ada@example.ORG");
        assert_eq!(roster.find("someone", Some(&ada)).unwrap().github, "ada-l");
        assert_eq!(
            roster
                .find("ada-l", Some(&email("octocat@example.org")))
                .unwrap()
                .github,
            "ada-l",
            "the login wins over the address"
        );
        assert!(
            roster
                .find("someone", Some(&email("x@example.org")))
                .is_none()
        );
        assert!(roster.find("someone", None).is_none());
    }

    #[test]
    fn debug_output_redacts_addresses() {
        let roster = Roster::parse(EXAMPLE, Path::new("r.toml")).unwrap();
        let debug = format!("{roster:?}");
        assert!(debug.contains("octocat"));
        assert!(!debug.contains("octocat@"), "{debug}");
        assert!(!debug.to_lowercase().contains("ada@"), "{debug}");
    }
}
