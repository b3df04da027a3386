//! The settings of outgoing mail (`[mail]`), as checked by `config`.

use std::path::PathBuf;

use lettre::message::Mailbox;
use secrecy::SecretString;

/// Outgoing mail settings.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// The `From:` mailbox.
    pub from: Mailbox,
    /// How messages leave.
    pub transport: MailTransport,
}

/// How messages leave the bot.
#[derive(Debug, Clone)]
pub enum MailTransport {
    /// One `.eml` file per message in this folder (for trying the bot out).
    File {
        /// The folder, created if missing.
        dir: PathBuf,
    },
    /// An SMTP server, given as a lettre URL (`smtp://host:port`, `smtps://…`, `?tls=required`).
    Smtp {
        /// The URL; it may hold a password, so it is a secret.
        url: SecretString,
    },
}
