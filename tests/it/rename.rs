//! A repository renamed on GitHub: the config still names the old repository, GitHub's
//! webhooks carry the new `repository.full_name`. Looked up at start (`GET /repos/{old}`, which
//! GitHub answers with the repository under its new name), the series learns the repository's
//! id: deliveries are matched by it, catch-up lists issues under the new name, and the log and
//! `invitebot check` say to update the config.

use crate::common::*;
use reqwest::StatusCode;

/// The vendored payloads' repository: `Codertocat/Hello-World`, id 186853002.
const REPO_ID: u64 = 186853002;

/// A server whose config names `Codertocat/Old-World`, which GitHub renamed to
/// `Codertocat/Hello-World`.
async fn start_after_rename() -> App {
    let github = GitHubMock::start_with_defaults().await;
    github
        .mount_repository("Codertocat/Old-World", REPO_ID, "Codertocat/Hello-World")
        .await;
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    opts.repo = "Codertocat/Old-World".to_string();
    let server = TestServer::start(opts).await;
    App {
        github,
        smtp,
        server,
    }
}

#[tokio::test]
async fn a_delivery_under_the_new_name_is_matched_by_the_repository_id() {
    let app = start_after_rename().await;
    app.server
        .wait_for_log(
            "repository Codertocat/Old-World was renamed to Codertocat/Hello-World: update the config",
            DEFAULT_WAIT,
        )
        .await;
    let (status, answer) = app
        .server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, ["ada@example.org"]);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;

    // Another repository that took the old name (another id) is not the series'.
    let squatter = fixture_with("issues.opened.join-request.json", |v| {
        v["repository"]["id"] = serde_json::Value::from(7);
        v["repository"]["full_name"] = serde_json::Value::from("Codertocat/Elsewhere");
        v["issue"]["number"] = serde_json::Value::from(5);
    });
    let (status, _) = app.server.deliver("issues", &squatter).await;
    assert_eq!(status, StatusCode::OK);

    // Catch-up looked for issues under the new name, never the old one.
    let listed = app
        .github
        .requests_matching(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/issues"))
        .await;
    assert!(
        !listed.is_empty(),
        "{}",
        app.github.describe_requests().await
    );
    for request in listed {
        assert_eq!(request.url.path(), "/repos/Codertocat/Hello-World/issues");
    }

    let (code, stdout, stderr) = app.server.workspace().cli(&["check"], &[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("GitHub: repository Codertocat/Old-World was renamed to Codertocat/Hello-World: update the config"),
        "{stdout}"
    );
    app.assert_private(&["ada@example.org"]).await;
}

#[tokio::test]
async fn without_an_answer_from_github_the_names_are_matched_and_the_log_says_so() {
    // The default mock answers 404 to the repository lookup.
    let app = App::start().await;
    app.server
        .wait_for_log(
            "repository Codertocat/Hello-World: cannot look it up on GitHub",
            DEFAULT_WAIT,
        )
        .await;
    let (status, _) = app
        .server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_mail(1).await;
    let (code, stdout, _) = app.server.workspace().cli(&["check"], &[]).await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("matched by its configured name only"),
        "{stdout}"
    );
}
