//! The whole service, end to end: the real binary on a loopback port, signed deliveries built
//! from GitHub's payloads, a real SMTP server, and a wiremock GitHub API.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

const JOIN: &str = "issues.opened.join-request.json";
const ADA: &str = "ada@example.org";

/// The join request with its issue body replaced.
fn join_with_body(body: &str) -> Vec<u8> {
    fixture_with(JOIN, |v| v["issue"]["body"] = Value::from(body))
}

#[tokio::test]
async fn a_join_request_becomes_an_invite_a_roster_entry_and_a_reply() {
    let app = App::start().await;
    let roster_before = app.server.roster_text();

    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // The invitation: one message, to Ada only, iMIP.
    let mails = app.wait_for_mail(1).await;
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, [ADA]);
    assert_eq!(mail.to_addresses(), [ADA]);
    assert!(mail.cc_addresses().is_empty());
    assert_eq!(mail.from_addresses(), ["ispo-wg@example.org"]);
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(
        mail.header("Message-ID")
            .is_some_and(|id| id.ends_with("@example.org>")),
        "{:?}",
        mail.header("Message-ID")
    );
    assert!(
        mail.content_type()
            .unwrap()
            .starts_with("multipart/alternative"),
        "{:?}",
        mail.content_type()
    );
    assert_eq!(mail.calendar_method().as_deref(), Some("REQUEST"));
    let ics = mail.expect_calendar();
    for line in [
        "METHOD:REQUEST",
        "BEGIN:VTIMEZONE",
        "TZID:America/Los_Angeles",
        "UID:ispo-wg.codertocat.hello-world@invitebot",
        "SEQUENCE:0",
        "DTSTART;TZID=America/Los_Angeles:20240506T080000",
        "DTEND;TZID=America/Los_Angeles:20240506T090000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "SUMMARY:ISPO Working Group",
        "ORGANIZER;CN=\"ISPO Working Group\":mailto:ispo-wg@example.org",
    ] {
        assert!(
            ics.contains(&format!("{line}\r\n")),
            "missing {line:?} in\n{ics}"
        );
    }
    let unfolded = ics.replace("\r\n ", "");
    assert_eq!(unfolded.matches("ATTENDEE").count(), 1, "{ics}");
    assert!(unfolded.contains("ATTENDEE;CN=\"Ada Lovelace\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ada@example.org"), "{unfolded}");
    let text = mail.plain_text().unwrap();
    assert!(text.contains("Hello Ada Lovelace"), "{text}");
    assert!(
        text.contains("every other week on Monday at 08:00 (America/Los_Angeles)"),
        "{text}"
    );
    assert!(text.contains("UTC)"), "{text}");

    // The reply: a comment without the address, the label, closed.
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    let comments = app.github.comments().await;
    assert_eq!(comments.len(), 1);
    assert_eq!(
        (comments[0].full_name(), comments[0].number),
        ("Codertocat/Hello-World".to_string(), 2)
    );
    let comment = comments[0].text();
    assert!(
        comment.contains("@Codertocat") && comment.contains("ISPO Working Group"),
        "{comment}"
    );
    assert!(
        comment.contains("next meeting is on Monday") && comment.contains("UTC)"),
        "{comment}"
    );
    let labels = app.github.label_calls().await;
    assert_eq!(labels.len(), 1);
    assert_eq!(labels[0].labels(), ["invited"]);
    let closes = app.github.close_calls().await;
    assert_eq!(closes.len(), 1);
    assert_eq!(closes[0].body["state"], "closed");
    // Name and email came from the form: no profile lookup.
    assert!(app.github.user_lookups().await.is_empty());

    // The roster: maintainers' text kept byte for byte, Ada appended.
    let roster = app.server.roster_text();
    assert!(
        roster.starts_with(&roster_before),
        "the maintainers' text changed:\n{roster}"
    );
    let added = &roster[roster_before.len()..];
    for line in [
        "[[member]]",
        "github = \"Codertocat\"",
        "name = \"Ada Lovelace\"",
        "email = \"ada@example.org\"",
        "via = \"Codertocat/Hello-World#2\"",
    ] {
        assert!(
            added.contains(line),
            "missing {line:?} in the roster:\n{roster}"
        );
    }

    // One log line with the outcome; no address or secret anywhere public.
    app.server
        .wait_for_log("outcome=\"invited\"", DEFAULT_WAIT)
        .await;
    app.assert_private(&[ADA]).await;
}

