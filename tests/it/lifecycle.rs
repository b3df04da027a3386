//! The series lifecycle through the real server: roster and config edits become invitations,
//! cancellations and updates, exactly once each, and nothing else; leaving by issue; the GitHub
//! team following the roster.
//!
//! A test that must show that *nothing more* was sent ends with a marker change (a new member)
//! and waits for its invitation: the worker handles changes in order, so everything before the
//! marker is done by then.

use std::time::Instant;

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

const UID: &str = "ispo-wg.codertocat.hello-world@invitebot";

fn member(github: &str, email: &str) -> String {
    format!("\n[[member]]\ngithub = \"{github}\"\nemail = \"{email}\"\n")
}

fn roster_with(members: &[(&str, &str)]) -> String {
    members
        .iter()
        .fold(DEFAULT_ROSTER.to_string(), |text, (g, e)| {
            text + &member(g, e)
        })
}

fn method_of(mail: &ReceivedMail) -> String {
    mail.calendar_method().unwrap_or_default()
}

fn sequence(mail: &ReceivedMail) -> u32 {
    ics_value(&mail.expect_calendar(), "SEQUENCE")
        .unwrap()
        .parse()
        .unwrap()
}

/// Checks a received REQUEST: one recipient, its own ATTENDEE only, the series' UID, and the
/// occurrences Python reads are Mondays at `hour`:00 in Los Angeles, two weeks apart.
fn assert_request(mail: &ReceivedMail, to: &str, hour: i8) {
    assert_eq!(mail.rcpt_to, [to]);
    assert_eq!(method_of(mail), "REQUEST");
    let ics = mail.expect_calendar();
    assert_eq!(ics_value(&ics, "UID").as_deref(), Some(UID));
    let people = attendees(&ics);
    assert_eq!(people.len(), 1, "{people:?}");
    assert!(people[0].ends_with(&format!(":mailto:{to}")), "{people:?}");
    let starts = python_occurrences(&ics, "2026-10-01T00:00:00Z", "2027-04-01T00:00:00Z");
    assert!(starts.len() >= 12, "{starts:?}");
    let local: Vec<jiff::Zoned> = starts
        .iter()
        .map(|t| t.in_tz("America/Los_Angeles").unwrap())
        .collect();
    for pair in local.windows(2) {
        assert_eq!((pair[1].date() - pair[0].date()).get_days(), 14, "{pair:?}");
    }
    for start in starts {
        let local = start.in_tz("America/Los_Angeles").unwrap();
        assert_eq!(
            (local.weekday(), local.hour(), local.minute()),
            (jiff::civil::Weekday::Monday, hour, 0),
            "{local}"
        );
    }
}

fn assert_cancel(mail: &ReceivedMail, to: &str, min_sequence: u32) {
    assert_eq!(mail.rcpt_to, [to]);
    assert_eq!(method_of(mail), "CANCEL");
    let ics = mail.expect_calendar();
    assert_eq!(ics_value(&ics, "METHOD").as_deref(), Some("CANCEL"));
    assert_eq!(ics_value(&ics, "STATUS").as_deref(), Some("CANCELLED"));
    assert_eq!(ics_value(&ics, "UID").as_deref(), Some(UID));
    assert!(
        sequence(mail) >= min_sequence,
        "SEQUENCE {} < {min_sequence}",
        sequence(mail)
    );
    let people = attendees(&ics);
    assert_eq!(people.len(), 1);
    assert!(people[0].ends_with(&format!(":mailto:{to}")), "{people:?}");
}

