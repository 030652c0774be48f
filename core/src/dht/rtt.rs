//! Adaptive request timeouts from measured round-trip times (the RFC 6298 estimator).

use core::time::Duration;

/// Samples over which [`RttEstimator`]'s slowest-answer estimate forgets a slow one (it
/// closes 1/16 of the gap to each faster sample).
const SLOWEST_DECAY: u32 = 16;

/// Smoothed RTT and its variation over every answer this node received.
#[derive(Clone, Copy, Debug)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// The slowest answer lately: jumps to a slower sample, decays towards faster ones.
    slowest: Duration,
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
            slowest: Duration::ZERO,
            initial,
            min,
            max,
        }
    }

    /// RFC 6298 §2.2 / §2.3: fold in one measurement.
    pub fn sample(&mut self, rtt: Duration) {
        self.slowest = if rtt >= self.slowest {
            rtt
        } else {
            self.slowest - (self.slowest - rtt) / SLOWEST_DECAY
        };
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
        let timeout = match node_srtt {
            Some(own) => own + self.rttvar * 4,
            // RFC 6298 smooths one path; a node never measured is on a path of its own,
            // anywhere in the spread of paths the global average blurs (and its variation
            // shrinks after a run of answers from nearby nodes). Its answer may come as late
            // as the slowest answers lately, which must not be thrown away as unexpected.
            None => (global + self.rttvar * 4).max(self.slowest + self.rttvar),
        };
        timeout.clamp(self.min, self.max)
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
        // A node never measured waits at least for the slowest answers lately, even when the
        // average and its variation have settled on fast answers.
        let mut m = RttEstimator::new(ms(1000), ms(100), ms(2000));
        for _ in 0..50 {
            m.sample(ms(60));
        }
        m.sample(ms(290));
        for _ in 0..4 {
            m.sample(ms(60));
        }
        let rfc6298 = m.srtt.unwrap_or_default() + m.rttvar * 4;
        assert!(rfc6298 < ms(230), "{rfc6298:?}");
        assert!(m.timeout(None) >= ms(230), "{:?}", m.timeout(None));
        assert!(
            m.timeout(Some(ms(60))) < ms(230),
            "a measured node keeps its own"
        );
        for _ in 0..200 {
            m.sample(ms(60));
        }
        assert!(m.timeout(None) < ms(120), "slow answers are forgotten");
        e.sample(ms(60_000));
        assert_eq!(e.timeout(None), ms(2000), "clamped to max");
    }
}
