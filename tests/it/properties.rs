//! Properties (proptest) of the parts that read or write untrusted text:
//!
//! - the issue-form parser never panics, and a form rendered the way GitHub renders it reads
//!   back as the values that were typed, normalised as [`parse_form`] documents;
//! - the `.ics` builder's output is CRLF lines of at most 75 octets and re-parses (with the
//!   `icalendar` crate) whatever the titles, descriptions, names and locations hold, with the
//!   text values read back as given and no property injected;
//! - whatever bytes, event name and signature reach `POST /webhook`, the real server answers
//!   as the README documents (413, 401, 400, 200 or 202; never 5xx) and still answers
//!   `/healthz` afterwards.
//!
//! The case counts are kept modest so the suite stays fast (about 2 s in all);
//! `PROPTEST_CASES=N` sets them all, to search longer.

use crate::common::{
    App, GitHubMock, ServerOptions, SmtpSink, TestServer, Workspace, fixture_json,
};
use icalendar::parser::{Component, Property, read_calendar, unfold};
use invitebot::core::calendar::ics::{Invitation, Method, Person};
use invitebot::core::calendar::is_hidden_format;
use invitebot::core::calendar::schedule::Schedule;
use invitebot::core::email_address::EmailAddress;
use invitebot::core::request::{
    EmailFinding, EmailSource, FormSection, clean_name, parse_form, read_request,
};
use invitebot::core::webhook_event::{GitHubEvent, IssuesEvent, parse};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::Value;

/// `default` cases, or `PROPTEST_CASES` when set (to search longer). Failures are not saved to a
/// file (proptest would write them beside `tests/it/main.rs`, into the source tree): the message
/// shows the minimal input.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Strategies shared by the properties
// ---------------------------------------------------------------------------

/// Characters that matter to the formats under test: line breaks, iCalendar delimiters, quotes,
/// Markdown, controls, Unicode line separators, wide and astral characters.
const SPECIAL: &[char] = &[
    '\r', '\n', ';', ',', '\\', '"', ':', '\t', ' ', '#', '_', '*', '`', '>', '<', '@', '.',
    '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}', 'é', '長',
    '😀',
];

/// Text a careless or hostile user may type: any character, with [`SPECIAL`] ones made likely.
fn hostile_text(max_chars: usize) -> impl Strategy<Value = String> {
    let char = prop_oneof![
        3 => any::<char>(),
        3 => select(SPECIAL),
        4 => proptest::char::range('a', 'z'),
    ];
    proptest::collection::vec(char, 0..=max_chars).prop_map(|chars| chars.into_iter().collect())
}

/// [`hostile_text`], sometimes repeated into a very long text.
fn long_hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => hostile_text(80),
        1 => (hostile_text(12), 1..60usize).prop_map(|(text, n)| text.repeat(n)),
    ]
}

// ---------------------------------------------------------------------------
// Issue form
// ---------------------------------------------------------------------------

/// One line of a form answer: hostile text or Markdown-ish text, never `### ` at its start
/// (such a line starts the next section, by the format's definition).
fn form_line() -> impl Strategy<Value = String> {
    let markdownish = select(
        &[
            "_No response_",
            "- [x] I agree",
            "**bold** and `code`",
            "> quoted",
            "#### a smaller heading",
            "###no space",
            "###",
            "",
            "   ",
            "\t",
            "<!-- comment -->",
            "```",
            "| a | b |",
            "\r",
        ][..],
    );
    prop_oneof![
        3 => hostile_text(40),
        2 => markdownish.prop_map(String::from),
    ]
    .prop_map(|line| line.replace('\n', " "))
    .prop_filter("`### ` starts a section", |line| !line.starts_with("### "))
}

/// A heading label: one line of hostile text.
fn form_label() -> impl Strategy<Value = String> {
    hostile_text(30).prop_map(|label| label.replace('\n', " "))
}

/// A form: text before the first heading, then (label, answer lines) fields.
#[derive(Debug, Clone)]
struct Form {
    intro: Vec<String>,
    fields: Vec<(String, Vec<String>)>,
    eol: &'static str,
}

fn form() -> impl Strategy<Value = Form> {
    let field = (form_label(), proptest::collection::vec(form_line(), 0..6));
    (
        proptest::collection::vec(form_line(), 0..3),
        proptest::collection::vec(field, 0..6),
        select(&["\n", "\r\n"][..]),
    )
        .prop_map(|(intro, fields, eol)| Form { intro, fields, eol })
}

