//! Maintainers' commands in issue comments, through the real server: each edits the files as a
//! maintainer would and sends exactly what the edit implies, with one reply; the same comment
//! delivered again changes nothing; a command from someone without write access is refused.
//!
//! The comment deliveries are the vendored `issue_comment.created.json` (octokit/webhooks) with
//! the comment's id, text and author changed. A test that must show that *nothing more* was
//! sent ends with a marker change (a new member) and waits for its invitation: the worker
//! handles work in order, so everything before the marker is done by then.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const ROSTER_ADA_BOB: &str = "# Members of the ISPO Working Group meeting series.\n\n\
[[member]]\ngithub = \"ada\"\nemail = \"ada@example.org\"\n\n\
[[member]]\ngithub = \"bob\"\nemail = \"bob@example.org\"\n";

/// A `created` comment by `login` with this id and text, on issue 1 of Codertocat/Hello-World.
fn comment_by(login: &str, id: u64, text: &str) -> Vec<u8> {
    fixture_with("issue_comment.created.json", |v| {
        v["comment"]["id"] = Value::from(id);
        v["comment"]["body"] = Value::from(text);
        v["comment"]["user"]["login"] = Value::from(login);
        v["sender"]["login"] = Value::from(login);
    })
}

/// GitHub's answer to the collaborator permission API for `login` on the test repository.
async fn mount_permission(github: &GitHubMock, login: &str, permission: &str) {
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/Codertocat/Hello-World/collaborators/{login}/permission"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "permission": permission,
            "role_name": permission,
            "user": { "login": login }
        })))
        .mount(github.server())
        .await;
}

/// A server with Ada and Bob on the roster (both invited), and `maintainer` with admin access.
async fn start_with_two_members() -> App {
    let app = App::start_with(|o| o.roster = Some(ROSTER_ADA_BOB.to_string())).await;
    mount_permission(&app.github, "maintainer", "admin").await;
    app.wait_for_mail(2).await;
    app
}

/// Delivers a maintainer's command and waits for the `count`-th comment; returns its text.
async fn command(app: &App, id: u64, text: &str, count: usize) -> String {
    let (status, answer) = app
        .server
        .deliver("issue_comment", &comment_by("maintainer", id, text))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    app.wait_for_github(GitHubMock::is_comment, count).await;
    app.github.comments().await[count - 1].text()
}

/// Adds a member by hand and waits for their invitation as mail number `count`: everything the
/// worker had to do before is done, so `count` is all the mail there is.
async fn assert_nothing_more_than(app: &App, roster: &str, count: usize) {
    app.server.workspace().write_roster(&format!(
        "{roster}\n[[member]]\ngithub = \"cy\"\nemail = \"cy@example.org\"\n"
    ));
    let mails = app.wait_for_mail(count).await;
    assert_eq!(mails[count - 1].rcpt_to, ["cy@example.org"]);
    assert_eq!(app.smtp.messages().len(), count);
}

fn recipients(mails: &[ReceivedMail]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().map(|m| m.rcpt_to[0].clone()).collect();
    to.sort();
    to
}

#[tokio::test]
async fn a_skip_writes_the_config_updates_every_member_once_and_replies_once() {
    let app = start_with_two_members().await;
    let before = app.server.workspace().config_text();
    let reply = command(&app, 9001, "/invitebot skip 2026-12-28 Winter holidays", 1).await;
    assert!(reply.contains("cancelled: Winter holidays"), "{reply}");
    assert!(reply.contains("all 2 members"), "{reply}");

    let config = app.server.workspace().config_text();
    assert!(config.starts_with(&before), "the rest of the file is kept");
    assert!(
        config.ends_with(
            "\n# Added by invitebot: asked by @maintainer in Codertocat/Hello-World#1.\n\
             [[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\nnote = \"Winter holidays\"\n"
        ),
        "{config}"
    );
    let mails = app.wait_for_mail(4).await;
    assert_eq!(
        recipients(&mails[2..]),
        ["ada@example.org", "bob@example.org"]
    );
    for mail in &mails[2..] {
        assert_eq!(mail.calendar_method().as_deref(), Some("REQUEST"));
        let ics = mail.expect_calendar();
        assert!(
            ics.contains("EXDATE;TZID=America/Los_Angeles:20261228T080000"),
            "{ics}"
        );
    }

    // The same comment again: a redelivery under a new id, and the comment as catch-up or an
    // edited payload would bring it (same comment id, other bytes).
    let same = comment_by(
        "maintainer",
        9001,
        "/invitebot skip 2026-12-28 Winter holidays",
    );
    let (status, _) = app.server.deliver("issue_comment", &same).await;
    assert_eq!(status, StatusCode::OK);
    let reworded = comment_by(
        "maintainer",
        9001,
        "/invitebot skip 2026-12-28  Winter holidays",
    );
    let (status, answer) = app.server.deliver("issue_comment", &reworded).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_nothing_more_than(&app, ROSTER_ADA_BOB, 5).await;
    assert_eq!(app.github.comments().await.len(), 1);
    assert_eq!(
        app.server
            .workspace()
            .config_text()
            .matches("[[series.exception]]")
            .count(),
        1
    );
    app.assert_private(&["ada@example.org", "bob@example.org"])
        .await;
}

