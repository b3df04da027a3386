//! `invitebot roster list|add|remove` (and the dispatch to `export` and `forget`): the roster
//! files as the maintainers see them.

use anyhow::Context;

use invitebot::config::Config;
use invitebot::core::email_address::EmailAddress;
use invitebot::core::identity::Login;
use invitebot::core::member::Member;
use invitebot::roster::{self, AddOutcome, RemoveOutcome, Roster};

use super::series::{chosen_series, find_series};
use super::{RosterCommand, export, forget};
use invitebot::erasure::Person;

/// Runs one `roster` command.
pub fn run(config: &Config, command: RosterCommand) -> anyhow::Result<()> {
    match command {
        RosterCommand::List { series, show_email } => list(config, series.as_deref(), show_email),
        RosterCommand::Add {
            series,
            github,
            email,
            name,
        } => add(config, &series, github, &email, name),
        RosterCommand::Remove { series, github } => remove(config, &series, &github),
        RosterCommand::Export {
            series,
            github,
            format,
        } => export::run(config, series.as_deref(), github.as_deref(), format),
        RosterCommand::Forget {
            login,
            email,
            series,
            skip_cancel,
        } => {
            let person = match (&login, &email) {
                (Some(login), _) => Person::Login(login),
                (None, Some(email)) => Person::Email(email),
                (None, None) => anyhow::bail!("give a login or --email"),
            };
            forget::run(config, person, series.as_deref(), skip_cancel)
        }
    }
}

/// Prints each roster's members (addresses only with `show_email`).
fn list(config: &Config, series_id: Option<&str>, show_email: bool) -> anyhow::Result<()> {
    for series in chosen_series(config, series_id)? {
        let roster = Roster::load(&series.roster)?;
        println!(
            "{} ({} member(s), {})",
            series.id,
            roster.len(),
            series.roster.display()
        );
        for member in roster.members() {
            println!("  {}", member_line(member, show_email));
        }
    }
    Ok(())
}

/// `login (name) <email>, added date`, the address only with `show_email`.
fn member_line(member: &Member, show_email: bool) -> String {
    let email = if show_email {
        format!(" <{}>", member.email.expose())
    } else {
        String::new()
    };
    let added = member
        .added
        .map(|d| format!(", added {d}"))
        .unwrap_or_default();
    format!("{} ({}){email}{added}", member.github, member.name)
}

/// Adds a member (name defaulting to the login), dated today, unless already on the roster.
fn add(
    config: &Config,
    series_id: &str,
    github: String,
    email: &str,
    name: Option<String>,
) -> anyhow::Result<()> {
    let series = find_series(config, series_id)?;
    let email = EmailAddress::parse(email).context("--email")?;
    let login = Login::parse(&github)
        .map_err(|_| anyhow::anyhow!("--github {github:?} is not a GitHub login"))?;
    let member = Member {
        name: name.unwrap_or(github),
        github: login,
        email,
        added: Some(jiff::Zoned::now().date()),
        via: Some("invitebot roster add".to_string()),
    };
    match roster::add(&series.roster, member)? {
        AddOutcome::Added(m) => println!(
            "added {} to {} ({})",
            m.github,
            series.id,
            series.roster.display()
        ),
        AddOutcome::AlreadyMember(m) => println!(
            "{} is already on {} (as {}); nothing changed",
            m.github, series.id, m.github
        ),
    }
    Ok(())
}

/// Removes a member; fails when the login is not on the roster.
fn remove(config: &Config, series_id: &str, github: &str) -> anyhow::Result<()> {
    let series = find_series(config, series_id)?;
    match roster::remove(&series.roster, github)? {
        RemoveOutcome::Removed(m) => {
            println!(
                "removed {} from {} ({})",
                m.github,
                series.id,
                series.roster.display()
            );
            Ok(())
        }
        RemoveOutcome::NotAMember => {
            anyhow::bail!("{github} is not on {}; nothing changed", series.id)
        }
    }
}
