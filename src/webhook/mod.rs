//! The HTTP edge: the public listener (`POST /webhook`, the link pages, `GET /healthz`) and the
//! operations listener (`/metrics`, `/readyz`, `/healthz`).
//!
//! A request becomes a [`delivery::VerifiedDelivery`] (size limit, memory budget, signature),
//! then a [`GitHubEvent`]; a join or leave request is queued for the pipeline and answered
//! `202 Accepted` at once (GitHub waits at most 10 s). Everything else is answered here.
//! Connections are served by [`connections`], requests limited by [`budget`] and [`limits`],
//! and what is turned away is counted and summarised by [`rejections`].

pub mod budget;
mod commands;
pub mod connections;
pub mod delivery;
pub mod delivery_log;
pub mod failed_signatures;
pub mod limits;
pub mod recent_deliveries;
pub mod rejections;
pub mod settings;
pub mod signature;
pub mod sources;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, watch};

use crate::core::identity::Login;
use crate::core::series::{Series, SeriesList};

use crate::core::job::{IssueState, JobKind};
use crate::core::request::{Triage, triage};
use crate::core::webhook_event::{self, GitHubEvent, IssueAction, IssuesEvent};
use crate::store::{
    Acceptance, Accepted, BodyDigest, DeliveryJob, DeliveryRecord, GroupCommit, GroupCommitError,
    Store,
};
use crate::telemetry::{self, Metrics};
use crate::webhook::settings::WebhookSecrets;
use delivery::VerifiedDelivery;
use delivery_log::DeliveryLog;
use recent_deliveries::RecentDeliveries;

/// What the handlers share, behind one [`Arc`]: axum clones the state for every request (more
/// than once), and a clone is then one counter increment instead of one per part.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    /// Shares `parts` with every request.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct AppParts {
    /// The webhook secrets a delivery may be signed with.
    pub secrets: WebhookSecrets,
    /// The body limit.
    pub max_body_bytes: usize,
    /// The time one request may take (then `408`).
    pub request_timeout: Duration,
    /// Failed signatures per source address.
    pub limiter: Arc<failed_signatures::FailedSignatureLimiter>,
    /// Request slots and body bytes (shared with the limits' service, see [`limits`]).
    pub budget: Arc<budget::RequestBudget>,
    /// What the edge turned away.
    pub rejections: Arc<rejections::Rejections>,
    /// The series (replaced by the pipeline when the config file changes).
    pub series: watch::Receiver<SeriesList>,
    /// The state store: requests are committed here before the answer.
    pub store: Arc<Store>,
    /// Wakes the worker when a request was queued.
    pub wake: Arc<Notify>,
    /// Records the deliveries that need nothing, after the answer.
    pub delivery_log: DeliveryLog,
    /// Commits requests to act on, with their jobs, before the answer.
    pub accepts: GroupCommit,
    /// The delivery ids committed lately: a delivery sent again is answered from memory.
    pub recent: RecentDeliveries,
}

/// The public router: `POST /webhook` and `pages` (the link pages, with their own body limit)
/// behind the edge limits (see [`limits`]), and `GET /healthz`, which no limit sheds. Serve it
/// with [`connections::serve`], which gives every request the peer's address (the per-source
/// limits need it; without it only the totals apply).
pub fn router(state: AppState, pages: Router) -> Router {
    let (budget, timeout) = (state.budget.clone(), state.request_timeout);
    let limited = Router::new()
        .route("/webhook", post(receive))
        .fallback(not_found)
        .with_state(state)
        .merge(pages);
    Router::new()
        .route("/healthz", get(telemetry::healthz))
        .merge(limits::apply(limited, budget, timeout))
}

/// What the operations endpoints read.
#[derive(Clone)]
pub struct AdminState {
    /// The state store, for readiness and the queue gauges.
    pub store: Arc<Store>,
    /// The Prometheus registry.
    pub metrics: Metrics,
}

