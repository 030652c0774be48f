//! Congestion control of RFC 9260 §7.2: slow start, congestion avoidance, the reaction to a
//! retransmission timeout and fast recovery. Counts are bytes of DATA chunk payload plus
//! chunk headers, as the RFC's "bytes acknowledged" are.
//!
//! Two departures from the RFC's loss response, so that a long path that loses packets at
//! random (radio links, a lossy hop) keeps its rate; with plain halving on every loss event a
//! 100 ms path losing 1% of its packets carries about 1 Mbit/s whatever its capacity (the
//! "Mathis" limit of TCP Reno, MSS / RTT * 1.22 / sqrt(p)):
//!
//! - A loss while the RTT is at the path's minimum (no queue has built up, so no queue
//!   overflowed) is taken for a random loss: the chunk is retransmitted and the window is left
//!   alone, slow start included. A loss with a grown RTT is congestion, and so is heavy loss
//!   (more than one chunk in `HEAVY_LOSS` over the last two round trips) whatever the RTT:
//!   a path that drops that much gets the RFC's reaction.
//! - On congestion the window becomes the bandwidth-delay product measured (the highest
//!   delivery rate of recent round trips times the minimum RTT), as TCP Westwood+ does, rather
//!   than half of itself: the queue drains and the path stays full. It is never cut below
//!   half (the RFC's reduction) when the estimate is smaller; when fast recovery ends, the
//!   window is raised to the estimate if that grew meanwhile.
//!
//! A retransmission timeout still collapses the window to one MTU (RFC 9260 §7.2.3).

use core::time::Duration;

use super::rto::Rto;
use crate::Instant;

/// RFC 9260 §7.2.1: L, the MTUs slow start may add per SACK.
const SLOW_START_L: u32 = 1;
/// Delivery-rate samples kept (one per round trip); the estimate is their maximum.
const RATE_SAMPLES: usize = 10;
/// Loss above one chunk in this many (5%) is congestion even without a queue.
const HEAVY_LOSS: u64 = 20;

/// Queueing delay that marks a loss as congestion: an eighth of the minimum RTT, at least
/// 2 ms (below that, jitter and delayed acknowledgements blur the signal).
fn congestion_delay(min_rtt: Duration) -> Duration {
    (min_rtt / 8).max(Duration::from_millis(2))
}

/// Highest delivery rate over the last round trips (bytes acknowledged per round trip,
/// whether by the cumulative ack or by gap blocks).
#[derive(Debug, Clone, Default)]
struct DeliveryRate {
    round_start: Option<Instant>,
    round_bytes: u64,
    /// Chunks acknowledged and chunks found lost, this round and the one before.
    acked: [u64; 2],
    lost: [u64; 2],
    /// Bytes per second of the last rounds, newest at `next - 1`.
    samples: [u64; RATE_SAMPLES],
    next: usize,
}

impl DeliveryRate {
    fn on_ack(&mut self, bytes: u32, chunks: u32, now: Instant, round: Option<Duration>) {
        self.acked[0] += u64::from(chunks);
        let Some(round) = round else {
            return;
        };
        let Some(start) = self.round_start else {
            self.round_start = Some(now);
            return;
        };
        self.round_bytes += u64::from(bytes);
        let elapsed = now.saturating_duration_since(start);
        if elapsed >= round && !elapsed.is_zero() {
            let rate = u128::from(self.round_bytes) * 1_000_000_000 / elapsed.as_nanos();
            self.samples[self.next] = u64::try_from(rate).unwrap_or(u64::MAX);
            self.next = (self.next + 1) % RATE_SAMPLES;
            self.round_start = Some(now);
            self.round_bytes = 0;
            self.acked = [0, self.acked[0]];
            self.lost = [0, self.lost[0]];
        }
    }

    /// Whether more than one chunk in `HEAVY_LOSS` was lost over the last two rounds.
    fn heavy_loss(&self) -> bool {
        let lost = self.lost[0] + self.lost[1];
        let acked = self.acked[0] + self.acked[1];
        lost * HEAVY_LOSS > lost + acked
    }

    /// Bytes per second.
    fn max(&self) -> u64 {
        self.samples.iter().copied().max().unwrap_or(0)
    }
}

