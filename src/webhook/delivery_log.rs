//! The record of deliveries that need nothing (pings, other events, issues that aren't requests).
//!
//! They are written to the store in batches by a thread of their own, after the answer: an
//! ignored delivery then costs the request no store round-trip. Losing the last few records
//! in a crash loses nothing but history (`invitebot status`); requests to act on are never
//! recorded this way but committed before the answer (see [`super::accept`]).
//!
//! The history takes at most [`PLACES`] records per [`WINDOW`] (1,000 a second). GitHub sends a
//! few deliveries a minute; a signed body replayed under new delivery ids can come thousands of
//! times a second, and would otherwise fill the disk and take the CPU the answers need. Past
//! that rate a handler asks [`DeliveryLog::has_room`] before it builds a record and gets `false`:
//! the delivery is counted (`invitebot_delivery_log_dropped_total`) and summarised in the log at
//! most once a minute, not written.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::store::{DeliveryRecord, Store};

/// Records waiting for the writer; more are dropped (and counted) rather than held in memory.
/// Ten windows' places; the channel's slots are allocated at start.
const CAPACITY: usize = 1024;
/// The history's places per [`WINDOW`].
const PLACES: u32 = 100;
/// The span of time [`PLACES`] are counted over.
const WINDOW: Duration = Duration::from_millis(100);
/// How long the writer gathers records after the first before writing: one commit (and one
/// wake-up of the thread) per this much time under load.
const LINGER: Duration = Duration::from_millis(50);
/// How often, at most, the log says how many records were not written.
const SUMMARY_INTERVAL: Duration = Duration::from_secs(60);

/// The sending side, held by the HTTP handlers.
#[derive(Clone)]
pub struct DeliveryLog {
    sender: mpsc::SyncSender<DeliveryRecord>,
    room: Arc<Room>,
}

/// The history's places in the current window, and the deliveries that found none.
#[derive(Default)]
struct Room {
    window: Mutex<Option<(Instant, u32)>>,
    turned_away: AtomicU64,
}

impl Room {
    /// Takes a place in the current window (a new one starts when it is over), or counts a
    /// delivery turned away.
    fn take(&self, now: Instant) -> bool {
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let (started, used) = match *window {
            Some((started, used)) if now.duration_since(started) < WINDOW => (started, used),
            _ => (now, 0),
        };
        let room = used < PLACES;
        *window = Some((started, used + u32::from(room)));
        if !room {
            self.turned_away.fetch_add(1, Ordering::Relaxed);
        }
        room
    }
}

impl DeliveryLog {
    /// Starts the writer thread. It ends, after writing what was queued, once every
    /// `DeliveryLog` is dropped; join the handle to flush at shutdown.
    pub fn start(store: Arc<Store>) -> std::io::Result<(Self, JoinHandle<()>)> {
        let (sender, receiver) = mpsc::sync_channel(CAPACITY);
        let room = Arc::new(Room::default());
        let turned_away = room.clone();
        let writer = std::thread::Builder::new()
            .name("invitebot-deliveries".into())
            .spawn(move || write(&store, &receiver, &turned_away))?;
        Ok((Self { sender, room }, writer))
    }

    /// Whether the history takes one more record now; when it doesn't, the delivery is counted
    /// as not recorded. Ask before building the record.
    pub fn has_room(&self) -> bool {
        self.room.take(Instant::now())
    }

    /// Queues a record without waiting; when the writer is behind by [`CAPACITY`] records, it
    /// is dropped.
    pub fn record(&self, record: DeliveryRecord) {
        if self.sender.try_send(record).is_err() {
            crate::telemetry::delivery_log_dropped(1);
        }
    }
}

fn write(store: &Store, receiver: &mpsc::Receiver<DeliveryRecord>, room: &Room) {
    let mut unwritten = Unwritten::default();
    while let Ok(first) = receiver.recv() {
        std::thread::sleep(LINGER);
        let batch: Vec<_> = std::iter::once(first).chain(receiver.try_iter()).collect();
        unwritten.add(room.turned_away.swap(0, Ordering::Relaxed));
        if let Err(error) = store.record_deliveries(&batch) {
            tracing::warn!(%error, count = batch.len(), "cannot record ignored deliveries (history only; nothing else is lost)");
        }
    }
    unwritten.add(room.turned_away.swap(0, Ordering::Relaxed));
    unwritten.report();
}

/// Records left out of the history since the log last said so.
#[derive(Default)]
struct Unwritten {
    count: u64,
    reported_at: Option<Instant>,
}

impl Unwritten {
    /// Counts `count` deliveries turned away since the last batch (`0`: none), and says so in
    /// the log when the last summary is [`SUMMARY_INTERVAL`] old or the flood is over.
    fn add(&mut self, count: u64) {
        if count > 0 {
            crate::telemetry::delivery_log_dropped(count);
        }
        self.count += count;
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
            self.reported_at = Some(Instant::now());
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
        let sent = PLACES as usize - 1;
        for i in 0..sent {
            assert!(log.has_room());
            log.record(record(&format!("d{i}")));
        }
        assert!(log.has_room());
        log.record(record("d0"));
        drop(log);
        writer.join().unwrap();
        let expected: Vec<_> = (0..sent).map(|i| format!("d{i}")).collect();
        assert_eq!(recorded_ids(&store), expected);
    }

    #[test]
    fn a_window_takes_its_places_and_turns_the_rest_away() {
        let room = Room::default();
        let start = Instant::now();
        for _ in 0..PLACES {
            assert!(room.take(start));
        }
        assert!(!room.take(start));
        assert!(!room.take(start + WINDOW / 2));
        assert_eq!(room.turned_away.load(Ordering::Relaxed), 2);
        assert!(room.take(start + WINDOW), "a new window starts empty");
    }

    #[test]
    fn a_flood_is_counted_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let (log, writer) = DeliveryLog::start(store.clone()).unwrap();
        let sent = 4000;
        for i in 0..sent {
            if log.has_room() {
                log.record(record(&format!("d{i}")));
            }
        }
        drop(log);
        writer.join().unwrap();
        let ids = recorded_ids(&store);
        // The first window's records are the first sent; each later window takes at most its
        // places, however fast the deliveries came.
        assert!(ids.len() >= PLACES as usize, "{}", ids.len());
        assert!(ids.len() < sent / 2, "{} of {sent} written", ids.len());
        assert_eq!(
            ids[..PLACES as usize],
            (0..PLACES).map(|i| format!("d{i}")).collect::<Vec<_>>()[..]
        );
    }
}