impl Form {
    /// The body as GitHub renders an issue form: `### Label`, a blank line, the answer, a blank
    /// line, for each field.
    fn render(&self) -> String {
        let eol = self.eol;
        let mut body: String = self.intro.iter().map(|l| format!("{l}{eol}")).collect();
        for (label, lines) in &self.fields {
            body.push_str(&format!("### {label}{eol}{eol}"));
            body.push_str(&lines.join(eol));
            body.push_str(&format!("{eol}{eol}"));
        }
        body
    }

    /// What [`parse_form`] documents it reads back: the heading trimmed; the answer's lines
    /// without their trailing CRs, joined with LF, trimmed (Unicode white space), and `None`
    /// when that is empty or `_No response_`.
    fn expected(&self) -> Vec<FormSection> {
        self.fields
            .iter()
            .map(|(label, lines)| {
                let value = lines
                    .iter()
                    .map(|l| l.trim_end_matches('\r'))
                    .collect::<Vec<_>>()
                    .join("\n");
                let value = value.trim();
                FormSection {
                    heading: label.trim().to_string(),
                    value: (!value.is_empty() && value != "_No response_")
                        .then(|| value.to_string()),
                }
            })
            .collect()
    }
}

/// An issue by a human with `body`, as the webhook parser reads it from a delivery.
fn issue_event(body: &str) -> IssuesEvent {
    let user = serde_json::json!({ "login": "Codertocat", "type": "User" });
    let payload = serde_json::json!({
        "action": "opened",
        "issue": { "number": 7, "title": "Please invite me", "body": body, "user": user, "labels": [] },
        "repository": { "full_name": "Codertocat/Hello-World" },
        "sender": user,
    });
    let bytes = serde_json::to_vec(&payload).expect("a Value serialises");
    match parse("issues", &bytes) {
        Ok(GitHubEvent::Issues(event)) => event,
        other => panic!("not an issues event: {other:?}"),
    }
}

/// Any text with some lines made into headings, so sections of all shapes appear.
fn form_like_text() -> impl Strategy<Value = String> {
    proptest::collection::vec((any::<bool>(), hostile_text(40)), 0..12).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(heading, text)| if heading { format!("### {text}") } else { text })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Checks what `clean_name` promises: one line, no control characters, white space folded, at
/// most 100 characters, not empty.
fn check_clean(name: &str) -> Result<(), TestCaseError> {
    prop_assert!(!name.is_empty());
    prop_assert!(name.chars().count() <= 100, "{name:?}");
    prop_assert!(!name.chars().any(char::is_control), "{name:?}");
    prop_assert_eq!(name.split_whitespace().collect::<Vec<_>>().join(" "), name);
    Ok(())
}

/// Email addresses people type (all valid for lettre, with a dotted domain).
fn email_address() -> impl Strategy<Value = String> {
    "[a-z0-9]{1,12}([._+-][a-z0-9]{1,8})?@[a-z0-9]{1,10}(-[a-z0-9]{1,5})?\\.(org|com|de|example)"
}

