//! The pages behind the links: small HTML pages, no JavaScript, no cookies.
//!
//! Mail scanners open every link in a message, so a `GET` never changes anything: it shows a
//! page with a button, and the button's `POST` acts. The one-click leave link also takes the
//! `POST` a mail client sends by itself (RFC 8058, `List-Unsubscribe=One-Click`). The token in
//! the path is the only credential; a `POST` whose `Origin` is another site is refused.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use tokio::sync::Notify;

use super::LinkMaker;
use super::form;
use super::token::{LeaveSubject, Purpose, TokenError};
use crate::core::html::escape;
use crate::core::job::JobKind;
use crate::core::series::series_by_id;
use crate::github::oauth::SignIn;
use crate::roster::Roster;
use crate::store::{Confirmed, NewJob, Store};

/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// What the pages share.
#[derive(Clone)]
pub struct PageState {
    /// Checks tokens; knows the current config.
    pub links: LinkMaker,
    /// Where confirmed requests are queued.
    pub store: Arc<Store>,
    /// Wakes the worker.
    pub wake: Arc<Notify>,
    /// Signing in with GitHub before the private email form (`None`: not configured).
    pub sign_in: Option<Arc<SignIn>>,
}

/// The routes: `/confirm/{token}`, `/leave/{token}`, `/join/{token}` (GET shows, POST acts).
pub fn router(state: PageState) -> Router {
    Router::new()
        .route("/confirm/{token}", get(confirm_page).post(confirm))
        .route("/leave/{token}", get(leave_page).post(leave))
        .route(
            "/join/{token}",
            get(form::email_page).post(form::email_submit),
        )
        .route("/join/{token}/signed-in", get(form::signed_in))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .with_state(state)
}

/// A page's answer.
pub(super) struct Page {
    status: StatusCode,
    title: String,
    /// HTML: everything in it from outside is escaped by the caller.
    body: String,
}

impl Page {
    pub(super) fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_string(),
            body,
        }
    }

    /// The same page with another status.
    pub(super) fn with_status(self, status: StatusCode) -> Self {
        Self { status, ..self }
    }

    pub(super) fn message(status: StatusCode, title: &str, text: &str) -> Self {
        Self::new(status, title, format!("<p>{}</p>", escape(text)))
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"robots\" content=\"noindex\"><title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}button{{font-size:1rem;padding:.5rem 1rem}}input{{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}}.error{{color:#a00}}</style></head><body><h1>{title}</h1>\n{body}\n</body></html>\n",
            title = escape(&self.title),
            body = self.body
        );
        let mut response = (self.status, html).into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
            ),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }
}

/// A form whose button posts back to the same address.
fn button_form(text: &str, button: &str) -> String {
    format!(
        "<p>{}</p><form method=\"post\"><button type=\"submit\">{}</button></form>",
        escape(text),
        escape(button)
    )
}

/// The page for a refused link (counted, not logged, by the edge: a flood of forged links must
/// not flood the log).
pub(super) fn bad_link(error: TokenError) -> Page {
    match error {
        TokenError::Expired => Page::message(
            StatusCode::GONE,
            "This link has expired",
            "Please make your request again on GitHub.",
        ),
        _ => Page::message(
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Check that the whole link was copied.",
        ),
    }
}

pub(super) fn unavailable() -> Page {
    Page::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again in a moment",
        "The service can't record this right now; nothing has changed.",
    )
}

/// Whether a POST comes from our own page (or from a mail client, which sends no `Origin`).
pub(super) fn same_origin(headers: &HeaderMap, links: &LinkMaker) -> bool {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let ours = links.public_origin();
    ours.is_some_and(|ours| origin.as_bytes() == ours.as_bytes())
}

pub(super) fn cross_site() -> Page {
    Page::message(
        StatusCode::FORBIDDEN,
        "Not allowed",
        "This form can only be sent from its own page.",
    )
}

/// Runs store work on the blocking pool; `None` when it failed (logged).
pub(super) async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Option<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(error)) => {
            tracing::error!(%error, "{what} failed");
            None
        }
        Err(error) => {
            tracing::error!(%error, "{what} failed");
            None
        }
    }
}

// --- confirm ---------------------------------------------------------------------------------

