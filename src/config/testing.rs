//! Test support: a minimal valid config, and helpers to vary and load it.

use std::path::Path;

use super::{Config, ConfigError};

/// The smallest valid config: one series, the ISPO schedule, matched by label.
pub(crate) const MINIMAL: &str = r#"[mail]
from = "WG <wg@example.org>"

[[series]]
id = "ispo-wg"
repo = "InnerSourceCommons/ispo-working-group"
title = "ISPO Working Group"
timezone = "America/Los_Angeles"
first = "2024-05-06T08:00"
duration_minutes = 60
organizer = { name = "WG", email = "wg@example.org" }
roster = "roster/ispo-wg.toml"

[series.match]
labels = ["meeting-invite"]
"#;

/// An empty environment.
pub(crate) fn no_env(_: &str) -> Option<String> {
    None
}

/// Loads config text as if read from `/etc/invitebot/invitebot.toml`, with no environment.
pub(crate) fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_source(Path::new("/etc/invitebot/invitebot.toml"), text, &no_env)
}

/// [`MINIMAL`] with `from` replaced by `to` (panics if `from` is not in it).
pub(crate) fn minimal_with(from: &str, to: &str) -> String {
    assert!(MINIMAL.contains(from), "{from:?} not in MINIMAL");
    MINIMAL.replacen(from, to, 1)
}
