use std::fs;
use std::path::Path;

use crate::core::member::Member;
use crate::roster::test_support::{EXAMPLE, member, write};
use crate::roster::{AddOutcome, Problem, RemoveOutcome, Roster, RosterError, add, remove};

#[test]
fn add_appends_and_keeps_the_maintainers_text_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, EXAMPLE);
    let new = member("newbie", "New Bie", "newbie@example.org");
    assert_eq!(
        add(&path, new.clone()).unwrap(),
        AddOutcome::Added(new.clone())
    );

    let after = fs::read_to_string(&path).unwrap();
    let appended = after
        .strip_prefix(EXAMPLE)
        .expect("old text kept as a prefix");
    assert_eq!(
        appended,
        "\n[[member]]\ngithub = \"newbie\"\nname = \"New Bie\"\nemail = \"newbie@example.org\"\n\
         added = \"2026-12-01\"\nvia = \"InnerSourceCommons/ispo-working-group#40\"\n"
    );
    let roster = Roster::load(&path).unwrap();
    assert_eq!(roster.len(), 3);
    assert_eq!(roster.members()[2], new);
}

#[test]
fn add_after_trailing_comments_and_without_final_newline() {
    let dir = tempfile::tempdir().unwrap();
    let old = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n# former member:\n# [[member]]\n# github = \"gone\"";
    let path = write(&dir, old);
    let new = Member {
        added: None,
        via: None,
        ..member("b", "B", "b@example.org")
    };
    add(&path, new.clone()).unwrap();
    let after = fs::read_to_string(&path).unwrap();
    assert_eq!(
        after.strip_prefix(old).unwrap(),
        "\n\n[[member]]\ngithub = \"b\"\nname = \"B\"\nemail = \"b@example.org\"\n"
    );
    assert_eq!(Roster::load(&path).unwrap().members()[1], new);
}

#[test]
fn add_to_an_empty_or_comment_only_file() {
    let dir = tempfile::tempdir().unwrap();
    for old in ["", "# nobody yet\n", "# nobody yet\n\n"] {
        let path = write(&dir, old);
        add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
        let after = fs::read_to_string(&path).unwrap();
        let appended = after.strip_prefix(old).unwrap();
        let expected_gap = if old == "# nobody yet\n" { "\n" } else { "" };
        assert!(
            appended.starts_with(&format!("{expected_gap}[[member]]\n")),
            "{after:?}"
        );
        assert_eq!(Roster::load(&path).unwrap().len(), 1);
    }
}

#[test]
fn adding_twice_changes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, EXAMPLE);
    let new = member("newbie", "New Bie", "newbie@example.org");
    add(&path, new.clone()).unwrap();
    let once = fs::read(&path).unwrap();
    let again = Member {
        github: "NEWBIE".into(),
        ..new.clone()
    };
    assert_eq!(add(&path, again).unwrap(), AddOutcome::AlreadyMember(new));
    assert_eq!(fs::read(&path).unwrap(), once);
}

#[test]
fn an_address_used_by_another_login_is_already_a_member() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, EXAMPLE);
    let outcome = add(&path, member("someone-else", "X", "OCTOCAT@example.org")).unwrap();
    let AddOutcome::AlreadyMember(existing) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(existing.github, "octocat");
    assert_eq!(fs::read_to_string(&path).unwrap(), EXAMPLE);
}

#[test]
fn add_to_a_broken_file_fails_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    for broken in [
        "[[member]]\ngithub = \"a\"\nemial = \"a@example.org\"\n",
        "[[member]]\ngithub = \"a\nemail = \"a@example.org\"\n",
        "member = []\n",
        "member = [{ github = \"a\", email = \"a@example.org\" }]\n",
    ] {
        let path = write(&dir, broken);
        let error = add(&path, member("eve", "Eve", "eve@example.org")).unwrap_err();
        assert!(matches!(error, RosterError::Invalid { .. }), "{error:?}");
        assert!(
            error.to_string().contains("roster.toml:1:")
                || error.to_string().contains("roster.toml:2:")
                || error.to_string().contains("roster.toml:3:"),
            "{error}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);
    }
    let path = write(&dir, "member = []\n");
    let error = add(&path, member("eve", "Eve", "eve@example.org")).unwrap_err();
    assert!(
        matches!(&error, RosterError::Invalid { problem: Problem::InlineMemberArray, at } if (at.line, at.column) == (1, 1)),
        "{error:?}"
    );
    let only: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(only.len(), 1, "no temporary file left behind");
}

