//! The 20-byte STUN header (RFC 8489 §5): message type (method and class), length, magic
//! cookie and transaction id.

use core::fmt;

/// RFC 8489 §5: the fixed value in bytes 4..8 of every STUN message.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// Length of the STUN header.
pub const HEADER_LEN: usize = 20;

/// RFC 8489 §5: the 96-bit transaction id that pairs a response with its request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// A fresh id from `rng`. RFC 8489 §5: it "MUST be uniformly and randomly chosen from the
    /// interval 0 .. 2**96-1, and MUST be cryptographically random".
    pub fn random(rng: &mut dyn rand_core::CryptoRng) -> Self {
        let mut id = [0; 12];
        rng.fill_bytes(&mut id);
        Self(id)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 12] {
        &self.0
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransactionId({self})")
    }
}

/// A STUN method: the 12-bit operation a message belongs to (open set; unknown values
/// round-trip).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Method(pub u16);

impl Method {
    /// RFC 8489 §18.2: Binding.
    pub const BINDING: Self = Self(0x001);
    /// RFC 8656 §17: Allocate.
    pub const ALLOCATE: Self = Self(0x003);
    /// RFC 8656 §17: Refresh.
    pub const REFRESH: Self = Self(0x004);
    /// RFC 8656 §17: Send (indication only).
    pub const SEND: Self = Self(0x006);
    /// RFC 8656 §17: Data (indication only).
    pub const DATA: Self = Self(0x007);
    /// RFC 8656 §17: CreatePermission.
    pub const CREATE_PERMISSION: Self = Self(0x008);
    /// RFC 8656 §17: ChannelBind.
    pub const CHANNEL_BIND: Self = Self(0x009);
    /// RFC 6062 §6.1: Connect.
    pub const CONNECT: Self = Self(0x00A);
    /// RFC 6062 §6.1: ConnectionBind.
    pub const CONNECTION_BIND: Self = Self(0x00B);
    /// RFC 6062 §6.1: ConnectionAttempt.
    pub const CONNECTION_ATTEMPT: Self = Self(0x00C);

    /// The registered name, if this is a method pigeon knows.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::BINDING => "Binding",
            Self::ALLOCATE => "Allocate",
            Self::REFRESH => "Refresh",
            Self::SEND => "Send",
            Self::DATA => "Data",
            Self::CREATE_PERMISSION => "CreatePermission",
            Self::CHANNEL_BIND => "ChannelBind",
            Self::CONNECT => "Connect",
            Self::CONNECTION_BIND => "ConnectionBind",
            Self::CONNECTION_ATTEMPT => "ConnectionAttempt",
            _ => return None,
        })
    }
}

impl fmt::Debug for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Method({:#05x})", self.0),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// RFC 8489 §5: the class of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// C1 C0 = 0b00.
    Request,
    /// C1 C0 = 0b01.
    Indication,
    /// C1 C0 = 0b10.
    SuccessResponse,
    /// C1 C0 = 0b11.
    ErrorResponse,
}

impl Class {
    /// Whether this is a success or error response.
    pub fn is_response(self) -> bool {
        matches!(self, Self::SuccessResponse | Self::ErrorResponse)
    }

    fn bits(self) -> u16 {
        match self {
            Self::Request => 0b00,
            Self::Indication => 0b01,
            Self::SuccessResponse => 0b10,
            Self::ErrorResponse => 0b11,
        }
    }

    fn from_bits(bits: u16) -> Self {
        match bits & 0b11 {
            0b00 => Self::Request,
            0b01 => Self::Indication,
            0b10 => Self::SuccessResponse,
            _ => Self::ErrorResponse,
        }
    }
}

/// A method and a class: the first 14 bits of a STUN message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// What the message is about.
    pub method: Method,
    /// Request, indication or response.
    pub class: Class,
}

impl MessageType {
    /// Binding request.
    pub const BINDING_REQUEST: Self = Self::new(Method::BINDING, Class::Request);
    /// Binding success response.
    pub const BINDING_SUCCESS: Self = Self::new(Method::BINDING, Class::SuccessResponse);
    /// Binding error response.
    pub const BINDING_ERROR: Self = Self::new(Method::BINDING, Class::ErrorResponse);
    /// Binding indication (RFC 8489 §6.3.2; keepalives in ICE).
    pub const BINDING_INDICATION: Self = Self::new(Method::BINDING, Class::Indication);

    /// A message type from its parts.
    pub const fn new(method: Method, class: Class) -> Self {
        Self { method, class }
    }

    /// RFC 8489 §5 figure 3: the class bits C1 (bit 8) and C0 (bit 4) are interleaved with
    /// the 12 method bits M11..M0.
    pub fn to_u16(self) -> u16 {
        let m = self.method.0 & 0x0FFF;
        let c = self.class.bits();
        (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7)
    }

    /// The inverse of [`to_u16`](Self::to_u16); the two top bits are ignored.
    pub fn from_u16(raw: u16) -> Self {
        let method = (raw & 0x000F) | ((raw >> 1) & 0x0070) | ((raw >> 2) & 0x0F80);
        let class = ((raw >> 4) & 1) | ((raw >> 7) & 2);
        Self::new(Method(method), Class::from_bits(class))
    }

    /// The same method with another class (a request's success or error response).
    pub fn with_class(self, class: Class) -> Self {
        Self::new(self.method, class)
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.class {
            Class::Request => "request",
            Class::Indication => "indication",
            Class::SuccessResponse => "success response",
            Class::ErrorResponse => "error response",
        };
        write!(f, "{} {class}", self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn message_type_bits() {
        // RFC 8489 §5 / §6: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
        assert_eq!(MessageType::BINDING_REQUEST.to_u16(), 0x0001);
        assert_eq!(MessageType::BINDING_SUCCESS.to_u16(), 0x0101);
        assert_eq!(MessageType::BINDING_ERROR.to_u16(), 0x0111);
        assert_eq!(MessageType::BINDING_INDICATION.to_u16(), 0x0011);
        // RFC 8656: Allocate request 0x0003, Send indication 0x0016, Data indication 0x0017.
        assert_eq!(
            MessageType::new(Method::ALLOCATE, Class::Request).to_u16(),
            0x0003
        );
        assert_eq!(
            MessageType::new(Method::SEND, Class::Indication).to_u16(),
            0x0016
        );
        assert_eq!(
            MessageType::new(Method::DATA, Class::Indication).to_u16(),
            0x0017
        );
        for raw in 0..0x4000u16 {
            assert_eq!(MessageType::from_u16(raw).to_u16(), raw);
        }
    }

    #[test]
    fn transaction_id_formats_and_is_random() {
        let id = TransactionId([
            0xb7, 0xe7, 0xa7, 1, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        ]);
        assert_eq!(id.to_string(), "b7e7a701bc34d686fa87dfae");
        assert_eq!(format!("{id:?}"), "TransactionId(b7e7a701bc34d686fa87dfae)");
        let mut rng: crate::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(7));
        let a = TransactionId::random(&mut *rng);
        let b = TransactionId::random(&mut *rng);
        assert_ne!(a, b);
        assert_eq!(format!("{:?}", Method::CHANNEL_BIND), "ChannelBind");
        assert_eq!(format!("{:?}", Method(0x0ff)), "Method(0x0ff)");
        assert_eq!(
            MessageType::BINDING_SUCCESS.to_string(),
            "Binding success response"
        );
    }
}
