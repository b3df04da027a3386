//! The one place that orders the steps of a join request: email and name, roster, invitation,
//! reply. Each step is a call into the module that owns it; this module decides what to do when
//! a step says no.

use std::path::PathBuf;
use std::sync::Arc;

use jiff::Timestamp;

use crate::calendar::{Invitation, Method, Person};
use crate::config::{Config, Series};
use crate::github::client::{Client, GitHubApiError};
use crate::mail::{CalendarMail, MailError, Mailer};
use crate::request::{self, EmailFinding, EmailSource, InviteRequest};
use crate::roster::{self, AddOutcome, Member, RosterError};
use crate::texts::{self, NoEmail};

/// How many upcoming meetings the invitation's text lists.
const UPCOMING_IN_MAIL: usize = 3;

/// A join request accepted by the webhook, waiting to be worked on.
#[derive(Debug, Clone)]
pub struct Job {
    /// The `X-GitHub-Delivery` id, for logs.
    pub delivery_id: String,
    /// The GitHub action (`opened`, `reopened`), for logs.
    pub action: &'static str,
    /// The series' id.
    pub series_id: String,
    /// What the issue asks.
    pub request: InviteRequest,
}

/// How a join request ended.
#[derive(Debug)]
pub enum Outcome {
    /// Added to the roster, invited, answered.
    Invited(EmailSource),
    /// Already on the roster: invited again, answered.
    InvitedAgain,
    /// No usable address: asked for one on the issue.
    NeedsEmail(NoEmail),
    /// A step failed; what was done before it stays done.
    Failed(PipelineError),
}

