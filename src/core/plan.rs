//! What to send so that every member's calendar holds what the config and roster say.
//!
//! [`plan_series`] and [`plan_removed_series`] are pure: they compare the desired state (the
//! series' event and its members) with the record of what was sent, and list the messages that
//! close the gap. The reconciler sends them and records each one once the mail server accepted
//! it, so a plan that fails half-way is finished by the next run, and an unchanged series sends
//! nothing however often it runs.
//!
//! Sequence numbers: the series record keeps the highest `SEQUENCE` ever used for its UID. A
//! change of the event raises it by one and every member gets that update; a cancellation uses
//! one more than anything that member has seen; an invitation after a cancellation likewise, so a
//! client never ignores a message as stale.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;
use crate::core::member::Member;
use crate::core::sent::{MemberRecord, MemberStatus, SeriesRecord};
use crate::core::series_event::SeriesEvent;

/// Why a member gets an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestReason {
    /// Never invited before.
    New,
    /// Back after a cancellation.
    Rejoined,
    /// Their address changed: the new address gets the series.
    NewAddress,
    /// The event changed.
    Update,
    /// They asked again and are up to date: the same message once more.
    Resend,
}

/// Why a member gets a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// No longer on the roster.
    Removed,
    /// Their address changed: the old address loses the series.
    OldAddress,
    /// The series is no longer in the config.
    SeriesRemoved,
}

/// One message to one member.
#[derive(Debug, Clone)]
pub enum Action {
    /// A `REQUEST` for the roster entry `member`.
    Request {
        /// The member as the roster has them.
        member: Member,
        /// The `SEQUENCE` to send.
        sequence: u32,
        /// Why.
        reason: RequestReason,
    },
    /// A `CANCEL` to the address the store has.
    Cancel {
        /// The login.
        github: Login,
        /// The name used before.
        name: String,
        /// The address that has the series.
        email: EmailAddress,
        /// The `SEQUENCE` to send.
        sequence: u32,
        /// Why.
        reason: CancelReason,
    },
}

impl Action {
    /// The login the action is for.
    pub fn github(&self) -> &Login {
        match self {
            Action::Request { member, .. } => &member.github,
            Action::Cancel { github, .. } => github,
        }
    }
}

/// What to send for one series.
#[derive(Debug, Clone)]
pub struct SeriesPlan {
    /// The event the messages describe.
    pub event: Arc<SeriesEvent>,
    /// The series record to store before sending.
    pub record: SeriesRecord,
    /// The messages, in order.
    pub actions: Vec<Action>,
    /// Whether the series' records are deleted once every message went out.
    pub forget: bool,
}

/// Counts of a plan's messages, for `check` and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New members (including rejoined and new addresses).
    pub invites: usize,
    /// Updates of a changed event.
    pub updates: usize,
    /// Cancellations.
    pub cancels: usize,
}

impl SeriesPlan {
    /// Counts the messages by kind.
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for action in &self.actions {
            counts.add(action);
        }
        counts
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Counts::default() {
            return f.write_str("nothing to send");
        }
        write!(
            f,
            "{} invite(s), {} update(s), {} cancel(s)",
            self.invites, self.updates, self.cancels
        )
    }
}

/// The messages that bring a configured series' members up to date.
pub fn plan_series(
    event: SeriesEvent,
    members: &[Member],
    record: Option<&SeriesRecord>,
    sent: &[MemberRecord],
) -> SeriesPlan {
    let snapshot = event.snapshot();
    let fingerprint = snapshot.fingerprint();
    let highest_sent = sent.iter().map(|m| m.sequence).max().unwrap_or(0);
    let mut counter = record.map_or(0, |r| r.sequence).max(highest_sent);
    if record.is_some_and(|r| r.fingerprint != fingerprint) {
        counter += 1;
    }
    let by_login: HashMap<&Login, &MemberRecord> = sent.iter().map(|m| (&m.github, m)).collect();
    let mut actions = Vec::new();
    let mut in_roster = HashSet::new();
    for member in members {
        let previous = by_login.get(&member.github).copied();
        in_roster.insert(&member.github);
        actions.extend(member_actions(member, previous, counter, &fingerprint));
    }
    for gone in sent
        .iter()
        .filter(|m| m.status == MemberStatus::Invited && !in_roster.contains(&m.github))
    {
        actions.push(cancel(gone, counter, CancelReason::Removed));
    }
    let highest = actions
        .iter()
        .map(sequence_of)
        .max()
        .unwrap_or(0)
        .max(counter);
    SeriesPlan {
        record: SeriesRecord {
            uid: event.uid.clone(),
            sequence: highest,
            fingerprint,
            definition: snapshot.to_json(),
        },
        event: Arc::new(event),
        actions,
        forget: false,
    }
}

