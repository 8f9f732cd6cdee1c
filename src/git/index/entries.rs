//! The entries of an index file: the one part of the reader whose cost grows with the
//! repository, since git's format gives no entry's offset without reading every entry before
//! it (the `IEOT` table that would is off by default). Each entry is checked as git reads it.

use super::{
    corrupt, nul, varint, IndexError, Slot, EXTENDED, HEADER, INTENT_TO_ADD, MODES, MODE_DIR,
    NAME_MASK, SKIP_WORKTREE, STAGE_MASK,
};

/// What reading the entries found.
pub(super) struct Entries {
    pub(super) slots: Vec<Slot>,
    /// A version-4 index's paths, expanded.
    pub(super) paths: Option<Vec<u8>>,
    /// Where the extensions start.
    pub(super) end: usize,
    /// Whether any entry has a second word of flags.
    pub(super) extended: bool,
    /// Whether any entry is a sparse directory.
    pub(super) dirs: bool,
    /// The first entry out of order, if any (refused once the extensions say it is not a
    /// split index, whose replaced entries have empty names).
    pub(super) unordered: Option<IndexError>,
}

/// The error of entry `n` at byte `header`.
#[cold]
fn bad_entry(n: usize, header: usize, what: &str) -> IndexError {
    corrupt(format!("entry {n} (at byte {header}): {what}"))
}

/// Reads the entries of a version 2 or 3 index (`ents`: the file up to its checksum), each as
/// git reads it. Every entry is visited to find where the next starts, and checked, so this is
/// the one loop of the reader whose cost grows with the repository: it reads no name twice
/// and calls nothing per entry (about 40 instructions an entry).
pub(super) fn entries_v2(
    ents: &[u8],
    count: usize,
    fixed: usize,
    version: u32,
) -> Result<Entries, IndexError> {
    let mut slots: Vec<Slot> = Vec::with_capacity(count);
    let mut pos = HEADER;
    let mut extended = false;
    let mut dirs = false;
    let mut unordered = None;
    let mut last: (&[u8], u16) = (&[], 0);
    for n in 0..count {
        let header = pos;
        // The fixed part, the flags and what every entry has after them (a second word of
        // flags, or a name and its NUL): one bounds check.
        let Some(e) = ents.get(pos..pos + fixed + 4) else {
            return Err(bad_entry(n, header, "truncated"));
        };
        let mode = u32::from_be_bytes([e[24], e[25], e[26], e[27]]);
        if !MODES.contains(&mode) {
            return Err(bad_entry(
                n,
                header,
                &format!("mode {mode:o}, which git never writes"),
            ));
        }
        let flags = u16::from_be_bytes([e[fixed], e[fixed + 1]]);
        let mut p = pos + fixed + 2;
        if flags & EXTENDED != 0 {
            if version < 3 {
                return Err(bad_entry(n, header, "extended flags in a version 2 index"));
            }
            let more = u16::from_be_bytes([e[fixed + 2], e[fixed + 3]]);
            if more & !(INTENT_TO_ADD | SKIP_WORKTREE) != 0 {
                return Err(bad_entry(
                    n,
                    header,
                    &format!("extended flags {more:#06x} git does not know"),
                ));
            }
            extended = true;
            p += 2;
        }
        let field = usize::from(flags & NAME_MASK);
        // git takes `field` bytes as the name, or up to the NUL when the name is longer than
        // 0xFFE bytes; both must end at the same place.
        let name = if field < usize::from(NAME_MASK) {
            match ents.get(p..p + field + 1) {
                Some(name) if name[field] == 0 && !has_nul(&name[..field]) => &name[..field],
                _ => {
                    let actual =
                        nul(ents, p).map_err(|_| bad_entry(n, header, "unterminated path"))?;
                    return Err(bad_entry(
                        n,
                        header,
                        &format!(
                            "its name length field says {field} bytes, but the name is {actual}"
                        ),
                    ));
                }
            }
        } else {
            let len = nul(ents, p).map_err(|_| bad_entry(n, header, "unterminated path"))?;
            &ents[p..p + len]
        };
        // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
        pos = header + ((p - header + name.len() + 8) & !7);
        if pos > ents.len() {
            return Err(bad_entry(n, header, "runs past the end"));
        }
        if mode == MODE_DIR {
            // A sparse index's directory entry: `dir/`, in an index that says it is sparse.
            if name.last() != Some(&b'/') {
                return Err(bad_entry(
                    n,
                    header,
                    "a directory entry whose path does not end in /",
                ));
            }
            dirs = true;
        }
        // git writes entries sorted by path, then stage; its walks (and ours) rely on it.
        let stage = flags & STAGE_MASK;
        if n > 0 && unordered.is_none() && names_cmp(last.0, name).then(last.1.cmp(&stage)).is_ge()
        {
            unordered = Some(bad_entry(n, header, "out of order"));
        }
        last = (name, stage);
        slots.push(Slot {
            header: header as u32,
            path: p as u32,
            path_len: name.len() as u32,
        });
    }
    Ok(Entries {
        slots,
        paths: None,
        end: pos,
        extended,
        dirs,
        unordered,
    })
}

