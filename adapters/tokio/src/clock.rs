//! The bridge between tokio's monotonic clock and [`pigeon::Instant`].
//!
//! It reads `tokio::time::Instant`, so a runtime whose clock is paused (tokio's `test-util`)
//! drives the machine on that paused clock too. The arithmetic is pigeon-std's [`Clock`]
//! (`pigeon_std::Clock`) on the `std::time::Instant` behind each tokio instant.

use std::time::Duration;

use pigeon::Instant;
use tokio::time::Instant as TokioInstant;

/// Converts `tokio::time::Instant` readings to [`pigeon::Instant`] and back; the epoch is the
/// moment the clock was created.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    inner: pigeon_std::Clock,
}

impl Clock {
    /// A clock whose epoch is tokio's now.
    pub fn new() -> Self {
        Self {
            inner: pigeon_std::Clock::starting_at(TokioInstant::now().into_std()),
        }
    }

    /// The tokio instant that pigeon calls [`Instant::ZERO`].
    pub fn epoch(&self) -> TokioInstant {
        TokioInstant::from_std(self.inner.epoch())
    }

    /// The current time as a pigeon instant.
    pub fn now(&self) -> Instant {
        self.pigeon_instant(TokioInstant::now())
    }

    /// Converts a tokio instant; one before the epoch maps to [`Instant::ZERO`].
    pub fn pigeon_instant(&self, at: TokioInstant) -> Instant {
        self.inner.pigeon_instant(at.into_std())
    }

    /// Converts back to a tokio instant (for `sleep_until`); `None` when `at` lies beyond what
    /// the platform can represent.
    pub fn os_instant(&self, at: Instant) -> Option<TokioInstant> {
        self.inner.os_instant(at).map(TokioInstant::from_std)
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

    #[tokio::test(start_paused = true)]
    async fn follows_a_paused_runtime_clock() {
        let clock = Clock::new();
        let at = Instant::from_millis(1_500);
        let tokio_at = clock
            .os_instant(at)
            .expect("1.5 s after now is representable");
        assert_eq!(clock.pigeon_instant(tokio_at), at);
        assert_eq!(clock.now(), Instant::ZERO);
        tokio::time::advance(Duration::from_millis(700)).await;
        assert_eq!(clock.now(), Instant::from_millis(700));
        assert_eq!(clock.until(at), Duration::from_millis(800));
    }
}
