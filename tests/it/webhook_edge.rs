//! The HTTP edge under abuse: floods of bad signatures, rotated secrets, the failed-signature
//! limit per source address, unknown paths and methods, slow and oversized requests, and a
//! full server. Everything goes through the real binary on loopback.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::common::*;
use invitebot::store::Store;
use reqwest::StatusCode;
use reqwest::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};

const JOIN: &str = "issues.opened.join-request.json";
const PING: &[u8] = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;

/// `[webhook] failed_signature_limit = n`.
fn failure_limit(n: &str) -> (&'static str, String) {
    (
        "[webhook]\n",
        format!("[webhook]\nfailed_signature_limit = {n}\n"),
    )
}

/// Asserts that nothing reached the store, the mail server or GitHub's write API, and that
/// the roster has no member.
async fn assert_untouched(app: &App) {
    let store = Store::open_existing(&app.server.data_dir())
        .expect("the store opens")
        .expect("the server created its store at start");
    assert!(
        store.recent_deliveries(10).unwrap().is_empty(),
        "a delivery was recorded"
    );
    assert!(store.open_jobs().unwrap().is_empty(), "a job was queued");
    let series = &app.server.options().series_id;
    assert!(
        store.members(series).unwrap().is_empty(),
        "an invitation was recorded"
    );
    assert!(app.smtp.messages().is_empty(), "mail was sent");
    assert!(
        app.github.writes().await.is_empty(),
        "{}",
        app.github.describe_requests().await
    );
    assert!(!app.server.roster_text().contains("[[member]]"));
}

/// `count` POSTs of `body` with `signature(i)`, `workers` at a time; returns each status seen
/// with how often.
async fn flood(
    server: &TestServer,
    body: Vec<u8>,
    count: usize,
    workers: usize,
    signature: fn(usize, &[u8]) -> Option<String>,
) -> Vec<(u16, usize)> {
    let url = format!("{}/webhook", server.base_url());
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let (client, url, body) = (server.client().clone(), url.clone(), body.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for i in (worker..count).step_by(workers) {
                let mut request = client
                    .post(&url)
                    .header("X-GitHub-Event", "issues")
                    .header("X-GitHub-Delivery", new_delivery_id())
                    .header("Content-Type", "application/json")
                    .body(body.clone());
                if let Some(signature) = signature(i, &body) {
                    request = request.header("X-Hub-Signature-256", signature);
                }
                let response = request.send().await.expect("the server answers");
                statuses.push(response.status().as_u16());
            }
            statuses
        });
    }
    let mut seen = std::collections::BTreeMap::new();
    while let Some(statuses) = tasks.join_next().await {
        for status in statuses.unwrap() {
            *seen.entry(status).or_insert(0) += 1;
        }
    }
    seen.into_iter().collect()
}

/// Wrong in every way GitHub's header can be wrong: another secret, another body, malformed,
/// missing.
fn wrong_signature(i: usize, body: &[u8]) -> Option<String> {
    match i % 4 {
        0 => Some(sign("not-the-secret", body)),
        1 => Some(sign(TEST_SECRET, b"another body")),
        2 => Some(format!("sha256={}", "0".repeat(63))),
        _ => None,
    }
}

#[tokio::test]
async fn a_thousand_wrong_signatures_are_all_401_and_touch_nothing() {
    let (from, to) = failure_limit("0");
    let app = App::start_with_config(&[(from, &to)]).await;
    let started = Instant::now();
    let seen = flood(&app.server, fixture(JOIN), 1000, 16, wrong_signature).await;
    assert_eq!(seen, [(401, 1000)], "statuses and counts");
    eprintln!("1000 rejected deliveries in {:?}", started.elapsed());
    assert_untouched(&app).await;
    let (status, text) = app.server.deliver("ping", PING).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::OK, "ignored: not an event invitebot acts on\n")
    );
}

/// The status of a ping signed with `secret`.
async fn ping_signed_with(server: &TestServer, secret: &str) -> StatusCode {
    let signature = sign(secret, PING);
    server
        .post_webhook("ping", &new_delivery_id(), PING, Some(signature))
        .await
        .0
}

