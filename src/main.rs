//! The `invitebot` command line: `serve`, `check`, `ics`, `roster`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::Timestamp;

use invitebot::config::{Config, DEFAULT_CONFIG_PATH};
use invitebot::core::calendar::{Method, Person};
use invitebot::core::email_address::EmailAddress;
use invitebot::core::member::Member;
use invitebot::core::plan::{Counts, plan_series};
use invitebot::core::series::Series;
use invitebot::core::series_event::SeriesEvent;
use invitebot::core::texts;
use invitebot::roster::{self, AddOutcome, RemoveOutcome, Roster};
use invitebot::store::Store;
use invitebot::{healthcheck, server};

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
    /// Asks a running server's GET /healthz; exits 0 when it answers 200, 1 otherwise.
    ///
    /// For container health checks (needs no shell or curl). Does not read the config when
    /// --url or INVITEBOT_LISTEN is given.
    Healthcheck {
        /// The URL to ask (default: http://<listen address>/healthz, the listen address from
        /// INVITEBOT_LISTEN or the config; 0.0.0.0 and :: become the loopback address).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Give up after this many seconds (1 to 60).
        #[arg(long, default_value_t = 3, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=60))]
        timeout: u64,
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
    /// Prints the members with everything the rosters hold about them (login, name, email,
    /// added, via): an answer to "what do you hold about me" and a portable copy.
    ///
    /// Personal data: mind where the output goes.
    Export {
        /// Only this series (default: all).
        #[arg(long, value_name = "ID")]
        series: Option<String>,
        /// Only this person.
        #[arg(long, value_name = "LOGIN")]
        github: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
    /// Erases a person: removes them from every roster and deletes what the state store holds
    /// about them (right to erasure).
    ///
    /// Their calendar keeps the meetings unless they got the cancellation first: run `roster
    /// remove`, let the running server send the cancellation (`invitebot status` shows nothing
    /// waiting), then `roster forget`. Refuses while the store says their calendar still holds
    /// an invitation, unless --skip-cancel.
    Forget {
        /// Their GitHub login.
        login: String,
        /// Only this series (default: all).
        #[arg(long, value_name = "ID")]
        series: Option<String>,
        /// Erase even though no cancellation was sent (their calendar keeps the meetings). Best
        /// with the server stopped.
        #[arg(long)]
        skip_cancel: bool,
    },
}

/// How `roster export` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    /// JSON.
    Json,
    /// TOML, in the roster files' own layout (one `[[series.member]]` per member).
    Toml,
}

/// glibc gives every thread that allocates its own malloc arena and keeps freed memory in each:
/// with the HTTP, worker, store and blocking threads that is about 16 MiB more resident memory
/// during a 10,000-member update, for no measured gain in speed (see `docs/benchmarks.md`).
/// One arena it is; set before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes a malloc tuning parameter; it is called before any other
    // thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
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
    if let Command::Healthcheck { url, timeout } = &cli.command {
        return healthcheck(&cli.config, url.as_deref(), *timeout);
    }
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
        Command::Healthcheck { .. } => unreachable!("handled before the config is loaded"),
    }
}

/// `invitebot healthcheck`: the URL from `--url`, else from INVITEBOT_LISTEN, else from the
/// config's `[server] listen` (the config is read only then, so a config being edited does not
/// make a running server look unhealthy).
fn healthcheck(config_path: &Path, url: Option<&str>, timeout: u64) -> anyhow::Result<()> {
    let url = match url {
        Some(url) => url.to_string(),
        None => healthcheck::default_url(listen_address(config_path)?),
    };
    healthcheck::probe(&url, std::time::Duration::from_secs(timeout))?;
    println!("ok: {url}");
    Ok(())
}

fn listen_address(config_path: &Path) -> anyhow::Result<std::net::SocketAddr> {
    match std::env::var(invitebot::config::env::LISTEN) {
        Ok(text) => text.parse().with_context(|| {
            format!(
                "{} = {text:?} is not an address like 0.0.0.0:8080",
                invitebot::config::env::LISTEN
            )
        }),
        Err(_) => Ok(Config::load(config_path)?.server.listen),
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // The signal handlers are installed inside the runtime, before the server starts.
    runtime.block_on(async { server::run(config, server::shutdown_signal()).await })?;
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
    if config.webhook.secrets.is_none() {
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
    Ok(plan_series(
        SeriesEvent::of(series),
        roster.members(),
        record.as_ref(),
        &sent,
    )
    .counts())
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
            for series in chosen_series(config, series.as_deref())? {
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
        RosterCommand::Export {
            series,
            github,
            format,
        } => export(config, series.as_deref(), github.as_deref(), format)?,
        RosterCommand::Forget {
            login,
            series,
            skip_cancel,
        } => forget(config, &login, series.as_deref(), skip_cancel)?,
    }
    Ok(())
}

/// The series a `roster` command works on: one, or all.
fn chosen_series<'c>(config: &'c Config, id: Option<&str>) -> anyhow::Result<Vec<&'c Series>> {
    Ok(match id {
        Some(id) => vec![find_series(config, Some(id))?],
        None => config.series.iter().collect(),
    })
}

