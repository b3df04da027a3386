//! Integration-test harness for invitebot.
//!
//! Tests drive the real thing: the `invitebot` binary on a loopback port
//! ([`TestServer`]), a real SMTP server in the test process ([`SmtpSink`],
//! mailin-embedded) and a wiremock mock of the GitHub REST API
//! ([`GitHubMock`]) whose recorded requests tests assert on. Only loopback
//! addresses are used. [`App`] bundles the three.
//!
//! # Style: async waits with a deadline
//!
//! Everything that waits is an `async fn` polling with `tokio::time::sleep`
//! until a deadline, so use the harness from `#[tokio::test]` (the default
//! current-thread runtime is fine: wiremock and the SMTP sink run on threads of
//! their own). A wait that times out panics with what it saw; the waits on
//! [`TestServer`] and [`App`] also put the server's captured log in the panic
//! message. Never assert after a bare `sleep`: wait for an observable event (a
//! mail, a recorded GitHub call, a log line) instead.
//!
//! # Typical test
//!
//! ```ignore
//! use crate::common::*;
//!
//! #[tokio::test]
//! async fn join_request_sends_invite() {
//!     let app = App::start().await;
//!     app.github.mount_user("Codertocat", Some("Ada"), None).await;
//!     let (status, _) = app.server.deliver("issues", &fixture("issues.opened.join-request.json")).await;
//!     assert_eq!(status, 202);
//!     let mails = app.wait_for_mail(1).await;
//!     assert_eq!(mails[0].rcpt_to, ["ada@example.org"]);
//!     app.wait_for_github(GitHubMock::is_comment, 1).await;
//! }
//! ```

mod calendar;
mod github;
mod leaks;
mod proxy;
mod raw;
mod server;
mod smtp;

pub use calendar::{attendees, ics_line, ics_value, python_occurrences};
pub use github::{GitHubMock, IssueCall};
pub use leaks::{LeakWatch, Scan};
pub use proxy::{TcpProxy, XorShift};
pub use raw::{client_from, raw_post, read_answer, send_raw};
pub use server::{
    App, DEFAULT_ROSTER, ServerOptions, TestServer, Transport, Workspace, parse_listening,
};
pub use smtp::{ReceivedMail, SmtpSink};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The webhook secret the harness gives the server unless told otherwise.
pub const TEST_SECRET: &str = "test-secret";
/// The GitHub token the harness gives the server unless told otherwise.
pub const TEST_TOKEN: &str = "test-token";
/// How long the `wait_*` helpers on [`App`] wait by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// How often the polling helpers look again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// The folder holding the GitHub webhook payloads:
/// `$INVITEBOT_FIXTURES_DIR` if set, else
/// `$CARGO_MANIFEST_DIR/tests/fixtures/github-webhooks` (vendored, see its README).
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("INVITEBOT_FIXTURES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-webhooks"),
    }
}

/// The exact bytes of a fixture payload (sign these bytes, not a re-serialised copy).
/// Panics with the path it tried when the file is missing.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "fixture {name:?} not found at {} ({err}); set INVITEBOT_FIXTURES_DIR to the folder \
             with the GitHub webhook payloads",
            path.display()
        )
    })
}

/// A fixture parsed as JSON, to modify before [`json_body`].
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name))
        .unwrap_or_else(|err| panic!("fixture {name:?} is not valid JSON: {err}"))
}

/// Serialises a (modified) payload into the body bytes to deliver and sign.
pub fn json_body(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("a serde_json::Value always serialises")
}

/// Loads a fixture, lets `edit` change it, and returns the body bytes.
/// Example: `fixture_with("issues.opened.join-request.json", |v| v["sender"]["type"] = "Bot".into())`.
pub fn fixture_with(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value = fixture_json(name);
    edit(&mut value);
    json_body(&value)
}

// ---------------------------------------------------------------------------
// Signatures and deliveries
// ---------------------------------------------------------------------------

/// The `X-Hub-Signature-256` header value for `body`: `sha256=<hex hmac-sha256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A fresh random `X-GitHub-Delivery` id (a v4 UUID, as GitHub sends).
pub fn new_delivery_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------
// Polling
// ---------------------------------------------------------------------------

/// Calls `probe` every [`POLL_INTERVAL`] until it returns `Some`, or `timeout`
/// has passed (then `None`). `probe` is always called at least once, and once
/// more at the deadline. For a probe that must `.await`, loop on [`Poll`].
pub async fn poll_until<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let mut poll = Poll::new(timeout);
    while poll.next().await {
        if let Some(found) = probe() {
            return Some(found);
        }
    }
    None
}

