//! The server under test: a config written into a temporary folder
//! ([`Workspace`]), the `invitebot` binary started on it ([`TestServer`]),
//! and [`App`], which starts a server wired to a fresh [`GitHubMock`] and
//! [`SmtpSink`].

use super::leaks::addresses_in;
use super::{
    DEFAULT_WAIT, GitHubMock, LeakWatch, ReceivedMail, Scan, SmtpSink, TEST_SECRET, TEST_TOKEN,
    capture_lines, clean_command, new_delivery_id, poll_until, run_to_end, sign,
};
use reqwest::StatusCode;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use wiremock::Request;

/// The roster file written unless [`ServerOptions::roster`] says otherwise.
pub const DEFAULT_ROSTER: &str = "# Members of the ISPO Working Group meeting series.\n";
/// How long [`TestServer::start`] waits for the `listening on` line.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
/// How long [`TestServer::stop`] waits for the process to exit after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of each HTTP request the harness sends to the server.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// How the server sends mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `transport = "smtp"`, `url = <ServerOptions::smtp_url>`.
    Smtp,
    /// `transport = "file"`, `dir = "mail"` (`.eml` files in [`Workspace::mail_dir`]).
    File,
}

/// Everything the harness writes into the config and the environment.
/// `ServerOptions::default()` points GitHub and SMTP at closed loopback ports
/// (`127.0.0.1:1`): good for CLI tests; use [`ServerOptions::new`] (or [`App`])
/// for a server that talks to a mock and a sink.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `[github] api_url`.
    pub github_api_url: String,
    /// `[mail] url` when `transport` is SMTP.
    pub smtp_url: String,
    pub transport: Transport,
    /// `[mail] from`.
    pub mail_from: String,
    /// `[[series]] id`; also names the roster file `roster/<id>.toml`.
    pub series_id: String,
    /// `[[series]] repo`, `owner/name`.
    pub repo: String,
    pub title: String,
    pub description: String,
    pub location: String,
    pub timezone: String,
    pub first: String,
    pub duration_minutes: u32,
    pub interval_weeks: u32,
    /// `[[series]] skip`: dates (`YYYY-MM-DD`) without a meeting.
    pub skip: Vec<String>,
    pub organizer_name: String,
    pub organizer_email: String,
    /// `[series.match] labels`.
    pub match_labels: Vec<String>,
    /// `[series.match] title` (a regex); `None` leaves the key out.
    pub match_title: Option<String>,
    /// `[series.reply] labels`.
    pub reply_labels: Vec<String>,
    /// `[series.reply] close`.
    pub reply_close: bool,
    /// `[series.reply] needs_email_label`; `None` leaves the key out.
    pub needs_email_label: Option<String>,
    /// Initial content of `roster/<series_id>.toml`; `None`: no file is written.
    pub roster: Option<String>,
    /// `[[series]] confirm_email`; `None` leaves the key out (the default, `"unproven"`).
    /// The harness defaults to `"never"`: the fixtures' requests type their address, and most
    /// areas test what follows an invitation; `consent` tests consent by proof.
    pub confirm_email: Option<String>,
    /// Keys added to the `[[series]]` table (e.g. `"max_new_per_day = 0"`).
    pub series_config: String,
    /// TOML appended verbatim at the end of the config (start it with a table
    /// header, e.g. another `[[series]]`, or it lands in `[series.reply]`).
    pub extra_config: String,
    /// `INVITEBOT_WEBHOOK_SECRET`; also what [`TestServer::deliver`] signs with.
    pub secret: String,
    /// `INVITEBOT_GITHUB_TOKEN`; `None` leaves it unset.
    pub token: Option<String>,
    /// `RUST_LOG`.
    pub rust_log: String,
    /// More environment variables for the server (set after the above, so they win).
    pub env: Vec<(String, String)>,
    /// What must not leak (see [`LeakWatch`]); [`ServerOptions::new`] shares
    /// the GitHub mock's, so the comments it received are scanned too.
    pub leaks: LeakWatch,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            github_api_url: "http://127.0.0.1:1".to_string(),
            smtp_url: "smtp://127.0.0.1:1".to_string(),
            transport: Transport::Smtp,
            mail_from: "ISPO Working Group <ispo-wg@example.org>".to_string(),
            series_id: "ispo-wg".to_string(),
            repo: "Codertocat/Hello-World".to_string(),
            title: "ISPO Working Group".to_string(),
            description: "Biweekly call of the InnerSource Program Office working group."
                .to_string(),
            location: "https://example.org/ispo-wg-call".to_string(),
            timezone: "America/Los_Angeles".to_string(),
            first: "2024-05-06T08:00".to_string(),
            duration_minutes: 60,
            interval_weeks: 2,
            skip: Vec::new(),
            organizer_name: "ISPO Working Group".to_string(),
            organizer_email: "ispo-wg@example.org".to_string(),
            match_labels: vec!["meeting-invite".to_string()],
            match_title: Some(r"(?i)\b(join|invite)\b".to_string()),
            reply_labels: vec!["invited".to_string()],
            reply_close: true,
            needs_email_label: Some("needs-email".to_string()),
            roster: Some(DEFAULT_ROSTER.to_string()),
            confirm_email: Some("never".to_string()),
            series_config: String::new(),
            extra_config: String::new(),
            secret: TEST_SECRET.to_string(),
            token: Some(TEST_TOKEN.to_string()),
            rust_log: "info,invitebot=debug".to_string(),
            env: Vec::new(),
            leaks: LeakWatch::default(),
        }
    }
}

