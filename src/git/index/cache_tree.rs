//! The cache-tree (`TREE` extension), read once into a flat table of offsets and looked at
//! only where the walk asks.
//!
//! A commit changes a handful of directories; the extension lists every directory of the
//! repository. Parsing it into a tree of owned nodes cost more than all the rest of the hook on
//! a 100,000-file repository of 20,000 directories (40 million instructions to build it, 18
//! million to free it). Here the extension is checked from end to end in one pass, as git
//! reads it — git drops the whole cache-tree when any node is malformed, and then writes every
//! tree from the entries, so a malformed node anywhere must be refused, not skipped — but what
//! the pass keeps is one 16-byte [`Node`] per directory in one vector: where its name and id
//! are in the file, and which node follows its subtree. A node's children are then found by
//! jumping from one to the next over their subtrees, and only the nodes the walk visits have
//! their names compared.

use super::{corrupt, IndexError, MAX_TREE_DEPTH};
use gix::hash::ObjectId;

/// One node of the cache-tree: a directory whose tree id the index already knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheTree {
    /// The directory's name (empty for the root).
    pub(crate) name: Vec<u8>,
    /// The tree id, or `None` when git invalidated the node.
    pub(crate) id: Option<ObjectId>,
    /// Subdirectories, by name.
    pub(crate) children: Vec<CacheTree>,
}

impl CacheTree {
    /// gix's cache-tree in this shape (for indexes that gix decodes).
    pub(crate) fn from_gix(t: &gix::index::extension::Tree) -> Self {
        CacheTree {
            name: t.name.to_vec(),
            id: t.num_entries.map(|_| t.id),
            children: t.children.iter().map(CacheTree::from_gix).collect(),
        }
    }
}

/// One directory of the cache-tree, as offsets into the index file.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    /// Where its name starts in the file.
    name: u32,
    name_len: u32,
    /// Where its tree id starts in the file; 0 when git invalidated the node (no id can be at
    /// offset 0: the index header is there).
    id: u32,
    /// The number of the first node after this one's subtree (nodes are numbered in the
    /// order of the file: a node, then its subtrees, depth first).
    next: u32,
}

/// The orders in which writers list a node's subtrees, any of which proves they have distinct
/// names: git's (`subtree_name_cmp`: shorter names first, then bytes), gix's (by bytes) and
/// tree order (by bytes, as if each ended in `/`: libgit2's and JGit's).
const ORDERS: [Order; 3] = [
    |a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
    |a, b| a.cmp(b),
    tree_cmp,
];

/// An order of names.
type Order = fn(&[u8], &[u8]) -> std::cmp::Ordering;

/// A node whose subtrees are still being read.
struct Open {
    node: u32,
    left: u32,
    /// The last subtree read under it: its name's offset and length.
    last: Option<(u32, u32)>,
    /// Which of [`ORDERS`] its subtrees have kept so far (the first that holds; each
    /// sibling is compared in that one only, and the others are tried on all the siblings
    /// when it breaks).
    order: usize,
}

