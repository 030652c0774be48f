//! Alert (RFC 5246 §7.2).

/// AlertLevel (RFC 5246 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertLevel(pub u8);

impl AlertLevel {
    /// warning(1).
    pub const WARNING: AlertLevel = AlertLevel(1);
    /// fatal(2).
    pub const FATAL: AlertLevel = AlertLevel(2);
}

/// AlertDescription (RFC 5246 §7.2); unknown values kept as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

impl AlertDescription {
    /// close_notify(0).
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    /// unexpected_message(10).
    pub const UNEXPECTED_MESSAGE: AlertDescription = AlertDescription(10);
    /// bad_record_mac(20).
    pub const BAD_RECORD_MAC: AlertDescription = AlertDescription(20);
    /// handshake_failure(40).
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    /// bad_certificate(42).
    pub const BAD_CERTIFICATE: AlertDescription = AlertDescription(42);
    /// unsupported_certificate(43).
    pub const UNSUPPORTED_CERTIFICATE: AlertDescription = AlertDescription(43);
    /// illegal_parameter(47).
    pub const ILLEGAL_PARAMETER: AlertDescription = AlertDescription(47);
    /// decode_error(50).
    pub const DECODE_ERROR: AlertDescription = AlertDescription(50);
    /// decrypt_error(51).
    pub const DECRYPT_ERROR: AlertDescription = AlertDescription(51);
    /// protocol_version(70).
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    /// insufficient_security(71).
    pub const INSUFFICIENT_SECURITY: AlertDescription = AlertDescription(71);
    /// internal_error(80).
    pub const INTERNAL_ERROR: AlertDescription = AlertDescription(80);
    /// no_renegotiation(100).
    pub const NO_RENEGOTIATION: AlertDescription = AlertDescription(100);
    /// unsupported_extension(110).
    pub const UNSUPPORTED_EXTENSION: AlertDescription = AlertDescription(110);
}

/// An alert record body: level and description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert {
    /// Level.
    pub level: AlertLevel,
    /// Description.
    pub description: AlertDescription,
}

impl Alert {
    /// A fatal alert.
    pub fn fatal(description: AlertDescription) -> Alert {
        Alert {
            level: AlertLevel::FATAL,
            description,
        }
    }

    /// close_notify, sent as a warning (RFC 5246 §7.2.1).
    pub fn close_notify() -> Alert {
        Alert {
            level: AlertLevel::WARNING,
            description: AlertDescription::CLOSE_NOTIFY,
        }
    }

    /// Parses a record body: exactly two bytes.
    pub fn parse(body: &[u8]) -> Option<Alert> {
        match body {
            [level, description] => Some(Alert {
                level: AlertLevel(*level),
                description: AlertDescription(*description),
            }),
            _ => None,
        }
    }

    /// The two bytes.
    pub fn to_bytes(self) -> [u8; 2] {
        [self.level.0, self.description.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_codec() {
        let alert = Alert::fatal(AlertDescription::BAD_CERTIFICATE);
        assert_eq!(alert.to_bytes(), [2, 42]);
        assert_eq!(Alert::parse(&[2, 42]), Some(alert));
        assert_eq!(Alert::parse(&[1, 0]), Some(Alert::close_notify()));
        assert_eq!(Alert::parse(&[1]), None);
        assert_eq!(Alert::parse(&[1, 0, 0]), None);
    }
}
