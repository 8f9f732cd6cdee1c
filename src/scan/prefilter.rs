//! The keyword prefilter: which rules have a keyword in a blob, and where.
//!
//! The catalog has some 580 keywords, most of them provider names and token prefixes. An
//! Aho-Corasick automaton over them costs a millisecond and a half to build (on every
//! commit) and searches at 0.1–0.2 GB/s (its DFA does not fit in the first-level cache);
//! SIMD "Teddy" falls below 0.1 GB/s past 64 patterns (all measured on 85 MB of Rust
//! sources). So the search is a hash gate instead ([`gate`]), whose tables `build.rs` builds
//! for the built-in catalog at compile time (a commit starts with them ready; built at run
//! time they cost half of a one-file commit's instructions), and the scanner builds at run
//! time only when a team adds rules of its own:
//!
//! - each keyword is represented by 4-byte windows, its *anchors*, such that wherever the
//!   keyword occurs one of them starts at an even offset of the blob: two windows of it one
//!   byte apart, chosen where they are least common in code (a table of the 4,096 windows most
//!   common in source code keeps them off `flag`, `conf`, `allo`); a keyword of three or four
//!   bytes is padded with every byte that can precede or follow it ([`gate::tables`]);
//! - every second 4-byte window of the blob, case-folded, is hashed into a 2^21-bit table
//!   (256 KiB, within a core's second-level cache) where the anchors' bits are set: eight
//!   windows, sixteen bytes, a step, and the step ends there when none of its bits is set
//!   (92 steps in 100 on the bench's sources);
//! - the windows whose bit is set are checked against the anchors with that hash, and then
//!   the whole keyword around the anchor, ignoring ASCII case.
//!
//! Hashing every second window halves the work per byte; the padding of short keywords
//! sets most of the gate's 12,246 bits (14,745 anchors), hence the larger table: one window
//! in 170 passes by accident, and the hash's multiplier is chosen so that the windows code
//! repeats most are not among those ([`gate::choose_multiplier`]). Where the processor has
//! AVX2 a step is hashed and looked up in a dozen instructions ([`super::gate_avx2`]); the
//! portable loop below runs elsewhere, and on the last bytes of a blob.
//!
//! Measured with `cargo bench --bench prefilter` (100 MB of sources from the cargo registry,
//! 578 keywords) on this 2-core machine (AMD EPYC, load average 1.2–1.4 from other work):
//! - instructions per round over its first 20 MB (callgrind, see the bench): 440 million
//!   with the first gate (every window, 2^18 bits, one anchor per keyword), 153 million with
//!   the portable loop, 73 million with AVX2 and the chosen multiplier (3.6 a byte: 1.9 in the
//!   gate, 0.9 checking the windows that passed);
//! - time, medians of 5 rounds: 0.33–0.49 GB/s with the first gate, 0.63–0.72 GB/s with the
//!   portable loop, 1.21–1.29 GB/s now (the whole scan 0.51–0.60 GB/s). The AVX2 loop waits
//!   on its gathers (the gate is in the second-level cache); the rest of the time goes to
//!   checking the windows that passed, most of them real keywords (`token`, `key`, `://`).

use super::gate::{self, hash, Anchor};
use std::borrow::Cow;

/// Bytes of the blob a step covers: eight windows, every second one.
const STEP: usize = 16;

/// Bytes a step reads: its last window starts two bytes before the step's end.
const CHUNK: usize = STEP + 2;

// The AVX2 gate hands its steps over to the portable loop where it stops.
#[cfg(target_arch = "x86_64")]
const _: () = assert!(super::gate_avx2::STEP == STEP);

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
    by_group: Cow<'static, [u32]>,
    short: Cow<'static, [u32]>,
    /// The multiplier of the gate's hash ([`gate::choose_multiplier`]).
    multiplier: u32,
    /// The lowercase keywords, one after another.
    text: Cow<'static, [u8]>,
    /// Each keyword: where it starts in `text`, its length, the rule it belongs to.
    keywords: Cow<'static, [(u32, u32, u32)]>,
}

