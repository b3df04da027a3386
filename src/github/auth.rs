//! Authenticating as a GitHub App: its credentials, and one installation client per installation.
//!
//! A GitHub App signs a short-lived JWT with its private key to call the `/app` endpoints, and
//! trades it for an installation access token (`POST /app/installations/{id}/access_tokens`, valid
//! for one hour) to act on the repositories the App is installed on. octocrab does the trading:
//! an installation client ([`Octocrab::installation`]) caches its token and asks for a new one
//! before a request when the cached one expires within 30 seconds (and once more after a `401`).
//! The cache lives in that client value (a clone copies it), so [`Installations`] keeps one
//! client per installation behind an [`Arc`] and hands out references to it.
//!
//! Which installation covers a repository (`GET /repos/{owner}/{repo}/installation`) or an
//! organisation (`GET /orgs/{org}/installation`) is asked once and remembered; a call that is
//! refused with `401` or `404` makes it asked again next time (the App may have been reinstalled).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use octocrab::Octocrab;
use octocrab::auth::EncodingKey;
use octocrab::models::{AppId, InstallationId};
use secrecy::{ExposeSecret, SecretSlice};
use serde::Deserialize;

use super::error::{GitHubApiError, api_error};
use crate::core::identity::RepoName;

/// A GitHub App's id and private key, checked when the config is loaded. `Debug` shows the id
/// only.
#[derive(Clone)]
pub struct AppCredentials {
    id: u64,
    key: EncodingKey,
}

/// Why a GitHub App private key file can't be used. The texts never quote the file.
#[derive(Debug, thiserror::Error)]
pub enum AppKeyError {
    /// The file can't be read.
    #[error("cannot read it: {0}")]
    Unreadable(#[source] std::io::Error),
    /// The file holds no PEM block.
    #[error(
        "it is not a PEM file; use the private key file GitHub generated for the App (it starts with `-----BEGIN RSA PRIVATE KEY-----`)"
    )]
    NotPem,
    /// The PEM block is not an RSA private key that can sign.
    #[error(
        "it is not an RSA private key in PEM format (a public key or another kind of key?); use the private key file GitHub generated for the App"
    )]
    NotRsaPrivateKey,
}

impl AppCredentials {
    /// Reads and checks the App's private key file (PEM, as GitHub generates it).
    pub fn load(id: u64, key_file: &Path) -> Result<Self, AppKeyError> {
        let pem = SecretSlice::from(std::fs::read(key_file).map_err(AppKeyError::Unreadable)?);
        Self::from_pem(id, pem.expose_secret())
    }

    /// Checks the App's private key, given as PEM text: it must be an RSA private key that signs
    /// a JWT.
    pub fn from_pem(id: u64, pem: &[u8]) -> Result<Self, AppKeyError> {
        if !pem.windows(11).any(|w| w == b"-----BEGIN ") {
            return Err(AppKeyError::NotPem);
        }
        super::jwt_ring::install();
        let key = EncodingKey::from_rsa_pem(pem).map_err(|_| AppKeyError::NotRsaPrivateKey)?;
        octocrab::auth::create_jwt(AppId(id), &key).map_err(|_| AppKeyError::NotRsaPrivateKey)?;
        Ok(Self { id, key })
    }

