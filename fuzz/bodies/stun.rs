//! Fuzz bodies for the STUN codec (`pigeon::stun`), shared by the `stun_decode` and
//! `stun_round_trip` targets and by `tests/tests/fuzz_corpus.rs`.

// Each fuzz target calls one body and the corpus test all of them and `seeds`; they are `pub`
// for the fuzz targets although this file is a private module wherever it is included.
#![allow(dead_code, unreachable_pub)]

use pigeon::stun::{
    AddressErrorCode, Attribute, AttributeType, ChangeRequest, Class, ErrorCode, FAMILY_IPV6, Icmp,
    Message, MessageBuilder, MessageType, Method, NonceCookie, PasswordAlgorithm,
    PasswordAlgorithms, SecurityFeatures, TransactionId, UnknownAttributes, is_stun, long_term_key,
    userhash,
};

/// The key integrity is checked with; a fuzzer that finds a message verifying under it has
/// found a MAC (or a bug).
const KEY: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

/// Parses `data`, decodes every attribute, calls every getter and verifies integrity and
/// fingerprint. Must never panic.
pub fn decode(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    // Whatever parses and starts like STUN per RFC 7983 passes the cheap demultiplexing test.
    assert!(data[0] > 3 || is_stun(data));
    let id = msg.transaction_id();
    for attr in msg.attributes().flatten() {
        let _ = attr.ty();
        let mut value = Vec::new();
        attr.encode_value(&id, &mut value);
    }
    for raw in msg.raw_attributes() {
        assert!(raw.offset + 4 + raw.value.len() <= data.len());
        let _ = Attribute::decode(raw.ty, raw.value, &id);
        let _ = msg.get(raw.ty);
    }
    let _ = format!("{msg:?} {} {id}", msg.message_type());
    let _ = (
        msg.xor_mapped_address(),
        msg.mapped_address(),
        msg.username(),
        msg.userhash(),
    );
    let _ = (msg.error_code(), msg.realm(), msg.nonce(), msg.software());
    let _ = (
        msg.password_algorithms().map(|l| l.iter().count()),
        msg.password_algorithm(),
    );
    let _ = msg.unknown_attributes().map(|l| l.iter().count());
    let _ = (
        msg.alternate_server(),
        msg.alternate_domain(),
        msg.fingerprint(),
    );
    let _ = (
        msg.priority(),
        msg.use_candidate(),
        msg.ice_controlling(),
        msg.ice_controlled(),
    );
    let _ = (
        msg.change_request(),
        msg.response_origin(),
        msg.other_address(),
    );
    let _ = (msg.response_port(), msg.padding(), msg.padding_len());
    let _ = (
        msg.channel_number(),
        msg.lifetime(),
        msg.xor_peer_address(),
        msg.data(),
    );
    let _ = (
        msg.xor_relayed_address(),
        msg.requested_address_family(),
        msg.even_port(),
    );
    let _ = (
        msg.requested_transport(),
        msg.dont_fragment(),
        msg.reservation_token(),
    );
    let _ = (msg.additional_address_family(), msg.connection_id());
    let _ = msg.nonce().map(NonceCookie::parse);
    let unknown = msg.unknown_comprehension_required();
    assert!(
        unknown
            .iter()
            .all(|ty| ty.is_comprehension_required() && !ty.is_known())
    );
    let _ = (msg.has_integrity(), msg.has_fingerprint());
    let _ = msg.verify_integrity(KEY);
    let _ = msg.verify_integrity_sha256(KEY);
    let _ = msg.verify_fingerprint();
    // The answers a server builds from any request must themselves parse.
    let reply = MessageBuilder::unknown_attributes_response(&msg, &unknown).finish();
    assert!(Message::parse(&reply).is_ok());
}

/// Parses `data`; if it parses, re-encodes every attribute that decodes through
/// [`MessageBuilder`] and checks the result parses to the same attributes, and that encoding
/// is then stable.
pub fn round_trip(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let attrs: Vec<Attribute<'_>> = msg.attributes().filter_map(Result::ok).collect();
    let encode = |attrs: &[Attribute<'_>]| {
        let mut b = MessageBuilder::new(msg.message_type(), msg.transaction_id());
        for attr in attrs {
            b.add(attr);
        }
        // A decoded attribute never re-encodes larger than it arrived.
        assert!(!b.overflowed());
        b.finish()
    };
    let bytes = encode(&attrs);
    let again = Message::parse(&bytes).expect("re-encoded message parses");
    assert_eq!(again.message_type(), msg.message_type());
    assert_eq!(again.transaction_id(), msg.transaction_id());
    let decoded: Vec<Attribute<'_>> = again
        .attributes()
        .map(|a| a.expect("re-encoded attribute decodes"))
        .collect();
    assert_eq!(decoded, attrs);
    assert_eq!(encode(&decoded), bytes);
}

