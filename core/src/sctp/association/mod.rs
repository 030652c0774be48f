//! The SCTP association (RFC 9260) as a Sans-IO machine over whole SCTP packets.
//!
//! WebRTC runs SCTP over DTLS (RFC 8261), so [`Association`] takes and gives packets as byte
//! slices: [`Association::handle_packet`] for each packet the lower layer delivers,
//! [`Association::poll_packet`] (or the allocation-free [`Association::poll_packet_into`]) for
//! each packet to send, [`Association::handle_timeout`] / [`Association::poll_timeout`] for
//! time, and [`Association::poll_event`] for what the user learns. [`SctpOverUdp`] wraps it as a
//! [`crate::Machine`] over UDP datagrams for the simulator and tests.
//!
//! The pieces: association setup and teardown (`setup`), the state cookie (`cookie`), the send
//! queue with fragmentation (`send_queue`), SACK processing and fast retransmit
//! (`retransmit`), congestion control (`congestion`), the RTO (`rto`), received TSNs and SACK
//! generation (`sack_gen`), reassembly and ordered delivery (`reassembly`; for RFC 8260 I-DATA,
//! `interleave`), stream reset (`reconfig`), the packets that go out (`output`) and the ones
//! that come in (`input`).

mod congestion;
mod cookie;
mod input;
mod interleave;
mod output;
mod reassembly;
mod reconfig;
mod retransmit;
mod rto;
mod sack_gen;
mod send_queue;
mod setup;
mod udp;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_idata;
#[cfg(test)]
mod tests_loss;

use core::time::Duration;
use std::collections::VecDeque;

pub use udp::SctpOverUdp;

use crate::Instant;
use crate::sctp::chunk::Chunk;
use congestion::Congestion;
use cookie::CookieSecret;
use interleave::Interleaved;
use reassembly::Reassembly;
use reconfig::ReconfigState;
use rto::Rto;
use sack_gen::RecvTsns;
use send_queue::{Policy, SendQueue};

/// RFC 9260 §1.6: `a < b` in serial number arithmetic on 32-bit TSNs.
pub(crate) fn tsn_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Association settings. The defaults follow RFC 9260 §16 and RFC 8831.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Our SCTP port (RFC 8841: 5000 unless SDP says otherwise).
    pub local_port: u16,
    /// The peer's SCTP port.
    pub remote_port: u16,
    /// The largest SCTP packet sent, in bytes (the DTLS record payload budget). Default 1200.
    pub mtu: usize,
    /// The largest user message accepted in either direction (RFC 8841 max-message-size).
    /// Default 256 KiB.
    pub max_message_size: usize,
    /// The receiver window advertised (a_rwnd), in bytes; raised to hold one maximum message.
    pub receive_window: u32,
    /// Bytes of user messages that may wait unsent before [`Association::send`] refuses more.
    pub max_send_buffer: usize,
    /// Streams requested in each direction (RFC 8831 §6.2 suggests 65535).
    pub streams: u16,
    /// RFC 9260 §16 RTO.Initial.
    pub rto_initial: Duration,
    /// RFC 9260 §16 RTO.Min.
    pub rto_min: Duration,
    /// RFC 9260 §16 RTO.Max.
    pub rto_max: Duration,
    /// RFC 9260 §16 Association.Max.Retrans: consecutive timeouts before giving up.
    pub max_retransmissions: u32,
    /// RFC 9260 §16 Max.Init.Retransmits.
    pub max_init_retransmissions: u32,
    /// RFC 9260 §16 HB.interval.
    pub heartbeat_interval: Duration,
    /// RFC 9260 §6.2: the longest a SACK is delayed (at most 500 ms; 200 ms is usual).
    pub delayed_ack: Duration,
    /// RFC 9260 §16 Valid.Cookie.Life.
    pub cookie_lifetime: Duration,
    /// RFC 9653: announce that packets with a zero checksum are accepted because the lower
    /// layer is DTLS (Error Detection Method 1), and send zero checksums once the peer
    /// announces the same. Only for SCTP over DTLS (RFC 8261); off by default.
    pub zero_checksum: bool,
    /// RFC 8260: offer I-DATA and I-FORWARD-TSN, and use them when the peer offers them too
    /// (user message interleaving: a large message on one stream does not hold back messages
    /// on others). Otherwise, or with a peer that does not, DATA is used. On by default, as
    /// WebRTC offers it.
    pub interleaving: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            local_port: 5000,
            remote_port: 5000,
            mtu: 1200,
            max_message_size: 256 * 1024,
            receive_window: 1024 * 1024,
            max_send_buffer: 16 * 1024 * 1024,
            streams: u16::MAX,
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            max_retransmissions: 10,
            max_init_retransmissions: 8,
            heartbeat_interval: Duration::from_secs(30),
            delayed_ack: Duration::from_millis(200),
            cookie_lifetime: Duration::from_secs(60),
            zero_checksum: false,
            interleaving: true,
        }
    }
}

