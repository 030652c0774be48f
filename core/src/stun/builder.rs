//! [`MessageBuilder`]: encodes a STUN message straight into a `Vec<u8>`, keeping the header
//! length current so MESSAGE-INTEGRITY and FINGERPRINT can be computed at any point.

use crate::stun::{
    Attribute, AttributeType, Class, ErrorCode, HEADER_LEN, MAGIC_COOKIE, MAX_MESSAGE_SIZE,
    Message, MessageType, TransactionId, UnknownAttributes,
};

/// Builds one STUN message.
///
/// ```
/// use pigeon::stun::{Attribute, Message, MessageBuilder, MessageType, TransactionId};
/// let id = TransactionId([7; 12]);
/// let mut b = MessageBuilder::new(MessageType::BINDING_SUCCESS, id);
/// b.add(&Attribute::XorMappedAddress("192.0.2.1:32853".parse().unwrap()))
///     .add_message_integrity(b"password")
///     .add_fingerprint();
/// let bytes = b.finish();
/// let msg = Message::parse(&bytes).unwrap();
/// assert!(msg.verify_integrity(b"password").is_ok());
/// assert!(msg.verify_fingerprint().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct MessageBuilder {
    buf: Vec<u8>,
    id: TransactionId,
    padding: u8,
    overflowed: bool,
}

