//! Consent by proof (issue 13), tried as an abuser would, through the real server, SMTP server
//! and GitHub mock: a typed address gets one confirmation that carries no words of the
//! requester's, a profile address is invited at once, one confirmation per address a day
//! whoever asks (and the series' cap counts them), a member's address from another account
//! reveals nothing and mails nobody, refused forms of address, no public URL (a maintainer
//! decides), and an approval that releases the stored request, not the issue as edited since.

use crate::common::*;
use crate::consent::{
    ADA, GRACE, JOIN, PUBLIC, approval_by, assert_mail_count_stays, get, join_by, link_in,
    mount_permission, post, start_confirming, wait_for_label,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VICTIM: &str = "victim@example.org";
const EVE: &str = "eve@example.org";
/// What an attacker writes into the issue, hoping the victim reads it.
const LURE: &str = "URGENT account locked, verify at https://evil.example/login";

/// A join request by `login` (issue `number`) for `email`, with `LURE` as title and name.
fn lure_by(login: &str, number: u64, email: &str) -> Vec<u8> {
    let body = join_by(login, number, email);
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    v["issue"]["title"] = json!(format!("Join: {LURE}"));
    let body = v["issue"]["body"]
        .as_str()
        .unwrap()
        .replace("Ada Lovelace", LURE);
    v["issue"]["body"] = Value::from(body);
    json_body(&v)
}

/// The text of comment `index` with the requester's mention and the outbox key taken out, to
/// compare replies to different requesters.
async fn comment_without(app: &App, index: usize, login: &str) -> String {
    let text = app.github.comments().await[index].text();
    assert!(text.contains(&format!("@{login}")), "{text}");
    let text = text.replace(&format!("@{login}"), "@someone");
    match text.find("<!-- invitebot-reply:") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Delivers `delivery` (a request by `second`), which must be accepted, and checks that its
/// reply (the second comment) reads exactly like `first`'s (the first comment).
async fn second_reply_reads_like_the_first(app: &App, delivery: &[u8], first: &str, second: &str) {
    let (status, _) = app.server.deliver("issues", delivery).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_comment, 2).await;
    assert_eq!(
        comment_without(app, 1, second).await,
        comment_without(app, 0, first).await
    );
}

/// Grace's public profile shows her address; her request names none: the request.
async fn grace_with_a_public_profile_address(app: &App) -> Vec<u8> {
    app.github
        .mount_user("grace", Some("Grace Hopper"), Some(GRACE))
        .await;
    fixture_with(JOIN, |v| {
        v["issue"]["user"]["login"] = json!("grace");
        v["sender"]["login"] = json!("grace");
        v["issue"]["body"] = json!("Please add me to the calls.");
    })
}

/// Whether any label call on issue `number` added `label`.
async fn labelled(app: &App, number: u64, label: &str) -> bool {
    app.github
        .label_calls()
        .await
        .iter()
        .any(|c| c.number == number && c.labels().iter().any(|l| l == label))
}

/// `invitebot status` as the operator runs it.
async fn status_report(app: &App) -> String {
    let (code, out, err) = app.server.workspace().cli(&["status"], &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    out
}

#[tokio::test]
async fn a_typed_address_gets_one_confirmation_that_carries_no_words_of_the_requester() {
    let app = start_confirming(None, "").await;
    let (status, _) = app
        .server
        .deliver("issues", &lure_by("mallory", 4, VICTIM))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = app.wait_for_mail(1).await;
    let mail = &mails[0];
    assert_eq!(mail.rcpt_to, [VICTIM]);
    assert_eq!(
        mail.calendar_method(),
        None,
        "a confirmation, not an invitation"
    );
    let raw = mail.text();
    for attacker_words in ["URGENT", "evil", "verify", "Lovelace"] {
        assert!(!raw.contains(attacker_words), "{attacker_words}:\n{raw}");
    }
    // The recipient has no display name: only the address it was sent to.
    assert_eq!(mail.header("To").as_deref(), Some(VICTIM));
    let text = mail.plain_text().unwrap();
    assert!(text.starts_with("Hello,"), "{text}");
    assert!(text.contains("the GitHub user mallory asked"), "{text}");
    link_in(&app, &text, "confirm");

    app.wait_for_github(GitHubMock::is_comment, 1).await;
    let comment = app.github.comments().await[0].text();
    assert!(comment.contains("has to confirm"), "{comment}");
    assert!(!app.server.roster_text().contains(VICTIM));
    assert!(app.github.close_calls().await.is_empty());
    // Nothing else reaches the victim unless they click.
    assert_mail_count_stays(&app, 1).await;
    app.assert_private(&[VICTIM]).await;
}

#[tokio::test]
async fn a_profile_address_is_proven_and_invited_at_once() {
    let app = start_confirming(None, "").await;
    let request = grace_with_a_public_profile_address(&app).await;
    app.server.deliver("issues", &request).await;
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [GRACE]);
    assert_eq!(mails[0].calendar_method().as_deref(), Some("REQUEST"));
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert!(app.server.roster_text().contains(GRACE));
    app.assert_private(&[GRACE]).await;
}

#[tokio::test]
async fn one_confirmation_per_address_a_day_whoever_asks() {
    let app = start_confirming(None, "").await;
    app.server
        .deliver("issues", &lure_by("mallory", 4, VICTIM))
        .await;
    app.wait_for_mail(1).await;
    app.wait_for_github(GitHubMock::is_comment, 1).await;

    // A second account asks for the same address: nothing new is sent, and its reply reads
    // like the first one's.
    second_reply_reads_like_the_first(&app, &lure_by("eve", 5, VICTIM), "mallory", "eve").await;
    // The first requester asking again gets nothing sent either.
    app.server
        .deliver("issues", &lure_by("mallory", 6, VICTIM))
        .await;
    app.wait_for_github(GitHubMock::is_comment, 3).await;
    assert_mail_count_stays(&app, 1).await;
    assert!(!labelled(&app, 5, "needs-approval").await);

    // The maintainers see why both wait, without the address.
    let out = status_report(&app).await;
    assert_eq!(
        out.matches("a confirmation went to this address in the last 24 hours")
            .count(),
        2,
        "{out}"
    );
    assert!(!out.contains(VICTIM), "{out}");
    app.assert_private(&[VICTIM]).await;
}

#[tokio::test]
async fn the_series_daily_cap_counts_confirmations() {
    let app = start_confirming(None, "max_new_per_day = 1").await;
    app.server
        .deliver("issues", &lure_by("mallory", 4, VICTIM))
        .await;
    app.wait_for_mail(1).await;
    // Nobody clicked, yet the day's one new member is used up by the confirmation.
    app.server
        .deliver("issues", &join_by("grace", 5, GRACE))
        .await;
    app.wait_for_github(GitHubMock::is_comment, 2).await;
    let comment = app.github.comments().await[1].text();
    assert!(comment.contains("as many new members today"), "{comment}");
    wait_for_label(&app, "needs-approval").await;
    assert_mail_count_stays(&app, 1).await;
    app.assert_private(&[VICTIM, GRACE]).await;
}

#[tokio::test]
async fn a_members_address_from_another_account_reveals_nothing_and_mails_nobody() {
    let app = App::start_with(|opts| {
        opts.env
            .push(("INVITEBOT_PUBLIC_URL".into(), PUBLIC.into()));
        opts.confirm_email = None;
        opts.roster = Some(format!(
            "{DEFAULT_ROSTER}\n[[member]]\ngithub = \"ada\"\nname = \"Ada\"\nemail = \"{ADA}\"\n"
        ));
    })
    .await;
    // Ada's invitation goes out first (the roster's member), then nothing more to her.
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [ADA]);

    // A new address, for comparison: a confirmation and its reply.
    app.server
        .deliver("issues", &join_by("grace", 7, GRACE))
        .await;
    app.wait_for_mail(2).await;
    app.wait_for_github(GitHubMock::is_comment, 1).await;

    // Another account with Ada's address: the same reply, no label, and Ada gets nothing.
    second_reply_reads_like_the_first(&app, &join_by("mallory", 8, ADA), "grace", "mallory").await;
    assert_mail_count_stays(&app, 2).await;
    assert!(!labelled(&app, 8, "needs-approval").await);
    let roster = app.server.roster_text();
    assert!(!roster.contains("mallory"), "{roster}");

    // The maintainers learn why it waits, without the address.
    let out = status_report(&app).await;
    assert!(
        out.contains("#8 (ispo-wg): the address belongs to another member"),
        "{out}"
    );
    assert!(!out.contains(ADA), "{out}");
    app.assert_private(&[ADA, GRACE]).await;
}

