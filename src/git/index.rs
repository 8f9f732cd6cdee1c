//! A lean reader of git's index file, for the one question the hook asks of it.
//!
//! gix decodes every entry of the index into owned structures: on a 100,000-file repository
//! that is about 12 MB of fresh memory and 8–10 ms, most of it page faults — more than all the
//! rest of the hook. This reader maps the file, records one 12-byte slot per entry (where its
//! header and path are), reads the cache-tree (`TREE` extension), and lets the walk in
//! [`crate::git`] look at only the entries of the directories that changed.
//!
//! It reads index versions 2, 3 and 4 with SHA-1 or SHA-256 ids, and skips the optional
//! extensions. A sparse index (`sdir`) is checked like any other, then left to gix's complete
//! decoder ([`Read::Unsupported`]); a split index (`link`) only git reads exactly
//! ([`IndexError::LeftToGit`]).
//!
//! **It reads what git reads, or nothing.** The file is untrusted: a crafted entry whose
//! 12-bit name length says 4 over the bytes `a.py.md` is `a.py` to git, and a reader that
//! took the name up to its NUL would scan a path git does not commit. So every field is read
//! as git's `read-cache.c` reads it, and wherever git's reading could differ from this one
//! (or from itself: a multi-threaded git reads the entry blocks an `IEOT` table lists), the
//! file is refused ([`IndexError::Corrupt`]); the hook then asks git's own plumbing.
//! Refused, among others: a name length that disagrees with where the name ends, extended
//! flags git does not know, entries out of order, modes git never writes, a `TREE` git
//! would parse differently, sizes past the end of the file, unknown mandatory extensions.

mod cache_tree;
mod entries;

pub(crate) use cache_tree::{CacheTree, TreeRef};
use entries::{entries_v2, entries_v4, Entries};

use gix::hash::oid;
use std::ops::Deref;
use std::path::Path;

/// Entry mode of a sparse-index directory.
pub(crate) const MODE_DIR: u32 = 0o040000;
/// Entry mode of a symbolic link.
pub(crate) const MODE_SYMLINK: u32 = 0o120000;
/// Entry mode of a submodule (gitlink).
pub(crate) const MODE_GITLINK: u32 = 0o160000;

/// The modes git writes in an index: anything else is a crafted file.
const MODES: [u32; 5] = [0o100644, 0o100755, MODE_SYMLINK, MODE_GITLINK, MODE_DIR];

/// Entry flags (the 16 bits on disk): the name length, its "longer than this" value, the
/// merge stage, and the flag that says a second word of flags follows.
const NAME_MASK: u16 = 0x0fff;
const EXTENDED: u16 = 0x4000;
const STAGE_MASK: u16 = 0x3000;
/// Extended flags (the second word): the two git knows. git refuses an index with any other.
const INTENT_TO_ADD: u16 = 0x2000;
const SKIP_WORKTREE: u16 = 0x4000;

/// Errors in an index file.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file could not be read.
    #[error("cannot read the index: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not one this reader reads exactly as git does (malformed, or crafted).
    #[error("corrupt index: {0}")]
    Corrupt(String),
    /// A layout only git reads exactly: a split index, whose entries git merges into its
    /// shared index by rules gix does not follow (git drops a new entry with a path it
    /// refuses, such as `/x`, where gix keeps it).
    #[error("the index is a {0}, which only git itself reads exactly")]
    LeftToGit(&'static str),
}

fn corrupt(what: impl Into<String>) -> IndexError {
    IndexError::Corrupt(what.into())
}

/// What [`read`] found.
#[derive(Debug)]
pub enum Read {
    /// The index, ready to walk.
    Index(Index),
    /// A layout this reader leaves to gix, after checking what it can of it (the reason is
    /// for diagnostics).
    Unsupported(&'static str),
}

/// Where one entry lives in the file.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Offset of the entry's header in the file.
    header: u32,
    /// Offset of its path, in the file (v2, v3) or in the decompressed paths (v4).
    path: u32,
    path_len: u32,
}

