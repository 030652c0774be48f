//! A classic pcap writer for simulated UDP traffic.
//!
//! Format: libpcap 2.4 with magic `0xa1b2c3d4` (microsecond timestamps), little-endian, link
//! type 101 (`LINKTYPE_RAW`: each record starts with an IPv4 or IPv6 header). The simulator has
//! no IP layer, so each record gets a synthesised IP header (TTL 64, checksum correct) and a UDP
//! header whose checksum is computed too (RFC 768; mandatory for IPv6 per RFC 8200 §8.1).
//! Wireshark and tshark dissect STUN on its registered ports and, by heuristic, elsewhere.

use core::net::{IpAddr, SocketAddr};
use std::io::{self, Write};

use pigeon::Instant;

const LINKTYPE_RAW: u32 = 101;
const SNAPLEN: u32 = 65535;

/// Writes UDP datagrams as raw-IP pcap records.
pub struct PcapWriter<W: Write> {
    out: W,
    ipv4_id: u16,
    buf: Vec<u8>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the pcap global header to `out`.
    pub fn new(mut out: W) -> io::Result<PcapWriter<W>> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        header.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            ipv4_id: 0,
            buf: Vec::new(),
        })
    }

    /// Appends one UDP datagram seen at `at`. Datagrams whose addresses are of different families
    /// are skipped (they cannot be one IP packet); payloads too large for one UDP datagram are cut
    /// to fit, and the record says so through its captured length.
    pub fn write_udp(
        &mut self,
        at: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        payload: &[u8],
    ) -> io::Result<()> {
        let buf = &mut self.buf;
        buf.clear();
        match (source.ip(), destination.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let payload = &payload[..payload.len().min(65535 - 28)];
                let total = 28 + payload.len();
                self.ipv4_id = self.ipv4_id.wrapping_add(1);
                let mut ip = [0u8; 20];
                ip[0] = 0x45;
                ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
                ip[4..6].copy_from_slice(&self.ipv4_id.to_be_bytes());
                ip[6] = 0x40; // don't fragment
                ip[8] = 64;
                ip[9] = 17;
                ip[12..16].copy_from_slice(&s.octets());
                ip[16..20].copy_from_slice(&d.octets());
                let sum = !fold(sum_words(0, &ip));
                ip[10..12].copy_from_slice(&sum.to_be_bytes());
                buf.extend_from_slice(&ip);
                let pseudo = sum_words(sum_words(0, &s.octets()), &d.octets())
                    + 17
                    + (8 + payload.len()) as u64;
                push_udp(buf, source.port(), destination.port(), payload, pseudo);
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let payload = &payload[..payload.len().min(65535 - 8)];
                let udp_len = 8 + payload.len();
                let mut ip = [0u8; 40];
                ip[0] = 0x60;
                ip[4..6].copy_from_slice(&(udp_len as u16).to_be_bytes());
                ip[6] = 17;
                ip[7] = 64;
                ip[8..24].copy_from_slice(&s.octets());
                ip[24..40].copy_from_slice(&d.octets());
                buf.extend_from_slice(&ip);
                let pseudo =
                    sum_words(sum_words(0, &s.octets()), &d.octets()) + 17 + udp_len as u64;
                push_udp(buf, source.port(), destination.port(), payload, pseudo);
            }
            _ => return Ok(()),
        }
        let nanos = at.as_nanos();
        let secs = u32::try_from(nanos / 1_000_000_000).unwrap_or(u32::MAX);
        let micros = ((nanos % 1_000_000_000) / 1_000) as u32;
        let len = buf.len() as u32;
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&secs.to_le_bytes());
        record[4..8].copy_from_slice(&micros.to_le_bytes());
        record[8..12].copy_from_slice(&len.to_le_bytes());
        record[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&record)?;
        self.out.write_all(buf)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The underlying writer, borrowed.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

fn push_udp(buf: &mut Vec<u8>, sport: u16, dport: u16, payload: &[u8], pseudo: u64) {
    let len = (8 + payload.len()) as u16;
    let mut udp = [0u8; 8];
    udp[0..2].copy_from_slice(&sport.to_be_bytes());
    udp[2..4].copy_from_slice(&dport.to_be_bytes());
    udp[4..6].copy_from_slice(&len.to_be_bytes());
    let sum = sum_words(sum_words(pseudo, &udp), payload);
    // RFC 768: a computed checksum of zero is sent as all ones.
    let checksum = match !fold(sum) {
        0 => 0xffff,
        c => c,
    };
    udp[6..8].copy_from_slice(&checksum.to_be_bytes());
    buf.extend_from_slice(&udp);
    buf.extend_from_slice(payload);
}

/// RFC 1071 one's-complement sum of big-endian 16-bit words (odd byte padded with zero).
fn sum_words(mut acc: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_record_has_valid_checksums() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_udp(
            Instant::from_millis(1_500),
            "10.0.0.1:1000".parse().unwrap(),
            "192.0.2.7:3478".parse().unwrap(),
            b"abc",
        )
        .unwrap();
        let out = w.into_inner();
        assert_eq!(&out[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(u32::from_le_bytes(out[20..24].try_into().unwrap()), 101);
        let rec = &out[24..];
        assert_eq!(u32::from_le_bytes(rec[0..4].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(rec[4..8].try_into().unwrap()), 500_000);
        let pkt = &rec[16..];
        assert_eq!(pkt.len(), 31);
        // A valid IPv4 header sums to 0xffff.
        assert_eq!(fold(sum_words(0, &pkt[..20])), 0xffff);
        // So does pseudo-header + UDP segment.
        let pseudo = sum_words(sum_words(0, &pkt[12..16]), &pkt[16..20]) + 17 + 11;
        assert_eq!(fold(sum_words(pseudo, &pkt[20..])), 0xffff);
    }

    #[test]
    fn ipv6_record_and_mixed_skip() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let a: SocketAddr = "[2001:db8::1]:5".parse().unwrap();
        let b: SocketAddr = "[2001:db8::2]:6".parse().unwrap();
        w.write_udp(Instant::ZERO, a, b, b"xyz!").unwrap();
        w.write_udp(Instant::ZERO, a, "10.0.0.1:1".parse().unwrap(), b"x")
            .unwrap();
        let out = w.into_inner();
        assert_eq!(out.len(), 24 + 16 + 40 + 8 + 4);
        let pkt = &out[40..];
        let pseudo = sum_words(sum_words(0, &pkt[8..24]), &pkt[24..40]) + 17 + 12;
        assert_eq!(fold(sum_words(pseudo, &pkt[40..])), 0xffff);
    }
}
