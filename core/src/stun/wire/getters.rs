//! Typed getters on [`Message`]: the first attribute of a type that counts, decoded, or
//! `None` when it is absent or malformed (use [`Message::get`] to tell the two apart).

use std::net::SocketAddr;

use crate::stun::{
    Attribute, AttributeType as T, ChangeRequest, ErrorCode, Message, PasswordAlgorithm,
    PasswordAlgorithms, UnknownAttributes,
};

macro_rules! getters {
    ($($(#[$doc:meta])* $name:ident -> $out:ty = $ty:ident, $pat:pat => $val:expr;)*) => {
        impl<'a> Message<'a> {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> Option<$out> {
                    match self.get(T::$ty)? {
                        Ok($pat) => Some($val),
                        _ => None,
                    }
                }
            )*
        }
    };
}

getters! {
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
    xor_mapped_address -> SocketAddr = XOR_MAPPED_ADDRESS, Attribute::XorMappedAddress(a) => a;
    /// MAPPED-ADDRESS (RFC 8489 §14.1).
    mapped_address -> SocketAddr = MAPPED_ADDRESS, Attribute::MappedAddress(a) => a;
    /// USERNAME (RFC 8489 §14.3).
    username -> &'a str = USERNAME, Attribute::Username(s) => s;
    /// USERHASH (RFC 8489 §14.4).
    userhash -> &'a [u8; 32] = USERHASH, Attribute::UserHash(h) => h;
    /// ERROR-CODE (RFC 8489 §14.8).
    error_code -> ErrorCode<'a> = ERROR_CODE, Attribute::ErrorCode(e) => e;
    /// REALM (RFC 8489 §14.9).
    realm -> &'a str = REALM, Attribute::Realm(s) => s;
    /// NONCE (RFC 8489 §14.10).
    nonce -> &'a str = NONCE, Attribute::Nonce(s) => s;
    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
    password_algorithms -> PasswordAlgorithms<'a> = PASSWORD_ALGORITHMS,
        Attribute::PasswordAlgorithms(l) => l;
    /// PASSWORD-ALGORITHM (RFC 8489 §14.12).
    password_algorithm -> PasswordAlgorithm = PASSWORD_ALGORITHM,
        Attribute::PasswordAlgorithm(a) => a;
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13).
    unknown_attributes -> UnknownAttributes<'a> = UNKNOWN_ATTRIBUTES,
        Attribute::UnknownAttributes(l) => l;
    /// SOFTWARE (RFC 8489 §14.14).
    software -> &'a str = SOFTWARE, Attribute::Software(s) => s;
    /// ALTERNATE-SERVER (RFC 8489 §14.15).
    alternate_server -> SocketAddr = ALTERNATE_SERVER, Attribute::AlternateServer(a) => a;
    /// ALTERNATE-DOMAIN (RFC 8489 §14.16).
    alternate_domain -> &'a str = ALTERNATE_DOMAIN, Attribute::AlternateDomain(s) => s;
    /// FINGERPRINT's value (RFC 8489 §14.7); see [`Message::verify_fingerprint`].
    fingerprint -> u32 = FINGERPRINT, Attribute::Fingerprint(v) => v;
    /// PRIORITY (RFC 8445 §7.1.1).
    priority -> u32 = PRIORITY, Attribute::Priority(v) => v;
    /// ICE-CONTROLLING's tie-breaker (RFC 8445 §7.1.3).
    ice_controlling -> u64 = ICE_CONTROLLING, Attribute::IceControlling(v) => v;
    /// ICE-CONTROLLED's tie-breaker (RFC 8445 §7.1.3).
    ice_controlled -> u64 = ICE_CONTROLLED, Attribute::IceControlled(v) => v;
    /// CHANGE-REQUEST (RFC 5780 §7.2).
    change_request -> ChangeRequest = CHANGE_REQUEST, Attribute::ChangeRequest(c) => c;
    /// RESPONSE-ORIGIN (RFC 5780 §7.3).
    response_origin -> SocketAddr = RESPONSE_ORIGIN, Attribute::ResponseOrigin(a) => a;
    /// OTHER-ADDRESS (RFC 5780 §7.4).
    other_address -> SocketAddr = OTHER_ADDRESS, Attribute::OtherAddress(a) => a;
    /// RESPONSE-PORT (RFC 5780 §7.5).
    response_port -> u16 = RESPONSE_PORT, Attribute::ResponsePort(p) => p;
    /// PADDING (RFC 5780 §7.6).
    padding -> &'a [u8] = PADDING, Attribute::Padding(p) => p;
    /// Length of PADDING (RFC 5780 §7.6).
    padding_len -> usize = PADDING, Attribute::Padding(p) => p.len();
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    channel_number -> u16 = CHANNEL_NUMBER, Attribute::ChannelNumber(n) => n;
    /// LIFETIME in seconds (RFC 8656 §18.2).
    lifetime -> u32 = LIFETIME, Attribute::Lifetime(s) => s;
    /// The first XOR-PEER-ADDRESS (RFC 8656 §18.3); iterate
    /// [`attributes`](Message::attributes) for all of them.
    xor_peer_address -> SocketAddr = XOR_PEER_ADDRESS, Attribute::XorPeerAddress(a) => a;
    /// DATA (RFC 8656 §18.4).
    data -> &'a [u8] = DATA, Attribute::Data(d) => d;
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
    xor_relayed_address -> SocketAddr = XOR_RELAYED_ADDRESS,
        Attribute::XorRelayedAddress(a) => a;
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6).
    requested_address_family -> u8 = REQUESTED_ADDRESS_FAMILY,
        Attribute::RequestedAddressFamily(f) => f;
    /// EVEN-PORT's R bit (RFC 8656 §18.7).
    even_port -> bool = EVEN_PORT, Attribute::EvenPort(r) => r;
    /// REQUESTED-TRANSPORT (RFC 8656 §18.8).
    requested_transport -> u8 = REQUESTED_TRANSPORT, Attribute::RequestedTransport(p) => p;
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    reservation_token -> &'a [u8; 8] = RESERVATION_TOKEN, Attribute::ReservationToken(t) => t;
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).
    additional_address_family -> u8 = ADDITIONAL_ADDRESS_FAMILY,
        Attribute::AdditionalAddressFamily(f) => f;
    /// CONNECTION-ID (RFC 6062 §6.2.1).
    connection_id -> u32 = CONNECTION_ID, Attribute::ConnectionId(c) => c;
}

