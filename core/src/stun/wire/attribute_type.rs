//! Attribute type code points (RFC 8489 §18.3 registry) as an open newtype.

use core::fmt;

/// A STUN attribute type. Unknown values round-trip; named constants cover every attribute of
/// RFC 8489, RFC 8656, RFC 6062, RFC 8445 and RFC 5780.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeType(pub u16);

macro_rules! attribute_types {
    ($($(#[$doc:meta])* $name:ident = $value:expr, $wire:literal;)*) => {
        impl AttributeType {
            $($(#[$doc])* pub const $name: Self = Self($value);)*

            /// The registered name (as the RFCs spell it), if pigeon knows this type.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$name => Some($wire),)*
                    _ => None,
                }
            }
        }
    };
}

attribute_types! {
    /// RFC 8489 §14.1.
    MAPPED_ADDRESS = 0x0001, "MAPPED-ADDRESS";
    /// RFC 5780 §7.2.
    CHANGE_REQUEST = 0x0003, "CHANGE-REQUEST";
    /// RFC 8489 §14.3.
    USERNAME = 0x0006, "USERNAME";
    /// RFC 8489 §14.5.
    MESSAGE_INTEGRITY = 0x0008, "MESSAGE-INTEGRITY";
    /// RFC 8489 §14.8.
    ERROR_CODE = 0x0009, "ERROR-CODE";
    /// RFC 8489 §14.13.
    UNKNOWN_ATTRIBUTES = 0x000A, "UNKNOWN-ATTRIBUTES";
    /// RFC 8656 §18.1.
    CHANNEL_NUMBER = 0x000C, "CHANNEL-NUMBER";
    /// RFC 8656 §18.2.
    LIFETIME = 0x000D, "LIFETIME";
    /// RFC 8656 §18.3.
    XOR_PEER_ADDRESS = 0x0012, "XOR-PEER-ADDRESS";
    /// RFC 8656 §18.4.
    DATA = 0x0013, "DATA";
    /// RFC 8489 §14.9.
    REALM = 0x0014, "REALM";
    /// RFC 8489 §14.10.
    NONCE = 0x0015, "NONCE";
    /// RFC 8656 §18.5.
    XOR_RELAYED_ADDRESS = 0x0016, "XOR-RELAYED-ADDRESS";
    /// RFC 8656 §18.6.
    REQUESTED_ADDRESS_FAMILY = 0x0017, "REQUESTED-ADDRESS-FAMILY";
    /// RFC 8656 §18.7.
    EVEN_PORT = 0x0018, "EVEN-PORT";
    /// RFC 8656 §18.8.
    REQUESTED_TRANSPORT = 0x0019, "REQUESTED-TRANSPORT";
    /// RFC 8656 §18.9.
    DONT_FRAGMENT = 0x001A, "DONT-FRAGMENT";
    /// RFC 8489 §14.6.
    MESSAGE_INTEGRITY_SHA256 = 0x001C, "MESSAGE-INTEGRITY-SHA256";
    /// RFC 8489 §14.12.
    PASSWORD_ALGORITHM = 0x001D, "PASSWORD-ALGORITHM";
    /// RFC 8489 §14.4.
    USERHASH = 0x001E, "USERHASH";
    /// RFC 8489 §14.2.
    XOR_MAPPED_ADDRESS = 0x0020, "XOR-MAPPED-ADDRESS";
    /// RFC 8656 §18.10.
    RESERVATION_TOKEN = 0x0022, "RESERVATION-TOKEN";
    /// RFC 8445 §16.1.
    PRIORITY = 0x0024, "PRIORITY";
    /// RFC 8445 §16.1.
    USE_CANDIDATE = 0x0025, "USE-CANDIDATE";
    /// RFC 5780 §7.6.
    PADDING = 0x0026, "PADDING";
    /// RFC 5780 §7.5.
    RESPONSE_PORT = 0x0027, "RESPONSE-PORT";
    /// RFC 6062 §6.2.1.
    CONNECTION_ID = 0x002A, "CONNECTION-ID";
    /// RFC 8656 §18.11.
    ADDITIONAL_ADDRESS_FAMILY = 0x8000, "ADDITIONAL-ADDRESS-FAMILY";
    /// RFC 8656 §18.12.
    ADDRESS_ERROR_CODE = 0x8001, "ADDRESS-ERROR-CODE";
    /// RFC 8489 §14.11.
    PASSWORD_ALGORITHMS = 0x8002, "PASSWORD-ALGORITHMS";
    /// RFC 8489 §14.16.
    ALTERNATE_DOMAIN = 0x8003, "ALTERNATE-DOMAIN";
    /// RFC 8656 §18.13.
    ICMP = 0x8004, "ICMP";
    /// RFC 8489 §14.14.
    SOFTWARE = 0x8022, "SOFTWARE";
    /// RFC 8489 §14.15.
    ALTERNATE_SERVER = 0x8023, "ALTERNATE-SERVER";
    /// RFC 8489 §14.7.
    FINGERPRINT = 0x8028, "FINGERPRINT";
    /// RFC 8445 §16.1.
    ICE_CONTROLLED = 0x8029, "ICE-CONTROLLED";
    /// RFC 8445 §16.1.
    ICE_CONTROLLING = 0x802A, "ICE-CONTROLLING";
    /// RFC 5780 §7.3.
    RESPONSE_ORIGIN = 0x802B, "RESPONSE-ORIGIN";
    /// RFC 5780 §7.4.
    OTHER_ADDRESS = 0x802C, "OTHER-ADDRESS";
}

impl AttributeType {
    /// RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required: an agent that does not
    /// understand one must not process the message as if it were absent.
    pub fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }

    /// Whether pigeon's codec decodes this type into a typed [`Attribute`](crate::stun::Attribute).
    pub fn is_known(self) -> bool {
        self.name().is_some()
    }
}

impl fmt::Debug for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "AttributeType({:#06x})", self.0),
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ranges() {
        assert_eq!(
            format!("{:?}", AttributeType::XOR_MAPPED_ADDRESS),
            "XOR-MAPPED-ADDRESS"
        );
        assert_eq!(
            format!("{}", AttributeType(0x7777)),
            "AttributeType(0x7777)"
        );
        assert!(AttributeType::PRIORITY.is_comprehension_required());
        assert!(!AttributeType::SOFTWARE.is_comprehension_required());
        assert!(AttributeType::ICMP.is_known());
        assert!(!AttributeType(0x0002).is_known());
    }
}
