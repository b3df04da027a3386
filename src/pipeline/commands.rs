//! Maintainers' commands from issue comments (`/invitebot skip 2026-12-28`): who may give them
//! (write, maintain or admin on the repository, asked of GitHub as for the approval label), and
//! what each does. The files stay the source of truth: skip and move write a
//! `[[series.exception]]` into the config file, remove edits the roster; then the series is
//! reconciled, which sends what the edit implies. Every command ends with one reply.

use jiff::Timestamp;

use super::{Pipeline, PipelineError, blocking};
use crate::config::ProcessEnv;
use crate::config::edit::{ConfigEditError, add_exception};
use crate::core::calendar::{Change, Exception};
use crate::core::command::{self, Command, CommandRequest};
use crate::core::identity::Login;
use crate::core::job::{Outcome, Progress};
use crate::core::reply::Reply;
use crate::core::series::Series;
use crate::core::texts::{self, SeriesStatus};
use crate::roster::Roster;
use crate::store::JobRecord;

/// How many meetings `status` lists per series.
const STATUS_MEETINGS: usize = 3;

impl Pipeline {
    /// Runs a command from an issue comment, once its author is known to maintain the
    /// repository; anyone else gets a polite refusal and nothing changes.
    pub(super) async fn command(
        &mut self,
        job: &JobRecord,
        series: &Series,
        request: &CommandRequest,
        progress: Progress,
    ) -> Result<(Outcome, Vec<Reply>), PipelineError> {
        let author = &request.author;
        if !self.maintains(job, author).await? {
            tracing::warn!(series = %series.id, issue = job.issue, user = %author, "command from someone without write access: refused");
            return Ok((
                Outcome::CommandRefused,
                comment(texts::command_refused(series, author)),
            ));
        }
        let siblings = self.series_sharing_repository(series);
        let ids: Vec<&str> = siblings.iter().map(|s| s.id.as_str()).collect();
        let parsed = command::parse(&request.line, &ids);
        let command = match parsed.command {
            Ok(command) => command,
            Err(why) => return Ok(done(texts::command_not_done(series, author, &why))),
        };
        let needs_series = !matches!(command, Command::Status | Command::Help);
        if needs_series && parsed.series.is_none() && siblings.len() > 1 {
            let why = format!(
                "several series share this repository, so name one (`/invitebot {} {} ...`)",
                command.name(),
                ids.join("|")
            );
            return Ok(done(texts::command_not_done(series, author, &why)));
        }
        tracing::info!(series = %series.id, issue = job.issue, command = command.name(), asked_by = %author, "command from a maintainer");
        let body = match command {
            Command::Skip { date, note } => {
                let exception = Exception {
                    date,
                    change: Change::Cancelled,
                    note,
                };
                self.change_meeting(job, series, exception, author, progress)
                    .await?
            }
            Command::Move { date, to, note } => {
                let exception = Exception {
                    date,
                    change: Change::Moved { to },
                    note,
                };
                self.change_meeting(job, series, exception, author, progress)
                    .await?
            }
            Command::Remove(login) => self.remove_member(job, series, &login, progress).await?,
            Command::Resend(login) => self.resend_invitation(series, &login).await?,
            Command::Status => self.status(&siblings).await?,
            Command::Help => texts::command_help(series),
        };
        Ok(done(body))
    }

    /// The configured series on the same repository as `series` (itself included), in config
    /// order.
    fn series_sharing_repository(&self, series: &Series) -> Vec<Series> {
        self.current()
            .series
            .iter()
            .filter(|s| s.repo == series.repo)
            .cloned()
            .collect()
    }

