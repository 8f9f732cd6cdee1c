//! Tree entries read as git reads them (tree-walk.c's `decode_tree_entry`): the mode
//! canonicalised as git does (`canon_mode`), the order git sorts and merges them in.
//!
//! gix's tree reader takes a literal `140000` (and the zero-padded `040000`) for a directory;
//! git reads `140000` as a submodule. Listings must see a tree as git sees it: what git does
//! not check out as files is not content, and what it does is.

use crate::git::GitError;
use crate::source::SourceError;
use gix::ObjectId;
use std::cmp::Ordering;

/// One entry of a tree as git reads it (tree-walk.c's `decode_tree_entry`).
#[derive(Clone, Copy)]
pub(super) struct Entry<'d> {
    /// The mode as git canonicalises it (`canon_mode`): a regular file's is 100644 or 100755,
    /// and what is neither a file, a symlink nor a directory is a submodule. (gix reads a
    /// literal `140000` as a directory; git reads it as a submodule, and so must the diff.)
    pub(crate) mode: u32,
    pub(crate) filename: &'d [u8],
    pub(crate) oid: &'d gix::oid,
}

pub(super) const S_IFMT: u32 = 0o170000;
pub(super) const S_IFREG: u32 = 0o100000;
pub(super) const S_IFLNK: u32 = 0o120000;
pub(super) const S_IFDIR: u32 = 0o040000;
pub(super) const S_IFGITLINK: u32 = 0o160000;

/// git's `canon_mode`.
pub(super) fn canon_mode(mode: u32) -> u32 {
    match mode & S_IFMT {
        S_IFREG if mode & 0o100 != 0 => S_IFREG | 0o755,
        S_IFREG => S_IFREG | 0o644,
        S_IFLNK => S_IFLNK,
        S_IFDIR => S_IFDIR,
        _ => S_IFGITLINK,
    }
}

/// How deep trees may nest: git's `core.maxTreeDepth` default. A listing refuses deeper
/// trees (a hostile push's or repository's) with an error rather than exhaust its stack.
pub(super) const MAX_TREE_DEPTH: usize = 2048;

/// The entries of a tree (none for an absent one), parsed one by one.
pub(super) struct Entries<'d> {
    id: Option<ObjectId>,
    data: &'d [u8],
    hash_len: usize,
}

impl<'d> Entries<'d> {
    /// The entries of tree `id`, whose bytes are `data` (none: an absent tree).
    pub(crate) fn new(id: Option<ObjectId>, data: &'d [u8], hash: gix::hash::Kind) -> Self {
        Entries {
            id,
            data,
            hash_len: hash.len_in_bytes(),
        }
    }

    /// The next entry, `<octal mode> <name>NUL<id>`, parsed as git parses it.
    pub(crate) fn next(&mut self) -> Result<Option<Entry<'d>>, SourceError> {
        let data = self.data;
        if data.is_empty() {
            return Ok(None);
        }
        let id = self.id;
        let malformed = |what: &str| {
            let id = id.map(|id| id.to_string()).unwrap_or_default();
            SourceError::from(GitError::read(
                format!("tree {id}"),
                std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned()),
            ))
        };
        let space = data.iter().position(|&b| b == b' ');
        let space = space.ok_or_else(|| malformed("a truncated entry"))?;
        let mut mode: u32 = 0;
        for &digit in &data[..space] {
            if !(b'0'..=b'7').contains(&digit) {
                return Err(malformed("a malformed mode"));
            }
            mode = mode
                .checked_mul(8)
                .map(|m| m | u32::from(digit - b'0'))
                .ok_or_else(|| malformed("a malformed mode"))?;
        }
        let rest = &data[space + 1..];
        let nul = rest.iter().position(|&b| b == 0);
        let nul = nul.ok_or_else(|| malformed("a truncated entry"))?;
        let end = nul + 1 + self.hash_len;
        if space == 0 || nul == 0 || rest.len() < end {
            return Err(malformed("a malformed entry"));
        }
        self.data = &rest[end..];
        Ok(Some(Entry {
            mode: canon_mode(mode),
            filename: &rest[..nul],
            oid: gix::oid::from_bytes_unchecked(&rest[nul + 1..end]),
        }))
    }
}

/// git's order of tree entries (read-cache.c's `base_name_compare`): by name, a tree's name
/// as if it ended in `/`. A file and a directory of one name are two entries.
pub(super) fn base_name_compare(a: &Entry<'_>, b: &Entry<'_>) -> Ordering {
    let (x, y) = (a.filename, b.filename);
    let len = x.len().min(y.len());
    x[..len].cmp(&y[..len]).then_with(|| {
        let end = |name: &[u8], e: &Entry<'_>| {
            name.get(len)
                .copied()
                .unwrap_or(if e.mode == S_IFDIR { b'/' } else { 0 })
        };
        end(x, a).cmp(&end(y, b))
    })
}

