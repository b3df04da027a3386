//! The minimal correct webhook receiver for the benchmark (`scripts/bench`,
//! `docs/benchmarks.md`): what any receiver must do, on the same runtime, HTTP stack and body
//! limit as invitebot, and nothing more. It reads the raw body, checks `X-Hub-Signature-256`
//! (HMAC-SHA256, constant-time comparison) with the secret in `INVITEBOT_WEBHOOK_SECRET`,
//! validates the body as JSON without building a tree, and answers `202` (or `401` for a
//! missing or wrong signature, `400` for a body that is not JSON). No store, no log, no
//! deduplication: the floor an ack path can approach, where the do-nothing ceiling shows the
//! HTTP stack alone.
//!
//! `INVITEBOT_WEBHOOK_SECRET=... cargo run --release --example minimal_receiver -- [ADDR]`
//! (default `127.0.0.1:8086`; loopback only).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret's HMAC state with the key already absorbed; cloned per request.
#[derive(Clone)]
struct Secret(Hmac<Sha256>);

/// `sha256=` and 64 hex digits, decoded.
fn signature(headers: &HeaderMap) -> Option<[u8; 32]> {
    let value = headers.get("x-hub-signature-256")?.as_bytes();
    let hex = value.strip_prefix(b"sha256=")?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex, &mut digest).ok()?;
    Some(digest)
}

async fn receive(
    State(secret): State<Secret>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(expected) = signature(&headers) else {
        return (StatusCode::UNAUTHORIZED, "signature missing\n");
    };
    let mut mac = secret.0.clone();
    mac.update(&body);
    // `verify_slice` compares in constant time.
    if mac.verify_slice(&expected).is_err() {
        return (StatusCode::UNAUTHORIZED, "signature invalid\n");
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return (StatusCode::BAD_REQUEST, "body is not JSON\n");
    }
    (StatusCode::ACCEPTED, "accepted\n")
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8086".to_string());
    let key = std::env::var("INVITEBOT_WEBHOOK_SECRET")
        .map_err(|_| std::io::Error::other("INVITEBOT_WEBHOOK_SECRET is not set"))?;
    let secret = Secret(
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length"),
    );
    // The same runtime invitebot's `serve` uses (see examples/ceiling.rs).
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Router::new()
            .route("/webhook", post(receive))
            .route("/healthz", get(|| async { "ok\n" }))
            .layer(DefaultBodyLimit::max(1 << 20))
            .with_state(secret);
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("minimal receiver listening on {}", listener.local_addr()?);
        axum::serve(listener, app).await
    })
}
