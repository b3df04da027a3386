//! The human log line, one per event, written without going through styling code:
//!
//! ```text
//! 2026-12-04T02:38:30.367653Z  INFO invitebot::webhook: webhook received delivery=d-1 event=ping outcome=ignored
//! ```
//!
//! The layout is tracing-subscriber's default full format (time, level, spans, target, message,
//! fields). Two things differ:
//! - The level is the only thing coloured, and only when the writer allows colour. The default
//!   format makes a dozen styling calls per line even with colour off; a line is written for
//!   every delivery, so this format makes none.
//! - Every control character in a message or a field value is escaped (`\n`, `\u{1b}`, …), not
//!   only the ANSI escapes in messages: request data that reaches a log line (a delivery id, a
//!   parse error quoting a body) can neither colour a terminal nor start a line of its own.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats an event as one text line, with `T` writing its time.
pub(super) struct TextLine<T> {
    timer: T,
}

impl<T> TextLine<T> {
    /// Lines whose time `timer` writes.
    pub(super) fn new(timer: T) -> Self {
        Self { timer }
    }
}

impl<S, N, T> FormatEvent<S, N> for TextLine<T>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
    T: FormatTime,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        self.timer.format_time(&mut writer)?;
        writer.write_str(level_text(meta.level(), writer.has_ansi_escapes()))?;
        write_spans(ctx, &mut writer)?;
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

/// The level between spaces, right-aligned to five characters as the default format writes it
/// (coloured the same way when `colour`).
fn level_text(level: &Level, colour: bool) -> &'static str {
    match (*level, colour) {
        (Level::TRACE, false) => " TRACE ",
        (Level::DEBUG, false) => " DEBUG ",
        (Level::INFO, false) => "  INFO ",
        (Level::WARN, false) => "  WARN ",
        (Level::ERROR, false) => " ERROR ",
        (Level::TRACE, true) => " \x1b[35mTRACE\x1b[0m ",
        (Level::DEBUG, true) => " \x1b[34mDEBUG\x1b[0m ",
        (Level::INFO, true) => " \x1b[32m INFO\x1b[0m ",
        (Level::WARN, true) => " \x1b[33m WARN\x1b[0m ",
        (Level::ERROR, true) => " \x1b[31mERROR\x1b[0m ",
    }
}

/// The spans the event is in, outermost first, each as `name{fields}:`, then a space.
fn write_spans<S, N>(ctx: &FmtContext<'_, S, N>, writer: &mut Writer<'_>) -> fmt::Result
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    let Some(scope) = ctx.event_scope() else {
        return Ok(());
    };
    let mut any = false;
    for span in scope.from_root() {
        any = true;
        writer.write_str(span.name())?;
        let extensions = span.extensions();
        if let Some(fields) = extensions.get::<FormattedFields<N>>()
            && !fields.is_empty()
        {
            write!(writer, "{{{fields}}}")?;
        }
        writer.write_char(':')?;
    }
    if any {
        writer.write_char(' ')?;
    }
    Ok(())
}

/// Formats an event's or a span's fields: the message first as it is, then `name=value`
/// separated by spaces; strings quoted, other values as their `Debug` (for `%value`, their
/// `Display`), with control characters escaped everywhere.
#[derive(Debug, Default)]
pub(super) struct LineFields;

impl<'w> FormatFields<'w> for LineFields {
    fn format_fields<R: tracing_subscriber::field::RecordFields>(
        &self,
        writer: Writer<'w>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = FieldWriter {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// Writes the fields [`LineFields`] is given, keeping the first error.
struct FieldWriter<'w> {
    writer: Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl FieldWriter<'_> {
    /// Writes one field: the separator, then `name=` unless it is the message, then `value`.
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Escaping<'_, '_>) -> fmt::Result) {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        self.result = self.write_field(name, value);
    }

    fn write_field(
        &mut self,
        name: &str,
        value: impl FnOnce(&mut Escaping<'_, '_>) -> fmt::Result,
    ) -> fmt::Result {
        if !std::mem::take(&mut self.first) {
            self.writer.write_char(' ')?;
        }
        if name != "message" {
            self.writer
                .write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')?;
        }
        value(&mut Escaping(&mut self.writer))
    }
}