#[tokio::test]
async fn deliveries_that_are_not_join_requests_change_nothing() {
    let app = App::start().await;
    let roster_before = app.server.roster_text();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("issues", fixture("issues.opened.json")),
        ("issues", fixture("issues.opened.with-empty-body.json")),
        ("issues", fixture("issues.edited.json")),
        ("issues", fixture("issues.labeled.json")),
        (
            "issues",
            fixture_with(JOIN, |v| v["action"] = Value::from("typed")),
        ),
        (
            "issues",
            fixture_with(JOIN, |v| v["sender"]["type"] = Value::from("Bot")),
        ),
        (
            "issues",
            fixture_with(JOIN, |v| {
                v["repository"]["full_name"] = Value::from("Someone/Else")
            }),
        ),
        ("issue_comment", fixture("issue_comment.created.json")),
        ("ping", fixture("ping.json")),
        ("ping", fixture("ping.with-app_id.json")),
        ("installation", fixture("installation.created.json")),
        ("star", br#"{"action":"created"}"#.to_vec()),
    ];
    for (event, body) in &cases {
        let (status, text) = app.server.deliver(event, body).await;
        assert_eq!(status, StatusCode::OK, "{event}: {text}");
    }
    // A join request afterwards is handled, so the ones above had their chance to act.
    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert_eq!(app.smtp.messages().len(), 1);
    assert_eq!(app.github.comments().await.len(), 1);
    assert_eq!(
        app.github.writes().await.len(),
        3,
        "{}",
        app.github.describe_requests().await
    );
    assert_eq!(
        app.server.roster_text().matches("[[member]]").count(),
        roster_before.matches("[[member]]").count() + 1
    );
}

