//! Keeping every member's calendar as the config and roster say: the [`Reconciler`] sends the
//! plans of [`crate::core::plan`] and records each message once the mail server accepted it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;

use crate::core::calendar::{Method, Person};
use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;
use crate::core::identity::TeamName;
use crate::core::member::Member;
use crate::core::plan::{
    Action, CancelReason, Counts, RequestReason, SeriesPlan, plan_removed_series, plan_series,
};
use crate::core::sent::MemberStatus;
use crate::core::series::Series;
use crate::core::series_event::{EventSnapshot, SeriesEvent};
use crate::core::texts;
use crate::github::client::Client;
use crate::links::LinkMaker;
use crate::mail::{CalendarMail, Mailer};
use crate::roster::Roster;
use crate::store::{Store, StoreError};

/// A failure that stops a reconciliation.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// Messages the mail server accepted.
    pub sent: Counts,
    /// Messages that failed (retried by the next run).
    pub failed: usize,
    /// Logins whose message failed, lowercased.
    pub failed_logins: Vec<Login>,
    /// Of those, the ones the mail server refused for good (or that failed for 3 days).
    pub rejected_logins: Vec<Login>,
}

/// Where a member's calendar stands, as far as the bot knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberSync {
    /// Holds the current event, sent to this address.
    Invited(EmailAddress),
    /// Was cancelled.
    Cancelled,
    /// Their last message failed and waits for a retry, or they hold an older event.
    Pending,
    /// The mail server refused their address for good.
    Refused,
    /// Never got anything.
    Unknown,
}

/// Sends plans and records what was sent.
pub struct Reconciler {
    store: Arc<Store>,
    mailer: Arc<Mailer>,
    github: Client,
    links: LinkMaker,
}

impl Reconciler {
    /// Puts a reconciler together; `links` makes each invitation's one-click leave link.
    pub fn new(store: Arc<Store>, mailer: Arc<Mailer>, github: Client, links: LinkMaker) -> Self {
        Self {
            store,
            mailer,
            github,
            links,
        }
    }

    /// The mailer, for mails that are not calendar messages (confirmations).
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Plans a configured series against the store.
    pub fn plan(&self, series: &Series, roster: &Roster) -> Result<SeriesPlan, ReconcileError> {
        let record = self.store.series(&series.id)?;
        let sent = self.store.members(&series.id)?;
        Ok(plan_series(
            SeriesEvent::of(series),
            roster.members(),
            record.as_ref(),
            &sent,
        ))
    }

    /// Plans the cancellation of every series the store knows but `configured` lacks. A series
    /// whose stored event can't be read is logged and left alone.
    pub fn plan_removed(
        &self,
        configured: &HashSet<&str>,
    ) -> Result<Vec<SeriesPlan>, ReconcileError> {
        let mut plans = Vec::new();
        for id in self.store.series_ids()? {
            if configured.contains(id.as_str()) {
                continue;
            }
            let Some(record) = self.store.series(&id)? else {
                continue;
            };
            match EventSnapshot::parse(&id, &record.definition) {
                Ok(event) => plans.push(plan_removed_series(
                    event,
                    &record,
                    &self.store.members(&id)?,
                )),
                Err(error) => {
                    tracing::error!(series = %id, %error, "cannot cancel a removed series: its stored event is unreadable")
                }
            }
        }
        Ok(plans)
    }

    /// Sends a plan's messages, recording each accepted one. A message that fails is logged and
    /// left for the next run; the GitHub team follows the roster when `team` is set.
    pub async fn run(
        &self,
        plan: &SeriesPlan,
        team: Option<&TeamName>,
    ) -> Result<RunReport, ReconcileError> {
        let series_id = plan.event.series_id.as_str();
        if !plan.actions.is_empty() || self.store.series(series_id)?.as_ref() != Some(&plan.record)
        {
            self.store.put_series(series_id, &plan.record)?;
        }
        let mut report = RunReport::default();
        for action in &plan.actions {
            match self.send(&plan.event, action).await {
                Ok(()) => {
                    self.store
                        .record_message(series_id, &action.sent_record(&plan.record.fingerprint))?;
                    self.store.clear_mail_failure(series_id, action.github())?;
                    crate::telemetry::send(
                        crate::telemetry::SendKind::Mail,
                        crate::telemetry::SendResult::Ok,
                    );
                    report.sent.add(action);
                    if let Some(team) = team {
                        self.follow_team(series_id, team, action).await?;
                    }
                }
                Err(error) => {
                    let permanent = self.record_failure(series_id, action, &error)?;
                    let result = if permanent {
                        crate::telemetry::SendResult::Failed
                    } else {
                        crate::telemetry::SendResult::Retry
                    };
                    crate::telemetry::send(crate::telemetry::SendKind::Mail, result);
                    tracing::error!(series = series_id, member = %action.github(), %error, permanent, "calendar message not sent");
                    report.failed += 1;
                    report.failed_logins.push(action.github().clone());
                    if permanent {
                        report.rejected_logins.push(action.github().clone());
                    }
                }
            }
        }
        if plan.forget && report.failed == 0 {
            self.store.delete_series(series_id)?;
        }
        Ok(report)
    }

