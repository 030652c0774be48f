//! Packets that arrive (RFC 9260 §8.5 verification tags, §8.4 out-of-the-blue packets, §6.2
//! DATA, §6.2.1 SACK, §8.3 HEARTBEAT, RFC 3758 §3.6 FORWARD TSN, RFC 8260 I-DATA and
//! I-FORWARD-TSN).

use super::interleave::IFragment;
use super::reassembly::Fragment;
use super::sack_gen::TsnClass;
use super::{Association, CloseReason, Ctrl, State, Timer};
use crate::Instant;
use crate::sctp::chunk::{
    Abort, Chunk, ChunkType, Data, ErrorCause, ForwardTsn, Heartbeat, IData, IForwardTsn,
    OperationError, Sack, ShutdownComplete,
};

/// Fragments and waiting messages an I-DATA receiver holds at most (each is an allocation;
/// the bytes are bounded by the receive window), like the 65,535 TSNs DATA may run ahead.
const MAX_IDATA_ENTRIES: usize = 65_536;
use crate::sctp::packet::PacketView;

impl Association {
    /// One SCTP packet from the lower layer (the DTLS application data, RFC 8261). Malformed
    /// or unauthenticated packets are dropped and counted in [`stats`](Self::stats).
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        self.now = now;
        self.stats.packets_received += 1;
        let Ok(view) = PacketView::new_checked(packet) else {
            self.stats.malformed += 1;
            return;
        };
        // RFC 9653 §5.3: having announced it, we accept a zero checksum (DTLS protects the
        // packet); any other value must be the right CRC32c.
        let zero_ok = self.config.zero_checksum && view.header().checksum == 0;
        if !zero_ok && view.verify_checksum().is_err() {
            self.stats.bad_checksum += 1;
            tracing::trace!("SCTP: bad checksum");
            return;
        }
        let header = view.header();
        if header.destination_port != self.config.local_port
            || header.source_port != self.config.remote_port
        {
            self.stats.bad_tag += 1;
            return;
        }
        let tag = header.verification_tag;
        let mut data_seen = false;
        let mut immediate = false;
        let had_gaps = self.tcb.as_ref().is_some_and(|t| t.recv.has_gaps());
        for (index, raw) in view.chunks().enumerate() {
            let Ok(raw) = raw else {
                self.stats.malformed += 1;
                break;
            };
            // RFC 9260 §8.5.1: INIT carries tag zero and travels alone; ABORT and SHUTDOWN
            // COMPLETE may reflect the sender's own tag (T bit); COOKIE ECHO is checked
            // against its cookie; everything else carries our tag.
            let chunk_type = raw.chunk_type;
            let tag_ok = match chunk_type {
                ChunkType::INIT => tag == 0 && index == 0,
                ChunkType::COOKIE_ECHO => true,
                ChunkType::ABORT | ChunkType::SHUTDOWN_COMPLETE if raw.flags & 1 != 0 => {
                    Some(tag) == self.peer_tag()
                }
                ChunkType::SHUTDOWN_ACK if self.tcb.is_none() => true,
                _ => Some(tag) == self.my_tag(),
            };
            if !tag_ok {
                self.stats.bad_tag += 1;
                if index == 0 && self.state == State::Closed {
                    self.out_of_the_blue(tag, chunk_type);
                }
                break;
            }
            if chunk_type == ChunkType::COOKIE_ECHO {
                if !self.on_cookie_echo(tag, raw.value) {
                    break;
                }
                continue;
            }
            if chunk_type == ChunkType::DATA || chunk_type == ChunkType::I_DATA {
                data_seen = true;
                if raw.flags & 0x08 != 0 {
                    immediate = true;
                }
            }
            let chunk = match raw.parse() {
                Ok(chunk) => chunk,
                Err(error) => {
                    self.stats.malformed += 1;
                    tracing::debug!(%error, "SCTP: malformed chunk");
                    break;
                }
            };
            if !self.on_chunk(chunk, raw.raw) {
                break;
            }
            if self.state == State::Terminated {
                return;
            }
        }
        if data_seen {
            self.after_data(had_gaps, immediate);
        }
        self.after_input();
    }

    fn my_tag(&self) -> Option<u32> {
        match (&self.tcb, self.state) {
            (Some(tcb), _) => Some(tcb.my_tag),
            (None, State::CookieWait | State::CookieEchoed) => Some(self.hs.my_tag),
            _ => None,
        }
    }

    fn peer_tag(&self) -> Option<u32> {
        match (&self.tcb, &self.hs.cookie) {
            (Some(tcb), _) => Some(tcb.peer_tag),
            (None, Some((peer, _))) => Some(*peer),
            _ => None,
        }
    }

    /// RFC 9260 §8.4: a packet for no association.
    fn out_of_the_blue(&mut self, tag: u32, first: ChunkType) {
        match first {
            ChunkType::ABORT | ChunkType::SHUTDOWN_COMPLETE | ChunkType::INIT => {}
            // §8.4 step 5: SHUTDOWN ACK is answered with a reflected SHUTDOWN COMPLETE.
            ChunkType::SHUTDOWN_ACK => self.ctrl.push_back(Ctrl {
                tag,
                chunk: Chunk::ShutdownComplete(ShutdownComplete {
                    tag_reflected: true,
                }),
                alone: true,
            }),
            // §8.4 step 8: anything else gets an ABORT with the T bit.
            _ => {
                if self.ctrl.len() < 16 {
                    self.ctrl.push_back(Ctrl {
                        tag,
                        chunk: Chunk::Abort(Abort {
                            tag_reflected: true,
                            causes: Vec::new(),
                        }),
                        alone: true,
                    });
                }
            }
        }
    }

    /// One chunk that passed the tag check. Returns false to stop processing the packet.
    fn on_chunk(&mut self, chunk: Chunk, raw: &[u8]) -> bool {
        match chunk {
            Chunk::Init(init) => {
                self.on_init(&init);
                false
            }
            Chunk::InitAck(ack) => {
                self.on_init_ack(&ack);
                false
            }
            Chunk::CookieAck => {
                self.on_cookie_ack();
                true
            }
            Chunk::Data(data) => {
                self.on_data(data);
                true
            }
            Chunk::IData(data) => {
                self.on_idata(data);
                true
            }
            Chunk::Sack(sack) => {
                self.on_sack(&sack);
                true
            }
            Chunk::Heartbeat(hb) => {
                self.push_ctrl(Chunk::HeartbeatAck(hb));
                true
            }
            Chunk::HeartbeatAck(hb) => {
                self.on_heartbeat_ack(&hb);
                true
            }
            Chunk::Abort(_) => {
                // RFC 9260 §9.1: the peer aborted.
                self.tcb = None;
                self.terminate(CloseReason::PeerAbort, false);
                false
            }
            Chunk::Shutdown(s) => {
                self.on_shutdown(&s);
                true
            }
            Chunk::ShutdownAck => {
                if self.tcb.is_none() {
                    let tag = self.hs.cookie.as_ref().map_or(0, |c| c.0);
                    self.out_of_the_blue(tag, ChunkType::SHUTDOWN_ACK);
                    return false;
                }
                self.on_shutdown_ack();
                false
            }
            Chunk::ShutdownComplete(_) => {
                self.on_shutdown_complete();
                false
            }
            Chunk::Error(e) => {
                tracing::debug!(causes = ?e.causes, "SCTP: peer reported an error");
                let stale = e.causes.iter().find_map(|c| match c {
                    ErrorCause::StaleCookie(usec) => Some(*usec),
                    _ => None,
                });
                if let Some(usec) = stale {
                    self.on_stale_cookie(usec);
                }
                true
            }
            Chunk::ForwardTsn(f) => {
                self.on_forward_tsn(&f);
                true
            }
            Chunk::IForwardTsn(f) => {
                self.on_iforward_tsn(&f);
                true
            }
            Chunk::Reconfig(r) => {
                self.on_reconfig(r);
                true
            }
            Chunk::CookieEcho(_) => true,
            Chunk::Unknown(u) => {
                // RFC 9260 §3.2: the upper two bits of the type say what to do.
                let action = u.chunk_type.unknown_action();
                if action.reports() && self.tcb.is_some() {
                    self.push_ctrl(Chunk::Error(OperationError {
                        causes: vec![ErrorCause::UnrecognizedChunkType(raw.to_vec())],
                    }));
                }
                action.continues()
            }
        }
    }

    /// RFC 9260 §6.2: the checks every DATA or I-DATA chunk passes. Returns the unwrapped
    /// TSN when the chunk is new, fits, and belongs to a valid stream; `idata` says which
    /// kind it is, which must be the one negotiated.
    fn accept_data(&mut self, tsn: u32, stream: u16, len: usize, idata: bool) -> Option<u64> {
        if !matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownSent
        ) {
            return None;
        }
        let tcb = self.tcb.as_mut()?;
        if idata != tcb.interleaving {
            // RFC 8260 §2.2.1: with I-DATA negotiated DATA must not be used, and without it
            // I-DATA must not; the peer broke the agreement.
            tracing::debug!(idata, "SCTP: user data chunk of the wrong kind");
            self.stats.malformed += 1;
            self.terminate(CloseReason::ProtocolViolation, true);
            return None;
        }
        if len == 0 {
            // §6.2 (RFC 8260 §2.1 likewise): no user data aborts the association.
            self.terminate(CloseReason::ProtocolViolation, true);
            return None;
        }
        let t = match tcb.recv.classify(tsn) {
            TsnClass::New(t) => t,
            TsnClass::Duplicate => {
                self.stats.duplicate_data += 1;
                tcb.sack_due = true;
                return None;
            }
            TsnClass::TooFar => {
                self.stats.dropped_data += 1;
                return None;
            }
        };
        // With I-DATA, fragments below the cumulative TSN stay until their message is whole,
        // so their number is bounded too; the next TSN in line is still taken so the
        // cumulative TSN can move.
        let crowded = idata && tcb.ireasm.entries() >= MAX_IDATA_ENTRIES && t != tcb.recv.cum() + 1;
        if tcb.held() + len > tcb.capacity || crowded {
            // §6.2: no room; drop it unacknowledged, the sender retransmits.
            self.stats.dropped_data += 1;
            return None;
        }
        tcb.recv.record(t);
        if stream >= tcb.inbound_streams {
            // §6.4: acknowledge but drop, and report the invalid stream.
            let cause = ErrorCause::InvalidStreamIdentifier(stream);
            self.push_ctrl(Chunk::Error(OperationError {
                causes: vec![cause],
            }));
            return None;
        }
        Some(t)
    }

    /// RFC 9260 §6.2: one DATA chunk.
    fn on_data(&mut self, data: Data) {
        let Some(t) = self.accept_data(data.tsn, data.stream_id, data.payload.len(), false) else {
            return;
        };
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let fragment = Fragment {
            stream: data.stream_id,
            ssn: data.ssn,
            ppid: data.ppid,
            unordered: data.unordered,
            beginning: data.beginning,
            ending: data.ending,
            payload: data.payload,
        };
        if tcb.reasm.insert(t, fragment, &mut self.events).is_err() {
            self.terminate(CloseReason::ProtocolViolation, true);
        }
    }

    /// RFC 8260 §2.2.3: one I-DATA chunk, reassembled by (stream, U bit, MID).
    fn on_idata(&mut self, data: IData) {
        if self
            .accept_data(data.tsn, data.stream_id, data.payload.len(), true)
            .is_none()
        {
            return;
        }
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let fragment = IFragment {
            stream: data.stream_id,
            unordered: data.unordered,
            mid: data.mid,
            fsn: data.fsn,
            ppid: data.ppid,
            beginning: data.beginning,
            ending: data.ending,
            payload: data.payload,
        };
        if tcb.ireasm.insert(fragment, &mut self.events).is_err() {
            self.terminate(CloseReason::ProtocolViolation, true);
        }
    }

    /// After a packet with DATA: join fragments, then decide when to SACK (RFC 9260 §6.2:
    /// at least every second packet, at once on gaps, duplicates or a filled gap, otherwise
    /// within the delayed-ack time).
    fn after_data(&mut self, had_gaps: bool, immediate: bool) {
        let delay = self.config.delayed_ack;
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let cum = tcb.recv.cum();
        if tcb.reasm.drain(cum, &mut self.events).is_err() {
            self.terminate(CloseReason::ProtocolViolation, true);
            return;
        }
        tcb.data_packets_unacked += 1;
        if had_gaps
            || tcb.recv.has_gaps()
            || tcb.recv.has_dups()
            || immediate
            || tcb.data_packets_unacked >= 2
            || self.state != State::Established
        {
            tcb.sack_due = true;
        } else if !self.timer_running(Timer::DelayedAck) {
            self.set_timer(Timer::DelayedAck, delay);
        }
        self.progress_incoming_reset();
    }

    /// RFC 9260 §6.2.1.
    fn on_sack(&mut self, sack: &Sack) {
        let now = self.now;
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        match tcb.send.on_sack(sack, now, &mut self.rto, &mut tcb.cc) {
            Ok(outcome) => {
                if outcome.cum_advanced {
                    // §8.1: an acknowledgement clears the error counter; §6.3.2 R3: restart T3.
                    tcb.error_count = 0;
                    self.timers[Timer::T3 as usize] = None;
                }
                if outcome.fast_retransmit {
                    self.stats.fast_retransmits += 1;
                    tcb.ignore_cwnd_once = true;
                }
                if tcb.peer_forward_tsn && tcb.send.forward_tsn().is_some() {
                    tcb.forward_tsn_due = true;
                }
            }
            Err(error) => tracing::trace!(?error, "SCTP: SACK ignored"),
        }
    }

    /// RFC 9260 §9.2: SHUTDOWN carries a cumulative TSN ack that acts like a SACK without
    /// gap blocks.
    pub(super) fn ack_from_shutdown(&mut self, cum: u32) {
        let Some(tcb) = self.tcb.as_ref() else {
            return;
        };
        if super::tsn_lt(tcb.send.cum_ack, cum) {
            let sack = Sack {
                cumulative_tsn_ack: cum,
                a_rwnd: tcb.send.peer_rwnd.saturating_add(tcb.send.flight),
                gap_ack_blocks: Vec::new(),
                duplicate_tsns: Vec::new(),
            };
            self.on_sack(&sack);
        }
    }

    /// RFC 9260 §8.3: a HEARTBEAT ACK for our outstanding HEARTBEAT clears the error count
    /// and times the round trip.
    fn on_heartbeat_ack(&mut self, hb: &Heartbeat) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let (Some(nonce), Some(n), Some(t)) = (tcb.heartbeat, hb.info.get(..8), hb.info.get(8..16))
        else {
            return;
        };
        let mut b = [0; 8];
        b.copy_from_slice(n);
        if u64::from_be_bytes(b) != nonce {
            return;
        }
        b.copy_from_slice(t);
        tcb.heartbeat = None;
        tcb.error_count = 0;
        let sent = Instant::from_nanos(u64::from_be_bytes(b));
        self.rto.measure(self.now.saturating_duration_since(sent));
    }

    /// RFC 3758 §3.6: FORWARD TSN.
    fn on_forward_tsn(&mut self, f: &ForwardTsn) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        if tcb.interleaving {
            // RFC 8260 §2.3.1: with I-DATA only I-FORWARD-TSN can name the skipped messages.
            self.stats.malformed += 1;
            return;
        }
        tcb.sack_due = true;
        let point = tcb.recv.unwrap(f.new_cumulative_tsn);
        if let Some(cum) = tcb.recv.forward(f.new_cumulative_tsn) {
            // Fragments up to the point are abandoned; those beyond it that the advance
            // brought below the cumulative TSN are joined by the drain.
            tcb.reasm.forward(point, &f.streams, &mut self.events);
            if tcb.reasm.drain(cum, &mut self.events).is_err() {
                self.terminate(CloseReason::ProtocolViolation, true);
            }
        }
    }

    /// RFC 8260 §2.3.1: I-FORWARD-TSN moves the cumulative TSN like FORWARD TSN and names
    /// the skipped messages by stream, U bit and MID.
    fn on_iforward_tsn(&mut self, f: &IForwardTsn) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        if !tcb.interleaving {
            // Without I-DATA there are no MIDs to skip; FORWARD TSN is the chunk to use.
            self.stats.malformed += 1;
            return;
        }
        tcb.sack_due = true;
        if tcb.recv.forward(f.new_cumulative_tsn).is_some() {
            tcb.ireasm.forward(&f.skipped, &mut self.events);
        }
    }
}
