//! Durability: what invitebot promises when the process, the mail server or GitHub fail.
//!
//! These are the acceptance tests of the durable job queue and outbox (SQLite in the data
//! folder), the retries with backoff and the catch-up at start-up. They drive the real binary
//! with the harness in `tests/it/common/`: a [`TcpProxy`] in front of the SMTP sink makes the
//! mail server go down and come back; a small stateful fake of one GitHub repository
//! ([`FakeRepo`], mounted over the mock's defaults) remembers issues and comments so catch-up
//! and the bot's hidden marker can be checked; the process is killed with SIGKILL or stopped
//! with SIGTERM.
//!
//! The promise, one test group each:
//! - **Accept = commit**: `202` only once the request is in the store; a delivery id seen before
//!   gets `200` and nothing is done again. Comment, labels and close happen exactly once; an
//!   invitation arrives at least once (a second copy only if a crash falls between the SMTP
//!   server's acceptance and the commit).
//! - **SMTP down** at arrival: `202`, the invitation follows once the server is back (first retry
//!   within 5 s, then doubling with jitter), once; the comment only after the invitation.
//! - **GitHub errors**: 500 twice then 201 → one comment; 403 with `Retry-After: 2` → the next
//!   attempt at least 2 s later; 404 → failed, not retried forever, shown by `invitebot status`.
//! - **SIGKILL** right after the `202`: after a restart the invitation and the reply are sent, once.
//! - **Catch-up**: issues opened while the server was down are found (`GET .../issues?state=open
//!   &since=...`, every page) and handled unless they carry the marker comment; a webhook for
//!   an issue catch-up took (answered or still pending) does not answer it a second time.
//! - **SIGTERM**: exit status 0 within 10 s, even with work in flight.
//! - **Fault loop**: rounds of bursts, SIGKILLs and SMTP flapping; nothing lost, no comment
//!   twice. [`fault_loop_small`] runs 2 rounds of 10 requests; the full loop is
//!   `scripts/fault-loop` (the ignored test [`fault_loop`], configured by `FAULT_LOOP_*`).
//!
//! No assertion follows a bare sleep: tests wait for observable events (mails, recorded GitHub
//! calls, proxy connections) with deadlines; "no more than" assertions wait a bounded time, then
//! count.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

const JOIN: &str = "issues.opened.join-request.json";
const ADA: &str = "ada@example.org";
/// The fixture's issue number.
const ADA_ISSUE: u64 = 2;
const OWNER: &str = "Codertocat";
const REPO: &str = "Hello-World";
/// The hidden marker the bot puts in its reply to a join request of series `ispo-wg`.
const MARKER: &str = "<!-- invitebot:ispo-wg:invited -->";
const COMMENTS_PATH: &str = r"^/repos/[^/]+/[^/]+/issues/\d+/comments$";
/// The login the fake uses as the author of the bot's comments.
const BOT_LOGIN: &str = "invitebot[bot]";

/// Priority of the fake repository's mocks: above the harness defaults (10), below
/// `GitHubMock::mount_error` and the scripted failures here (1).
const FAKE_REPO_PRIORITY: u8 = 5;
const FAILURE_PRIORITY: u8 = 1;

/// Panics with the formatted message, the server log, the GitHub calls and the mails.
macro_rules! fail {
    ($rig:expr, $($arg:tt)*) => {{
        let what = format!($($arg)*);
        panic!("{what}\n{}", $rig.report().await)
    }};
}

// ---------------------------------------------------------------------------
// A stateful fake of one repository's issues and comments
// ---------------------------------------------------------------------------

/// One call the fake repository (or a scripted failure) answered.
#[derive(Clone, Debug)]
struct Call {
    method: String,
    path: String,
    status: u16,
    at: Instant,
}

impl Call {
    fn is_comment_post(&self) -> bool {
        self.method == "POST" && self.path.ends_with("/comments")
    }
}

#[derive(Default)]
struct RepoState {
    /// Issue JSON by number (`state` says open or closed).
    issues: BTreeMap<u64, Value>,
    /// Comment JSON by issue number, in posting order.
    comments: BTreeMap<u64, Vec<Value>>,
    next_comment_id: u64,
}

struct FakeRepoInner {
    api: String,
    owner: String,
    name: String,
    state: Mutex<RepoState>,
    calls: Arc<Mutex<Vec<Call>>>,
}

/// `Codertocat/Hello-World` as GitHub would keep it: issues (listable, paginated, closable) and
/// their comments (posted comments are listed back). Issues that were never opened on it are
/// answered from the fixture like the harness default does. The issue list ignores `since`
/// (it returns every issue in the asked state, a superset of GitHub's answer), so a test does
/// not depend on how the server picks `since`.
#[derive(Clone)]
struct FakeRepo {
    inner: Arc<FakeRepoInner>,
}

#[derive(Clone, Copy)]
enum Route {
    ListIssues,
    GetIssue,
    PatchIssue,
    ListComments,
    PostComment,
}

struct RepoResponder {
    repo: FakeRepo,
    route: Route,
}

impl Respond for RepoResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let response = self.repo.answer(self.route, request);
        self.repo.record(request, response.0);
        response.1
    }
}

/// Answers the first calls with a fixed status and headers (then lets the next mock answer:
/// mount it with `up_to_n_times`), recording each call in the fake's timeline.
struct Failing {
    status: u16,
    headers: Vec<(&'static str, String)>,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Respond for Failing {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls
            .lock()
            .unwrap()
            .push(call_of(request, self.status));
        let mut template = ResponseTemplate::new(self.status).set_body_json(json!({
            "message": format!("scripted failure ({})", self.status),
            "documentation_url": "https://docs.github.com/rest",
            "status": self.status.to_string(),
        }));
        for (name, value) in &self.headers {
            template = template.insert_header(*name, value.as_str());
        }
        template
    }
}

fn call_of(request: &Request, status: u16) -> Call {
    Call {
        method: request.method.to_string(),
        path: request.url.path().to_string(),
        status,
        at: Instant::now(),
    }
}

fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// GitHub's timestamp format, for now.
fn github_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

impl FakeRepo {
    /// Mounts the fake for `Codertocat/Hello-World` on `github`.
    async fn mount(github: &GitHubMock) -> FakeRepo {
        let repo = FakeRepo {
            inner: Arc::new(FakeRepoInner {
                api: github.uri(),
                owner: OWNER.to_string(),
                name: REPO.to_string(),
                state: Mutex::new(RepoState {
                    next_comment_id: 2_100_000_001,
                    ..RepoState::default()
                }),
                calls: Arc::new(Mutex::new(Vec::new())),
            }),
        };
        let base = format!("^/repos/{OWNER}/{REPO}/issues");
        for (verb, pattern, route) in [
            ("GET", format!("{base}$"), Route::ListIssues),
            ("GET", format!(r"{base}/\d+$"), Route::GetIssue),
            ("PATCH", format!(r"{base}/\d+$"), Route::PatchIssue),
            ("GET", format!(r"{base}/\d+/comments$"), Route::ListComments),
            ("POST", format!(r"{base}/\d+/comments$"), Route::PostComment),
        ] {
            Mock::given(method(verb))
                .and(path_regex(pattern.as_str()))
                .respond_with(RepoResponder {
                    repo: repo.clone(),
                    route,
                })
                .with_priority(FAKE_REPO_PRIORITY)
                .named(format!("fake repo {verb} {pattern}"))
                .mount(github.server())
                .await;
        }
        repo
    }

