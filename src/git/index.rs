//! A lean reader of git's index file, for the one question the hook asks of it.
//!
//! gix decodes every entry of the index into owned structures: on a 100,000-file repository
//! that is about 12 MB of fresh memory and 8–10 ms, most of it page faults — more than all the
//! rest of the hook. This reader maps the file, records one 12-byte slot per entry (where its
//! header and path are), reads the cache-tree (`TREE` extension), and lets the walk in
//! [`crate::git`] look at only the entries of the directories that changed.
//!
//! It reads index versions 2, 3 and 4 with SHA-1 or SHA-256 ids, and the optional extensions by
//! skipping them. Anything else — a split index (`link`), a sparse index (`sdir`), any other
//! mandatory extension, a version it does not know — is [`Read::Unsupported`], and the caller
//! uses gix's complete decoder instead. A malformed file is an error, never a guess.

use gix::hash::{oid, ObjectId};
use std::ops::Deref;
use std::path::Path;

/// Entry mode of a sparse-index directory.
pub const MODE_DIR: u32 = 0o040000;
/// Entry mode of a symbolic link.
pub const MODE_SYMLINK: u32 = 0o120000;
/// Entry mode of a submodule (gitlink).
pub const MODE_GITLINK: u32 = 0o160000;

/// Errors in an index file.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file could not be read.
    #[error("cannot read the index: {0}")]
    Io(#[from] std::io::Error),
    /// The file is not a well-formed index.
    #[error("corrupt index: {0}")]
    Corrupt(&'static str),
}

/// What [`read`] found.
#[derive(Debug)]
pub enum Read {
    /// The index, ready to walk.
    Index(Index),
    /// A layout this reader leaves to gix (the reason is for diagnostics).
    Unsupported(&'static str),
}

/// One node of the cache-tree: a directory whose tree id the index already knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheTree {
    /// The directory's name (empty for the root).
    pub name: Vec<u8>,
    /// The tree id, or `None` when git invalidated the node.
    pub id: Option<ObjectId>,
    /// Subdirectories.
    pub children: Vec<CacheTree>,
}

impl CacheTree {
    /// gix's cache-tree in this shape (for indexes that gix decodes).
    pub fn from_gix(t: &gix::index::extension::Tree) -> Self {
        CacheTree {
            name: t.name.to_vec(),
            id: t.num_entries.map(|_| t.id),
            children: t.children.iter().map(CacheTree::from_gix).collect(),
        }
    }
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
    Empty,
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
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
    tree: Option<CacheTree>,
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
    parse(Bytes::Map(map), hash.len_in_bytes())
}

fn parse(data: Bytes, hash_len: usize) -> Result<Read, IndexError> {
    const HEADER: usize = 12;
    if data.len() < HEADER + hash_len || &data[..4] != b"DIRC" {
        return Err(IndexError::Corrupt("no index header"));
    }
    let version = be32(&data, 4)?;
    if !(2..=4).contains(&version) {
        return Ok(Read::Unsupported("index version"));
    }
    let count = be32(&data, 8)? as usize;
    let end = data.len() - hash_len; // the trailing checksum
    if data.len() > u32::MAX as usize {
        return Ok(Read::Unsupported("index larger than 4 GiB"));
    }
    // Each entry takes at least 62 bytes: refuse counts the file cannot hold before allocating.
    if count > end / 62 {
        return Err(IndexError::Corrupt("entry count larger than the file"));
    }
    let mut slots = Vec::with_capacity(count);
    let mut paths: Option<Vec<u8>> = (version == 4).then(Vec::new);
    let fixed = 40 + hash_len; // stat data and object id, before the flags
    let mut pos = HEADER;
    let mut extended = false;
    for _ in 0..count {
        let header = pos;
        let flags = be16(&data[..end], pos + fixed)?;
        let mut p = pos + fixed + 2;
        if flags & 0x4000 != 0 {
            if version < 3 {
                return Err(IndexError::Corrupt("extended flags in a version 2 index"));
            }
            extended = true;
            p += 2;
        }
        match &mut paths {
            None => {
                let len = nul(&data[..end], p)?;
                slots.push(Slot {
                    header: header as u32,
                    path: p as u32,
                    path_len: len as u32,
                });
                // Entries are padded with 1 to 8 NULs to a multiple of 8 bytes.
                pos = header + ((p - header + len + 8) & !7);
            }
            Some(buf) => {
                let (strip, n) = varint(&data[..end], p)?;
                p += n;
                let len = nul(&data[..end], p)?;
                let prev = slots.last().map_or(0..0, |s: &Slot| {
                    s.path as usize..(s.path + s.path_len) as usize
                });
                let keep = prev.len().checked_sub(strip).ok_or(IndexError::Corrupt(
                    "path prefix longer than the previous path",
                ))?;
                let start = buf.len();
                buf.extend_from_within(prev.start..prev.start + keep);
                buf.extend_from_slice(&data[p..p + len]);
                slots.push(Slot {
                    header: header as u32,
                    path: start as u32,
                    path_len: (keep + len) as u32,
                });
                pos = p + len + 1;
            }
        }
        if pos > end {
            return Err(IndexError::Corrupt("entry runs past the end"));
        }
    }
    let mut tree = None;
    while pos + 8 <= end {
        let sig = &data[pos..pos + 4];
        let size = be32(&data, pos + 4)? as usize;
        let body = data
            .get(pos + 8..pos + 8 + size)
            .filter(|_| pos + 8 + size <= end)
            .ok_or(IndexError::Corrupt("extension runs past the end"))?;
        match sig {
            b"TREE" => {
                let mut at = 0;
                tree = Some(tree_node(body, &mut at, hash_len, 0)?);
            }
            // Optional extensions start with an upper-case letter; the rest must be understood.
            [b'A'..=b'Z', ..] => {}
            b"link" => return Ok(Read::Unsupported("split index")),
            b"sdir" => return Ok(Read::Unsupported("sparse index")),
            _ => return Ok(Read::Unsupported("unknown mandatory index extension")),
        }
        pos += 8 + size;
    }
    if pos != end {
        return Err(IndexError::Corrupt("trailing bytes after the extensions"));
    }
    Ok(Read::Index(Index {
        data,
        slots,
        paths,
        hash_len,
        extended,
        tree,
    }))
}

fn tree_node(
    body: &[u8],
    at: &mut usize,
    hash_len: usize,
    depth: usize,
) -> Result<CacheTree, IndexError> {
    let bad = IndexError::Corrupt("malformed cache-tree");
    if depth > MAX_TREE_DEPTH {
        return Err(bad);
    }
    let name_len = nul(body, *at).map_err(|_| IndexError::Corrupt("malformed cache-tree"))?;
    let name = body[*at..*at + name_len].to_vec();
    *at += name_len + 1;
    let field = |at: &mut usize, end: u8| -> Result<i64, IndexError> {
        let rest = body
            .get(*at..)
            .ok_or(IndexError::Corrupt("malformed cache-tree"))?;
        let len = rest
            .iter()
            .position(|&b| b == end)
            .ok_or(IndexError::Corrupt("malformed cache-tree"))?;
        let n = std::str::from_utf8(&rest[..len])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(IndexError::Corrupt("malformed cache-tree"))?;
        *at += len + 1;
        Ok(n)
    };
    let entries = field(at, b' ')?;
    let subtrees = field(at, b'\n')?;
    let id = if entries >= 0 {
        let bytes = body.get(*at..*at + hash_len).ok_or(bad)?;
        *at += hash_len;
        Some(ObjectId::from_bytes_or_panic(bytes))
    } else {
        None
    };
    let children = (0..subtrees.max(0))
        .map(|_| tree_node(body, at, hash_len, depth + 1))
        .collect::<Result<_, _>>()?;
    Ok(CacheTree { name, id, children })
}

fn be32(data: &[u8], at: usize) -> Result<u32, IndexError> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(IndexError::Corrupt("truncated"))
}

