//! GitHub App authentication, end to end: the real binary configured with an App id and a
//! (test-only) private key, against a wiremock GitHub that answers the App endpoints. The server
//! must sign a JWT with the key, find the repository's installation, trade the JWT for an
//! installation token, use that token on the repository calls, keep it while it is valid, fetch a
//! new one when it is about to expire, and never log any of it.

use crate::common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde::Deserialize;
use std::path::PathBuf;
use wiremock::Request;

const JOIN: &str = "issues.opened.join-request.json";
const REPO: &str = "Codertocat/Hello-World";
const APP_ID: u64 = 12345;
const INSTALLATION: u64 = 42;
const INSTALLATION_TOKEN: &str = "ghs_test0123456789installationtoken";

fn fixture_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github-app")
        .join(name)
}

fn private_key_path() -> PathBuf {
    fixture_file("TEST-ONLY-app-private-key.pem")
}

fn private_key_text() -> String {
    std::fs::read_to_string(private_key_path()).unwrap()
}

/// The claims octocrab puts in the App's JWT.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: serde_json::Value,
    iat: i64,
    exp: i64,
}

/// Checks that `request` is authenticated as the App: `Bearer <JWT>`, RS256, signed with the
/// test key, issued by [`APP_ID`], valid for at most ten minutes. Returns the JWT.
fn assert_app_jwt(request: &Request) -> String {
    let authorization = GitHubMock::authorization(request);
    let jwt = authorization
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a bearer token: {authorization:?}"));
    let public_key = std::fs::read(fixture_file("TEST-ONLY-app-public-key.pem")).unwrap();
    let key = DecodingKey::from_rsa_pem(&public_key).unwrap();
    // octocrab writes `iss` as a number, which jsonwebtoken's own `iss` check can't read: it is
    // checked below.
    let validation = Validation::new(Algorithm::RS256);
    let claims = jsonwebtoken::decode::<Claims>(jwt, &key, &validation)
        .unwrap_or_else(|e| panic!("the JWT does not verify with the App's public key: {e}"))
        .claims;
    assert_eq!(claims.iss.to_string().trim_matches('"'), APP_ID.to_string());
    assert!(
        claims.exp - claims.iat <= 600,
        "GitHub refuses JWTs valid for more than 10 minutes: {claims:?}"
    );
    jwt.to_string()
}

/// A server authenticated as the App (no token), its mock answering the installation lookup for
/// [`REPO`] and token requests with a token expiring at `expires_at`.
async fn start_as_app(expires_at: &str) -> App {
    start_as_app_with(mock_with_app(expires_at).await).await
}

/// A GitHub mock where the App is installed on [`REPO`], its tokens expiring at `expires_at`.
async fn mock_with_app(expires_at: &str) -> GitHubMock {
    let github = GitHubMock::start_with_defaults().await;
    github
        .mount_app_installation(REPO, INSTALLATION, APP_ID)
        .await;
    github
        .mount_installation_token(INSTALLATION, INSTALLATION_TOKEN, expires_at)
        .await;
    // The lookup of the configured repository at start, with the installation's token.
    github.mount_repository(REPO, 186853002, REPO).await;
    github
}

/// A server authenticated as the App (no token) against `github`.
async fn start_as_app_with(github: GitHubMock) -> App {
    let smtp = SmtpSink::start();
    let mut opts = ServerOptions::new(&github, &smtp);
    opts.token = None;
    // Every level, octocrab's and hyper's included: no credential may show at any.
    opts.rust_log = "trace".into();
    opts.env = vec![
        ("INVITEBOT_GITHUB_APP_ID".into(), APP_ID.to_string()),
        (
            "INVITEBOT_GITHUB_APP_KEY_FILE".into(),
            private_key_path().display().to_string(),
        ),
    ];
    let server = TestServer::start(opts).await;
    App {
        github,
        smtp,
        server,
    }
}

/// Delivers the join request and waits until the issue was closed (the last reply).
async fn join_and_wait_for_the_replies(app: &App) {
    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_close_call, 1).await;
}

/// The key, the JWTs and the installation token appear nowhere in the server log.
async fn assert_log_has_no_credentials(app: &App, jwts: &[String]) {
    let logs = app.server.logs();
    assert!(
        logs.contains("TRACE"),
        "the log is not at trace level:\n{logs}"
    );
    let key = private_key_text();
    let key_line = key.lines().nth(5).unwrap();
    for needle in [INSTALLATION_TOKEN, "BEGIN RSA PRIVATE KEY", key_line]
        .into_iter()
        .chain(jwts.iter().map(String::as_str))
    {
        app.server.assert_log_lacks(needle);
    }
}

