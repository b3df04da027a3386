//! What operators watch: Prometheus metrics, the health endpoints and the log format.
//!
//! - [`Metrics::install`] installs the process-wide `metrics` recorder (a Prometheus recorder
//!   without a listener of its own); [`metrics_response`] renders it on our own axum route.
//! - The recording functions ([`delivery`], [`send`], [`outbox`], …) are free functions that
//!   can be called from anywhere; before [`Metrics::install`] they do nothing.
//! - [`healthz`] and [`readyz_response`] answer the liveness and readiness probes.
//! - [`init_logging`] sets up `tracing` on stderr: human text, or one JSON object a line with
//!   `INVITEBOT_LOG_FORMAT=json`, written by a thread of its own ([`log_writer`]).
//!
//! Every label value comes from a fixed set or from our own code: the `X-GitHub-Event` header is
//! untrusted, so [`delivery`] maps unknown event names to `other` (see [`event_label`]) and the
//! number of time series stays bounded.

mod log_writer;
mod text_line;

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// `invitebot_deliveries_total{event,outcome}`.
pub const DELIVERIES_TOTAL: &str = "invitebot_deliveries_total";
/// `invitebot_signature_failures_total`.
pub const SIGNATURE_FAILURES_TOTAL: &str = "invitebot_signature_failures_total";
/// `invitebot_rejections_total{reason}`.
pub const REJECTIONS_TOTAL: &str = "invitebot_rejections_total";
/// `invitebot_delivery_log_dropped_total`.
pub const DELIVERY_LOG_DROPPED_TOTAL: &str = "invitebot_delivery_log_dropped_total";
/// `invitebot_sends_total{kind,result}`.
pub const SENDS_TOTAL: &str = "invitebot_sends_total";
/// `invitebot_retries_total`.
pub const RETRIES_TOTAL: &str = "invitebot_retries_total";
/// `invitebot_reconcile_runs_total`.
pub const RECONCILE_RUNS_TOTAL: &str = "invitebot_reconcile_runs_total";
/// `invitebot_jobs_total{outcome}`.
pub const JOBS_TOTAL: &str = "invitebot_jobs_total";
/// `invitebot_outbox_depth`.
pub const OUTBOX_DEPTH: &str = "invitebot_outbox_depth";
/// `invitebot_outbox_oldest_age_seconds`.
pub const OUTBOX_OLDEST_AGE_SECONDS: &str = "invitebot_outbox_oldest_age_seconds";
/// `invitebot_mail_pending`.
pub const MAIL_PENDING: &str = "invitebot_mail_pending";

/// The `Content-Type` of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `X-GitHub-Event` values that get a label of their own; every other name becomes `other`.
pub const KNOWN_EVENTS: [&str; 4] = ["issues", "ping", "installation", "issue_comment"];

/// The environment variable choosing the log format.
pub const LOG_FORMAT_ENV: &str = "INVITEBOT_LOG_FORMAT";

/// The installed Prometheus recorder; renders what was recorded. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

