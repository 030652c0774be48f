//! The record layer state of one connection: per-epoch write sequence numbers and keys, the
//! read epoch with its anti-replay window, and counters of what was silently discarded.
//!
//! pigeon never renegotiates, so only epochs 0 (plaintext, the handshake) and 1 (protected)
//! exist.

use crate::dtls::protection::RecordProtection;
use crate::dtls::record::{
    ContentType, DTLS_1_2, MAX_SEQUENCE, RECORD_HEADER_LEN, RecordHeader, split_record,
};
use crate::dtls::replay::ReplayWindow;

/// Counters of the record layer; every discarded record lands in exactly one of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Records accepted and handed up.
    pub records_accepted: u64,
    /// Datagrams or records that did not parse (RFC 6347 §4.1.2.7: silently discarded).
    pub discarded_malformed: u64,
    /// Records that failed authentication (RFC 6347 §4.1.2.7).
    pub discarded_auth: u64,
    /// Replayed or too old records (RFC 6347 §4.1.2.6).
    pub discarded_replay: u64,
    /// Records of an epoch with no keys yet, or a plaintext epoch carrying application data.
    pub discarded_epoch: u64,
    /// Records sent.
    pub records_sent: u64,
}

#[derive(Debug, Default)]
struct WriteEpoch {
    next_seq: u64,
    protection: Option<RecordProtection>,
}

/// Record layer state (RFC 6347 §4.1).
#[derive(Debug)]
pub struct RecordLayer {
    write: [WriteEpoch; 2],
    read_protection: Option<RecordProtection>,
    replay: [ReplayWindow; 2],
    stats: RecordStats,
}

impl Default for RecordLayer {
    fn default() -> Self {
        RecordLayer::new()
    }
}

impl RecordLayer {
    /// A record layer in epoch 0 (no protection).
    pub fn new() -> RecordLayer {
        RecordLayer {
            write: [WriteEpoch::default(), WriteEpoch::default()],
            read_protection: None,
            replay: [ReplayWindow::new(), ReplayWindow::new()],
            stats: RecordStats::default(),
        }
    }

    /// Installs the keys this side writes epoch 1 with.
    pub fn set_write_protection(&mut self, protection: RecordProtection) {
        self.write[1].protection = Some(protection);
    }

    /// Installs the keys the peer writes epoch 1 with. RFC 6347 §4.1: the peer's epoch 1
    /// records are accepted once these are known (after its ChangeCipherSpec).
    pub fn set_read_protection(&mut self, protection: RecordProtection) {
        self.read_protection = Some(protection);
    }

    /// Whether the peer's epoch 1 keys are installed.
    pub fn can_read_epoch1(&self) -> bool {
        self.read_protection.is_some()
    }

    /// Makes the next epoch-0 record carry at least `seq`. RFC 6347 §4.2.1: a server that
    /// answered with a stateless HelloVerifyRequest (reusing the ClientHello's record
    /// sequence number) continues from the second ClientHello's sequence number.
    pub fn skip_plaintext_write_seq(&mut self, seq: u64) {
        self.write[0].next_seq = self.write[0].next_seq.max(seq.min(MAX_SEQUENCE));
    }

    /// Forgets the epoch-0 records seen. A client does this after a HelloVerifyRequest:
    /// the stateless server's next records may start over at the sequence numbers the
    /// HelloVerifyRequest borrowed.
    pub fn reset_plaintext_replay(&mut self) {
        self.replay[0] = ReplayWindow::new();
    }

    /// Counters.
    pub fn stats(&self) -> &RecordStats {
        &self.stats
    }

    /// Appends one record of `epoch` (0 or 1) to `out`, using the epoch's next sequence
    /// number. Returns `false` when the epoch has no keys, the sequence space is spent
    /// (RFC 6347 §4.1: sequence numbers MUST NOT wrap) or the payload is too long.
    pub fn seal(
        &mut self,
        epoch: u16,
        content_type: ContentType,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let Some(state) = self.write.get_mut(usize::from(epoch)) else {
            return false;
        };
        if state.next_seq > MAX_SEQUENCE {
            return false;
        }
        let seq = state.next_seq;
        let sealed = match (&state.protection, epoch) {
            (None, 0) => {
                let Ok(length) = u16::try_from(payload.len()) else {
                    return false;
                };
                RecordHeader {
                    content_type,
                    version: DTLS_1_2,
                    epoch,
                    sequence_number: seq,
                    length,
                }
                .emit(out);
                out.extend_from_slice(payload);
                true
            }
            (Some(p), _) => p.seal(content_type, epoch, seq, payload, out),
            (None, _) => false,
        };
        if sealed {
            state.next_seq += 1;
            self.stats.records_sent += 1;
        }
        sealed
    }