impl Outcome {
    /// A word for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Invited(_) => "invited",
            Outcome::InvitedAgain => "invited-again",
            Outcome::NeedsEmail(NoEmail::Invalid) => "needs-email-invalid",
            Outcome::NeedsEmail(NoEmail::Missing) => "needs-email-missing",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// A step of the pipeline that failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading the profile failed.
    #[error("looking up the profile: {0}")]
    Profile(GitHubApiError),
    /// The roster could not be read or written.
    #[error("roster: {0}")]
    Roster(#[from] RosterError),
    /// The invitation could not be sent.
    #[error("sending the invitation: {0}")]
    Mail(#[from] MailError),
    /// The reply on the issue failed (the invitation was sent).
    #[error("replying on the issue: {0}")]
    Reply(GitHubApiError),
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
}

/// The steps, with everything they need.
pub struct Pipeline {
    config: Arc<Config>,
    mailer: Mailer,
    github: Client,
}

impl Pipeline {
    /// Puts the pipeline together.
    pub fn new(config: Arc<Config>, mailer: Mailer, github: Client) -> Self {
        Self {
            config,
            mailer,
            github,
        }
    }

    /// Works on one join request and logs one line with its outcome. Jobs must be handled one at
    /// a time (the server's single worker does): roster edits are read-modify-write.
    pub async fn handle(&self, job: Job) -> Outcome {
        let Some(series) = self.config.series_by_id(&job.series_id) else {
            tracing::error!(delivery = %job.delivery_id, series = %job.series_id, outcome = "failed", "join request for a series that is no longer configured");
            return Outcome::Failed(PipelineError::Task(format!(
                "series `{}` is not configured",
                job.series_id
            )));
        };
        let outcome = match self.run(series, &job.request).await {
            Ok(outcome) => outcome,
            Err(error) => Outcome::Failed(error),
        };
        let repo = series.repo.to_string();
        match &outcome {
            Outcome::Failed(error) => tracing::error!(
                delivery = %job.delivery_id, event = "issues", action = job.action, repo, issue = job.request.issue_number,
                series = %series.id, outcome = outcome.as_str(), %error, "join request failed"
            ),
            Outcome::Invited(source) => tracing::info!(
                delivery = %job.delivery_id, event = "issues", action = job.action, repo, issue = job.request.issue_number,
                series = %series.id, outcome = outcome.as_str(), email_from = source.as_str(), "join request handled"
            ),
            _ => tracing::info!(
                delivery = %job.delivery_id, event = "issues", action = job.action, repo, issue = job.request.issue_number,
                series = %series.id, outcome = outcome.as_str(), "join request handled"
            ),
        }
        outcome
    }

    async fn run(
        &self,
        series: &Series,
        request: &InviteRequest,
    ) -> Result<Outcome, PipelineError> {
        let mut profile = LazyProfile::new(&self.github, &request.login);
        let (email, source) = match &request.email {
            EmailFinding::Found(email, source) => (email.clone(), *source),
            EmailFinding::Invalid => {
                return self.ask_for_email(series, request, NoEmail::Invalid).await;
            }
            EmailFinding::Missing => match profile
                .get()
                .await?
                .email
                .as_deref()
                .and_then(request::first_email)
            {
                Some(email) => (email, EmailSource::Profile),
                None => return self.ask_for_email(series, request, NoEmail::Missing).await,
            },
        };
        let name = match &request.name {
            Some(name) => name.clone(),
            None => profile
                .get()
                .await?
                .name
                .as_deref()
                .and_then(request::clean_name)
                .unwrap_or_else(|| request.login.clone()),
        };
        let member = Member {
            github: request.login.clone(),
            name,
            email,
            added: Some(
                Timestamp::now()
                    .to_zoned(series.schedule.time_zone().clone())
                    .date(),
            ),
            via: Some(format!("{}#{}", series.repo, request.issue_number)),
        };
        let added = add_to_roster(series.roster.clone(), member).await?;
        let (member, already) = match added {
            AddOutcome::Added(member) => (member, false),
            AddOutcome::AlreadyMember(member) => (member, true),
        };
        self.send_invitation(series, &member).await?;
        let next = series.schedule.next_occurrences(Timestamp::now(), 1);
        let comment = texts::invited_comment(series, &request.login, next.first(), already);
        self.reply(
            series,
            request.issue_number,
            &comment,
            &series.reply.labels,
            series.reply.close,
        )
        .await?;
        Ok(if already {
            Outcome::InvitedAgain
        } else {
            Outcome::Invited(source)
        })
    }

    async fn ask_for_email(
        &self,
        series: &Series,
        request: &InviteRequest,
        reason: NoEmail,
    ) -> Result<Outcome, PipelineError> {
        let comment = texts::needs_email_comment(series, &request.login, reason);
        let labels: Vec<String> = series.reply.needs_email_label.iter().cloned().collect();
        self.reply(series, request.issue_number, &comment, &labels, false)
            .await?;
        Ok(Outcome::NeedsEmail(reason))
    }

    /// Builds and sends the series' invitation to one member.
    pub async fn send_invitation(
        &self,
        series: &Series,
        member: &Member,
    ) -> Result<(), PipelineError> {
        let attendee = Person {
            name: member.name.clone(),
            email: member.email.clone(),
        };
        let now = Timestamp::now();
        let ics = invitation(series, &attendee, now, Method::Request).to_ics();
        let text = texts::invite_text(
            series,
            &member.name,
            &series.schedule.next_occurrences(now, UPCOMING_IN_MAIL),
        );
        let subject = texts::invite_subject(series);
        let mail = CalendarMail {
            to: &attendee,
            subject: &subject,
            text: &text,
            ics: &ics,
            method: Method::Request,
        };
        let message = self.mailer.build(&mail)?;
        self.mailer.send(&message).await?;
        Ok(())
    }

    async fn reply(
        &self,
        series: &Series,
        issue: u64,
        comment: &str,
        labels: &[String],
        close: bool,
    ) -> Result<(), PipelineError> {
        self.github
            .comment(&series.repo, issue, comment)
            .await
            .map_err(PipelineError::Reply)?;
        self.github
            .add_labels(&series.repo, issue, labels)
            .await
            .map_err(PipelineError::Reply)?;
        if close {
            self.github
                .close(&series.repo, issue)
                .await
                .map_err(PipelineError::Reply)?;
        }
        Ok(())
    }
}

/// The series' invitation for one attendee.
pub fn invitation<'a>(
    series: &'a Series,
    attendee: &'a Person,
    dtstamp: Timestamp,
    method: Method,
) -> Invitation<'a> {
    Invitation {
        method,
        uid: &series.uid,
        sequence: 0,
        dtstamp,
        summary: &series.title,
        description: &series.description,
        location: series.location.as_deref(),
        organizer: &series.organizer,
        attendee,
        schedule: &series.schedule,
    }
}

/// Adds a member on a blocking thread (file I/O with fsync).
async fn add_to_roster(path: PathBuf, member: Member) -> Result<AddOutcome, PipelineError> {
    tokio::task::spawn_blocking(move || roster::add(&path, member))
        .await
        .map_err(|e| PipelineError::Task(e.to_string()))?
        .map_err(PipelineError::from)
}

/// The requester's profile, fetched at most once and only if needed.
struct LazyProfile<'a> {
    github: &'a Client,
    login: &'a str,
    profile: Option<crate::github::client::Profile>,
}

impl<'a> LazyProfile<'a> {
    fn new(github: &'a Client, login: &'a str) -> Self {
        Self {
            github,
            login,
            profile: None,
        }
    }

    async fn get(&mut self) -> Result<&crate::github::client::Profile, PipelineError> {
        if self.profile.is_none() {
            self.profile = Some(
                self.github
                    .profile(self.login)
                    .await
                    .map_err(PipelineError::Profile)?,
            );
        }
        Ok(self.profile.as_ref().expect("just set"))
    }
}