/// The congestion state of the one path.
#[derive(Debug, Clone)]
pub(crate) struct Congestion {
    mtu: u32,
    cwnd: u32,
    ssthresh: u32,
    partial_bytes_acked: u32,
    /// RFC 9260 §7.2.4: while in fast recovery, the highest TSN outstanding when it began.
    recovery_exit: Option<u32>,
    /// cwnd and ssthresh before the last fast retransmit, to undo it if it was spurious.
    prior: Option<(u32, u32)>,
    rate: DeliveryRate,
}

impl Congestion {
    /// RFC 9260 §7.2.1: cwnd starts at min(4*MTU, max(2*MTU, 4380)), ssthresh at the peer's
    /// advertised window.
    pub(crate) fn new(mtu: u32, peer_rwnd: u32) -> Congestion {
        Congestion {
            mtu,
            cwnd: (4 * mtu).min((2 * mtu).max(4380)),
            ssthresh: peer_rwnd.max(4 * mtu),
            partial_bytes_acked: 0,
            recovery_exit: None,
            prior: None,
            rate: DeliveryRate::default(),
        }
    }

    pub(crate) fn cwnd(&self) -> u32 {
        self.cwnd
    }

    #[cfg(test)]
    pub(crate) fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    pub(crate) fn in_fast_recovery(&self) -> bool {
        self.recovery_exit.is_some()
    }

