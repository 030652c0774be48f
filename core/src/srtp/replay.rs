//! Packet index estimation (RFC 3711 §3.3.1) and the replay list (RFC 3711 §3.3.2).

use super::Error;

/// Largest window a configuration may ask for (packets).
pub(crate) const MAX_WINDOW: u32 = 1 << 15;

/// RFC 3711 §3.3.1 / Appendix A: the 48-bit index of a packet with sequence number `seq`,
/// guessed from the highest index seen so far. The guess is the ROC value among ROC-1, ROC
/// and ROC+1 that puts the index nearest the highest one, so reordering across the 65535 -> 0
/// wrap lands in the right rollover period. Before any packet the ROC is 0 (RFC 3711 §3.3.1).
pub(crate) fn estimate_index(highest: Option<u64>, seq: u16) -> u64 {
    let Some(highest) = highest else {
        return u64::from(seq);
    };
    let roc = highest >> 16;
    let s_l = (highest & 0xffff) as u16;
    let seq = u64::from(seq);
    let v = if s_l < 0x8000 {
        // A sequence number far above s_l is a late packet from before the last wrap; with
        // ROC = 0 there is no earlier period, so it counts as a jump ahead.
        if seq > u64::from(s_l) + 0x8000 && roc > 0 {
            roc - 1
        } else {
            roc
        }
    } else if u64::from(s_l) - 0x8000 > seq {
        roc + 1
    } else {
        roc
    };
    (v << 16) | seq
}

/// A sliding window of received (or sent) indices: a bit per index at `index % bits`, where
/// `bits` is the configured size rounded up to 64.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    words: Vec<u64>,
    size: u64,
    highest: Option<u64>,
}

impl ReplayWindow {
    /// A window that accepts indices up to `size - 1` behind the highest one.
    pub(crate) fn new(size: u32) -> Self {
        let size = size.clamp(1, MAX_WINDOW);
        Self {
            words: vec![0; size.div_ceil(64) as usize],
            size: u64::from(size),
            highest: None,
        }
    }

    /// The highest index accepted so far.
    pub(crate) fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn bit(&self, index: u64) -> (usize, u64) {
        let pos = index % (self.words.len() as u64 * 64);
        ((pos / 64) as usize, 1 << (pos % 64))
    }

    /// RFC 3711 §3.3.2: a new index is accepted; one already seen, or more than the window
    /// behind the highest, is a replay.
    pub(crate) fn check(&self, index: u64) -> Result<(), Error> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if index > highest {
            return Ok(());
        }
        if highest - index >= self.size {
            return Err(Error::Replayed);
        }
        let (word, mask) = self.bit(index);
        if self.words[word] & mask != 0 {
            return Err(Error::Replayed);
        }
        Ok(())
    }

    /// Records `index` as seen; call only after the packet authenticated (RFC 3711 §3.3 step 6).
    pub(crate) fn accept(&mut self, index: u64) {
        match self.highest {
            Some(highest) if index <= highest => {}
            Some(highest) => {
                // Forget the indices the window slides past: their bits get reused.
                let advance = index - highest;
                if advance >= self.words.len() as u64 * 64 {
                    self.words.fill(0);
                } else {
                    for i in highest + 1..index {
                        let (word, mask) = self.bit(i);
                        self.words[word] &= !mask;
                    }
                }
                self.highest = Some(index);
            }
            None => {
                self.words.fill(0);
                self.highest = Some(index);
            }
        }
        let (word, mask) = self.bit(index);
        self.words[word] |= mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_estimation_across_the_wrap() {
        assert_eq!(estimate_index(None, 65535), 65535);
        assert_eq!(estimate_index(Some(65535), 0), 1 << 16);
        assert_eq!(estimate_index(Some(65534), 2), (1 << 16) | 2);
        // After the wrap, a late packet from the previous period keeps ROC - 1.
        assert_eq!(estimate_index(Some(1 << 16), 65535), 65535);
        assert_eq!(
            estimate_index(Some((5 << 16) | 10), 65000),
            (4 << 16) | 65000
        );
        // In the middle of a period, no change of ROC.
        assert_eq!(
            estimate_index(Some((3 << 16) | 40000), 30000),
            (3 << 16) | 30000
        );
        // ROC 0 has no earlier period.
        assert_eq!(estimate_index(Some(10), 65530), 65530);
        // Highest possible ROC: the guess may reach 2^48, which the caller refuses.
        assert_eq!(
            estimate_index(Some((0xffff_ffff << 16) | 65535), 0),
            1 << 48
        );
    }

    #[test]
    fn window_accepts_new_and_rejects_seen_and_old() {
        let mut w = ReplayWindow::new(128);
        for i in [100, 101, 103] {
            w.check(i).unwrap();
            w.accept(i);
        }
        assert_eq!(w.check(101), Err(Error::Replayed));
        w.check(102).unwrap();
        w.accept(102);
        assert_eq!(w.check(102), Err(Error::Replayed));
        w.accept(300);
        assert_eq!(w.check(172), Err(Error::Replayed)); // 128 behind
        w.check(173).unwrap();
        assert_eq!(w.check(300), Err(Error::Replayed));
        // Bits of indices the window slid past are clear again when reused.
        w.accept(300 + 256);
        w.check(300 + 256 - 1).unwrap();
    }

    #[test]
    fn small_and_odd_windows() {
        let mut w = ReplayWindow::new(1);
        w.accept(5);
        assert_eq!(w.check(4), Err(Error::Replayed));
        assert_eq!(w.check(5), Err(Error::Replayed));
        let mut w = ReplayWindow::new(70);
        w.accept(1000);
        w.check(931).unwrap();
        assert_eq!(w.check(930), Err(Error::Replayed));
    }
}
