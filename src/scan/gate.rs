//! The prefilter's tables, built from a list of keywords: shared by the scanner (for a team's
//! own rules) and by `build.rs`, which builds them for the built-in catalog at compile time so
//! that a commit starts with them ready (see [`super::prefilter`]). Plain data and std only:
//! `build.rs` includes this file as it is.

/// Bits of the gate's hash: 2^21 bits, 256 KiB, within a core's second-level cache. The
/// catalog's anchors set 12,246 bits, most of them the padding of short keywords: in 2^18 bits
/// (32 KiB, the first-level cache) one window in 21 would pass by accident. Over the bench's
/// corpus at load average 0.7, medians: 0.41 GB/s with 2^18 bits, 0.49–0.61 with 2^19,
/// 0.56–0.64 with 2^20, 0.68–0.74 with 2^21, no better with 2^22.
pub(crate) const BITS: u32 = 21;

/// The gate's length in 64-bit words.
pub(crate) const WORDS: usize = 1 << (BITS - 6);

/// Bits of a hash that choose an anchor's group: 4,096 groups, a few anchors each.
pub(crate) const GROUP_BITS: u32 = 12;

/// The group of the anchors with hash `h`.
#[inline(always)]
pub(crate) fn group(h: usize) -> usize {
    h >> (BITS - GROUP_BITS)
}

/// Case-folds a 4-byte window as the gate sees it: ASCII letters lowercased (and a few
/// punctuation bytes mapped together, which only costs a false pass now and then).
#[inline(always)]
pub(crate) fn fold(window: u32) -> u32 {
    window | 0x2020_2020
}

/// The gate's hash of a folded window: multiply and keep the top [`BITS`] bits. The
/// multiplier is chosen for the keywords ([`choose_multiplier`]).
#[inline(always)]
pub(crate) fn hash(folded: u32, multiplier: u32) -> usize {
    (folded.wrapping_mul(multiplier) >> (32 - BITS)) as usize
}

/// How many multipliers [`choose_multiplier`] tries.
#[allow(dead_code)] // the library uses the multiplier `build.rs` chose
const CANDIDATES: u64 = 64;

/// The hash multiplier, among [`CANDIDATES`] odd ones, under which the windows most common in
/// code pass the gate least often. A window that is no anchor passes when its hash lands on
/// an anchor's bit: with some 12,000 bits set in 2^21 that is one window in 170 on average,
/// but the average hides the windows code repeats: under the first multiplier tried `cons`
/// (`const`, `console`) shared a bit with an anchor and made up a third of the windows that
/// passed on the prefilter bench's corpus. Costs some 64 × 15,000 hashes: `build.rs` chooses
/// it for the built-in catalog, and a team's own rules use the same one.
#[allow(dead_code)] // the library uses the multiplier `build.rs` chose
pub(crate) fn choose_multiplier(keywords: &[&[u8]]) -> u32 {
    let (windows, _) = anchor_windows(keywords);
    let mut own: Vec<u32> = windows.iter().map(|w| w.0).collect();
    own.sort_unstable();
    let cost = |multiplier: u32| -> u64 {
        let mut bits: Vec<usize> = own.iter().map(|&w| hash(w, multiplier)).collect();
        bits.sort_unstable();
        COMMON
            .iter()
            .filter(|(w, _)| own.binary_search(w).is_err())
            .filter(|(w, _)| bits.binary_search(&hash(*w, multiplier)).is_ok())
            .map(|&(_, f)| u64::from(f))
            .sum()
    };
    (0..CANDIDATES)
        .map(|i| {
            // splitmix64 of the candidate's number: well-mixed bits; made odd.
            let mut z = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) as u32) | 1
        })
        .min_by_key(|&m| (cost(m), m))
        .expect("some candidates")
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

/// Windows common in source code (folded, sorted) and how often each occurs per ten million.
static COMMON: &[(u32, u16)] = include!("common_windows.rs");

/// How often the 4-byte window `w` is expected in code, for choosing anchors: its measured
/// frequency when it is among the most common ones, else a guess from its bytes (far lower).
fn frequency(w: &[u8]) -> u32 {
    let folded = fold(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    let measured = COMMON
        .binary_search_by_key(&folded, |&(w, _)| w)
        .map_or(0, |i| u32::from(COMMON[i].1));
    measured * 64 + w.iter().map(|&b| commonness(b)).sum::<u32>()
}

/// One anchor: the folded window, the keyword it stands for, and where in the keyword it
/// starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// [`hash`] of `folded`.
    pub(crate) hash: u32,
    /// The window, folded.
    pub(crate) folded: u32,
    /// The keyword's index.
    pub(crate) keyword: u32,
    /// Where the window starts relative to the keyword's start (-1: one byte before it).
    pub(crate) offset: i16,
}