impl MessageBuilder {
    /// A message of type `ty` with transaction id `id` and no attributes yet.
    pub fn new(ty: MessageType, id: TransactionId) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&ty.to_u16().to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(&id.0);
        Self {
            buf,
            id,
            padding: 0,
            overflowed: false,
        }
    }

    /// A success response to `request`: same method and transaction id (RFC 8489 §6.3.1.2).
    pub fn success_response(request: &Message<'_>) -> Self {
        let ty = request.message_type().with_class(Class::SuccessResponse);
        Self::new(ty, request.transaction_id())
    }

    /// An error response to `request` carrying ERROR-CODE `code` (RFC 8489 §6.3.1.1).
    pub fn error_response(request: &Message<'_>, code: ErrorCode<'_>) -> Self {
        let ty = request.message_type().with_class(Class::ErrorResponse);
        let mut builder = Self::new(ty, request.transaction_id());
        builder.add(&Attribute::ErrorCode(code));
        builder
    }

    /// RFC 8489 §6.3.1.1: "If the request contains one or more unknown comprehension-required
    /// attributes, the server replies with an error response with an error code of 420
    /// (Unknown Attribute) and includes an UNKNOWN-ATTRIBUTES attribute in the response that
    /// lists the unknown comprehension-required attributes."
    ///
    /// `unknown` is usually [`Message::unknown_comprehension_required`].
    pub fn unknown_attributes_response(request: &Message<'_>, unknown: &[AttributeType]) -> Self {
        let mut builder = Self::error_response(request, ErrorCode::UNKNOWN_ATTRIBUTE);
        builder.add(&Attribute::UnknownAttributes(UnknownAttributes::new(
            unknown,
        )));
        builder
    }

    /// The byte written into attribute padding from now on. RFC 8489 §14 says zero (the
    /// default); RFC 5769's samples use 0x20, which this reproduces.
    pub fn padding_byte(&mut self, byte: u8) -> &mut Self {
        self.padding = byte;
        self
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.id
    }

    /// Bytes written so far, header included.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether no attribute has been written (the header alone is never empty).
    pub fn is_empty(&self) -> bool {
        self.buf.len() == HEADER_LEN
    }

    /// Whether an attribute was dropped because the message would have exceeded
    /// [`MAX_MESSAGE_SIZE`] (or an attribute value 65535 bytes).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The bytes so far (header length up to date).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Appends `attr` as a TLV with padding. XOR address attributes are obfuscated with this
    /// message's transaction id. An attribute that would not fit is dropped and
    /// [`overflowed`](Self::overflowed) set.
    pub fn add(&mut self, attr: &Attribute<'_>) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(&attr.ty().0.to_be_bytes());
        self.buf.extend_from_slice(&[0, 0]);
        attr.encode_value(&self.id, &mut self.buf);
        let value_len = self.buf.len() - start - 4;
        let padded = (value_len + 3) & !3;
        let Ok(len) = u16::try_from(value_len) else {
            return self.drop_from(start, attr.ty());
        };
        if start + 4 + padded > MAX_MESSAGE_SIZE {
            return self.drop_from(start, attr.ty());
        }
        self.buf[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
        self.buf.resize(start + 4 + padded, self.padding);
        self.sync_length();
        self
    }

    fn drop_from(&mut self, start: usize, ty: AttributeType) -> &mut Self {
        tracing::warn!(?ty, "STUN attribute does not fit in the message; dropped");
        self.buf.truncate(start);
        self.overflowed = true;
        self
    }

    /// Appends a TLV whose value has been computed over the message so far (MAC or CRC),
    /// with the header length already counting it as RFC 8489 §14.5-§14.7 require.
    pub(crate) fn append_trailer(
        &mut self,
        ty: AttributeType,
        value_len: usize,
        compute: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> &mut Self {
        let start = self.buf.len();
        if start + 4 + value_len > MAX_MESSAGE_SIZE {
            return self.drop_from(start, ty);
        }
        self.set_length(start + 4 + value_len - HEADER_LEN);
        let value = compute(&self.buf);
        self.buf.extend_from_slice(&ty.0.to_be_bytes());
        // NOTE(unwrap): callers pass MAC and CRC lengths of at most 32 bytes.
        let len = u16::try_from(value.len()).expect("trailer values are short");
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(&value);
        self.sync_length();
        self
    }

    fn set_length(&mut self, len: usize) {
        // NOTE(unwrap): every append checks the message stays within MAX_MESSAGE_SIZE.
        let len = u16::try_from(len).expect("length bounded by MAX_MESSAGE_SIZE");
        self.buf[2..4].copy_from_slice(&len.to_be_bytes());
    }

    fn sync_length(&mut self) {
        self.set_length(self.buf.len() - HEADER_LEN);
    }

    /// The finished message.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: TransactionId = TransactionId([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    #[test]
    fn header_and_padding() {
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, ID);
        assert!(b.is_empty());
        b.add(&Attribute::Software("abcde"));
        assert_eq!(b.len(), 32);
        b.padding_byte(0x20).add(&Attribute::Username("x"));
        let bytes = b.finish();
        assert_eq!(&bytes[..4], &[0x00, 0x01, 0x00, 0x14]);
        assert_eq!(&bytes[20..32], b"\x80\x22\x00\x05abcde\0\0\0");
        assert_eq!(&bytes[32..], b"\x00\x06\x00\x01x   ");
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.software(), Some("abcde"));
        assert_eq!(msg.username(), Some("x"));
    }

    #[test]
    fn responses() {
        let mut req = MessageBuilder::new(MessageType::BINDING_REQUEST, ID);
        req.add(&Attribute::Unknown {
            ty: AttributeType(0x7001),
            value: b"?",
        });
        let req_bytes = req.finish();
        let request = Message::parse(&req_bytes).unwrap();
        let unknown = request.unknown_comprehension_required();
        assert_eq!(unknown, [AttributeType(0x7001)]);
        let bytes = MessageBuilder::unknown_attributes_response(&request, &unknown).finish();
        let response = Message::parse(&bytes).unwrap();
        assert_eq!(response.message_type(), MessageType::BINDING_ERROR);
        assert_eq!(response.transaction_id(), ID);
        assert_eq!(response.error_code(), Some(ErrorCode::UNKNOWN_ATTRIBUTE));
        let listed: Vec<_> = response.unknown_attributes().unwrap().iter().collect();
        assert_eq!(listed, unknown);
        let ok = MessageBuilder::success_response(&request).finish();
        assert_eq!(
            Message::parse(&ok).unwrap().message_type(),
            MessageType::BINDING_SUCCESS
        );
    }

    #[test]
    fn oversized_attributes_are_dropped() {
        let big = vec![0u8; 0x1_0000];
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, ID);
        b.add(&Attribute::Padding(&big));
        assert!(b.overflowed());
        assert!(b.is_empty());
        let most = vec![0u8; 0xFFFF - 8];
        b.add(&Attribute::Padding(&most[..0xFFF0]));
        b.add(&Attribute::Data(&[1; 16]));
        assert!(b.len() <= MAX_MESSAGE_SIZE);
        b.add_fingerprint();
        let bytes = b.finish();
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.padding_len(), Some(0xFFF0));
        assert!(msg.verify_fingerprint().is_ok());
    }
}
