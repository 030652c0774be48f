//! The record-level DTLS connection: bytes in, bytes out, no addresses. [`Dtls`] wraps it
//! as a [`Machine`]; a PeerConnection embeds it directly under ICE.
//!
//! [`Dtls`]: crate::dtls::Dtls
//! [`Machine`]: crate::Machine

use std::collections::VecDeque;

use crate::dtls::cert::DtlsCertificate;
use crate::dtls::config::{DtlsConfig, DtlsError, DtlsEvent, DtlsRole};
use crate::dtls::cookie::CookieKey;
use crate::dtls::flight::{Flight, FlightItem, TimerOutcome};
use crate::dtls::fragment::{FragmentOutcome, Reassembler};
use crate::dtls::handshake::Handshake;
use crate::dtls::keys::SrtpKeys;
use crate::dtls::message::change_cipher_spec::is_change_cipher_spec;
use crate::dtls::message::{Alert, AlertDescription, AlertLevel, HandshakeHeader, HandshakeType};
use crate::dtls::record::{ContentType, RECORD_HEADER_LEN, RecordHeader, split_record};
use crate::dtls::record_layer::{Opened, RecordLayer, RecordStats};
use crate::time::Instant;

/// Where the handshake stands. Each state names the message expected next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Client: nothing sent yet.
    ClientStart,
    /// Client: waiting for HelloVerifyRequest or ServerHello.
    ExpectServerHello,
    /// Client: waiting for the server's Certificate.
    ExpectServerCertificate,
    /// Client: waiting for ServerKeyExchange.
    ExpectServerKeyExchange,
    /// Client: waiting for CertificateRequest or ServerHelloDone.
    ExpectCertificateRequestOrDone,
    /// Client: waiting for ServerHelloDone.
    ExpectServerHelloDone,
    /// Server: waiting for a ClientHello (with a valid cookie).
    ExpectClientHello,
    /// Server: waiting for the client's Certificate.
    ExpectClientCertificate,
    /// Server: waiting for ClientKeyExchange.
    ExpectClientKeyExchange,
    /// Server: waiting for CertificateVerify.
    ExpectCertificateVerify,
    /// Both: waiting for the peer's ChangeCipherSpec and Finished.
    ExpectFinished,
    /// Handshake done; application data flows.
    Connected,
    /// close_notify sent or received.
    Closed,
    /// A fatal error ended the connection.
    Failed,
}

/// Counters beyond the record layer's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtlsStats {
    /// Record layer counters.
    pub records: RecordStats,
    /// Handshake fragments refused by reassembly (inconsistent, too big, too far ahead).
    pub fragments_dropped: u64,
    /// Handshake records or ClientHellos that did not parse.
    pub handshake_malformed: u64,
    /// Records arriving where the state does not allow them (application data before the
    /// handshake completed, handshake messages in the wrong epoch).
    pub records_out_of_state: u64,
    /// Flights sent again (timer or peer retransmission).
    pub flight_retransmissions: u64,
    /// HelloVerifyRequests sent.
    pub hello_verify_requests: u64,
    /// Epoch-1 records kept because they arrived before the keys (RFC 6347 §4.1).
    pub early_records_buffered: u64,
}

/// A DTLS 1.2 connection over an unreliable byte-datagram transport.
pub struct DtlsConnection {
    pub(crate) role: DtlsRole,
    pub(crate) config: DtlsConfig,
    pub(crate) certificate: DtlsCertificate,
    pub(crate) rng: crate::Rng,
    pub(crate) records: RecordLayer,
    pub(crate) reassembler: Reassembler,
    pub(crate) state: State,
    pub(crate) hs: Handshake,
    pub(crate) next_send_seq: u16,
    pub(crate) write_epoch: u16,
    pub(crate) flight: Flight,
    pub(crate) out: VecDeque<Vec<u8>>,
    pub(crate) events: VecDeque<DtlsEvent>,
    pub(crate) cookie_key: CookieKey,
    pub(crate) peer_identity: Vec<u8>,
    pub(crate) stats: DtlsStats,
    /// When the current flight last went out (timer, peer repeat or first send).
    pub(crate) flight_sent_at: Instant,
    /// [`handle_packet`](Self::handle_packet) copies datagrams here to open them in place.
    scratch: Vec<u8>,
    /// Epoch-1 records that arrived before the keys to open them (see `early.rs`).
    pub(crate) early_records: VecDeque<Vec<u8>>,
}

