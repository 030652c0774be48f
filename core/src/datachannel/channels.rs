//! The data channels of one SCTP association (RFC 8831) and their DCEP handshake (RFC 8832).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::channel::{Channel, ChannelId, ChannelOptions, ChannelState, reliability_of};
use super::event::{
    ChannelError, DataChannelConfig, DataChannelError, DataChannelEvent, DataChannelStats,
    MAX_CHANNELS, MessageData,
};
use super::transport::{Reliability, SctpTransport};
use super::wire::{DataChannelOpen, DcepError, DcepMessage, MessageType, Ppid};
use crate::dtls::DtlsRole;

/// RFC 9260 §3.3.2: streams are counted in 16 bits, so the highest stream id is 65534.
const MAX_STREAM_ID: u16 = u16::MAX - 1;

/// RFC 8831 §6.6: an empty message travels as one zero byte under an "empty" PPID.
const EMPTY_PAYLOAD: [u8; 1] = [0];

/// Every data channel on one association: opens them with DCEP or by agreement, sends and
/// receives their messages, and closes them with stream resets.
///
/// It never owns the association (see [`SctpTransport`]); it neither reads a clock nor keeps a
/// timer, so it is not a [`Machine`](crate::Machine) but a layer the PeerConnection drives.
/// After each call, drain [`Self::poll_event`].
#[derive(Debug)]
pub struct DataChannels {
    role: DtlsRole,
    config: DataChannelConfig,
    connected: bool,
    channels: BTreeMap<u16, Channel>,
    /// Channels whose buffered amount was above zero when last looked at.
    buffered: BTreeSet<u16>,
    /// Where the search for a free stream id of our parity starts.
    next_id: u16,
    events: VecDeque<DataChannelEvent>,
    stats: DataChannelStats,
}

impl DataChannels {
    /// Data channels for the side that plays `role` in the DTLS handshake under the
    /// association (it decides the parity of the ids we pick, RFC 8832 §6).
    pub fn new(role: DtlsRole, config: DataChannelConfig) -> Self {
        Self {
            role,
            config,
            connected: false,
            channels: BTreeMap::new(),
            buffered: BTreeSet::new(),
            next_id: parity(role),
            events: VecDeque::new(),
            stats: DataChannelStats::default(),
        }
    }

    /// The largest message the peer takes from now on (its `a=max-message-size`, RFC 8841;
    /// 0 = any size).
    pub fn set_max_message_size(&mut self, bytes: usize) {
        self.config.max_message_size = bytes;
    }

