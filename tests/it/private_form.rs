//! The private email form (`/join/{token}`) through the real server: it works once (of many
//! concurrent answers exactly one address ever gets mail), a closed issue's link is void, and
//! with the GitHub App's OAuth client configured only the issue's author, signed in with GitHub
//! (the mock's OAuth endpoints), may answer.

use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;
use crate::consent::{JOIN, PUBLIC, assert_mail_count_stays, get, link_in, post, start};

/// The OAuth client secret the server gets (the leak scan looks for it).
const CLIENT_SECRET: &str = "oauth-client-secret-4711";

/// A join request without an address: the bot answers with the private form's link.
async fn form_link(app: &App) -> String {
    let body = "Please add me; my address is not for a public issue.";
    let request = fixture_with(JOIN, |v| v["issue"]["body"] = Value::from(body));
    app.server.deliver("issues", &request).await;
    app.wait_for_github(GitHubMock::is_comment, 1).await;
    let comment = app.github.comments().await[0].text();
    link_in(app, &comment, "join")
}

#[tokio::test]
async fn of_twenty_concurrent_answers_exactly_one_address_ever_gets_mail() {
    let app = start("").await;
    let url = form_link(&app).await;
    let addresses: Vec<String> = (0..20).map(|i| format!("person{i}@example.org")).collect();
    let mut posts = tokio::task::JoinSet::new();
    for address in &addresses {
        let client = app.server.client().clone();
        let (url, body) = (
            url.clone(),
            format!("email={}", address.replace('@', "%40")),
        );
        posts.spawn(async move {
            let response = client
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", PUBLIC)
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status(), response.text().await.unwrap())
        });
    }
    let answers = posts.join_all().await;
    let accepted: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .collect();
    assert_eq!(accepted.len(), 1, "{answers:?}");
    assert!(accepted[0].1.contains("Thank you"), "{}", accepted[0].1);
    for (status, page) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT, "{page}");
        assert!(page.contains("Already answered"), "{page}");
    }

    let mails = app.wait_for_mail(1).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert_mail_count_stays(&app, 1).await;
    let winner = &mails[0].rcpt_to;
    assert_eq!(winner.len(), 1);
    let roster = app.server.roster_text();
    let on_roster: Vec<_> = addresses.iter().filter(|a| roster.contains(*a)).collect();
    assert_eq!(on_roster, [&winner[0]]);
    // One request, one answer on the issue: the ask for an address, then the invitation.
    assert_eq!(app.github.comments().await.len(), 2);
    assert_eq!(app.github.close_calls().await.len(), 1);
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    app.assert_private(&refs).await;
}

/// `issues.closed` for the fixture's issue.
fn closed_issue() -> Vec<u8> {
    fixture_with(JOIN, |v| {
        v["action"] = json!("closed");
        v["issue"]["state"] = json!("closed");
    })
}

#[tokio::test]
async fn closing_the_issue_voids_its_form_link() {
    let app = start("").await;
    let url = form_link(&app).await;
    let (status, _) = get(&app, &url).await;
    assert_eq!(status, StatusCode::OK);

    let (status, answer) = app.server.deliver("issues", &closed_issue()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, page) = get(&app, &url).await;
    assert_eq!(status, StatusCode::GONE, "{page}");
    assert!(page.contains("closed"), "{page}");
    let (status, page) = post(&app, &url, &[("email", "grace@example.org")], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::GONE, "{page}");
    assert_mail_count_stays(&app, 0).await;
    assert!(!app.server.roster_text().contains("grace@example.org"));
}

/// Mounts GitHub's OAuth endpoints on the mock: `code` is exchanged for a token that `GET
/// /user` reads as `login`.
async fn mount_sign_in(app: &App, code: &str, login: &str) {
    let token = format!("gho_{login}");
    Mock::given(method("POST"))
        .and(path("/login/oauth/access_token"))
        .and(body_string_contains(format!("\"code\":\"{code}\"")))
        .and(body_string_contains(CLIENT_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "token_type": "bearer", "scope": ""
        })))
        .with_priority(1)
        .mount(app.github.server())
        .await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", format!("Bearer {token}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "login": login, "id": 7, "type": "User"
        })))
        .with_priority(1)
        .mount(app.github.server())
        .await;
}

