//! The delivery ids committed lately, in memory: a delivery sent again (GitHub's "Redeliver", a
//! retry after a timeout, a replay) is answered from here without a store round-trip. Only ids
//! whose delivery is already in the store are kept, so an answer from here is never a promise
//! the store can't keep; an id that fell out is still recognised by the store.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// The last [`RecentDeliveries::CAPACITY`] delivery ids committed to the store.
#[derive(Debug, Default)]
pub struct RecentDeliveries {
    ids: Mutex<Ids>,
}

#[derive(Debug, Default)]
struct Ids {
    known: HashSet<Box<str>>,
    order: VecDeque<Box<str>>,
}

impl RecentDeliveries {
    /// Ids kept (about 5 MiB at most: GitHub's ids are 36-character UUIDs).
    pub const CAPACITY: usize = 65_536;

    /// Whether `id` was committed lately.
    pub fn contains(&self, id: &str) -> bool {
        self.lock().known.contains(id)
    }

    /// Notes an id whose delivery is in the store; the oldest goes when full.
    pub fn insert(&self, id: &str) {
        let mut ids = self.lock();
        if ids.known.contains(id) {
            return;
        }
        if ids.order.len() == Self::CAPACITY
            && let Some(oldest) = ids.order.pop_front()
        {
            ids.known.remove(&oldest);
        }
        ids.known.insert(id.into());
        ids.order.push_back(id.into());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ids> {
        // A panic while holding it leaves a set that is still consistent enough to read.
        self.ids
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inserted_id_is_known_and_others_are_not() {
        let recent = RecentDeliveries::default();
        recent.insert("a");
        recent.insert("a");
        assert!(recent.contains("a"));
        assert!(!recent.contains("b"));
    }

    #[test]
    fn the_oldest_id_goes_when_full() {
        let recent = RecentDeliveries::default();
        for i in 0..=RecentDeliveries::CAPACITY {
            recent.insert(&format!("id-{i}"));
        }
        assert!(!recent.contains("id-0"));
        assert!(recent.contains("id-1"));
        assert!(recent.contains(&format!("id-{}", RecentDeliveries::CAPACITY)));
        assert_eq!(recent.lock().order.len(), RecentDeliveries::CAPACITY);
        assert_eq!(recent.lock().known.len(), RecentDeliveries::CAPACITY);
    }
}
