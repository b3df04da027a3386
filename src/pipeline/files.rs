//! Reconciliation passes: the config and roster files against what was sent.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{Pipeline, PipelineError, ReconcileSummary, blocking};
use crate::config::Config;
use crate::core::sent::MemberStatus;
use crate::core::series::Series;
use crate::reconcile::RunReport;
use crate::roster::Roster;

impl Pipeline {
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
        // An editor that saves by truncating and then writing shows a blank file for a moment:
        // acting on it would cancel everyone. Emptying a roster on purpose leaves a comment in it.
        let loaded = blocking(move || match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => Ok(None),
            Ok(text) => Roster::parse(&text, &path).map(Some),
            Err(_) => Roster::load(&path).map(Some),
        })
        .await??;
        let Some(roster) = loaded else {
            let invited = self.store.members(&series.id)?;
            if invited.iter().any(|m| m.status == MemberStatus::Invited) {
                tracing::warn!(series = %series.id, roster = %series.roster.display(), "the roster file is blank (being written?): nothing sent; to remove everyone, leave at least a comment line in it");
            }
            return Ok(RunReport::default());
        };
        let plan = self
            .reconciler
            .plan_due(series, &roster, jiff::Timestamp::now())?;
        if plan.actions.is_empty() {
            tracing::debug!(series = %series.id, members = roster.len(), "series up to date");
        } else {
            tracing::info!(series = %series.id, members = roster.len(), counts = %plan.counts(), "reconciling");
        }
        Ok(self.reconciler.run(&plan, series.team.as_ref()).await?)
    }

    /// The config from disk if it changed and loads; else the current one.
    pub(super) fn reload_config(&mut self) -> Arc<Config> {
        let current = self.current();
        if self.seen.get(&current.path) == digest(&current.path).as_ref() {
            return current;
        }
        match Config::load(&current.path) {
            Ok(mut config) => {
                crate::github::repos::apply(&self.repositories, &mut config.series);
                warn_about_restart_only_changes(&current, &config);
                let config = Arc::new(config);
                self.published.replace(config.clone());
                tracing::info!(path = %current.path.display(), series = config.series.len(), "configuration reloaded");
                config
            }
            Err(error) => {
                tracing::error!(%error, "the configuration does not load; keeping the last good one");
                current
            }
        }
    }

    pub(super) fn remember(&mut self, path: &Path) {
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
