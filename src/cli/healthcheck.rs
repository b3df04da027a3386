//! `invitebot healthcheck`: asks a running server's `GET /healthz`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use invitebot::config::{Config, env};
use invitebot::healthcheck;

/// Probes the URL from `--url`, else the operations listener's `/healthz` (INVITEBOT_ADMIN_LISTEN,
/// else the config's `[server] admin_listen`; the config is read only then, so a config being
/// edited does not make a running server look unhealthy); prints `ok: <url>` when it answers
/// 200. The operations listener answers even while the public one is flooded, so a flood does
/// not get a healthy server restarted.
pub fn run(config_path: &Path, url: Option<&str>, timeout_seconds: u64) -> anyhow::Result<()> {
    let url = match url {
        Some(url) => url.to_string(),
        None => healthcheck::default_url(listen_address(config_path)?),
    };
    healthcheck::probe(&url, Duration::from_secs(timeout_seconds))?;
    println!("ok: {url}");
    Ok(())
}

/// The operations listener's address: INVITEBOT_ADMIN_LISTEN, else the config's.
fn listen_address(config_path: &Path) -> anyhow::Result<SocketAddr> {
    match std::env::var(env::ADMIN_LISTEN) {
        Ok(text) => text.parse().with_context(|| {
            format!(
                "{} = {text:?} is not an address like 127.0.0.1:9090",
                env::ADMIN_LISTEN
            )
        }),
        Err(_) => Ok(Config::load(config_path)?.server.admin_listen),
    }
}