    /// Where one member's calendar stands for the series as configured now; `email`, when
    /// given, is the address they should have it at (a refusal of another address doesn't count).
    pub fn member_sync(
        &self,
        series: &Series,
        login: &Login,
        email: Option<&EmailAddress>,
    ) -> Result<MemberSync, ReconcileError> {
        let failure = self
            .store
            .mail_failures(Some(&series.id))?
            .into_iter()
            .find(|f| f.github == *login);
        let record = self
            .store
            .members(&series.id)?
            .into_iter()
            .find(|m| m.github == *login);
        let refused = failure
            .as_ref()
            .is_some_and(|f| f.permanent && email.is_none_or(|e| e.same_mailbox(&f.email)));
        if refused {
            return Ok(MemberSync::Refused);
        }
        let current = SeriesEvent::of(series).snapshot().fingerprint();
        Ok(match (record, failure) {
            (_, Some(_)) => MemberSync::Pending,
            (None, None) => MemberSync::Unknown,
            (Some(r), None) if r.status == MemberStatus::Cancelled => MemberSync::Cancelled,
            (Some(r), None) if r.fingerprint == current => MemberSync::Invited(r.email),
            (Some(_), None) => MemberSync::Pending,
        })
    }

    /// Plans a configured series for a reconciliation pass: like [`Reconciler::plan`], without
    /// the members whose last failure is not due for a retry yet, or whose address the mail server
    /// refused for good (until the roster gives another address).
    pub fn plan_due(
        &self,
        series: &Series,
        roster: &Roster,
        now: Timestamp,
    ) -> Result<SeriesPlan, ReconcileError> {
        let mut plan = self.plan(series, roster)?;
        let failures = self.store.mail_failures(Some(&series.id))?;
        let failures: HashMap<&str, _> = failures.iter().map(|f| (f.github.as_str(), f)).collect();
        plan.actions.retain(|action| {
            let Some(failure) = failures.get(action.github().as_str()) else {
                return true;
            };
            let same_address = action_email(action).same_mailbox(&failure.email);
            if failure.permanent {
                return !same_address;
            }
            !same_address || failure.next_attempt_at <= now
        });
        Ok(plan)
    }

    /// Records a failed message with its next attempt; returns whether it is given up for good.
    fn record_failure(
        &self,
        series_id: &str,
        action: &Action,
        error: &crate::mail::MailError,
    ) -> Result<bool, ReconcileError> {
        let github = action.github().clone();
        let previous = self
            .store
            .mail_failures(Some(series_id))?
            .into_iter()
            .find(|f| f.github == github);
        let now = Timestamp::now();
        let attempts = previous.as_ref().map_or(0, |f| f.attempts) + 1;
        let first = previous.as_ref().map_or(now, |f| f.first_failed_at);
        let next = crate::core::retry::next_attempt(attempts, None, first, now);
        let permanent = error.is_permanent() || next.is_none();
        let failure = crate::store::MailFailure {
            series_id: series_id.to_string(),
            github,
            email: action_email(action).clone(),
            attempts,
            next_attempt_at: next.unwrap_or(now),
            first_failed_at: first,
            last_error: error.to_string(),
            permanent,
        };
        self.store.record_mail_failure(&failure)?;
        Ok(permanent)
    }

