//! `invitebot status`: what is waiting or failed, and the last deliveries. Never shows an
//! address.

use anyhow::Context;

use invitebot::config::Config;
use invitebot::core::job::Hold;
use invitebot::store::{
    HeldRequest, JobRecord, MailFailure, ReplyRecord, Store, WorkState, WorkStatus,
};

/// Prints the open jobs, the open replies on issues, the calendar mail waiting or refused and
/// the `deliveries` most recent deliveries.
pub fn run(config: &Config, deliveries: usize) -> anyhow::Result<()> {
    let Some(store) = Store::open_existing(&config.data_dir).context("reading the state store")?
    else {
        println!(
            "no state store in {} yet: the server has not run",
            config.data_dir.display()
        );
        return Ok(());
    };
    println!("state store: {}", store.path().display());
    print_jobs(&store.open_jobs()?);
    print_held(&store.held_requests()?);
    print_replies(&store.open_replies()?);
    print_mail_failures(&store.mail_failures(None)?);
    print_deliveries(&store, deliveries)?;
    Ok(())
}

/// `<what>: N pending, M failed`, after a blank line.
fn print_open_counts(what: &str, statuses: impl Iterator<Item = WorkStatus> + Clone) {
    let count = |wanted: WorkStatus| statuses.clone().filter(|&s| s == wanted).count();
    println!(
        "\n{what}: {} pending, {} failed",
        count(WorkStatus::Pending),
        count(WorkStatus::Failed)
    );
}

/// One open request or reply, as `status` lists it.
struct OpenItem<'a> {
    /// Its status and attempts.
    state: &'a WorkState,
    /// The action or the kind of reply.
    what: &'a str,
    repo: &'a str,
    issue: u64,
    /// More about it, e.g. ` (series, delivery id)`.
    about: String,
    /// When it is tried next, e.g. `, next attempt …`.
    next: String,
}

/// `  status what repo#issue about: N attempt(s)next; last error: …`.
fn print_open_item(item: &OpenItem<'_>) {
    let state = item.state;
    let last_error = state
        .last_error
        .as_deref()
        .map(|e| format!("; last error: {e}"))
        .unwrap_or_default();
    println!(
        "  {:<7} {} {}#{}{}: {} attempt(s){}{last_error}",
        state.status, item.what, item.repo, item.issue, item.about, state.attempts, item.next
    );
}

/// Pending and failed requests.
fn print_jobs(jobs: &[JobRecord]) {
    print_open_counts("requests", jobs.iter().map(|j| j.state.status));
    for job in jobs {
        let next = if job.state.status == WorkStatus::Pending {
            format!(", next attempt {}", job.state.next_attempt_at)
        } else {
            String::new()
        };
        print_open_item(&OpenItem {
            state: &job.state,
            what: &job.action,
            repo: &job.repo,
            issue: job.issue,
            about: format!(" ({}, delivery {})", job.series_id, job.delivery_id),
            next,
        });
    }
}

/// Pending and failed replies on issues.
fn print_replies(replies: &[ReplyRecord]) {
    print_open_counts("replies on issues", replies.iter().map(|r| r.state.status));
    for reply in replies {
        print_open_item(&OpenItem {
            state: &reply.state,
            what: reply.kind.as_str(),
            repo: &reply.repo,
            issue: reply.issue,
            about: String::new(),
            next: String::new(),
        });
    }
}

/// Requests waiting for a maintainer's approval label, with the reason (never the address).
fn print_held(held: &[HeldRequest]) {
    println!("\nwaiting for a maintainer: {}", held.len());
    for request in held {
        let why = request
            .hold
            .map_or("the reason was not recorded", Hold::explanation);
        println!(
            "  {}#{} ({}): {why}",
            request.repo, request.issue, request.series_id
        );
    }
}

/// Calendar mail waiting for a retry or refused for good.
fn print_mail_failures(failures: &[MailFailure]) {
    let refused = failures.iter().filter(|f| f.permanent).count();
    println!(
        "\ncalendar mail: {} waiting for a retry, {refused} refused",
        failures.len() - refused
    );
    for failure in failures {
        let state = if failure.permanent {
            "refused".to_string()
        } else {
            format!("retry at {}", failure.next_attempt_at)
        };
        println!(
            "  {}/{}: {state}; {} attempt(s); last error: {}",
            failure.series_id, failure.github, failure.attempts, failure.last_error
        );
    }
}

/// The `limit` most recent deliveries, newest first.
fn print_deliveries(store: &Store, limit: usize) -> anyhow::Result<()> {
    println!("\nlast deliveries (newest first):");
    for delivery in store.recent_deliveries(limit)? {
        let target = match (&delivery.repo, delivery.issue) {
            (Some(repo), Some(issue)) => format!(" {repo}#{issue}"),
            _ => String::new(),
        };
        println!(
            "  {} {} {}/{}{target}: {}",
            delivery.received_at,
            delivery.id,
            delivery.event,
            delivery.action.as_deref().unwrap_or("-"),
            delivery.outcome
        );
    }
    Ok(())
}
