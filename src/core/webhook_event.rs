//! The webhook events invitebot acts on, parsed from verified bytes.
//!
//! The event name comes from the `X-GitHub-Event` header and the action from the payload's
//! `action` field, read before anything else: octocrab's payload types reject actions they don't
//! know, and most deliveries (pings, installations, other actions) need nothing but a check that
//! the body is JSON. Only the fields the pipeline uses are kept.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// A verified delivery, as far as invitebot cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHubEvent {
    /// `issues` with an action that can make a join request.
    Issues(IssuesEvent),
    /// `issue_comment` `created`: a comment that may hold a maintainer's command.
    IssueComment(IssueCommentEvent),
    /// Anything else: valid JSON that needs no action.
    Ignored {
        /// The `X-GitHub-Event` name.
        event: String,
        /// The payload's `action`, if it has one.
        action: Option<String>,
    },
}

/// The `issues` actions invitebot acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueAction {
    /// A new issue.
    Opened,
    /// A closed issue opened again.
    Reopened,
    /// Labels were added (a maintainer may turn an issue into a join request).
    Labeled,
    /// The title or body changed (a requester may add the missing email address).
    Edited,
    /// The issue was closed (its private email form link stops working).
    Closed,
}

impl IssueAction {
    /// The action as GitHub spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueAction::Opened => "opened",
            IssueAction::Reopened => "reopened",
            IssueAction::Labeled => "labeled",
            IssueAction::Edited => "edited",
            IssueAction::Closed => "closed",
        }
    }
}

/// An `issues` delivery with a handled action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuesEvent {
    /// What happened to the issue.
    pub action: IssueAction,
    /// The issue.
    pub issue: Issue,
    /// Its repository.
    pub repository: Repository,
    /// Who caused the delivery.
    pub sender: Account,
    /// The GitHub App installation the delivery came through, if any.
    pub installation_id: Option<u64>,
    /// `labeled`: the label that was added.
    pub label: Option<Label>,
}

/// An `issue_comment` delivery with the action `created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCommentEvent {
    /// The comment.
    pub comment: Comment,
    /// The issue (or pull request) it is on.
    pub issue: Issue,
    /// Its repository.
    pub repository: Repository,
    /// Who wrote it.
    pub sender: Account,
}

/// The parts of an issue comment the pipeline reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    /// GitHub's id of the comment.
    pub id: u64,
    /// The text (Markdown).
    #[serde(default)]
    pub body: Option<String>,
    /// The author.
    pub user: Account,
}

/// The parts of an issue the pipeline reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Issue {
    /// The issue number in its repository.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body (Markdown); GitHub sends `null` for an empty one.
    #[serde(default)]
    pub body: Option<String>,
    /// The author.
    pub user: Account,
    /// The labels it carries.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A GitHub user or bot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// The login.
    pub login: String,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

impl Account {
    /// Whether this account is an app or bot (whose issues are never join requests).
    pub fn is_bot(&self) -> bool {
        self.kind.eq_ignore_ascii_case("bot")
    }
}

/// An issue label.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    /// The label's name.
    pub name: String,
}

/// The parts of a repository the pipeline reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    /// GitHub's id of the repository, which a rename keeps (absent in hand-made payloads).
    #[serde(default)]
    pub id: Option<u64>,
    /// `owner/name`.
    pub full_name: String,
}

/// Why a verified body could not be read. Messages never quote the payload.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON at all.
    #[error("the body is not JSON (line {line}, column {column})")]
    NotJson {
        /// Where the JSON broke.
        line: usize,
        /// Where the JSON broke.
        column: usize,
    },
    /// JSON, but not the shape GitHub documents for the event.
    #[error(
        "the `{event}` payload lacks a field it must have or has one of the wrong type (line {line}, column {column})"
    )]
    BadShape {
        /// The event name.
        event: String,
        /// Where the shape broke.
        line: usize,
        /// Where the shape broke.
        column: usize,
    },
}

/// The top level of any payload: the action, and the parts of an `issues` payload left unparsed.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default, borrow)]
    action: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    issue: Option<&'a RawValue>,
    #[serde(default, borrow)]
    repository: Option<&'a RawValue>,
    #[serde(default, borrow)]
    sender: Option<&'a RawValue>,
    #[serde(default, borrow)]
    comment: Option<&'a RawValue>,
    #[serde(default)]
    installation: Option<Installation>,
    /// `labeled`: the label just added.
    #[serde(default)]
    label: Option<Label>,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

