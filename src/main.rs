//! The `invitebot` command line: `serve`, `check`, `ics`, `roster`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::Timestamp;

use invitebot::calendar::{Method, Person};
use invitebot::config::{Config, DEFAULT_CONFIG_PATH, Series};
use invitebot::email::EmailAddress;
use invitebot::event::SeriesEvent;
use invitebot::reconcile::{Counts, plan_series};
use invitebot::roster::{self, AddOutcome, Member, RemoveOutcome, Roster};
use invitebot::store::Store;
use invitebot::{server, texts};

/// The version and the commit the binary was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("INVITEBOT_GIT_COMMIT"),
    ")"
);

/// Turns "request meeting invite" GitHub issues into calendar invitations, roster entries and
/// replies on the issue, and keeps members' calendars in line with the config and rosters.
#[derive(Parser)]
#[command(name = "invitebot", version = VERSION, propagate_version = true)]
struct Cli {
    /// The configuration file. Relative paths inside it are relative to its folder.
    #[arg(long, global = true, env = "INVITEBOT_CONFIG", default_value = DEFAULT_CONFIG_PATH, value_name = "PATH")]
    config: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the webhook receiver (POST /webhook, GET /healthz) until SIGTERM or Ctrl-C.
    ///
    /// Needs a webhook secret (INVITEBOT_WEBHOOK_SECRET or `[webhook] secret_file`). Without a
    /// GitHub token (INVITEBOT_GITHUB_TOKEN or GITHUB_TOKEN) replies on issues are logged instead
    /// of sent. Watches the config and roster files: an edit sends the invitations,
    /// cancellations and updates it implies (SIGHUP does the same). Log verbosity: RUST_LOG
    /// (default `info`).
    Serve,
    /// Checks the config and every roster; prints each series, its next meetings, its roster
    /// size and what a running server would send now.
    ///
    /// Sends nothing. Exits 1 with file:line:column and what to fix when anything is wrong.
    Check,
    /// Prints the .ics a new member would receive (METHOD:REQUEST), for inspection.
    Ics {
        /// The series (default: the first in the config).
        #[arg(long, value_name = "ID")]
        series: Option<String>,
        /// The attendee's address in the printed invitation.
        #[arg(long, value_name = "EMAIL", default_value = "new.member@example.org")]
        attendee: String,
        /// The attendee's name in the printed invitation.
        #[arg(long, value_name = "NAME", default_value = "New Member")]
        name: String,
    },
    /// Shows what is waiting or failed (jobs, replies on issues, calendar mail) and the last
    /// deliveries. Never shows email addresses.
    Status {
        /// How many recent deliveries to list.
        #[arg(long, default_value_t = 10, value_name = "N")]
        deliveries: usize,
    },
    /// Runs a stored delivery's request again (a running server picks it up within seconds).
    ///
    /// Replies are not posted twice: a comment already on the issue is recognised by its hidden
    /// key.
    Replay {
        /// The `X-GitHub-Delivery` id (see `invitebot status`).
        delivery_id: String,
    },
    /// Lists, adds or removes members by editing the roster file (comments kept, atomic write).
    ///
    /// A running server notices the change and sends the invitation or cancellation.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Lists the members (addresses only with --show-email).
    List {
        /// Only this series (default: all).
        #[arg(long, value_name = "ID")]
        series: Option<String>,
        /// Also print email addresses (personal data: mind where the output goes).
        #[arg(long)]
        show_email: bool,
    },
    /// Adds a member.
    Add {
        /// The series.
        #[arg(long, value_name = "ID")]
        series: String,
        /// Their GitHub login.
        #[arg(long, value_name = "LOGIN")]
        github: String,
        /// Their email address.
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// Their name (default: the login).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Removes a member.
    Remove {
        /// The series.
        #[arg(long, value_name = "ID")]
        series: String,
        /// Their GitHub login.
        #[arg(long, value_name = "LOGIN")]
        github: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Serve));
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(serving: bool) {
    invitebot::telemetry::init_logging(if serving { "info" } else { "warn" });
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve => serve(config),
        Command::Check => check(&config),
        Command::Ics {
            series,
            attendee,
            name,
        } => ics(&config, series.as_deref(), &attendee, &name),
        Command::Roster { command } => roster_command(&config, command),
        Command::Status { deliveries } => status(&config, deliveries),
        Command::Replay { delivery_id } => replay(&config, &delivery_id),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(server::run(config, server::shutdown_signal()))?;
    Ok(())
}

fn check(config: &Config) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let store = Store::open_existing(&config.data_dir).context("reading the state store")?;
    let mut broken = Vec::new();
    println!("{}: {} series", config.path.display(), config.series.len());
    for series in &config.series {
        print_series(series, now);
        match Roster::load(&series.roster) {
            Ok(roster) => {
                println!(
                    "  roster: {}, {} member(s)",
                    series.roster.display(),
                    roster.len()
                );
                println!("  pending: {}", pending(store.as_ref(), series, &roster)?);
                print_team_problems(store.as_ref(), series)?;
            }
            Err(error) => {
                println!("  roster: {} is INVALID", series.roster.display());
                broken.push(error);
            }
        }
    }
    if config.webhook_secret.is_none() {
        println!(
            "\nnote: no webhook secret is set; `serve` needs INVITEBOT_WEBHOOK_SECRET or [webhook] secret_file"
        );
    }
    if config.github.token.is_none() {
        println!("note: no GitHub token is set; `serve` will log replies instead of posting them");
    }
    if broken.is_empty() {
        return Ok(());
    }
    for error in &broken {
        eprintln!("error: {error}");
    }
    anyhow::bail!("{} roster file(s) need fixing", broken.len())
}

