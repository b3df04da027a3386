//! When to try again: exponential backoff with jitter, as mail servers do.
//!
//! The first retry comes within 5 s; each next one waits twice as long, up to an hour; after 3
//! days of failures a step is given up and reported. A wait the other side asked for
//! (`Retry-After`, a rate limit) is honoured when it is longer.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// The wait before the first retry (before jitter).
pub const FIRST: Duration = Duration::from_secs(2);
/// The longest wait between two attempts.
pub const MAX: Duration = Duration::from_secs(3600);
/// How long a step is retried before it is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);

/// The wait after `failures` failed attempts (1 for the first failure), with ±25 % jitter, and
/// at least `asked` when the other side asked for a wait.
pub fn backoff(failures: u32, asked: Option<Duration>) -> Duration {
    let doubled = FIRST.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(20)));
    let base = doubled.min(MAX);
    let jitter = 0.75 + fastrand::f64() * 0.5;
    base.mul_f64(jitter).max(asked.unwrap_or_default())
}

/// The time of the next attempt after `failures` failures, or `None` when the step has been
/// failing since `first_failure` for longer than [`GIVE_UP_AFTER`].
pub fn next_attempt(
    failures: u32,
    asked: Option<Duration>,
    first_failure: Timestamp,
    now: Timestamp,
) -> Option<Timestamp> {
    let failing_for = now.duration_since(first_failure);
    if failing_for > SignedDuration::try_from(GIVE_UP_AFTER).unwrap_or(SignedDuration::MAX) {
        return None;
    }
    let wait = SignedDuration::try_from(backoff(failures, asked)).unwrap_or(SignedDuration::MAX);
    Some(now.checked_add(wait).unwrap_or(Timestamp::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_seconds_to_an_hour_with_jitter() {
        for _ in 0..100 {
            let first = backoff(1, None);
            assert!(
                first >= Duration::from_millis(1500) && first <= Duration::from_millis(2500),
                "{first:?}"
            );
            assert!(first < Duration::from_secs(5));
            let fourth = backoff(4, None);
            assert!(
                fourth >= Duration::from_secs(12) && fourth <= Duration::from_secs(20),
                "{fourth:?}"
            );
            let late = backoff(30, None);
            assert!(
                late >= Duration::from_secs(2700) && late <= Duration::from_secs(4500),
                "{late:?}"
            );
        }
    }

    #[test]
    fn a_requested_wait_is_honoured() {
        assert!(backoff(1, Some(Duration::from_secs(60))) >= Duration::from_secs(60));
    }

    #[test]
    fn retries_stop_after_three_days() {
        let start: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let day = SignedDuration::from_hours(24);
        assert!(next_attempt(5, None, start, start + day * 2).is_some());
        assert!(
            next_attempt(
                50,
                None,
                start,
                start + day * 3 + SignedDuration::from_secs(1)
            )
            .is_none()
        );
    }
}