/// A TOML basic string (JSON string escapes are valid TOML escapes).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn toml_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap()
}

impl ServerOptions {
    /// The defaults, wired to `github` and `smtp`.
    pub fn new(github: &GitHubMock, smtp: &SmtpSink) -> ServerOptions {
        ServerOptions {
            github_api_url: github.uri(),
            smtp_url: smtp.url(),
            leaks: github.leak_watch().clone(),
            ..ServerOptions::default()
        }
    }

    /// The roster path relative to the config folder.
    pub fn roster_rel_path(&self) -> String {
        format!("roster/{}.toml", self.series_id)
    }

    /// The config file text these options describe.
    pub fn render_config(&self) -> String {
        let mut c = String::new();
        let mut line = |s: String| {
            c.push_str(&s);
            c.push('\n');
        };
        line("[server]".into());
        line(r#"listen = "127.0.0.1:0""#.into());
        line(String::new());
        line("[webhook]".into());
        line(String::new());
        line("[github]".into());
        line(format!("api_url = {}", toml_str(&self.github_api_url)));
        line(String::new());
        line("[mail]".into());
        line(format!("from = {}", toml_str(&self.mail_from)));
        match self.transport {
            Transport::Smtp => {
                line(r#"transport = "smtp""#.into());
                line(format!("url = {}", toml_str(&self.smtp_url)));
            }
            Transport::File => {
                line(r#"transport = "file""#.into());
                line(r#"dir = "mail""#.into());
            }
        }
        line(String::new());
        line("[storage]".into());
        line(r#"data_dir = "data""#.into());
        line(String::new());
        line("[[series]]".into());
        line(format!("id = {}", toml_str(&self.series_id)));
        line(format!("repo = {}", toml_str(&self.repo)));
        line(format!("title = {}", toml_str(&self.title)));
        line(format!("description = {}", toml_str(&self.description)));
        line(format!("location = {}", toml_str(&self.location)));
        line(format!("timezone = {}", toml_str(&self.timezone)));
        line(format!("first = {}", toml_str(&self.first)));
        line(format!("duration_minutes = {}", self.duration_minutes));
        line(format!("interval_weeks = {}", self.interval_weeks));
        line(format!("skip = {}", toml_list(&self.skip)));
        line(format!(
            "organizer = {{ name = {}, email = {} }}",
            toml_str(&self.organizer_name),
            toml_str(&self.organizer_email)
        ));
        line(format!("roster = {}", toml_str(&self.roster_rel_path())));
        if let Some(confirm_email) = &self.confirm_email {
            line(format!("confirm_email = {}", toml_str(confirm_email)));
        }
        if !self.series_config.is_empty() {
            line(self.series_config.clone());
        }
        line(String::new());
        line("[series.match]".into());
        line(format!("labels = {}", toml_list(&self.match_labels)));
        if let Some(title) = &self.match_title {
            line(format!("title = {}", toml_str(title)));
        }
        line(String::new());
        line("[series.reply]".into());
        line(format!("labels = {}", toml_list(&self.reply_labels)));
        line(format!("close = {}", self.reply_close));
        if let Some(label) = &self.needs_email_label {
            line(format!("needs_email_label = {}", toml_str(label)));
        }
        if !self.extra_config.is_empty() {
            line(String::new());
            line(self.extra_config.clone());
        }
        c
    }

    /// The server's environment from these options (on top of [`clean_command`]).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            ("INVITEBOT_WEBHOOK_SECRET".to_string(), self.secret.clone()),
            ("RUST_LOG".to_string(), self.rust_log.clone()),
            // Tests run side by side: the operations listener too gets a port the OS chose.
            (
                "INVITEBOT_ADMIN_LISTEN".to_string(),
                "127.0.0.1:0".to_string(),
            ),
        ];
        if let Some(token) = &self.token {
            vars.push(("INVITEBOT_GITHUB_TOKEN".to_string(), token.clone()));
        }
        vars.extend(self.env.iter().cloned());
        vars
    }

    /// The secrets the server gets: the webhook secret, the token, the
    /// password of an SMTP URL, and their environment overrides.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![self.secret.clone()];
        secrets.extend(self.token.clone());
        let mut urls = vec![self.smtp_url.clone()];
        for (key, value) in &self.env {
            match key.as_str() {
                "INVITEBOT_SMTP_URL" => urls.push(value.clone()),
                "INVITEBOT_WEBHOOK_SECRET"
                | "INVITEBOT_GITHUB_TOKEN"
                | "GITHUB_TOKEN"
                | "INVITEBOT_GITHUB_OAUTH_CLIENT_SECRET" => secrets.push(value.clone()),
                _ => {}
            }
        }
        secrets.extend(
            urls.iter()
                .filter_map(|url| reqwest::Url::parse(url).ok())
                .filter_map(|url| url.password().map(str::to_string)),
        );
        secrets
    }
}

/// A temporary folder holding `invitebot.toml` and `roster/<id>.toml`, as
/// described by [`ServerOptions`]. `data/` and `mail/` are left for the server
/// to create. Removed on drop, unless `INVITEBOT_TEST_KEEP_DIR` is set in the
/// test's environment (then its path is printed).
pub struct Workspace {
    dir: tempfile::TempDir,
    opts: ServerOptions,
}

impl Workspace {
    /// A workspace for `opts` whose config got `edits` (each `(from, to)` replaced once).
    pub fn edited(opts: ServerOptions, edits: &[(&str, &str)]) -> Workspace {
        let ws = Workspace::new(opts);
        let text = edits.iter().fold(ws.config_text(), |text, (from, to)| {
            assert!(text.contains(from), "{from:?} not in the config:\n{text}");
            text.replacen(from, to, 1)
        });
        ws.write_config(&text);
        ws
    }

    pub fn new(opts: ServerOptions) -> Workspace {
        let mut dir = tempfile::Builder::new()
            .prefix("invitebot-test-")
            .tempdir()
            .expect("create a temporary folder for the test");
        if std::env::var_os("INVITEBOT_TEST_KEEP_DIR").is_some() {
            dir.disable_cleanup(true);
            eprintln!("keeping test folder {}", dir.path().display());
        }
        let ws = Workspace { dir, opts };
        ws.write_config(&ws.opts.render_config());
        for secret in ws.opts.secrets() {
            ws.opts.leaks.secret(&secret);
        }
        if let Some(roster) = &ws.opts.roster {
            ws.write_roster(roster);
        }
        ws
    }

    /// The temporary folder (the config's folder).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.root().join("invitebot.toml")
    }

    /// Replaces the config file's text (e.g. to test a broken config).
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write the test config");
    }

    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.config_path()).expect("read the test config")
    }

    /// `[storage] data_dir`, resolved.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    /// `[mail] dir` for the file transport, resolved.
    pub fn mail_dir(&self) -> PathBuf {
        self.root().join("mail")
    }

    pub fn roster_path(&self) -> PathBuf {
        self.root().join(self.opts.roster_rel_path())
    }

    /// Writes the roster file; its addresses are personal data for the leak scan.
    pub fn write_roster(&self, text: &str) {
        self.opts.leaks.addresses_in(text);
        let path = self.roster_path();
        std::fs::create_dir_all(path.parent().unwrap()).expect("create the roster folder");
        std::fs::write(&path, text).expect("write the roster");
    }

    /// The roster file's text; panics if it is missing.
    pub fn roster_text(&self) -> String {
        let path = self.roster_path();
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("cannot read roster {}: {err}", path.display()))
    }

    /// The `.eml` files in [`Self::mail_dir`], sorted by name (empty if the folder is missing).
    pub fn mail_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.mail_dir()) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
    }

    /// Adds to `leaks` the addresses of every file under `roster/` and of the
    /// `To:` lines of the mail files: personal data of this test.
    pub fn watch_personal_files(&self, leaks: &LeakWatch) {
        let mut folders = vec![self.root().join("roster")];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.is_dir() {
                    folders.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    leaks.addresses_in(&text);
                }
            }
        }
        for path in self.mail_files() {
            let text =
                String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
            for line in text.lines().filter(|l| l.starts_with("To:")) {
                leaks.addresses_in(line);
            }
        }
    }

    /// The addresses in the config file (organizer, sender): configuration, not
    /// personal data.
    pub fn config_addresses(&self) -> BTreeSet<String> {
        std::fs::read_to_string(self.config_path())
            .map(|text| addresses_in(&text).collect())
            .unwrap_or_default()
    }

    /// The `.eml` files read as [`ReceivedMail`] (envelope fields empty).
    pub fn mail_file_messages(&self) -> Vec<ReceivedMail> {
        self.mail_files()
            .iter()
            .map(|path| ReceivedMail {
                mail_from: String::new(),
                rcpt_to: Vec::new(),
                data: std::fs::read(path)
                    .unwrap_or_else(|err| panic!("read {}: {err}", path.display())),
                received_at: std::time::Instant::now(),
            })
            .collect()
    }

    /// Runs `invitebot --config <config> <args>` in this folder with the
    /// options' environment (secret, token, RUST_LOG) plus `env`. Returns (exit
    /// code, stdout, stderr); see [`super::run_cli`].
    pub async fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
        let mut cmd = clean_command();
        cmd.current_dir(self.root())
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .envs(self.opts.env_vars())
            .envs(env.iter().copied());
        run_to_end(cmd, args).await
    }
}

