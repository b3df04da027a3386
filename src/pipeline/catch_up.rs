//! Catch-up: GitHub does not resend what arrived while the bot was down, so the bot lists the
//! open issues of each series' repository updated since its last look and handles the join and
//! leave requests it has not handled, exactly as if their webhook had arrived.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};

use super::{Pipeline, PipelineError};

use crate::core::command::{self, CommandRequest};
use crate::core::identity::{Login, RepoName};
use crate::core::job::{IssueState, JobKind};
use crate::core::request::{Triage, triage};
use crate::core::webhook_event::{IssueAction, IssuesEvent, Repository};
use crate::store::NewJob;

/// How much the windows of two catch-ups overlap, for clock skew and GitHub's indexing delay.
const OVERLAP: SignedDuration = SignedDuration::from_mins(5);

/// The prefix of every comment marker of the bot.
const MARKER_PREFIX: &str = "<!-- invitebot:";

impl Pipeline {
    /// Looks at every series repository once; returns how many requests it queued.
    pub async fn catch_up(&mut self) -> usize {
        let config = self.current();
        let mut repos: Vec<RepoName> = Vec::new();
        // Under the name GitHub gives the repository now (it may have been renamed).
        for series in &config.series {
            if !repos.contains(series.current_repo()) {
                repos.push(series.current_repo().clone());
            }
        }
        let mut queued = 0;
        for repo in repos {
            match self.catch_up_repo(&repo, config.github.catch_up_days).await {
                Ok(n) => queued += n,
                Err(error) => {
                    tracing::warn!(repo = %repo, %error, "catch-up failed; it runs again later")
                }
            }
        }
        queued
    }

    async fn catch_up_repo(&mut self, repo: &RepoName, days: u32) -> Result<usize, PipelineError> {
        let started = Timestamp::now();
        let since = match self.store.catch_up_position(&repo.to_string())? {
            Some(position) => position,
            None => started - SignedDuration::from_hours(24 * i64::from(days)),
        };
        let issues = self
            .github
            .open_issues_since(repo, since)
            .await
            .map_err(PipelineError::CatchUp)?;
        let config = self.current();
        let mut queued = 0;
        let mut seen = HashSet::new();
        for listed in issues {
            if !seen.insert(listed.number)
                || self.store.has_job_for(&repo.to_string(), listed.number)?
            {
                continue;
            }
            if self
                .store
                .issue_state(&repo.to_string(), listed.number)?
                .is_some()
            {
                continue;
            }
            let event = IssuesEvent {
                action: IssueAction::Opened,
                repository: Repository {
                    id: config
                        .series
                        .iter()
                        .find(|s| s.current_repo() == repo)
                        .and_then(|s| s.github_repo.as_ref().map(|r| r.id)),
                    full_name: repo.to_string(),
                },
                sender: listed.user.clone(),
                installation_id: None,
                label: None,
                issue: crate::core::webhook_event::Issue {
                    number: listed.number,
                    title: listed.title,
                    body: listed.body,
                    user: listed.user,
                    labels: listed.labels,
                },
            };
            let (series, kind) = match triage(&config.series, &event) {
                Triage::JoinRequest(series, request) => (series, JobKind::Join(request)),
                Triage::LeaveRequest(series, request) => (series, JobKind::Leave(request)),
                Triage::FromBot | Triage::NotAJoinRequest => continue,
            };
            if self
                .github
                .has_comment_containing(repo, listed.number, MARKER_PREFIX)
                .await
                .map_err(PipelineError::CatchUp)?
            {
                self.store.mark_issue_handled(
                    &repo.to_string(),
                    listed.number,
                    &series.id,
                    IssueState::Answered,
                )?;
                continue;
            }
            let delivery = format!("catch-up:{repo}#{}", listed.number);
            let added = self.store.add_job(&NewJob {
                delivery_id: &delivery,
                action: "catch-up",
                series_id: &series.id,
                repo: &repo.to_string(),
                issue: listed.number,
                kind: &kind,
                once_per_issue: true,
                body: None,
            })?;
            if added.is_none() {
                // A webhook for it was accepted while we looked at its comments.
                continue;
            }
            tracing::info!(repo = %repo, issue = listed.number, series = %series.id, "catch-up: queued a request that arrived while the bot was away");
            queued += 1;
        }
        queued += self.catch_up_commands(repo, since).await?;
        self.store
            .set_catch_up_position(&repo.to_string(), started - OVERLAP)?;
        Ok(queued)
    }

    /// Queues the maintainers' commands in the repository's comments since `since` that were
    /// never accepted (a comment's command runs once: its id is kept with the job).
    async fn catch_up_commands(
        &mut self,
        repo: &RepoName,
        since: Timestamp,
    ) -> Result<usize, PipelineError> {
        let comments = self
            .github
            .issue_comments_since(repo, since)
            .await
            .map_err(PipelineError::CatchUp)?;
        let config = self.current();
        let on_repository: Vec<&str> = config
            .series
            .iter()
            .filter(|s| s.current_repo() == repo)
            .map(|s| s.id.as_str())
            .collect();
        let Some(first) = on_repository.first() else {
            return Ok(0);
        };
        let mut queued = 0;
        for listed in comments {
            let (Some(line), Some(issue)) = (
                command::command_line(listed.body.as_deref().unwrap_or("")),
                listed.issue_number(),
            ) else {
                continue;
            };
            if listed.user.is_bot() {
                continue;
            }
            let series_id = command::parse(line, &on_repository)
                .series
                .unwrap_or_else(|| first.to_string());
            let kind = JobKind::Command(CommandRequest {
                comment_id: listed.id,
                issue_number: issue,
                author: Login::new(&listed.user.login),
                line: line.to_string(),
            });
            let delivery = format!("catch-up:{repo}#{issue}:comment:{}", listed.id);
            let added = self.store.add_job(&NewJob {
                delivery_id: &delivery,
                action: "catch-up",
                series_id: &series_id,
                repo: &repo.to_string(),
                issue,
                kind: &kind,
                once_per_issue: false,
                body: None,
            })?;
            if added.is_some() {
                tracing::info!(repo = %repo, issue, series = %series_id, "catch-up: queued a command given while the bot was away");
                queued += 1;
            }
        }
        Ok(queued)
    }
}