    /// A SACK arrived at `now`. `acked` bytes in `chunks` chunks were newly acknowledged (by
    /// the cumulative ack or gap blocks), `flight_before` is the flight size before the SACK,
    /// `cum_tsn` the new cumulative TSN ack.
    pub(crate) fn on_sack(
        &mut self,
        acked: u32,
        chunks: u32,
        flight_before: u32,
        cum_tsn: u32,
        now: Instant,
        rto: &Rto,
    ) {
        self.rate.on_ack(acked, chunks, now, rto.min_rtt());
        if let Some(exit) = self.recovery_exit {
            // RFC 9260 §7.2.4: fast recovery ends when the cumulative ack reaches the exit point;
            // until then cwnd is left alone.
            if !super::tsn_lt(cum_tsn, exit) {
                self.recovery_exit = None;
                // Westwood+ again at the exit: during recovery the path delivered at its
                // bottleneck rate, a better estimate than the one taken when the loss was
                // found (in slow start that one lags a round trip behind).
                let bdp = self.measured_bdp(rto);
                if bdp > self.cwnd {
                    self.cwnd = bdp;
                    self.ssthresh = bdp;
                }
            }
            return;
        }
        // RFC 9260 §7.2.1 and §7.2.2 count bytes newly acknowledged by the cumulative ack
        // and by gap blocks alike (RFC 4960 grew cwnd only when the cumulative ack moved,
        // which on a lossy path, where a hole is nearly always open, stalls slow start).
        if acked == 0 {
            return;
        }
        if self.cwnd <= self.ssthresh {
            // §7.2.1: slow start grows by at most L MTUs per SACK, and only when the window
            // was in use.
            if flight_before >= self.cwnd {
                self.cwnd = self.cwnd.saturating_add(acked.min(SLOW_START_L * self.mtu));
            }
        } else {
            // §7.2.2: congestion avoidance, one MTU per window's worth of acked bytes.
            self.partial_bytes_acked = self.partial_bytes_acked.saturating_add(acked);
            if self.partial_bytes_acked >= self.cwnd && flight_before >= self.cwnd {
                self.partial_bytes_acked -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.mtu);
            }
        }
    }

    /// §7.2.2: everything outstanding was acknowledged.
    pub(crate) fn on_all_acked(&mut self) {
        self.partial_bytes_acked = 0;
    }

    /// RFC 9260 §7.2.3: the T3-rtx timer expired.
    pub(crate) fn on_timeout(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
        self.cwnd = self.mtu;
        self.partial_bytes_acked = 0;
        self.recovery_exit = None;
        self.prior = None;
    }

    /// Westwood+: the window that fills the path without a queue, the highest recent
    /// delivery rate times the minimum RTT (zero before both are known).
    fn measured_bdp(&self, rto: &Rto) -> u32 {
        rto.min_rtt().map_or(0, |min| {
            let bytes = u128::from(self.rate.max()) * min.as_nanos() / 1_000_000_000;
            u32::try_from(bytes).unwrap_or(u32::MAX)
        })
    }

    /// Whether a loss detected now is congestion: the latest RTT exceeds the minimum by
    /// more than `congestion_delay` (a queue has built up). Without measurements, yes.
    fn queue_built_up(rto: &Rto) -> bool {
        match (rto.latest(), rto.min_rtt()) {
            (Some(latest), Some(min)) => latest > min + congestion_delay(min),
            _ => true,
        }
    }

    /// RFC 9260 §7.2.4: a fast retransmit of `chunks` chunks; enters fast recovery unless
    /// already in it, or unless the loss looks random (see the module documentation), which
    /// leaves the window alone. `highest_outstanding` is the highest TSN sent so far.
    pub(crate) fn on_fast_retransmit(&mut self, highest_outstanding: u32, chunks: u32, rto: &Rto) {
        self.rate.lost[0] += u64::from(chunks);
        let congestion = Congestion::queue_built_up(rto) || self.rate.heavy_loss();
        if self.recovery_exit.is_some() || !congestion {
            return;
        }
        self.prior = Some((self.cwnd, self.ssthresh));
        let half = (self.cwnd / 2).max(4 * self.mtu);
        let bdp = self.measured_bdp(rto);
        self.ssthresh = bdp.clamp(half, self.cwnd.max(half));
        self.cwnd = self.ssthresh;
        self.partial_bytes_acked = 0;
        self.recovery_exit = Some(highest_outstanding);
    }

    /// The last fast retransmit was spurious (the originals arrived: reordering, not loss),
    /// so its reduction is undone, as TCP does with DSACK (RFC 3708 §3, RFC 4015 §3.2).
    pub(crate) fn undo_fast_retransmit(&mut self) {
        if let Some((cwnd, ssthresh)) = self.prior.take() {
            self.cwnd = self.cwnd.max(cwnd);
            self.ssthresh = self.ssthresh.max(ssthresh);
            self.recovery_exit = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// An RTO state whose latest measurement is `latest` over a minimum of `min`.
    fn rtt(min: u64, latest: u64) -> Rto {
        let mut rto = Rto::new(ms(1000), ms(1000), ms(60_000));
        rto.measure(ms(min));
        rto.measure(ms(latest));
        rto
    }

    fn sack(cc: &mut Congestion, acked: u32, flight: u32, cum: u32) {
        cc.on_sack(acked, 1, flight, cum, Instant::ZERO, &rtt(100, 100));
    }

    #[test]
    fn initial_window() {
        assert_eq!(Congestion::new(1200, 1 << 20).cwnd(), 4380);
        assert_eq!(Congestion::new(1500, 1 << 20).cwnd(), 4380);
        assert_eq!(Congestion::new(9000, 1 << 20).cwnd(), 18000);
        assert_eq!(Congestion::new(1000, 1 << 20).cwnd(), 4000);
    }

    #[test]
    fn slow_start_grows_by_at_most_one_mtu_per_sack() {
        let mut cc = Congestion::new(1200, 1 << 20);
        sack(&mut cc, 5000, 4380, 10);
        assert_eq!(cc.cwnd(), 4380 + 1200);
        sack(&mut cc, 100, 6000, 11);
        assert_eq!(cc.cwnd(), 4380 + 1300);
        // Not fully utilised: no growth.
        sack(&mut cc, 1000, 100, 12);
        assert_eq!(cc.cwnd(), 4380 + 1300);
        // Acknowledged by a gap block only (the cumulative ack stays): growth all the same.
        sack(&mut cc, 1000, 9000, 12);
        assert_eq!(cc.cwnd(), 4380 + 2300);
        // Nothing new acknowledged: no growth.
        sack(&mut cc, 0, 9000, 12);
        assert_eq!(cc.cwnd(), 4380 + 2300);
    }

    #[test]
    fn congestion_avoidance_adds_one_mtu_per_window() {
        let mut cc = Congestion::new(1000, 4000);
        assert_eq!(cc.ssthresh(), 4000);
        sack(&mut cc, 1000, 4000, 1);
        assert_eq!(cc.cwnd(), 5000, "slow start while cwnd <= ssthresh");
        for tsn in 2..6 {
            sack(&mut cc, 1000, 5000, tsn);
            assert_eq!(cc.cwnd(), 5000);
        }
        sack(&mut cc, 1000, 5000, 6);
        assert_eq!(cc.cwnd(), 6000);
    }

    #[test]
    fn timeout_and_fast_recovery() {
        let mut cc = Congestion::new(1000, 1 << 20);
        for tsn in 0..20 {
            sack(&mut cc, 2000, 1 << 20, tsn);
        }
        assert_eq!(cc.cwnd(), 24000);
        // A queue has built up (latest RTT well above the minimum), no rate measured yet:
        // the RFC's halving.
        let queued = rtt(100, 150);
        cc.on_fast_retransmit(100, 1, &queued);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (12000, 12000));
        assert!(cc.in_fast_recovery());
        // A second loss in the same window does not halve again, nor do acks grow it.
        cc.on_fast_retransmit(120, 1, &queued);
        sack(&mut cc, 1000, 1 << 20, 50);
        assert_eq!(cc.cwnd(), 12000);
        sack(&mut cc, 1000, 1 << 20, 100);
        assert!(!cc.in_fast_recovery());
        cc.on_fast_retransmit(200, 1, &queued);
        cc.undo_fast_retransmit();
        assert_eq!((cc.cwnd(), cc.ssthresh()), (12000, 12000), "undone");
        assert!(!cc.in_fast_recovery());
        cc.on_timeout();
        assert_eq!((cc.cwnd(), cc.ssthresh()), (1000, 6000));
        cc.undo_fast_retransmit();
        assert_eq!(cc.cwnd(), 1000, "a timeout is never undone");
        cc.on_timeout();
        assert_eq!(
            (cc.cwnd(), cc.ssthresh()),
            (1000, 4000),
            "ssthresh floor 4*MTU"
        );
    }

    #[test]
    fn random_loss_leaves_the_window_alone() {
        let mut cc = Congestion::new(1000, 1 << 20);
        let at_min = rtt(100, 110);
        for tsn in 0..20 {
            cc.on_sack(2000, 2, 1 << 20, tsn, Instant::ZERO, &at_min);
        }
        // The latest RTT is within an eighth of the minimum: no queue, and one chunk in 41
        // lost is light loss: not congestion.
        cc.on_fast_retransmit(100, 1, &at_min);
        assert_eq!(cc.cwnd(), 24000);
        assert!(!cc.in_fast_recovery());
        cc.on_sack(2000, 6, 1 << 20, 21, Instant::ZERO, &at_min);
        assert_eq!(cc.cwnd(), 25000, "slow start goes on");
        // Three lost in 49 (6%): heavy loss is congestion.
        cc.on_fast_retransmit(100, 2, &at_min);
        assert!(cc.in_fast_recovery());
        assert_eq!(cc.cwnd(), 12500);
    }

    #[test]
    fn congestion_sets_the_window_to_the_measured_path() {
        let mut cc = Congestion::new(1000, 1 << 30);
        let queued = rtt(100, 150);
        // 10,000 bytes per 100 ms round for a few rounds: 100 kB/s, a 10 kB path.
        let mut now = Instant::ZERO;
        cc.on_sack(0, 0, 0, 0, now, &queued);
        for round in 0..5u32 {
            for i in 0..10 {
                now += ms(10);
                cc.on_sack(1000, 1, 1 << 30, round * 10 + i, now, &queued);
            }
        }
        assert_eq!(cc.rate.max(), 100_000);
        assert!(cc.cwnd() > 40_000);
        let before = cc.cwnd();
        cc.on_fast_retransmit(1000, 1, &queued);
        assert_eq!(cc.cwnd(), (before / 2).max(10_000), "never below half");
        // With a larger measured path than half the window, the window keeps the path.
        let mut cc2 = cc.clone();
        cc2.recovery_exit = None;
        cc2.cwnd = 15_000;
        cc2.on_fast_retransmit(2000, 1, &queued);
        assert_eq!(
            cc2.cwnd(),
            10_000,
            "the bandwidth-delay product, above half"
        );
    }
}
