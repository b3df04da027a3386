//! The work the bot does for a request: what a job asks ([`JobKind`], stored in the job row),
//! the steps it has done ([`Progress`]), why a request waits for a maintainer ([`Hold`]), how a
//! request ended ([`Outcome`]) and how its issue stands afterwards ([`IssueState`]).

use serde::{Deserialize, Serialize};

use crate::core::command::CommandRequest;
use crate::core::identity::Login;
use crate::core::request::{EmailSource, InviteRequest, LeaveRequest};
use crate::core::texts::NoEmail;

/// What a job asks (stored as JSON in the job row).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum JobKind {
    /// To join.
    Join(InviteRequest),
    /// To leave.
    Leave(LeaveRequest),
    /// A join request that waited for a maintainer, released by `maintainer` adding the
    /// approval label (their permission is checked before anything happens).
    Approved {
        /// The request as stored when it was held (what the maintainer saw).
        request: InviteRequest,
        /// Who added the label.
        maintainer: Login,
    },
    /// A join request whose requester confirmed the address by the link in the mail.
    Confirmed(InviteRequest),
    /// To leave, by the one-click link in an invitation (no issue to answer on).
    LeaveByLink {
        /// The member's login.
        login: Login,
    },
    /// A maintainer's command in an issue comment (their permission is checked first).
    Command(CommandRequest),
}

impl JobKind {
    /// The issue it came from (0: a link, not an issue).
    pub fn issue_number(&self) -> u64 {
        match self {
            JobKind::Join(r) | JobKind::Confirmed(r) | JobKind::Approved { request: r, .. } => {
                r.issue_number
            }
            JobKind::Leave(r) => r.issue_number,
            JobKind::LeaveByLink { .. } => 0,
            JobKind::Command(c) => c.issue_number,
        }
    }
}

/// Steps of a job already done, saved with the job so a retry neither redoes nor misreports
/// them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Join: whether the roster step added the member (`false`: they were already on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added: Option<bool>,
    /// Leave: whether the roster step removed the member (`false`: they weren't on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<bool>,
    /// Join with confirmation: the confirmation made (so a retry doesn't make a second).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<i64>,
    /// Command: whether the config file was changed (`false`: it already said so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<bool>,
}

/// Why a request waits for a maintainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// The series took its `max_new_per_day` new members in the last 24 hours.
    SeriesLimit,
    /// The requester made `max_requests_per_person_per_day` requests in the last 24 hours.
    PersonLimit,
    /// The account is younger than `min_account_age_days` (or its age is unknown).
    NewAccount,
    /// The address was typed, not proven, and no confirmation link can be made (no
    /// `[server] public_url`).
    UnprovenAddress,
    /// The address is another member's: that member gets nothing, and the public reply reads as
    /// for a new address.
    AddressOfMember,
    /// A confirmation went to the address in the last 24 hours (at most one a day, whoever
    /// asks).
    AddressLimit,
}

impl Hold {
    /// Every reason (for reading a stored word back).
    pub const ALL: [Hold; 6] = [
        Hold::SeriesLimit,
        Hold::PersonLimit,
        Hold::NewAccount,
        Hold::UnprovenAddress,
        Hold::AddressOfMember,
        Hold::AddressLimit,
    ];

