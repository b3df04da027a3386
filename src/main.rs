//! The `invitebot` command line: `serve`, `check`, `ics`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::Timestamp;

use invitebot::calendar::{Method, Person};
use invitebot::config::{Config, DEFAULT_CONFIG_PATH};
use invitebot::email::EmailAddress;
use invitebot::pipeline::invitation;
use invitebot::roster::Roster;
use invitebot::{server, texts};

/// Turns "request meeting invite" GitHub issues into calendar invitations, roster entries and
/// replies on the issue.
#[derive(Parser)]
#[command(name = "invitebot", version, propagate_version = true)]
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
    /// of sent. Log verbosity: RUST_LOG (default `info`).
    Serve,
    /// Checks the config and every roster; prints each series, its next meetings and roster size.
    ///
    /// Exits 1 with file:line:column and what to fix when anything is wrong.
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
    let default = if serving { "info" } else { "warn" };
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(server::run(config, server::shutdown_signal()))?;
    Ok(())
}

fn check(config: &Config) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let mut broken = Vec::new();
    println!("{}: {} series", config.path.display(), config.series.len());
    for series in &config.series {
        let schedule = &series.schedule;
        println!("\n{} — {} ({})", series.id, series.title, series.repo);
        println!(
            "  every {} week(s) on {} at {} {}, {} min, first {}; skipped: {}",
            schedule.interval_weeks(),
            schedule.first().strftime("%A"),
            schedule.first().strftime("%H:%M"),
            schedule.tz_name(),
            schedule.duration_minutes(),
            schedule.first().date(),
            if schedule.skip().is_empty() {
                "none".to_string()
            } else {
                schedule
                    .skip()
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        println!("  calendar UID: {}", series.uid);
        match Roster::load(&series.roster) {
            Ok(roster) => println!(
                "  roster: {}, {} member(s)",
                series.roster.display(),
                roster.len()
            ),
            Err(error) => {
                println!("  roster: {} is INVALID", series.roster.display());
                broken.push(error);
            }
        }
        println!("  next meetings:");
        for occurrence in schedule.next_occurrences(now, 3) {
            println!("    {}", texts::when(&occurrence));
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

fn ics(config: &Config, series_id: Option<&str>, attendee: &str, name: &str) -> anyhow::Result<()> {
    let series = match series_id {
        Some(id) => config.series_by_id(id).with_context(|| {
            let known: Vec<&str> = config.series.iter().map(|s| s.id.as_str()).collect();
            format!(
                "no series `{id}` in {} (known: {})",
                config.path.display(),
                known.join(", ")
            )
        })?,
        None => &config.series[0],
    };
    let email = EmailAddress::parse(attendee).context("--attendee")?;
    let attendee = Person {
        name: name.to_string(),
        email,
    };
    print!(
        "{}",
        invitation(series, &attendee, Timestamp::now(), Method::Request).to_ics()
    );
    Ok(())
}
