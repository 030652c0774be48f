//! Framing TURN over a byte stream (RFC 8656 §12.5, §12.6 for TCP and TLS-over-TCP):
//! a stream interleaves STUN messages and ChannelData messages, each self-delimiting by its
//! header, and the receiver splits them apart again.
//!
//! [`StreamDecoder`] buffers what arrived, at most [`StreamDecoder::capacity`] bytes, and hands
//! out whole frames. A byte stream has no resynchronisation point: once framing is lost
//! (a first byte that is neither STUN nor ChannelData), the connection must be closed.

use core::fmt;
use std::collections::VecDeque;

use super::channel_data::{CHANNEL_HEADER_LEN, ChannelData, is_valid_channel, padded};
use crate::stun::{HEADER_LEN, MAGIC_COOKIE, MAX_MESSAGE_SIZE};

/// One message cut out of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole STUN message (header included); parse it with
    /// [`Message::parse`](crate::stun::Message::parse).
    Stun(Vec<u8>),
    /// A ChannelData message, padding removed.
    ChannelData {
        /// The channel number.
        channel: u16,
        /// The application data.
        data: Vec<u8>,
    },
}

/// Why a stream can no longer be framed; the connection should be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamError {
    /// A frame starts with a byte that is neither STUN (top bits 00) nor ChannelData (01).
    Unframeable(u8),
    /// A STUN header without the magic cookie, or a length that is not a multiple of 4.
    BadStunHeader,
    /// A ChannelData header with a channel number outside 0x4000..=0x4FFF.
    BadChannel(u16),
    /// More bytes arrived than the buffer may hold before a frame completes.
    Overflow {
        /// The configured capacity.
        capacity: usize,
    },
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unframeable(b) => write!(f, "byte {b:#04x} starts neither STUN nor ChannelData"),
            Self::BadStunHeader => {
                f.write_str("STUN header without magic cookie or 4-byte alignment")
            }
            Self::BadChannel(n) => write!(f, "channel number {n:#06x} outside 0x4000..=0x4FFF"),
            Self::Overflow { capacity } => write!(f, "more than {capacity} bytes buffered"),
        }
    }
}

impl std::error::Error for StreamError {}

/// Appends a STUN message or a padded ChannelData message to a stream's send buffer.
pub fn encode_frame(frame: &Frame, out: &mut Vec<u8>) {
    match frame {
        // STUN messages are multiples of 4 bytes by construction (RFC 8489 §5).
        Frame::Stun(bytes) => out.extend_from_slice(bytes),
        Frame::ChannelData { channel, data } => ChannelData {
            channel: *channel,
            data,
        }
        .encode(true, out),
    }
}

/// Splits a byte stream into [`Frame`]s with a bounded buffer.
#[derive(Clone)]
pub struct StreamDecoder {
    buf: VecDeque<u8>,
    capacity: usize,
    failed: Option<StreamError>,
}

