//! AES-GCM (NIST SP 800-38D) with a 96-bit IV and a 16-byte tag, as DTLS 1.2 (RFC 5288) and
//! SRTP (RFC 7714) use it, composed from RustCrypto's `aes` block cipher, `ctr` counter-mode
//! core and `polyval` universal hash: no primitive is ours. The composition differs from the
//! generic `aes-gcm` crate in ways that matter for packet-sized messages: one pass through
//! the cipher backend yields the tag mask, the whole keystream and the tag, GHASH is fed four
//! blocks at a time throughout, and GHASH over a packet runs as two independent chains that
//! the CPU can overlap (`ghash`). `Gcm` implements the `aead` traits, so it is a drop-in for
//! `aes_gcm::AesGcm`; unit tests below check it against that crate on many lengths, in place
//! and in/out.

use aes::cipher::inout::InOutBuf;
use aes::cipher::typenum::Unsigned;
use aes::cipher::{
    BlockCipherEncrypt, BlockSizeUser, InnerIvInit, KeyInit, KeySizeUser, ParBlocks,
    StreamCipherBackend, StreamCipherClosure, StreamCipherCore, consts::U16,
};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadCore, AeadInOut, Nonce, Tag, TagPosition};
use subtle::ConstantTimeEq;

mod ghash;

use ghash::{BLOCK, GhashKey, Layout, SPLIT_MAX, reverse_padded, xor16};

/// AEAD_AES_128_GCM (RFC 5116 §5.1).
pub(crate) type Aes128Gcm = Gcm<aes::Aes128>;
/// AEAD_AES_256_GCM (RFC 5116 §5.2).
pub(crate) type Aes256Gcm = Gcm<aes::Aes256>;

/// SP 800-38D §5.2.1.2: the full 16-byte tag.
const TAG_LEN: usize = 16;

type Ctr<'a, C> = ctr::CtrCore<&'a C, ctr::flavors::Ctr32BE>;

/// An AES-GCM key: the expanded cipher and the GHASH key with its precomputed powers.
#[derive(Clone)]
pub(crate) struct Gcm<C> {
    cipher: C,
    ghash: GhashKey,
}

impl<C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>> Gcm<C> {
    /// SP 800-38D §7.1 step 1: H = CIPH_K(0^128).
    fn from_cipher(cipher: C) -> Self {
        let mut h = [0u8; BLOCK].into();
        cipher.encrypt_block(&mut h);
        Self {
            cipher,
            ghash: GhashKey::new(h.into()),
        }
    }

    /// SP 800-38D §7.1: J0 = IV || 0^31 || 1; E(K, J0) masks the tag and the payload, when
    /// given, is encrypted from inc32(J0) on. One pass through the cipher backend makes both,
    /// so its per-call setup (round keys spread into vector registers) is paid once per
    /// packet. Returns the mask, or with `tag` the whole tag (GHASH computed in the pass).
    fn ctr(
        &self,
        iv: &[u8; 12],
        payload: Option<&mut [u8]>,
        tag: Option<TagJob<'_, '_>>,
    ) -> [u8; BLOCK] {
        let mut j0 = [0u8; BLOCK];
        j0[..12].copy_from_slice(iv);
        j0[15] = 1;
        let mut ctr = Ctr::<C>::inner_iv_init(&self.cipher, &j0.into());
        let mut pass = CtrPass {
            out: [0; BLOCK],
            payload,
            tag,
        };
        ctr.process_with_backend(&mut pass);
        pass.out
    }