/// The tables a search reads, borrowed once (not matched through a `Cow` on every window).
struct View<'a> {
    /// Where the searched bytes start in their blob: added to every position noted.
    base: usize,
    /// Of a fixed length, so that indexing it by a hash needs no bounds check.
    gate: &'a [u64; gate::WORDS],
    multiplier: u32,
    anchors: &'a [Anchor],
    by_group: &'a [u32],
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
        // The built-in catalog's multiplier: a team's keywords come on top of the catalog's.
        let tables = gate::tables(&list, builtin::MULTIPLIER);
        let mut text = Vec::new();
        let mut spans = Vec::new();
        for (k, rule) in &keywords {
            spans.push((text.len() as u32, k.len() as u32, *rule as u32));
            text.extend_from_slice(k);
        }
        Prefilter {
            gate: Cow::Owned(tables.gate),
            anchors: Cow::Owned(tables.anchors),
            by_group: Cow::Owned(tables.by_group),
            short: Cow::Owned(tables.short),
            multiplier: tables.multiplier,
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
            by_group: Cow::Borrowed(&builtin::BY_GROUP),
            short: Cow::Borrowed(builtin::SHORT),
            multiplier: builtin::MULTIPLIER,
            text: Cow::Borrowed(builtin::TEXT),
            keywords: Cow::Borrowed(builtin::KEYWORDS),
        }
    }

    fn view(&self, base: usize) -> View<'_> {
        View {
            base,
            gate: self
                .gate
                .as_ref()
                .try_into()
                .expect("the gate has WORDS words"),
            multiplier: self.multiplier,
            anchors: &self.anchors,
            by_group: &self.by_group,
            text: &self.text,
            keywords: &self.keywords,
        }
    }

    /// Where the rules' keywords occur in `data` (any ASCII case), settled.
    pub(super) fn hits(&self, data: &[u8]) -> Hits {
        let mut hits = Hits::default();
        self.search(data, 0, &mut hits);
        hits.settle();
        hits
    }

    /// Adds to `hits` where the keywords occur in `data`, which starts at `base` in its
    /// blob: a blob's windows are searched one after another into one [`Hits`], which
    /// [`Hits::settle`] then puts in order.
    pub(super) fn search(&self, data: &[u8], base: usize, hits: &mut Hits) {
        self.search_with(data, base, hits, true);
    }

    /// [`Prefilter::search`], with the AVX2 gate when `wide` and the processor has it.
    fn search_with(&self, data: &[u8], base: usize, hits: &mut Hits, wide: bool) {
        if self.keywords.is_empty() || data.is_empty() {
            return;
        }
        let view = self.view(base);
        let mut i = 0;
        // The portable loop is the only one on other processors.
        #[cfg(not(target_arch = "x86_64"))]
        let _ = wide;
        #[cfg(target_arch = "x86_64")]
        if wide && super::gate_avx2::available() {
            i = super::gate_avx2::steps(view.gate, view.multiplier, data, &mut |at, mask| {
                view.passed_mask(data, at, mask, hits)
            });
        }
        while let Some(chunk) = data.get(i..i + CHUNK) {
            let chunk: &[u8; CHUNK] = chunk.try_into().expect("CHUNK bytes");
            view.step(data, i, chunk, hits);
            i += STEP;
        }
        // The last windows run past the end: read them from a copy padded with zero bytes.
        if i < data.len() {
            let mut tail = [0u8; STEP + CHUNK];
            tail[..data.len() - i].copy_from_slice(&data[i..]);
            for at in (0..data.len() - i).step_by(STEP) {
                let chunk: &[u8; CHUNK] = tail[at..at + CHUNK].try_into().expect("CHUNK bytes");
                view.step(data, i + at, chunk, hits);
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
                    hits.add(rule, base + at);
                }
            }
        }
    }

    /// [`Prefilter::hits`] by the portable loop alone, whatever the processor has.
    #[cfg(test)]
    fn hits_portable(&self, data: &[u8]) -> Hits {
        let mut hits = Hits::default();
        self.search_with(data, 0, &mut hits, false);
        hits.settle();
        hits
    }

    /// For each of `rules` rules, whether one of its keywords occurs in `data`.
    #[cfg(test)]
    fn fired(&self, data: &[u8], rules: usize) -> Vec<bool> {
        let hits = self.hits(data);
        (0..rules).map(|r| hits.has(r)).collect()
    }
}

/// Where keywords occurred: `(rule, position)` as the search meets them, then, once
/// [settled](Hits::settle), in order of rule and position, each once. Only what fired takes
/// room: a short text (a commit message) costs nothing per rule of the catalog, where a list
/// per rule cost thousands of instructions to make and walk, whatever was found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Hits(Vec<(usize, usize)>);

impl Hits {
    /// Rule `rule`'s keyword at `at`.
    #[inline(always)]
    pub(super) fn add(&mut self, rule: usize, at: usize) {
        self.0.push((rule, at));
    }

    /// Whether the last occurrence added is rule `rule`'s at `at` (the same keyword met
    /// through another of its anchors).
    #[inline(always)]
    fn last_is(&self, rule: usize, at: usize) -> bool {
        self.0.last() == Some(&(rule, at))
    }

    /// In order of rule and position, each once.
    pub(super) fn settle(&mut self) {
        self.0.sort_unstable();
        self.0.dedup();
    }

    /// Whether rule `rule` fired (settled hits).
    pub(super) fn has(&self, rule: usize) -> bool {
        let at = self.0.partition_point(|&(r, _)| r < rule);
        self.0.get(at).is_some_and(|&(r, _)| r == rule)
    }

