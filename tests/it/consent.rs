//! Consent and abuse, end to end through the real server: double opt-in by a link in a mail,
//! the one-click leave link (RFC 8058), tampered and expired links, the daily limit that makes
//! requests wait for a maintainer's approval, and the private email form.

use crate::common::*;
use invitebot::links::token::{LinkKey, Purpose};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

pub(crate) const JOIN: &str = "issues.opened.join-request.json";
pub(crate) const ADA: &str = "ada@example.org";
pub(crate) const GRACE: &str = "grace@example.org";
/// The public address the server is told it has; links are followed on the real one.
pub(crate) const PUBLIC: &str = "http://invitebot.test";

/// Starts the app with `series_keys` added to the `[[series]]` table and links enabled
/// (`confirm_email = "never"`, the harness's default).
pub(crate) async fn start(series_keys: &str) -> App {
    start_confirming(Some("never"), series_keys).await
}

/// Starts the app with links enabled, `confirm_email` (`None`: the default) and `series_keys`.
pub(crate) async fn start_confirming(confirm_email: Option<&str>, series_keys: &str) -> App {
    App::start_with(|opts| {
        opts.env
            .push(("INVITEBOT_PUBLIC_URL".into(), PUBLIC.into()));
        opts.confirm_email = confirm_email.map(str::to_string);
        opts.series_config = series_keys.to_string();
    })
    .await
}

