//! Stream reset (RFC 6525), the way data channels close (RFC 8831 §6.7): we send Outgoing SSN
//! Reset Requests for our streams and answer the peer's.

use super::{Association, Event, SendError, State, Timer, tsn_lt};
use crate::Instant;
use crate::sctp::chunk::{Chunk, Parameter, Reconfig, ReconfigResult};

/// Our request waiting for its response.
#[derive(Debug, Clone)]
struct Outstanding {
    seq: u32,
    streams: Vec<u16>,
    last_tsn: u32,
}

/// A peer request held until the cumulative TSN reaches its Sender's Last Assigned TSN.
#[derive(Debug, Clone)]
struct Deferred {
    seq: u32,
    last_tsn: u32,
    streams: Vec<u16>,
}

/// RFC 6525 state of one association.
#[derive(Debug, Clone)]
pub(crate) struct ReconfigState {
    supported: bool,
    next_seq: u32,
    outstanding: Option<Outstanding>,
    pending: Vec<u16>,
    peer_next_seq: u32,
    last_response: Option<(u32, ReconfigResult)>,
    deferred: Option<Deferred>,
}

impl ReconfigState {
    /// RFC 6525 §3.1: request sequence numbers start at the initial TSN of each side.
    pub(crate) fn new(my_initial_tsn: u32, peer_initial_tsn: u32, supported: bool) -> Self {
        ReconfigState {
            supported,
            next_seq: my_initial_tsn,
            outstanding: None,
            pending: Vec::new(),
            peer_next_seq: peer_initial_tsn,
            last_response: None,
            deferred: None,
        }
    }

    pub(crate) fn is_resetting(&self, stream: u16) -> bool {
        self.pending.contains(&stream)
            || self
                .outstanding
                .as_ref()
                .is_some_and(|o| o.streams.contains(&stream))
    }
}

fn response(seq: u32, result: ReconfigResult) -> Chunk {
    Chunk::Reconfig(Reconfig {
        params: vec![Parameter::ReconfigResponse {
            response_seq: seq,
            result,
            next_tsns: None,
        }],
    })
}

impl Association {
    /// Resets our outgoing `streams` (RFC 6525 §5.1.2), after the messages queued on them have
    /// been sent: the data channel close of RFC 8831 §6.7. [`Event::StreamReset`] with
    /// `incoming: false` follows when the peer has performed it.
    pub fn reset_streams(&mut self, now: Instant, streams: &[u16]) -> Result<(), SendError> {
        self.now = now;
        if self.state != State::Established {
            return Err(SendError::NotConnected);
        }
        let Some(tcb) = self.tcb.as_mut() else {
            return Err(SendError::NotConnected);
        };
        if !tcb.reconfig.supported {
            return Err(SendError::Unsupported);
        }
        if streams.iter().any(|&s| s >= tcb.outbound_streams) {
            return Err(SendError::InvalidStream);
        }
        for &s in streams {
            if !tcb.reconfig.is_resetting(s) {
                tcb.reconfig.pending.push(s);
            }
        }
        self.progress_reconfig();
        Ok(())
    }

    /// Sends the next request when none is outstanding and its streams have nothing queued.
    pub(super) fn progress_reconfig(&mut self) {
        let rto = self.rto.rto();
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let r = &mut tcb.reconfig;
        if r.outstanding.is_some() || r.pending.is_empty() || tcb.send.has_queued(&r.pending) {
            return;
        }
        let request = Outstanding {
            seq: r.next_seq,
            streams: core::mem::take(&mut r.pending),
            last_tsn: tcb.send.last_assigned_tsn(),
        };
        r.next_seq = r.next_seq.wrapping_add(1);
        let chunk = request_chunk(&request, r.peer_next_seq.wrapping_sub(1));
        r.outstanding = Some(request);
        self.push_ctrl(chunk);
        self.set_timer(Timer::Reconfig, rto);
    }

    /// RFC 6525 §5.1.1: no response in time; send the same request again.
    pub(super) fn on_reconfig_timer(&mut self) {
        let rto = self.rto.rto();
        let Some(tcb) = self.tcb.as_ref() else {
            return;
        };
        let Some(request) = tcb.reconfig.outstanding.as_ref() else {
            return;
        };
        let chunk = request_chunk(request, tcb.reconfig.peer_next_seq.wrapping_sub(1));
        self.push_ctrl(chunk);
        self.set_timer(Timer::Reconfig, rto);
    }

