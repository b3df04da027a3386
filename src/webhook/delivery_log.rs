//! The record of deliveries that need nothing (pings, other events, issues that aren't requests).
//!
//! They are written to the store in batches by a thread of their own, after the answer: an
//! ignored delivery then costs the request no store round-trip. Losing the last few records
//! in a crash loses nothing but history (`invitebot status`); requests to act on are never
//! recorded this way but committed before the answer (see [`super::accept`]).
//!
//! The history grows by at most [`WRITTEN_PER_BATCH`] records per [`LINGER`] (1,000 a second).
//! GitHub sends a few deliveries a minute; a signed body replayed under new delivery ids can
//! come thousands of times a second, and would otherwise fill the disk and take the CPU the
//! answers need. Past that rate records are counted (`invitebot_delivery_log_dropped_total`)
//! and summarised in the log at most once a minute, not written.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store::{DeliveryRecord, Store};

/// Records waiting for the writer; more are dropped (and counted) rather than held in memory.
const CAPACITY: usize = 8192;
/// Most records written in one transaction; the rest of a batch is counted, not written.
const WRITTEN_PER_BATCH: usize = 50;
/// How long the writer gathers records after the first before writing: one commit (and one
/// wake-up of the thread) per this much time under load.
const LINGER: Duration = Duration::from_millis(50);
/// How often, at most, the log says how many records were not written.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

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
            crate::telemetry::delivery_log_dropped(1);
        }
    }
}

fn write(store: &Store, receiver: &mpsc::Receiver<DeliveryRecord>) {
    let mut unwritten = Unwritten::default();
    while let Ok(first) = receiver.recv() {
        std::thread::sleep(LINGER);
        let batch: Vec<_> = std::iter::once(first)
            .chain(receiver.try_iter().take(WRITTEN_PER_BATCH - 1))
            .collect();
        unwritten.add(receiver.try_iter().count());
        if let Err(error) = store.record_deliveries(&batch) {
            tracing::warn!(%error, count = batch.len(), "cannot record ignored deliveries (history only; nothing else is lost)");
        }
    }
    unwritten.report();
}

/// Records left out of the history since the log last said so.
#[derive(Default)]
struct Unwritten {
    count: u64,
    reported_at: Option<std::time::Instant>,
}

impl Unwritten {
    /// Counts `count` records left out of a batch (`0`: the batch took them all), and says so
    /// in the log when the last summary is [`SUMMARY_INTERVAL`] old or the flood is over.
    fn add(&mut self, count: usize) {
        crate::telemetry::delivery_log_dropped(count as u64);
        self.count += count as u64;
        let due = self
            .reported_at
            .is_none_or(|at| at.elapsed() >= SUMMARY_INTERVAL);
        if count == 0 || due {
            self.report();
        }
    }

    fn report(&mut self) {
        if self.count > 0 {
            tracing::warn!(
                count = self.count,
                "ignored deliveries came faster than the history takes (1,000 a second): these were counted, not recorded (a replayed signed body?)"
            );
            self.count = 0;
            self.reported_at = Some(std::time::Instant::now());
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

    fn recorded_ids(store: &Store) -> Vec<String> {
        let mut ids: Vec<_> = store
            .recent_deliveries(5000)
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        ids.sort_by_key(|id| id[1..].parse::<u32>().unwrap());
        ids
    }

    #[test]
    fn records_are_written_and_flushed_when_the_log_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (log, writer) = DeliveryLog::start(store.clone()).unwrap();
        for i in 0..WRITTEN_PER_BATCH {
            log.record(record(&format!("d{i}")));
        }
        log.record(record("d0"));
        drop(log);
        writer.join().unwrap();
        let expected: Vec<_> = (0..WRITTEN_PER_BATCH).map(|i| format!("d{i}")).collect();
        assert_eq!(recorded_ids(&store), expected);
    }

    #[test]
    fn a_flood_is_counted_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (log, writer) = DeliveryLog::start(store.clone()).unwrap();
        let sent = 4000;
        for i in 0..sent {
            log.record(record(&format!("d{i}")));
        }
        drop(log);
        writer.join().unwrap();
        let ids = recorded_ids(&store);
        // The first batch's records are the first sent; each later batch writes at most its
        // share, however fast the records came.
        assert!(ids.len() >= WRITTEN_PER_BATCH, "{}", ids.len());
        assert!(ids.len() < sent / 2, "{} of {sent} written", ids.len());
        assert_eq!(ids[0], "d0");
        assert_eq!(
            ids[WRITTEN_PER_BATCH - 1],
            format!("d{}", WRITTEN_PER_BATCH - 1)
        );
    }
}