    /// Writes one protected record of epoch 1 to the start of `out` (encrypting straight
    /// into it) with the epoch's next sequence number; returns its length. `None` when there
    /// are no keys, the sequence space is spent (RFC 6347 §4.1: no wrap) or `out` is short.
    pub fn seal_to(
        &mut self,
        content_type: ContentType,
        payload: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let state = &mut self.write[1];
        if state.next_seq > MAX_SEQUENCE {
            return None;
        }
        let len =
            state
                .protection
                .as_ref()?
                .seal_to(content_type, 1, state.next_seq, payload, out)?;
        state.next_seq += 1;
        self.stats.records_sent += 1;
        Some(len)
    }

    /// Length of an epoch-1 record carrying `len` bytes (`None` before the keys).
    pub fn sealed_len(&self, len: usize) -> Option<usize> {
        Some(self.write[1].protection.as_ref()?.sealed_len(len))
    }

    /// Splits a datagram into records, authenticates and decrypts them, checks and updates the
    /// replay windows and calls `deliver(header, plaintext)` for each good one.
    /// Bad records are dropped and counted, never handed up (RFC 6347 §4.1.2.7). Works on a
    /// copy of `datagram`; [`open_in_place`](Self::open_in_place) avoids it.
    pub fn open_datagram(
        &mut self,
        datagram: &[u8],
        mut deliver: impl FnMut(&RecordHeader, &[u8]),
    ) {
        let mut buffer = datagram.to_vec();
        let mut offset = 0;
        while offset < buffer.len() {
            let Ok((header, len)) = split_record(&buffer[offset..]) else {
                self.count_malformed();
                break;
            };
            let record = &mut buffer[offset..offset + len];
            offset += len;
            match self.open_in_place(&header, &mut record[RECORD_HEADER_LEN..]) {
                Opened::Plaintext(range) => deliver(&header, &record[RECORD_HEADER_LEN..][range]),
                Opened::NoKeysYet => self.count_early_dropped(),
                Opened::Dropped => {}
            }
        }
    }

    /// Counts a datagram whose remaining records did not parse.
    pub fn count_malformed(&mut self) {
        self.stats.discarded_malformed += 1;
        tracing::debug!("dtls: malformed record, rest of datagram dropped");
    }

    /// Counts an epoch-1 record that arrived before the keys and is not kept.
    pub fn count_early_dropped(&mut self) {
        self.stats.discarded_epoch += 1;
        tracing::trace!("dtls: epoch-1 record before its keys dropped");
    }

    /// Checks, authenticates and decrypts one record's `fragment` in place (the record
    /// header already parsed into `header`). Callers that install keys while handling a
    /// record open the next one only afterwards, so a Finished sharing a datagram with the
    /// ClientKeyExchange before it is readable.
    pub fn open_in_place(&mut self, header: &RecordHeader, fragment: &mut [u8]) -> Opened {
        let epoch = usize::from(header.epoch);
        if epoch > 1 {
            self.stats.discarded_epoch += 1;
            tracing::trace!(epoch, "dtls: record of unknown epoch dropped");
            return Opened::Dropped;
        }
        if !self.replay[epoch].check(header.sequence_number) {
            self.stats.discarded_replay += 1;
            tracing::trace!(
                seq = header.sequence_number,
                "dtls: replayed record dropped"
            );
            return Opened::Dropped;
        }
        if epoch == 0 {
            // Application data is never sent unprotected (RFC 5246 §7.4.9 orders it after
            // Finished); an epoch-0 application record is a forgery or a bug.
            if header.content_type == ContentType::APPLICATION_DATA {
                self.stats.discarded_epoch += 1;
                return Opened::Dropped;
            }
            self.replay[0].update(header.sequence_number);
            self.stats.records_accepted += 1;
            return Opened::Plaintext(0..fragment.len());
        }
        let Some(protection) = &self.read_protection else {
            // RFC 6347 §4.1: records of the next epoch may arrive before the keys are
            // known; the caller may buffer them and try again once the keys are in.
            return Opened::NoKeysYet;
        };
        match protection.open(header, fragment) {
            Ok(range) => {
                self.replay[1].update(header.sequence_number);
                self.stats.records_accepted += 1;
                Opened::Plaintext(range)
            }
            Err(_) => {
                self.stats.discarded_auth += 1;
                tracing::debug!(
                    seq = header.sequence_number,
                    "dtls: record failed authentication, dropped"
                );
                Opened::Dropped
            }
        }
    }
}