/// A polling loop with a deadline, for probes that `.await`:
///
/// ```ignore
/// let mut poll = Poll::new(timeout);
/// while poll.next().await {
///     if mock.comments().await.len() >= 2 { return; }
/// }
/// panic!("no second comment within {timeout:?}");
/// ```
///
/// (Plain loops rather than a helper taking an async closure: futures built
/// from async closures are not `Send` enough for `tokio::spawn`.)
pub struct Poll {
    deadline: Instant,
    started: bool,
}

impl Poll {
    pub fn new(timeout: Duration) -> Poll {
        Poll {
            deadline: Instant::now() + timeout,
            started: false,
        }
    }

    /// `true` at once on the first call; later, sleeps up to [`POLL_INTERVAL`]
    /// (never past the deadline) and returns `true`, or `false` once the
    /// deadline has passed — so the last attempt happens at the deadline.
    pub async fn next(&mut self) -> bool {
        if !self.started {
            self.started = true;
            return true;
        }
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        tokio::time::sleep(POLL_INTERVAL.min(self.deadline - now)).await;
        true
    }
}

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------

/// Runs `program` (`python3`, `node`) on the repository's `script` with `args`: its stdout.
/// Fails the test, with the script's stderr, when it can't run or fails: the tools it needs
/// are what `scripts/test-deps` installs, and a missing one is a failure, never a skip.
pub fn run_test_script(program: &str, script: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    const SETUP: &str = "run scripts/test-deps";
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let output = Command::new(program)
        .arg(&script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): {SETUP}"));
    assert!(
        output.status.success(),
        "{} failed ({}): {}\n({SETUP})",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Path of the binary under test.
pub fn bin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_invitebot"))
}

/// A `Command` for the binary with the inherited environment cleaned:
/// `GITHUB_TOKEN`, `GH_TOKEN`, every `INVITEBOT_*`, `RUST_LOG` and the proxy
/// variables are removed, `NO_COLOR=1` is set, so a developer's environment
/// cannot leak in. Add what the test needs with `.env(...)`.
pub fn clean_command() -> Command {
    let mut cmd = Command::new(bin_path());
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let upper = key.to_ascii_uppercase();
        if upper.starts_with("INVITEBOT_")
            || matches!(
                upper.as_str(),
                "GITHUB_TOKEN"
                    | "GH_TOKEN"
                    | "RUST_LOG"
                    | "HTTP_PROXY"
                    | "HTTPS_PROXY"
                    | "ALL_PROXY"
            )
        {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Removes ANSI escape sequences (colours) from a log line.
pub fn strip_ansi(line: &str) -> String {
    static ANSI: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    ANSI.get_or_init(|| regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap())
        .replace_all(line, "")
        .into_owned()
}

/// Starts a thread that appends each line read from `stream` (ANSI stripped,
/// lossy UTF-8) to `lines`. The thread ends at EOF.
pub(crate) fn capture_lines(
    stream: impl Read + Send + 'static,
    lines: Arc<Mutex<Vec<String>>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = strip_ansi(line.trim_end_matches(['\n', '\r']));
                    lines.lock().unwrap().push(line);
                }
            }
        }
    })
}

/// How long [`run_cli`] lets the binary run before killing it.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `invitebot <args>` to completion in a cleaned environment (see
/// [`clean_command`]) plus `env`, with no stdin. Returns (exit code, stdout,
/// stderr), ANSI colours stripped. Panics if the process is killed by a signal
/// or runs longer than [`CLI_TIMEOUT`]. For a command against a written
/// config, [`Workspace::cli`] adds `--config` and the default secrets.
pub async fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = clean_command();
    cmd.args(args).envs(env.iter().copied());
    run_to_end(cmd, args).await
}

pub(crate) async fn run_to_end(mut cmd: Command, args: &[&str]) -> (i32, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {} {args:?}: {err}", bin_path().display()));
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let out_thread = capture_lines(child.stdout.take().unwrap(), out.clone());
    let err_thread = capture_lines(child.stderr.take().unwrap(), err.clone());
    let status = poll_until(CLI_TIMEOUT, || {
        child.try_wait().expect("try_wait on the CLI")
    })
    .await;
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        let _ = (out_thread.join(), err_thread.join());
        panic!(
            "invitebot {args:?} still running after {CLI_TIMEOUT:?}; killed.\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.lock().unwrap().join("\n"),
            err.lock().unwrap().join("\n"),
        );
    };
    let _ = (out_thread.join(), err_thread.join());
    let stdout = out.lock().unwrap().join("\n");
    let stderr = err.lock().unwrap().join("\n");
    let code = status.code().unwrap_or_else(|| {
        panic!("invitebot {args:?} ended by a signal ({status});\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
    });
    (code, stdout, stderr)
}
