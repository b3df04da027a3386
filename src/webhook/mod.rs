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
use tokio::sync::{mpsc, watch};

use crate::config::{Config, WebhookSecret};
use crate::github::event::{self, GitHubEvent};
use crate::pipeline::{Job, JobKind};
use crate::request::{Triage, triage};
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
    /// The pipeline's queue.
    pub jobs: mpsc::Sender<Job>,
}

/// The router with all endpoints.
pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/webhook", post(receive))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn receive(State(state): State<AppState>, delivery: VerifiedDelivery) -> Response {
    let id = delivery.delivery_id.as_str();
    let event = match event::parse(&delivery.event, &delivery.body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(delivery = id, event = %delivery.event, outcome = "rejected", %error, "webhook rejected");
            return (StatusCode::BAD_REQUEST, format!("{error}\n")).into_response();
        }
    };
    let issues = match event {
        GitHubEvent::Ignored { event, action } => {
            tracing::info!(
                delivery = id,
                event,
                action = action.as_deref().unwrap_or("-"),
                outcome = "ignored",
                "webhook received"
            );
            return (StatusCode::OK, "ignored: not an event invitebot acts on\n").into_response();
        }
        GitHubEvent::Issues(issues) => issues,
    };
    let (repo, issue, action) = (
        issues.repository.full_name.as_str(),
        issues.issue.number,
        issues.action.as_str(),
    );
    let not_for_us = |outcome: &str, answer: &'static str| {
        tracing::info!(
            delivery = id,
            event = "issues",
            action,
            repo,
            issue,
            outcome,
            "webhook received"
        );
        (StatusCode::OK, answer).into_response()
    };
    let config = state.config.borrow().clone();
    let (series, kind) = match triage(&config.series, &issues) {
        Triage::NotAJoinRequest => {
            return not_for_us("not-a-join-request", "ignored: not a join request\n");
        }
        Triage::FromBot => return not_for_us("ignored-bot", "ignored: opened by a bot\n"),
        Triage::JoinRequest(series, request) => (series, JobKind::Join(request)),
        Triage::LeaveRequest(series, request) => (series, JobKind::Leave(request)),
    };
    let job = Job {
        delivery_id: id.to_string(),
        action,
        series_id: series.id.clone(),
        kind,
    };
    match state.jobs.try_send(job) {
        Ok(()) => {
            tracing::debug!(delivery = id, event = "issues", action, repo, issue, series = %series.id, "request queued");
            (StatusCode::ACCEPTED, "accepted: request queued\n").into_response()
        }
        Err(error) => {
            tracing::error!(delivery = id, event = "issues", action, repo, issue, outcome = "refused", reason = %error, "join request queue unavailable; GitHub will show the delivery as failed, redeliver it later");
            (StatusCode::SERVICE_UNAVAILABLE, "busy: try again later\n").into_response()
        }
    }
}
