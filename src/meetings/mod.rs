//! The public face of the series, for people who are not members yet (or never will be):
//! `GET /`, the meetings page ([`page`]), and `GET /calendar/{series}.ics`, each series as a
//! feed anyone may subscribe to ([`feed`]). Both read the published series list, never a
//! roster, and answer conditional requests with `304` ([`conditional`]). `[server] page =
//! false` turns both off ([`settings`]).
//!
//! The routes are merged into the public router behind the same edge limits as the webhook and
//! the link pages (request slots, timeout, connection caps).

pub mod conditional;
pub mod feed;
pub mod page;
pub mod settings;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use tokio::sync::watch;

use crate::core::series::{SeriesList, series_by_id};
use conditional::{Cacheable, etag_of};
use feed::Feeds;
use page::FeedLinks;
use settings::MeetingsConfig;

/// How long a browser or proxy may keep the page: its next meetings change when one starts.
const PAGE_CACHE: &str = "public, max-age=300";
/// How long a calendar client may keep a feed without asking again.
const FEED_CACHE: &str = "public, max-age=3600";

/// What the page and the feeds read.
#[derive(Clone)]
pub struct MeetingsState {
    /// The series (replaced by the pipeline when the config file changes).
    pub series: watch::Receiver<SeriesList>,
    /// `[server] page` and the public address.
    pub settings: Arc<MeetingsConfig>,
    /// The feeds made so far.
    pub feeds: Arc<Feeds>,
}

impl MeetingsState {
    /// The state for `settings`, reading `series`.
    pub fn new(settings: MeetingsConfig, series: watch::Receiver<SeriesList>) -> Self {
        Self {
            series,
            settings: Arc::new(settings),
            feeds: Arc::default(),
        }
    }
}

/// `GET /` and `GET /calendar/{series}.ics`, or no route at all when `[server] page = false`.
pub fn router(state: MeetingsState) -> Router {
    if !state.settings.enabled {
        return Router::new();
    }
    Router::new()
        .route("/", get(meetings_page))
        .route("/calendar/{file}", get(calendar_feed))
        .with_state(state)
}

async fn meetings_page(State(state): State<MeetingsState>, request: HeaderMap) -> Response {
    let series = state.series.borrow().clone();
    let (links, vary_host) = feed_links(&state.settings, &request);
    let html = page::render(&series, Timestamp::now(), &links);
    let mut extra = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&page::POLICY).expect("the policy is ASCII"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if vary_host {
        extra.push((header::VARY, HeaderValue::from_static("Host")));
    }
    Cacheable {
        content_type: "text/html; charset=utf-8",
        cache_control: PAGE_CACHE,
        etag: etag_of(html.as_bytes()),
        body: html.into(),
        last_modified: None,
        extra,
    }
    .answer(&request)
}

async fn calendar_feed(
    State(state): State<MeetingsState>,
    Path(file): Path<String>,
    request: HeaderMap,
) -> Response {
    let all = state.series.borrow().clone();
    let Some(series) = file
        .strip_suffix(".ics")
        .and_then(|id| series_by_id(&all, id))
    else {
        return (StatusCode::NOT_FOUND, "no such calendar\n").into_response();
    };
    let feed = state.feeds.of(series, Timestamp::now());
    let disposition = format!("inline; filename=\"{}.ics\"", series.id);
    Cacheable {
        content_type: "text/calendar; charset=utf-8",
        cache_control: FEED_CACHE,
        body: feed.body,
        etag: feed.etag,
        last_modified: Some(feed.made),
        extra: HeaderValue::from_str(&disposition)
            .map(|value| vec![(header::CONTENT_DISPOSITION, value)])
            .unwrap_or_default(),
    }
    .answer(&request)
}

/// The feed links for a visitor: on the public address if one is configured, else on the
/// `Host` they asked for (then the answer varies by `Host`).
fn feed_links(settings: &MeetingsConfig, request: &HeaderMap) -> (FeedLinks, bool) {
    if let Some(url) = &settings.public_url {
        let https = url.as_str().trim_end_matches('/').to_string();
        let webcal = https
            .split_once("://")
            .map(|(_, rest)| format!("webcal://{rest}"));
        return (
            FeedLinks {
                https_base: https,
                webcal_base: webcal,
            },
            false,
        );
    }
    let host = request
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| is_host(h));
    let links = FeedLinks {
        https_base: String::new(),
        webcal_base: host.map(|h| format!("webcal://{h}")),
    };
    (links, true)
}

/// A `Host` header value fit for a link: a name or address and an optional port.
fn is_host(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}