enum Bytes {
    Map(memmap2::Mmap),
    Owned(Vec<u8>),
    Empty,
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Owned(v) => v,
            Bytes::Empty => &[],
        }
    }
}

/// An index file, mapped, with one slot per entry.
pub struct Index {
    data: Bytes,
    slots: Vec<Slot>,
    /// Paths of a version-4 index, whose paths are prefix-compressed in the file.
    paths: Option<Vec<u8>>,
    hash_len: usize,
    extended: bool,
    /// The cache-tree's nodes, as offsets into `data`.
    tree: Option<Vec<cache_tree::Node>>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("entries", &self.slots.len())
            .finish()
    }
}

/// Cache-trees nested deeper than this are treated as corrupt (git's paths are far shallower).
const MAX_TREE_DEPTH: usize = 4096;

/// How much larger than the file a version-4 index's paths may grow, expanded (or to
/// [`MIN_V4_PATHS`]). Real indexes stay under 5x: entries take 64 bytes or more on disk, paths
/// rarely over 300; past this the reader refuses the file and git's plumbing reads it.
const MAX_V4_EXPANSION: usize = 16;
const MIN_V4_PATHS: usize = 16 << 20;

/// The index header: `DIRC`, the version, the entry count.
const HEADER: usize = 12;

/// Reads the index at `path`. A missing file is an empty index, as it is for git.
pub fn read(path: &Path, hash: gix::hash::Kind) -> Result<Read, IndexError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Read::Index(Index {
                data: Bytes::Empty,
                slots: Vec::new(),
                paths: None,
                hash_len: hash.len_in_bytes(),
                extended: false,
                tree: None,
            }))
        }
        Err(e) => return Err(e.into()),
    };
    // SAFETY: the map is read-only and private. git never rewrites an index file in place: it
    // writes a new file and renames it over the old one, so the mapped bytes cannot change
    // while we read them (git and gix map the index the same way).
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file)? };
    let parsed = parse(Bytes::Map(map), hash.len_in_bytes())?;
    Ok(match parsed.delegate {
        None => Read::Index(parsed.index),
        Some(reason) => Read::Unsupported(reason),
    })
}

/// Reads an index from `bytes` as [`read`] reads a file (for fuzzing and tests): the index,
/// or why it was left to gix.
pub(crate) fn read_bytes(bytes: Vec<u8>, hash: gix::hash::Kind) -> Result<Read, IndexError> {
    let parsed = parse(Bytes::Owned(bytes), hash.len_in_bytes())?;
    Ok(match parsed.delegate {
        None => Read::Index(parsed.index),
        Some(reason) => Read::Unsupported(reason),
    })
}

struct Parsed {
    index: Index,
    /// Why gix reads it instead (a sparse index).
    delegate: Option<&'static str>,
}

