//! Erasing a person (`invitebot roster forget`, the right to erasure): off the rosters, out of
//! the state store ([`crate::store`]'s `erase`), and the mail files addressed to them
//! ([`crate::mail::files`]).
//!
//! Once their address is gone no cancellation can reach their calendar, so erasure refuses,
//! changing nothing, while the store says a calendar of theirs still holds an invitation (unless
//! told to skip the cancellation).

use std::path::PathBuf;

use crate::config::Config;

use crate::mail::settings::MailTransport;

use crate::core::identity::Login;
use crate::core::series::Series;
use crate::mail::files::{self as mail_files, MailFileError};
use crate::roster::{self, RemoveOutcome, RosterError};
use crate::store::{self, Erasure, ErasureTarget, Store, StoreError};

/// Whom to erase: a GitHub login, or an address (whoever asked with it).
#[derive(Clone, Copy)]
pub enum Person<'a> {
    /// A GitHub login (any case).
    Login(&'a str),
    /// An address, compared whole and in any case: the members the store or the rosters have
    /// with it, and every stored request and mail file that names it.
    Email(&'a str),
}

impl std::fmt::Debug for Person<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Person::Login(login) => f.debug_tuple("Login").field(login).finish(),
            Person::Email(_) => f.write_str("Email([REDACTED])"),
        }
    }
}

/// Whom to erase, and where.
#[derive(Debug, Clone, Copy)]
pub struct ForgetRequest<'a> {
    /// The person.
    pub person: Person<'a>,
    /// Only this series (`None`: every series, and the mail files too).
    pub series: Option<&'a Series>,
    /// Erase even though their calendar still holds an invitation (it keeps the meetings).
    pub skip_cancel: bool,
}

impl ForgetRequest<'_> {
    fn series_id(&self) -> Option<&str> {
        self.series.map(|s| s.id.as_str())
    }
}

/// What [`forget`] did, step by step. Never holds an address.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErasureReport {
    /// One entry per roster looked at, in config order.
    pub rosters: Vec<RosterRemoval>,
    /// What the state store erased (`None`: there is no store yet).
    pub store: Option<StoreErasure>,
    /// The mail files deleted (`None`: one series only, or mail does not go to files).
    pub mail_files: Option<MailFileErasure>,
}

/// The person and one roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRemoval {
    /// The series.
    pub series_id: String,
    /// Its roster file.
    pub roster: PathBuf,
    /// The login as the roster had it, if they were on it (and now are not).
    pub removed: Option<Login>,
}

/// The person and the state store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreErasure {
    /// The store's file.
    pub path: PathBuf,
    /// What was erased.
    pub erased: Erasure,
}

/// The person and the file transport's mail folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailFileErasure {
    /// The mail folder.
    pub dir: PathBuf,
    /// How many `.eml` files addressed to them were deleted.
    pub deleted: usize,
}