/// The top level of a payload invitebot doesn't act on: only its action is read (the rest is
/// skipped, which still checks it is JSON).
#[derive(Deserialize)]
struct ActionOnly<'a> {
    #[serde(default, borrow)]
    action: Option<std::borrow::Cow<'a, str>>,
}

/// The action of an ignored event, in one pass over the body. A verified body that isn't JSON
/// is a broken sender, worth a 400; JSON of an odd shape (no object, a non-text action) is
/// still JSON, and ignored like any other.
fn ignored_action(body: &[u8]) -> Result<Option<String>, EventError> {
    match serde_json::from_slice::<ActionOnly>(body) {
        Ok(top) => Ok(top.action.map(String::from)),
        // Not an object of that shape (an array reads as a sequence of fields and fails
        // oddly): whether it is JSON at all is the question.
        Err(_) => {
            serde_json::from_slice::<IgnoredAny>(body).map_err(not_json)?;
            Ok(None)
        }
    }
}

/// Reads a verified body. `event` is the `X-GitHub-Event` header.
pub fn parse(event: &str, body: &[u8]) -> Result<GitHubEvent, EventError> {
    let ignored = |action: Option<String>| GitHubEvent::Ignored {
        event: event.to_string(),
        action,
    };
    if event != "issues" && event != "issue_comment" {
        return ignored_action(body).map(ignored);
    }
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| classify(event, e))?;
    let shape = |e: serde_json::Error| EventError::BadShape {
        event: event.to_string(),
        line: e.line(),
        column: e.column(),
    };
    if event == "issue_comment" {
        if envelope.action.as_deref() != Some("created") {
            return Ok(ignored(envelope.action.map(String::from)));
        }
        return Ok(GitHubEvent::IssueComment(IssueCommentEvent {
            comment: serde_json::from_str(field(envelope.comment)).map_err(shape)?,
            issue: serde_json::from_str(field(envelope.issue)).map_err(shape)?,
            repository: serde_json::from_str(field(envelope.repository)).map_err(shape)?,
            sender: serde_json::from_str(field(envelope.sender)).map_err(shape)?,
        }));
    }
    let action = match envelope.action.as_deref() {
        Some("opened") => IssueAction::Opened,
        Some("reopened") => IssueAction::Reopened,
        Some("labeled") => IssueAction::Labeled,
        Some("edited") => IssueAction::Edited,
        Some("closed") => IssueAction::Closed,
        other => return Ok(ignored(other.map(String::from))),
    };
    Ok(GitHubEvent::Issues(IssuesEvent {
        action,
        issue: serde_json::from_str(field(envelope.issue)).map_err(shape)?,
        repository: serde_json::from_str(field(envelope.repository)).map_err(shape)?,
        sender: serde_json::from_str(field(envelope.sender)).map_err(shape)?,
        installation_id: envelope.installation.map(|i| i.id),
        label: envelope.label,
    }))
}

/// The JSON text of an optional part of the payload (`null` when absent, so a required part
/// that is missing fails with a shape error).
fn field(raw: Option<&RawValue>) -> &str {
    raw.map_or("null", RawValue::get)
}

fn not_json(e: serde_json::Error) -> EventError {
    EventError::NotJson {
        line: e.line(),
        column: e.column(),
    }
}