    /// Encrypts `buffer` (in place or from its input to its output) and returns the tag over
    /// `aad` and the ciphertext.
    fn seal(&self, iv: &[u8; 12], aad: &[u8], buffer: InOutBuf<'_, '_, u8>) -> [u8; TAG_LEN] {
        // The output with the input copied in (nothing to copy in place) is encrypted in place:
        // plain slices XOR without the temporaries of `InOut::xor_in2out`.
        let text = buffer.into_out_with_copied_in();
        if let Some(layout) = Layout::fitting(aad.len(), text.len()) {
            let job = TagJob {
                key: &self.ghash,
                aad,
                layout,
                after_xor: true,
            };
            return self.ctr(iv, Some(text), Some(job));
        }
        let mask = self.ctr(iv, Some(&mut *text), None);
        xor16(self.ghash.hash(aad, text), &mask)
    }

    /// Checks `tag` over `aad` and the ciphertext (the input of `buffer`) in constant time and
    /// decrypts into the output; on a mismatch the output holds the ciphertext.
    fn open(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
        tag: &[u8],
    ) -> Result<(), ()> {
        let text = buffer.into_out_with_copied_in();
        if text.is_empty() {
            let expected = xor16(self.ghash.hash(aad, &[]), &self.ctr(iv, None, None));
            return if bool::from(expected.ct_eq(tag)) {
                Ok(())
            } else {
                Err(())
            };
        }
        // The mask comes with the keystream, so the payload is decrypted first and the tag
        // checked after; on a mismatch the keystream is applied to the output again, which
        // turns it back into the ciphertext (in place or not).
        let expected = match Layout::fitting(aad.len(), text.len()) {
            Some(layout) => {
                let job = TagJob {
                    key: &self.ghash,
                    aad,
                    layout,
                    after_xor: false,
                };
                self.ctr(iv, Some(&mut *text), Some(job))
            }
            None => {
                let hash = self.ghash.hash(aad, text);
                xor16(hash, &self.ctr(iv, Some(&mut *text), None))
            }
        };
        if !bool::from(expected.ct_eq(tag)) {
            self.ctr(iv, Some(text), None);
            return Err(());
        }
        Ok(())
    }
}

impl<C> KeySizeUser for Gcm<C>
where
    C: KeySizeUser,
{
    type KeySize = C::KeySize;
}

impl<C> KeyInit for Gcm<C>
where
    C: KeyInit + BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>,
{
    fn new(key: &aes::cipher::Key<Self>) -> Self {
        Gcm::from_cipher(C::new(key))
    }
}

impl<C> AeadCore for Gcm<C> {
    type NonceSize = U12;
    type TagSize = U16;
    const TAG_POSITION: TagPosition = TagPosition::Postfix;
}

impl<C> AeadInOut for Gcm<C>
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>,
{
    fn encrypt_inout_detached(
        &self,
        nonce: &Nonce<Self>,
        associated_data: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
    ) -> aes_gcm::aead::Result<Tag<Self>> {
        let iv: [u8; 12] = (*nonce).into();
        Ok(self.seal(&iv, associated_data, buffer).into())
    }

    fn decrypt_inout_detached(
        &self,
        nonce: &Nonce<Self>,
        associated_data: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
        tag: &Tag<Self>,
    ) -> aes_gcm::aead::Result<()> {
        let iv: [u8; 12] = (*nonce).into();
        self.open(&iv, associated_data, buffer, tag)
            .map_err(|()| aes_gcm::aead::Error)
    }
}

/// GHASH over a packet computed inside its CTR pass: the ciphertext is read after the XOR
/// when encrypting, before it when decrypting.
struct TagJob<'k, 'a> {
    key: &'k GhashKey,
    aad: &'a [u8],
    layout: Layout,
    after_xor: bool,
}

/// One pass of the CTR backend: the keystream block of J0, then the following blocks XORed
/// into `payload`; `out` ends as the mask, or with a [`TagJob`] as the tag.
///
/// The pass runs inside the cipher backend's `#[target_feature]` function (the closure is
/// inlined there), so GHASH's buffer, cleared and filled with byte-reversed blocks here, is
/// written with vector stores and shuffles; in a plain function the baseline x86-64 target
/// reverses each block with two scalar `bswap`s and clears 1.5 KiB 16 bytes at a time.
struct CtrPass<'p, 'k, 'a> {
    out: [u8; BLOCK],
    payload: Option<&'p mut [u8]>,
    tag: Option<TagJob<'k, 'a>>,
}

