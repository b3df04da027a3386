//! What the edge turned away, counted and summarised: a flood must not become a firehose of log
//! lines. Each rejection increments `invitebot_rejections_total{reason}` at once; the log gets
//! one line per reason and interval, with the count, how many source addresses sent them and
//! the busiest one, and nothing for an interval without rejections.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::sources::source_key;

/// Why the edge turned a request or connection away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The signature was missing or wrong (`401`).
    BadSignature,
    /// The source used up its failed signatures and sent another bad request (`429`).
    SourceLimited,
    /// The body was larger than `max_body_bytes` (`413`).
    TooLarge,
    /// The body could not be read (`400`).
    Unreadable,
    /// The request took longer than `request_timeout` (`408`).
    Timeout,
    /// The server or the source had as many requests in progress as allowed (`503`).
    Busy,
    /// The bytes buffered for bodies reached the budget (`503`).
    NoMemory,
    /// A new connection past `max_connections` or the per-source cap (closed at once).
    Connection,
    /// A request head that did not arrive within `header_timeout` or was too large.
    Head,
    /// A link page asked with a token that is changed, foreign or expired, or a cross-site POST.
    BadLink,
}

impl Reason {
    const ALL: [Reason; 10] = [
        Reason::BadSignature,
        Reason::SourceLimited,
        Reason::TooLarge,
        Reason::Unreadable,
        Reason::Timeout,
        Reason::Busy,
        Reason::NoMemory,
        Reason::Connection,
        Reason::Head,
        Reason::BadLink,
    ];

    /// The label and log word.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadSignature => "bad-signature",
            Reason::SourceLimited => "source-limited",
            Reason::TooLarge => "too-large",
            Reason::Unreadable => "unreadable",
            Reason::Timeout => "timeout",
            Reason::Busy => "busy",
            Reason::NoMemory => "body-budget",
            Reason::Connection => "connection-refused",
            Reason::Head => "bad-head",
            Reason::BadLink => "bad-link",
        }
    }

    fn index(self) -> usize {
        Reason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// The most source addresses remembered per reason and interval (for "how many sources" and
/// "the busiest"); past it further sources are counted but not told apart.
const MAX_SOURCES: usize = 10_000;

/// The rejections of the current interval.
#[derive(Debug, Default)]
pub struct Rejections {
    counts: [AtomicU64; Reason::ALL.len()],
    sources: Mutex<[HashMap<IpAddr, u64>; Reason::ALL.len()]>,
}

/// One line of a summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Why.
    pub reason: Reason,
    /// How many in the interval.
    pub count: u64,
    /// How many source addresses they came from (at most [`MAX_SOURCES`] told apart).
    pub sources: usize,
    /// The source that sent the most, and how many.
    pub busiest: Option<(IpAddr, u64)>,
}

impl Rejections {
    /// Counts one rejection from `source` (unknown for connections without an address).
    pub fn count(&self, reason: Reason, source: Option<IpAddr>) {
        metrics::counter!(crate::telemetry::REJECTIONS_TOTAL, "reason" => reason.as_str())
            .increment(1);
        self.counts[reason.index()].fetch_add(1, Ordering::Relaxed);
        let Some(source) = source.map(source_key) else {
            return;
        };
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let seen = &mut sources[reason.index()];
        if seen.len() < MAX_SOURCES || seen.contains_key(&source) {
            *seen.entry(source).or_default() += 1;
        }
    }

    /// What was counted since the last call, one entry per reason that happened; resets.
    pub fn take(&self) -> Vec<Summary> {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        Reason::ALL
            .iter()
            .filter_map(|&reason| {
                let count = self.counts[reason.index()].swap(0, Ordering::Relaxed);
                let seen = std::mem::take(&mut sources[reason.index()]);
                (count > 0).then(|| Summary {
                    reason,
                    count,
                    sources: seen.len(),
                    busiest: seen.into_iter().max_by_key(|(_, n)| *n),
                })
            })
            .collect()
    }

    /// Logs a summary every `interval` for as long as the runtime runs.
    pub fn log_every(self: std::sync::Arc<Self>, interval: Duration) {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                for summary in self.take() {
                    log(&summary, interval);
                }
            }
        });
    }
}

fn log(summary: &Summary, interval: Duration) {
    let (busiest, busiest_count) = summary
        .busiest
        .map_or((String::new(), 0), |(ip, n)| (ip.to_string(), n));
    tracing::warn!(
        reason = summary.reason.as_str(),
        count = summary.count,
        sources = summary.sources,
        busiest_source = %busiest,
        busiest_count,
        interval_seconds = interval.as_secs(),
        "requests rejected at the edge"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_counts_per_reason_and_source_and_then_starts_again() {
        let rejections = Rejections::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..5 {
            rejections.count(Reason::BadSignature, Some(a));
        }
        rejections.count(Reason::BadSignature, Some(b));
        rejections.count(Reason::Connection, None);
        let summary = rejections.take();
        assert_eq!(
            summary,
            [
                Summary {
                    reason: Reason::BadSignature,
                    count: 6,
                    sources: 2,
                    busiest: Some((a, 5)),
                },
                Summary {
                    reason: Reason::Connection,
                    count: 1,
                    sources: 0,
                    busiest: None,
                },
            ]
        );
        assert!(rejections.take().is_empty());
    }

    #[test]
    fn ipv6_sources_are_told_apart_by_their_64_bit_network() {
        let rejections = Rejections::default();
        for host in ["2001:db8::1", "2001:db8::2", "2001:db8:0:1::1"] {
            rejections.count(Reason::Busy, Some(host.parse().unwrap()));
        }
        assert_eq!(rejections.take()[0].sources, 2);
    }
}
