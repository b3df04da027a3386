//! Finding the series a command names (`--series ID`).

use anyhow::Context;

use invitebot::config::Config;

use invitebot::core::series::Series;

/// The series with this id; the error lists the known ones.
pub fn find_series<'c>(config: &'c Config, id: &str) -> anyhow::Result<&'c Series> {
    config.series_by_id(id).with_context(|| {
        let known: Vec<&str> = config.series.iter().map(|s| s.id.as_str()).collect();
        format!(
            "no series `{id}` in {} (known: {})",
            config.path.display(),
            known.join(", ")
        )
    })
}

/// The series named, or the first in the config when none is.
pub fn named_or_first<'c>(config: &'c Config, id: Option<&str>) -> anyhow::Result<&'c Series> {
    match id {
        Some(id) => find_series(config, id),
        None => Ok(&config.series[0]),
    }
}

/// The series a `roster` command works on: the one named, or all.
pub fn chosen_series<'c>(config: &'c Config, id: Option<&str>) -> anyhow::Result<Vec<&'c Series>> {
    Ok(match id {
        Some(id) => vec![find_series(config, id)?],
        None => config.series.iter().collect(),
    })
}
