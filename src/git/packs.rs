//! Reading the blobs of a history scan straight from the pack files, along their delta chains.
//!
//! Read one by one, every version of a file is rebuilt from its chain of deltas, again and
//! again: that costs more than scanning it, and more than `git log -p` spends. Walked as the
//! trees the deltas form, each object is built once from its base, which stays in memory while
//! the objects built on it are visited. The delta also says what a version adds to its base:
//! the lines it inserts or splices are the only ones that can hold something the base did not,
//! so a scan can look at those alone.
//!
//! Objects outside the packs (loose objects, alternates, bases missing from a thin pack) and
//! versions above the size cap are left to the one-by-one reader.

use gix::odb::pack;
use gix::ObjectId;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;

/// Errors reading pack files.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// A pack or its index could not be opened or read.
    #[error("cannot read pack {path}: {message}")]
    Read {
        /// The pack file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A delta does not fit its base, or chains loop.
    #[error("corrupt pack {path}: {message}")]
    Corrupt {
        /// The pack file.
        path: String,
        /// What went wrong.
        message: &'static str,
    },
}

/// Memory for the objects a thread keeps while it walks down a delta chain.
const CHAIN_BYTES: usize = 256 << 20;

/// Longer chains than git ever writes (its maximum depth is 4095) mean a loop in a corrupt pack.
const MAX_CHAIN: usize = 10_000;

/// The pack files of a repository's object directory, opened (mapped) once.
pub struct Packs {
    list: Vec<Pack>,
}

struct Pack {
    index: pack::index::File,
    data: pack::data::File,
}

impl Packs {
    /// Opens every pack (with its index) in the repository's object directory.
    pub fn open(repo: &gix::Repository) -> Result<Packs, PackError> {
        let dir = repo.objects.store_ref().path().join("pack");
        let hash = repo.object_hash();
        let entries: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        let mut indexes: Vec<_> = entries
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        indexes.sort();
        let mut list = Vec::new();
        for idx in indexes {
            let data_path = idx.with_extension("pack");
            if !data_path.exists() {
                continue;
            }
            list.push(Pack {
                index: pack::index::File::at(&idx, hash).map_err(|e| read_err(&idx, e))?,
                data: pack::data::File::at(&data_path, hash)
                    .map_err(|e| read_err(&data_path, e))?,
            });
        }
        Ok(Packs { list })
    }

    /// The pack holding `id` and the object's offset in it.
    fn locate(&self, id: &gix::oid) -> Option<(usize, u64)> {
        self.list.iter().enumerate().find_map(|(p, pack)| {
            let entry = pack.index.lookup(id)?;
            Some((p, pack.index.pack_offset_at_index(entry)))
        })
    }
}

/// The blobs to read, arranged as the delta trees of the packs that hold them.
pub struct Plan {
    packs: Packs,
    /// By pack, as in [`Packs`].
    chains: Vec<Chains>,
    /// Indexes of the blobs no pack here can build: read them one by one.
    pub rest: Vec<usize>,
}

/// The plan for the blobs a history walk listed, when walking the packs pays: the packs
/// hold most of them, and mostly as deltas between versions of the same file (see
/// [`Plan::share_built_from_same_path`]). `None` otherwise, and on any error reading the
/// packs: the one-by-one reader then does the work, and reports what it cannot read.
pub fn plan(packs: Packs, items: &[crate::model::Item]) -> Option<Plan> {
    let blobs: Vec<ObjectId> = items
        .iter()
        .map(|i| match i.content {
            crate::model::Content::Blob(id) => Some(id),
            crate::model::Content::File(..) => None,
        })
        .collect::<Option<_>>()?;
    let plan = Plan::new(packs, &blobs).ok()?;
    let share = plan.share_built_from_same_path(|i| items[i].path.as_slice());
    (share >= 0.5).then_some(plan)
}

/// One pack's delta trees, cut down to the blobs wanted and the bases they are built from.
#[derive(Default)]
struct Chains {
    nodes: Vec<Node>,
    roots: Vec<usize>,
    by_offset: HashMap<u64, usize>,
}

struct Node {
    offset: u64,
    children: Vec<usize>,
    /// The blob's index in the caller's list, when it is one of the wanted blobs.
    item: Option<usize>,
}