/// Hostile text that can't hold an address, a line break or a heading (to put around an
/// address).
fn noise() -> impl Strategy<Value = String> {
    hostile_text(20).prop_map(|t| t.replace(['@', '#', '\n', '\r'], " "))
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_rendered_form_reads_back_as_typed(form in form()) {
        prop_assert_eq!(parse_form(&form.render()), form.expected());
    }

    #[test]
    fn any_body_parses_into_well_formed_sections(body in form_like_text()) {
        let sections = parse_form(&body);
        let headings = body
            .lines()
            .filter(|l| l.trim_end_matches('\r').starts_with("### "))
            .count();
        prop_assert_eq!(sections.len(), headings);
        for section in &sections {
            prop_assert_eq!(section.heading.trim(), &section.heading);
            if let Some(value) = &section.value {
                prop_assert!(!value.is_empty());
                prop_assert_eq!(value.trim(), value);
                prop_assert_ne!(value, "_No response_");
                prop_assert!(value.split('\n').all(|l| !l.ends_with('\r')));
                // A line starting with `### ` would have started a section; only the first line
                // can (`  ### x` is no heading, but the trim makes it `### x`).
                prop_assert!(value.split('\n').skip(1).all(|l| !l.starts_with("### ")));
            }
        }
    }

    #[test]
    fn any_body_gives_a_clean_name_and_a_deliverable_address(body in form_like_text()) {
        let request = read_request(&issue_event(&body));
        if let Some(name) = &request.name {
            check_clean(name)?;
        }
        if let EmailFinding::Found(email, source) = &request.email {
            prop_assert!(invitebot::core::request::is_deliverable(email));
            prop_assert!(matches!(source, EmailSource::Form | EmailSource::Body));
            // The local part as typed; the domain in ASCII (an internationalised one, or one
            // IDNA maps, such as `¹.é`, becomes `1.xn--9ca`).
            let (local, domain) = email.expose().rsplit_once('@').unwrap();
            prop_assert!(body.contains(&format!("{local}@")), "{email:?}");
            prop_assert!(domain.is_ascii(), "{email:?}");
        }
    }

    #[test]
    fn clean_name_is_clean_and_idempotent(text in long_hostile_text()) {
        if let Some(name) = clean_name(&text) {
            check_clean(&name)?;
            let again = clean_name(&name);
            prop_assert_eq!(again.as_deref(), Some(name.as_str()));
        }
    }

    #[test]
    fn the_form_email_and_name_are_read_back(
        name in "[A-Za-zÀ-ÿ'-]{1,20}( [A-Za-zÀ-ÿ'-]{1,20}){0,3}",
        email in email_address(),
        (before, after) in (noise(), noise()),
        eol in select(&["\n", "\r\n"][..]),
    ) {
        let body = [
            "### Your name", "", &name, "",
            "### Email for the calendar invite", "", &format!("{before} {email} {after}"), "",
            "### Anything else?", "", "_No response_",
        ]
        .join(eol);
        let request = read_request(&issue_event(&body));
        prop_assert_eq!(request.name, Some(name));
        let expected = EmailAddress::parse(&email).expect("the strategy makes valid addresses");
        prop_assert_eq!(request.email, EmailFinding::Found(expected, EmailSource::Form));
    }
}

// ---------------------------------------------------------------------------
// iCalendar
// ---------------------------------------------------------------------------

/// The longest physical line of an iCalendar text, in octets, without the CRLF (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// The text values of an invitation, all untrusted.
#[derive(Debug, Clone)]
struct InviteTexts {
    summary: String,
    description: String,
    location: Option<String>,
    organizer: String,
    attendee: String,
}

fn invite_texts() -> impl Strategy<Value = InviteTexts> {
    (
        long_hostile_text(),
        long_hostile_text(),
        proptest::option::of(long_hostile_text()),
        long_hostile_text(),
        long_hostile_text(),
    )
        .prop_map(
            |(summary, description, location, organizer, attendee)| InviteTexts {
                summary,
                description,
                location,
                organizer,
                attendee,
            },
        )
}

