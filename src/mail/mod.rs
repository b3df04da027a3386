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

use crate::core::calendar::{Method, Person};
use crate::mail::settings::{MailConfig, MailTransport};

pub mod files;
pub mod settings;
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
    /// Whether sending the same message again can't help: the server refused it for good, or
    /// it could not be built (the same message never will be, e.g. an address lettre refuses).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            MailError::Build(_)
                | MailError::Send {
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
    /// The iCalendar text (from [`crate::core::calendar::Invitation::to_ics`]).
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
    /// Sets up the configured transport (creating the mail folder for the file transport,
    /// readable by its owner only: the process's file mask makes the `.eml` files `0600`).
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let transport = match &config.transport {
            MailTransport::File { dir } => {
                files::create_private_folder(dir).map_err(|source| MailError::Folder {
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
        self.build_with_leave_link(mail, None)
    }

    /// Builds the message for one recipient, with a one-click leave link (RFC 8058:
    /// `List-Unsubscribe` and `List-Unsubscribe-Post`) when one is given.
    pub fn build_with_leave_link(
        &self,
        mail: &CalendarMail<'_>,
        leave_url: Option<&str>,
    ) -> Result<Message, MailError> {
        let calendar_type = format!(
            "text/calendar; method={}; charset=UTF-8",
            mail.method.as_str()
        );
        let calendar_type =
            ContentType::parse(&calendar_type).map_err(|e| MailError::Build(e.to_string()))?;
        let mut builder = self.headers(mail.to, mail.subject);
        if let Some(url) = leave_url {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        builder
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

    /// A plain-text mail to one person (the confirmation of an address).
    pub fn build_notice(
        &self,
        to: &Person,
        subject: &str,
        text: &str,
    ) -> Result<Message, MailError> {
        self.headers(to, subject)
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(text.to_string()),
            )
            .map_err(|e| MailError::Build(e.to_string()))
    }

    /// The headers every mail has: From, To, Subject, Date, Message-ID, Auto-Submitted.
    fn headers(&self, to: &Person, subject: &str) -> lettre::message::MessageBuilder {
        let to = Mailbox::new(display_name(&to.name), to.email.as_lettre().clone());
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .date_now()
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::new_v4().simple(),
                self.from.email.domain()
            )))
            .header(AutoSubmitted)
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
            detail: redact_addresses(&detail),
            permanent,
        })
    }
}

/// The display name of a `To:` mailbox: control characters and hidden formatting characters
/// ([`crate::core::calendar::is_hidden_format`]) removed, white space folded; `None` when nothing is
/// left. Names from issues are cleaned already ([`crate::core::request::clean_name`]); names typed
/// into a roster file are not, and may hold a line break. lettre then quotes the name or
/// encodes it (RFC 2047) as needed, so `"`, `<`, `,` or non-ASCII text can't end the mailbox
/// early or start another header.
fn display_name(name: &str) -> Option<String> {
    let visible: String = name
        .chars()
        .filter(|&c| !c.is_control() && !crate::core::calendar::is_hidden_format(c))
        .collect();
    let folded = visible.split_whitespace().collect::<Vec<_>>().join(" ");
    (!folded.is_empty()).then_some(folded)
}

