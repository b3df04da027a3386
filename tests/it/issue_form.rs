//! The issue forms in `contrib/github/ISSUE_TEMPLATE/` produce what the bot parses: a body
//! rendered the way GitHub renders a submitted form (`### Label`, blank line, the answer or
//! `_No response_`) is recognised as a join (or leave) request for the shipped InnerSource Working Group series, with
//! the name and address read from the right fields.

use std::path::Path;

use invitebot::config::Config;
use invitebot::core::email_address::EmailAddress;
use invitebot::core::request::{EmailFinding, EmailSource, Triage, triage};
use invitebot::core::webhook_event::{Account, IssueAction, IssuesEvent, Label, Repository};
use serde_yaml_ng::Value;

fn form(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("contrib/github/ISSUE_TEMPLATE")
        .join(name);
    serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body GitHub makes from the form, with `answers` by field id (missing: `_No response_`).
fn render(form: &Value, answers: &[(&str, &str)]) -> String {
    let fields = form["body"].as_sequence().expect("a form has a body");
    fields
        .iter()
        .filter(|field| field["type"].as_str() != Some("markdown"))
        .map(|field| {
            let label = field["attributes"]["label"]
                .as_str()
                .expect("every field has a label");
            let id = field["id"].as_str().unwrap_or_default();
            let answer = answers
                .iter()
                .find(|(key, _)| *key == id)
                .map_or("_No response_", |(_, value)| value);
            format!("### {label}\n\n{answer}")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The `opened` event of an issue made with `form`, by `ada-l`, on the group's repository.
fn opened(form: &Value, body: String) -> IssuesEvent {
    let labels: Vec<&str> = form["labels"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let title = form["title"].as_str().unwrap();
    opened_issue("ada-l", 12, title, &body, &labels)
}

/// The `opened` event of issue `number` by `login` on the group's repository, its body with
/// the CRLF line ends GitHub gives a submitted form.
fn opened_issue(login: &str, number: u64, title: &str, body: &str, labels: &[&str]) -> IssuesEvent {
    let user = Account {
        login: login.into(),
        kind: "User".into(),
    };
    IssuesEvent {
        action: IssueAction::Opened,
        issue: invitebot::core::webhook_event::Issue {
            number,
            title: title.to_string(),
            body: Some(body.replace('\n', "\r\n")),
            user: user.clone(),
            labels: labels
                .iter()
                .map(|name| Label {
                    name: name.to_string(),
                })
                .collect(),
        },
        repository: Repository {
            id: None,
            full_name: "InnerSourceCommons/innersource-working-group".into(),
        },
        sender: user,
        installation_id: None,
        label: None,
    }
}

fn shipped_config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/invitebot.toml");
    Config::load_with_env(&path, &|_: &str| None).unwrap()
}

#[test]
fn the_join_form_gives_name_and_email() {
    let config = shipped_config();
    let join = form("join-meeting.yml");
    let body = render(
        &join,
        &[
            ("name", "Ada Lovelace"),
            ("email", "ada@example.org"),
            ("affiliation", "Analytical Engines Ltd"),
        ],
    );
    assert!(
        body.contains("### Email for the calendar invite\n\nada@example.org"),
        "{body}"
    );
    let Triage::JoinRequest(series, request) = triage(&config.series, &opened(&join, body)) else {
        panic!("not a join request");
    };
    assert_eq!(series.id, "ispo-wg");
    assert_eq!(request.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        request.email,
        EmailFinding::Found(
            EmailAddress::parse("ada@example.org").unwrap(),
            EmailSource::Form
        )
    );
}

#[test]
fn an_empty_email_field_falls_back_to_the_profile() {
    let config = shipped_config();
    let join = form("join-meeting.yml");
    let Triage::JoinRequest(_, request) =
        triage(&config.series, &opened(&join, render(&join, &[])))
    else {
        panic!("not a join request");
    };
    assert_eq!(request.email, EmailFinding::Missing);
    assert_eq!(request.name, None);
}

#[test]
fn the_leave_form_is_a_request_to_leave() {
    let config = shipped_config();
    let leave = form("leave-meeting.yml");
    let Triage::LeaveRequest(series, request) =
        triage(&config.series, &opened(&leave, render(&leave, &[])))
    else {
        panic!("not a leave request");
    };
    assert_eq!(
        (
            series.id.as_str(),
            request.login.as_str(),
            request.issue_number
        ),
        ("ispo-wg", "ada-l", 12)
    );
}

/// The issue GitHub makes from the group's own join form (in their repository since before
/// invitebot: title `[join] <your-name>`, label `join-wg`, one input labelled "GitHub User"),
/// as submitted by `login`.
fn group_template_issue(login: &str, title: &str, labels: &[&str]) -> IssuesEvent {
    opened_issue(
        login,
        31,
        title,
        &format!("### GitHub User\n\n{login}"),
        labels,
    )
}

#[test]
fn the_groups_current_template_is_a_join_request() {
    let config = shipped_config();
    let cases = [
        // As filed: the label the form applies, the name in the title.
        ("[join] Ada Lovelace", vec!["join-wg"]),
        // The label alone decides, even with a title that mentions leaving.
        ("[join] back from parental leave", vec!["join-wg"]),
        // A maintainer removed the label: the title's `[join]` still says it.
        ("[join] Ada Lovelace", vec![]),
    ];
    for (title, labels) in cases {
        let event = group_template_issue("leave-ada", title, &labels);
        let Triage::JoinRequest(series, request) = triage(&config.series, &event) else {
            panic!("{title:?} {labels:?}: not a join request");
        };
        assert_eq!(series.id, "ispo-wg");
        assert_eq!(request.login.as_str(), "leave-ada");
        // The template asks for no address: the profile (or the private form) gives it.
        assert_eq!(request.email, EmailFinding::Missing, "{title:?}");
    }
}