/// Why erasure stopped. Never holds an address.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    /// The state store could not be opened.
    #[error("opening the state store")]
    OpenStore(#[source] StoreError),
    /// Their calendar still holds an invitation in these series; nothing was changed.
    #[error(
        "{login}'s calendar still holds the invitation to {}; nothing changed.\n\
         Erasing the address now means no cancellation can be sent. Either run \
         `invitebot roster remove --series ID --github {login}` for each, let the running \
         server send the cancellation (`invitebot status` shows nothing waiting), then \
         forget; or pass --skip-cancel to erase at once (best with the server stopped).",
        series_ids.join(", ")
    )]
    InvitationHeld {
        /// The login asked for.
        login: String,
        /// The series whose invitation their calendar holds.
        series_ids: Vec<String>,
    },
    /// A store query failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A roster file could not be changed.
    #[error(transparent)]
    Roster(#[from] RosterError),
    /// A mail file could not be read or deleted.
    #[error(transparent)]
    MailFile(#[from] MailFileError),
}

/// Erases the person: refuses while a calendar of theirs still holds the invitation (unless
/// `skip_cancel`), then takes them off the rosters, erases them from the state store and, for
/// every series at once, deletes the mail files addressed to them.
///
/// Each step is recorded in `report` as it is done, so that after a failure part-way the report
/// still tells what was changed.
pub fn forget(
    config: &Config,
    request: &ForgetRequest<'_>,
    report: &mut ErasureReport,
) -> Result<(), ErasureError> {
    let store = open_store_if_any(config)?;
    let logins = logins_of(config, store.as_ref(), request)?;
    let mut addresses = match request.person {
        Person::Email(address) => vec![address.to_lowercase()],
        Person::Login(_) => Vec::new(),
    };
    if let Some(store) = &store {
        for login in &logins {
            if !request.skip_cancel {
                ensure_no_invitation_held(store, login, request)?;
            }
            addresses.extend(store.addresses_of(login, request.series_id())?);
        }
    }
    for series in chosen_series(config, request) {
        for login in &logins {
            let removal = remove_from_roster(series, login, &mut addresses)?;
            report.rosters.push(removal);
        }
    }
    if let Some(store) = &store {
        let mut erased = Erasure::default();
        // By address only: requests anyone made with one of the person's addresses.
        let by_address = std::iter::once(None);
        for login in logins.iter().map(|l| Some(l.as_str())).chain(by_address) {
            erased += store.forget_member(&ErasureTarget {
                login,
                addresses: &addresses,
                series_id: request.series_id(),
            })?;
        }
        report.store = Some(StoreErasure {
            path: store.path().to_path_buf(),
            erased,
        });
    }
    if let (None, MailTransport::File { dir }) = (request.series, &config.mail.transport) {
        let deleted = mail_files::delete_addressed_to(dir, &addresses)?;
        report.mail_files = Some(MailFileErasure {
            dir: dir.clone(),
            deleted,
        });
    }
    Ok(())
}

/// The state store, opened for writing if it exists; `None` if the server never ran.
fn open_store_if_any(config: &Config) -> Result<Option<Store>, ErasureError> {
    if !config.data_dir.join(store::FILE_NAME).exists() {
        return Ok(None);
    }
    Store::open(&config.data_dir)
        .map(Some)
        .map_err(ErasureError::OpenStore)
}

/// The logins to take off the rosters and out of the store: the one asked for, or those the
/// store or the chosen rosters have with the address asked for (whole address, any case).
fn logins_of(
    config: &Config,
    store: Option<&Store>,
    request: &ForgetRequest<'_>,
) -> Result<Vec<String>, ErasureError> {
    let address = match request.person {
        Person::Login(login) => return Ok(vec![login.to_string()]),
        Person::Email(address) => address,
    };
    let mut logins = match store {
        Some(store) => store.logins_with_address(address, request.series_id())?,
        None => Vec::new(),
    };
    for series in chosen_series(config, request) {
        let roster = roster::Roster::load(&series.roster)?;
        logins.extend(
            roster
                .members()
                .iter()
                .filter(|m| m.email.expose().eq_ignore_ascii_case(address))
                .map(|m| m.github.as_str().to_string()),
        );
    }
    let mut seen = std::collections::HashSet::new();
    logins.retain(|login| seen.insert(login.to_lowercase()));
    Ok(logins)
}

/// Fails, changing nothing, while the store says the person's calendar still holds an
/// invitation: once their address is erased no cancellation can be sent.
fn ensure_no_invitation_held(
    store: &Store,
    login: &str,
    request: &ForgetRequest<'_>,
) -> Result<(), ErasureError> {
    let held = store.held_invitations(login, request.series_id())?;
    if held.is_empty() {
        return Ok(());
    }
    Err(ErasureError::InvitationHeld {
        login: login.to_string(),
        series_ids: held.into_iter().map(|h| h.series_id).collect(),
    })
}

/// The series erasure works on: the one asked for, or all.
fn chosen_series<'c>(config: &'c Config, request: &ForgetRequest<'c>) -> Vec<&'c Series> {
    match request.series {
        Some(series) => vec![series],
        None => config.series.iter().collect(),
    }
}

/// Takes the person off one roster; the address the roster had joins `addresses` (lowercased).
fn remove_from_roster(
    series: &Series,
    login: &str,
    addresses: &mut Vec<String>,
) -> Result<RosterRemoval, RosterError> {
    let removed = match roster::remove(&series.roster, login)? {
        RemoveOutcome::Removed(member) => {
            addresses.push(member.email.expose().to_lowercase());
            Some(member.github)
        }
        RemoveOutcome::NotAMember => None,
    };
    Ok(RosterRemoval {
        series_id: series.id.clone(),
        roster: series.roster.clone(),
        removed,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::core::email_address::EmailAddress;
    use crate::core::sent::{MemberRecord, MemberStatus};

    /// The config: mail to files, two series `a` and `b` with rosters `a.toml` and `b.toml`.
    fn config_text() -> String {
        let mut text = String::from(
            "[mail]\nfrom = \"WG <wg@example.org>\"\ntransport = \"file\"\ndir = \"mail\"\n\n\
             [storage]\ndata_dir = \"data\"\n",
        );
        for id in ["a", "b"] {
            text += &format!(
                "\n[[series]]\nid = \"{id}\"\nrepo = \"o/{id}\"\ntitle = \"{id}\"\n\
                 timezone = \"UTC\"\nfirst = \"2024-05-06T08:00\"\nduration_minutes = 60\n\
                 organizer = {{ name = \"WG\", email = \"wg@example.org\" }}\nroster = \"{id}.toml\"\n\
                 [series.match]\nlabels = [\"invite\"]\n"
            );
        }
        text
    }

    const ROSTER: &str = "[[member]]\ngithub = \"Ada-L\"\nemail = \"ada@example.org\"\n\n[[member]]\ngithub = \"bob\"\nemail = \"bob@example.org\"\n";

    /// A config with two series (both rosters holding Ada and Bob), a store that sent Ada the
    /// invitation to `a` in `status`, and one mail file for each of them.
    fn setup(dir: &Path, status: MemberStatus) -> Config {
        std::fs::write(dir.join("invitebot.toml"), config_text()).unwrap();
        for roster in ["a.toml", "b.toml"] {
            std::fs::write(dir.join(roster), ROSTER).unwrap();
        }
        std::fs::create_dir(dir.join("mail")).unwrap();
        for (file, to) in [("1.eml", "ada@example.org"), ("2.eml", "ba@example.org")] {
            let text = format!("From: wg@example.org\r\nTo: <{to}>\r\nSubject: s\r\n\r\nhi\r\n");
            std::fs::write(dir.join("mail").join(file), text).unwrap();
        }
        let config = Config::load(&dir.join("invitebot.toml")).unwrap();
        let record = MemberRecord {
            github: "ada-l".into(),
            name: "Ada".into(),
            email: EmailAddress::parse("ada@example.org").unwrap(),
            status,
            sequence: 1,
            fingerprint: "fp".into(),
            team_error: None,
        };
        let store = Store::open(&config.data_dir).unwrap();
        store.record_message("a", &record).unwrap();
        config
    }

    fn request<'a>(series: Option<&'a Series>, skip_cancel: bool) -> ForgetRequest<'a> {
        ForgetRequest {
            person: Person::Login("ADA-L"),
            series,
            skip_cancel,
        }
    }

    #[test]
    fn forgetting_everywhere_clears_rosters_store_and_mail_files() {
        let dir = tempfile::tempdir().unwrap();
        let config = setup(dir.path(), MemberStatus::Cancelled);
        let mut report = ErasureReport::default();
        forget(&config, &request(None, false), &mut report).unwrap();
        let removed: Vec<_> = report
            .rosters
            .iter()
            .map(|r| (r.series_id.as_str(), r.removed.as_ref().map(Login::as_str)))
            .collect();
        assert_eq!(removed, [("a", Some("Ada-L")), ("b", Some("Ada-L"))]);
        assert_eq!(report.store.unwrap().erased.sent_records, 1);
        assert_eq!(report.mail_files.unwrap().deleted, 1);
        assert!(dir.path().join("mail/2.eml").exists());
        for roster in ["a.toml", "b.toml"] {
            let text = std::fs::read_to_string(dir.path().join(roster)).unwrap();
            assert!(!text.contains("ada@") && text.contains("bob@"), "{text}");
        }
    }

    #[test]
    fn a_held_invitation_stops_erasure_before_any_change() {
        let dir = tempfile::tempdir().unwrap();
        let config = setup(dir.path(), MemberStatus::Invited);
        let mut report = ErasureReport::default();
        let error = forget(&config, &request(None, false), &mut report).unwrap_err();
        assert!(
            matches!(&error, ErasureError::InvitationHeld { series_ids, .. } if series_ids == &["a"]),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("ADA-L's calendar still holds the invitation to a;")
        );
        assert_eq!(report, ErasureReport::default());
        assert!(dir.path().join("mail/1.eml").exists());

        forget(&config, &request(None, true), &mut report).unwrap();
        assert_eq!(report.store.unwrap().erased.sent_records, 1);
    }

    #[test]
    fn one_series_leaves_the_others_and_the_mail_files() {
        let dir = tempfile::tempdir().unwrap();
        let config = setup(dir.path(), MemberStatus::Invited);
        let mut report = ErasureReport::default();
        let b = config.series_by_id("b").unwrap();
        forget(&config, &request(Some(b), false), &mut report).unwrap();
        assert_eq!(report.rosters.len(), 1);
        assert_eq!(report.store.unwrap().erased.sent_records, 0);
        assert_eq!(report.mail_files, None);
        let a = std::fs::read_to_string(dir.path().join("a.toml")).unwrap();
        assert!(a.contains("ada@"));
        assert!(dir.path().join("mail/1.eml").exists());
    }
}