#[test]
fn add_rejects_an_invalid_login_without_touching_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, EXAMPLE);
    let error = add(&path, member("bad login", "X", "x@example.org")).unwrap_err();
    assert!(
        matches!(error, RosterError::InvalidNewMember { .. }),
        "{error:?}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), EXAMPLE);
}

#[test]
fn hostile_names_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, EXAMPLE);
    let hostile = [
        "Eve \"the\" \\ Hacker\n",
        "Zoë 'O''Brien' 🦀",
        "tab\there \u{7} bell \u{7f} del",
        "\"\"\"'''",
        "x\"\n[[member]]\ngithub = \"evil\"\nemail = \"evil@example.org\"\n",
        "\r\nback\\slash\\\n",
    ];
    for (i, name) in hostile.iter().enumerate() {
        let new = Member {
            via: Some(format!("{name}#{i}")),
            ..member(&format!("eve-{i}"), name, &format!("eve{i}@example.org"))
        };
        assert_eq!(
            add(&path, new.clone()).unwrap(),
            AddOutcome::Added(new.clone())
        );
        let roster = Roster::load(&path).unwrap();
        assert_eq!(roster.len(), 3 + i, "exactly one member added");
        assert_eq!(roster.members().last().unwrap(), &new);
    }
    assert!(fs::read_to_string(&path).unwrap().starts_with(EXAMPLE));
}

#[test]
fn blank_name_is_written_as_the_login() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "");
    let outcome = add(&path, member("eve", "  ", "eve@example.org")).unwrap();
    assert_eq!(outcome.member().name, "eve");
    assert_eq!(Roster::load(&path).unwrap().members()[0].name, "eve");
}

/// Maintainers' comments, odd spacing, inline comments, a comment inside a table and one
/// after it, two blank lines, a multi-line string.
const LAYERED: &str = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# joined at the kick-off
[[member]]   # founding member
github = "octocat"
name = "The Octocat"

# the address below is the work one
email = "octocat@example.org"
added = "2026-11-24"            # local date

# --- people who joined later ---

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
# ada prefers video off


[[member]]
github = "Grace-H"
name = """Grace
[[member]]
Hopper"""
email = "grace@example.org"   # personal
"#;

/// Writes `text`, removes `login`, checks the outcome against the member as loaded before,
/// and returns the new text.
fn removed(text: &str, login: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, text);
    let before = Roster::parse(text, &path).unwrap();
    let expected = before.find_login(login).expect("a member").clone();
    assert_eq!(
        remove(&path, login).unwrap(),
        RemoveOutcome::Removed(expected)
    );
    let after = fs::read_to_string(&path).unwrap();
    assert_eq!(
        Roster::parse(&after, &path).unwrap().len(),
        before.len() - 1
    );
    let only: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(only.len(), 1, "no temporary file left behind");
    after
}

#[test]
fn remove_first_middle_and_last_keeps_every_other_byte() {
    let first = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# --- people who joined later ---

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
# ada prefers video off


[[member]]
github = "Grace-H"
name = """Grace
[[member]]
Hopper"""
email = "grace@example.org"   # personal
"#;
    let middle = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# joined at the kick-off
[[member]]   # founding member
github = "octocat"
name = "The Octocat"

# the address below is the work one
email = "octocat@example.org"
added = "2026-11-24"            # local date

# --- people who joined later ---

# ada prefers video off


[[member]]
github = "Grace-H"
name = """Grace
[[member]]
Hopper"""
email = "grace@example.org"   # personal
"#;
    let last = r#"# Members of the ISPO Working Group meeting series.
# Maintainers: add or remove people here; the bot adds newcomers below.

# joined at the kick-off
[[member]]   # founding member
github = "octocat"
name = "The Octocat"

# the address below is the work one
email = "octocat@example.org"
added = "2026-11-24"            # local date

# --- people who joined later ---

[[member]]
  email   =   'Ada@Example.org'   # key order and spacing are the maintainers'
github="ada-l"
added = 2026-01-05
# ada prefers video off
"#;
    assert_eq!(removed(LAYERED, "octocat"), first);
    assert_eq!(removed(LAYERED, "ada-l"), middle);
    assert_eq!(removed(LAYERED, "Grace-H"), last);
    assert_eq!(
        removed(EXAMPLE, "ada-l"),
        EXAMPLE
            .split("\n\n[[member]]\n  email")
            .next()
            .unwrap()
            .to_owned()
            + "\n"
    );
}