/// Checks a cache-tree (`body`, the extension's bytes, at offset `base` of `data`) as git's
/// `read_one` reads it, refusing every form git would read another way or not at all: a root
/// with a name, counts that are not plain decimal `int`s, a negative subtree count, bytes
/// after the root's subtrees, subtrees in no order a writer uses (which is how two subtrees
/// of one name are refused: git keeps the last, gix one of them). Returns its nodes.
pub(super) fn parse(
    data: &[u8],
    base: usize,
    len: usize,
    hash_len: usize,
) -> Result<Vec<Node>, IndexError> {
    let bad = || corrupt("malformed cache-tree");
    let body = data.get(base..base + len).ok_or_else(bad)?;
    // A node takes at least 6 bytes (`\0-1 0\n`); most take a name and an id more. Sized
    // for that, the vector grows at most a few times.
    let mut nodes: Vec<Node> = Vec::with_capacity(body.len() / (8 + hash_len) + 1);
    let mut open: Vec<Open> = Vec::new();
    let mut at = 0usize;
    loop {
        // Names are a few bytes: a loop costs less than a call to `memchr`.
        let name_len = body
            .get(at..)
            .and_then(|rest| rest.iter().position(|&b| b == 0))
            .ok_or_else(bad)?;
        let name = at;
        at += name_len + 1;
        let entries = number(body, &mut at, b' ').ok_or_else(bad)?;
        let subtrees = number(body, &mut at, b'\n').ok_or_else(bad)?;
        if subtrees < 0 {
            return Err(bad());
        }
        let id = if entries >= 0 {
            let id = at;
            at += hash_len;
            if at > body.len() {
                return Err(bad());
            }
            (base + id) as u32
        } else {
            0
        };
        let n = nodes.len() as u32;
        nodes.push(Node {
            name: (base + name) as u32,
            name_len: name_len as u32,
            id,
            next: n + 1,
        });
        match open.last_mut() {
            None if name_len != 0 => return Err(corrupt("a cache-tree whose root has a name")),
            None => {}
            Some(parent) => {
                if let Some((last, last_len)) = parent.last {
                    let last = &data[last as usize..(last + last_len) as usize];
                    let this = &body[name..name + name_len];
                    if !ORDERS[parent.order](last, this).is_lt() {
                        parent.order = other_order(data, &nodes, parent.node, parent.order)
                            .ok_or_else(|| {
                                corrupt(
                                    "a cache-tree whose subtrees repeat a name or are in no \
                                     order git writes",
                                )
                            })?;
                    }
                }
                parent.last = Some(((base + name) as u32, name_len as u32));
                parent.left -= 1;
            }
        }
        if subtrees > 0 {
            if open.len() >= MAX_TREE_DEPTH {
                return Err(bad());
            }
            open.push(Open {
                node: n,
                left: subtrees as u32,
                last: None,
                order: 0,
            });
        }
        // Close every node whose last subtree was just read.
        while let Some(top) = open.last() {
            if top.left > 0 {
                break;
            }
            nodes[top.node as usize].next = nodes.len() as u32;
            open.pop();
        }
        if open.is_empty() {
            break;
        }
    }
    // git ignores bytes after the root's last subtree, gix drops the whole cache-tree.
    if at != body.len() {
        return Err(corrupt("bytes after the cache-tree"));
    }
    Ok(nodes)
}

/// The first of [`ORDERS`] after `broken` in which all the subtrees of node `parent` read so
/// far (the last one included) are strictly increasing. (Every writer keeps one order, so
/// this runs at most twice per node, and only for nodes not written by git.)
fn other_order(data: &[u8], nodes: &[Node], parent: u32, broken: usize) -> Option<usize> {
    let name = |n: usize| {
        let node = nodes[n];
        &data[node.name as usize..(node.name + node.name_len) as usize]
    };
    (broken + 1..ORDERS.len()).find(|&order| {
        let mut at = parent as usize + 1;
        let mut last: Option<&[u8]> = None;
        while at < nodes.len() {
            if let Some(last) = last {
                if !ORDERS[order](last, name(at)).is_lt() {
                    return false;
                }
            }
            last = Some(name(at));
            // Earlier subtrees are closed, their `next` known; the one just read is the
            // last node, whose `next` ends the loop.
            at = nodes[at].next as usize;
        }
        true
    })
}

/// Tree order: `a` and `b` compared as if each ended in `/`.
fn tree_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let x = a.get(common).copied().unwrap_or(b'/');
    let y = b.get(common).copied().unwrap_or(b'/');
    // Equal there: one of them ended (its `/`), and the shorter sorts first.
    x.cmp(&y).then(a.len().cmp(&b.len()))
}