impl Metrics {
    /// Installs the global recorder once per process (later calls return a handle to the same
    /// one) and describes every metric.
    ///
    /// If some other recorder was installed first (not done by invitebot), a warning is logged
    /// and the returned handle renders an empty page; recording still goes to the other recorder.
    pub fn install() -> Metrics {
        let handle = HANDLE.get_or_init(|| {
            let handle = match PrometheusBuilder::new().install_recorder() {
                Ok(handle) => handle,
                Err(error) => {
                    tracing::warn!(%error, "cannot install the metrics recorder; /metrics will be empty");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            };
            describe();
            handle
        });
        Metrics {
            handle: handle.clone(),
        }
    }

    /// Everything recorded so far, in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        // Only histograms and summaries need upkeep (we have none yet); it is cheap either way.
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge};
    describe_counter!(
        DELIVERIES_TOTAL,
        "Webhook deliveries with a valid signature, by X-GitHub-Event (issues, ping, installation, issue_comment, other) and outcome."
    );
    describe_counter!(
        SIGNATURE_FAILURES_TOTAL,
        "Webhook deliveries refused because the signature was missing or wrong."
    );
    describe_counter!(
        SENDS_TOTAL,
        "Messages and GitHub writes attempted, by kind (mail, comment, labels, close, team) and result (ok, retry, failed)."
    );
    describe_counter!(RETRIES_TOTAL, "Sends scheduled to be tried again.");
    describe_counter!(
        REJECTIONS_TOTAL,
        "Requests and connections the edge turned away, by reason (bad-signature, source-limited, too-large, unreadable, timeout, busy, body-budget, connection-refused, bad-head, bad-link)."
    );
    describe_counter!(
        DELIVERY_LOG_DROPPED_TOTAL,
        "Ignored deliveries not recorded in the history: the writer was behind, or they came faster than the history takes (1,000 a second)."
    );
    describe_counter!(
        RECONCILE_RUNS_TOTAL,
        "Reconciliation passes (config and roster files against what was sent)."
    );
    describe_counter!(
        JOBS_TOTAL,
        "Jobs finished by the pipeline worker, by outcome."
    );
    describe_gauge!(OUTBOX_DEPTH, "Entries waiting in the outbox.");
    describe_gauge!(
        OUTBOX_OLDEST_AGE_SECONDS,
        metrics::Unit::Seconds,
        "Age of the oldest entry waiting in the outbox (0 when empty)."
    );
    describe_gauge!(
        MAIL_PENDING,
        "Invitations, updates and cancellations the files imply but not yet sent."
    );
}

/// The label for an `X-GitHub-Event` header value: the name itself if it is one of
/// [`KNOWN_EVENTS`], else `other`.
pub fn event_label(event: &str) -> &'static str {
    KNOWN_EVENTS
        .iter()
        .find(|known| **known == event)
        .copied()
        .unwrap_or("other")
}

/// Counts a verified delivery: `invitebot_deliveries_total{event,outcome}`. `event` may be the
/// raw header (capped with [`event_label`]); `outcome` must come from our own code (a short
/// fixed word such as `ignored`, `accepted`, `rejected`, `busy`).
pub fn delivery(event: &str, outcome: &'static str) {
    let event = event_label(event);
    if HANDLE.get().is_none() {
        // No recorder of ours yet: nothing to keep a handle to.
        return delivery_counter(event, outcome).increment(1);
    }
    let mut counters = DELIVERY_COUNTERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, _, counter)) = counters
        .iter()
        .find(|(e, o, _)| *e == event && *o == outcome)
    {
        return counter.increment(1);
    }
    let counter = delivery_counter(event, outcome);
    counter.increment(1);
    counters.push((event, outcome, counter));
}

/// The delivery counters registered so far, by event label and outcome (a few dozen at most:
/// both come from fixed sets). A delivery is counted on every request, and registering its
/// counter (building the labelled key, hashing it, looking it up) costs more than counting.
static DELIVERY_COUNTERS: std::sync::Mutex<Vec<(&str, &str, metrics::Counter)>> =
    std::sync::Mutex::new(Vec::new());

/// `invitebot_deliveries_total{event,outcome}` from the recorder.
fn delivery_counter(event: &'static str, outcome: &'static str) -> metrics::Counter {
    metrics::counter!(DELIVERIES_TOTAL, "event" => event, "outcome" => outcome)
}

/// Counts ignored deliveries whose records were not written (the writer was behind, or they
/// came faster than the history takes): `invitebot_delivery_log_dropped_total`.
pub fn delivery_log_dropped(count: u64) {
    metrics::counter!(DELIVERY_LOG_DROPPED_TOTAL).increment(count);
}

/// Counts a delivery refused for its signature: `invitebot_signature_failures_total`.
pub fn signature_failure() {
    metrics::counter!(SIGNATURE_FAILURES_TOTAL).increment(1);
}

/// What was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendKind {
    /// An email (invitation, update, cancellation).
    Mail,
    /// A comment on an issue.
    Comment,
    /// Labels added to an issue.
    Labels,
    /// An issue closed.
    Close,
    /// A GitHub team membership change.
    Team,
}

