//! The `invitebot` command line: `serve`, `check`, `ics`, `roster`, `status`, `replay`,
//! `healthcheck`. This file parses the command line and calls one function per command; the
//! commands live in [`cli`].

use std::process::ExitCode;

use clap::Parser;

use invitebot::config::Config;

mod cli;

use cli::{Cli, Command};

/// A musl build allocates with mimalloc: musl's own malloc serialises every allocation of every
/// thread on one lock. (The image's static build links glibc: see the Dockerfile.)
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Every file and folder the bot makes holds personal data or a secret (the store and its
/// write-ahead log, mail files, the link key, rosters): readable by the service user only.
fn private_files() {
    #[cfg(unix)]
    // SAFETY: `umask` only sets the process's file creation mask; it is called before any other
    // thread exists.
    unsafe {
        libc::umask(0o077);
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    private_files();
    let cli = Cli::parse();
    let logging = init_logging(matches!(cli.command, Command::Serve));
    let result = run(cli);
    // Writes the log lines still queued before the error (both on stderr) and the exit.
    drop(logging);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(serving: bool) -> invitebot::telemetry::LogGuard {
    invitebot::telemetry::init_logging(if serving { "info" } else { "warn" })
}

/// Runs the command. Every command but `healthcheck` needs the config.
fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Healthcheck { url, timeout } = &cli.command {
        return cli::healthcheck::run(&cli.config, url.as_deref(), *timeout);
    }
    let config = Config::load(&cli.config)?;
    match cli.command {
        Command::Serve => cli::serve::run(config),
        Command::Check => cli::check::run(&config),
        Command::Ics {
            series,
            attendee,
            name,
        } => cli::ics::run(&config, series.as_deref(), &attendee, &name),
        Command::Roster { command } => cli::roster::run(&config, command),
        Command::Status { deliveries } => cli::status::run(&config, deliveries),
        Command::Replay { delivery_id } => cli::replay::run(&config, &delivery_id),
        Command::Healthcheck { .. } => unreachable!("handled before the config is loaded"),
    }
}
