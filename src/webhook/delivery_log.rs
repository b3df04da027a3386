//! The record of deliveries that need nothing (pings, other events, issues that aren't requests).
//!
//! They are written to the store in batches by a task of their own, after the answer: an
//! ignored delivery then costs the request no store round-trip. Losing the last few records
//! in a crash loses nothing but history (`invitebot status`); requests to act on are never
//! recorded this way but committed before the answer (see [`super::accept`]).

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store::{DeliveryRecord, Store};

/// Records waiting for the writer; more are dropped (and counted) rather than held in memory.
const CAPACITY: usize = 8192;
/// Most records written in one transaction.
const BATCH: usize = 1024;
/// How long the writer gathers records after the first before writing: one commit (and one
/// wake-up of the thread) per this much time under load.
const LINGER: Duration = Duration::from_millis(50);

/// The sending side, held by the HTTP handlers.
#[derive(Clone)]
pub struct DeliveryLog {
    sender: mpsc::SyncSender<DeliveryRecord>,
}

impl DeliveryLog {
    /// Starts the writer thread. It ends, after writing what was queued, once every
    /// `DeliveryLog` is dropped; join the handle to flush at shutdown.
    pub fn start(store: Arc<Store>) -> std::io::Result<(Self, JoinHandle<()>)> {
        let (sender, receiver) = mpsc::sync_channel(CAPACITY);
        let writer = std::thread::Builder::new()
            .name("invitebot-deliveries".into())
            .spawn(move || write(&store, &receiver))?;
        Ok((Self { sender }, writer))
    }

    /// Queues a record without waiting; when the writer is behind by [`CAPACITY`] records, it
    /// is dropped.
    pub fn record(&self, record: DeliveryRecord) {
        if self.sender.try_send(record).is_err() {
            crate::telemetry::delivery_log_dropped();
        }
    }
}

fn write(store: &Store, receiver: &mpsc::Receiver<DeliveryRecord>) {
    while let Ok(first) = receiver.recv() {
        std::thread::sleep(LINGER);
        let batch: Vec<_> = std::iter::once(first)
            .chain(receiver.try_iter().take(BATCH - 1))
            .collect();
        if let Err(error) = store.record_deliveries(&batch) {
            tracing::warn!(%error, count = batch.len(), "cannot record ignored deliveries (history only; nothing else is lost)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> DeliveryRecord {
        DeliveryRecord {
            id: id.into(),
            event: "ping".into(),
            action: None,
            repo: None,
            issue: None,
            received_at: jiff::Timestamp::now(),
            outcome: "ignored".into(),
        }
    }

    #[test]
    fn records_are_written_and_flushed_when_the_log_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (log, writer) = DeliveryLog::start(store.clone()).unwrap();
        for i in 0..1200 {
            log.record(record(&format!("d{i}")));
        }
        log.record(record("d0"));
        drop(log);
        writer.join().unwrap();
        let recent = store.recent_deliveries(5000).unwrap();
        assert_eq!(recent.len(), 1200);
    }
}