/// A count as git writes it (`%d`: no sign but `-`, no leading zero, no `-0`) that fits a C
/// int, ended by `end`: what strtol, git's int and gix all read alike.
fn number(body: &[u8], at: &mut usize, end: u8) -> Option<i32> {
    let negative = body.get(*at) == Some(&b'-');
    let start = *at + usize::from(negative);
    let mut i = start;
    let mut value: i64 = 0;
    while let Some(&b) = body.get(i) {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        // Ten digits hold every int; an eleventh is past one.
        if i - start == 10 {
            return None;
        }
        value = value * 10 + i64::from(digit);
        i += 1;
    }
    let len = i - start;
    // Ended by `end`, not by the bytes running out; no leading zero; no `-0`.
    if body.get(i) != Some(&end) || len == 0 || (body[start] == b'0' && (len > 1 || negative)) {
        return None;
    }
    let value = i32::try_from(if negative { -value } else { value }).ok()?;
    *at = i + 1;
    Some(value)
}

/// A node of the cache-tree, read from the file when asked.
#[derive(Clone, Copy)]
pub(crate) struct TreeRef<'a> {
    data: &'a [u8],
    nodes: &'a [Node],
    n: usize,
    hash_len: usize,
}

impl<'a> TreeRef<'a> {
    /// The root, when there are nodes.
    pub(super) fn root(data: &'a [u8], nodes: &'a [Node], hash_len: usize) -> Option<Self> {
        (!nodes.is_empty()).then_some(TreeRef {
            data,
            nodes,
            n: 0,
            hash_len,
        })
    }

