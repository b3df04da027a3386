//! A wiremock stand-in for the GitHub REST API.
//!
//! [`GitHubMock::mount_defaults`] answers the calls invitebot makes, for any
//! owner, repository and issue number, with bodies complete enough for
//! octocrab 0.54's models (field values taken from the webhook fixtures):
//!
//! | request | answer |
//! |---|---|
//! | `GET /users/{login}` | 200, a public profile with no name and no email |
//! | `GET /repos/{o}/{r}/issues/{n}` | 200, the fixture issue, open |
//! | `POST /repos/{o}/{r}/issues/{n}/comments` | 201, a comment echoing the posted body |
//! | `GET /repos/{o}/{r}/issues/{n}/comments` | 200, the comments posted so far on that issue |
//! | `GET /repos/{o}/{r}/issues` | 200, `[]` (no open issues for catch-up) |
//! | `POST /repos/{o}/{r}/issues/{n}/labels` | 200, one label object per posted name |
//! | `PATCH /repos/{o}/{r}/issues/{n}` | 200, the issue with the posted `state`, `labels`, ... applied |
//!
//! Anything else gets wiremock's 404. Overrides ([`GitHubMock::mount_user`],
//! [`GitHubMock::mount_error`]) are mounted with a higher priority than the
//! defaults, so they win whatever the mounting order; among overrides of the
//! same priority, the one mounted first wins.

use super::LeakWatch;
use regex::Regex;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

const ISSUE_PATH: &str = r"^/repos/([^/]+)/([^/]+)/issues/(\d+)$";
const COMMENTS_PATH: &str = r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$";
const LABELS_PATH: &str = r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/labels$";
const USER_PATH: &str = r"^/users/([^/]+)$";

const DEFAULT_PRIORITY: u8 = 10;
const OVERRIDE_PRIORITY: u8 = 1;

/// The login the mock uses as the author of the bot's comments.
pub const BOT_LOGIN: &str = "invitebot[bot]";
const TIMESTAMP: &str = "2024-05-01T12:00:00Z";

/// A recorded call on one issue: where it went and the JSON it carried.
#[derive(Clone, Debug, PartialEq)]
pub struct IssueCall {
    pub owner: String,
    pub repo: String,
    pub number: u64,
    /// The request body as JSON (`Value::Null` if it was empty or not JSON).
    pub body: Value,
}

impl IssueCall {
    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// For comments: the posted `body` string ("" if absent).
    pub fn text(&self) -> String {
        self.body["body"].as_str().unwrap_or_default().to_string()
    }

