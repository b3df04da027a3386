//! The guard in front of the roster: nobody is added against their will or in a flood.
//!
//! Before a join request adds anyone, the series' limits are checked (new members per day,
//! requests per person per day, account age); a request over a limit waits for a maintainer,
//! who releases it with the approval label (their permission on the repository is checked).
//! Consent by proof: an address the requester typed (issue, forms) is confirmed first, unless
//! `confirm_email = "never"`; the requester's public profile address is proven (GitHub lets
//! only verified addresses be public), unless `"always"`. The confirmation mail carries the
//! login and the series' texts only; only the click on its link (a POST, see
//! [`crate::links::pages`]) sends the invitation. Without a public URL no link can be mailed:
//! the request waits for a maintainer. One confirmation per address a day, whoever asks. A
//! request with another member's address waits for a maintainer too, that member gets nothing,
//! and the reply reads as for a new address. A maintainer's approval stands for the proof. A
//! request whose address is missing gets, with the question, a link to a private form.

use jiff::{SignedDuration, Timestamp};

use super::{Clearance, LazyProfile, Pipeline, PipelineError, Progress, Reply, replies};

use crate::core::calendar::Person;
use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;
use crate::core::job::{Hold, Outcome};
use crate::core::request::{EmailFinding, EmailSource, InviteRequest};
use crate::core::series::Series;
use crate::core::texts::{self, NoEmail};
use crate::links::{CONFIRM_VALID, EmailFormSubject};
use crate::roster::Roster;
use crate::store::{JobRecord, NewConfirmation};

use crate::core::job::JobKind;

/// Whether `email` is the roster address of a member other than `login`.
fn is_address_of_another_member(roster: &Roster, login: &Login, email: &EmailAddress) -> bool {
    roster
        .members()
        .iter()
        .any(|m| m.github != *login && m.email.same_mailbox(email))
}

/// A request held back where a new address would get a confirmation: the same comment and no
/// label, so the issue reads alike; it waits for a maintainer (`status` says why).
fn awaiting_confirmation(series: &Series, login: &Login, hold: Hold) -> (Outcome, Vec<Reply>) {
    let comment = texts::awaiting_confirmation_comment(series, login.as_str());
    (Outcome::NeedsApproval(hold), replies(comment, &[], false))
}

/// A join request with its address and name found.
pub(super) struct Candidate<'a> {
    pub request: &'a InviteRequest,
    pub email: &'a EmailAddress,
    pub source: EmailSource,
    pub name: &'a str,
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

impl Pipeline {
    /// What must happen before the candidate is added: `Some` ends the job here (it waits for
    /// a maintainer or for the requester's confirmation); `None` lets it through.
    pub(super) async fn guard(
        &mut self,
        job: &JobRecord,
        series: &Series,
        candidate: &Candidate<'_>,
        profile: &mut LazyProfile<'_>,
        progress: Progress,
        clearance: Clearance,
    ) -> Result<Option<(Outcome, Vec<Reply>)>, PipelineError> {
        let path = series.roster.clone();
        let roster = super::blocking(move || Roster::load(&path)).await??;
        let login = &candidate.request.login;
        let member = roster.find_login(login.as_str()).is_some();
        if clearance == Clearance::None
            && let Some(hold) = self.hold(series, login, member, profile).await?
        {
            tracing::info!(series = %series.id, issue = job.issue, reason = hold.as_str(), "request waits for a maintainer's approval");
            return Ok(Some(self.held(series, login, hold, hold)));
        }
        // A member asking again gets the invitation at the roster's address: nothing to confirm.
        // A maintainer's approval stands for the proof.
        let needs_proof = !member
            && clearance == Clearance::None
            && series
                .guard
                .confirm_email
                .requires_confirmation(candidate.source);
        let can_link = self.links.public_origin().is_some();
        // Another member's address: that member gets nothing, and the reply reads as it would
        // for a new address; a maintainer decides.
        if !member
            && clearance != Clearance::Approved
            && is_address_of_another_member(&roster, login, candidate.email)
        {
            tracing::info!(series = %series.id, issue = job.issue, reason = Hold::AddressOfMember.as_str(), "request waits for a maintainer's approval");
            if needs_proof && can_link {
                return Ok(Some(awaiting_confirmation(
                    series,
                    login,
                    Hold::AddressOfMember,
                )));
            }
            return Ok(Some(self.held(
                series,
                login,
                Hold::AddressOfMember,
                Hold::UnprovenAddress,
            )));
        }
        if !needs_proof {
            return Ok(None);
        }
        if !can_link {
            tracing::info!(series = %series.id, issue = job.issue, reason = Hold::UnprovenAddress.as_str(), "request waits for a maintainer's approval");
            let hold = Hold::UnprovenAddress;
            return Ok(Some(self.held(series, login, hold, hold)));
        }
        self.ask_confirmation(job, series, candidate, progress)
            .await
            .map(Some)
    }

    /// A request that waits for a maintainer because of `hold`; its comment gives the reason
    /// `shown` (which may differ, so it reveals nothing the requester must not learn).
    fn held(
        &self,
        series: &Series,
        login: &Login,
        hold: Hold,
        shown: Hold,
    ) -> (Outcome, Vec<Reply>) {
        let comment = texts::needs_approval_comment(series, login.as_str(), shown);
        let labels = [series.guard.approval_label.clone()];
        (
            Outcome::NeedsApproval(hold),
            replies(comment, &labels, false),
        )
    }