/// The link of `kind` (`confirm`, `leave`, `join`) in `text`, on the server's real address.
pub(crate) fn link_in(app: &App, text: &str, kind: &str) -> String {
    let start = format!("{PUBLIC}/{kind}/");
    let at = text
        .find(&start)
        .unwrap_or_else(|| panic!("no {kind} link in:\n{text}"));
    let token: String = text[at + start.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .collect();
    format!("{}/{kind}/{token}", app.server.base_url())
}

pub(crate) async fn get(app: &App, url: &str) -> (StatusCode, String) {
    let response = app.server.client().get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

pub(crate) async fn post(
    app: &App,
    url: &str,
    form: &[(&str, &str)],
    origin: Option<&str>,
) -> (StatusCode, String) {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = app
        .server
        .client()
        .post(url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Waits for the label `name` to be added (the replies go out in order: comment, then labels).
pub(crate) async fn wait_for_label(app: &App, name: &str) {
    let mut poll = Poll::new(DEFAULT_WAIT);
    while !app
        .github
        .label_calls()
        .await
        .iter()
        .any(|c| c.labels().iter().any(|l| l == name))
    {
        assert!(
            poll.next().await,
            "label {name} never added: {:?}",
            app.github.label_calls().await
        );
    }
}

/// Lets the worker settle, then checks the number of mails hasn't changed.
pub(crate) async fn assert_mail_count_stays(app: &App, count: usize) {
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(app.smtp.messages().len(), count, "unexpected mail");
}

/// The key the server signs links with (generated in its data folder).
pub(crate) fn server_key(app: &App) -> LinkKey {
    LinkKey::new(&std::fs::read(app.server.data_dir().join("link-key")).unwrap())
}

#[tokio::test]
async fn with_confirm_email_the_invitation_waits_for_the_click() {
    let app = start_confirming(Some("always"), "").await;
    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    // First a plain confirmation mail, no calendar, and nobody on the roster.
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [ADA]);
    assert_eq!(mails[0].calendar_method(), None);
    let text = mails[0].plain_text().unwrap();
    app.wait_for_github(GitHubMock::is_comment, 1).await;
    assert!(!app.server.roster_text().contains(ADA));
    let comment = app.github.comments().await[0].text();
    assert!(comment.contains("email with a link"), "{comment}");
    assert!(app.github.close_calls().await.is_empty());

    // A GET (what a mail scanner does) changes nothing.
    let url = link_in(&app, &text, "confirm");
    let (status, page) = get(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<form method=\"post\">"), "{page}");
    assert_mail_count_stays(&app, 1).await;
    assert!(!app.server.roster_text().contains(ADA));

    // The button's POST sends the invitation.
    let (status, page) = post(&app, &url, &[], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("confirmed"), "{page}");
    let mails = app.wait_for_mail(2).await;
    assert_eq!(mails[1].rcpt_to, [ADA]);
    assert_eq!(mails[1].calendar_method().as_deref(), Some("REQUEST"));
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert!(app.server.roster_text().contains(ADA));

    // A second click sends nothing more.
    let (status, page) = post(&app, &url, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Already confirmed"), "{page}");
    assert_mail_count_stays(&app, 2).await;
    app.assert_private(&[ADA]).await;
}

#[tokio::test]
async fn tampered_expired_and_misused_links_change_nothing() {
    let app = start_confirming(Some("always"), "").await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    let mails = app.wait_for_mail(1).await;
    let url = link_in(&app, &mails[0].plain_text().unwrap(), "confirm");
    let roster = app.server.roster_text();

    // One character changed in the signature.
    let mut tampered = url.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // The same subject, signed with another key.
    let foreign = LinkKey::new(b"not the server's key").sign(Purpose::Confirm, "1", None);
    // Signed with the server's key, but expired, or made for another purpose.
    let key = server_key(&app);
    let expired = key.sign(
        Purpose::Confirm,
        "1",
        Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60)),
    );
    let leave_token = key.sign(Purpose::Leave, "1", None);
    let base = app.server.base_url();
    for (url, expected) in [
        (tampered, StatusCode::NOT_FOUND),
        (format!("{base}/confirm/{foreign}"), StatusCode::NOT_FOUND),
        (
            format!("{base}/confirm/{leave_token}"),
            StatusCode::NOT_FOUND,
        ),
        (format!("{base}/confirm/{expired}"), StatusCode::GONE),
        (format!("{base}/confirm/not-a-token"), StatusCode::NOT_FOUND),
        (format!("{base}/leave/{expired}"), StatusCode::NOT_FOUND),
        (format!("{base}/join/{leave_token}"), StatusCode::NOT_FOUND),
    ] {
        let (status, page) = post(&app, &url, &[], None).await;
        assert_eq!(status, expected, "{url}: {page}");
        assert!(!page.contains("Thank you"), "{page}");
    }
    // A cross-site POST of the real link is refused.
    let (status, _) = post(&app, &url, &[], Some("http://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_mail_count_stays(&app, 1).await;
    assert_eq!(app.server.roster_text(), roster);
}

#[tokio::test]
async fn the_one_click_leave_link_cancels_and_removes_the_member() {
    let app = start("").await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    let mails = app.wait_for_mail(1).await;
    let invite = &mails[0];
    assert_eq!(
        invite.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let header = invite.header("List-Unsubscribe").unwrap();
    assert!(header.starts_with(&format!("<{PUBLIC}/leave/")), "{header}");
    assert!(!header.contains(ADA));
    let url = link_in(&app, &header, "leave");
    // The link binds the address by a digest keyed with the link key, not a plain hash that
    // anyone could check a guessed address against.
    let token = url.rsplit('/').next().unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        token.split('.').next().unwrap(),
    )
    .unwrap();
    let payload = String::from_utf8(payload).unwrap();
    assert!(
        payload.contains(&server_key(&app).address_digest(ADA)),
        "{payload}"
    );
    let unkeyed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(ADA.as_bytes()));
    assert!(!payload.contains(&unkeyed[..16]), "{payload}");
    // The text part carries the same link for people.
    assert_eq!(link_in(&app, &invite.plain_text().unwrap(), "leave"), url);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert!(app.server.roster_text().contains(ADA));

    // RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`, without a browser.
    let (status, page) = post(&app, &url, &[("List-Unsubscribe", "One-Click")], None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mails = app.wait_for_mail(2).await;
    assert_eq!(mails[1].rcpt_to, [ADA]);
    assert_eq!(mails[1].calendar_method().as_deref(), Some("CANCEL"));
    app.server
        .wait_until("the roster entry to go", DEFAULT_WAIT, || {
            (!app.server.roster_text().contains(ADA)).then_some(())
        })
        .await;

    // Replaying the link does nothing more.
    let (status, page) = post(&app, &url, &[("List-Unsubscribe", "One-Click")], None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("not on the list"), "{page}");
    assert_mail_count_stays(&app, 2).await;
    // No comment about the link leave: it came from no issue.
    assert_eq!(app.github.comments().await.len(), 1);
    app.assert_private(&[ADA]).await;
}

/// A join request by `login` (issue `number`) with `email` in the form.
pub(crate) fn join_by(login: &str, number: u64, email: &str) -> Vec<u8> {
    fixture_with(JOIN, |v| {
        v["issue"]["number"] = json!(number);
        v["issue"]["user"]["login"] = json!(login);
        v["sender"]["login"] = json!(login);
        let body = v["issue"]["body"].as_str().unwrap().replace(ADA, email);
        v["issue"]["body"] = Value::from(body);
    })
}

/// `sender` added the label `approved` to issue `number` of `login`'s request.
pub(crate) fn approval_by(sender: &str, login: &str, number: u64, email: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&join_by(login, number, email)).unwrap();
    v["action"] = json!("labeled");
    v["label"] = json!({ "name": "approved" });
    v["sender"]["login"] = json!(sender);
    v["issue"]["labels"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "approved" }));
    json_body(&v)
}

pub(crate) async fn mount_permission(app: &App, login: &str, permission: &str) {
    Mock::given(method("GET"))
        .and(path(format!(
            "/repos/Codertocat/Hello-World/collaborators/{login}/permission"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "permission": permission,
            "role_name": permission,
            "user": { "login": login }
        })))
        .mount(app.github.server())
        .await;
}