/// What the prefilter searches with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tables {
    /// A bit per hash that some anchor has.
    pub(crate) gate: Vec<u64>,
    /// Anchors, grouped by [`group`] of their hash.
    pub(crate) anchors: Vec<Anchor>,
    /// For each group, where its anchors start in `anchors` (one more entry than groups): a
    /// window that passes is compared with a handful of anchors.
    pub(crate) by_group: Vec<u32>,
    /// Keywords of one or two bytes (a team's rule may have one), searched on their own.
    pub(crate) short: Vec<u32>,
    /// The multiplier of [`hash`] the gate was built with.
    pub(crate) multiplier: u32,
}

/// The anchors of `keywords` (lowercase, at least one byte each). The search hashes only
/// the windows at even offsets of a blob, so each keyword is represented by 4-byte windows,
/// its *anchors*, such that one of them starts at an even offset wherever the keyword occurs:
/// - a keyword of five bytes or more, by two windows of it that start one byte apart, those
///   least common in code ([`frequency`]);
/// - a keyword of four bytes, by itself and by its first (or last) three bytes preceded (or
///   followed) by every byte, whichever windows are less common in code;
/// - a keyword of three bytes, by itself followed by every byte and preceded by every byte.
///
/// The end of the blob reads as zero bytes. Returns each anchor (folded window, keyword,
/// offset) and the keywords too short for any (searched on their own).
fn anchor_windows(keywords: &[&[u8]]) -> (Vec<(u32, u32, i16)>, Vec<u32>) {
    let mut anchors = Vec::new();
    let mut short = Vec::new();
    for (index, k) in keywords.iter().enumerate() {
        let mut windows: Vec<([u8; 4], i16)> = Vec::new();
        // Every byte as the gate tells bytes apart: one of each pair that folds alike.
        let every = || (0..=255u8).filter(|&b| fold(u32::from(b)) & 0xFF == u32::from(b));
        let before = |windows: &mut Vec<_>| {
            windows.extend(every().map(|b| ([b, k[0], k[1], k[2]], -1)));
        };
        match k.len() {
            0..=2 => {
                short.push(index as u32);
                continue;
            }
            3 => {
                windows.extend(every().map(|b| ([k[0], k[1], k[2], b], 0)));
                before(&mut windows);
            }
            4 => {
                windows.push(([k[0], k[1], k[2], k[3]], 0));
                // Padded on the side whose windows code holds less often: `acca` by its last
                // three bytes (`acc` begins `access`), `rnd_` by its first three.
                let padded = |pad: &dyn Fn(u8) -> [u8; 4]| -> u32 {
                    every().map(|b| frequency(&pad(b))).sum()
                };
                if padded(&|b| [b, k[0], k[1], k[2]]) <= padded(&|b| [k[1], k[2], k[3], b]) {
                    before(&mut windows);
                } else {
                    windows.extend(every().map(|b| ([k[1], k[2], k[3], b], 1)));
                }
            }
            _ => {
                // The two windows least common in code: they pass the gate least often
                // (among the first 250 bytes: an offset stays small).
                let each: Vec<u32> = (0..=(k.len() - 4).min(251))
                    .map(|o| frequency(&k[o..o + 4]))
                    .collect();
                let o = (0..each.len() - 1)
                    .min_by_key(|&o| each[o] + each[o + 1])
                    .unwrap_or(0);
                windows.push(([k[o], k[o + 1], k[o + 2], k[o + 3]], o as i16));
                windows.push(([k[o + 1], k[o + 2], k[o + 3], k[o + 4]], o as i16 + 1));
            }
        }
        // Each window differs from the others in its bytes or its offset: no two anchors
        // alike.
        for (w, offset) in windows {
            anchors.push((fold(u32::from_le_bytes(w)), index as u32, offset));
        }
    }
    (anchors, short)
}

/// The tables for `keywords` (see [`anchor_windows`]) with the hash `multiplier`: the
/// anchors' hashes set the gate's bits; the anchors are grouped by [`group`].
pub(crate) fn tables(keywords: &[&[u8]], multiplier: u32) -> Tables {
    let mut gate = vec![0u64; WORDS];
    let (windows, short) = anchor_windows(keywords);
    let mut anchors = Vec::new();
    for (folded, keyword, offset) in windows {
        let h = hash(folded, multiplier);
        gate[h >> 6] |= 1 << (h & 63);
        anchors.push(Anchor {
            hash: h as u32,
            folded,
            keyword,
            offset,
        });
    }
    // Grouped with a counting sort (stable: anchors of one group stay in keyword order).
    let groups = 1 << GROUP_BITS;
    let mut by_group = vec![0u32; groups + 1];
    for a in &anchors {
        by_group[group(a.hash as usize) + 1] += 1;
    }
    for g in 0..groups {
        by_group[g + 1] += by_group[g];
    }
    let mut next = by_group.clone();
    let mut grouped = anchors.clone();
    for a in anchors {
        let slot = &mut next[group(a.hash as usize)];
        grouped[*slot as usize] = a;
        *slot += 1;
    }
    Tables {
        gate,
        anchors: grouped,
        by_group,
        short,
        multiplier,
    }
}
