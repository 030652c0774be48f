//! The SCTP packet (RFC 9260 §3): a 12-byte common header, then chunks, each padded to a
//! multiple of four bytes.
//!
//! [`PacketView`] is a checked view over received bytes that iterates the chunks without
//! copying; [`Packet`] is the owned, typed form with [`Packet::decode`] and [`Packet::encode`].

use super::Error;
use super::chunk::{CHUNK_HEADER_LEN, Chunk, ChunkType, padded};

/// Bytes of the common header: ports, verification tag, checksum.
pub const COMMON_HEADER_LEN: usize = 12;
/// Where the checksum sits in the common header.
const CHECKSUM_AT: usize = 8;

/// RFC 9260 §6.8: the CRC32c of `packet` with its checksum field taken as zero.
///
/// The value is the CRC32c (Castagnoli) of Appendix B as `crc32c::crc32c` computes it; it is
/// carried on the wire least significant byte first (the bit-reflected order Appendix B's
/// reference code produces), which [`PacketView::header`] and [`Packet::encode`] account for.
/// Input shorter than the common header is summed as it is.
pub fn checksum(packet: &[u8]) -> u32 {
    match packet.get(..COMMON_HEADER_LEN) {
        Some(_) => {
            let crc = crc32c::crc32c(&packet[..CHECKSUM_AT]);
            let crc = crc32c::crc32c_append(crc, &[0; 4]);
            crc32c::crc32c_append(crc, &packet[COMMON_HEADER_LEN..])
        }
        None => crc32c::crc32c(packet),
    }
}

/// RFC 9260 §3.1: the common header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHeader {
    /// The sender's port.
    pub source_port: u16,
    /// The receiver's port.
    pub destination_port: u16,
    /// The receiver's initiate tag (or zero on an INIT, or the sender's own tag when a T bit
    /// says so).
    pub verification_tag: u32,
    /// The checksum as carried, in the same form [`checksum`] returns.
    pub checksum: u32,
}

/// A received SCTP packet whose common header is present. No accessor panics.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    bytes: &'a [u8],
}

impl<'a> PacketView<'a> {
    /// Checks that `bytes` hold at least a common header.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < COMMON_HEADER_LEN {
            return Err(Error::Truncated {
                what: "common header",
            });
        }
        Ok(Self { bytes })
    }

    /// The common header.
    pub fn header(&self) -> CommonHeader {
        let b = self.bytes;
        CommonHeader {
            source_port: u16::from_be_bytes([b[0], b[1]]),
            destination_port: u16::from_be_bytes([b[2], b[3]]),
            verification_tag: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            checksum: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
        }
    }

    /// RFC 9260 §6.8: a packet whose checksum does not match MUST be discarded. An association
    /// that negotiated RFC 9653 zero checksums decides itself when to skip this.
    pub fn verify_checksum(&self) -> Result<(), Error> {
        let stored = self.header().checksum;
        let computed = checksum(self.bytes);
        if stored == computed {
            Ok(())
        } else {
            Err(Error::ChecksumMismatch { stored, computed })
        }
    }

    /// The chunks, in order. After the first malformed chunk the iterator yields that error
    /// and ends: RFC 9260 §3.2 gives no way to find the next chunk boundary past a bad length.
    pub fn chunks(&self) -> Chunks<'a> {
        Chunks {
            rest: &self.bytes[COMMON_HEADER_LEN..],
        }
    }
}

/// One chunk as received: type, flags and value, not yet decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawChunk<'a> {
    /// The chunk type.
    pub chunk_type: ChunkType,
    /// The flags byte.
    pub flags: u8,
    /// The value (what the length covers after the header), without padding.
    pub value: &'a [u8],
    /// Header and value, as an "Unrecognized Chunk Type" error cause quotes them.
    pub raw: &'a [u8],
}

impl RawChunk<'_> {
    /// Decodes the chunk.
    pub fn parse(&self) -> Result<Chunk, Error> {
        Chunk::parse(self.chunk_type, self.flags, self.value)
    }
}

/// Iterator over the chunks of a [`PacketView`].
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<RawChunk<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let result = split_chunk(self.rest);
        match result {
            Ok((_, rest)) => self.rest = rest,
            Err(_) => self.rest = &[],
        }
        Some(result.map(|(chunk, _)| chunk))
    }
}

impl core::iter::FusedIterator for Chunks<'_> {}

/// The first chunk of `bytes` and what follows its padding.
fn split_chunk(bytes: &[u8]) -> Result<(RawChunk<'_>, &[u8]), Error> {
    let what = "chunk";
    let header = bytes
        .get(..CHUNK_HEADER_LEN)
        .ok_or(Error::Truncated { what })?;
    let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
    if length < CHUNK_HEADER_LEN {
        return Err(Error::InvalidLength { what, length });
    }
    let raw = bytes.get(..length).ok_or(Error::Truncated { what })?;
    // RFC 9260 §3.2: the padding is not counted in the length; a last chunk whose padding
    // was left off is still accepted.
    let rest = bytes.get(padded(length)..).unwrap_or(&[]);
    let chunk = RawChunk {
        chunk_type: ChunkType(header[0]),
        flags: header[1],
        value: &raw[CHUNK_HEADER_LEN..],
        raw,
    };
    Ok((chunk, rest))
}

/// An SCTP packet in typed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The sender's port.
    pub source_port: u16,
    /// The receiver's port.
    pub destination_port: u16,
    /// See [`CommonHeader::verification_tag`].
    pub verification_tag: u32,
    /// The chunks, in order.
    pub chunks: Vec<Chunk>,
}

