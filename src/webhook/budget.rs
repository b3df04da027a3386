//! What requests in progress may use: request slots (`max_in_flight`, and a share per source)
//! and bytes of bodies buffered in memory (`max_buffered_bytes`, and a share per source). Past
//! either, a request gets `503` with `Retry-After` before its body is read, so memory stays
//! bounded whatever the traffic, and one source can't take what another's delivery needs.
//!
//! The edge's limits ([`super::limits`]) take a slot for every request but `/healthz`
//! ([`RequestBudget::admit`]) and count what the answer says about its source
//! ([`RequestBudget::account`]): a `408`, like `413` and unreadable bodies, counts against the
//! source's failed-signature allowance.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
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

/// A request slot, given back when dropped.
#[derive(Debug)]
pub struct RequestSlot(#[allow(dead_code)] Taken);

impl RequestBudget {
    /// Takes a request slot for `source`, or says why there is none (answer it with [`busy`]).
    pub fn admit(&self, source: Option<IpAddr>) -> Result<RequestSlot, &'static str> {
        self.slots
            .take(source, 1)
            .map(RequestSlot)
            .map_err(|exhausted| {
                self.rejections.count(Reason::Busy, source);
                match exhausted {
                    Exhausted::Total => "too many requests at once",
                    Exhausted::Source => "too many requests at once from this address",
                }
            })
    }

    /// Counts what an answer to `source` says about it: a `408` against its failed-signature
    /// allowance, a link page's (`link`, see [`is_link_page`]) `404`, `410` or `403` as a
    /// refused link.
    pub fn account(&self, status: StatusCode, source: Option<IpAddr>, link: bool) {
        match status {
            StatusCode::REQUEST_TIMEOUT => {
                self.rejections.count(Reason::Timeout, source);
                if let Some(ip) = source {
                    self.limiter.record_failure(ip);
                }
            }
            StatusCode::NOT_FOUND | StatusCode::GONE | StatusCode::FORBIDDEN if link => {
                self.rejections.count(Reason::BadLink, source);
            }
            _ => {}
        }
    }
}

/// The link pages' paths: a `404`, `410` or `403` there is a link refused.
const LINK_PATHS: [&str; 3] = ["/confirm/", "/leave/", "/join/"];

/// Whether `path` is a link page's.
pub fn is_link_page(path: &str) -> bool {
    LINK_PATHS.iter().any(|p| path.starts_with(p))
}
