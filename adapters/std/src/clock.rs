//! The bridge between the operating system's monotonic clock and [`pigeon::Instant`].

use std::time::Duration;

use pigeon::Instant;

/// Converts `std::time::Instant` readings to [`pigeon::Instant`] and back.
///
/// A pigeon [`Instant`] counts nanoseconds since an epoch the driver picks; here the epoch is
/// the moment the clock was created, so instants stay small and readable in traces.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    epoch: std::time::Instant,
}

impl Clock {
    /// A clock whose epoch is now.
    pub fn new() -> Self {
        Self {
            epoch: std::time::Instant::now(),
        }
    }

    /// A clock whose epoch is `epoch`, for adapters that read another clock (tokio's, which
    /// may be paused) and convert its readings to `std::time::Instant`.
    pub fn starting_at(epoch: std::time::Instant) -> Self {
        Self { epoch }
    }

    /// The OS instant that pigeon calls [`Instant::ZERO`].
    pub fn epoch(&self) -> std::time::Instant {
        self.epoch
    }

    /// The current time as a pigeon instant.
    pub fn now(&self) -> Instant {
        self.pigeon_instant(std::time::Instant::now())
    }

    /// Converts an OS instant; one before the epoch maps to [`Instant::ZERO`].
    pub fn pigeon_instant(&self, at: std::time::Instant) -> Instant {
        let nanos = at.saturating_duration_since(self.epoch).as_nanos();
        // u64 nanoseconds last about 584 years: clamping is only for the impossible.
        Instant::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Converts back to an OS instant; `None` when `at` lies beyond what the OS can represent.
    pub fn os_instant(&self, at: Instant) -> Option<std::time::Instant> {
        self.epoch.checked_add(at.since_epoch())
    }

    /// How long from now until `at` (zero when `at` has passed).
    pub fn until(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.now())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_os_clock() {
        let clock = Clock::new();
        let at = Instant::from_millis(1_500);
        let os_at = clock
            .os_instant(at)
            .expect("1.5 s after now is representable");
        assert_eq!(clock.pigeon_instant(os_at), at);
        assert_eq!(os_at - clock.epoch(), Duration::from_millis(1_500));
    }

    #[test]
    fn before_epoch_is_zero_and_time_moves_forward() {
        let earlier = std::time::Instant::now();
        let clock = Clock::new();
        assert_eq!(clock.pigeon_instant(earlier), Instant::ZERO);
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() - a >= Duration::from_millis(2));
        assert_eq!(clock.until(Instant::ZERO), Duration::ZERO);
    }
}