#[tokio::test]
async fn refused_forms_of_address_get_a_clear_reply_and_no_mail() {
    let app = start_confirming(Some("never"), "").await;
    for (number, address) in [(4, r#""a b"@example.org"#), (5, "x@[127.0.0.1]")] {
        app.server
            .deliver("issues", &join_by("grace", number, address))
            .await;
        app.wait_for_github(GitHubMock::is_comment, number as usize - 3)
            .await;
        let comment = app.github.comments().await[number as usize - 4].text();
        assert!(comment.contains("a form I can't send to"), "{comment}");
        assert!(comment.contains("please give a plain address"), "{comment}");
    }
    // The private form refuses them too, saying why.
    let comment = app.github.comments().await[0].text();
    let url = link_in(&app, &comment, "join");
    let (status, page) = get(&app, &url).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, page) = post(&app, &url, &[("email", "x@[127.0.0.1]")], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not supported"), "{page}");
    assert_mail_count_stays(&app, 0).await;
    assert!(!app.server.roster_text().contains("grace"));
}

#[tokio::test]
async fn without_a_public_url_a_typed_address_waits_and_approval_sends_the_stored_address() {
    let app = App::start_with(|opts| opts.confirm_email = None).await;
    app.server
        .wait_for_log("no confirmation link can be mailed", DEFAULT_WAIT)
        .await;
    mount_permission(&app, "maintainer", "admin").await;

    app.server
        .deliver("issues", &join_by("grace", 3, GRACE))
        .await;
    app.wait_for_github(GitHubMock::is_comment, 1).await;
    let comment = app.github.comments().await[0].text();
    assert!(comment.contains("a maintainer will look"), "{comment}");
    assert!(comment.contains("can't check by a link"), "{comment}");
    wait_for_label(&app, "needs-approval").await;
    assert_mail_count_stays(&app, 0).await;

    // The author swaps the address after the maintainer looked; the label releases what the
    // maintainer saw.
    app.server
        .deliver("issues", &approval_by("maintainer", "grace", 3, EVE))
        .await;
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [GRACE]);
    assert_eq!(mails[0].calendar_method().as_deref(), Some("REQUEST"));
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    let roster = app.server.roster_text();
    assert!(roster.contains(GRACE) && !roster.contains(EVE), "{roster}");
    assert_mail_count_stays(&app, 1).await;
    app.assert_private(&[GRACE, EVE]).await;
}