static LISTENING: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"listening on\s*(?:[A-Za-z_.]+\s*=\s*)?"?(\[[0-9A-Fa-f:.]+\]:\d+|\d{1,3}(?:\.\d{1,3}){3}:\d+)"#)
        .unwrap()
});

static OPERATIONS: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r#"operations endpoints on\s*"?(\[[0-9A-Fa-f:.]+\]:\d+|\d{1,3}(?:\.\d{1,3}){3}:\d+)"#,
    )
    .unwrap()
});

/// The address in a `listening on <ip:port>` log line (also accepts
/// `listening on addr=<ip:port>` and IPv6 `[::1]:port`), or `None`.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    LISTENING.captures(line)?[1].parse().ok()
}

/// The `invitebot serve` process, on a loopback port the OS chose. Killed
/// (SIGKILL) on drop; [`TestServer::stop`] stops it with SIGTERM instead.
pub struct TestServer {
    ws: Workspace,
    child: Option<Child>,
    /// Every stdout and stderr line, ANSI colours stripped, in arrival order,
    /// across restarts.
    log: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
    addr: SocketAddr,
    admin_addr: SocketAddr,
    client: reqwest::Client,
}

impl TestServer {
    /// Writes a [`Workspace`] for `opts` and starts the server in it.
    pub async fn start(opts: ServerOptions) -> TestServer {
        TestServer::start_in(Workspace::new(opts)).await
    }

