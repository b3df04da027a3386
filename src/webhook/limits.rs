//! Limits at the HTTP edge, so that a flood of bad or slow requests costs little:
//!
//! - [`FailedSignatureLimiter`]: failed signatures (and `408`, `413`, unreadable bodies) per
//!   source address; a source over the limit has its bad requests answered `429` as cheaply as
//!   can be (see [`super::delivery`]), while a correctly signed delivery still gets through;
//! - [`apply`]: a request slot of the [`RequestBudget`] for every request (or `503` at once),
//!   each request within `request_timeout` (or `408`), and every error answer a short plain text.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;

use super::budget::{self, RequestBudget};
use super::sources::source_key as key;

/// The period the failed-signature limit counts over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The most sources tracked at once; failures from further sources go uncounted until the
/// stale ones are dropped (at most once per [`WINDOW`]). About 64 bytes each.
const MAX_SOURCES: usize = 100_000;

/// Counts failed signatures per source address in windows of a minute from the source's first
/// failure. Once a source reached the limit, [`blocked`](Self::blocked) says so until its
/// window ends. Only failures add entries, so GitHub's own deliveries cost one lookup.
#[derive(Debug)]
pub struct FailedSignatureLimiter {
    limit: u32,
    state: Mutex<Sources>,
}

#[derive(Debug)]
struct Sources {
    windows: HashMap<IpAddr, Window>,
    next_prune: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Window {
    fn is_over(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) >= WINDOW
    }
}

impl FailedSignatureLimiter {
    /// A limiter allowing `limit` failed signatures per source and minute; `0` allows any number.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            state: Mutex::new(Sources {
                windows: HashMap::new(),
                next_prune: Instant::now() + WINDOW,
            }),
        }
    }

    /// How long `source` must wait before it is heard again, if it used up its failures.
    pub fn blocked(&self, source: IpAddr) -> Option<Duration> {
        self.blocked_at(source, Instant::now())
    }

    /// Counts a failed signature from `source`; `true` when this failure used up its limit (so
    /// that the block is logged once, not once per request).
    pub fn record_failure(&self, source: IpAddr) -> bool {
        self.record_failure_at(source, Instant::now())
    }

    fn blocked_at(&self, source: IpAddr, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let sources = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let window = sources.windows.get(&key(source))?;
        (window.failures >= self.limit && !window.is_over(now))
            .then(|| (window.started + WINDOW).saturating_duration_since(now))
    }

    fn record_failure_at(&self, source: IpAddr, now: Instant) -> bool {
        if self.limit == 0 {
            return false;
        }
        let mut sources = self.state.lock().unwrap_or_else(|e| e.into_inner());
        sources.prune(now);
        let key = key(source);
        if sources.windows.len() >= MAX_SOURCES && !sources.windows.contains_key(&key) {
            return false;
        }
        let window = sources.windows.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if window.is_over(now) {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        window.failures == self.limit
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.state.lock().unwrap().windows.len()
    }
}

impl Sources {
    /// Drops the windows that are over, at most once per [`WINDOW`].
    fn prune(&mut self, now: Instant) {
        if now < self.next_prune {
            return;
        }
        self.windows.retain(|_, window| !window.is_over(now));
        self.windows.shrink_to_fit();
        self.next_prune = now + WINDOW;
    }
}

/// `router` with the edge limits: every request takes a slot of `budget` (or gets `503` at
/// once), takes at most `request_timeout` (`408`, and the connection closes), and every error
/// answer without a body of its own (axum's `404`/`405`, the two above) gets a short plain-text
/// one.
pub fn apply<S>(router: Router<S>, budget: RequestBudget, request_timeout: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(
        ServiceBuilder::new()
            .layer(axum::middleware::map_response(plain_text_errors))
            .layer(axum::middleware::from_fn_with_state(budget, budget::limit))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                request_timeout,
            )),
    )
}

/// Gives an error answer without a body a plain-text one naming its status.
async fn plain_text_errors(response: Response) -> Response {
    let status = response.status();
    let empty = response.body().size_hint().exact() == Some(0);
    if !empty || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if status == StatusCode::REQUEST_TIMEOUT {
        // The body was not read to its end: the connection can't be used again.
        parts
            .headers
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(format!("{reason}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_source_is_blocked_after_its_limit_until_its_window_ends() {
        let limiter = FailedSignatureLimiter::new(3);
        let t0 = Instant::now();
        assert!(!limiter.record_failure_at(A, t0));
        assert!(!limiter.record_failure_at(A, t0 + secs(1)));
        assert_eq!(limiter.blocked_at(A, t0 + secs(1)), None);
        assert!(
            limiter.record_failure_at(A, t0 + secs(2)),
            "the third failure reaches the limit"
        );
        assert_eq!(limiter.blocked_at(A, t0 + secs(2)), Some(secs(58)));
        assert_eq!(
            limiter.blocked_at(B, t0 + secs(2)),
            None,
            "other sources are not affected"
        );
        assert!(!limiter.record_failure_at(A, t0 + secs(3)), "logged once");
        assert_eq!(limiter.blocked_at(A, t0 + secs(59)), Some(secs(1)));
        assert_eq!(limiter.blocked_at(A, t0 + secs(60)), None);
        assert!(
            !limiter.record_failure_at(A, t0 + secs(61)),
            "a new window starts"
        );
        assert_eq!(limiter.blocked_at(A, t0 + secs(61)), None);
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = FailedSignatureLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert!(!limiter.record_failure_at(A, t0));
        }
        assert_eq!(limiter.blocked_at(A, t0), None);
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn stale_sources_are_dropped() {
        let limiter = FailedSignatureLimiter::new(5);
        let t0 = Instant::now();
        limiter.record_failure_at(A, t0);
        limiter.record_failure_at(B, t0 + secs(30));
        assert_eq!(limiter.tracked(), 2);
        limiter.record_failure_at(B, t0 + secs(70));
        assert_eq!(limiter.tracked(), 1, "A's window ended; B's is still on");
    }

    #[test]
    fn ipv6_sources_count_per_64_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(same_net));
        assert_ne!(key(a), key(other_net));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(key(mapped), A);
        let limiter = FailedSignatureLimiter::new(1);
        let t0 = Instant::now();
        limiter.record_failure_at(a, t0);
        assert!(limiter.blocked_at(same_net, t0).is_some());
        assert!(limiter.blocked_at(other_net, t0).is_none());
    }

    #[tokio::test]
    async fn bodiless_errors_get_a_plain_text_reason() {
        let response = plain_text_errors(StatusCode::METHOD_NOT_ALLOWED.into_response()).await;
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"method not allowed\n");
        let own = plain_text_errors((StatusCode::UNAUTHORIZED, "own text\n").into_response()).await;
        let body = axum::body::to_bytes(own.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"own text\n");
        let ok = plain_text_errors(StatusCode::NO_CONTENT.into_response()).await;
        assert_eq!(ok.body().size_hint().exact(), Some(0));
    }
}
