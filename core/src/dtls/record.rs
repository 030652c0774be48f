//! The DTLSPlaintext record header (RFC 6347 §4.1) and the split of a datagram into records.
//!
//! ```text
//! struct {
//!     ContentType type;               // 1 byte
//!     ProtocolVersion version;        // 2 bytes, {254, 253} for DTLS 1.2
//!     uint16 epoch;
//!     uint48 sequence_number;
//!     uint16 length;
//!     opaque fragment[DTLSPlaintext.length];
//! } DTLSPlaintext;
//! ```

/// Length of the record header.
pub const RECORD_HEADER_LEN: usize = 13;

/// RFC 6347 §4.1.1: the record payload must not exceed 2^14 bytes plus the expansion of
/// the protection (RFC 5246 §6.2.3: 2048 at most).
pub const MAX_RECORD_PAYLOAD: usize = (1 << 14) + 2048;

/// Largest 48-bit sequence number.
pub const MAX_SEQUENCE: u64 = (1 << 48) - 1;

/// A record content type (RFC 5246 §6.2.1); unknown values are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentType(pub u8);

impl ContentType {
    /// change_cipher_spec(20).
    pub const CHANGE_CIPHER_SPEC: ContentType = ContentType(20);
    /// alert(21).
    pub const ALERT: ContentType = ContentType(21);
    /// handshake(22).
    pub const HANDSHAKE: ContentType = ContentType(22);
    /// application_data(23).
    pub const APPLICATION_DATA: ContentType = ContentType(23);
}

/// DTLS 1.2 version on the wire: {254, 253} (RFC 6347 §4.1).
pub const DTLS_1_2: u16 = 0xFEFD;
/// DTLS 1.0 version on the wire: {254, 255}; clients may put it on their first records
/// (RFC 6347 §4.1 via RFC 5246 Appendix E.1).
pub const DTLS_1_0: u16 = 0xFEFF;

/// A parsed record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type.
    pub content_type: ContentType,
    /// Protocol version.
    pub version: u16,
    /// Epoch: incremented at every ChangeCipherSpec (RFC 6347 §4.1).
    pub epoch: u16,
    /// 48-bit sequence number within the epoch.
    pub sequence_number: u64,
    /// Length of the fragment that follows.
    pub length: u16,
}

impl RecordHeader {
    /// The 64-bit seq_num used in the MAC/AAD: epoch in the top 16 bits, then the 48-bit
    /// sequence number (RFC 6347 §4.1.2.1).
    pub fn epoch_seq(&self) -> u64 {
        (u64::from(self.epoch) << 48) | (self.sequence_number & MAX_SEQUENCE)
    }

    /// Parses a header from the start of `bytes`.
    pub fn parse(bytes: &[u8]) -> Option<RecordHeader> {
        let h = bytes.get(..RECORD_HEADER_LEN)?;
        let mut seq = [0u8; 8];
        seq[2..].copy_from_slice(&h[5..11]);
        Some(RecordHeader {
            content_type: ContentType(h[0]),
            version: u16::from_be_bytes([h[1], h[2]]),
            epoch: u16::from_be_bytes([h[3], h[4]]),
            sequence_number: u64::from_be_bytes(seq),
            length: u16::from_be_bytes([h[11], h[12]]),
        })
    }

    /// Appends the 13-byte header to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }

    /// The 13-byte header.
    pub fn to_bytes(&self) -> [u8; RECORD_HEADER_LEN] {
        let mut h = [0u8; RECORD_HEADER_LEN];
        h[0] = self.content_type.0;
        h[1..3].copy_from_slice(&self.version.to_be_bytes());
        h[3..5].copy_from_slice(&self.epoch.to_be_bytes());
        h[5..11].copy_from_slice(&(self.sequence_number & MAX_SEQUENCE).to_be_bytes()[2..]);
        h[11..].copy_from_slice(&self.length.to_be_bytes());
        h
    }
}

