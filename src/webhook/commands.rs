//! Triage of `issue_comment` deliveries: a comment holding a `/invitebot` command on a series'
//! repository is queued as a command job (who may run it is the worker's check); any other
//! comment needs nothing.

use crate::core::command::{self, CommandRequest};
use crate::core::identity::Login;
use crate::core::job::JobKind;
use crate::core::request::is_on_series_repository;
use crate::core::series::Series;
use crate::core::webhook_event::IssueCommentEvent;
use crate::store::{BodyDigest, DeliveryJob};

use super::Decision;

/// What to do with a created comment. `body` identifies the delivery's body (it recognises
/// replays).
pub(super) fn decide(
    all_series: &[Series],
    event: &IssueCommentEvent,
    body: BodyDigest,
) -> Decision {
    let on_repository: Vec<&Series> = all_series
        .iter()
        .filter(|s| is_on_series_repository(s, &event.repository))
        .collect();
    let Some(first) = on_repository.first() else {
        return Decision::Ignore(
            "not-a-series-repository",
            "ignored: not a series' repository\n",
        );
    };
    let Some(line) = command::command_line(event.comment.body.as_deref().unwrap_or("")) else {
        return Decision::Ignore("not-a-command", "ignored: not a command\n");
    };
    if event.sender.is_bot() || event.comment.user.is_bot() {
        return Decision::Ignore("ignored-bot", "ignored: written by a bot\n");
    }
    let ids: Vec<&str> = on_repository.iter().map(|s| s.id.as_str()).collect();
    let series_id = command::parse(line, &ids)
        .series
        .unwrap_or_else(|| first.id.clone());
    Decision::Queue(DeliveryJob {
        series_id,
        kind: JobKind::Command(CommandRequest {
            comment_id: event.comment.id,
            issue_number: event.issue.number,
            author: Login::new(&event.comment.user.login),
            line: line.to_string(),
        }),
        once_per_issue: false,
        body,
    })
}