    /// For label calls: the posted label names.
    pub fn labels(&self) -> Vec<String> {
        self.body["labels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A wiremock `MockServer` on `127.0.0.1:<random port>` posing as api.github.com.
pub struct GitHubMock {
    server: MockServer,
    leaks: LeakWatch,
}

impl GitHubMock {
    /// Starts a fresh (not pooled) mock server with nothing mounted but the
    /// recorder of comment bodies for the leak scan (see [`LeakWatch`]).
    pub async fn start() -> GitHubMock {
        let mock = GitHubMock {
            server: MockServer::builder().start().await,
            leaks: LeakWatch::default(),
        };
        // Mounted first with the highest priority, so it sees every request;
        // it never matches, so the other mocks answer.
        Mock::given(RecordComments(mock.leaks.clone()))
            .respond_with(ResponseTemplate::new(500))
            .with_priority(OVERRIDE_PRIORITY)
            .named("leak scan: records comment bodies, never matches")
            .mount(&mock.server)
            .await;
        mock
    }

    /// What must not leak in this test: the mock adds the addresses of the
    /// profiles it serves and records every comment body it receives.
    pub fn leak_watch(&self) -> &LeakWatch {
        &self.leaks
    }

    /// Starts a mock server and mounts [`Self::mount_defaults`].
    pub async fn start_with_defaults() -> GitHubMock {
        let mock = GitHubMock::start().await;
        mock.mount_defaults().await;
        mock
    }

    /// `http://127.0.0.1:PORT`, for the config's `github.api_url`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The wiremock server, to mount custom mocks.
    pub fn server(&self) -> &MockServer {
        &self.server
    }

    /// Mounts the realistic default answers listed in the module docs.
    pub async fn mount_defaults(&self) {
        let api = self.uri();
        let comment_ids = Arc::new(AtomicU64::new(1_900_000_001));
        Mock::given(method("GET"))
            .and(path_regex(USER_PATH))
            .respond_with(ProfileResponder {
                api: api.clone(),
                fixed: None,
            })
            .with_priority(DEFAULT_PRIORITY)
            .named("default GET /users/{login}")
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(ISSUE_PATH))
            .respond_with(IssueResponder { api: api.clone() })
            .with_priority(DEFAULT_PRIORITY)
            .named("default GET issue")
            .mount(&self.server)
            .await;
        Mock::given(method("PATCH"))
            .and(path_regex(ISSUE_PATH))
            .respond_with(IssueResponder { api: api.clone() })
            .with_priority(DEFAULT_PRIORITY)
            .named("default PATCH issue")
            .mount(&self.server)
            .await;
        let posted = PostedComments::default();
        Mock::given(method("POST"))
            .and(path_regex(COMMENTS_PATH))
            .respond_with(CommentResponder {
                api: api.clone(),
                next_id: comment_ids,
                posted: posted.clone(),
            })
            .with_priority(DEFAULT_PRIORITY)
            .named("default POST comment")
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(COMMENTS_PATH))
            .respond_with(CommentListResponder { posted })
            .with_priority(DEFAULT_PRIORITY)
            .named("default GET comments")
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+/issues$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .with_priority(DEFAULT_PRIORITY)
            .named("default GET issues (catch-up: none open)")
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/[^/]+/[^/]+/issues/comments$"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .with_priority(DEFAULT_PRIORITY)
            .named("default GET issue comments (catch-up: no commands)")
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(LABELS_PATH))
            .respond_with(LabelsResponder { api })
            .with_priority(DEFAULT_PRIORITY)
            .named("default POST labels")
            .mount(&self.server)
            .await;
    }

    /// Answers `GET /users/{login}` with a public profile carrying this name
    /// and email (`None` → `null`, as GitHub shows a hidden email).
    pub async fn mount_user(&self, login: &str, name: Option<&str>, email: Option<&str>) {
        if let Some(email) = email {
            self.leaks.address(email);
        }
        let fixed = (name.map(str::to_string), email.map(str::to_string));
        Mock::given(method("GET"))
            .and(path(format!("/users/{login}")))
            .respond_with(ProfileResponder {
                api: self.uri(),
                fixed: Some(fixed),
            })
            .with_priority(OVERRIDE_PRIORITY)
            .named(format!("GET /users/{login}"))
            .mount(&self.server)
            .await;
    }

    /// Answers requests of `http_method` whose path matches `path_pattern` (a
    /// regex, e.g. `r"/issues/\d+/comments$"`) with `status` and a GitHub-style
    /// error body, for at most `times` requests (`None`: always). Takes
    /// priority over the defaults; once used up, the defaults answer again.
    /// `times` counts attempts: octocrab's default retry config repeats a
    /// request that got a 5xx, so a client without `RetryConfig::None` uses
    /// up several per call.
    pub async fn mount_error(
        &self,
        http_method: &str,
        path_pattern: &str,
        status: u16,
        times: Option<u64>,
    ) {
        let body = json!({
            "message": format!("mocked failure ({status})"),
            "documentation_url": "https://docs.github.com/rest",
            "status": status.to_string(),
        });
        let mut mock = Mock::given(method(http_method))
            .and(path_regex(path_pattern))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .with_priority(OVERRIDE_PRIORITY)
            .named(format!("error {status} for {http_method} {path_pattern}"));
        if let Some(n) = times {
            mock = mock.up_to_n_times(n);
        }
        mock.mount(&self.server).await;
    }

    /// Every request received so far, in order.
    pub async fn requests(&self) -> Vec<Request> {
        self.server
            .received_requests()
            .await
            .expect("request recording is on")
    }

