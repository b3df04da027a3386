//! The command line: `check`, `ics`, `--help`, and where the config comes from.

use crate::common::*;

fn shipped_config() -> String {
    format!("{}/config/invitebot.toml", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn check_prints_each_series_its_next_meetings_and_roster_size() {
    let roster = format!(
        "{DEFAULT_ROSTER}\n[[member]]\ngithub = \"octocat\"\nemail = \"octocat@example.org\"\n"
    );
    let ws = Workspace::new(ServerOptions {
        roster: Some(roster),
        ..ServerOptions::default()
    });
    let (code, stdout, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ispo-wg — ISPO Working Group (Codertocat/Hello-World)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("every 2 week(s) on Monday at 08:00 America/Los_Angeles, 60 min"),
        "{stdout}"
    );
    assert!(stdout.contains("1 member(s)"), "{stdout}");
    assert!(
        stdout.contains("  pending: 1 invite(s), 0 update(s), 0 cancel(s)"),
        "{stdout}"
    );
    let meetings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("    Monday "))
        .collect();
    assert_eq!(meetings.len(), 5, "{stdout}");
    for line in meetings {
        // 08:00 in Los Angeles is 15:00 or 16:00 UTC depending on DST.
        assert!(
            line.contains(", 08:00 PST (16:00 UTC)") || line.contains(", 08:00 PDT (15:00 UTC)"),
            "{line}"
        );
    }
    assert!(
        !stdout.contains("octocat@example.org"),
        "check must not print addresses"
    );
}

#[tokio::test]
async fn check_accepts_the_config_from_the_environment_and_the_shipped_config_is_valid() {
    let (code, stdout, stderr) =
        run_cli(&["check"], &[("INVITEBOT_CONFIG", &shipped_config())]).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "ispo-wg — InnerSource Working Group (InnerSourceCommons/innersource-working-group)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("0 member(s)"), "{stdout}");
    // --config after the subcommand works too.
    let (code, stdout, _) = run_cli(&["check", "--config", &shipped_config()], &[]).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("ispo-wg"));
}

#[tokio::test]
async fn check_reports_config_errors_with_file_line_and_column() {
    let ws = Workspace::new(ServerOptions {
        timezone: "Mars/Olympus_Mons".into(),
        ..ServerOptions::default()
    });
    let (code, _, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 1);
    let config = ws.config_path().display().to_string();
    let line = ws
        .config_text()
        .lines()
        .position(|l| l.starts_with("timezone"))
        .unwrap()
        + 1;
    assert!(
        stderr.contains(&format!(
            "{config}:{line}:12: unknown time zone \"Mars/Olympus_Mons\""
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn check_reports_every_broken_roster_without_echoing_addresses() {
    let roster = format!(
        "{DEFAULT_ROSTER}[[member]]\ngithub = \"octocat\"\nemail = \"octocat@@example.org\"\n"
    );
    let ws = Workspace::new(ServerOptions {
        roster: Some(roster),
        ..ServerOptions::default()
    });
    let (code, stdout, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("is INVALID"), "{stdout}");
    let path = ws.roster_path().display().to_string();
    assert!(stderr.contains(&format!("{path}:4:9")), "{stderr}");
    assert!(!stderr.contains("octocat@@example.org"), "{stderr}");
}

#[tokio::test]
async fn a_missing_config_file_says_how_to_give_one() {
    let (code, _, stderr) =
        run_cli(&["--config", "/nonexistent/invitebot.toml", "check"], &[]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("/nonexistent/invitebot.toml: cannot read the config file"),
        "{stderr}"
    );
    assert!(stderr.contains("--config or INVITEBOT_CONFIG"), "{stderr}");
}

#[tokio::test]
async fn ics_prints_the_invitation_a_new_member_gets() {
    let ws = Workspace::new(ServerOptions {
        skip: vec!["2026-12-28".into()],
        ..ServerOptions::default()
    });
    let (code, stdout, stderr) = ws
        .cli(
            &[
                "ics",
                "--series",
                "ispo-wg",
                "--attendee",
                "grace@example.org",
                "--name",
                "Grace",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "BEGIN:VCALENDAR",
        "METHOD:REQUEST",
        "DTSTART;TZID=America/Los_Angeles:20240506T080000",
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "EXDATE;TZID=America/Los_Angeles:20261228T080000",
        "END:VCALENDAR",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?} in\n{stdout}"
        );
    }
    assert!(
        stdout
            .replace("\n ", "")
            .contains("RSVP=TRUE:mailto:grace@example.org"),
        "{stdout}"
    );
    let (code, _, stderr) = ws.cli(&["ics", "--series", "nope"], &[]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no series `nope`") && stderr.contains("known: ispo-wg"),
        "{stderr}"
    );
}

#[tokio::test]
async fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["check", "--help"],
        &["ics", "--help"],
        &["status", "--help"],
        &["replay", "--help"],
        &["healthcheck", "--help"],
        &["roster", "list", "--help"],
        &["roster", "export", "--help"],
    ] {
        let (code, stdout, stderr) = run_cli(args, &[]).await;
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains("Usage: invitebot"), "{args:?}: {stdout}");
        assert!(stdout.contains("--config <PATH>"), "{args:?}: {stdout}");
    }
    let (_, stdout, _) = run_cli(&["--help"], &[]).await;
    for word in [
        "serve",
        "check",
        "ics",
        "status",
        "replay",
        "roster",
        "healthcheck",
        "INVITEBOT_CONFIG",
    ] {
        assert!(
            stdout.contains(word),
            "{word} missing from --help:\n{stdout}"
        );
    }
}

