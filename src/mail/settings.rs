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

/// Why an SMTP URL may not be used: it carries a user name or a password but doesn't ask for
/// TLS (`smtps://` or `?tls=required`), so the credentials could cross the network in plain
/// text (`smtp://` without TLS, or `?tls=opportunistic`, which a man in the middle can strip).
/// `None` when the URL is fine or isn't a URL at all (the caller reports that).
pub fn credentials_without_tls(url: &str) -> Option<&'static str> {
    let parsed = url::Url::parse(url).ok()?;
    let has_credentials = !parsed.username().is_empty() || parsed.password().is_some();
    if !has_credentials || parsed.scheme() == "smtps" {
        return None;
    }
    let tls_required = parsed
        .query_pairs()
        .any(|(name, value)| name == "tls" && value == "required");
    (!tls_required).then_some(
        "the SMTP url carries a user or password but no TLS: they would be sent in plain text; \
         use smtps://USER:PASSWORD@host:465 or smtp://USER:PASSWORD@host:587?tls=required",
    )
}

#[cfg(test)]
mod tests {
    use super::credentials_without_tls;

    #[test]
    fn credentials_need_tls() {
        for refused in [
            "smtp://user:pw@127.0.0.1:2525",
            "smtp://user@127.0.0.1:2525",
            "smtp://:pw@127.0.0.1:2525",
            "smtp://user:pw@127.0.0.1:587?tls=opportunistic",
            "smtp://user:pw@127.0.0.1:587?tls=none",
        ] {
            assert!(credentials_without_tls(refused).is_some(), "{refused}");
        }
        for allowed in [
            "smtp://127.0.0.1:2525",
            "smtp://127.0.0.1:2525?tls=opportunistic",
            "smtps://user:pw@mail.example.org:465",
            "smtp://user:pw@mail.example.org:587?tls=required",
            "not a url",
        ] {
            assert!(credentials_without_tls(allowed).is_none(), "{allowed}");
        }
    }

    #[test]
    fn the_reason_never_holds_the_password() {
        let reason = credentials_without_tls("smtp://user:hush@127.0.0.1:25").unwrap();
        assert!(!reason.contains("hush"));
    }
}