    /// The rules that fired (settled hits).
    pub(super) fn rules(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.chunk_by(|a, b| a.0 == b.0).map(|run| run[0].0)
    }

    /// The rules that fired, each with where (settled hits).
    pub(super) fn by_rule(&self) -> impl Iterator<Item = (usize, Vec<usize>)> + '_ {
        self.0
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].0, run.iter().map(|&(_, at)| at).collect()))
    }

    /// How many occurrences.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// One list per rule of `rules` (tests compare with a slow search's).
    #[cfg(test)]
    fn lists(&self, rules: usize) -> Vec<Vec<usize>> {
        let mut lists = vec![Vec::new(); rules];
        for &(rule, at) in &self.0 {
            lists[rule].push(at);
        }
        lists
    }
}

impl View<'_> {
    /// The windows at the even offsets of `chunk`'s first [`STEP`] bytes (`chunk` is the
    /// blob's bytes at `i`, or a copy padded with zero bytes past its end).
    #[inline(always)]
    fn step(&self, data: &[u8], i: usize, chunk: &[u8; CHUNK], hits: &mut Hits) {
        // Most steps end here, none of their windows' bits set: each window's bit is shifted
        // to bit 0 of `any` (the other bits are noise), with no branch per window.
        let mut any = 0;
        for j in 0..STEP / 2 {
            any |= self.bit(window(chunk, j));
        }
        if any & 1 != 0 {
            self.passed(data, i, chunk, hits);
        }
    }

    /// The gate's word for `folded`, shifted so that its bit is bit 0 (`wrapping_shr` takes
    /// the shift modulo 64, as the processor does: no masking instruction).
    #[inline(always)]
    fn bit(&self, folded: u32) -> u64 {
        let h = hash(folded, self.multiplier);
        self.gate[h >> 6].wrapping_shr(h as u32)
    }

    /// Some window of a step passed the gate (one step in six or so, on source code): each
    /// one that did is checked. Kept out of the step so that the step keeps its values in
    /// registers.
    #[cold]
    #[inline(never)]
    fn passed(&self, data: &[u8], i: usize, chunk: &[u8; CHUNK], hits: &mut Hits) {
        for j in 0..STEP / 2 {
            let w = window(chunk, j);
            if self.bit(w) & 1 != 0 && i + 2 * j < data.len() {
                self.check(data, i + 2 * j, w, hits);
            }
        }
    }

    /// The windows of the step at `i` that passed the gate (bit `j` of `mask`: the window at
    /// `i + 2 * j`; the whole step is inside `data`), as the AVX2 gate reports them.
    #[cfg(target_arch = "x86_64")]
    fn passed_mask(&self, data: &[u8], i: usize, mask: u32, hits: &mut Hits) {
        let chunk: &[u8; CHUNK] = data[i..i + CHUNK].try_into().expect("CHUNK bytes");
        let mut mask = mask;
        while mask != 0 {
            let j = mask.trailing_zeros() as usize;
            self.check(data, i + 2 * j, window(chunk, j), hits);
            mask &= mask - 1;
        }
    }

    /// A window at `at` passed the gate: the keywords with an anchor there.
    fn check(&self, data: &[u8], at: usize, folded: u32, hits: &mut Hits) {
        let g = gate::group(hash(folded, self.multiplier));
        let (from, to) = (self.by_group[g] as usize, self.by_group[g + 1] as usize);
        for a in self.anchors[from..to].iter().filter(|a| a.folded == folded) {
            let (keyword, rule) = self.keyword(a.keyword as usize);
            let Some(start) = at.checked_add_signed(-isize::from(a.offset)) else {
                continue;
            };
            if !hits.last_is(rule, self.base + start)
                && data
                    .get(start..start + keyword.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
            {
                hits.add(rule, self.base + start);
            }
        }
    }
}

