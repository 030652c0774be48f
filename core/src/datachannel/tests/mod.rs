//! Two `DataChannels` back to back over an in-memory stand-in for the SCTP association: a
//! queue per direction that delivers whole messages and stream resets in order.

use std::collections::VecDeque;

use super::*;

mod lifecycle;
mod messages;
use crate::dtls::DtlsRole;

/// What one side's stand-in association carries to the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item {
    Message {
        stream: u16,
        ppid: Ppid,
        data: Vec<u8>,
        reliability: Reliability,
    },
    Reset(Vec<u16>),
}

/// The stand-in association: a FIFO of whole messages and resets.
#[derive(Debug, Default)]
pub(super) struct FakeSctp {
    pub(super) queue: VecDeque<Item>,
    /// Refuse every send and reset, as an association that is gone would.
    pub(super) refuse: bool,
}

impl SctpTransport for FakeSctp {
    fn send(
        &mut self,
        stream: u16,
        ppid: Ppid,
        data: &[u8],
        reliability: Reliability,
    ) -> Result<(), TransportError> {
        if self.refuse {
            return Err(TransportError::NotConnected);
        }
        self.queue.push_back(Item::Message {
            stream,
            ppid,
            data: data.to_vec(),
            reliability,
        });
        Ok(())
    }

    fn reset_streams(&mut self, streams: &[u16]) -> Result<(), TransportError> {
        if self.refuse {
            return Err(TransportError::NotConnected);
        }
        self.queue.push_back(Item::Reset(streams.to_vec()));
        Ok(())
    }

    fn buffered_amount(&self, stream: u16) -> usize {
        let user_bytes = |item: &Item| match item {
            Item::Message {
                stream: s,
                ppid,
                data,
                ..
            } if *s == stream && *ppid != Ppid::DCEP => data.len(),
            _ => 0,
        };
        self.queue.iter().map(user_bytes).sum()
    }
}

impl FakeSctp {
    pub(super) fn dcep_sent(&self) -> usize {
        let dcep = |i: &&Item| matches!(i, Item::Message { ppid, .. } if *ppid == Ppid::DCEP);
        self.queue.iter().filter(dcep).count()
    }
}

/// A is the DTLS client, B the server.
pub(super) struct Pair {
    pub(super) a: DataChannels,
    pub(super) b: DataChannels,
    pub(super) sa: FakeSctp,
    pub(super) sb: FakeSctp,
}

/// Hands one queued item of `from_sctp` to `to`, then lets `from` see its buffered amounts.
fn deliver_one(
    from: &mut DataChannels,
    from_sctp: &mut FakeSctp,
    to: &mut DataChannels,
    to_sctp: &mut FakeSctp,
) -> bool {
    let Some(item) = from_sctp.queue.pop_front() else {
        return false;
    };
    match item {
        Item::Message {
            stream, ppid, data, ..
        } => to.handle_message(to_sctp, stream, ppid, &data),
        Item::Reset(streams) => to.handle_stream_reset(to_sctp, &streams),
    }
    from.update_buffered_amounts(from_sctp);
    true
}

impl Pair {
    pub(super) fn new(config: DataChannelConfig) -> Self {
        Self {
            a: DataChannels::new(DtlsRole::Client, config),
            b: DataChannels::new(DtlsRole::Server, config),
            sa: FakeSctp::default(),
            sb: FakeSctp::default(),
        }
    }

    pub(super) fn connected() -> Self {
        let mut pair = Self::new(DataChannelConfig::default());
        pair.a.handle_connected(&mut pair.sa);
        pair.b.handle_connected(&mut pair.sb);
        pair
    }

    /// Delivers one item from A to B.
    pub(super) fn a_to_b(&mut self) -> bool {
        deliver_one(&mut self.a, &mut self.sa, &mut self.b, &mut self.sb)
    }

    /// Delivers everything both ways until both queues are empty.
    pub(super) fn settle(&mut self) {
        loop {
            let ab = self.a_to_b();
            let ba = deliver_one(&mut self.b, &mut self.sb, &mut self.a, &mut self.sa);
            if !ab && !ba {
                return;
            }
        }
    }

    pub(super) fn events_a(&mut self) -> Vec<DataChannelEvent> {
        std::iter::from_fn(|| self.a.poll_event()).collect()
    }

    pub(super) fn events_b(&mut self) -> Vec<DataChannelEvent> {
        std::iter::from_fn(|| self.b.poll_event()).collect()
    }

    /// A opens a default channel and both sides see it open.
    pub(super) fn open_from_a(&mut self, label: &str) -> ChannelId {
        let id = self
            .a
            .open(&mut self.sa, label, "", ChannelOptions::default())
            .unwrap();
        self.settle();
        assert_eq!(self.events_a(), [DataChannelEvent::Open(id)]);
        assert_eq!(self.events_b(), [DataChannelEvent::Open(id)]);
        id
    }
}

pub(super) fn text(channel: ChannelId, s: &str) -> DataChannelEvent {
    DataChannelEvent::Message {
        channel,
        data: MessageData::Text(s.to_owned()),
    }
}

pub(super) fn binary(channel: ChannelId, b: &[u8]) -> DataChannelEvent {
    DataChannelEvent::Message {
        channel,
        data: MessageData::Binary(b.to_vec()),
    }
}