/// A TEXT value as a reader gets it back: CR dropped, U+2028/U+2029 read as line breaks, other
/// control characters except LF and TAB dropped (TEXT may not hold them).
fn text_read_back(input: &str) -> String {
    input
        .chars()
        .filter_map(|c| match c {
            '\u{2028}' | '\u{2029}' => Some('\n'),
            '\n' | '\t' => Some(c),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// A CN as a reader gets it back: the name without `"`, controls, U+2028/U+2029 and hidden
/// formatting characters, trimmed; `None` (no CN parameter) when nothing is left.
fn cn_read_back(name: &str) -> Option<String> {
    let kept: String = name
        .chars()
        .filter(|&c| {
            c != '"'
                && !c.is_control()
                && !matches!(c, '\u{2028}' | '\u{2029}')
                && !is_hidden_format(c)
        })
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_string())
}

/// Checks the physical form of an iCalendar text: CRLF line ends only, every physical line
/// non-empty and at most 75 octets, no fold between a backslash and what it escapes.
fn check_physical_lines(ics: &str) -> Result<(), TestCaseError> {
    prop_assert!(ics.ends_with("\r\n"));
    prop_assert!(
        !ics.replace("\r\n", "").contains(['\r', '\n']),
        "bare CR or LF"
    );
    let physical: Vec<&str> = ics.split_terminator("\r\n").collect();
    for (i, line) in physical.iter().enumerate() {
        prop_assert!(!line.is_empty());
        prop_assert!(
            line.len() <= MAX_LINE_OCTETS,
            "{} octets: {line:?}",
            line.len()
        );
        if physical
            .get(i + 1)
            .is_some_and(|next| next.starts_with(' '))
        {
            let backslashes = line.bytes().rev().take_while(|&b| b == b'\\').count();
            prop_assert_eq!(backslashes % 2, 0, "folded inside an escape: {:?}", line);
        }
    }
    Ok(())
}

fn properties<'a>(component: &'a Component<'a>, name: &str) -> Vec<&'a Property<'a>> {
    component
        .properties
        .iter()
        .filter(|p| p.name.as_str() == name)
        .collect()
}

fn cn_param(property: &Property<'_>) -> Option<String> {
    property
        .params
        .iter()
        .find(|p| p.key.as_str() == "CN")
        .and_then(|p| p.val.as_ref())
        .map(|v| v.as_str().to_string())
}

/// Re-parses `ics` and checks the VEVENT holds exactly the expected properties, with the text
/// values and CNs read back as the input.
fn check_reparses(ics: &str, texts: &InviteTexts) -> Result<(), TestCaseError> {
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded)
        .map_err(|e| TestCaseError::fail(format!("does not re-parse: {e}\n{ics}")))?;
    let events: Vec<&Component<'_>> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    prop_assert_eq!(events.len(), 1);
    let event = events[0];
    prop_assert!(event.components.is_empty());

    let location = texts.location.as_ref().filter(|l| !l.trim().is_empty());
    let mut expected_names = vec![
        "UID",
        "SEQUENCE",
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "RRULE",
        "SUMMARY",
        "DESCRIPTION",
    ];
    expected_names.extend(location.map(|_| "LOCATION"));
    expected_names.extend(["ORGANIZER", "ATTENDEE", "STATUS", "TRANSP"]);
    let names: Vec<&str> = event.properties.iter().map(|p| p.name.as_str()).collect();
    prop_assert_eq!(names, expected_names);

    let values = [
        ("SUMMARY", Some(&texts.summary)),
        ("DESCRIPTION", Some(&texts.description)),
        ("LOCATION", location),
    ];
    for (name, input) in values {
        if let Some(input) = input {
            prop_assert_eq!(
                properties(event, name)[0].val.as_str(),
                text_read_back(input),
                "{}",
                name
            );
        }
    }
    for (name, person, address) in [
        ("ORGANIZER", &texts.organizer, "mailto:wg@example.org"),
        ("ATTENDEE", &texts.attendee, "mailto:ada@example.org"),
    ] {
        let property = properties(event, name)[0];
        prop_assert_eq!(property.val.as_str(), address);
        // Compared trimmed: the builder trims the name before it drops the characters above,
        // so `"Ada\u{a0}\0"` gives `CN="Ada\u{a0}"` (white space only at its ends).
        let cn = cn_param(property)
            .map(|cn| cn.trim().to_string())
            .filter(|cn| !cn.is_empty());
        prop_assert_eq!(cn, cn_read_back(person), "{} CN", name);
    }
    Ok(())
}

fn la_series() -> Schedule {
    Schedule::new(
        "America/Los_Angeles",
        jiff::civil::datetime(2024, 5, 6, 8, 0, 0, 0),
        60,
        2,
        Vec::new(),
    )
    .expect("a valid schedule")
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn any_invitation_text_re_parses_unchanged(texts in invite_texts(), cancel in any::<bool>()) {
        let schedule = la_series();
        let person = |name: &str, email: &str| Person {
            name: name.to_string(),
            email: EmailAddress::parse(email).expect("a valid address"),
        };
        let organizer = person(&texts.organizer, "wg@example.org");
        let attendee = person(&texts.attendee, "ada@example.org");
        let ics = Invitation {
            method: if cancel { Method::Cancel } else { Method::Request },
            uid: "series@invitebot.example.org",
            sequence: 1,
            dtstamp: "2026-11-24T12:00:00Z".parse().expect("a valid timestamp"),
            summary: &texts.summary,
            description: &texts.description,
            location: texts.location.as_deref(),
            organizer: &organizer,
            attendee: Some(&attendee),
            schedule: &schedule,
        }
        .to_ics();
        check_physical_lines(&ics)?;
        check_reparses(&ics, &texts)?;
    }
}

// ---------------------------------------------------------------------------
// POST /webhook
// ---------------------------------------------------------------------------

/// The body limit the test server is given (small, so that bodies over it are cheap to make;
/// every fixture fits).
const BODY_LIMIT: usize = 32 * 1024;

/// How many requests the webhook property sends (`PROPTEST_CASES` overrides).
const WEBHOOK_CASES: u32 = 200;

