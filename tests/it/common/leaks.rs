//! The leak scan: after every test, the server's log and every comment the
//! GitHub mock received are searched for the test's email addresses and
//! secrets; none may appear.
//!
//! A [`LeakWatch`] collects what must not leak while the test runs: the
//! addresses of delivered issues, of mocked profiles, of rosters the harness
//! wrote, and whatever a test adds with [`LeakWatch::address`] or
//! [`LeakWatch::secret`]; and it records the comment bodies the mock received.
//! [`ServerOptions::new`](super::ServerOptions::new) shares the mock's watch
//! with the server, and [`TestServer`](super::TestServer) runs the scan when
//! it is dropped (unless the test is already failing), adding the roster
//! files, the `To:` of the mail files and its secrets. Addresses in the config
//! file (organizer, sender) are not personal data and are allowed; so is the
//! redacted form `a***@example.org`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

/// Shorter secrets are not searched for (they would match ordinary words).
pub const MIN_SECRET_LEN: usize = 8;

/// Address-shaped text. The local part leaves out `=`, `/`, `'` and the like,
/// so `email=ada@example.org` yields `ada@example.org`; the redacted form
/// (`a***@example.org`) is a candidate of its own, never a personal address.
static ADDRESS: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"[A-Za-z0-9._%+!#$&*^~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").unwrap()
});

/// Every address-shaped substring of `text`, lowercased.
pub fn addresses_in(text: &str) -> impl Iterator<Item = String> + '_ {
    ADDRESS
        .find_iter(text)
        .map(|m| m.as_str().trim_matches('.').to_lowercase())
}

/// What must never show in the server's log or in a comment; shared by the
/// GitHub mock and the server of one test.
#[derive(Clone, Default)]
pub struct LeakWatch {
    inner: Arc<Mutex<Watched>>,
}

#[derive(Default)]
struct Watched {
    addresses: BTreeSet<String>,
    secrets: BTreeSet<String>,
    comments: Vec<String>,
}

impl fmt::Debug for LeakWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let watched = self.inner.lock().unwrap();
        write!(
            f,
            "LeakWatch({} address(es), {} secret(s), {} comment(s))",
            watched.addresses.len(),
            watched.secrets.len(),
            watched.comments.len()
        )
    }
}

/// The texts a scan looks at, and the addresses it allows.
pub struct Scan<'a> {
    /// The server's log lines.
    pub log: &'a [String],
    /// Addresses of the configuration (organizer, sender): not personal data.
    pub allowed: &'a BTreeSet<String>,
}

impl LeakWatch {
    /// A personal address that must never be logged or posted.
    pub fn address(&self, address: &str) {
        let address = address.trim().to_lowercase();
        if address.contains('@') {
            self.inner.lock().unwrap().addresses.insert(address);
        }
    }

    /// Every address-shaped string in `text` (an issue body, a roster) is personal.
    pub fn addresses_in(&self, text: &str) {
        let mut watched = self.inner.lock().unwrap();
        watched.addresses.extend(addresses_in(text));
    }

    /// A secret that must never be logged or posted (ignored when shorter than
    /// [`MIN_SECRET_LEN`]).
    pub fn secret(&self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN {
            self.inner
                .lock()
                .unwrap()
                .secrets
                .insert(secret.to_string());
        }
    }

    /// Records the body of a comment the mock received.
    pub fn comment(&self, body: &str) {
        self.inner.lock().unwrap().comments.push(body.to_string());
    }

    /// The comment bodies received so far.
    pub fn comments(&self) -> Vec<String> {
        self.inner.lock().unwrap().comments.clone()
    }

    /// What leaked, one line per finding (empty: nothing). In the log: a
    /// personal address or a secret. In a comment: any address that isn't
    /// allowed (comments are public), or a secret.
    pub fn findings(&self, scan: &Scan<'_>) -> Vec<String> {
        let watched = self.inner.lock().unwrap();
        let personal: BTreeSet<&str> = watched
            .addresses
            .iter()
            .filter(|a| !scan.allowed.contains(*a))
            .map(String::as_str)
            .collect();
        let mut findings = Vec::new();
        for line in scan.log {
            let leaked = leaked_addresses(line, &personal, |_| false);
            findings.extend(report("log line", line, &leaked, &watched.secrets));
        }
        for comment in &watched.comments {
            let leaked = leaked_addresses(comment, &personal, |candidate| {
                !scan.allowed.contains(candidate) && !candidate.contains("***@")
            });
            findings.extend(report("comment", comment, &leaked, &watched.secrets));
        }
        findings
    }
}

/// The addresses of `personal` in `text`, plus every candidate `also` accepts.
fn leaked_addresses(
    text: &str,
    personal: &BTreeSet<&str>,
    also: impl Fn(&str) -> bool,
) -> BTreeSet<String> {
    let mut leaked: BTreeSet<String> = addresses_in(text)
        .filter(|candidate| personal.contains(candidate.as_str()) || also(candidate))
        .collect();
    // Addresses the pattern can't take whole (`o'brien@…`): plain search.
    let lower = text.to_lowercase();
    leaked.extend(
        personal
            .iter()
            .filter(|a| addresses_in(a).next().as_deref() != Some(**a) && lower.contains(**a))
            .map(|a| a.to_string()),
    );
    leaked
}

/// One finding per leaked address or secret in `text`, secrets masked.
fn report(
    what: &str,
    text: &str,
    addresses: &BTreeSet<String>,
    secrets: &BTreeSet<String>,
) -> Vec<String> {
    let found: Vec<&String> = secrets
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .collect();
    let mut shown = text.to_string();
    for secret in &found {
        shown = shown.replace(secret.as_str(), "<SECRET>");
    }
    let mut findings: Vec<String> = addresses
        .iter()
        .map(|a| format!("address {a} in a {what}: {shown}"))
        .collect();
    findings.extend(
        found
            .iter()
            .map(|s| format!("a secret ({} chars) in a {what}: {shown}", s.len())),
    );
    findings
}
