//! The retransmission timeout of RFC 9260 §6.3.1: smoothed RTT, RTT variation, Karn's rule
//! (callers only feed RTTs of chunks sent once) and exponential backoff (§6.3.3 E2).

use core::time::Duration;

/// The RTO of the one path a WebRTC association has.
#[derive(Debug, Clone)]
pub(crate) struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
}

impl Rto {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> Rto {
        let max = max.max(min);
        Rto {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial.clamp(min, max),
            min,
            max,
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
}
