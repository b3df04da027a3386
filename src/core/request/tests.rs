use super::*;
use crate::core::identity::RepoName;
use crate::core::series::testing::sample_series;
use crate::core::series::{Series, default_uid};
use crate::core::webhook_event::{Account, Issue, IssueAction, Label, Repository};

const JOIN_FORM: &str = "### Your name\n\nAda Lovelace\n\n### Email for the calendar invite\n\nada@example.org\n\n### Anything else?\n\n_No response_";

/// The sample series, for `Codertocat/Hello-World` (the fixtures' repository), matching the
/// label `meeting-invite` or a title with "join" or "invite".
fn series() -> Vec<Series> {
    let repo = RepoName::parse("Codertocat/Hello-World").unwrap();
    let mut series = sample_series();
    series.uid = default_uid(&series.id, &repo);
    series.repo = repo;
    series.matcher.title = Some(regex::Regex::new(r"(?i)\b(join|invite)\b").unwrap());
    vec![series]
}

fn event(repo: &str, title: &str, labels: &[&str], body: Option<&str>) -> IssuesEvent {
    let user = Account {
        login: "Codertocat".into(),
        kind: "User".into(),
    };
    IssuesEvent {
        action: IssueAction::Opened,
        issue: Issue {
            number: 7,
            title: title.into(),
            body: body.map(String::from),
            user: user.clone(),
            labels: labels
                .iter()
                .map(|l| Label {
                    name: l.to_string(),
                })
                .collect(),
        },
        repository: Repository {
            id: None,
            full_name: repo.into(),
        },
        sender: user,
        installation_id: None,
        label: None,
    }
}

fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

#[test]
fn form_sections_are_split_and_empty_answers_are_none() {
    let sections = parse_form(JOIN_FORM);
    assert_eq!(
        sections,
        vec![
            FormSection {
                heading: "Your name".into(),
                value: Some("Ada Lovelace".into())
            },
            FormSection {
                heading: "Email for the calendar invite".into(),
                value: Some("ada@example.org".into())
            },
            FormSection {
                heading: "Anything else?".into(),
                value: None
            },
        ]
    );
}

#[test]
fn form_with_crlf_multiline_and_leading_text() {
    let body = "Intro text\r\n### Name\r\n\r\n  Grace Hopper \r\n\r\n### Notes\r\n\r\nline one\r\nline two\r\n\r\n### Email\r\n\r\n";
    assert_eq!(
        parse_form(body),
        vec![
            FormSection {
                heading: "Name".into(),
                value: Some("Grace Hopper".into())
            },
            FormSection {
                heading: "Notes".into(),
                value: Some("line one\nline two".into())
            },
            FormSection {
                heading: "Email".into(),
                value: None
            },
        ]
    );
    assert!(parse_form("no headings here\nat all").is_empty());
    assert!(parse_form("").is_empty());
}

