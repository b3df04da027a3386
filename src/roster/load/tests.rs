use std::path::Path;

use jiff::civil::date;

use crate::roster::test_support::{EXAMPLE, error_of, member, write};
use crate::roster::{Problem, Roster, RosterError, add, is_valid_github_login};

#[test]
fn a_file_of_comments_is_an_empty_roster() {
    for text in ["", "# nobody yet\n", "# a\n\n   # b\n", "\u{feff}# bom\n"] {
        let roster = Roster::parse(text, Path::new("r.toml")).unwrap();
        assert!(roster.is_empty());
        assert_eq!(roster.len(), 0);
    }
}

#[test]
fn loads_several_members_with_both_date_forms() {
    let dir = tempfile::tempdir().unwrap();
    let roster = Roster::load(&write(&dir, EXAMPLE)).unwrap();
    assert_eq!(roster.len(), 2);
    let [octocat, ada] = roster.members() else {
        panic!()
    };
    assert_eq!(octocat.github, "octocat");
    assert_eq!(octocat.name, "The Octocat");
    assert_eq!(octocat.email.expose(), "octocat@example.org");
    assert_eq!(octocat.added, Some(date(2026, 11, 24)));
    assert_eq!(
        octocat.via.as_deref(),
        Some("InnerSourceCommons/ispo-working-group#12")
    );
    assert_eq!(ada.github, "ada-l");
    assert_eq!(ada.name, "ada-l", "the name defaults to the login");
    assert_eq!(ada.email.expose(), "Ada@Example.org");
    assert_eq!(ada.added, Some(date(2026, 1, 5)));
    assert_eq!(ada.via, None);
}

#[test]
fn invalid_email_is_located_and_not_echoed() {
    let text = "[[member]]\ngithub = \"octocat\"\nemail =  \"octocat(at)example.org\"\n";
    let (line, column, problem, message) = error_of(text);
    assert_eq!((line, column), (3, 10));
    assert_eq!(
        problem,
        Problem::InvalidEmail {
            member: "octocat".into()
        }
    );
    assert!(message.contains("member `octocat`"), "{message}");
    assert!(!message.contains("(at)example"), "{message}");
}

#[test]
fn bad_dates_are_located() {
    for (value, column) in [
        ("\"2026-13-01\"", 9),
        ("\"2026-02-30\"", 9),
        ("\"24.11.2026\"", 9),
        ("\"2026-1-5\"", 9),
        ("2026-02-30", 9),
        ("2026-11-24T10:00:00Z", 9),
        ("10:00:00", 9),
        ("5", 9),
    ] {
        let text = format!(
            "[[member]]\ngithub = \"octocat\"\nemail = \"o@example.org\"\nadded = {value}\n"
        );
        let (line, col, problem, message) = error_of(&text);
        assert_eq!((line, col), (4, column), "{value}: {message}");
        assert!(
            matches!(problem, Problem::InvalidDate { .. })
                || matches!(problem, Problem::Syntax { .. }),
            "{value}: {problem:?}"
        );
    }
    // Structurally valid dates that don't exist are ours to report.
    let text =
        "[[member]]\ngithub = \"octocat\"\nemail = \"o@example.org\"\nadded = \"2026-02-30\"\n";
    assert_eq!(
        error_of(text).2,
        Problem::InvalidDate {
            member: "octocat".into(),
            reason: "no such date"
        }
    );
}

#[test]
fn invalid_logins_are_located_and_not_echoed() {
    for login in [
        "",
        "-octo",
        "octo-",
        "octo cat",
        "octo_cat",
        "a@example.org",
        &"a".repeat(40),
    ] {
        let text = format!("[[member]]\nemail = \"o@example.org\"\ngithub = \"{login}\"\n");
        let (line, column, problem, message) = error_of(&text);
        assert_eq!((line, column), (3, 10), "{login}");
        assert_eq!(problem, Problem::InvalidLogin);
        assert!(!message.contains("a@example.org"), "{message}");
    }
    assert!(is_valid_github_login("a"));
    assert!(is_valid_github_login(&"a".repeat(39)));
    assert!(is_valid_github_login("Octo-Cat-2"));
}

#[test]
fn duplicate_login_in_another_case() {
    let text = "[[member]]\ngithub = \"octocat\"\nemail = \"a@example.org\"\n\n[[member]]\ngithub = \"OctoCat\"\nemail = \"b@example.org\"\n";
    let (line, column, problem, message) = error_of(text);
    assert_eq!((line, column), (6, 10));
    assert_eq!(
        problem,
        Problem::DuplicateLogin {
            login: "OctoCat".into(),
            first_line: 2
        }
    );
    assert!(
        message.contains("duplicate member `OctoCat` (also at line 2"),
        "{message}"
    );
}

#[test]
fn duplicate_email_in_another_case() {
    let text = "[[member]]\ngithub = \"a\"\nemail = \"same@example.org\"\n\n[[member]]\ngithub = \"b\"\nemail = \"Same@EXAMPLE.org\"\n";
    let (line, column, problem, message) = error_of(text);
    assert_eq!((line, column), (7, 9));
    assert_eq!(
        problem,
        Problem::DuplicateEmail {
            member: "b".into(),
            other: "a".into(),
            first_line: 3
        }
    );
    assert!(!message.to_lowercase().contains("same@"), "{message}");
}

#[test]
fn missing_file_says_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let error = Roster::load(&path).unwrap_err();
    assert!(matches!(error, RosterError::NotFound { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    assert!(message.contains("create it"), "{message}");
    assert!(matches!(
        add(&path, member("eve", "Eve", "eve@example.org")),
        Err(RosterError::NotFound { .. })
    ));
    assert!(!path.exists());
}
