//! The anti-replay sliding window (RFC 6347 §4.1.2.6).

/// Width of the window in records. RFC 6347 §4.1.2.6: "A minimum window size of 32 MUST be
/// supported, but a window size of 64 is preferred".
pub const REPLAY_WINDOW: u64 = 64;

/// Tracks which sequence numbers of one epoch were already received.
///
/// RFC 6347 §4.1.2.6: a record is checked before its authentication and the window is updated
/// only after the record authenticated, so forgeries cannot move it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest sequence number accepted so far (meaningless while `bits` is 0).
    highest: u64,
    /// Bit i set: `highest - i` was received.
    bits: u64,
}

impl ReplayWindow {
    /// A window that has seen nothing.
    pub fn new() -> ReplayWindow {
        ReplayWindow::default()
    }

    /// Whether a record with `seq` may be new: not too old, not already seen.
    pub fn check(&self, seq: u64) -> bool {
        if self.bits == 0 || seq > self.highest {
            return true;
        }
        let age = self.highest - seq;
        age < REPLAY_WINDOW && self.bits & (1 << age) == 0
    }

    /// Marks `seq` as received; call only after the record authenticated.
    pub fn update(&mut self, seq: u64) {
        if self.bits == 0 {
            self.highest = seq;
            self.bits = 1;
        } else if seq > self.highest {
            let shift = seq - self.highest;
            self.bits = if shift >= REPLAY_WINDOW {
                0
            } else {
                self.bits << shift
            };
            self.bits |= 1;
            self.highest = seq;
        } else {
            let age = self.highest - seq;
            if age < REPLAY_WINDOW {
                self.bits |= 1 << age;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_old_records_are_refused() {
        let mut w = ReplayWindow::new();
        assert!(w.check(0));
        w.update(0);
        assert!(!w.check(0));
        assert!(w.check(5));
        w.update(5);
        assert!(w.check(3), "a gap below the highest is still acceptable");
        w.update(3);
        assert!(!w.check(3));
        w.update(100);
        assert!(!w.check(5), "now older than the window");
        assert!(w.check(100 - 63));
        assert!(!w.check(100 - 64));
        assert!(!w.check(100));
        w.update(99);
        assert!(!w.check(99));
        assert!(w.check(98));
        w.update(1000);
        assert!(w.check(999));
        assert!(!w.check(100));
    }

    #[test]
    fn first_record_may_have_any_sequence_number() {
        let mut w = ReplayWindow::new();
        w.update(7);
        assert!(w.check(6));
        assert!(!w.check(7));
    }
}