#[tokio::test]
async fn move_remove_resend_status_and_help_each_do_their_part_with_one_reply() {
    let app = start_with_two_members().await;

    let reply = command(
        &app,
        9101,
        "/invitebot move 2027-01-11 to 2027-01-12 09:00",
        1,
    )
    .await;
    assert!(
        reply.contains("moved from Monday 11 January 08:00"),
        "{reply}"
    );
    let mails = app.wait_for_mail(4).await;
    assert_eq!(
        recipients(&mails[2..]),
        ["ada@example.org", "bob@example.org"]
    );
    for mail in &mails[2..] {
        let ics = mail.expect_calendar();
        assert!(
            ics.contains("RECURRENCE-ID;TZID=America/Los_Angeles:20270111T080000"),
            "{ics}"
        );
        assert!(
            ics.contains("DTSTART;TZID=America/Los_Angeles:20270112T090000"),
            "{ics}"
        );
    }
    assert!(
        app.server.workspace().config_text().contains(
            "[[series.exception]]\ndate = \"2027-01-11\"\nmove_to = \"2027-01-12T09:00\"\n"
        )
    );

    let reply = command(&app, 9102, "/invitebot remove @bob", 2).await;
    assert!(reply.contains("`bob` is off the roster"), "{reply}");
    let mails = app.wait_for_mail(5).await;
    assert_eq!(mails[4].rcpt_to, ["bob@example.org"]);
    assert_eq!(mails[4].calendar_method().as_deref(), Some("CANCEL"));
    let roster = app.server.roster_text();
    assert!(!roster.contains("bob"), "{roster}");
    assert!(roster.contains("github = \"ada\""), "{roster}");

    let reply = command(&app, 9103, "/invitebot resend @ada", 3).await;
    assert!(reply.contains("`ada`'s invitation"), "{reply}");
    let mails = app.wait_for_mail(6).await;
    assert_eq!(mails[5].rcpt_to, ["ada@example.org"]);
    assert_eq!(mails[5].calendar_method().as_deref(), Some("REQUEST"));
    // The resent invitation holds the moved meeting too.
    assert!(mails[5].expect_calendar().contains("RECURRENCE-ID"));

    let reply = command(&app, 9104, "/invitebot status", 4).await;
    assert!(
        reply.contains("**ISPO Working Group** (`ispo-wg`)"),
        "{reply}"
    );
    assert!(reply.contains("Members: 1."), "{reply}");
    assert!(reply.contains("To send: nothing to send"), "{reply}");
    assert!(reply.contains("refused for good: 0"), "{reply}");

    let reply = command(&app, 9105, "/invitebot help", 5).await;
    assert!(
        reply.contains("/invitebot skip [SERIES] YYYY-MM-DD"),
        "{reply}"
    );

    // A mistake changes nothing and says what to write.
    let reply = command(&app, 9106, "/invitebot skip 2026-12-29", 6).await;
    assert!(reply.contains("I haven't changed anything"), "{reply}");
    let roster_now = app.server.roster_text();
    assert_nothing_more_than(&app, &roster_now, 7).await;
    assert_eq!(app.github.comments().await.len(), 6);
    app.assert_private(&["ada@example.org", "bob@example.org"])
        .await;
}

#[tokio::test]
async fn a_command_from_someone_without_write_access_is_refused_and_changes_nothing() {
    let app = start_with_two_members().await;
    mount_permission(&app.github, "reader", "read").await;
    let before = app.server.workspace().config_text();
    for (id, text) in [
        (9201, "/invitebot skip 2026-12-28"),
        (9202, "/invitebot remove @bob"),
    ] {
        let (status, _) = app
            .server
            .deliver("issue_comment", &comment_by("reader", id, text))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    app.wait_for_github(GitHubMock::is_comment, 2).await;
    for comment in app.github.comments().await {
        let text = comment.text();
        assert!(text.contains("@reader, only maintainers"), "{text}");
    }
    assert_eq!(app.server.workspace().config_text(), before);
    assert!(app.server.roster_text().contains("bob"));
    // A comment without a command is not even queued.
    let (status, _) = app
        .server
        .deliver("issue_comment", &fixture("issue_comment.created.json"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_nothing_more_than(&app, ROSTER_ADA_BOB, 3).await;
    assert_eq!(app.github.comments().await.len(), 2);
}

#[tokio::test]
async fn a_command_given_while_the_bot_was_away_is_caught_up_once() {
    let github = GitHubMock::start_with_defaults().await;
    let comment = serde_json::json!([{
        "id": 9301,
        "body": "Happy holidays!\r\n/invitebot skip 2026-12-28",
        "user": { "login": "maintainer", "type": "User" },
        "issue_url": format!("{}/repos/Codertocat/Hello-World/issues/1", github.uri()),
    }]);
    Mock::given(method("GET"))
        .and(path("/repos/Codertocat/Hello-World/issues/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comment))
        .mount(github.server())
        .await;
    mount_permission(&github, "maintainer", "maintain").await;
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    opts.roster = Some(ROSTER_ADA_BOB.to_string());
    let server = TestServer::start(opts).await;
    let app = App {
        github,
        smtp,
        server,
    };

    // Catch-up runs before the first reconciliation: the invitations already leave the
    // skipped meeting out.
    app.wait_for_github(GitHubMock::is_comment, 1).await;
    let mails = app.wait_for_mail(2).await;
    assert_eq!(recipients(&mails), ["ada@example.org", "bob@example.org"]);
    for mail in &mails {
        let ics = mail.expect_calendar();
        assert!(
            ics.contains("EXDATE;TZID=America/Los_Angeles:20261228T080000"),
            "{ics}"
        );
    }
    assert!(
        app.server
            .workspace()
            .config_text()
            .contains("[[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\n")
    );
    // Its webhook, arriving late, runs nothing twice.
    let (status, _) = app
        .server
        .deliver(
            "issue_comment",
            &comment_by("maintainer", 9301, "/invitebot skip 2026-12-28"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_nothing_more_than(&app, ROSTER_ADA_BOB, 3).await;
    assert_eq!(app.github.comments().await.len(), 1);
}
