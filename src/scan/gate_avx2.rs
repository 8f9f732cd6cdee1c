//! The prefilter's gate eight windows at a time, with AVX2 (x86-64 processors since 2013;
//! checked at run time, the portable loop in [`super::prefilter`] otherwise).
//!
//! The portable loop spends some 85 instructions on a step (sixteen bytes, eight windows):
//! for each window a load, the fold, the multiply, two shifts and the gate's lookup. Here a
//! step is one shuffle that lays the eight windows out in eight lanes, one `or`, one multiply,
//! one shift, one gather of the eight gate words and a shift that moves each window's bit to
//! the top of its lane: a dozen instructions, and a mask that says which windows passed
//! (the portable loop knows only that one did, and hashes the step again to find which).
//! The hash and the gate are the very ones of [`super::gate`]: both loops find the same
//! windows (the prefilter's differential tests run each against a naive search).

#![allow(unsafe_code)] // SIMD intrinsics; each unsafe block says why it is sound

use super::gate::{BITS, WORDS};
use std::arch::x86_64::{
    __m128i, _mm256_and_si256, _mm256_castsi128_si256, _mm256_castsi256_ps, _mm256_i32gather_epi32,
    _mm256_inserti128_si256, _mm256_movemask_ps, _mm256_mullo_epi32, _mm256_or_si256,
    _mm256_set1_epi32, _mm256_setr_epi8, _mm256_shuffle_epi8, _mm256_sllv_epi32, _mm256_srli_epi32,
    _mm256_sub_epi32, _mm_loadu_si128,
};

/// Bytes a step covers (eight windows at its even offsets), as in the portable loop.
pub(super) const STEP: usize = 16;

/// Bytes past a step's start that a step loads: two 16-byte loads, eight bytes apart.
const READS: usize = 24;

/// Steps per block: the steps that passed are handed over after each block.
const BLOCK: usize = 64;

/// Whether this processor runs [`steps`] (std checks once, then it is a load and a test).
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Runs the gate over the steps of `data` that can be loaded whole, calling `passed(i, mask)`
/// for each step at `i` whose `mask` is not zero (bit `j`: the window at `i + 2 * j` passed).
/// Returns where it stopped: the portable loop goes on from there.
///
/// Only call it when [`available`] says so.
pub(super) fn steps(
    gate: &[u64; WORDS],
    multiplier: u32,
    data: &[u8],
    passed: &mut dyn FnMut(usize, u32),
) -> usize {
    assert!(available(), "the AVX2 gate runs only where AVX2 is");
    // SAFETY: the processor has AVX2 (asserted above), the only requirement of `steps_avx2`.
    unsafe { steps_avx2(gate, multiplier, data, passed) }
}

#[target_feature(enable = "avx2")]
fn steps_avx2(
    gate: &[u64; WORDS],
    multiplier: u32,
    data: &[u8],
    passed: &mut dyn FnMut(usize, u32),
) -> usize {
    // In each 128-bit half (one 16-byte load): the 4-byte windows at offsets 0, 2, 4 and 6.
    let layout = _mm256_setr_epi8(
        0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, //
        0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9,
    );
    let case = _mm256_set1_epi32(0x2020_2020);
    let multiplier = _mm256_set1_epi32(multiplier as i32);
    let low5 = _mm256_set1_epi32(31);
    let words = gate.as_ptr().cast::<i32>();
    // The steps that passed, noted without a branch (which step passes is unpredictable: a
    // branch on each would be mispredicted one step in ten) and handed over per block.
    let mut noted = [(0usize, 0u32); BLOCK];
    let mut i = 0;
    while i + READS <= data.len() {
        let mut count = 0;
        let block_end = data.len().min(i + BLOCK * STEP + READS - STEP);
        while i + READS <= block_end {
            // SAFETY: `i + 24 <= data.len()`: both 16-byte loads (at `i` and `i + 8`) are
            // inside `data`; `loadu` needs no alignment.
            let (low, high) = unsafe {
                let at = data.as_ptr().add(i);
                (
                    _mm_loadu_si128(at.cast::<__m128i>()),
                    _mm_loadu_si128(at.add(8).cast::<__m128i>()),
                )
            };
            let bytes = _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(low), high);
            // Windows at i, i+2, …, i+14, folded as `gate::fold` does, hashed as `gate::hash`.
            let folded = _mm256_or_si256(_mm256_shuffle_epi8(bytes, layout), case);
            let hash =
                _mm256_srli_epi32::<{ 32 - BITS as i32 }>(_mm256_mullo_epi32(folded, multiplier));
            // SAFETY: a hash is below 2^BITS, so `hash >> 5` indexes one of the gate's
            // 2 * WORDS 32-bit words (the gate is WORDS 64-bit words; bit `h` of it is bit
            // `h & 31` of 32-bit word `h >> 5` on this little-endian processor).
            let word = unsafe { _mm256_i32gather_epi32::<4>(words, _mm256_srli_epi32::<5>(hash)) };
            // Each window's bit moved to the sign of its lane, the signs gathered in a mask.
            let shift = _mm256_sub_epi32(low5, _mm256_and_si256(hash, low5));
            let mask = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_sllv_epi32(word, shift)));
            noted[count] = (i, mask as u32);
            count += usize::from(mask != 0);
            i += STEP;
        }
        for &(at, mask) in &noted[..count] {
            passed(at, mask);
        }
    }
    i
}
