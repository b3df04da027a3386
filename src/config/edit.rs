//! Changing the config file as a maintainer would: one `[[series.exception]]` table (a meeting
//! cancelled or moved) written at the end of its series' block, every other byte kept
//! (comments, blank lines, layout). The new text must load as a config before it replaces the
//! file (atomically), so the file is never left broken.

use std::path::{Path, PathBuf};

use jiff::civil::Date;

use super::{Config, ConfigError, Env};
use crate::core::calendar::{Change, Exception};
use crate::roster::{RosterError, write_atomically};

/// Why the config file was not changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigEditError {
    /// The file does not load now, or would not load with the change (e.g. the date is not a
    /// meeting of the series): the message says where and why.
    #[error("{0}")]
    Invalid(#[from] ConfigError),
    /// The file names no such series.
    #[error("{path}: no series `{series}`", path = path.display())]
    NoSuchSeries {
        /// The config file.
        path: PathBuf,
        /// The series id asked for.
        series: String,
    },
    /// The meeting already has an exception: one meeting, one change.
    #[error(
        "the meeting of {date} is already changed in the config (see its [[series.exception]]); edit that one by hand"
    )]
    AlreadyChanged {
        /// The meeting's usual date.
        date: Date,
    },
    /// Writing the file failed.
    #[error("{0}")]
    Write(#[from] RosterError),
}

/// Adds `exception` to series `series_id` in the config file at `path`, under a comment saying
/// who asked (`asked_by`, e.g. `@octocat in InnerSourceCommons/wg#12`). The file is read fresh,
/// the new text must load with `env` (as `serve` would load it), then it replaces the file
/// atomically. Returns the config the new file loads as.
pub fn add_exception(
    path: &Path,
    series_id: &str,
    exception: &Exception,
    asked_by: &str,
    env: &dyn Env,
) -> Result<Config, ConfigEditError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::file(path, format!("cannot read the config file: {e}")))?;
    let current = Config::from_source(path, &text, env)?;
    let series = current
        .series_by_id(series_id)
        .ok_or_else(|| ConfigEditError::NoSuchSeries {
            path: path.to_owned(),
            series: series_id.to_string(),
        })?;
    if series.schedule.exception_on(exception.date).is_some() {
        return Err(ConfigEditError::AlreadyChanged {
            date: exception.date,
        });
    }
    let at = insertion_point(&text, series_id).ok_or_else(|| ConfigEditError::NoSuchSeries {
        path: path.to_owned(),
        series: series_id.to_string(),
    })?;
    let new_text = format!(
        "{}{}{}",
        &text[..at],
        render(exception, asked_by, &text[..at]),
        &text[at..]
    );
    let config = Config::from_source(path, &new_text, env)?;
    write_atomically(path, new_text.as_bytes())?;
    Ok(config)
}

/// The table's text, after a blank line (unless `before` ends with one already).
fn render(exception: &Exception, asked_by: &str, before: &str) -> String {
    let lead = if before.is_empty() || before.ends_with("\n\n") {
        ""
    } else if before.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let mut table = format!(
        "{lead}# Added by invitebot: asked by {asked_by}.\n[[series.exception]]\ndate = \"{}\"\n",
        exception.date
    );
    match exception.change {
        Change::Cancelled => table.push_str("cancel = true\n"),
        Change::Moved { to } => {
            table.push_str(&format!(
                "move_to = \"{}\"\n",
                to.strftime("%Y-%m-%dT%H:%M")
            ));
        }
    }
    if let Some(note) = &exception.note {
        let value = toml_edit::Value::from(note.as_str());
        table.push_str(&format!("note = {}\n", value.to_string().trim()));
    }
    table
}

/// Where a table of series `series_id` goes: the end of its block, i.e. before the next table
/// that is not part of it, and before the comment and blank lines right above that table
/// (they are about it); the end of the file when nothing follows.
fn insertion_point(text: &str, series_id: &str) -> Option<usize> {
    let document = toml_edit::Document::parse(text).ok()?;
    let root = document.as_table();
    let all_series = root.get("series")?.as_array_of_tables()?;
    let own = all_series
        .iter()
        .find(|table| table.get("id").and_then(|id| id.as_str()) == Some(series_id))?;
    let own_start = own.span()?.start;
    let mut starts = Vec::new();
    for (key, item) in root.iter() {
        if key == "series" {
            starts.extend(all_series.iter().filter_map(|t| t.span()).map(|s| s.start));
        } else {
            table_starts(item, &mut starts);
        }
    }
    let Some(next) = starts.into_iter().filter(|&s| s > own_start).min() else {
        return Some(text.len());
    };
    Some(start_of_lead_in(text, next))
}