/// What [`Plan::walk`] calls for each object: the object, and what the call for its base
/// returned.
pub type Visit<'v, S, E> = dyn for<'a, 'b> FnMut(Version<'a>, Option<&'b S>) -> Result<S, E> + 'v;

/// An object and its kind, as the [`Reader`] shares it.
pub type Object = (gix::objs::Kind, Rc<Vec<u8>>);

/// One object built from the packs, as [`Plan::walk`] shows it.
pub struct Version<'a> {
    /// The wanted blob's index in the caller's list; `None` for a base it is built from.
    pub item: Option<usize>,
    /// The object's content.
    pub data: &'a [u8],
    /// For an object built from a delta, the byte ranges of `data` that are not whole lines
    /// of its base: the inserted bytes and the first and last bytes of every copied run. A
    /// line that touches none of them is, with its line breaks, a line of the base.
    pub changed: Option<&'a [Range<usize>]>,
}

impl Plan {
    /// Arranges `blobs` (found in `packs`) along their delta chains.
    pub fn new(packs: Packs, blobs: &[ObjectId]) -> Result<Plan, PackError> {
        let mut chains: Vec<Chains> = packs.list.iter().map(|_| Chains::default()).collect();
        let mut rest = Vec::new();
        for (item, blob) in blobs.iter().enumerate() {
            let placed = match packs.locate(blob.as_ref()) {
                Some((p, offset)) => chains[p].add(&packs.list[p], offset, item)?,
                None => false,
            };
            if !placed {
                rest.push(item);
            }
        }
        Ok(Plan {
            packs,
            chains,
            rest,
        })
    }

    /// The number of wanted blobs the packs will build.
    pub fn len(&self) -> usize {
        self.chains
            .iter()
            .map(|c| c.nodes.iter().filter(|n| n.item.is_some()).count())
            .sum()
    }

    /// The share of the wanted blobs built from another version at the same path (by
    /// `path`, for a wanted blob's index): where git chose its deltas between versions of a
    /// file, as it does when it packs, a delta holds about what a patch would. Packs written
    /// by `git fast-import` keep deltas between unrelated blobs, and then a version's delta
    /// says little about what it changed.
    pub fn share_built_from_same_path<'a>(&self, path: impl Fn(usize) -> &'a [u8]) -> f64 {
        let (mut wanted, mut same) = (0usize, 0usize);
        for chains in &self.chains {
            for node in &chains.nodes {
                for &child in &node.children {
                    if let (Some(a), Some(b)) = (node.item, chains.nodes[child].item) {
                        same += usize::from(path(a) == path(b));
                    }
                }
                wanted += usize::from(node.item.is_some());
            }
        }
        same as f64 / wanted.max(1) as f64
    }

    /// Whether the packs build none of the wanted blobs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The delta trees to walk, one job each: any thread may walk any of them (see
    /// [`Plan::walk`]).
    pub fn jobs(&self) -> Vec<Job> {
        self.chains
            .iter()
            .enumerate()
            .flat_map(|(p, c)| c.roots.iter().map(move |&r| Job { pack: p, root: r }))
            .collect()
    }

    /// Builds the wanted blobs of one delta tree and the bases on the way: `visit` sees an
    /// object after its base, and gets back what it returned for the base (`S`). Blobs
    /// larger than `cap` are not built; their indexes (and those of the blobs built on them)
    /// are added to `skipped`, for the one-by-one reader. `inflate` is the caller's (one per
    /// thread).
    pub fn walk<S, E: From<PackError>>(
        &self,
        job: Job,
        cap: u64,
        inflate: &mut gix::zlib::Inflate,
        visit: &mut Visit<'_, S, E>,
        skipped: &mut Vec<usize>,
    ) -> Result<(), E> {
        self.chains[job.pack].tree(
            &self.packs.list[job.pack],
            job.root,
            cap,
            inflate,
            visit,
            skipped,
        )
    }
}

/// One delta tree of a [`Plan`].
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pack: usize,
    root: usize,
}

/// A visited object kept while the objects built on it are visited.
struct Frame<S> {
    node: usize,
    data: Vec<u8>,
    state: S,
    next_child: usize,
}

