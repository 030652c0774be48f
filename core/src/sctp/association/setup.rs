//! Association setup and teardown: the four-way handshake with its state cookie (RFC 9260
//! §5.1, §5.2 for collisions and restarts), the SHUTDOWN sequence (§9.2) and ABORT (§9.1).

use super::cookie::{CookieError, CookieState};
use super::{
    Association, CloseReason, Ctrl, Event, Handshake, State, Tcb, Timer, congestion::Congestion,
    interleave::Interleaved, reassembly::Reassembly, reconfig::ReconfigState, sack_gen::RecvTsns,
    send_queue::SendQueue,
};
use crate::sctp::chunk::{
    Chunk, CookieEcho, ErrorCause, Init, OperationError, Parameter, Shutdown,
};

/// RFC 3758 §3.1 (bit 0) and RFC 6525 §3.1 (bit 1) in [`CookieState::features`].
const FEATURE_FORWARD_TSN: u8 = 1;
const FEATURE_RECONFIG: u8 = 2;
/// RFC 9653 §5.1 (bit 2): the peer accepts zero checksums over DTLS.
const FEATURE_ZERO_CHECKSUM: u8 = 4;
/// RFC 8260 §2.2.1 (bit 3): the peer lists I-DATA among its supported extensions; RFC 8260
/// §2.3.1 (bit 4): and I-FORWARD-TSN.
const FEATURE_I_DATA: u8 = 8;
const FEATURE_I_FORWARD_TSN: u8 = 16;
/// RFC 9653 §5.1: the Zero Checksum Acceptable parameter type.
const ZERO_CHECKSUM_ACCEPTABLE: u16 = 0x8001;
/// RFC 9653 §7: Error Detection Method Identifier 1, SCTP over DTLS.
const EDMID_DTLS: u32 = 1;

/// The most extra cookie life (milliseconds) a peer's Cookie Preservative obtains.
const MAX_PRESERVATIVE_MS: u32 = 10_000;

/// A non-zero random tag (RFC 9260 §5.3.1: zero is reserved for INIT).
fn random_tag(rng: &mut crate::Rng) -> u32 {
    loop {
        let tag = rng.next_u32();
        if tag != 0 {
            return tag;
        }
    }
}

impl Association {
    /// Starts the association (RFC 9260 §5.1 A): sends INIT and enters COOKIE-WAIT. Both
    /// WebRTC peers may call this; the collision resolves by §5.2.1.
    pub fn connect(&mut self, now: Instant) {
        self.now = now;
        if self.state != State::Closed {
            return;
        }
        self.hs = Handshake {
            my_tag: random_tag(&mut self.rng),
            my_initial_tsn: self.rng.next_u32(),
            ..Handshake::default()
        };
        self.state = State::CookieWait;
        self.send_init();
    }

    fn our_init(&self, tag: u32, initial_tsn: u32) -> Init {
        let mut extensions = vec![
            crate::sctp::ChunkType::FORWARD_TSN,
            crate::sctp::ChunkType::RECONFIG,
        ];
        if self.config.interleaving {
            // RFC 8260 §2.2.1, §2.3.1: I-DATA (and I-FORWARD-TSN, as we support RFC 3758)
            // are offered through the Supported Extensions parameter.
            extensions.push(crate::sctp::ChunkType::I_DATA);
            extensions.push(crate::sctp::ChunkType::I_FORWARD_TSN);
        }
        let mut params = vec![
            Parameter::ForwardTsnSupported,
            Parameter::SupportedExtensions(extensions),
        ];
        if self.config.zero_checksum {
            params.push(Parameter::Unknown {
                param_type: crate::sctp::chunk::ParameterType(ZERO_CHECKSUM_ACCEPTABLE),
                value: EDMID_DTLS.to_be_bytes().to_vec(),
            });
        }
        Init {
            initiate_tag: tag,
            a_rwnd: self.capacity() as u32,
            outbound_streams: self.config.streams,
            inbound_streams: self.config.streams,
            initial_tsn,
            params,
        }
    }

    /// Receive buffer: the configured window, but at least one maximum message plus slack,
    /// since a message is only delivered whole.
    pub(super) fn capacity(&self) -> usize {
        (self.config.receive_window as usize)
            .max(self.config.max_message_size + 64 * 1024)
            .min(u32::MAX as usize)
    }

