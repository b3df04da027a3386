//! SMTP delivery over one kept-open connection, with `TCP_NODELAY`.
//!
//! lettre's pooled transport writes a message's body and its final `.` in two writes and then
//! waits for the answer. Without `TCP_NODELAY` (which lettre doesn't set), Nagle's algorithm holds
//! the `.` until the server acknowledges the body, and the server's delayed ACK holds that for
//! ~40 ms: every message cost 44 ms on loopback (1,000 updates: 44 s). This sender makes the TCP
//! connection itself, sets `TCP_NODELAY`, and hands it to lettre's SMTP client
//! (`AsyncSmtpConnection::connect_with_transport`), which does the protocol: EHLO, STARTTLS,
//! AUTH, MAIL/RCPT/DATA. Used for `smtp://` URLs (plain and STARTTLS); `smtps://` (implicit TLS)
//! stays on lettre's transport.

use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// How long to wait for the TCP connection and each SMTP answer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A connection idle longer than this is checked with NOOP before use (servers drop idle ones).
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// Whether and how the connection is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    /// `smtp://host:port`: plain text.
    Plain,
    /// `smtp://host:port?tls=opportunistic`: STARTTLS when offered.
    StartTlsIfOffered,
    /// `smtp://host:port?tls=required`: STARTTLS or fail.
    StartTlsRequired,
}

/// Where and how to connect, from an `smtp://` URL.
#[derive(Debug)]
pub(crate) struct SmtpTarget {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
}

impl SmtpTarget {
    /// Reads an `smtp://` URL; `None` for other schemes (`smtps://` is left to lettre). The error
    /// never contains the URL (it may hold a password).
    pub(crate) fn parse(url: &str) -> Result<Option<SmtpTarget>, String> {
        let url = url::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
        if url.scheme() != "smtp" {
            return Ok(None);
        }
        let host = url
            .host_str()
            .ok_or("no host")?
            .trim_matches(['[', ']'])
            .to_string();
        let security = match url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned())
            .as_deref()
        {
            None | Some("none") => Security::Plain,
            Some("opportunistic") => Security::StartTlsIfOffered,
            Some("required") => Security::StartTlsRequired,
            Some(other) => {
                return Err(format!(
                    "unknown tls={other:?}: use required, opportunistic or none"
                ));
            }
        };
        let credentials = (!url.username().is_empty()).then(|| {
            let decode = |s: &str| percent_decode(s);
            Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            )
        });
        Ok(Some(SmtpTarget {
            host,
            port: url.port().unwrap_or(25),
            security,
            credentials,
        }))
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Sends messages over one connection, opened on first use and again after any failure.
pub(crate) struct SmtpSender {
    target: SmtpTarget,
    hello: ClientId,
    connection: Mutex<Option<(AsyncSmtpConnection, Instant)>>,
}

impl SmtpSender {
    /// A sender for `target`; connects lazily.
    pub(crate) fn new(target: SmtpTarget) -> Self {
        Self {
            target,
            hello: ClientId::default(),
            connection: Mutex::new(None),
        }
    }

    /// Sends one message; returns once the server accepted it.
    pub(crate) async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        let mut slot = self.connection.lock().await;
        if let Some((connection, last_used)) = slot.as_mut()
            && last_used.elapsed() > IDLE_CHECK
            && !connection.test_connected().await
        {
            *slot = None;
        }
        let mut connection = match slot.take() {
            Some((open, _)) => open,
            None => self.connect().await?,
        };
        match tokio::time::timeout(TIMEOUT, connection.send(envelope, message)).await {
            Ok(Ok(_)) => {
                *slot = Some((connection, Instant::now()));
                Ok(())
            }
            Ok(Err(error)) => {
                connection.abort().await;
                Err(error.into())
            }
            Err(_) => {
                connection.abort().await;
                Err(connection_error("no answer from the SMTP server"))
            }
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let target = &self.target;
        let stream = tokio::time::timeout(
            TIMEOUT,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        .map_err(|_| connection_error("connecting to the SMTP server timed out"))?
        .map_err(|e| connection_error(format!("cannot connect to the SMTP server: {e}")))?;
        stream
            .set_nodelay(true)
            .map_err(|e| connection_error(format!("cannot connect to the SMTP server: {e}")))?;
        let mut connection =
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello).await?;
        let starttls = match target.security {
            Security::Plain => false,
            Security::StartTlsIfOffered => connection.can_starttls(),
            Security::StartTlsRequired if connection.can_starttls() => true,
            Security::StartTlsRequired => {
                connection.abort().await;
                return Err(connection_error(
                    "the SMTP server does not offer STARTTLS (tls=required)",
                ));
            }
        };
        if starttls {
            connection
                .starttls(TlsParameters::new(target.host.clone())?, &self.hello)
                .await?;
        }
        if let Some(credentials) = &target.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(connection)
    }
}

/// Why a message was not sent: the SMTP conversation failed, or the connection did.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// lettre's error (with the server's answer when there was one).
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// Connecting failed or timed out.
    #[error("{0}")]
    Connection(String),
}

impl SendError {
    /// Whether the server refused for good (5xx).
    pub(crate) fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp(e) if e.is_permanent())
    }
}

fn connection_error(message: impl Into<String>) -> SendError {
    SendError::Connection(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_like_lettre_reads_them() {
        let target = SmtpTarget::parse("smtp://127.0.0.1:2525").unwrap().unwrap();
        assert_eq!(
            (target.host.as_str(), target.port, target.security),
            ("127.0.0.1", 2525, Security::Plain)
        );
        assert!(target.credentials.is_none());
        let target = SmtpTarget::parse(
            "smtp://user%40example.org:p%40ss+word@mail.example.org:587?tls=required",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (target.host.as_str(), target.port, target.security),
            ("mail.example.org", 587, Security::StartTlsRequired)
        );
        assert!(target.credentials.is_some());
        assert_eq!(
            SmtpTarget::parse("smtp://h?tls=opportunistic")
                .unwrap()
                .unwrap()
                .security,
            Security::StartTlsIfOffered
        );
        assert_eq!(SmtpTarget::parse("smtp://h").unwrap().unwrap().port, 25);
        assert!(SmtpTarget::parse("smtps://h:465").unwrap().is_none());
        assert!(
            SmtpTarget::parse("smtp://h?tls=maybe")
                .unwrap_err()
                .contains("tls=\"maybe\"")
        );
        assert!(
            !SmtpTarget::parse("smtp://u:secret@/x")
                .unwrap_err()
                .contains("secret")
        );
        assert_eq!(percent_decode("p%40ss+word"), "p@ss+word");
    }
}
