//! `invitebot check`: validates the config and every roster and prints what they say.

use anyhow::Context;
use jiff::Timestamp;

use invitebot::config::Config;

use invitebot::core::calendar::{Change, Meeting};
use invitebot::core::plan::{Counts, plan_series};
use invitebot::core::series::Series;
use invitebot::core::series_event::SeriesEvent;
use invitebot::core::texts;
use invitebot::github::client::Client;
use invitebot::github::repos;
use invitebot::roster::{Roster, RosterError};
use invitebot::store::Store;

/// How far ahead `check` looks for meetings with a daylight-saving problem.
const DST_NOTE_YEARS: i64 = 3;
/// How many meetings it lists.
const NEXT_MEETINGS: usize = 5;

/// Prints each series (schedule, next meetings, roster size, what a running server would send
/// now) and notes about missing secrets; fails naming every roster that needs fixing.
pub fn run(config: &Config) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let store = Store::open_existing(&config.data_dir).context("reading the state store")?;
    let mut broken = Vec::new();
    println!("{}: {} series", config.path.display(), config.series.len());
    print_repositories(config)?;
    for series in &config.series {
        print_series(series, now);
        broken.extend(print_roster(store.as_ref(), series)?);
    }
    print_setup_notes(config);
    if broken.is_empty() {
        return Ok(());
    }
    for error in &broken {
        eprintln!("error: {error}");
    }
    anyhow::bail!("{} roster file(s) need fixing", broken.len())
}

/// What GitHub says about each configured repository: found, renamed (update the config), or
/// no answer (deliveries matched by name only).
fn print_repositories(config: &Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting a runtime for the GitHub lookups")?;
    let lookups = runtime.block_on(async {
        let github = Client::new(&config.github).context("setting up the GitHub client")?;
        anyhow::Ok(repos::look_up(&github, &config.series).await)
    })?;
    for lookup in lookups {
        println!("GitHub: {}", lookup.message());
    }
    Ok(())
}

/// The series' settings, its changed and next meetings and its daylight-saving notes.
fn print_series(series: &Series, now: Timestamp) {
    let schedule = &series.schedule;
    println!("\n{} — {} ({})", series.id, series.title, series.repo);
    let skipped = schedule
        .exceptions()
        .iter()
        .filter(|e| e.change == Change::Cancelled && e.note.is_none())
        .map(|e| e.date.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "  every {} week(s) on {} at {} {}, {} min, first {}{}; skipped: {}",
        schedule.interval_weeks(),
        schedule.first().strftime("%A"),
        schedule.first().strftime("%H:%M"),
        schedule.tz_name(),
        schedule.duration_minutes(),
        schedule.first().date(),
        schedule
            .until()
            .map_or_else(String::new, |until| format!(", until {until}")),
        if skipped.is_empty() { "none" } else { &skipped },
    );
    println!("  calendar UID: {}", series.uid);
    if let Some(note) = schedule.first_meeting_note() {
        println!(
            "  calendar: the first meeting has a daylight-saving problem ({}), so the invitation's \
             rule starts at the first meeting without one, {}, and lists the earlier ones one by one",
            note.message(schedule),
            schedule.calendar_start().date()
        );
    }
    if let Some(team) = &series.team {
        println!("  GitHub team: {team}");
    }
    let changes = schedule.changed_meetings(now);
    if !changes.is_empty() {
        println!("  changed meetings:");
        for meeting in &changes {
            println!("    {}", texts::meeting_line(meeting));
        }
    }
    println!("  next meetings:");
    for meeting in schedule
        .meetings(now)
        .filter(Meeting::is_held)
        .take(NEXT_MEETINGS)
    {
        println!("    {}", texts::meeting_line(&meeting));
    }
    print_dst_notes(series, now);
}

/// Every meeting in the next [`DST_NOTE_YEARS`] years that starts or ends in a daylight-saving
/// gap or overlap, or during which the clocks change.
fn print_dst_notes(series: &Series, now: Timestamp) {
    let schedule = &series.schedule;
    let notes = schedule.dst_notes(now, DST_NOTE_YEARS);
    if notes.is_empty() {
        return;
    }
    println!(
        "  daylight saving time: {} meeting(s) in the next {DST_NOTE_YEARS} years start or end at a \
         wall time that doesn't exist or happens twice, or the clocks change during them.",
        notes.len()
    );
    println!(
        "  Calendar apps disagree on these: some will show them an hour off, or longer or shorter, \
         than the times below (RFC 5545's). Move them with [[series.exception]], or choose another \
         time:"
    );
    for note in &notes {
        println!("    {}", note.message(schedule));
    }
}

/// The roster's size, what is pending and the team problems; returns the roster's error when
/// it is invalid.
fn print_roster(store: Option<&Store>, series: &Series) -> anyhow::Result<Option<RosterError>> {
    let roster = match Roster::load(&series.roster) {
        Ok(roster) => roster,
        Err(error) => {
            println!("  roster: {} is INVALID", series.roster.display());
            return Ok(Some(error));
        }
    };
    println!(
        "  roster: {}, {} member(s)",
        series.roster.display(),
        roster.len()
    );
    println!("  pending: {}", pending(store, series, &roster)?);
    print_team_problems(store, series)?;
    Ok(None)
}

/// What a running server would send for the series now.
fn pending(store: Option<&Store>, series: &Series, roster: &Roster) -> anyhow::Result<Counts> {
    let (record, sent) = match store {
        Some(store) => (store.series(&series.id)?, store.members(&series.id)?),
        None => (None, Vec::new()),
    };
    Ok(plan_series(
        SeriesEvent::of(series),
        roster.members(),
        record.as_ref(),
        &sent,
    )
    .counts())
}

/// The members whose GitHub team membership could not be updated.
fn print_team_problems(store: Option<&Store>, series: &Series) -> anyhow::Result<()> {
    let Some(store) = store else { return Ok(()) };
    for member in store
        .members(&series.id)?
        .iter()
        .filter(|m| m.team_error.is_some())
    {
        println!(
            "  team: {} could not be updated: {}",
            member.github,
            member.team_error.as_deref().unwrap_or_default()
        );
    }
    Ok(())
}

/// Notes on what `serve` will lack: a webhook secret, a GitHub token.
fn print_setup_notes(config: &Config) {
    if config.webhook.secrets.is_none() {
        println!(
            "\nnote: no webhook secret is set; `serve` needs INVITEBOT_WEBHOOK_SECRET or [webhook] secret_file"
        );
    }
    if config.github.token.is_none() {
        println!("note: no GitHub token is set; `serve` will log replies instead of posting them");
    }
}