    /// The directory's name (empty for the root).
    pub(crate) fn name(self) -> &'a [u8] {
        let node = self.nodes[self.n];
        &self.data[node.name as usize..(node.name + node.name_len) as usize]
    }

    /// The tree id, or `None` when git invalidated the node.
    pub(crate) fn id(self) -> Option<ObjectId> {
        let at = self.nodes[self.n].id as usize;
        (at != 0).then(|| ObjectId::from_bytes_or_panic(&self.data[at..at + self.hash_len]))
    }

    /// The subdirectories, in the file's order: each found by jumping over the subtree of the
    /// one before.
    pub(crate) fn children(self) -> impl Iterator<Item = TreeRef<'a>> {
        let end = self.nodes[self.n].next as usize;
        let mut at = self.n + 1;
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let child = TreeRef { n: at, ..self };
            at = self.nodes[at].next as usize;
            Some(child)
        })
    }

    /// The whole subtree as owned nodes, children by name (as gix holds them): for tests and
    /// the differential fuzz target.
    pub(crate) fn to_owned_tree(self) -> CacheTree {
        let mut children: Vec<CacheTree> = self.children().map(TreeRef::to_owned_tree).collect();
        children.sort_by(|a, b| a.name.cmp(&b.name));
        CacheTree {
            name: self.name().to_vec(),
            id: self.id(),
            children,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{read, read_bytes, Read};
    use super::*;

    /// splitmix64, so that a failing case can be replayed from its seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// How many random cases a differential test runs: `default` unless the variable `var`
    /// (`KEYWARD_DIFF_CASES` for random trees, `KEYWARD_DIFF_REPOS` for git repositories)
    /// asks for more.
    fn cases(var: &str, default: usize) -> usize {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// A random cache-tree: names that sort differently in git's, gix's and tree order
    /// (`a`, `a-b`, `a.b`, `ab`), some nodes invalidated.
    fn random_tree(rng: &mut Rng, depth: usize) -> CacheTree {
        const PARTS: [&str; 6] = ["a", "b", "-", ".", "zz", "a0"];
        let mut children: Vec<CacheTree> = Vec::new();
        let fanout = if depth >= 4 { 0 } else { rng.below(6) };
        for _ in 0..fanout {
            let mut name = Vec::new();
            for _ in 0..1 + rng.below(3) {
                name.extend_from_slice(PARTS[rng.below(PARTS.len())].as_bytes());
            }
            if children.iter().any(|c| c.name == name) {
                continue;
            }
            let mut child = random_tree(rng, depth + 1);
            child.name = name;
            children.push(child);
        }
        let id = (rng.below(4) != 0).then(|| {
            let mut bytes = [0u8; 20];
            for b in &mut bytes {
                *b = rng.next() as u8;
            }
            ObjectId::from_bytes_or_panic(&bytes)
        });
        CacheTree {
            name: Vec::new(),
            id,
            children,
        }
    }

    /// The extension's bytes, subtrees in `order` (0: git's, 1: by bytes, 2: tree order).
    fn encode(tree: &CacheTree, order: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&tree.name);
        out.push(0);
        let count = if tree.id.is_some() { "3" } else { "-1" };
        out.extend_from_slice(format!("{count} {}\n", tree.children.len()).as_bytes());
        if let Some(id) = tree.id {
            out.extend_from_slice(id.as_bytes());
        }
        let mut kids: Vec<&CacheTree> = tree.children.iter().collect();
        match order {
            0 => kids.sort_by(|a, b| (a.name.len(), &a.name).cmp(&(b.name.len(), &b.name))),
            1 => kids.sort_by(|a, b| a.name.cmp(&b.name)),
            _ => kids.sort_by(|a, b| a.name.iter().chain(b"/").cmp(b.name.iter().chain(b"/"))),
        }
        for kid in kids {
            encode(kid, order, out);
        }
    }

    /// An index of no entries with `tree` as its cache-tree extension.
    fn index_with(tree: &[u8]) -> Vec<u8> {
        let mut d = b"DIRC\0\0\0\x02\0\0\0\0TREE".to_vec();
        d.extend_from_slice(&(tree.len() as u32).to_be_bytes());
        d.extend_from_slice(tree);
        d.extend_from_slice(&[0; 20]);
        d
    }

    /// gix's reading of the cache-tree of `bytes` (an index file), if it reads one.
    fn gix_tree(bytes: &[u8]) -> Option<CacheTree> {
        let hash = gix::hash::Kind::Sha1;
        let timestamp = gix::index::State::new(hash).timestamp();
        let options = gix::index::decode::Options::default();
        let (state, _) = gix::index::State::from_bytes(bytes, timestamp, hash, options).ok()?;
        state.tree().map(CacheTree::from_gix)
    }

    /// The node at `path` (names from the root), found as the walk finds it: one child by
    /// name at each level, never looking below the nodes on the path.
    fn lazy_at<'a>(root: TreeRef<'a>, path: &[Vec<u8>]) -> Option<TreeRef<'a>> {
        let mut node = root;
        for name in path {
            node = node.children().find(|c| c.name() == name.as_slice())?;
        }
        Some(node)
    }

    fn full_at<'a>(root: &'a CacheTree, path: &[Vec<u8>]) -> Option<&'a CacheTree> {
        let mut node = root;
        for name in path {
            node = node.children.iter().find(|c| &c.name == name)?;
        }
        Some(node)
    }

    /// Every path of a node in `tree`, and each with a name that is not there appended.
    fn paths(tree: &CacheTree, prefix: &mut Vec<Vec<u8>>, out: &mut Vec<Vec<Vec<u8>>>) {
        out.push(prefix.clone());
        prefix.push(b"missing".to_vec());
        out.push(prefix.clone());
        prefix.pop();
        for c in &tree.children {
            prefix.push(c.name.clone());
            paths(c, prefix, out);
            prefix.pop();
        }
    }

    /// Checks that the lazy view of the index `bytes` finds, on every path, the node a full
    /// parse (gix's) finds there.
    fn agrees(bytes: Vec<u8>, tree: &CacheTree, what: &str) {
        let full = gix_tree(&bytes).expect("gix reads it");
        let Ok(Read::Index(index)) = read_bytes(bytes, gix::hash::Kind::Sha1) else {
            panic!("{what}: the lean reader refused a cache-tree git wrote")
        };
        let root = index.cache_root().expect("a cache-tree");
        let mut all = Vec::new();
        paths(tree, &mut Vec::new(), &mut all);
        for path in &all {
            let lazy = lazy_at(root, path);
            let full = full_at(&full, path);
            assert_eq!(lazy.is_some(), full.is_some(), "{what}: {path:?}");
            if let (Some(lazy), Some(full)) = (lazy, full) {
                assert_eq!(lazy.id(), full.id, "{what}: {path:?}");
                assert_eq!(lazy.name(), full.name.as_slice(), "{what}: {path:?}");
                assert_eq!(lazy.children().count(), full.children.len(), "{what}");
            }
        }
        assert_eq!(index.cache_tree(), Some(full), "{what}");
    }

    #[test]
    fn counts_and_orders_are_read_as_git_reads_them() {
        for (text, want) in [
            (&b"0 "[..], Some(0)),
            (b"-1 ", Some(-1)),
            (b"2147483647 ", Some(i32::MAX)),
            (b"-2147483648 ", Some(i32::MIN)),
            (b"2147483648 ", None),
            (b"12345678901 ", None),
            (b"-0 ", None),
            (b"01 ", None),
            (b"- ", None),
            (b" ", None),
            (b"1", None),
            (b"1x ", None),
        ] {
            assert_eq!(number(text, &mut 0, b' '), want, "{text:?}");
        }
        let names: [&[u8]; 7] = [b"", b"a", b"a-b", b"a.b", b"a/", b"ab", b"a0"];
        for a in names {
            for b in names {
                let slow = a.iter().chain(b"/").cmp(b.iter().chain(b"/"));
                assert_eq!(tree_cmp(a, b), slow, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn nodes_found_on_a_path_are_those_of_a_full_parse() {
        for seed in 0..cases("KEYWARD_DIFF_CASES", 300) as u64 {
            let mut rng = Rng(seed);
            let tree = random_tree(&mut rng, 0);
            let order = rng.below(3);
            let mut body = Vec::new();
            encode(&tree, order, &mut body);
            agrees(
                index_with(&body),
                &tree,
                &format!("seed {seed}, order {order}"),
            );
            // Damaged: a byte changed or the extension cut short. What the lean reader
            // still reads, gix reads the same.
            let mut damaged = body.clone();
            let at = rng.below(damaged.len());
            if rng.below(2) == 0 {
                damaged[at] = b"\0 -\n019a/"[rng.below(9)];
            } else {
                damaged.truncate(at);
            }
            let bytes = index_with(&damaged);
            if let Ok(Read::Index(index)) = read_bytes(bytes.clone(), gix::hash::Kind::Sha1) {
                let lean = index.cache_tree();
                assert_eq!(lean, gix_tree(&bytes), "damaged, seed {seed}");
            }
        }
    }

    #[test]
    fn nodes_git_writes_are_found_as_a_full_parse_finds_them() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for seed in 0..cases("KEYWARD_DIFF_REPOS", 3) as u64 {
            let dir = tmp.path().join(format!("r{seed}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            let git = |args: &[&str]| crate::git::test_git(&dir, args, &[]);
            git(&["init", "-q", "."]);
            let mut rng = Rng(1000 + seed);
            const NAMES: [&str; 7] = ["a", "a-b", "a.b", "ab", "src", "x0", "lib"];
            for n in 0..60 {
                let mut path = std::path::PathBuf::new();
                for _ in 0..rng.below(4) {
                    path.push(NAMES[rng.below(NAMES.len())]);
                }
                path.push(format!("f{n}"));
                let path = dir.join(path);
                // A file where a directory of that name already is, or under a file: skip.
                if std::fs::create_dir_all(path.parent().expect("parent")).is_err() || path.is_dir()
                {
                    continue;
                }
                std::fs::write(&path, format!("{n}")).expect("write");
            }
            git(&["add", "."]);
            git(&["commit", "-qm", "one"]);
            // Invalidate a few directories, as staging an edit does.
            std::fs::write(dir.join("f-new"), "new").expect("write");
            git(&["add", "f-new"]);
            for version in ["2", "4"] {
                git(&["update-index", "--index-version", version]);
                let path = dir.join(".git/index");
                let bytes = std::fs::read(&path).expect("index");
                let full = gix_tree(&bytes).expect("a cache-tree");
                agrees(bytes, &full, &format!("git repository {seed}, v{version}"));
                let Ok(Read::Index(index)) = read(&path, gix::hash::Kind::Sha1) else {
                    panic!("reads")
                };
                assert!(index.cache_root().is_some());
            }
        }
    }
}
