//! The one place that orders the steps: join and leave requests (email and name, roster,
//! calendar messages, replies), the outbox of replies, catch-up, and reconciliations (config and
//! rosters → calendar messages). Each step is a call into the module that owns it; this module
//! decides what to do when a step says no: try again later (with backoff), or give up and keep
//! the reason. One worker runs it, one piece of work at a time, so roster edits and sends never
//! race.
//!
//! Every request is a job row in the store before the webhook answers. A job finishes only when
//! its calendar message was accepted; finishing enqueues its replies (comment, labels, close) in
//! the same transaction, and the outbox sends each once (a comment is first looked for on the
//! issue by its hidden key, so a crash between GitHub's answer and the commit can't post it
//! twice).

mod catch_up;
mod commands;
mod files;
mod guard;
mod outbox;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::Config;

use crate::core::identity::{Login, RepoName};
use crate::core::job::{JobKind, Outcome, Progress};
use crate::core::member::Member;
use crate::core::reply::Reply;
use crate::core::request::{self, EmailFinding, EmailSource, InviteRequest};
use crate::core::series::{Series, SeriesList};
use crate::core::texts::{self, NoEmail};
use crate::github::client::{Client, Profile};
use crate::github::error::GitHubApiError;
use crate::github::repos::RepoLookup;
use crate::links::LinkMaker;
use crate::reconcile::{MemberSync, ReconcileError, Reconciler, RunReport};
use crate::roster::{self, AddOutcome, RemoveOutcome, Roster, RosterError};
use crate::store::{JobRecord, JobRequest, NewReply, Store, StoreError, StoredJob, UnreadableWork};

/// What a join request has been cleared of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clearance {
    /// Nothing yet: limits apply, and confirmation if the series asks for it.
    None,
    /// A maintainer approved it: limits don't apply.
    Approved,
    /// The requester confirmed the address (the limits were passed before the mail was sent).
    Confirmed,
}

