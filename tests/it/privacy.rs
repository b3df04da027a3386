//! Untrusted text and personal data, through the real server: hostile names and titles reach
//! the calendar, the mail headers, the roster and the comment only escaped or not at all; a mail
//! server quoting the recipient in its refusal leaks no address into the log or `status`; and
//! the harness's leak scan (run after every test) finds what it must.

use std::collections::BTreeSet;

use crate::common::*;
use icalendar::parser::{read_calendar, unfold};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const JOIN: &str = "issues.opened.join-request.json";

/// Hostile names for the form's name field. Only the first line is a name; each must come out
/// as one quoted `CN`, one `To:` display name and one TOML string, and never in a comment.
const HOSTILE_NAMES: &[&str] = &[
    "Eve\"; ROLE=CHAIR; X=\"y\":mailto:boss@evil.org",
    "Eve\r\nATTENDEE;CN=Mallory:mailto:mallory@evil.org\r\nEND:VEVENT",
    "Mallory, Eve; Ltd: \"The Boss\" \\ <bcc@evil.org>",
    "\u{202E}gro.live@eve\u{202C} \u{200B}\u{FEFF}Eve",
    "@everyone <img src=x onerror=alert(1)> [x](javascript:alert(1)) `rm -rf /` **bold**",
    "<!-- invitebot-reply:job:1:0 --> -->",
    "Bcc: bcc@evil.org\u{7}\u{1b}[31m\u{0}",
    "=?utf-8?b?QmNjOiBiY2NAZXZpbC5vcmc=?=",
];

/// The join request of `login` (issue `number`) with a hostile title and `name` in the form.
fn hostile_join(login: &str, number: u64, name: &str, email: &str) -> Vec<u8> {
    fixture_with(JOIN, |v| {
        v["issue"]["number"] = Value::from(number);
        v["issue"]["user"]["login"] = Value::from(login);
        v["sender"]["login"] = Value::from(login);
        v["issue"]["title"] = Value::from(
            "Join \r\nBcc: bcc@evil.org <script>alert(1)</script> @everyone <!-- x -->",
        );
        v["issue"]["body"] = Value::from(format!(
            "### Your name\n\n{name}\n\n### Email for the calendar invite\n\n{email}\n\n### Anything else?\n\n<img src=x onerror=alert(1)> @everyone {email}"
        ));
    })
}

/// The VEVENT's property names, in order, read back by the `icalendar` parser.
fn vevent_properties(ics: &str) -> Vec<String> {
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded).unwrap_or_else(|e| panic!("{e}\n{ics}"));
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    assert_eq!(events.len(), 1, "{ics}");
    events[0]
        .properties
        .iter()
        .map(|p| p.name.as_str().to_string())
        .collect()
}

#[tokio::test]
async fn hostile_names_and_titles_are_escaped_or_dropped_in_every_sink() {
    let app = App::start().await;
    let mut expected_names = Vec::new();
    for (i, name) in HOSTILE_NAMES.iter().enumerate() {
        let login = format!("user{i}");
        let email = format!("user{i}@example.org");
        let body = hostile_join(&login, 100 + i as u64, name, &email);
        let (status, _) = app.server.deliver("issues", &body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{name:?}");
        expected_names.push(invitebot::core::request::clean_name(name).unwrap());
    }
    let mails = app.wait_for_mail(HOSTILE_NAMES.len()).await;
    app.wait_for_github(GitHubMock::is_close_call, HOSTILE_NAMES.len())
        .await;

    for mail in &mails {
        let i: usize = mail.rcpt_to[0]
            .trim_start_matches("user")
            .trim_end_matches("@example.org")
            .parse()
            .unwrap();
        let name = &expected_names[i];
        let context = format!("{:?} → {}", HOSTILE_NAMES[i], mail.summary());
        // The mail: one recipient, no header the name could have added.
        assert_eq!(mail.rcpt_to.len(), 1, "{context}");
        assert_eq!(mail.to_addresses(), [mail.rcpt_to[0].clone()], "{context}");
        assert!(mail.cc_addresses().is_empty(), "{context}");
        assert!(mail.header("Bcc").is_none(), "{context}");
        let head = mail.text();
        let head = head.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
        let mut headers: Vec<String> = head
            .split("\r\n")
            .map(|l| l.split(':').next().unwrap().to_ascii_lowercase())
            .collect();
        headers.sort();
        assert_eq!(
            headers,
            [
                "auto-submitted",
                "content-type",
                "date",
                "from",
                "message-id",
                "mime-version",
                "subject",
                "to"
            ],
            "{context}"
        );
        // The calendar: the same properties as any invitation, one ATTENDEE with the cleaned
        // name as its quoted CN, nobody else.
        let ics = mail.expect_calendar();
        assert_eq!(
            vevent_properties(&ics),
            [
                "UID",
                "SEQUENCE",
                "DTSTAMP",
                "DTSTART",
                "DTEND",
                "RRULE",
                "SUMMARY",
                "DESCRIPTION",
                "LOCATION",
                "ORGANIZER",
                "ATTENDEE",
                "STATUS",
                "TRANSP"
            ],
            "{context}\n{ics}"
        );
        let attendees = attendees(&ics);
        assert_eq!(attendees.len(), 1, "{context}\n{ics}");
        let cn: String = name.chars().filter(|&c| c != '"').collect();
        assert_eq!(
            attendees[0],
            format!(
                "ATTENDEE;CN=\"{cn}\";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{}",
                mail.rcpt_to[0]
            ),
            "{context}"
        );
        assert!(!ics.contains("evil.org\r\n"), "{context}\n{ics}");
    }

    // The roster reads back with every cleaned name, as a string value.
    let roster: toml::Value = toml::from_str(&app.server.roster_text()).unwrap();
    let names: BTreeSet<&str> = roster["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        expected_names
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
    );

    // The comments: each mentions its requester and nobody else; no HTML but the bot's own
    // hidden markers; nothing from the name, the title or the body.
    let comments = app.github.comments().await;
    assert_eq!(comments.len(), HOSTILE_NAMES.len());
    for comment in comments {
        let text = comment.text();
        let login = format!("user{}", comment.number - 100);
        let mentions: Vec<&str> = text
            .split_whitespace()
            .filter(|w| w.contains('@'))
            .collect();
        assert_eq!(mentions, [format!("@{login},")], "{text}");
        let without_markers = text
            .lines()
            .filter(|l| !(l.starts_with("<!-- invitebot") && l.ends_with(" -->")))
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            "<",
            ">",
            "javascript",
            "`",
            "evil",
            "Eve",
            "Mallory",
            "Bcc",
            "everyone",
        ] {
            assert!(!without_markers.contains(needle), "{needle:?} in {text}");
        }
        assert_eq!(
            text.lines()
                .filter(|l| l.contains("invitebot-reply:"))
                .count(),
            1,
            "{text}"
        );
    }
}