/// The messages for one roster member, given what they got last.
fn member_actions(
    member: &Member,
    previous: Option<&MemberRecord>,
    counter: u32,
    fingerprint: &str,
) -> Vec<Action> {
    let request = |sequence, reason| Action::Request {
        member: member.clone(),
        sequence,
        reason,
    };
    let Some(previous) = previous else {
        return vec![request(counter, RequestReason::New)];
    };
    if previous.status == MemberStatus::Cancelled {
        return vec![request(
            counter.max(previous.sequence + 1),
            RequestReason::Rejoined,
        )];
    }
    if !previous.email.same_mailbox(&member.email) {
        let cancellation = cancel(previous, counter, CancelReason::OldAddress);
        let sequence = sequence_of(&cancellation);
        return vec![cancellation, request(sequence, RequestReason::NewAddress)];
    }
    if previous.fingerprint != fingerprint {
        return vec![request(counter, RequestReason::Update)];
    }
    Vec::new()
}

/// A cancellation for a recorded member, at the address their calendar got.
fn cancel(record: &MemberRecord, counter: u32, reason: CancelReason) -> Action {
    Action::Cancel {
        github: record.github.clone(),
        name: record.name.clone(),
        email: record.email.clone(),
        sequence: counter.max(record.sequence) + 1,
        reason,
    }
}

fn sequence_of(action: &Action) -> u32 {
    match action {
        Action::Request { sequence, .. } | Action::Cancel { sequence, .. } => *sequence,
    }
}

/// The cancellations for a series that is no longer configured, built from the event as last
/// sent.
pub fn plan_removed_series(
    event: SeriesEvent,
    record: &SeriesRecord,
    sent: &[MemberRecord],
) -> SeriesPlan {
    let counter = sent
        .iter()
        .map(|m| m.sequence)
        .max()
        .unwrap_or(0)
        .max(record.sequence);
    let actions: Vec<Action> = sent
        .iter()
        .filter(|m| m.status == MemberStatus::Invited)
        .map(|m| cancel(m, counter, CancelReason::SeriesRemoved))
        .collect();
    let highest = actions.iter().map(sequence_of).max().unwrap_or(counter);
    SeriesPlan {
        event: Arc::new(event),
        record: SeriesRecord {
            sequence: highest,
            ..record.clone()
        },
        actions,
        forget: true,
    }
}

impl Counts {
    /// Counts one more message.
    pub(crate) fn add(&mut self, action: &Action) {
        match action {
            Action::Request {
                reason: RequestReason::Update,
                ..
            } => self.updates += 1,
            Action::Request { .. } => self.invites += 1,
            Action::Cancel { .. } => self.cancels += 1,
        }
    }
}

impl Action {
    /// What the record of this member holds once this message was sent.
    pub fn sent_record(&self, fingerprint: &str) -> MemberRecord {
        match self {
            Action::Request {
                member, sequence, ..
            } => MemberRecord {
                github: member.github.clone(),
                name: member.name.clone(),
                email: member.email.clone(),
                status: MemberStatus::Invited,
                sequence: *sequence,
                fingerprint: fingerprint.to_string(),
                team_error: None,
            },
            Action::Cancel {
                github,
                name,
                email,
                sequence,
                ..
            } => MemberRecord {
                github: github.clone(),
                name: name.clone(),
                email: email.clone(),
                status: MemberStatus::Cancelled,
                sequence: *sequence,
                fingerprint: fingerprint.to_string(),
                team_error: None,
            },
        }
    }
}

#[cfg(test)]
mod tests;