/// The operations router: `/metrics`, `/readyz` and `/healthz`, for the operations listener
/// (`admin_listen`) only: the public listener answers the first two `404`.
pub fn admin_router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(telemetry::healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "not found\n")
}

/// Ready when the store answers (the config was loaded at start and is only ever replaced by a
/// config that loads). SMTP or GitHub outages don't make the instance unready: it keeps
/// accepting and queueing; they show in `/metrics` and `invitebot status`.
async fn readyz(State(state): State<AdminState>) -> Response {
    let store = state.store.clone();
    let ready = tokio::task::spawn_blocking(move || store.ping().map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    telemetry::readyz_response(ready)
}

/// Prometheus metrics; the queue gauges are read from the store at each scrape.
async fn metrics(State(state): State<AdminState>) -> Response {
    let store = state.store.clone();
    if let Ok(Ok(depth)) = tokio::task::spawn_blocking(move || store.depth()).await {
        telemetry::outbox(depth.jobs + depth.replies, depth.oldest_age_seconds);
        telemetry::pending_mail(depth.mail);
    }
    telemetry::metrics_response(state.metrics.clone()).await
}

async fn receive(State(state): State<AppState>, delivery: VerifiedDelivery) -> Response {
    let id = delivery.delivery_id.clone();
    let event = match webhook_event::parse(&delivery.event, &delivery.body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(delivery = %id, event = %delivery.event, outcome = "rejected", %error, "webhook rejected");
            return (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response();
        }
    };
    // After the parse: a body that is not a delivery gets `400` whatever its id.
    if state.recent.contains(&id) {
        telemetry::delivery(&delivery.event, "duplicate");
        return already_received(&id, telemetry::event_label(&delivery.event));
    }
    let decision = match &event {
        GitHubEvent::Ignored { .. } => {
            Decision::Ignore("ignored", "ignored: not an event invitebot acts on\n")
        }
        GitHubEvent::Issues(issues) if issues.action == IssueAction::Closed => {
            closed(&state, issues).await
        }
        GitHubEvent::Issues(issues) => decide(&state, issues, delivery.body_id).await,
        GitHubEvent::IssueComment(comment) => {
            commands::decide(&state.series.borrow(), comment, delivery.body_id)
        }
    };
    match decision {
        Decision::Ignore(outcome, answer) => ignore(&state, id, &event, outcome, answer),
        Decision::Queue(job) => queue(&state, id, &Described::of(&event), job).await,
    }
}

/// Which event, action, repository and issue a delivery is, borrowed from it.
struct Described<'a> {
    event: &'a str,
    action: Option<&'a str>,
    repo: Option<&'a str>,
    issue: Option<u64>,
}

impl<'a> Described<'a> {
    fn of(event: &'a GitHubEvent) -> Self {
        match event {
            GitHubEvent::Ignored { event, action } => Self {
                event,
                action: action.as_deref(),
                repo: None,
                issue: None,
            },
            GitHubEvent::Issues(issues) => Self {
                event: "issues",
                action: Some(issues.action.as_str()),
                repo: Some(&issues.repository.full_name),
                issue: Some(issues.issue.number),
            },
            GitHubEvent::IssueComment(comment) => Self {
                event: "issue_comment",
                action: Some("created"),
                repo: Some(&comment.repository.full_name),
                issue: Some(comment.issue.number),
            },
        }
    }

    /// The store's record of the delivery `id`, with its outcome.
    fn record(&self, id: String, outcome: &str) -> DeliveryRecord {
        DeliveryRecord {
            id,
            event: self.event.to_string(),
            action: Some(self.action.unwrap_or("-").to_string()),
            repo: self.repo.map(String::from),
            issue: self.issue,
            received_at: jiff::Timestamp::now(),
            outcome: outcome.to_string(),
        }
    }
}