    /// Starts the server on an existing workspace (e.g. one whose config a test rewrote).
    pub async fn start_in(ws: Workspace) -> TestServer {
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .expect("build the HTTP client");
        let mut server = TestServer {
            ws,
            child: None,
            log: Arc::new(Mutex::new(Vec::new())),
            readers: Vec::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            client,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let first_line = self.log.lock().unwrap().len();
        let mut cmd = clean_command();
        cmd.current_dir(self.ws.root())
            .arg("--config")
            .arg(self.ws.config_path())
            .arg("serve")
            .envs(self.ws.opts.env_vars())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", super::bin_path().display()));
        self.readers.push(capture_lines(
            child.stdout.take().unwrap(),
            self.log.clone(),
        ));
        self.readers.push(capture_lines(
            child.stderr.take().unwrap(),
            self.log.clone(),
        ));
        self.child = Some(child);

        let log = self.log.clone();
        let child = self.child.as_mut().unwrap();
        let outcome = poll_until(STARTUP_TIMEOUT, || {
            let lines = log.lock().unwrap();
            let found = |pattern: &regex::Regex| {
                lines[first_line..].iter().find_map(|line| {
                    let caps = pattern.captures(line)?;
                    Some(
                        caps[1]
                            .parse::<SocketAddr>()
                            .map_err(|err| format!("cannot parse the address in {line:?}: {err}")),
                    )
                })
            };
            match (found(&LISTENING), found(&OPERATIONS)) {
                (Some(Err(why)), _) | (_, Some(Err(why))) => return Some(Err(why)),
                (Some(Ok(public)), Some(Ok(admin))) => return Some(Ok((public, admin))),
                _ => {}
            }
            drop(lines);
            match child.try_wait() {
                Ok(Some(status)) => Some(Err(format!(
                    "the server exited before listening ({status})"
                ))),
                Ok(None) => None,
                Err(err) => Some(Err(format!("cannot check the server process: {err}"))),
            }
        })
        .await;
        match outcome {
            Some(Ok((public, admin))) => (self.addr, self.admin_addr) = (public, admin),
            Some(Err(why)) => {
                self.kill();
                self.drain_readers();
                panic!(
                    "{why}\n{}\n--- config ---\n{}",
                    self.log_report(),
                    self.ws.config_text()
                );
            }
            None => {
                self.kill();
                self.drain_readers();
                panic!(
                    "the server printed no `listening on ADDR` and `operations endpoints on ADDR` lines within {STARTUP_TIMEOUT:?}\n{}",
                    self.log_report()
                );
            }
        }
    }

    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    pub fn options(&self) -> &ServerOptions {
        &self.ws.opts
    }

    pub fn data_dir(&self) -> PathBuf {
        self.ws.data_dir()
    }

    pub fn roster_text(&self) -> String {
        self.ws.roster_text()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The operations listener's address (`/metrics`, `/readyz`, `/healthz`).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// `GET path` on the operations listener: (status, body).
    pub async fn admin_get(&self, path: &str) -> (StatusCode, String) {
        let url = format!("http://{}{path}", self.admin_addr);
        let result = self.client.get(&url).send().await;
        self.finish(&format!("GET {path} (operations listener)"), result)
            .await
    }

    /// The process id of the running server (panics if it is not running).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is not running").id()
    }

    /// The HTTP client the harness uses (loopback only, [`HTTP_TIMEOUT`]).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    // ----- logs -----

    /// All captured output lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// All captured output, one line per line.
    pub fn logs(&self) -> String {
        self.log_lines().join("\n")
    }

    fn log_report(&self) -> String {
        format!(
            "--- server log ({}) ---\n{}\n--- end of server log ---",
            self.ws.config_path().display(),
            self.logs()
        )
    }

    /// Panics, showing the offending lines, if any captured line contains `needle`
    /// (e.g. an email address that must never be logged).
    pub fn assert_log_lacks(&self, needle: &str) {
        let hits: Vec<String> = self
            .log_lines()
            .into_iter()
            .filter(|l| l.contains(needle))
            .collect();
        assert!(
            hits.is_empty(),
            "the server log contains {needle:?}:\n{}",
            hits.join("\n")
        );
    }

    /// What leaked so far into the log or a comment (see [`LeakWatch`]): one
    /// line per finding, empty when nothing did.
    pub fn leak_findings(&self) -> Vec<String> {
        let leaks = &self.ws.opts.leaks;
        self.ws.watch_personal_files(leaks);
        leaks.findings(&Scan {
            log: &self.log_lines(),
            allowed: &self.ws.config_addresses(),
        })
    }

    /// Panics, listing them, if an address or secret of this test leaked into
    /// the log or a comment. Runs by itself when the server is dropped.
    pub fn assert_no_leaks(&self) {
        let findings = self.leak_findings();
        assert!(
            findings.is_empty(),
            "personal data or secrets leaked ({} finding(s)):\n{}",
            findings.len(),
            findings.join("\n")
        );
    }

    // ----- HTTP -----

    /// `GET <path>` → (status, body).
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let url = format!("{}{path}", self.base_url());
        let result = self.client.get(&url).send().await;
        self.finish(&format!("GET {path}"), result).await
    }

