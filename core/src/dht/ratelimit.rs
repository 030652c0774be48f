//! Per-source-IP query rate limit: a fixed one-second window per address, in a bounded map.

use std::collections::BTreeMap;

use core::net::IpAddr;
use core::time::Duration;

use crate::time::Instant;

const WINDOW: Duration = Duration::from_secs(1);

/// Counts queries per source IP per second.
pub struct RateLimiter {
    per_second: u32,
    capacity: usize,
    windows: BTreeMap<IpAddr, (Instant, u32)>,
    /// When windows that ended were last dropped.
    last_sweep: Instant,
}

impl RateLimiter {
    /// Allows `per_second` queries per IP, tracking at most `capacity` addresses.
    pub fn new(per_second: u32, capacity: usize) -> RateLimiter {
        RateLimiter {
            per_second,
            capacity: capacity.max(1),
            windows: BTreeMap::new(),
            last_sweep: Instant::ZERO,
        }
    }

    /// Whether a query from `ip` at `now` is within its budget (and counts it).
    pub fn allow(&mut self, now: Instant, ip: IpAddr) -> bool {
        // A window that ended says nothing about the next query: drop them once per window,
        // so a node's map holds the addresses of the last second or two (a few dozen), not
        // `capacity` addresses of everyone who ever asked; one pass a second costs little.
        if now.saturating_duration_since(self.last_sweep) >= WINDOW {
            self.last_sweep = now;
            self.windows
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
        }
        if !self.windows.contains_key(&ip) && self.windows.len() >= self.capacity {
            self.windows
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
            if self.windows.len() >= self.capacity {
                // Every tracked address was active this very second: the map cannot grow, and
                // refusing a newcomer would let a flood of sources lock out honest ones, so
                // start over (the bound on memory is what matters here).
                self.windows.clear();
            }
        }
        let (start, count) = self.windows.entry(ip).or_insert((now, 0));
        if now.saturating_duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count = count.saturating_add(1);
        *count <= self.per_second
    }

    /// Addresses tracked.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no address is tracked.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_ip_and_stays_bounded() {
        let mut rl = RateLimiter::new(3, 4);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Instant::ZERO;
        assert!((0..3).all(|_| rl.allow(t, a)));
        assert!(!rl.allow(t, a));
        assert!(rl.allow(t, b), "other addresses unaffected");
        assert!(rl.allow(Instant::from_secs(1), a), "a new window");
        for n in 0..100u8 {
            rl.allow(t, IpAddr::from([10, 0, 0, n]));
            assert!(rl.len() <= 4);
        }
        rl.allow(Instant::from_secs(5), a);
        assert_eq!(rl.len(), 1, "ended windows are dropped");
    }
}
