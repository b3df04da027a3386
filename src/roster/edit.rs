//! Changing a roster file as text, keeping the maintainers' layout: [`add`] appends one
//! `[[member]]` table at the very end, [`remove`] cuts one out, and every other byte (comments,
//! blank lines, key order, odd spacing) stays. toml_edit gives the spans of the tables and
//! renders the new one; each new text must read back as intended before it is written.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::RosterError;
use super::error::invalid_at;
use super::load::read;
use super::model::{Roster, is_valid_github_login};
use super::problems::{Problem, scrub};
use super::write::write_atomically;
use crate::core::member::Member;

/// What [`add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddOutcome {
    /// The member was appended to the file (the value is what was written).
    Added(Member),
    /// The login or the email address was already on the roster; the file was not touched.
    /// The value is the existing entry, which may differ from the one asked for.
    AlreadyMember(Member),
}

impl AddOutcome {
    /// The member written, or the existing entry.
    pub fn member(&self) -> &Member {
        match self {
            AddOutcome::Added(member) | AddOutcome::AlreadyMember(member) => member,
        }
    }
}

/// What [`remove`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveOutcome {
    /// The member's table was cut out of the file (the value is the entry as it was).
    Removed(Member),
    /// No member has that login; the file was not touched.
    NotAMember,
}

/// Reads the file fresh, validates it, and if neither the login nor the email is present appends
/// a `[[member]]` table (github, name, email, added, via) at the end, keeping everything else
/// byte for byte; then writes atomically. If already present: changes nothing, returns
/// [`AddOutcome::AlreadyMember`].
///
/// `added` and `via` are written only when set; a blank `name` is written as the login. The
/// caller must serialise calls for the same file (there is no file lock).
pub fn add(path: &Path, member: Member) -> Result<AddOutcome, RosterError> {
    let member = writable(path, member)?;
    let text = read(path)?;
    let roster = Roster::parse(&text, path)?;
    if let Some(existing) = roster.find(member.github.as_str(), Some(&member.email)) {
        return Ok(AddOutcome::AlreadyMember(existing.clone()));
    }
    parse_document(&text, path)?;
    // The appended text must read back as exactly one more member, equal to the one asked for.
    let new_text = read_back(
        with_member(&text, &member),
        path,
        |check| check.len() == roster.len() + 1 && check.members().last() == Some(&member),
        |path| RosterError::AppendCheck { path },
    )?;
    write_atomically(path, new_text.as_bytes())?;
    Ok(AddOutcome::Added(member))
}

/// Reads the file fresh, validates it, and removes the `[[member]]` table whose `github` equals
/// `github` (case-insensitive), keeping everything else byte for byte: the other members,
/// comments, blank lines, key order and spacing. Then writes atomically. If no member has that
/// login: changes nothing, returns [`RemoveOutcome::NotAMember`].
///
/// What is cut out:
/// - the table itself, from the start of its `[[member]]` header line through the line ending of
///   its last key/value line, including a comment at the end of that line and the comment and
///   blank lines between its keys;
/// - the comment lines directly above the header (no blank line between them and the header),
///   provided a blank line separates them from what comes before: they are taken to be about
///   this member (e.g. `# joined at the kick-off`). Comments separated from the header by a
///   blank line, comments touching the previous table's last key line, and comments at the very
///   start of the file (the file's own header) stay;
/// - not comments after the table's last key/value line: they stay where they are.
///
/// The blank lines on both sides of the cut become one blank line if there was any on either
/// side, none if there was none. When nothing but blank lines follows the table, the blank
/// lines before it go too, so the file ends with the previous line (and without a final newline
/// if the file had none); when nothing but blank lines precedes it, the blank lines after it go.
///
/// So removing a member [`add`] just appended gives back the file as it was before, byte for
/// byte, if that file was empty or ended with a newline and no blank line. It cannot be exact
/// for a file that ended without a newline (`add` to `"x"` and to `"x\n"` write the same text;
/// the result ends with `"x\n"`) or with blank lines (they are not restored).
///
/// The new text must read back as the old members minus this one, else nothing is written
/// ([`RosterError::RemoveCheck`]). A file whose `member` entries are an inline array is refused
/// ([`Problem::InlineMemberArray`]). The caller must serialise calls for the same file (there is
/// no file lock).
pub fn remove(path: &Path, github: &str) -> Result<RemoveOutcome, RosterError> {
    let text = read(path)?;
    let roster = Roster::parse(&text, path)?;
    let document = parse_document(&text, path)?;
    let Some(removed) = roster.find_login(github) else {
        return Ok(RemoveOutcome::NotAMember);
    };
    let check_failed = |path| RosterError::RemoveCheck { path };
    let new_text = without_member(&document, removed.github.as_str())
        .ok_or_else(|| check_failed(path.to_owned()))?;
    // The new text must read back as the other members, unchanged.
    let others = roster
        .members()
        .iter()
        .filter(|member| !std::ptr::eq(*member, removed));
    let new_text = read_back(
        new_text,
        path,
        |check| check.members().iter().eq(others),
        check_failed,
    )?;
    write_atomically(path, new_text.as_bytes())?;
    Ok(RemoveOutcome::Removed(removed.clone()))
}