    /// The App's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The App's id and key, for octocrab's builder.
    pub(crate) fn octocrab_parts(&self) -> (AppId, EncodingKey) {
        (AppId(self.id), self.key.clone())
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("id", &self.id)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

/// What a call acts on, which decides the installation whose token it uses.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'a> {
    /// A repository (issues, comments, labels).
    Repo(&'a RepoName),
    /// An organisation (team memberships).
    Org(&'a str),
    /// Nothing in particular (public profiles): any installation will do.
    Any,
}

/// An account an installation is installed on: where GitHub tells which installation covers
/// it, and the key it is remembered under (lowercase: GitHub names are case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Account {
    route: String,
    key: String,
}

impl Account {
    fn of(target: Target<'_>) -> Option<Self> {
        let route = match target {
            Target::Repo(repo) => format!("/repos/{repo}/installation"),
            Target::Org(org) => format!("/orgs/{org}/installation"),
            Target::Any => return None,
        };
        let key = route.to_lowercase();
        Some(Self { route, key })
    }
}

/// An installation, as far as we need it (octocrab's `Installation` requires many more fields).
#[derive(Deserialize)]
struct InstallationRef {
    id: u64,
}

/// A GitHub App's installation clients, created and remembered as calls need them.
pub(crate) struct Installations {
    /// Authenticated as the App itself (a fresh JWT per request).
    app: Octocrab,
    /// Which installation covers which account.
    ids: Mutex<HashMap<String, InstallationId>>,
    /// One client per installation; each keeps its own token.
    clients: Mutex<HashMap<InstallationId, Arc<Octocrab>>>,
}

impl Installations {
    /// Starts with nothing known; `app` must be authenticated as the App.
    pub(crate) fn new(app: Octocrab) -> Self {
        Self {
            app,
            ids: Mutex::default(),
            clients: Mutex::default(),
        }
    }

    /// The client of the installation covering `target`, holding a token that is valid for at
    /// least 30 more seconds.
    pub(crate) async fn client(&self, target: Target<'_>) -> Result<Arc<Octocrab>, GitHubApiError> {
        let id = match Account::of(target) {
            Some(account) => self.installation_of(account).await?,
            None => self.any_installation().await?,
        };
        let crab = self.client_for(id)?;
        let what = format!("POST /app/installations/{id}/access_tokens");
        if let Err(error) = crab.installation_token().await {
            let error = api_error(what, error);
            if is_refused(&error) {
                self.drop_installation(id);
            }
            return Err(error);
        }
        Ok(crab)
    }

    /// Forgets an installation GitHub no longer knows (the App was uninstalled or reinstalled).
    fn drop_installation(&self, id: InstallationId) {
        lock(&self.clients).remove(&id);
        lock(&self.ids).retain(|_, known| *known != id);
    }

    /// Forgets which installation covers `target`, so the next call asks GitHub again.
    pub(crate) fn forget(&self, target: Target<'_>) {
        if let Some(account) = Account::of(target) {
            lock(&self.ids).remove(&account.key);
        }
    }

    async fn installation_of(&self, account: Account) -> Result<InstallationId, GitHubApiError> {
        if let Some(id) = lock(&self.ids).get(&account.key) {
            return Ok(*id);
        }
        let route = &account.route;
        let found: InstallationRef = self.app.get(route, None::<&()>).await.map_err(|e| {
            api_error(
                format!("GET {route} (is the GitHub App installed there?)"),
                e,
            )
        })?;
        let id = InstallationId(found.id);
        tracing::debug!(
            installation = found.id,
            route,
            "GitHub App installation found"
        );
        lock(&self.ids).insert(account.key, id);
        Ok(id)
    }

    /// An installation already in use, else the App's first one.
    async fn any_installation(&self) -> Result<InstallationId, GitHubApiError> {
        if let Some(id) = lock(&self.clients).keys().next() {
            return Ok(*id);
        }
        let route = "/app/installations?per_page=1";
        let found: Vec<InstallationRef> = self
            .app
            .get(route, None::<&()>)
            .await
            .map_err(|e| api_error(format!("GET {route}"), e))?;
        found
            .first()
            .map(|i| InstallationId(i.id))
            .ok_or_else(|| GitHubApiError::Setup("the GitHub App is not installed anywhere".into()))
    }

    fn client_for(&self, id: InstallationId) -> Result<Arc<Octocrab>, GitHubApiError> {
        let mut clients = lock(&self.clients);
        if let Some(crab) = clients.get(&id) {
            return Ok(crab.clone());
        }
        let crab = Arc::new(
            self.app
                .installation(id)
                .map_err(|e| GitHubApiError::Setup(format!("installation {id}: {e}")))?,
        );
        clients.insert(id, crab.clone());
        Ok(crab)
    }
}

/// Whether GitHub refused a call in a way that a fresh installation lookup may cure (`401`,
/// `404`).
pub(crate) fn is_refused(error: &GitHubApiError) -> bool {
    matches!(
        error,
        GitHubApiError::Status {
            status: 401 | 404,
            ..
        }
    )
}

/// Locks a map; a panic elsewhere while it was held leaves it usable (it is only a cache).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The test App's key pair (also for `jwt_ring`'s tests).
    pub(in crate::github) const TEST_KEY: &[u8] =
        include_bytes!("../../tests/fixtures/github-app/TEST-ONLY-app-private-key.pem");
    pub(in crate::github) const TEST_PUBLIC_KEY: &[u8] =
        include_bytes!("../../tests/fixtures/github-app/TEST-ONLY-app-public-key.pem");

    #[test]
    fn an_rsa_private_key_is_accepted_and_never_shown() {
        let app = AppCredentials::from_pem(12345, TEST_KEY).unwrap();
        assert_eq!(app.id(), 12345);
        let shown = format!("{app:?}");
        assert_eq!(shown, "AppCredentials { id: 12345, key: \"[REDACTED]\" }");
    }

    #[test]
    fn other_files_are_refused_without_quoting_them() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "not a PEM file"),
            (b"ghp_not-a-key", "not a PEM file"),
            (TEST_PUBLIC_KEY, "not an RSA private key"),
            (
                b"-----BEGIN RSA PRIVATE KEY-----\nbm9wZQ==\n-----END RSA PRIVATE KEY-----\n",
                "not an RSA private key",
            ),
        ];
        for (pem, expected) in cases {
            let error = AppCredentials::from_pem(1, pem).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(
                !error.contains("bm9wZQ") && !error.contains("ghp_"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_missing_file_says_so() {
        let error = AppCredentials::load(1, Path::new("/nonexistent/app.pem")).unwrap_err();
        assert!(matches!(error, AppKeyError::Unreadable(_)), "{error:?}");
    }

    #[test]
    fn accounts_are_asked_for_as_written_and_remembered_case_insensitively() {
        let repo = RepoName::parse("Codertocat/Hello-World").unwrap();
        let lower = RepoName::parse("codertocat/hello-world").unwrap();
        let account = Account::of(Target::Repo(&repo)).unwrap();
        assert_eq!(account.route, "/repos/Codertocat/Hello-World/installation");
        assert_eq!(account.key, Account::of(Target::Repo(&lower)).unwrap().key);
        let org = Account::of(Target::Org("InnerSourceCommons")).unwrap();
        assert_eq!(org.route, "/orgs/InnerSourceCommons/installation");
        assert_ne!(org.key, account.key);
        assert_eq!(Account::of(Target::Any), None);
    }
}