    /// `POST /webhook` with `body` as is and the GitHub headers:
    /// `X-GitHub-Event: event`, `X-GitHub-Delivery: delivery_id`,
    /// `X-Hub-Signature-256: signature` (left out when `None`),
    /// `Content-Type: application/json`, a GitHub-like User-Agent.
    pub async fn post_webhook(
        &self,
        event: &str,
        delivery_id: &str,
        body: &[u8],
        signature: Option<String>,
    ) -> (StatusCode, String) {
        watch_delivered_addresses(&self.ws.opts.leaks, body);
        let mut request = self
            .client
            .post(format!("{}/webhook", self.base_url()))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery_id)
            .header("Content-Type", "application/json")
            .header("User-Agent", "GitHub-Hookshot/044aadd")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        let result = request.send().await;
        self.finish(&format!("POST /webhook ({event}, {delivery_id})"), result)
            .await
    }

    /// Delivers `body` as event `event`, signed with the configured secret,
    /// with a fresh delivery id.
    pub async fn deliver(&self, event: &str, body: &[u8]) -> (StatusCode, String) {
        self.deliver_as(event, &new_delivery_id(), body).await
    }

    /// Like [`Self::deliver`] with a chosen delivery id (to re-deliver the same one).
    pub async fn deliver_as(
        &self,
        event: &str,
        delivery_id: &str,
        body: &[u8],
    ) -> (StatusCode, String) {
        let signature = sign(&self.ws.opts.secret, body);
        self.post_webhook(event, delivery_id, body, Some(signature))
            .await
    }

    async fn finish(
        &self,
        what: &str,
        result: reqwest::Result<reqwest::Response>,
    ) -> (StatusCode, String) {
        let response =
            result.unwrap_or_else(|err| panic!("{what} failed: {err:?}\n{}", self.log_report()));
        let status = response.status();
        let text = response.text().await.unwrap_or_else(|err| {
            panic!(
                "{what}: cannot read the response body: {err:?}\n{}",
                self.log_report()
            )
        });
        (status, text)
    }

    // ----- waits (panic with the server log on timeout) -----

    /// Polls `probe` until it gives `Some`; on timeout panics naming `what`, with the server log.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        probe: impl FnMut() -> Option<T>,
    ) -> T {
        match poll_until(timeout, probe).await {
            Some(found) => found,
            None => panic!(
                "timed out after {timeout:?} waiting for {what}\n{}",
                self.log_report()
            ),
        }
    }

    /// Waits for at least `count` mails in `sink`; returns all received so far.
    pub async fn wait_for_mail(
        &self,
        sink: &SmtpSink,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedMail> {
        match sink.try_wait_for(count, timeout).await {
            Ok(mails) => mails,
            Err(why) => panic!("{why}\n{}", self.log_report()),
        }
    }

    /// Waits for at least `count` requests matching `pred` on `mock`.
    pub async fn wait_for_github(
        &self,
        mock: &GitHubMock,
        pred: impl Fn(&Request) -> bool,
        count: usize,
        timeout: Duration,
    ) -> Vec<Request> {
        match mock.try_wait_for_requests(pred, count, timeout).await {
            Ok(found) => found,
            Err(why) => panic!("{why}\n{}", self.log_report()),
        }
    }

    /// Waits for a captured line containing `needle`; returns that line.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        self.wait_until(
            &format!("a log line containing {needle:?}"),
            timeout,
            || {
                self.log
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|l| l.contains(needle))
                    .cloned()
            },
        )
        .await
    }

    /// Waits until the file transport wrote at least `count` `.eml` files.
    pub async fn wait_for_mail_files(&self, count: usize, timeout: Duration) -> Vec<PathBuf> {
        let dir = self.ws.mail_dir();
        self.wait_until(
            &format!("{count} .eml file(s) in {}", dir.display()),
            timeout,
            || {
                let files = self.ws.mail_files();
                (files.len() >= count).then_some(files)
            },
        )
        .await
    }

    // ----- process control -----

    /// Sends SIGTERM and waits up to [`STOP_TIMEOUT`] for the exit; returns the
    /// exit status. Panics (after SIGKILL) with the log if it does not exit.
    pub async fn stop(&mut self) -> ExitStatus {
        let Some(mut child) = self.child.take() else {
            panic!("stop(): the server is not running\n{}", self.log_report());
        };
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits in pid_t");
        // SAFETY: kill(2) has no memory-safety preconditions; `pid` is our own
        // child, which has not been reaped yet (so the pid is not reused).
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(
            rc,
            0,
            "kill(SIGTERM) failed: {}",
            std::io::Error::last_os_error()
        );
        let status = poll_until(STOP_TIMEOUT, || {
            child.try_wait().expect("try_wait on the server")
        })
        .await;
        match status {
            Some(status) => {
                self.drain_readers();
                status
            }
            None => {
                let _ = child.kill();
                let _ = child.wait();
                self.drain_readers();
                panic!(
                    "the server did not exit within {STOP_TIMEOUT:?} of SIGTERM\n{}",
                    self.log_report()
                );
            }
        }
    }

    /// Kills the server with SIGKILL (a crash) and reaps it. No-op if not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGTERM, see [`Self::stop`]; it must exit successfully)
    /// if it runs, and starts it again on the same workspace (config, roster,
    /// data folder). The port changes; the log keeps growing, with a
    /// `=== harness: restart ===` marker line.
    pub async fn restart(&mut self) {
        if self.child.is_some() {
            let status = self.stop().await;
            assert!(
                status.success(),
                "the server exited with {status} on SIGTERM\n{}",
                self.log_report()
            );
        }
        self.log
            .lock()
            .unwrap()
            .push("=== harness: restart ===".to_string());
        self.spawn().await;
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Gives the reader threads up to a second to read the rest of the
    /// output of an exited process.
    fn drain_readers(&mut self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while self.readers.iter().any(|r| !r.is_finished()) && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.readers.retain(|r| !r.is_finished());
    }
}

