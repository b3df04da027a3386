//! Checks the parts of the test harness that do not need the server:
//! signatures, fixtures, config rendering, the SMTP sink (fed by lettre) and
//! the GitHub mock (called by reqwest and by octocrab).

use crate::common::*;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, Message, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use octocrab::Octocrab;
use octocrab::models::IssueState;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn sign_matches_githubs_documented_vector() {
    assert_eq!(
        sign("It's a Secret to Everybody", b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[test]
fn delivery_ids_are_fresh_uuids() {
    let (a, b) = (new_delivery_id(), new_delivery_id());
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    assert_eq!(a.matches('-').count(), 4);
}

#[test]
fn fixtures_load_as_bytes_and_json() {
    let bytes = fixture("issues.opened.join-request.json");
    assert!(!bytes.is_empty());
    let value = fixture_json("issues.opened.join-request.json");
    assert_eq!(value["action"], "opened");
    assert_eq!(value["repository"]["full_name"], "Codertocat/Hello-World");
    assert_eq!(value["issue"]["number"], 2);
    assert_eq!(value["sender"]["login"], "Codertocat");
    // Every fixture the README lists is readable JSON.
    for name in [
        "issues.opened.json",
        "issues.edited.json",
        "issues.labeled.json",
        "issues.reopened.json",
        "issue_comment.created.json",
        "ping.json",
        "ping.with-app_id.json",
        "installation.created.json",
    ] {
        assert!(fixture_json(name).is_object(), "{name}");
    }
}

#[test]
fn modified_fixtures_reserialise() {
    let body = fixture_with("issues.opened.join-request.json", |v| {
        v["sender"]["type"] = json!("Bot");
        v["issue"]["body"] = json!("### Your name\n\nAda Lovelace");
    });
    let back: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(back["sender"]["type"], "Bot");
    assert!(
        !back["issue"]["body"]
            .as_str()
            .unwrap()
            .contains("ada@example.org")
    );
    assert_eq!(back["issue"]["number"], 2);
    let mut value = fixture_json("ping.json");
    value["zen"] = json!("changed");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&json_body(&value)).unwrap(),
        value
    );
}

#[test]
#[should_panic(expected = "fixture \"no-such-event.json\" not found")]
fn a_missing_fixture_panics_with_its_path() {
    fixture("no-such-event.json");
}

#[test]
fn config_renders_as_the_documented_toml() {
    let opts = ServerOptions {
        github_api_url: "http://127.0.0.1:4010".into(),
        smtp_url: "smtp://127.0.0.1:2525".into(),
        ..ServerOptions::default()
    };
    let config: toml::Table = opts
        .render_config()
        .parse()
        .expect("the rendered config is TOML");
    assert_eq!(config["server"]["listen"].as_str(), Some("127.0.0.1:0"));
    assert_eq!(
        config["github"]["api_url"].as_str(),
        Some("http://127.0.0.1:4010")
    );
    assert_eq!(config["mail"]["transport"].as_str(), Some("smtp"));
    assert_eq!(
        config["mail"]["url"].as_str(),
        Some("smtp://127.0.0.1:2525")
    );
    assert_eq!(config["storage"]["data_dir"].as_str(), Some("data"));
    let series = &config["series"].as_array().unwrap()[0];
    assert_eq!(series["id"].as_str(), Some("ispo-wg"));
    assert_eq!(series["repo"].as_str(), Some("Codertocat/Hello-World"));
    assert_eq!(series["first"].as_str(), Some("2024-05-06T08:00"));
    assert_eq!(series["duration_minutes"].as_integer(), Some(60));
    assert_eq!(
        series["organizer"]["email"].as_str(),
        Some("ispo-wg@example.org")
    );
    assert_eq!(series["roster"].as_str(), Some("roster/ispo-wg.toml"));
    assert_eq!(
        series["match"]["title"].as_str(),
        Some(r"(?i)\b(join|invite)\b")
    );
    assert_eq!(
        series["match"]["labels"].as_array().unwrap()[0].as_str(),
        Some("meeting-invite")
    );
    assert_eq!(series["reply"]["close"].as_bool(), Some(true));
    assert_eq!(
        series["reply"]["needs_email_label"].as_str(),
        Some("needs-email")
    );

    let file = ServerOptions {
        transport: Transport::File,
        match_title: None,
        needs_email_label: None,
        extra_config: "[extra]\nkey = 1".into(),
        ..ServerOptions::default()
    };
    let config: toml::Table = file.render_config().parse().unwrap();
    assert_eq!(config["mail"]["transport"].as_str(), Some("file"));
    assert_eq!(config["mail"]["dir"].as_str(), Some("mail"));
    assert!(config["mail"].get("url").is_none());
    let series = &config["series"].as_array().unwrap()[0];
    assert!(series["match"].get("title").is_none());
    assert!(series["reply"].get("needs_email_label").is_none());
    assert_eq!(config["extra"]["key"].as_integer(), Some(1));
}

#[test]
fn workspace_writes_config_and_roster() {
    let ws = Workspace::new(ServerOptions::default());
    assert!(ws.config_path().is_file());
    assert_eq!(ws.config_path().parent().unwrap(), ws.root());
    assert_eq!(ws.roster_text(), DEFAULT_ROSTER);
    assert_eq!(ws.roster_path(), ws.root().join("roster/ispo-wg.toml"));
    assert_eq!(ws.data_dir(), ws.root().join("data"));
    assert!(ws.mail_files().is_empty());
    let root = ws.root().to_path_buf();
    drop(ws);
    assert!(!root.exists(), "the workspace is removed on drop");

    let none = Workspace::new(ServerOptions {
        roster: None,
        ..ServerOptions::default()
    });
    assert!(!none.roster_path().exists());
}

#[test]
fn listening_lines_and_colours_are_parsed() {
    let line = "2024-05-01T12:00:00.123Z  INFO invitebot::webhook: listening on 127.0.0.1:34567";
    assert_eq!(
        parse_listening(line),
        Some("127.0.0.1:34567".parse().unwrap())
    );
    assert_eq!(
        parse_listening("INFO invitebot: listening on addr=127.0.0.1:80"),
        Some("127.0.0.1:80".parse().unwrap())
    );
    assert_eq!(
        parse_listening("listening on [::1]:8080"),
        Some("[::1]:8080".parse().unwrap())
    );
    assert_eq!(parse_listening("starting up"), None);
    let coloured = "\x1b[2m2024-05-01\x1b[0m \x1b[32m INFO\x1b[0m \x1b[2minvitebot\x1b[0m\x1b[2m:\x1b[0m listening on 127.0.0.1:9";
    assert_eq!(
        parse_listening(&strip_ansi(coloured)),
        Some("127.0.0.1:9".parse().unwrap())
    );
}

#[test]
fn clean_command_removes_inherited_secrets() {
    let cmd = clean_command();
    let envs: Vec<_> = cmd.get_envs().collect();
    assert!(envs.iter().any(|(k, v)| *k == "NO_COLOR" && v.is_some()));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("INVITEBOT_") || key == "GITHUB_TOKEN" {
            assert!(
                envs.iter()
                    .any(|(k, v)| k.to_string_lossy() == key && v.is_none()),
                "{key} not removed"
            );
        }
    }
}

