//! [`DataChannelPeer`]: data channels over SCTP over DTLS on one UDP 5-tuple, as WebRTC runs
//! them once ICE has picked a pair (RFC 8831 §5, RFC 8261).
//!
//! One datagram holds DTLS records; the application data inside each record is one whole SCTP
//! packet (RFC 8261 §4); the SCTP association on port 5000 (RFC 8841 default) carries the
//! channels, whose even or odd stream ids follow the DTLS role (RFC 8832 §6).

use core::net::SocketAddr;
use std::collections::VecDeque;

use super::association::AssociationTransport;
use super::channel::{Channel, ChannelId, ChannelOptions};
use super::channels::DataChannels;
use super::event::{DataChannelConfig, DataChannelError, DataChannelEvent, DataChannelStats};
use crate::dtls::protection::sealed_overhead;
use crate::dtls::{
    CipherSuite, DtlsCertificate, DtlsConfig, DtlsConnection, DtlsError, DtlsEvent, DtlsRole,
    DtlsStats, Fingerprint,
};
use crate::sctp::{self, Association, CloseReason};
use crate::{Datagram, Instant, Machine, Transmit};

/// Settings of the three layers.
#[derive(Debug, Clone)]
pub struct DataChannelPeerConfig {
    /// DTLS; put the peer's fingerprint from signaling in `expected_fingerprint` (RFC 8827
    /// §6.5: the certificate MUST match it).
    pub dtls: DtlsConfig,
    /// SCTP; its `mtu` is lowered so that a packet fits one DTLS record in one datagram.
    pub sctp: sctp::Config,
    /// Data channels.
    pub channels: DataChannelConfig,
}

impl Default for DataChannelPeerConfig {
    fn default() -> Self {
        Self {
            dtls: DtlsConfig::default(),
            // RFC 9653 §5: over DTLS (RFC 8261), whose records carry a MAC, the CRC32c may be
            // left zero once both ends say they accept that.
            sctp: sctp::Config {
                zero_checksum: true,
                ..sctp::Config::default()
            },
            channels: DataChannelConfig::default(),
        }
    }
}

/// Why the peer connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerCloseCause {
    /// The DTLS handshake or connection failed (a fingerprint mismatch among others).
    Dtls(DtlsError),
    /// The DTLS peer sent close_notify.
    DtlsClosed,
    /// The SCTP association ended.
    Sctp(CloseReason),
}

/// What the application learns from a [`DataChannelPeer`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerEvent {
    /// The DTLS handshake finished and the peer's certificate matched the expected
    /// fingerprint.
    DtlsConnected {
        /// The peer certificate's fingerprint.
        peer_fingerprint: Fingerprint,
    },
    /// The SCTP association is up: channels opened before now go out.
    Connected,
    /// Something happened on a data channel.
    Channel(DataChannelEvent),
    /// The connection is over; every channel closed.
    Closed(PeerCloseCause),
}

/// Counters of the composed machine (each layer keeps its own too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// Datagrams from an address other than the peer's; dropped.
    pub foreign_datagrams: u64,
    /// Datagrams whose first byte is not DTLS's (RFC 7983 §7); dropped.
    pub not_dtls: u64,
    /// SCTP packets DTLS could not seal (too large for a record); dropped, SCTP retransmits.
    pub seal_failures: u64,
}

