//! The per-packet cryptography of each profile: AES-CM + HMAC-SHA1 (RFC 3711 §4.1.1, §4.2.1)
//! and AES-GCM (RFC 7714 §8, §9, through `crate::gcm`). Keys are expanded once; a packet costs
//! no allocation.

use aes::Aes128;
use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::{AeadInOut, Nonce, Tag};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::kdf::SessionKeys;
use super::{Error, Profile};
use crate::gcm::{Aes128Gcm, Aes256Gcm};

/// RFC 7714 §9.1: SRTCP with AEAD carries a 16-byte tag; so does SRTP (§8).
const GCM_TAG_LEN: usize = 16;
/// RFC 3711 §3.4: the SRTCP trailer word holding the E flag and the 31-bit index.
const INDEX_WORD_LEN: usize = 4;
/// RFC 3711 §3.4: the RTCP header and sender SSRC stay in the clear.
const RTCP_CLEAR_LEN: usize = 8;

/// Expanded keys for one of SRTP or SRTCP in one direction. Held inline (not boxed): a session
/// owns two and the hot path should not chase a pointer, so the size difference is fine.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Transform {
    /// AES-128 in counter mode with HMAC-SHA1 truncated to `tag_len` bytes.
    Cm {
        aes: Aes128,
        /// Keyed once; each packet clones this state (a copy, no allocation).
        hmac: Hmac<Sha1>,
        salt: [u8; 14],
        tag_len: usize,
    },
    /// AEAD_AES_128_GCM.
    Gcm128 { aead: Aes128Gcm, salt: [u8; 12] },
    /// AEAD_AES_256_GCM.
    Gcm256 { aead: Aes256Gcm, salt: [u8; 12] },
}

impl Transform {
    /// Expands `keys` for SRTP (`rtcp == false`) or SRTCP.
    pub(crate) fn new(profile: Profile, keys: &SessionKeys, rtcp: bool) -> Self {
        let mut salt12 = [0; 12];
        salt12.copy_from_slice(&keys.salt[..12]);
        match profile {
            Profile::AeadAes128Gcm => Self::Gcm128 {
                // NOTE(unwrap): the slice is exactly the 16-byte key length.
                aead: Aes128Gcm::new_from_slice(&keys.encryption[..16]).unwrap(),
                salt: salt12,
            },
            Profile::AeadAes256Gcm => Self::Gcm256 {
                aead: Aes256Gcm::new((&keys.encryption).into()),
                salt: salt12,
            },
            Profile::Aes128CmHmacSha1_80 | Profile::Aes128CmHmacSha1_32 => Self::Cm {
                // NOTE(unwrap): the slice is exactly the 16-byte key length.
                aes: Aes128::new_from_slice(&keys.encryption[..16]).unwrap(),
                // NOTE(unwrap): HMAC accepts keys of any length.
                hmac: Hmac::<Sha1>::new_from_slice(&keys.auth).unwrap(),
                salt: keys.salt,
                tag_len: if rtcp {
                    profile.srtcp_tag_len()
                } else {
                    profile.srtp_tag_len()
                },
            },
        }
    }

    /// Bytes of tag this transform appends.
    pub(crate) fn tag_len(&self) -> usize {
        match self {
            Self::Cm { tag_len, .. } => *tag_len,
            _ => GCM_TAG_LEN,
        }
    }

    /// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), with i the 48-bit
    /// SRTP index or the 31-bit SRTCP index.
    fn cm_keystream(aes: &Aes128, salt: &[u8; 14], ssrc: u32, index: u64, data: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[..14].copy_from_slice(salt);
        xor_into(&mut iv[4..8], &ssrc.to_be_bytes());
        xor_into(&mut iv[8..14], &index.to_be_bytes()[2..]);
        let core = ctr::CtrCore::inner_iv_init(aes, &iv.into());
        ctr::Ctr128BE::<&Aes128>::from_core(core).apply_keystream(data);
    }

    /// HMAC-SHA1 over `first` then `second` (the caller truncates it).
    fn cm_tag(hmac: &Hmac<Sha1>, first: &[u8], second: &[u8]) -> [u8; 20] {
        let mut mac = hmac.clone();
        mac.update(first);
        mac.update(second);
        mac.finalize().into_bytes().into()
    }