#[tokio::test]
async fn unverifiable_and_malformed_deliveries_are_rejected() {
    let app = App::start().await;
    let body = fixture(JOIN);
    let id = new_delivery_id();
    let cases: Vec<(Option<String>, StatusCode)> = vec![
        (None, StatusCode::UNAUTHORIZED),
        (Some(sign("wrong-secret", &body)), StatusCode::UNAUTHORIZED),
        (
            Some(sign(TEST_SECRET, b"another body")),
            StatusCode::UNAUTHORIZED,
        ),
        (Some("sha256=not-hex".to_string()), StatusCode::UNAUTHORIZED),
        (
            Some(sign(TEST_SECRET, &body).replace("sha256=", "sha1=")),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (signature, expected) in cases {
        let (status, text) = app
            .server
            .post_webhook("issues", &id, &body, signature.clone())
            .await;
        assert_eq!(status, expected, "{signature:?}: {text}");
        assert_eq!(text, "signature missing or invalid\n");
    }
    // Verified but not JSON, or JSON of the wrong shape: 400.
    for (event, bad) in [
        ("issues", &b"{\"action\": \"opened\", "[..]),
        ("ping", b"not json"),
        ("issues", br#"{"action":"opened","issue":{"number":"two"}}"#),
    ] {
        let (status, text) = app
            .server
            .post_webhook(event, &id, bad, Some(sign(TEST_SECRET, bad)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    }
    // Too large (the default limit is 5 MiB): 413 from the declared length, before any body is read.
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-GitHub-Event: issues\r\nContent-Length: {}\r\n\r\n",
        6 * 1024 * 1024
    );
    assert!(
        raw_http(&app.server, head.as_bytes())
            .await
            .starts_with("HTTP/1.1 413")
    );
    // Nothing happened.
    let (status, _) = app.server.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.smtp.messages().is_empty());
    assert!(
        app.github.writes().await.is_empty() && app.github.user_lookups().await.is_empty(),
        "{}",
        app.github.describe_requests().await
    );
    assert!(!app.server.roster_text().contains("[[member]]"));
    app.server
        .wait_for_log("outcome=\"rejected\"", DEFAULT_WAIT)
        .await;
}

/// Sends raw bytes to the server and returns what it answers (for requests reqwest won't make).
async fn raw_http(server: &TestServer, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = vec![0; 4096];
    let n = stream.read(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn the_configured_body_limit_applies_to_declared_and_chunked_bodies() {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let ws = Workspace::new(ServerOptions::new(&github, &smtp));
    ws.write_config(&ws.config_text().replacen(
        "[server]\n",
        "[server]\nmax_body_bytes = 4096\n",
        1,
    ));
    let server = TestServer::start_in(ws).await;
    let body = fixture(JOIN);
    assert!(body.len() > 4096);
    let (status, _) = server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let mut chunked = format!(
        "POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-GitHub-Event: issues\r\nX-Hub-Signature-256: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        sign(TEST_SECRET, &body),
        body.len()
    )
    .into_bytes();
    chunked.extend_from_slice(&body);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    assert!(
        raw_http(&server, &chunked)
            .await
            .starts_with("HTTP/1.1 413")
    );
    let (status, _) = server.deliver("ping", br#"{"zen":"small is fine"}"#).await;
    assert_eq!(status, StatusCode::OK);
    assert!(smtp.messages().is_empty());
    assert!(github.writes().await.is_empty());
}

#[tokio::test]
async fn the_profile_gives_the_email_when_the_issue_has_none() {
    let app = App::start().await;
    app.github
        .mount_user(
            "Codertocat",
            Some("Grace Hopper"),
            Some("grace@example.org"),
        )
        .await;
    let body = join_with_body(
        "### Your name\n\n_No response_\n\n### Email for the calendar invite\n\n_No response_\n",
    );
    let (status, _) = app.server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, ["grace@example.org"]);
    assert!(
        mails[0]
            .expect_calendar()
            .replace("\r\n ", "")
            .contains("CN=\"Grace Hopper\"")
    );
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert_eq!(app.github.user_lookups().await, ["Codertocat"]);
    let roster = app.server.roster_text();
    assert!(
        roster.contains("email = \"grace@example.org\"")
            && roster.contains("name = \"Grace Hopper\""),
        "{roster}"
    );
    app.assert_private(&["grace@example.org"]).await;
}

#[tokio::test]
async fn free_text_email_and_login_as_name() {
    let app = App::start().await;
    let body = join_with_body("Hi! Please add me, my address is linus@example.org.\r\nThanks");
    let (status, _) = app.server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, ["linus@example.org"]);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    // No form name: the profile (default mock: no name) is asked, then the login is used.
    assert_eq!(app.github.user_lookups().await, ["Codertocat"]);
    assert!(app.server.roster_text().contains("name = \"Codertocat\""));
}

#[tokio::test]
async fn no_email_anywhere_asks_for_one_and_changes_nothing() {
    let app = App::start().await;
    let roster_before = app.server.roster_text();
    let body = join_with_body("### Email for the calendar invite\n\n_No response_\n");
    let (status, _) = app.server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_label_call, 1).await;
    let comments = app.github.comments().await;
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0]
            .text()
            .contains("couldn't find an email address"),
        "{}",
        comments[0].text()
    );
    assert_eq!(app.github.label_calls().await[0].labels(), ["needs-email"]);
    app.server
        .wait_for_log("outcome=\"needs-email-missing\"", DEFAULT_WAIT)
        .await;
    assert!(
        app.github.close_calls().await.is_empty(),
        "the issue must stay open"
    );
    assert!(app.smtp.messages().is_empty());
    assert_eq!(app.server.roster_text(), roster_before);
}

#[tokio::test]
async fn an_invalid_email_in_the_form_asks_for_a_valid_one() {
    let app = App::start().await;
    let roster_before = app.server.roster_text();
    let body = join_with_body("### Email for the calendar invite\n\nada at example dot org\n");
    app.server.deliver("issues", &body).await;
    app.wait_for_github(GitHubMock::is_label_call, 1).await;
    assert!(
        app.github.comments().await[0]
            .text()
            .contains("doesn't hold an address I can send to")
    );
    assert!(app.github.user_lookups().await.is_empty());
    app.server
        .wait_for_log("outcome=\"needs-email-invalid\"", DEFAULT_WAIT)
        .await;
    assert!(app.smtp.messages().is_empty());
    assert!(app.github.close_calls().await.is_empty());
    assert_eq!(app.server.roster_text(), roster_before);
}

#[tokio::test]
async fn a_member_asking_again_gets_the_invite_again_and_no_second_entry() {
    let roster = format!(
        "{DEFAULT_ROSTER}\n[[member]]\ngithub = \"codertocat\"  # joined at the kick-off\nname = \"Ada L.\"\nemail = \"ada@example.org\"\n"
    );
    let app = App::start_with(|o| o.roster = Some(roster.clone())).await;
    let (status, _) = app
        .server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [ADA]);
    assert!(
        mails[0]
            .expect_calendar()
            .replace("\r\n ", "")
            .contains("CN=\"Ada L.\""),
        "the roster's name is used"
    );
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert!(
        app.github.comments().await[0]
            .text()
            .contains("already on the list")
    );
    assert_eq!(
        app.server.roster_text(),
        roster,
        "the roster must not change"
    );
    app.server
        .wait_for_log("outcome=\"invited-again\"", DEFAULT_WAIT)
        .await;
}