/// A mail server that answers every `RCPT TO` with a permanent refusal quoting the address, as
/// Postfix does (`550 5.1.1 <ada@example.org>: Recipient address rejected`).
async fn start_refusing_smtp() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(refuse_session(socket));
        }
    });
    url
}

async fn refuse_session(socket: tokio::net::TcpStream) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"220 refuser ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            "250 refuser".to_string()
        } else if upper.starts_with("RCPT TO:") {
            let address = line[8..].trim().trim_matches(['<', '>']).to_string();
            format!("550 5.1.1 <{address}>: Recipient address rejected: {address} unknown")
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            "250 ok".to_string()
        };
        if write
            .write_all(format!("{answer}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

#[tokio::test]
async fn a_refusal_quoting_the_address_is_redacted_in_the_log_and_in_status() {
    let smtp_url = start_refusing_smtp().await;
    let github = GitHubMock::start_with_defaults().await;
    let opts = ServerOptions {
        github_api_url: github.uri(),
        smtp_url,
        leaks: github.leak_watch().clone(),
        ..ServerOptions::default()
    };
    let server = TestServer::start(opts).await;
    let (status, _) = server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let line = server
        .wait_for_log("calendar message not sent", DEFAULT_WAIT)
        .await;
    assert!(line.contains("a***@example.org"), "{line}");
    let (code, stdout, stderr) = server.workspace().cli(&["status"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("a***@example.org"), "{stdout}");
    assert!(!stdout.contains("ada@example.org"), "{stdout}");
    server.assert_no_leaks();
}

#[test]
fn the_leak_scan_finds_addresses_and_secrets_and_allows_the_rest() {
    let watch = LeakWatch::default();
    watch.address("Ada@Example.org");
    watch.addresses_in("[[member]]\nemail = \"grace@example.org\"\n");
    watch.secret("webhook-secret-value");
    watch.secret("short");
    let allowed: BTreeSet<String> = ["ispo-wg@example.org".to_string()].into();
    let scan = |log: &[&str]| {
        let log: Vec<String> = log.iter().map(|l| l.to_string()).collect();
        watch.findings(&Scan {
            log: &log,
            allowed: &allowed,
        })
    };
    for leaking in [
        "INFO member email=ada@example.org",
        "to <ADA@EXAMPLE.ORG>: refused",
        "\"grace@example.org\"",
        "secret is webhook-secret-value!",
    ] {
        let findings = scan(&[leaking]);
        assert_eq!(findings.len(), 1, "{leaking}: {findings:?}");
        assert!(
            !findings[0].contains("webhook-secret-value"),
            "{findings:?}"
        );
    }
    for clean in [
        "INFO member email=a***@example.org",
        "from ispo-wg@example.org",
        "a short secret: short",
        "bada@example.org is someone else",
    ] {
        assert!(scan(&[clean]).is_empty(), "{clean}");
    }
    // In a comment any address but the allowed and the redacted ones is a leak.
    watch.comment("Thanks @ada, see ispo-wg@example.org or a***@example.org");
    assert!(scan(&[]).is_empty());
    watch.comment("Thanks @ada, we wrote to stranger@example.net");
    let findings = scan(&[]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].contains("stranger@example.net"), "{findings:?}");
}

#[tokio::test]
async fn the_leak_scan_is_wired_to_the_server_and_the_mock() {
    let app = App::start().await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    // The mock recorded the comment, the server registered the delivered address: a log line
    // with that address would be found, the real log and comment are clean.
    assert_eq!(app.github.leak_watch().comments().len(), 1);
    let log = vec!["leaked: ada@example.org".to_string()];
    let findings = app.github.leak_watch().findings(&Scan {
        log: &log,
        allowed: &app.server.workspace().config_addresses(),
    });
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(app.server.leak_findings().is_empty());
}