impl Drop for TestServer {
    /// Kills the server, then runs the leak scan ([`TestServer::assert_no_leaks`])
    /// unless the test is failing already.
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            return;
        }
        self.drain_readers();
        self.assert_no_leaks();
    }
}

/// The addresses in a delivered payload's issue (title, body) and comment are
/// personal data; the rest of a payload (e.g. `git@github.com` URLs) is not.
fn watch_delivered_addresses(leaks: &LeakWatch, body: &[u8]) {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(body) else {
        leaks.addresses_in(&String::from_utf8_lossy(body));
        return;
    };
    for pointer in ["/issue/title", "/issue/body", "/comment/body"] {
        if let Some(text) = payload.pointer(pointer).and_then(|v| v.as_str()) {
            leaks.addresses_in(text);
        }
    }
}

/// A server wired to a fresh GitHub mock (defaults mounted) and SMTP sink.
pub struct App {
    pub github: GitHubMock,
    pub smtp: SmtpSink,
    pub server: TestServer,
}

impl App {
    /// Everything with the default options.
    pub async fn start() -> App {
        App::start_with(|_| {}).await
    }

    /// Lets `edit` change the options (already wired to the mock and the sink)
    /// before the server starts.
    pub async fn start_with(edit: impl FnOnce(&mut ServerOptions)) -> App {
        let github = GitHubMock::start_with_defaults().await;
        let smtp = SmtpSink::start();
        let mut opts = ServerOptions::new(&github, &smtp);
        edit(&mut opts);
        let server = TestServer::start(opts).await;
        App {
            github,
            smtp,
            server,
        }
    }