/// The `j`th window of a step, folded: `chunk`'s bytes at `2 * j`.
#[inline(always)]
fn window(chunk: &[u8; CHUNK], j: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&chunk[2 * j..2 * j + 4]);
    gate::fold(u32::from_le_bytes(w))
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
        assert_eq!(p.hits(b"key key KEY").lists(3)[0], vec![0, 4, 8]);
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

    /// The catalog's keywords, lowercase, each with its rule's index among the searched
    /// rules (as the scanner and `build.rs` number them).
    fn catalog_keywords() -> Vec<(Vec<u8>, usize)> {
        crate::rules::BUILTIN_RULES
            .iter()
            .filter(|r| r.check.is_none())
            .enumerate()
            .flat_map(|(i, r)| {
                r.keywords
                    .iter()
                    .map(move |k| (k.to_ascii_lowercase().into_bytes(), i))
            })
            .collect()
    }

    /// What `build.rs` embeds is what the scanner would build from the catalog at run time.
    #[test]
    fn the_embedded_tables_are_the_ones_the_catalog_builds() {
        let keywords = catalog_keywords();
        let (built, embedded) = (Prefilter::new(keywords), Prefilter::builtin());
        assert!(matches!(embedded.gate, Cow::Borrowed(_)));
        assert_eq!(built.gate, embedded.gate);
        assert_eq!(built.anchors, embedded.anchors);
        assert_eq!(built.by_group, embedded.by_group);
        assert_eq!(built.short, embedded.short);
        assert_eq!(built.text, embedded.text);
        assert_eq!(built.keywords, embedded.keywords);
        let keywords = catalog_keywords();
        let list: Vec<&[u8]> = keywords.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(gate::choose_multiplier(&list), embedded.multiplier);
    }

    /// A small xorshift generator: the differential tests are the same on every run.
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// What [`Prefilter::hits`] must return, searched the slow way.
    fn naive(keywords: &[(Vec<u8>, usize)], data: &[u8], rules: usize) -> Vec<Vec<usize>> {
        let mut hits = vec![Vec::new(); rules];
        for (k, rule) in keywords {
            for at in 0..data.len() {
                if data[at..].len() >= k.len() && data[at..at + k.len()].eq_ignore_ascii_case(k) {
                    hits[*rule].push(at);
                }
            }
        }
        for h in &mut hits {
            h.sort_unstable();
            h.dedup();
        }
        hits
    }

    /// `keywords` planted at random offsets (the first and last bytes among them) in any
    /// ASCII case, among bytes that look like them and bytes that fold alike (`@` and `` ` ``,
    /// `[` and `{`, zero and space): every occurrence found, and nothing else.
    fn differential(
        p: &Prefilter,
        keywords: &[(Vec<u8>, usize)],
        rules: usize,
        seed: u64,
        rounds: usize,
    ) {
        let mut random = Random(seed);
        let noise = b"abkeyz_-.:/@`[{\0 \x7f\xff\n";
        for round in 0..rounds {
            let len = match round % 4 {
                0 => random.below(24),
                1 => random.below(80),
                2 => random.below(600),
                _ => 300 + random.below(1_200),
            };
            let mut data: Vec<u8> = (0..len)
                .map(|_| match random.below(3) {
                    0 => random.below(256) as u8,
                    _ => noise[random.below(noise.len())],
                })
                .collect();
            for n in 0..1 + len / 40 {
                let (k, _) = &keywords[random.below(keywords.len())];
                if k.len() > len {
                    continue;
                }
                let at = match n {
                    0 => 0,
                    1 => len - k.len(),
                    _ => random.below(len - k.len() + 1),
                };
                for (d, &b) in data[at..].iter_mut().zip(k) {
                    *d = if random.below(2) == 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b
                    };
                }
            }
            let expected = naive(keywords, &data, rules);
            let shown = || format!("round {round}: {:?}", data.escape_ascii().to_string());
            assert_eq!(p.hits(&data).lists(rules), expected, "{}", shown());
            assert_eq!(p.hits_portable(&data).lists(rules), expected, "{}", shown());
            // Searched in two parts that overlap by a keyword's length, as the lines a change
            // adds are: every occurrence once, at its place in the whole.
            let cut = random.below(len + 1);
            let mut parts = Hits::default();
            p.search(&data[..cut], 0, &mut parts);
            let longest = keywords.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            let from = cut.saturating_sub(longest);
            p.search(&data[from..], from, &mut parts);
            parts.settle();
            assert_eq!(parts.lists(rules), expected, "{}", shown());
        }
    }

    #[test]
    fn every_occurrence_is_found_as_a_naive_search_finds_it() {
        let mut random = Random(0x9E37_79B9_7F4A_7C15);
        let alphabet = b"abkeyz_-.:/@`[{0";
        for set in 0..20 {
            let keywords: Vec<(Vec<u8>, usize)> = (0..1 + random.below(40))
                .map(|i| {
                    let len = 1 + random.below(if set % 2 == 0 { 6 } else { 14 });
                    let k = (0..len)
                        .map(|_| alphabet[random.below(alphabet.len())])
                        .collect();
                    (k, i % 7)
                })
                .collect();
            let p = Prefilter::new(keywords.clone());
            differential(&p, &keywords, 7, set + 1, 200);
        }
    }

    /// The embedded tables, with the catalog's own keywords planted.
    #[test]
    fn every_catalog_keyword_is_found_as_a_naive_search_finds_it() {
        let keywords = catalog_keywords();
        let rules = keywords.iter().map(|(_, r)| r + 1).max().unwrap_or(0);
        differential(&Prefilter::builtin(), &keywords, rules, 7, 80);
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