#[tokio::test]
async fn reopened_join_requests_are_handled() {
    let app = App::start().await;
    let body = fixture_with(JOIN, |v| v["action"] = Value::from("reopened"));
    let (status, _) = app.server.deliver("issues", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(app.wait_for_mail(1).await[0].rcpt_to, [ADA]);
}

#[tokio::test]
async fn a_roster_broken_while_running_holds_the_request_until_it_is_fixed() {
    let app = App::start().await;
    let broken = format!(
        "{DEFAULT_ROSTER}\n[[member]]\ngithub = \"grace\"\nemial = \"grace@example.org\"\n"
    );
    std::fs::write(app.server.workspace().roster_path(), &broken).unwrap();
    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let line = app
        .server
        .wait_for_log("outcome=\"retry\"", DEFAULT_WAIT)
        .await;
    assert!(
        line.contains("ispo-wg.toml:5:1") && line.contains("emial"),
        "{line}"
    );
    assert_eq!(
        app.server.roster_text(),
        broken,
        "a broken roster is left as the maintainer wrote it"
    );
    assert!(app.smtp.messages().is_empty());
    assert!(app.github.writes().await.is_empty());
    // The maintainer fixes the file: the waiting request goes through (nothing was lost).
    let fixed = broken.replace("emial", "email");
    std::fs::write(app.server.workspace().roster_path(), &fixed).unwrap();
    let mails = app.wait_for_mail(2).await;
    let mut to: Vec<&str> = mails.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    to.sort();
    assert_eq!(to, [ADA, "grace@example.org"]);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    app.assert_private(&[ADA, "grace@example.org"]).await;
}

#[tokio::test]
async fn the_file_transport_writes_an_eml_file() {
    let app = App::start_with(|o| o.transport = Transport::File).await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    app.server.wait_for_mail_files(1, DEFAULT_WAIT).await;
    let mails = app.server.workspace().mail_file_messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to_addresses(), [ADA]);
    assert_eq!(mails[0].calendar_method().as_deref(), Some("REQUEST"));
    assert!(app.smtp.messages().is_empty());
}