    /// Answers the next `times` requests `verb path_pattern` with `status` and `headers`, ahead
    /// of the fake (which answers again afterwards); the calls land in [`Self::calls`].
    async fn fail_next(
        &self,
        github: &GitHubMock,
        verb: &str,
        path_pattern: &str,
        status: u16,
        headers: Vec<(&'static str, String)>,
        times: u64,
    ) {
        Mock::given(method(verb))
            .and(path_regex(path_pattern))
            .respond_with(Failing {
                status,
                headers,
                calls: self.inner.calls.clone(),
            })
            .with_priority(FAILURE_PRIORITY)
            .up_to_n_times(times)
            .named(format!("scripted {status} for {verb} {path_pattern}"))
            .mount(github.server())
            .await;
    }

    /// Every call the fake and its scripted failures answered, in order.
    fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().unwrap().clone()
    }

    fn record(&self, request: &Request, status: u16) {
        self.inner
            .calls
            .lock()
            .unwrap()
            .push(call_of(request, status));
    }

    /// An issue of this repository as GitHub's API shows it, opened now by `login`.
    fn issue(&self, number: u64, login: &str, title: &str, body: &str, labels: Value) -> Value {
        let api = &self.inner.api;
        let (owner, name) = (&self.inner.owner, &self.inner.name);
        let mut issue = fixture_json(JOIN)["issue"].take();
        let issue_api = format!("{api}/repos/{owner}/{name}/issues/{number}");
        let now = github_now();
        let fields = json!({
            "url": issue_api,
            "repository_url": format!("{api}/repos/{owner}/{name}"),
            "labels_url": format!("{issue_api}/labels{{/name}}"),
            "comments_url": format!("{issue_api}/comments"),
            "events_url": format!("{issue_api}/events"),
            "html_url": format!("https://github.com/{owner}/{name}/issues/{number}"),
            "id": 500_000_000 + number,
            "node_id": format!("I_kwDO{number}"),
            "number": number,
            "title": title,
            "body": body,
            "labels": labels,
            "state": "open",
            "state_reason": null,
            "closed_at": null,
            "comments": 0,
            "created_at": now,
            "updated_at": now,
        });
        issue
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        issue["user"]["login"] = json!(login);
        issue["user"]["id"] = json!(login_id(login));
        issue["user"]["html_url"] = json!(format!("https://github.com/{login}"));
        issue["assignee"] = Value::Null;
        issue["assignees"] = json!([]);
        issue
    }

    /// A join request issue (the fixture's form with this name and address).
    fn join_issue(&self, number: u64, login: &str, name: &str, email: &str) -> Value {
        let labels = fixture_json(JOIN)["issue"]["labels"].clone();
        self.issue(
            number,
            login,
            &format!("Join the working group: {name}"),
            &format!(
                "### Your name\n\n{name}\n\n### Email for the calendar invite\n\n{email}\n\n### Anything else?\n\n_No response_"
            ),
            labels,
        )
    }

    /// An ordinary issue (not a join request).
    fn plain_issue(&self, number: u64) -> Value {
        self.issue(
            number,
            "someone-else",
            &format!("Typo in the agenda template #{number}"),
            "The agenda template says 'meetting'.",
            json!([]),
        )
    }

    /// Opens `issue` in the repository (listed by `GET .../issues?state=open`).
    fn open(&self, issue: Value) {
        let number = issue["number"].as_u64().expect("issue number");
        self.inner
            .state
            .lock()
            .unwrap()
            .issues
            .insert(number, issue);
    }

    /// Adds a comment by the bot to issue `number` (e.g. an earlier reply carrying the marker).
    fn add_bot_comment(&self, number: u64, body: &str) {
        let mut state = self.inner.state.lock().unwrap();
        let comment = self.comment_json(&mut state, number, body);
        state.comments.entry(number).or_default().push(comment);
    }

    fn comment_json(&self, state: &mut RepoState, number: u64, body: &str) -> Value {
        let id = state.next_comment_id;
        state.next_comment_id += 1;
        let (api, owner, name) = (&self.inner.api, &self.inner.owner, &self.inner.name);
        let mut user = fixture_json(JOIN)["sender"].take();
        user["login"] = json!(BOT_LOGIN);
        user["id"] = json!(login_id(BOT_LOGIN));
        user["type"] = json!("Bot");
        user["html_url"] = json!("https://github.com/apps/invitebot");
        let now = github_now();
        json!({
            "id": id,
            "node_id": format!("IC_kwDO{id}"),
            "url": format!("{api}/repos/{owner}/{name}/issues/comments/{id}"),
            "html_url": format!("https://github.com/{owner}/{name}/issues/{number}#issuecomment-{id}"),
            "issue_url": format!("{api}/repos/{owner}/{name}/issues/{number}"),
            "body": body,
            "user": user,
            "created_at": now,
            "updated_at": now,
            "author_association": "NONE",
            "performed_via_github_app": null,
        })
    }

    /// Number of the issue in an issue-scoped path.
    fn number_in(path: &str) -> Option<u64> {
        let rest = path.split("/issues/").nth(1)?;
        rest.split('/').next()?.parse().ok()
    }

    fn answer(&self, route: Route, request: &Request) -> (u16, ResponseTemplate) {
        let path = request.url.path();
        let mut state = self.inner.state.lock().unwrap();
        match route {
            Route::ListIssues => {
                let wanted = query_param(request, "state").unwrap_or_else(|| "open".into());
                let mut issues: Vec<Value> = state
                    .issues
                    .values()
                    .filter(|i| wanted == "all" || i["state"] == wanted.as_str())
                    .cloned()
                    .collect();
                // GitHub's default order: newest first.
                if query_param(request, "direction").as_deref() != Some("asc") {
                    issues.reverse();
                }
                (200, self.page_of(request, issues))
            }
            Route::GetIssue => {
                let Some(number) = Self::number_in(path) else {
                    return (404, ResponseTemplate::new(404));
                };
                let issue = state
                    .issues
                    .get(&number)
                    .cloned()
                    .unwrap_or_else(|| self.fixture_issue(number));
                (200, ResponseTemplate::new(200).set_body_json(issue))
            }
            Route::PatchIssue => {
                let Some(number) = Self::number_in(path) else {
                    return (404, ResponseTemplate::new(404));
                };
                let changes: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let fallback = self.fixture_issue(number);
                let issue = state.issues.entry(number).or_insert(fallback);
                for key in ["title", "body", "state", "state_reason"] {
                    if let Some(v) = changes.get(key) {
                        issue[key] = v.clone();
                    }
                }
                if issue["state"] == "closed" {
                    issue["closed_at"] = json!(github_now());
                }
                issue["updated_at"] = json!(github_now());
                (200, ResponseTemplate::new(200).set_body_json(issue.clone()))
            }
            Route::ListComments => {
                let Some(number) = Self::number_in(path) else {
                    return (404, ResponseTemplate::new(404));
                };
                let comments = state.comments.get(&number).cloned().unwrap_or_default();
                (200, self.page_of(request, comments))
            }
            Route::PostComment => {
                let Some(number) = Self::number_in(path) else {
                    return (404, ResponseTemplate::new(404));
                };
                let posted: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let Some(body) = posted.get("body").and_then(Value::as_str) else {
                    return (
                        422,
                        ResponseTemplate::new(422).set_body_json(
                            json!({"message": "Invalid request.\n\n\"body\" wasn't supplied."}),
                        ),
                    );
                };
                let comment = self.comment_json(&mut state, number, body);
                state
                    .comments
                    .entry(number)
                    .or_default()
                    .push(comment.clone());
                (201, ResponseTemplate::new(201).set_body_json(comment))
            }
        }
    }

    /// The harness default's issue for numbers never opened on the fake.
    fn fixture_issue(&self, number: u64) -> Value {
        let mut issue = fixture_json(JOIN)["issue"].take();
        let (api, owner, name) = (&self.inner.api, &self.inner.owner, &self.inner.name);
        issue["url"] = json!(format!("{api}/repos/{owner}/{name}/issues/{number}"));
        issue["number"] = json!(number);
        issue["state"] = json!("open");
        issue["closed_at"] = Value::Null;
        issue
    }