    /// Opens a channel. With `options.negotiated` the id is the agreed one and no DCEP is
    /// sent; otherwise the next free id of our parity is taken and DATA_CHANNEL_OPEN goes out
    /// now, or when the association connects. [`DataChannelEvent::Open`] follows.
    pub fn open<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        label: &str,
        protocol: &str,
        options: ChannelOptions,
    ) -> Result<ChannelId, DataChannelError> {
        // RFC 8832 §5.1: both lengths are 16-bit fields.
        if u16::try_from(label.len()).is_err() {
            return Err(DataChannelError::TooLong { what: "label" });
        }
        if u16::try_from(protocol.len()).is_err() {
            return Err(DataChannelError::TooLong { what: "protocol" });
        }
        if self.channels.len() >= self.max_channels() {
            return Err(DataChannelError::TooManyChannels);
        }
        let id = match options.negotiated {
            Some(id) if id > MAX_STREAM_ID => return Err(DataChannelError::InvalidId(id)),
            Some(id) if self.channels.contains_key(&id) => {
                return Err(DataChannelError::IdInUse(id));
            }
            Some(id) => id,
            None => self.free_id().ok_or(DataChannelError::TooManyChannels)?,
        };
        let negotiated = options.negotiated.is_some();
        let channel = Channel {
            id: ChannelId(id),
            label: label.to_owned(),
            protocol: protocol.to_owned(),
            reliability: Reliability {
                ordered: options.ordered,
                limit: options.limit,
            },
            priority: options.priority,
            negotiated,
            state: ChannelState::Connecting,
            awaiting_ack: !negotiated,
            pending_connect: !self.connected,
            buffered_amount_low_threshold: 0,
            last_buffered: 0,
        };
        if self.connected && !negotiated {
            send_open(transport, &channel)?;
        }
        self.channels.insert(id, channel);
        if self.connected && negotiated {
            self.set_open(id);
        }
        Ok(ChannelId(id))
    }

    /// Sends a string message (PPID 51, or 56 with one zero byte when empty, RFC 8831 §6.6).
    pub fn send_text<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        channel: ChannelId,
        text: &str,
    ) -> Result<(), DataChannelError> {
        self.send(transport, channel, text.as_bytes(), Ppid::STRING)
    }

    /// Sends a binary message (PPID 53, or 57 with one zero byte when empty, RFC 8831 §6.6).
    pub fn send_binary<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        channel: ChannelId,
        data: &[u8],
    ) -> Result<(), DataChannelError> {
        self.send(transport, channel, data, Ppid::BINARY)
    }

    fn send<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        id: ChannelId,
        data: &[u8],
        ppid: Ppid,
    ) -> Result<(), DataChannelError> {
        let channel = self
            .channels
            .get_mut(&id.0)
            .ok_or(DataChannelError::UnknownChannel(id))?;
        // The opener waits for the ACK (or any message) before sending, which keeps RFC 8832
        // §6's rule that user data sent before it MUST be ordered trivially true.
        if channel.state != ChannelState::Open {
            return Err(DataChannelError::NotOpen(id));
        }
        let max = self.config.max_message_size;
        if max != 0 && data.len() > max {
            return Err(DataChannelError::MessageTooLarge {
                size: data.len(),
                max,
            });
        }
        let (ppid, payload) = match (data.is_empty(), ppid) {
            (true, Ppid::STRING) => (Ppid::STRING_EMPTY, &EMPTY_PAYLOAD[..]),
            (true, _) => (Ppid::BINARY_EMPTY, &EMPTY_PAYLOAD[..]),
            (false, ppid) => (ppid, data),
        };
        transport.send(id.0, ppid, payload, channel.reliability)?;
        self.stats.messages_sent += 1;
        channel.last_buffered = transport.buffered_amount(id.0);
        if channel.last_buffered > 0 {
            self.buffered.insert(id.0);
        }
        Ok(())
    }

    /// Closes a channel (RFC 8831 §6.7): our outgoing stream is reset, and
    /// [`DataChannelEvent::Close`] follows once the peer resets its own. Closing a closing
    /// channel does nothing.
    pub fn close<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        id: ChannelId,
    ) -> Result<(), DataChannelError> {
        let channel = self
            .channels
            .get_mut(&id.0)
            .ok_or(DataChannelError::UnknownChannel(id))?;
        match channel.state {
            ChannelState::Closing => Ok(()),
            // Nothing went on the wire yet: there is no stream to reset.
            _ if channel.pending_connect => {
                self.forget(id.0);
                Ok(())
            }
            _ => {
                channel.state = ChannelState::Closing;
                if let Err(e) = transport.reset_streams(&[id.0]) {
                    tracing::debug!(%id, error = %e, "stream reset refused; closing at once");
                    self.forget(id.0);
                }
                Ok(())
            }
        }
    }

    /// The channel, unless it is closed.
    pub fn channel(&self, id: ChannelId) -> Option<&Channel> {
        self.channels.get(&id.0)
    }

    /// Every channel not yet closed, by id.
    pub fn channels(&self) -> impl Iterator<Item = &Channel> {
        self.channels.values()
    }

    /// Bytes queued on the channel and not yet sent (RTCDataChannel `bufferedAmount`).
    pub fn buffered_amount<T: SctpTransport>(&self, transport: &T, id: ChannelId) -> usize {
        transport.buffered_amount(id.0)
    }

    /// Sets the low-water mark of [`DataChannelEvent::BufferedAmountLow`] (default 0).
    pub fn set_buffered_amount_low_threshold(
        &mut self,
        id: ChannelId,
        bytes: usize,
    ) -> Result<(), DataChannelError> {
        let channel = self
            .channels
            .get_mut(&id.0)
            .ok_or(DataChannelError::UnknownChannel(id))?;
        channel.buffered_amount_low_threshold = bytes;
        Ok(())
    }

    /// The association sent queued data: looks at the buffered amounts again and raises
    /// [`DataChannelEvent::BufferedAmountLow`] for each channel whose amount fell from above
    /// its threshold to at or below it. Call it after draining the association's transmits.
    pub fn update_buffered_amounts<T: SctpTransport>(&mut self, transport: &T) {
        let mut drained = Vec::new();
        for &stream in &self.buffered {
            let Some(channel) = self.channels.get_mut(&stream) else {
                drained.push(stream);
                continue;
            };
            let now = transport.buffered_amount(stream);
            let threshold = channel.buffered_amount_low_threshold;
            if channel.last_buffered > threshold && now <= threshold {
                self.events
                    .push_back(DataChannelEvent::BufferedAmountLow(channel.id));
            }
            channel.last_buffered = now;
            if now == 0 {
                drained.push(stream);
            }
        }
        for stream in drained {
            self.buffered.remove(&stream);
        }
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<DataChannelEvent> {
        self.events.pop_front()
    }

    /// What was sent, received and dropped.
    pub fn stats(&self) -> &DataChannelStats {
        &self.stats
    }

    /// The association is established: OPENs wait no longer, negotiated channels open.
    pub fn handle_connected<T: SctpTransport>(&mut self, transport: &mut T) {
        self.connected = true;
        let pending: Vec<u16> = self
            .channels
            .values()
            .filter(|c| c.pending_connect)
            .map(|c| c.id.0)
            .collect();
        for id in pending {
            let Some(channel) = self.channels.get_mut(&id) else {
                continue;
            };
            channel.pending_connect = false;
            if channel.negotiated {
                self.set_open(id);
            } else if let Err(e) = send_open(transport, channel) {
                self.events.push_back(DataChannelEvent::Error {
                    channel: ChannelId(id),
                    error: ChannelError::OpenFailed(e),
                });
                self.forget(id);
            }
        }
    }

    /// The association is gone: every channel closes.
    pub fn handle_closed(&mut self) {
        self.connected = false;
        let ids: Vec<u16> = self.channels.keys().copied().collect();
        for id in ids {
            self.forget(id);
        }
    }

    /// The peer reset these incoming streams (RFC 6525 §5.2.2). RFC 8831 §6.7: a channel the
    /// peer closes gets our outgoing stream reset in turn; one we were closing is now closed.
    pub fn handle_stream_reset<T: SctpTransport>(&mut self, transport: &mut T, streams: &[u16]) {
        let mut answer = Vec::new();
        for &stream in streams {
            let Some(channel) = self.channels.get(&stream) else {
                tracing::trace!(stream, "reset of a stream without a channel");
                continue;
            };
            if channel.state != ChannelState::Closing {
                answer.push(stream);
                if channel.awaiting_ack && !channel.pending_connect {
                    // RFC 8832 §6: a reset before the ACK means the peer refused the OPEN.
                    self.events.push_back(DataChannelEvent::Error {
                        channel: channel.id,
                        error: ChannelError::OpenRefused,
                    });
                }
            }
            self.forget(stream);
        }
        if !answer.is_empty()
            && let Err(e) = transport.reset_streams(&answer)
        {
            tracing::debug!(error = %e, "could not reset our side of closed channels");
        }
    }

    /// One whole SCTP message arrived on `stream` with payload protocol identifier `ppid`.
    pub fn handle_message<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        stream: u16,
        ppid: Ppid,
        data: &[u8],
    ) {
        self.message(transport, stream, ppid, data);
    }

    /// [`Self::handle_message`] for a message the association hands over as its own buffer,
    /// which becomes the delivered message without a copy.
    pub fn handle_message_owned<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        stream: u16,
        ppid: Ppid,
        data: Vec<u8>,
    ) {
        self.message(transport, stream, ppid, data);
    }

    fn message<T: SctpTransport, D: AsRef<[u8]> + Into<Vec<u8>>>(
        &mut self,
        transport: &mut T,
        stream: u16,
        ppid: Ppid,
        data: D,
    ) {
        let text = match ppid {
            Ppid::DCEP => return self.handle_dcep(transport, stream, data.as_ref()),
            Ppid::STRING | Ppid::STRING_EMPTY => true,
            Ppid::BINARY | Ppid::BINARY_EMPTY => false,
            _ => {
                self.stats.unknown_ppid += 1;
                tracing::debug!(
                    stream,
                    ppid = ppid.0,
                    "dropped a message with an unused PPID"
                );
                return;
            }
        };
        let Some(channel) = self.channels.get(&stream) else {
            self.stats.unknown_stream += 1;
            tracing::debug!(stream, "dropped a message on a stream without a channel");
            return;
        };
        // RFC 8832 §6: any message from the peer opens a channel still waiting for its ACK.
        if channel.state == ChannelState::Connecting {
            self.set_open(stream);
        }
        let channel = ChannelId(stream);
        let data = match ppid {
            // RFC 8831 §6.6: the single byte of an empty message carries nothing.
            Ppid::STRING_EMPTY => MessageData::Text(String::new()),
            Ppid::BINARY_EMPTY => MessageData::Binary(Vec::new()),
            _ if text => match String::from_utf8(data.into()) {
                Ok(s) => MessageData::Text(s),
                Err(_) => {
                    self.stats.invalid_utf8 += 1;
                    tracing::debug!(%channel, "dropped a string message that is not UTF-8");
                    let error = ChannelError::InvalidUtf8;
                    self.events
                        .push_back(DataChannelEvent::Error { channel, error });
                    return;
                }
            },
            _ => MessageData::Binary(data.into()),
        };
        self.stats.messages_received += 1;
        self.events
            .push_back(DataChannelEvent::Message { channel, data });
    }

    fn handle_dcep<T: SctpTransport>(&mut self, transport: &mut T, stream: u16, data: &[u8]) {
        match DcepMessage::parse(data) {
            Ok(DcepMessage::Open(open)) => self.handle_open(transport, stream, open),
            Ok(DcepMessage::Ack) => {
                let waiting = self
                    .channels
                    .get(&stream)
                    .is_some_and(|c| c.awaiting_ack && c.state == ChannelState::Connecting);
                if waiting {
                    self.set_open(stream);
                } else {
                    self.stats.dcep_unexpected += 1;
                    tracing::debug!(stream, "dropped a DATA_CHANNEL_ACK nobody waited for");
                }
            }
            Err(e) => {
                self.stats.dcep_malformed += 1;
                tracing::debug!(stream, error = %e, "dropped a malformed DCEP message");
                // RFC 8832 §6: an OPEN that is not well formed MUST close the channel, which
                // on a stream without one means resetting it.
                let open = matches!(
                    e,
                    DcepError::Truncated { .. } | DcepError::InvalidUtf8 { .. }
                );
                if open && !self.channels.contains_key(&stream) {
                    self.refuse_open(transport, stream);
                }
            }
        }
    }

    /// RFC 8832 §6: the peer's DATA_CHANNEL_OPEN.
    fn handle_open<T: SctpTransport>(
        &mut self,
        transport: &mut T,
        stream: u16,
        open: DataChannelOpen<'_>,
    ) {
        // RFC 8832 §6: an OPEN on a used stream, with the wrong parity or with bad
        // parameters MUST close the channel and MUST NOT be acknowledged.
        if self.channels.contains_key(&stream) {
            tracing::debug!(stream, "DATA_CHANNEL_OPEN on a stream in use; closing it");
            self.stats.opens_refused += 1;
            let _ = self.close(transport, ChannelId(stream));
            return;
        }
        let reliability = reliability_of(open.channel_type, open.reliability_parameter);
        let ours = stream % 2 == parity(self.role);
        let full = self.channels.len() >= self.max_channels();
        let Some(reliability) = reliability.filter(|_| !ours && !full && stream <= MAX_STREAM_ID)
        else {
            tracing::debug!(
                stream,
                ours,
                full,
                channel_type = open.channel_type.0,
                "refused an OPEN"
            );
            self.refuse_open(transport, stream);
            return;
        };
        if let Err(e) = transport.send(
            stream,
            Ppid::DCEP,
            &[MessageType::DATA_CHANNEL_ACK.0],
            Reliability::RELIABLE_ORDERED,
        ) {
            tracing::debug!(stream, error = %e, "could not acknowledge an OPEN");
            self.refuse_open(transport, stream);
            return;
        }
        self.channels.insert(
            stream,
            Channel {
                id: ChannelId(stream),
                label: open.label.to_owned(),
                protocol: open.protocol.to_owned(),
                reliability,
                priority: open.priority,
                negotiated: false,
                state: ChannelState::Connecting,
                awaiting_ack: false,
                pending_connect: false,
                buffered_amount_low_threshold: 0,
                last_buffered: 0,
            },
        );
        self.set_open(stream);
    }

    /// Refuses the peer's OPEN on a stream without a channel by resetting it (RFC 8832 §6).
    fn refuse_open<T: SctpTransport>(&mut self, transport: &mut T, stream: u16) {
        self.stats.opens_refused += 1;
        if let Err(e) = transport.reset_streams(&[stream]) {
            tracing::debug!(stream, error = %e, "could not reset a refused stream");
        }
    }

    fn set_open(&mut self, id: u16) {
        if let Some(channel) = self.channels.get_mut(&id) {
            channel.state = ChannelState::Open;
            channel.awaiting_ack = false;
            self.events.push_back(DataChannelEvent::Open(channel.id));
        }
    }

    /// Drops a channel and tells the application it is closed.
    fn forget(&mut self, id: u16) {
        if self.channels.remove(&id).is_some() {
            self.buffered.remove(&id);
            self.events
                .push_back(DataChannelEvent::Close(ChannelId(id)));
        }
    }

    fn max_channels(&self) -> usize {
        self.config.max_channels.min(MAX_CHANNELS)
    }

    /// The first free stream id of our parity at or after `next_id`, wrapping once.
    fn free_id(&mut self) -> Option<u16> {
        let first = parity(self.role);
        let half = usize::from(MAX_STREAM_ID / 2) + 1;
        let mut id = self.next_id;
        for _ in 0..half {
            if !self.channels.contains_key(&id) {
                self.next_id = if id >= MAX_STREAM_ID - 1 {
                    first
                } else {
                    id + 2
                };
                return Some(id);
            }
            id = if id >= MAX_STREAM_ID - 1 {
                first
            } else {
                id + 2
            };
        }
        None
    }
}

/// RFC 8832 §6: the DTLS client MUST choose even stream ids, the server odd ones.
fn parity(role: DtlsRole) -> u16 {
    match role {
        DtlsRole::Client => 0,
        DtlsRole::Server => 1,
    }
}

/// Sends DATA_CHANNEL_OPEN for `channel` (RFC 8832 §5.1), reliable and ordered (§6).
fn send_open<T: SctpTransport>(
    transport: &mut T,
    channel: &Channel,
) -> Result<(), DataChannelError> {
    let (channel_type, reliability_parameter) = channel.channel_type();
    let open = DcepMessage::Open(DataChannelOpen {
        channel_type,
        priority: channel.priority,
        reliability_parameter,
        label: &channel.label,
        protocol: &channel.protocol,
    });
    let bytes = open.to_vec().map_err(|e| match e {
        DcepError::TooLong { what, .. } => DataChannelError::TooLong { what },
        // NOTE: writing fails only on lengths, which `open` checked already.
        _ => DataChannelError::TooLong { what: "label" },
    })?;
    transport.send(
        channel.id.0,
        Ppid::DCEP,
        &bytes,
        Reliability::RELIABLE_ORDERED,
    )?;
    Ok(())
}
