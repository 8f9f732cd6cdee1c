//! Which parts of a blob to scan. A single-line rule looks only at the lines holding one of
//! its keywords; a new version of a file is looked at only where it differs from the version
//! it replaces, as its patch would show it — by the delta's own record of what it inserts
//! (see [`crate::git::packs`]) or by comparing line hashes.

use std::ops::Range;

/// The lines that hold the keyword occurrences `at` (sorted), merged where they meet: a
/// single-line rule's match contains a keyword, so it lies on one of them. Searching only
/// these lines keeps the cost of a rule whose keyword is common (`key`, `token`) proportional
/// to the lines that mention it, not to the whole blob.
pub(crate) fn lines_around(data: &[u8], at: &[usize]) -> Vec<Range<usize>> {
    let mut windows: Vec<Range<usize>> = Vec::new();
    for &pos in at {
        if windows.last().is_some_and(|w| pos < w.end) {
            continue;
        }
        let start = memchr::memrchr(b'\n', &data[..pos]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
        match windows.last_mut() {
            Some(w) if start <= w.end + 1 => w.end = end,
            _ => windows.push(start..end),
        }
    }
    windows
}

/// The lines of `data` that hold a `changed` byte, each with the line before and the line
/// after it (an edited `keyward:allow-next-line` speaks for the line below; a line may read
/// as an assignment only with the one above), as sorted, merged byte ranges without their
/// final line break.
pub(crate) fn changed_lines(data: &[u8], changed: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut windows: Vec<Range<usize>> = Vec::new();
    for range in changed {
        if range.start >= data.len() {
            break;
        }
        if windows.last().is_some_and(|w| range.end <= w.end) {
            continue;
        }
        let line_start = |at: usize| memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
        let line_end =
            |at: usize| memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        let start = line_start(range.start);
        let start = if start > 0 { line_start(start - 1) } else { 0 };
        let last = range.end.min(data.len()) - 1;
        let end = line_end(last);
        let end = if end < data.len() {
            line_end(end + 1)
        } else {
            end
        };
        match windows.last_mut() {
            Some(w) if start <= w.end + 1 => w.end = w.end.max(end),
            _ => windows.push(start..end),
        }
    }
    windows
}

/// The lines of `data` as `data.split(|&b| b == b'\n')` yields them (the part after the last
/// line break too, empty or not), with the breaks found by `memchr`: `split` tests byte by
/// byte, and on a history that `git fast-import` packed, splitting each version twice was a
/// quarter of all instructions.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut breaks = memchr::memchr_iter(b'\n', data);
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        match breaks.next() {
            Some(at) => {
                start = Some(at + 1);
                Some(&data[from..at])
            }
            None => {
                start = None;
                Some(&data[from..])
            }
        }
    })
}

/// A keyed hash of each line of `data`, in order: SipHash-1-3 under keys drawn for this run
/// (the standard library's `RandomState`). A line whose hash is in the base version's is not
/// scanned again, so the hash decides what is scanned: an unkeyed hash (the fast
/// multiply-and-rotate one this used) can be inverted, and a line holding a key could be given
/// a tail that makes its hash equal an old line's. Keyed, a collision cannot be built without
/// the keys, and happens by chance once in 2^64. (SipHash costs about 0.25 ns more per byte
/// here, on the one-by-one path of a history scan only.)
pub(crate) fn line_hashes(data: &[u8]) -> Vec<u64> {
    use std::hash::BuildHasher;
    static KEYS: once_cell::sync::Lazy<std::collections::hash_map::RandomState> =
        once_cell::sync::Lazy::new(std::collections::hash_map::RandomState::new);
    let keys = &*KEYS;
    lines(data).map(|line| keys.hash_one(line)).collect()
}

/// The lines of `data` (hashes `hashes`) that `base` (sorted hashes of the version it
/// replaces) does not have, as byte ranges with their line break, in the form
/// [`changed_lines`] widens into the windows to scan.
pub(crate) fn lines_not_in(
    data: &[u8],
    hashes: &[u64],
    base: &[u64],
) -> Vec<std::ops::Range<usize>> {
    let mut changed = Vec::new();
    let mut start = 0;
    for (line, h) in lines(data).zip(hashes) {
        let end = (start + line.len() + 1).min(data.len());
        if start < end && base.binary_search(h).is_err() {
            changed.push(start..end);
        }
        start = end;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_what_split_yields() {
        for data in [
            &b""[..],
            b"\n",
            b"\n\n",
            b"a",
            b"a\n",
            b"a\nb",
            b"\na\n\nb\n",
            b"one line\r\ntwo\n\n\nlast",
        ] {
            let split: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
            assert_eq!(lines(data).collect::<Vec<_>>(), split, "{data:?}");
        }
    }

    #[test]
    fn changed_lines_are_the_ones_the_base_lacks() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nc\nd\ne\n";
        let mut base = line_hashes(old);
        base.sort_unstable();
        let changed = lines_not_in(new, &line_hashes(new), &base);
        // `B` and `e`, each with its line break.
        assert_eq!(changed, vec![2..4, 8..10]);
        assert_eq!(&new[changed[0].clone()], b"B\n");
        assert_eq!(&new[changed[1].clone()], b"e\n");
        // Widened by a line on each side, the two make one window.
        let w = changed_lines(new, &changed);
        assert_eq!(w, vec![0..10]);
        // Adjacent changed lines make one window.
        let new = b"x\ny\nc\nd";
        let changed = lines_not_in(new, &line_hashes(new), &base);
        assert_eq!(changed, vec![0..2, 2..4]);
        assert_eq!(changed_lines(new, &changed), vec![0..5]);
    }
}