fn be16(data: &[u8], at: usize) -> Result<u16, IndexError> {
    data.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(IndexError::Corrupt("truncated"))
}

/// Length of the NUL-terminated string at `at`.
fn nul(data: &[u8], at: usize) -> Result<usize, IndexError> {
    data.get(at..)
        .and_then(|rest| memchr::memchr(0, rest))
        .ok_or(IndexError::Corrupt("unterminated path"))
}

/// git's offset varint (used by index v4 for the number of bytes to strip).
fn varint(data: &[u8], at: usize) -> Result<(usize, usize), IndexError> {
    let mut i = at;
    let mut byte = *data.get(i).ok_or(IndexError::Corrupt("truncated"))?;
    let mut value = usize::from(byte & 0x7f);
    while byte & 0x80 != 0 {
        i += 1;
        byte = *data.get(i).ok_or(IndexError::Corrupt("truncated"))?;
        value = value
            .checked_add(1)
            .and_then(|v| v.checked_mul(128))
            .map(|v| v + usize::from(byte & 0x7f))
            .ok_or(IndexError::Corrupt("varint overflow"))?;
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

    /// The cache-tree, when the index has one.
    pub fn cache_tree(&self) -> Option<&CacheTree> {
        self.tree.as_ref()
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

    fn flags(&self, i: usize) -> u16 {
        let at = self.header(i) + 40 + self.hash_len;
        u16::from_be_bytes([self.data[at], self.data[at + 1]])
    }

    /// Merge stage of entry `i` (0 unless a merge conflict is recorded).
    pub fn stage(&self, i: usize) -> u16 {
        (self.flags(i) >> 12) & 3
    }

    /// Whether entry `i` was added with `git add -N` and has no content yet.
    pub fn intent_to_add(&self, i: usize) -> bool {
        if !self.extended || self.flags(i) & 0x4000 == 0 {
            return false;
        }
        let at = self.header(i) + 42 + self.hash_len;
        u16::from_be_bytes([self.data[at], self.data[at + 1]]) & 0x2000 != 0
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
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
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
        (a, b, lean.cache_tree().cloned(), gix_tree)
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
        std::os::unix::fs::symlink("a.txt", dir.join("link")).expect("symlink");
        git(dir, &["add", "."]);
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
}