#[tokio::test]
async fn poll_until_returns_early_or_gives_up() {
    let start = Instant::now();
    let mut calls = 0;
    let found = poll_until(Duration::from_secs(5), || {
        calls += 1;
        (calls == 3).then_some(calls)
    })
    .await;
    assert_eq!(found, Some(3));
    assert!(start.elapsed() < Duration::from_secs(2));

    let start = Instant::now();
    let never: Option<()> = poll_until(Duration::from_millis(100), || None).await;
    assert_eq!(never, None);
    assert!(start.elapsed() >= Duration::from_millis(100));
}

const ICS: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//invitebot//harness selftest//EN\r\n\
METHOD:REQUEST\r\n\
BEGIN:VEVENT\r\n\
UID:ispo-wg-selftest@example.org\r\n\
SEQUENCE:0\r\n\
DTSTAMP:20240501T120000Z\r\n\
DTSTART;TZID=America/Los_Angeles:20240506T080000\r\n\
DURATION:PT1H\r\n\
RRULE:FREQ=WEEKLY;INTERVAL=2\r\n\
SUMMARY:ISPO Working Group — Zoë's test with a long line that quoted-printable has to wrap somewhere past 76 chars\r\n\
ORGANIZER;CN=ISPO Working Group:mailto:ispo-wg@example.org\r\n\
ATTENDEE;CN=Ada Lovelace;RSVP=TRUE:mailto:ada@example.org\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