/// A delivery that needs nothing: answered at once, recorded after the answer by the
/// [`DeliveryLog`] (no store round-trip; a redelivered one is simply ignored again) while the
/// history has room.
fn ignore(
    state: &AppState,
    id: String,
    event: &GitHubEvent,
    outcome: &'static str,
    answer: &'static str,
) -> Response {
    let described = Described::of(event);
    telemetry::delivery(described.event, outcome);
    tracing::info!(delivery = %id, event = %described.event, action = described.action, repo = described.repo, issue = described.issue, outcome = %outcome, "webhook received");
    if state.delivery_log.has_room() {
        state.delivery_log.record(described.record(id, outcome));
    }
    (StatusCode::OK, answer).into_response()
}

/// A request to act on: committed with its job before the answer.
async fn queue(
    state: &AppState,
    id: String,
    described: &Described<'_>,
    job: DeliveryJob,
) -> Response {
    let (event_name, action, repo, issue) = (
        described.event,
        described.action,
        described.repo,
        described.issue,
    );
    let series_id = job.series_id.clone();
    let accepted = accept(state, described.record(id.clone(), "queued"), job).await;
    let metric_outcome = match &accepted {
        Ok(Accepted::Duplicate) => "duplicate",
        Ok(Accepted::Replayed) => "replayed",
        Ok(Accepted::AlreadyHandled) => "already-handled",
        Ok(Accepted::New) => "queued",
        Err(_) => "refused",
    };
    telemetry::delivery(event_name, metric_outcome);
    if accepted.is_ok() {
        // The delivery is in the store now, whatever it came to.
        state.recent.insert(&id);
    }
    match accepted {
        Err(error) => {
            tracing::error!(delivery = %id, event = %event_name, action, repo, outcome = "refused", %error, "cannot record the delivery; GitHub shows it as failed, redeliver it later");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot record the delivery now; try again later\n",
            )
                .into_response()
        }
        Ok(Accepted::AlreadyHandled) => {
            tracing::info!(delivery = %id, event = %event_name, action, repo, issue, outcome = "already-handled", "webhook received; the issue is handled already");
            (StatusCode::OK, "ignored: this issue is handled already\n").into_response()
        }
        Ok(Accepted::Duplicate) => already_received(&id, event_name),
        Ok(Accepted::Replayed) => {
            tracing::warn!(delivery = %id, event = %event_name, action, repo, issue, outcome = "replayed", "a body accepted before came again under a new delivery id; nothing to do");
            (StatusCode::OK, "already received\n").into_response()
        }
        Ok(Accepted::New) => {
            tracing::info!(delivery = %id, event = %event_name, action, repo, issue, series = %series_id, outcome = "queued", "webhook received");
            state.wake.notify_one();
            (StatusCode::ACCEPTED, "accepted: request queued\n").into_response()
        }
    }
}

/// A delivery id already in the store came again: nothing to do.
fn already_received(id: &str, event: &str) -> Response {
    tracing::info!(delivery = %id, event, outcome = "duplicate", "webhook received again; nothing to do");
    (StatusCode::OK, "already received\n").into_response()
}

/// What to do with an `issues` delivery.
enum Decision {
    /// Nothing: the outcome word and the answer's text.
    Ignore(&'static str, &'static str),
    /// Queue this job (`once_per_issue`: only if the issue was never handled).
    Queue(DeliveryJob),
}

/// `body` identifies the delivery's body; a queued request keeps it (replays are recognised by
/// it).
async fn decide(state: &AppState, issues: &IssuesEvent, body: BodyDigest) -> Decision {
    let all_series = state.series.borrow().clone();
    let (series, kind) = match triage(&all_series, issues) {
        Triage::NotAJoinRequest => {
            return Decision::Ignore("not-a-join-request", "ignored: not a join request\n");
        }
        Triage::FromBot => return Decision::Ignore("ignored-bot", "ignored: opened by a bot\n"),
        Triage::JoinRequest(series, _) if is_approval(series, issues) => {
            return approval(state, issues, series, body).await;
        }
        Triage::JoinRequest(series, request) => (series, JobKind::Join(request)),
        Triage::LeaveRequest(series, request) => (series, JobKind::Leave(request)),
    };
    // `opened` and `labeled` are requests only for an issue never handled (GitHub sends
    // `labeled` right after `opened` when a form applies the label; catch-up may have handled an
    // issue whose `opened` delivery comes later): that check is part of the commit in `accept`.
    // An edit matters only to a request that waits for an email address.
    if issues.action == IssueAction::Edited
        && !issue_is(state, issues, IssueState::NeedsEmail).await
    {
        return Decision::Ignore(
            "not-waiting-for-email",
            "ignored: nothing to do for this edit\n",
        );
    }
    Decision::Queue(DeliveryJob {
        series_id: series.id.clone(),
        kind,
        once_per_issue: matches!(issues.action, IssueAction::Opened | IssueAction::Labeled),
        body,
    })
}