    fn send_init(&mut self) {
        let mut init = self.our_init(self.hs.my_tag, self.hs.my_initial_tsn);
        if let Some(ms) = self.hs.preserve_ms {
            init.params.push(Parameter::CookiePreservative(ms));
        }
        self.ctrl.push_back(Ctrl {
            tag: 0,
            chunk: Chunk::Init(init),
            alone: true,
        });
        let rto = self.rto.rto();
        self.set_timer(Timer::T1, rto);
    }

    /// RFC 9260 §5.1 (T1-init, T1-cookie expiry): resend with backoff, give up after
    /// Max.Init.Retransmits.
    pub(super) fn on_t1(&mut self) {
        if !matches!(self.state, State::CookieWait | State::CookieEchoed) {
            return;
        }
        self.hs.retries += 1;
        if self.hs.retries > self.config.max_init_retransmissions {
            self.terminate(CloseReason::Timeout, false);
            return;
        }
        self.rto.back_off();
        match &self.hs.cookie {
            Some((peer_tag, cookie)) if self.state == State::CookieEchoed => {
                let chunk = Chunk::CookieEcho(CookieEcho {
                    cookie: cookie.clone(),
                });
                let tag = *peer_tag;
                self.ctrl.push_back(Ctrl {
                    tag,
                    chunk,
                    alone: true,
                });
                self.hs.echo_sent = self.now;
                let rto = self.rto.rto();
                self.set_timer(Timer::T1, rto);
            }
            _ => self.send_init(),
        }
    }

    /// RFC 9260 §5.2.6: the peer found our COOKIE ECHO stale. We start again with a new
    /// INIT asking, through a Cookie Preservative, for the measured round trip plus the
    /// staleness (at most one second of it) more life. Each attempt counts against
    /// Max.Init.Retransmits.
    pub(super) fn on_stale_cookie(&mut self, staleness_usec: u32) {
        if self.state != State::CookieEchoed {
            return;
        }
        self.hs.retries += 1;
        if self.hs.retries > self.config.max_init_retransmissions {
            self.terminate(CloseReason::Timeout, false);
            return;
        }
        let rtt = self.now.saturating_duration_since(self.hs.echo_sent);
        let extra = core::time::Duration::from_micros(u64::from(staleness_usec))
            .min(core::time::Duration::from_secs(1));
        let ms = u32::try_from((rtt + extra).as_millis() + 1).unwrap_or(u32::MAX);
        self.hs.preserve_ms = Some(ms);
        self.hs.cookie = None;
        self.hs.peer_init = None;
        self.ctrl
            .retain(|c| !matches!(c.chunk, Chunk::CookieEcho(_)));
        self.state = State::CookieWait;
        self.send_init();
    }

    /// RFC 9260 §5.1 B, §5.2.1, §5.2.2: answer an INIT with an INIT ACK carrying a cookie.
    pub(super) fn on_init(&mut self, init: &Init) {
        if init.initiate_tag == 0 {
            // §3.3.2: a zero Initiate Tag is invalid; the INIT is dropped.
            self.stats.malformed += 1;
            return;
        }
        let (my_tag, my_tsn, tie_tags) = match (self.state, self.tcb.as_ref()) {
            // §5.2.1: INIT collision during setup: answer with the parameters of our own INIT.
            (State::CookieWait | State::CookieEchoed, _) => {
                (self.hs.my_tag, self.hs.my_initial_tsn, (0, 0))
            }
            // §5.2.2: an INIT in an established association (a restart, or a late INIT): new
            // tags, with the current ones as tie-tags.
            (_, Some(tcb)) => (
                random_tag(&mut self.rng),
                self.rng.next_u32(),
                (tcb.my_tag, tcb.peer_tag),
            ),
            _ => (random_tag(&mut self.rng), self.rng.next_u32(), (0, 0)),
        };
        if matches!(self.state, State::ShutdownAckSent) {
            // §9.2: an INIT while SHUTDOWN ACK is outstanding is answered by SHUTDOWN ACK.
            return;
        }
        let features = peer_features(init);
        let state = CookieState {
            created: self.now,
            my_tag,
            my_initial_tsn: my_tsn,
            peer_tag: init.initiate_tag,
            peer_initial_tsn: init.initial_tsn,
            peer_rwnd: init.a_rwnd,
            outbound_streams: self.config.streams.min(init.inbound_streams),
            inbound_streams: self.config.streams.min(init.outbound_streams),
            features,
            tie_tags,
            // RFC 9260 §5.1.3: a Cookie Preservative asks for a longer life; granted up to
            // MAX_PRESERVATIVE_MS, since long-lived cookies invite replays.
            extra_life_ms: init
                .params
                .iter()
                .find_map(|p| match p {
                    Parameter::CookiePreservative(ms) => Some(*ms),
                    _ => None,
                })
                .unwrap_or(0)
                .min(MAX_PRESERVATIVE_MS),
        };
        let mut ack = self.our_init(my_tag, my_tsn);
        ack.params
            .push(Parameter::StateCookie(self.secret.make(&state)));
        self.ctrl.push_back(Ctrl {
            tag: init.initiate_tag,
            chunk: Chunk::InitAck(ack),
            alone: true,
        });
    }