/// How a message may be given up (RFC 3758 §3.1, RFC 8831 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reliability {
    /// Retransmitted until acknowledged.
    #[default]
    Reliable,
    /// Retransmitted at most this many times (0: sent once).
    MaxRetransmits(u16),
    /// Abandoned once this long has passed since [`Association::send`].
    Lifetime(Duration),
}

/// Per-message options of [`Association::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SendOptions {
    /// Delivered as soon as complete, regardless of stream order (the U bit).
    pub unordered: bool,
    /// Partial reliability.
    pub reliability: Reliability,
}

/// Why [`Association::send`] (or another command) refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The association is not established (or is shutting down).
    NotConnected,
    /// RFC 9260 §6.2: DATA carries at least one byte; RFC 8831 sends empty messages with
    /// their own PPID and one byte.
    Empty,
    /// Larger than [`Config::max_message_size`].
    TooLarge,
    /// The stream does not exist (beyond the negotiated outbound stream count).
    InvalidStream,
    /// The stream is being reset (RFC 6525).
    StreamResetting,
    /// [`Config::max_send_buffer`] is full.
    BufferFull,
    /// The peer did not announce RE-CONFIG (RFC 6525) support.
    Unsupported,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SendError::NotConnected => "the SCTP association is not established",
            SendError::Empty => "an SCTP message needs at least one byte",
            SendError::TooLarge => "the message is larger than the maximum message size",
            SendError::InvalidStream => "no such SCTP stream",
            SendError::StreamResetting => "the SCTP stream is being reset",
            SendError::BufferFull => "the SCTP send buffer is full",
            SendError::Unsupported => "the SCTP peer does not support stream reset",
        })
    }
}

impl std::error::Error for SendError {}

/// Why the association ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The graceful SHUTDOWN sequence completed (RFC 9260 §9.2).
    Shutdown,
    /// We aborted ([`Association::abort`]).
    LocalAbort,
    /// The peer sent ABORT (a restarted peer without state answers our packets that way).
    PeerAbort,
    /// Association.Max.Retrans or Max.Init.Retransmits was exceeded (RFC 9260 §8.1).
    Timeout,
    /// The peer broke the protocol (for example a message beyond the maximum size); we
    /// aborted.
    ProtocolViolation,
}