    /// The requests matching `pred`.
    pub async fn requests_matching(&self, pred: impl Fn(&Request) -> bool) -> Vec<Request> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| pred(r))
            .collect()
    }

    /// `POST .../issues/{n}/comments` calls, in order.
    pub async fn comments(&self) -> Vec<IssueCall> {
        self.issue_calls(Self::is_comment).await
    }

    /// `POST .../issues/{n}/labels` calls, in order.
    pub async fn label_calls(&self) -> Vec<IssueCall> {
        self.issue_calls(Self::is_label_call).await
    }

    /// `PATCH .../issues/{n}` calls whose body sets `"state": "closed"`.
    pub async fn close_calls(&self) -> Vec<IssueCall> {
        self.issue_calls(Self::is_close_call).await
    }

    /// Logins looked up with `GET /users/{login}`, in order.
    pub async fn user_lookups(&self) -> Vec<String> {
        self.requests_matching(Self::is_user_lookup)
            .await
            .iter()
            .filter_map(|r| captures(&USER_RE, r.url.path()).map(|c| c[0].clone()))
            .collect()
    }

    /// Calls that change something (anything but GET/HEAD).
    pub async fn writes(&self) -> Vec<Request> {
        self.requests_matching(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
            .await
    }

    async fn issue_calls(&self, pred: fn(&Request) -> bool) -> Vec<IssueCall> {
        self.requests_matching(pred)
            .await
            .iter()
            .filter_map(issue_call)
            .collect()
    }

    /// Waits until at least `count` recorded requests match `pred`; `Err`
    /// lists every request received when `timeout` passes first.
    pub async fn try_wait_for_requests(
        &self,
        pred: impl Fn(&Request) -> bool,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Request>, String> {
        let mut poll = super::Poll::new(timeout);
        while poll.next().await {
            let matching = self.requests_matching(&pred).await;
            if matching.len() >= count {
                return Ok(matching);
            }
        }
        Err(format!(
            "GitHub mock {}: expected at least {count} matching request(s) within {timeout:?}, got {}.\n{}",
            self.uri(),
            self.requests_matching(&pred).await.len(),
            self.describe_requests().await
        ))
    }

    /// Like [`Self::try_wait_for_requests`] but panics on timeout. Use
    /// [`super::TestServer::wait_for_github`] to get the server log in the panic too.
    pub async fn wait_for_requests(
        &self,
        pred: impl Fn(&Request) -> bool,
        count: usize,
        timeout: Duration,
    ) -> Vec<Request> {
        match self.try_wait_for_requests(pred, count, timeout).await {
            Ok(found) => found,
            Err(why) => panic!("{why}"),
        }
    }

    /// One line per received request (method, path, body), for failure messages.
    pub async fn describe_requests(&self) -> String {
        let requests = self.requests().await;
        if requests.is_empty() {
            return "  (no requests received)".to_string();
        }
        requests
            .iter()
            .map(|r| {
                let body = String::from_utf8_lossy(&r.body);
                let body: String = body.chars().take(300).collect();
                format!("  {} {} {}", r.method, r.url.path(), body)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    // Request predicates, usable with `wait_for_requests`.

    /// `POST /repos/{o}/{r}/issues/{n}/comments`.
    pub fn is_comment(r: &Request) -> bool {
        r.method.as_str() == "POST" && COMMENTS_RE.is_match(r.url.path())
    }

    /// `POST /repos/{o}/{r}/issues/{n}/labels`.
    pub fn is_label_call(r: &Request) -> bool {
        r.method.as_str() == "POST" && LABELS_RE.is_match(r.url.path())
    }

    /// `PATCH /repos/{o}/{r}/issues/{n}` (any change).
    pub fn is_issue_update(r: &Request) -> bool {
        r.method.as_str() == "PATCH" && ISSUE_RE.is_match(r.url.path())
    }

    /// `PATCH /repos/{o}/{r}/issues/{n}` with `"state": "closed"` in the body.
    pub fn is_close_call(r: &Request) -> bool {
        Self::is_issue_update(r)
            && serde_json::from_slice::<Value>(&r.body).is_ok_and(|b| b["state"] == "closed")
    }

    /// `GET /users/{login}`.
    pub fn is_user_lookup(r: &Request) -> bool {
        r.method.as_str() == "GET" && USER_RE.is_match(r.url.path())
    }
}

static ISSUE_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(ISSUE_PATH).unwrap());
static COMMENTS_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(COMMENTS_PATH).unwrap());
static LABELS_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(LABELS_PATH).unwrap());
static USER_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(USER_PATH).unwrap());

/// The capture groups of `re` in `path`, or `None` if it does not match.
fn captures(re: &Regex, path: &str) -> Option<Vec<String>> {
    let caps = re.captures(path)?;
    Some(
        caps.iter()
            .skip(1)
            .map(|m| m.map_or("", |m| m.as_str()).to_string())
            .collect(),
    )
}

