//! The keyword prefilter: which rules have a keyword in a blob, and where.
//!
//! One multi-pattern searcher holds the first four bytes of every rule's keywords (the
//! catalog's ~150 keywords share heads: 128 distinct), matched ASCII case-insensitively; a
//! hit is then checked against the full keywords. aho-corasick's SIMD "Teddy" searcher,
//! several GB/s for a few dozen patterns, falls below 0.2 GB/s at this size (measured); its
//! DFA keeps about 0.5 GB/s, and is built once a process has scanned a megabyte (a typical
//! commit is scanned by the NFA, which is cheaper to build than to use on a few kilobytes).

use super::ScanError;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use once_cell::sync::OnceCell;

/// Keywords are searched by their first bytes at most: the catalog's keywords often share a
/// head (`xoxb-`, `xoxp-`; `dp.pt.`, `dp.st.`), and fewer, shorter patterns keep the set
/// within what the SIMD searcher takes. A hit is then checked against the full keywords.
const ANCHOR_LEN: usize = 4;

/// The keyword searcher: which rules have a keyword in a blob.
pub(super) struct Prefilter {
    finder: Finder,
    /// Lowercase keywords and the rule each belongs to.
    keywords: Vec<(Vec<u8>, usize)>,
    /// For each searched anchor (by pattern id), the keywords that can start where it is
    /// found: those whose anchor is a prefix of it or has it as a prefix.
    candidates: Vec<Vec<usize>>,
}

/// The anchor searcher. A DFA searches about four times faster than an NFA but takes half a
/// millisecond to build for the catalog, more than a typical commit takes to scan: the NFA
/// serves small scans and the DFA is built once a scan has seen enough bytes to repay it.
struct Finder {
    anchors: Vec<Vec<u8>>,
    nfa: Option<AhoCorasick>,
    dfa: OnceCell<AhoCorasick>,
    /// Bytes searched so far with the NFA.
    searched: std::sync::atomic::AtomicUsize,
}

/// Bytes after which the DFA pays for itself.
const DFA_AFTER: usize = 1 << 20;

