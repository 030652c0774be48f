//! Hello extensions pigeon understands (RFC 5246 §7.4.1.4); the others are skipped.

use crate::dtls::message::codec::{
    DecodeError, Reader, put_u16_list, put_vec8, put_vec16, with_len16,
};

/// supported_groups (RFC 8422 §5.1.1, formerly elliptic_curves).
pub const EXT_SUPPORTED_GROUPS: u16 = 10;
/// ec_point_formats (RFC 8422 §5.1.2).
pub const EXT_EC_POINT_FORMATS: u16 = 11;
/// signature_algorithms (RFC 5246 §7.4.1.4.1).
pub const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
/// use_srtp (RFC 5764 §4.1.1).
pub const EXT_USE_SRTP: u16 = 14;
/// extended_master_secret (RFC 7627 §5.1).
pub const EXT_EXTENDED_MASTER_SECRET: u16 = 23;
/// renegotiation_info (RFC 5746 §3.2).
pub const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

/// Named group secp256r1 (RFC 8422 §5.1.1).
pub const GROUP_SECP256R1: u16 = 23;
/// Named group x25519 (RFC 8422 §5.1.1).
pub const GROUP_X25519: u16 = 29;
/// ECPointFormat uncompressed (RFC 8422 §5.1.2), the only one pigeon sends or accepts.
pub const POINT_FORMAT_UNCOMPRESSED: u8 = 0;
/// SignatureAndHashAlgorithm {sha256(4), ecdsa(3)} (RFC 5246 §7.4.1.4.1).
pub const ECDSA_SECP256R1_SHA256: u16 = 0x0403;

/// The use_srtp extension body (RFC 5764 §4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UseSrtp {
    /// SRTPProtectionProfile code points, in preference order.
    pub profiles: Vec<u16>,
    /// srtp_mki; pigeon sends it empty.
    pub mki: Vec<u8>,
}

/// The extensions of a ClientHello or ServerHello.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// supported_groups.
    pub supported_groups: Option<Vec<u16>>,
    /// ec_point_formats.
    pub ec_point_formats: Option<Vec<u8>>,
    /// signature_algorithms.
    pub signature_algorithms: Option<Vec<u16>>,
    /// use_srtp.
    pub use_srtp: Option<UseSrtp>,
    /// extended_master_secret (empty body).
    pub extended_master_secret: bool,
    /// renegotiation_info's renegotiated_connection (empty on an initial handshake).
    pub renegotiation_info: Option<Vec<u8>>,
}

impl Extensions {
    /// Parses the extensions block (without its two-byte length). Unknown extensions are
    /// skipped; RFC 5246 §7.4.1.4: "There MUST NOT be more than one extension of the same
    /// type", so a duplicate is an error.
    pub fn parse(bytes: &[u8]) -> Result<Extensions, DecodeError> {
        let mut ext = Extensions::default();
        let mut seen: Vec<u16> = Vec::new();
        let mut r = Reader::new(bytes);
        while r.remaining() > 0 {
            let ty = r.u16()?;
            let body = r.vec16()?;
            if seen.contains(&ty) {
                return Err(DecodeError::Invalid("duplicate extension"));
            }
            seen.push(ty);
            let mut b = Reader::new(body);
            match ty {
                EXT_SUPPORTED_GROUPS => ext.supported_groups = Some(b.u16_list()?),
                EXT_EC_POINT_FORMATS => ext.ec_point_formats = Some(b.vec8()?.to_vec()),
                EXT_SIGNATURE_ALGORITHMS => ext.signature_algorithms = Some(b.u16_list()?),
                EXT_USE_SRTP => {
                    let profiles = b.u16_list()?;
                    let mki = b.vec8()?.to_vec();
                    ext.use_srtp = Some(UseSrtp { profiles, mki });
                }
                EXT_EXTENDED_MASTER_SECRET => ext.extended_master_secret = true,
                EXT_RENEGOTIATION_INFO => ext.renegotiation_info = Some(b.vec8()?.to_vec()),
                _ => {
                    tracing::trace!(ty, "dtls: unknown extension skipped");
                    continue;
                }
            }
            b.finish()?;
        }
        Ok(ext)
    }

