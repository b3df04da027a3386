//! The HTTP edge: `POST /webhook` and `GET /healthz`.
//!
//! A request becomes a [`delivery::VerifiedDelivery`] (size limit, signature), then a
//! [`GitHubEvent`]; a join or leave request is queued for the pipeline and answered `202 Accepted` at once
//! (GitHub waits at most 10 s). Everything else is answered and logged here.

pub mod delivery;
pub mod signature;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, watch};

use crate::config::{Config, WebhookSecret};
use crate::github::event::{self, GitHubEvent, IssueAction, IssuesEvent};
use crate::pipeline::JobKind;
use crate::request::{Triage, triage};
use crate::store::{Accepted, DeliveryRecord, NewJob, Store};
use crate::telemetry::{self, Metrics};
use delivery::VerifiedDelivery;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The webhook secret.
    pub secret: WebhookSecret,
    /// The body limit.
    pub max_body_bytes: usize,
    /// The configuration (reloaded by the pipeline when the file changes).
    pub config: watch::Receiver<Arc<Config>>,
    /// The state store: requests are committed here before the answer.
    pub store: Arc<Store>,
    /// Wakes the worker when a request was queued.
    pub wake: Arc<Notify>,
    /// The Prometheus registry.
    pub metrics: Metrics,
}