#[tokio::test]
async fn roster_edits_invite_and_cancel_only_the_people_concerned() {
    let app =
        App::start_with(|o| o.roster = Some(roster_with(&[("ada", "ada@example.org")]))).await;
    // Ada was added by hand before the bot knew her: invited at start-up.
    let mails = app.wait_for_mail(1).await;
    assert_request(&mails[0], "ada@example.org", 8);
    assert_eq!(sequence(&mails[0]), 0);

    let ws = app.server.workspace();
    let saved = Instant::now();
    ws.write_roster(&roster_with(&[
        ("ada", "ada@example.org"),
        ("bob", "bob@example.org"),
    ]));
    let mails = app.wait_for_mail(2).await;
    assert_request(&mails[1], "bob@example.org", 8);
    println!(
        "roster save -> SMTP acceptance: {:?}",
        mails[1].received_at.duration_since(saved)
    );

    ws.write_roster(&roster_with(&[("bob", "bob@example.org")]));
    let mails = app.wait_for_mail(3).await;
    assert_cancel(&mails[2], "ada@example.org", 1);

    // Marker: Cy joins; by the time Cy's invitation arrives, nothing else was sent.
    ws.write_roster(&roster_with(&[
        ("bob", "bob@example.org"),
        ("cy", "cy@example.org"),
    ]));
    let mails = app.wait_for_mail(4).await;
    assert_request(&mails[3], "cy@example.org", 8);
    assert_eq!(
        app.smtp.messages().len(),
        4,
        "{:?}",
        app.smtp
            .messages()
            .iter()
            .map(|m| &m.rcpt_to)
            .collect::<Vec<_>>()
    );
    app.server.assert_log_lacks("ada@example.org");
    app.server.assert_log_lacks("bob@example.org");
}

