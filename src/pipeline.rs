//! The one place that orders the steps: join and leave requests (email and name, roster,
//! calendar messages, reply) and reconciliations (config and rosters → calendar messages). Each
//! step is a call into the module that owns it; this module decides what to do when a step says
//! no. One worker runs it, one piece of work at a time, so roster edits and sends never race.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::config::{Config, Series};
use crate::github::client::{Client, GitHubApiError, Profile};
use crate::reconcile::{ReconcileError, Reconciler, RunReport};
use crate::request::{self, EmailFinding, EmailSource, InviteRequest, LeaveRequest};
use crate::roster::{self, AddOutcome, Member, RemoveOutcome, Roster, RosterError};
use crate::texts::{self, NoEmail};

/// An accepted request, waiting to be worked on.
#[derive(Debug, Clone)]
pub struct Job {
    /// The `X-GitHub-Delivery` id, for logs.
    pub delivery_id: String,
    /// The GitHub action (`opened`, `reopened`), for logs.
    pub action: &'static str,
    /// The series' id.
    pub series_id: String,
    /// What is asked.
    pub kind: JobKind,
}

/// What a job asks.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// To join.
    Join(InviteRequest),
    /// To leave.
    Leave(LeaveRequest),
}

impl JobKind {
    fn issue_number(&self) -> u64 {
        match self {
            JobKind::Join(r) => r.issue_number,
            JobKind::Leave(r) => r.issue_number,
        }
    }
}

/// How a request ended.
#[derive(Debug)]
pub enum Outcome {
    /// Added to the roster, invited, answered.
    Invited(EmailSource),
    /// Already on the roster: invited again, answered.
    InvitedAgain,
    /// No usable address: asked for one on the issue.
    NeedsEmail(NoEmail),
    /// Removed from the roster, cancellation sent, answered.
    Left,
    /// Asked to leave but not on the roster: answered.
    NotAMember,
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
            Outcome::Left => "left",
            Outcome::NotAMember => "not-a-member",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// A step that failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading the profile failed.
    #[error("looking up the profile: {0}")]
    Profile(GitHubApiError),
    /// The roster could not be read or written.
    #[error("roster: {0}")]
    Roster(#[from] RosterError),
    /// The state store failed.
    #[error("state: {0}")]
    Reconcile(#[from] ReconcileError),
    /// The calendar message could not be sent (it is retried by the next reconciliation).
    #[error("the calendar message was not sent; it will be retried")]
    NotSent,
    /// The reply on the issue failed (the calendar message was sent).
    #[error("replying on the issue: {0}")]
    Reply(GitHubApiError),
    /// The series is no longer configured.
    #[error("series `{0}` is no longer configured")]
    NoSuchSeries(String),
    /// A blocking task panicked or was cancelled.
    #[error("internal task failed: {0}")]
    Task(String),
}

/// What a reconciliation did, for the worker's retry decision.
#[derive(Debug, Default)]
pub struct ReconcileSummary {
    /// Messages that failed and need another run.
    pub failed: usize,
    /// The files to watch from now on (config and rosters).
    pub files: Vec<PathBuf>,
}

/// The steps, with everything they need.
pub struct Pipeline {
    config: watch::Sender<Arc<Config>>,
    reconciler: Reconciler,
    github: Client,
    /// Content digests of the config and rosters at the last reconciliation.
    seen: HashMap<PathBuf, [u8; 32]>,
}

impl Pipeline {
    /// Puts the pipeline together. `config` publishes reloaded configs to the webhook.
    pub fn new(config: watch::Sender<Arc<Config>>, reconciler: Reconciler, github: Client) -> Self {
        Self {
            config,
            reconciler,
            github,
            seen: HashMap::new(),
        }
    }

    fn current(&self) -> Arc<Config> {
        self.config.borrow().clone()
    }

    /// Works on one request and logs one line with its outcome.
    pub async fn handle(&mut self, job: Job) -> Outcome {
        let config = self.current();
        let outcome = match config.series_by_id(&job.series_id) {
            None => Outcome::Failed(PipelineError::NoSuchSeries(job.series_id.clone())),
            Some(series) => {
                let result = match &job.kind {
                    JobKind::Join(request) => self.join(series, request).await,
                    JobKind::Leave(request) => self.leave(series, request).await,
                };
                result.unwrap_or_else(Outcome::Failed)
            }
        };
        log_outcome(&job, config.series_by_id(&job.series_id), &outcome);
        outcome
    }

    async fn join(
        &mut self,
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
                jiff::Zoned::now()
                    .with_time_zone(series.schedule.time_zone().clone())
                    .date(),
            ),
            via: Some(format!("{}#{}", series.repo, request.issue_number)),
        };
        let path = series.roster.clone();
        let added = blocking(move || roster::add(&path, member)).await??;
        let (member, again) = match added {
            AddOutcome::Added(member) => (member, false),
            AddOutcome::AlreadyMember(member) => (member, true),
        };
        self.bring_up_to_date(series, &member, again).await?;
        let next = series.schedule.next_occurrences(jiff::Timestamp::now(), 1);
        let comment = texts::invited_comment(series, &request.login, next.first(), again);
        self.reply(
            series,
            request.issue_number,
            &comment,
            &series.reply.labels,
            series.reply.close,
        )
        .await?;
        Ok(if again {
            Outcome::InvitedAgain
        } else {
            Outcome::Invited(source)
        })
    }