#[tokio::test]
async fn the_app_trades_a_signed_jwt_for_an_installation_token_and_replies_with_it() {
    let app = start_as_app("2099-01-01T00:00:00Z").await;
    join_and_wait_for_the_replies(&app).await;

    let comments = app.github.comments().await;
    assert_eq!(
        comments.len(),
        1,
        "{}",
        app.github.describe_requests().await
    );

    // The installation is looked up once, as the App.
    let lookups = app
        .github
        .requests_matching(GitHubMock::is_installation_lookup)
        .await;
    assert_eq!(lookups.len(), 1, "{}", app.github.describe_requests().await);
    assert_eq!(
        lookups[0].url.path(),
        "/repos/Codertocat/Hello-World/installation"
    );
    let mut jwts = vec![assert_app_jwt(&lookups[0])];

    // One token for all the repository calls (catch-up, comment check, comment, labels, close).
    let token_requests = app
        .github
        .requests_matching(GitHubMock::is_token_request)
        .await;
    assert_eq!(
        token_requests.len(),
        1,
        "{}",
        app.github.describe_requests().await
    );
    assert_eq!(
        token_requests[0].url.path(),
        format!("/app/installations/{INSTALLATION}/access_tokens")
    );
    jwts.push(assert_app_jwt(&token_requests[0]));

    let repo_calls = app.github.requests_matching(GitHubMock::is_repo_call).await;
    assert!(
        repo_calls.len() >= 4,
        "{}",
        app.github.describe_requests().await
    );
    for call in &repo_calls {
        assert_eq!(
            GitHubMock::authorization(call),
            format!("Bearer {INSTALLATION_TOKEN}"),
            "{} {}",
            call.method,
            call.url.path()
        );
    }
    assert!(repo_calls.iter().any(GitHubMock::is_comment));
    assert_log_has_no_credentials(&app, &jwts).await;
}

#[tokio::test]
async fn a_token_about_to_expire_is_replaced_before_the_next_call() {
    // Valid for 10 more seconds: less than octocrab's 30-second margin, so every call needs a
    // fresh token (octocrab may ask twice per call: when we check the token before the call, and
    // again when it sends the call); the installation itself is still looked up once.
    let expires_at = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(10))
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let app = start_as_app(&expires_at).await;
    join_and_wait_for_the_replies(&app).await;

    let requests = app.github.requests().await;
    let mut repo_calls = 0;
    let mut fresh_tokens = 0;
    for request in &requests {
        if GitHubMock::is_token_request(request) {
            fresh_tokens += 1;
        } else if GitHubMock::is_repo_call(request) {
            assert!(
                fresh_tokens > 0,
                "{} {} reused a token about to expire:\n{}",
                request.method,
                request.url.path(),
                app.github.describe_requests().await
            );
            assert_eq!(
                GitHubMock::authorization(request),
                format!("Bearer {INSTALLATION_TOKEN}")
            );
            repo_calls += 1;
            fresh_tokens = 0;
        }
    }
    assert!(repo_calls >= 4, "{}", app.github.describe_requests().await);
    let lookups = app
        .github
        .requests_matching(GitHubMock::is_installation_lookup)
        .await;
    assert_eq!(lookups.len(), 1, "{}", app.github.describe_requests().await);
    let jwts: Vec<String> = requests
        .iter()
        .filter(|r| GitHubMock::is_token_request(r))
        .map(assert_app_jwt)
        .collect();
    assert_log_has_no_credentials(&app, &jwts).await;
}

