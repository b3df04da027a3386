//! The issue-form parser and the request reader on arbitrary issue bodies: no panic, sections
//! as `request::parse_form` documents them, a clean display name, and an email address only if
//! it is deliverable and written in the body.
//!
//! Seeds: `fuzz/seeds/issue_form/` (bodies of real issue forms).

#![no_main]

use invitebot::core::webhook_event::{GitHubEvent, IssuesEvent, parse};
use invitebot::core::request::{EmailFinding, is_deliverable, parse_form, read_request};
use libfuzzer_sys::fuzz_target;

/// An issue by a human with `body`, as the webhook parser reads it from a delivery.
fn issue_event(body: &str) -> IssuesEvent {
    let user = serde_json::json!({ "login": "Codertocat", "type": "User" });
    let payload = serde_json::json!({
        "action": "opened",
        "issue": { "number": 1, "title": "Invite me", "body": body, "user": user, "labels": [] },
        "repository": { "full_name": "Codertocat/Hello-World" },
        "sender": user,
    });
    let bytes = serde_json::to_vec(&payload).expect("a Value serialises");
    match parse("issues", &bytes) {
        Ok(GitHubEvent::Issues(event)) => event,
        other => panic!("not an issues event: {other:?}"),
    }
}

fuzz_target!(|body: &str| {
    let sections = parse_form(body);
    let headings = body
        .lines()
        .filter(|l| l.trim_end_matches('\r').starts_with("### "))
        .count();
    assert_eq!(sections.len(), headings);
    for section in &sections {
        assert_eq!(section.heading.trim(), section.heading);
        if let Some(value) = &section.value {
            assert!(!value.is_empty() && value.trim() == value && value != "_No response_");
            assert!(value.split('\n').all(|l| !l.ends_with('\r')));
            // A line starting with `### ` would have started a section; only the first line can
            // (`  ### x` is no heading, but the trim makes it `### x`).
            assert!(value.split('\n').skip(1).all(|l| !l.starts_with("### ")));
        }
    }

    let request = read_request(&issue_event(body));
    if let Some(name) = &request.name {
        assert!(!name.is_empty() && name.chars().count() <= 100, "{name:?}");
        assert!(!name.chars().any(char::is_control), "{name:?}");
        assert_eq!(name.split_whitespace().collect::<Vec<_>>().join(" "), *name);
    }
    if let EmailFinding::Found(email, _) = &request.email {
        assert!(is_deliverable(email));
        assert!(body.contains(email.expose()));
    }
});