    /// RFC 9260 §5.1 C: the INIT ACK in COOKIE-WAIT: echo its cookie.
    pub(super) fn on_init_ack(&mut self, ack: &Init) {
        if self.state != State::CookieWait {
            // §5.2.3: an unexpected INIT ACK is discarded.
            return;
        }
        let Some(cookie) = ack.state_cookie() else {
            // §5.1: a mandatory parameter is missing; report and keep waiting.
            self.ctrl.push_back(Ctrl {
                tag: ack.initiate_tag,
                chunk: Chunk::Error(OperationError {
                    causes: vec![ErrorCause::MissingMandatoryParameter(vec![7])],
                }),
                alone: false,
            });
            return;
        };
        if ack.initiate_tag == 0 {
            self.stats.malformed += 1;
            return;
        }
        let cookie = cookie.to_vec();
        self.hs.cookie = Some((ack.initiate_tag, cookie.clone()));
        self.ctrl.retain(|c| !matches!(c.chunk, Chunk::Init(_)));
        self.ctrl.push_back(Ctrl {
            tag: ack.initiate_tag,
            chunk: Chunk::CookieEcho(CookieEcho { cookie }),
            alone: true,
        });
        self.state = State::CookieEchoed;
        self.hs.retries = 0;
        self.hs.echo_sent = self.now;
        // §5.1 C: T1-cookie starts at the current RTO.
        let rto = self.rto.rto();
        self.set_timer(Timer::T1, rto);
        // Remember what the peer told us for the TCB the COOKIE ACK will create.
        self.hs.peer_init = Some(ack.clone());
    }

    /// RFC 9260 §5.1 E: COOKIE ACK in COOKIE-ECHOED: established.
    pub(super) fn on_cookie_ack(&mut self) {
        if self.state != State::CookieEchoed {
            return;
        }
        let Some(ack) = self.hs.peer_init.take() else {
            return;
        };
        let features = peer_features(&ack);
        let state = CookieState {
            created: self.now,
            my_tag: self.hs.my_tag,
            my_initial_tsn: self.hs.my_initial_tsn,
            peer_tag: ack.initiate_tag,
            peer_initial_tsn: ack.initial_tsn,
            peer_rwnd: ack.a_rwnd,
            outbound_streams: self.config.streams.min(ack.inbound_streams),
            inbound_streams: self.config.streams.min(ack.outbound_streams),
            features,
            tie_tags: (0, 0),
            extra_life_ms: 0,
        };
        self.establish(&state);
    }

    /// RFC 9260 §5.1 D and §5.2.4: a COOKIE ECHO. `tag` is the packet's verification tag.
    /// Returns whether the packet may go on to its other chunks.
    pub(super) fn on_cookie_echo(&mut self, tag: u32, cookie: &[u8]) -> bool {
        let state = match self
            .secret
            .open(cookie, self.now, self.config.cookie_lifetime)
        {
            Ok(state) => state,
            Err(error) => {
                self.stats.bad_cookies += 1;
                tracing::debug!(?error, "SCTP: COOKIE ECHO refused");
                // §5.1.5 step 3: a cookie with a good MAC past its life is reported in a
                // Stale Cookie ERROR, under the peer's tag the cookie carries; the staleness
                // is in microseconds. Bounded like other answers to packets without an
                // association.
                if let CookieError::Stale { by, peer_tag } = error
                    && self.ctrl.len() < 16
                {
                    let usec = u32::try_from(by.as_micros()).unwrap_or(u32::MAX);
                    self.ctrl.push_back(Ctrl {
                        tag: peer_tag,
                        chunk: Chunk::Error(OperationError {
                            causes: vec![ErrorCause::StaleCookie(usec)],
                        }),
                        alone: true,
                    });
                }
                return false;
            }
        };
        if tag != state.my_tag {
            // §5.1.5 step 2 relies on the tag matching the cookie's.
            self.stats.bad_tag += 1;
            return false;
        }
        match self.tcb.as_ref() {
            None => {
                if matches!(self.state, State::Terminated) {
                    return false;
                }
                self.establish(&state);
                self.push_ctrl(Chunk::CookieAck);
                true
            }
            Some(tcb) => {
                let my_match = tcb.my_tag == state.my_tag;
                let peer_match = tcb.peer_tag == state.peer_tag;
                if my_match && peer_match {
                    // §5.2.4 D: a retransmitted COOKIE ECHO; acknowledge again.
                    self.push_ctrl(Chunk::CookieAck);
                    true
                } else if !my_match && !peer_match && state.tie_tags == (tcb.my_tag, tcb.peer_tag) {
                    // §5.2.4 A: the peer restarted.
                    tracing::debug!("SCTP: peer restart detected");
                    self.events.push_back(Event::Restarted);
                    self.establish(&state);
                    self.push_ctrl(Chunk::CookieAck);
                    true
                } else if my_match && !peer_match {
                    // §5.2.4 B: setup collision; take the peer's new tag.
                    self.establish(&state);
                    self.push_ctrl(Chunk::CookieAck);
                    true
                } else {
                    // §5.2.4 C and the rest: silently discarded.
                    false
                }
            }
        }
    }

