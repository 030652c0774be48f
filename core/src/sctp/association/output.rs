//! Packets that leave (RFC 9260 §6.10 bundling): a control chunk that must travel alone gets
//! its own packet; otherwise SACK first, then control chunks, FORWARD TSN, retransmissions
//! and new DATA, up to the path MTU.

use super::send_queue::DATA_HEADER_LEN;
use super::{Association, State, Timer};
use crate::sctp::chunk::Chunk;
use crate::sctp::packet::{COMMON_HEADER_LEN, checksum};

/// SACK fixed part with its chunk header.
const SACK_FIXED: usize = 16;

impl Association {
    /// The next packet to hand to the lower layer, if any.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.poll_packet_into(&mut out).then_some(out)
    }

    /// Like [`poll_packet`](Self::poll_packet), writing into `out` (cleared first) so a caller
    /// can reuse one buffer. Returns whether a packet was written.
    pub fn poll_packet_into(&mut self, out: &mut Vec<u8>) -> bool {
        out.clear();
        let mtu = self.config.mtu;
        let peer_tag = self.tcb.as_ref().map(|t| t.peer_tag);
        // A chunk that needs its own packet, or another tag than the association's.
        if let Some(front) = self.ctrl.front()
            && (front.alone || Some(front.tag) != peer_tag)
        {
            // NOTE(unwrap): front() just returned Some.
            let ctrl = self.ctrl.pop_front().expect("front exists");
            self.write_header(out, ctrl.tag);
            ctrl.chunk.encode(out);
            return self.finish(out);
        }
        let Some(peer_tag) = peer_tag else {
            return false;
        };
        self.write_header(out, peer_tag);
        let now = self.now;
        let rto = self.rto.rto();
        let Some(tcb) = self.tcb.as_mut() else {
            return false;
        };
        if tcb.sack_due {
            let room = mtu - COMMON_HEADER_LEN - SACK_FIXED;
            let max_blocks = (room / 4).saturating_sub(32).clamp(1, 128);
            let a_rwnd = tcb.a_rwnd();
            let sack = tcb.recv.sack(a_rwnd, max_blocks);
            Chunk::Sack(sack).encode(out);
            tcb.sack_due = false;
            tcb.data_packets_unacked = 0;
            self.timers[Timer::DelayedAck as usize] = None;
        }
        while let Some(front) = self.ctrl.front() {
            // A chunk larger than the MTU on its own (a HEARTBEAT ACK echoing a big HEARTBEAT)
            // still goes, alone, rather than blocking the queue.
            let fits =
                out.len() + front.chunk.encoded_len() <= mtu || out.len() == COMMON_HEADER_LEN;
            if front.alone || front.tag != peer_tag || !fits {
                break;
            }
            // NOTE(unwrap): front() just returned Some.
            let ctrl = self.ctrl.pop_front().expect("front exists");
            ctrl.chunk.encode(out);
        }
        if self.ctrl.is_empty() && self.ctrl.capacity() > 0 {
            // Control chunks are rare once established (HEARTBEATs, RE-CONFIG), so an idle
            // association keeps no storage for them: 256 of its ~2,000 bytes otherwise.
            drop(core::mem::take(&mut self.ctrl));
        }
        if tcb.forward_tsn_due {
            tcb.forward_tsn_due = false;
            // FORWARD TSN, or I-FORWARD-TSN with I-DATA (RFC 8260 §2.3.1).
            if let Some(chunk) = tcb.send.forward_tsn_chunk() {
                if out.len() + chunk.encoded_len() <= mtu {
                    chunk.encode(out);
                    self.stats.forward_tsns_sent += 1;
                } else {
                    tcb.forward_tsn_due = true;
                }
            }
        }
        if matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        ) {
            let room = mtu.saturating_sub(out.len());
            let payload = mtu - COMMON_HEADER_LEN - DATA_HEADER_LEN;
            let ignore = core::mem::take(&mut tcb.ignore_cwnd_once);
            let written = tcb
                .send
                .write(out, room, now, tcb.cc.cwnd(), ignore, payload);
            if written > 0 && self.timers[Timer::T3 as usize].is_none() {
                self.timers[Timer::T3 as usize] = Some(now + rto);
            }
            for stream in tcb.send.went_low.drain(..) {
                self.events
                    .push_back(super::Event::BufferedAmountLow { stream });
            }
        }
        if out.len() == COMMON_HEADER_LEN {
            out.clear();
            return false;
        }
        if tcb.zero_checksum {
            // RFC 9653 §5.2: packets of an association that negotiated it may carry a zero
            // checksum; INIT, INIT ACK, COOKIE ECHO and out-of-the-blue answers take the
            // other path above and always carry a CRC32c.
            self.stats.packets_sent += 1;
            return true;
        }
        self.finish(out)
    }

    fn write_header(&self, out: &mut Vec<u8>, tag: u32) {
        out.extend_from_slice(&self.config.local_port.to_be_bytes());
        out.extend_from_slice(&self.config.remote_port.to_be_bytes());
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
    }

    /// RFC 9260 §6.8: fills in the CRC32c.
    fn finish(&mut self, out: &mut [u8]) -> bool {
        let sum = checksum(out);
        out[8..12].copy_from_slice(&sum.to_le_bytes());
        self.stats.packets_sent += 1;
        true
    }
}