/// What the user learns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The association is established (COOKIE ACK received or sent).
    Connected,
    /// A complete user message.
    Message {
        /// The stream it came on.
        stream: u16,
        /// Payload Protocol Identifier.
        ppid: u32,
        /// The message.
        data: Vec<u8>,
    },
    /// RFC 6525: streams were reset; `incoming` for the peer's outgoing streams (the peer
    /// closed them), otherwise ours (our [`Association::reset_streams`] completed).
    StreamReset {
        /// The streams (empty means all).
        streams: Vec<u16>,
        /// Whose streams.
        incoming: bool,
    },
    /// The bytes buffered on a stream fell to its threshold
    /// ([`Association::set_buffered_amount_low_threshold`], zero by default) after having been
    /// above it: RTCDataChannel's bufferedamountlow.
    BufferedAmountLow {
        /// The stream.
        stream: u16,
    },
    /// RFC 9260 §5.2.4 case A: the peer restarted; everything queued or in flight is lost and
    /// stream sequence numbers start again.
    Restarted,
    /// The association is over.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Counters of what happened, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Packets handed to [`Association::handle_packet`].
    pub packets_received: u64,
    /// Packets produced by [`Association::poll_packet`].
    pub packets_sent: u64,
    /// Packets or chunks dropped as malformed.
    pub malformed: u64,
    /// Packets dropped for a wrong checksum.
    pub bad_checksum: u64,
    /// Packets dropped for a wrong verification tag or port.
    pub bad_tag: u64,
    /// DATA chunks received twice.
    pub duplicate_data: u64,
    /// DATA chunks dropped for lack of buffer or too far ahead.
    pub dropped_data: u64,
    /// DATA chunks retransmitted after a timeout.
    pub timeout_retransmits: u64,
    /// Fast retransmit events.
    pub fast_retransmits: u64,
    /// T3-rtx expirations.
    pub t3_expirations: u64,
    /// Messages abandoned under partial reliability (RFC 3758).
    pub abandoned: u64,
    /// FORWARD TSN chunks sent.
    pub forward_tsns_sent: u64,
    /// COOKIE ECHOs refused (bad MAC or stale).
    pub bad_cookies: u64,
    /// Control chunks not queued because the queue was full.
    pub dropped_control: u64,
}

/// RFC 9260 §4: association states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No association yet; INITs are accepted.
    Closed,
    /// INIT sent.
    CookieWait,
    /// COOKIE ECHO sent.
    CookieEchoed,
    /// Up.
    Established,
    /// [`Association::close`] called; waiting for outstanding data.
    ShutdownPending,
    /// SHUTDOWN sent.
    ShutdownSent,
    /// SHUTDOWN received; finishing outstanding data.
    ShutdownReceived,
    /// SHUTDOWN ACK sent.
    ShutdownAckSent,
    /// Over; see the [`Event::Closed`] that said why.
    Terminated,
}

/// The timers, one slot each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// RFC 9260 §5.1 T1-init / T1-cookie.
    T1 = 0,
    /// RFC 9260 §6.3.2 T3-rtx.
    T3 = 1,
    /// RFC 9260 §9.2 T2-shutdown.
    T2 = 2,
    /// RFC 9260 §6.2 delayed SACK.
    DelayedAck = 3,
    /// RFC 9260 §8.3 heartbeat.
    Heartbeat = 4,
    /// RFC 6525 §5.1.1 RE-CONFIG retransmission.
    Reconfig = 5,
}

const TIMERS: [Timer; 6] = [
    Timer::T1,
    Timer::T3,
    Timer::T2,
    Timer::DelayedAck,
    Timer::Heartbeat,
    Timer::Reconfig,
];

/// Control chunks waiting to be sent, at most.
const MAX_CTRL: usize = 256;

/// A control chunk waiting to be sent, with the verification tag its packet needs.
#[derive(Debug)]
struct Ctrl {
    tag: u32,
    chunk: Chunk,
    /// RFC 9260 §6.10: INIT, INIT ACK and SHUTDOWN COMPLETE travel alone.
    alone: bool,
}