/// The header positions of the tables in `item` (recursively).
fn table_starts(item: &toml_edit::Item, starts: &mut Vec<usize>) {
    let tables: Vec<&toml_edit::Table> = match item {
        toml_edit::Item::Table(table) => vec![table],
        toml_edit::Item::ArrayOfTables(array) => array.iter().collect(),
        _ => Vec::new(),
    };
    for table in tables {
        starts.extend(table.span().map(|s| s.start));
        for (_, inner) in table.iter() {
            table_starts(inner, starts);
        }
    }
}

/// The start of the comment and blank lines right above the line starting at `at`.
fn start_of_lead_in(text: &str, at: usize) -> usize {
    let mut start = at;
    while start > 0 {
        let line_start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[line_start..start].trim();
        if line.is_empty() || line.starts_with('#') {
            start = line_start;
        } else {
            break;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::no_env;

    const TWO_SERIES: &str = r#"[mail]
from = "WG <wg@example.org>"

# The first series.
[[series]]
id = "a"
repo = "O/a"
title = "A"
timezone = "UTC"
first = "2026-01-05T08:00"
duration_minutes = 60
organizer = { name = "WG", email = "wg@example.org" }   # who sends
roster = "a.toml"

[series.match]
labels = ["join"]

# The second series: keep this comment with it.
[[series]]
id = "b"
repo = "O/b"
title = "B"
timezone = "UTC"
first = "2026-01-06T08:00"
duration_minutes = 60
organizer = { name = "WG", email = "wg@example.org" }
roster = "b.toml"

[series.match]
labels = ["join"]
"#;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for roster in ["a.toml", "b.toml"] {
            std::fs::write(dir.path().join(roster), "# members\n").unwrap();
        }
        let path = dir.path().join("invitebot.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn cancel(date: &str, note: Option<&str>) -> Exception {
        Exception {
            date: date.parse().unwrap(),
            change: Change::Cancelled,
            note: note.map(String::from),
        }
    }

    #[test]
    fn an_exception_lands_in_its_series_block_and_every_other_byte_stays() {
        let (_dir, path) = write(TWO_SERIES);
        let config = add_exception(
            &path,
            "a",
            &cancel("2026-01-19", Some("Holiday \"MLK\"")),
            "@ada",
            &no_env,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let added = "\n# Added by invitebot: asked by @ada.\n[[series.exception]]\ndate = \"2026-01-19\"\ncancel = true\nnote = 'Holiday \"MLK\"'\n";
        let expected = TWO_SERIES.replacen(
            "labels = [\"join\"]\n",
            &format!("labels = [\"join\"]\n{added}"),
            1,
        );
        assert_eq!(text, expected);
        let a = config.series_by_id("a").unwrap();
        assert!(
            a.schedule
                .exception_on("2026-01-19".parse().unwrap())
                .is_some()
        );
        assert!(
            config
                .series_by_id("b")
                .unwrap()
                .schedule
                .exceptions()
                .is_empty()
        );
    }

    #[test]
    fn the_last_series_gets_it_at_the_end_and_a_move_is_written_as_a_local_time() {
        let (_dir, path) = write(TWO_SERIES);
        let moved = Exception {
            date: "2026-01-20".parse().unwrap(),
            change: Change::Moved {
                to: "2026-01-21T09:30".parse().unwrap(),
            },
            note: None,
        };
        add_exception(&path, "b", &moved, "@ada", &no_env).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(TWO_SERIES), "{text}");
        assert!(
            text.ends_with(
                "\n[[series.exception]]\ndate = \"2026-01-20\"\nmove_to = \"2026-01-21T09:30\"\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_change_the_config_would_refuse_is_not_written() {
        let (_dir, path) = write(TWO_SERIES);
        // 2026-01-20 is a Tuesday: not a meeting of series `a` (Mondays).
        let error =
            add_exception(&path, "a", &cancel("2026-01-20", None), "@ada", &no_env).unwrap_err();
        assert!(matches!(error, ConfigEditError::Invalid(_)), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), TWO_SERIES);
        add_exception(&path, "a", &cancel("2026-01-19", None), "@ada", &no_env).unwrap();
        let error =
            add_exception(&path, "a", &cancel("2026-01-19", None), "@ada", &no_env).unwrap_err();
        assert!(
            matches!(error, ConfigEditError::AlreadyChanged { .. }),
            "{error}"
        );
        let error =
            add_exception(&path, "c", &cancel("2026-01-19", None), "@ada", &no_env).unwrap_err();
        assert!(
            matches!(error, ConfigEditError::NoSuchSeries { .. }),
            "{error}"
        );
    }
}
