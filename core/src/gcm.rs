//! AES-GCM (NIST SP 800-38D) with a 96-bit IV and a 16-byte tag, as DTLS 1.2 (RFC 5288) and
//! SRTP (RFC 7714) use it, composed from RustCrypto's `aes` block cipher, `ctr` counter-mode
//! core and `polyval` universal hash: no primitive is ours. The composition differs from the
//! generic `aes-gcm` crate in ways that matter for packet-sized messages: one pass through
//! the cipher backend yields the tag mask and the whole keystream, GHASH is fed four blocks at
//! a time throughout, and GHASH over a packet runs as two independent chains that the CPU can
//! overlap. `Gcm` implements the `aead` traits, so it is a drop-in for `aes_gcm::AesGcm`;
//! unit tests below check it against that crate on many lengths, in place and in/out.

use aes::cipher::inout::InOutBuf;
use aes::cipher::{
    BlockCipherEncrypt, BlockSizeUser, InnerIvInit, KeyInit, KeySizeUser, StreamCipherBackend,
    StreamCipherClosure, StreamCipherCore, consts::U16,
};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadCore, AeadInOut, Nonce, Tag, TagPosition};
use polyval::Polyval;
use polyval::universal_hash::{UhfBackend, UniversalHash};
use subtle::ConstantTimeEq;

/// AEAD_AES_128_GCM (RFC 5116 §5.1).
pub(crate) type Aes128Gcm = Gcm<aes::Aes128>;
/// AEAD_AES_256_GCM (RFC 5116 §5.2).
pub(crate) type Aes256Gcm = Gcm<aes::Aes256>;

/// SP 800-38D §5.2.1.2: the full 16-byte tag.
const TAG_LEN: usize = 16;
/// Blocks `Polyval::proc_par_blocks` takes at once (its `ParBlocksSize`).
const PAR: usize = 4;

type Ctr<'a, C> = ctr::CtrCore<&'a C, ctr::flavors::Ctr32BE>;

const BLOCK: usize = 16;

/// An AES-GCM key: the expanded cipher and the GHASH key with its precomputed powers.
#[derive(Clone)]
pub(crate) struct Gcm<C> {
    cipher: C,
    /// RFC 8452 Appendix A: GHASH computed as POLYVAL over byte-reversed blocks, keyed with
    /// mulX_POLYVAL(ByteReverse(H)); the powers of the key are expanded once, here.
    hash: Polyval,
    /// `power[k]` is keyed with H^(8(k+1)) (POLYVAL products): it moves the first of two
    /// GHASH chains past the blocks the second one covered.
    power: [Polyval; POWERS],
}

/// GHASH of a packet of up to this many blocks (the AAD, payload and length blocks of a
/// 1,500-byte packet fit) runs as two independent chains.
const SPLIT_MAX: usize = 96;
/// Powers of H kept: the second chain covers up to `8 * POWERS` blocks.
const POWERS: usize = SPLIT_MAX / 16;

impl<C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>> Gcm<C> {
    /// SP 800-38D §7.1 step 1: H = CIPH_K(0^128).
    fn from_cipher(cipher: C) -> Self {
        let mut h = [0u8; BLOCK].into();
        cipher.encrypt_block(&mut h);
        let h: [u8; BLOCK] = h.into();
        let key = mulx_polyval(u128::from_be_bytes(h)).to_le_bytes();
        let hash = Polyval::new(&key.into());
        let power = core::array::from_fn(|k| {
            // POLYVAL over (H, 0, ..., 0) with L - 2 zero blocks is H^L.
            let mut p = hash.clone();
            p.proc_block(&key.into());
            for _ in 0..8 * (k + 1) - 2 {
                p.proc_block(&Default::default());
            }
            Polyval::new(&p.finalize())
        });
        Self {
            cipher,
            hash,
            power,
        }
    }

    /// SP 800-38D §7.1: J0 = IV || 0^31 || 1; E(K, J0) masks the tag (returned) and the
    /// payload, when given, is encrypted from inc32(J0) on. One pass through the cipher
    /// backend makes both, so its per-call setup (round keys spread into vector registers)
    /// is paid once per packet.
    fn ctr(&self, iv: &[u8; 12], payload: Option<InOutBuf<'_, '_, u8>>) -> [u8; BLOCK] {
        let mut j0 = [0u8; BLOCK];
        j0[..12].copy_from_slice(iv);
        j0[15] = 1;
        let mut ctr = Ctr::<C>::inner_iv_init(&self.cipher, &j0.into());
        let mut pass = CtrPass {
            mask: [0; BLOCK],
            payload,
        };
        ctr.process_with_backend(&mut pass);
        pass.mask
    }