#[tokio::test]
async fn with_always_the_profile_address_is_confirmed_too_and_the_private_form_by_default() {
    // "always": even the profile's address gets a confirmation first.
    let app = start_confirming(Some("always"), "").await;
    let request = grace_with_a_public_profile_address(&app).await;
    app.server.deliver("issues", &request).await;
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [GRACE]);
    assert_eq!(mails[0].calendar_method(), None);
    assert!(!mails[0].text().contains("Hopper"));
    assert_mail_count_stays(&app, 1).await;
    app.assert_private(&[GRACE]).await;

    // By default, an address given in the private form is typed: confirmed first.
    let app = start_confirming(None, "").await;
    let request = fixture_with(JOIN, |v| v["issue"]["body"] = json!("No address here."));
    app.server.deliver("issues", &request).await;
    app.wait_for_github(GitHubMock::is_comment, 1).await;
    let url = link_in(&app, &app.github.comments().await[0].text(), "join");
    let (status, page) = post(&app, &url, &[("email", EVE)], Some(PUBLIC)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mails = app.wait_for_mail(1).await;
    assert_eq!(mails[0].rcpt_to, [EVE]);
    assert_eq!(mails[0].calendar_method(), None);
    assert!(!app.server.roster_text().contains(EVE));
    app.assert_private(&[EVE]).await;
}

#[tokio::test]
async fn an_internationalised_domain_is_sent_to_in_punycode() {
    let app = start_confirming(Some("never"), "").await;
    app.server
        .deliver("issues", &join_by("grace", 3, "grace@bücher.example"))
        .await;
    let mails = app.wait_for_mail(1).await;
    let ascii = "grace@xn--bcher-kva.example";
    assert_eq!(mails[0].rcpt_to, [ascii]);
    let to = mails[0].header("To").unwrap();
    assert!(to.is_ascii() && to.contains(ascii), "{to}");
    assert!(app.server.roster_text().contains(ascii));
    app.assert_private(&[ascii, "grace@bücher.example"]).await;
}