impl Chains {
    /// Adds the blob at `offset` and the chain of bases it is built from; `false` when a base
    /// is outside this pack (a thin pack's): the blob is then read one by one.
    fn add(&mut self, pack: &Pack, offset: u64, item: usize) -> Result<bool, PackError> {
        let mut chain = Vec::new();
        let mut at = offset;
        let mut attach = None;
        loop {
            if let Some(&known) = self.by_offset.get(&at) {
                attach = Some(known);
                break;
            }
            if chain.len() > MAX_CHAIN {
                return Err(pack.corrupt("a delta chain loops"));
            }
            let entry = pack.entry(at)?;
            chain.push(at);
            at = match pack.link(&entry)? {
                Link::Whole(gix::objs::Kind::Blob) => break,
                Link::Delta(base) => base,
                Link::Outside => return Ok(false),
                // A blob is never built from a tree, commit or tag.
                Link::Whole(_) => return Err(pack.corrupt("a blob's delta base is not a blob")),
            };
        }
        let mut parent = attach;
        for &at in chain.iter().rev() {
            let id = self.nodes.len();
            self.nodes.push(Node {
                offset: at,
                children: Vec::new(),
                item: None,
            });
            match parent {
                Some(p) => self.nodes[p].children.push(id),
                None => self.roots.push(id),
            }
            self.by_offset.insert(at, id);
            parent = Some(id);
        }
        let node = self.by_offset[&offset];
        self.nodes[node].item.get_or_insert(item);
        Ok(true)
    }

    /// Visits the delta tree under `root`, depth first.
    fn tree<S, E: From<PackError>>(
        &self,
        pack: &Pack,
        root: usize,
        cap: u64,
        inflate: &mut gix::zlib::Inflate,
        visit: &mut Visit<'_, S, E>,
        skipped: &mut Vec<usize>,
    ) -> Result<(), E> {
        let entry = pack.entry(self.nodes[root].offset)?;
        if entry.decompressed_size > cap {
            self.skip(root, skipped);
            return Ok(());
        }
        let data = pack.whole(&entry, inflate)?;
        let state = visit(
            Version {
                item: self.nodes[root].item,
                data: &data,
                changed: None,
            },
            None,
        )?;
        let mut stack = vec![Frame {
            node: root,
            data,
            state,
            next_child: 0,
        }];
        let (mut delta, mut changed) = (Vec::new(), Vec::new());
        // Bytes of the objects on the stack.
        let mut held = stack[0].data.len();
        while let Some(top) = stack.last_mut() {
            let Some(&child) = self.nodes[top.node].children.get(top.next_child) else {
                held -= top.data.len();
                stack.pop();
                continue;
            };
            top.next_child += 1;
            let entry = pack.entry(self.nodes[child].offset)?;
            let built = pack.build(&entry, &top.data, cap, inflate, &mut delta, &mut changed)?;
            let Some(data) = built else {
                self.skip(child, skipped);
                continue;
            };
            let state = visit(
                Version {
                    item: self.nodes[child].item,
                    data: &data,
                    changed: Some(&changed),
                },
                Some(&top.state),
            )?;
            if self.nodes[child].children.is_empty() {
                continue;
            }
            if held + data.len() > CHAIN_BYTES {
                // A chain this deep in large objects: the rest of it is read one by one.
                for &grandchild in &self.nodes[child].children {
                    self.skip(grandchild, skipped);
                }
                continue;
            }
            held += data.len();
            stack.push(Frame {
                node: child,
                data,
                state,
                next_child: 0,
            });
        }
        Ok(())
    }

    /// Hands the wanted blobs under `node` (included) to the one-by-one reader.
    fn skip(&self, node: usize, skipped: &mut Vec<usize>) {
        let mut todo = vec![node];
        while let Some(n) = todo.pop() {
            skipped.extend(self.nodes[n].item);
            todo.extend(&self.nodes[n].children);
        }
    }
}

impl Pack {
    fn read_err(&self, e: impl std::fmt::Display) -> PackError {
        read_err(self.data.path(), e)
    }

    fn corrupt(&self, message: &'static str) -> PackError {
        PackError::Corrupt {
            path: self.data.path().display().to_string(),
            message,
        }
    }

    fn entry(&self, offset: u64) -> Result<pack::data::Entry, PackError> {
        self.data.entry(offset).map_err(|e| self.read_err(e))
    }