#[tokio::test]
async fn over_the_daily_limit_a_request_waits_for_a_maintainers_approval() {
    let app = start("max_new_per_day = 1").await;
    mount_permission(&app, "maintainer", "admin").await;
    mount_permission(&app, "stranger", "read").await;
    app.github
        .mount_user("grace", Some("Grace Hopper"), None)
        .await;

    app.server.deliver("issues", &fixture(JOIN)).await;
    app.wait_for_mail(1).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;

    // The second new member of the day waits: label and comment, no mail.
    let (status, _) = app
        .server
        .deliver("issues", &join_by("grace", 3, GRACE))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_comment, 2).await;
    let comment = app.github.comments().await[1].text();
    assert!(comment.contains("a maintainer will look"), "{comment}");
    wait_for_label(&app, "needs-approval").await;
    assert_mail_count_stays(&app, 1).await;
    assert!(!app.server.roster_text().contains(GRACE));

    // Someone without write access adding the label changes nothing.
    let (status, _) = app
        .server
        .deliver("issues", &approval_by("stranger", "grace", 3, GRACE))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.server
        .wait_for_log(
            "approval label added by someone without write access",
            DEFAULT_WAIT,
        )
        .await;
    assert_mail_count_stays(&app, 1).await;
    assert!(!app.server.roster_text().contains(GRACE));

    // A maintainer's label lets it through.
    app.server
        .deliver("issues", &approval_by("maintainer", "grace", 3, GRACE))
        .await;
    let mails = app.wait_for_mail(2).await;
    assert_eq!(mails[1].rcpt_to, [GRACE]);
    assert_eq!(mails[1].calendar_method().as_deref(), Some("REQUEST"));
    assert!(app.server.roster_text().contains(GRACE));
    // The approval label's counterpart comes off the issue.
    app.wait_for_github(
        |r| {
            r.method.as_str() == "DELETE"
                && r.url.path() == "/repos/Codertocat/Hello-World/issues/3/labels/needs-approval"
        },
        1,
    )
    .await;
    // The label on an issue that doesn't wait is ignored.
    let (status, _) = app
        .server
        .deliver("issues", &approval_by("maintainer", "grace", 3, GRACE))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_mail_count_stays(&app, 2).await;
    app.assert_private(&[ADA, GRACE]).await;
}

#[tokio::test]
async fn an_address_can_be_given_privately_through_the_linked_form() {
    let app = start("").await;
    let body = "I'd like to join, but not with my address in public.";
    let request = fixture_with(JOIN, |v| v["issue"]["body"] = Value::from(body));
    app.server.deliver("issues", &request).await;
    app.wait_for_github(GitHubMock::is_comment, 1).await;
    let comment = app.github.comments().await[0].text();
    let url = link_in(&app, &comment, "join");
    assert!(app.smtp.messages().is_empty());

    let (status, page) = get(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"email\""), "{page}");
    // A bad address is refused with the form again; a cross-site POST is refused.
    let (status, page) = post(&app, &url, &[("email", "not-an-address")], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("name=\"email\""), "{page}");
    let (status, _) = post(
        &app,
        &url,
        &[("email", GRACE)],
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_mail_count_stays(&app, 0).await;

    let (status, page) = post(&app, &url, &[("email", GRACE)], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [GRACE]);
    assert_eq!(mails[0].calendar_method().as_deref(), Some("REQUEST"));
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert!(app.server.roster_text().contains(GRACE));
    // The form works once: afterwards it says it was answered.
    let (status, page) = get(&app, &url).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Already answered"), "{page}");
    app.assert_private(&[GRACE]).await;
}

#[tokio::test]
async fn a_request_from_a_new_account_waits_for_approval_an_old_one_does_not() {
    let app = start("min_account_age_days = 30").await;
    let created = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(48)).to_string();
    Mock::given(method("GET"))
        .and(path("/users/newbie"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "login": "newbie", "id": 99, "type": "User", "name": null, "email": null,
            "created_at": created
        })))
        .with_priority(1)
        .mount(app.github.server())
        .await;

    // Codertocat's account is from 2016: invited at once.
    app.server.deliver("issues", &fixture(JOIN)).await;
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [ADA]);

    // A two-day-old account waits, with the label and no mail.
    app.server
        .deliver("issues", &join_by("newbie", 5, GRACE))
        .await;
    app.wait_for_github(GitHubMock::is_comment, 2).await;
    let comment = app.github.comments().await[1].text();
    assert!(comment.contains("your GitHub account is new"), "{comment}");
    wait_for_label(&app, "needs-approval").await;
    assert_mail_count_stays(&app, 1).await;
    assert!(!app.server.roster_text().contains(GRACE));
    app.assert_private(&[ADA, GRACE]).await;
}

#[tokio::test]
async fn asking_again_past_the_per_person_limit_waits_for_approval() {
    let app = start("max_requests_per_person_per_day = 1").await;
    app.server.deliver("issues", &fixture(JOIN)).await;
    app.wait_for_mail(1).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;

    // The same person on a new issue: the invitation would be mailed again, past the limit.
    let again = fixture_with(JOIN, |v| v["issue"]["number"] = json!(9));
    let (status, _) = app.server.deliver("issues", &again).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_comment, 2).await;
    let comment = app.github.comments().await[1].text();
    assert!(
        comment.contains("you've asked several times today"),
        "{comment}"
    );
    assert_mail_count_stays(&app, 1).await;
    app.assert_private(&[ADA]).await;
}