/// The fixture payloads the JSON bodies are made from.
const FIXTURES: &[&str] = &[
    "issues.opened.join-request.json",
    "issues.opened.json",
    "issues.edited.json",
    "issues.labeled.json",
    "ping.json",
    "installation.created.json",
];

/// How a request is signed.
#[derive(Debug, Clone)]
enum Signing {
    /// No `X-Hub-Signature-256` header.
    Missing,
    /// A header holding this text.
    Garbage(String),
    /// A correct signature made with another secret.
    WrongSecret,
    /// Signed with the server's secret.
    Correct,
}

/// One request to `POST /webhook`.
#[derive(Debug, Clone)]
struct Delivery {
    event: String,
    body: Vec<u8>,
    signing: Signing,
    /// Send with an id already used by an earlier case (GitHub's redelivery).
    reuse_id: bool,
}

/// What the server must answer to a delivery.
#[derive(Debug)]
enum Expect {
    Exactly(u16),
    /// A signed `issues` delivery that is JSON: the answer depends on the payload's shape and
    /// whether it is a join request.
    AnyOf(&'static [u16]),
}

impl Delivery {
    /// The answer the README documents for this request.
    fn expected(&self) -> Expect {
        if self.body.len() > BODY_LIMIT {
            return Expect::Exactly(413);
        }
        if !matches!(self.signing, Signing::Correct) {
            return Expect::Exactly(401);
        }
        let event = self.event.trim();
        // Strict: JSON, UTF-8 throughout. Lenient: JSON but for invalid UTF-8 inside strings,
        // which a parser that skips a string without reading it doesn't see.
        let strict = serde_json::from_slice::<Value>(&self.body).is_ok();
        let lenient = serde_json::from_slice::<serde::de::IgnoredAny>(&self.body).is_ok();
        match (event, strict, lenient) {
            ("", _, _) | (_, _, false) => Expect::Exactly(400),
            ("issues" | "issue_comment", _, _) => Expect::AnyOf(&[200, 202, 400]),
            (_, true, _) => Expect::Exactly(200),
            (_, false, true) => Expect::AnyOf(&[200, 400]),
        }
    }
}

fn event_name() -> impl Strategy<Value = String> {
    let known = select(
        &[
            "issues",
            " issues ",
            "ISSUES",
            "ping",
            "installation",
            "issue_comment",
            "push",
            "",
        ][..],
    );
    prop_oneof![
        4 => known.prop_map(String::from),
        1 => "[a-z_]{1,16}",
        1 => "[ -~]{0,24}",
    ]
}

/// A JSON leaf or small structure to put somewhere in a payload.
fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(
            &[
                "opened", "edited", "labeled", "reopened", "closed", "User", "Bot"
            ][..]
        )
        .prop_map(Value::from),
        long_hostile_text().prop_map(Value::from),
        proptest::collection::vec(long_hostile_text(), 0..3).prop_map(|names| {
            Value::Array(
                names
                    .into_iter()
                    .map(|n| serde_json::json!({ "name": n }))
                    .collect(),
            )
        }),
        Just(serde_json::json!({})),
        Just(serde_json::json!([])),
    ]
}

/// Where in a payload a mutation goes.
const PATHS: &[&[&str]] = &[
    &["action"],
    &["issue", "title"],
    &["issue", "body"],
    &["issue", "number"],
    &["issue", "labels"],
    &["issue", "user", "login"],
    &["issue", "user", "type"],
    &["issue"],
    &["sender", "type"],
    &["sender"],
    &["repository", "full_name"],
    &["installation", "id"],
];

/// Sets `path` in `value` to `new`, turning whatever is on the way into objects.
fn set_path(value: &mut Value, path: &[&str], new: Value) {
    let mut here = value;
    for key in path {
        if !here.is_object() {
            *here = serde_json::json!({});
        }
        here = here
            .as_object_mut()
            .expect("made an object above")
            .entry(key.to_string())
            .or_insert(Value::Null);
    }
    *here = new;
}

/// A fixture payload with up to four fields replaced by arbitrary JSON.
fn mutated_fixture(fixtures: Vec<Value>) -> impl Strategy<Value = Vec<u8>> {
    let mutation = (select(PATHS), json_value());
    (select(fixtures), proptest::collection::vec(mutation, 0..4)).prop_map(
        |(mut payload, mutations)| {
            for (path, new) in mutations {
                set_path(&mut payload, path, new);
            }
            serde_json::to_vec(&payload).expect("a Value serialises")
        },
    )
}

