//! Logging as operators see it: `INVITEBOT_LOG_FORMAT=json` makes every line of the server's
//! output one JSON object, and the harness still finds the `listening on` line.

use crate::common::*;
use std::time::Duration;

/// Checks one log line is a JSON object with the fields log shippers rely on; returns it.
fn json_line(line: &str, all: &str) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line:?}\n--- log ---\n{all}"));
    for field in ["timestamp", "level", "target"] {
        assert!(
            value[field].is_string(),
            "no string `{field}` in {line:?}\n--- log ---\n{all}"
        );
    }
    assert!(
        value["fields"]["message"].is_string(),
        "no string `fields.message` in {line:?}\n--- log ---\n{all}"
    );
    let level = value["level"].as_str().unwrap();
    assert!(
        ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level),
        "unexpected level {level:?} in {line:?}"
    );
    value
}

#[tokio::test]
async fn json_log_format_makes_every_line_a_json_object() {
    let mut server = TestServer::start(ServerOptions {
        env: vec![("INVITEBOT_LOG_FORMAT".into(), "json".into())],
        ..ServerOptions::default()
    })
    .await;
    // Some traffic, so the log holds more than the start-up lines.
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
    let (status, _) = server.deliver("ping", &fixture("ping.json")).await;
    assert_eq!(status, 200);
    let (status, _) = server
        .post_webhook(
            "ping",
            &new_delivery_id(),
            &fixture("ping.json"),
            Some("sha256=00".to_string()),
        )
        .await;
    assert_eq!(status, 401);
    let status = server.stop().await;
    assert!(status.success(), "exit {status}\n{}", server.logs());

    let lines = server.log_lines();
    let all = lines.join("\n");
    assert!(lines.len() >= 3, "too few log lines:\n{all}");
    let values: Vec<serde_json::Value> = lines.iter().map(|l| json_line(l, &all)).collect();

    // The harness found the address in the JSON line (start() would have panicked otherwise);
    // check it is that line's address.
    let (line, value) = lines
        .iter()
        .zip(&values)
        .find(|(_, v)| {
            v["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("listening on "))
        })
        .unwrap_or_else(|| panic!("no `listening on` line:\n{all}"));
    assert_eq!(value["level"], "INFO", "{line}");
    assert_eq!(parse_listening(line), Some(server.addr()), "{line}");
    // Structured fields stay separate JSON members, not folded into the message.
    assert!(
        values.iter().any(|v| v["fields"]
            .as_object()
            .is_some_and(|fields| fields.len() > 1)),
        "no line with a structured field besides `message`:\n{all}"
    );
}

#[tokio::test]
async fn unknown_log_format_warns_once_and_logs_text() {
    let server = TestServer::start(ServerOptions {
        env: vec![("INVITEBOT_LOG_FORMAT".into(), "yaml".into())],
        ..ServerOptions::default()
    })
    .await;
    let warning = server
        .wait_for_log("INVITEBOT_LOG_FORMAT", Duration::from_secs(5))
        .await;
    assert!(
        warning.contains("WARN") && warning.contains("json") && warning.contains("text"),
        "{warning}"
    );
    let lines = server.log_lines();
    let all = lines.join("\n");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("INVITEBOT_LOG_FORMAT"))
            .count(),
        1,
        "{all}"
    );
    assert!(
        lines
            .iter()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
        "a JSON line in text mode:\n{all}"
    );
}

#[test]
fn parse_listening_reads_the_json_line() {
    let line = r#"{"timestamp":"2025-01-06T16:00:00.123456Z","level":"INFO","fields":{"message":"listening on 127.0.0.1:40123"},"target":"invitebot::server"}"#;
    assert_eq!(
        parse_listening(line),
        Some("127.0.0.1:40123".parse().unwrap())
    );
    let v6 = r#"{"level":"INFO","fields":{"message":"listening on [::1]:8080"},"target":"invitebot::server"}"#;
    assert_eq!(parse_listening(v6), Some("[::1]:8080".parse().unwrap()));
}