    /// RFC 7714 §8.1 (SRTP: 00 00 || SSRC || ROC || SEQ) and §9.1 (SRTCP: 00 00 || SSRC ||
    /// 00 00 || 0 || index), XORed with the 96-bit session salt.
    fn gcm_nonce(salt: &[u8; 12], ssrc: u32, index: u64) -> Nonce<aes_gcm::aead::consts::U12> {
        let mut iv = *salt;
        xor_into(&mut iv[2..6], &ssrc.to_be_bytes());
        xor_into(&mut iv[6..12], &index.to_be_bytes()[2..]);
        iv.into()
    }

    /// Encrypts `buf[header_len..len]` and writes the tag at `buf[len..]`. The caller checked
    /// that `buf` has room for the tag.
    pub(crate) fn protect_rtp(
        &self,
        buf: &mut [u8],
        header_len: usize,
        len: usize,
        ssrc: u32,
        index: u64,
    ) {
        match self {
            Self::Cm {
                aes,
                hmac,
                salt,
                tag_len,
            } => {
                Self::cm_keystream(aes, salt, ssrc, index, &mut buf[header_len..len]);
                // RFC 3711 §4.2: the authenticated portion is the packet followed by the ROC.
                let roc = ((index >> 16) as u32).to_be_bytes();
                let tag = Self::cm_tag(hmac, &buf[..len], &roc);
                buf[len..len + tag_len].copy_from_slice(&tag[..*tag_len]);
            }
            Self::Gcm128 { aead, salt } => {
                gcm_seal(
                    aead,
                    Self::gcm_nonce(salt, ssrc, index),
                    buf,
                    header_len,
                    len,
                );
            }
            Self::Gcm256 { aead, salt } => {
                gcm_seal(
                    aead,
                    Self::gcm_nonce(salt, ssrc, index),
                    buf,
                    header_len,
                    len,
                );
            }
        }
    }

    /// Authenticates the SRTP packet `buf` (header, ciphertext, tag) and decrypts it in place;
    /// returns the RTP packet's length. The caller checked `buf.len() >= header_len + tag_len`.
    pub(crate) fn unprotect_rtp(
        &self,
        buf: &mut [u8],
        header_len: usize,
        ssrc: u32,
        index: u64,
    ) -> Result<usize, Error> {
        let len = buf.len() - self.tag_len();
        match self {
            Self::Cm {
                aes,
                hmac,
                salt,
                tag_len,
            } => {
                let roc = ((index >> 16) as u32).to_be_bytes();
                let tag = Self::cm_tag(hmac, &buf[..len], &roc);
                // RFC 3711 §3.3 step 5: a tag mismatch drops the packet; compared in constant
                // time so the comparison leaks nothing about the expected tag.
                if !bool::from(tag[..*tag_len].ct_eq(&buf[len..])) {
                    return Err(Error::AuthenticationFailed);
                }
                Self::cm_keystream(aes, salt, ssrc, index, &mut buf[header_len..len]);
            }
            Self::Gcm128 { aead, salt } => {
                gcm_open(
                    aead,
                    Self::gcm_nonce(salt, ssrc, index),
                    buf,
                    header_len,
                    len,
                )?;
            }
            Self::Gcm256 { aead, salt } => {
                gcm_open(
                    aead,
                    Self::gcm_nonce(salt, ssrc, index),
                    buf,
                    header_len,
                    len,
                )?;
            }
        }
        Ok(len)
    }

