use crate::core::source_position::line_col;
use crate::roster::model::{MEMBER_KEYS, TOP_LEVEL_KEYS};
use crate::roster::test_support::error_of;

use super::{Problem, edit_distance, suggest};

#[test]
fn unknown_key_in_member_is_located_and_suggests_a_fix() {
    let text = "[[member]]\ngithub = \"a\"\nemial = \"x@example.org\"\n";
    let (line, column, problem, message) = error_of(text);
    assert_eq!((line, column), (3, 1));
    assert_eq!(
        problem,
        Problem::UnknownKey {
            key: "emial".into(),
            in_member: true,
            suggestion: Some("email")
        }
    );
    assert!(message.contains("did you mean `email`?"), "{message}");
    assert!(!message.contains("x@example.org"), "{message}");
}

#[test]
fn unknown_key_at_top_level() {
    let (line, column, problem, _) = error_of("# c\n[[members]]\ngithub = \"a\"\n");
    assert_eq!((line, column), (2, 3));
    assert_eq!(
        problem,
        Problem::UnknownKey {
            key: "members".into(),
            in_member: false,
            suggestion: Some("member")
        }
    );
    let (_, _, problem, _) = error_of("title = \"x\"\n");
    assert!(matches!(
        problem,
        Problem::UnknownKey {
            suggestion: None,
            ..
        }
    ));
}

#[test]
fn missing_keys_point_at_the_table_header() {
    let text = "# c\n\n[[member]]\ngithub = \"a\"\n";
    let (line, column, problem, message) = error_of(text);
    assert_eq!((line, column), (3, 1));
    assert_eq!(problem, Problem::MissingKey { key: "email" });
    assert!(message.contains("add `email = "), "{message}");

    let text = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n\n[[member]]\nemail = \"b@example.org\"\n";
    let (line, column, problem, _) = error_of(text);
    assert_eq!((line, column), (5, 1));
    assert_eq!(problem, Problem::MissingKey { key: "github" });
}

#[test]
fn syntax_errors_are_located() {
    let text = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\n";
    let (line, column, problem, message) = error_of(text);
    assert_eq!((line, column), (3, 23));
    assert!(matches!(problem, Problem::Syntax { .. }), "{problem:?}");
    assert!(!message.contains("a@example.org"), "{message}");

    let text = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\nemail = \"a@example.org\"\n";
    let (line, column, problem, _) = error_of(text);
    assert_eq!((line, column), (4, 1));
    assert!(matches!(problem, Problem::Syntax { .. }), "{problem:?}");
}

#[test]
fn wrong_types_are_located_without_echoing_strings() {
    let (line, column, problem, _) =
        error_of("[[member]]\ngithub = 5\nemail = \"a@example.org\"\n");
    assert_eq!((line, column), (2, 10));
    assert!(matches!(problem, Problem::WrongType { .. }), "{problem:?}");

    let (line, column, problem, message) = error_of("member = \"a@example.org\"\n");
    assert_eq!((line, column), (1, 10));
    assert!(matches!(problem, Problem::WrongType { .. }), "{problem:?}");
    assert!(!message.contains("a@example.org"), "{message}");
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = "# Zoë and 🦀\n[[member]]\ngithub = \"a\"\nemail = \"a@example.org\" # ü\nx = 1\n";
    let (line, column, _, _) = error_of(text);
    assert_eq!((line, column), (5, 1));
    assert_eq!(line_col("aé🦀b", "aé🦀".len()), (1, 4));
    assert_eq!(line_col("\u{feff}ab", 4), (1, 2));
}

#[test]
fn suggestions() {
    assert_eq!(suggest("emial", MEMBER_KEYS), Some("email"));
    assert_eq!(suggest("Email", MEMBER_KEYS), Some("email"));
    assert_eq!(suggest("githib", MEMBER_KEYS), Some("github"));
    assert_eq!(suggest("date", MEMBER_KEYS), Some("added"));
    assert_eq!(suggest("nmae", MEMBER_KEYS), Some("name"));
    assert_eq!(suggest("foo", MEMBER_KEYS), None);
    assert_eq!(suggest("vi", MEMBER_KEYS), Some("via"));
    assert_eq!(suggest("login", MEMBER_KEYS), Some("github"));
    assert_eq!(suggest("login", TOP_LEVEL_KEYS), None);
    assert_eq!(suggest("members", TOP_LEVEL_KEYS), Some("member"));
    assert_eq!(edit_distance("emial", "email"), 1);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "via"), 3);
}