impl Visit for FieldWriter<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.field(field, |w| w.write_str(value));
        } else {
            self.field(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.field(field, |w| {
            write!(w, "{value}")?;
            let mut source = value.source();
            if source.is_some() {
                write!(w, " {}.sources=[", field.name())?;
            }
            let mut first = true;
            while let Some(cause) = source {
                if !std::mem::take(&mut first) {
                    w.write_str(", ")?;
                }
                write!(w, "{cause}")?;
                source = cause.source();
            }
            if !first {
                w.write_char(']')?;
            }
            Ok(())
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, |w| write!(w, "{value:?}"));
    }
}

/// Writes text to the line with every control character escaped (`\n`, `\r`, `\t` by name,
/// others as `\u{…}`); text without one (nearly all of it) is written as it is.
struct Escaping<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // Controls are C0 and DEL (one byte each) and C1 (U+0080..=U+009F, encoded 0xC2
        // 0x80..=0x9F): text without those bytes has none, and a scan of bytes is cheap.
        if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
            return self.0.write_str(text);
        }
        let mut rest = text;
        while let Some(at) = rest.find(char::is_control) {
            self.0.write_str(&rest[..at])?;
            let control = rest[at..].chars().next().unwrap_or_default();
            match control {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                other => write!(self.0, "\\u{{{:x}}}", u32::from(other))?,
            }
            rest = &rest[at + control.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    /// The lines a subscriber with [`TextLine`] wrote.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    /// A fixed time, so lines can be compared whole.
    struct Noon;

    impl FormatTime for Noon {
        fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
            w.write_str("2026-12-04T12:00:00.000000Z")
        }
    }

    /// What `log` writes, as text, with colour or not.
    fn text_of(colour: bool, log: impl FnOnce()) -> String {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(colour)
            .with_max_level(Level::TRACE)
            .fmt_fields(LineFields)
            .event_format(TextLine::new(Noon))
            .with_writer(lines.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, log);
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_delivery_line_reads_as_the_default_format_writes_it() {
        let id = "d-1";
        let text = text_of(false, || {
            tracing::info!(delivery = %id, event = "ping", action = "opened", issue = 7u64, ok = true, outcome = %"ignored", "webhook received");
        });
        assert_eq!(
            text,
            "2026-12-04T12:00:00.000000Z  INFO invitebot::telemetry::text_line::tests: webhook received delivery=d-1 event=\"ping\" action=\"opened\" issue=7 ok=true outcome=ignored\n"
        );
    }

    #[test]
    fn each_level_is_padded_to_five_and_coloured_only_when_allowed() {
        let plain = text_of(false, || {
            tracing::error!("e");
            tracing::warn!("w");
            tracing::debug!("d");
            tracing::trace!("t");
        });
        let levels: Vec<&str> = plain.lines().map(|line| &line[27..34]).collect();
        assert_eq!(levels, [" ERROR ", "  WARN ", " DEBUG ", " TRACE "]);
        assert!(!plain.contains('\x1b'));
        let coloured = text_of(true, || tracing::info!("hello"));
        assert!(
            coloured.contains(" \x1b[32m INFO\x1b[0m invitebot"),
            "{coloured:?}"
        );
    }

    #[test]
    fn control_characters_in_messages_and_values_are_escaped() {
        let hostile = "x\n2026-12-04T12:00:00Z  INFO forged\x1b[31m\u{9b}\r\tend";
        let text = text_of(false, || {
            tracing::warn!(delivery = %hostile, event = hostile, "got {hostile}");
        });
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(!text.contains('\x1b') && !text.contains('\u{9b}') && !text.contains('\r'));
        assert!(text.contains(
            r"got x\n2026-12-04T12:00:00Z  INFO forged\u{1b}[31m\u{9b}\r\tend delivery=x\n"
        ));
        // A quoted string is escaped by its Debug format.
        assert!(text.contains(r#"event="x\n2026"#), "{text:?}");
    }

    #[test]
    fn errors_show_their_sources_and_log_fields_are_left_out() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot send")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("connection refused")]
        struct Inner;
        let error = Outer(Inner);
        let text = text_of(false, || {
            tracing::warn!(
                error = &error as &(dyn std::error::Error + 'static),
                "failed"
            );
            tracing::info!(log.target = "dep", "from log");
        });
        assert!(
            text.contains("failed error=cannot send error.sources=[connection refused]"),
            "{text:?}"
        );
        assert!(text.contains(": from log\n"), "{text:?}");
    }

    #[test]
    fn spans_come_before_the_target_with_their_fields() {
        let text = text_of(false, || {
            let outer = tracing::info_span!("outer", n = 1u64);
            let _outer = outer.enter();
            let inner = tracing::info_span!("inner");
            let _inner = inner.enter();
            tracing::info!("inside");
        });
        assert!(
            text.contains(
                "  INFO outer{n=1}:inner: invitebot::telemetry::text_line::tests: inside\n"
            ),
            "{text:?}"
        );
    }
}