/// Data channels over SCTP over DTLS to one peer, as a [`Machine`].
///
/// ```
/// use pigeon::datachannel::{ChannelOptions, DataChannelPeer, DataChannelPeerConfig, PeerEvent};
/// use pigeon::dtls::{DtlsCertificate, DtlsRole};
/// use pigeon::{Instant, Machine};
/// use rand_core::SeedableRng;
///
/// let rng = |n| -> pigeon::Rng { Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(n)) };
/// let (ca, cb) = (DtlsCertificate::generate(&mut rng(1), "a"), DtlsCertificate::generate(&mut rng(2), "b"));
/// let (a, b) = ("10.0.0.1:5000".parse().unwrap(), "10.0.0.2:5000".parse().unwrap());
/// let config = |fp| {
///     let mut c = DataChannelPeerConfig::default();
///     c.dtls.expected_fingerprint = Some(fp);
///     c
/// };
/// let mut client = DataChannelPeer::new(DtlsRole::Client, config(cb.fingerprint()), ca.clone(), rng(3), rng(4), a, b);
/// let mut server = DataChannelPeer::new(DtlsRole::Server, config(ca.fingerprint()), cb, rng(5), rng(6), b, a);
/// let chat = client.open(Instant::ZERO, "chat", "", ChannelOptions::default()).unwrap();
/// let mut now = Instant::ZERO;
/// let mut got = Vec::new();
/// for _ in 0..50 {
///     client.handle_timeout(now);
///     server.handle_timeout(now);
///     while let Some(t) = client.poll_transmit() { server.handle_datagram(now, t.as_datagram()); }
///     while let Some(t) = server.poll_transmit() { client.handle_datagram(now, t.as_datagram()); }
///     while let Some(e) = client.poll_event() {
///         if e == PeerEvent::Channel(pigeon::datachannel::DataChannelEvent::Open(chat)) {
///             client.send_text(now, chat, "hello").unwrap();
///         }
///     }
///     got.extend(core::iter::from_fn(|| server.poll_event()));
///     now = now + core::time::Duration::from_millis(10);
/// }
/// assert!(got.iter().any(|e| matches!(e, PeerEvent::Channel(
///     pigeon::datachannel::DataChannelEvent::Message { .. }))));
/// ```
pub struct DataChannelPeer {
    dtls: DtlsConnection,
    sctp: Association,
    channels: DataChannels,
    local: SocketAddr,
    remote: SocketAddr,
    /// The largest number of bytes a DTLS record adds to an SCTP packet.
    overhead: usize,
    /// The association was started (client) or may now be accepted (server).
    sctp_started: bool,
    closed: bool,
    /// Where SCTP packets are written before DTLS seals them.
    packet: Vec<u8>,
    /// Where a datagram is copied to be opened in place.
    inbound: Vec<u8>,
    /// Sealed datagrams that must leave before DTLS closes (a last ABORT or SHUTDOWN COMPLETE).
    parting: VecDeque<Vec<u8>>,
    events: VecDeque<PeerEvent>,
    stats: PeerStats,
}

impl core::fmt::Debug for DataChannelPeer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataChannelPeer")
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("dtls", &self.dtls)
            .field("sctp", &self.sctp)
            .finish_non_exhaustive()
    }
}

impl DataChannelPeer {
    /// A peer on `local` talking to `remote`, playing `role` in the DTLS handshake (from
    /// SDP `a=setup`). The DTLS client starts at once; SCTP starts when DTLS is up. DTLS and
    /// SCTP each draw from their own generator.
    pub fn new(
        role: DtlsRole,
        mut config: DataChannelPeerConfig,
        certificate: DtlsCertificate,
        dtls_rng: crate::Rng,
        sctp_rng: crate::Rng,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Self {
        let overhead = CipherSuite::ALL
            .into_iter()
            .map(sealed_overhead)
            .max()
            .unwrap_or(64);
        // RFC 8261 §5: an SCTP packet MUST fit one DTLS record in one datagram. Rounded down
        // to whole words: chunks are padded to 4 bytes (RFC 9260 §3.2), and the association
        // stalls on a full-size fragment whose padding overruns an odd MTU.
        config.sctp.mtu = config
            .sctp
            .mtu
            .min(config.dtls.mtu.saturating_sub(overhead))
            & !3;
        let mut dtls = match role {
            DtlsRole::Client => DtlsConnection::client(config.dtls, certificate, dtls_rng),
            DtlsRole::Server => DtlsConnection::server(config.dtls, certificate, dtls_rng),
        };
        // RFC 6347 §4.2.1: HelloVerifyRequest cookies are bound to the peer's address.
        dtls.set_peer_identity(remote.to_string().as_bytes());
        Self {
            dtls,
            sctp: Association::new(config.sctp, sctp_rng),
            channels: DataChannels::new(role, config.channels),
            local,
            remote,
            overhead,
            sctp_started: false,
            closed: false,
            packet: Vec::with_capacity(2048),
            inbound: Vec::with_capacity(2048),
            parting: VecDeque::new(),
            events: VecDeque::new(),
            stats: PeerStats::default(),
        }
    }

    /// Our DTLS role, which decides the parity of the stream ids we pick.
    pub fn role(&self) -> DtlsRole {
        self.dtls.role()
    }

    /// Our certificate's fingerprint, for signaling.
    pub fn local_fingerprint(&self) -> Fingerprint {
        self.dtls.certificate().fingerprint()
    }

    /// Whether the SCTP association is up.
    pub fn is_connected(&self) -> bool {
        self.sctp.is_established()
    }

    /// Opens a channel with `label` and `protocol` (RTCPeerConnection.createDataChannel).
    /// [`DataChannelEvent::Open`] follows once the peer acknowledges (or at once for a
    /// negotiated channel on a connected association).
    pub fn open(
        &mut self,
        now: Instant,
        label: &str,
        protocol: &str,
        options: ChannelOptions,
    ) -> Result<ChannelId, DataChannelError> {
        let mut transport = AssociationTransport::new(&mut self.sctp, now);
        let id = self.channels.open(&mut transport, label, protocol, options);
        self.drain_channel_events();
        id
    }

    /// Sends a string message.
    pub fn send_text(
        &mut self,
        now: Instant,
        channel: ChannelId,
        text: &str,
    ) -> Result<(), DataChannelError> {
        let mut transport = AssociationTransport::new(&mut self.sctp, now);
        self.channels.send_text(&mut transport, channel, text)
    }

    /// Sends a binary message.
    pub fn send_binary(
        &mut self,
        now: Instant,
        channel: ChannelId,
        data: &[u8],
    ) -> Result<(), DataChannelError> {
        let mut transport = AssociationTransport::new(&mut self.sctp, now);
        self.channels.send_binary(&mut transport, channel, data)
    }

    /// Closes a channel by resetting its stream (RFC 8831 §6.7);
    /// [`DataChannelEvent::Close`] follows when the peer has reset its own.
    pub fn close(&mut self, now: Instant, channel: ChannelId) -> Result<(), DataChannelError> {
        let mut transport = AssociationTransport::new(&mut self.sctp, now);
        let result = self.channels.close(&mut transport, channel);
        self.drain_channel_events();
        result
    }

    /// Ends the whole connection gracefully: SCTP SHUTDOWN (RFC 9260 §9.2), then DTLS
    /// close_notify.
    pub fn shutdown(&mut self, now: Instant) {
        if self.sctp.is_established() {
            self.sctp.close(now);
        } else {
            self.dtls.close();
        }
        self.after_input(now);
    }

    /// The channel, unless closed.
    pub fn channel(&self, id: ChannelId) -> Option<&Channel> {
        self.channels.channel(id)
    }

    /// Every channel not yet closed.
    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.channels()
    }