/// Reads the entries of a version 4 index, whose paths are prefix-compressed: each path is
/// the one before it, cut, and a suffix. So every path is expanded, in order, into one
/// buffer — a path cannot be known without all the paths before it, and the binary searches
/// of the walk need every path at hand.
pub(super) fn entries_v4(
    ents: &[u8],
    count: usize,
    fixed: usize,
    max_v4_paths: usize,
) -> Result<Entries, IndexError> {
    let mut slots: Vec<Slot> = Vec::with_capacity(count);
    // Paths expanded are about half the file (an entry takes 62 bytes and its suffix): sized
    // for that, the buffer is not copied as it grows (the pages reserved and not written are
    // never touched).
    let mut buf: Vec<u8> = Vec::with_capacity((ents.len() / 2).min(max_v4_paths));
    let mut pos = HEADER;
    let mut extended = false;
    let mut dirs = false;
    let mut unordered = None;
    let mut last_stage = 0;
    let mut prev = 0..0;
    for n in 0..count {
        let header = pos;
        let bad = |what: &str| bad_entry(n, header, what);
        // The fixed part, the flags and what every entry has after them (a second word of
        // flags, or a strip count and the suffix's NUL): one bounds check.
        let Some(e) = ents.get(pos..pos + fixed + 4) else {
            return Err(bad("truncated"));
        };
        let mode = u32::from_be_bytes([e[24], e[25], e[26], e[27]]);
        if !MODES.contains(&mode) {
            return Err(bad(&format!("mode {mode:o}, which git never writes")));
        }
        let flags = u16::from_be_bytes([e[fixed], e[fixed + 1]]);
        let mut p = pos + fixed + 2;
        if flags & EXTENDED != 0 {
            let more = u16::from_be_bytes([e[fixed + 2], e[fixed + 3]]);
            if more & !(INTENT_TO_ADD | SKIP_WORKTREE) != 0 {
                return Err(bad(&format!(
                    "extended flags {more:#06x} git does not know"
                )));
            }
            extended = true;
            p += 2;
        }
        let field = usize::from(flags & NAME_MASK);
        // The strip count: one byte unless it is 128 or more.
        let (strip, used) = match ents.get(p) {
            Some(&b) if b < 0x80 => (usize::from(b), 1),
            _ => varint(ents, p).map_err(|e| bad(&e.to_string()))?,
        };
        p += used;
        let suffix = find_nul(ents, p).ok_or_else(|| bad("unterminated path"))?;
        let keep = prev.len().checked_sub(strip).ok_or_else(|| {
            bad(&format!(
                "strips {strip} bytes from a previous path of {}",
                prev.len()
            ))
        })?;
        let len = keep + suffix;
        // Each path repeats most of the one before: 1-byte suffixes on ever longer paths
        // would grow the paths quadratically with the file.
        if buf.len() + len > max_v4_paths {
            return Err(bad(&format!(
                "version 4 paths expanding past {max_v4_paths} bytes"
            )));
        }
        // git sizes the entry by the length field unless it is 0xFFF.
        if field != usize::from(NAME_MASK) && field != len {
            return Err(bad(&format!(
                "its name length field says {field} bytes, but the name is {len}"
            )));
        }
        // git writes entries sorted by path, then stage; its walks (and ours) rely on it.
        // The new path is the previous one's first `keep` bytes and the suffix, so the two
        // compare as what follows those bytes in each.
        let tail = &ents[p..p + suffix];
        let stage = flags & STAGE_MASK;
        if n > 0
            && unordered.is_none()
            && names_cmp(&buf[prev.start + keep..prev.end], tail)
                .then(last_stage.cmp(&stage))
                .is_ge()
        {
            unordered = Some(bad("out of order"));
        }
        last_stage = stage;
        let start = buf.len();
        buf.extend_from_within(prev.start..prev.start + keep);
        buf.extend_from_slice(tail);
        prev = start..start + len;
        pos = p + suffix + 1;
        if pos > ents.len() {
            return Err(bad("runs past the end"));
        }
        if mode == MODE_DIR {
            // A sparse index's directory entry: `dir/`, in an index that says it is sparse.
            if buf.last() != Some(&b'/') || len == 0 {
                return Err(bad("a directory entry whose path does not end in /"));
            }
            dirs = true;
        }
        slots.push(Slot {
            header: header as u32,
            path: start as u32,
            path_len: len as u32,
        });
    }
    Ok(Entries {
        slots,
        paths: Some(buf),
        end: pos,
        extended,
        dirs,
        unordered,
    })
}

