//! The retransmission timeout of RFC 9260 §6.3.1: smoothed RTT, RTT variation, Karn's rule
//! (callers only feed RTTs of chunks sent once) and exponential backoff (§6.3.3 E2). It also
//! keeps the latest and the minimum RTT, which congestion control uses to tell a loss caused
//! by a full queue (the RTT has grown) from a random one (see `congestion`).

use core::time::Duration;

/// The RTO of the one path a WebRTC association has.
#[derive(Debug, Clone)]
pub(crate) struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
    /// The most recent measurement.
    latest: Option<Duration>,
    /// Minimum of the measurements in the current window and in the one before it.
    min_rtt: [Option<Duration>; 2],
    /// Measurements in the current window.
    window_samples: u32,
}

/// Measurements per minimum-RTT window: with one timed chunk per round trip, about 256 round
/// trips (25 s at 100 ms), so the minimum follows a path that got slower.
const MIN_RTT_WINDOW: u32 = 256;

impl Rto {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> Rto {
        let max = max.max(min);
        Rto {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial.clamp(min, max),
            min,
            max,
            latest: None,
            min_rtt: [None; 2],
            window_samples: 0,
        }
    }

    /// The most recent RTT measurement.
    pub(crate) fn latest(&self) -> Option<Duration> {
        self.latest
    }

    /// The smallest RTT measured recently (over the last one to two windows of
    /// `MIN_RTT_WINDOW` measurements): the path's RTT without queueing.
    pub(crate) fn min_rtt(&self) -> Option<Duration> {
        match self.min_rtt {
            [Some(a), Some(b)] => Some(a.min(b)),
            [a, b] => a.or(b),
        }
    }

    /// The current timeout.
    pub(crate) fn rto(&self) -> Duration {
        self.rto
    }

    /// The smoothed RTT, once one has been measured.
    #[cfg(test)]
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// RFC 9260 §6.3.1 C1-C3: folds in one measurement `r`.
    pub(crate) fn measure(&mut self, r: Duration) {
        self.latest = Some(r);
        self.window_samples += 1;
        if self.window_samples > MIN_RTT_WINDOW {
            self.window_samples = 1;
            self.min_rtt = [None, self.min_rtt[0]];
        }
        self.min_rtt[0] = Some(self.min_rtt[0].map_or(r, |m| m.min(r)));
        match self.srtt {
            None => {
                // C2: the first measurement.
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                // C3 with RTO.Alpha = 1/8 and RTO.Beta = 1/4 (§16); RTTVAR uses the old SRTT.
                let delta = srtt.abs_diff(r);
                self.rttvar = self.rttvar - self.rttvar / 4 + delta / 4;
                self.srtt = Some(srtt - srtt / 8 + r / 8);
            }
        }
        // C3: a zero RTTVAR is raised to the clock granularity G; 1 ms stands in for G.
        self.rttvar = self.rttvar.max(Duration::from_millis(1));
        let srtt = self.srtt.unwrap_or(r);
        // C6/C7: clamp to RTO.Min and RTO.Max.
        self.rto = (srtt + 4 * self.rttvar).clamp(self.min, self.max);
    }

    /// RFC 9260 §6.3.3 E2: the timer expired, double the RTO up to RTO.Max.
    pub(crate) fn back_off(&mut self) {
        self.rto = (self.rto * 2).min(self.max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn first_measurement_sets_srtt_and_half_rttvar() {
        let mut rto = Rto::new(ms(1000), ms(100), ms(60_000));
        assert_eq!(rto.rto(), ms(1000));
        rto.measure(ms(200));
        assert_eq!(rto.srtt(), Some(ms(200)));
        // 200 + 4 * 100
        assert_eq!(rto.rto(), ms(600));
    }

    #[test]
    fn later_measurements_smooth() {
        let mut rto = Rto::new(ms(1000), ms(10), ms(60_000));
        rto.measure(ms(200));
        rto.measure(ms(100));
        // RTTVAR = 3/4 * 100 + 1/4 * 100 = 100; SRTT = 7/8 * 200 + 1/8 * 100 = 187.5
        assert_eq!(rto.srtt(), Some(Duration::from_micros(187_500)));
        assert_eq!(rto.rto(), Duration::from_micros(587_500));
    }

    #[test]
    fn clamps_and_backs_off() {
        let mut rto = Rto::new(ms(1000), ms(1000), ms(3000));
        rto.measure(ms(10));
        assert_eq!(rto.rto(), ms(1000), "RTO.Min");
        rto.back_off();
        assert_eq!(rto.rto(), ms(2000));
        rto.back_off();
        assert_eq!(rto.rto(), ms(3000), "RTO.Max");
        rto.measure(ms(10));
        assert_eq!(rto.rto(), ms(1000), "a new measurement undoes the backoff");
    }

    #[test]
    fn latest_and_windowed_minimum() {
        let mut rto = Rto::new(ms(1000), ms(1000), ms(3000));
        assert_eq!((rto.latest(), rto.min_rtt()), (None, None));
        rto.measure(ms(100));
        rto.measure(ms(130));
        assert_eq!(
            (rto.latest(), rto.min_rtt()),
            (Some(ms(130)), Some(ms(100)))
        );
        // The path gets slower: the old minimum is forgotten after one to two windows.
        for _ in 0..MIN_RTT_WINDOW {
            rto.measure(ms(200));
        }
        assert_eq!(
            rto.min_rtt(),
            Some(ms(100)),
            "still within the previous window"
        );
        for _ in 0..MIN_RTT_WINDOW {
            rto.measure(ms(200));
        }
        assert_eq!(rto.min_rtt(), Some(ms(200)));
    }
}