    /// Bytes queued on the channel and not yet sent (RTCDataChannel `bufferedAmount`).
    pub fn buffered_amount(&self, id: ChannelId) -> usize {
        self.sctp.buffered_amount(id.stream())
    }

    /// Sets the low-water mark of [`DataChannelEvent::BufferedAmountLow`].
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: ChannelId,
        bytes: usize,
    ) -> Result<(), DataChannelError> {
        self.channels.set_buffered_amount_low_threshold(id, bytes)
    }

    /// The peer's `a=max-message-size` (RFC 8841; 0 = any size).
    pub fn set_max_message_size(&mut self, bytes: usize) {
        self.channels.set_max_message_size(bytes);
    }

    /// Counters of this machine.
    pub fn stats(&self) -> PeerStats {
        self.stats
    }

    /// Counters of the DTLS layer.
    pub fn dtls_stats(&self) -> DtlsStats {
        self.dtls.stats()
    }

    /// Counters of the SCTP association.
    pub fn sctp_stats(&self) -> sctp::Stats {
        self.sctp.stats()
    }

    /// Counters of the data channels.
    pub fn channel_stats(&self) -> &DataChannelStats {
        self.channels.stats()
    }

    /// Whatever input came, the layers' events flow upwards.
    fn after_input(&mut self, now: Instant) {
        while let Some(event) = self.dtls.poll_event() {
            self.on_dtls_event(now, event);
        }
        while let Some(event) = self.sctp.poll_event() {
            self.on_sctp_event(now, event);
        }
    }

    fn on_dtls_event(&mut self, now: Instant, event: DtlsEvent) {
        match event {
            DtlsEvent::Connected {
                peer_fingerprint, ..
            } => {
                self.events
                    .push_back(PeerEvent::DtlsConnected { peer_fingerprint });
                self.sctp_started = true;
                // Both ends may send INIT (RFC 9260 §5.2.1 resolves the collision); letting
                // only the DTLS client start saves the collision on every connection.
                if self.dtls.role() == DtlsRole::Client {
                    self.sctp.connect(now);
                }
            }
            // `recv` hands application data to SCTP directly; this is only reached if
            // records were queued as events.
            DtlsEvent::ApplicationData(data) => self.sctp.handle_packet(now, &data),
            DtlsEvent::Closed => self.finish(now, PeerCloseCause::DtlsClosed),
            DtlsEvent::Failed(e) => self.finish(now, PeerCloseCause::Dtls(e)),
        }
    }

    fn on_sctp_event(&mut self, now: Instant, event: sctp::Event) {
        let mut transport = AssociationTransport::new(&mut self.sctp, now);
        match event {
            sctp::Event::Connected => {
                self.events.push_back(PeerEvent::Connected);
                self.channels.handle_connected(&mut transport);
            }
            sctp::Event::Message { stream, ppid, data } => {
                self.channels.handle_message_owned(
                    &mut transport,
                    stream,
                    super::wire::Ppid(ppid),
                    data,
                );
            }
            sctp::Event::StreamReset {
                streams,
                incoming: true,
            } => {
                // RFC 6525 §4.1: an empty list resets every stream.
                let streams = if streams.is_empty() {
                    self.channels.channels().map(|c| c.id().stream()).collect()
                } else {
                    streams
                };
                self.channels.handle_stream_reset(&mut transport, &streams);
            }
            sctp::Event::Restarted => {
                // RFC 9260 §5.2.4 A: the peer lost its state, so its channels are gone; ours
                // close and the association carries new ones.
                tracing::debug!(remote = %self.remote, "sctp peer restarted; closing channels");
                self.channels.handle_closed();
                self.channels.handle_connected(&mut transport);
            }
            sctp::Event::Closed { reason } => {
                self.finish(now, PeerCloseCause::Sctp(reason));
                return;
            }
            // Our resets completing and the association's own low-water events: the channels
            // watch buffered amounts themselves (see `poll_transmit`).
            _ => {}
        }
        self.drain_channel_events();
    }

    /// The connection is over: channels close, DTLS says goodbye, the application is told once.
    fn finish(&mut self, now: Instant, cause: PeerCloseCause) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.channels.handle_closed();
        self.drain_channel_events();
        if self.sctp.state() != sctp::State::Terminated {
            self.sctp.abort(now);
        }
        if self.dtls.is_connected() {
            while let Some(datagram) = self.next_sctp_datagram() {
                self.parting.push_back(datagram);
            }
        }
        self.dtls.close();
        // The events of closing our own layers say nothing new.
        while self.dtls.poll_event().is_some() {}
        self.events.push_back(PeerEvent::Closed(cause));
    }

    fn drain_channel_events(&mut self) {
        while let Some(event) = self.channels.poll_event() {
            self.events.push_back(PeerEvent::Channel(event));
        }
    }

    /// Seals the next SCTP packet into a datagram.
    fn next_sctp_datagram(&mut self) -> Option<Vec<u8>> {
        loop {
            if !self.sctp.poll_packet_into(&mut self.packet) {
                return None;
            }
            let mut out = vec![0; self.packet.len() + self.overhead];
            match self.dtls.send_into(&self.packet, &mut out) {
                Ok(n) => {
                    out.truncate(n);
                    return Some(out);
                }
                Err(e) => {
                    self.stats.seal_failures += 1;
                    tracing::debug!(error = %e, len = self.packet.len(), "could not seal an SCTP packet");
                }
            }
        }
    }
}

