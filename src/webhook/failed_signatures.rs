//! The failed-signature limit: bad requests per source address (bad signatures, and `408`,
//! `413`, unreadable bodies), counted in windows of a minute. A source over the limit has its
//! bad requests answered `429` as cheaply as can be (see [`super::delivery`]), while a correctly
//! signed delivery from it still gets through.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::sources::source_key as key;

/// The period the failed-signature limit counts over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// The most sources tracked at once; failures from further sources go uncounted until the
/// stale ones are dropped (at most once per [`WINDOW`]). About 64 bytes each.
const MAX_SOURCES: usize = 100_000;

/// Counts failed signatures per source address in windows of a minute from the source's first
/// failure. Once a source reached the limit, [`blocked`](Self::blocked) says so until its
/// window ends. Only failures add entries, so GitHub's own deliveries cost one lookup.
#[derive(Debug)]
pub struct FailedSignatureLimiter {
    limit: u32,
    state: Mutex<Sources>,
}

#[derive(Debug)]
struct Sources {
    windows: HashMap<IpAddr, Window>,
    next_prune: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Window {
    fn is_over(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.started) >= WINDOW
    }
}

impl FailedSignatureLimiter {
    /// A limiter allowing `limit` failed signatures per source and minute; `0` allows any number.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            state: Mutex::new(Sources {
                windows: HashMap::new(),
                next_prune: Instant::now() + WINDOW,
            }),
        }
    }

    /// How long `source` must wait before it is heard again, if it used up its failures.
    pub fn blocked(&self, source: IpAddr) -> Option<Duration> {
        self.blocked_at(source, Instant::now())
    }

    /// Counts a failed signature from `source`; `true` when this failure used up its limit (so
    /// that the block is logged once, not once per request).
    pub fn record_failure(&self, source: IpAddr) -> bool {
        self.record_failure_at(source, Instant::now())
    }

    fn blocked_at(&self, source: IpAddr, now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let sources = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let window = sources.windows.get(&key(source))?;
        (window.failures >= self.limit && !window.is_over(now))
            .then(|| (window.started + WINDOW).saturating_duration_since(now))
    }

    fn record_failure_at(&self, source: IpAddr, now: Instant) -> bool {
        if self.limit == 0 {
            return false;
        }
        let mut sources = self.state.lock().unwrap_or_else(|e| e.into_inner());
        sources.prune(now);
        let key = key(source);
        if sources.windows.len() >= MAX_SOURCES && !sources.windows.contains_key(&key) {
            return false;
        }
        let window = sources.windows.entry(key).or_insert(Window {
            started: now,
            failures: 0,
        });
        if window.is_over(now) {
            *window = Window {
                started: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
        window.failures == self.limit
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.state.lock().unwrap().windows.len()
    }
}

impl Sources {
    /// Drops the windows that are over, at most once per [`WINDOW`].
    fn prune(&mut self, now: Instant) {
        if now < self.next_prune {
            return;
        }
        self.windows.retain(|_, window| !window.is_over(now));
        self.windows.shrink_to_fit();
        self.next_prune = now + WINDOW;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_source_is_blocked_after_its_limit_until_its_window_ends() {
        let limiter = FailedSignatureLimiter::new(3);
        let t0 = Instant::now();
        assert!(!limiter.record_failure_at(A, t0));
        assert!(!limiter.record_failure_at(A, t0 + secs(1)));
        assert_eq!(limiter.blocked_at(A, t0 + secs(1)), None);
        assert!(
            limiter.record_failure_at(A, t0 + secs(2)),
            "the third failure reaches the limit"
        );
        assert_eq!(limiter.blocked_at(A, t0 + secs(2)), Some(secs(58)));
        assert_eq!(
            limiter.blocked_at(B, t0 + secs(2)),
            None,
            "other sources are not affected"
        );
        assert!(!limiter.record_failure_at(A, t0 + secs(3)), "logged once");
        assert_eq!(limiter.blocked_at(A, t0 + secs(59)), Some(secs(1)));
        assert_eq!(limiter.blocked_at(A, t0 + secs(60)), None);
        assert!(
            !limiter.record_failure_at(A, t0 + secs(61)),
            "a new window starts"
        );
        assert_eq!(limiter.blocked_at(A, t0 + secs(61)), None);
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let limiter = FailedSignatureLimiter::new(0);
        let t0 = Instant::now();
        for _ in 0..1000 {
            assert!(!limiter.record_failure_at(A, t0));
        }
        assert_eq!(limiter.blocked_at(A, t0), None);
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn stale_sources_are_dropped() {
        let limiter = FailedSignatureLimiter::new(5);
        let t0 = Instant::now();
        limiter.record_failure_at(A, t0);
        limiter.record_failure_at(B, t0 + secs(30));
        assert_eq!(limiter.tracked(), 2);
        limiter.record_failure_at(B, t0 + secs(70));
        assert_eq!(limiter.tracked(), 1, "A's window ended; B's is still on");
    }

    #[test]
    fn ipv6_sources_count_per_64_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_net: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_net: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(same_net));
        assert_ne!(key(a), key(other_net));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(key(mapped), A);
        let limiter = FailedSignatureLimiter::new(1);
        let t0 = Instant::now();
        limiter.record_failure_at(a, t0);
        assert!(limiter.blocked_at(same_net, t0).is_some());
        assert!(limiter.blocked_at(other_net, t0).is_none());
    }
}