    /// Whether no extension is set.
    pub fn is_empty(&self) -> bool {
        *self == Extensions::default()
    }

    /// Appends the extensions block with its two-byte length.
    pub fn emit(&self, out: &mut Vec<u8>) {
        with_len16(out, |out| {
            if let Some(groups) = &self.supported_groups {
                out.extend_from_slice(&EXT_SUPPORTED_GROUPS.to_be_bytes());
                with_len16(out, |o| put_u16_list(o, groups));
            }
            if let Some(formats) = &self.ec_point_formats {
                out.extend_from_slice(&EXT_EC_POINT_FORMATS.to_be_bytes());
                with_len16(out, |o| put_vec8(o, formats));
            }
            if let Some(algs) = &self.signature_algorithms {
                out.extend_from_slice(&EXT_SIGNATURE_ALGORITHMS.to_be_bytes());
                with_len16(out, |o| put_u16_list(o, algs));
            }
            if let Some(srtp) = &self.use_srtp {
                out.extend_from_slice(&EXT_USE_SRTP.to_be_bytes());
                with_len16(out, |o| {
                    put_u16_list(o, &srtp.profiles);
                    put_vec8(o, &srtp.mki);
                });
            }
            if self.extended_master_secret {
                out.extend_from_slice(&EXT_EXTENDED_MASTER_SECRET.to_be_bytes());
                put_vec16(out, &[]);
            }
            if let Some(info) = &self.renegotiation_info {
                out.extend_from_slice(&EXT_RENEGOTIATION_INFO.to_be_bytes());
                with_len16(out, |o| put_vec8(o, info));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Extensions {
        Extensions {
            supported_groups: Some(vec![GROUP_X25519, GROUP_SECP256R1]),
            ec_point_formats: Some(vec![POINT_FORMAT_UNCOMPRESSED]),
            signature_algorithms: Some(vec![ECDSA_SECP256R1_SHA256]),
            use_srtp: Some(UseSrtp {
                profiles: vec![7, 1],
                mki: vec![],
            }),
            extended_master_secret: true,
            renegotiation_info: Some(vec![]),
        }
    }

    #[test]
    fn round_trip_and_known_bytes() {
        let mut out = Vec::new();
        full().emit(&mut out);
        assert_eq!(Extensions::parse(&out[2..]), Ok(full()));
        let mut only_ems = Vec::new();
        Extensions {
            extended_master_secret: true,
            use_srtp: Some(UseSrtp {
                profiles: vec![1],
                mki: vec![],
            }),
            ..Extensions::default()
        }
        .emit(&mut only_ems);
        // RFC 5764 §4.1.1 use_srtp: list length 2, profile 0x0001, empty MKI.
        assert_eq!(only_ems, [0, 13, 0, 14, 0, 5, 0, 2, 0, 1, 0, 0, 23, 0, 0]);
    }

    #[test]
    fn unknown_skipped_duplicates_refused() {
        // server_name (0) with some body, then extended_master_secret.
        let bytes = [0, 0, 0, 3, 1, 2, 3, 0, 23, 0, 0];
        let ext = Extensions::parse(&bytes).unwrap();
        assert!(ext.extended_master_secret);
        assert_eq!(ext.supported_groups, None);
        let dup = [0, 23, 0, 0, 0, 23, 0, 0];
        assert!(Extensions::parse(&dup).is_err());
        // extended_master_secret with a body is malformed (RFC 7627 §5.1: empty).
        assert!(Extensions::parse(&[0, 23, 0, 1, 0]).is_err());
        assert!(Extensions::parse(&[0, 10, 0, 9]).is_err());
    }
}