/// One record seen in a datagram: its header and its (still protected) fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The header.
    pub header: RecordHeader,
    /// The fragment (ciphertext once the epoch is protected).
    pub fragment: &'a [u8],
}

/// Why a datagram could not be split further into records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Fewer bytes than a header, or a length running past the datagram.
    Truncated,
    /// A version that is not DTLS 1.0 or 1.2.
    BadVersion,
    /// A length above the RFC 6347 §4.1.1 limit.
    TooLong,
}

/// Iterates over the records of a datagram (RFC 6347 §4.1.1: several records may share one
/// datagram). Parsing stops at the first malformed record, which the iterator yields as an
/// error: RFC 6347 §4.1.2.7 lets the receiver discard the rest of such a datagram.
pub fn records(datagram: &[u8]) -> Records<'_> {
    Records {
        rest: datagram,
        failed: false,
    }
}

/// The iterator of [`records`].
#[derive(Debug, Clone)]
pub struct Records<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let result = self.split_one();
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

impl<'a> Records<'a> {
    fn split_one(&mut self) -> Result<Record<'a>, RecordError> {
        let (header, end) = split_record(self.rest)?;
        let fragment = &self.rest[RECORD_HEADER_LEN..end];
        self.rest = &self.rest[end..];
        Ok(Record { header, fragment })
    }
}

/// Checks the record at the start of `bytes` and returns its header and its whole length
/// (header and fragment). Lets a caller that owns a mutable datagram open records in place
/// without holding a borrowing iterator.
pub fn split_record(bytes: &[u8]) -> Result<(RecordHeader, usize), RecordError> {
    let header = RecordHeader::parse(bytes).ok_or(RecordError::Truncated)?;
    if header.version != DTLS_1_2 && header.version != DTLS_1_0 {
        return Err(RecordError::BadVersion);
    }
    let len = usize::from(header.length);
    if len > MAX_RECORD_PAYLOAD {
        return Err(RecordError::TooLong);
    }
    let end = RECORD_HEADER_LEN + len;
    if bytes.len() < end {
        return Err(RecordError::Truncated);
    }
    Ok((header, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip_and_epoch_seq() {
        let header = RecordHeader {
            content_type: ContentType::HANDSHAKE,
            version: DTLS_1_2,
            epoch: 1,
            sequence_number: 0x0000_1234_5678_9abc,
            length: 3,
        };
        let mut out = Vec::new();
        header.emit(&mut out);
        assert_eq!(
            out,
            [
                22, 0xfe, 0xfd, 0, 1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0, 3
            ]
        );
        assert_eq!(RecordHeader::parse(&out), Some(header));
        assert_eq!(header.epoch_seq(), 0x0001_1234_5678_9abc);
    }

    #[test]
    fn several_records_per_datagram_and_truncation() {
        let mut datagram = Vec::new();
        for (i, body) in [&b"abc"[..], b"", b"hello"].iter().enumerate() {
            RecordHeader {
                content_type: ContentType::APPLICATION_DATA,
                version: DTLS_1_2,
                epoch: 0,
                sequence_number: i as u64,
                length: body.len() as u16,
            }
            .emit(&mut datagram);
            datagram.extend_from_slice(body);
        }
        let parsed: Vec<_> = records(&datagram).collect();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[2].unwrap().fragment, b"hello");
        assert_eq!(parsed[1].unwrap().header.sequence_number, 1);

        let cut: Vec<_> = records(&datagram[..datagram.len() - 1]).collect();
        assert_eq!(cut.len(), 3);
        assert_eq!(cut[2], Err(RecordError::Truncated));

        let mut bad = datagram.clone();
        bad[1] = 0x03;
        assert_eq!(
            records(&bad).collect::<Vec<_>>(),
            [Err(RecordError::BadVersion)]
        );
        assert_eq!(
            records(&[22, 0xfe]).next(),
            Some(Err(RecordError::Truncated))
        );
    }
}
