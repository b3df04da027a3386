//! A real SMTP server for tests: mailin-embedded on `127.0.0.1:<random port>`,
//! plain SMTP (no TLS, no AUTH), recording every accepted message.
//!
//! Stopping: mailin-embedded's `Server::serve` runs forever and has no shutdown
//! handle, so the sink's accept thread and its port live until the test process
//! ends. Dropping an `SmtpSink` does not stop it; each test starts its own sink
//! on a fresh port, so nothing leaks between tests except that idle thread.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use mailin_embedded::{Handler, Response, Server, response};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message the sink accepted (answered 250 to the end of DATA).
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets, in order.
    pub rcpt_to: Vec<String>,
    /// The raw DATA bytes, dot-unstuffed, CRLF line ends, without the final `.`.
    pub data: Vec<u8>,
    /// When the sink accepted the message (end of DATA).
    pub received_at: Instant,
}

impl ReceivedMail {
    /// The raw message as UTF-8 (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(&self.data)
            .unwrap_or_else(|| {
                panic!(
                    "cannot parse the received message as MIME:\n{}",
                    self.text()
                )
            })
    }

    /// The first header `name` (case-insensitive), unfolded and with RFC 2047
    /// encoded words decoded; `None` if absent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_all(name).into_iter().next()
    }

    /// Every header `name` (case-insensitive) of the top level, decoded as in [`Self::header`].
    pub fn header_all(&self, name: &str) -> Vec<String> {
        let msg = self.parsed();
        msg.header_as(name, mail_parser::HeaderForm::Text)
            .into_iter()
            .map(|value| match value {
                HeaderValue::Text(text) => text.trim().to_string(),
                HeaderValue::TextList(list) => list.join(", "),
                HeaderValue::Empty => String::new(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    /// The `Subject`, decoded.
    pub fn subject(&self) -> Option<String> {
        self.parsed().subject().map(str::to_string)
    }

    /// The `From` header's addresses (just the addr-spec, e.g. `ispo-wg@example.org`).
    #[allow(clippy::wrong_self_convention)] // named after the `From` header
    pub fn from_addresses(&self) -> Vec<String> {
        addresses(self.parsed().from())
    }

    /// The `From` header's first display name, decoded.
    #[allow(clippy::wrong_self_convention)] // named after the `From` header
    pub fn from_name(&self) -> Option<String> {
        self.parsed().from()?.first()?.name().map(str::to_string)
    }

    /// The `To` header's addresses (addr-spec only).
    pub fn to_addresses(&self) -> Vec<String> {
        addresses(self.parsed().to())
    }

    /// The `Cc` header's addresses (addr-spec only).
    pub fn cc_addresses(&self) -> Vec<String> {
        addresses(self.parsed().cc())
    }

    /// `(content type, decoded text)` of every leaf text part, in order
    /// (e.g. `("text/plain", ...)`, `("text/calendar", ...)`). Transfer
    /// encodings (quoted-printable, base64) and charsets are decoded.
    pub fn text_parts(&self) -> Vec<(String, String)> {
        let msg = self.parsed();
        msg.parts
            .iter()
            .filter(|part| !matches!(part.body, PartType::Multipart(_) | PartType::Message(_)))
            .filter_map(|part| {
                let ctype = part.content_type().map_or_else(
                    || "text/plain".to_string(),
                    |ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_string(),
                    },
                );
                Some((
                    ctype.to_ascii_lowercase(),
                    part.text_contents()?.to_string(),
                ))
            })
            .collect()
    }

    /// The decoded text of the first part whose content type is `ctype`
    /// (e.g. `"text/plain"`), or of the whole body of a single-part message.
    pub fn part_text(&self, ctype: &str) -> Option<String> {
        self.text_parts()
            .into_iter()
            .find(|(found, _)| found.eq_ignore_ascii_case(ctype))
            .map(|(_, text)| text)
    }

    /// The decoded `text/calendar` part (the iCalendar text), if any.
    pub fn calendar(&self) -> Option<String> {
        self.part_text("text/calendar")
    }

    /// Like [`Self::calendar`] but panics, showing the raw message, when there is none.
    pub fn expect_calendar(&self) -> String {
        self.calendar()
            .unwrap_or_else(|| panic!("no text/calendar part in the message:\n{}", self.text()))
    }

    /// The `method` parameter of the `text/calendar` part's Content-Type (e.g. `REQUEST`).
    pub fn calendar_method(&self) -> Option<String> {
        let msg = self.parsed();
        msg.parts.iter().find_map(|part| {
            let ct = part.content_type()?;
            let is_calendar = ct.ctype().eq_ignore_ascii_case("text")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("calendar"));
            is_calendar
                .then(|| ct.attribute("method").map(str::to_string))
                .flatten()
        })
    }

    /// The decoded `text/plain` part (or the body of a single-part plain message).
    pub fn plain_text(&self) -> Option<String> {
        self.part_text("text/plain")
    }

    /// The top-level Content-Type, e.g. `multipart/alternative`.
    pub fn content_type(&self) -> Option<String> {
        let msg = self.parsed();
        let ct = msg.content_type()?;
        Some(match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        })
    }

    /// A one-line summary for failure messages.
    pub fn summary(&self) -> String {
        format!(
            "MAIL FROM:<{}> RCPT TO:{:?} Subject:{:?} ({} bytes)",
            self.mail_from,
            self.rcpt_to,
            self.subject().unwrap_or_default(),
            self.data.len()
        )
    }
}