/// The `state` of the sign-in link on the form's page (which leads to the mock's authorize page).
fn sign_in_state(app: &App, page: &str) -> String {
    let authorize = format!("{}/login/oauth/authorize?", app.github.uri());
    let at = page
        .find(&authorize)
        .unwrap_or_else(|| panic!("no sign-in link in:\n{page}"));
    let href: String = page[at..].chars().take_while(|c| *c != '"').collect();
    let href = href.replace("&amp;", "&");
    let url = reqwest::Url::parse(&href).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} in {href}"))
    };
    assert_eq!(value("client_id"), "Iv1.invitebot-test");
    assert!(value("redirect_uri").starts_with(&format!("{PUBLIC}/join/")));
    value("state")
}

/// The hidden proof field of the form shown after signing in.
fn proof_in(page: &str) -> String {
    let marker = "name=\"proof\" value=\"";
    let at = page
        .find(marker)
        .unwrap_or_else(|| panic!("no proof in:\n{page}"));
    page[at + marker.len()..]
        .chars()
        .take_while(|c| *c != '"')
        .collect()
}

#[tokio::test]
async fn with_sign_in_only_the_issue_author_may_answer() {
    let app = App::start_with(|opts| {
        for (key, value) in [
            ("INVITEBOT_PUBLIC_URL", PUBLIC),
            ("INVITEBOT_GITHUB_OAUTH_CLIENT_ID", "Iv1.invitebot-test"),
            ("INVITEBOT_GITHUB_OAUTH_CLIENT_SECRET", CLIENT_SECRET),
        ] {
            opts.env.push((key.into(), value.into()));
        }
        opts.env.push((
            "INVITEBOT_GITHUB_OAUTH_URL".into(),
            opts.github_api_url.clone(),
        ));
    })
    .await;
    mount_sign_in(&app, "code-of-mallory", "mallory").await;
    mount_sign_in(&app, "code-of-the-author", "codertocat").await;
    let url = form_link(&app).await;

    // The page asks to sign in first; the form itself is not shown, and a bare POST is refused.
    let (status, page) = get(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("name=\"email\""), "{page}");
    let state = sign_in_state(&app, &page);
    let (status, _) = post(&app, &url, &[("email", "eve@example.org")], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Someone else signed in: refused. A state not made for this link: refused.
    let back = |code: &str, state: &str| format!("{url}/signed-in?code={code}&state={state}");
    let (status, page) = get(&app, &back("code-of-mallory", &state)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(!page.contains("name=\"email\""), "{page}");
    let (status, _) = get(&app, &back("code-of-the-author", "forged")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A proof is bound to its link and login: a made-up one is refused.
    let (status, _) = post(
        &app,
        &url,
        &[("email", "eve@example.org"), ("proof", &state)],
        Some(PUBLIC),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_mail_count_stays(&app, 0).await;

    // The author (any case of the login) gets the form, and their answer goes through.
    let (status, page) = get(&app, &back("code-of-the-author", &state)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let proof = proof_in(&page);
    let (status, page) = post(
        &app,
        &url,
        &[("email", "grace@example.org"), ("proof", &proof)],
        Some(PUBLIC),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, ["grace@example.org"]);
    assert_mail_count_stays(&app, 1).await;
    // The code exchange carried the client secret to GitHub; nothing else did.
    let exchanges = app
        .github
        .requests_matching(|r| r.url.path() == "/login/oauth/access_token")
        .await;
    assert_eq!(exchanges.len(), 2);
    app.assert_private(&["grace@example.org", CLIENT_SECRET])
        .await;
}