impl SendKind {
    /// The label value: `mail`, `comment`, `labels`, `close`, `team`.
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::Mail => "mail",
            SendKind::Comment => "comment",
            SendKind::Labels => "labels",
            SendKind::Close => "close",
            SendKind::Team => "team",
        }
    }
}

/// How a send went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendResult {
    /// Done.
    Ok,
    /// Failed for now; will be tried again.
    Retry,
    /// Failed for good.
    Failed,
}

impl SendResult {
    /// The label value: `ok`, `retry`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            SendResult::Ok => "ok",
            SendResult::Retry => "retry",
            SendResult::Failed => "failed",
        }
    }
}

/// Counts a send: `invitebot_sends_total{kind,result}`.
pub fn send(kind: SendKind, result: SendResult) {
    metrics::counter!(SENDS_TOTAL, "kind" => kind.as_str(), "result" => result.as_str())
        .increment(1);
}

/// Counts a retry scheduled: `invitebot_retries_total`.
pub fn retry() {
    metrics::counter!(RETRIES_TOTAL).increment(1);
}

/// Counts a reconciliation pass: `invitebot_reconcile_runs_total`.
pub fn reconcile_run() {
    metrics::counter!(RECONCILE_RUNS_TOTAL).increment(1);
}

/// Counts a finished worker job: `invitebot_jobs_total{outcome}`. `outcome` must come from our
/// own code (a short fixed word).
pub fn job(outcome: &str) {
    metrics::counter!(JOBS_TOTAL, "outcome" => outcome.to_owned()).increment(1);
}

/// Sets the outbox gauges: `invitebot_outbox_depth` and `invitebot_outbox_oldest_age_seconds`
/// (pass 0 when the outbox is empty).
pub fn outbox(depth: u64, oldest_age_seconds: f64) {
    metrics::gauge!(OUTBOX_DEPTH).set(depth as f64);
    metrics::gauge!(OUTBOX_OLDEST_AGE_SECONDS).set(oldest_age_seconds);
}

/// Sets `invitebot_mail_pending`: messages the files imply that are not sent yet.
pub fn pending_mail(count: u64) {
    metrics::gauge!(MAIL_PENDING).set(count as f64);
}

// ---------------------------------------------------------------------------
// Health endpoints
// ---------------------------------------------------------------------------

/// `GET /healthz`: `200 ok` while the process runs.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The longest reason [`readyz_response`] puts in its answer, in characters.
const MAX_REASON_CHARS: usize = 200;

/// `GET /readyz`: `200 ready` when `ready` is `Ok`, else `503 not ready: <reason>` (the reason
/// on one line, at most 200 characters; it must not hold secrets or addresses).
pub fn readyz_response(ready: Result<(), String>) -> Response {
    match ready {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(reason) => {
            let one_line = reason.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut short: String = one_line.chars().take(MAX_REASON_CHARS).collect();
            if short.len() < one_line.len() {
                short.push('…');
            }
            if short.is_empty() {
                short.push_str("unknown reason");
            }
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {short}\n"),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: `200` with [`Metrics::render`] in the Prometheus text format.
///
/// Mount with e.g. `get(move || telemetry::metrics_response(metrics.clone()))`.
pub async fn metrics_response(metrics: Metrics) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
        )],
        metrics.render(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------
// Logging
// ---------------------------------------------------------------------------

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line an event (the default), laid out as tracing-subscriber's full
    /// format with every control character escaped (see `text_line`).
    Text,
    /// One JSON object a line: `timestamp`, `level`, `fields` (with `message`), `target`, spans.
    Json,
}

impl LogFormat {
    /// The format for a value of `INVITEBOT_LOG_FORMAT` (`None`: unset). `Err` carries the text
    /// format together with a warning to log about an unknown value.
    pub fn from_env_value(value: Option<&str>) -> Result<LogFormat, (LogFormat, String)> {
        let Some(value) = value else {
            return Ok(LogFormat::Text);
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err((
                LogFormat::Text,
                format!(
                    "{LOG_FORMAT_ENV}={value:?} is not a log format; using `text` (known: `text`, `json`)"
                ),
            )),
        }
    }
}

/// Keeps the log writer's thread; dropping it writes what is still queued. Hold it until the
/// process ends.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<log_writer::WriterGuard>,
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard").finish_non_exhaustive()
    }
}

