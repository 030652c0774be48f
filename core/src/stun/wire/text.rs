//! Text attribute values (USERNAME, REALM, NONCE, SOFTWARE, reason phrases): UTF-8 with a
//! length bound.

use crate::stun::{AttributeType, DecodeError};

/// RFC 8489 §14.8-§14.10, §14.14: "fewer than 128 characters (which can be as long as 509
/// bytes when encoding them and as long as 763 bytes when decoding them)".
pub(crate) const MAX_TEXT_LEN: usize = 763;

/// RFC 8489 §14.3 asks senders for fewer than 509 bytes; RFC 5389 allowed up to 512, so a
/// receiver accepts that much.
pub(crate) const MAX_USERNAME_LEN: usize = 512;

/// `value` as UTF-8 of at most `max` bytes.
pub(crate) fn text(ty: AttributeType, value: &[u8], max: usize) -> Result<&str, DecodeError> {
    if value.len() > max {
        return Err(DecodeError::BadAttributeLength {
            ty,
            len: value.len(),
        });
    }
    core::str::from_utf8(value).map_err(|_| DecodeError::InvalidUtf8(ty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_utf8() {
        let ty = AttributeType::SOFTWARE;
        assert_eq!(text(ty, "héllo".as_bytes(), MAX_TEXT_LEN), Ok("héllo"));
        assert_eq!(
            text(ty, &[0xff], MAX_TEXT_LEN),
            Err(DecodeError::InvalidUtf8(ty))
        );
        assert!(text(ty, &[b'a'; MAX_TEXT_LEN], MAX_TEXT_LEN).is_ok());
        assert!(text(ty, &[b'a'; MAX_TEXT_LEN + 1], MAX_TEXT_LEN).is_err());
    }
}