#[tokio::test]
async fn a_change_of_the_series_updates_every_member_once_and_a_restart_sends_nothing() {
    let roster = roster_with(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let mut app = App::start_with(|o| o.roster = Some(roster.clone())).await;
    app.wait_for_mail(2).await;

    let ws = app.server.workspace();
    ws.write_config(&ws.config_text().replace(
        "first = \"2024-05-06T08:00\"",
        "first = \"2024-05-06T09:00\"",
    ));
    let mails = app.wait_for_mail(4).await;
    let mut updated: Vec<&str> = mails[2..].iter().map(|m| m.rcpt_to[0].as_str()).collect();
    updated.sort();
    assert_eq!(updated, ["ada@example.org", "bob@example.org"]);
    for mail in &mails[2..] {
        assert_request(mail, &mail.rcpt_to[0], 9);
        assert_eq!(sequence(mail), 1, "an update raises SEQUENCE by one");
        assert!(
            mail.subject().unwrap().starts_with("Updated invitation"),
            "{:?}",
            mail.subject()
        );
        assert_eq!(
            ics_line(&mail.expect_calendar(), "DTSTART").unwrap(),
            "DTSTART;TZID=America/Los_Angeles:20240506T090000"
        );
    }

    // A restart with nothing changed sends nothing (the marker proves the start-up pass is done).
    app.server.restart().await;
    app.server
        .workspace()
        .write_roster(&(roster + &member("cy", "cy@example.org")));
    let mails = app.wait_for_mail(5).await;
    assert_eq!(mails[4].rcpt_to, ["cy@example.org"]);
    assert_eq!(
        sequence(&mails[4]),
        1,
        "a new member gets the current SEQUENCE"
    );
    assert_eq!(app.smtp.messages().len(), 5);
}

#[tokio::test]
async fn a_moved_or_cancelled_meeting_updates_every_member_once() {
    let roster = roster_with(&[("ada", "ada@example.org"), ("bob", "bob@example.org")]);
    let app = App::start_with(|o| o.roster = Some(roster.clone())).await;
    app.wait_for_mail(2).await;

    let ws = app.server.workspace();
    ws.write_config(&format!(
        "{}\n[[series.exception]]\ndate = \"2026-12-28\"\ncancel = true\nnote = \"Holidays\"\n\n\
         [[series.exception]]\ndate = \"2027-01-11\"\nmove_to = \"2027-01-12T09:00\"\n",
        ws.config_text()
    ));
    let mails = app.wait_for_mail(4).await;
    let mut updated: Vec<&str> = mails[2..].iter().map(|m| m.rcpt_to[0].as_str()).collect();
    updated.sort();
    assert_eq!(updated, ["ada@example.org", "bob@example.org"]);
    for mail in &mails[2..] {
        assert_eq!(method_of(mail), "REQUEST");
        assert_eq!(sequence(mail), 1, "one update, SEQUENCE + 1");
        let ics = mail.expect_calendar();
        // One calendar object: the series and the moved meeting, same UID.
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
        assert_eq!(ics.matches(&format!("UID:{UID}")).count(), 2, "{ics}");
        assert!(
            ics.contains("EXDATE;TZID=America/Los_Angeles:20261228T080000"),
            "{ics}"
        );
        assert!(
            ics.contains("RECURRENCE-ID;TZID=America/Los_Angeles:20270111T080000"),
            "{ics}"
        );
        let starts = python_occurrences(&ics, "2026-12-20T00:00:00Z", "2027-01-30T00:00:00Z");
        let starts: Vec<String> = starts.iter().map(ToString::to_string).collect();
        assert_eq!(starts, ["2027-01-12T17:00:00Z", "2027-01-25T16:00:00Z"]);
        let (_, text) = &mail.text_parts()[0];
        assert!(text.contains("cancelled: Holidays"), "{text}");
    }

    // Nothing more: the marker's invitation is the next mail.
    app.server
        .workspace()
        .write_roster(&(roster + &member("cy", "cy@example.org")));
    let mails = app.wait_for_mail(5).await;
    assert_eq!(mails[4].rcpt_to, ["cy@example.org"]);
    assert_eq!(sequence(&mails[4]), 1);
    assert_eq!(app.smtp.messages().len(), 5);
}

#[tokio::test]
async fn a_broken_roster_changes_nothing_until_it_is_fixed() {
    let app =
        App::start_with(|o| o.roster = Some(roster_with(&[("ada", "ada@example.org")]))).await;
    app.wait_for_mail(1).await;
    let ws = app.server.workspace();
    // Ada's entry broken by a typo: she must not be cancelled.
    ws.write_roster(&format!(
        "{DEFAULT_ROSTER}\n[[member]]\ngithub = \"ada\"\nemial = \"ada@example.org\"\n"
    ));
    let line = app
        .server
        .wait_for_log("series not reconciled", DEFAULT_WAIT)
        .await;
    assert!(
        line.contains("ispo-wg.toml:5:1") && line.contains("emial"),
        "{line}"
    );
    let (code, _, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("ispo-wg.toml:5:1"), "{stderr}");
    // Fixed, with Bob added: only Bob gets mail.
    ws.write_roster(&roster_with(&[
        ("ada", "ada@example.org"),
        ("bob", "bob@example.org"),
    ]));
    let mails = app.wait_for_mail(2).await;
    assert_request(&mails[1], "bob@example.org", 8);
    assert_eq!(app.smtp.messages().len(), 2);
}

#[tokio::test]
async fn a_broken_config_keeps_the_last_good_one() {
    let app = App::start().await;
    let ws = app.server.workspace();
    let good = ws.config_text();
    ws.write_config(&good.replace(
        "timezone = \"America/Los_Angeles\"",
        "timezone = \"America/Atlantis\"",
    ));
    let line = app
        .server
        .wait_for_log("keeping the last good one", DEFAULT_WAIT)
        .await;
    assert!(
        line.contains("invitebot.toml:") && line.contains("America/Atlantis"),
        "{line}"
    );
    // Join requests are still served with the last good config.
    let (status, _) = app
        .server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_request(&app.wait_for_mail(1).await[0], "ada@example.org", 8);
}

#[tokio::test]
async fn an_address_change_cancels_the_old_address_and_invites_the_new_one() {
    let app =
        App::start_with(|o| o.roster = Some(roster_with(&[("ada", "ada@example.org")]))).await;
    app.wait_for_mail(1).await;
    app.server
        .workspace()
        .write_roster(&roster_with(&[("ada", "ada@lovelace.example.org")]));
    let mails = app.wait_for_mail(3).await;
    assert_cancel(&mails[1], "ada@example.org", 1);
    assert_request(&mails[2], "ada@lovelace.example.org", 8);
    assert_eq!(sequence(&mails[2]), sequence(&mails[1]));
}

#[tokio::test]
async fn a_series_removed_from_the_config_is_cancelled_for_everyone() {
    let app = App::start_with(|o| {
        o.roster = Some(roster_with(&[
            ("ada", "ada@example.org"),
            ("bob", "bob@example.org"),
        ]))
    })
    .await;
    app.wait_for_mail(2).await;
    let ws = app.server.workspace();
    std::fs::write(ws.root().join("roster/other.toml"), "# Another series.\n").unwrap();
    let other = ws
        .config_text()
        .replace("id = \"ispo-wg\"", "id = \"other\"")
        .replace("roster/ispo-wg.toml", "roster/other.toml");
    ws.write_config(&other);
    let mails = app.wait_for_mail(4).await;
    let mut cancelled: Vec<&str> = mails[2..].iter().map(|m| m.rcpt_to[0].as_str()).collect();
    cancelled.sort();
    assert_eq!(cancelled, ["ada@example.org", "bob@example.org"]);
    for mail in &mails[2..] {
        assert_cancel(mail, &mail.rcpt_to[0], 1);
    }
}

#[tokio::test]
async fn leaving_by_issue_removes_cancels_and_answers() {
    let roster = format!(
        "{DEFAULT_ROSTER}\n# Ada joined at the kick-off.\n[[member]]\ngithub = \"Codertocat\"\nemail = \"ada@example.org\"\n"
    );
    let app = App::start_with(|o| o.roster = Some(roster)).await;
    app.wait_for_mail(1).await;
    let leave = fixture_with("issues.opened.join-request.json", |v| {
        v["issue"]["title"] = Value::from("Please leave me off the invite list");
        v["issue"]["labels"] = Value::Array(vec![]);
        v["issue"]["number"] = Value::from(4);
    });
    let (status, _) = app.server.deliver("issues", &leave).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let mails = app.wait_for_mail(2).await;
    assert_cancel(&mails[1], "ada@example.org", 1);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    let comment = app.github.comments().await[0].text();
    assert!(
        comment.contains("@Codertocat, you're off the list"),
        "{comment}"
    );
    assert!(!comment.contains("ada@example.org"));
    assert_eq!(
        app.server.roster_text(),
        DEFAULT_ROSTER,
        "the entry and its comment are gone, the rest kept"
    );

    // Someone not on the roster gets a polite answer and nothing else.
    let stranger = fixture_with("issues.opened.join-request.json", |v| {
        v["issue"]["title"] = Value::from("Leave");
        v["issue"]["labels"] = Value::Array(vec![]);
        v["issue"]["number"] = Value::from(3);
        v["issue"]["user"]["login"] = Value::from("stranger");
    });
    app.server.deliver("issues", &stranger).await;
    app.wait_for_github(GitHubMock::is_close_call, 2).await;
    assert!(
        app.github.comments().await[1]
            .text()
            .contains("couldn't find you on the list")
    );
    assert_eq!(app.smtp.messages().len(), 2);
}

async fn mount_team(app: &App, status: u16) {
    for verb in ["PUT", "DELETE"] {
        Mock::given(method(verb))
            .and(path_regex(r"^/orgs/[^/]+/teams/[^/]+/memberships/[^/]+$"))
            .respond_with(
                ResponseTemplate::new(if verb == "DELETE" { 204 } else { status })
                    .set_body_json(serde_json::json!({"state": "pending", "role": "member"})),
            )
            .mount(app.github.server())
            .await;
    }
}

async fn start_with_team() -> App {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let ws = Workspace::new(ServerOptions::new(&github, &smtp));
    ws.write_config(&ws.config_text().replace(
        "roster = \"roster/ispo-wg.toml\"",
        "roster = \"roster/ispo-wg.toml\"\ngithub_team = \"Codertocat/wg-members\"",
    ));
    let server = TestServer::start_in(ws).await;
    App {
        github,
        smtp,
        server,
    }
}

#[tokio::test]
async fn the_github_team_follows_the_roster() {
    let app = start_with_team().await;
    mount_team(&app, 200).await;
    app.server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    app.wait_for_mail(1).await;
    let put = app.wait_for_github(|r| r.method.as_str() == "PUT", 1).await;
    assert_eq!(
        put[0].url.path(),
        "/orgs/Codertocat/teams/wg-members/memberships/Codertocat"
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&put[0].body).unwrap()["role"],
        "member"
    );
    app.wait_for_github(GitHubMock::is_close_call, 1).await;

    let leave = fixture_with("issues.opened.join-request.json", |v| {
        v["issue"]["title"] = Value::from("Leave");
        v["issue"]["labels"] = Value::Array(vec![]);
        v["issue"]["number"] = Value::from(5);
    });
    let (status, _) = app.server.deliver("issues", &leave).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let delete = app
        .wait_for_github(|r| r.method.as_str() == "DELETE", 1)
        .await;
    assert_eq!(
        delete[0].url.path(),
        "/orgs/Codertocat/teams/wg-members/memberships/codertocat"
    );
}