#[test]
fn email_choice_follows_the_rule() {
    let cases: Vec<(&str, EmailFinding)> = vec![
        (
            JOIN_FORM,
            EmailFinding::Found(email("ada@example.org"), EmailSource::Form),
        ),
        (
            "### Email\r\n\r\nada@example.org\r\n",
            EmailFinding::Found(email("ada@example.org"), EmailSource::Form),
        ),
        (
            "### Email\n\n`<ada@example.org>` (work)\n",
            EmailFinding::Found(email("ada@example.org"), EmailSource::Form),
        ),
        (
            "### Email\n\n[ada@example.org](mailto:ada@example.org)\n",
            EmailFinding::Found(email("ada@example.org"), EmailSource::Form),
        ),
        // An answer that is not an address is an error, even if the body has one elsewhere.
        (
            "### Email\n\nmy usual one\n\n### Notes\n\nbob@example.org",
            EmailFinding::Invalid,
        ),
        ("### Email\n\nada@localhost\n", EmailFinding::Invalid),
        // Forms of address the bot doesn't send to get their own answer.
        (
            "### Email\n\n\"a b\"@example.org\n",
            EmailFinding::Unsupported,
        ),
        ("### Email\n\nx@[127.0.0.1]\n", EmailFinding::Unsupported),
        ("mail me: x@[127.0.0.1]", EmailFinding::Unsupported),
        // An internationalised domain is found, in its ASCII form.
        (
            "### Email\n\nada@bücher.example\n",
            EmailFinding::Found(email("ada@xn--bcher-kva.example"), EmailSource::Form),
        ),
        (
            "### Email\n\n12+ada@users.noreply.github.com\n",
            EmailFinding::Invalid,
        ),
        // An empty answer falls through to free text, then to the profile.
        (
            "### Email\n\n_No response_\n\n### Notes\n\nreach me at bob@example.org.",
            EmailFinding::Found(email("bob@example.org"), EmailSource::Body),
        ),
        (
            "Hi! Please invite me: grace.hopper+wg@navy.example.mil. Thanks",
            EmailFinding::Found(email("grace.hopper+wg@navy.example.mil"), EmailSource::Body),
        ),
        (
            "noreply first 1+x@users.noreply.github.com then real@example.org",
            EmailFinding::Found(email("real@example.org"), EmailSource::Body),
        ),
        (
            "I'd like to join, no email here @someone",
            EmailFinding::Missing,
        ),
        ("### Email\n\n_No response_", EmailFinding::Missing),
        ("", EmailFinding::Missing),
    ];
    for (body, expected) in cases {
        let request = read_request(&event("Codertocat/Hello-World", "Join", &[], Some(body)));
        assert_eq!(request.email, expected, "body: {body:?}");
    }
    let request = read_request(&event("Codertocat/Hello-World", "Join", &[], None));
    assert_eq!(request.email, EmailFinding::Missing);
}

#[test]
fn name_comes_from_a_name_field_only() {
    let cases: Vec<(&str, Option<&str>)> = vec![
        (JOIN_FORM, Some("Ada Lovelace")),
        (
            "### Full name\n\n  Grace \t Hopper\nsecond line\n",
            Some("Grace Hopper"),
        ),
        ("### Name\n\n_No response_\n", None),
        ("### GitHub username\n\nada\n", None),
        ("### Email\n\nada@example.org\n", None),
        ("### Name\n\nEve\u{7}\u{0}Evil\n", Some("EveEvil")),
    ];
    for (body, expected) in cases {
        let request = read_request(&event("Codertocat/Hello-World", "Join", &[], Some(body)));
        assert_eq!(request.name.as_deref(), expected, "body: {body:?}");
    }
    let long = format!("### Name\n\n{}\n", "x".repeat(500));
    assert_eq!(
        read_request(&event("a/b", "t", &[], Some(&long)))
            .name
            .unwrap()
            .chars()
            .count(),
        100
    );
}

#[test]
fn matching_by_repo_label_and_title() {
    let series = series();
    let cases = [
        (
            "Codertocat/Hello-World",
            "Spelling error in the README file",
            vec!["bug"],
            false,
        ),
        (
            "Codertocat/Hello-World",
            "Spelling error",
            vec!["meeting-invite"],
            true,
        ),
        (
            "codertocat/hello-world",
            "Spelling error",
            vec!["Meeting-Invite"],
            true,
        ),
        (
            "Codertocat/Hello-World",
            "Please JOIN me to the calls",
            vec![],
            true,
        ),
        ("Codertocat/Hello-World", "Invite please", vec![], true),
        (
            "Codertocat/Hello-World",
            "Rejoinder about invites",
            vec![],
            false,
        ),
        ("Someone/Else", "Join", vec!["meeting-invite"], false),
        (
            "Codertocat/Hello-World-Fork",
            "Join",
            vec!["meeting-invite"],
            false,
        ),
    ];
    for (repo, title, labels, expected) in cases {
        let e = event(repo, title, &labels, Some(JOIN_FORM));
        assert_eq!(
            is_join_request(&series[0], &e),
            expected,
            "{repo} {title:?} {labels:?}"
        );
        assert_eq!(
            matches!(triage(&series, &e), Triage::JoinRequest(..)),
            expected
        );
    }
}

