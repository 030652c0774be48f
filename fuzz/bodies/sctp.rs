//! Fuzz body for the SCTP packet and chunk codec (RFC 9260), shared by the `sctp_packet`
//! target and by `tests/tests/fuzz_corpus.rs`.

// `pub` for the fuzz target although this file is a private module wherever it is included.
#![allow(unreachable_pub)]

use pigeon::sctp::{Packet, PacketView};

/// Parses arbitrary bytes as an SCTP packet: the checked view, every raw chunk, the typed
/// decode (with and without the checksum); whatever decodes must re-encode to a packet that
/// decodes to the same thing.
pub fn packet(data: &[u8]) {
    if let Ok(view) = PacketView::new_checked(data) {
        let _ = view.header();
        let _ = view.verify_checksum();
        for raw in view.chunks().flatten() {
            let _ = raw.parse();
        }
    }
    let _ = Packet::decode(data);
    if let Ok(packet) = Packet::decode_unverified(data) {
        let encoded = packet.encode();
        assert_eq!(encoded.len(), packet.encoded_len());
        let again = Packet::decode(&encoded).expect("an encoded packet decodes");
        assert_eq!(again, packet, "decode(encode(p)) != p");
    }
}