#[tokio::test]
async fn a_team_failure_never_blocks_the_invitation_and_shows_in_check() {
    let app = start_with_team().await;
    mount_team(&app, 403).await;
    app.server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    assert_request(&app.wait_for_mail(1).await[0], "ada@example.org", 8);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    let comment = app.github.comments().await[0].text();
    assert!(!comment.to_lowercase().contains("team"), "{comment}");
    app.server
        .wait_for_log("GitHub team membership not changed", DEFAULT_WAIT)
        .await;
    let (code, stdout, _) = app.server.workspace().cli(&["check"], &[]).await;
    assert_eq!(code, 0);
    assert!(
        stdout.contains("team: codertocat could not be updated: GitHub answered 403"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_roster_cli_edits_the_file_and_a_running_server_follows() {
    let app = App::start().await;
    let ws = app.server.workspace();
    let (code, stdout, stderr) = ws
        .cli(
            &[
                "roster",
                "add",
                "--series",
                "ispo-wg",
                "--github",
                "grace",
                "--email",
                "grace@example.org",
                "--name",
                "Grace Hopper",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("added grace"), "{stdout}");
    assert!(app.server.roster_text().starts_with(DEFAULT_ROSTER));
    assert_request(&app.wait_for_mail(1).await[0], "grace@example.org", 8);

    let (_, listed, _) = ws.cli(&["roster", "list"], &[]).await;
    assert!(
        listed.contains("grace (Grace Hopper)") && !listed.contains("grace@example.org"),
        "{listed}"
    );
    let (_, shown, _) = ws
        .cli(
            &["roster", "list", "--series", "ispo-wg", "--show-email"],
            &[],
        )
        .await;
    assert!(shown.contains("<grace@example.org>"), "{shown}");
    let (code, _, stderr) = ws
        .cli(
            &[
                "roster",
                "add",
                "--series",
                "ispo-wg",
                "--github",
                "eve",
                "--email",
                "not-an-address",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("--email"), "{stderr}");

    let (code, stdout, _) = ws
        .cli(
            &[
                "roster", "remove", "--series", "ispo-wg", "--github", "GRACE",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 0, "{stdout}");
    assert_cancel(&app.wait_for_mail(2).await[1], "grace@example.org", 1);
    assert_eq!(app.server.roster_text(), DEFAULT_ROSTER);
    let (code, _, stderr) = ws
        .cli(
            &[
                "roster", "remove", "--series", "ispo-wg", "--github", "grace",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 1);
    assert!(stderr.contains("not on ispo-wg"), "{stderr}");
}

#[tokio::test]
async fn sighup_reconciles_even_when_no_file_changed() {
    let app = App::start().await;
    let passes = || app.server.logs().matches("series up to date").count();
    app.server
        .wait_until("the start-up reconciliation", DEFAULT_WAIT, || {
            (passes() == 1).then_some(())
        })
        .await;
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our running child.
    unsafe { libc::kill(app.server.pid() as libc::pid_t, libc::SIGHUP) };
    app.server
        .wait_until("a second reconciliation after SIGHUP", DEFAULT_WAIT, || {
            (passes() == 2).then_some(())
        })
        .await;
    assert!(app.server.logs().contains("SIGHUP received"));
    assert!(app.smtp.messages().is_empty());
}

#[tokio::test]
async fn the_bots_own_roster_write_does_not_start_a_second_round() {
    let app = App::start().await;
    // The start-up pass first, so that the write below is the only change the watcher sees.
    app.server
        .wait_for_log("series up to date", DEFAULT_WAIT)
        .await;
    app.server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    assert_request(&app.wait_for_mail(1).await[0], "ada@example.org", 8);
    // The watcher sees the bot's write; the worker recognises the content and does nothing.
    app.server
        .wait_for_log(
            "files unchanged since the last reconciliation",
            DEFAULT_WAIT,
        )
        .await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert_eq!(
        app.server.logs().matches("reconciling").count(),
        0,
        "{}",
        app.server.logs()
    );
    assert_eq!(app.smtp.messages().len(), 1);
}

#[tokio::test]
async fn a_blank_roster_file_cancels_nobody_but_a_roster_of_comments_does() {
    let app =
        App::start_with(|o| o.roster = Some(roster_with(&[("ada", "ada@example.org")]))).await;
    app.wait_for_mail(1).await;
    let ws = app.server.workspace();
    // What a truncating editor leaves for a moment: no cancellation.
    ws.write_roster("");
    app.server
        .wait_for_log("the roster file is blank", DEFAULT_WAIT)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.smtp.messages().len(), 1);
    // Emptied on purpose (a comment is left): Ada gets her cancellation.
    ws.write_roster(DEFAULT_ROSTER);
    let mails = app.wait_for_mail(2).await;
    assert_cancel(&mails[1], "ada@example.org", 1);
}