/// A step that failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading the profile failed.
    #[error("looking up the profile: {0}")]
    Profile(GitHubApiError),
    /// Checking the approver's permission failed.
    #[error("checking who approved the request: {0}")]
    Approval(GitHubApiError),
    /// Listing the repository's issues and comments for catch-up failed.
    #[error("listing the repository's issues and comments: {0}")]
    CatchUp(GitHubApiError),
    /// A mail to the requester (confirmation) was refused for good.
    #[error("the mail server refused the confirmation mail for good: {0}")]
    NoticeRejected(String),
    /// A link is needed but `[server] public_url` is not set.
    #[error("the series asks for confirmation but [server] public_url is not set")]
    NoPublicUrl,
    /// The roster could not be read or written.
    #[error("roster: {0}")]
    Roster(#[from] RosterError),
    /// The state store failed.
    #[error("state: {0}")]
    Reconcile(#[from] ReconcileError),
    /// The state store failed.
    #[error("state: {0}")]
    Store(#[from] StoreError),
    /// The calendar message was not accepted yet.
    #[error("the calendar message was not accepted by the mail server yet")]
    NotSent,
    /// The mail server refused the address for good.
    #[error("the mail server refused the calendar message for good (see `invitebot status`)")]
    MailRejected,
    /// The stored request can't be used.
    #[error("the stored request is unreadable: {0}")]
    BadRequest(String),
    /// The requester was forgotten (`invitebot roster forget`): their request is gone.
    #[error("the requester's data was erased (invitebot roster forget)")]
    Erased,
    /// The series is no longer configured.
    #[error("series `{0}` is no longer configured")]
    NoSuchSeries(String),
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
}

impl PipelineError {
    /// Whether trying again can't help.
    fn is_permanent(&self) -> bool {
        match self {
            PipelineError::MailRejected
            | PipelineError::NoticeRejected(_)
            | PipelineError::NoPublicUrl
            | PipelineError::BadRequest(_)
            | PipelineError::Erased
            | PipelineError::NoSuchSeries(_) => true,
            PipelineError::Profile(e) | PipelineError::Approval(e) | PipelineError::CatchUp(e) => {
                e.is_permanent()
            }
            _ => false,
        }
    }

    /// How long the other side asked us to wait.
    fn asked_wait(&self) -> Option<Duration> {
        match self {
            PipelineError::Profile(e) | PipelineError::Approval(e) | PipelineError::CatchUp(e) => {
                e.retry_after()
            }
            _ => None,
        }
    }
}

/// What a reconciliation did, for the worker.
#[derive(Debug, Default)]
pub struct ReconcileSummary {
    /// Messages that failed and wait for a retry.
    pub failed: usize,
    /// The files to watch from now on (config and rosters).
    pub files: Vec<PathBuf>,
}

/// Where a reloaded config is published: whole, for the pipeline's own later reads, and as its
/// series list, which the edges (webhook, link pages) read.
pub struct Published {
    /// The whole config.
    pub config: watch::Sender<Arc<Config>>,
    /// Its series.
    pub series: watch::Sender<SeriesList>,
}

impl Published {
    /// Publishes `config` to every reader.
    fn replace(&self, config: Arc<Config>) {
        self.series.send_replace(Arc::new(config.series.clone()));
        self.config.send_replace(config);
    }
}

/// The steps, with everything they need.
pub struct Pipeline {
    published: Published,
    store: Arc<Store>,
    reconciler: Reconciler,
    github: Client,
    links: LinkMaker,
    /// Content digests of the config and rosters at the last reconciliation.
    seen: HashMap<PathBuf, [u8; 32]>,
    /// What GitHub said about the configured repositories at start (given to reloaded configs).
    repositories: Vec<RepoLookup>,
}

impl Pipeline {
    /// Puts the pipeline together. `published` carries reloaded configs to the edges.
    pub fn new(
        published: Published,
        store: Arc<Store>,
        reconciler: Reconciler,
        github: Client,
        links: LinkMaker,
    ) -> Self {
        Self {
            published,
            store,
            reconciler,
            github,
            links,
            seen: HashMap::new(),
            repositories: Vec::new(),
        }
    }

    /// Keeps what GitHub said about the configured repositories at start, so a reloaded
    /// config's series keep their repositories' ids.
    pub fn knowing_repositories(mut self, repositories: Vec<RepoLookup>) -> Self {
        self.repositories = repositories;
        self
    }

    fn current(&self) -> Arc<Config> {
        self.published.config.borrow().clone()
    }

    /// Works on the next due job, if any: finishes it (with its replies), schedules a retry, or
    /// gives it up. Logs one line with the result. Returns whether there was a job.
    /// A job whose stored values can't be read is given up (it never could run).
    pub async fn process_next_job(&mut self) -> Result<bool, StoreError> {
        let job = match self.store.next_due_job(jiff::Timestamp::now()) {
            Ok(Some(job)) => job,
            Ok(None) => return Ok(false),
            Err(error) => return self.give_up_unreadable(error),
        };
        let result = self.run_job(&job).await;
        self.settle_job(&job.record, result)?;
        Ok(true)
    }

    /// Gives up the job or reply whose stored values `error` says are unreadable (it never
    /// could run), keeping the error as the reason; any other error is returned.
    fn give_up_unreadable(&self, error: StoreError) -> Result<bool, StoreError> {
        let Some(work) = error.unreadable_work() else {
            return Err(error);
        };
        tracing::error!(?work, %error, "given up: its stored values are unreadable");
        self.store.give_up(work, &error.to_string())?;
        if let UnreadableWork::Job(_) = work {
            crate::telemetry::job("failed");
        }
        Ok(true)
    }

    async fn run_job(
        &mut self,
        stored: &StoredJob,
    ) -> Result<(Outcome, Vec<Reply>), PipelineError> {
        let JobRequest::Kind(kind) = &stored.request else {
            return Err(PipelineError::Erased);
        };
        let (job, progress) = (&stored.record, stored.progress);
        let config = self.current();
        let series = config
            .series_by_id(&job.series_id)
            .ok_or_else(|| PipelineError::NoSuchSeries(job.series_id.clone()))?;
        match kind {
            JobKind::Join(request) => {
                self.join(job, series, request, progress, Clearance::None)
                    .await
            }
            JobKind::Confirmed(request) => {
                self.join(job, series, request, progress, Clearance::Confirmed)
                    .await
            }
            JobKind::Approved {
                request,
                maintainer,
            } => {
                self.approved(job, series, request, maintainer, progress)
                    .await
            }
            JobKind::Leave(request) => {
                self.leave(job.id, series, &request.login, true, progress)
                    .await
            }
            JobKind::LeaveByLink { login } => {
                self.leave(job.id, series, login, false, progress).await
            }
            JobKind::Command(request) => self.command(job, series, request, progress).await,
        }
    }

    fn settle_job(
        &self,
        job: &JobRecord,
        result: Result<(Outcome, Vec<Reply>), PipelineError>,
    ) -> Result<(), StoreError> {
        let context = (
            job.delivery_id.as_str(),
            job.action.as_str(),
            job.repo.as_str(),
            job.issue,
            job.series_id.as_str(),
        );
        match result {
            Ok((outcome, replies)) => {
                let rows: Vec<NewReply<'_>> = replies
                    .iter()
                    .enumerate()
                    .map(|(i, reply)| {
                        outbox::outbox_row(
                            reply,
                            &format!("job:{}:{i}", job.id),
                            &job.repo,
                            job.issue,
                        )
                    })
                    .collect();
                self.store.finish_job(job, &outcome, &rows)?;
                crate::telemetry::job(outcome.as_str());
                log_job(context, outcome.as_str(), None);
            }
            Err(error) => {
                let now = jiff::Timestamp::now();
                let next = (!error.is_permanent())
                    .then(|| {
                        crate::core::retry::next_attempt(
                            job.state.attempts + 1,
                            error.asked_wait(),
                            job.state.created_at,
                            now,
                        )
                    })
                    .flatten();
                match next {
                    Some(at) => {
                        self.store.retry_job(job.id, at, &error.to_string())?;
                        crate::telemetry::retry();
                        log_job(
                            context,
                            "retry",
                            Some(&format!("{error}; next attempt at {at}")),
                        );
                    }
                    None => {
                        self.store.fail_job(job.id, &error.to_string())?;
                        crate::telemetry::job("failed");
                        log_job(context, "failed", Some(&error.to_string()));
                    }
                }
            }
        }
        Ok(())
    }

    async fn join(
        &mut self,
        job: &JobRecord,
        series: &Series,
        request: &InviteRequest,
        progress: Progress,
        clearance: Clearance,
    ) -> Result<(Outcome, Vec<Reply>), PipelineError> {
        let job_id = job.id;
        let github = self.github.clone();
        let mut profile = LazyProfile::new(&github, &request.login);
        let (email, source) = match &request.email {
            EmailFinding::Found(email, source) => (email.clone(), *source),
            EmailFinding::Invalid => {
                return Ok(self.ask_for_email(job, series, request, NoEmail::Invalid));
            }
            EmailFinding::Unsupported => {
                return Ok(self.ask_for_email(job, series, request, NoEmail::Unsupported));
            }
            EmailFinding::Missing => match profile
                .get()
                .await?
                .email
                .as_deref()
                .and_then(request::first_email)
            {
                Some(email) => (email, EmailSource::Profile),
                None => return Ok(self.ask_for_email(job, series, request, NoEmail::Missing)),
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
                .unwrap_or_else(|| request.login.to_string()),
        };
        if progress.added.is_none() {
            let candidate = guard::Candidate {
                request,
                email: &email,
                source,
                name: &name,
            };
            if let Some(step) = self
                .guard(job, series, &candidate, &mut profile, progress, clearance)
                .await?
            {
                return Ok(step);
            }
        }
        let member = Member {
            github: request.login.clone(),
            name,
            email,
            added: Some(
                jiff::Zoned::now()
                    .with_time_zone(series.schedule.time_zone().clone())
                    .date(),
            ),
            via: Some(format!("{}#{}", series.repo, request.issue_number)),
        };
        let path = series.roster.clone();
        let (member, again) = match blocking(move || roster::add(&path, member)).await?? {
            AddOutcome::Added(member) => (member, progress.added == Some(false)),
            AddOutcome::AlreadyMember(member) => (member, progress.added != Some(true)),
        };
        if progress.added.is_none() {
            self.save_progress(
                job_id,
                Progress {
                    added: Some(!again),
                    ..progress
                },
            )?;
        }
        self.bring_up_to_date(series, &member, again).await?;
        let next = series.schedule.next_occurrences(jiff::Timestamp::now(), 1);
        let comment = texts::invited_comment(series, request.login.as_str(), next.first(), again);
        let outcome = if again {
            Outcome::InvitedAgain
        } else {
            Outcome::Invited(source)
        };
        Ok((
            outcome,
            replies(comment, &series.reply.labels, series.reply.close),
        ))
    }

    /// Reconciles the series after the roster changed, so the member gets their invitation; a
    /// member who was up to date gets the same invitation again.
    async fn bring_up_to_date(
        &mut self,
        series: &Series,
        member: &Member,
        again: bool,
    ) -> Result<(), PipelineError> {
        let login = &member.github;
        let (report, acted) = self.reconcile_series(series).await?;
        check_sent(&report, login)?;
        let state = self
            .reconciler
            .member_sync(series, login, Some(&member.email))?;
        match state {
            MemberSync::Refused => return Err(PipelineError::MailRejected),
            MemberSync::Invited(email) if email.same_mailbox(&member.email) => {}
            // Their message waits for its retry (on the mail failure's schedule, shared with the
            // reconciliation passes): this request waits too.
            _ => return Err(PipelineError::NotSent),
        }
        if again && !acted.contains(login) {
            match self.reconciler.resend(series, member).await? {
                Some(report) => check_sent(&report, login)?,
                None => return Err(PipelineError::NotSent),
            }
        }
        Ok(())
    }

    /// Removes `login` from the series; `on_issue`: the request came from an issue, which gets
    /// the replies (a leave link has no issue to answer on).
    async fn leave(
        &mut self,
        job_id: i64,
        series: &Series,
        login: &Login,
        on_issue: bool,
        progress: Progress,
    ) -> Result<(Outcome, Vec<Reply>), PipelineError> {
        let reply = |comment: String| {
            if on_issue {
                replies(comment, &[], series.reply.close)
            } else {
                Vec::new()
            }
        };
        let removed = match progress.removed {
            Some(removed) => removed,
            None => {
                let path = series.roster.clone();
                let login = login.to_string();
                let removed = matches!(
                    blocking(move || roster::remove(&path, &login)).await??,
                    RemoveOutcome::Removed(_)
                );
                self.save_progress(
                    job_id,
                    Progress {
                        removed: Some(removed),
                        ..progress
                    },
                )?;
                removed
            }
        };
        if !removed {
            let comment = texts::not_a_member_comment(series, login.as_str());
            return Ok((Outcome::NotAMember, reply(comment)));
        }
        let (report, _) = self.reconcile_series(series).await?;
        check_sent(&report, login)?;
        match self.reconciler.member_sync(series, login, None)? {
            MemberSync::Cancelled | MemberSync::Unknown => {}
            MemberSync::Refused => return Err(PipelineError::MailRejected),
            MemberSync::Invited(_) | MemberSync::Pending => return Err(PipelineError::NotSent),
        }
        let comment = texts::left_comment(series, login.as_str());
        Ok((Outcome::Left, reply(comment)))
    }

    /// Whether `login` maintains the job's repository (write, maintain or admin access), as
    /// GitHub's collaborator permission API says.
    async fn maintains(&self, job: &JobRecord, login: &Login) -> Result<bool, PipelineError> {
        let repo = RepoName::parse(&job.repo)
            .ok_or_else(|| PipelineError::BadRequest(format!("repository {:?}", job.repo)))?;
        self.github
            .is_maintainer(&repo, login.as_str())
            .await
            .map_err(PipelineError::Approval)
    }

    fn save_progress(&self, job_id: i64, progress: Progress) -> Result<(), PipelineError> {
        Ok(self.store.save_job_progress(job_id, &progress)?)
    }

    /// Plans and runs one series from its roster file as it is now; returns the report and the
    /// logins the plan had messages for.
    async fn reconcile_series(
        &mut self,
        series: &Series,
    ) -> Result<(RunReport, HashSet<Login>), PipelineError> {
        let path = series.roster.clone();
        let roster = blocking(move || Roster::load(&path)).await??;
        self.remember(&series.roster);
        // Members whose last message failed are retried on that failure's schedule only.
        let plan = self
            .reconciler
            .plan_due(series, &roster, jiff::Timestamp::now())?;
        let acted = plan.actions.iter().map(|a| a.github().clone()).collect();
        let report = self.reconciler.run(&plan, series.team.as_ref()).await?;
        Ok((report, acted))
    }
}

/// Whether the member's message went out (or why not).
fn check_sent(report: &RunReport, login: &Login) -> Result<(), PipelineError> {
    if report.rejected_logins.iter().any(|l| l == login) {
        return Err(PipelineError::MailRejected);
    }
    if report.failed_logins.iter().any(|l| l == login) {
        return Err(PipelineError::NotSent);
    }
    Ok(())
}

/// The replies of a handled request: the comment, then labels and closing as configured.
fn replies(comment: String, labels: &[String], close: bool) -> Vec<Reply> {
    let mut replies = vec![Reply::Comment { body: comment }];
    if !labels.is_empty() {
        replies.push(Reply::Labels {
            labels: labels.to_vec(),
        });
    }
    if close {
        replies.push(Reply::Close);
    }
    replies
}

/// One line per job attempt: delivery, event, action, repository, issue, series and result.
fn log_job(
    (delivery, action, repo, issue, series): (&str, &str, &str, u64, &str),
    outcome: &str,
    error: Option<&str>,
) {
    match error {
        None => tracing::info!(
            delivery,
            event = "issues",
            action,
            repo,
            issue,
            series,
            outcome,
            "request handled"
        ),
        Some(error) if outcome == "failed" => {
            tracing::error!(
                delivery,
                event = "issues",
                action,
                repo,
                issue,
                series,
                outcome,
                error,
                "request failed for good"
            )
        }
        Some(error) => tracing::warn!(
            delivery,
            event = "issues",
            action,
            repo,
            issue,
            series,
            outcome,
            error,
            "request will be retried"
        ),
    }
}

/// Runs file I/O (with fsync) on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PipelineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PipelineError::Task(e.to_string()))
}

/// The requester's profile, fetched at most once and only if needed. A user GitHub doesn't
/// know (404) has an empty profile.
struct LazyProfile<'a> {
    github: &'a Client,
    login: &'a Login,
    profile: Option<Profile>,
}

impl<'a> LazyProfile<'a> {
    fn new(github: &'a Client, login: &'a Login) -> Self {
        Self {
            github,
            login,
            profile: None,
        }
    }

    async fn get(&mut self) -> Result<&Profile, PipelineError> {
        if self.profile.is_none() {
            let profile = match self.github.profile(self.login.as_str()).await {
                Ok(profile) => profile,
                Err(error) if error.is_not_found() => Profile::default(),
                Err(error) => return Err(PipelineError::Profile(error)),
            };
            self.profile = Some(profile);
        }
        Ok(self.profile.as_ref().expect("just set"))
    }
}
