//! The record of what members' calendars were sent: per series the UID, the highest `SEQUENCE`
//! and the event as last sent; per member the address, `SEQUENCE` and whether it was an
//! invitation or a cancellation. The state store keeps it; the plan compares it with the files.

use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;

/// What was last sent for a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRecord {
    /// The calendar UID used.
    pub uid: String,
    /// The highest `SEQUENCE` used for this UID.
    pub sequence: u32,
    /// Fingerprint of the event fields at `sequence`.
    pub fingerprint: String,
    /// The event fields at `sequence` (JSON of [`EventSnapshot`](crate::core::series_event::EventSnapshot)), so a series
    /// removed from the config can still be cancelled.
    pub definition: String,
}

/// Whether a member's calendar holds the series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    /// Their last message was a `REQUEST`.
    Invited,
    /// Their last message was a `CANCEL`.
    Cancelled,
}

/// What was last sent to one member of one series.
#[derive(Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// The GitHub login, lowercased.
    pub github: Login,
    /// The name used in the last message.
    pub name: String,
    /// The address of the last message (personal data: its printed forms are redacted).
    pub email: EmailAddress,
    /// What the last message was.
    pub status: MemberStatus,
    /// Its `SEQUENCE`.
    pub sequence: u32,
    /// The series fingerprint of the last `REQUEST`.
    pub fingerprint: String,
    /// Why adding them to the GitHub team failed, if it did.
    pub team_error: Option<String>,
}

impl std::fmt::Debug for MemberRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemberRecord")
            .field("github", &self.github)
            .field("status", &self.status)
            .field("sequence", &self.sequence)
            .field("email", &"[personal]")
            .finish_non_exhaustive()
    }
}
