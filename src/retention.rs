//! Keeping personal data no longer than `[storage] retention_days`: a sweep (at start and every
//! hour, by the worker) erases the names and addresses of requests that finished before the
//! cut-off and of used or expired confirmations ([`Store::erase_expired`]), and deletes the file
//! transport's `.eml` files written before it ([`crate::mail::files`]).

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};

use crate::config::Config;
use crate::mail::files::{self as mail_files, MailFileError};
use crate::mail::settings::MailTransport;
use crate::store::{Expired, Store, StoreError};

/// How long personal data is kept, and where the mail files are.
#[derive(Debug, Clone)]
pub struct RetentionPolicy {
    /// Days after a request finished (0: at the next sweep).
    pub days: u32,
    /// The file transport's folder (`None`: mail goes over SMTP).
    pub mail_dir: Option<PathBuf>,
}

impl RetentionPolicy {
    /// The policy of a config.
    pub fn of(config: &Config) -> Self {
        Self {
            days: config.retention_days,
            mail_dir: match &config.mail.transport {
                MailTransport::File { dir } => Some(dir.clone()),
                MailTransport::Smtp { .. } => None,
            },
        }
    }

    /// What ended before this is erased.
    pub fn cutoff(&self, now: Timestamp) -> Timestamp {
        now - SignedDuration::from_hours(i64::from(self.days) * 24)
    }
}

/// What a sweep erased. Holds no address.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// From the store.
    pub store: Expired,
    /// Mail files deleted.
    pub mail_files: usize,
}

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A mail file could not be read or deleted.
    #[error(transparent)]
    MailFile(#[from] MailFileError),
}

/// Erases what ended before the policy's cut-off at `now`.
pub fn sweep(
    store: &Store,
    policy: &RetentionPolicy,
    now: Timestamp,
) -> Result<Swept, RetentionError> {
    let cutoff = policy.cutoff(now);
    let store = store.erase_expired(cutoff)?;
    let mail_files = match &policy.mail_dir {
        Some(dir) => mail_files::delete_older_than(dir, std::time::SystemTime::from(cutoff))?,
        None => 0,
    };
    Ok(Swept { store, mail_files })
}