    /// Protects the RTCP packet `buf[..len]` with SRTCP `index`, encrypting when `encrypt`
    /// (the E flag); returns the SRTCP length. The caller checked the room for the trailer.
    pub(crate) fn protect_rtcp(
        &self,
        buf: &mut [u8],
        len: usize,
        ssrc: u32,
        index: u32,
        encrypt: bool,
    ) -> usize {
        let word = (index | if encrypt { 0x8000_0000 } else { 0 }).to_be_bytes();
        match self {
            Self::Cm {
                aes,
                hmac,
                salt,
                tag_len,
            } => {
                // RFC 3711 §3.4: header | encrypted portion | E+index | tag; the index word is
                // authenticated.
                if encrypt {
                    let data = &mut buf[RTCP_CLEAR_LEN..len];
                    Self::cm_keystream(aes, salt, ssrc, u64::from(index), data);
                }
                buf[len..len + INDEX_WORD_LEN].copy_from_slice(&word);
                let end = len + INDEX_WORD_LEN;
                let tag = Self::cm_tag(hmac, &buf[..end], &[]);
                buf[end..end + tag_len].copy_from_slice(&tag[..*tag_len]);
                end + tag_len
            }
            Self::Gcm128 { aead, salt } => {
                let nonce = Self::gcm_nonce(salt, ssrc, u64::from(index));
                gcm_seal_rtcp(aead, nonce, buf, len, word, encrypt)
            }
            Self::Gcm256 { aead, salt } => {
                let nonce = Self::gcm_nonce(salt, ssrc, u64::from(index));
                gcm_seal_rtcp(aead, nonce, buf, len, word, encrypt)
            }
        }
    }

    /// The E flag and index of an SRTCP packet, read before authentication so that the
    /// replay check can run first. `None` when the packet cannot hold the trailer.
    pub(crate) fn rtcp_index(&self, buf: &[u8]) -> Option<(bool, u32)> {
        let tag_len = self.tag_len();
        if buf.len() < RTCP_CLEAR_LEN + INDEX_WORD_LEN + tag_len {
            return None;
        }
        // RFC 3711 §3.4 puts the index word before the tag; RFC 7714 §17 after it.
        let at = match self {
            Self::Cm { .. } => buf.len() - tag_len - INDEX_WORD_LEN,
            _ => buf.len() - INDEX_WORD_LEN,
        };
        let word = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        Some((word & 0x8000_0000 != 0, word & 0x7fff_ffff))
    }

    /// Authenticates and decrypts the SRTCP packet `buf` in place; returns the RTCP length.
    /// The caller got `(encrypted, index)` from [`Self::rtcp_index`].
    pub(crate) fn unprotect_rtcp(
        &self,
        buf: &mut [u8],
        ssrc: u32,
        encrypted: bool,
        index: u32,
    ) -> Result<usize, Error> {
        let tag_len = self.tag_len();
        let len = buf.len() - tag_len - INDEX_WORD_LEN;
        match self {
            Self::Cm {
                aes, hmac, salt, ..
            } => {
                let end = len + INDEX_WORD_LEN;
                let tag = Self::cm_tag(hmac, &buf[..end], &[]);
                if !bool::from(tag[..tag_len].ct_eq(&buf[end..])) {
                    return Err(Error::AuthenticationFailed);
                }
                if encrypted {
                    let data = &mut buf[RTCP_CLEAR_LEN..len];
                    Self::cm_keystream(aes, salt, ssrc, u64::from(index), data);
                }
            }
            Self::Gcm128 { aead, salt } => {
                let nonce = Self::gcm_nonce(salt, ssrc, u64::from(index));
                gcm_open_rtcp(aead, nonce, buf, len, encrypted)?;
            }
            Self::Gcm256 { aead, salt } => {
                let nonce = Self::gcm_nonce(salt, ssrc, u64::from(index));
                gcm_open_rtcp(aead, nonce, buf, len, encrypted)?;
            }
        }
        Ok(len)
    }
}

type GcmNonce = Nonce<aes_gcm::aead::consts::U12>;

fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= s;
    }
}

/// RFC 7714 §8.2: AAD = the RTP header; the payload is encrypted; the tag follows it.
fn gcm_seal<A>(aead: &A, nonce: GcmNonce, buf: &mut [u8], header_len: usize, len: usize)
where
    A: AeadInOut + aes_gcm::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    let (aad, rest) = buf.split_at_mut(header_len);
    let (payload, tail) = rest.split_at_mut(len - header_len);
    // NOTE(unwrap): AES-GCM refuses only inputs over 2^36 bytes; a packet is far smaller.
    let tag = aead
        .encrypt_inout_detached(&nonce, aad, InOutBuf::from(payload))
        .unwrap();
    tail[..GCM_TAG_LEN].copy_from_slice(&tag[..GCM_TAG_LEN]);
}

