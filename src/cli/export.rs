//! `invitebot roster export`: everything the rosters hold about their members, as JSON or TOML
//! (an answer to "what do you hold about me", and a portable copy).

use invitebot::config::Config;
use invitebot::core::member::Member;
use invitebot::roster::Roster;

use super::ExportFormat;
use super::series::chosen_series;

/// The printed document: the series, each with its members as the roster holds them.
#[derive(serde::Serialize)]
struct Export {
    series: Vec<ExportedSeries>,
}

/// One series and its members (`[[series]]` with `[[series.member]]` in TOML).
#[derive(serde::Serialize)]
struct ExportedSeries {
    id: String,
    roster: String,
    member: Vec<ExportedMember>,
}

/// One member, every field the roster has.
#[derive(serde::Serialize)]
struct ExportedMember {
    github: String,
    name: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<String>,
}

impl From<&Member> for ExportedMember {
    fn from(member: &Member) -> Self {
        ExportedMember {
            github: member.github.to_string(),
            name: member.name.clone(),
            email: member.email.expose().to_string(),
            added: member.added.map(|d| d.to_string()),
            via: member.via.clone(),
        }
    }
}

/// Prints the members of one series or all, only `login` if given (any case).
pub fn run(
    config: &Config,
    series_id: Option<&str>,
    login: Option<&str>,
    format: ExportFormat,
) -> anyhow::Result<()> {
    let mut document = Export { series: Vec::new() };
    for series in chosen_series(config, series_id)? {
        let roster = Roster::load(&series.roster)?;
        let member = roster
            .members()
            .iter()
            .filter(|m| login.is_none_or(|l| m.github.is(l)))
            .map(ExportedMember::from)
            .collect();
        document.series.push(ExportedSeries {
            id: series.id.clone(),
            roster: series.roster.display().to_string(),
            member,
        });
    }
    let text = match format {
        ExportFormat::Json => serde_json::to_string_pretty(&document)? + "\n",
        ExportFormat::Toml => toml::to_string(&document)?,
    };
    print!("{text}");
    Ok(())
}