/// The router with all endpoints.
pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/webhook", post(receive))
        .route("/healthz", get(telemetry::healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Ready when the store answers (the config was loaded at start and is only ever replaced by a
/// config that loads). SMTP or GitHub outages don't make the instance unready: it keeps
/// accepting and queueing; they show in `/metrics` and `invitebot status`.
async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    let ready = tokio::task::spawn_blocking(move || store.ping().map_err(|e| e.to_string()))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    telemetry::readyz_response(ready)
}

/// Prometheus metrics; the queue gauges are read from the store at each scrape.
async fn metrics(State(state): State<AppState>) -> Response {
    let store = state.store.clone();
    if let Ok(Ok(depth)) = tokio::task::spawn_blocking(move || store.depth()).await {
        telemetry::outbox(depth.jobs + depth.replies, depth.oldest_age_seconds);
        telemetry::pending_mail(depth.mail);
    }
    telemetry::metrics_response(state.metrics.clone()).await
}

async fn receive(State(state): State<AppState>, delivery: VerifiedDelivery) -> Response {
    let id = delivery.delivery_id.clone();
    let event = match event::parse(&delivery.event, &delivery.body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(delivery = %id, event = %delivery.event, outcome = "rejected", %error, "webhook rejected");
            return (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response();
        }
    };
    let decision = match &event {
        GitHubEvent::Ignored { .. } => {
            Decision::Ignore("ignored", "ignored: not an event invitebot acts on\n")
        }
        GitHubEvent::Issues(issues) => decide(&state, issues).await,
    };
    let (event_name, action) = match &event {
        GitHubEvent::Ignored { event, action } => {
            (event.as_str(), action.as_deref().unwrap_or("-"))
        }
        GitHubEvent::Issues(issues) => ("issues", issues.action.as_str()),
    };
    let (repo, issue) = match &event {
        GitHubEvent::Issues(issues) => (
            Some(issues.repository.full_name.clone()),
            Some(issues.issue.number),
        ),
        GitHubEvent::Ignored { .. } => (None, None),
    };
    let (outcome, job) = match &decision {
        Decision::Ignore(outcome, _) => (*outcome, None),
        Decision::Queue { series_id, request } => {
            ("queued", Some((series_id.clone(), request.clone())))
        }
    };
    let record = DeliveryRecord {
        id: id.clone(),
        event: event_name.to_string(),
        action: Some(action.to_string()),
        repo: repo.clone(),
        issue,
        received_at: crate::store::now(),
        outcome: outcome.to_string(),
    };
    let accepted = accept(&state, record, job).await;
    let metric_outcome = match &accepted {
        Ok(Accepted::Duplicate) => "duplicate",
        Ok(Accepted::AlreadyHandled) => "already-handled",
        Ok(Accepted::New) => outcome,
        Err(_) => "refused",
    };
    telemetry::delivery(event_name, metric_outcome);
    let repo = repo.as_deref().unwrap_or("-");
    match (accepted, decision) {
        (Err(error), _) => {
            tracing::error!(delivery = %id, event = event_name, action, repo, outcome = "refused", %error, "cannot record the delivery; GitHub shows it as failed, redeliver it later");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot record the delivery now; try again later\n",
            )
                .into_response()
        }
        (Ok(Accepted::AlreadyHandled), _) => {
            tracing::info!(delivery = %id, event = event_name, action, repo, issue, outcome = "already-handled", "webhook received; the issue is handled already");
            (StatusCode::OK, "ignored: this issue is handled already\n").into_response()
        }
        (Ok(Accepted::Duplicate), _) => {
            tracing::info!(delivery = %id, event = event_name, action, repo, outcome = "duplicate", "webhook received again; nothing to do");
            (StatusCode::OK, "already received\n").into_response()
        }
        (Ok(Accepted::New), Decision::Ignore(outcome, answer)) => {
            tracing::info!(delivery = %id, event = event_name, action, repo, issue, outcome, "webhook received");
            (StatusCode::OK, answer).into_response()
        }
        (Ok(Accepted::New), Decision::Queue { series_id, .. }) => {
            tracing::info!(delivery = %id, event = event_name, action, repo, issue, series = %series_id, outcome = "queued", "webhook received");
            state.wake.notify_one();
            (StatusCode::ACCEPTED, "accepted: request queued\n").into_response()
        }
    }
}

/// What to do with an `issues` delivery.
enum Decision {
    /// Nothing: the outcome word and the answer's text.
    Ignore(&'static str, &'static str),
    /// Queue a job for this series with this request (JSON of `JobKind`).
    Queue { series_id: String, request: String },
}

async fn decide(state: &AppState, issues: &IssuesEvent) -> Decision {
    let config = state.config.borrow().clone();
    let (series, kind) = match triage(&config.series, issues) {
        Triage::NotAJoinRequest => {
            return Decision::Ignore("not-a-join-request", "ignored: not a join request\n");
        }
        Triage::FromBot => return Decision::Ignore("ignored-bot", "ignored: opened by a bot\n"),
        Triage::JoinRequest(series, request) => (series, JobKind::Join(request)),
        Triage::LeaveRequest(series, request) => (series, JobKind::Leave(request)),
    };
    // `opened` and `labeled` are requests only for an issue never handled (GitHub sends
    // `labeled` right after `opened` when a form applies the label; catch-up may have handled an
    // issue whose `opened` delivery comes later): that check is part of the commit in `accept`.
    // An edit matters only to a request that waits for an email address.
    if issues.action == IssueAction::Edited && !waits_for_email(state, issues).await {
        return Decision::Ignore(
            "not-waiting-for-email",
            "ignored: nothing to do for this edit\n",
        );
    }
    Decision::Queue {
        series_id: series.id.clone(),
        request: serde_json::to_string(&kind).expect("plain fields serialise"),
    }
}

/// Whether the bot asked on this issue for an email address (and got none since).
async fn waits_for_email(state: &AppState, issues: &IssuesEvent) -> bool {
    let (store, repo, number) = (
        state.store.clone(),
        issues.repository.full_name.clone(),
        issues.issue.number,
    );
    let issue_state = tokio::task::spawn_blocking(move || store.issue_state(&repo, number)).await;
    // Store trouble surfaces in `accept`; here it counts as "not waiting".
    matches!(issue_state, Ok(Ok(Some(state))) if state == "needs-email")
}

/// Records the delivery (and its job) in the store: the answer is sent only after this commit.
async fn accept(
    state: &AppState,
    record: DeliveryRecord,
    job: Option<(String, String)>,
) -> Result<Accepted, String> {
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let new_job = job.as_ref().map(|(series_id, request)| NewJob {
            delivery_id: &record.id,
            action: record.action.as_deref().unwrap_or("-"),
            series_id,
            repo: record.repo.as_deref().unwrap_or_default(),
            issue: record.issue.unwrap_or_default(),
            request,
            once_per_issue: matches!(record.action.as_deref(), Some("opened" | "labeled")),
        });
        store
            .accept_delivery(&record, new_job.as_ref())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}