/// For the word-at-a-time searches: `0x01` and `0x80` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The length of the NUL-terminated string at `at`, eight bytes at a time (a version-4
/// entry's suffix is a few bytes: a call to `memchr` costs more than the search).
#[inline]
fn find_nul(data: &[u8], at: usize) -> Option<usize> {
    let rest = data.get(at..)?;
    let mut words = rest.chunks_exact(8);
    let mut done = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        // The lowest bit this leaves set is the high bit of the first zero byte.
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        if zeros != 0 {
            return Some(done + zeros.trailing_zeros() as usize / 8);
        }
        done += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| done + i)
}

/// Whether `s` holds a NUL byte, eight bytes at a time: every entry's name is checked, and
/// names are short, where a call to `memchr` costs more than its search.
#[inline]
fn has_nul(s: &[u8]) -> bool {
    let mut words = s.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        // A byte of `w` is zero where its high bit survives this (exact for the lowest
        // zero byte, which is all the question needs).
        if w.wrapping_sub(ONES) & !w & HIGHS != 0 {
            return true;
        }
    }
    words.remainder().contains(&0)
}

/// `a.cmp(b)`, eight bytes at a time: consecutive paths share most of their bytes, and a
/// call to `memcmp` for every entry cost more than the comparison.
#[inline]
fn names_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
        x.copy_from_slice(&a[i..i + 8]);
        y.copy_from_slice(&b[i..i + 8]);
        if x != y {
            // Big-endian words compare as their bytes do.
            return u64::from_be_bytes(x).cmp(&u64::from_be_bytes(y));
        }
        i += 8;
    }
    for (x, y) in a[i..n].iter().zip(&b[i..n]) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_at_a_time_helpers_agree_with_the_byte_at_a_time_ones() {
        let names: Vec<Vec<u8>> = [
            &b""[..],
            b"a",
            b"a/b",
            b"src/d000/f01.rs",
            b"src/d000/f01.rs\0",
            b"src/d000/f01.rt",
            b"src/d000/f01.rs.orig",
            b"\0src/d000/f01.rs",
            b"src/d000/f0\x801.rs",
            b"src/d000/f0\xff1.rs",
            b"01234567",
            b"0123456\0",
            b"0123456789abcdef",
        ]
        .iter()
        .map(|n| n.to_vec())
        .collect();
        for a in &names {
            assert_eq!(has_nul(a), a.contains(&0), "{a:?}");
            for at in 0..=a.len() + 1 {
                let slow = a.get(at..).and_then(|r| r.iter().position(|&b| b == 0));
                assert_eq!(find_nul(a, at), slow, "{a:?} at {at}");
            }
            for b in &names {
                assert_eq!(names_cmp(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