impl Packet {
    /// Verifies the checksum, then decodes every chunk.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let view = PacketView::new_checked(bytes)?;
        view.verify_checksum()?;
        Self::from_view(&view)
    }

    /// Decodes every chunk without looking at the checksum (for RFC 9653 zero checksums,
    /// or for a caller that verified it already).
    pub fn decode_unverified(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_view(&PacketView::new_checked(bytes)?)
    }

    fn from_view(view: &PacketView<'_>) -> Result<Self, Error> {
        let header = view.header();
        let chunks = view
            .chunks()
            .map(|raw| raw.and_then(|raw| raw.parse()))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            source_port: header.source_port,
            destination_port: header.destination_port,
            verification_tag: header.verification_tag,
            chunks,
        })
    }

    /// Bytes [`Packet::encode`] produces.
    pub fn encoded_len(&self) -> usize {
        COMMON_HEADER_LEN + self.chunks.iter().map(Chunk::encoded_len).sum::<usize>()
    }

    /// The packet on the wire, with its checksum.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&self.source_port.to_be_bytes());
        out.extend_from_slice(&self.destination_port.to_be_bytes());
        out.extend_from_slice(&self.verification_tag.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        for chunk in &self.chunks {
            chunk.encode(&mut out);
        }
        let sum = checksum(&out);
        out[CHECKSUM_AT..COMMON_HEADER_LEN].copy_from_slice(&sum.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sctp::chunk::{Data, Init, Parameter};

    #[test]
    fn crc32c_check_value() {
        // RFC 3720 §B.4 / the CRC catalogue: CRC-32C of "123456789".
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn checksum_of_a_packet_tshark_verified() {
        // A DATA chunk ("hello", TSN 99, stream 1, PPID 51) from port 5000 to 5000 with tag
        // 0x01020304. Its CRC32c was computed by an independent bitwise implementation and
        // stored least significant byte first (RFC 9260 Appendix B); Wireshark's tshark 4.0
        // (`-o sctp.checksum:CRC-32c`) reported the checksum of this exact packet as good.
        let hex = "1388138801020304ee3530330003001500000063000100000000003368656c6c6f000000";
        let bytes = hex_bytes(hex);
        let view = PacketView::new_checked(&bytes).unwrap();
        assert_eq!(view.header().checksum, 0x3330_35ee);
        assert_eq!(checksum(&bytes), 0x3330_35ee);
        assert_eq!(view.verify_checksum(), Ok(()));
        assert_eq!(view.header().source_port, 5000);
        assert_eq!(view.header().verification_tag, 0x0102_0304);
        let mut corrupted = bytes.clone();
        corrupted[20] ^= 1;
        assert!(
            PacketView::new_checked(&corrupted)
                .map(|v| v.verify_checksum().is_err())
                .unwrap_or(true)
        );
    }

    fn hex_bytes(hex: &str) -> Vec<u8> {
        let hex: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
        hex.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn sample() -> Packet {
        Packet {
            source_port: 5000,
            destination_port: 5000,
            verification_tag: 0x0102_0304,
            chunks: vec![
                Chunk::Init(Init {
                    initiate_tag: 7,
                    a_rwnd: 1 << 20,
                    outbound_streams: 1024,
                    inbound_streams: 1024,
                    initial_tsn: 99,
                    params: vec![Parameter::ForwardTsnSupported],
                }),
                Chunk::Data(Data {
                    unordered: false,
                    beginning: true,
                    ending: true,
                    immediate: false,
                    tsn: 99,
                    stream_id: 0,
                    ssn: 0,
                    ppid: 51,
                    payload: b"hi!".to_vec(),
                }),
                Chunk::CookieAck,
            ],
        }
    }

    #[test]
    fn packet_round_trip_and_checksum() {
        let packet = sample();
        let bytes = packet.encode();
        assert_eq!(bytes.len(), packet.encoded_len());
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(Packet::decode(&bytes), Ok(packet));

        let mut corrupt = bytes.clone();
        corrupt[20] ^= 1;
        assert!(matches!(
            Packet::decode(&corrupt),
            Err(Error::ChecksumMismatch { .. })
        ));
        assert!(Packet::decode_unverified(&corrupt).is_ok());
    }

    #[test]
    fn last_chunk_without_padding_is_accepted() {
        // Without the COOKIE ACK the DATA chunk (length 19) is last; drop its pad byte.
        let mut packet = sample();
        packet.chunks.pop();
        let full = packet.encode();
        let short = &full[..full.len() - 1];
        let parsed = Packet::decode_unverified(short).unwrap();
        assert_eq!(parsed.chunks, packet.chunks);
    }

    #[test]
    fn malformed_chunks_end_iteration_with_an_error() {
        let mut bytes = vec![0u8; COMMON_HEADER_LEN];
        bytes.extend_from_slice(&[11, 0, 0, 3]); // length below the header
        bytes.extend_from_slice(&[11, 0, 0, 4]);
        let view = PacketView::new_checked(&bytes).unwrap();
        let mut chunks = view.chunks();
        assert!(matches!(
            chunks.next(),
            Some(Err(Error::InvalidLength { .. }))
        ));
        assert_eq!(chunks.next(), None);

        let mut bytes = vec![0u8; COMMON_HEADER_LEN];
        bytes.extend_from_slice(&[0, 3, 0, 40, 1, 2]); // length beyond the packet
        assert!(matches!(
            Packet::decode_unverified(&bytes),
            Err(Error::Truncated { .. })
        ));
        assert!(PacketView::new_checked(&bytes[..11]).is_err());
    }
}