    /// Whether a limit holds the request back. Members asking again count only against the
    /// per-person limit.
    async fn hold(
        &self,
        series: &Series,
        login: &Login,
        member: bool,
        profile: &mut LazyProfile<'_>,
    ) -> Result<Option<Hold>, PipelineError> {
        let guard = &series.guard;
        let since = Timestamp::now() - DAY;
        if !member && guard.max_new_per_day > 0 {
            let new = self.store.new_members_since(&series.id, since)?;
            if new >= guard.max_new_per_day {
                return Ok(Some(Hold::SeriesLimit));
            }
        }
        if guard.max_requests_per_person_per_day > 0 {
            let mailed = self
                .store
                .mailed_requests_since(&series.id, login.as_str(), since)?;
            if mailed >= guard.max_requests_per_person_per_day {
                return Ok(Some(Hold::PersonLimit));
            }
        }
        if !member && guard.min_account_age_days > 0 {
            let created: Option<Timestamp> = profile
                .get()
                .await?
                .created_at
                .as_deref()
                .and_then(|t| t.parse().ok());
            let min_age = SignedDuration::from_hours(24 * i64::from(guard.min_account_age_days));
            if created.is_none_or(|created| Timestamp::now() - min_age < created) {
                return Ok(Some(Hold::NewAccount));
            }
        }
        Ok(None)
    }

    /// Sends the confirmation mail; the invitation follows the click.
    async fn ask_confirmation(
        &mut self,
        job: &JobRecord,
        series: &Series,
        candidate: &Candidate<'_>,
        progress: Progress,
    ) -> Result<(Outcome, Vec<Reply>), PipelineError> {
        let now = Timestamp::now();
        let id = match progress.confirmation {
            Some(id) => id,
            None => {
                // At most one confirmation per address a day, whoever asks.
                if self
                    .store
                    .confirmations_to_address_since(candidate.email, now - DAY)?
                    > 0
                {
                    tracing::info!(series = %series.id, issue = job.issue, reason = Hold::AddressLimit.as_str(), "request waits for a maintainer's approval");
                    let login = &candidate.request.login;
                    return Ok(awaiting_confirmation(series, login, Hold::AddressLimit));
                }
                let confirmed = JobKind::Confirmed(InviteRequest {
                    login: candidate.request.login.clone(),
                    issue_number: candidate.request.issue_number,
                    name: Some(candidate.name.to_string()),
                    email: EmailFinding::Found(candidate.email.clone(), candidate.source),
                });
                let id = self.store.create_confirmation(&NewConfirmation {
                    series_id: &series.id,
                    repo: &job.repo,
                    issue: job.issue,
                    login: candidate.request.login.as_str(),
                    request: &confirmed,
                    expires_at: now + CONFIRM_VALID,
                })?;
                self.save_progress(
                    job.id,
                    Progress {
                        confirmation: Some(id),
                        ..progress
                    },
                )?;
                id
            }
        };
        let url = self
            .links
            .confirm_url(id, now)
            .ok_or(PipelineError::NoPublicUrl)?;
        // Nothing of the request's but the login goes to an address that has not said yes.
        let to = Person {
            name: String::new(),
            email: candidate.email.clone(),
        };
        let login = candidate.request.login.as_str();
        let (subject, text) = texts::confirmation_mail(series, login, &url);
        let mailer = self.reconciler.mailer();
        let message = mailer
            .build_notice(&to, &subject, &text)
            .map_err(|e| PipelineError::NoticeRejected(e.to_string()))?;
        match mailer.send(&message).await {
            Ok(()) => {}
            Err(error) if error.is_permanent() => {
                return Err(PipelineError::NoticeRejected(error.to_string()));
            }
            Err(error) => {
                tracing::warn!(series = %series.id, issue = job.issue, %error, "confirmation mail not sent yet");
                return Err(PipelineError::NotSent);
            }
        }
        tracing::info!(series = %series.id, issue = job.issue, to = %candidate.email, "confirmation mail sent");
        let comment = texts::awaiting_confirmation_comment(series, login);
        Ok((Outcome::AwaitingConfirmation, replies(comment, &[], false)))
    }

    /// A maintainer added the approval label: checks they may, then handles the request
    /// without the limits.
    pub(super) async fn approved(
        &mut self,
        job: &JobRecord,
        series: &Series,
        request: &InviteRequest,
        maintainer: &Login,
        progress: Progress,
    ) -> Result<(Outcome, Vec<Reply>), PipelineError> {
        if !self.maintains(job, maintainer).await? {
            tracing::warn!(series = %series.id, issue = job.issue, user = %maintainer, "approval label added by someone without write access: ignored");
            return Ok((Outcome::ApprovalIgnored, Vec::new()));
        }
        tracing::info!(series = %series.id, issue = job.issue, maintainer = %maintainer, "request approved");
        let (outcome, mut replies) = self
            .join(job, series, request, progress, Clearance::Approved)
            .await?;
        replies.push(Reply::RemoveLabel {
            label: series.guard.approval_label.clone(),
        });
        Ok((outcome, replies))
    }

    /// The question for an address, with a link to the private form when links are on.
    pub(super) fn ask_for_email(
        &self,
        job: &JobRecord,
        series: &Series,
        request: &InviteRequest,
        reason: NoEmail,
    ) -> (Outcome, Vec<Reply>) {
        let mut comment = texts::needs_email_comment(series, request.login.as_str(), reason);
        let subject = EmailFormSubject {
            series_id: series.id.clone(),
            repo: job.repo.clone(),
            issue: job.issue,
            login: request.login.clone(),
        };
        if let Some(url) = self.links.email_form_url(&subject, Timestamp::now()) {
            comment.push_str(&texts::private_email_paragraph(&url));
        }
        let labels: Vec<String> = series.reply.needs_email_label.iter().cloned().collect();
        (
            Outcome::NeedsEmail(reason),
            replies(comment, &labels, false),
        )
    }
}