fn print_series(series: &Series, now: Timestamp) {
    let schedule = &series.schedule;
    println!("\n{} — {} ({})", series.id, series.title, series.repo);
    let skipped = schedule
        .skip()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "  every {} week(s) on {} at {} {}, {} min, first {}; skipped: {}",
        schedule.interval_weeks(),
        schedule.first().strftime("%A"),
        schedule.first().strftime("%H:%M"),
        schedule.tz_name(),
        schedule.duration_minutes(),
        schedule.first().date(),
        if skipped.is_empty() { "none" } else { &skipped },
    );
    println!("  calendar UID: {}", series.uid);
    if let Some(team) = &series.team {
        println!("  GitHub team: {team}");
    }
    println!("  next meetings:");
    for occurrence in schedule.next_occurrences(now, 5) {
        println!("    {}", texts::when(&occurrence));
    }
    let notes = schedule.dst_notes(now, DST_NOTE_YEARS);
    if !notes.is_empty() {
        println!(
            "  notes (daylight saving time, next {DST_NOTE_YEARS} years; meetings are held as RFC 5545 says):"
        );
        for note in notes.iter().take(MAX_DST_NOTES) {
            println!("    {}", note.message(schedule));
        }
        if notes.len() > MAX_DST_NOTES {
            println!("    … and {} more", notes.len() - MAX_DST_NOTES);
        }
    }
}

/// How far ahead `check` looks for meetings in a daylight-saving gap or overlap.
const DST_NOTE_YEARS: i64 = 3;
/// How many of those it lists.
const MAX_DST_NOTES: usize = 6;

/// What a running server would send for the series now.
fn pending(store: Option<&Store>, series: &Series, roster: &Roster) -> anyhow::Result<Counts> {
    let (record, sent) = match store {
        Some(store) => (store.series(&series.id)?, store.members(&series.id)?),
        None => (None, Vec::new()),
    };
    Ok(plan_series(SeriesEvent::of(series), roster, record.as_ref(), &sent).counts())
}

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

fn find_series<'c>(config: &'c Config, id: Option<&str>) -> anyhow::Result<&'c Series> {
    let Some(id) = id else {
        return Ok(&config.series[0]);
    };
    config.series_by_id(id).with_context(|| {
        let known: Vec<&str> = config.series.iter().map(|s| s.id.as_str()).collect();
        format!(
            "no series `{id}` in {} (known: {})",
            config.path.display(),
            known.join(", ")
        )
    })
}

fn ics(config: &Config, series_id: Option<&str>, attendee: &str, name: &str) -> anyhow::Result<()> {
    let series = find_series(config, series_id)?;
    let email = EmailAddress::parse(attendee).context("--attendee")?;
    let attendee = Person {
        name: name.to_string(),
        email,
    };
    let store = Store::open_existing(&config.data_dir).context("reading the state store")?;
    let sequence = match store {
        Some(store) => store.series(&series.id)?.map_or(0, |r| r.sequence),
        None => 0,
    };
    let event = SeriesEvent::of(series);
    print!(
        "{}",
        event
            .invitation(&attendee, Method::Request, sequence, Timestamp::now())
            .to_ics()
    );
    Ok(())
}