impl Finder {
    fn new(anchors: Vec<Vec<u8>>) -> Result<Self, ScanError> {
        let nfa = if anchors.is_empty() {
            None
        } else {
            Some(Self::build(&anchors, AhoCorasickKind::ContiguousNFA)?)
        };
        Ok(Finder {
            anchors,
            nfa,
            dfa: OnceCell::new(),
            searched: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn build(anchors: &[Vec<u8>], kind: AhoCorasickKind) -> Result<AhoCorasick, ScanError> {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .ascii_case_insensitive(true)
            .kind(Some(kind))
            // Its own prefilter cannot help with 128 patterns, and costs time to build.
            .prefilter(false)
            .build(anchors)
            .map_err(|e| ScanError::Prefilter(e.to_string()))
    }

    /// The searcher for a blob of `len` bytes.
    fn searcher(&self, len: usize) -> Option<&AhoCorasick> {
        use std::sync::atomic::Ordering;
        let nfa = self.nfa.as_ref()?;
        let before = self.searched.fetch_add(len, Ordering::Relaxed);
        if before + len < DFA_AFTER && self.dfa.get().is_none() {
            return Some(nfa);
        }
        // A DFA that fails to build (it cannot here: the set is small) leaves the NFA in use.
        Some(
            self.dfa
                .get_or_try_init(|| Self::build(&self.anchors, AhoCorasickKind::DFA))
                .unwrap_or(nfa),
        )
    }
}

impl Prefilter {
    /// The searcher over `keywords` (lowercase) and the rule each belongs to.
    pub(super) fn new(keywords: Vec<(Vec<u8>, usize)>) -> Result<Self, ScanError> {
        let heads: Vec<&[u8]> = keywords
            .iter()
            .map(|(k, _)| &k[..k.len().min(ANCHOR_LEN)])
            .collect();
        let mut anchors: Vec<Vec<u8>> = heads.iter().map(|h| h.to_vec()).collect();
        anchors.sort_unstable();
        anchors.dedup();
        // Keywords by head; an anchor's candidates are the keywords whose head is a prefix of
        // it (at most four lengths) or starts with it (a range of the sorted heads).
        let mut by_head: Vec<(&[u8], usize)> =
            heads.iter().enumerate().map(|(i, h)| (*h, i)).collect();
        by_head.sort_unstable();
        let candidates = anchors
            .iter()
            .map(|a| {
                let from = by_head.partition_point(|(h, _)| h < &a.as_slice());
                let mut list: Vec<usize> = by_head[from..]
                    .iter()
                    .take_while(|(h, _)| h.starts_with(a))
                    .map(|(_, i)| *i)
                    .collect();
                for len in 1..a.len() {
                    let shorter = &a[..len];
                    let from = by_head.partition_point(|(h, _)| *h < shorter);
                    list.extend(
                        by_head[from..]
                            .iter()
                            .take_while(|(h, _)| *h == shorter)
                            .map(|(_, i)| *i),
                    );
                }
                list
            })
            .collect();
        let finder = Finder::new(anchors)?;
        Ok(Prefilter {
            finder,
            keywords,
            candidates,
        })
    }

    /// For each rule, where its keywords occur in `data` (any ASCII case): the start of each
    /// occurrence, in order.
    pub(super) fn hits(&self, data: &[u8], rules: usize) -> Vec<Vec<usize>> {
        let mut hits = vec![Vec::new(); rules];
        let Some(searcher) = self.finder.searcher(data.len()) else {
            return hits;
        };
        each_start(searcher, data, data.len(), |pos, anchor| {
            for &i in &self.candidates[anchor] {
                let (k, rule) = &self.keywords[i];
                let seen: &mut Vec<usize> = &mut hits[*rule];
                if seen.last() != Some(&pos)
                    && data
                        .get(pos..pos + k.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(k))
                {
                    seen.push(pos);
                }
            }
        });
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

/// Calls `hit` with every position below `limit` where some anchor starts, and which.
/// Leftmost-first search reports one anchor per position; the caller checks every keyword
/// that can start there, and the search resumes one byte later, so keywords that overlap or
/// share a prefix are all seen.
fn each_start(searcher: &AhoCorasick, low: &[u8], limit: usize, mut hit: impl FnMut(usize, usize)) {
    let mut at = 0;
    while at < limit {
        match searcher.find(aho_corasick::Input::new(low).range(at..low.len())) {
            Some(m) if m.start() < limit => {
                hit(m.start(), m.pattern().as_usize());
                at = m.start() + 1;
            }
            _ => return,
        }
    }
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
        .expect("builds")
    }

    #[test]
    fn prefilter_is_case_insensitive_and_sees_overlapping_keywords() {
        let p = prefilter(&[("abcde", 0), ("bc", 1), ("ab", 2), ("zz", 3)]);
        assert_eq!(p.fired(b"xxABCDEyy", 4), vec![true, true, true, false]);
    }

    #[test]
    fn prefilter_checks_the_whole_keyword_after_its_head_anywhere_in_the_blob() {
        let p = prefilter(&[("sk-proj-", 0)]);
        let len = 3 << 16;
        for offset in [0, 1, 4095, 65_536 - 4, len - 8] {
            let mut data = vec![b'.'; len];
            data[offset..offset + 8].copy_from_slice(b"SK-PROJ-");
            assert_eq!(p.fired(&data, 1), vec![true], "at {offset}");
            data[offset..offset + 8].copy_from_slice(b"sk-proj.");
            assert_eq!(p.fired(&data, 1), vec![false], "at {offset}");
        }
    }

    #[test]
    fn prefilter_with_many_keywords_switches_to_the_dfa_after_a_megabyte() {
        let names: Vec<String> = (0..300).map(|i| format!("{i:03}kwx")).collect();
        let keywords: Vec<(&str, usize)> = names
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let p = prefilter(&keywords);
        for _ in 0..2 {
            let fired = p.fired(b"... 007KWX and 299kwx ...", 300);
            assert_eq!(fired.iter().filter(|f| **f).count(), 2);
            assert!(fired[7] && fired[299]);
            assert!(p.finder.dfa.get().is_none());
        }
        let mut big = vec![b' '; DFA_AFTER];
        big[DFA_AFTER - 6..].copy_from_slice(b"123kwx");
        assert!(p.fired(&big, 300)[123]);
        assert!(p.finder.dfa.get().is_some());
        let fired = p.fired(b"... 007KWX and 299kwx ...", 300);
        assert!(fired[7] && fired[299]);
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