    /// Reconciles the series after the roster changed, so the member gets their invitation; a
    /// member who was up to date gets the same invitation again.
    async fn bring_up_to_date(
        &mut self,
        series: &Series,
        member: &Member,
        again: bool,
    ) -> Result<(), PipelineError> {
        let login = member.github.to_lowercase();
        let (report, acted) = self.reconcile_series(series).await?;
        if report.failed_logins.contains(&login) {
            return Err(PipelineError::NotSent);
        }
        if again && !acted.contains(&login) {
            let resent = self.reconciler.resend(series, member).await?;
            if resent.is_none_or(|r| r.failed > 0) {
                return Err(PipelineError::NotSent);
            }
        }
        Ok(())
    }

    async fn leave(
        &mut self,
        series: &Series,
        request: &LeaveRequest,
    ) -> Result<Outcome, PipelineError> {
        let path = series.roster.clone();
        let login = request.login.clone();
        let removed = blocking(move || roster::remove(&path, &login)).await??;
        if matches!(removed, RemoveOutcome::NotAMember) {
            let comment = texts::not_a_member_comment(series, &request.login);
            self.reply(
                series,
                request.issue_number,
                &comment,
                &[],
                series.reply.close,
            )
            .await?;
            return Ok(Outcome::NotAMember);
        }
        let (report, _) = self.reconcile_series(series).await?;
        if report.failed_logins.contains(&request.login.to_lowercase()) {
            return Err(PipelineError::NotSent);
        }
        let comment = texts::left_comment(series, &request.login);
        self.reply(
            series,
            request.issue_number,
            &comment,
            &[],
            series.reply.close,
        )
        .await?;
        Ok(Outcome::Left)
    }

