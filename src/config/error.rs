//! Configuration errors, located in a file (`file:line:column: what is wrong`).

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::core::source_position::line_col;

/// A configuration problem, located in a file.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", path.display(), location.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file the problem is in.
    pub path: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub location: Option<(usize, usize)>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigError {
    /// An error at a byte span of `source` (the text of `path`).
    pub fn at(
        path: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            path: path.to_path_buf(),
            location: span.map(|s| line_col(source, s.start)),
            message: message.into(),
        }
    }

    /// An error about a file as a whole (unreadable, missing).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            location: None,
            message: message.into(),
        }
    }
}

/// Parses TOML text into `T`, turning syntax and shape errors into located [`ConfigError`]s.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    source: &str,
) -> Result<T, ConfigError> {
    toml::from_str(source)
        .map_err(|e| ConfigError::at(path, source, e.span(), e.message().trim().to_string()))
}