/// Handshake state before the TCB exists (RFC 9260 §5.1).
#[derive(Debug, Default)]
struct Handshake {
    my_tag: u32,
    my_initial_tsn: u32,
    retries: u32,
    /// The cookie to echo and the peer's tag, once the INIT ACK came.
    cookie: Option<(u32, Vec<u8>)>,
    /// The INIT ACK received, for the TCB the COOKIE ACK creates.
    peer_init: Option<crate::sctp::chunk::Init>,
    /// When the last COOKIE ECHO left, to time a Stale Cookie ERROR (RFC 9260 §5.2.6).
    echo_sent: Instant,
    /// RFC 9260 §5.2.6: the Cookie Preservative (milliseconds) the next INIT asks for.
    preserve_ms: Option<u32>,
}

/// The Transmission Control Block of an established association (RFC 9260 §14).
#[derive(Debug)]
struct Tcb {
    my_tag: u32,
    peer_tag: u32,
    send: SendQueue,
    recv: RecvTsns,
    reasm: Reassembly,
    /// RFC 8260: I-DATA reassembly, used instead of `reasm` when `interleaving`.
    ireasm: Interleaved,
    /// RFC 8260 §2.2.1: both sides offered I-DATA, so it replaces DATA both ways.
    interleaving: bool,
    cc: Congestion,
    outbound_streams: u16,
    inbound_streams: u16,
    peer_forward_tsn: bool,
    /// RFC 9653: both sides accept zero checksums, so ours may be zero.
    zero_checksum: bool,
    capacity: usize,
    sack_due: bool,
    data_packets_unacked: u32,
    forward_tsn_due: bool,
    ignore_cwnd_once: bool,
    error_count: u32,
    heartbeat: Option<u64>,
    reconfig: ReconfigState,
}

impl Tcb {
    fn a_rwnd(&self) -> u32 {
        u32::try_from(self.capacity.saturating_sub(self.held())).unwrap_or(u32::MAX)
    }

    /// Bytes of received user data not yet delivered.
    fn held(&self) -> usize {
        self.reasm.held() + self.ireasm.held()
    }
}

/// An SCTP association. See the module documentation.
pub struct Association {
    config: Config,
    rng: crate::Rng,
    secret: CookieSecret,
    state: State,
    now: Instant,
    hs: Handshake,
    tcb: Option<Box<Tcb>>,
    rto: Rto,
    ctrl: VecDeque<Ctrl>,
    events: VecDeque<Event>,
    timers: [Option<Instant>; 6],
    stats: Stats,
}

