//! Source addresses and fair shares: what counts as one source, and a [`Quota`] that hands out
//! a resource (connections, request slots, body bytes) up to a total and up to a share per
//! source, so that one address flooding the edge can never take what another needs.
//!
//! The source is the TCP peer's address: `X-Forwarded-For` and the like are not trusted, since
//! any client can send them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// What a source is counted as: an IPv4 address (also when mapped into IPv6), or an IPv6 /64
/// network, the least a single host usually gets (so hopping addresses inside it does not help).
pub fn source_key(source: IpAddr) -> IpAddr {
    match source {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        },
    }
}

/// Why a [`Quota`] said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// The total is in use.
    Total,
    /// This source's share is in use.
    Source,
}

/// A resource handed out up to `total`, and up to `per_source` to any one source.
#[derive(Debug)]
pub struct Quota {
    total: usize,
    per_source: Option<usize>,
    used: Mutex<Used>,
}

#[derive(Debug, Default)]
struct Used {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// An amount taken from a [`Quota`]; given back when dropped.
#[derive(Debug)]
pub struct Taken {
    quota: Arc<Quota>,
    source: Option<IpAddr>,
    amount: usize,
}

impl Quota {
    /// A quota of `total`, of which one source may hold `per_source` (`None`: no share).
    pub fn new(total: usize, per_source: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            total,
            per_source,
            used: Mutex::default(),
        })
    }

    /// Takes `amount` for `source` (without an address only the total applies), or says why not.
    pub fn take(
        self: &Arc<Self>,
        source: Option<IpAddr>,
        amount: usize,
    ) -> Result<Taken, Exhausted> {
        let source = source.map(source_key);
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if used.total + amount > self.total {
            return Err(Exhausted::Total);
        }
        if let (Some(share), Some(source)) = (self.per_source, source) {
            let held = used.by_source.entry(source).or_default();
            if *held + amount > share {
                if *held == 0 {
                    used.by_source.remove(&source);
                }
                return Err(Exhausted::Source);
            }
            *held += amount;
        }
        used.total += amount;
        Ok(Taken {
            quota: self.clone(),
            source: source.filter(|_| self.per_source.is_some()),
            amount,
        })
    }

    /// How much is in use.
    pub fn in_use(&self) -> usize {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    fn give_back(&self, source: Option<IpAddr>, amount: usize) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.total -= amount;
        if let Some(source) = source
            && let Some(held) = used.by_source.get_mut(&source)
        {
            *held -= amount;
            if *held == 0 {
                used.by_source.remove(&source);
            }
        }
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        self.quota.give_back(self.source, self.amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn one_source_gets_its_share_and_leaves_the_rest_to_others() {
        let quota = Quota::new(4, Some(2));
        let a1 = quota.take(ip("192.0.2.1"), 1).unwrap();
        let _a2 = quota.take(ip("192.0.2.1"), 1).unwrap();
        assert_eq!(
            quota.take(ip("192.0.2.1"), 1).unwrap_err(),
            Exhausted::Source
        );
        let _b = quota.take(ip("192.0.2.2"), 2).unwrap();
        assert_eq!(
            quota.take(ip("192.0.2.3"), 1).unwrap_err(),
            Exhausted::Total
        );
        drop(a1);
        assert_eq!(quota.in_use(), 3);
        let _c = quota.take(ip("192.0.2.3"), 1).unwrap();
    }

    #[test]
    fn without_a_share_only_the_total_counts_and_everything_is_given_back() {
        let quota = Quota::new(3, None);
        let taken: Vec<Taken> = (0..3)
            .map(|_| quota.take(ip("192.0.2.1"), 1).unwrap())
            .collect();
        assert_eq!(quota.take(None, 1).unwrap_err(), Exhausted::Total);
        drop(taken);
        assert_eq!(quota.in_use(), 0);
        assert!(quota.used.lock().unwrap().by_source.is_empty());
    }

    #[test]
    fn ipv6_hosts_of_one_network_share_one_share() {
        let quota = Quota::new(10, Some(1));
        let _first = quota.take(ip("2001:db8::1"), 1).unwrap();
        assert_eq!(
            quota.take(ip("2001:db8::2"), 1).unwrap_err(),
            Exhausted::Source
        );
        assert!(quota.take(ip("2001:db8:0:1::1"), 1).is_ok());
        assert_eq!(
            source_key("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }
}