fn addresses(address: Option<&Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    /// How many of the next DATA commands to refuse with 451.
    fail_next: AtomicUsize,
    /// How many DATA commands were refused so far.
    refused: AtomicUsize,
}

/// Per-connection state; mailin-embedded clones the handler for each connection.
#[derive(Clone)]
struct SinkHandler {
    shared: Arc<Shared>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for SinkHandler {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        // Refuse here, not at the end of DATA: mailin keeps a session whose
        // `data_end` answered an error in the DATA state, so the client's next
        // command would be taken as message text and the client would hang.
        let refuse = self
            .shared
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if refuse {
            self.shared.refused.fetch_add(1, Ordering::SeqCst);
            return response::INTERNAL_ERROR; // 451, a temporary failure
        }
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let data = std::mem::take(&mut self.data);
        self.shared.messages.lock().unwrap().push(ReceivedMail {
            mail_from: std::mem::take(&mut self.from),
            rcpt_to: std::mem::take(&mut self.to),
            data,
            received_at: Instant::now(),
        });
        response::OK
    }
}

/// A recording SMTP server on a loopback port. See the module docs about stopping.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and serves SMTP on a background thread (up to 16
    /// concurrent sessions, so a client's connection pool cannot starve it).
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink on 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local address of the SMTP sink");
        let shared = Arc::new(Shared::default());
        let handler = SinkHandler {
            shared: shared.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("smtp-sink.test")
            .with_num_threads(16)
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name(format!("smtp-sink-{}", addr.port()))
            .spawn(move || {
                if let Err(err) = server.serve() {
                    eprintln!("SMTP sink on {addr} stopped: {err}");
                }
            })
            .expect("spawn the SMTP sink thread");
        SmtpSink { addr, shared }
    }

    /// `smtp://127.0.0.1:PORT` (plain SMTP), for the config's `mail.url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The messages accepted so far, in order of acceptance.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().unwrap().clone()
    }

    /// Refuses the next `n` messages with `451` in reply to the DATA command (a
    /// temporary failure; they are not recorded), e.g. to test retries.
    pub fn fail_next(&self, n: usize) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// How many messages were refused through [`Self::fail_next`].
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` messages arrived; `Err` describes what did
    /// arrive when `timeout` passes first.
    pub async fn try_wait_for(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedMail>, String> {
        let found = super::poll_until(timeout, || {
            let messages = self.messages();
            (messages.len() >= count).then_some(messages)
        })
        .await;
        found.ok_or_else(|| self.describe_shortfall(count, timeout))
    }

    /// Waits until at least `count` messages arrived and returns all received
    /// so far; panics with what arrived on timeout. Use
    /// [`super::TestServer::wait_for_mail`] to get the server log in the panic too.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        match self.try_wait_for(count, timeout).await {
            Ok(messages) => messages,
            Err(why) => panic!("{why}"),
        }
    }

    fn describe_shortfall(&self, count: usize, timeout: Duration) -> String {
        let messages = self.messages();
        let mut out = format!(
            "SMTP sink {}: expected at least {count} message(s) within {timeout:?}, got {} ({} refused on purpose)",
            self.url(),
            messages.len(),
            self.refused()
        );
        for (i, mail) in messages.iter().enumerate() {
            out.push_str(&format!("\n  #{i}: {}", mail.summary()));
        }
        out
    }
}
