//! The command line's shape (clap types) and the modules that carry out each command.
//!
//! `main.rs` parses with [`Cli`] and calls one function per [`Command`]; the commands print
//! here, the work they ask for is done by the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use invitebot::config::DEFAULT_CONFIG_PATH;

pub mod check;
pub mod export;
pub mod forget;
pub mod healthcheck;
pub mod ics;
pub mod replay;
pub mod roster;
mod series;
pub mod serve;
pub mod status;

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
pub struct Cli {
    /// The configuration file. Relative paths inside it are relative to its folder.
    #[arg(long, global = true, env = "INVITEBOT_CONFIG", default_value = DEFAULT_CONFIG_PATH, value_name = "PATH")]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
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

/// The `roster` commands.
#[derive(Subcommand)]
pub enum RosterCommand {
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
    ///
    /// With --email instead of a login: the members with that address, and every stored request
    /// and mail file that names it (whole addresses only: `a@b.org` is not `ba@b.org`).
    Forget {
        /// Their GitHub login.
        #[arg(required_unless_present = "email", conflicts_with = "email")]
        login: Option<String>,
        /// Their address instead of a login.
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
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
pub enum ExportFormat {
    /// JSON.
    Json,
    /// TOML, in the roster files' own layout (one `[[series.member]]` per member).
    Toml,
}
