//! Calendar invitations as email (iMIP, RFC 6047) and the transports that send them.
//!
//! One message per recipient, `To:` that recipient only: a `multipart/alternative` with a
//! `text/plain` summary and a `text/calendar; method=…` part whose method equals the calendar's
//! `METHOD`. Headers: `From`, `To`, `Subject`, `Date`, a `Message-ID` in the sender's domain and
//! `Auto-Submitted: auto-generated` (RFC 3834, so out-of-office replies don't loop).

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::calendar::{Method, Person};
use crate::config::{MailConfig, MailTransport};

mod smtp;
use smtp::{SmtpSender, SmtpTarget};

/// A failure to build or send a message. Never contains an address.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail folder could not be created.
    #[error("cannot create the mail folder {dir}: {source}")]
    Folder {
        /// The folder.
        dir: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The SMTP URL was rejected.
    #[error("the SMTP url is not valid: {0}")]
    Url(String),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The transport did not accept the message.
    #[error("the {transport} transport did not accept the message: {detail}")]
    Send {
        /// `smtp` or `file`.
        transport: &'static str,
        /// What the transport said.
        detail: String,
        /// Whether the server refused for good (SMTP 5xx): retrying the same message won't help.
        permanent: bool,
    },
}

impl MailError {
    /// Whether sending the same message again can't help (the server refused it for good).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            MailError::Send {
                permanent: true,
                ..
            }
        )
    }
}

/// What one calendar email says.
pub struct CalendarMail<'a> {
    /// The one recipient.
    pub to: &'a Person,
    /// The subject line.
    pub subject: &'a str,
    /// The human summary.
    pub text: &'a str,
    /// The iCalendar text (from [`crate::calendar::Invitation::to_ics`]).
    pub ics: &'a str,
    /// The iTIP method of `ics`.
    pub method: Method,
}

enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    /// `smtp://`: our connection with `TCP_NODELAY` (see [`smtp`]).
    Smtp(Box<SmtpSender>),
    /// `smtps://`: lettre's transport.
    Smtps(AsyncSmtpTransport<Tokio1Executor>),
}

/// Builds and sends calendar emails.
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl Mailer {
    /// Sets up the configured transport (creating the mail folder for the file transport).
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let transport = match &config.transport {
            MailTransport::File { dir } => {
                std::fs::create_dir_all(dir).map_err(|source| MailError::Folder {
                    dir: dir.display().to_string(),
                    source,
                })?;
                Transport::File(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp { url } => {
                match SmtpTarget::parse(url.expose_secret()).map_err(MailError::Url)? {
                    Some(target) => Transport::Smtp(Box::new(SmtpSender::new(target))),
                    None => Transport::Smtps(
                        AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                            .map_err(|e| MailError::Url(e.to_string()))?
                            .timeout(Some(std::time::Duration::from_secs(30)))
                            .build(),
                    ),
                }
            }
        };
        Ok(Self {
            from: config.from.clone(),
            transport,
        })
    }

    /// A word for logs: where mail goes.
    pub fn transport_name(&self) -> &'static str {
        match self.transport {
            Transport::File(_) => "file",
            Transport::Smtp(_) | Transport::Smtps(_) => "smtp",
        }
    }

    /// Builds the message for one recipient.
    pub fn build(&self, mail: &CalendarMail<'_>) -> Result<Message, MailError> {
        let to = Mailbox::new(
            Some(mail.to.name.clone()),
            mail.to.email.as_lettre().clone(),
        );
        let calendar_type = format!(
            "text/calendar; method={}; charset=UTF-8",
            mail.method.as_str()
        );
        let calendar_type =
            ContentType::parse(&calendar_type).map_err(|e| MailError::Build(e.to_string()))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .date_now()
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::new_v4().simple(),
                self.from.email.domain()
            )))
            .header(AutoSubmitted)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.to_string()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(calendar_type)
                            .body(mail.ics.to_string()),
                    ),
            )
            .map_err(|e| MailError::Build(e.to_string()))
    }

    /// Hands the message to the transport; returns once the SMTP server accepted it (or the
    /// file is written).
    pub async fn send(&self, message: &Message) -> Result<(), MailError> {
        let result = match &self.transport {
            Transport::File(t) => t
                .send(message.clone())
                .await
                .map(drop)
                .map_err(|e| (e.to_string(), false)),
            Transport::Smtp(t) => t
                .send(message.envelope(), &message.formatted())
                .await
                .map_err(|e| (e.to_string(), e.is_permanent())),
            Transport::Smtps(t) => t
                .send(message.clone())
                .await
                .map(drop)
                .map_err(|e| (e.to_string(), e.is_permanent())),
        };
        result.map_err(|(detail, permanent)| MailError::Send {
            transport: self.transport_name(),
            detail,
            permanent,
        })
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::email::EmailAddress;

    fn mailer(dir: &std::path::Path) -> Mailer {
        let config = MailConfig {
            from: "ISPO Working Group <ispo-wg@example.org>".parse().unwrap(),
            transport: MailTransport::File {
                dir: dir.to_path_buf(),
            },
        };
        Mailer::new(&config).unwrap()
    }

    #[test]
    fn message_is_imip_for_one_recipient() {
        let dir = tempfile::tempdir().unwrap();
        let person = Person {
            name: "Lovelace, Ada \"the first\"".into(),
            email: EmailAddress::parse("ada@example.org").unwrap(),
        };
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n";
        let mail = CalendarMail {
            to: &person,
            subject: "Invitation: ISPO",
            text: "Hello",
            ics,
            method: Method::Request,
        };
        let message = mailer(dir.path()).build(&mail).unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(
            text.contains("From: \"ISPO Working Group\" <ispo-wg@example.org>\r\n"),
            "{text}"
        );
        assert!(text.contains("ada@example.org>\r\n"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-generated\r\n"));
        assert!(text.contains("Message-ID: <") && text.contains("@example.org>\r\n"));
        assert!(text.contains("Content-Type: multipart/alternative;"));
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"));
        assert!(text.contains("Content-Type: text/calendar; method=REQUEST; charset=utf-8"));
        assert_eq!(message.envelope().to().len(), 1);
        assert_eq!(message.envelope().to()[0].to_string(), "ada@example.org");
    }

    #[tokio::test]
    async fn file_transport_writes_one_eml() {
        let dir = tempfile::tempdir().unwrap();
        let mail_dir = dir.path().join("mail");
        let person = Person {
            name: "Ada".into(),
            email: EmailAddress::parse("ada@example.org").unwrap(),
        };
        let ics = "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n";
        let mail = CalendarMail {
            to: &person,
            subject: "s",
            text: "t",
            ics,
            method: Method::Cancel,
        };
        let mailer = mailer(&mail_dir);
        mailer.send(&mailer.build(&mail).unwrap()).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(&mail_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("method=CANCEL"));
    }
}