#[tokio::test]
async fn check_warns_about_meetings_in_a_dst_gap_and_still_succeeds() {
    // Sundays at 02:30 in Los Angeles: every second Sunday of March has no 02:30.
    let ws = Workspace::new(ServerOptions {
        first: "2024-03-03T02:30".into(),
        interval_weeks: 1,
        ..ServerOptions::default()
    });
    let (code, stdout, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("meeting(s) in the next 3 years start or end at a wall time that doesn't exist or happens twice"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Calendar apps disagree on these"),
        "{stdout}"
    );
    assert!(stdout.contains(": 02:30 does not exist in America/Los_Angeles (clocks jump forward); that meeting starts at 03:30 PDT"), "{stdout}");
    // Every such meeting is listed: one a year.
    let listed = stdout
        .matches("does not exist in America/Los_Angeles")
        .count();
    assert!((3..=4).contains(&listed), "{stdout}");
    // The first meeting (2024-03-03) is not in a gap: the calendar starts there.
    assert!(!stdout.contains("calendar: the first meeting"), "{stdout}");
}

#[tokio::test]
async fn check_shows_changed_meetings_the_end_and_a_corrected_calendar_start() {
    // Sundays 02:30 from 2024-03-10, a day with no 02:30: the calendar starts a week later.
    let today = jiff::Zoned::now().date();
    let sunday = |weeks: i64| {
        let mut day = today
            .checked_add(jiff::Span::new().days(7 * weeks))
            .unwrap();
        while day.weekday() != jiff::civil::Weekday::Sunday {
            day = day.tomorrow().unwrap();
        }
        day
    };
    let (cancelled, moved, until) = (sunday(2), sunday(3), sunday(40));
    let ws = Workspace::new(ServerOptions {
        first: "2024-03-10T02:30".into(),
        interval_weeks: 1,
        series_config: format!("until = \"{until}\""),
        extra_config: format!(
            "[[series.exception]]\ndate = \"{cancelled}\"\ncancel = true\nnote = \"Holidays\"\n\n\
             [[series.exception]]\ndate = \"{moved}\"\nmove_to = \"{}T10:00\"\n",
            moved.tomorrow().unwrap()
        ),
        ..ServerOptions::default()
    });
    let (code, stdout, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(", until {until}; skipped: none")),
        "{stdout}"
    );
    assert!(
        stdout.contains("calendar: the first meeting has a daylight-saving problem (2024-03-10: 02:30 does not exist"),
        "{stdout}"
    );
    assert!(
        stdout.contains("rule starts at the first meeting without one, 2024-03-17"),
        "{stdout}"
    );
    let changed = stdout
        .split("  changed meetings:\n")
        .nth(1)
        .unwrap_or_default();
    let lines: Vec<&str> = changed.lines().take(2).collect();
    assert!(lines[0].ends_with(": cancelled: Holidays"), "{stdout}");
    assert!(lines[1].contains(", 10:00 "), "{stdout}");
    assert!(lines[1].contains(", moved from Sunday "), "{stdout}");
    // The next meetings leave the cancelled one out and show the moved one at its new time.
    let next = stdout.split("  next meetings:\n").nth(1).unwrap();
    let next: Vec<&str> = next.lines().take(5).collect();
    assert!(!next.iter().any(|l| l.contains("cancelled")), "{stdout}");
    assert!(
        next.iter().any(|l| l.contains(", moved from Sunday")),
        "{stdout}"
    );
    assert_eq!(next.len(), 5, "{stdout}");
}