impl Entry<'_> {
    /// A directory.
    pub(crate) fn is_tree(&self) -> bool {
        self.mode == S_IFDIR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tree bytes from `(mode, name, id)` entries.
    fn tree(entries: &[(&str, &str, ObjectId)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for (mode, name, id) in entries {
            bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            bytes.extend_from_slice(id.as_bytes());
        }
        bytes
    }

    #[test]
    fn modes_are_read_as_git_canonicalises_them() {
        let id = ObjectId::null(gix::hash::Kind::Sha1);
        let data = tree(&[
            ("100644", "a", id),
            ("100664", "b", id),
            ("100755", "c", id),
            ("120000", "d", id),
            ("160000", "e", id),
            ("40000", "f", id),
            ("040000", "g", id),
            ("140000", "h", id),
        ]);
        let mut entries = Entries::new(None, &data, gix::hash::Kind::Sha1);
        let mut modes = Vec::new();
        while let Some(e) = entries.next().expect("well formed") {
            modes.push((
                e.filename.to_vec(),
                e.mode,
                e.mode & S_IFMT == S_IFREG,
                e.is_tree(),
            ));
        }
        let expected: Vec<(Vec<u8>, u32, bool, bool)> = [
            ("a", 0o100644, true, false),
            ("b", 0o100644, true, false),
            ("c", 0o100755, true, false),
            ("d", 0o120000, false, false),
            ("e", 0o160000, false, false),
            ("f", 0o040000, false, true),
            ("g", 0o040000, false, true),
            // A socket's mode: a submodule to git, a directory to gix.
            ("h", 0o160000, false, false),
        ]
        .iter()
        .map(|&(n, m, f, t)| (n.as_bytes().to_vec(), m, f, t))
        .collect();
        assert_eq!(modes, expected);
        for bad in [
            &b"10064x a\0"[..],
            b"100644 a",
            b" a\0",
            b"100644 \0",
            b"77777777777777 a\0",
        ] {
            let mut data = bad.to_vec();
            if data.ends_with(b"\0") {
                data.extend_from_slice(id.as_bytes());
            }
            let mut entries = Entries::new(None, &data, gix::hash::Kind::Sha1);
            assert!(entries.next().is_err(), "{bad:?}");
        }
        let mut short = tree(&[("100644", "a", id)]);
        short.pop();
        assert!(Entries::new(None, &short, gix::hash::Kind::Sha1)
            .next()
            .is_err());
    }

    /// `scan --range A..B` where `A` holds a tree under a `140000` entry (a submodule to git)
    /// and `B` turns it into a directory: the files under it are new, as git sees them.
    #[test]
    fn a_range_lists_what_a_submodule_mode_hid_in_its_base() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let stamp = "1700000000 +0000";
        let env = [("GIT_AUTHOR_DATE", stamp), ("GIT_COMMITTER_DATE", stamp)];
        let git = |args: &[&str]| crate::git::test_git(d, args, &env);
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(d.join("secret.txt"), "TOKEN\n").expect("write");
        let blob = git(&["hash-object", "-w", "secret.txt"]);
        let raw = |id: &str| ObjectId::from_hex(id.as_bytes()).expect("id");
        let write_tree = |entries: &[(&str, &str, ObjectId)]| {
            std::fs::write(d.join("tree.bin"), tree(entries)).expect("write");
            raw(&git(&[
                "hash-object",
                "-t",
                "tree",
                "-w",
                "--literally",
                "tree.bin",
            ]))
        };
        let inner = write_tree(&[("100644", "secret.txt", raw(&blob))]);
        let base = write_tree(&[("140000", "x", inner)]);
        let next = write_tree(&[("40000", "x", inner)]);
        let a = git(&["commit-tree", "-m", "a", &base.to_string()]);
        let b = git(&["commit-tree", "-m", "b", "-p", &a, &next.to_string()]);
        let repo = crate::git::open_in(d).expect("repository");
        let range = crate::model::Selection::Range(format!("{a}..{b}"));
        let listing = super::super::list_gix(&repo, None, &range).expect("listing");
        let paths: Vec<&[u8]> = listing
            .items
            .iter()
            .filter(|i| i.place.at_path())
            .map(|i| i.path.as_slice())
            .collect();
        assert_eq!(paths, [&b"x/secret.txt"[..]]);
    }
}