    /// How the object at `entry` is stored.
    fn link(&self, entry: &pack::data::Entry) -> Result<Link, PackError> {
        Ok(match entry.header {
            pack::data::entry::Header::OfsDelta { base_distance } => Link::Delta(
                entry
                    .checked_base_pack_offset(base_distance)
                    .ok_or_else(|| self.corrupt("a delta's base lies outside the pack"))?,
            ),
            pack::data::entry::Header::RefDelta { base_id } => match self.index.lookup(base_id) {
                Some(e) => Link::Delta(self.index.pack_offset_at_index(e)),
                None => Link::Outside,
            },
            header => Link::Whole(
                header
                    .as_kind()
                    .ok_or_else(|| self.corrupt("unknown object type"))?,
            ),
        })
    }

    /// The object stored whole at `entry`.
    fn whole(
        &self,
        entry: &pack::data::Entry,
        inflate: &mut gix::zlib::Inflate,
    ) -> Result<Vec<u8>, PackError> {
        let mut data = vec![0; to_usize(entry.decompressed_size)?];
        self.data
            .decompress_entry(entry, inflate, &mut data)
            .map_err(|e| self.read_err(e))?;
        Ok(data)
    }

    /// The object the delta at `entry` builds from `base`, with what it changes (see
    /// [`apply`]); `None` when it would be larger than `cap`. `delta` is scratch space.
    fn build(
        &self,
        entry: &pack::data::Entry,
        base: &[u8],
        cap: u64,
        inflate: &mut gix::zlib::Inflate,
        delta: &mut Vec<u8>,
        changed: &mut Vec<Range<usize>>,
    ) -> Result<Option<Vec<u8>>, PackError> {
        delta.clear();
        delta.resize(to_usize(entry.decompressed_size)?, 0);
        self.data
            .decompress_entry(entry, inflate, delta)
            .map_err(|e| self.read_err(e))?;
        let (base_len, rest) = size(delta).ok_or_else(|| self.corrupt("bad delta"))?;
        let (len, ops) = size(rest).ok_or_else(|| self.corrupt("bad delta"))?;
        if base_len != base.len() as u64 {
            return Err(self.corrupt("a delta does not fit its base"));
        }
        if len > cap {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(to_usize(len)?);
        changed.clear();
        apply(base, ops, &mut out, changed).ok_or_else(|| self.corrupt("bad delta"))?;
        if out.len() as u64 != len {
            return Err(self.corrupt("a delta builds the wrong size"));
        }
        Ok(Some(out))
    }
}

/// How a pack stores an object.
enum Link {
    /// Whole, as an object of this kind.
    Whole(gix::objs::Kind),
    /// As a delta against the object at this offset.
    Delta(u64),
    /// As a delta against an object this pack does not hold (a thin pack's).
    Outside,
}

/// Reads trees and commits from the packs for the history walk, keeping every object a
/// delta chain passes through. History is walked oldest first, and git stores older
/// versions as deltas of newer ones: a reader that keeps only what it was asked for (as
/// gix's cache does) rebuilds each tree's whole chain, fifty deltas deep, for every commit.
pub struct Reader<'p> {
    packs: &'p Packs,
    cache: HashMap<(usize, u64), Object>,
    cached_bytes: usize,
    inflate: gix::zlib::Inflate,
    /// Scratch space for a delta and what it changes (unused here).
    delta: Vec<u8>,
    changed: Vec<Range<usize>>,
}

/// Memory for the objects the reader keeps; past it, it starts over.
const READER_CACHE_BYTES: usize = 64 << 20;

impl<'p> Reader<'p> {
    /// A reader over `packs`.
    pub fn new(packs: &'p Packs) -> Self {
        Reader {
            packs,
            cache: HashMap::new(),
            cached_bytes: 0,
            inflate: gix::zlib::Inflate::default(),
            delta: Vec::new(),
            changed: Vec::new(),
        }
    }