fn classify(event: &str, e: serde_json::Error) -> EventError {
    if e.is_data() {
        EventError::BadShape {
            event: event.to_string(),
            line: e.line(),
            column: e.column(),
        }
    } else {
        not_json(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/github-webhooks")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
    }

    #[test]
    fn join_request_fixture_parses() {
        let GitHubEvent::Issues(event) =
            parse("issues", &fixture("issues.opened.join-request.json")).unwrap()
        else {
            panic!("expected an issues event");
        };
        assert_eq!(event.action, IssueAction::Opened);
        assert_eq!(event.issue.number, 2);
        assert_eq!(event.issue.title, "Join the working group: Ada Lovelace");
        assert_eq!(event.issue.user.login, "Codertocat");
        assert!(!event.sender.is_bot());
        assert_eq!(
            event.issue.labels,
            vec![Label {
                name: "meeting-invite".into()
            }]
        );
        assert_eq!(event.repository.full_name, "Codertocat/Hello-World");
        assert!(
            event
                .issue
                .body
                .unwrap()
                .contains("### Email for the calendar invite")
        );
    }

    #[test]
    fn empty_body_and_installation_are_read() {
        let GitHubEvent::Issues(event) =
            parse("issues", &fixture("issues.opened.with-empty-body.json")).unwrap()
        else {
            panic!("expected an issues event");
        };
        assert_eq!(event.issue.body, None);
        let GitHubEvent::Issues(event) = parse("issues", &fixture("issues.reopened.json")).unwrap()
        else {
            panic!("expected an issues event");
        };
        assert_eq!(event.action, IssueAction::Reopened);
        assert_eq!(event.installation_id, Some(1));
    }

    #[test]
    fn other_events_and_actions_are_ignored() {
        let cases = [
            ("ping", "ping.json", None),
            ("ping", "ping.with-app_id.json", None),
            ("installation", "installation.created.json", Some("created")),
        ];
        for (event, file, action) in cases {
            assert_eq!(
                parse(event, &fixture(file)).unwrap(),
                GitHubEvent::Ignored {
                    event: event.into(),
                    action: action.map(String::from)
                },
                "{file}"
            );
        }
    }

    #[test]
    fn a_created_comment_is_read_and_other_comment_actions_are_ignored() {
        let GitHubEvent::IssueComment(event) =
            parse("issue_comment", &fixture("issue_comment.created.json")).unwrap()
        else {
            panic!("expected an issue_comment event");
        };
        assert_eq!(event.comment.id, 492700400);
        assert_eq!(event.comment.user.login, "Codertocat");
        assert_eq!(event.issue.number, 1);
        assert_eq!(event.repository.id, Some(186853002));
        let edited = br#"{"action":"edited","comment":{"id":1}}"#;
        assert_eq!(
            parse("issue_comment", edited).unwrap(),
            GitHubEvent::Ignored {
                event: "issue_comment".into(),
                action: Some("edited".into())
            }
        );
    }

    #[test]
    fn labeled_and_edited_are_read() {
        for (file, action) in [
            ("issues.labeled.json", IssueAction::Labeled),
            ("issues.edited.json", IssueAction::Edited),
        ] {
            let GitHubEvent::Issues(event) = parse("issues", &fixture(file)).unwrap() else {
                panic!("expected an issues event from {file}");
            };
            assert_eq!(event.action, action);
        }
    }

    #[test]
    fn unknown_action_is_ignored_even_with_an_unusual_shape() {
        let body = br#"{"action":"typed","issue":{"weird":true}}"#;
        assert_eq!(
            parse("issues", body).unwrap(),
            GitHubEvent::Ignored {
                event: "issues".into(),
                action: Some("typed".into())
            }
        );
    }

    #[test]
    fn malformed_bodies_are_errors_without_echoing_input() {
        for (event, body) in [
            ("issues", &b"{not json"[..]),
            ("ping", b"secret@example.org"),
            ("issues", b""),
        ] {
            let err = parse(event, body).unwrap_err();
            assert!(matches!(err, EventError::NotJson { .. }), "{err}");
            assert!(!err.to_string().contains("example.org"));
        }
        let err = parse(
            "issues",
            br#"{"action":"opened","issue":{"number":"ada@example.org"}}"#,
        )
        .unwrap_err();
        assert!(matches!(err, EventError::BadShape { .. }), "{err}");
        assert!(!err.to_string().contains("ada@"));
        let err = parse("issues", br#"{"action":"opened"}"#).unwrap_err();
        assert!(matches!(err, EventError::BadShape { .. }), "{err}");
    }

    #[test]
    fn other_events_are_read_in_one_pass_and_must_be_json() {
        let ignored = |action: Option<&str>| GitHubEvent::Ignored {
            event: "ping".into(),
            action: action.map(String::from),
        };
        assert_eq!(parse("ping", &fixture("ping.json")).unwrap(), ignored(None));
        assert_eq!(
            parse("ping", br#"{"action":"created","x":[1,{"y":null}]}"#).unwrap(),
            ignored(Some("created"))
        );
        // Odd shapes are still JSON: ignored, not errors.
        for body in [
            &br#"[1,2]"#[..],
            br#"{"action":5}"#,
            br#""text""#,
            br#"["",0]"#,
            br#"[null,2]"#,
        ] {
            assert_eq!(parse("ping", body).unwrap(), ignored(None), "{body:?}");
        }
        // Broken JSON anywhere is an error, also after a readable action.
        for body in [
            &br#"{"action":"created","x":[1,}"#[..],
            br#"{"action":5,"x":}"#,
        ] {
            assert!(
                matches!(parse("ping", body), Err(EventError::NotJson { .. })),
                "{body:?}"
            );
        }
    }
}