/// `roster export`'s document: the series, each with its members as the roster holds them.
#[derive(serde::Serialize)]
struct Export {
    series: Vec<ExportedSeries>,
}

#[derive(serde::Serialize)]
struct ExportedSeries {
    id: String,
    roster: String,
    member: Vec<ExportedMember>,
}

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
            github: member.github.clone(),
            name: member.name.clone(),
            email: member.email.expose().to_string(),
            added: member.added.map(|d| d.to_string()),
            via: member.via.clone(),
        }
    }
}

fn export(
    config: &Config,
    series: Option<&str>,
    login: Option<&str>,
    format: ExportFormat,
) -> anyhow::Result<()> {
    let mut document = Export { series: Vec::new() };
    for series in chosen_series(config, series)? {
        let roster = Roster::load(&series.roster)?;
        let member = roster
            .members()
            .iter()
            .filter(|m| login.is_none_or(|l| m.github.eq_ignore_ascii_case(l)))
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

/// `roster forget`: refuses while a calendar still holds the invitation (unless told), then
/// takes the person off the rosters, erases them from the state store and deletes the mail
/// files addressed to them. Prints what it did, never an address.
fn forget(
    config: &Config,
    login: &str,
    series_id: Option<&str>,
    skip_cancel: bool,
) -> anyhow::Result<()> {
    let chosen = chosen_series(config, series_id)?;
    let store_file = config.data_dir.join(invitebot::store::FILE_NAME);
    let store = if store_file.exists() {
        Some(Store::open(&config.data_dir).context("opening the state store")?)
    } else {
        None
    };
    let mut addresses = Vec::new();
    if let Some(store) = &store {
        if !skip_cancel {
            ensure_no_invitation_held(store, login, series_id)?;
        }
        addresses = stored_addresses(store, &chosen, login)?;
    }
    for series in &chosen {
        match roster::remove(&series.roster, login)? {
            RemoveOutcome::Removed(member) => {
                println!(
                    "removed {} from {} ({})",
                    member.github,
                    series.id,
                    series.roster.display()
                );
                addresses.push(member.email.expose().to_lowercase());
            }
            RemoveOutcome::NotAMember => println!("{login} is not on {}", series.id),
        }
    }
    if let Some(store) = &store {
        let target = invitebot::store::ErasureTarget {
            login,
            addresses: &addresses,
            series_id,
        };
        let erased = store.forget_member(&target)?;
        println!(
            "state store {}: {} sent record(s) and {} mail failure(s) deleted, {} request(s) erased, {} pending confirmation(s) deleted",
            store.path().display(),
            erased.sent_records,
            erased.mail_failures,
            erased.requests_redacted,
            erased.requests_deleted
        );
    }
    if let (None, invitebot::mail::settings::MailTransport::File { dir }) =
        (series_id, &config.mail.transport)
    {
        let deleted = delete_mail_files(dir, &addresses)?;
        println!(
            "{deleted} mail file(s) addressed to them deleted from {}",
            dir.display()
        );
    }
    Ok(())
}

/// Fails, changing nothing, while the store says the person's calendar still holds an
/// invitation: once their address is erased no cancellation can be sent.
fn ensure_no_invitation_held(
    store: &Store,
    login: &str,
    series_id: Option<&str>,
) -> anyhow::Result<()> {
    let held = store.held_invitations(login, series_id)?;
    if held.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = held.iter().map(|h| h.series_id.as_str()).collect();
    anyhow::bail!(
        "{login}'s calendar still holds the invitation to {}; nothing changed.\n\
         Erasing the address now means no cancellation can be sent. Either run \
         `invitebot roster remove --series ID --github {login}` for each, let the running \
         server send the cancellation (`invitebot status` shows nothing waiting), then \
         forget; or pass --skip-cancel to erase at once (best with the server stopped).",
        ids.join(", ")
    )
}

/// The addresses the store has for `login` in these series (lowercased; personal data).
fn stored_addresses(store: &Store, series: &[&Series], login: &str) -> anyhow::Result<Vec<String>> {
    let mut addresses = Vec::new();
    for series in series {
        let sent = store
            .members(&series.id)?
            .into_iter()
            .filter(|m| m.github.eq_ignore_ascii_case(login))
            .map(|m| m.email);
        let failed = store
            .mail_failures(Some(&series.id))?
            .into_iter()
            .filter(|f| f.github.eq_ignore_ascii_case(login))
            .map(|f| f.email);
        addresses.extend(sent.chain(failed).map(|a| a.to_lowercase()));
    }
    Ok(addresses)
}

/// Deletes the `.eml` files of the file transport that mention one of `addresses`.
fn delete_mail_files(dir: &Path, addresses: &[String]) -> anyhow::Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut deleted = 0;
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.extension().is_none_or(|x| x != "eml") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path)?).to_lowercase();
        if addresses.iter().any(|a| text.contains(a.as_str())) {
            std::fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