    /// Object `id` and its kind; `None` when no pack can build it alone (a loose object,
    /// or a thin pack's external base): read it some other way.
    pub fn read(&mut self, id: &gix::oid) -> Result<Option<Object>, PackError> {
        let Some((p, offset)) = self.packs.locate(id) else {
            return Ok(None);
        };
        let pack = &self.packs.list[p];
        // The deltas between the object and the nearest object kept or stored whole.
        let mut chain = Vec::new();
        let mut at = offset;
        let (kind, mut data) = loop {
            if let Some((kind, data)) = self.cache.get(&(p, at)) {
                break (*kind, data.clone());
            }
            if chain.len() > MAX_CHAIN {
                return Err(pack.corrupt("a delta chain loops"));
            }
            let entry = pack.entry(at)?;
            match pack.link(&entry)? {
                Link::Delta(base) => at = base,
                Link::Outside => return Ok(None),
                Link::Whole(kind) => {
                    let data = Rc::new(pack.whole(&entry, &mut self.inflate)?);
                    self.keep(p, at, kind, &data);
                    break (kind, data);
                }
            }
            chain.push(entry);
        };
        for entry in chain.iter().rev() {
            let built = pack.build(
                entry,
                &data,
                u64::MAX,
                &mut self.inflate,
                &mut self.delta,
                &mut self.changed,
            )?;
            data = Rc::new(built.ok_or_else(|| pack.corrupt("an object too large"))?);
            self.keep(p, entry.pack_offset(), kind, &data);
        }
        Ok(Some((kind, data)))
    }

    fn keep(&mut self, pack: usize, offset: u64, kind: gix::objs::Kind, data: &Rc<Vec<u8>>) {
        if self.cached_bytes + data.len() > READER_CACHE_BYTES {
            self.cache.clear();
            self.cached_bytes = 0;
        }
        self.cached_bytes += data.len();
        self.cache.insert((pack, offset), (kind, data.clone()));
    }
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> PackError {
    PackError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn to_usize(n: u64) -> Result<usize, PackError> {
    usize::try_from(n).map_err(|_| PackError::Corrupt {
        path: String::new(),
        message: "an object too large for this machine",
    })
}

/// A size at the start of a delta (little-endian base-128) and the bytes after it.
fn size(d: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in d.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &d[i + 1..]));
        }
    }
    None
}

/// Applies git delta instructions `ops` to `base`, appending the result to `out` and the
/// ranges of it that are not whole lines of `base` to `changed` (see [`Version::changed`]):
/// inserted bytes, and the ends of each run copied from one place. Consecutive copies of
/// adjoining source bytes count as one run. `None` when the delta is malformed.
fn apply(
    base: &[u8],
    ops: &[u8],
    out: &mut Vec<u8>,
    changed: &mut Vec<Range<usize>>,
) -> Option<()> {
    // The run being copied: where it starts in `out` and where its source ends in `base`.
    let mut run: Option<(usize, usize)> = None;
    let end_run =
        |run: &mut Option<(usize, usize)>, out: &[u8], changed: &mut Vec<_>| match run.take() {
            Some((start, _)) if out.len() > start => {
                mark(changed, start..start + 1);
                mark(changed, out.len() - 1..out.len());
            }
            _ => {}
        };
    let mut i = 0;
    while let Some(&op) = ops.get(i) {
        i += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, shift: u32, value: &mut usize| -> Option<()> {
                if op & bits != 0 {
                    *value |= usize::from(*ops.get(i)?) << shift;
                    i += 1;
                }
                Some(())
            };
            let (mut from, mut len) = (0usize, 0usize);
            field(0x01, 0, &mut from)?;
            field(0x02, 8, &mut from)?;
            field(0x04, 16, &mut from)?;
            field(0x08, 24, &mut from)?;
            field(0x10, 0, &mut len)?;
            field(0x20, 8, &mut len)?;
            field(0x40, 16, &mut len)?;
            if len == 0 {
                len = 0x10000;
            }
            let source = base.get(from..from.checked_add(len)?)?;
            match run {
                Some((_, source_end)) if source_end == from => {}
                _ => {
                    end_run(&mut run, out, changed);
                    run = Some((out.len(), 0));
                }
            }
            if let Some(r) = run.as_mut() {
                r.1 = from + len;
            }
            out.extend_from_slice(source);
        } else if op != 0 {
            end_run(&mut run, out, changed);
            let bytes = ops.get(i..i + usize::from(op))?;
            i += usize::from(op);
            mark(changed, out.len()..out.len() + bytes.len());
            out.extend_from_slice(bytes);
        } else {
            return None;
        }
    }
    end_run(&mut run, out, changed);
    Some(())
}