    /// Sends the invitation again, with the same `SEQUENCE`, to a member whose calendar is up to
    /// date (they asked again: people lose invitations). Returns `None` when the store has no
    /// invitation on record for them; then a normal run is what they need.
    pub async fn resend(
        &self,
        series: &Series,
        member: &Member,
    ) -> Result<Option<RunReport>, ReconcileError> {
        let previous = self
            .store
            .members(&series.id)?
            .into_iter()
            .find(|m| m.github == member.github);
        let (Some(record), Some(previous)) = (self.store.series(&series.id)?, previous) else {
            return Ok(None);
        };
        if previous.status != MemberStatus::Invited {
            return Ok(None);
        }
        let plan = SeriesPlan {
            event: Arc::new(SeriesEvent::of(series)),
            actions: vec![Action::Request {
                member: member.clone(),
                sequence: previous.sequence,
                reason: RequestReason::Resend,
            }],
            record,
            forget: false,
        };
        self.run(&plan, None).await.map(Some)
    }

    async fn send(
        &self,
        event: &SeriesEvent,
        action: &Action,
    ) -> Result<(), crate::mail::MailError> {
        let now = Timestamp::now();
        let mut leave_url = None;
        let (person, method, sequence, subject, text) = match action {
            Action::Request {
                member,
                sequence,
                reason,
            } => {
                let person = Person {
                    name: member.name.clone(),
                    email: member.email.clone(),
                };
                let upcoming = event.schedule.next_meetings(now, 3);
                let mut text = texts::invite_text(
                    event,
                    &member.name,
                    &upcoming,
                    *reason == RequestReason::Update,
                );
                leave_url =
                    self.links
                        .leave_url(&event.series_id, &member.github, member.email.expose());
                if let Some(url) = &leave_url {
                    text.push_str(&texts::leave_link_line(url));
                }
                (
                    person,
                    Method::Request,
                    *sequence,
                    texts::invite_subject(event, *reason),
                    text,
                )
            }
            Action::Cancel {
                name,
                email,
                sequence,
                reason,
                ..
            } => {
                let person = Person {
                    name: name.clone(),
                    email: email.clone(),
                };
                (
                    person,
                    Method::Cancel,
                    *sequence,
                    texts::cancel_subject(event),
                    texts::cancel_text(event, name, *reason),
                )
            }
        };
        let ics = event.invitation(&person, method, sequence, now).to_ics();
        let mail = CalendarMail {
            to: &person,
            subject: &subject,
            text: &text,
            ics: &ics,
            method,
        };
        let message = self
            .mailer
            .build_with_leave_link(&mail, leave_url.as_deref())?;
        self.mailer.send(&message).await?;
        tracing::info!(series = %event.series_id, member = %action.github(), method = method.as_str(), sequence, kind = ?kind_of(action), "calendar message sent");
        Ok(())
    }

    /// Adds a newly invited member to the team, or removes a cancelled one. Failures never stop
    /// the invitation: they are logged and kept for `invitebot check`.
    async fn follow_team(
        &self,
        series_id: &str,
        team: &TeamName,
        action: &Action,
    ) -> Result<(), ReconcileError> {
        let github = action.github();
        let result = match action {
            Action::Request {
                member,
                reason: RequestReason::New | RequestReason::Rejoined,
                ..
            } => {
                self.github
                    .add_team_member(team, member.github.as_str())
                    .await
            }
            Action::Cancel {
                reason: CancelReason::Removed | CancelReason::SeriesRemoved,
                ..
            } => self.github.remove_team_member(team, github.as_str()).await,
            _ => return Ok(()),
        };
        let error = result.err().map(|e| e.to_string());
        let outcome = if error.is_some() {
            crate::telemetry::SendResult::Failed
        } else {
            crate::telemetry::SendResult::Ok
        };
        crate::telemetry::send(crate::telemetry::SendKind::Team, outcome);
        if let Some(error) = &error {
            tracing::warn!(series = series_id, member = %github, team = %team, %error, "GitHub team membership not changed");
        }
        self.store
            .record_team_result(series_id, github, error.as_deref())?;
        Ok(())
    }
}

/// The address an action's message goes to.
fn action_email(action: &Action) -> &EmailAddress {
    match action {
        Action::Request { member, .. } => &member.email,
        Action::Cancel { email, .. } => email,
    }
}

fn kind_of(action: &Action) -> String {
    match action {
        Action::Request { reason, .. } => format!("{reason:?}"),
        Action::Cancel { reason, .. } => format!("{reason:?}"),
    }
}
