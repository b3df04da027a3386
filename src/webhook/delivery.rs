//! The [`VerifiedDelivery`] extractor: a request becomes a delivery only if its body fits the
//! limit and the memory budget and its signature matches. Nothing is parsed before the signature
//! is checked, and a rejected request never reaches the store or writes a log line of its own
//! (rejections are counted and summarised, see [`super::rejections`]).
//!
//! A source that used up its failed signatures has its bad requests answered `429`, a request
//! without a well-formed signature header before its body is read; a correctly signed delivery
//! from it is still verified and accepted, so a flood from a shared address (a proxy, GitHub's
//! own delivery hosts) can't lock GitHub out.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::AppState;
use super::budget::{self, BodyBytes};
use super::rejections::Reason;
use super::signature::{self, SignatureError};
use crate::store::BodyDigest;

/// A webhook delivery whose body is GitHub's, byte for byte.
#[derive(Debug)]
pub struct VerifiedDelivery {
    /// `X-GitHub-Event`.
    pub event: String,
    /// `X-GitHub-Delivery` (or a generated `no-id-…` when absent).
    pub delivery_id: String,
    /// The raw body.
    pub body: Bytes,
    /// Its verified signature, which recognises the same body sent again (see
    /// [`signature::verify`]).
    pub body_id: BodyDigest,
    /// The memory budget the body holds while the delivery lives.
    _held: BodyBytes,
}

/// Why a request is not a verified delivery; each becomes a short plain-text answer.
#[derive(Debug)]
pub enum Rejection {
    /// The source sent too many bad requests lately and this one is not correctly signed; it may
    /// try again after `retry_after`.
    Blocked {
        /// How long the source's window still runs.
        retry_after: Duration,
    },
    /// The body is larger than the limit.
    TooLarge,
    /// The bytes buffered for bodies reached the budget (or this source's share of it).
    NoRoom,
    /// The body could not be read.
    Unreadable,
    /// The signature is missing or wrong.
    Signature(SignatureError),
    /// No `X-GitHub-Event` header.
    NoEvent,
}

impl Rejection {
    /// The reason it is counted under.
    pub fn reason(&self) -> Reason {
        match self {
            Rejection::Blocked { .. } => Reason::SourceLimited,
            Rejection::TooLarge => Reason::TooLarge,
            Rejection::NoRoom => Reason::NoMemory,
            Rejection::Unreadable | Rejection::NoEvent => Reason::Unreadable,
            Rejection::Signature(_) => Reason::BadSignature,
        }
    }

    /// Whether it counts against the source's failed-signature allowance.
    fn is_failure(&self) -> bool {
        matches!(
            self,
            Rejection::TooLarge | Rejection::Unreadable | Rejection::Signature(_)
        )
    }
}

/// The connection can't carry another request after an answer given before the body was read.
const CLOSE: (header::HeaderName, HeaderValue) =
    (header::CONNECTION, HeaderValue::from_static("close"));

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Blocked { retry_after } => {
                // Whole seconds, rounded up: never `0`, which would invite an immediate retry.
                let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                let retry = (header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                let text = "too many failed signatures from this address; try again later\n";
                (StatusCode::TOO_MANY_REQUESTS, [retry, CLOSE], text).into_response()
            }
            Rejection::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, [CLOSE], "body too large\n").into_response()
            }
            Rejection::NoRoom => budget::busy("too many request bodies in memory"),
            Rejection::Unreadable => {
                (StatusCode::BAD_REQUEST, "body could not be read\n").into_response()
            }
            Rejection::Signature(_) => {
                crate::telemetry::signature_failure();
                (StatusCode::UNAUTHORIZED, "signature missing or invalid\n").into_response()
            }
            Rejection::NoEvent => {
                (StatusCode::BAD_REQUEST, "X-GitHub-Event header missing\n").into_response()
            }
        }
    }
}

/// The headers a delivery is checked and named by, taken before the body consumes the request
/// (a `HeaderValue` clone shares its bytes; the whole map would be copied).
struct DeliveryHeaders {
    signature: Option<HeaderValue>,
    content_length: Option<HeaderValue>,
    event: Option<HeaderValue>,
    delivery: Option<HeaderValue>,
}

