//! The webhook event parser on arbitrary verified bodies: `github::event::parse` must never
//! panic, must accept the JSON bodies (and only those) for events it ignores, must keep its error
//! messages short (they never quote the payload), and an `issues` event it accepts must go
//! through triage (the next step of a delivery, which reads a join request) without panicking.
//!
//! Seeds: the GitHub payloads in `tests/fixtures/github-webhooks/` (see `scripts/fuzz`).

#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use invitebot::config::Config;
use invitebot::core::webhook_event::{GitHubEvent, parse};
use invitebot::core::request::{Triage, triage};
use libfuzzer_sys::fuzz_target;

/// The example configuration of the repository, whose series the `issues` events are triaged
/// against.
static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/invitebot.toml");
    Config::load_with_env(&path, &|_: &str| None)
        .unwrap_or_else(|e| panic!("the example config must load: {e}"))
});

/// Error messages name a position and the event, never the payload.
const MAX_ERROR_CHARS: usize = 200;

/// How much of JSON a body is. Strict: UTF-8 throughout. Lenient: JSON apart from invalid
/// UTF-8 inside strings, which a parser that skips a string without reading it doesn't see
/// (so a body between the two may be accepted or refused).
struct Json {
    strict: bool,
    lenient: bool,
}

impl Json {
    fn of(body: &[u8]) -> Json {
        Json {
            strict: serde_json::from_slice::<serde_json::Value>(body).is_ok(),
            lenient: serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok(),
        }
    }
}

fuzz_target!(|body: &[u8]| {
    let json = Json::of(body);
    for event in ["issues", "ping", "installation"] {
        match parse(event, body) {
            Ok(GitHubEvent::Issues(issues)) => {
                assert_eq!(event, "issues");
                assert!(json.lenient);
                if let Triage::JoinRequest(_, request) = triage(&CONFIG.series, &issues) {
                    assert_eq!(request.login, issues.issue.user.login);
                    assert_eq!(request.issue_number, issues.issue.number);
                }
            }
            Ok(GitHubEvent::Ignored { event: name, .. }) => {
                assert_eq!(name, event);
                assert!(json.lenient);
            }
            Err(error) => {
                assert!(
                    event == "issues" || !json.strict,
                    "{event}: JSON rejected: {error}"
                );
                let message = error.to_string();
                assert!(message.chars().count() <= MAX_ERROR_CHARS, "{message}");
            }
        }
    }
});