impl BlockSizeUser for &mut CtrPass<'_, '_, '_> {
    type BlockSize = U16;
}

impl StreamCipherClosure for &mut CtrPass<'_, '_, '_> {
    #[inline(always)]
    fn call<B: StreamCipherBackend<BlockSize = U16>>(self, backend: &mut B) {
        let mut mask = Default::default();
        backend.gen_ks_block(&mut mask);
        self.out = mask.into();
        let Some(payload) = self.payload.take() else {
            return;
        };
        let Some(job) = self.tag.take() else {
            xor_keystream(backend, payload);
            return;
        };
        let layout = &job.layout;
        let mut buf = [polyval::Block::default(); SPLIT_MAX];
        layout.write_aad(job.aad, &mut buf);
        if !job.after_xor {
            reverse_padded(payload, &mut buf, layout.text_at);
        }
        xor_keystream(backend, payload);
        if job.after_xor {
            reverse_padded(payload, &mut buf, layout.text_at);
        }
        layout.write_lengths(layout.aad_len, layout.text_len, &mut buf);
        self.out = xor16(job.key.split(&buf[..layout.padded]), &self.out);
    }
}

/// XORs the keystream, from the backend's next counter on, into `payload`.
#[inline(always)]
fn xor_keystream<B: StreamCipherBackend<BlockSize = U16>>(backend: &mut B, payload: &mut [u8]) {
    let mut chunks = payload.chunks_exact_mut(B::ParBlocksSize::USIZE * BLOCK);
    for chunk in &mut chunks {
        let mut ks: ParBlocks<B> = Default::default();
        backend.gen_par_ks_blocks(&mut ks);
        for (data, ks) in chunk.chunks_exact_mut(BLOCK).zip(ks.iter()) {
            xor_block(data, ks);
        }
    }
    for data in chunks.into_remainder().chunks_mut(BLOCK) {
        let mut ks = Default::default();
        backend.gen_ks_block(&mut ks);
        xor_block(data, &ks);
    }
}

