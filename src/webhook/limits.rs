//! The limits every limited request passes, as one layer: a request slot of the
//! [`RequestBudget`] (or `503` at once), at most `request_timeout` (or `408`), and a short
//! plain-text answer for every error. One hand-written service instead of three middlewares:
//! it is on every request's path, and each middleware costs its own boxed future and clones.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::budget::{self, RequestBudget};

/// `router` with the edge limits: every request takes a slot of `budget` (or gets `503` at
/// once), takes at most `request_timeout` (`408`, and the connection closes), and every error
/// answer without a body of its own (axum's `404`/`405`, the two above) gets a short plain-text
/// one.
pub fn apply<S>(
    router: Router<S>,
    budget: Arc<RequestBudget>,
    request_timeout: Duration,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(Limits {
        budget,
        request_timeout,
    })
}

/// The limits' settings, shared by every request.
#[derive(Clone)]
struct Limits {
    budget: Arc<RequestBudget>,
    request_timeout: Duration,
}

impl<S> Layer<S> for Limits {
    type Service = Limited<S>;

    fn layer(&self, inner: S) -> Limited<S> {
        Limited {
            inner,
            limits: self.clone(),
        }
    }
}

/// A route behind the [`Limits`].
#[derive(Clone)]
struct Limited<S> {
    inner: S,
    limits: Limits,
}

impl<S> Service<Request> for Limited<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The service that was made ready answers; a fresh clone waits for the next request.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        Box::pin(self.limits.clone().run(ready, request))
    }
}

impl Limits {
    async fn run<S>(self, mut inner: S, request: Request) -> Result<Response, Infallible>
    where
        S: Service<Request, Response = Response, Error = Infallible>,
    {
        let source = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let slot = match self.budget.admit(source) {
            Ok(slot) => slot,
            Err(why) => return Ok(budget::busy(why)),
        };
        let link = budget::is_link_page(request.uri().path());
        let answer = tokio::time::timeout(self.request_timeout, inner.call(request)).await;
        drop(slot);
        let response = match answer {
            Ok(Ok(response)) => response,
            Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
        };
        self.budget.account(response.status(), source, link);
        Ok(plain_text_errors(response))
    }
}

/// Gives an error answer without a body a plain-text one naming its status.
fn plain_text_errors(response: Response) -> Response {
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

    #[tokio::test]
    async fn bodiless_errors_get_a_plain_text_reason() {
        let response = plain_text_errors(StatusCode::METHOD_NOT_ALLOWED.into_response());
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"method not allowed\n");
        let own = plain_text_errors((StatusCode::UNAUTHORIZED, "own text\n").into_response());
        let body = axum::body::to_bytes(own.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"own text\n");
        let ok = plain_text_errors(StatusCode::NO_CONTENT.into_response());
        assert_eq!(ok.body().size_hint().exact(), Some(0));
    }
}