fn status(config: &Config, deliveries: usize) -> anyhow::Result<()> {
    let Some(store) = Store::open_existing(&config.data_dir).context("reading the state store")?
    else {
        println!(
            "no state store in {} yet: the server has not run",
            config.data_dir.display()
        );
        return Ok(());
    };
    println!("state store: {}", store.path().display());
    let jobs = store.open_jobs()?;
    let count = |status: &str, items: &[String]| items.iter().filter(|s| *s == status).count();
    let job_states: Vec<String> = jobs.iter().map(|j| j.status.clone()).collect();
    println!(
        "\nrequests: {} pending, {} failed",
        count("pending", &job_states),
        count("failed", &job_states)
    );
    for job in &jobs {
        let next = if job.status == "pending" {
            format!(", next attempt {}", job.next_attempt_at)
        } else {
            String::new()
        };
        println!(
            "  {:<7} {} {}#{} ({}, delivery {}): {} attempt(s){next}{}",
            job.status,
            job.action,
            job.repo,
            job.issue,
            job.series_id,
            job.delivery_id,
            job.attempts,
            job.last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        );
    }
    let replies = store.open_replies()?;
    let reply_states: Vec<String> = replies.iter().map(|r| r.status.clone()).collect();
    println!(
        "\nreplies on issues: {} pending, {} failed",
        count("pending", &reply_states),
        count("failed", &reply_states)
    );
    for reply in &replies {
        println!(
            "  {:<7} {} {}#{}: {} attempt(s){}",
            reply.status,
            reply.kind,
            reply.repo,
            reply.issue,
            reply.attempts,
            reply
                .last_error
                .as_deref()
                .map(|e| format!("; last error: {e}"))
                .unwrap_or_default()
        );
    }
    let failures = store.mail_failures(None)?;
    let refused = failures.iter().filter(|f| f.permanent).count();
    println!(
        "\ncalendar mail: {} waiting for a retry, {refused} refused",
        failures.len() - refused
    );
    for failure in &failures {
        let state = if failure.permanent {
            "refused".to_string()
        } else {
            format!("retry at {}", failure.next_attempt_at)
        };
        println!(
            "  {}/{}: {state}; {} attempt(s); last error: {}",
            failure.series_id, failure.github, failure.attempts, failure.last_error
        );
    }
    println!("\nlast deliveries (newest first):");
    for delivery in store.recent_deliveries(deliveries)? {
        let target = match (&delivery.repo, delivery.issue) {
            (Some(repo), Some(issue)) => format!(" {repo}#{issue}"),
            _ => String::new(),
        };
        println!(
            "  {} {} {}/{}{target}: {}",
            delivery.received_at,
            delivery.id,
            delivery.event,
            delivery.action.as_deref().unwrap_or("-"),
            delivery.outcome
        );
    }
    Ok(())
}

fn replay(config: &Config, delivery_id: &str) -> anyhow::Result<()> {
    let store = Store::open(&config.data_dir).context("opening the state store")?;
    let jobs = store.jobs_of_delivery(delivery_id)?;
    anyhow::ensure!(
        !jobs.is_empty(),
        "no stored request for delivery {delivery_id} (deliveries that needed no work have nothing to replay; see `invitebot status`)"
    );
    let replay_id = format!("replay:{delivery_id}:{}", Timestamp::now());
    for job in &jobs {
        store.add_job(&invitebot::store::NewJob {
            delivery_id: &replay_id,
            action: "replay",
            series_id: &job.series_id,
            repo: &job.repo,
            issue: job.issue,
            request: &job.request,
            once_per_issue: false,
        })?;
    }
    println!(
        "queued {} request(s) of delivery {delivery_id} again; a running server handles them within seconds",
        jobs.len()
    );
    Ok(())
}

fn roster_command(config: &Config, command: RosterCommand) -> anyhow::Result<()> {
    match command {
        RosterCommand::List { series, show_email } => {
            let chosen: Vec<&Series> = match series {
                Some(id) => vec![find_series(config, Some(&id))?],
                None => config.series.iter().collect(),
            };
            for series in chosen {
                let roster = Roster::load(&series.roster)?;
                println!(
                    "{} ({} member(s), {})",
                    series.id,
                    roster.len(),
                    series.roster.display()
                );
                for member in roster.members() {
                    let email = if show_email {
                        format!(" <{}>", member.email.expose())
                    } else {
                        String::new()
                    };
                    let added = member
                        .added
                        .map(|d| format!(", added {d}"))
                        .unwrap_or_default();
                    println!("  {} ({}){email}{added}", member.github, member.name);
                }
            }
        }
        RosterCommand::Add {
            series,
            github,
            email,
            name,
        } => {
            let series = find_series(config, Some(&series))?;
            let email = EmailAddress::parse(&email).context("--email")?;
            anyhow::ensure!(
                roster::is_valid_github_login(&github),
                "--github {github:?} is not a GitHub login"
            );
            let member = Member {
                name: name.unwrap_or_else(|| github.clone()),
                github,
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
        }
        RosterCommand::Remove { series, github } => {
            let series = find_series(config, Some(&series))?;
            match roster::remove(&series.roster, &github)? {
                RemoveOutcome::Removed(m) => println!(
                    "removed {} from {} ({})",
                    m.github,
                    series.id,
                    series.roster.display()
                ),
                RemoveOutcome::NotAMember => {
                    anyhow::bail!("{github} is not on {}; nothing changed", series.id)
                }
            }
        }
    }
    Ok(())
}