#[tokio::test]
async fn a_repository_without_the_app_gets_no_reply_and_no_token() {
    // The App is installed nowhere: the installation lookup is a 404 (wiremock's default).
    let app = start_as_app_with(GitHubMock::start_with_defaults().await).await;
    let (status, _) = app.server.deliver("issues", &fixture(JOIN)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    app.wait_for_github(GitHubMock::is_installation_lookup, 2)
        .await;
    app.server
        .wait_until("the installation error in the log", DEFAULT_WAIT, || {
            app.server
                .logs()
                .contains("is the GitHub App installed there?")
                .then_some(())
        })
        .await;
    assert!(app.github.comments().await.is_empty());
    assert!(
        app.github
            .requests_matching(GitHubMock::is_token_request)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn an_installation_github_no_longer_knows_is_looked_up_again() {
    // The first token request says the installation is gone (the App was reinstalled): the next
    // call asks again which installation covers the repository, and goes through.
    let github = GitHubMock::start_with_defaults().await;
    github
        .mount_error(
            "POST",
            r"^/app/installations/\d+/access_tokens$",
            404,
            Some(1),
        )
        .await;
    github
        .mount_app_installation(REPO, INSTALLATION, APP_ID)
        .await;
    github
        .mount_installation_token(INSTALLATION, INSTALLATION_TOKEN, "2099-01-01T00:00:00Z")
        .await;
    let app = start_as_app_with(github).await;
    // The catch-up at start meets the 404.
    app.wait_for_github(GitHubMock::is_token_request, 1).await;
    join_and_wait_for_the_replies(&app).await;

    let lookups = app
        .github
        .requests_matching(GitHubMock::is_installation_lookup)
        .await;
    assert_eq!(lookups.len(), 2, "{}", app.github.describe_requests().await);
    assert_eq!(app.github.comments().await.len(), 1);
}

#[tokio::test]
async fn profiles_are_read_with_an_installation_token() {
    let app = start_as_app("2099-01-01T00:00:00Z").await;
    // No address in the issue: the bot looks at the requester's public profile.
    let join = fixture_with(JOIN, |v| {
        v["issue"]["body"] = serde_json::Value::from("Please add me to the meeting.")
    });
    let (status, _) = app.server.deliver("issues", &join).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let lookups = app.wait_for_github(GitHubMock::is_user_lookup, 1).await;
    assert_eq!(
        GitHubMock::authorization(&lookups[0]),
        format!("Bearer {INSTALLATION_TOKEN}")
    );
}

/// Environment variables for the server.
type Vars<'a> = Vec<(&'a str, &'a str)>;

/// `invitebot check` with the App configured by `env` (and the token of the harness unless
/// `token`): (exit code, stderr).
async fn check_with(env: &[(&str, &str)], token: bool) -> (i32, String) {
    let ws = Workspace::new(ServerOptions {
        token: token.then(|| TEST_TOKEN.to_string()),
        ..ServerOptions::default()
    });
    let (code, _, stderr) = ws.cli(&["check"], env).await;
    (code, stderr)
}

#[tokio::test]
async fn the_key_file_is_checked_when_the_config_is_loaded() {
    let key = private_key_path().display().to_string();
    let public = fixture_file("TEST-ONLY-app-public-key.pem")
        .display()
        .to_string();
    let id = APP_ID.to_string();
    let cases: Vec<(Vars, bool, &str)> = vec![
        (
            vec![
                ("INVITEBOT_GITHUB_APP_ID", &id),
                ("INVITEBOT_GITHUB_APP_KEY_FILE", "/nonexistent/app.pem"),
            ],
            false,
            "INVITEBOT_GITHUB_APP_KEY_FILE = the GitHub App key file /nonexistent/app.pem: cannot read it",
        ),
        (
            vec![
                ("INVITEBOT_GITHUB_APP_ID", &id),
                ("INVITEBOT_GITHUB_APP_KEY_FILE", &public),
            ],
            false,
            "is not an RSA private key in PEM format",
        ),
        (
            vec![("INVITEBOT_GITHUB_APP_ID", &id)],
            false,
            "`app_key_file` is missing",
        ),
        (
            vec![
                ("INVITEBOT_GITHUB_APP_ID", "app-12345"),
                ("INVITEBOT_GITHUB_APP_KEY_FILE", &key),
            ],
            false,
            "must be the App's numeric id",
        ),
        (
            vec![
                ("INVITEBOT_GITHUB_APP_ID", &id),
                ("INVITEBOT_GITHUB_APP_KEY_FILE", &key),
            ],
            true,
            "both INVITEBOT_GITHUB_TOKEN and a GitHub App",
        ),
    ];
    let key_text = private_key_text();
    let key_line = key_text.lines().nth(5).unwrap();
    for (env, token, expected) in cases {
        let (code, stderr) = check_with(&env, token).await;
        assert_ne!(code, 0, "{env:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{env:?}: expected {expected:?} in\n{stderr}"
        );
        assert!(stderr.contains("invitebot.toml"), "not located: {stderr}");
        assert!(
            !stderr.contains(key_line) && !stderr.contains("MII"),
            "{stderr}"
        );
    }
    // The App alone is fine; so is the App with the generic GITHUB_TOKEN (the App wins).
    let good = [
        ("INVITEBOT_GITHUB_APP_ID", id.as_str()),
        ("INVITEBOT_GITHUB_APP_KEY_FILE", key.as_str()),
        ("GITHUB_TOKEN", "ghp_from_ci"),
    ];
    let (code, stderr) = check_with(&good, false).await;
    assert_eq!(code, 0, "{stderr}");
}

#[tokio::test]
async fn the_app_can_be_configured_in_the_file_and_its_errors_are_located() {
    let ws = Workspace::new(ServerOptions {
        token: None,
        ..ServerOptions::default()
    });
    let config = ws.config_text();
    let with_app = |key_file: &str| {
        let app = format!("[github]\napp_id = {APP_ID}\napp_key_file = \"{key_file}\"\n");
        config.replacen("[github]\n", &app, 1)
    };
    let line = with_app("x")
        .lines()
        .position(|l| l.starts_with("app_key_file"))
        .unwrap()
        + 1;

    // Relative to the config's folder.
    std::fs::copy(private_key_path(), ws.root().join("app.pem")).unwrap();
    ws.write_config(&with_app("app.pem"));
    let (code, _, stderr) = ws.cli(&["check"], &[]).await;
    assert_eq!(code, 0, "{stderr}");

    ws.write_config(&with_app("missing.pem"));
    let (code, _, stderr) = ws.cli(&["check"], &[]).await;
    assert_ne!(code, 0);
    assert!(
        stderr.contains(&format!("invitebot.toml:{line}:")) && stderr.contains("missing.pem"),
        "expected the error at line {line}:\n{stderr}"
    );
}