    /// Builds the TCB from what both sides announced and enters ESTABLISHED.
    fn establish(&mut self, s: &CookieState) {
        let capacity = self.capacity();
        let mtu = self.config.mtu as u32;
        let was_established = self.tcb.is_some();
        // RFC 8260 §2.2.1: I-DATA when both offered it, DATA otherwise; §2.3.1: then partial
        // reliability needs I-FORWARD-TSN, as FORWARD TSN cannot name MIDs.
        let interleaving = self.config.interleaving && s.features & FEATURE_I_DATA != 0;
        let peer_forward_tsn = s.features & FEATURE_FORWARD_TSN != 0
            && (!interleaving || s.features & FEATURE_I_FORWARD_TSN != 0);
        let mut send = SendQueue::new(s.my_initial_tsn, s.peer_rwnd);
        send.interleaving = interleaving;
        self.tcb = Some(Box::new(Tcb {
            my_tag: s.my_tag,
            peer_tag: s.peer_tag,
            send,
            recv: RecvTsns::new(s.peer_initial_tsn),
            reasm: Reassembly::new(self.config.max_message_size),
            ireasm: Interleaved::new(self.config.max_message_size),
            interleaving,
            cc: Congestion::new(mtu, s.peer_rwnd),
            outbound_streams: s.outbound_streams,
            inbound_streams: s.inbound_streams,
            peer_forward_tsn,
            zero_checksum: self.config.zero_checksum && s.features & FEATURE_ZERO_CHECKSUM != 0,
            capacity,
            sack_due: false,
            data_packets_unacked: 0,
            forward_tsn_due: false,
            ignore_cwnd_once: false,
            error_count: 0,
            heartbeat: None,
            reconfig: ReconfigState::new(
                s.my_initial_tsn,
                s.peer_initial_tsn,
                s.features & FEATURE_RECONFIG != 0,
            ),
        }));
        self.ctrl.retain(|c| {
            !matches!(
                c.chunk,
                Chunk::Init(_) | Chunk::CookieEcho(_) | Chunk::InitAck(_)
            )
        });
        self.stop_timer(Timer::T1);
        self.stop_timer(Timer::T3);
        self.state = State::Established;
        let interval = self.config.heartbeat_interval + self.rto.rto();
        self.set_timer(Timer::Heartbeat, interval);
        if !was_established || !self.events.contains(&Event::Connected) {
            self.events.push_back(Event::Connected);
        }
    }

    /// Starts the graceful shutdown (RFC 9260 §9.2): queued data is still delivered, then
    /// SHUTDOWN goes out. [`Event::Closed`] follows when the peer has agreed.
    pub fn close(&mut self, now: Instant) {
        self.now = now;
        match self.state {
            State::Established => {
                self.state = State::ShutdownPending;
                self.progress_shutdown();
            }
            State::Closed | State::CookieWait | State::CookieEchoed => {
                self.terminate(CloseReason::Shutdown, false);
            }
            _ => {}
        }
    }

    /// RFC 9260 §9.2: SHUTDOWN (or SHUTDOWN ACK) once nothing is outstanding.
    pub(super) fn progress_shutdown(&mut self) {
        let Some(tcb) = self.tcb.as_ref() else {
            return;
        };
        if !tcb.send.is_idle() {
            return;
        }
        match self.state {
            State::ShutdownPending => {
                self.state = State::ShutdownSent;
                self.send_shutdown();
            }
            State::ShutdownReceived => {
                self.state = State::ShutdownAckSent;
                self.send_shutdown();
            }
            _ => {}
        }
    }

