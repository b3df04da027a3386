//! Hostile traffic at the public listener, tried as an attacker would, with raw sockets against
//! the real server: slow heads, trickled bodies, big bodies with bad signatures, floods of
//! rejections, too many connections. The server's memory stays within its budget, GitHub's
//! deliveries (signed, from another address) keep getting through, and the log stays readable.
//! Also: the operations endpoints live on their own listener, and an idle server stays idle.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::common::*;

const JOIN: &str = "issues.opened.join-request.json";
const PING: &[u8] = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const GITHUB: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// A figure of the server process from `/proc/PID/status`, in KiB (`VmRSS`, `VmHWM`).
fn memory_kib(server: &TestServer, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    status
        .lines()
        .find_map(|line| {
            line.strip_prefix(field)?
                .trim_start_matches(':')
                .trim()
                .strip_suffix("kB")
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc status"))
}

/// A TCP connection to the server from `source`.
async fn connect_from(server: &TestServer, source: Ipv4Addr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind((source, 0).into())?;
    socket.connect(server.addr()).await
}

/// Whether the server closed `stream` (end of file or reset) within `timeout`; any answer it
/// wrote first is read and dropped.
async fn closed_within(stream: &mut TcpStream, timeout: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(timeout, read_to_end).await.is_ok()
}

/// A signed ping from GitHub's address: the status.
async fn github_ping(server: &TestServer) -> StatusCode {
    client_from(GITHUB)
        .post(format!("{}/webhook", server.base_url()))
        .header("X-GitHub-Event", "ping")
        .header("X-GitHub-Delivery", new_delivery_id())
        .header("X-Hub-Signature-256", sign(TEST_SECRET, PING))
        .body(PING)
        .send()
        .await
        .map(|response| response.status())
        .unwrap_or_else(|error| panic!("GitHub's ping got no answer: {error}"))
}

/// The value of the Prometheus counter or gauge `name` (the unlabelled series).
async fn metric(server: &TestServer, name: &str) -> f64 {
    let (status, text) = server.admin_get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn slow_heads_are_cut_off_within_the_header_timeout_and_memory_stays_flat() {
    let app =
        App::start_with_config(&[("[server]\n", "[server]\nheader_timeout_secs = 2\n")]).await;
    let before = memory_kib(&app.server, "VmRSS");
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = connect_from(&app.server, ATTACKER).await.unwrap();
        stream
            .write_all(b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-Padding: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // A header byte now and then, never the end of the head.
    let started = Instant::now();
    let trickle = async {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            for stream in &mut slow {
                let _ = stream.write_all(b"a").await;
            }
        }
    };
    trickle.await;
    for stream in &mut slow {
        assert!(
            closed_within(stream, Duration::from_secs(3)).await,
            "a slow head was still open after {:?}",
            started.elapsed()
        );
    }
    assert_eq!(github_ping(&app.server).await, StatusCode::OK);
    let after = memory_kib(&app.server, "VmRSS");
    assert!(
        after < before + 20 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test]
async fn a_head_larger_than_16_kib_is_refused() {
    let app = App::start().await;
    let mut stream = connect_from(&app.server, ATTACKER).await.unwrap();
    let padding = "a".repeat(20 * 1024);
    let request = format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: {padding}\r\n\r\n");
    let _ = stream.write_all(request.as_bytes()).await;
    let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn bodies_trickled_from_one_address_leave_room_for_github_and_the_health_check() {
    let app = App::start_with_config(&[(
        "[server]\n",
        "[server]\nrequest_timeout_secs = 8\nmax_connections_per_source = 250\n",
    )])
    .await;
    // 200 requests from one address, each announcing 1,000 bytes and sending one.
    let mut trickling = Vec::new();
    for _ in 0..200 {
        let mut stream = connect_from(&app.server, ATTACKER).await.unwrap();
        stream
            .write_all(&raw_post(&sign(TEST_SECRET, b"x"), 1000, b"{"))
            .await
            .unwrap();
        trickling.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        let (status, _) = app.server.get("/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(github_ping(&app.server).await, StatusCode::OK);
        // A join request from GitHub's address is accepted too.
        let join = client_from(GITHUB)
            .post(format!("{}/webhook", app.server.base_url()))
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", new_delivery_id())
            .header("X-Hub-Signature-256", sign(TEST_SECRET, &fixture(JOIN)))
            .body(fixture(JOIN))
            .send()
            .await
            .unwrap();
        assert!(join.status().is_success(), "{}", join.status());
    }
    // Most of the attacker's requests were shed at once (one source gets an eighth of the
    // slots); none of them got further than its answer.
    let mut shed = 0;
    for stream in &mut trickling {
        let answer = read_answer(stream, Duration::from_secs(12)).await;
        assert!(
            answer.starts_with("HTTP/1.1 503") || answer.starts_with("HTTP/1.1 408"),
            "{answer}"
        );
        shed += usize::from(answer.starts_with("HTTP/1.1 503"));
    }
    assert!(shed >= 150, "only {shed} of 200 were shed");
    app.wait_for_mail(1).await;
}

#[tokio::test]
async fn a_hundred_one_mib_bodies_with_bad_signatures_stay_within_the_memory_budget() {
    let app = App::start().await;
    let body = vec![b' '; 1024 * 1024];
    let url = format!("{}/webhook", app.server.base_url());
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0u8..20 {
        let (client, url, body) = (client_from(ATTACKER), url.clone(), body.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..5 {
                let response = client
                    .post(&url)
                    .header("X-GitHub-Event", "issues")
                    .header("X-GitHub-Delivery", new_delivery_id())
                    .header("X-Hub-Signature-256", sign("not-the-secret", &[worker]))
                    .body(body.clone())
                    .send()
                    .await;
                statuses.push(response.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        statuses.extend(done.unwrap());
    }
    assert_eq!(statuses.len(), 100);
    assert!(
        statuses.iter().all(|s| [401, 429, 503, 0].contains(s)),
        "{statuses:?}"
    );
    let peak = memory_kib(&app.server, "VmHWM");
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    assert_eq!(github_ping(&app.server).await, StatusCode::OK);
}

#[tokio::test]
async fn after_a_hundred_bad_signatures_a_signed_delivery_from_the_same_address_is_accepted() {
    let app = App::start().await;
    let body = fixture(JOIN);
    for _ in 0..100 {
        let (status, _) = app
            .server
            .post_webhook(
                "issues",
                &new_delivery_id(),
                &body,
                Some(sign("wrong", &body)),
            )
            .await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&status),
            "{status}"
        );
    }
    let (status, _) = app.server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, ["ada@example.org"]);
}

#[tokio::test]
async fn a_thousand_rejections_make_a_few_summary_lines_not_a_thousand() {
    let app = App::start_with_config(&[
        ("[server]\n", "[server]\nlog_summary_secs = 1\n"),
        ("[webhook]\n", "[webhook]\nfailed_signature_limit = 0\n"),
    ])
    .await;
    let lines_before = app.server.log_lines().len();
    let url = format!("{}/webhook", app.server.base_url());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (client, url) = (app.server.client().clone(), url.clone());
        tasks.spawn(async move {
            for _ in 0..100 {
                let response = client
                    .post(&url)
                    .header("X-GitHub-Event", "ping")
                    .header("X-Hub-Signature-256", sign("wrong", PING))
                    .body(PING)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    // The summaries of the intervals the flood fell into, and one more.
    let summed = app
        .server
        .wait_until(
            "summaries counting 1000 bad signatures",
            DEFAULT_WAIT,
            || {
                let counted: u64 = app.server.log_lines()[lines_before..]
                    .iter()
                    .filter(|line| line.contains("requests rejected at the edge"))
                    .filter(|line| line.contains("bad-signature"))
                    .filter_map(|line| {
                        let count = line.split("count=").nth(1)?;
                        count.split_whitespace().next()?.parse::<u64>().ok()
                    })
                    .sum();
                (counted == 1000).then_some(counted)
            },
        )
        .await;
    assert_eq!(summed, 1000);
    let new_lines = app.server.log_lines().len() - lines_before;
    assert!(
        new_lines < 10,
        "{new_lines} log lines:\n{}",
        app.server.logs()
    );
    assert_eq!(
        metric(&app.server, "invitebot_signature_failures_total").await,
        1000.0
    );
}

#[tokio::test]
async fn connections_past_the_per_source_cap_are_closed_at_once_and_others_connect() {
    let app =
        App::start_with_config(&[("[server]\n", "[server]\nmax_connections_per_source = 5\n")])
            .await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(connect_from(&app.server, ATTACKER).await.unwrap());
    }
    // Give the server a moment to count them (accepting is asynchronous).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sixth = connect_from(&app.server, ATTACKER).await.unwrap();
    assert!(
        closed_within(&mut sixth, Duration::from_secs(2)).await,
        "the sixth connection from one address stayed open"
    );
    assert_eq!(github_ping(&app.server).await, StatusCode::OK);
    drop(held);
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let app = App::start_with_config(&[("[server]\n", "[server]\nidle_timeout_secs = 1\n")]).await;
    let mut stream = connect_from(&app.server, ATTACKER).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let started = Instant::now();
    assert!(closed_within(&mut stream, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn metrics_and_readiness_are_on_the_operations_listener_only() {
    let app = App::start().await;
    for path in ["/metrics", "/readyz"] {
        let (status, text) = app.server.get(path).await;
        assert_eq!(
            (status, text.as_str()),
            (StatusCode::NOT_FOUND, "not found\n"),
            "{path}"
        );
    }
    assert_eq!(app.server.deliver("ping", PING).await.0, StatusCode::OK);
    let (status, text) = app.server.admin_get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("invitebot_deliveries_total{event=\"ping\",outcome=\"ignored\"} 1"),
        "{text}"
    );
    assert_eq!(app.server.admin_get("/readyz").await.0, StatusCode::OK);
    assert_eq!(app.server.admin_get("/healthz").await.0, StatusCode::OK);
    assert_eq!(app.server.get("/healthz").await.0, StatusCode::OK);
    assert_ne!(app.server.admin_addr().port(), app.server.addr().port());
    // Deliveries are not served there.
    let response = app
        .server
        .client()
        .post(format!("http://{}/webhook", app.server.admin_addr()))
        .body(PING)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_idle_server_runs_no_reconciliation() {
    let app = App::start().await;
    // The start-up pass, then quiet.
    let mut poll = Poll::new(DEFAULT_WAIT);
    while poll.next().await {
        if metric(&app.server, "invitebot_reconcile_runs_total").await >= 1.0 {
            break;
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = metric(&app.server, "invitebot_reconcile_runs_total").await;
    assert!(before >= 1.0, "no start-up reconciliation: {before}");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = metric(&app.server, "invitebot_reconcile_runs_total").await;
    assert_eq!(before, after, "reconciliation passes while idle");
}

#[tokio::test]
async fn a_signed_body_replayed_under_new_delivery_ids_is_handled_once() {
    let app = App::start().await;
    // `reopened` is handled every time it comes (not once per issue): only the body tells a
    // replay from a real reopening.
    let reopened = fixture_with(JOIN, |v| v["action"] = "reopened".into());
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let (status, text) = app.server.deliver("issues", &reopened).await;
        statuses.push((status.as_u16(), text));
    }
    assert_eq!(statuses[0].0, 202, "{statuses:?}");
    for (status, text) in &statuses[1..] {
        assert_eq!((*status, text.as_str()), (200, "already received\n"));
    }
    app.wait_for_mail(1).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.messages().len(), 1);
    assert_eq!(app.github.comments().await.len(), 1);
    let store = invitebot::store::Store::open_existing(&app.server.data_dir())
        .unwrap()
        .unwrap();
    let replayed = store
        .recent_deliveries(10)
        .unwrap()
        .into_iter()
        .filter(|d| d.outcome == "replayed")
        .count();
    assert_eq!(replayed, 5);
}