#[tokio::test]
async fn during_a_rotation_old_and_new_secrets_are_accepted() {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    opts.env.push((
        "INVITEBOT_WEBHOOK_SECRET".into(),
        "new-secret, old-secret".into(),
    ));
    let server = TestServer::start(opts).await;
    for (secret, expected) in [
        ("old-secret", StatusCode::OK),
        ("new-secret", StatusCode::OK),
        ("new-secret, old-secret", StatusCode::UNAUTHORIZED),
        (TEST_SECRET, StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(
            ping_signed_with(&server, secret).await,
            expected,
            "{secret:?}"
        );
    }
    for secret in ["old-secret", "new-secret"] {
        server.assert_log_lacks(secret);
    }
}

#[tokio::test]
async fn a_secret_removed_from_the_secret_file_is_rejected_after_a_restart() {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    // Blank: the harness's variable is then ignored and the file is read.
    opts.secret = String::new();
    let ws = Workspace::edited(
        opts,
        &[(
            "[webhook]\n",
            "[webhook]\nsecret_file = \"webhook-secrets\"\n",
        )],
    );
    let file = ws.root().join("webhook-secrets");
    std::fs::write(
        &file,
        "# rotating since 2026-11-20\nnew-secret\nold-secret\n",
    )
    .unwrap();
    let mut server = TestServer::start_in(ws).await;
    assert_eq!(
        ping_signed_with(&server, "old-secret").await,
        StatusCode::OK
    );
    assert_eq!(
        ping_signed_with(&server, "new-secret").await,
        StatusCode::OK
    );
    assert_eq!(
        ping_signed_with(&server, "older-secret").await,
        StatusCode::UNAUTHORIZED
    );

    std::fs::write(&file, "new-secret\n").unwrap();
    server.restart().await;
    assert_eq!(
        ping_signed_with(&server, "old-secret").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ping_signed_with(&server, "new-secret").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_source_over_the_failure_limit_gets_429_for_bad_requests_but_its_signed_deliveries_get_through()
 {
    let (from, to) = failure_limit("5");
    let app = App::start_with_config(&[(from, &to)]).await;
    let body = fixture(JOIN);
    let wrong = Some(sign("not-the-secret", &body));
    for _ in 0..5 {
        let (status, _) = app
            .server
            .post_webhook("issues", &new_delivery_id(), &body, wrong.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    // Over the limit: a wrong signature gets 429 (and no log line of its own).
    let response = app
        .server
        .client()
        .post(format!("{}/webhook", app.server.base_url()))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", new_delivery_id())
        .header("X-Hub-Signature-256", sign("not-the-secret", &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["connection"], "close");
    let retry_after: u64 = response.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=60).contains(&retry_after),
        "Retry-After: {retry_after}"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "too many failed signatures from this address; try again later\n"
    );

    // A header that can't be a signature is answered before the body is read: the server does
    // not wait for 64 KiB that never come.
    let started = Instant::now();
    let mut stream = send_raw(&app.server, &raw_post("sha256=00", 65536, b"{")).await;
    let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_untouched(&app).await;

    // Another source address is not affected.
    let other = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let post_from_other = |signature: String| {
        other
            .post(format!("{}/webhook", app.server.base_url()))
            .header("X-GitHub-Event", "ping")
            .header("X-GitHub-Delivery", new_delivery_id())
            .header("X-Hub-Signature-256", signature)
            .body(PING)
            .send()
    };
    let response = post_from_other(sign("not-the-secret", PING)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = post_from_other(sign(TEST_SECRET, PING)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A correctly signed join request from the limited address is verified and accepted.
    let (status, _) = app.server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_mail(1).await;
}

#[tokio::test]
async fn only_post_webhook_is_served_and_errors_are_short_plain_text() {
    let app = App::start_with_config(&[("[server]\n", "[server]\nmax_body_bytes = 4096\n")]).await;
    let client = app.server.client();
    let url = |path: &str| format!("{}{path}", app.server.base_url());
    let cases = [
        (
            reqwest::Method::GET,
            "/webhook",
            405,
            "method not allowed\n",
        ),
        (
            reqwest::Method::PUT,
            "/webhook",
            405,
            "method not allowed\n",
        ),
        (
            reqwest::Method::DELETE,
            "/webhook",
            405,
            "method not allowed\n",
        ),
        // `/` is the public meetings page (GET only).
        (reqwest::Method::POST, "/", 405, "method not allowed\n"),
        (reqwest::Method::GET, "/calendar/", 404, "not found\n"),
        (reqwest::Method::POST, "/webhook/", 404, "not found\n"),
        (reqwest::Method::POST, "/hooks", 404, "not found\n"),
        (reqwest::Method::GET, "/.env", 404, "not found\n"),
    ];
    for (method, path, status, text) in cases {
        let response = client
            .request(method.clone(), url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        let content_type = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("text/plain"),
            "{method} {path}: {content_type}"
        );
        if status == 405 {
            let allowed = if path == "/" { "GET,HEAD" } else { "POST" };
            assert_eq!(response.headers()[ALLOW], allowed, "{method} {path}");
        }
        assert_eq!(response.text().await.unwrap(), text, "{method} {path}");
    }
    // The body limit from the config. The body is not read, so the answer closes the connection
    // (`Connection: close`): the client's next request, on a new one, still gets through.
    let big = vec![b' '; 40_000];
    let (status, text) = app.server.deliver("ping", &big).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n")
    );
    let (status, _) = app.server.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_untouched(&app).await;
}

#[tokio::test]
async fn a_slow_request_gets_408_and_a_full_server_sheds_with_503() {
    let app = App::start_with_config(&[(
        "[server]\n",
        "[server]\nmax_in_flight = 1\nrequest_timeout_secs = 2\n",
    )])
    .await;
    // Takes the only slot: 100 bytes announced, 1 sent.
    let started = Instant::now();
    let mut slow = send_raw(&app.server, &raw_post("sha256=00", 100, b"{")).await;
    let mut seen = None;
    let mut poll = Poll::new(Duration::from_millis(1500));
    while poll.next().await {
        // `/healthz` is never shed; any other request is.
        let (health, _) = app.server.get("/healthz").await;
        assert_eq!(health, StatusCode::OK);
        let response = app
            .server
            .client()
            .get(format!("{}/webhook", app.server.base_url()))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().contains_key(RETRY_AFTER));
            seen = Some(response.text().await.unwrap());
            break;
        }
    }
    assert_eq!(
        seen.as_deref(),
        Some("busy: too many requests at once; try again shortly\n"),
        "no 503 while the only slot was taken\n{}",
        app.server.logs()
    );
    let answer = read_answer(&mut slow, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nrequest timeout\n"), "{answer}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
    let (status, _) = app.server.get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "the slot is free again");
    assert_untouched(&app).await;
}
