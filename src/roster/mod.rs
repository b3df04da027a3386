//! The roster file: who belongs to a meeting series.
//!
//! Maintainers edit the roster by hand and the bot appends newcomers to it, so the file is
//! treated as theirs: [`Roster::load`] only reads it, [`add`] appends one `[[member]]` table
//! at the very end, keeping every byte that was there before (comments, blank lines, key order,
//! odd spacing), and [`remove`] cuts one `[[member]]` table out, keeping every other byte; both
//! replace the file atomically.
//!
//! ```toml
//! # Members of the ISPO Working Group meeting series.
//!
//! [[member]]
//! github = "octocat"
//! name = "The Octocat"                 # optional, defaults to the login
//! email = "octocat@example.org"
//! added = "2026-11-24"                 # optional; a TOML date 2026-11-24 works too
//! via = "InnerSourceCommons/ispo-working-group#12"   # optional
//! ```
//!
//! Every problem is reported as `path:line:col: what is wrong; how to fix it`. Email addresses
//! never appear in errors or `Debug` output: members hold an
//! [`EmailAddress`](crate::core::email_address::EmailAddress), whose printed forms are redacted, and invalid
//! addresses are reported by position only.
//!
//! One job a file: `model` (members, the roster and its lookups), `load` (reading and
//! validating the file), `problems` (located diagnostics and suggestions), `error`
//! ([`RosterError`]), `edit` (adding and removing members as text) and `write` (the atomic
//! replacement of the file).

mod edit;
mod error;
mod load;
mod model;
mod problems;
mod write;

#[cfg(test)]
mod test_support;

pub use edit::{AddOutcome, RemoveOutcome, add, remove};
pub use error::RosterError;
pub use model::{Roster, is_valid_github_login};
pub use problems::{Location, Problem};
pub use write::write_atomically;
