//! `invitebot serve`: runs the webhook receiver until SIGTERM or Ctrl-C.

use anyhow::Context;

use invitebot::config::Config;
use invitebot::server;

/// Starts the async runtime and runs the server in it until a shutdown signal.
pub fn run(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    // The signal handlers are installed inside the runtime, before the server starts.
    runtime.block_on(async { server::run(config, server::shutdown_signal()).await })?;
    Ok(())
}