    /// A word for logs and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Hold::SeriesLimit => "series-daily-limit",
            Hold::PersonLimit => "person-daily-limit",
            Hold::NewAccount => "new-account",
            Hold::UnprovenAddress => "unproven-address",
            Hold::AddressOfMember => "address-of-another-member",
            Hold::AddressLimit => "address-daily-limit",
        }
    }

    /// The reason of [`Hold::as_str`]'s word.
    pub fn parse(word: &str) -> Option<Hold> {
        Self::ALL.into_iter().find(|hold| hold.as_str() == word)
    }

    /// Why, for maintainers (`invitebot status`); never names the address.
    pub fn explanation(self) -> &'static str {
        match self {
            Hold::SeriesLimit => "the series took its new members for the day",
            Hold::PersonLimit => "the requester asked too often today",
            Hold::NewAccount => "the requester's GitHub account is new",
            Hold::UnprovenAddress => {
                "the address was typed and can't be confirmed by a link (no [server] public_url)"
            }
            Hold::AddressOfMember => {
                "the address belongs to another member of the series (that member was not mailed; the public reply doesn't say so)"
            }
            Hold::AddressLimit => {
                "a confirmation went to this address in the last 24 hours (at most one a day)"
            }
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Added to the roster and invited.
    Invited(EmailSource),
    /// Already on the roster: invited again.
    InvitedAgain,
    /// No usable address: asked for one.
    NeedsEmail(NoEmail),
    /// Removed from the roster, cancellation sent.
    Left,
    /// Asked to leave but not on the roster.
    NotAMember,
    /// Over a limit or from a new account: waits for a maintainer's approval label.
    NeedsApproval(Hold),
    /// Someone without write access added the approval label: nothing changed.
    ApprovalIgnored,
    /// The confirmation mail went out; the invitation waits for the click.
    AwaitingConfirmation,
    /// A maintainer's command was carried out (or answered why not).
    CommandDone,
    /// A command from someone who may not run commands: refused, nothing changed.
    CommandRefused,
}

impl Outcome {
    /// A word for logs, metrics and the delivery record.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Invited(_) => "invited",
            Outcome::InvitedAgain => "invited-again",
            Outcome::NeedsEmail(NoEmail::Invalid) => "needs-email-invalid",
            Outcome::NeedsEmail(NoEmail::Unsupported) => "needs-email-unsupported",
            Outcome::NeedsEmail(NoEmail::Missing) => "needs-email-missing",
            Outcome::Left => "left",
            Outcome::NotAMember => "not-a-member",
            Outcome::NeedsApproval(_) => "needs-approval",
            Outcome::ApprovalIgnored => "approval-ignored",
            Outcome::AwaitingConfirmation => "awaiting-confirmation",
            Outcome::CommandDone => "command-done",
            Outcome::CommandRefused => "command-refused",
        }
    }

    /// Why the request waits for a maintainer, if it does.
    pub fn hold(&self) -> Option<Hold> {
        match self {
            Outcome::NeedsApproval(hold) => Some(*hold),
            _ => None,
        }
    }

    /// How the issue stands afterwards (`edited` re-handles `needs-email` issues); `None` for a
    /// command, which says nothing about the issue it was written on.
    pub fn issue_state(&self) -> Option<IssueState> {
        Some(match self {
            Outcome::Invited(_) | Outcome::InvitedAgain => IssueState::Invited,
            Outcome::NeedsEmail(_) => IssueState::NeedsEmail,
            Outcome::Left => IssueState::Left,
            Outcome::NotAMember => IssueState::NotAMember,
            Outcome::NeedsApproval(_) | Outcome::ApprovalIgnored => IssueState::NeedsApproval,
            Outcome::AwaitingConfirmation => IssueState::AwaitingConfirmation,
            Outcome::CommandDone | Outcome::CommandRefused => return None,
        })
    }
}

/// How a handled issue stands: what its last request ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueState {
    /// The requester was invited (again).
    Invited,
    /// The bot asked for an address (an edit of the issue is handled again).
    NeedsEmail,
    /// The requester left.
    Left,
    /// The requester asked to leave but was not a member.
    NotAMember,
    /// The request waits for a maintainer's approval label.
    NeedsApproval,
    /// The request waits for the requester to confirm the address.
    AwaitingConfirmation,
    /// Catch-up found the bot's own answer on the issue (handled before the store knew it).
    Answered,
    /// The private email form was answered (its first accepted submission; the form works
    /// once) and the request continues with that address.
    AddressGiven,
    /// The issue was closed while the bot waited for an address: the form's link is void.
    Closed,
}