#[test]
fn bots_are_never_join_requests() {
    let series = series();
    let mut e = event(
        "Codertocat/Hello-World",
        "Join",
        &["meeting-invite"],
        Some(JOIN_FORM),
    );
    e.sender.kind = "Bot".into();
    assert!(matches!(triage(&series, &e), Triage::FromBot));
    let mut e = event(
        "Codertocat/Hello-World",
        "Join",
        &["meeting-invite"],
        Some(JOIN_FORM),
    );
    e.issue.user.kind = "Bot".into();
    assert!(matches!(triage(&series, &e), Triage::FromBot));
}

#[test]
fn the_join_request_fixture_reads_as_expected() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github-webhooks/issues.opened.join-request.json");
    let body = std::fs::read(path).unwrap();
    let crate::core::webhook_event::GitHubEvent::Issues(e) =
        crate::core::webhook_event::parse("issues", &body).unwrap()
    else {
        panic!("not an issues event")
    };
    let series = series();
    let Triage::JoinRequest(series, request) = triage(&series, &e) else {
        panic!("not a join request")
    };
    assert_eq!(series.id, "ispo-wg");
    assert_eq!(
        request,
        InviteRequest {
            login: "Codertocat".into(),
            issue_number: 2,
            name: Some("Ada Lovelace".into()),
            email: EmailFinding::Found(email("ada@example.org"), EmailSource::Form),
        }
    );
}

#[test]
fn hostile_names_are_cleaned_to_one_line_of_visible_text() {
    let cases: Vec<(&str, Option<&str>)> = vec![
        // Line breaks: only the first non-blank line counts, whatever the line ending.
        ("Eve\r\nATTENDEE:mailto:x@evil.org", Some("Eve")),
        ("\r\n\r\n  Eve\rBcc: x@evil.org", Some("EveBcc: x@evil.org")),
        ("Eve\u{2028}Bcc: x@evil.org", Some("Eve Bcc: x@evil.org")),
        // Control characters (C0, DEL, C1, escape sequences) are dropped.
        ("E\u{0}v\u{7}e\u{7f}\u{85}\u{1b}[2J", Some("Eve[2J")),
        // Bidi overrides and isolates ("Trojan Source"), zero-width space, BOM.
        ("\u{202E}gnp.exe\u{202C}", Some("gnp.exe")),
        (
            "Ada\u{2066}\u{2067}\u{2068}\u{2069}\u{200E}\u{200F}\u{061C}",
            Some("Ada"),
        ),
        ("\u{FEFF}\u{200B}Ada\u{2060}", Some("Ada")),
        ("\u{202E}\u{200B}\n\u{FEFF}Grace", Some("Grace")),
        // Joiners stay (emoji, Persian).
        ("👩\u{200D}💻 Ada", Some("👩\u{200D}💻 Ada")),
        // Nothing visible left.
        ("\u{202E}\u{200B} \u{7}\t", None),
        // Everything else is kept as text: escaping is each sink's job.
        ("\"x\";ROLE=CHAIR;X=\"y\"", Some("\"x\";ROLE=CHAIR;X=\"y\"")),
        ("a;b:c,d\\e", Some("a;b:c,d\\e")),
        (
            "@everyone <img src=x onerror=alert(1)> [x](javascript:alert(1))",
            Some("@everyone <img src=x onerror=alert(1)> [x](javascript:alert(1))"),
        ),
        (
            "<!-- invitebot-reply:job:1:0 -->",
            Some("<!-- invitebot-reply:job:1:0 -->"),
        ),
        ("`code` **bold**", Some("`code` **bold**")),
    ];
    for (input, expected) in cases {
        assert_eq!(clean_name(input).as_deref(), expected, "{input:?}");
    }
}

