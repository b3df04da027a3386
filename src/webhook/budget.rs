//! What requests in progress may use: request slots (`max_in_flight`, and a share per source)
//! and bytes of bodies buffered in memory (`max_buffered_bytes`, and a share per source). Past
//! either, a request gets `503` with `Retry-After` before its body is read, so memory stays
//! bounded whatever the traffic, and one source can't take what another's delivery needs.
//!
//! The [`limit`] middleware takes a slot for every request but `/healthz`, and also answers for
//! the requests that end in `408`: those, like `413` and unreadable bodies, count against the
//! source's failed-signature allowance.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::failed_signatures::FailedSignatureLimiter;
use super::rejections::{Reason, Rejections};
use super::settings::ServerConfig;
use super::sources::{Exhausted, Quota, Taken};

/// The slots and bytes requests in progress may use.
#[derive(Debug, Clone)]
pub struct RequestBudget {
    slots: Arc<Quota>,
    bytes: Arc<Quota>,
    rejections: Arc<Rejections>,
    limiter: Arc<FailedSignatureLimiter>,
}

/// Body bytes held for a request; given back when dropped (with the body they stand for).
#[derive(Debug)]
pub struct BodyBytes(#[allow(dead_code)] Taken);

impl RequestBudget {
    /// The budget `server` describes; rejections are counted in `rejections`, and timeouts
    /// against a source's failed-signature allowance in `limiter`.
    pub fn new(
        server: &ServerConfig,
        rejections: Arc<Rejections>,
        limiter: Arc<FailedSignatureLimiter>,
    ) -> Self {
        let per_source =
            (server.max_in_flight_per_source > 0).then_some(server.max_in_flight_per_source);
        Self {
            slots: Quota::new(server.max_in_flight, per_source),
            bytes: Quota::new(
                server.max_buffered_bytes,
                server.buffered_bytes_per_source(),
            ),
            rejections,
            limiter,
        }
    }

    /// Holds `amount` bytes for a body from `source`, or `None` when the budget (or the
    /// source's share of it) is in use: the caller answers [`busy`] without reading the body.
    pub fn hold_body(&self, source: Option<IpAddr>, amount: usize) -> Option<BodyBytes> {
        match self.bytes.take(source, amount) {
            Ok(taken) => Some(BodyBytes(taken)),
            Err(_) => {
                self.rejections.count(Reason::NoMemory, source);
                None
            }
        }
    }
}

/// The answer when the budget has no room: try again in a second.
pub fn busy(what: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, HeaderValue::from_static("1")),
            // The body is not read: the connection can't be used again.
            (header::CONNECTION, HeaderValue::from_static("close")),
        ],
        format!("busy: {what}; try again shortly\n"),
    )
        .into_response()
}

/// Takes a request slot for the request's source (or answers `503`), runs the request, and
/// counts a `408` against the source.
pub async fn limit(State(budget): State<RequestBudget>, request: Request, next: Next) -> Response {
    let source = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let slot = match budget.slots.take(source, 1) {
        Ok(slot) => slot,
        Err(exhausted) => {
            budget.rejections.count(Reason::Busy, source);
            return busy(match exhausted {
                Exhausted::Total => "too many requests at once",
                Exhausted::Source => "too many requests at once from this address",
            });
        }
    };
    let link = LINK_PATHS
        .iter()
        .any(|p| request.uri().path().starts_with(p));
    let response = next.run(request).await;
    drop(slot);
    match response.status() {
        StatusCode::REQUEST_TIMEOUT => {
            budget.rejections.count(Reason::Timeout, source);
            if let Some(ip) = source {
                budget.limiter.record_failure(ip);
            }
        }
        StatusCode::NOT_FOUND | StatusCode::GONE | StatusCode::FORBIDDEN if link => {
            budget.rejections.count(Reason::BadLink, source);
        }
        _ => {}
    }
    response
}

/// The link pages' paths: a `404`, `410` or `403` there is a link refused.
const LINK_PATHS: [&str; 3] = ["/confirm/", "/leave/", "/join/"];