/// `member` as [`add`] writes it (a blank name becomes the login), or why it cannot be written.
fn writable(path: &Path, member: Member) -> Result<Member, RosterError> {
    let bad_member = |reason| RosterError::InvalidNewMember {
        path: path.to_owned(),
        reason,
    };
    if !is_valid_github_login(member.github.as_str()) {
        return Err(bad_member(
            "the GitHub login is not valid (1 to 39 ASCII letters, digits or hyphens, not \
             starting or ending with a hyphen)",
        ));
    }
    if member.added.is_some_and(|date| date.year() < 0) {
        return Err(bad_member("the `added` date has a negative year"));
    }
    Ok(Member {
        name: if member.name.trim().is_empty() {
            member.github.to_string()
        } else {
            member.name
        },
        ..member
    })
}

/// Parses the text for editing, keeping spans. Refuses files whose `member` entries are an inline
/// array: appending a `[[member]]` table there would be invalid TOML, and removing one entry
/// would need rewriting the array.
fn parse_document<'t>(
    text: &'t str,
    path: &Path,
) -> Result<toml_edit::Document<&'t str>, RosterError> {
    let document = toml_edit::Document::parse(text).map_err(|error| {
        let offset = error.span().map_or(0, |span| span.start);
        let message = scrub(error.message());
        invalid_at(text, path, offset, Problem::Syntax { message })
    })?;
    match document.as_table().get_key_value("member") {
        Some((key, item)) if !item.is_array_of_tables() => {
            let offset = key.span().map_or(0, |span| span.start);
            Err(invalid_at(text, path, offset, Problem::InlineMemberArray))
        }
        _ => Ok(document),
    }
}

/// `text` with a `[[member]]` table for `member` appended, one blank line between them.
fn with_member(text: &str, member: &Member) -> String {
    let mut new_text = String::with_capacity(text.len() + 200);
    new_text.push_str(text);
    new_text.push_str(separator(text));
    new_text.push_str(&render(member));
    new_text
}

/// `new_text` if it reads back as a roster that `is_as_intended` accepts; else the error that
/// `check_failed` makes for `path` (a bug: nothing may be written).
fn read_back(
    new_text: String,
    path: &Path,
    is_as_intended: impl FnOnce(&Roster) -> bool,
    check_failed: fn(PathBuf) -> RosterError,
) -> Result<String, RosterError> {
    match Roster::parse(&new_text, path) {
        Ok(check) if is_as_intended(&check) => Ok(new_text),
        _ => Err(check_failed(path.to_owned())),
    }
}

/// The text of `document` without the `[[member]]` table whose `github` is `login`
/// (case-insensitive), cut out by the rule described at [`remove`]. `None` if that table or a
/// span cannot be found, which validation should rule out.
fn without_member(document: &toml_edit::Document<&str>, login: &str) -> Option<String> {
    let text = document.raw();
    let tables: Vec<&toml_edit::Table> = document
        .as_table()
        .get("member")?
        .as_array_of_tables()?
        .iter()
        .collect();
    let index = tables.iter().position(|table| {
        table
            .get("github")
            .and_then(toml_edit::Item::as_str)
            .is_some_and(|github| github.eq_ignore_ascii_case(login))
    })?;
    let table = tables[index];
    // Before the first table there are only comments and blank lines (after a byte order mark).
    let file_start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    // Everything between the end of the previous table's last key/value line and this header is
    // comments and blank lines; lines above that may lie inside a multi-line string.
    let floor = match index {
        0 => file_start,
        _ => table_end(text, tables[index - 1])?,
    };
    let header_line = line_start(text, table.span()?.start).max(floor);
    let start = own_comments_start(text, floor, header_line);
    let end = table_end(text, table)?;
    Some(cut(text, file_start, start..end))
}