fn parse(data: Bytes, hash_len: usize) -> Result<Parsed, IndexError> {
    if data.len() < HEADER + hash_len || &data[..4] != b"DIRC" {
        return Err(corrupt("no index header"));
    }
    if data.len() > u32::MAX as usize {
        return Err(corrupt("an index larger than 4 GiB"));
    }
    let version = be32(&data, 4)?;
    if !(2..=4).contains(&version) {
        return Err(corrupt(format!("index version {version}")));
    }
    let count = be32(&data, 8)? as usize;
    let end = data.len() - hash_len; // the trailing checksum
                                     // Stat data and object id, before the flags.
    let fixed = 40 + hash_len;
    // Each entry takes at least its fixed part, flags and a NUL: refuse counts the file
    // cannot hold before allocating.
    if count > (end - HEADER) / (fixed + 3) {
        return Err(corrupt(format!(
            "{count} entries do not fit in {} bytes",
            data.len()
        )));
    }
    let ents = &data[..end];
    let Entries {
        slots,
        paths,
        end: entries_end,
        extended,
        dirs,
        unordered,
    } = if version == 4 {
        let max_v4_paths = (data.len() * MAX_V4_EXPANSION).max(MIN_V4_PATHS);
        entries_v4(ents, count, fixed, max_v4_paths)?
    } else {
        entries_v2(ents, count, fixed, version)?
    };
    let mut pos = entries_end;
    let mut tree = None;
    let mut delegate = None;
    let mut split = false;
    let mut offsets = None;
    while pos + 8 <= end {
        let sig = &data[pos..pos + 4];
        let size = be32(&data, pos + 4)? as usize;
        let body = data
            .get(pos + 8..pos + 8 + size)
            .filter(|_| pos + 8 + size <= end)
            .ok_or_else(|| corrupt(format!("extension at byte {pos} runs past the end")))?;
        match sig {
            b"TREE" => {
                if tree.is_some() {
                    return Err(corrupt("two cache-trees"));
                }
                tree = Some(cache_tree::parse(&data, pos + 8, body.len(), hash_len)?);
            }
            b"EOIE" => {
                // Where a multi-threaded git starts reading extensions: it must be here.
                if body.len() != 4 + hash_len || be32(body, 0)? as usize != entries_end {
                    return Err(corrupt(
                        "an end-of-entries extension that does not point at the extensions",
                    ));
                }
            }
            b"IEOT" => {
                if offsets.replace(pos + 8..pos + 8 + size).is_some() {
                    return Err(corrupt("two entry offset tables"));
                }
            }
            // Optional extensions start with an upper-case letter; the rest must be understood.
            [b'A'..=b'Z', ..] => {}
            b"link" => split = true,
            b"sdir" => delegate = Some("sparse index"),
            _ => {
                return Err(corrupt(format!(
                    "the extension {} is one this reader does not know",
                    crate::redact::escape(sig)
                )))
            }
        }
        pos += 8 + size;
    }
    if pos != end {
        return Err(corrupt("trailing bytes after the extensions"));
    }
    if dirs && delegate.is_none() {
        return Err(corrupt("directory entries in an index that is not sparse"));
    }
    if split {
        return Err(IndexError::LeftToGit("split index"));
    }
    if let Some(e) = unordered {
        return Err(e);
    }
    let index = Index {
        data,
        slots,
        paths,
        hash_len,
        extended,
        tree,
    };
    if let Some(table) = offsets {
        index.check_offset_table(&index.data[table])?;
    }
    Ok(Parsed { index, delegate })
}

fn be32(data: &[u8], at: usize) -> Result<u32, IndexError> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| corrupt("truncated"))
}

/// Length of the NUL-terminated string at `at`.
fn nul(data: &[u8], at: usize) -> Result<usize, IndexError> {
    data.get(at..)
        .and_then(|rest| memchr::memchr(0, rest))
        .ok_or_else(|| corrupt("unterminated path"))
}

/// git's offset varint (used by index v4 for the number of bytes to strip).
fn varint(data: &[u8], at: usize) -> Result<(usize, usize), IndexError> {
    let mut i = at;
    let mut byte = *data.get(i).ok_or_else(|| corrupt("truncated"))?;
    let mut value = usize::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        i += 1;
        byte = *data.get(i).ok_or_else(|| corrupt("truncated"))?;
        value = value
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .map(|v| v + usize::from(byte & 0x7f))
            .ok_or_else(|| corrupt("varint overflow"))?;
    }
    Ok((value, i + 1 - at))
}

