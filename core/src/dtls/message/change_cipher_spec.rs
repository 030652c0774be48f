//! ChangeCipherSpec (RFC 5246 §7.1), a record of its own content type.

/// The ChangeCipherSpec record body: `enum { change_cipher_spec(1) }` (RFC 5246 §7.1).
pub const CHANGE_CIPHER_SPEC: [u8; 1] = [1];

/// Whether `body` is a well-formed ChangeCipherSpec.
pub fn is_change_cipher_spec(body: &[u8]) -> bool {
    body == CHANGE_CIPHER_SPEC
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_one_byte_form() {
        assert!(is_change_cipher_spec(&CHANGE_CIPHER_SPEC));
        assert!(!is_change_cipher_spec(&[2]));
        assert!(!is_change_cipher_spec(&[1, 1]));
        assert!(!is_change_cipher_spec(&[]));
    }
}