#[test]
fn a_comment_touching_the_header_goes_with_it_one_set_apart_stays() {
    let a = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n";
    let b = "[[member]]\ngithub = \"b\"\nemail = \"b@example.org\"\n";
    let c = "[[member]]\ngithub = \"c\"\nemail = \"c@example.org\"\n";
    // Touching the header, set apart from what is above: the member's.
    let text = format!("{a}\n# joined at the kick-off\n# (two lines)\n{b}\n{c}");
    assert_eq!(removed(&text, "b"), format!("{a}\n{c}"));
    // Set apart from the header by a blank line: stays.
    let text = format!("{a}\n# newcomers below\n\n{b}\n{c}");
    assert_eq!(
        removed(&text, "b"),
        format!("{a}\n# newcomers below\n\n{c}")
    );
    // Touching the previous table's last line too: not clearly the member's, stays.
    let text = format!("{a}# about b?\n{b}\n{c}");
    assert_eq!(removed(&text, "b"), format!("{a}# about b?\n\n{c}"));
    // At the very start of the file: the file's own header, stays.
    let text = format!("# roster\n{b}\n{c}");
    assert_eq!(removed(&text, "b"), format!("# roster\n\n{c}"));
    // Below the file's header comment and a blank line: the member's.
    let text = format!("# roster\n\n# joined at the kick-off\n{b}\n{c}");
    assert_eq!(removed(&text, "b"), format!("# roster\n\n{c}"));
}

#[test]
fn blank_lines_around_the_cut_become_at_most_one() {
    let a = "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n";
    let b = "[[member]]\ngithub = \"b\"\nemail = \"b@example.org\"\n";
    let c = "[[member]]\ngithub = \"c\"\nemail = \"c@example.org\"\n";
    assert_eq!(removed(&format!("{a}{b}{c}"), "b"), format!("{a}{c}"));
    assert_eq!(removed(&format!("{a}\n{b}{c}"), "b"), format!("{a}\n{c}"));
    assert_eq!(removed(&format!("{a}{b}\n{c}"), "b"), format!("{a}\n{c}"));
    assert_eq!(
        removed(&format!("{a}\n\n \n{b}\n\n{c}"), "b"),
        format!("{a}\n{c}")
    );
    // Leading blank lines of the file go with its first member.
    assert_eq!(removed(&format!("\n\n{a}\n{b}"), "a"), b);
    // Trailing blank lines go with its last member.
    assert_eq!(removed(&format!("{a}\n\n{b}\n\n"), "b"), a);
    // A file without a final newline keeps not having one.
    let text = format!("{a}\n{}", b.trim_end());
    assert_eq!(removed(&text, "b"), a.trim_end());
}

#[test]
fn a_multi_line_string_is_not_mistaken_for_comments() {
    let a =
        "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\nname = \"\"\"A\n\n# quoted\"\"\"\n";
    let b = "[[member]]\ngithub = \"b\"\nemail = \"b@example.org\"\n";
    assert_eq!(removed(&format!("{a}{b}"), "b"), a);
    assert_eq!(removed(&format!("{a}{b}"), "a"), b);
}

#[test]
fn remove_the_only_member_keeps_the_file_header() {
    let text = "# Members of the series.\n# Maintainers: edit freely.\n\n[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"   # work\n";
    let after = removed(text, "a");
    assert_eq!(
        after,
        "# Members of the series.\n# Maintainers: edit freely.\n"
    );
    assert!(
        Roster::parse(&after, Path::new("r.toml"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        removed(
            "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n",
            "a"
        ),
        ""
    );
    assert_eq!(
        removed(
            "\u{feff}[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n",
            "a"
        ),
        "\u{feff}"
    );
}

#[test]
fn remove_ignores_case_and_leaves_the_file_alone_for_a_stranger() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, LAYERED);
    for stranger in ["nobody", "", "octo", "grace", "octocat@example.org"] {
        assert_eq!(remove(&path, stranger).unwrap(), RemoveOutcome::NotAMember);
        assert_eq!(fs::read(&path).unwrap(), LAYERED.as_bytes());
    }
    let RemoveOutcome::Removed(member) = remove(&path, "GRACE-h").unwrap() else {
        panic!()
    };
    assert_eq!(member.github, "Grace-H");
    assert_eq!(member.name, "Grace\n[[member]]\nHopper");
    assert_eq!(remove(&path, "grace-h").unwrap(), RemoveOutcome::NotAMember);
    assert_eq!(
        Roster::load(&path)
            .unwrap()
            .find_login("ADA-L")
            .unwrap()
            .github,
        "ada-l"
    );
}