impl core::fmt::Debug for Association {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Association")
            .field("state", &self.state)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Association {
    /// A new association in the Closed state: it accepts an INIT, or starts one with
    /// [`connect`](Self::connect). The cookie secret and tags come from `rng`.
    pub fn new(mut config: Config, mut rng: crate::Rng) -> Association {
        config.mtu = config.mtu.clamp(256, 65_535);
        let secret = CookieSecret::new(&mut rng);
        let rto = Rto::new(config.rto_initial, config.rto_min, config.rto_max);
        Association {
            config,
            rng,
            secret,
            state: State::Closed,
            now: Instant::ZERO,
            hs: Handshake::default(),
            tcb: None,
            rto,
            ctrl: VecDeque::new(),
            events: VecDeque::new(),
            timers: [None; 6],
            stats: Stats::default(),
        }
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        Stats {
            abandoned: self.tcb.as_ref().map_or(0, |t| t.send.abandoned),
            ..self.stats
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether user messages can be sent.
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }

    /// Bytes of messages on `stream` not yet handed to the network (RTCDataChannel's
    /// bufferedAmount).
    pub fn buffered_amount(&self, stream: u16) -> usize {
        self.tcb
            .as_ref()
            .and_then(|t| t.send.buffered.get(&stream).copied())
            .unwrap_or(0)
    }

    /// Sets the level at or below which [`Event::BufferedAmountLow`] fires for `stream`.
    pub fn set_buffered_amount_low_threshold(&mut self, stream: u16, threshold: usize) {
        if let Some(tcb) = self.tcb.as_mut() {
            if threshold == 0 {
                tcb.send.low_threshold.remove(&stream);
            } else {
                tcb.send.low_threshold.insert(stream, threshold);
            }
        }
    }

    /// Bytes queued or in flight on all streams.
    pub fn bytes_outstanding(&self) -> usize {
        self.tcb.as_ref().map_or(0, |t| {
            t.send.queued_bytes + t.send.sent.iter().map(|s| s.size() as usize).sum::<usize>()
        })
    }

    /// Streams we may send on, once established.
    pub fn outbound_streams(&self) -> u16 {
        self.tcb.as_ref().map_or(0, |t| t.outbound_streams)
    }

    /// Queues a user message on `stream` with Payload Protocol Identifier `ppid`.
    pub fn send(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        data: Vec<u8>,
        options: SendOptions,
    ) -> Result<(), SendError> {
        self.now = now;
        if self.state != State::Established {
            return Err(SendError::NotConnected);
        }
        if data.is_empty() {
            return Err(SendError::Empty);
        }
        if data.len() > self.config.max_message_size {
            return Err(SendError::TooLarge);
        }
        let max_buffer = self.config.max_send_buffer;
        let Some(tcb) = self.tcb.as_mut() else {
            return Err(SendError::NotConnected);
        };
        if stream >= tcb.outbound_streams {
            return Err(SendError::InvalidStream);
        }
        if tcb.reconfig.is_resetting(stream) {
            return Err(SendError::StreamResetting);
        }
        if tcb.send.queued_bytes + data.len() > max_buffer {
            return Err(SendError::BufferFull);
        }
        // RFC 3758 §3.3: without the peer's FORWARD TSN support nothing may be abandoned,
        // so every message is reliable.
        let reliability = if tcb.peer_forward_tsn {
            options.reliability
        } else {
            Reliability::Reliable
        };
        let policy = match reliability {
            Reliability::Reliable => Policy {
                max_retransmits: None,
                expires: None,
            },
            Reliability::MaxRetransmits(n) => Policy {
                max_retransmits: Some(n),
                expires: None,
            },
            Reliability::Lifetime(d) => Policy {
                max_retransmits: None,
                expires: Some(now + d),
            },
        };
        tcb.send.push(stream, ppid, options.unordered, data, policy);
        Ok(())
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    /// Time passed: fires the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        for timer in TIMERS {
            match self.timers[timer as usize] {
                Some(at) if at <= now => {
                    self.timers[timer as usize] = None;
                    self.on_timer(timer);
                }
                _ => {}
            }
        }
        self.after_input();
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::T1 => self.on_t1(),
            Timer::T2 => self.on_t2(),
            Timer::T3 => self.on_t3(),
            Timer::DelayedAck => {
                if let Some(tcb) = self.tcb.as_mut() {
                    tcb.sack_due = true;
                }
            }
            Timer::Heartbeat => self.on_heartbeat_timer(),
            Timer::Reconfig => self.on_reconfig_timer(),
        }
    }

    fn set_timer(&mut self, timer: Timer, after: Duration) {
        self.timers[timer as usize] = Some(self.now + after);
    }

    fn stop_timer(&mut self, timer: Timer) {
        self.timers[timer as usize] = None;
    }

    fn timer_running(&self, timer: Timer) -> bool {
        self.timers[timer as usize].is_some()
    }

    /// Queues a control chunk for the peer of the current TCB. Peer input can ask for many
    /// (a HEARTBEAT ACK per HEARTBEAT), so the queue is bounded.
    fn push_ctrl(&mut self, chunk: Chunk) {
        if self.ctrl.len() >= MAX_CTRL {
            self.stats.dropped_control += 1;
            return;
        }
        if let Some(tcb) = self.tcb.as_ref() {
            let tag = tcb.peer_tag;
            self.ctrl.push_back(Ctrl {
                tag,
                chunk,
                alone: false,
            });
        }
    }