impl DeliveryHeaders {
    fn of(headers: &HeaderMap) -> Self {
        Self {
            signature: headers.get("x-hub-signature-256").cloned(),
            content_length: headers.get(header::CONTENT_LENGTH).cloned(),
            event: headers.get("x-github-event").cloned(),
            delivery: headers.get("x-github-delivery").cloned(),
        }
    }
}

/// A header's text, trimmed; `None` when absent, empty or not visible ASCII.
fn header_text(value: Option<&HeaderValue>) -> Option<&str> {
    value
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A delivery id safe to log: GitHub's are UUIDs; anything else is cut short and cleaned.
fn delivery_id(value: Option<&HeaderValue>) -> String {
    header_text(value)
        .map(|id| {
            let safe = |c: char| c.is_ascii_alphanumeric() || c == '-';
            if id.len() <= 64 && id.chars().all(safe) {
                // A GitHub id, copied as it is.
                return id.to_string();
            }
            id.chars().filter(|c| safe(*c)).take(64).collect()
        })
        // GitHub always sends one; without it a delivery can't be recognised when sent again,
        // so it gets an id of its own.
        .unwrap_or_else(|| format!("no-id-{}", uuid::Uuid::new_v4().simple()))
}

impl FromRequest<AppState> for VerifiedDelivery {
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // Only the TCP peer counts: forwarding headers are the client's to invent.
        let source = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let verified = verify(request, state, source).await;
        if let Err(rejection) = &verified {
            state.rejections.count(rejection.reason(), source);
            if let Some(ip) = source.filter(|_| rejection.is_failure()) {
                state.limiter.record_failure(ip);
            }
        }
        verified
    }
}

/// The checks, cheapest first.
async fn verify(
    request: Request,
    state: &AppState,
    source: Option<IpAddr>,
) -> Result<VerifiedDelivery, Rejection> {
    let headers = DeliveryHeaders::of(request.headers());
    let signature = headers.signature.as_ref().map(HeaderValue::as_bytes);
    let limited = source.and_then(|ip| state.limiter.blocked(ip));
    if let Some(retry_after) = limited
        && signature::check_form(signature).is_err()
    {
        return Err(Rejection::Blocked { retry_after });
    }
    let declared = header_text(headers.content_length.as_ref()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > state.max_body_bytes as u64) {
        return Err(Rejection::TooLarge);
    }
    // A body of unknown length may be as large as the limit.
    let size = declared.map_or(state.max_body_bytes, |n| n as usize);
    let held = state
        .budget
        .hold_body(source, size)
        .ok_or(Rejection::NoRoom)?;
    // The limit bounds the read, also for a chunked body. (Read here rather than through
    // axum's `DefaultBodyLimit` layer and `Bytes` extractor, which cost the route a layer of
    // its own and each request an extension and a boxed body.)
    let body = Limited::new(request.into_body(), state.max_body_bytes)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<LengthLimitError>() {
                Rejection::TooLarge
            } else {
                Rejection::Unreadable
            }
        })?
        .to_bytes();
    let signature =
        signature::verify(&state.secrets, &body, signature).map_err(|error| match limited {
            Some(retry_after) => Rejection::Blocked { retry_after },
            None => Rejection::Signature(error),
        })?;
    let event = header_text(headers.event.as_ref()).ok_or(Rejection::NoEvent)?;
    Ok(VerifiedDelivery {
        event: event.to_string(),
        delivery_id: delivery_id(headers.delivery.as_ref()),
        body,
        body_id: BodyDigest(signature),
        _held: held,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_of(header: &str) -> String {
        delivery_id(Some(&HeaderValue::from_str(header).unwrap()))
    }

    #[test]
    fn a_delivery_id_is_kept_when_safe_and_cleaned_and_cut_otherwise() {
        let github = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
        assert_eq!(id_of(github), github);
        assert_eq!(id_of("  d-1  "), "d-1");
        assert_eq!(id_of("a b;c\\d/e"), "abcde");
        let long = "0123456789abcdef".repeat(5);
        assert_eq!(id_of(&long), long[..64]);
        assert_eq!(
            id_of(&format!("{}-x;", &long[..63])),
            format!("{}-", &long[..63])
        );
        assert!(delivery_id(None).starts_with("no-id-"));
        // Not visible ASCII: as if absent.
        let binary = HeaderValue::from_bytes(b"d\xff").unwrap();
        assert!(delivery_id(Some(&binary)).starts_with("no-id-"));
    }
}