#[tokio::test]
async fn version_names_the_commit() {
    let (code, stdout, _) = run_cli(&["--version"], &[]).await;
    assert_eq!(code, 0);
    let version = stdout.trim();
    assert!(
        version.starts_with(&format!("invitebot {} (", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    assert!(
        version.ends_with(')') && version.len() > "invitebot 0.1.0 ()".len(),
        "{version}"
    );
}

#[tokio::test]
async fn healthcheck_asks_the_running_server_and_fails_when_it_does_not_answer_200() {
    let mut app = App::start().await;
    let addr = app.server.addr();
    let url = format!("http://{addr}/healthz");
    let (code, stdout, stderr) = run_cli(&["healthcheck", "--url", &url], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(&url), "{stdout}");
    // Without --url: the operations listener (INVITEBOT_ADMIN_LISTEN), an unspecified address
    // meaning loopback.
    let admin = app.server.admin_addr();
    let listen = format!("0.0.0.0:{}", admin.port());
    let (code, stdout, stderr) =
        run_cli(&["healthcheck"], &[("INVITEBOT_ADMIN_LISTEN", &listen)]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{}/healthz", admin.port())),
        "{stdout}"
    );
    let missing = format!("http://{addr}/no-such-page");
    let (code, _, stderr) = run_cli(&["healthcheck", "--url", &missing], &[]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("404"), "{stderr}");
    app.server.stop().await;
    let (code, _, stderr) = run_cli(&["healthcheck", "--url", &url, "--timeout", "2"], &[]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("no answer from {addr}")),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// Personal data: `roster export` and `roster forget`
// ---------------------------------------------------------------------------

const TWO_MEMBERS: &str = "# Members.\n\n[[member]]\ngithub = \"octocat\"\nname = \"The Octocat\"\nemail = \"octocat@example.org\"\nadded = \"2026-11-24\"\nvia = \"Codertocat/Hello-World#12\"\n\n# joined at the kick-off\n[[member]]\ngithub = \"ada-l\"\nemail = \"ada@example.org\"\n";

#[tokio::test]
async fn roster_export_prints_what_the_rosters_hold_as_json_or_toml() {
    let ws = Workspace::new(ServerOptions {
        roster: Some(TWO_MEMBERS.to_string()),
        ..ServerOptions::default()
    });
    let (code, stdout, stderr) = ws.cli(&["roster", "export"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let series = &json["series"][0];
    assert_eq!(series["id"], "ispo-wg");
    assert!(series["roster"].as_str().unwrap().ends_with("ispo-wg.toml"));
    assert_eq!(
        series["member"],
        serde_json::json!([
            {"github": "octocat", "name": "The Octocat", "email": "octocat@example.org",
             "added": "2026-11-24", "via": "Codertocat/Hello-World#12"},
            {"github": "ada-l", "name": "ada-l", "email": "ada@example.org"},
        ])
    );

    let (code, stdout, stderr) = ws
        .cli(
            &["roster", "export", "--format", "toml", "--github", "ADA-L"],
            &[],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    let toml: toml::Value = toml::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
    let members = toml["series"][0]["member"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{stdout}");
    assert_eq!(members[0]["email"].as_str(), Some("ada@example.org"));

    let (code, _, stderr) = ws.cli(&["roster", "export", "--series", "nope"], &[]).await;
    assert_eq!(code, 1);
    assert!(stderr.contains("no series `nope`"), "{stderr}");
}

/// Every text value of every table of the state store, lowercased.
fn store_texts(data_dir: &std::path::Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("invitebot.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut texts = Vec::new();
    for table in tables {
        let mut statement = db.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let rusqlite::types::ValueRef::Text(text) = row.get_ref(i).unwrap() {
                    texts.push((table.clone(), String::from_utf8_lossy(text).to_lowercase()));
                }
            }
        }
    }
    texts
}

/// The store's rows holding `needle` (as `table: value`).
/// `invitebot roster remove --series ispo-wg --github Codertocat`, which must succeed.
pub(crate) async fn remove_codertocat(ws: &Workspace) {
    let (code, _, stderr) = ws
        .cli(
            &[
                "roster",
                "remove",
                "--series",
                "ispo-wg",
                "--github",
                "Codertocat",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
}

pub(crate) fn store_rows_with(data_dir: &std::path::Path, needle: &str) -> Vec<String> {
    store_texts(data_dir)
        .into_iter()
        .filter(|(_, text)| text.contains(needle))
        .map(|(table, text)| format!("{table}: {text}"))
        .collect()
}

/// Whether a file of the data folder (the database, its log) still holds `needle`'s bytes.
fn data_files_with(data_dir: &std::path::Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(data_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap_or_default().to_ascii_lowercase();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .map(|p| p.display().to_string())
        .collect()
}

#[tokio::test]
async fn roster_forget_waits_for_the_cancellation_then_erases_the_person() {
    let mut app = App::start().await;
    let data = app.server.data_dir();
    app.server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    app.wait_for_mail(1).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    assert!(!store_rows_with(&data, "ada@example.org").is_empty());

    // Their calendar holds the invitation: forget refuses and says what to do.
    let ws = app.server.workspace();
    let (code, stdout, stderr) = ws.cli(&["roster", "forget", "Codertocat"], &[]).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.contains("still holds the invitation to ispo-wg")
            && stderr.contains("roster remove")
            && stderr.contains("--skip-cancel"),
        "{stderr}"
    );
    assert!(app.server.roster_text().contains("ada@example.org"));

    // The recommended way: remove, let the server cancel, then forget.
    remove_codertocat(ws).await;
    let mails = app.wait_for_mail(2).await;
    assert_eq!(mails[1].calendar_method().as_deref(), Some("CANCEL"));
    app.server
        .wait_until("the cancellation recorded", DEFAULT_WAIT, || {
            let texts = store_texts(&data);
            texts
                .iter()
                .any(|(table, text)| table == "member_state" && text == "cancelled")
                .then_some(())
        })
        .await;
    let (code, stdout, stderr) = ws.cli(&["roster", "forget", "codertocat"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("codertocat is not on ispo-wg"), "{stdout}");
    assert!(
        stdout.contains("1 sent record(s)") && stdout.contains("1 request(s) erased"),
        "{stdout}"
    );
    assert!(!stdout.contains("ada@example.org"), "{stdout}");

    // Nothing in the store holds the address or the name any more; after the server's last
    // checkpoint, neither do the files.
    assert_eq!(
        store_rows_with(&data, "ada@example.org"),
        Vec::<String>::new()
    );
    assert_eq!(store_rows_with(&data, "ada lovelace"), Vec::<String>::new());
    assert!(!app.server.roster_text().contains("ada@example.org"));
    app.server.stop().await;
    assert_eq!(
        data_files_with(&data, "ada@example.org"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn roster_forget_skip_cancel_erases_at_once_mail_files_included() {
    let mut app = App::start_with(|o| o.transport = Transport::File).await;
    app.server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    app.server.wait_for_mail_files(1, DEFAULT_WAIT).await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    app.server.stop().await;

    let ws = app.server.workspace();
    let (code, stdout, stderr) = ws
        .cli(&["roster", "forget", "Codertocat", "--skip-cancel"], &[])
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("removed Codertocat from ispo-wg"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 mail file(s) addressed to them deleted"),
        "{stdout}"
    );
    assert!(ws.mail_files().is_empty());
    let data = app.server.data_dir();
    assert_eq!(
        store_rows_with(&data, "ada@example.org"),
        Vec::<String>::new()
    );
    assert_eq!(
        data_files_with(&data, "ada@example.org"),
        Vec::<String>::new()
    );
    assert!(!app.server.roster_text().contains("ada@example.org"));

    // A second time finds nothing and changes nothing.
    let (code, stdout, stderr) = ws.cli(&["roster", "forget", "Codertocat"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("0 sent record(s)"), "{stdout}");
}

#[tokio::test]
async fn roster_export_and_forget_explain_themselves() {
    let (code, stdout, stderr) = run_cli(&["roster", "--help"], &[]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("export") && stdout.contains("forget"),
        "{stdout}"
    );
    let (code, stdout, _) = run_cli(&["roster", "forget", "--help"], &[]).await;
    assert_eq!(code, 0);
    for words in [
        "[LOGIN]",
        "--email <ADDR>",
        "roster remove",
        "--skip-cancel",
        "--series <ID>",
    ] {
        assert!(stdout.contains(words), "{words} missing:\n{stdout}");
    }
    let (code, stdout, _) = run_cli(&["roster", "export", "--help"], &[]).await;
    assert_eq!(code, 0);
    for words in ["json", "toml", "--github <LOGIN>", "Personal data"] {
        assert!(stdout.contains(words), "{words} missing:\n{stdout}");
    }
}
