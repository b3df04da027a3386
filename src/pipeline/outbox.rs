//! The outbox: replies on issues (comment, labels, close), each sent once by the worker, retried
//! with backoff while GitHub fails, given up (with the reason kept) when it never can succeed.

use serde::{Deserialize, Serialize};

use super::Pipeline;
use crate::core::identity::RepoName;
use crate::github::error::GitHubApiError;
use crate::store::{NewReply, ReplyRecord, StoreError};
use crate::telemetry::{SendKind, SendResult};

/// One write on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Reply {
    /// A comment.
    Comment {
        /// The Markdown body.
        body: String,
    },
    /// Labels to add.
    Labels {
        /// Their names.
        labels: Vec<String>,
    },
    /// Close the issue.
    Close,
    /// A label to take off (the approval label once a request is approved).
    RemoveLabel {
        /// Its name.
        label: String,
    },
}

impl Reply {
    fn kind(&self) -> &'static str {
        match self {
            Reply::Comment { .. } => "comment",
            Reply::Labels { .. } => "labels",
            Reply::Close => "close",
            Reply::RemoveLabel { .. } => "unlabel",
        }
    }

    /// The outbox row for this reply. A comment carries its row key as a hidden line, so that
    /// it can be found on the issue later.
    pub(super) fn to_row<'a>(&self, key: &str, repo: &'a str, issue: u64) -> NewReply<'a> {
        let reply = match self {
            Reply::Comment { body } => Reply::Comment {
                body: format!("{body}\n{}", delivery_marker(key)),
            },
            other => other.clone(),
        };
        NewReply {
            key: key.to_string(),
            kind: self.kind(),
            repo,
            issue,
            payload: serde_json::to_string(&reply).expect("plain fields serialise"),
        }
    }
}

/// The hidden line that identifies one comment of the outbox.
fn delivery_marker(key: &str) -> String {
    format!("<!-- invitebot-reply:{key} -->")
}

impl Pipeline {
    /// Sends the next due reply, if any, and records the result. Returns whether there was one.
    pub async fn process_next_reply(&mut self) -> Result<bool, StoreError> {
        let Some(row) = self.store.next_due_reply(jiff::Timestamp::now())? else {
            return Ok(false);
        };
        let result = match (
            serde_json::from_str::<Reply>(&row.payload),
            RepoName::parse(&row.repo),
        ) {
            (Ok(reply), Some(repo)) => self.send_reply(&repo, row.issue, &reply).await,
            _ => {
                self.store
                    .fail_reply(row.id, "the stored reply is unreadable")?;
                return Ok(true);
            }
        };
        self.settle_reply(&row, result)?;
        Ok(true)
    }

    async fn send_reply(
        &self,
        repo: &RepoName,
        issue: u64,
        reply: &Reply,
    ) -> Result<(), GitHubApiError> {
        match reply {
            Reply::Comment { body } => {
                // Posted before a crash that lost the commit? Then it is on the issue already.
                // (Without a token nothing is posted, only logged: there is nothing to look for.)
                let key = body.lines().last().unwrap_or_default();
                if self.github.can_write()
                    && self.github.has_comment_containing(repo, issue, key).await?
                {
                    tracing::info!(repo = %repo, issue, "comment already on the issue; not posting it again");
                    return Ok(());
                }
                self.github.comment(repo, issue, body).await
            }
            Reply::Labels { labels } => self.github.add_labels(repo, issue, labels).await,
            Reply::Close => self.github.close(repo, issue).await,
            Reply::RemoveLabel { label } => self.github.remove_label(repo, issue, label).await,
        }
    }

    fn settle_reply(
        &self,
        row: &ReplyRecord,
        result: Result<(), GitHubApiError>,
    ) -> Result<(), StoreError> {
        let metric_kind = match row.kind.as_str() {
            "comment" => SendKind::Comment,
            "labels" => SendKind::Labels,
            _ => SendKind::Close,
        };
        let (repo, issue, kind) = (row.repo.as_str(), row.issue, row.kind.as_str());
        let error = match result {
            Ok(()) => {
                tracing::info!(repo, issue, reply = kind, outcome = "sent", "reply sent");
                crate::telemetry::send(metric_kind, SendResult::Ok);
                return self.store.reply_done(row.id);
            }
            Err(error) => error,
        };
        let now = jiff::Timestamp::now();
        let first = row.created_at.parse().unwrap_or(now);
        let next = (!error.is_permanent())
            .then(|| {
                crate::core::retry::next_attempt(row.attempts + 1, error.retry_after(), first, now)
            })
            .flatten();
        match next {
            Some(at) => {
                tracing::warn!(repo, issue, reply = kind, outcome = "retry", %error, next_attempt = %at, "reply not sent; will retry");
                crate::telemetry::send(metric_kind, SendResult::Retry);
                crate::telemetry::retry();
                self.store.retry_reply(row.id, at, &error.to_string())
            }
            None => {
                tracing::error!(repo, issue, reply = kind, outcome = "failed", %error, "reply given up (see `invitebot status`)");
                crate::telemetry::send(metric_kind, SendResult::Failed);
                self.store.fail_reply(row.id, &error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_carry_the_reply_and_comments_their_key() {
        let comment = Reply::Comment {
            body: "Thanks!".into(),
        }
        .to_row("job:7:0", "a/b", 3);
        assert_eq!(
            (comment.key.as_str(), comment.kind, comment.issue),
            ("job:7:0", "comment", 3)
        );
        let back: Reply = serde_json::from_str(&comment.payload).unwrap();
        assert_eq!(
            back,
            Reply::Comment {
                body: "Thanks!\n<!-- invitebot-reply:job:7:0 -->".into()
            }
        );
        let labels = Reply::Labels {
            labels: vec!["invited".into()],
        }
        .to_row("job:7:1", "a/b", 3);
        assert_eq!(
            serde_json::from_str::<Reply>(&labels.payload).unwrap(),
            Reply::Labels {
                labels: vec!["invited".into()]
            }
        );
        assert_eq!(
            Reply::Close.to_row("k", "a/b", 3).payload,
            r#"{"kind":"close"}"#
        );
    }
}