/// Each line's time as tracing's default timer writes it (RFC 3339 in UTC with microseconds,
/// `2026-12-04T02:01:19.444717Z`), with the part up to the second formatted once a second per
/// thread instead of for every line (a line is written for every delivery).
struct UtcMicros;

impl tracing_subscriber::fmt::time::FormatTime for UtcMicros {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        use std::cell::RefCell;
        thread_local! {
            /// The second last formatted, and its text up to the seconds.
            static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
        }
        let now = jiff::Timestamp::now();
        SECOND.with_borrow_mut(|(second, text)| {
            if *second != now.as_second() {
                *second = now.as_second();
                *text = now.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            }
            write!(w, "{text}.{:06}Z", now.subsec_microsecond())
        })
    }
}

/// Sets up `tracing` for the process, writing to stderr.
///
/// The filter is `RUST_LOG` (an `EnvFilter` directive such as `info,invitebot=debug`), or
/// `default_filter` when it is unset or invalid (then with a warning). The format is
/// `INVITEBOT_LOG_FORMAT`: `json` for one JSON object a line, `text` or unset for the human
/// format; any other value gives the human format and one warning naming the known values.
/// The level is coloured only when stderr is a terminal and `NO_COLOR` is unset.
///
/// Lines are written by a thread of their own ([`log_writer`]), so a request never waits for
/// the disk or the pipe behind stderr (only if that falls behind by
/// [`log_writer::MAX_WAITING`] bytes; no line is dropped). Under load the thread writes a
/// batch every [`log_writer::LINGER`]; a line logged while the process is idle is written at
/// once. If the thread can't start, lines are written to stderr directly. Does nothing if a
/// global subscriber is already set.
pub fn init_logging(default_filter: &str) -> LogGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;

    let mut warnings = Vec::new();
    let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|error| {
            warnings.push(format!(
                "RUST_LOG={directives:?} is not a valid filter ({error}); using {default_filter:?}"
            ));
            EnvFilter::new(default_filter)
        }),
        Err(_) => EnvFilter::new(default_filter),
    };
    let raw_format = std::env::var(LOG_FORMAT_ENV).ok();
    let format = LogFormat::from_env_value(raw_format.as_deref()).unwrap_or_else(|(f, warning)| {
        warnings.push(warning);
        f
    });
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let (writer, guard) = match log_writer::start(std::io::stderr(), "invitebot-log") {
        Ok((writer, guard)) => (writer, Some(guard)),
        Err(error) => {
            warnings.push(format!(
                "cannot start the log writer thread ({error}); writing log lines directly"
            ));
            (log_writer::LogWriter::direct(), None)
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(writer);
    let installed = match format {
        LogFormat::Text => builder
            .fmt_fields(text_line::LineFields)
            .event_format(text_line::TextLine::new(UtcMicros))
            .try_init(),
        LogFormat::Json => builder.with_timer(UtcMicros).json().try_init(),
    };
    if installed.is_err() {
        return LogGuard { _writer: None };
    }
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    LogGuard { _writer: guard }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_times_read_as_the_default_timer_writes_them() {
        use tracing_subscriber::fmt::time::FormatTime;
        // Lines show whole microseconds.
        let before = jiff::Timestamp::now() - jiff::SignedDuration::from_micros(1);
        let mut lines = Vec::new();
        for _ in 0..3 {
            let mut text = String::new();
            UtcMicros
                .format_time(&mut tracing_subscriber::fmt::format::Writer::new(&mut text))
                .unwrap();
            lines.push(text);
        }
        let after = jiff::Timestamp::now();
        for text in &lines {
            assert_eq!(text.len(), "2026-12-04T02:01:19.444717Z".len(), "{text}");
            let time: jiff::Timestamp = text.parse().unwrap();
            assert!(before <= time && time <= after, "{text}");
        }
    }

    /// The value of the sample `name{labels}` in a rendered page (`labels` exactly as rendered,
    /// without braces; empty for none).
    fn sample(page: &str, name: &str, labels: &str) -> Option<f64> {
        let key = if labels.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{labels}}}")
        };
        page.lines().find_map(|line| {
            let (k, v) = line.rsplit_once(' ')?;
            (k == key).then(|| v.parse().ok()).flatten()
        })
    }

    #[test]
    fn install_twice_gives_the_same_recorder() {
        let a = Metrics::install();
        let b = Metrics::install();
        job("test-install-twice");
        let (pa, pb) = (a.render(), b.render());
        assert_eq!(
            sample(&pa, JOBS_TOTAL, r#"outcome="test-install-twice""#),
            Some(1.0),
            "{pa}"
        );
        assert_eq!(
            sample(&pb, JOBS_TOTAL, r#"outcome="test-install-twice""#),
            Some(1.0),
            "{pb}"
        );
    }

    #[test]
    fn deliveries_render_with_their_labels() {
        let metrics = Metrics::install();
        delivery("issues", "test-deliveries");
        delivery("issues", "test-deliveries");
        delivery("ping", "test-deliveries");
        let page = metrics.render();
        assert!(
            page.contains(
                r#"invitebot_deliveries_total{event="issues",outcome="test-deliveries"} 2"#
            ),
            "{page}"
        );
        assert!(
            page.contains(
                r#"invitebot_deliveries_total{event="ping",outcome="test-deliveries"} 1"#
            ),
            "{page}"
        );
        assert!(
            page.contains("# TYPE invitebot_deliveries_total counter"),
            "{page}"
        );
        assert!(
            page.contains("# HELP invitebot_deliveries_total "),
            "{page}"
        );
    }

    #[test]
    fn the_example_line_renders_as_documented() {
        let metrics = Metrics::install();
        delivery("issues", "ignored");
        let page = metrics.render();
        // Other code in this test process may record the same delivery: at least 1.
        let value = sample(
            &page,
            DELIVERIES_TOTAL,
            r#"event="issues",outcome="ignored""#,
        );
        assert!(value.is_some_and(|v| v >= 1.0), "{page}");
    }

    #[test]
    fn untrusted_event_names_are_capped() {
        for known in KNOWN_EVENTS {
            assert_eq!(event_label(known), known);
        }
        for unknown in [
            "push",
            "",
            "ISSUES",
            "issues ",
            "issues\"} 1\nevil",
            "x".repeat(10_000).as_str(),
        ] {
            assert_eq!(event_label(unknown), "other", "{unknown:?}");
        }
        let metrics = Metrics::install();
        delivery("pull_request", "test-capped");
        delivery("workflow_run", "test-capped");
        delivery("issues\"} 9\nevil", "test-capped");
        let page = metrics.render();
        assert_eq!(
            sample(
                &page,
                DELIVERIES_TOTAL,
                r#"event="other",outcome="test-capped""#
            ),
            Some(3.0),
            "{page}"
        );
        assert!(!page.contains("pull_request"), "{page}");
        assert!(!page.contains("evil"), "{page}");
    }

    #[test]
    fn sends_render_every_kind_and_result() {
        let metrics = Metrics::install();
        let kinds = [
            SendKind::Mail,
            SendKind::Comment,
            SendKind::Labels,
            SendKind::Close,
            SendKind::Team,
        ];
        let results = [SendResult::Ok, SendResult::Retry, SendResult::Failed];
        for kind in kinds {
            for result in results {
                send(kind, result);
            }
        }
        let page = metrics.render();
        for kind in ["mail", "comment", "labels", "close", "team"] {
            for result in ["ok", "retry", "failed"] {
                // Only this test records sends, but assert "at least" to stay robust.
                let value = sample(
                    &page,
                    SENDS_TOTAL,
                    &format!(r#"kind="{kind}",result="{result}""#),
                );
                assert!(value.is_some_and(|v| v >= 1.0), "{kind}/{result}:\n{page}");
            }
        }
    }

    #[test]
    fn unlabelled_counters_count() {
        let metrics = Metrics::install();
        let before = metrics.render();
        let get = |page: &str, name: &str| sample(page, name, "").unwrap_or(0.0);
        signature_failure();
        retry();
        retry();
        reconcile_run();
        let after = metrics.render();
        assert!(
            get(&after, SIGNATURE_FAILURES_TOTAL) >= get(&before, SIGNATURE_FAILURES_TOTAL) + 1.0,
            "{after}"
        );
        assert!(
            get(&after, RETRIES_TOTAL) >= get(&before, RETRIES_TOTAL) + 2.0,
            "{after}"
        );
        assert!(
            get(&after, RECONCILE_RUNS_TOTAL) >= get(&before, RECONCILE_RUNS_TOTAL) + 1.0,
            "{after}"
        );
    }

    #[test]
    fn gauges_hold_the_last_value() {
        // The only test touching these gauges, so the values are exact.
        let metrics = Metrics::install();
        outbox(7, 1.5);
        outbox(3, 42.25);
        pending_mail(9);
        pending_mail(4);
        let page = metrics.render();
        assert_eq!(sample(&page, OUTBOX_DEPTH, ""), Some(3.0), "{page}");
        assert_eq!(
            sample(&page, OUTBOX_OLDEST_AGE_SECONDS, ""),
            Some(42.25),
            "{page}"
        );
        assert_eq!(sample(&page, MAIL_PENDING, ""), Some(4.0), "{page}");
        assert!(
            page.contains("# TYPE invitebot_outbox_depth gauge"),
            "{page}"
        );
    }

    async fn body_text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("read the body");
        String::from_utf8(bytes.to_vec()).expect("UTF-8 body")
    }

    #[tokio::test]
    async fn healthz_says_ok() {
        assert_eq!(healthz().await, "ok\n");
    }

    #[tokio::test]
    async fn readyz_is_200_when_ready_and_503_with_a_reason_otherwise() {
        let ok = readyz_response(Ok(()));
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(body_text(ok).await, "ready\n");

        let not = readyz_response(Err("the state store is locked".to_string()));
        assert_eq!(not.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body_text(not).await,
            "not ready: the state store is locked\n"
        );

        let multi = readyz_response(Err("first line\nsecond\r\n  line ".to_string()));
        assert_eq!(multi.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body_text(multi).await,
            "not ready: first line second line\n"
        );

        let long = readyz_response(Err("é".repeat(1000)));
        let text = body_text(long).await;
        assert_eq!(text.lines().count(), 1);
        assert!(text.chars().count() < 220, "{text}");

        let empty = readyz_response(Err(String::new()));
        assert_eq!(empty.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_text(empty).await, "not ready: unknown reason\n");
    }

    #[tokio::test]
    async fn metrics_response_has_the_prometheus_content_type() {
        let metrics = Metrics::install();
        job("test-response");
        let response = metrics_response(metrics).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        let body = body_text(response).await;
        assert!(
            body.contains(r#"invitebot_jobs_total{outcome="test-response"} 1"#),
            "{body}"
        );
    }

    #[test]
    fn log_format_values() {
        assert_eq!(LogFormat::from_env_value(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::from_env_value(Some("")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::from_env_value(Some("text")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::from_env_value(Some("json")), Ok(LogFormat::Json));
        assert_eq!(
            LogFormat::from_env_value(Some(" JSON ")),
            Ok(LogFormat::Json)
        );
        let (format, warning) = LogFormat::from_env_value(Some("yaml")).unwrap_err();
        assert_eq!(format, LogFormat::Text);
        assert!(
            warning.contains("INVITEBOT_LOG_FORMAT=\"yaml\""),
            "{warning}"
        );
        assert!(
            warning.contains("`text`") && warning.contains("`json`"),
            "{warning}"
        );
    }
}