/// Adds `range` to the sorted list `changed`, merging it with the last one where they touch.
fn mark(changed: &mut Vec<Range<usize>>, range: Range<usize>) {
    match changed.last_mut() {
        Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
        _ => changed.push(range),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::windows::changed_lines;

    /// A delta in git's format: sizes, then `ops` (`Ok` copies `from..to` of the base,
    /// `Err` inserts the bytes).
    fn delta(base: &[u8], ops: &[Result<Range<usize>, &[u8]>]) -> (Vec<u8>, usize) {
        let mut d = Vec::new();
        let varint = |mut n: usize, d: &mut Vec<u8>| loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                d.push(b);
                break;
            }
            d.push(b | 0x80);
        };
        let len: usize = ops
            .iter()
            .map(|o| match o {
                Ok(r) => r.len(),
                Err(b) => b.len(),
            })
            .sum();
        varint(base.len(), &mut d);
        varint(len, &mut d);
        for op in ops {
            match op {
                Ok(r) => {
                    d.push(0x80 | 0x01 | 0x02 | 0x10 | 0x20);
                    d.extend_from_slice(&(r.start as u16).to_le_bytes());
                    d.extend_from_slice(&(r.len() as u16).to_le_bytes());
                }
                Err(bytes) => {
                    d.push(bytes.len() as u8);
                    d.extend_from_slice(bytes);
                }
            }
        }
        (d, len)
    }

    fn build(base: &[u8], ops: &[Result<Range<usize>, &[u8]>]) -> (Vec<u8>, Vec<Range<usize>>) {
        let (d, len) = delta(base, ops);
        let (b, rest) = size(&d).expect("base size");
        let (l, ops) = size(rest).expect("result size");
        assert_eq!((b, l), (base.len() as u64, len as u64));
        let (mut out, mut changed) = (Vec::new(), Vec::new());
        apply(base, ops, &mut out, &mut changed).expect("a valid delta");
        (out, changed)
    }

    #[test]
    fn a_delta_builds_its_target_and_marks_what_is_new() {
        let base = b"one\ntwo\nthree\nfour\nfive\n";
        // "one\ntwo\n" + "TWO\n" + "three\nfour\nfive\n"
        let (out, changed) = build(base, &[Ok(0..8), Err(b"TWO\n"), Ok(8..24)]);
        assert_eq!(out, b"one\ntwo\nTWO\nthree\nfour\nfive\n");
        // The inserted line, and the ends of the two copied runs.
        assert_eq!(changed, vec![0..1, 7..13, 27..28]);
        let lines = changed_lines(&out, &changed);
        // Every line here is within one line of a mark.
        assert_eq!(lines, vec![0..28]);
    }

    #[test]
    fn adjoining_copies_are_one_run() {
        let base = b"a\nb\nc\nd\ne\nf\ng\nh\n";
        let (out, changed) = build(base, &[Ok(0..6), Ok(6..16)]);
        assert_eq!(out, base);
        assert_eq!(changed, vec![0..1, 15..16]);
        // The first and last lines and their neighbours; the middle ones are the base's.
        assert_eq!(changed_lines(&out, &changed), vec![0..3, 12..16]);
    }

    #[test]
    fn lines_spliced_from_two_places_are_changed() {
        let base = b"key = \nvalue\n";
        // "key = value\n" is on no line of the base: both runs' ends mark it.
        let (out, changed) = build(base, &[Ok(0..6), Ok(7..13)]);
        assert_eq!(out, b"key = value\n");
        assert_eq!(changed_lines(&out, &changed), vec![0..12]);
    }

    #[test]
    fn malformed_deltas_are_refused() {
        let mut out = Vec::new();
        let mut changed = Vec::new();
        // Copy past the base's end; an insert longer than the delta; the reserved op 0.
        assert!(apply(b"abc", &[0x91, 0x00, 0x09], &mut out, &mut changed).is_none());
        assert!(apply(b"abc", &[0x05, b'x'], &mut out, &mut changed).is_none());
        assert!(apply(b"abc", &[0x00], &mut out, &mut changed).is_none());
        assert!(size(&[0x80; 12]).is_none());
    }
}