#[tokio::test]
async fn without_a_token_replies_are_logged_not_sent() {
    let app = App::start_with(|o| o.token = None).await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    app.wait_for_mail(1).await;
    app.server
        .wait_for_log("outcome=\"invited\"", DEFAULT_WAIT)
        .await;
    assert!(
        app.github.writes().await.is_empty(),
        "{}",
        app.github.describe_requests().await
    );
    assert!(
        app.server
            .logs()
            .contains("no GitHub token configured: reply not sent")
    );
    // Every reply is done (logged) at once: nothing is looked up or retried against GitHub.
    app.server
        .wait_for_log("reply=\"close\" outcome=\"sent\"", DEFAULT_WAIT)
        .await;
    let lookups = app
        .github
        // An issue's comments (catch-up's list of the repository's comments is not a lookup).
        .requests_matching(|r| {
            r.url.path().ends_with("/comments") && !r.url.path().ends_with("/issues/comments")
        })
        .await;
    assert!(
        lookups.is_empty(),
        "{}",
        app.github.describe_requests().await
    );
    app.server.assert_log_lacks("outcome=\"retry\"");
}

#[tokio::test]
async fn a_github_failure_is_retried_and_the_comment_posted_once() {
    let app = App::start().await;
    app.github
        .mount_error("POST", r"^/repos/.*/comments$", 500, Some(2))
        .await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    app.wait_for_mail(1).await;
    let line = app
        .server
        .wait_for_log("outcome=\"retry\"", DEFAULT_WAIT)
        .await;
    assert!(line.contains("GitHub answered 500"), "{line}");
    // The third attempt goes through; labels and close follow the comment.
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    let attempts = app
        .github
        .requests_matching(GitHubMock::is_comment)
        .await
        .len();
    assert_eq!(
        attempts,
        3,
        "two 500s, then the one that was accepted:\n{}\n{}",
        app.github.describe_requests().await,
        app.server.logs()
    );
    assert_eq!(app.github.label_calls().await.len(), 1);
    assert!(app.server.roster_text().contains("github = \"Codertocat\""));
}

#[tokio::test]
async fn serve_refuses_to_start_with_a_broken_roster() {
    let ws = Workspace::new(ServerOptions {
        roster: Some("[[member]]\ngithub = \"x\"\n".into()),
        ..ServerOptions::default()
    });
    let (code, _, stderr) = ws
        .cli(&["serve"], &[("INVITEBOT_WEBHOOK_SECRET", "s")])
        .await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("ispo-wg.toml:1:1") && stderr.contains("email"),
        "{stderr}"
    );
}

#[tokio::test]
async fn serve_refuses_to_start_without_a_secret() {
    let ws = Workspace::new(ServerOptions {
        secret: String::new(),
        ..ServerOptions::default()
    });
    let (code, _, stderr) = ws.cli(&["serve"], &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no webhook secret: set INVITEBOT_WEBHOOK_SECRET"),
        "{stderr}"
    );
}

/// The invitation as delivered, read by an independent parser (Python's `icalendar` and
/// `recurring-ical-events`, see `scripts/ics-occurrences.py`): a biweekly REQUEST at 08:00 in
/// Los Angeles on both sides of the DST changes, without the skipped date.
#[tokio::test]
async fn the_delivered_invitation_reads_as_a_biweekly_request_in_python() {
    let app = App::start_with(|o| o.skip = vec!["2026-12-28".into()]).await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    let ics = app.wait_for_mail(1).await[0].expect_calendar();
    let starts: Vec<jiff::Zoned> =
        python_occurrences(&ics, "2026-09-01T00:00:00Z", "2027-06-01T00:00:00Z")
            .into_iter()
            .map(|t| t.in_tz("America/Los_Angeles").unwrap())
            .collect();
    assert!(starts.len() > 15, "{starts:?}");
    for start in &starts {
        assert_eq!(
            (start.weekday(), start.hour(), start.minute()),
            (jiff::civil::Weekday::Monday, 8, 0),
            "{start}"
        );
    }
    for pair in starts.windows(2) {
        let days = (pair[1].date() - pair[0].date()).get_days();
        let skipped = pair[0].date() == jiff::civil::date(2026, 12, 14);
        assert_eq!(
            days,
            if skipped { 28 } else { 14 },
            "{} -> {}",
            pair[0],
            pair[1]
        );
    }
    let offsets: std::collections::BTreeSet<i32> =
        starts.iter().map(|s| s.offset().seconds() / 3600).collect();
    assert_eq!(
        offsets.into_iter().collect::<Vec<_>>(),
        [-8, -7],
        "both sides of DST are covered"
    );
}