    /// Everything with the default options, the config text edited by `edits` (each
    /// `(from, to)` replaced once; see [`Workspace::edited`]).
    pub async fn start_with_config(edits: &[(&str, &str)]) -> App {
        let github = GitHubMock::start_with_defaults().await;
        let smtp = SmtpSink::start();
        let ws = Workspace::edited(ServerOptions::new(&github, &smtp), edits);
        let server = TestServer::start_in(ws).await;
        App {
            github,
            smtp,
            server,
        }
    }

    /// The server log and every comment must be free of these (addresses) and of the test's
    /// secrets.
    pub async fn assert_private(&self, addresses: &[&str]) {
        for needle in addresses.iter().chain(&[TEST_SECRET, TEST_TOKEN]) {
            self.server.assert_log_lacks(needle);
            for comment in self.github.comments().await {
                assert!(
                    !comment.text().contains(needle),
                    "a public comment contains {needle:?}:\n{}",
                    comment.text()
                );
            }
        }
    }

    /// Waits up to [`DEFAULT_WAIT`] for `count` mails.
    pub async fn wait_for_mail(&self, count: usize) -> Vec<ReceivedMail> {
        self.server
            .wait_for_mail(&self.smtp, count, DEFAULT_WAIT)
            .await
    }

    /// Waits up to [`DEFAULT_WAIT`] for `count` GitHub requests matching `pred`
    /// (e.g. [`GitHubMock::is_comment`]).
    pub async fn wait_for_github(
        &self,
        pred: impl Fn(&Request) -> bool,
        count: usize,
    ) -> Vec<Request> {
        self.server
            .wait_for_github(&self.github, pred, count, DEFAULT_WAIT)
            .await
    }
}
