//! A node's access link: what every datagram the node sends goes through before it reaches the
//! network (and its NAT, if it has one).
//!
//! The order per datagram is: (link up, checked by the caller) -> MTU -> bandwidth queue (tail drop) -> loss ->
//! latency + jitter (+ reordering hold-back) -> maybe a duplicate. A datagram lost on the link
//! never reaches the NAT, so it creates no mapping.

use core::time::Duration;

use crate::rng::SimRng;
use crate::trace::DropReason;

/// How a link loses datagrams.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum LossModel {
    /// Nothing is lost.
    #[default]
    None,
    /// Each datagram is lost independently with this probability.
    Uniform(f64),
    /// Bursty loss: a two-state Markov chain (Gilbert-Elliott). Before each datagram the chain
    /// moves (good -> bad with `p_good_to_bad`, bad -> good with `p_bad_to_good`), then the
    /// datagram is lost with the loss probability of the state it is in. The mean burst length is
    /// `1 / p_bad_to_good` datagrams.
    GilbertElliott {
        /// Per-datagram probability of entering the bad state.
        p_good_to_bad: f64,
        /// Per-datagram probability of leaving the bad state.
        p_bad_to_good: f64,
        /// Loss probability in the good state (often 0).
        loss_good: f64,
        /// Loss probability in the bad state (often 1).
        loss_bad: f64,
    },
}

/// Properties of a node's link. Every knob is off by default except a 10 ms latency and a
/// 1500-byte MTU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay added to every datagram the node sends.
    pub latency: Duration,
    /// Extra delay drawn uniformly from `0..=jitter` per datagram (it can reorder datagrams sent
    /// closer together than `jitter`).
    pub jitter: Duration,
    /// Loss model.
    pub loss: LossModel,
    /// Probability that a datagram is delivered twice (the copy gets its own jitter).
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`, letting later ones pass.
    pub reorder: f64,
    /// Hold-back of a reordered datagram.
    pub reorder_delay: Duration,
    /// Largest IP packet (IP + UDP headers + payload) the link carries; bigger ones are dropped,
    /// as UDP with the don't-fragment bit would be.
    pub mtu: usize,
    /// Link rate in bits per second; `None` means unlimited (no serialisation delay, no queue).
    pub bandwidth: Option<u64>,
    /// Bytes the send queue holds before tail drop (only with `bandwidth`).
    pub queue_bytes: usize,
}

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig {
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: LossModel::None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            mtu: 1500,
            bandwidth: None,
            queue_bytes: 64 * 1024,
        }
    }
}

impl LinkConfig {
    /// A link with the given latency and nothing else.
    pub fn with_latency(latency: Duration) -> LinkConfig {
        LinkConfig {
            latency,
            ..LinkConfig::default()
        }
    }
}

/// Bytes of IP + UDP header counted against MTU and bandwidth.
pub(crate) fn header_len(ipv6: bool) -> usize {
    if ipv6 { 40 + 8 } else { 20 + 8 }
}

/// What the link did to one datagram: when it arrives, and when its duplicate does.
pub(crate) struct Carried {
    pub(crate) arrival: u64,
    pub(crate) duplicate: Option<u64>,
}

/// A link's mutable state.
pub(crate) struct LinkState {
    pub(crate) config: LinkConfig,
    /// When the transmitter finishes the last queued datagram (ns).
    busy_until: u64,
    /// Gilbert-Elliott chain in the bad state.
    bad: bool,
    latency: u64,
    jitter: u64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl LinkState {
    pub(crate) fn new(config: LinkConfig) -> LinkState {
        LinkState {
            config,
            busy_until: 0,
            bad: false,
            latency: nanos(config.latency),
            jitter: nanos(config.jitter),
        }
    }

    pub(crate) fn reconfigure(&mut self, config: LinkConfig) {
        self.config = config;
        self.latency = nanos(config.latency);
        self.jitter = nanos(config.jitter);
    }

    /// Carry one datagram of `payload_len` bytes sent at `now` (ns).
    #[inline]
    pub(crate) fn carry(
        &mut self,
        now: u64,
        payload_len: usize,
        ipv6: bool,
        rng: &mut SimRng,
    ) -> Result<Carried, DropReason> {
        let wire = payload_len + header_len(ipv6);
        if wire > self.config.mtu {
            return Err(DropReason::Mtu);
        }
        let mut depart = now;
        if let Some(bps) = self.config.bandwidth {
            let bps = u128::from(bps.max(1));
            let backlog_ns = u128::from(self.busy_until.saturating_sub(now));
            let backlog_bytes = backlog_ns * bps / 8_000_000_000;
            if backlog_bytes + wire as u128 > self.config.queue_bytes as u128 {
                return Err(DropReason::QueueFull);
            }
            let serialise = (wire as u128 * 8_000_000_000).div_ceil(bps);
            let start = self.busy_until.max(now);
            self.busy_until = start.saturating_add(u64::try_from(serialise).unwrap_or(u64::MAX));
            depart = self.busy_until;
        }
        if self.lost(rng) {
            return Err(DropReason::Loss);
        }
        let base = depart.saturating_add(self.latency);
        let mut arrival = base.saturating_add(rng.upto(self.jitter));
        if self.config.reorder > 0.0 && rng.chance(self.config.reorder) {
            arrival = arrival.saturating_add(nanos(self.config.reorder_delay));
        }
        let duplicate = if self.config.duplicate > 0.0 && rng.chance(self.config.duplicate) {
            Some(base.saturating_add(rng.upto(self.jitter)))
        } else {
            None
        };
        Ok(Carried { arrival, duplicate })
    }

    #[inline]
    fn lost(&mut self, rng: &mut SimRng) -> bool {
        match self.config.loss {
            LossModel::None => false,
            LossModel::Uniform(p) => rng.chance(p),
            LossModel::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_good,
                loss_bad,
            } => {
                if self.bad {
                    if rng.chance(p_bad_to_good) {
                        self.bad = false;
                    }
                } else if rng.chance(p_good_to_bad) {
                    self.bad = true;
                }
                rng.chance(if self.bad { loss_bad } else { loss_good })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_delays_then_drops() {
        // 8 kbit/s: a 100-byte payload + 28 header bytes takes 128 ms to serialise.
        let mut link = LinkState::new(LinkConfig {
            latency: Duration::ZERO,
            bandwidth: Some(8_000),
            queue_bytes: 300,
            ..LinkConfig::default()
        });
        let mut rng = SimRng::new(1);
        let a = link.carry(0, 100, false, &mut rng).ok().unwrap();
        let b = link.carry(0, 100, false, &mut rng).ok().unwrap();
        assert_eq!(a.arrival, 128_000_000);
        assert_eq!(b.arrival, 256_000_000);
        // 256 bytes queued; 128 more exceed 300.
        assert_eq!(
            link.carry(0, 100, false, &mut rng).err(),
            Some(DropReason::QueueFull)
        );
    }

    #[test]
    fn mtu_counts_headers() {
        let mut link = LinkState::new(LinkConfig::default());
        let mut rng = SimRng::new(1);
        assert!(link.carry(0, 1472, false, &mut rng).is_ok());
        assert_eq!(
            link.carry(0, 1473, false, &mut rng).err(),
            Some(DropReason::Mtu)
        );
        assert_eq!(
            link.carry(0, 1453, true, &mut rng).err(),
            Some(DropReason::Mtu)
        );
    }
}