/// (owner, repo, number) of an issue-scoped path.
fn issue_ref(path: &str) -> Option<(String, String, u64)> {
    [&ISSUE_RE, &COMMENTS_RE, &LABELS_RE]
        .into_iter()
        .find_map(|re| {
            let c = captures(re, path)?;
            Some((c[0].clone(), c[1].clone(), c[2].parse().ok()?))
        })
}

fn issue_call(r: &Request) -> Option<IssueCall> {
    let (owner, repo, number) = issue_ref(r.url.path())?;
    let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    Some(IssueCall {
        owner,
        repo,
        number,
        body,
    })
}

fn request_json(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// A stable fake numeric id for a name.
fn fake_id(name: &str) -> u64 {
    name.bytes().fold(1_000_003u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 900_000_000
        + 100_000
}

/// The `user` object GitHub puts in issues and comments (octocrab's `Author`),
/// shaped like the fixture's `Codertocat`.
pub fn author_json(api: &str, login: &str, user_type: &str) -> Value {
    let id = if login == "Codertocat" {
        21031067
    } else {
        fake_id(login)
    };
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_kgDO{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("{api}/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": user_type,
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// A public profile (`GET /users/{login}`, octocrab's `UserProfile`).
pub fn profile_json(api: &str, login: &str, name: Option<&str>, email: Option<&str>) -> Value {
    let user_type = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    let mut profile = author_json(api, login, user_type);
    let extra = json!({
        "name": name,
        "company": null,
        "blog": "",
        "location": null,
        "email": email,
        "hireable": null,
        "bio": null,
        "twitter_username": null,
        "public_repos": 2,
        "public_gists": 1,
        "followers": 20,
        "following": 0,
        "created_at": "2016-08-12T19:47:03Z",
        "updated_at": TIMESTAMP,
    });
    profile
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    profile
}

/// A label object (octocrab's `Label`).
pub fn label_json(api: &str, owner: &str, repo: &str, name: &str) -> Value {
    let id = fake_id(name);
    json!({
        "id": id,
        "node_id": format!("LA_kwDO{id}"),
        "url": format!("{api}/repos/{owner}/{repo}/labels/{}", name.replace(' ', "%20")),
        "name": name,
        "description": null,
        "color": "ededed",
        "default": false,
    })
}

/// An issue object (octocrab's `Issue`) for `{owner}/{repo}#{number}`, built
/// from the join-request fixture's issue with the URLs pointed at the mock.
pub fn issue_json(api: &str, owner: &str, repo: &str, number: u64) -> Value {
    let mut issue = super::fixture_json("issues.opened.join-request.json")["issue"].take();
    let issue_api = format!("{api}/repos/{owner}/{repo}/issues/{number}");
    let fields = json!({
        "url": issue_api,
        "repository_url": format!("{api}/repos/{owner}/{repo}"),
        "labels_url": format!("{issue_api}/labels{{/name}}"),
        "comments_url": format!("{issue_api}/comments"),
        "events_url": format!("{issue_api}/events"),
        "html_url": format!("https://github.com/{owner}/{repo}/issues/{number}"),
        "number": number,
        "state": "open",
        "state_reason": null,
        "closed_at": null,
        "closed_by": null,
    });
    issue
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    issue
}

struct ProfileResponder {
    api: String,
    /// `Some((name, email))` for a mounted user; `None` for the default (no name, no email).
    fixed: Option<(Option<String>, Option<String>)>,
}

impl Respond for ProfileResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(c) = captures(&USER_RE, request.url.path()) else {
            return ResponseTemplate::new(404);
        };
        let (name, email) = self.fixed.clone().unwrap_or((None, None));
        ResponseTemplate::new(200).set_body_json(profile_json(
            &self.api,
            &c[0],
            name.as_deref(),
            email.as_deref(),
        ))
    }
}

struct IssueResponder {
    api: String,
}

impl Respond for IssueResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some((owner, repo, number)) = issue_ref(request.url.path()) else {
            return ResponseTemplate::new(404);
        };
        let mut issue = issue_json(&self.api, &owner, &repo, number);
        if request.method.as_str() == "PATCH" {
            let changes = request_json(request);
            for key in ["title", "body", "state", "state_reason"] {
                if let Some(v) = changes.get(key) {
                    issue[key] = v.clone();
                }
            }
            if let Some(labels) = changes.get("labels").and_then(Value::as_array) {
                issue["labels"] = labels
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|name| label_json(&self.api, &owner, &repo, name))
                    .collect();
            }
            if issue["state"] == "closed" {
                issue["closed_at"] = json!(TIMESTAMP);
                issue["closed_by"] = author_json(&self.api, BOT_LOGIN, "Bot");
                if issue["state_reason"].is_null() {
                    issue["state_reason"] = json!("completed");
                }
            }
            issue["updated_at"] = json!(TIMESTAMP);
        }
        ResponseTemplate::new(200).set_body_json(issue)
    }
}