    /// SP 800-38D §7.1 steps 5-6: GHASH_H(A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64).
    fn ghash(&self, aad: &[u8], text: &[u8]) -> [u8; BLOCK] {
        let blocks = aad.len().div_ceil(BLOCK) + text.len().div_ceil(BLOCK) + 1;
        let mut lengths = [0u8; BLOCK];
        lengths[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(text.len() as u64 * 8).to_be_bytes());
        let padded = blocks.next_multiple_of(PAR);
        if padded > SPLIT_MAX {
            let mut feed = Feed::new(self.hash.clone(), blocks);
            feed.padded(aad);
            feed.padded(text);
            feed.push(&lengths);
            return feed.finish();
        }
        let mut buf = [polyval::Block::default(); SPLIT_MAX];
        let mut at = padded - blocks;
        for data in [aad, text, &lengths[..]] {
            at = reverse_padded(data, &mut buf, at);
        }
        // The GHASH accumulator is one long dependency chain of multiplications. Linearity
        // splits it: GHASH(X_1..X_n) = GHASH(X_1..X_m) * H^(n-m) + GHASH(X_m+1..X_n), so two
        // halves hashed in alternation overlap in the CPU, and one multiplication joins them.
        let second = 8 * ((padded + 8) / 16).min(POWERS);
        let (one, two) = buf[..padded].split_at(padded - second);
        let (one, _) = polyval::ParBlocks::slice_as_chunks(one);
        let (two, _) = polyval::ParBlocks::slice_as_chunks(two);
        let (mut a, mut b) = (self.hash.clone(), self.hash.clone());
        for i in 0..one.len().max(two.len()) {
            if let Some(blocks) = one.get(i) {
                a.proc_par_blocks(blocks);
            }
            if let Some(blocks) = two.get(i) {
                b.proc_par_blocks(blocks);
            }
        }
        let out: [u8; BLOCK] = if second == 0 {
            // Too short to split: the first chain took every block.
            a.finalize().into()
        } else {
            let mut join = self.power[second / 8 - 1].clone();
            join.proc_block(&a.finalize());
            xor16(b.finalize().into(), &join.finalize().into())
        };
        u128::from_le_bytes(out).to_be_bytes()
    }

    /// Encrypts `buffer` (in place or from its input to its output) and returns the tag over
    /// `aad` and the ciphertext.
    fn seal(&self, iv: &[u8; 12], aad: &[u8], mut buffer: InOutBuf<'_, '_, u8>) -> [u8; TAG_LEN] {
        let mask = self.ctr(iv, Some(buffer.reborrow()));
        xor16(self.ghash(aad, buffer.get_out()), &mask)
    }

