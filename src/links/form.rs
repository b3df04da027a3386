//! The private email form (`/join/{token}`): the requester gives the address the invitations
//! should go to without showing it on GitHub.
//!
//! It works once: the first accepted answer moves the issue from `needs-email` to
//! `address-given` and queues its job in one store transaction
//! ([`Store::answer_email_form`](crate::store::Store::answer_email_form)); every later answer
//! gets a page saying the form was answered, and a closed issue's link is void.
//!
//! With the GitHub App's OAuth client configured, the form is for the issue's author only: the
//! page first sends the visitor to sign in with GitHub (`state` signed and bound to this link,
//! valid for minutes), the way back (`/join/{token}/signed-in`) asks GitHub who signed in and
//! shows the form only to the author, with a signed proof (bound to the link and the login) in
//! a hidden field that the `POST` must carry. No GitHub token is kept, and no cookie is set.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;

use super::pages::{Page, PageState, bad_link, blocking, cross_site, same_origin, unavailable};
use super::token::{Purpose, TokenError, link_digest};
use super::{EmailFormSubject, SIGN_IN_VALID, SIGNED_IN_VALID};
use crate::core::email_address::EmailAddress;
use crate::core::html::escape;
use crate::core::identity::Login;
use crate::core::job::{IssueState, JobKind};
use crate::core::request::{EmailFinding, EmailSource, InviteRequest};
use crate::store::{FormAnswer, NewJob};

const TITLE: &str = "Your email address";

/// The request a private email form link is for, if it still waits for an address.
async fn waiting_request(state: &PageState, token: &str) -> Result<EmailFormSubject, Page> {
    let subject = state
        .links
        .key()
        .verify(token, Purpose::Email, Timestamp::now())
        .map_err(bad_link)?;
    let subject =
        EmailFormSubject::parse(&subject).ok_or_else(|| bad_link(TokenError::Malformed))?;
    let (store, repo, issue) = (state.store.clone(), subject.repo.clone(), subject.issue);
    let issue_state = blocking("reading the issue's state", move || {
        store.issue_state(&repo, issue)
    })
    .await
    .ok_or_else(unavailable)?;
    match issue_state {
        Some(IssueState::NeedsEmail) => Ok(subject),
        Some(IssueState::Closed) => Err(closed()),
        Some(_) => Err(already_answered()),
        None => Err(not_waiting()),
    }
}

fn already_answered() -> Page {
    Page::message(
        StatusCode::CONFLICT,
        "Already answered",
        "This form was answered already (it works once); the request continues with the address given then. If that was not you, tell the maintainers on the issue.",
    )
}

fn closed() -> Page {
    Page::message(
        StatusCode::GONE,
        "This request is closed",
        "The issue was closed, so this form no longer works. Open a new request on GitHub if you still want the invitations.",
    )
}

fn not_waiting() -> Page {
    Page::message(
        StatusCode::OK,
        "Nothing to do",
        "This request doesn't wait for an address.",
    )
}

fn not_the_author() -> Page {
    Page::message(
        StatusCode::FORBIDDEN,
        "Only for the author of the request",
        "You signed in as someone other than the person who opened the issue; only they can give an address here.",
    )
}

/// The form; `proof` (after signing in) rides along in a hidden field.
fn email_form(error: Option<&str>, proof: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let proof = proof
        .map(|p| {
            format!(
                "<input type=\"hidden\" name=\"proof\" value=\"{}\">",
                escape(p)
            )
        })
        .unwrap_or_default();
    format!(
        "<p>Give the address the calendar invitations should go to. Only the bot sees it: it is not shown on GitHub.</p>{error}<form method=\"post\">{proof}<label for=\"email\">Email address</label><p><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required maxlength=\"254\"></p><button type=\"submit\">Send me the invitations</button></form>"
    )
}

/// The page that sends the visitor to GitHub to sign in, with a `state` bound to this link.
fn sign_in_page(state: &PageState, token: &str) -> Page {
    let (Some(sign_in), Some(back)) = (&state.sign_in, state.links.signed_in_url(token)) else {
        return unavailable();
    };
    let signed_state = state.links.key().sign(
        Purpose::SignInState,
        &link_digest(token),
        Some(Timestamp::now() + SIGN_IN_VALID),
    );
    let url = sign_in.authorize_url(&back, &signed_state);
    Page::new(
        StatusCode::OK,
        TITLE,
        format!(
            "<p>Only the person who opened the request can give its address. Please sign in with GitHub first; the bot only reads your login and keeps no access.</p><p><a href=\"{}\">Sign in with GitHub</a></p>",
            escape(&url)
        ),
    )
}

/// `GET /join/{token}`: the form, or first the way to sign in.
pub(super) async fn email_page(State(state): State<PageState>, Path(token): Path<String>) -> Page {
    match waiting_request(&state, &token).await {
        Err(page) => page,
        Ok(_) if state.sign_in.is_some() => sign_in_page(&state, &token),
        Ok(_) => Page::new(StatusCode::OK, TITLE, email_form(None, None)),
    }
}

