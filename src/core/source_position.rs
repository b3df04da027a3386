//! Where in a text file a byte offset is, as editors count: for error messages that name
//! `file:line:column`.

/// 1-based line and column (in characters, as editors count) of a byte offset in `source`.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let in_line = before.rsplit('\n').next().unwrap_or("");
    // A byte-order mark is invisible in editors: don't count it.
    let in_line = in_line.strip_prefix('\u{feff}').unwrap_or(in_line);
    (line, in_line.chars().count() + 1)
}