    /// One page of `items` as GitHub pages it (`per_page`, default 30, at most 100; `page` from
    /// 1), with a `Link` header naming the next and last pages.
    fn page_of(&self, request: &Request, items: Vec<Value>) -> ResponseTemplate {
        let per_page = query_param(request, "per_page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, 100);
        let page = query_param(request, "page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let last = items.len().div_ceil(per_page).max(1);
        let chunk: Vec<Value> = items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        let mut template = ResponseTemplate::new(200).set_body_json(Value::Array(chunk));
        if page < last {
            let link = |n: usize| {
                let mut url = request.url.clone();
                let pairs: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut()
                    .clear()
                    .extend_pairs(pairs)
                    .append_pair("page", &n.to_string());
                // The mock's own address, as GitHub links to itself.
                let base = self.inner.api.trim_end_matches('/');
                format!("{base}{}?{}", url.path(), url.query().unwrap_or_default())
            };
            template = template.insert_header(
                "Link",
                format!(
                    "<{}>; rel=\"next\", <{}>; rel=\"last\"",
                    link(page + 1),
                    link(last)
                )
                .as_str(),
            );
        }
        template
    }
}

/// A stable fake numeric user id.
fn login_id(login: &str) -> u64 {
    login.bytes().fold(7_000_003u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 90_000_000
        + 1_000_000
}

/// The webhook body of `issues.opened` for `issue` (the fixture around it).
fn opened_payload(issue: &Value) -> Vec<u8> {
    let login = issue["user"]["login"].clone();
    fixture_with(JOIN, |v| {
        v["issue"] = issue.clone();
        v["sender"]["login"] = login;
    })
}

// ---------------------------------------------------------------------------
// The rig: GitHub mock + fake repository, SMTP sink behind a proxy, the server
// ---------------------------------------------------------------------------

/// Everything but the server, so tests can prepare GitHub before the server starts.
struct Services {
    github: GitHubMock,
    repo: FakeRepo,
    smtp: SmtpSink,
    proxy: TcpProxy,
}

impl Services {
    async fn start() -> Services {
        let github = GitHubMock::start_with_defaults().await;
        let repo = FakeRepo::mount(&github).await;
        let smtp = SmtpSink::start();
        let proxy = TcpProxy::start(smtp.addr());
        Services {
            github,
            repo,
            smtp,
            proxy,
        }
    }

    fn options(&self) -> ServerOptions {
        let mut opts = ServerOptions::new(&self.github, &self.smtp);
        opts.smtp_url = self.proxy.url_smtp();
        opts
    }

    async fn launch(self) -> Rig {
        let opts = self.options();
        self.launch_with(opts).await
    }

    async fn launch_with(self, opts: ServerOptions) -> Rig {
        let server = TestServer::start(opts).await;
        Rig {
            github: self.github,
            repo: self.repo,
            smtp: self.smtp,
            proxy: self.proxy,
            server,
        }
    }
}

struct Rig {
    github: GitHubMock,
    repo: FakeRepo,
    smtp: SmtpSink,
    proxy: TcpProxy,
    server: TestServer,
}

impl Rig {
    async fn start() -> Rig {
        Services::start().await.launch().await
    }

    async fn report(&self) -> String {
        let mails: Vec<String> = self
            .smtp
            .messages()
            .iter()
            .map(ReceivedMail::summary)
            .collect();
        format!(
            "--- server log ---\n{}\n--- GitHub requests ---\n{}\n--- mails ---\n{}\n--- proxy: {} connections, {} refused while down, {} cut ---",
            self.server.logs(),
            self.github.describe_requests().await,
            mails.join("\n"),
            self.proxy.connections(),
            self.proxy.refused(),
            self.proxy.cut(),
        )
    }

    fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.smtp
            .messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r == address))
            .collect()
    }

    async fn comments_on(&self, issue: u64) -> Vec<IssueCall> {
        self.github
            .comments()
            .await
            .into_iter()
            .filter(|c| c.number == issue)
            .collect()
    }

    /// Successful comment posts (answered 201 by the fake), in order.
    fn comments_posted(&self) -> Vec<Call> {
        self.repo
            .calls()
            .into_iter()
            .filter(|c| c.is_comment_post() && c.status == 201)
            .collect()
    }

    async fn wait_mail_to(
        &self,
        address: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedMail> {
        match poll_until(timeout, || {
            let mails = self.mails_to(address);
            (mails.len() >= count).then_some(mails)
        })
        .await
        {
            Some(mails) => mails,
            None => {
                fail!(
                    self,
                    "expected {count} mail(s) to {address} within {timeout:?}, got {}",
                    self.mails_to(address).len()
                )
            }
        }
    }

    async fn wait_comments_on(
        &self,
        issue: u64,
        count: usize,
        timeout: Duration,
    ) -> Vec<IssueCall> {
        let mut poll = Poll::new(timeout);
        while poll.next().await {
            let comments = self.comments_on(issue).await;
            if comments.len() >= count {
                return comments;
            }
        }
        fail!(
            self,
            "expected {count} comment(s) on issue #{issue} within {timeout:?}, got {}",
            self.comments_on(issue).await.len()
        )
    }

    async fn wait_github(
        &self,
        what: &str,
        pred: impl Fn(&Request) -> bool,
        count: usize,
        timeout: Duration,
    ) -> Vec<Request> {
        match self
            .github
            .try_wait_for_requests(pred, count, timeout)
            .await
        {
            Ok(found) => found,
            Err(why) => fail!(self, "{what}: {why}"),
        }
    }

    async fn wait_connections(&self, count: usize, timeout: Duration) {
        if let Err(why) = self.proxy.wait_for_connections(count, timeout).await {
            fail!(self, "{why}");
        }
    }

    /// Delivers `body` with a fresh id and expects `202`.
    async fn deliver_accepted(&self, body: &[u8]) -> String {
        let id = new_delivery_id();
        let (status, text) = self.server.deliver_as("issues", &id, body).await;
        if status != StatusCode::ACCEPTED {
            fail!(self, "delivery {id}: expected 202, got {status}: {text}");
        }
        id
    }

    /// Waits a bounded time for anything late (retries, duplicates), so the counts that follow
    /// are "no more than" checks.
    async fn settle(&self, how_long: Duration) {
        tokio::time::sleep(how_long).await;
    }
}

/// How long "no more than" checks wait for something that should not come.
const SETTLE: Duration = Duration::from_secs(2);

// ---------------------------------------------------------------------------
// The proxy itself
// ---------------------------------------------------------------------------

/// A loopback echo server on threads; returns its address.
fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

fn echo_round_trip(stream: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
    stream.write_all(payload).expect("write through the proxy");
    let mut got = vec![0u8; payload.len()];
    stream.read_exact(&mut got).expect("read the echo");
    got
}

/// `Ok(0)` (closed) or an error: the connection is dead.
fn is_closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(stream.read(&mut buf), Ok(0) | Err(_))
}

#[test]
fn proxy_forwards_bytes_both_ways_and_counts_connections() {
    let proxy = TcpProxy::start(echo_server());
    assert!(proxy.url_smtp().starts_with("smtp://127.0.0.1:"));
    assert_eq!(proxy.url_smtp(), format!("smtp://{}", proxy.addr()));
    assert!(proxy.addr().ip().is_loopback());

    let mut a = connect(proxy.addr());
    let mut b = connect(proxy.addr());
    assert_eq!(echo_round_trip(&mut a, b"hello"), b"hello");
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(echo_round_trip(&mut b, &big), big);
    assert_eq!(echo_round_trip(&mut a, b"again"), b"again");
    assert_eq!(proxy.connections(), 2);
    assert_eq!(proxy.forwarded(), 2);

    // A half-close reaches the target, whose close comes back.
    a.shutdown(Shutdown::Write).unwrap();
    assert!(is_closed(&mut a));
}