    /// Writes the exception into the config file (once: a retry knows it is written), reloads
    /// the config and reconciles the series, which sends every member the update.
    async fn change_meeting(
        &mut self,
        job: &JobRecord,
        series: &Series,
        exception: Exception,
        author: &Login,
        progress: Progress,
    ) -> Result<String, PipelineError> {
        let date = exception.date;
        if progress.written.is_none() {
            let path = self.current().path.clone();
            let (series_id, asked_by) = (series.id.clone(), asked_by(author, job));
            let edit = blocking(move || {
                add_exception(&path, &series_id, &exception, &asked_by, &ProcessEnv)
            })
            .await?;
            match edit {
                Ok(_) => {
                    tracing::info!(series = %series.id, issue = job.issue, date = %date, asked_by = %author, "config changed by command: [[series.exception]] added");
                    self.save_progress(
                        job.id,
                        Progress {
                            written: Some(true),
                            ..progress
                        },
                    )?;
                }
                Err(ConfigEditError::Write(error)) => {
                    tracing::error!(series = %series.id, issue = job.issue, %error, "command not carried out: the config file can't be written (mounted read-only?)");
                    let why = "I can't write the config file here (it may be mounted read-only); whoever runs the bot can find the reason in its log";
                    return Ok(texts::command_not_done(series, author, why));
                }
                Err(error) => {
                    tracing::warn!(series = %series.id, issue = job.issue, %error, "command not carried out");
                    return Ok(texts::command_not_done(
                        series,
                        author,
                        &error_for_reply(&error),
                    ));
                }
            }
        }
        let config = self.reload_config();
        self.remember(&config.path);
        let series = config
            .series_by_id(&series.id)
            .ok_or_else(|| PipelineError::NoSuchSeries(series.id.clone()))?;
        let (report, _) = self.reconcile_series(series).await?;
        let sent = report.sent.invites + report.sent.updates + report.sent.cancels;
        let meeting = series
            .schedule
            .meetings(Timestamp::MIN)
            .find(|m| m.date == date);
        Ok(texts::meeting_changed(
            series,
            meeting.as_ref(),
            sent,
            report.failed,
        ))
    }

    /// Takes `login` off the roster; the cancellation follows (as when they leave by issue).
    async fn remove_member(
        &mut self,
        job: &JobRecord,
        series: &Series,
        login: &Login,
        progress: Progress,
    ) -> Result<String, PipelineError> {
        let (outcome, _) = self.leave(job.id, series, login, false, progress).await?;
        Ok(match outcome {
            Outcome::Left => {
                tracing::info!(series = %series.id, issue = job.issue, member = %login, "roster changed by command: member removed");
                texts::member_removed(series, login)
            }
            _ => texts::not_on_roster(series, login),
        })
    }

    /// Sends the member's current invitation again.
    async fn resend_invitation(
        &mut self,
        series: &Series,
        login: &Login,
    ) -> Result<String, PipelineError> {
        let path = series.roster.clone();
        let roster = blocking(move || Roster::load(&path)).await??;
        let Some(member) = roster.find_login(login.as_str()).cloned() else {
            return Ok(texts::not_on_roster(series, login));
        };
        self.bring_up_to_date(series, &member, true).await?;
        Ok(texts::invitation_resent(series, &member.github))
    }

    /// How each series stands: next meetings, members, what is waiting or failed.
    async fn status(&self, all: &[Series]) -> Result<String, PipelineError> {
        let now = Timestamp::now();
        // The command's own job is among the pending ones.
        let requests_waiting = self.store.depth()?.jobs.saturating_sub(1) as usize;
        let mut statuses = Vec::new();
        for series in all {
            let path = series.roster.clone();
            let roster = blocking(move || Roster::load(&path)).await?.ok();
            let pending = match &roster {
                Some(roster) => self.reconciler.plan(series, roster)?.counts(),
                None => Default::default(),
            };
            let failures = self.store.mail_failures(Some(&series.id))?;
            let refused = failures.iter().filter(|f| f.permanent).count();
            statuses.push(SeriesStatus {
                series,
                next: series.schedule.next_meetings(now, STATUS_MEETINGS),
                members: roster.as_ref().map(Roster::len),
                pending,
                mail_waiting: failures.len() - refused,
                mail_refused: refused,
                requests_waiting,
            });
        }
        Ok(texts::status_reply(&statuses))
    }
}

/// Who asked, for the comment above the config change: `@login in owner/repo#12`.
fn asked_by(author: &Login, job: &JobRecord) -> String {
    format!("@{author} in {}#{}", job.repo, job.issue)
}

/// What went wrong, for a public comment: the reason without the file's path.
fn error_for_reply(error: &ConfigEditError) -> String {
    match error {
        ConfigEditError::Invalid(error) => error.message.trim_end_matches('.').to_string(),
        ConfigEditError::NoSuchSeries { series, .. } => format!("there is no series `{series}`"),
        other => other.to_string(),
    }
}

/// A reply that is only a comment.
fn comment(body: String) -> Vec<Reply> {
    vec![Reply::Comment { body }]
}

/// A command carried out (or answered why not), with its one comment.
fn done(body: String) -> (Outcome, Vec<Reply>) {
    (Outcome::CommandDone, comment(body))
}
