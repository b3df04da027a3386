//! From an issue to an invite request: which series it is for, who asks, and which email
//! address to use. Pure: no I/O. The profile lookup the last step may need is the pipeline's.

use std::sync::LazyLock;

use regex::Regex;

use crate::core::calendar::is_hidden_format;
use crate::core::email_address::EmailAddress;
use crate::core::identity::Login;
use crate::core::series::Series;
use crate::core::webhook_event::{IssuesEvent, Repository};

/// What an `issues` delivery means for invitebot.
#[derive(Debug)]
pub enum Triage<'c> {
    /// A join request for this series.
    JoinRequest(&'c Series, InviteRequest),
    /// A request to leave this series, by the issue's author.
    LeaveRequest(&'c Series, LeaveRequest),
    /// An issue by a bot or app: never a join request.
    FromBot,
    /// Not on a series' repository, or matching none of its labels and title patterns.
    NotAJoinRequest,
}

/// A join request, as read from the issue alone.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InviteRequest {
    /// The requester's GitHub login (the issue's author).
    pub login: Login,
    /// The issue number.
    pub issue_number: u64,
    /// The name given in the issue form, if any.
    pub name: Option<String>,
    /// The email address the issue gives, if any.
    pub email: EmailFinding,
}

/// What the issue says about the requester's email address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EmailFinding {
    /// A usable address.
    Found(EmailAddress, EmailSource),
    /// The issue form's email field holds something that is not a usable address.
    Invalid,
    /// The issue gives an address of a form the bot doesn't send to (a quoted local part, an
    /// IP literal): the requester is asked for another one.
    Unsupported,
    /// The issue gives no address: the pipeline asks the public profile.
    Missing,
}

/// Where an email address was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EmailSource {
    /// The issue form's email field.
    Form,
    /// Free text in the issue body.
    Body,
    /// The public email of the author's GitHub profile.
    Profile,
    /// The private form linked from the bot's question (never shown on GitHub).
    PrivateForm,
}

impl EmailSource {
    /// A word for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailSource::Form => "form",
            EmailSource::Body => "body",
            EmailSource::Profile => "profile",
            EmailSource::PrivateForm => "private-form",
        }
    }
}

/// One `### Heading` section of a body rendered from a GitHub issue form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSection {
    /// The heading text, without `###`.
    pub heading: String,
    /// The answer; `None` when empty or `_No response_`.
    pub value: Option<String>,
}

/// A request to leave a series.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeaveRequest {
    /// The issue's author, who wants to leave.
    pub login: Login,
    /// The issue number.
    pub issue_number: u64,
}

/// Decides what an `issues` delivery is. The first series (in config order) that the issue is
/// a request for wins. A label decides before a title (see [`request_kind`]).
pub fn triage<'c>(series: &'c [Series], event: &IssuesEvent) -> Triage<'c> {
    let Some((series, kind)) = series
        .iter()
        .find_map(|s| request_kind(s, event).map(|kind| (s, kind)))
    else {
        return Triage::NotAJoinRequest;
    };
    if event.sender.is_bot() || event.issue.user.is_bot() {
        return Triage::FromBot;
    }
    match kind {
        RequestKind::Leave => Triage::LeaveRequest(
            series,
            LeaveRequest {
                login: Login::new(&event.issue.user.login),
                issue_number: event.issue.number,
            },
        ),
        RequestKind::Join => Triage::JoinRequest(series, read_request(event)),
    }
}

/// Which way an issue asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// To join the series.
    Join,
    /// To leave it.
    Leave,
}

/// What the issue asks of the series, if it is on the series' repository and asks anything.
/// Labels decide first: a leave label makes a leave request, else a join label a join request,
/// whatever the title says (a login like `leave-ada`, "back from parental leave"). Only an issue
/// carrying neither is read by its title, a leave title winning over a join title ("please take
/// me off the invite list" is both).
pub fn request_kind(series: &Series, event: &IssuesEvent) -> Option<RequestKind> {
    if !is_on_series_repository(series, &event.repository) {
        return None;
    }
    let matcher = &series.matcher;
    let labelled = |wanted: &[String]| {
        event
            .issue
            .labels
            .iter()
            .any(|label| wanted.iter().any(|m| m.eq_ignore_ascii_case(&label.name)))
    };
    let titled = |re: Option<&Regex>| re.is_some_and(|re| re.is_match(&event.issue.title));
    if labelled(&matcher.leave_labels) {
        Some(RequestKind::Leave)
    } else if labelled(&matcher.labels) {
        Some(RequestKind::Join)
    } else if titled(matcher.leave_title.as_ref()) {
        Some(RequestKind::Leave)
    } else if titled(matcher.title.as_ref()) {
        Some(RequestKind::Join)
    } else {
        None
    }
}

/// Whether a delivery's repository is the series' one: by its id when GitHub told us the
/// series' repository id at start (a renamed repository keeps its id), else by name.
pub fn is_on_series_repository(series: &Series, repository: &Repository) -> bool {
    let known_id = series.github_repo.as_ref().map(|r| r.id);
    let same_id = known_id.is_some() && known_id == repository.id;
    same_id || series.repo.matches(&repository.full_name)
}

