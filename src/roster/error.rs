//! [`RosterError`]: everything that can go wrong reading or changing a roster file.

use std::io;
use std::path::{Path, PathBuf};

use super::problems::{Location, Problem, toml_problem};
use crate::core::source_position::line_col;

/// Everything that can go wrong reading or changing a roster file.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file does not exist.
    #[error(
        "{}: the roster file does not exist; create it (it may contain only comments, \
         e.g. `# Members of this meeting series`) or correct the configured path",
        path.display()
    )]
    NotFound {
        /// The roster file.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, not UTF-8, …).
    #[error("{}: cannot read the roster file: {error}", path.display())]
    Read {
        /// The roster file.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
    /// The file's content is wrong at a position.
    #[error("{at}: {problem}")]
    Invalid {
        /// Where.
        at: Location,
        /// What, and how to fix it.
        problem: Problem,
    },
    /// The member passed to [`add`](super::add) cannot be written.
    #[error("{}: cannot add this member: {reason}", path.display())]
    InvalidNewMember {
        /// The roster file.
        path: PathBuf,
        /// What is wrong with the member (never contains the email address).
        reason: &'static str,
    },
    /// The appended text did not read back as the member asked for. This is a bug; nothing was
    /// written.
    #[error(
        "{}: the new entry did not read back as written, so the file was left unchanged \
         (this is a bug in invitebot; please report it)",
        path.display()
    )]
    AppendCheck {
        /// The roster file.
        path: PathBuf,
    },
    /// The text left after cutting out a member did not read back as the other members,
    /// unchanged. This is a bug; nothing was written.
    #[error(
        "{}: without the removed entry the roster did not read back as the other members \
         unchanged, so the file was left unchanged (this is a bug in invitebot; please report it)",
        path.display()
    )]
    RemoveCheck {
        /// The roster file.
        path: PathBuf,
    },
    /// Writing the new version failed; the original file is unchanged.
    #[error("{}: cannot write the roster file ({step}): {error}; the file was left unchanged", path.display())]
    Write {
        /// The roster file.
        path: PathBuf,
        /// Which step failed.
        step: &'static str,
        /// The OS error.
        error: io::Error,
    },
    /// The new version replaced the file, but syncing the directory failed, so the change may
    /// not survive a crash.
    #[error(
        "{}: the roster was updated but its directory could not be synced to disk ({error}); \
         check the file after a crash or power loss",
        path.display()
    )]
    SyncDirectory {
        /// The roster file.
        path: PathBuf,
        /// The OS error.
        error: io::Error,
    },
}

/// The error for `problem` at byte `offset` of the roster `text` read from `path`.
pub(super) fn invalid_at(text: &str, path: &Path, offset: usize, problem: Problem) -> RosterError {
    RosterError::Invalid {
        at: location(text, path, offset),
        problem,
    }
}

/// Byte `offset` of `text` as a [`Location`] in `path`.
fn location(text: &str, path: &Path, offset: usize) -> Location {
    let (line, column) = line_col(text, offset);
    Location {
        path: path.to_owned(),
        line,
        column,
    }
}

/// Turns a `toml` error into a located [`Problem`].
pub(super) fn from_toml(error: &toml::de::Error, text: &str, path: &Path) -> RosterError {
    let span = error.span().unwrap_or(0..0);
    invalid_at(text, path, span.start, toml_problem(error.message()))
}
