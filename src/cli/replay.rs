//! `invitebot replay`: runs a stored delivery's requests again.

use anyhow::Context;
use jiff::Timestamp;

use invitebot::config::Config;
use invitebot::store::Store;

/// Queues the delivery's jobs again (a running server picks them up) and says how many.
pub fn run(config: &Config, delivery_id: &str) -> anyhow::Result<()> {
    let store = Store::open(&config.data_dir).context("opening the state store")?;
    let queued = store.replay_delivery(delivery_id, Timestamp::now())?;
    anyhow::ensure!(
        queued > 0,
        "no stored request for delivery {delivery_id} (deliveries that needed no work have nothing to replay; see `invitebot status`)"
    );
    println!(
        "queued {queued} request(s) of delivery {delivery_id} again; a running server handles them within seconds"
    );
    Ok(())
}