/// Whether the issue is a join request for the series (see [`request_kind`]).
pub fn is_join_request(series: &Series, event: &IssuesEvent) -> bool {
    request_kind(series, event) == Some(RequestKind::Join)
}

/// Reads the requester, name and email from the issue.
pub fn read_request(event: &IssuesEvent) -> InviteRequest {
    let body = event.issue.body.as_deref().unwrap_or("");
    let form = parse_form(body);
    InviteRequest {
        login: Login::new(&event.issue.user.login),
        issue_number: event.issue.number,
        name: form_name(&form),
        email: find_email(body, &form),
    }
}

/// Splits a body rendered from an issue form into its sections. GitHub renders each field as
/// `### Label`, a blank line, and the answer (`_No response_` when left empty). Text before the
/// first heading is not part of any section. Accepts `\r\n` line ends.
pub fn parse_form(body: &str) -> Vec<FormSection> {
    let mut sections: Vec<FormSection> = Vec::new();
    let mut lines: Vec<&str> = Vec::new();
    let mut heading: Option<&str> = None;
    for line in body.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(next) = line.strip_prefix("### ") {
            if let Some(h) = heading.replace(next.trim()) {
                sections.push(section(h, &lines));
            }
            lines.clear();
        } else if heading.is_some() {
            lines.push(line);
        }
    }
    if let Some(h) = heading {
        sections.push(section(h, &lines));
    }
    sections
}

fn section(heading: &str, lines: &[&str]) -> FormSection {
    let value = lines.join("\n").trim().to_string();
    let empty = value.is_empty() || value == "_No response_";
    FormSection {
        heading: heading.to_string(),
        value: (!empty).then_some(value),
    }
}

/// Candidate email addresses in free text (validated afterwards by [`EmailAddress::parse`]);
/// a domain may be internationalised.
static EMAIL_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+")
        .expect("valid regex")
});

/// Addresses of a form the bot doesn't send to: a quoted local part, or an IP literal.
static UNSUPPORTED_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""[^"\r\n]*"@[^\s<>]+|[^\s<>@"]+@\[[^\]\s]*\]"#).expect("valid regex")
});

/// Whether `text` holds an address of a form the bot doesn't send to.
fn has_unsupported_address(text: &str) -> bool {
    UNSUPPORTED_LIKE
        .find_iter(text)
        .any(|m| EmailAddress::parse(m.as_str()).is_err_and(|e| e.is_unsupported_form()))
}

/// The first usable address in `text`. GitHub's `noreply` addresses receive no mail.
pub fn first_email(text: &str) -> Option<EmailAddress> {
    EMAIL_LIKE
        .find_iter(text)
        .filter_map(|m| EmailAddress::parse(m.as_str().trim_matches('.')).ok())
        .find(is_deliverable)
}

/// Whether mail to this address can reach a person (GitHub's `noreply` addresses can't).
pub fn is_deliverable(email: &EmailAddress) -> bool {
    !email
        .domain()
        .eq_ignore_ascii_case("users.noreply.github.com")
}

/// The email rule: the form's email field if it has an answer (which must then be usable), else
/// the first address anywhere in the body, else missing. Where no usable address is found but
/// one of a form the bot doesn't send to is, the finding says so.
fn find_email(body: &str, form: &[FormSection]) -> EmailFinding {
    let field = form
        .iter()
        .find(|s| s.heading.to_lowercase().contains("email"));
    if let Some(value) = field.and_then(|s| s.value.as_deref()) {
        return match first_email(value) {
            Some(email) => EmailFinding::Found(email, EmailSource::Form),
            None if has_unsupported_address(value) => EmailFinding::Unsupported,
            None => EmailFinding::Invalid,
        };
    }
    match first_email(body) {
        Some(email) => EmailFinding::Found(email, EmailSource::Body),
        None if has_unsupported_address(body) => EmailFinding::Unsupported,
        None => EmailFinding::Missing,
    }
}

static NAME_HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bname\b").expect("valid regex"));

/// The form's name field (heading with the word "name"), cleaned up for use in a calendar.
fn form_name(form: &[FormSection]) -> Option<String> {
    form.iter()
        .filter(|s| NAME_HEADING.is_match(&s.heading))
        .find_map(|s| s.value.as_deref())
        .and_then(clean_name)
}

/// The longest display name kept, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A display name from untrusted text (an issue form, a GitHub profile): the first non-blank
/// line; control characters, bidirectional controls and invisible characters
/// ([`is_hidden_format`]) removed; white space (U+2028/U+2029 included) folded to single
/// spaces; at most [`MAX_NAME_CHARS`] characters. `None` if nothing is left.
///
/// What is left is plain text that still needs the escaping of each place it goes to: the
/// calendar's `CN` parameter quotes it, lettre encodes the `To:` display name, and comments on
/// issues never contain it (see [`crate::core::texts`]).
pub fn clean_name(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || is_unwanted_in_name(c)))
        .find(|l| !l.is_empty())?;
    let cleaned: String = line.chars().filter(|&c| !is_unwanted_in_name(c)).collect();
    let folded = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = folded.chars().take(MAX_NAME_CHARS).collect();
    let short = short.trim_end();
    (!short.is_empty()).then(|| short.to_string())
}

fn is_unwanted_in_name(c: char) -> bool {
    c.is_control() || is_hidden_format(c)
}

#[cfg(test)]
mod tests;
