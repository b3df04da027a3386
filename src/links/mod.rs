//! Links people open from a mail or a comment: confirm an address (double opt-in), leave a
//! series (one click, RFC 8058), give an address privately. [`token`] signs and checks them;
//! [`pages`] serves them; [`LinkMaker`] makes the URLs the mails and comments carry.

mod form;
pub mod key;
pub mod pages;
pub mod settings;
pub mod token;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use crate::core::identity::Login;
use tokio::sync::watch;

use crate::core::series::SeriesList;
use crate::links::settings::LinksConfig;
use token::{LinkKey, Purpose};

/// How long a confirmation link works.
pub const CONFIRM_VALID: SignedDuration = SignedDuration::from_hours(7 * 24);
/// How long a sign-in with GitHub may take (from the form to GitHub and back).
pub const SIGN_IN_VALID: SignedDuration = SignedDuration::from_mins(10);
/// How long the form shown after signing in may be filled in.
pub const SIGNED_IN_VALID: SignedDuration = SignedDuration::from_mins(30);
/// How long the private email form link works.
pub const EMAIL_FORM_VALID: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Makes signed links on the configured public address (`[server] public_url`, reloaded with
/// the config). Without a public address it makes none.
#[derive(Clone)]
pub struct LinkMaker {
    key: LinkKey,
    settings: Arc<LinksConfig>,
    series: watch::Receiver<SeriesList>,
}

/// What a private email form link is for: one join request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFormSubject {
    /// The series.
    pub series_id: String,
    /// `owner/name`.
    pub repo: String,
    /// The issue.
    pub issue: u64,
    /// The requester.
    pub login: Login,
}

impl EmailFormSubject {
    fn to_subject(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.series_id, self.repo, self.issue, self.login
        )
    }

    /// Reads a verified subject.
    pub fn parse(subject: &str) -> Option<Self> {
        let parts: Vec<&str> = subject.split('\n').collect();
        let [series_id, repo, issue, login] = parts.as_slice() else {
            return None;
        };
        Some(Self {
            series_id: series_id.to_string(),
            repo: repo.to_string(),
            issue: issue.parse().ok()?,
            login: Login::new(login),
        })
    }
}

impl LinkMaker {
    /// Links signed with `key`, on the public address of `settings`, for the series `series`
    /// currently holds.
    pub fn new(key: LinkKey, settings: LinksConfig, series: watch::Receiver<SeriesList>) -> Self {
        Self {
            key,
            settings: Arc::new(settings),
            series,
        }
    }

    /// The key, for checking tokens.
    pub fn key(&self) -> &LinkKey {
        &self.key
    }

    /// The series as the current config has them.
    pub fn series(&self) -> SeriesList {
        self.series.borrow().clone()
    }

    /// The public address's origin (`https://invitebot.example.org`), if one is configured.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.settings.public_url.as_ref()?;
        Some(url.origin().ascii_serialization())
    }

    fn url(&self, kind: &str, token: &str) -> Option<String> {
        self.settings.url(&format!("/{kind}/{token}"))
    }

    /// The one-click leave link for a member's invitations (it doesn't expire: invitations
    /// stay in calendars for years).
    pub fn leave_url(&self, series_id: &str, login: &Login, address: &str) -> Option<String> {
        let subject = self.key.leave_subject(series_id, login, address);
        self.url("leave", &self.key.sign(Purpose::Leave, &subject, None))
    }

    /// The link that confirms the address of confirmation `id`.
    pub fn confirm_url(&self, id: i64, now: Timestamp) -> Option<String> {
        let token = self
            .key
            .sign(Purpose::Confirm, &id.to_string(), Some(now + CONFIRM_VALID));
        self.url("confirm", &token)
    }

    /// Where GitHub sends a visitor back after signing in for the private form link `token`.
    pub fn signed_in_url(&self, token: &str) -> Option<String> {
        self.settings.url(&format!("/join/{token}/signed-in"))
    }

    /// The link to the private email form of a join request.
    pub fn email_form_url(&self, subject: &EmailFormSubject, now: Timestamp) -> Option<String> {
        let token = self.key.sign(
            Purpose::Email,
            &subject.to_subject(),
            Some(now + EMAIL_FORM_VALID),
        );
        self.url("join", &token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_form_subjects_round_trip() {
        let subject = EmailFormSubject {
            series_id: "ispo-wg".into(),
            repo: "Codertocat/Hello-World".into(),
            issue: 2,
            login: "Codertocat".into(),
        };
        assert_eq!(
            EmailFormSubject::parse(&subject.to_subject()),
            Some(subject)
        );
        assert_eq!(EmailFormSubject::parse("a\nb\nnot-a-number\nd"), None);
        assert_eq!(EmailFormSubject::parse("a\nb\n1"), None);
    }
}
