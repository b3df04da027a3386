//! What a failed GitHub API call says: the status and message, how long GitHub asked us to
//! wait, and whether trying again can help.

use std::time::Duration;

/// A failed GitHub API call.
#[derive(Debug, thiserror::Error)]
pub enum GitHubApiError {
    /// The API answered with an error status.
    #[error("GitHub answered {status} to {what}: {message}")]
    Status {
        /// What was attempted.
        what: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
        /// How long GitHub asked us to wait (`Retry-After`, or until the rate limit resets).
        retry_after: Option<Duration>,
    },
    /// The request did not get an answer (network, timeout, TLS) or the answer was unreadable.
    #[error("GitHub request failed ({what}): {detail}")]
    Transport {
        /// What was attempted.
        what: String,
        /// octocrab's error and its causes.
        detail: String,
    },
    /// The client could not be set up (bad `api_url`).
    #[error("cannot set up the GitHub client: {0}")]
    Setup(String),
}

impl GitHubApiError {
    /// Whether trying again can't help: the issue or repository is gone (404, 410) or GitHub
    /// refuses the request as invalid (422).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            GitHubApiError::Status {
                status: 404 | 410 | 422,
                ..
            }
        )
    }

    /// Whether the resource doesn't exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, GitHubApiError::Status { status: 404, .. })
    }

    /// How long GitHub asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GitHubApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The [`GitHubApiError`] for a failed call described by `what`.
pub(crate) fn api_error(what: String, error: octocrab::Error) -> GitHubApiError {
    match error {
        octocrab::Error::GitHub { source, .. } => GitHubApiError::Status {
            what,
            status: source.status_code.as_u16(),
            retry_after: retry_after(&source),
            message: source.message,
        },
        other => GitHubApiError::Transport {
            what,
            detail: error_chain(&other),
        },
    }
}

/// An error and its sources, one after the other. Not `{:?}`: octocrab's errors carry a
/// backtrace, and printing it loads the binary's debug information (tens of MB, kept for the life
/// of the process) and stalls the runtime.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// How long GitHub asks us to wait: `Retry-After` (seconds), or, when the rate limit is used up,
/// until it resets.
fn retry_after(error: &octocrab::GitHubError) -> Option<Duration> {
    let headers = error.headers.as_ref();
    let header = |name: &str| {
        headers
            .and_then(|h| h.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(seconds) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let reset = error
        .rate_limit_reset
        .or_else(|| header("x-ratelimit-reset").and_then(|v| v.parse().ok()))?;
    exhausted.then(|| {
        let now = jiff::Timestamp::now().as_second().max(0) as u64;
        Duration::from_secs(reset.saturating_sub(now).max(1))
    })
}