/// A `POST`'s subject: from our own page (or a mail client), with a good link for `purpose`.
fn posted<T>(
    state: &PageState,
    headers: &HeaderMap,
    token: &str,
    purpose: Purpose,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, Page> {
    if !same_origin(headers, &state.links) {
        return Err(cross_site());
    }
    let subject = state
        .links
        .key()
        .verify(token, purpose, Timestamp::now())
        .map_err(bad_link)?;
    parse(&subject).ok_or_else(|| bad_link(TokenError::Malformed))
}

/// A `GET`: the page with the button, if the link is good; nothing changes.
fn button_page(state: &PageState, token: &str, purpose: Purpose, texts: [&str; 3]) -> Page {
    let [title, text, button] = texts;
    match state.links.key().verify(token, purpose, Timestamp::now()) {
        Err(error) => bad_link(error),
        Ok(_) => Page::new(StatusCode::OK, title, button_form(text, button)),
    }
}

async fn confirm_page(State(state): State<PageState>, Path(token): Path<String>) -> Page {
    button_page(
        &state,
        &token,
        Purpose::Confirm,
        [
            "Confirm your address",
            "Press the button to confirm that you want the calendar invitations at the address this mail was sent to.",
            "Yes, send me the invitations",
        ],
    )
}

async fn confirm(
    State(state): State<PageState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Page {
    let id = match posted(&state, &headers, &token, Purpose::Confirm, |s| {
        s.parse::<i64>().ok()
    }) {
        Ok(id) => id,
        Err(page) => return page,
    };
    let store = state.store.clone();
    let Some(confirmed) = blocking("confirming", move || store.confirm(id, Timestamp::now())).await
    else {
        return unavailable();
    };
    tracing::info!(confirmation = id, outcome = ?confirmed, "address confirmation");
    match confirmed {
        Confirmed::Now { .. } => {
            state.wake.notify_one();
            Page::message(
                StatusCode::OK,
                "Thank you!",
                "Your address is confirmed; the invitation is on its way.",
            )
        }
        Confirmed::Already => Page::message(
            StatusCode::OK,
            "Already confirmed",
            "This address was confirmed before; the invitation has been sent.",
        ),
        Confirmed::Expired => bad_link(TokenError::Expired),
        Confirmed::Unknown => bad_link(TokenError::Malformed),
    }
}

// --- leave -----------------------------------------------------------------------------------

async fn leave_page(State(state): State<PageState>, Path(token): Path<String>) -> Page {
    button_page(
        &state,
        &token,
        Purpose::Leave,
        [
            "Leave the meeting series",
            "Press the button to stop getting the invitations. The meetings will be removed from your calendar.",
            "Leave the series",
        ],
    )
}

async fn leave(
    State(state): State<PageState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Page {
    let subject = match posted(
        &state,
        &headers,
        &token,
        Purpose::Leave,
        LeaveSubject::parse,
    ) {
        Ok(subject) => subject,
        Err(page) => return page,
    };
    let series = state.links.series();
    let Some(series) = series_by_id(&series, &subject.series_id) else {
        return Page::message(
            StatusCode::OK,
            "Nothing to do",
            "This meeting series has ended.",
        );
    };
    let (path, login, digest, key) = (
        series.roster.clone(),
        subject.login.clone(),
        subject.digest.clone(),
        state.links.key().clone(),
    );
    let member = tokio::task::spawn_blocking(move || {
        Roster::load(&path).map(|roster| {
            roster
                .find_login(login.as_str())
                .is_some_and(|m| key.address_digest(m.email.expose()) == digest)
        })
    })
    .await;
    let on_roster = match member {
        Ok(Ok(on_roster)) => on_roster,
        Ok(Err(error)) => {
            tracing::error!(series = %series.id, %error, "leave link: roster unreadable");
            return unavailable();
        }
        Err(_) => return unavailable(),
    };
    if !on_roster {
        tracing::info!(series = %series.id, outcome = "not-a-member", "leave link");
        return Page::message(
            StatusCode::OK,
            "You're not on the list",
            "This address doesn't get the invitations (any more); nothing to do.",
        );
    }
    let job = JobKind::LeaveByLink {
        login: subject.login.clone(),
    };
    let (store, series_id, repo) = (
        state.store.clone(),
        series.id.clone(),
        series.repo.to_string(),
    );
    let queued = blocking("queueing a leave", move || {
        let delivery_id = format!("leave-link:{}", uuid::Uuid::new_v4().simple());
        store.add_job(&NewJob {
            delivery_id: &delivery_id,
            action: "leave-link",
            series_id: &series_id,
            repo: &repo,
            issue: 0,
            kind: &job,
            once_per_issue: false,
            body: None,
        })
    })
    .await;
    if queued.is_none() {
        return unavailable();
    }
    tracing::info!(series = %series.id, outcome = "queued", "leave link");
    state.wake.notify_one();
    Page::message(
        StatusCode::OK,
        "You're off the list",
        "A cancellation that removes the meetings from your calendar is on its way. You're welcome back any time.",
    )
}
