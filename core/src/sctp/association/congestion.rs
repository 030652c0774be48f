//! Congestion control of RFC 9260 §7.2: slow start, congestion avoidance, the reaction to a
//! retransmission timeout and fast recovery. Counts are bytes of DATA chunk payload plus
//! chunk headers, as the RFC's "bytes acknowledged" are.

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

    /// A SACK arrived. `acked` bytes were newly acknowledged, `cum_advanced` says whether the
    /// cumulative TSN moved, `flight_before` is the flight size before the SACK, `cum_tsn`
    /// the new cumulative TSN ack.
    pub(crate) fn on_sack(
        &mut self,
        acked: u32,
        cum_advanced: bool,
        flight_before: u32,
        cum_tsn: u32,
    ) {
        if let Some(exit) = self.recovery_exit {
            // RFC 9260 §7.2.4: fast recovery ends when the cumulative ack reaches the exit point;
            // until then cwnd is left alone.
            if !super::tsn_lt(cum_tsn, exit) {
                self.recovery_exit = None;
            }
            return;
        }
        if !cum_advanced || acked == 0 {
            return;
        }
        if self.cwnd <= self.ssthresh {
            // §7.2.1: slow start grows by at most one MTU per SACK, and only when the window
            // was in use.
            if flight_before >= self.cwnd {
                self.cwnd = self.cwnd.saturating_add(acked.min(self.mtu));
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

    /// RFC 9260 §7.2.4: a fast retransmit; enters fast recovery unless already in it.
    /// `highest_outstanding` is the highest TSN sent so far.
    pub(crate) fn on_fast_retransmit(&mut self, highest_outstanding: u32) {
        if self.recovery_exit.is_some() {
            return;
        }
        self.prior = Some((self.cwnd, self.ssthresh));
        self.ssthresh = (self.cwnd / 2).max(4 * self.mtu);
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
        cc.on_sack(5000, true, 4380, 10);
        assert_eq!(cc.cwnd(), 4380 + 1200);
        cc.on_sack(100, true, 6000, 11);
        assert_eq!(cc.cwnd(), 4380 + 1300);
        // Not fully utilised: no growth.
        cc.on_sack(1000, true, 100, 12);
        assert_eq!(cc.cwnd(), 4380 + 1300);
        // Cumulative ack did not move: no growth.
        cc.on_sack(1000, false, 9000, 12);
        assert_eq!(cc.cwnd(), 4380 + 1300);
    }

    #[test]
    fn congestion_avoidance_adds_one_mtu_per_window() {
        let mut cc = Congestion::new(1000, 4000);
        assert_eq!(cc.ssthresh(), 4000);
        cc.on_sack(1000, true, 4000, 1);
        assert_eq!(cc.cwnd(), 5000, "slow start while cwnd <= ssthresh");
        for tsn in 2..6 {
            cc.on_sack(1000, true, 5000, tsn);
            assert_eq!(cc.cwnd(), 5000);
        }
        cc.on_sack(1000, true, 5000, 6);
        assert_eq!(cc.cwnd(), 6000);
    }

    #[test]
    fn timeout_and_fast_recovery() {
        let mut cc = Congestion::new(1000, 1 << 20);
        for tsn in 0..20 {
            cc.on_sack(1000, true, 1 << 20, tsn);
        }
        assert_eq!(cc.cwnd(), 24000);
        cc.on_fast_retransmit(100);
        assert_eq!((cc.cwnd(), cc.ssthresh()), (12000, 12000));
        assert!(cc.in_fast_recovery());
        // A second loss in the same window does not halve again, nor do acks grow it.
        cc.on_fast_retransmit(120);
        cc.on_sack(1000, true, 1 << 20, 50);
        assert_eq!(cc.cwnd(), 12000);
        cc.on_sack(1000, true, 1 << 20, 100);
        assert!(!cc.in_fast_recovery());
        cc.on_fast_retransmit(200);
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
}