/// Mail servers often quote the recipient in a refusal (`550 5.1.1 <ada@example.org>: Recipient
/// address rejected`). That text becomes an error kept in the state store, logged and shown by
/// `invitebot status`, so every address in it is redacted the way [`EmailAddress`] prints one
/// (`a***@example.org`).
///
/// [`EmailAddress`]: crate::core::email_address::EmailAddress
fn redact_addresses(text: &str) -> String {
    static LOCAL_PART: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"[^\s<>()\[\]:;,@\x22']+@").expect("valid regex")
    });
    LOCAL_PART
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let first: String = caps[0].chars().take(1).collect();
            format!("{first}***@")
        })
        .into_owned()
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

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(text.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::email_address::EmailAddress;

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

    /// The header names of a formatted message, in order (folded lines joined).
    fn header_names(message: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(message);
        let head = text.split("\r\n\r\n").next().unwrap();
        for line in head.split("\r\n") {
            assert!(line.len() <= 998, "header line too long: {line:?}");
            assert!(!line.contains(['\r', '\n']), "bare CR or LF in {line:?}");
        }
        head.replace("\r\n ", " ")
            .replace("\r\n\t", " ")
            .split("\r\n")
            .map(|l| l.split(':').next().unwrap().to_ascii_lowercase())
            .collect()
    }

    #[test]
    fn hostile_names_and_subjects_cannot_add_headers_or_recipients() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = mailer(dir.path());
        let long = "Lovelace ".repeat(60);
        let names = [
            "Eve\r\nBcc: x@evil.org",
            "Eve\nBcc: x@evil.org",
            "Eve\rBcc: x@evil.org",
            "Lovelace, Ada <x@evil.org>",
            "\"Ada\" <x@evil.org>, y@evil.org",
            "back\\slash \"quote",
            "=?utf-8?b?QmNjOiB4QGV2aWwub3Jn?=",
            "\u{202E}gro.live@x\u{202C}",
            "Zoë 李 👩\u{200D}💻",
            "",
            "\u{7}\u{0}",
            long.as_str(),
        ];
        let subjects = [
            "Invitation: ISPO",
            "Invitation\r\nBcc: x@evil.org",
            "Zoë\nX-Evil: 1",
        ];
        let expected_headers = [
            "from",
            "to",
            "subject",
            "date",
            "message-id",
            "auto-submitted",
            "mime-version",
            "content-type",
        ];
        for name in names {
            for subject in subjects {
                let person = Person {
                    name: name.into(),
                    email: EmailAddress::parse("ada@example.org").unwrap(),
                };
                let mail = CalendarMail {
                    to: &person,
                    subject,
                    text: "Hello",
                    ics: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                    method: Method::Request,
                };
                let message = mailer.build(&mail).unwrap();
                let formatted = message.formatted();
                let mut names_seen = header_names(&formatted);
                names_seen.sort();
                let mut expected = expected_headers.map(String::from).to_vec();
                expected.sort();
                assert_eq!(names_seen, expected, "{name:?} / {subject:?}");
                assert_eq!(message.envelope().to().len(), 1);
                assert_eq!(message.envelope().to()[0].to_string(), "ada@example.org");

                let parsed = mail_parser::MessageParser::default()
                    .parse(&formatted)
                    .unwrap();
                let to: Vec<_> = parsed.to().unwrap().iter().collect();
                assert_eq!(to.len(), 1, "{name:?}");
                assert_eq!(to[0].address(), Some("ada@example.org"), "{name:?}");
                let shown = to[0].name().map(str::to_string);
                assert_eq!(shown, display_name(name), "{name:?}");
                assert!(parsed.bcc().is_none() && parsed.cc().is_none());
            }
        }
    }

    #[test]
    fn a_message_that_cannot_be_built_is_a_permanent_failure() {
        assert!(MailError::Build("invalid address".into()).is_permanent());
        let passing = MailError::Send {
            transport: "smtp",
            detail: "try later".into(),
            permanent: false,
        };
        assert!(!passing.is_permanent());
    }

    #[test]
    fn display_names_lose_controls_and_hidden_characters() {
        assert_eq!(
            display_name("  Ada \r\n Lovelace "),
            Some("Ada Lovelace".into())
        );
        assert_eq!(display_name("\u{202E}Eve\u{200B}"), Some("Eve".into()));
        assert_eq!(display_name("\u{7}\t "), None);
    }

    #[test]
    fn refusals_quoting_the_recipient_are_redacted() {
        let cases = [
            (
                "permanent error (550): 5.1.1 <ada.lovelace@example.org>: Recipient address rejected",
                "permanent error (550): 5.1.1 <a***@example.org>: Recipient address rejected",
            ),
            (
                "user unknown: ada@example.org",
                "user unknown: a***@example.org",
            ),
            ("to=ada+wg@example.org,", "t***@example.org,"),
            (
                "Connection error: smtp://user:secret@mail.example.org",
                "Connection error: smtp://user:s***@mail.example.org",
            ),
            (
                "network error: connection refused",
                "network error: connection refused",
            ),
        ];
        for (detail, expected) in cases {
            assert_eq!(redact_addresses(detail), expected);
        }
    }
}
