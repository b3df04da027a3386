//! Time from posting a signed join request to the SMTP server's acceptance of the invitation.
//!
//! Runs the real binary (built by cargo for this bench) against an in-process SMTP server and a
//! wiremock GitHub, all on loopback. Each round is a new requester (a new roster entry). Prints
//! the median, p90, min and max over `ROUNDS` rounds (default 20, env `BENCH_ROUNDS`).
//!
//! `cargo bench --bench delivery_to_smtp` (release build) or
//! `cargo test --bench delivery_to_smtp` (debug, one quick round as a smoke test).

// The integration-test harness; a bench uses only a small part of it.
#[path = "../tests/it/common/mod.rs"]
#[allow(dead_code, unused_imports)]
mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let smoke = std::env::args().all(|a| a != "--bench");
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(if smoke { 1 } else { 20 });
    let app = App::start_with(|o| {
        // Every round is a new member: the daily limit on newcomers must not hold them.
        o.series_config = "max_new_per_day = 0".into();
        o.rust_log =
            std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn,invitebot::server=info".into());
    })
    .await;
    let mut samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let login = format!("newcomer-{round}");
        let body = fixture_with("issues.opened.join-request.json", |v| {
            v["issue"]["number"] = Value::from(100 + round as u64);
            v["issue"]["user"]["login"] = Value::from(login.clone());
            v["issue"]["body"] = Value::from(format!(
                "### Your name\n\nNew Comer {round}\n\n### Email for the calendar invite\n\n{login}@example.org\n"
            ));
        });
        let started = Instant::now();
        let (status, _) = app.server.deliver("issues", &body).await;
        assert_eq!(status, 202);
        let mails = app.wait_for_mail(round + 1).await;
        let accepted = mails[round].received_at;
        samples.push(accepted.duration_since(started));
        // Let the reply finish so rounds don't overlap.
        app.wait_for_github(GitHubMock::is_close_call, round + 1)
            .await;
    }
    report(&mut samples);
    if std::env::var("BENCH_LOG").is_ok() {
        eprintln!("{}", app.server.logs());
    }
}

fn report(samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "delivery -> SMTP acceptance over {} rounds: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, min {:.2} ms, max {:.2} ms",
        samples.len(),
        ms(pick(0.5)),
        ms(pick(0.9)),
        ms(pick(0.99)),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
    );
}