#[test]
fn remove_from_a_broken_file_fails_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (broken, line) in [
        ("[[member]]\ngithub = \"a\"\nemial = \"a@example.org\"\n", 3),
        ("[[member]]\ngithub = \"a\nemail = \"a@example.org\"\n", 2),
        (
            "[[member]]\ngithub = \"a\"\nemail = \"a@example.org\"\n\n[[member]]\ngithub = \"A\"\nemail = \"b@example.org\"\n",
            6,
        ),
        (
            "member = [{ github = \"a\", email = \"a@example.org\" }]\n",
            1,
        ),
        ("member = []\n", 1),
    ] {
        let path = write(&dir, broken);
        let error = remove(&path, "a").unwrap_err();
        let RosterError::Invalid { at, problem } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(at.line, line, "{error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{}:{line}:", path.display()))
        );
        assert!(!error.to_string().contains("a@example.org"), "{error}");
        if broken.starts_with("member =") {
            assert_eq!((problem, at.column), (&Problem::InlineMemberArray, 1));
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);
    }
    let only: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(only.len(), 1, "no temporary file left behind");
    assert!(matches!(
        remove(&dir.path().join("nope.toml"), "a"),
        Err(RosterError::NotFound { .. })
    ));
}

#[test]
fn remove_from_a_crlf_file() {
    let text = "# roster\r\n\r\n[[member]]\r\ngithub = \"a\"\r\nemail = \"a@example.org\"\r\n\r\n# joined late\r\n[[member]]\r\ngithub = \"b\"\r\nemail = \"b@example.org\"   # b\r\n\r\n[[member]]\r\ngithub = \"c\"\r\nemail = \"c@example.org\"\r\n";
    assert_eq!(
        removed(text, "b"),
        "# roster\r\n\r\n[[member]]\r\ngithub = \"a\"\r\nemail = \"a@example.org\"\r\n\r\n[[member]]\r\ngithub = \"c\"\r\nemail = \"c@example.org\"\r\n"
    );
    assert_eq!(
        removed(text, "c"),
        "# roster\r\n\r\n[[member]]\r\ngithub = \"a\"\r\nemail = \"a@example.org\"\r\n\r\n# joined late\r\n[[member]]\r\ngithub = \"b\"\r\nemail = \"b@example.org\"   # b\r\n"
    );
    assert_eq!(
        removed(text, "a"),
        "# roster\r\n\r\n# joined late\r\n[[member]]\r\ngithub = \"b\"\r\nemail = \"b@example.org\"   # b\r\n\r\n[[member]]\r\ngithub = \"c\"\r\nemail = \"c@example.org\"\r\n"
    );
}

#[test]
fn add_then_remove_gives_back_the_original() {
    let dir = tempfile::tempdir().unwrap();
    // Exact: files that end with a newline and no blank line, and empty files.
    for old in [EXAMPLE, LAYERED, "", "# nobody yet\n", "\u{feff}# bom\n"] {
        let path = write(&dir, old);
        add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
        assert_ne!(fs::read_to_string(&path).unwrap(), old);
        assert!(matches!(
            remove(&path, "eve").unwrap(),
            RemoveOutcome::Removed(_)
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), old);
    }
    // Not exact (documented at `remove`): a missing final newline comes back, trailing
    // blank lines don't.
    for (old, back) in [
        (EXAMPLE.trim_end(), EXAMPLE),
        ("# nobody yet", "# nobody yet\n"),
        ("# nobody yet\n\n", "# nobody yet\n"),
    ] {
        let path = write(&dir, old);
        add(&path, member("eve", "Eve", "eve@example.org")).unwrap();
        remove(&path, "eve").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), back);
    }
}