#[test]
fn proxy_down_cuts_open_connections_and_closes_new_ones_until_up() {
    let proxy = TcpProxy::start(echo_server());
    let mut open = connect(proxy.addr());
    assert_eq!(echo_round_trip(&mut open, b"before"), b"before");

    proxy.set_down(true);
    assert!(proxy.is_down());
    assert!(
        is_closed(&mut open),
        "an open connection survived set_down(true)"
    );
    assert_eq!(proxy.cut(), 1);

    // Down: accepted, then closed at once, nothing forwarded.
    for _ in 0..3 {
        let mut refused = connect(proxy.addr());
        let _ = refused.write_all(b"anyone there?");
        assert!(is_closed(&mut refused), "a connection was kept while down");
    }
    assert_eq!(proxy.refused(), 3);
    assert_eq!(proxy.forwarded(), 1);
    assert_eq!(proxy.connections(), 4);

    proxy.set_down(false);
    let mut again = connect(proxy.addr());
    assert_eq!(echo_round_trip(&mut again, b"after"), b"after");
    assert_eq!(proxy.forwarded(), 2);
}

#[test]
fn proxy_flapping_goes_down_and_ends_up() {
    let proxy = TcpProxy::start(echo_server());
    let flapper = proxy.flap(7, (5, 20), (5, 20));
    // Sample until both states were seen (bounded).
    let deadline = Instant::now() + Duration::from_secs(5);
    let (mut seen_down, mut seen_up) = (false, false);
    while Instant::now() < deadline && !(seen_down && seen_up) {
        if proxy.is_down() {
            seen_down = true;
        } else {
            seen_up = true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let downs = flapper.stop();
    assert!(
        seen_down && seen_up,
        "down seen: {seen_down}, up seen: {seen_up}"
    );
    assert!(downs >= 1);
    assert!(
        !proxy.is_down(),
        "the proxy stays down after flapping stopped"
    );
    let mut stream = connect(proxy.addr());
    assert_eq!(echo_round_trip(&mut stream, b"up"), b"up");
}

#[tokio::test]
async fn an_invite_reaches_the_sink_through_the_proxy() {
    let rig = Rig::start().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    assert!(rig.proxy.forwarded() >= 1);
}

// ---------------------------------------------------------------------------
// Accept = commit
// ---------------------------------------------------------------------------

/// Every file under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_delivery_is_in_the_store_when_202_is_answered() {
    let rig = Rig::start().await;
    // SMTP down: the request cannot be finished, only recorded.
    rig.proxy.set_down(true);
    let id = rig.deliver_accepted(&fixture(JOIN)).await;

    // Right after the 202, the SQLite files in the data folder (database or WAL) hold the
    // delivery id, as text or as the UUID's 16 bytes.
    let text = id.as_bytes().to_vec();
    let raw = uuid::Uuid::parse_str(&id).unwrap().as_bytes().to_vec();
    let files = files_under(&rig.server.data_dir());
    let holding: Vec<_> = files
        .iter()
        .filter(|f| {
            std::fs::read(f).is_ok_and(|bytes| contains(&bytes, &text) || contains(&bytes, &raw))
        })
        .collect();
    if holding.is_empty() {
        fail!(
            rig,
            "no file in the data folder holds delivery {id} right after its 202; files: {files:?}"
        );
    }
}

#[tokio::test]
async fn a_redelivered_delivery_gets_200_and_changes_nothing() {
    let rig = Rig::start().await;
    let id = rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;

    let (status, text) = rig.server.deliver_as("issues", &id, &fixture(JOIN)).await;
    if status != StatusCode::OK {
        fail!(
            rig,
            "a redelivery of {id} must get 200, got {status}: {text}"
        );
    }
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

#[tokio::test]
async fn a_delivery_seen_before_a_restart_still_gets_200() {
    let mut rig = Rig::start().await;
    let id = rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.server.restart().await;

    let (status, text) = rig.server.deliver_as("issues", &id, &fixture(JOIN)).await;
    if status != StatusCode::OK {
        fail!(
            rig,
            "a redelivery of {id} after a restart must get 200, got {status}: {text}"
        );
    }
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

/// One invitation to `address`; one comment, one label call and one close on `issue`.
async fn assert_once(rig: &Rig, address: &str, issue: u64) {
    let mails = rig.mails_to(address).len();
    let comments = rig.comments_on(issue).await.len();
    let on_issue = |calls: Vec<IssueCall>| calls.iter().filter(|c| c.number == issue).count();
    let labels = on_issue(rig.github.label_calls().await);
    let closes = on_issue(rig.github.close_calls().await);
    if (mails, comments, labels, closes) != (1, 1, 1, 1) {
        fail!(
            rig,
            "expected exactly one invitation to {address} and one comment, label call and close \
             on #{issue}; got {mails} mail(s), {comments} comment(s), {labels} label call(s), \
             {closes} close(s)"
        );
    }
}

#[tokio::test]
async fn the_same_delivery_posted_100_times_is_handled_once() {
    let rig = Rig::start().await;
    let id = new_delivery_id();
    let body = fixture(JOIN);
    let mut statuses = Vec::new();
    for _ in 0..100 {
        let (status, _) = rig.server.deliver_as("issues", &id, &body).await;
        statuses.push(status.as_u16());
    }
    let first = statuses[0];
    let rest: HashMap<u16, usize> = statuses[1..].iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(*s).or_default() += 1;
        m
    });
    if first != 202 || rest.keys().any(|s| *s != 200) {
        fail!(
            rig,
            "expected 202 then 99 × 200; got first {first}, then {rest:?}"
        );
    }
    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

#[tokio::test]
async fn the_reply_comment_carries_the_hidden_marker() {
    let rig = Rig::start().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    let comments = rig.wait_comments_on(ADA_ISSUE, 1, DEFAULT_WAIT).await;
    if !comments[0].text().contains(MARKER) {
        fail!(
            rig,
            "the reply lacks the marker {MARKER:?}:\n{}",
            comments[0].text()
        );
    }
}

// ---------------------------------------------------------------------------
// SMTP down
// ---------------------------------------------------------------------------

#[tokio::test]
async fn smtp_down_at_arrival_the_invite_follows_once_and_the_comment_after_it() {
    let rig = Rig::start().await;
    rig.proxy.set_down(true);
    rig.deliver_accepted(&fixture(JOIN)).await;

    // The first attempt meets a closed connection.
    rig.wait_connections(1, Duration::from_secs(5)).await;
    let failed_at = Instant::now();
    if !rig.comments_on(ADA_ISSUE).await.is_empty() {
        fail!(
            rig,
            "the comment was posted although the invitation was not sent"
        );
    }

    rig.proxy.set_down(false);
    // The first retry comes within 5 s of the failure.
    let mails = rig
        .wait_mail_to(ADA, 1, Duration::from_secs(5) + Duration::from_millis(1500))
        .await;
    let accepted_at = mails[0].received_at;
    rig.wait_comments_on(ADA_ISSUE, 1, DEFAULT_WAIT).await;
    let posted = rig.comments_posted();
    if posted.first().is_none_or(|c| c.at < accepted_at) {
        fail!(
            rig,
            "the comment was posted before the SMTP server accepted the invitation \
             (accepted {:?} after the failure, comment posts: {:?})",
            accepted_at.duration_since(failed_at),
            posted
                .iter()
                .map(|c| c.at.duration_since(failed_at))
                .collect::<Vec<_>>()
        );
    }
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

#[tokio::test]
async fn smtp_retries_start_within_5s_and_back_off() {
    let rig = Rig::start().await;
    rig.proxy.set_down(true);
    rig.deliver_accepted(&fixture(JOIN)).await;

    // Attempts: connections closer than 250 ms together count as one. The first comes at once,
    // the next within 5 s (gap `g`).
    let timeout = Duration::from_secs(10);
    let attempts = poll_until(timeout, || {
        let attempts = rig.proxy.attempts();
        (attempts.len() >= 2).then_some(attempts)
    })
    .await;
    let Some(attempts) = attempts else {
        fail!(
            rig,
            "expected a first attempt and a retry within {timeout:?} while the mail server is \
             down, saw {} attempt(s)",
            rig.proxy.attempts().len()
        )
    };
    let (first, g) = (attempts[0], attempts[1].duration_since(attempts[0]));
    if g > Duration::from_millis(5500) {
        fail!(
            rig,
            "the first retry came {g:?} after the first attempt (at most 5 s)"
        );
    }

    // Doubling: by 4.5 g + 1 s after the first attempt some gap after the first, or the time
    // since the last attempt, is at least 1.5 g, and the mail server was not hammered meanwhile.
    // With ±25 % jitter the second gap alone can be as short as 1.2 g (3 s after 2.5 s), so the
    // window must be long enough for the open gap to show the doubling too: if the second gap
    // is under 1.5 g then g > 2 s and the third attempt is due no earlier than 2.5 g + 6 s.
    let window = (g.mul_f64(4.5) + Duration::from_secs(1)).min(Duration::from_secs(22));
    let end = first + window;
    tokio::time::sleep(end.saturating_duration_since(Instant::now())).await;
    let within: Vec<Instant> = rig
        .proxy
        .attempts()
        .into_iter()
        .filter(|a| *a <= end)
        .collect();
    let mut gaps: Vec<Duration> = within.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.push(end - *within.last().unwrap());
    let longest_later = gaps[1..].iter().max().copied().unwrap_or_default();
    if longest_later < g.mul_f64(1.5) || within.len() > 6 {
        fail!(
            rig,
            "no back-off: {} attempts within {window:?}, gaps {gaps:?} (the last one open); \
             expected a gap of at least 1.5 × {g:?} after the first and at most 6 attempts",
            within.len()
        );
    }
    if !rig.comments_on(ADA_ISSUE).await.is_empty() {
        fail!(
            rig,
            "the comment was posted although the invitation was not sent"
        );
    }
}

// ---------------------------------------------------------------------------
// GitHub errors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn github_500_twice_then_201_gives_exactly_one_comment() {
    let services = Services::start().await;
    services
        .github
        .mount_error("POST", COMMENTS_PATH, 500, Some(2))
        .await;
    let rig = services.launch().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;

    // Two 500s, then the third attempt succeeds (retries: within 5 s, then about 10 s).
    rig.wait_github(
        "three comment attempts",
        GitHubMock::is_comment,
        3,
        Duration::from_secs(25),
    )
    .await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    let attempts = rig.comments_on(ADA_ISSUE).await.len();
    let posted = rig.comments_posted().len();
    if attempts != 3 || posted != 1 {
        fail!(
            rig,
            "expected 3 comment attempts (500, 500, 201) and one comment; got {attempts} \
             attempt(s), {posted} comment(s)"
        );
    }
}

#[tokio::test]
async fn github_403_with_retry_after_waits_before_the_next_attempt() {
    let services = Services::start().await;
    services
        .repo
        .fail_next(
            &services.github,
            "POST",
            COMMENTS_PATH,
            403,
            vec![("Retry-After", "2".to_string())],
            1,
        )
        .await;
    let rig = services.launch().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_github(
        "a comment attempt after the 403",
        GitHubMock::is_comment,
        2,
        Duration::from_secs(15),
    )
    .await;
    let attempts: Vec<Call> = rig
        .repo
        .calls()
        .into_iter()
        .filter(Call::is_comment_post)
        .collect();
    let gap = attempts[1].at.duration_since(attempts[0].at);
    if attempts[0].status != 403 || gap < Duration::from_millis(1950) {
        fail!(
            rig,
            "after a 403 with Retry-After: 2 the next attempt must wait at least 2 s; it came \
             after {gap:?} (statuses {:?})",
            attempts.iter().map(|c| c.status).collect::<Vec<_>>()
        );
    }
    rig.settle(SETTLE).await;
    if rig.comments_posted().len() != 1 {
        fail!(
            rig,
            "expected one comment, got {}",
            rig.comments_posted().len()
        );
    }
}

#[tokio::test]
async fn github_404_on_the_comment_is_failed_not_retried_and_shown_in_status() {
    let services = Services::start().await;
    services
        .github
        .mount_error("POST", COMMENTS_PATH, 404, None)
        .await;
    let rig = services.launch().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_github(
        "the first comment attempt",
        GitHubMock::is_comment,
        1,
        DEFAULT_WAIT,
    )
    .await;

    // Not retried forever: a few seconds later, at most a couple of attempts.
    rig.settle(Duration::from_secs(6)).await;
    let attempts = rig
        .github
        .requests_matching(GitHubMock::is_comment)
        .await
        .len();
    if attempts > 2 {
        fail!(
            rig,
            "a comment answered 404 was attempted {attempts} times within ~6 s"
        );
    }

    // `invitebot status` shows it as failed.
    let mut last = (0, String::new(), String::new());
    let mut poll = Poll::new(Duration::from_secs(5));
    while poll.next().await {
        last = rig.server.workspace().cli(&["status"], &[]).await;
        let lower = last.1.to_lowercase();
        let shown = lower
            .lines()
            .any(|l| l.contains("failed") && l.contains("comment") && l.contains("404"));
        if last.0 == 0 && shown {
            return;
        }
    }
    fail!(
        rig,
        "`invitebot status` shows no line with `failed`, `comment` and `404`: exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        last.0,
        last.1,
        last.2
    );
}

// ---------------------------------------------------------------------------
// SIGKILL
// ---------------------------------------------------------------------------

#[tokio::test]
async fn sigkill_right_after_202_then_restart_invites_and_replies_once() {
    let mut rig = Rig::start().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.server.kill();
    let killed_at = Instant::now();
    // Mail accepted before the kill may come a second time (crash between acceptance and commit).
    let before_kill = rig.mails_to(ADA).len();
    rig.server.restart().await;

    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_comments_on(ADA_ISSUE, 1, DEFAULT_WAIT).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    let mails = rig.mails_to(ADA);
    let accepted_before_kill = mails.iter().filter(|m| m.received_at <= killed_at).count();
    let allowed = 1 + accepted_before_kill.min(1);
    let comments = rig.comments_on(ADA_ISSUE).await.len();
    if mails.len() > allowed || comments != 1 {
        fail!(
            rig,
            "after SIGKILL and restart: {} invitation(s) ({before_kill} before the kill, at most \
             {allowed} allowed), {comments} comment(s) (1 expected)",
            mails.len()
        );
    }
}

#[tokio::test]
async fn sigkill_while_smtp_is_down_then_restart_invites_and_replies_once() {
    let mut rig = Rig::start().await;
    rig.proxy.set_down(true);
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_connections(1, Duration::from_secs(5)).await;
    rig.server.kill();
    rig.proxy.set_down(false);
    rig.server.restart().await;

    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_comments_on(ADA_ISSUE, 1, DEFAULT_WAIT).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

// ---------------------------------------------------------------------------
// One person, two issues
// ---------------------------------------------------------------------------

#[tokio::test]
async fn two_join_requests_for_one_person_on_two_issues() {
    let rig = Rig::start().await;
    let second = fixture_with(JOIN, |v| v["issue"]["number"] = json!(3));
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.deliver_accepted(&second).await;

    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_comments_on(2, 1, DEFAULT_WAIT).await;
    rig.wait_comments_on(3, 1, DEFAULT_WAIT).await;
    rig.settle(SETTLE).await;
    let per_issue = (
        rig.comments_on(2).await.len(),
        rig.comments_on(3).await.len(),
    );
    let invites = rig.mails_to(ADA).len();
    let roster = rig.server.roster_text();
    let entries = roster.matches("[[member]]").count();
    if per_issue != (1, 1) || !(1..=2).contains(&invites) || entries != 1 {
        fail!(
            rig,
            "expected one comment on each of #2 and #3, one or two invitations and one roster \
             entry; got comments {per_issue:?}, {invites} invitation(s), {entries} roster \
             entries:\n{roster}"
        );
    }
}

// ---------------------------------------------------------------------------
// Catch-up
// ---------------------------------------------------------------------------

fn is_issue_list(r: &Request) -> bool {
    r.method.as_str() == "GET" && r.url.path() == format!("/repos/{OWNER}/{REPO}/issues")
}

#[tokio::test]
async fn an_issue_opened_while_the_server_was_stopped_is_handled_by_catch_up() {
    let mut rig = Rig::start().await;
    let status = rig.server.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");

    // While it is down, Ada opens her join request (the fixture's issue); no webhook arrives.
    let ada = rig.repo.join_issue(ADA_ISSUE, OWNER, "Ada Lovelace", ADA);
    rig.repo.open(ada);
    let listed_before = rig.github.requests_matching(is_issue_list).await.len();
    rig.server.restart().await;

    let lists = rig
        .wait_github(
            "the catch-up listing",
            is_issue_list,
            listed_before + 1,
            DEFAULT_WAIT,
        )
        .await;
    let list = &lists[listed_before];
    let query: HashMap<String, String> = list.url.query_pairs().into_owned().collect();
    if query.get("state").map(String::as_str) != Some("open") || !query.contains_key("since") {
        fail!(
            rig,
            "the catch-up must list `?state=open&since=...`; it asked {}",
            list.url
        );
    }
    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_comments_on(ADA_ISSUE, 1, DEFAULT_WAIT).await;
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

#[tokio::test]
async fn catch_up_reads_every_page_and_skips_issues_with_the_marker() {
    let mut rig = Rig::start().await;
    let status = rig.server.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");

    // 220 ordinary issues around two join requests, so that with any page size up to 100 and
    // either order the join requests are not on the first page.
    for n in (1..=110).chain(113..=222) {
        rig.repo.open(rig.repo.plain_issue(n));
    }
    let handled = rig
        .repo
        .join_issue(111, "grace", "Grace Hopper", "grace@example.org");
    let fresh = rig
        .repo
        .join_issue(112, "alan", "Alan Turing", "alan@example.org");
    rig.repo.open(handled);
    rig.repo.open(fresh);
    rig.repo
        .add_bot_comment(111, &format!("Thanks @grace, you are invited.\n\n{MARKER}"));
    rig.server.restart().await;

    rig.wait_mail_to("alan@example.org", 1, Duration::from_secs(15))
        .await;
    rig.wait_comments_on(112, 1, DEFAULT_WAIT).await;
    rig.settle(SETTLE).await;
    let pages: Vec<String> = rig
        .github
        .requests_matching(is_issue_list)
        .await
        .iter()
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect();
    let grace_mails = rig.mails_to("grace@example.org").len();
    let grace_comments = rig.comments_on(111).await.len();
    let alan_comments = rig.comments_on(112).await.len();
    let roster = rig.server.roster_text();
    if grace_mails != 0 || grace_comments != 0 || alan_comments != 1 || roster.contains("grace") {
        fail!(
            rig,
            "#111 carries the marker and must be left alone, #112 answered once: #111 got \
             {grace_mails} mail(s) and {grace_comments} comment(s), #112 {alan_comments} \
             comment(s); issue list requests: {pages:?}"
        );
    }
    if rig.mails_to("alan@example.org").len() != 1 {
        fail!(rig, "Alan got more than one invitation");
    }
}

/// Stops the rig's server, opens Ada's join request on the repository while it is down, and
/// starts it again (catch-up finds the issue). Returns the issue.
async fn open_while_down(rig: &mut Rig) -> Value {
    let status = rig.server.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
    let ada = rig.repo.join_issue(ADA_ISSUE, OWNER, "Ada Lovelace", ADA);
    rig.repo.open(ada.clone());
    rig.server.restart().await;
    ada
}

#[tokio::test]
async fn a_delivery_after_catch_up_answered_the_issue_changes_nothing() {
    // The webhook for an issue opened while the bot was down failed; catch-up answered the
    // issue; then someone redelivers that delivery from GitHub's settings.
    let mut rig = Rig::start().await;
    let ada = open_while_down(&mut rig).await;
    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;

    let (status, text) = rig.server.deliver("issues", &opened_payload(&ada)).await;
    if !status.is_success() {
        fail!(rig, "the late delivery got {status}: {text}");
    }
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

#[tokio::test]
async fn a_delivery_while_catch_up_work_is_pending_is_not_done_twice() {
    // As above, but the delivery arrives while catch-up's job waits for the mail server.
    let mut rig = Rig::start().await;
    rig.proxy.set_down(true);
    let ada = open_while_down(&mut rig).await;
    rig.wait_connections(1, DEFAULT_WAIT).await;

    let (status, text) = rig.server.deliver("issues", &opened_payload(&ada)).await;
    if !status.is_success() {
        fail!(rig, "the delivery got {status}: {text}");
    }
    rig.proxy.set_down(false);
    rig.wait_mail_to(ADA, 1, Duration::from_secs(15)).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

// ---------------------------------------------------------------------------
// SIGTERM
// ---------------------------------------------------------------------------

#[tokio::test]
async fn sigterm_exits_0_within_10s_while_smtp_is_down() {
    let mut rig = Rig::start().await;
    rig.proxy.set_down(true);
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_connections(1, Duration::from_secs(5)).await;
    let started = Instant::now();
    // `stop` panics with the log when there is no exit within 10 s.
    let status = rig.server.stop().await;
    let took = started.elapsed();
    if !status.success() {
        fail!(
            rig,
            "SIGTERM with work in flight: exit {status} after {took:?}"
        );
    }
}

#[tokio::test]
async fn sigterm_exits_0_within_10s_while_a_github_call_hangs() {
    let services = Services::start().await;
    Mock::given(method("POST"))
        .and(path_regex(COMMENTS_PATH))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(60)))
        .with_priority(FAILURE_PRIORITY)
        .named("a comment that hangs")
        .mount(services.github.server())
        .await;
    let mut rig = services.launch().await;
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_github(
        "the hanging comment call",
        GitHubMock::is_comment,
        1,
        DEFAULT_WAIT,
    )
    .await;
    let status = rig.server.stop().await;
    if !status.success() {
        fail!(rig, "SIGTERM during a hanging GitHub call: exit {status}");
    }
}

#[tokio::test]
async fn work_pending_at_sigterm_is_finished_after_restart() {
    let mut rig = Rig::start().await;
    rig.proxy.set_down(true);
    rig.deliver_accepted(&fixture(JOIN)).await;
    rig.wait_connections(1, Duration::from_secs(5)).await;
    let status = rig.server.stop().await;
    assert!(status.success(), "SIGTERM exit: {status}");
    rig.proxy.set_down(false);
    rig.server.restart().await;

    rig.wait_mail_to(ADA, 1, DEFAULT_WAIT).await;
    rig.wait_github("the close", GitHubMock::is_close_call, 1, DEFAULT_WAIT)
        .await;
    rig.settle(SETTLE).await;
    assert_once(&rig, ADA, ADA_ISSUE).await;
}

// ---------------------------------------------------------------------------
// The fault loop
// ---------------------------------------------------------------------------

/// What one run of the fault loop does; from `FAULT_LOOP_*` for the full loop.
#[derive(Clone, Debug)]
struct FaultLoop {
    rounds: usize,
    requests: usize,
    seed: u64,
    /// Deliveries in flight at once during a burst.
    concurrency: usize,
    /// How long a round waits for its requests to be done before it goes on.
    round_timeout: Duration,
    /// How long the end waits for everything to be done.
    final_timeout: Duration,
    /// SMTP down phases last this long (ms, inclusive range) ...
    down_ms: (u64, u64),
    /// ... and up phases this long.
    up_ms: (u64, u64),
}

impl FaultLoop {
    fn from_env() -> FaultLoop {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(v) => v
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid value")),
                Err(_) => default,
            }
        }
        let seed = var(
            "FAULT_LOOP_SEED",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64,
        );
        FaultLoop {
            rounds: var("FAULT_LOOP_ROUNDS", 20),
            requests: var("FAULT_LOOP_REQUESTS", 50),
            seed,
            concurrency: var("FAULT_LOOP_CONCURRENCY", 8),
            round_timeout: Duration::from_secs(var("FAULT_LOOP_ROUND_TIMEOUT_SECS", 45)),
            final_timeout: Duration::from_secs(var("FAULT_LOOP_FINAL_TIMEOUT_SECS", 90)),
            down_ms: (20, var("FAULT_LOOP_MAX_DOWN_MS", 400)),
            up_ms: (50, var("FAULT_LOOP_MAX_UP_MS", 600)),
        }
    }
}

/// One join request of the loop.
#[derive(Clone)]
struct LoopRequest {
    login: String,
    email: String,
    issue: u64,
    delivery: String,
    body: Vec<u8>,
}

#[derive(Debug, Default)]
struct LoopReport {
    rounds: usize,
    requests: usize,
    /// Requests whose invitation or comment never came.
    lost: usize,
    missing_invites: Vec<String>,
    missing_comments: Vec<u64>,
    duplicated_invites: usize,
    duplicated_comments: usize,
    duplicated_closes: usize,
    /// Addresses that got more than one invitation.
    duplicate_invite_addresses: Vec<String>,
    /// Issues that got more than one comment.
    duplicate_comment_issues: Vec<u64>,
    kills: usize,
    /// SMTP connections the proxy cut mid-way (each may cause one legitimate duplicate).
    cuts: usize,
    /// Deliveries that did not get 2xx at first (in flight at the kill, or 503) and were sent again.
    redelivered: usize,
    /// Responses other than 200/202 to a redelivery.
    refused: Vec<String>,
    /// SIGTERM stops that did not exit with status 0.
    bad_stops: Vec<String>,
    seed: u64,
    elapsed: Duration,
}

impl LoopReport {
    fn summary(&self) -> String {
        format!(
            "fault loop: {} rounds, {} requests, {} lost, {} duplicated invites, {} duplicated comments",
            self.rounds,
            self.requests,
            self.lost,
            self.duplicated_invites,
            self.duplicated_comments
        )
    }

    fn details(&self) -> String {
        format!(
            "seed {} (FAULT_LOOP_SEED), {:.1?}; {} kill(s), {} SMTP connection(s) cut by flapping, \
             {} redelivered, {} duplicated close(s); missing invitations: {:?}; missing comments \
             on issues: {:?}; invited more than once: {:?}; answered more than once: {:?}; \
             refused redeliveries: {:?}; bad stops: {:?}",
            self.seed,
            self.elapsed,
            self.kills,
            self.cuts,
            self.redelivered,
            self.duplicated_closes,
            self.missing_invites,
            self.missing_comments,
            self.duplicate_invite_addresses,
            self.duplicate_comment_issues,
            self.refused,
            self.bad_stops
        )
    }

    /// Duplicated invitations are allowed for crashes and cut SMTP connections only (each
    /// can fall between the SMTP server's acceptance and the commit); comments never.
    fn ok(&self) -> bool {
        self.lost == 0
            && self.duplicated_comments == 0
            && self.duplicated_invites <= self.kills + self.cuts
            && self.refused.is_empty()
            && self.bad_stops.is_empty()
    }
}

/// POSTs a signed delivery without panicking: the status, or why there is none.
async fn post_delivery(
    client: &reqwest::Client,
    base_url: &str,
    request: &LoopRequest,
) -> Result<u16, String> {
    client
        .post(format!("{base_url}/webhook"))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", &request.delivery)
        .header("X-Hub-Signature-256", sign(TEST_SECRET, &request.body))
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/044aadd")
        .body(request.body.clone())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

/// Invitations per address and comments per issue so far (cheap: no JSON parsing).
fn loop_counts(rig: &Rig) -> (HashMap<String, usize>, HashMap<u64, usize>) {
    let mut mails: HashMap<String, usize> = HashMap::new();
    for mail in rig.smtp.messages() {
        for to in mail.rcpt_to {
            *mails.entry(to).or_default() += 1;
        }
    }
    let mut comments: HashMap<u64, usize> = HashMap::new();
    for call in rig.comments_posted() {
        if let Some(n) = FakeRepo::number_in(&call.path) {
            *comments.entry(n).or_default() += 1;
        }
    }
    (mails, comments)
}

/// How often the loop looks whether the work is done: rarely enough that the test process
/// does not take the CPU the server needs.
const LOOP_POLL: Duration = Duration::from_millis(250);

/// Waits until every request has an invitation and a comment, or `timeout`.
async fn wait_done(rig: &Rig, requests: &[LoopRequest], timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let (mails, comments) = loop_counts(rig);
        if requests
            .iter()
            .all(|r| mails.contains_key(&r.email) && comments.contains_key(&r.issue))
        {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(LOOP_POLL.min(deadline - Instant::now())).await;
    }
}

/// Runs the loop (see the module docs and `scripts/fault-loop`) and returns what it counted.
async fn run_fault_loop(cfg: &FaultLoop) -> (LoopReport, String) {
    let started = Instant::now();
    let mut rng = XorShift::new(cfg.seed);
    let services = Services::start().await;
    let mut rig = services.launch().await;
    let mut report = LoopReport {
        seed: cfg.seed,
        ..LoopReport::default()
    };
    let mut all: Vec<LoopRequest> = Vec::new();

    for round in 0..cfg.rounds {
        let round_started = Instant::now();
        let redelivered_before = report.redelivered;
        if !rig.server.is_running() {
            rig.server.restart().await;
        }
        let flapper = rig.proxy.flap(rng.next_u64(), cfg.down_ms, cfg.up_ms);

        // This round's requests: distinct requesters and issues, opened on the repository.
        let batch: Vec<LoopRequest> = (0..cfg.requests)
            .map(|j| {
                let n = round * cfg.requests + j;
                let login = format!("member-{round}-{j}");
                let email = format!("member-{round}-{j}@example.org");
                let issue = rig.repo.join_issue(
                    10_000 + n as u64,
                    &login,
                    &format!("Member {round}-{j}"),
                    &email,
                );
                rig.repo.open(issue.clone());
                LoopRequest {
                    login,
                    email,
                    issue: 10_000 + n as u64,
                    delivery: new_delivery_id(),
                    body: opened_payload(&issue),
                }
            })
            .collect();
        all.extend(batch.iter().cloned());

        // The burst, with a SIGKILL after a random number of answers.
        let kill_after = rng.between(1, cfg.requests.saturating_sub(1).max(1) as u64) as usize;
        let queue = Arc::new(Mutex::new((0..batch.len()).collect::<VecDeque<usize>>()));
        let answers: Arc<Mutex<Vec<Option<u16>>>> = Arc::new(Mutex::new(vec![None; batch.len()]));
        let answered = Arc::new(AtomicUsize::new(0));
        let shared_batch = Arc::new(batch.clone());
        let base_url = rig.server.base_url();
        // The sender that gets the `kill_after`-th answer sends SIGKILL at once, while the
        // other deliveries are in flight (the harness reaps the process afterwards).
        let pid = libc::pid_t::try_from(rig.server.pid()).expect("pid fits in pid_t");
        let mut senders = Vec::new();
        for _ in 0..cfg.concurrency.max(1) {
            let (queue, answers, answered) = (queue.clone(), answers.clone(), answered.clone());
            let (batch, client, base_url) = (
                shared_batch.clone(),
                rig.server.client().clone(),
                base_url.clone(),
            );
            senders.push(tokio::spawn(async move {
                loop {
                    let Some(i) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let result = post_delivery(&client, &base_url, &batch[i]).await;
                    if let Ok(status) = result {
                        answers.lock().unwrap()[i] = Some(status);
                    }
                    if answered.fetch_add(1, Ordering::SeqCst) + 1 == kill_after {
                        // SAFETY: kill(2) has no memory-safety preconditions; `pid` is the
                        // server, our child, not reaped before `rig.server.kill()` below.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
            }));
        }
        for sender in senders {
            let _ = sender.await;
        }
        rig.server.kill(); // reaps it (SIGKILL again is harmless)
        report.kills += 1;
        rig.server.restart().await;

        // GitHub shows the deliveries without a 2xx as failed; redeliver them (same id).
        let answers = answers.lock().unwrap().clone();
        for (i, answer) in answers.iter().enumerate() {
            if matches!(answer, Some(200 | 202)) {
                continue;
            }
            report.redelivered += 1;
            let mut last = String::new();
            let mut poll = Poll::new(Duration::from_secs(10));
            while poll.next().await {
                match post_delivery(rig.server.client(), &rig.server.base_url(), &batch[i]).await {
                    Ok(200 | 202) => {
                        last.clear();
                        break;
                    }
                    Ok(status) => last = format!("{}: {status}", batch[i].delivery),
                    Err(err) => last = format!("{}: {err}", batch[i].delivery),
                }
            }
            if !last.is_empty() {
                report.refused.push(last);
            }
        }

        // SMTP keeps flapping a little longer, then stays up.
        tokio::time::sleep(Duration::from_millis(rng.between(0, 1500))).await;
        flapper.stop();

        let done = wait_done(&rig, &all, cfg.round_timeout).await;
        eprintln!(
            "fault loop: round {}/{}: SIGKILL after {kill_after} answer(s), {} redelivered, {} after {:.1?}",
            round + 1,
            cfg.rounds,
            report.redelivered - redelivered_before,
            if done {
                "all done so far"
            } else {
                "NOT all done"
            },
            round_started.elapsed()
        );
        let status = rig.server.stop().await;
        if !status.success() {
            report
                .bad_stops
                .push(format!("round {round}: exit {status}"));
        }
    }

    // The end: the server runs again until everything is done, then a bounded wait for stragglers.
    rig.server.restart().await;
    wait_done(&rig, &all, cfg.final_timeout).await;
    rig.settle(SETTLE).await;
    let (mails, comments) = loop_counts(&rig);
    let mut closes: HashMap<u64, usize> = HashMap::new();
    for call in rig.github.close_calls().await {
        *closes.entry(call.number).or_default() += 1;
    }
    for request in &all {
        let invites = mails.get(&request.email).copied().unwrap_or(0);
        let replies = comments.get(&request.issue).copied().unwrap_or(0);
        if invites == 0 {
            report.missing_invites.push(request.email.clone());
        }
        if replies == 0 {
            report.missing_comments.push(request.issue);
        }
        if invites == 0 || replies == 0 {
            report.lost += 1;
        }
        report.duplicated_invites += invites.saturating_sub(1);
        report.duplicated_comments += replies.saturating_sub(1);
        if invites > 1 {
            report
                .duplicate_invite_addresses
                .push(request.email.clone());
        }
        if replies > 1 {
            report.duplicate_comment_issues.push(request.issue);
        }
        report.duplicated_closes += closes
            .get(&request.issue)
            .copied()
            .unwrap_or(0)
            .saturating_sub(1);
    }
    let status = rig.server.stop().await;
    if !status.success() {
        report.bad_stops.push(format!("final: exit {status}"));
    }
    report.rounds = cfg.rounds;
    report.requests = all.len();
    report.cuts = rig.proxy.cut();
    report.elapsed = started.elapsed();

    // For a failure message (the whole log of a long loop is very large): the log lines about
    // the requests that went wrong, and the log's tail.
    let lines = rig.server.log_lines();
    let wrong: Vec<&LoopRequest> = all
        .iter()
        .filter(|r| {
            report.missing_invites.contains(&r.email)
                || report.missing_comments.contains(&r.issue)
                || report.duplicate_invite_addresses.contains(&r.email)
                || report.duplicate_comment_issues.contains(&r.issue)
        })
        .take(5)
        .collect();
    let mut diagnostics = String::new();
    for request in wrong {
        let needles = [
            format!("issue={}", request.issue),
            format!("#{}\"", request.issue),
            format!("member={}", request.login.to_lowercase()),
            request.delivery.clone(),
        ];
        let about: Vec<&str> = lines
            .iter()
            .filter(|l| {
                needles.iter().any(|n| {
                    l.match_indices(n.as_str())
                        .any(|(at, _)| !l[at + n.len()..].starts_with(|c: char| c.is_ascii_digit()))
                })
            })
            .map(String::as_str)
            .collect();
        diagnostics.push_str(&format!(
            "--- server log lines about issue #{} ({}, first delivery {}) ---\n{}\n",
            request.issue,
            request.login,
            request.delivery,
            about.join("\n")
        ));
    }
    diagnostics.push_str(&format!(
        "--- last 200 server log lines ---\n{}",
        lines[lines.len().saturating_sub(200)..].join("\n")
    ));
    (report, diagnostics)
}

async fn check_fault_loop(cfg: FaultLoop) {
    let (report, diagnostics) = run_fault_loop(&cfg).await;
    assert!(
        report.ok(),
        "{}\n{}\n(allowed duplicated invites: kills + cut SMTP connections = {})\n{diagnostics}",
        report.summary(),
        report.details(),
        report.kills + report.cuts
    );
    println!("{}", report.summary());
    println!("{}", report.details());
}

/// The fault loop, small: 2 rounds of 10 requests.
#[tokio::test]
async fn fault_loop_small() {
    let mut cfg = FaultLoop::from_env();
    cfg.rounds = 2;
    cfg.requests = 10;
    cfg.concurrency = 4;
    cfg.round_timeout = Duration::from_secs(8);
    cfg.final_timeout = Duration::from_secs(10);
    check_fault_loop(cfg).await;
}

/// The full fault loop (`scripts/fault-loop`; `FAULT_LOOP_ROUNDS`, default 20,
/// `FAULT_LOOP_REQUESTS`, default 50, `FAULT_LOOP_SEED`, ...).
#[tokio::test]
#[ignore = "long; run with scripts/fault-loop"]
async fn fault_loop() {
    check_fault_loop(FaultLoop::from_env()).await;
}

#[tokio::test]
async fn metrics_count_what_happened() {
    let app = App::start().await;
    app.server
        .deliver("issues", &fixture("issues.opened.join-request.json"))
        .await;
    app.server.deliver("ping", &fixture("ping.json")).await;
    app.server
        .post_webhook("ping", &new_delivery_id(), b"{}", Some("sha256=00".into()))
        .await;
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
    // GitHub answered the close; the outbox row is marked done right after, on the worker.
    let mut poll = Poll::new(DEFAULT_WAIT);
    let mut metrics = String::new();
    while poll.next().await {
        let (status, text) = app.server.admin_get("/metrics").await;
        assert_eq!(status, StatusCode::OK);
        metrics = text;
        if metrics.lines().any(|l| l == "invitebot_outbox_depth 0") {
            break;
        }
    }
    for line in [
        "invitebot_deliveries_total{event=\"issues\",outcome=\"queued\"} 1",
        "invitebot_deliveries_total{event=\"ping\",outcome=\"ignored\"} 1",
        "invitebot_signature_failures_total 1",
        "invitebot_sends_total{kind=\"mail\",result=\"ok\"} 1",
        "invitebot_sends_total{kind=\"comment\",result=\"ok\"} 1",
        "invitebot_sends_total{kind=\"close\",result=\"ok\"} 1",
        "invitebot_jobs_total{outcome=\"invited\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }
    assert!(metrics.contains("invitebot_outbox_depth 0"), "{metrics}");
    let (status, body) = app.server.admin_get("/readyz").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
}
