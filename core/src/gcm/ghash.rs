//! GHASH (SP 800-38D §6.4) for [`Gcm`](super::Gcm), computed as POLYVAL (RFC 8452
//! Appendix A) with the `polyval` crate: the key with its precomputed powers, the layout of a
//! packet's blocks, and the two-chain split that lets the CPU overlap the multiplications.

use polyval::Polyval;
use polyval::universal_hash::{UhfBackend, UniversalHash};

/// Bytes in a block.
pub(super) const BLOCK: usize = 16;
/// Blocks `Polyval::proc_par_blocks` takes at once (its `ParBlocksSize`).
const PAR: usize = 4;

/// RFC 8452 Appendix A: GHASH computed as POLYVAL over byte-reversed blocks, keyed with
/// mulX_POLYVAL(ByteReverse(H)); the powers of the key are expanded once, here.
#[derive(Clone)]
pub(super) struct GhashKey {
    hash: Polyval,
    /// `power[k]` is keyed with H^(8(k+1)) (POLYVAL products): it moves the first of two
    /// GHASH chains past the blocks the second one covered.
    power: [Polyval; POWERS],
}

/// GHASH of a packet of up to this many blocks (the AAD, payload and length blocks of a
/// 1,500-byte packet fit) runs as two independent chains.
pub(super) const SPLIT_MAX: usize = 96;
/// Powers of H kept: the second chain covers up to `8 * POWERS` blocks.
const POWERS: usize = SPLIT_MAX / 16;

impl GhashKey {
    /// The key for H = CIPH_K(0^128) (SP 800-38D §7.1 step 1).
    pub(super) fn new(h: [u8; BLOCK]) -> GhashKey {
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
        GhashKey { hash, power }
    }

    /// SP 800-38D §7.1 steps 5-6: GHASH_H(A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64).
    pub(super) fn hash(&self, aad: &[u8], text: &[u8]) -> [u8; BLOCK] {
        let Some(layout) = Layout::fitting(aad.len(), text.len()) else {
            let mut feed = Feed::new(self.hash.clone(), Layout::blocks(aad.len(), text.len()));
            feed.padded(aad);
            feed.padded(text);
            feed.push(&lengths_block(aad.len(), text.len()));
            return feed.finish();
        };
        let mut buf = [polyval::Block::default(); SPLIT_MAX];
        layout.write_aad(aad, &mut buf);
        reverse_padded(text, &mut buf, layout.text_at);
        layout.write_lengths(aad.len(), text.len(), &mut buf);
        self.split(&buf[..layout.padded])
    }

    /// GHASH over `blocks` (already byte-reversed, front-padded with zero blocks to a multiple
    /// of [`PAR`], at most [`SPLIT_MAX`]).
    #[inline(always)]
    pub(super) fn split(&self, blocks: &[polyval::Block]) -> [u8; BLOCK] {
        let padded = blocks.len();
        // The GHASH accumulator is one long dependency chain of multiplications. Linearity
        // splits it: GHASH(X_1..X_n) = GHASH(X_1..X_m) * H^(n-m) + GHASH(X_m+1..X_n), so two
        // halves hashed in alternation overlap in the CPU, and one multiplication joins them.
        let second = 8 * ((padded + 8) / 16).min(POWERS);
        let (one, two) = blocks.split_at(padded - second);
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
}

/// Where the blocks of one packet sit in GHASH's buffer: zero blocks in front (so the count is
/// a multiple of [`PAR`]), then the AAD, the ciphertext and the lengths block.
pub(super) struct Layout {
    pub(super) padded: usize,
    pub(super) aad_at: usize,
    pub(super) text_at: usize,
    pub(super) lengths_at: usize,
    pub(super) aad_len: usize,
    pub(super) text_len: usize,
}

impl Layout {
    /// Blocks GHASH reads for an AAD and a text of these lengths, the lengths block included.
    fn blocks(aad_len: usize, text_len: usize) -> usize {
        aad_len.div_ceil(BLOCK) + text_len.div_ceil(BLOCK) + 1
    }

    /// The layout, when the packet fits the two-chain buffer of [`SPLIT_MAX`] blocks.
    pub(super) fn fitting(aad_len: usize, text_len: usize) -> Option<Layout> {
        let blocks = Layout::blocks(aad_len, text_len);
        let padded = blocks.next_multiple_of(PAR);
        if padded > SPLIT_MAX {
            return None;
        }
        let aad_at = padded - blocks;
        let text_at = aad_at + aad_len.div_ceil(BLOCK);
        Some(Layout {
            padded,
            aad_at,
            text_at,
            lengths_at: text_at + text_len.div_ceil(BLOCK),
            aad_len,
            text_len,
        })
    }

    #[inline(always)]
    pub(super) fn write_aad(&self, aad: &[u8], buf: &mut [polyval::Block]) {
        reverse_padded(aad, buf, self.aad_at);
    }

    #[inline(always)]
    pub(super) fn write_lengths(
        &self,
        aad_len: usize,
        text_len: usize,
        buf: &mut [polyval::Block],
    ) {
        reverse_padded(&lengths_block(aad_len, text_len), buf, self.lengths_at);
    }
}

/// SP 800-38D §7.1 step 5: [len(A)]64 || [len(C)]64, in bits.
#[inline(always)]
pub(super) fn lengths_block(aad_len: usize, text_len: usize) -> [u8; BLOCK] {
    let mut lengths = [0u8; BLOCK];
    lengths[..8].copy_from_slice(&(aad_len as u64 * 8).to_be_bytes());
    lengths[8..].copy_from_slice(&(text_len as u64 * 8).to_be_bytes());
    lengths
}

/// RFC 8452 Appendix A: mulX_POLYVAL, with the field element as a little-endian integer; the
/// reduction folds x^128 into x^127 + x^126 + x^121 + 1.
fn mulx_polyval(v: u128) -> u128 {
    let carry = v >> 127;
    (v << 1) ^ (carry * 0xc200_0000_0000_0000_0000_0000_0000_0001)
}

/// Writes `data`, zero-padded to whole blocks and each block byte-reversed (RFC 8452
/// Appendix A: POLYVAL takes ByteReverse of each GHASH block), into `out` from block `at`;
/// returns the next free block. Inlined, so that it takes the target features of its caller.
#[inline(always)]
pub(super) fn reverse_padded(data: &[u8], out: &mut [polyval::Block], mut at: usize) -> usize {
    let mut chunks = data.chunks_exact(BLOCK);
    for chunk in &mut chunks {
        // NOTE(unwrap): `chunks_exact` yields exactly 16 bytes.
        let mut block: [u8; BLOCK] = chunk.try_into().unwrap();
        block.reverse();
        out[at] = block.into();
        at += 1;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; BLOCK];
        last[..rest.len()].copy_from_slice(rest);
        last.reverse();
        out[at] = last.into();
        at += 1;
    }
    at
}

pub(super) fn xor16(mut a: [u8; BLOCK], b: &[u8; BLOCK]) -> [u8; BLOCK] {
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
