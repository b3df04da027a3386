//! What the bot writes on an issue once a request is handled: a [`Reply`], kept in the outbox
//! until GitHub accepted it.

use serde::{Deserialize, Serialize};

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

/// Which kind of write a [`Reply`] is, without its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// [`Reply::Comment`].
    Comment,
    /// [`Reply::Labels`].
    Labels,
    /// [`Reply::Close`].
    Close,
    /// [`Reply::RemoveLabel`].
    RemoveLabel,
}

impl Reply {
    /// Which kind of write it is.
    pub fn kind(&self) -> ReplyKind {
        match self {
            Reply::Comment { .. } => ReplyKind::Comment,
            Reply::Labels { .. } => ReplyKind::Labels,
            Reply::Close => ReplyKind::Close,
            Reply::RemoveLabel { .. } => ReplyKind::RemoveLabel,
        }
    }
}

impl ReplyKind {
    /// A word for logs and `invitebot status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Comment => "comment",
            ReplyKind::Labels => "labels",
            ReplyKind::Close => "close",
            ReplyKind::RemoveLabel => "unlabel",
        }
    }
}