    /// RFC 6525 §5.2: a RE-CONFIG chunk from the peer.
    pub(super) fn on_reconfig(&mut self, reconfig: Reconfig) {
        for param in reconfig.params {
            match param {
                Parameter::OutgoingSsnResetRequest {
                    request_seq,
                    last_tsn,
                    streams,
                    ..
                } => self.on_reset_request(request_seq, last_tsn, streams),
                Parameter::ReconfigResponse {
                    response_seq,
                    result,
                    ..
                } => self.on_reset_response(response_seq, result),
                Parameter::IncomingSsnResetRequest { request_seq, .. }
                | Parameter::SsnTsnResetRequest { request_seq }
                | Parameter::AddOutgoingStreams { request_seq, .. }
                | Parameter::AddIncomingStreams { request_seq, .. } => {
                    // Not needed by data channels: refused (RFC 6525 §5.2.x allow Denied).
                    self.push_ctrl(response(request_seq, ReconfigResult::DENIED));
                }
                _ => self.stats.malformed += 1,
            }
        }
    }

    fn on_reset_request(&mut self, seq: u32, last_tsn: u32, streams: Vec<u16>) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let r = &mut tcb.reconfig;
        if seq != r.peer_next_seq {
            // RFC 6525 §5.2.1: a retransmission gets the answer it got before.
            let result = match r.last_response {
                Some((last, result)) if last == seq => result,
                _ => ReconfigResult::ERROR_BAD_SEQUENCE_NUMBER,
            };
            self.push_ctrl(response(seq, result));
            return;
        }
        if tsn_lt(tcb.recv.cum_tsn(), last_tsn) {
            // RFC 6525 §5.2.2: data before the reset is still missing; perform it later.
            r.deferred = Some(Deferred {
                seq,
                last_tsn,
                streams,
            });
            self.push_ctrl(response(seq, ReconfigResult::IN_PROGRESS));
            return;
        }
        self.perform_incoming_reset(seq, streams);
    }

    fn perform_incoming_reset(&mut self, seq: u32, streams: Vec<u16>) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        tcb.reasm.reset(&streams);
        tcb.ireasm.reset(&streams);
        tcb.reconfig.peer_next_seq = seq.wrapping_add(1);
        tcb.reconfig.last_response = Some((seq, ReconfigResult::SUCCESS_PERFORMED));
        tcb.reconfig.deferred = None;
        self.push_ctrl(response(seq, ReconfigResult::SUCCESS_PERFORMED));
        self.events.push_back(Event::StreamReset {
            streams,
            incoming: true,
        });
    }

    /// A deferred peer request whose data has now all arrived.
    pub(super) fn progress_incoming_reset(&mut self) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let ready = tcb
            .reconfig
            .deferred
            .as_ref()
            .is_some_and(|d| !tsn_lt(tcb.recv.cum_tsn(), d.last_tsn));
        if ready && let Some(d) = tcb.reconfig.deferred.take() {
            self.perform_incoming_reset(d.seq, d.streams);
        }
    }

    fn on_reset_response(&mut self, seq: u32, result: ReconfigResult) {
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        let Some(request) = tcb.reconfig.outstanding.as_ref() else {
            return;
        };
        if request.seq != seq || result == ReconfigResult::IN_PROGRESS {
            // In progress: the timer sends the request again.
            return;
        }
        let Some(request) = tcb.reconfig.outstanding.take() else {
            return;
        };
        self.timers[Timer::Reconfig as usize] = None;
        if matches!(
            result,
            ReconfigResult::SUCCESS_PERFORMED | ReconfigResult::SUCCESS_NOTHING_TO_DO
        ) {
            // RFC 6525 §5.1.2: the reset streams start again at SSN 0.
            for s in &request.streams {
                tcb.send.reset_stream(*s);
            }
            self.events.push_back(Event::StreamReset {
                streams: request.streams,
                incoming: false,
            });
        } else {
            tracing::debug!(?result, "SCTP: stream reset refused");
        }
        let _ = request.last_tsn;
    }
}

fn request_chunk(request: &Outstanding, response_seq: u32) -> Chunk {
    Chunk::Reconfig(Reconfig {
        params: vec![Parameter::OutgoingSsnResetRequest {
            request_seq: request.seq,
            response_seq,
            last_tsn: request.last_tsn,
            streams: request.streams.clone(),
        }],
    })
}