/// What [`RecordLayer::open_in_place`] made of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// Authenticated (or plaintext epoch 0): the plaintext's range inside the fragment.
    Plaintext(core::ops::Range<usize>),
    /// Dropped and counted (RFC 6347 §4.1.2.7).
    Dropped,
    /// An epoch-1 record before the peer's epoch-1 keys are installed; nothing counted yet.
    NoKeysYet,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::suite::CipherSuite;

    fn layers(suite: CipherSuite) -> (RecordLayer, RecordLayer) {
        let key = vec![5u8; suite.key_len()];
        let iv = vec![6u8; suite.fixed_iv_len()];
        let mut a = RecordLayer::new();
        let mut b = RecordLayer::new();
        a.set_write_protection(RecordProtection::new(suite, &key, &iv).unwrap());
        b.set_read_protection(RecordProtection::new(suite, &key, &iv).unwrap());
        (a, b)
    }

    fn collect(layer: &mut RecordLayer, datagram: &[u8]) -> Vec<(u8, u16, Vec<u8>)> {
        let mut got = Vec::new();
        layer.open_datagram(datagram, |h, p| {
            got.push((h.content_type.0, h.epoch, p.to_vec()))
        });
        got
    }

    #[test]
    fn mixed_epochs_in_one_datagram() {
        let (mut a, mut b) = layers(CipherSuite::EcdheEcdsaAes128GcmSha256);
        let mut datagram = Vec::new();
        assert!(a.seal(0, ContentType::HANDSHAKE, b"hs", &mut datagram));
        assert!(a.seal(0, ContentType::CHANGE_CIPHER_SPEC, &[1], &mut datagram));
        assert!(a.seal(1, ContentType::HANDSHAKE, b"fin", &mut datagram));
        let got = collect(&mut b, &datagram);
        assert_eq!(
            got,
            [
                (22, 0, b"hs".to_vec()),
                (20, 0, vec![1]),
                (22, 1, b"fin".to_vec())
            ]
        );
        assert_eq!(b.stats().records_accepted, 3);
        // The same datagram again: every record is a replay.
        assert!(collect(&mut b, &datagram).is_empty());
        assert_eq!(b.stats().discarded_replay, 3);
    }

    #[test]
    fn bad_records_are_counted_not_delivered() {
        let (mut a, mut b) = layers(CipherSuite::EcdheEcdsaChacha20Poly1305Sha256);
        let mut good = Vec::new();
        assert!(a.seal(1, ContentType::APPLICATION_DATA, b"data", &mut good));
        let mut forged = good.clone();
        let last = forged.len() - 1;
        forged[last] ^= 0x80;
        assert!(collect(&mut b, &forged).is_empty());
        assert_eq!(b.stats().discarded_auth, 1);
        // The forgery did not move the window: the genuine record still gets in.
        assert_eq!(collect(&mut b, &good).len(), 1);

        let mut plain_app = Vec::new();
        assert!(a.seal(0, ContentType::APPLICATION_DATA, b"x", &mut plain_app));
        assert!(collect(&mut b, &plain_app).is_empty());
        assert_eq!(b.stats().discarded_epoch, 1);

        assert!(collect(&mut b, &[23, 0xfe, 0xfd, 0]).is_empty());
        assert_eq!(b.stats().discarded_malformed, 1);

        let mut fresh = RecordLayer::new();
        assert!(collect(&mut fresh, &good).is_empty(), "no epoch 1 keys yet");
        assert!(!fresh.seal(1, ContentType::APPLICATION_DATA, b"x", &mut Vec::new()));
    }
}
