//! The low-level text rules of RFC 5545: TEXT escaping, parameter quoting and line folding.
//!
//! Every value that comes from outside (names, titles, descriptions: untrusted text from GitHub
//! issues) goes through [`escape_text`] or [`param_value`] before it is written, and every line
//! goes through [`ContentLines::push`], so no input can end a line, start a property or add a
//! parameter.

use jiff::civil::DateTime;
use jiff::tz::Offset;

/// The longest a physical line may be, in octets, not counting the CRLF (RFC 5545 §3.1).
pub(crate) const MAX_LINE_OCTETS: usize = 75;

/// Escapes a TEXT value (RFC 5545 §3.3.11): `\` → `\\`, `;` → `\;`, `,` → `\,`, a line break
/// → `\n`. CR is dropped (so CRLF becomes one `\n`), U+2028/U+2029 become `\n`, and every other
/// control character except TAB is dropped, as TEXT may not contain them.
pub(crate) fn escape_text(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    for c in input.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' | '\u{2028}' | '\u{2029}' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, always in double quotes (RFC 5545 §3.2: a quoted-string may hold `:` `;`
/// `,` but not `"` nor control characters, and has no escape mechanism). `"` and control
/// characters are removed; U+2028/U+2029 too, as some readers treat them as line breaks, and
/// the characters of [`is_hidden_format`] (a name is one line of display text: a bidi override
/// in it could make a calendar show the rest of the line reversed).
pub(crate) fn param_value(input: &str) -> String {
    let kept: String = input
        .chars()
        .filter(|&c| {
            c != '"'
                && !c.is_control()
                && c != '\u{2028}'
                && c != '\u{2029}'
                && !is_hidden_format(c)
        })
        .collect();
    // Trimmed after filtering, so removed characters can't leave white space at the ends.
    format!("\"{}\"", kept.trim())
}

/// Whether `c` is an invisible formatting character that has no place in a display name: the
/// bidirectional controls (marks, embeddings, overrides and isolates, which can make text show
/// in another order than it is stored: "Trojan Source"), the zero-width space, word joiner and
/// byte-order mark. The zero-width (non-)joiners stay: scripts and emoji need them.
pub fn is_hidden_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A value that is not TEXT but must still not break the line (e.g. the address of a `mailto:`
/// URI, already validated elsewhere): control characters are removed.
pub(crate) fn strip_controls(input: &str) -> String {
    input.chars().filter(|c| !c.is_control()).collect()
}

/// `YYYYMMDDTHHMMSS` (a local or floating DATE-TIME form, RFC 5545 §3.3.5).
pub(crate) fn format_local(dt: DateTime) -> String {
    dt.strftime("%Y%m%dT%H%M%S").to_string()
}

/// `+HHMM`, or `+HHMMSS` when the offset has seconds (UTC-OFFSET, RFC 5545 §3.3.14). Zero is
/// `+0000` (`-0000` is not allowed).
pub(crate) fn format_offset(offset: Offset) -> String {
    let total = offset.seconds();
    let sign = if total < 0 { '-' } else { '+' };
    let abs = total.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// Collects content lines, each ended with CRLF and folded to at most 75 octets.
#[derive(Debug, Default)]
pub(crate) struct ContentLines {
    out: String,
}

impl ContentLines {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends one logical content line (which must not contain CR or LF: callers build lines
    /// from escaped values only), folded.
    pub(crate) fn push(&mut self, line: &str) {
        debug_assert!(
            !line.contains(['\r', '\n']),
            "unescaped line break in {line:?}"
        );
        fold_into(&mut self.out, line);
        self.out.push_str("\r\n");
    }

    /// Appends text that is already a sequence of CRLF-ended, folded lines.
    pub(crate) fn push_raw(&mut self, lines: &str) {
        debug_assert!(lines.is_empty() || lines.ends_with("\r\n"));
        self.out.push_str(lines);
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// Folds `line` into `out` (without the final CRLF): each physical line holds at most 75 octets,
/// continuation lines start with one space (which counts toward the 75). A break never falls
/// inside a UTF-8 character nor between a backslash and the character it escapes.
fn fold_into(out: &mut String, line: &str) {
    let mut used = 0; // octets on the current physical line
    let mut units = line.char_indices().peekable();
    while let Some((start, c)) = units.next() {
        // A unit is one character, or a backslash with the character it escapes.
        let mut end = start + c.len_utf8();
        if c == '\\'
            && let Some(&(_, next)) = units.peek()
        {
            end += next.len_utf8();
            units.next();
        }
        let unit = &line[start..end];
        if used + unit.len() > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push_str(unit);
        used += unit.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(line: &str) -> String {
        let mut lines = ContentLines::new();
        lines.push(line);
        lines.finish()
    }

    /// Checks the folding rules on `folded` and returns the unfolded text.
    fn check_folded(folded: &str) -> String {
        assert!(folded.ends_with("\r\n"));
        let physical: Vec<&str> = folded[..folded.len() - 2].split("\r\n").collect();
        for (i, part) in physical.iter().enumerate() {
            assert!(
                part.len() <= MAX_LINE_OCTETS,
                "line {i} has {} octets: {part:?}",
                part.len()
            );
            assert!(!part.contains(['\r', '\n']));
            if i > 0 {
                assert!(
                    part.starts_with(' '),
                    "continuation without space: {part:?}"
                );
                assert!(part.len() > 1, "empty continuation line");
            }
            if i + 1 < physical.len() {
                // Never end a physical line in the middle of an escape: count trailing backslashes.
                let trailing = part.bytes().rev().take_while(|&b| b == b'\\').count();
                assert!(trailing % 2 == 0, "split after a lone backslash: {part:?}");
            }
        }
        physical
            .iter()
            .enumerate()
            .map(|(i, p)| if i == 0 { &p[..] } else { &p[1..] })
            .collect()
    }

    #[test]
    fn escape_text_cases() {
        let cases = [
            ("plain", "plain"),
            ("a;b,c\\d", "a\\;b\\,c\\\\d"),
            ("line1\nline2", "line1\\nline2"),
            ("crlf\r\nnext", "crlf\\nnext"),
            ("lone\rcr", "lonecr"),
            (
                "Eve\r\nATTENDEE:mailto:x@evil.org",
                "Eve\\nATTENDEE:mailto:x@evil.org",
            ),
            ("tab\there", "tab\there"),
            ("nul\u{0}bell\u{7}del\u{7f}nel\u{85}", "nulbelldelnel"),
            ("sep\u{2028}para\u{2029}", "sep\\npara\\n"),
            ("colon: \"quoted\"", "colon: \"quoted\""),
            ("\\n is not a newline", "\\\\n is not a newline"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn param_value_cases() {
        let cases = [
            ("Ada Lovelace", "\"Ada Lovelace\""),
            ("\"Lovelace, Ada\"", "\"Lovelace, Ada\""),
            ("a;b:c", "\"a;b:c\""),
            (
                "Eve\r\nATTENDEE:mailto:x@evil.org",
                "\"EveATTENDEE:mailto:x@evil.org\"",
            ),
            ("x\";ROLE=CHAIR;X=\"", "\"x;ROLE=CHAIR;X=\""),
            ("", "\"\""),
            ("Zoë 李", "\"Zoë 李\""),
            ("a,b;c:d", "\"a,b;c:d\""),
            ("Eve\rATTENDEE:x", "\"EveATTENDEE:x\""),
            ("Eve\nATTENDEE:x", "\"EveATTENDEE:x\""),
            (
                "nul\u{0}esc\u{1b}[31mdel\u{7f}nel\u{85}",
                "\"nulesc[31mdelnel\"",
            ),
            ("ls\u{2028}ps\u{2029}", "\"lsps\""),
            // Bidi controls ("Trojan Source") and invisible characters go; joiners stay.
            ("\u{202E}evE\u{202C}", "\"evE\""),
            ("a\u{2066}b\u{2069}c\u{200F}d\u{061C}", "\"abcd\""),
            ("zero\u{200B}width\u{FEFF}\u{2060}", "\"zerowidth\""),
            ("👩\u{200D}💻 ک\u{200C}ه", "\"👩\u{200D}💻 ک\u{200C}ه\""),
        ];
        for (input, expected) in cases {
            assert_eq!(param_value(input), expected, "{input:?}");
        }
    }

    #[test]
    fn a_long_hostile_parameter_folds_and_reads_back_as_one_parameter() {
        let name = format!("{}\";ROLE=CHAIR:mailto:x@evil.org", "Ada,;:\"".repeat(40));
        let line = format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT:mailto:ada@example.org",
            param_value(&name)
        );
        let folded = fold(&line);
        let unfolded = check_folded(&folded);
        assert_eq!(unfolded, line);
        // Inside the quotes: no `"`, so the quoted string ends only where we end it.
        let inner = &line["ATTENDEE;CN=\"".len()..];
        let end = inner.find('"').unwrap();
        assert_eq!(
            &inner[end..],
            "\";ROLE=REQ-PARTICIPANT:mailto:ada@example.org"
        );
    }

    #[test]
    fn offsets_are_formatted_with_sign_and_optional_seconds() {
        use jiff::tz::Offset;
        let cases = [
            (0, "+0000"),
            (-8 * 3600, "-0800"),
            (5 * 3600 + 30 * 60, "+0530"),
            (5 * 3600 + 45 * 60, "+0545"),
            (13 * 3600 + 45 * 60, "+1345"),
            (-(3600 * 3 + 30 * 60), "-0330"),
            (-(44 * 60 + 30), "-004430"),
        ];
        for (seconds, expected) in cases {
            let offset = Offset::from_seconds(seconds).unwrap();
            assert_eq!(format_offset(offset), expected);
        }
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(fold("SUMMARY:short"), "SUMMARY:short\r\n");
        let exactly = format!("X:{}", "a".repeat(73));
        assert_eq!(fold(&exactly), format!("{exactly}\r\n"));
    }

    #[test]
    fn folding_keeps_characters_and_escapes_whole() {
        let long_ascii = format!("DESCRIPTION:{}", "abcdefghij".repeat(30));
        let emoji = format!("SUMMARY:{}", "🎉".repeat(60));
        let cjk = format!("SUMMARY:{}", "会議の議題".repeat(20));
        let mixed = format!("DESCRIPTION:{}", "é😀a".repeat(40));
        // Escapes at every possible offset relative to the fold point.
        let mut escapes = Vec::new();
        for pad in 0..4 {
            let text = format!("{}{}", "x".repeat(pad), "\\;\\,\\\\\\n".repeat(40));
            escapes.push(format!("DESCRIPTION:{text}"));
        }
        let escaped_hostile = format!("DESCRIPTION:{}", escape_text(&"a\\,;\n😀".repeat(50)));
        let mut all = vec![long_ascii, emoji, cjk, mixed, escaped_hostile];
        all.extend(escapes);
        for line in all {
            let folded = fold(&line);
            assert_eq!(check_folded(&folded), line);
            // The crate's parser agrees on the unfolding.
            assert_eq!(icalendar::parser::unfold(&folded), format!("{line}\r\n"));
        }
    }

    #[test]
    fn folding_uses_the_whole_line_width() {
        let line = format!("X:{}", "a".repeat(200));
        let folded = fold(&line);
        let physical: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        for part in &physical[..physical.len() - 1] {
            assert_eq!(part.len(), MAX_LINE_OCTETS);
        }
    }
}
