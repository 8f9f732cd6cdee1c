//! The prefilter's tables, built from a list of keywords: shared by the scanner (for a team's
//! own rules) and by `build.rs`, which builds them for the built-in catalog at compile time so
//! that a commit starts with them ready (see [`super::prefilter`]). Plain data and std only:
//! `build.rs` includes this file as it is.

/// Bits of the gate's hash: 2^18 bits, 32 KiB, within a core's second-level cache and
/// sparse enough that few windows pass by accident (about 0.3 % with the catalog).
pub const BITS: u32 = 18;

/// The gate's length in 64-bit words.
pub const WORDS: usize = 1 << (BITS - 6);

/// Case-folds a 4-byte window as the gate sees it: ASCII letters lowercased (and a few
/// punctuation bytes mapped together, which only costs a false pass now and then).
#[inline(always)]
pub fn fold(window: u32) -> u32 {
    window | 0x2020_2020
}

/// The gate's hash of a folded window.
#[inline(always)]
pub fn hash(folded: u32) -> usize {
    (folded.wrapping_mul(0x9E37_79B1) >> (32 - BITS)) as usize
}

/// How common a byte is in code and prose (higher is more common), for choosing anchors.
fn commonness(b: u8) -> u32 {
    match b.to_ascii_lowercase() {
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' | b' ' => 9,
        b'l' | b'c' | b'd' | b'h' | b'u' | b'm' | b'p' => 8,
        b'f' | b'g' | b'y' | b'w' | b'b' | b'.' | b'(' | b')' | b'\n' | b',' | b';' => 7,
        b'v' | b'k' | b'=' | b'_' | b':' | b'"' | b'{' | b'}' | b'&' | b'/' => 6,
        b'x' | b'-' | b'\'' | b'<' | b'>' | b'[' | b']' | b'*' | b'!' | b'0'..=b'9' => 5,
        _ => 3,
    }
}

/// One anchor: the folded window, the keyword it stands for, and where in the keyword it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// [`hash`] of `folded`.
    pub hash: u32,
    /// The window, folded.
    pub folded: u32,
    /// The keyword's index.
    pub keyword: u32,
    /// Where the window starts in the keyword.
    pub offset: u8,
}

/// What the prefilter searches with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// A bit per hash that some anchor has.
    pub gate: Vec<u64>,
    /// Anchors, grouped by the gate word their hash falls in.
    pub anchors: Vec<Anchor>,
    /// For each 64-bit word of the gate, where its anchors start in `anchors` (one more
    /// entry than words): a window that passes is compared with a handful of anchors.
    pub by_word: Vec<u32>,
    /// Keywords of one or two bytes (a team's rule may have one), searched on their own.
    pub short: Vec<u32>,
}

/// The tables for `keywords` (lowercase, at least one byte each):
/// - each keyword is represented by one 4-byte window of it, its *anchor*, chosen where its
///   bytes are least common in code and prose (a keyword of three bytes is padded with every
///   byte that can follow it);
/// - the anchors' hashes set the gate's bits; the anchors are grouped by gate word.
pub fn tables(keywords: &[&[u8]]) -> Tables {
    let mut gate = vec![0u64; WORDS];
    let mut anchors = Vec::new();
    let mut short = Vec::new();
    for (index, k) in keywords.iter().enumerate() {
        if k.len() < 3 {
            short.push(index as u32);
            continue;
        }
        let mut windows = Vec::new();
        let offset = if k.len() >= 4 {
            // The window whose bytes are least common: it passes the gate least often.
            let o = (0..=k.len() - 4)
                .min_by_key(|&o| k[o..o + 4].iter().map(|&b| commonness(b)).sum::<u32>())
                .unwrap_or(0);
            windows.push([k[o], k[o + 1], k[o + 2], k[o + 3]]);
            o
        } else {
            // Three bytes, too short for a window of its own: one window for each byte that
            // can follow (the end of the blob reads as a zero byte).
            windows.extend((0..=255u8).map(|next| [k[0], k[1], k[2], next]));
            0
        };
        for w in windows {
            let folded = fold(u32::from_le_bytes(w));
            let h = hash(folded);
            gate[h >> 6] |= 1 << (h & 63);
            anchors.push(Anchor {
                hash: h as u32,
                folded,
                keyword: index as u32,
                offset: offset as u8,
            });
        }
    }
    // Grouped by gate word with a counting sort (stable: anchors of one word stay in keyword
    // order).
    let mut by_word = vec![0u32; WORDS + 1];
    for a in &anchors {
        by_word[(a.hash >> 6) as usize + 1] += 1;
    }
    for w in 0..WORDS {
        by_word[w + 1] += by_word[w];
    }
    let mut next = by_word.clone();
    let mut grouped = anchors.clone();
    for a in anchors {
        let slot = &mut next[(a.hash >> 6) as usize];
        grouped[*slot as usize] = a;
        *slot += 1;
    }
    Tables {
        gate,
        anchors: grouped,
        by_word,
        short,
    }
}