/// `GET /join/{token}/signed-in`: GitHub sent the visitor back; the form if they are the
/// issue's author.
pub(super) async fn signed_in(
    State(state): State<PageState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Page {
    let subject = match waiting_request(&state, &token).await {
        Err(page) => return page,
        Ok(subject) => subject,
    };
    let (Some(sign_in), Some(back)) = (&state.sign_in, state.links.signed_in_url(&token)) else {
        return bad_link(TokenError::WrongPurpose);
    };
    let field = |wanted: &str| {
        url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes())
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.into_owned())
    };
    let state_bound = field("state").is_some_and(|s| {
        state
            .links
            .key()
            .verify(&s, Purpose::SignInState, Timestamp::now())
            .is_ok_and(|digest| digest == link_digest(&token))
    });
    let Some(code) = field("code").filter(|_| state_bound) else {
        return Page::message(
            StatusCode::BAD_REQUEST,
            "Please sign in again",
            "The sign-in didn't come back from GitHub for this link, or took too long. Open the link from the issue again.",
        );
    };
    let login = match sign_in.login_of(&code, &back).await {
        Ok(login) => login,
        Err(error) => {
            tracing::warn!(%error, "private email form: signing in with GitHub failed");
            return Page::message(
                StatusCode::BAD_GATEWAY,
                "Signing in didn't work",
                "GitHub didn't confirm who signed in. Open the link from the issue again.",
            );
        }
    };
    if login != subject.login {
        tracing::info!(outcome = "not-the-author", "private email form");
        return not_the_author();
    }
    let proof = state.links.key().sign(
        Purpose::SignedIn,
        &proof_subject(&token, &login),
        Some(Timestamp::now() + SIGNED_IN_VALID),
    );
    Page::new(StatusCode::OK, TITLE, email_form(None, Some(&proof)))
}

/// What a sign-in proof is about: this link and this login.
fn proof_subject(token: &str, login: &Login) -> String {
    format!("{}\n{}", link_digest(token), login.key())
}

/// Whether the `POST` carries a good proof that the issue's author signed in for this link
/// (always true without sign-in).
fn signed_in_as_author(
    state: &PageState,
    token: &str,
    subject: &EmailFormSubject,
    proof: Option<&str>,
) -> bool {
    if state.sign_in.is_none() {
        return true;
    }
    proof.is_some_and(|proof| {
        state
            .links
            .key()
            .verify(proof, Purpose::SignedIn, Timestamp::now())
            .is_ok_and(|s| s == proof_subject(token, &subject.login))
    })
}

/// `POST /join/{token}`: the address; the first accepted answer wins.
pub(super) async fn email_submit(
    State(state): State<PageState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Page {
    if !same_origin(&headers, &state.links) {
        return cross_site();
    }
    let subject = match waiting_request(&state, &token).await {
        Err(page) => return page,
        Ok(subject) => subject,
    };
    let field = |wanted: &str| {
        url::form_urlencoded::parse(&body)
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.into_owned())
    };
    let proof = field("proof");
    if !signed_in_as_author(&state, &token, &subject, proof.as_deref()) {
        return sign_in_page(&state, &token).with_status(StatusCode::FORBIDDEN);
    }
    let email = match given_address(&field("email").unwrap_or_default()) {
        Ok(email) => email,
        Err(problem) => {
            return Page::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                TITLE,
                email_form(Some(problem), proof.as_deref()),
            );
        }
    };
    let answer = take_answer(&state, subject, email).await;
    tracing::info!(outcome = ?answer, "private email form");
    match answer {
        None => unavailable(),
        Some(FormAnswer::Taken) => {
            state.wake.notify_one();
            Page::message(
                StatusCode::OK,
                "Thank you!",
                "Your request continues with this address; you'll hear from us by mail.",
            )
        }
        Some(FormAnswer::AlreadyAnswered) => already_answered(),
        Some(FormAnswer::Closed) => closed(),
        Some(FormAnswer::NotWaiting) => not_waiting(),
    }
}

/// Records the answer with its job, if it is the first ([`FormAnswer`]); `None` when the store
/// failed.
async fn take_answer(
    state: &PageState,
    subject: EmailFormSubject,
    email: EmailAddress,
) -> Option<FormAnswer> {
    let job = JobKind::Join(InviteRequest {
        login: subject.login.clone(),
        issue_number: subject.issue,
        name: None,
        email: EmailFinding::Found(email, EmailSource::PrivateForm),
    });
    let store = state.store.clone();
    blocking("recording a form's answer", move || {
        let delivery_id = format!("email-form:{}", uuid::Uuid::new_v4().simple());
        store.answer_email_form(&NewJob {
            delivery_id: &delivery_id,
            action: "email-form",
            series_id: &subject.series_id,
            repo: &subject.repo,
            issue: subject.issue,
            kind: &job,
            once_per_issue: false,
            body: None,
        })
    })
    .await
}

/// The address typed into the form, or what to tell the visitor about it.
fn given_address(given: &str) -> Result<EmailAddress, &'static str> {
    match EmailAddress::parse(given) {
        Ok(email) if crate::core::request::is_deliverable(&email) => Ok(email),
        Err(error) if error.is_unsupported_form() => Err(
            "That form of address (a quoted part before the @, or an IP address instead of a domain) is not supported; please give a plain address like name@example.org.",
        ),
        _ => Err("That is not an address invitations can be sent to; please check it."),
    }
}