fn gcm_open<A>(
    aead: &A,
    nonce: GcmNonce,
    buf: &mut [u8],
    header_len: usize,
    len: usize,
) -> Result<(), Error>
where
    A: AeadInOut + aes_gcm::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    let (aad, rest) = buf.split_at_mut(header_len);
    let (payload, tail) = rest.split_at_mut(len - header_len);
    // NOTE(unwrap): `tail` is exactly the 16-byte tag.
    let tag: Tag<A::TagSize> = Tag::try_from(&tail[..]).unwrap();
    aead.decrypt_inout_detached(&nonce, aad, InOutBuf::from(payload), &tag)
        .map_err(|_| Error::AuthenticationFailed)
}

/// RFC 7714 §9.2/§9.3: with E = 1 the AAD is the 8 clear bytes followed by the E+index word
/// and the rest is encrypted; with E = 0 the whole packet and the word are AAD. The protected
/// layout is packet | tag | E+index (RFC 7714 §17). For E = 0 the word is written right after
/// the packet first, so the AAD is one contiguous slice, then moved behind the tag.
fn gcm_seal_rtcp<A>(
    aead: &A,
    nonce: GcmNonce,
    buf: &mut [u8],
    len: usize,
    word: [u8; 4],
    encrypt: bool,
) -> usize
where
    A: AeadInOut + aes_gcm::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    // NOTE(unwrap): AES-GCM refuses only inputs over 2^36 bytes; a packet is far smaller.
    let tag = if encrypt {
        let mut aad = [0u8; RTCP_CLEAR_LEN + INDEX_WORD_LEN];
        aad[..RTCP_CLEAR_LEN].copy_from_slice(&buf[..RTCP_CLEAR_LEN]);
        aad[RTCP_CLEAR_LEN..].copy_from_slice(&word);
        let payload = InOutBuf::from(&mut buf[RTCP_CLEAR_LEN..len]);
        aead.encrypt_inout_detached(&nonce, &aad, payload).unwrap()
    } else {
        buf[len..len + INDEX_WORD_LEN].copy_from_slice(&word);
        let aad = &buf[..len + INDEX_WORD_LEN];
        aead.encrypt_inout_detached(&nonce, aad, InOutBuf::from(&mut [][..]))
            .unwrap()
    };
    buf[len..len + GCM_TAG_LEN].copy_from_slice(&tag[..GCM_TAG_LEN]);
    buf[len + GCM_TAG_LEN..len + GCM_TAG_LEN + INDEX_WORD_LEN].copy_from_slice(&word);
    len + GCM_TAG_LEN + INDEX_WORD_LEN
}

fn gcm_open_rtcp<A>(
    aead: &A,
    nonce: GcmNonce,
    buf: &mut [u8],
    len: usize,
    encrypted: bool,
) -> Result<(), Error>
where
    A: AeadInOut + aes_gcm::AeadCore<NonceSize = aes_gcm::aead::consts::U12>,
{
    let mut word = [0u8; INDEX_WORD_LEN];
    word.copy_from_slice(&buf[len + GCM_TAG_LEN..]);
    // NOTE(unwrap): the range is exactly the 16-byte tag.
    let tag: Tag<A::TagSize> = Tag::try_from(&buf[len..len + GCM_TAG_LEN]).unwrap();
    let result = if encrypted {
        let mut aad = [0u8; RTCP_CLEAR_LEN + INDEX_WORD_LEN];
        aad[..RTCP_CLEAR_LEN].copy_from_slice(&buf[..RTCP_CLEAR_LEN]);
        aad[RTCP_CLEAR_LEN..].copy_from_slice(&word);
        let payload = InOutBuf::from(&mut buf[RTCP_CLEAR_LEN..len]);
        aead.decrypt_inout_detached(&nonce, &aad, payload, &tag)
    } else {
        // The tag is saved above, so its first bytes can hold the word for a contiguous AAD.
        buf[len..len + INDEX_WORD_LEN].copy_from_slice(&word);
        let aad = &buf[..len + INDEX_WORD_LEN];
        aead.decrypt_inout_detached(&nonce, aad, InOutBuf::from(&mut [][..]), &tag)
    };
    result.map_err(|_| Error::AuthenticationFailed)
}