fn body(fixtures: Vec<Value>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => mutated_fixture(fixtures),
        2 => proptest::collection::vec(any::<u8>(), 0..512),
        1 => hostile_text(200).prop_map(String::into_bytes),
        1 => (any::<u8>(), 1..64usize).prop_map(|(byte, over)| vec![byte; BODY_LIMIT + over]),
    ]
}

fn signing() -> impl Strategy<Value = Signing> {
    prop_oneof![
        1 => Just(Signing::Missing),
        1 => "(sha256=|sha1=)?[ -~]{0,72}".prop_map(Signing::Garbage),
        1 => Just(Signing::WrongSecret),
        4 => Just(Signing::Correct),
    ]
}

fn delivery(fixtures: Vec<Value>) -> impl Strategy<Value = Delivery> {
    (
        event_name(),
        body(fixtures),
        signing(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(event, body, signing, reuse_id)| Delivery {
            event,
            body,
            signing,
            reuse_id,
        })
}

/// The server under test: the real binary with a small body limit and no limit on failed
/// signatures (past it every request gets `429` before its signature is read, and the
/// property is about what the parsers make of the bytes).
async fn start_app() -> App {
    let github = GitHubMock::start_with_defaults().await;
    let smtp = SmtpSink::start();
    let ws = Workspace::new(ServerOptions::new(&github, &smtp));
    let config = ws
        .config_text()
        .replacen(
            "[server]\n",
            &format!("[server]\nmax_body_bytes = {BODY_LIMIT}\n"),
            1,
        )
        .replacen("[webhook]\n", "[webhook]\nfailed_signature_limit = 0\n", 1);
    ws.write_config(&config);
    let server = TestServer::start_in(ws).await;
    App {
        github,
        smtp,
        server,
    }
}

/// A client that opens a new connection for every request. Over one kept-alive connection, a
/// request sent after a `413` that the server answered without reading the body fails: the
/// server closes that connection without saying so (`Connection: close`) first.
fn fresh_connection_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("build the HTTP client")
}

/// Sends `delivery` as GitHub would (the harness's headers); the status code, or why there is
/// none.
async fn send(
    client: &reqwest::Client,
    server: &TestServer,
    delivery: &Delivery,
) -> Result<u16, String> {
    const REUSED_ID: &str = "6f1ae7a0-0000-4000-8000-000000000001";
    let id = if delivery.reuse_id {
        REUSED_ID.to_string()
    } else {
        crate::common::new_delivery_id()
    };
    let mut request = client
        .post(format!("{}/webhook", server.base_url()))
        .header("X-GitHub-Event", &delivery.event)
        .header("X-GitHub-Delivery", id)
        .header("Content-Type", "application/json")
        .header("User-Agent", "GitHub-Hookshot/044aadd")
        .body(delivery.body.clone());
    let signature = match &delivery.signing {
        Signing::Missing => None,
        Signing::Garbage(text) => Some(text.clone()),
        Signing::WrongSecret => Some(crate::common::sign("not-the-secret", &delivery.body)),
        Signing::Correct => Some(crate::common::sign(
            &server.options().secret,
            &delivery.body,
        )),
    };
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("no answer: {e:?}"))?;
    Ok(response.status().as_u16())
}

/// The last lines of the server's log, for a failure message.
fn log_tail(server: &TestServer) -> String {
    let lines = server.log_lines();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn any_webhook_request_gets_a_documented_answer_and_the_server_stays_up() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let app = runtime.block_on(start_app());
    let fixtures: Vec<Value> = FIXTURES.iter().map(|name| fixture_json(name)).collect();
    let client = fresh_connection_client();
    let outcome = TestRunner::new(cases(WEBHOOK_CASES)).run(&delivery(fixtures), |delivery| {
        let status = runtime
            .block_on(send(&client, &app.server, &delivery))
            .map_err(TestCaseError::fail)?;
        match delivery.expected() {
            Expect::Exactly(expected) => prop_assert_eq!(status, expected),
            Expect::AnyOf(allowed) => prop_assert!(allowed.contains(&status), "{status}"),
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!(
            "{failure}\n--- server log (end) ---\n{}",
            log_tail(&app.server)
        );
    }
    let (health, _) = runtime.block_on(app.server.get("/healthz"));
    assert_eq!(health.as_u16(), 200, "{}", log_tail(&app.server));
    app.server.assert_log_lacks("panicked");
}
