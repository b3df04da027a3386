//! Personal data at rest, through the real binary: the data folder and everything in it is
//! the service user's only (store, its log, link key, mail files), roster writes keep the
//! file's mode and owner, `[storage] retention_days` erases finished requests and old mail
//! files, `roster forget --email` matches whole addresses only, and SMTP credentials are
//! refused without TLS.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use reqwest::StatusCode;

use crate::cli::{remove_codertocat, store_rows_with};
use crate::common::*;
use crate::consent::{ADA, JOIN, join_by};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every folder under `dir` (itself included) with its mode, and every file with its mode.
fn modes_under(dir: &Path) -> Vec<(String, u32)> {
    let mut found = vec![(dir.display().to_string(), mode(dir))];
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(modes_under(&path));
        } else {
            found.push((path.display().to_string(), mode(&path)));
        }
    }
    found
}

/// Options for a file-transport server with links on.
async fn file_transport_options() -> (GitHubMock, SmtpSink, ServerOptions) {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    opts.transport = Transport::File;
    opts.env.push((
        "INVITEBOT_PUBLIC_URL".into(),
        "http://invitebot.test".into(),
    ));
    (github, smtp, opts)
}

#[tokio::test]
async fn the_data_folder_and_mail_files_are_the_service_users_only() {
    let (github, _smtp, opts) = file_transport_options().await;
    let ws = Workspace::new(opts);
    // A folder left wide open by an earlier version, and a roster the operator made private.
    std::fs::create_dir_all(ws.data_dir()).unwrap();
    set_mode(&ws.data_dir(), 0o755);
    std::fs::write(ws.data_dir().join("notes.txt"), "old").unwrap();
    set_mode(&ws.data_dir().join("notes.txt"), 0o644);
    set_mode(&ws.roster_path(), 0o600);
    let owner = std::fs::metadata(ws.roster_path()).unwrap().uid();
    let server = TestServer::start_in(ws).await;
    let (status, _) = server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    server.wait_for_mail_files(1, DEFAULT_WAIT).await;
    server
        .wait_for_github(&github, GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;

    let data = server.data_dir();
    let found = modes_under(&data);
    for name in [
        "invitebot.sqlite3",
        "invitebot.sqlite3-wal",
        "link-key",
        "notes.txt",
    ] {
        assert!(
            found.iter().any(|(path, _)| path.ends_with(name)),
            "{name} missing: {found:?}"
        );
    }
    for (path, mode) in &found {
        let wanted = if Path::new(path).is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(*mode, wanted, "{path} is {mode:o}");
    }
    let mail_dir = server.workspace().mail_dir();
    for (path, mode) in modes_under(&mail_dir) {
        let wanted = if Path::new(&path).is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(mode, wanted, "{path} is {mode:o}");
    }

    // The bot's roster write and an operator's edit keep the roster private and its owner.
    let roster = server.workspace().roster_path();
    assert!(server.roster_text().contains(ADA));
    assert_eq!(mode(&roster), 0o600);
    remove_codertocat(server.workspace()).await;
    assert!(!server.roster_text().contains(ADA));
    assert_eq!(mode(&roster), 0o600);
    assert_eq!(std::fs::metadata(&roster).unwrap().uid(), owner);
}

/// The stored requests (JSON), as the store holds them.
fn stored_requests(data_dir: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("invitebot.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut statement = db.prepare("SELECT request FROM jobs ORDER BY id").unwrap();
    statement
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn finished_requests_and_mail_files_are_erased_after_the_retention_period() {
    let (github, _smtp, opts) = file_transport_options().await;
    let mut server = TestServer::start(opts).await;
    server.deliver("issues", &fixture(JOIN)).await;
    server.wait_for_mail_files(1, DEFAULT_WAIT).await;
    server
        .wait_for_github(&github, GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;

    // Within the default 30 days a restart keeps everything.
    server.restart().await;
    assert_eq!(server.workspace().mail_files().len(), 1);
    let requests = stored_requests(&server.data_dir());
    assert!(requests.iter().any(|r| r.contains(ADA)), "{requests:?}");

    // With a retention of 0 days the sweep at start erases what has finished.
    let ws = server.workspace();
    let config = ws.config_text().replacen(
        "data_dir = \"data\"",
        "data_dir = \"data\"\nretention_days = 0",
        1,
    );
    ws.write_config(&config);
    server.restart().await;
    server
        .wait_for_log(
            "personal data past the retention period erased",
            DEFAULT_WAIT,
        )
        .await;
    assert!(server.workspace().mail_files().is_empty());
    let requests = stored_requests(&server.data_dir());
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r == "\"erased\""), "{requests:?}");
    // The member stays a member: the roster and the record of what was sent to them remain.
    assert!(server.roster_text().contains(ADA));
}

#[tokio::test]
async fn forget_by_email_matches_whole_addresses_only() {
    const BADA: &str = "bada@example.org";
    let (github, _smtp, opts) = file_transport_options().await;
    let mut server = TestServer::start(opts).await;
    server.deliver("issues", &fixture(JOIN)).await;
    server.deliver("issues", &join_by("grace", 3, BADA)).await;
    server.wait_for_mail_files(2, DEFAULT_WAIT).await;
    server
        .wait_for_github(&github, GitHubMock::is_close_call, 2, DEFAULT_WAIT)
        .await;
    server.stop().await;

    let ws = server.workspace();
    let (code, stdout, stderr) = ws
        .cli(
            &[
                "roster",
                "forget",
                "--email",
                "ADA@example.org",
                "--skip-cancel",
            ],
            &[],
        )
        .await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("removed Codertocat from ispo-wg"),
        "{stdout}"
    );
    assert!(!stdout.contains("example.org"), "{stdout}");
    let messages = ws.mail_file_messages();
    assert_eq!(messages.len(), 1);
    let to = messages[0].header("To").unwrap();
    assert!(to.contains(BADA), "{to}");
    let roster = server.roster_text();
    assert!(roster.contains(&format!("\"{BADA}\"")), "{roster}");
    assert!(!roster.contains(&format!("\"{ADA}\"")), "{roster}");
    let rows = store_rows_with(&server.data_dir(), ADA);
    assert!(rows.iter().all(|row| row.contains(BADA)), "{rows:?}");
    assert!(!store_rows_with(&server.data_dir(), BADA).is_empty());
}

#[tokio::test]
async fn smtp_credentials_without_tls_are_refused_by_check_and_serve() {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    opts.smtp_url = format!("smtp://bot:hunter2-smtp@{}", smtp.addr());
    let ws = Workspace::new(opts);
    for command in ["check", "serve"] {
        let (code, stdout, stderr) = ws.cli(&[command], &[]).await;
        assert_ne!(code, 0, "{command}: {stdout}");
        assert!(stderr.contains("plain text"), "{command}: {stderr}");
        assert!(stderr.contains("tls=required"), "{command}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{command}: {stderr}");
    }
    // The same account over STARTTLS is accepted by `check`.
    let tls = format!("smtp://bot:hunter2-smtp@{}?tls=required", smtp.addr());
    let (_, _, stderr) = ws.cli(&["check"], &[("INVITEBOT_SMTP_URL", &tls)]).await;
    assert!(!stderr.contains("plain text"), "{stderr}");
}
