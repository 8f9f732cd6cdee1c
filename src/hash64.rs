//! A fast 64-bit hash of bytes, for sets and comparisons inside one run (never stored, never
//! shown): eight bytes at a time, multiply and rotate. History hashes every line of every
//! version it compares and every path of every tree it reads; SipHash cost a tenth of a
//! history scan. At 64 bits a collision, which would hide one changed line or one pair of a
//! blob and a path, is out of reach.

/// The hash of `bytes`.
pub fn hash64(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let mut w = [0u8; 8];
    w[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    h ^ (h >> 29)
}
