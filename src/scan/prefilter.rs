//! The keyword prefilter: which rules have a keyword in a blob, and where.
//!
//! The catalog has some 570 keywords, most of them provider names and token prefixes. An
//! Aho-Corasick automaton over them costs a millisecond and a half to build (on every
//! commit) and searches at 0.1–0.2 GB/s (its DFA does not fit in the first-level cache);
//! SIMD "Teddy" falls below 0.1 GB/s past 64 patterns (all measured on 85 MB of Rust
//! sources). So the search is a hash gate instead ([`gate`]), whose tables `build.rs` builds
//! for the built-in catalog at compile time (a commit starts with them ready; built at run
//! time they cost half of a one-file commit's instructions), and the scanner builds at run
//! time only when a team adds rules of its own:
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

use super::gate::{self, hash, Anchor};
use std::borrow::Cow;

/// [`gate::fold`] for eight bytes at once.
const FOLD64: u64 = 0x2020_2020_2020_2020;

/// The tables `build.rs` made for the built-in catalog's keywords.
mod builtin {
    use super::Anchor;
    include!(concat!(env!("OUT_DIR"), "/builtin_prefilter.rs"));
}

/// The keyword searcher: which rules have a keyword in a blob.
pub(super) struct Prefilter {
    /// See [`gate::Tables`]; borrowed from the binary for the built-in catalog.
    gate: Cow<'static, [u64]>,
    anchors: Cow<'static, [Anchor]>,
    by_word: Cow<'static, [u32]>,
    short: Cow<'static, [u32]>,
    /// The lowercase keywords, one after another.
    text: Cow<'static, [u8]>,
    /// Each keyword: where it starts in `text`, its length, the rule it belongs to.
    keywords: Cow<'static, [(u32, u32, u32)]>,
}

/// The tables a search reads, borrowed once (not matched through a `Cow` on every window).
struct View<'a> {
    gate: &'a [u64],
    anchors: &'a [Anchor],
    by_word: &'a [u32],
    text: &'a [u8],
    keywords: &'a [(u32, u32, u32)],
}

impl View<'_> {
    fn keyword(&self, index: usize) -> (&[u8], usize) {
        let (start, len, rule) = self.keywords[index];
        (
            &self.text[start as usize..(start + len) as usize],
            rule as usize,
        )
    }
}

impl Prefilter {
    /// The searcher over `keywords` (lowercase, at least one byte) and the rule each belongs
    /// to.
    pub(super) fn new(keywords: Vec<(Vec<u8>, usize)>) -> Self {
        let list: Vec<&[u8]> = keywords.iter().map(|(k, _)| k.as_slice()).collect();
        let tables = gate::tables(&list);
        let mut text = Vec::new();
        let mut spans = Vec::new();
        for (k, rule) in &keywords {
            spans.push((text.len() as u32, k.len() as u32, *rule as u32));
            text.extend_from_slice(k);
        }
        Prefilter {
            gate: Cow::Owned(tables.gate),
            anchors: Cow::Owned(tables.anchors),
            by_word: Cow::Owned(tables.by_word),
            short: Cow::Owned(tables.short),
            text: Cow::Owned(text),
            keywords: Cow::Owned(spans),
        }
    }

    /// The searcher over the built-in catalog's keywords (the rules it searches, in order),
    /// as `build.rs` made it: nothing to build at start-up.
    pub(super) fn builtin() -> Self {
        Prefilter {
            gate: Cow::Borrowed(&builtin::GATE),
            anchors: Cow::Borrowed(builtin::ANCHORS),
            by_word: Cow::Borrowed(&builtin::BY_WORD),
            short: Cow::Borrowed(builtin::SHORT),
            text: Cow::Borrowed(builtin::TEXT),
            keywords: Cow::Borrowed(builtin::KEYWORDS),
        }
    }

    fn view(&self) -> View<'_> {
        View {
            gate: &self.gate,
            anchors: &self.anchors,
            by_word: &self.by_word,
            text: &self.text,
            keywords: &self.keywords,
        }
    }

    /// For each rule, where its keywords occur in `data` (any ASCII case): the start of each
    /// occurrence, in order.
    pub(super) fn hits(&self, data: &[u8], rules: usize) -> Vec<Vec<usize>> {
        let mut hits = vec![Vec::new(); rules];
        if self.keywords.is_empty() || data.is_empty() {
            return hits;
        }
        let view = self.view();
        let mut i = 0;
        // Eight windows a step, from two 8-byte reads, case-folded once.
        while i + 12 <= data.len() {
            let lo = read_u64(&data[i..i + 8]) | FOLD64;
            let hi = read_u64(&data[i + 4..i + 12]) | FOLD64;
            view.step(data, i, lo, hi, &mut hits);
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
                view.step(data, i + j, lo, hi, &mut hits);
                j += 8;
            }
        }
        for &index in self.short.iter() {
            let (keyword, rule) = view.keyword(index as usize);
            let first = keyword[0];
            for at in memchr::memchr2_iter(first, first.to_ascii_uppercase(), data) {
                if data
                    .get(at..at + keyword.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
                {
                    hits[rule].push(at);
                }
            }
        }
        for h in hits.iter_mut() {
            h.sort_unstable();
            h.dedup();
        }
        hits
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

impl View<'_> {
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
            let (keyword, rule) = self.keyword(a.keyword as usize);
            let Some(start) = at.checked_sub(usize::from(a.offset)) else {
                continue;
            };
            let seen: &mut Vec<usize> = &mut hits[rule];
            if seen.last() != Some(&start)
                && data
                    .get(start..start + keyword.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
            {
                seen.push(start);
            }
        }
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

    /// What `build.rs` embeds is what the scanner would build from the catalog at run time.
    #[test]
    fn the_embedded_tables_are_the_ones_the_catalog_builds() {
        let keywords: Vec<(Vec<u8>, usize)> = crate::rules::BUILTIN_RULES
            .iter()
            .filter(|r| r.check.is_none())
            .enumerate()
            .flat_map(|(i, r)| {
                r.keywords
                    .iter()
                    .map(move |k| (k.to_ascii_lowercase().into_bytes(), i))
            })
            .collect();
        let (built, embedded) = (Prefilter::new(keywords), Prefilter::builtin());
        assert!(matches!(embedded.gate, Cow::Borrowed(_)));
        assert_eq!(built.gate, embedded.gate);
        assert_eq!(built.anchors, embedded.anchors);
        assert_eq!(built.by_word, embedded.by_word);
        assert_eq!(built.short, embedded.short);
        assert_eq!(built.text, embedded.text);
        assert_eq!(built.keywords, embedded.keywords);
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