impl fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("buffered", &self.buf.len())
            .field("capacity", &self.capacity)
            .field("failed", &self.failed)
            .finish()
    }
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl StreamDecoder {
    /// Enough for the largest STUN message plus the largest padded ChannelData message.
    pub const DEFAULT_CAPACITY: usize = 2 * MAX_MESSAGE_SIZE;

    /// A decoder holding at most `capacity` bytes (raised to one largest frame, so every
    /// legal frame fits).
    pub fn new(capacity: usize) -> Self {
        Self {
            buf: VecDeque::new(),
            capacity: capacity.max(MAX_MESSAGE_SIZE),
            failed: None,
        }
    }

    /// The most bytes held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The error that ended the stream, once framing is lost (it never recovers).
    pub fn error(&self) -> Option<StreamError> {
        self.failed
    }

    /// Bytes received but not yet handed out as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends bytes read from the stream. Fails (and stays failed) when they would exceed
    /// the capacity; call [`next_frame`](Self::next_frame) between reads to make room.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        if self.buf.len().saturating_add(bytes.len()) > self.capacity {
            let error = StreamError::Overflow {
                capacity: self.capacity,
            };
            self.failed = Some(error);
            return Err(error);
        }
        self.buf.extend(bytes);
        Ok(())
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed, or the error that ends
    /// the stream.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, StreamError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        match self.frame_len() {
            Ok(Some((total, frame_kind))) => {
                if self.buf.len() < total {
                    return Ok(None);
                }
                let bytes: Vec<u8> = self.buf.drain(..total).collect();
                Ok(Some(match frame_kind {
                    Kind::Stun => Frame::Stun(bytes),
                    Kind::ChannelData { channel, len } => Frame::ChannelData {
                        channel,
                        data: bytes[CHANNEL_HEADER_LEN..CHANNEL_HEADER_LEN + len].to_vec(),
                    },
                }))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                self.failed = Some(error);
                Err(error)
            }
        }
    }

    /// The total length of the frame at the head of the buffer, once its header is in.
    fn frame_len(&self) -> Result<Option<(usize, Kind)>, StreamError> {
        let Some(&first) = self.buf.front() else {
            return Ok(None);
        };
        if first & 0xC0 == 0 {
            if self.buf.len() < HEADER_LEN {
                return Ok(None);
            }
            let byte = |i: usize| self.buf.get(i).copied().unwrap_or(0);
            let len = usize::from(u16::from_be_bytes([byte(2), byte(3)]));
            let cookie = u32::from_be_bytes([byte(4), byte(5), byte(6), byte(7)]);
            if cookie != MAGIC_COOKIE || len % 4 != 0 {
                return Err(StreamError::BadStunHeader);
            }
            return Ok(Some((HEADER_LEN + len, Kind::Stun)));
        }
        // RFC 8656 §12: top bits 01 announce ChannelData; 0x5000..=0x7FFF are reserved numbers.
        if first & 0xC0 == 0x40 {
            if self.buf.len() < CHANNEL_HEADER_LEN {
                return Ok(None);
            }
            let byte = |i: usize| self.buf.get(i).copied().unwrap_or(0);
            let channel = u16::from_be_bytes([byte(0), byte(1)]);
            if !is_valid_channel(channel) {
                return Err(StreamError::BadChannel(channel));
            }
            let len = usize::from(u16::from_be_bytes([byte(2), byte(3)]));
            // RFC 8656 §12.6: over a stream the receiver skips the padding to find the next frame.
            let total = padded(CHANNEL_HEADER_LEN + len);
            return Ok(Some((total, Kind::ChannelData { channel, len })));
        }
        Err(StreamError::Unframeable(first))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Stun,
    ChannelData { channel: u16, len: usize },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::{MessageBuilder, MessageType, TransactionId};

    fn stun() -> Vec<u8> {
        MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([7; 12])).finish()
    }

    fn stream_of(frames: &[Frame]) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in frames {
            encode_frame(frame, &mut out);
        }
        out
    }

    #[test]
    fn splits_interleaved_frames_byte_by_byte() {
        let frames = vec![
            Frame::Stun(stun()),
            Frame::ChannelData {
                channel: 0x4000,
                data: b"abcde".to_vec(),
            },
            Frame::ChannelData {
                channel: 0x4abc,
                data: Vec::new(),
            },
            Frame::Stun(stun()),
        ];
        let bytes = stream_of(&frames);
        assert_eq!(bytes.len(), 20 + 12 + 4 + 20);
        let mut decoder = StreamDecoder::default();
        let mut out = Vec::new();
        for byte in &bytes {
            decoder.push(&[*byte]).unwrap();
            while let Some(frame) = decoder.next_frame().unwrap() {
                out.push(frame);
            }
        }
        assert_eq!(out, frames);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn whole_stream_at_once() {
        let frames = vec![
            Frame::ChannelData {
                channel: 0x4001,
                data: vec![9; 1001],
            },
            Frame::Stun(stun()),
        ];
        let mut decoder = StreamDecoder::default();
        decoder.push(&stream_of(&frames)).unwrap();
        assert_eq!(decoder.next_frame().unwrap(), Some(frames[0].clone()));
        assert_eq!(decoder.next_frame().unwrap(), Some(frames[1].clone()));
        assert_eq!(decoder.next_frame().unwrap(), None);
    }

    #[test]
    fn lost_framing_is_final() {
        let mut decoder = StreamDecoder::default();
        decoder.push(&[0x80, 1, 2, 3]).unwrap();
        assert_eq!(decoder.next_frame(), Err(StreamError::Unframeable(0x80)));
        assert_eq!(decoder.push(&stun()), Err(StreamError::Unframeable(0x80)));

        let mut decoder = StreamDecoder::default();
        decoder.push(&[0x50, 0, 0, 0]).unwrap();
        assert_eq!(decoder.next_frame(), Err(StreamError::BadChannel(0x5000)));

        let mut decoder = StreamDecoder::default();
        let mut bad = stun();
        bad[4] ^= 1;
        decoder.push(&bad).unwrap();
        assert_eq!(decoder.next_frame(), Err(StreamError::BadStunHeader));
    }

    #[test]
    fn buffer_is_bounded() {
        let mut decoder = StreamDecoder::new(0);
        assert_eq!(decoder.capacity(), MAX_MESSAGE_SIZE);
        // A header announcing a large frame, then more bytes than the capacity.
        decoder.push(&[0x40, 0x00, 0xFF, 0xFF]).unwrap();
        decoder.push(&vec![0; 60_000]).unwrap();
        assert_eq!(decoder.next_frame().unwrap(), None);
        let error = decoder.push(&vec![0; 20_000]).unwrap_err();
        assert_eq!(
            error,
            StreamError::Overflow {
                capacity: MAX_MESSAGE_SIZE
            }
        );
        assert!(decoder.next_frame().is_err());
    }
}