impl core::fmt::Debug for DtlsConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DtlsConnection")
            .field("role", &self.role)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Where application data goes: to the caller of [`DtlsConnection::recv`], or (`None`) into
/// events.
pub(crate) type Deliver<'a, 'f> = Option<&'a mut (dyn FnMut(&[u8]) + 'f)>;

/// Largest application data payload per record (RFC 6347 §4.1.1: 2^14).
pub const MAX_APPLICATION_DATA: usize = 1 << 14;

impl DtlsConnection {
    /// A client; it sends its ClientHello at the first [`handle_timeout`](Self::handle_timeout)
    /// (its [`poll_timeout`](Self::poll_timeout) is due at once).
    pub fn client(config: DtlsConfig, certificate: DtlsCertificate, rng: crate::Rng) -> Self {
        DtlsConnection::new(DtlsRole::Client, config, certificate, rng)
    }

    /// A server waiting for a ClientHello.
    pub fn server(config: DtlsConfig, certificate: DtlsCertificate, rng: crate::Rng) -> Self {
        DtlsConnection::new(DtlsRole::Server, config, certificate, rng)
    }

    fn new(
        role: DtlsRole,
        config: DtlsConfig,
        certificate: DtlsCertificate,
        mut rng: crate::Rng,
    ) -> Self {
        let cookie_key = CookieKey::generate(&mut rng);
        DtlsConnection {
            role,
            reassembler: Reassembler::new(config.reassembly, 0),
            config,
            certificate,
            rng,
            records: RecordLayer::new(),
            state: match role {
                DtlsRole::Client => State::ClientStart,
                DtlsRole::Server => State::ExpectClientHello,
            },
            hs: Handshake::default(),
            next_send_seq: 0,
            write_epoch: 0,
            flight: Flight::default(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            cookie_key,
            peer_identity: Vec::new(),
            stats: DtlsStats::default(),
            flight_sent_at: Instant::ZERO,
            scratch: Vec::new(),
            early_records: VecDeque::new(),
        }
    }

    /// Our role.
    pub fn role(&self) -> DtlsRole {
        self.role
    }

    /// Server: no ClientHello accepted yet (the peer is not known).
    pub fn awaiting_client_hello(&self) -> bool {
        self.state == State::ExpectClientHello
    }

    /// Whether the handshake completed and the connection is open.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Counters.
    pub fn stats(&self) -> DtlsStats {
        DtlsStats {
            records: self.records.stats().clone(),
            fragments_dropped: self.reassembler.dropped,
            ..self.stats.clone()
        }
    }

    /// Our certificate.
    pub fn certificate(&self) -> &DtlsCertificate {
        &self.certificate
    }

    /// Binds HelloVerifyRequest cookies to the peer's transport address (RFC 6347 §4.2.1);
    /// the [`Dtls`](crate::dtls::Dtls) wrapper sets it from the datagram source.
    pub fn set_peer_identity(&mut self, identity: &[u8]) {
        self.peer_identity.clear();
        self.peer_identity.extend_from_slice(identity);
    }

    /// RFC 5705 keying material; `label` must not be a TLS-reserved one (the caller's
    /// responsibility, RFC 5705 §4). Only once connected.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        len: usize,
    ) -> Result<Vec<u8>, DtlsError> {
        if self.state != State::Connected {
            return Err(DtlsError::NotConnected);
        }
        self.hs
            .export(label, context, len)
            .ok_or(DtlsError::NotConnected)
    }