    /// RFC 9260 §6.3.3: T3-rtx expired.
    fn on_t3(&mut self) {
        let now = self.now;
        let max = self.config.max_retransmissions;
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        if !tcb.send.has_outstanding() {
            return;
        }
        self.stats.t3_expirations += 1;
        tcb.error_count += 1;
        if tcb.error_count > max {
            self.terminate(CloseReason::Timeout, true);
            return;
        }
        self.rto.back_off();
        tcb.cc.on_timeout();
        let before = tcb.send.retransmit_count;
        tcb.send.mark_all_for_retransmit(now);
        self.stats.timeout_retransmits += (tcb.send.retransmit_count - before) as u64;
        if tcb.peer_forward_tsn && tcb.send.forward_tsn().is_some() {
            tcb.forward_tsn_due = true;
        }
        let rto = self.rto.rto();
        self.set_timer(Timer::T3, rto);
    }

    /// RFC 9260 §8.3: a HEARTBEAT every HB.interval + RTO; one left unanswered counts as an
    /// error.
    fn on_heartbeat_timer(&mut self) {
        let max = self.config.max_retransmissions;
        let interval = self.config.heartbeat_interval;
        let nonce = self.rng.next_u64();
        let now = self.now;
        let Some(tcb) = self.tcb.as_mut() else {
            return;
        };
        if tcb.heartbeat.is_some() {
            tcb.error_count += 1;
            if tcb.error_count > max {
                self.terminate(CloseReason::Timeout, true);
                return;
            }
        }
        tcb.heartbeat = Some(nonce);
        let mut info = Vec::with_capacity(16);
        info.extend_from_slice(&nonce.to_be_bytes());
        info.extend_from_slice(&now.as_nanos().to_be_bytes());
        self.push_ctrl(Chunk::Heartbeat(crate::sctp::chunk::Heartbeat { info }));
        let rto = self.rto.rto();
        self.set_timer(Timer::Heartbeat, interval + rto);
    }

    /// Ends the association: events, timers and state. `abort` also sends an ABORT.
    fn terminate(&mut self, reason: CloseReason, abort: bool) {
        if self.state == State::Terminated {
            return;
        }
        if abort && let Some(tcb) = self.tcb.as_ref() {
            let causes = match reason {
                CloseReason::ProtocolViolation => {
                    vec![crate::sctp::chunk::ErrorCause::ProtocolViolation(
                        b"message too large".to_vec(),
                    )]
                }
                _ => vec![crate::sctp::chunk::ErrorCause::UserInitiatedAbort(
                    Vec::new(),
                )],
            };
            let tag = tcb.peer_tag;
            self.ctrl.clear();
            self.ctrl.push_back(Ctrl {
                tag,
                chunk: Chunk::Abort(crate::sctp::chunk::Abort {
                    tag_reflected: false,
                    causes,
                }),
                alone: true,
            });
        }
        self.tcb = None;
        self.state = State::Terminated;
        self.timers = [None; 6];
        self.events.push_back(Event::Closed { reason });
    }

    /// Aborts the association at once (RFC 9260 §9.1): an ABORT goes out, queued and
    /// outstanding data is dropped.
    pub fn abort(&mut self, now: Instant) {
        self.now = now;
        if self.tcb.is_some() {
            self.terminate(CloseReason::LocalAbort, true);
        } else if self.state != State::Terminated {
            self.terminate(CloseReason::LocalAbort, false);
        }
    }

    /// Work that follows any input: shutdown progress, stream resets waiting for data,
    /// timers that depend on what is outstanding.
    fn after_input(&mut self) {
        self.progress_shutdown();
        self.progress_reconfig();
        let rto = self.rto.rto();
        let Some(tcb) = self.tcb.as_ref() else {
            return;
        };
        let outstanding = tcb.send.has_outstanding();
        if !outstanding {
            self.stop_timer(Timer::T3);
        } else if !self.timer_running(Timer::T3) {
            self.set_timer(Timer::T3, rto);
        }
    }
}
