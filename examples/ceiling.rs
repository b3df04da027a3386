//! The do-nothing ceiling for the webhook benchmark (`scripts/bench`, `docs/benchmarks.md`):
//! a minimal axum server on the same runtime, HTTP stack and body limit as invitebot that reads
//! the whole request body and answers `202 Accepted`. No signature check, no parsing, no store.
//!
//! `cargo run --release --example ceiling -- [ADDR]` (default `127.0.0.1:8083`; loopback only).

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};

async fn receive(body: Bytes) -> (StatusCode, &'static str) {
    std::hint::black_box(&body);
    (StatusCode::ACCEPTED, "accepted\n")
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8083".to_string());
    // The same runtime invitebot's `serve` uses (`Runtime::new()`: multi-threaded, one worker per
    // available CPU, so `taskset -c 0` gives one worker).
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Router::new()
            .route("/webhook", post(receive))
            .route("/healthz", get(|| async { "ok\n" }))
            .layer(DefaultBodyLimit::max(1 << 20));
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("ceiling listening on {}", listener.local_addr()?);
        axum::serve(listener, app).await
    })
}
