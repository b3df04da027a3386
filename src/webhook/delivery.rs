//! The [`VerifiedDelivery`] extractor: a request becomes a delivery only if its source has not
//! used up its failed signatures, its body fits the limit and its signature matches. Nothing is
//! parsed before the signature is checked, and a rejected request never reaches the store.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::signature::{self, SignatureError};

/// A webhook delivery whose body is GitHub's, byte for byte.
#[derive(Debug)]
pub struct VerifiedDelivery {
    /// `X-GitHub-Event`.
    pub event: String,
    /// `X-GitHub-Delivery` (or a generated `no-id-…` when absent).
    pub delivery_id: String,
    /// The raw body.
    pub body: Bytes,
}

/// Why a request is not a verified delivery; each becomes a short plain-text answer.
#[derive(Debug)]
pub enum Rejection {
    /// The source sent too many bad signatures lately; it may try again after `retry_after`.
    Blocked {
        delivery_id: String,
        retry_after: Duration,
    },
    /// The body is larger than the limit.
    TooLarge { delivery_id: String },
    /// The body could not be read.
    Unreadable { delivery_id: String },
    /// The signature is missing or wrong.
    Signature {
        delivery_id: String,
        error: SignatureError,
    },
    /// No `X-GitHub-Event` header.
    NoEvent { delivery_id: String },
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let (status, text) = match &self {
            Rejection::Blocked {
                delivery_id,
                retry_after,
            } => {
                tracing::debug!(delivery = %delivery_id, outcome = "rejected", reason = "too many failed signatures", "webhook rejected");
                // Whole seconds, rounded up: never `0`, which would invite an immediate retry.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                // The body is not read: the connection can't be used again.
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [
                        (header::RETRY_AFTER, HeaderValue::from(seconds.max(1))),
                        (header::CONNECTION, HeaderValue::from_static("close")),
                    ],
                    "too many failed signatures from this address; try again later\n",
                )
                    .into_response();
            }
            Rejection::TooLarge { delivery_id } => {
                tracing::warn!(delivery = %delivery_id, outcome = "rejected", reason = "body too large", "webhook rejected");
                // The rest of the body is not read: the connection can't be used again.
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    [(header::CONNECTION, HeaderValue::from_static("close"))],
                    "body too large\n",
                )
                    .into_response();
            }
            Rejection::Unreadable { delivery_id } => {
                tracing::warn!(delivery = %delivery_id, outcome = "rejected", reason = "body unreadable", "webhook rejected");
                (StatusCode::BAD_REQUEST, "body could not be read\n")
            }
            Rejection::Signature { delivery_id, error } => {
                crate::telemetry::signature_failure();
                tracing::warn!(delivery = %delivery_id, outcome = "rejected", reason = %error, "webhook rejected");
                (StatusCode::UNAUTHORIZED, "signature missing or invalid\n")
            }
            Rejection::NoEvent { delivery_id } => {
                tracing::warn!(delivery = %delivery_id, outcome = "rejected", reason = "no X-GitHub-Event header", "webhook rejected");
                (StatusCode::BAD_REQUEST, "X-GitHub-Event header missing\n")
            }
        };
        (status, text).into_response()
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A delivery id safe to log: GitHub's are UUIDs; anything else is cut short and cleaned.
fn delivery_id(headers: &HeaderMap) -> String {
    header_text(headers, "x-github-delivery")
        .map(|id| {
            id.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(64)
                .collect()
        })
        // GitHub always sends one; without it a delivery can't be recognised when sent again,
        // so it gets an id of its own.
        .unwrap_or_else(|| format!("no-id-{}", uuid::Uuid::new_v4().simple()))
}

impl FromRequest<AppState> for VerifiedDelivery {
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = request.headers().clone();
        let delivery_id = delivery_id(&headers);
        // Only the TCP peer counts: forwarding headers are the client's to invent.
        let source = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        if let Some(retry_after) = source.and_then(|ip| state.limiter.blocked(ip)) {
            return Err(Rejection::Blocked {
                delivery_id,
                retry_after,
            });
        }
        let declared = header_text(&headers, header::CONTENT_LENGTH.as_str())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > state.max_body_bytes as u64) {
            return Err(Rejection::TooLarge { delivery_id });
        }
        // The router's `DefaultBodyLimit` bounds the read, also for chunked bodies.
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Rejection::TooLarge {
                    delivery_id: delivery_id.clone(),
                },
                _ => Rejection::Unreadable {
                    delivery_id: delivery_id.clone(),
                },
            })?;
        let signature = headers.get("x-hub-signature-256").map(|v| v.as_bytes());
        signature::verify(&state.secrets, &body, signature).map_err(|error| {
            if let Some(ip) = source
                && state.limiter.record_failure(ip)
            {
                tracing::warn!(source = %ip, window_seconds = super::limits::WINDOW.as_secs(), "too many failed signatures: this address gets 429 until its window ends");
            }
            Rejection::Signature {
                delivery_id: delivery_id.clone(),
                error,
            }
        })?;
        let event = header_text(&headers, "x-github-event").ok_or(Rejection::NoEvent {
            delivery_id: delivery_id.clone(),
        })?;
        Ok(VerifiedDelivery {
            event,
            delivery_id,
            body,
        })
    }
}