/// Records the `body` of every comment written (created or edited) into a
/// [`LeakWatch`]; never matches.
struct RecordComments(LeakWatch);

impl Match for RecordComments {
    fn matches(&self, request: &Request) -> bool {
        let writes = matches!(request.method.as_str(), "POST" | "PATCH");
        if writes && request.url.path().contains("/comments") {
            let posted = request_json(request);
            match posted.get("body").and_then(Value::as_str) {
                Some(body) => self.0.comment(body),
                None => self.0.comment(&String::from_utf8_lossy(&request.body)),
            }
        }
        false
    }
}

/// The comments posted so far, by `owner/repo#number` (lowercased), so that
/// `GET .../comments` lists what `POST .../comments` accepted, as GitHub does.
type PostedComments = Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<Value>>>>;

fn issue_key(owner: &str, repo: &str, number: u64) -> String {
    format!("{owner}/{repo}#{number}").to_lowercase()
}

struct CommentResponder {
    api: String,
    next_id: Arc<AtomicU64>,
    posted: PostedComments,
}

/// `GET .../comments`: the comments posted on that issue, oldest first.
struct CommentListResponder {
    posted: PostedComments,
}

impl Respond for CommentListResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some((owner, repo, number)) = issue_ref(request.url.path()) else {
            return ResponseTemplate::new(404);
        };
        let comments = self
            .posted
            .lock()
            .unwrap()
            .get(&issue_key(&owner, &repo, number))
            .cloned()
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(Value::Array(comments))
    }
}

impl Respond for CommentResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some((owner, repo, number)) = issue_ref(request.url.path()) else {
            return ResponseTemplate::new(404);
        };
        let posted = request_json(request);
        let Some(body) = posted.get("body").and_then(Value::as_str) else {
            return ResponseTemplate::new(422).set_body_json(json!({
                "message": "Invalid request.\n\n\"body\" wasn't supplied.",
                "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
                "status": "422",
            }));
        };
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let api = &self.api;
        let comment = json!({
            "id": id,
            "node_id": format!("IC_kwDO{id}"),
            "url": format!("{api}/repos/{owner}/{repo}/issues/comments/{id}"),
            "html_url": format!("https://github.com/{owner}/{repo}/issues/{number}#issuecomment-{id}"),
            "issue_url": format!("{api}/repos/{owner}/{repo}/issues/{number}"),
            "body": body,
            "user": author_json(api, BOT_LOGIN, "Bot"),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "author_association": "NONE",
            "performed_via_github_app": null,
        });
        self.posted
            .lock()
            .unwrap()
            .entry(issue_key(&owner, &repo, number))
            .or_default()
            .push(comment.clone());
        ResponseTemplate::new(201).set_body_json(comment)
    }
}

struct LabelsResponder {
    api: String,
}

impl Respond for LabelsResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some((owner, repo, _)) = issue_ref(request.url.path()) else {
            return ResponseTemplate::new(404);
        };
        let posted = request_json(request);
        // GitHub accepts {"labels": [...]} or a bare array.
        let names = posted.get("labels").unwrap_or(&posted);
        let Some(names) = names.as_array() else {
            return ResponseTemplate::new(422).set_body_json(json!({
                "message": "Invalid request.\n\nNo labels given.",
                "documentation_url": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue",
                "status": "422",
            }));
        };
        let labels: Vec<Value> = names
            .iter()
            .filter_map(Value::as_str)
            .map(|name| label_json(&self.api, &owner, &repo, name))
            .collect();
        ResponseTemplate::new(200).set_body_json(labels)
    }
}

// ---------------------------------------------------------------------------
// GitHub App endpoints
// ---------------------------------------------------------------------------