/// Where the cut of a table starts: at the comment block touching its header line if a blank
/// line separates that block from what comes before (the comments are taken to be about this
/// member), else at the header line. Nothing above `floor` is looked at.
fn own_comments_start(text: &str, floor: usize, header_line: usize) -> usize {
    let mut block = header_line;
    while block > floor {
        let above = line_start(text, block - 1).max(floor);
        if !text[above..block].trim_start().starts_with('#') {
            break;
        }
        block = above;
    }
    if block < header_line
        && block > floor
        && is_blank(&text[line_start(text, block - 1).max(floor)..block])
    {
        block
    } else {
        header_line
    }
}

/// `text` without the whole lines in `lines`. The blank lines on both sides of the cut become
/// one blank line if there was any on either side, none if there was none. When nothing but
/// blank lines follows, the blank lines before go too (and the final newline, if the file had
/// none); when nothing but blank lines precedes (back to `file_start`, just past a byte order
/// mark), the blank lines after go.
fn cut(text: &str, file_start: usize, lines: Range<usize>) -> String {
    let Range { start, end } = lines;
    let before_end = blank_lines_above(text, file_start, start);
    let after_start = blank_lines_below(text, end);

    let mut new_text = String::with_capacity(text.len());
    new_text.push_str(&text[..before_end]);
    if after_start == text.len() {
        // Nothing follows: no trailing blank lines, and no final newline if the file had none.
        if !text.ends_with('\n') {
            let trimmed = new_text.trim_end_matches(['\r', '\n']).len();
            new_text.truncate(trimmed);
        }
    } else if before_end > file_start {
        // Something on both sides: one blank line between them if there was one on either side,
        // taken from the file so that CRLF files stay CRLF.
        if before_end < start {
            new_text.push_str(&text[before_end..line_end(text, before_end)]);
        } else if end < after_start {
            new_text.push_str(&text[line_start(text, after_start - 1)..after_start]);
        }
    }
    new_text.push_str(&text[after_start..]);
    new_text
}

/// The start of the blank lines just above the line start `offset`, not going above `floor`.
fn blank_lines_above(text: &str, floor: usize, offset: usize) -> usize {
    let mut start = offset;
    while start > floor {
        let above = line_start(text, start - 1).max(floor);
        if !is_blank(&text[above..start]) {
            break;
        }
        start = above;
    }
    start
}

/// The end of the blank lines just below the line start `offset`.
fn blank_lines_below(text: &str, offset: usize) -> usize {
    let mut end = offset;
    while end < text.len() {
        let next = line_end(text, end);
        if !is_blank(&text[end..next]) {
            break;
        }
        end = next;
    }
    end
}

/// The end of a `[[member]]` table's text: just past the line ending of its last key/value line
/// (or of its header line, were it empty), trailing comment included.
fn table_end(text: &str, table: &toml_edit::Table) -> Option<usize> {
    let mut last = table.span()?.end;
    for (_, item) in table.iter() {
        last = last.max(item.span()?.end);
    }
    Some(line_end(text, last))
}

/// The start of the line holding byte `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |newline| newline + 1)
}

/// Just past the line ending of the line holding byte `offset`, or the end of the text.
fn line_end(text: &str, offset: usize) -> usize {
    text[offset..]
        .find('\n')
        .map_or(text.len(), |newline| offset + newline + 1)
}

/// Whether a line holds nothing but whitespace (its line ending included).
fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// What goes between the existing text and the new table: enough to end the last line and leave
/// one blank line.
fn separator(text: &str) -> &'static str {
    if text.is_empty() || text == "\u{feff}" || text.ends_with("\n\n") || text.ends_with("\n\r\n") {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    }
}

/// The `[[member]]` table for `member`, as TOML text ending in a newline. toml_edit chooses the
/// quoting and escaping.
fn render(member: &Member) -> String {
    let mut table = toml_edit::Table::new();
    table.insert("github", toml_edit::value(member.github.as_str()));
    table.insert("name", toml_edit::value(member.name.as_str()));
    table.insert("email", toml_edit::value(member.email.expose()));
    if let Some(added) = member.added {
        table.insert(
            "added",
            toml_edit::value(added.strftime("%Y-%m-%d").to_string()),
        );
    }
    if let Some(via) = &member.via {
        table.insert("via", toml_edit::value(via.as_str()));
    }
    let mut members = toml_edit::ArrayOfTables::new();
    members.push(table);
    let mut document = toml_edit::DocumentMut::new();
    document.insert("member", toml_edit::Item::ArrayOfTables(members));
    document.to_string()
}

#[cfg(test)]
mod tests;
