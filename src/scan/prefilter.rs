//! The keyword prefilter: which rules have a keyword in a blob, and where.
//!
//! The catalog has some 570 keywords, most of them provider names and token prefixes. An
//! Aho-Corasick automaton over them costs a millisecond and a half to build (on every
//! commit) and searches at 0.1–0.2 GB/s (its DFA does not fit in the first-level cache);
//! SIMD "Teddy" falls below 0.1 GB/s past 64 patterns (all measured on 85 MB of Rust
//! sources). So the search is a hash gate instead, built in a few microseconds:
//!
//! - each keyword is represented by one 4-byte window of it, its *anchor*, chosen where its
//!   bytes are least common in code and prose (a keyword of three bytes is padded with every
//!   byte that can follow it);
//! - every 4-byte window of the blob, case-folded, is hashed into a 2^18-bit table (32 KiB)
//!   where the anchors' bits are set: 99 windows in 100 end there;
//! - the others are checked against the anchors with that hash, and then the whole keyword
//!   around the anchor, ignoring ASCII case.
//!
//! Measured on the same 85 MB: 0.6–0.8 GB/s with the full catalog on this 2-core machine
//! (generic x86-64 code, no SIMD), with about one window in a hundred checked further.

/// Bits of the gate's hash: 2^18 bits, 32 KiB, within a core's second-level cache and
/// sparse enough that few windows pass by accident (about 0.3 % with the catalog).
const BITS: u32 = 18;

/// Case-folds a 4-byte window as the gate sees it: ASCII letters lowercased (and a few
/// punctuation bytes mapped together, which only costs a false pass now and then).
#[inline(always)]
fn fold(window: u32) -> u32 {
    window | 0x2020_2020
}

/// [`fold`] for eight bytes at once.
const FOLD64: u64 = 0x2020_2020_2020_2020;

