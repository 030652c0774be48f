//! ServerKeyExchange for ECDHE_ECDSA (RFC 8422 §5.4).

use crate::dtls::message::codec::{DecodeError, Reader, put_vec8, put_vec16};

/// ECCurveType named_curve (RFC 8422 §5.4), the only one allowed.
pub const CURVE_TYPE_NAMED: u8 = 3;

/// ```text
/// struct {
///     ECParameters    curve_params;   // curve_type = named_curve, NamedCurve
///     ECPoint         public;         // opaque point <1..2^8-1>
/// } ServerECDHParams;
/// struct {
///     ServerECDHParams params;
///     digitally-signed { client_random + server_random + params } signed_params;
/// } ServerKeyExchange;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// The named group of the ephemeral key.
    pub named_group: u16,
    /// The server's ephemeral public key.
    pub public: Vec<u8>,
    /// SignatureAndHashAlgorithm of the signature.
    pub signature_scheme: u16,
    /// The signature (DER ECDSA-Sig-Value for ECDSA).
    pub signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// Parses a body.
    pub fn parse(body: &[u8]) -> Result<ServerKeyExchange, DecodeError> {
        let mut r = Reader::new(body);
        if r.u8()? != CURVE_TYPE_NAMED {
            return Err(DecodeError::Invalid("curve type other than named_curve"));
        }
        let named_group = r.u16()?;
        let public = r.vec8()?.to_vec();
        if public.is_empty() {
            return Err(DecodeError::Invalid("empty ECDH public key"));
        }
        let signature_scheme = r.u16()?;
        let signature = r.vec16()?.to_vec();
        r.finish()?;
        Ok(ServerKeyExchange {
            named_group,
            public,
            signature_scheme,
            signature,
        })
    }

    /// The encoded ServerECDHParams.
    pub fn params(&self) -> Vec<u8> {
        let mut out = vec![CURVE_TYPE_NAMED];
        out.extend_from_slice(&self.named_group.to_be_bytes());
        put_vec8(&mut out, &self.public);
        out
    }

    /// RFC 8422 §5.4: what the signature covers: ClientHello.random + ServerHello.random +
    /// ServerECDHParams.
    pub fn signed_content(&self, client_random: &[u8; 32], server_random: &[u8; 32]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + 4 + self.public.len());
        out.extend_from_slice(client_random);
        out.extend_from_slice(server_random);
        out.extend_from_slice(&self.params());
        out
    }

    /// Appends the body.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.params());
        out.extend_from_slice(&self.signature_scheme.to_be_bytes());
        put_vec16(out, &self.signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_signed_content() {
        let ske = ServerKeyExchange {
            named_group: 29,
            public: vec![5; 32],
            signature_scheme: 0x0403,
            signature: vec![0x30; 70],
        };
        let mut out = Vec::new();
        ske.emit(&mut out);
        assert_eq!(&out[..4], [3, 0, 29, 32]);
        assert_eq!(ServerKeyExchange::parse(&out), Ok(ske.clone()));
        let signed = ske.signed_content(&[1; 32], &[2; 32]);
        assert_eq!(signed.len(), 64 + 4 + 32);
        assert_eq!(&signed[64..68], [3, 0, 29, 32]);
        let mut explicit_curve = out.clone();
        explicit_curve[0] = 1;
        assert!(ServerKeyExchange::parse(&explicit_curve).is_err());
    }
}