#[test]
fn long_names_are_cut_at_the_limit_without_trailing_space() {
    let long = "長".repeat(MAX_NAME_CHARS * 10);
    assert_eq!(clean_name(&long).unwrap().chars().count(), MAX_NAME_CHARS);
    let spaced = format!("{} tail", "x".repeat(MAX_NAME_CHARS - 1));
    let cut = clean_name(&spaced).unwrap();
    assert_eq!(cut, "x".repeat(MAX_NAME_CHARS - 1), "{cut:?}");
    // Hidden characters don't count toward the limit.
    let hidden = format!("{}Ada", "\u{200B}".repeat(500));
    assert_eq!(clean_name(&hidden).as_deref(), Some("Ada"));
}

#[test]
fn the_form_name_is_cleaned_and_the_title_is_never_read() {
    let body = "### Your name\n\n\u{202E}Eve\u{202C} <b>x</b>\r\nATTENDEE:mailto:x@evil.org\n\n### Email\n\neve@example.org\n";
    let hostile_title = "Join \r\nBcc: x@evil.org <script>alert(1)</script> @everyone";
    let request = read_request(&event(
        "Codertocat/Hello-World",
        hostile_title,
        &[],
        Some(body),
    ));
    assert_eq!(request.name.as_deref(), Some("Eve <b>x</b>"));
    assert_eq!(
        request.email,
        EmailFinding::Found(email("eve@example.org"), EmailSource::Form)
    );
}

#[test]
fn a_label_decides_before_a_title() {
    let series = series();
    let repo = "Codertocat/Hello-World";
    let cases = [
        // A join label wins over a title that mentions leaving.
        (
            "[join] leave-ada",
            vec!["meeting-invite"],
            Some(RequestKind::Join),
        ),
        (
            "Back from parental leave: please invite me",
            vec!["meeting-invite"],
            Some(RequestKind::Join),
        ),
        // A leave label wins whatever the title.
        (
            "Join the calls",
            vec!["leave-meeting"],
            Some(RequestKind::Leave),
        ),
        (
            "Invite me",
            vec!["meeting-invite", "leave-meeting"],
            Some(RequestKind::Leave),
        ),
        // Without a label the title decides, leaving before joining.
        (
            "Please leave me out of the invite",
            vec![],
            Some(RequestKind::Leave),
        ),
        ("Join please", vec![], Some(RequestKind::Join)),
        ("Spelling error", vec!["bug"], None),
    ];
    for (title, labels, expected) in cases {
        let e = event(repo, title, &labels, Some(JOIN_FORM));
        assert_eq!(
            request_kind(&series[0], &e),
            expected,
            "{title:?} {labels:?}"
        );
        let triaged = match triage(&series, &e) {
            Triage::JoinRequest(..) => Some(RequestKind::Join),
            Triage::LeaveRequest(..) => Some(RequestKind::Leave),
            _ => None,
        };
        assert_eq!(triaged, expected, "{title:?} {labels:?}");
    }
}

#[test]
fn a_renamed_repository_matches_by_its_id() {
    let mut series = series();
    series[0].github_repo = Some(crate::core::identity::RepoIdentity {
        id: 1296269,
        name: RepoName::parse("Codertocat/Renamed-World").unwrap(),
    });
    let mut e = event(
        "Codertocat/Renamed-World",
        "Join",
        &["meeting-invite"],
        Some(JOIN_FORM),
    );
    assert!(matches!(triage(&series, &e), Triage::NotAJoinRequest));
    e.repository.id = Some(1296269);
    assert!(matches!(triage(&series, &e), Triage::JoinRequest(..)));
    e.repository.id = Some(7);
    e.repository.full_name = "Codertocat/Hello-World".into();
    assert!(matches!(triage(&series, &e), Triage::JoinRequest(..)));
}