/// The gate's hash of a folded window.
#[inline(always)]
fn hash(folded: u32) -> usize {
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
#[derive(Debug, Clone, Copy)]
struct Anchor {
    hash: u32,
    folded: u32,
    keyword: u32,
    offset: u8,
}

/// The keyword searcher: which rules have a keyword in a blob.
pub(super) struct Prefilter {
    /// A bit per hash that some anchor has.
    gate: Vec<u64>,
    /// Anchors, grouped by the gate word their hash falls in.
    anchors: Vec<Anchor>,
    /// For each 64-bit word of the gate, where its anchors start in `anchors` (one more
    /// entry than words): a window that passes is compared with a handful of anchors.
    by_word: Vec<u32>,
    /// Lowercase keywords and the rule each belongs to.
    keywords: Vec<(Vec<u8>, usize)>,
    /// Keywords of one or two bytes (a team's rule may have one), searched on their own.
    short: Vec<usize>,
}

impl Prefilter {
    /// The searcher over `keywords` (lowercase, at least one byte) and the rule each belongs
    /// to.
    pub(super) fn new(keywords: Vec<(Vec<u8>, usize)>) -> Self {
        let mut gate = vec![0u64; 1 << (BITS - 6)];
        let mut anchors = Vec::new();
        let mut short = Vec::new();
        for (index, (keyword, _)) in keywords.iter().enumerate() {
            let k = keyword.as_slice();
            if k.len() < 3 {
                short.push(index);
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
                // Three bytes, too short for a window of its own: one window for each byte
                // that can follow (the end of the blob reads as a zero byte).
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
        // Grouped by gate word with a counting sort: thousands of anchors (the three-byte
        // keywords' variants), and a comparison sort of them cost more than a small commit's
        // whole scan.
        let mut by_word = vec![0u32; gate.len() + 1];
        for a in &anchors {
            by_word[(a.hash >> 6) as usize + 1] += 1;
        }
        for w in 0..gate.len() {
            by_word[w + 1] += by_word[w];
        }
        let mut next = by_word.clone();
        let mut grouped = anchors.clone();
        for a in anchors {
            let slot = &mut next[(a.hash >> 6) as usize];
            grouped[*slot as usize] = a;
            *slot += 1;
        }
        let anchors = grouped;
        Prefilter {
            gate,
            anchors,
            by_word,
            keywords,
            short,
        }
    }

    /// For each rule, where its keywords occur in `data` (any ASCII case): the start of each
    /// occurrence, in order.
    pub(super) fn hits(&self, data: &[u8], rules: usize) -> Vec<Vec<usize>> {
        let mut hits = vec![Vec::new(); rules];
        if self.keywords.is_empty() || data.is_empty() {
            return hits;
        }
        let mut i = 0;
        // Eight windows a step, from two 8-byte reads, case-folded once.
        while i + 12 <= data.len() {
            let lo = read_u64(&data[i..i + 8]) | FOLD64;
            let hi = read_u64(&data[i + 4..i + 12]) | FOLD64;
            self.step(data, i, lo, hi, &mut hits);
            i += 8;
        }
        // The last windows run past the end: read them from a copy padded with zero bytes.
        if i < data.len() {
            let mut tail = data[i..].to_vec();
            tail.resize(tail.len() + 12, 0);
            let mut j = 0;
            while i + j < data.len() {
                let lo = read_u64(&tail[j..j + 8]) | FOLD64;
                let hi = read_u64(&tail[j + 4..j + 12]) | FOLD64;
                self.step(data, i + j, lo, hi, &mut hits);
                j += 8;
            }
        }
        for &index in &self.short {
            let (keyword, rule) = &self.keywords[index];
            let first = keyword[0];
            for at in memchr::memchr2_iter(first, first.to_ascii_uppercase(), data) {
                if data
                    .get(at..at + keyword.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
                {
                    hits[*rule].push(at);
                }
            }
        }
        for h in hits.iter_mut() {
            h.sort_unstable();
            h.dedup();
        }
        hits
    }

    /// The eight windows at `i..i + 8` (from `lo`, the bytes at `i`, and `hi`, at `i + 4`,
    /// both folded).
    #[inline(always)]
    fn step(&self, data: &[u8], i: usize, lo: u64, hi: u64, hits: &mut [Vec<usize>]) {
        let window = |j: usize| -> u32 {
            if j < 4 {
                (lo >> (8 * j)) as u32
            } else {
                (hi >> (8 * (j - 4))) as u32
            }
        };
        let mut passed = 0u32;
        for j in 0..8 {
            let h = hash(window(j));
            passed |= (((self.gate[h >> 6] >> (h & 63)) & 1) as u32) << j;
        }
        while passed != 0 {
            let j = passed.trailing_zeros() as usize;
            passed &= passed - 1;
            if i + j < data.len() {
                self.check(data, i + j, window(j), hits);
            }
        }
    }

    /// A window at `at` passed the gate: the keywords whose anchor it is, there.
    fn check(&self, data: &[u8], at: usize, folded: u32, hits: &mut [Vec<usize>]) {
        let h = hash(folded) as u32;
        let word = (h >> 6) as usize;
        let (from, to) = (self.by_word[word] as usize, self.by_word[word + 1] as usize);
        for a in self.anchors[from..to]
            .iter()
            .filter(|a| a.hash == h && a.folded == folded)
        {
            let (keyword, rule) = &self.keywords[a.keyword as usize];
            let Some(start) = at.checked_sub(usize::from(a.offset)) else {
                continue;
            };
            let seen: &mut Vec<usize> = &mut hits[*rule];
            if seen.last() != Some(&start)
                && data
                    .get(start..start + keyword.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
            {
                seen.push(start);
            }
        }
    }

    /// For each rule, whether one of its keywords occurs in `data`.
    #[cfg(test)]
    fn fired(&self, data: &[u8], rules: usize) -> Vec<bool> {
        self.hits(data, rules)
            .iter()
            .map(|h| !h.is_empty())
            .collect()
    }
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefilter(keywords: &[(&str, usize)]) -> Prefilter {
        Prefilter::new(
            keywords
                .iter()
                .map(|(k, r)| (k.as_bytes().to_vec(), *r))
                .collect(),
        )
    }

    #[test]
    fn prefilter_is_case_insensitive_and_sees_overlapping_keywords() {
        let p = prefilter(&[("abcde", 0), ("bcd", 1), ("ab", 2), ("zz", 3)]);
        assert_eq!(p.fired(b"xxABCDEyy", 4), vec![true, true, true, false]);
    }

    #[test]
    fn prefilter_checks_the_whole_keyword_anywhere_in_the_blob() {
        let p = prefilter(&[("sk-proj-", 0)]);
        let len = 3 << 16;
        for offset in [0, 1, 7, 8, 4095, 65_536 - 4, len - 9, len - 8] {
            let mut data = vec![b'.'; len];
            data[offset..offset + 8].copy_from_slice(b"SK-PROJ-");
            assert_eq!(p.fired(&data, 1), vec![true], "at {offset}");
            data[offset..offset + 8].copy_from_slice(b"sk-proj.");
            assert_eq!(p.fired(&data, 1), vec![false], "at {offset}");
        }
    }

    #[test]
    fn short_blobs_and_keywords_at_the_very_end() {
        let p = prefilter(&[("key", 0), ("ghp_", 1), ("x", 2)]);
        assert_eq!(p.fired(b"", 3), vec![false; 3]);
        assert_eq!(p.fired(b"key", 3), vec![true, false, false]);
        assert_eq!(p.fired(b"a ghp_", 3), vec![false, true, false]);
        assert_eq!(p.fired(b"X", 3), vec![false, false, true]);
        assert_eq!(p.hits(b"key key KEY", 3)[0], vec![0, 4, 8]);
    }

    #[test]
    fn many_keywords_each_found_where_it_is() {
        let names: Vec<String> = (0..600).map(|i| format!("{i:03}kwx_{}", i % 7)).collect();
        let keywords: Vec<(&str, usize)> = names
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let p = prefilter(&keywords);
        let text = format!("... {} and {} ...", names[7].to_uppercase(), names[599]);
        let fired = p.fired(text.as_bytes(), 600);
        assert_eq!(fired.iter().filter(|f| **f).count(), 2);
        assert!(fired[7] && fired[599]);
    }

    #[test]
    fn keywords_sharing_a_head_are_told_apart() {
        let p = prefilter(&[
            ("xoxb-", 0),
            ("xoxp-", 1),
            ("key", 2),
            ("key-", 3),
            ("k", 4),
        ]);
        assert_eq!(
            p.fired(b"a XOXP- b", 5),
            vec![false, true, false, false, false]
        );
        assert_eq!(p.fired(b"key-", 5), vec![false, false, true, true, true]);
        assert_eq!(p.fired(b"xoxo-", 5), vec![false; 5]);
    }
}