impl Machine for DataChannelPeer {
    type Event = PeerEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        if datagram.source != self.remote {
            self.stats.foreign_datagrams += 1;
            tracing::trace!(source = %datagram.source, "dropped a datagram from a stranger");
            return;
        }
        // RFC 7983 §7: DTLS records begin with a byte in 20..=63; STUN, RTP and the rest
        // belong to other layers.
        if !matches!(datagram.payload.first(), Some(20..=63)) {
            self.stats.not_dtls += 1;
            tracing::trace!("dropped a datagram that is not DTLS");
            return;
        }
        let mut inbound = core::mem::take(&mut self.inbound);
        inbound.clear();
        inbound.extend_from_slice(datagram.payload);
        let sctp = &mut self.sctp;
        let started = self.sctp_started;
        // RFC 8261 §4: each application-data record holds one SCTP packet.
        self.dtls.recv(now, &mut inbound, |packet| {
            if started {
                sctp.handle_packet(now, packet);
            }
        });
        self.inbound = inbound;
        self.after_input(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.dtls.handle_timeout(now);
        self.sctp.handle_timeout(now);
        self.after_input(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        let payload = match self.parting.pop_front().or_else(|| self.dtls.poll_packet()) {
            Some(ready) => ready,
            None if self.dtls.is_connected() => match self.next_sctp_datagram() {
                Some(sealed) => sealed,
                None => {
                    // Everything queued went out: the buffered amounts may have fallen.
                    let transport = AssociationTransport::new(&mut self.sctp, Instant::ZERO);
                    self.channels.update_buffered_amounts(&transport);
                    self.drain_channel_events();
                    return None;
                }
            },
            None => return None,
        };
        Some(Transmit {
            source: self.local,
            destination: self.remote,
            payload,
        })
    }

    fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [self.dtls.poll_timeout(), self.sctp.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }
}