const INSTALLATION_PATH: &str = r"^/repos/([^/]+)/([^/]+)/installation$";
const ACCESS_TOKENS_PATH: &str = r"^/app/installations/(\d+)/access_tokens$";

static INSTALLATION_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(INSTALLATION_PATH).unwrap());
static ACCESS_TOKENS_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(ACCESS_TOKENS_PATH).unwrap());

/// An installation object (`GET /repos/{o}/{r}/installation`, octocrab's `Installation`) for
/// App `app_id` installed on `owner`.
pub fn installation_json(api: &str, id: u64, app_id: u64, owner: &str) -> Value {
    json!({
        "id": id,
        "account": author_json(api, owner, "User"),
        "access_tokens_url": format!("{api}/app/installations/{id}/access_tokens"),
        "repositories_url": format!("{api}/installation/repositories"),
        "html_url": format!("https://github.com/settings/installations/{id}"),
        "app_id": app_id,
        "app_slug": "invitebot",
        "target_id": 21031067,
        "target_type": "User",
        "permissions": { "issues": "write", "metadata": "read" },
        "events": ["issues"],
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "single_file_name": null,
        "has_multiple_single_files": false,
        "single_file_paths": [],
        "repository_selection": "selected",
        "suspended_at": null,
        "suspended_by": null,
    })
}

impl GitHubMock {
    /// Answers `GET /repos/{owner}/{repo}/installation` (`full_name` is `owner/repo`) with
    /// installation `id` of App `app_id`.
    pub async fn mount_app_installation(&self, full_name: &str, id: u64, app_id: u64) {
        let owner = full_name.split('/').next().unwrap_or_default();
        Mock::given(method("GET"))
            .and(path(format!("/repos/{full_name}/installation")))
            .respond_with(ResponseTemplate::new(200).set_body_json(installation_json(
                &self.uri(),
                id,
                app_id,
                owner,
            )))
            .with_priority(OVERRIDE_PRIORITY)
            .named(format!("GET /repos/{full_name}/installation"))
            .mount(&self.server)
            .await;
    }

    /// Answers `POST /app/installations/{id}/access_tokens` with `token`, expiring at
    /// `expires_at` (RFC 3339, as GitHub writes it: `2024-05-01T13:00:00Z`).
    pub async fn mount_installation_token(&self, id: u64, token: &str, expires_at: &str) {
        let body = json!({
            "token": token,
            "expires_at": expires_at,
            "permissions": { "issues": "write", "metadata": "read" },
            "repository_selection": "selected",
        });
        Mock::given(method("POST"))
            .and(path(format!("/app/installations/{id}/access_tokens")))
            .respond_with(ResponseTemplate::new(201).set_body_json(body))
            .with_priority(OVERRIDE_PRIORITY)
            .named(format!("POST /app/installations/{id}/access_tokens"))
            .mount(&self.server)
            .await;
    }

    /// Answers `GET /repos/{asked}` as GitHub does: with the repository's id and its current
    /// name `full_name` (another name than `asked` after a rename).
    pub async fn mount_repository(&self, asked: &str, id: u64, full_name: &str) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        Mock::given(method("GET"))
            .and(path(format!("/repos/{asked}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": id,
                "name": name,
                "full_name": full_name,
                "private": false,
                "owner": { "login": owner, "type": "User" }
            })))
            .with_priority(OVERRIDE_PRIORITY)
            .named(format!("GET /repos/{asked}"))
            .mount(&self.server)
            .await;
    }

    /// `GET /repos/{o}/{r}/installation`.
    pub fn is_installation_lookup(r: &Request) -> bool {
        r.method.as_str() == "GET" && INSTALLATION_RE.is_match(r.url.path())
    }

    /// `POST /app/installations/{id}/access_tokens`.
    pub fn is_token_request(r: &Request) -> bool {
        r.method.as_str() == "POST" && ACCESS_TOKENS_RE.is_match(r.url.path())
    }

    /// Calls made with an installation's rights: on a repository (`/repos/...`), but not the
    /// App's own installation lookup.
    pub fn is_repo_call(r: &Request) -> bool {
        r.url.path().starts_with("/repos/") && !Self::is_installation_lookup(r)
    }

    /// The request's `Authorization` header ("" if absent).
    pub fn authorization(r: &Request) -> String {
        r.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}
