//! Adaptive request timeouts from measured round-trip times (the RFC 6298 estimator).

use core::time::Duration;

/// Smoothed RTT and its variation over every answer this node received.
#[derive(Clone, Copy, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    initial: Duration,
    min: Duration,
    max: Duration,
}

impl RttEstimator {
    /// `initial` until the first sample; every timeout is clamped to `[min, max]`.
    pub fn new(initial: Duration, min: Duration, max: Duration) -> RttEstimator {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            initial,
            min,
            max,
        }
    }

    /// RFC 6298 §2.2 / §2.3: fold in one measurement.
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let diff = srtt.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + diff) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
    }

    /// The smoothed round trip over every answer, if any arrived: the expected round trip to
    /// a node never measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// The timeout for a node whose own smoothed RTT is `node_srtt` (if known): its RTT (or
    /// the global one) plus four variations, as RFC 6298 §2.3 computes an RTO.
    pub fn timeout(&self, node_srtt: Option<Duration>) -> Duration {
        let Some(global) = self.srtt else {
            return self.initial;
        };
        let base = node_srtt.unwrap_or(global);
        (base + self.rttvar * 4).clamp(self.min, self.max)
    }

    /// When a lookup stops waiting for the node before giving up on it: its RTT (or the
    /// global one) plus one variation, which most answers beat. The request stays open until
    /// [`timeout`](Self::timeout); a lookup only frees the slot and may ask again.
    pub fn soft_timeout(&self, node_srtt: Option<Duration>) -> Duration {
        let Some(global) = self.srtt else {
            return self.initial / 2;
        };
        let base = node_srtt.unwrap_or(global);
        (base + self.rttvar).clamp(self.min / 2, self.timeout(node_srtt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapts_and_clamps() {
        let ms = Duration::from_millis;
        let mut e = RttEstimator::new(ms(1000), ms(100), ms(2000));
        assert_eq!(e.timeout(None), ms(1000));
        e.sample(ms(100));
        assert_eq!(e.timeout(None), ms(300));
        for _ in 0..50 {
            e.sample(ms(100));
        }
        assert!(e.timeout(None) < ms(120), "{:?}", e.timeout(None));
        assert!(e.timeout(Some(ms(40))) >= ms(100), "clamped to min");
        let soft = e.soft_timeout(Some(ms(200)));
        assert!(
            soft >= ms(200) && soft < e.timeout(Some(ms(200))),
            "{soft:?}"
        );
        e.sample(ms(60_000));
        assert_eq!(e.timeout(None), ms(2000), "clamped to max");
    }
}