/// An issue was closed: if it waited for an address, its private form link stops working (the
/// store says so from now on). Nothing is queued.
async fn closed(state: &AppState, issues: &IssuesEvent) -> Decision {
    let (store, repo, number) = (
        state.store.clone(),
        issues.repository.full_name.clone(),
        issues.issue.number,
    );
    match tokio::task::spawn_blocking(move || store.close_issue(&repo, number)).await {
        Ok(Ok(true)) => {
            Decision::Ignore("closed-form-void", "ok: the issue's email form is closed\n")
        }
        Ok(Ok(false)) => Decision::Ignore("closed", "ignored: nothing waits on this issue\n"),
        failed => {
            if let Ok(Err(error)) = failed {
                tracing::error!(repo = %issues.repository.full_name, issue = issues.issue.number, %error, "cannot record a closed issue; its email form link still works");
            }
            Decision::Ignore("closed", "ignored: nothing recorded\n")
        }
    }
}

/// Whether the delivery is the series' approval label being added.
fn is_approval(series: &Series, issues: &IssuesEvent) -> bool {
    issues.action == IssueAction::Labeled
        && issues
            .label
            .as_ref()
            .is_some_and(|l| l.name.eq_ignore_ascii_case(&series.guard.approved_label))
}

/// The approval label was added: a request that waits for it is queued again, as it was
/// stored when it was held (what the maintainer saw, not the issue as edited since; the worker
/// checks the sender may approve); anything else is ignored.
async fn approval(
    state: &AppState,
    issues: &IssuesEvent,
    series: &Series,
    body: BodyDigest,
) -> Decision {
    let (store, repo, number) = (
        state.store.clone(),
        issues.repository.full_name.clone(),
        issues.issue.number,
    );
    let held = tokio::task::spawn_blocking(move || store.held_request(&repo, number)).await;
    // Store trouble counts as "not waiting", as in `issue_is`.
    let Ok(Ok(Some(request))) = held else {
        return Decision::Ignore(
            "not-waiting-for-approval",
            "ignored: this issue doesn't wait for approval\n",
        );
    };
    let kind = JobKind::Approved {
        request,
        maintainer: Login::new(&issues.sender.login),
    };
    Decision::Queue(DeliveryJob {
        series_id: series.id.clone(),
        kind,
        once_per_issue: false,
        body,
    })
}

/// Whether the issue was last handled with this outcome state (`needs-email`: the bot asked
/// for an address and got none since; `needs-approval`: it waits for a maintainer).
async fn issue_is(state: &AppState, issues: &IssuesEvent, wanted: IssueState) -> bool {
    let (store, repo, number) = (
        state.store.clone(),
        issues.repository.full_name.clone(),
        issues.issue.number,
    );
    let issue_state = tokio::task::spawn_blocking(move || store.issue_state(&repo, number)).await;
    // Store trouble surfaces in `accept`; here it counts as "not waiting".
    matches!(issue_state, Ok(Ok(Some(state))) if state == wanted)
}

/// Records the delivery and its job in the store (group commit, see [`GroupCommit`]): the
/// answer is sent only after this commit.
async fn accept(
    state: &AppState,
    delivery: DeliveryRecord,
    job: DeliveryJob,
) -> Result<Accepted, GroupCommitError> {
    state
        .accepts
        .accept(Acceptance {
            delivery,
            job: Some(job),
        })
        .await
}
