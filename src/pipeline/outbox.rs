//! The outbox: replies on issues (comment, labels, close), each sent once by the worker, retried
//! with backoff while GitHub fails, given up (with the reason kept) when it never can succeed.

use super::Pipeline;
use crate::core::identity::RepoName;
use crate::core::reply::{Reply, ReplyKind};
use crate::github::error::GitHubApiError;
use crate::store::{NewReply, ReplyRecord, StoreError, StoredReply};
use crate::telemetry::{SendKind, SendResult};

/// The outbox row for a reply. A comment carries its row key as a hidden line, so that it can
/// be found on the issue later.
pub(super) fn outbox_row<'a>(reply: &Reply, key: &str, repo: &'a str, issue: u64) -> NewReply<'a> {
    let reply = match reply {
        Reply::Comment { body } => Reply::Comment {
            body: format!("{body}\n{}", delivery_marker(key)),
        },
        other => other.clone(),
    };
    NewReply {
        key: key.to_string(),
        reply,
        repo,
        issue,
    }
}

/// The hidden line that identifies one comment of the outbox.
fn delivery_marker(key: &str) -> String {
    format!("<!-- invitebot-reply:{key} -->")
}

impl Pipeline {
    /// Sends the next due reply, if any, and records the result. Returns whether there was one.
    /// A reply whose stored values can't be read is given up (it never could be sent).
    pub async fn process_next_reply(&mut self) -> Result<bool, StoreError> {
        let StoredReply { record, reply } = match self.store.next_due_reply(jiff::Timestamp::now())
        {
            Ok(Some(stored)) => stored,
            Ok(None) => return Ok(false),
            Err(error) => return self.give_up_unreadable(error),
        };
        let Some(repo) = RepoName::parse(&record.repo) else {
            self.store
                .fail_reply(record.id, "the stored reply is unreadable")?;
            return Ok(true);
        };
        let result = self.send_reply(&repo, record.issue, &reply).await;
        self.settle_reply(&record, result)?;
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
        let metric_kind = match row.kind {
            ReplyKind::Comment => SendKind::Comment,
            ReplyKind::Labels => SendKind::Labels,
            ReplyKind::Close | ReplyKind::RemoveLabel => SendKind::Close,
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
        let next = (!error.is_permanent())
            .then(|| {
                crate::core::retry::next_attempt(
                    row.state.attempts + 1,
                    error.retry_after(),
                    row.state.created_at,
                    now,
                )
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
        };
        let row = outbox_row(&comment, "job:7:0", "a/b", 3);
        assert_eq!(
            (row.key.as_str(), row.repo, row.issue),
            ("job:7:0", "a/b", 3)
        );
        assert_eq!(
            row.reply,
            Reply::Comment {
                body: "Thanks!\n<!-- invitebot-reply:job:7:0 -->".into()
            }
        );
        let labels = Reply::Labels {
            labels: vec!["invited".into()],
        };
        assert_eq!(outbox_row(&labels, "job:7:1", "a/b", 3).reply, labels);
        assert_eq!(outbox_row(&Reply::Close, "k", "a/b", 3).reply, Reply::Close);
    }
}