    fn send_shutdown(&mut self) {
        let Some(tcb) = self.tcb.as_ref() else {
            return;
        };
        let chunk = match self.state {
            State::ShutdownSent => Chunk::Shutdown(Shutdown {
                cumulative_tsn_ack: tcb.recv.cum_tsn(),
            }),
            _ => Chunk::ShutdownAck,
        };
        self.push_ctrl(chunk);
        let rto = self.rto.rto();
        self.set_timer(Timer::T2, rto);
    }

    /// RFC 9260 §9.2: T2-shutdown expired.
    pub(super) fn on_t2(&mut self) {
        if !matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            return;
        }
        let max = self.config.max_retransmissions;
        if let Some(tcb) = self.tcb.as_mut() {
            tcb.error_count += 1;
            if tcb.error_count > max {
                self.terminate(CloseReason::Timeout, true);
                return;
            }
        }
        self.rto.back_off();
        self.send_shutdown();
    }

    /// RFC 9260 §9.2: SHUTDOWN received.
    pub(super) fn on_shutdown(&mut self, shutdown: &Shutdown) {
        self.ack_from_shutdown(shutdown.cumulative_tsn_ack);
        match self.state {
            State::Established | State::ShutdownPending => {
                self.state = State::ShutdownReceived;
                self.progress_shutdown();
            }
            State::ShutdownSent => {
                // §9.2: both sides shut down at once: answer with SHUTDOWN ACK.
                self.state = State::ShutdownAckSent;
                self.send_shutdown();
            }
            State::ShutdownAckSent | State::ShutdownReceived => {}
            _ => {}
        }
    }

    /// RFC 9260 §9.2: SHUTDOWN ACK received: SHUTDOWN COMPLETE and done.
    pub(super) fn on_shutdown_ack(&mut self) {
        if let (State::ShutdownSent | State::ShutdownAckSent, Some(tcb)) =
            (self.state, self.tcb.as_ref())
        {
            let tag = tcb.peer_tag;
            self.ctrl.push_back(Ctrl {
                tag,
                chunk: Chunk::ShutdownComplete(crate::sctp::chunk::ShutdownComplete {
                    tag_reflected: false,
                }),
                alone: true,
            });
            self.terminate(CloseReason::Shutdown, false);
        }
    }

    /// RFC 9260 §9.2: SHUTDOWN COMPLETE in SHUTDOWN-ACK-SENT ends the association.
    pub(super) fn on_shutdown_complete(&mut self) {
        if self.state == State::ShutdownAckSent {
            self.terminate(CloseReason::Shutdown, false);
        }
    }
}

/// The extensions an INIT or INIT ACK announces, as [`CookieState::features`] bits.
fn peer_features(init: &Init) -> u8 {
    let mut features = 0;
    if init.forward_tsn_supported() {
        features |= FEATURE_FORWARD_TSN;
    }
    if supports_reconfig(init) {
        features |= FEATURE_RECONFIG;
    }
    if accepts_zero_checksum(init) {
        features |= FEATURE_ZERO_CHECKSUM;
    }
    if lists_extension(init, crate::sctp::ChunkType::I_DATA) {
        features |= FEATURE_I_DATA;
    }
    if lists_extension(init, crate::sctp::ChunkType::I_FORWARD_TSN) {
        features |= FEATURE_I_FORWARD_TSN;
    }
    features
}

/// RFC 5061 §4.2.7: whether `chunk` is among the supported extensions.
fn lists_extension(init: &Init, chunk: crate::sctp::ChunkType) -> bool {
    init.params
        .iter()
        .any(|p| matches!(p, Parameter::SupportedExtensions(types) if types.contains(&chunk)))
}

/// RFC 9653 §5.1: the peer accepts zero checksums with the DTLS method.
fn accepts_zero_checksum(init: &Init) -> bool {
    init.params.iter().any(|p| {
        matches!(p, Parameter::Unknown { param_type, value }
            if param_type.0 == ZERO_CHECKSUM_ACCEPTABLE && value[..] == EDMID_DTLS.to_be_bytes())
    })
}

/// RFC 6525 §3.1 / RFC 5061 §4.2.7: RE-CONFIG listed among the supported extensions.
fn supports_reconfig(init: &Init) -> bool {
    lists_extension(init, crate::sctp::ChunkType::RECONFIG)
}

use crate::Instant;
