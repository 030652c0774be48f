//! The stream scheduler (RFC 8260 §3.2) and I-DATA fragmentation of the send queue.

use super::*;

const RELIABLE: Policy = Policy {
    max_retransmits: None,
    expires: None,
};

/// (stream, MID, FSN, payload length) of each I-DATA chunk in `out`.
fn chunks(out: &[u8]) -> Vec<(u16, u32, u32, usize)> {
    let mut at = 0;
    let mut found = Vec::new();
    while at + IDATA_HEADER_LEN <= out.len() {
        let length = usize::from(u16::from_be_bytes([out[at + 2], out[at + 3]]));
        let word = |i: usize| u32::from_be_bytes([out[i], out[i + 1], out[i + 2], out[i + 3]]);
        let begins = out[at + 1] & FLAG_BEGINNING != 0;
        let stream = u16::from_be_bytes([out[at + 8], out[at + 9]]);
        let fsn = if begins { 0 } else { word(at + 16) };
        found.push((stream, word(at + 12), fsn, length - IDATA_HEADER_LEN));
        at += length.div_ceil(4) * 4;
    }
    found
}

#[test]
fn round_robin_per_chunk_with_idata_per_message_with_data() {
    for interleaving in [true, false] {
        let mut q = SendQueue::new(1, 1 << 20);
        q.interleaving = interleaving;
        q.push(1, 51, false, vec![1; 2500], RELIABLE);
        q.push(2, 51, false, vec![2; 10], RELIABLE);
        q.push(2, 51, false, vec![3; 10], RELIABLE);
        let mut order = Vec::new();
        for _ in 0..5 {
            let mut out = Vec::new();
            q.write(&mut out, 1200 - 12, Instant::ZERO, 1 << 20, false, 1172);
            if interleaving {
                order.extend(chunks(&out).into_iter().map(|c| (c.0, c.1, c.2)));
            } else {
                // DATA: stream at 8, SSN at 10.
                let mut at = 0;
                while at + 16 <= out.len() {
                    let length = usize::from(u16::from_be_bytes([out[at + 2], out[at + 3]]));
                    let stream = u16::from_be_bytes([out[at + 8], out[at + 9]]);
                    let ssn = u16::from_be_bytes([out[at + 10], out[at + 11]]);
                    order.push((stream, u32::from(ssn), 0));
                    at += length.div_ceil(4) * 4;
                }
            }
        }
        if interleaving {
            // RFC 8260 §3.2: the small messages go between the big one's chunks (the
            // second big chunk fills the packet behind the first small message).
            assert_eq!(
                order,
                [(1, 0, 0), (2, 0, 0), (1, 0, 1), (2, 1, 0), (1, 0, 2)]
            );
        } else {
            assert_eq!(
                order,
                [(1, 0, 0), (1, 0, 0), (1, 0, 0), (2, 0, 0), (2, 1, 0)]
            );
        }
        assert!(q.is_idle() == q.sent.is_empty());
        assert!(!q.has_queued(&[]));
    }
}

#[test]
fn idata_fills_the_packet_only_for_messages_that_fragment_anyway() {
    let mut q = SendQueue::new(1, 1 << 20);
    q.interleaving = true;
    q.push(4, 51, false, vec![1; 3000], RELIABLE);
    let mut out = Vec::new();
    q.write(&mut out, 700, Instant::ZERO, 1 << 20, false, 1172);
    assert_eq!(chunks(&out), [(4, 0, 0, 680)]);
    let mut q = SendQueue::new(1, 1 << 20);
    q.interleaving = true;
    q.push(4, 51, false, vec![1; 1000], RELIABLE);
    let mut out = Vec::new();
    assert_eq!(
        q.write(&mut out, 700, Instant::ZERO, 1 << 20, false, 1172),
        0
    );
}
