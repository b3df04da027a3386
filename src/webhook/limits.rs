//! The layers every limited request passes: a request slot of the [`RequestBudget`] (or `503` at
//! once), at most `request_timeout` (or `408`), and a short plain-text answer for every error.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;

use super::budget::{self, RequestBudget};

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