    /// Checks `tag` over `aad` and the ciphertext (the input of `buffer`) in constant time and
    /// decrypts into the output; on a mismatch the output holds the ciphertext.
    fn open(
        &self,
        iv: &[u8; 12],
        aad: &[u8],
        mut buffer: InOutBuf<'_, '_, u8>,
        tag: &[u8],
    ) -> Result<(), ()> {
        let expected = self.ghash(aad, buffer.get_in());
        if buffer.is_empty() {
            let expected = xor16(expected, &self.ctr(iv, None));
            return if bool::from(expected.ct_eq(tag)) {
                Ok(())
            } else {
                Err(())
            };
        }
        // The mask comes with the keystream, so the payload is decrypted first and the tag
        // checked after; on a mismatch the keystream is applied to the output again, which
        // turns it back into the ciphertext (in place or not).
        let mask = self.ctr(iv, Some(buffer.reborrow()));
        let expected = xor16(expected, &mask);
        if !bool::from(expected.ct_eq(tag)) {
            self.ctr(iv, Some(InOutBuf::from(buffer.get_out())));
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

/// One pass of the CTR backend: the keystream block of J0 into `mask`, then the following
/// blocks XORed into `payload`.
struct CtrPass<'i, 'o> {
    mask: [u8; BLOCK],
    payload: Option<InOutBuf<'i, 'o, u8>>,
}

impl BlockSizeUser for &mut CtrPass<'_, '_> {
    type BlockSize = U16;
}

impl StreamCipherClosure for &mut CtrPass<'_, '_> {
    #[inline(always)]
    fn call<B: StreamCipherBackend<BlockSize = U16>>(self, backend: &mut B) {
        let mut mask = Default::default();
        backend.gen_ks_block(&mut mask);
        self.mask = mask.into();
        let Some(payload) = self.payload.take() else {
            return;
        };
        let (blocks, mut tail) = payload.into_chunks::<U16>();
        let (chunks, rest) = blocks.into_chunks::<B::ParBlocksSize>();
        for mut chunk in chunks {
            let mut ks = Default::default();
            backend.gen_par_ks_blocks(&mut ks);
            chunk.xor_in2out(&ks);
        }
        for mut block in rest {
            let mut ks = Default::default();
            backend.gen_ks_block(&mut ks);
            block.xor_in2out(&ks);
        }
        if !tail.is_empty() {
            let mut ks: aes::Block = Default::default();
            backend.gen_ks_block(&mut ks);
            let n = tail.len();
            tail.xor_in2out(&ks[..n]);
        }
    }
}

/// RFC 8452 Appendix A: mulX_POLYVAL, with the field element as a little-endian integer; the
/// reduction folds x^128 into x^127 + x^126 + x^121 + 1.
fn mulx_polyval(v: u128) -> u128 {
    let carry = v >> 127;
    (v << 1) ^ (carry * 0xc200_0000_0000_0000_0000_0000_0000_0001)
}

/// Writes `data`, zero-padded to whole blocks and each block byte-reversed (RFC 8452
/// Appendix A: POLYVAL takes ByteReverse of each GHASH block), into `out` from block `at`;
/// returns the next free block.
fn reverse_padded(data: &[u8], out: &mut [polyval::Block], mut at: usize) -> usize {
    let mut chunks = data.chunks_exact(BLOCK);
    for chunk in &mut chunks {
        // NOTE(unwrap): `chunks_exact` yields exactly 16 bytes.
        let block: [u8; BLOCK] = chunk.try_into().unwrap();
        out[at] = u128::from_be_bytes(block).to_le_bytes().into();
        at += 1;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; BLOCK];
        last[..rest.len()].copy_from_slice(rest);
        out[at] = u128::from_be_bytes(last).to_le_bytes().into();
        at += 1;
    }
    at
}

fn xor16(mut a: [u8; BLOCK], b: &[u8; BLOCK]) -> [u8; BLOCK] {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
    a
}

/// GHASH input, byte-reversed into POLYVAL blocks (RFC 8452 Appendix A) and hashed four
/// at a time. The blocks are reversed into a buffer first and hashed once it is full: the
/// reversal writes each block as two 8-byte halves, and reading a block straight back would
/// stall the 16-byte load behind those stores. The accumulator starts at zero and a zero block
/// leaves a zero accumulator unchanged, so the stream is front-padded with zero blocks to a
/// multiple of four: no single-block calls.
struct Feed {
    hash: Polyval,
    blocks: [polyval::Block; FEED],
    fill: usize,
}

/// Blocks reversed before they are hashed; a multiple of [`PAR`].
const FEED: usize = 64;

impl Feed {
    fn new(hash: Polyval, blocks: usize) -> Self {
        Self {
            hash,
            blocks: [Default::default(); FEED],
            fill: (PAR - blocks % PAR) % PAR,
        }
    }

    #[inline(always)]
    fn push(&mut self, block: &[u8; BLOCK]) {
        if self.fill == FEED {
            self.flush();
        }
        let reversed = u128::from_be_bytes(*block).to_le_bytes();
        self.blocks[self.fill] = reversed.into();
        self.fill += 1;
    }

    fn flush(&mut self) {
        let (par, _) = polyval::ParBlocks::slice_as_chunks(&self.blocks[..self.fill]);
        for blocks in par {
            self.hash.proc_par_blocks(blocks);
        }
        self.fill = 0;
    }

    /// `data` followed by zeros up to a block boundary.
    fn padded(&mut self, data: &[u8]) {
        let mut chunks = data.chunks_exact(BLOCK);
        for chunk in &mut chunks {
            // NOTE(unwrap): `chunks_exact` yields exactly 16 bytes.
            self.push(chunk.try_into().unwrap());
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; BLOCK];
            last[..rest.len()].copy_from_slice(rest);
            self.push(&last);
        }
    }

    /// ByteReverse(POLYVAL) is the GHASH value; `new` padded the stream to whole groups of
    /// four, so the last flush leaves nothing over.
    fn finish(mut self) -> [u8; BLOCK] {
        self.flush();
        let out: [u8; BLOCK] = self.hash.finalize().into();
        u128::from_le_bytes(out).to_be_bytes()
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