    /// The SRTP master keys and salts (RFC 5764 §4.2), once connected with use_srtp.
    pub fn srtp_keys(&self) -> Option<SrtpKeys> {
        if self.state != State::Connected {
            return None;
        }
        self.hs.srtp_keys()
    }

    /// Encrypts `data` into one application_data record.
    pub fn send(&mut self, data: &[u8]) -> Result<(), DtlsError> {
        if self.state != State::Connected {
            return Err(DtlsError::NotConnected);
        }
        if data.len() > MAX_APPLICATION_DATA {
            return Err(DtlsError::TooLarge);
        }
        let mut record = Vec::with_capacity(data.len() + 64);
        if !self
            .records
            .seal(1, ContentType::APPLICATION_DATA, data, &mut record)
        {
            return Err(DtlsError::NotConnected);
        }
        self.out.push_back(record);
        Ok(())
    }

    /// Seals `data` into one application_data record written to the start of `out` (not
    /// queued for [`poll_packet`](Self::poll_packet)); returns the record's length. Encrypts
    /// from `data` straight into `out`: no copy, no allocation. `out` needs `data.len()` plus
    /// [`sealed_overhead`](crate::dtls::protection::sealed_overhead) bytes.
    pub fn send_into(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize, DtlsError> {
        if self.state != State::Connected {
            return Err(DtlsError::NotConnected);
        }
        if data.len() > MAX_APPLICATION_DATA {
            return Err(DtlsError::TooLarge);
        }
        let needed = self
            .records
            .sealed_len(data.len())
            .ok_or(DtlsError::NotConnected)?;
        if out.len() < needed {
            return Err(DtlsError::BufferTooSmall { needed });
        }
        self.records
            .seal_to(ContentType::APPLICATION_DATA, data, out)
            .ok_or(DtlsError::NotConnected)
    }

    /// Sends close_notify (RFC 5246 §7.2.1) and closes.
    pub fn close(&mut self) {
        if matches!(self.state, State::Closed | State::Failed) {
            return;
        }
        self.send_alert(Alert::close_notify());
        self.state = State::Closed;
        self.flight.disarm();
        self.events.push_back(DtlsEvent::Closed);
    }

    /// The next datagram payload to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.out.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::ClientStart {
            return Some(Instant::ZERO);
        }
        self.flight.deadline()
    }

    /// Time passed: start the client, or retransmit the current flight (RFC 6347 §4.2.4.1).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::ClientStart {
            self.start_client(now);
            return;
        }
        match self.flight.on_timeout(
            now,
            self.config.max_retransmit,
            self.config.max_retransmissions,
        ) {
            TimerOutcome::Idle => {}
            TimerOutcome::Retransmit => {
                tracing::debug!(role = ?self.role, state = ?self.state, "dtls: retransmitting flight");
                self.transmit_flight(now);
            }
            TimerOutcome::GiveUp => self.fail(DtlsError::Timeout),
        }
    }

    /// A datagram (one or more records) arrived from the peer. Application data comes out
    /// as [`DtlsEvent::ApplicationData`]; the datagram is copied once into a buffer the
    /// connection keeps. [`recv`](Self::recv) avoids both the copy and the event allocation.
    pub fn handle_packet(&mut self, now: Instant, packet: &[u8]) {
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend_from_slice(packet);
        self.process(now, &mut scratch, None);
        self.scratch = scratch;
    }

    /// A datagram arrived; its records are opened in place inside `packet` (which is left
    /// scrambled) and each application-data plaintext is handed to `deliver` instead of
    /// becoming an event. Handshake records, alerts and events are handled as by
    /// [`handle_packet`](Self::handle_packet). Allocates nothing per record once connected.
    pub fn recv(&mut self, now: Instant, packet: &mut [u8], mut deliver: impl FnMut(&[u8])) {
        self.process(now, packet, Some(&mut deliver));
    }

    fn process(&mut self, now: Instant, packet: &mut [u8], mut deliver: Deliver<'_, '_>) {
        if self.state == State::ClientStart {
            self.start_client(now);
        }
        if matches!(self.state, State::Closed | State::Failed) {
            return;
        }
        let mut peer_repeated = false;
        let mut offset = 0;
        while offset < packet.len() {
            let Ok((header, len)) = split_record(&packet[offset..]) else {
                self.records.count_malformed();
                break;
            };
            let record = &mut packet[offset..offset + len];
            offset += len;
            // One record at a time: handling one may install the keys the next one needs.
            self.on_record(
                now,
                &header,
                record,
                &mut peer_repeated,
                deliver.as_deref_mut(),
            );
            if matches!(self.state, State::Closed | State::Failed) {
                return;
            }
            if !self.early_records.is_empty() && self.records.can_read_epoch1() {
                self.replay_early_records(now, &mut peer_repeated, deliver.as_deref_mut());
                if matches!(self.state, State::Closed | State::Failed) {
                    return;
                }
            }
        }
        // RFC 6347 §4.2.4: a repeated flight from the peer means ours was lost. Resending
        // at most once per quarter of the initial timer keeps two endpoints that both see
        // repeats from bouncing flights at each other without pause.
        let gap = self.config.initial_retransmit / 4;
        if peer_repeated
            && !self.flight.is_empty()
            && now.saturating_duration_since(self.flight_sent_at) >= gap
        {
            self.transmit_flight(now);
        }
    }

    /// Opens one whole record (header included) in place and acts on it.
    pub(crate) fn on_record(
        &mut self,
        now: Instant,
        header: &RecordHeader,
        record: &mut [u8],
        peer_repeated: &mut bool,
        deliver: Deliver<'_, '_>,
    ) {
        let range = match self
            .records
            .open_in_place(header, &mut record[RECORD_HEADER_LEN..])
        {
            Opened::Plaintext(range) => range,
            Opened::Dropped => return,
            Opened::NoKeysYet => {
                self.keep_early_record(record);
                return;
            }
        };
        let plaintext = &record[RECORD_HEADER_LEN..][range];
        match header.content_type {
            ContentType::HANDSHAKE => {
                self.on_handshake_record(now, header, plaintext, peer_repeated)
            }
            ContentType::CHANGE_CIPHER_SPEC => {
                if !is_change_cipher_spec(plaintext) || header.epoch != 0 {
                    self.stats.handshake_malformed += 1;
                }
            }
            ContentType::ALERT => self.on_alert(header, plaintext),
            ContentType::APPLICATION_DATA => {
                if self.state == State::Connected && header.epoch == 1 {
                    match deliver {
                        Some(deliver) => deliver(plaintext),
                        None => self
                            .events
                            .push_back(DtlsEvent::ApplicationData(plaintext.to_vec())),
                    }
                } else {
                    self.stats.records_out_of_state += 1;
                }
            }
            _ => self.stats.records_out_of_state += 1,
        }
    }

    fn on_handshake_record(
        &mut self,
        now: Instant,
        record: &RecordHeader,
        mut rest: &[u8],
        peer_repeated: &mut bool,
    ) {
        while !rest.is_empty() {
            let (header, fragment, tail) = match HandshakeHeader::parse(rest) {
                Ok(parsed) => parsed,
                Err(error) => {
                    self.stats.handshake_malformed += 1;
                    tracing::debug!(?error, "dtls: malformed handshake fragment");
                    return;
                }
            };
            rest = tail;
            // Without renegotiation, Finished is the only handshake message of epoch 1.
            if (header.msg_type == HandshakeType::FINISHED) != (record.epoch == 1) {
                self.stats.records_out_of_state += 1;
                continue;
            }
            if self.state == State::ExpectClientHello {
                self.on_initial_client_hello(now, record, &header, fragment);
                continue;
            }
            match self.reassembler.push(&header, fragment) {
                FragmentOutcome::Accepted => {}
                FragmentOutcome::Retransmission => *peer_repeated = true,
                FragmentOutcome::Dropped => continue,
            }
            while let Some((msg_type, seq, body)) = self.reassembler.pop() {
                let result = match self.role {
                    DtlsRole::Client => self.client_message(now, msg_type, seq, &body),
                    DtlsRole::Server => self.server_message(now, msg_type, seq, &body),
                };
                if let Err(error) = result {
                    self.fail(error);
                    return;
                }
            }
        }
    }

    fn on_alert(&mut self, record: &RecordHeader, body: &[u8]) {
        let Some(alert) = Alert::parse(body) else {
            self.stats.handshake_malformed += 1;
            return;
        };
        // Once protected, unprotected alerts could be forged by anyone on the path.
        if self.state == State::Connected && record.epoch == 0 {
            self.stats.records_out_of_state += 1;
            return;
        }
        if alert.description == AlertDescription::CLOSE_NOTIFY {
            // RFC 5246 §7.2.1: answer close_notify with close_notify.
            self.send_alert(Alert::close_notify());
            self.state = State::Closed;
            self.flight.disarm();
            self.events.push_back(DtlsEvent::Closed);
        } else if alert.level == AlertLevel::FATAL {
            self.state = State::Failed;
            self.flight.disarm();
            self.events
                .push_back(DtlsEvent::Failed(DtlsError::PeerAlert(alert.description)));
        } else {
            tracing::debug!(
                description = alert.description.0,
                "dtls: warning alert ignored"
            );
        }
    }

    /// Ends the connection with `error`, sending the alert RFC 5246 §7.2.2 names for it.
    pub(crate) fn fail(&mut self, error: DtlsError) {
        tracing::debug!(role = ?self.role, %error, "dtls: connection failed");
        if let Some(description) = error.alert() {
            self.send_alert(Alert::fatal(description));
        }
        self.state = State::Failed;
        self.flight.disarm();
        self.events.push_back(DtlsEvent::Failed(error));
    }

    pub(crate) fn send_alert(&mut self, alert: Alert) {
        let mut record = Vec::with_capacity(48);
        if self.records.seal(
            self.write_epoch,
            ContentType::ALERT,
            &alert.to_bytes(),
            &mut record,
        ) {
            self.out.push_back(record);
        }
    }

    /// Queues a handshake message in the current flight and the transcript.
    pub(crate) fn queue_message(&mut self, epoch: u16, msg_type: HandshakeType, body: Vec<u8>) {
        let message_seq = self.next_send_seq;
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        self.hs.add(msg_type, message_seq, &body);
        self.flight.push(FlightItem::Handshake {
            epoch,
            msg_type,
            message_seq,
            body,
        });
    }

    /// Queues ChangeCipherSpec; what follows goes out in epoch 1.
    pub(crate) fn queue_change_cipher_spec(&mut self) {
        self.flight.push(FlightItem::ChangeCipherSpec);
        self.write_epoch = 1;
    }

    /// Sends the current flight and arms its timer, unless it is the final one.
    pub(crate) fn send_flight(&mut self, now: Instant, final_flight: bool) {
        let timer = (!final_flight).then_some(self.config.initial_retransmit);
        self.flight.arm(now, timer);
        self.flight_sent_at = now;
        let datagrams = self.flight.datagrams(
            &mut self.records,
            self.config.mtu,
            self.hs.suite().record_overhead(),
        );
        self.out.extend(datagrams);
    }

    fn transmit_flight(&mut self, now: Instant) {
        self.flight_sent_at = now;
        self.stats.flight_retransmissions += 1;
        let datagrams = self.flight.datagrams(
            &mut self.records,
            self.config.mtu,
            self.hs.suite().record_overhead(),
        );
        self.out.extend(datagrams);
    }

    /// Marks the handshake done and tells the application.
    pub(crate) fn connected(&mut self) {
        self.state = State::Connected;
        self.events.push_back(DtlsEvent::Connected {
            cipher_suite: self.hs.suite(),
            srtp_profile: self.hs.srtp_profile,
            peer_fingerprint: self.hs.peer_fingerprint(),
        });
    }
}