fn invitation(calendar_encoding: ContentTransferEncoding) -> Message {
    let from: Mailbox = "ISPO Working Group <ispo-wg@example.org>".parse().unwrap();
    let to: Mailbox = "Ada Lovelace <ada@example.org>".parse().unwrap();
    Message::builder()
        .from(from)
        .to(to)
        .subject("Invitation: ISPO Working Group — Zoë")
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .header(ContentTransferEncoding::QuotedPrintable)
                        .body(
                            "You are invited to the ISPO Working Group — welcome, Zoë!".to_string(),
                        ),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(
                            ContentType::parse("text/calendar; charset=utf-8; method=REQUEST")
                                .unwrap(),
                        )
                        .header(calendar_encoding)
                        .body(ICS.to_string()),
                ),
        )
        .unwrap()
}

#[tokio::test]
async fn smtp_sink_records_and_decodes_a_lettre_invitation() {
    let sink = SmtpSink::start();
    assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port()));
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build();

    let before = Instant::now();
    mailer
        .send(invitation(ContentTransferEncoding::Base64))
        .await
        .expect("send over plain SMTP");
    mailer
        .send(invitation(ContentTransferEncoding::QuotedPrintable))
        .await
        .expect("send again");
    let mails = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2);
    assert!(
        mails[0]
            .text()
            .contains("Content-Transfer-Encoding: base64")
    );
    assert!(
        mails[1]
            .text()
            .contains("Content-Transfer-Encoding: quoted-printable")
    );

    for mail in &mails {
        assert_eq!(mail.mail_from, "ispo-wg@example.org");
        assert_eq!(mail.rcpt_to, ["ada@example.org"]);
        assert!(mail.received_at >= before && mail.received_at <= Instant::now());
        assert_eq!(mail.from_addresses(), ["ispo-wg@example.org"]);
        assert_eq!(mail.from_name().as_deref(), Some("ISPO Working Group"));
        assert_eq!(mail.to_addresses(), ["ada@example.org"]);
        assert_eq!(
            mail.subject().as_deref(),
            Some("Invitation: ISPO Working Group — Zoë")
        );
        assert_eq!(
            mail.header("subject").as_deref(),
            Some("Invitation: ISPO Working Group — Zoë")
        );
        assert!(mail.header("Date").is_some());
        assert_eq!(mail.header("X-Not-There"), None);
        assert_eq!(
            mail.content_type().as_deref(),
            Some("multipart/alternative")
        );
        assert_eq!(mail.calendar_method().as_deref(), Some("REQUEST"));
        assert_eq!(mail.expect_calendar(), ICS);
        assert_eq!(
            mail.plain_text().as_deref(),
            Some("You are invited to the ISPO Working Group — welcome, Zoë!")
        );
        let kinds: Vec<String> = mail
            .text_parts()
            .into_iter()
            .map(|(ctype, _)| ctype)
            .collect();
        assert_eq!(kinds, ["text/plain", "text/calendar"]);
    }
    assert!(mails[0].received_at <= mails[1].received_at);
}