/// XORs a (possibly partial) block of keystream into `data`.
#[inline(always)]
fn xor_block(data: &mut [u8], ks: &aes::Block) {
    for (byte, key) in data.iter_mut().zip(ks.iter()) {
        *byte ^= key;
    }
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::{AeadInOut, KeyInit};

    use super::*;

    /// Deterministic bytes without a generator dependency.
    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn check_against_crate<C, R>(key: &[u8])
    where
        Gcm<C>: KeyInit + AeadInOut<NonceSize = U12, TagSize = U16>,
        R: KeyInit + AeadInOut<NonceSize = U12, TagSize = U16>,
    {
        let ours = Gcm::<C>::new_from_slice(key).unwrap();
        let reference = R::new_from_slice(key).unwrap();
        // Lengths around block, four-block and chain-split boundaries, and past the
        // two-chain limit (96 blocks), with AADs from empty to three blocks.
        let lengths = (0..=70).chain([127, 128, 129, 255, 256, 1200, 1496, 1536, 1600, 4096]);
        for len in lengths {
            for aad_len in [0, 1, 8, 12, 13, 16, 20, 33, 48] {
                let aad = bytes(aad_len, 3);
                let plain = bytes(len, len as u8);
                let nonce = Nonce::<R>::from(<[u8; 12]>::try_from(&bytes(12, 9)[..]).unwrap());

                let mut expected = plain.clone();
                let expected_tag = reference
                    .encrypt_inout_detached(&nonce, &aad, expected.as_mut_slice().into())
                    .unwrap();

                // In place.
                let mut sealed = plain.clone();
                let tag = ours
                    .encrypt_inout_detached(&nonce, &aad, sealed.as_mut_slice().into())
                    .unwrap();
                assert_eq!(sealed, expected, "ciphertext, len {len} aad {aad_len}");
                assert_eq!(tag[..], expected_tag[..], "tag, len {len} aad {aad_len}");

                // From an input buffer into an output buffer.
                let mut out = vec![0u8; len];
                let buffer = InOutBuf::new(&plain, &mut out).unwrap();
                let tag2 = ours.encrypt_inout_detached(&nonce, &aad, buffer).unwrap();
                assert_eq!(out, expected);
                assert_eq!(tag2[..], expected_tag[..]);

                // Open in place, and from input to output.
                let mut opened = sealed.clone();
                ours.decrypt_inout_detached(&nonce, &aad, opened.as_mut_slice().into(), &tag)
                    .unwrap();
                assert_eq!(opened, plain);
                let mut out = vec![0u8; len];
                let buffer = InOutBuf::new(&sealed, &mut out).unwrap();
                ours.decrypt_inout_detached(&nonce, &aad, buffer, &tag)
                    .unwrap();
                assert_eq!(out, plain);

                // A flipped tag bit, AAD bit or ciphertext bit is refused and the buffer keeps
                // the ciphertext.
                let mut bad_tag = tag;
                bad_tag[len % TAG_LEN] ^= 1;
                let mut kept = sealed.clone();
                assert!(
                    ours.decrypt_inout_detached(&nonce, &aad, kept.as_mut_slice().into(), &bad_tag)
                        .is_err()
                );
                assert_eq!(kept, sealed);
                if aad_len > 0 {
                    let mut bad_aad = aad.clone();
                    bad_aad[0] ^= 0x80;
                    let mut kept = sealed.clone();
                    assert!(
                        ours.decrypt_inout_detached(
                            &nonce,
                            &bad_aad,
                            kept.as_mut_slice().into(),
                            &tag
                        )
                        .is_err()
                    );
                }
                if len > 0 {
                    let mut bad = sealed.clone();
                    bad[len - 1] ^= 4;
                    let mut out = vec![0u8; len];
                    let buffer = InOutBuf::new(&bad, &mut out).unwrap();
                    assert!(
                        ours.decrypt_inout_detached(&nonce, &aad, buffer, &tag)
                            .is_err()
                    );
                    assert_eq!(
                        out, bad,
                        "a refused open leaves the ciphertext in the output"
                    );
                }
            }
        }
    }

    #[test]
    fn aes_128_matches_the_aes_gcm_crate() {
        check_against_crate::<aes::Aes128, aes_gcm::Aes128Gcm>(&bytes(16, 1));
    }

    #[test]
    fn aes_256_matches_the_aes_gcm_crate() {
        check_against_crate::<aes::Aes256, aes_gcm::Aes256Gcm>(&bytes(32, 2));
    }

    /// SP 800-38D test case 4 of the original GCM specification (McGrew and Viega, Appendix
    /// B): AES-128, 60-byte plaintext, 20-byte AAD.
    #[test]
    fn gcm_spec_test_case_4() {
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let key = hex("feffe9928665731c6d6a8f9467308308");
        let iv = hex("cafebabefacedbaddecaf888");
        let plain = hex(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let cipher = hex(concat!(
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e",
            "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
        ));
        let tag = hex("5bc94fbc3221a5db94fae95ae7121a47");
        let gcm = Aes128Gcm::new_from_slice(&key).unwrap();
        let nonce = Nonce::<Aes128Gcm>::from(<[u8; 12]>::try_from(&iv[..]).unwrap());
        let mut buf = plain.clone();
        let got = gcm
            .encrypt_inout_detached(&nonce, &aad, buf.as_mut_slice().into())
            .unwrap();
        assert_eq!(buf, cipher);
        assert_eq!(got[..], tag[..]);
    }
}
