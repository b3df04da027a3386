//! The command line: `check`, `ics`, `--help`, and where the config comes from.

mod common;

use common::*;

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
        stdout.contains("ispo-wg — ISPO Working Group (InnerSourceCommons/ispo-working-group)"),
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
    ] {
        let (code, stdout, stderr) = run_cli(args, &[]).await;
        assert_eq!(code, 0, "{args:?}: {stderr}");
        assert!(stdout.contains("Usage: invitebot"), "{args:?}: {stdout}");
        assert!(stdout.contains("--config <PATH>"), "{args:?}: {stdout}");
    }
    let (_, stdout, _) = run_cli(&["--help"], &[]).await;
    for word in ["serve", "check", "ics", "INVITEBOT_CONFIG"] {
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
    assert!(stdout.contains("notes (daylight saving time"), "{stdout}");
    assert!(stdout.contains(": 02:30 does not exist in America/Los_Angeles (clocks jump forward); that meeting starts at 03:30 PDT"), "{stdout}");
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
