//! The record of deliveries that need nothing (pings, other events, issues that aren't requests).
//!
//! They are written to the store in batches by a task of their own, after the answer: an
//! ignored delivery then costs the request no store round-trip. Losing the last few records
//! in a crash loses nothing but history (`invitebot status`); requests to act on are never
//! recorded this way but committed before the answer (see [`super::accept`]).

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::store::{DeliveryRecord, Store};

/// Records waiting for the writer; more are dropped (and counted) rather than held in memory.
const CAPACITY: usize = 8192;
/// Most records written in one transaction.
const BATCH: usize = 512;

/// The sending side, held by the HTTP handlers.
#[derive(Clone)]
pub struct DeliveryLog {
    sender: mpsc::Sender<DeliveryRecord>,
}

impl DeliveryLog {
    /// Starts the writer on the current runtime. It ends, after writing what was queued, once
    /// every `DeliveryLog` is dropped; await the handle to flush at shutdown.
    pub fn start(store: Arc<Store>) -> (Self, JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        (Self { sender }, tokio::spawn(write(store, receiver)))
    }

    /// Queues a record; when the writer is behind by [`CAPACITY`] records, it is dropped.
    pub fn record(&self, record: DeliveryRecord) {
        if self.sender.try_send(record).is_err() {
            crate::telemetry::delivery_log_dropped();
        }
    }
}

async fn write(store: Arc<Store>, mut receiver: mpsc::Receiver<DeliveryRecord>) {
    let mut batch = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut batch, BATCH).await > 0 {
        let records = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
        let store = store.clone();
        let count = records.len();
        let written = tokio::task::spawn_blocking(move || store.record_deliveries(&records)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, count, "cannot record ignored deliveries (history only; nothing else is lost)");
            }
            Err(error) => tracing::warn!(%error, count, "delivery log writer failed"),
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
            received_at: crate::store::now(),
            outcome: "ignored".into(),
        }
    }

    #[tokio::test]
    async fn records_are_written_and_flushed_when_the_log_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (log, writer) = DeliveryLog::start(store.clone());
        for i in 0..1200 {
            log.record(record(&format!("d{i}")));
        }
        log.record(record("d0"));
        drop(log);
        writer.await.unwrap();
        let recent = store.recent_deliveries(5000).unwrap();
        assert_eq!(recent.len(), 1200);
    }
}