impl Index {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The cache-tree's root, when the index has one: its nodes are read as they are visited.
    pub(crate) fn cache_root(&self) -> Option<TreeRef<'_>> {
        TreeRef::root(&self.data, self.tree.as_deref()?, self.hash_len)
    }

    /// The whole cache-tree as owned nodes (for tests and the differential fuzz target).
    pub(crate) fn cache_tree(&self) -> Option<CacheTree> {
        self.cache_root().map(TreeRef::to_owned_tree)
    }

    /// Path of entry `i`.
    pub fn path(&self, i: usize) -> &[u8] {
        let s = self.slots[i];
        let range = s.path as usize..(s.path + s.path_len) as usize;
        match &self.paths {
            Some(buf) => &buf[range],
            None => &self.data[range],
        }
    }

    fn header(&self, i: usize) -> usize {
        self.slots[i].header as usize
    }

    /// Object id of entry `i`.
    pub fn id(&self, i: usize) -> &oid {
        let at = self.header(i) + 40;
        oid::from_bytes_unchecked(&self.data[at..at + self.hash_len])
    }

    /// Mode of entry `i` (`0o100644`, [`MODE_SYMLINK`], [`MODE_GITLINK`], …).
    pub fn mode(&self, i: usize) -> u32 {
        let at = self.header(i) + 24;
        u32::from_be_bytes([
            self.data[at],
            self.data[at + 1],
            self.data[at + 2],
            self.data[at + 3],
        ])
    }

    fn flags16(&self, i: usize) -> u16 {
        let at = self.header(i) + 40 + self.hash_len;
        u16::from_be_bytes([self.data[at], self.data[at + 1]])
    }

    /// The second word of flags of entry `i` (0 when it has none).
    fn extended_flags(&self, i: usize) -> u16 {
        if !self.extended || self.flags16(i) & EXTENDED == 0 {
            return 0;
        }
        let at = self.header(i) + 42 + self.hash_len;
        u16::from_be_bytes([self.data[at], self.data[at + 1]])
    }

    /// The flags of entry `i` as git holds them once read (`ce_flags`, as
    /// `git ls-files --debug` prints them, without the name length): assume-valid `0x8000`,
    /// extended `0x4000`, the stage `0x3000`, and the extended word's intent-to-add
    /// (`0x2000 << 16`) and skip-worktree (`0x4000 << 16`).
    pub fn flags(&self, i: usize) -> u32 {
        u32::from(self.flags16(i) & !NAME_MASK) | u32::from(self.extended_flags(i)) << 16
    }

    /// Merge stage of entry `i` (0 unless a merge conflict is recorded).
    pub(crate) fn stage(&self, i: usize) -> u16 {
        (self.flags16(i) >> 12) & 3
    }

    /// Whether entry `i` was added with `git add -N` and has no content yet.
    pub(crate) fn intent_to_add(&self, i: usize) -> bool {
        self.extended_flags(i) & INTENT_TO_ADD != 0
    }

    /// The number of bytes the version-4 entry `i` strips from the path before it.
    fn strip(&self, i: usize) -> Result<usize, IndexError> {
        let mut at = self.header(i) + 42 + self.hash_len;
        if self.flags16(i) & EXTENDED != 0 {
            at += 2;
        }
        Ok(varint(&self.data, at)?.0)
    }

    /// Checks an `IEOT` table against the entries as read one after the other. A
    /// multi-threaded git (`index.threads`, on by default with more than one core) reads each
    /// block it lists on its own, from the offset it gives, and in a version-4 index without
    /// the path before the block: all of that must agree with reading them in one sequence.
    fn check_offset_table(&self, table: &[u8]) -> Result<(), IndexError> {
        let bad = || corrupt("an entry offset table that does not match the entries");
        if table.len() < 4 || !(table.len() - 4).is_multiple_of(8) || be32(table, 0)? != 1 {
            return Err(bad());
        }
        let mut next = 0usize;
        for block in table[4..].chunks_exact(8) {
            let (offset, nr) = (be32(block, 0)? as usize, be32(block, 4)? as usize);
            let first = self.slots.get(next).ok_or_else(bad)?;
            if first.header as usize != offset || nr == 0 {
                return Err(bad());
            }
            if self.paths.is_some()
                && next > 0
                && self.strip(next)? != self.slots[next - 1].path_len as usize
            {
                return Err(bad());
            }
            next = next
                .checked_add(nr)
                .filter(|&n| n <= self.slots.len())
                .ok_or_else(bad)?;
        }
        if next != self.slots.len() {
            return Err(bad());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_follow_git() {
        assert_eq!(varint(&[0x05], 0).expect("ok"), (5, 1));
        assert_eq!(varint(&[0x80, 0x00], 0).expect("ok"), (128, 2));
        assert_eq!(varint(&[0x81, 0x01], 0).expect("ok"), (257, 2));
        assert!(varint(&[0x80], 0).is_err());
    }

    fn git(dir: &Path, args: &[&str]) {
        crate::git::test_git(dir, args, &[]);
    }

    /// One entry as a reader sees it: path, id, mode, "no content" (intent-to-add or conflict).
    type Seen = (Vec<u8>, String, u32, bool);

    /// Every entry and the cache-tree, as the lean reader and as gix see them.
    fn both(dir: &Path) -> (Vec<Seen>, Vec<Seen>, Option<CacheTree>, Option<CacheTree>) {
        let path = dir.join(".git/index");
        let Read::Index(lean) = read(&path, gix::hash::Kind::Sha1).expect("reads") else {
            panic!("unsupported")
        };
        let full = gix::index::File::at(&path, gix::hash::Kind::Sha1, false, Default::default())
            .expect("gix reads");
        let a = (0..lean.len())
            .map(|i| {
                (
                    lean.path(i).to_vec(),
                    lean.id(i).to_string(),
                    lean.mode(i),
                    lean.intent_to_add(i) || lean.stage(i) != 0,
                )
            })
            .collect();
        let b = full
            .entries()
            .iter()
            .map(|e| {
                let ita =
                    e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD) || e.stage_raw() != 0;
                (e.path(&full).to_vec(), e.id.to_string(), e.mode.bits(), ita)
            })
            .collect();
        let gix_tree = full.tree().map(CacheTree::from_gix);
        (a, b, lean.cache_tree(), gix_tree)
    }

    #[test]
    fn agrees_with_gix_on_versions_2_3_and_4() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        git(dir, &["init", "-q", "."]);
        for (name, body) in [
            ("a.txt", "a"),
            ("dir/b.txt", "b"),
            ("dir/sub/c.txt", "c"),
            ("dir-x/d", "d"),
            ("z", "z"),
        ] {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, body).expect("write");
        }
        git(dir, &["add", "."]);
        // A symbolic link's entry (mode 120000) to `a.txt`, staged without a link on disk (as
        // Git for Windows stages one), so the test runs on every platform.
        std::fs::write(dir.join("link"), "a.txt").expect("write");
        git(dir, &["hash-object", "-w", "link"]);
        let target =
            gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, b"a.txt")
                .expect("hash");
        git(
            dir,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("120000,{target},link"),
            ],
        );
        git(dir, &["commit", "-qm", "one"]);
        std::fs::write(dir.join("dir/new.txt"), "new").expect("write");
        git(dir, &["add", "-N", "dir/new.txt"]); // intent-to-add makes it a version 3 index
        git(
            dir,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                "160000,1111111111111111111111111111111111111111,sub",
            ],
        );
        for version in ["4", "3", "2"] {
            if version == "2" {
                git(dir, &["rm", "-q", "--cached", "dir/new.txt"]);
            }
            git(dir, &["update-index", "--index-version", version]);
            git(dir, &["write-tree"]);
            let (lean, full, lean_tree, gix_tree) = both(dir);
            assert_eq!(lean, full, "index v{version}");
            assert!(lean.len() >= 6, "index v{version}");
            assert_eq!(lean_tree, gix_tree, "cache-tree, index v{version}");
            assert!(lean_tree.is_some());
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        for bytes in [
            &b""[..],
            b"not an index at all, not at all",
            b"DIRC\0\0\0\x02\xff\xff\xff\xff0123456789012345678901234",
        ] {
            let data = bytes.to_vec();
            let tmp = std::env::temp_dir().join(format!("kw-index-test-{}", std::process::id()));
            std::fs::write(&tmp, &data).expect("write");
            let got = read(&tmp, gix::hash::Kind::Sha1);
            let _ = std::fs::remove_file(&tmp);
            assert!(got.is_err(), "{bytes:?}");
        }
    }

    /// One entry for [`write`]: path, mode, 16-bit flags (the name length is filled in
    /// unless `name_len` says otherwise), extended flags.
    struct E {
        path: &'static [u8],
        mode: u32,
        flags: u16,
        extended: Option<u16>,
        name_len: Option<u16>,
        strip: Option<u8>,
    }

    fn e(path: &'static [u8]) -> E {
        E {
            path,
            mode: 0o100644,
            flags: 0,
            extended: None,
            name_len: None,
            strip: None,
        }
    }

    /// An index file as git lays it out (SHA-1, a zero checksum: nothing checks it).
    fn write(version: u32, entries: &[E], extensions: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut d = b"DIRC".to_vec();
        d.extend_from_slice(&version.to_be_bytes());
        d.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        let mut prev: &[u8] = b"";
        for entry in entries {
            let start = d.len();
            d.extend_from_slice(&[0; 24]);
            d.extend_from_slice(&entry.mode.to_be_bytes());
            d.extend_from_slice(&[0; 12]);
            d.extend_from_slice(&[0xab; 20]);
            let len = entry.name_len.unwrap_or(entry.path.len().min(0xfff) as u16);
            let ext = if entry.extended.is_some() {
                EXTENDED
            } else {
                0
            };
            d.extend_from_slice(&(entry.flags | ext | len).to_be_bytes());
            if let Some(x) = entry.extended {
                d.extend_from_slice(&x.to_be_bytes());
            }
            if version == 4 {
                let common = prev
                    .iter()
                    .zip(entry.path)
                    .take_while(|(a, b)| a == b)
                    .count();
                d.push(entry.strip.unwrap_or((prev.len() - common) as u8));
                d.extend_from_slice(&entry.path[common..]);
                d.push(0);
            } else {
                d.extend_from_slice(entry.path);
                let size = (d.len() - start + 8) & !7;
                d.resize(start + size, 0);
            }
            prev = entry.path;
        }
        for (sig, body) in extensions {
            d.extend_from_slice(&sig[..]);
            d.extend_from_slice(&(body.len() as u32).to_be_bytes());
            d.extend_from_slice(body);
        }
        d.extend_from_slice(&[0; 20]);
        d
    }

    fn paths(bytes: Vec<u8>) -> Result<Vec<Vec<u8>>, String> {
        match read_bytes(bytes, gix::hash::Kind::Sha1) {
            Ok(Read::Index(i)) => Ok((0..i.len()).map(|n| i.path(n).to_vec()).collect()),
            Ok(Read::Unsupported(why)) => Err(why.to_owned()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn names_are_read_by_their_length_field_as_git_reads_them() {
        let ok = |v| paths(write(v, &[e(b"a.py.md"), e(b"b")], &[]));
        for v in [2, 3, 4] {
            assert_eq!(ok(v), Ok(vec![b"a.py.md".to_vec(), b"b".to_vec()]), "v{v}");
        }
        // The index: the field says 4 over `a.py.md`. git reads `a.py` (v2, v3) or
        // misreads every entry after it (v4); the lean reader reads neither.
        for v in [2, 3, 4] {
            let mut lying = e(b"a.py.md");
            lying.name_len = Some(4);
            let got = paths(write(v, &[lying, e(b"b")], &[]));
            assert!(
                got.as_ref().is_err_and(|m| m.contains("says 4 bytes")),
                "v{v}: {got:?}"
            );
        }
        // A name of 0xFFF bytes or more: the field says 0xFFF and the NUL ends it.
        static LONG: [u8; 5000] = [b'x'; 5000];
        for v in [2, 4] {
            assert_eq!(paths(write(v, &[e(&LONG)], &[])), Ok(vec![LONG.to_vec()]));
            let mut short = e(&LONG);
            short.name_len = Some(0xffe);
            assert!(paths(write(v, &[short], &[])).is_err(), "v{v}");
        }
    }

    #[test]
    fn version_4_paths_cannot_grow_quadratically() {
        // "a", "aa", "aaa", …: 65 bytes an entry on disk, 6,000 × 3,000 bytes expanded.
        static A: [u8; 6_000] = [b'a'; 6_000];
        let entries: Vec<E> = (1..=6_000).map(|n| e(&A[..n])).collect();
        let bytes = write(4, &entries, &[]);
        assert!(bytes.len() < 1 << 20);
        let got = paths(bytes);
        assert!(got.is_err_and(|m| m.contains("expanding past")));
    }

    #[test]
    fn what_git_would_read_otherwise_is_refused() {
        let refused = |bytes: Vec<u8>, why: &str| {
            let got = paths(bytes);
            assert!(
                got.as_ref().is_err_and(|m| m.contains(why)),
                "{why}: {got:?}"
            );
        };
        let with = |f: fn(&mut E)| {
            let mut x = e(b"x");
            f(&mut x);
            x
        };
        // Extended flags git does not know; in a version 2 index.
        refused(
            write(3, &[with(|x| x.extended = Some(0x1000))], &[]),
            "git does not know",
        );
        refused(
            write(2, &[with(|x| x.extended = Some(0x2000))], &[]),
            "version 2",
        );
        // A mode git never writes; a directory outside a sparse index.
        refused(
            write(2, &[with(|x| x.mode = 0o100664)], &[]),
            "never writes",
        );
        refused(write(2, &[with(|x| x.mode = MODE_DIR)], &[]), "end in /");
        let mut dir = e(b"d/");
        dir.mode = MODE_DIR;
        refused(write(2, &[dir], &[]), "not sparse");
        // Out of order; a duplicate stage 0.
        refused(write(2, &[e(b"b"), e(b"a")], &[]), "out of order");
        refused(write(2, &[e(b"a"), e(b"a")], &[]), "out of order");
        // A v4 entry that strips more than the previous path has, or strips at the start.
        let mut strip = e(b"b");
        strip.strip = Some(3);
        refused(write(4, &[e(b"a"), strip], &[]), "strips 3 bytes");
        let mut first = e(b"a");
        first.strip = Some(1);
        refused(write(4, &[first], &[]), "strips 1 bytes");
        // Extensions: past the end, unknown mandatory, a split index, trailing bytes.
        let mut past = write(2, &[e(b"a")], &[(b"TREE", b"\x000 0\n".to_vec())]);
        let at = past.len() - 20 - 5 - 4;
        past[at..at + 4].copy_from_slice(&100u32.to_be_bytes());
        refused(past, "runs past the end");
        refused(
            write(2, &[e(b"a")], &[(b"zzzz", Vec::new())]),
            "does not know",
        );
        let link = write(2, &[e(b"a")], &[(b"link", vec![0; 20])]);
        assert!(matches!(
            read_bytes(link, gix::hash::Kind::Sha1),
            Err(IndexError::LeftToGit(_))
        ));
        let mut trailing = write(2, &[e(b"a")], &[]);
        trailing.splice(trailing.len() - 20..trailing.len() - 20, [1, 2, 3]);
        refused(trailing, "trailing bytes");
        // Counts the file cannot hold.
        let mut count = write(2, &[e(b"a")], &[]);
        count[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        refused(count, "do not fit");
        // Optional extensions are skipped; a sparse index is checked, then left to gix.
        let fine = write(2, &[e(b"a")], &[(b"ABCD", vec![1, 2, 3])]);
        assert_eq!(paths(fine), Ok(vec![b"a".to_vec()]));
        let mut dir = e(b"d/");
        dir.mode = MODE_DIR;
        dir.extended = Some(SKIP_WORKTREE);
        assert_eq!(
            paths(write(3, &[e(b"a"), dir], &[(b"sdir", Vec::new())])),
            Err("sparse index".to_owned())
        );
    }

    #[test]
    fn cache_trees_and_offset_tables_are_read_as_git_reads_them() {
        let tree = |body: &[u8]| {
            let bytes = write(2, &[e(b"a/b")], &[(b"TREE", body.to_vec())]);
            read_bytes(bytes, gix::hash::Kind::Sha1).map(|r| match r {
                Read::Index(i) => i.cache_tree(),
                Read::Unsupported(_) => None,
            })
        };
        let id = [0x11u8; 20];
        let mut good = b"\x001 1\n".to_vec();
        good.extend_from_slice(&id);
        good.extend_from_slice(b"a\x001 0\n");
        good.extend_from_slice(&id);
        let read = tree(&good).expect("a valid cache-tree").expect("present");
        assert_eq!(read.children.len(), 1);
        assert_eq!(read.children[0].name, b"a");
        // Invalidated nodes (-1) have no id.
        let read = tree(b"\x00-1 0\n").expect("valid").expect("present");
        assert_eq!(read.id, None);
        // What strtol and git's int would read another way, or git would not read at all.
        for bad in [
            &b"root\x00-1 0\n"[..], // a root with a name: git drops the whole cache-tree
            b"\x00+1 0\n",
            b"\x00 -1 0\n",
            b"\x00-1  0\n",
            b"\x00-1 0 \n",
            b"\x00-1 -1\n",
            b"\x00-0 0\n", // strtol reads 0, gix reads an invalid node
            b"\x00-1 0\nmore",
            b"\x00-1 00\n",
            b"\x002147483648 0\n", // past a C int: git's count wraps negative
            b"\x00-1 2\na\x00-1 0\na\x00-1 0\n", // two subtrees of one name
        ] {
            assert!(tree(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // An offset table must list the blocks a threaded git reads as one sequence does.
        let entries = [e(b"a"), e(b"b"), e(b"c")];
        let plain = write(4, &entries, &[]);
        let second = 12 + (62 + 2 + 1) as u32; // "a": header, strip byte, name, NUL
        let table = |blocks: &[(u32, u32)]| {
            let mut body = 1u32.to_be_bytes().to_vec();
            for (offset, nr) in blocks {
                body.extend_from_slice(&offset.to_be_bytes());
                body.extend_from_slice(&nr.to_be_bytes());
            }
            body
        };
        assert_eq!(plain.len(), 12 + 3 * 65 + 20);
        // In version 4, a block's first entry must not take from the path before it: here
        // "b" strips the 1 byte of "a" and shares nothing, so a block may start there.
        let ok = write(4, &entries, &[(b"IEOT", table(&[(12, 1), (second, 2)]))]);
        assert!(paths(ok).is_ok());
        for bad in [
            table(&[(12, 1), (second + 1, 2)]),
            table(&[(12, 1), (second, 1)]),
            table(&[(12, 1), (second, 3)]),
            table(&[(12, 3), (second, 0)]),
        ] {
            let bytes = write(4, &entries, &[(b"IEOT", bad)]);
            assert!(paths(bytes).is_err());
        }
        let shared = [e(b"ab"), e(b"ac")]; // "ac" keeps the "a" of "ab"
        let bytes = write(4, &shared, &[(b"IEOT", table(&[(12, 1), (12 + 66, 1)]))]);
        assert!(paths(bytes).is_err(), "a block starting mid-prefix");
        // An end-of-entries extension must point at the extensions.
        let mut eoie = (12 + 3 * 65u32).to_be_bytes().to_vec();
        eoie.extend_from_slice(&[0; 20]);
        assert!(paths(write(4, &entries, &[(b"EOIE", eoie.clone())])).is_ok());
        eoie[3] += 1;
        assert!(paths(write(4, &entries, &[(b"EOIE", eoie)])).is_err());
    }
}