#[tokio::test]
async fn smtp_sink_can_refuse_and_times_out_with_a_description() {
    let sink = SmtpSink::start();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build();
    sink.fail_next(1);
    let err = mailer
        .send(invitation(ContentTransferEncoding::Base64))
        .await
        .unwrap_err();
    assert!(err.is_transient(), "451 is a temporary failure: {err:?}");
    assert_eq!(sink.refused(), 1);
    assert!(sink.messages().is_empty());
    mailer
        .send(invitation(ContentTransferEncoding::Base64))
        .await
        .expect("accepted after the refusal");
    assert_eq!(sink.wait_for(1, Duration::from_secs(10)).await.len(), 1);

    let why = sink
        .try_wait_for(2, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(why.contains("expected at least 2 message(s)"), "{why}");
    assert!(why.contains("got 1 (1 refused on purpose)"), "{why}");
    assert!(why.contains("RCPT TO:[\"ada@example.org\"]"), "{why}");
}

#[tokio::test]
async fn github_mock_answers_and_records_a_plain_comment() {
    let github = GitHubMock::start_with_defaults().await;
    assert!(github.uri().starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "{}/repos/Codertocat/Hello-World/issues/2/comments",
            github.uri()
        ))
        .header("Authorization", "Bearer t")
        .json(&json!({ "body": "Welcome, Ada!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["body"], "Welcome, Ada!");
    assert!(
        answer["issue_url"]
            .as_str()
            .unwrap()
            .ends_with("/repos/Codertocat/Hello-World/issues/2")
    );

    let found = github
        .wait_for_requests(GitHubMock::is_comment, 1, Duration::from_secs(5))
        .await;
    assert_eq!(found[0].headers.get("authorization").unwrap(), "Bearer t");
    let comments = github.comments().await;
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].full_name(), "Codertocat/Hello-World");
    assert_eq!(comments[0].number, 2);
    assert_eq!(comments[0].text(), "Welcome, Ada!");
    assert!(github.label_calls().await.is_empty());

    let unknown = client
        .get(format!("{}/rate_limit", github.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let why = github
        .try_wait_for_requests(GitHubMock::is_close_call, 1, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        why.contains("POST /repos/Codertocat/Hello-World/issues/2/comments"),
        "{why}"
    );
}

#[tokio::test]
async fn octocrab_accepts_every_default_answer() -> Result<(), Box<dyn std::error::Error>> {
    let github = GitHubMock::start_with_defaults().await;
    github
        .mount_user("Codertocat", Some("Ada Lovelace"), Some("ada@example.org"))
        .await;
    let crab = Octocrab::builder()
        .base_uri(github.uri())?
        .personal_token("t".to_string())
        .build()?;
    let issues = crab.issues("Codertocat", "Hello-World");

    let comment = issues.create_comment(2, "You're invited!").await?;
    assert_eq!(comment.body.as_deref(), Some("You're invited!"));

    let labels = issues
        .add_labels(2, &["invited".to_string(), "needs-email".to_string()])
        .await?;
    let names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["invited", "needs-email"]);

    let closed = issues.update(2).state(IssueState::Closed).send().await?;
    assert_eq!(closed.state, IssueState::Closed);
    assert_eq!(closed.number, 2);
    assert!(closed.closed_at.is_some());

    let open = issues.get(7).await?;
    assert_eq!((open.number, open.state), (7, IssueState::Open));

    let ada = crab.users("Codertocat").profile().await?;
    assert_eq!(ada.login, "Codertocat");
    assert_eq!(ada.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(ada.email.as_deref(), Some("ada@example.org"));
    let hidden = crab.users("octocat").profile().await?;
    assert_eq!((hidden.login.as_str(), hidden.email), ("octocat", None));

    github
        .mount_error("POST", r"/issues/\d+/comments$", 422, Some(1))
        .await;
    assert!(issues.create_comment(2, "refused").await.is_err());
    issues.create_comment(2, "accepted").await?;

    let texts: Vec<String> = github.comments().await.iter().map(|c| c.text()).collect();
    assert_eq!(texts, ["You're invited!", "refused", "accepted"]);
    let label_calls = github.label_calls().await;
    assert_eq!(label_calls.len(), 1);
    assert_eq!(label_calls[0].labels(), ["invited", "needs-email"]);
    let closes = github.close_calls().await;
    assert_eq!((closes.len(), closes[0].number), (1, 2));
    assert_eq!(github.user_lookups().await, ["Codertocat", "octocat"]);
    assert!(
        github
            .requests()
            .await
            .iter()
            .all(|r| r.headers.get("authorization").is_some()),
        "octocrab authenticates every call"
    );
    assert_eq!(github.writes().await.len(), 5);
    Ok(())
}