/// Seed messages built with the codec (the RFC 5769 samples are kept as files of their own):
/// `(file name, bytes)`.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let id = TransactionId(*b"pigeon-seeds");
    let v4 = "198.51.100.7:40000".parse().expect("literal address");
    let v6 = "[2001:db8::7]:40000".parse().expect("literal address");
    let mut seeds = Vec::new();

    // A NAT-discovery style request (RFC 5780) and its answer.
    let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, id);
    b.add(&Attribute::ChangeRequest(ChangeRequest {
        change_ip: true,
        change_port: true,
    }))
    .add(&Attribute::ResponsePort(3479))
    .add(&Attribute::Padding(&[0; 64]))
    .add(&Attribute::Software("pigeon seed"))
    .add_fingerprint();
    seeds.push(("binding_rfc5780_request", b.finish()));
    let mut b = MessageBuilder::new(MessageType::BINDING_SUCCESS, id);
    b.add(&Attribute::XorMappedAddress(v6))
        .add(&Attribute::MappedAddress(v4))
        .add(&Attribute::ResponseOrigin(v4))
        .add(&Attribute::OtherAddress(v6))
        .add_fingerprint();
    seeds.push(("binding_rfc5780_response", b.finish()));

    // An ICE connectivity check (RFC 8445) with both MACs.
    let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, id);
    b.add(&Attribute::Username("abcd:efgh"))
        .add(&Attribute::Priority(0x6e00_01ff))
        .add(&Attribute::IceControlling(0x0123_4567_89ab_cdef))
        .add(&Attribute::UseCandidate)
        .add_message_integrity(KEY)
        .add_message_integrity_sha256(KEY)
        .add_fingerprint();
    seeds.push(("ice_check", b.finish()));

    // A 420 answer listing unknown comprehension-required attributes (RFC 8489 §6.3.1.1).
    let unknown = [AttributeType(0x0002), AttributeType(0x7f00)];
    let mut b = MessageBuilder::new(MessageType::BINDING_ERROR, id);
    b.add(&Attribute::ErrorCode(ErrorCode::UNKNOWN_ATTRIBUTE))
        .add(&Attribute::UnknownAttributes(UnknownAttributes::new(
            &unknown,
        )))
        .add_fingerprint();
    seeds.push(("binding_420", b.finish()));

    // A TURN Allocate (RFC 8656) with RFC 8489 long-term credentials: USERHASH, nonce
    // cookie, PASSWORD-ALGORITHMS, MESSAGE-INTEGRITY-SHA256.
    let algorithms = [PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5];
    let cookie = NonceCookie::new(
        SecurityFeatures::PASSWORD_ALGORITHMS | SecurityFeatures::USERNAME_ANONYMITY,
    );
    let nonce = cookie.nonce("seednonce");
    let hash = userhash("user", "example.org");
    let key = long_term_key(PasswordAlgorithm::Sha256, "user", "example.org", "pass");
    let allocate = MessageType::new(Method::ALLOCATE, Class::Request);
    let mut b = MessageBuilder::new(allocate, id);
    b.add(&Attribute::RequestedTransport(17))
        .add(&Attribute::Lifetime(600))
        .add(&Attribute::EvenPort(true))
        .add(&Attribute::DontFragment)
        .add(&Attribute::RequestedAddressFamily(FAMILY_IPV6))
        .add(&Attribute::UserHash(&hash))
        .add(&Attribute::Realm("example.org"))
        .add(&Attribute::Nonce(&nonce))
        .add(&Attribute::PasswordAlgorithms(PasswordAlgorithms::new(
            &algorithms,
        )))
        .add(&Attribute::PasswordAlgorithm(PasswordAlgorithm::Sha256))
        .add_message_integrity_sha256(&key);
    seeds.push(("turn_allocate", b.finish()));

    // TURN responses and indications.
    let success = allocate.with_class(Class::SuccessResponse);
    let mut b = MessageBuilder::new(success, id);
    b.add(&Attribute::XorRelayedAddress(v4))
        .add(&Attribute::XorRelayedAddress(v6))
        .add(&Attribute::AddressErrorCode(AddressErrorCode {
            family: FAMILY_IPV6,
            error: ErrorCode::INSUFFICIENT_CAPACITY,
        }))
        .add(&Attribute::ReservationToken(b"reserved"))
        .add(&Attribute::XorMappedAddress(v4))
        .add(&Attribute::Lifetime(600))
        .add(&Attribute::AlternateServer(v6))
        .add(&Attribute::AlternateDomain("turn.example.org"))
        .add_message_integrity(KEY);
    seeds.push(("turn_allocate_success", b.finish()));
    let data = MessageType::new(Method::DATA, Class::Indication);
    let mut b = MessageBuilder::new(data, id);
    b.add(&Attribute::XorPeerAddress(v6))
        .add(&Attribute::Data(b"payload!"))
        .add(&Attribute::Icmp(Icmp {
            icmp_type: 3,
            code: 4,
            error_data: 1280,
        }))
        .add(&Attribute::ChannelNumber(0x4001))
        .add(&Attribute::ConnectionId(7))
        .add(&Attribute::AdditionalAddressFamily(FAMILY_IPV6))
        .add(&Attribute::IceControlled(1))
        .add(&Attribute::Unknown {
            ty: AttributeType(0xc0de),
            value: b"opaque",
        });
    seeds.push(("turn_data_indication", b.finish()));
    seeds
}