impl Message<'_> {
    /// Whether USE-CANDIDATE is present (RFC 8445 §7.1.2).
    pub fn use_candidate(&self) -> bool {
        self.contains(T::USE_CANDIDATE)
    }

    /// Whether DONT-FRAGMENT is present (RFC 8656 §18.9).
    pub fn dont_fragment(&self) -> bool {
        self.contains(T::DONT_FRAGMENT)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use crate::stun::wire::attribute::tests::all_attributes;
    use crate::stun::{
        ErrorCode, Message, MessageBuilder, MessageType, PasswordAlgorithm, TransactionId,
    };

    #[test]
    fn typed_getters() {
        let id = TransactionId([0x42; 12]);
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, id);
        all_attributes().iter().for_each(|a| {
            b.add(a);
        });
        let bytes = b.finish();
        let m = Message::parse(&bytes).unwrap();
        let v4: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        assert_eq!(m.mapped_address(), Some(v4));
        assert_eq!(m.xor_mapped_address(), Some(v4));
        assert_eq!(m.alternate_server(), Some(v4));
        assert_eq!(m.response_origin(), Some(v4));
        assert_eq!(m.other_address(), Some(v4));
        assert_eq!(m.xor_peer_address(), Some(v4));
        assert_eq!(m.xor_relayed_address(), Some(v4));
        assert_eq!(m.username(), Some("user:name"));
        assert_eq!(m.userhash(), Some(&[0xab; 32]));
        assert_eq!(m.error_code(), Some(ErrorCode::STALE_NONCE));
        assert_eq!(m.realm(), Some("example.org"));
        assert_eq!(m.nonce(), Some("obMatJos2AAABxyz"));
        assert!(
            m.password_algorithms()
                .unwrap()
                .contains(PasswordAlgorithm::Unknown(7))
        );
        assert_eq!(m.password_algorithm(), Some(PasswordAlgorithm::Sha256));
        assert_eq!(m.unknown_attributes().map(|u| u.len()), Some(2));
        assert_eq!(m.software(), Some("pigeon"));
        assert_eq!(m.alternate_domain(), Some("stun.example.org"));
        assert_eq!(m.priority(), Some(0x6e0001ff));
        assert!(m.use_candidate());
        assert_eq!(m.ice_controlled(), Some(u64::MAX));
        assert_eq!(m.ice_controlling(), Some(1));
        assert_eq!(
            m.change_request().map(|c| (c.change_ip, c.change_port)),
            Some((true, false))
        );
        assert_eq!(m.response_port(), Some(40000));
        assert_eq!(m.padding_len(), Some(13));
        assert_eq!(m.padding(), Some(&[0u8; 13][..]));
        assert_eq!(m.channel_number(), Some(0x4000));
        assert_eq!(m.lifetime(), Some(600));
        assert_eq!(m.data(), Some(&b"hello"[..]));
        assert_eq!(m.requested_address_family(), Some(2));
        assert_eq!(m.even_port(), Some(true));
        assert_eq!(m.requested_transport(), Some(17));
        assert!(m.dont_fragment());
        assert_eq!(m.reservation_token(), Some(&[1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(m.additional_address_family(), Some(2));
        assert_eq!(m.connection_id(), Some(0xdeadbeef));
        assert_eq!(m.fingerprint(), Some(0x1234_5678));
    }
}