    /// Plans and runs one series from its roster file as it is now; returns the report and the
    /// logins the plan had messages for.
    async fn reconcile_series(
        &mut self,
        series: &Series,
    ) -> Result<(RunReport, HashSet<String>), PipelineError> {
        let path = series.roster.clone();
        let roster = blocking(move || Roster::load(&path)).await??;
        self.remember(&series.roster);
        let plan = self.reconciler.plan(series, &roster)?;
        let acted = plan.actions.iter().map(|a| a.github()).collect();
        let report = self.reconciler.run(&plan, series.team.as_ref()).await?;
        Ok((report, acted))
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

    /// Brings every calendar in line with the files: reloads the config if it changed (a config
    /// that doesn't load is logged and the last good one kept), then plans and runs every series
    /// whose roster loads (a broken roster is logged and its series left alone), then cancels
    /// series that left the config. With `force` unset, nothing happens when no file changed
    /// since the last run (the bot's own roster writes don't cause a second round).
    pub async fn reconcile(&mut self, force: bool) -> ReconcileSummary {
        let mut summary = ReconcileSummary::default();
        let config = self.reload_config();
        let files = config.files();
        summary.files = files.clone();
        if !force && files.iter().all(|f| self.seen.get(f) == digest(f).as_ref()) {
            tracing::debug!("files unchanged since the last reconciliation");
            return summary;
        }
        for file in &files {
            self.remember(file);
        }
        for series in &config.series {
            match self.reconcile_configured(series).await {
                Ok(report) => summary.failed += report.failed,
                Err(error) => {
                    tracing::error!(series = %series.id, %error, "series not reconciled; its members keep what they have")
                }
            }
        }
        let configured: HashSet<&str> = config.series.iter().map(|s| s.id.as_str()).collect();
        match self.reconciler.plan_removed(&configured) {
            Ok(plans) => {
                for plan in plans {
                    tracing::info!(series = %plan.event.series_id, counts = %plan.counts(), "series removed from the config: cancelling");
                    match self.reconciler.run(&plan, None).await {
                        Ok(report) => summary.failed += report.failed,
                        Err(error) => {
                            tracing::error!(series = %plan.event.series_id, %error, "removed series not cancelled")
                        }
                    }
                }
            }
            Err(error) => tracing::error!(%error, "cannot read the state store"),
        }
        summary
    }

    async fn reconcile_configured(&mut self, series: &Series) -> Result<RunReport, PipelineError> {
        let path = series.roster.clone();
        let roster = blocking(move || Roster::load(&path)).await??;
        let plan = self.reconciler.plan(series, &roster)?;
        if plan.actions.is_empty() {
            tracing::debug!(series = %series.id, members = roster.len(), "series up to date");
        } else {
            tracing::info!(series = %series.id, members = roster.len(), counts = %plan.counts(), "reconciling");
        }
        Ok(self.reconciler.run(&plan, series.team.as_ref()).await?)
    }

    /// The config from disk if it changed and loads; else the current one.
    fn reload_config(&mut self) -> Arc<Config> {
        let current = self.current();
        if self.seen.get(&current.path) == digest(&current.path).as_ref() {
            return current;
        }
        match Config::load(&current.path) {
            Ok(config) => {
                warn_about_restart_only_changes(&current, &config);
                let config = Arc::new(config);
                self.config.send_replace(config.clone());
                tracing::info!(path = %current.path.display(), series = config.series.len(), "configuration reloaded");
                config
            }
            Err(error) => {
                tracing::error!(%error, "the configuration does not load; keeping the last good one");
                current
            }
        }
    }

    fn remember(&mut self, path: &Path) {
        if let Some(digest) = digest(path) {
            self.seen.insert(path.to_path_buf(), digest);
        }
    }
}

/// Settings that only take effect at start-up.
fn warn_about_restart_only_changes(old: &Config, new: &Config) {
    let changed = old.server.listen != new.server.listen
        || old.data_dir != new.data_dir
        || old.github.api_url != new.github.api_url
        || old.mail.from != new.mail.from
        || format!("{:?}", old.mail.transport) != format!("{:?}", new.mail.transport);
    if changed {
        tracing::warn!(
            "[server], [github], [mail] and [storage] changes take effect at the next restart"
        );
    }
}

/// The SHA-256 of a file's content, if it can be read.
fn digest(path: &Path) -> Option<[u8; 32]> {
    std::fs::read(path)
        .ok()
        .map(|bytes| Sha256::digest(&bytes).into())
}

fn log_outcome(job: &Job, series: Option<&Series>, outcome: &Outcome) {
    let repo = series.map(|s| s.repo.to_string()).unwrap_or_default();
    let (delivery, action, issue, series_id) = (
        &job.delivery_id,
        job.action,
        job.kind.issue_number(),
        &job.series_id,
    );
    match outcome {
        Outcome::Failed(error) => tracing::error!(
            delivery = %delivery, event = "issues", action, repo, issue, series = %series_id,
            outcome = outcome.as_str(), %error, "request failed"
        ),
        Outcome::Invited(source) => tracing::info!(
            delivery = %delivery, event = "issues", action, repo, issue, series = %series_id,
            outcome = outcome.as_str(), email_from = source.as_str(), "request handled"
        ),
        _ => tracing::info!(
            delivery = %delivery, event = "issues", action, repo, issue, series = %series_id,
            outcome = outcome.as_str(), "request handled"
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

/// The requester's profile, fetched at most once and only if needed.
struct LazyProfile<'a> {
    github: &'a Client,
    login: &'a str,
    profile: Option<Profile>,
}

impl<'a> LazyProfile<'a> {
    fn new(github: &'a Client, login: &'a str) -> Self {
        Self {
            github,
            login,
            profile: None,
        }
    }

    async fn get(&mut self) -> Result<&Profile, PipelineError> {
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
