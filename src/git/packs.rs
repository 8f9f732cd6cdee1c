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
use gix::zlib::Decompress;
use gix::ObjectId;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

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
    /// An entry is malformed: a size it cannot hold, a delta that does not fit its base,
    /// chains that loop.
    #[error("corrupt pack {path}: {message}")]
    Corrupt {
        /// The pack file.
        path: String,
        /// Which entry (by offset) and what is wrong with it.
        message: String,
    },
}

/// What is wrong with one pack entry. Every size an entry or a delta declares is checked
/// against the bytes that can back it and against a limit before memory is set aside for it,
/// and buffers grow only as bytes actually arrive: whatever an entry claims, memory stays
/// within about twice the largest object actually built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// More bytes than the compressed bytes left in the pack could inflate to.
    #[error("declares {declared} bytes, more than the {left} bytes left in the pack can hold")]
    Impossible {
        /// The size the entry declares.
        declared: u64,
        /// Compressed bytes from the entry's data to the end of the pack.
        left: u64,
    },
    /// More bytes than the reader's limit for the object.
    #[error("declares {declared} bytes, over the limit of {limit}")]
    OverLimit {
        /// The size the entry declares.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// The zlib stream is malformed or cut short.
    #[error("has a broken zlib stream after {inflated} of its {declared} bytes")]
    Zlib {
        /// The size the entry declares.
        declared: u64,
        /// Bytes inflated before the stream broke.
        inflated: u64,
    },
    /// The stream ends before the declared size.
    #[error("inflates to {inflated} bytes, not the {declared} it declares")]
    Short {
        /// The size the entry declares.
        declared: u64,
        /// Bytes the stream held.
        inflated: u64,
    },
    /// The stream goes on past the declared size.
    #[error("inflates past the {declared} bytes it declares")]
    Long {
        /// The size the entry declares.
        declared: u64,
    },
    /// A delta without its two size fields.
    #[error("is a delta without a valid size header")]
    DeltaHeader,
    /// A delta for another base.
    #[error("is a delta for a base of {declared} bytes, but its base has {actual}")]
    BaseSize {
        /// The base size the delta declares.
        declared: u64,
        /// The size of the base it is applied to.
        actual: u64,
    },
    /// More delta instructions than any delta building the declared result could hold.
    #[error("is a delta of {delta} bytes, more than any delta building {result} bytes holds")]
    DeltaTooLong {
        /// The delta's size.
        delta: u64,
        /// The result size it declares.
        result: u64,
    },
    /// An instruction that writes past the declared result size.
    #[error(
        "is a delta whose instruction at byte {at} writes past its declared {declared}-byte result"
    )]
    Overflow {
        /// The instruction's offset in the delta.
        at: usize,
        /// The result size the delta declares.
        declared: u64,
    },
    /// An instruction that copies from outside the base.
    #[error("is a delta whose instruction at byte {at} copies outside its {base}-byte base")]
    CopyOutside {
        /// The instruction's offset in the delta.
        at: usize,
        /// The base's size.
        base: u64,
    },
    /// An insert instruction longer than the rest of the delta, or the reserved opcode 0.
    #[error("is a delta whose instruction at byte {at} is truncated or reserved")]
    BadInstruction {
        /// The instruction's offset in the delta.
        at: usize,
    },
    /// The instructions build less than the declared result.
    #[error("is a delta that builds {built} bytes, not the {declared} it declares")]
    ResultShort {
        /// The result size the delta declares.
        declared: u64,
        /// What the instructions built.
        built: u64,
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
        Packs::open_dir(repo.objects.store_ref().path(), repo.object_hash())
    }

    /// Opens every pack (with its index) in object directory `objects` (its alternates are
    /// not followed): a push's quarantine (see [`crate::git::quarantine`]).
    pub fn open_dir(objects: &Path, hash: gix::hash::Kind) -> Result<Packs, PackError> {
        let dir = objects.join("pack");
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
    /// Shared with the reader of the blobs the plan does not build.
    packs: Arc<Packs>,
    /// By pack, as in [`Packs`].
    chains: Vec<Chains>,
    /// Indexes of the blobs no pack here can build: read them one by one.
    pub rest: Vec<usize>,
}

/// The plan for the blobs a history walk listed, when walking the packs pays: the packs
/// hold most of them, and mostly as deltas between versions of the same file (see
/// [`Plan::share_built_from_same_path`]). `None` otherwise, and on any error reading the
/// packs: the one-by-one reader then does the work, and reports what it cannot read.
pub fn plan(packs: Arc<Packs>, items: &[crate::model::Item]) -> Option<Plan> {
    let blobs: Vec<Option<ObjectId>> = items
        .iter()
        .map(|i| match i.content {
            crate::model::Content::Blob(id) => Some(id),
            crate::model::Content::File(..) | crate::model::Content::Text(_) => None,
        })
        .collect();
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
    /// Arranges `blobs` (found in `packs`) along their delta chains; the items that are not
    /// blobs (`None`) are left to the rest.
    pub fn new(packs: Arc<Packs>, blobs: &[Option<ObjectId>]) -> Result<Plan, PackError> {
        let mut chains: Vec<Chains> = packs.list.iter().map(|_| Chains::default()).collect();
        let mut rest = Vec::new();
        for (item, blob) in blobs.iter().enumerate() {
            let located = blob.as_ref().and_then(|b| packs.locate(b.as_ref()));
            let placed = match located {
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
    /// are added to `skipped`, for the one-by-one reader. `z` is the caller's (one per
    /// thread).
    pub fn walk<S, E: From<PackError>>(
        &self,
        job: Job,
        cap: u64,
        z: &mut Decompress,
        visit: &mut Visit<'_, S, E>,
        skipped: &mut Vec<usize>,
    ) -> Result<(), E> {
        self.chains[job.pack].tree(&self.packs.list[job.pack], job.root, cap, z, visit, skipped)
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
                return Err(pack.corrupt(offset, "is at the end of a delta chain that loops"));
            }
            let entry = pack.entry(at)?;
            chain.push(at);
            at = match pack.link(&entry)? {
                Link::Whole(gix::objs::Kind::Blob) => break,
                Link::Delta(base) => base,
                Link::Outside => return Ok(false),
                // A blob is never built from a tree, commit or tag.
                Link::Whole(_) => {
                    return Err(pack.corrupt(at, "is the delta base of a blob but not a blob"))
                }
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
        z: &mut Decompress,
        visit: &mut Visit<'_, S, E>,
        skipped: &mut Vec<usize>,
    ) -> Result<(), E> {
        let entry = pack.entry(self.nodes[root].offset)?;
        let Some(data) = pack.whole(&entry, z, cap)? else {
            self.skip(root, skipped);
            return Ok(());
        };
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
            let built = pack.build(&entry, &top.data, cap, z, &mut delta, &mut changed)?;
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

    /// An error naming the entry at `offset` and what is wrong with it.
    fn corrupt(&self, offset: u64, what: impl std::fmt::Display) -> PackError {
        PackError::Corrupt {
            path: self.data.path().display().to_string(),
            message: format!("the object at offset {offset} {what}"),
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
                    .ok_or_else(|| {
                        self.corrupt(
                            entry.pack_offset(),
                            "is a delta whose base lies outside the pack",
                        )
                    })?,
            ),
            pack::data::entry::Header::RefDelta { base_id } => match self.index.lookup(base_id) {
                Some(e) => Link::Delta(self.index.pack_offset_at_index(e)),
                None => Link::Outside,
            },
            header => Link::Whole(
                header
                    .as_kind()
                    .ok_or_else(|| self.corrupt(entry.pack_offset(), "has an unknown type"))?,
            ),
        })
    }

    /// The compressed bytes of `entry`, to the end of the pack (where its stream ends is
    /// known only once it is inflated).
    fn input(&self, entry: &pack::data::Entry) -> &[u8] {
        self.data
            .entry_slice(entry.data_offset..self.data.pack_end() as u64)
            .unwrap_or_default()
    }

    /// The object stored whole at `entry`; `None` when it declares more than `limit` bytes.
    fn whole(
        &self,
        entry: &pack::data::Entry,
        z: &mut Decompress,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, PackError> {
        inflate(z, self.input(entry), entry.decompressed_size, limit)
            .map(|built| built.map(|(data, _)| data))
            .map_err(|m| self.corrupt(entry.pack_offset(), m))
    }

    /// The object the delta at `entry` builds from `base`, with what it changes (see
    /// [`apply`]); `None` when it would be larger than `limit`. `delta` is scratch space.
    fn build(
        &self,
        entry: &pack::data::Entry,
        base: &[u8],
        limit: u64,
        z: &mut Decompress,
        delta: &mut Vec<u8>,
        changed: &mut Vec<Range<usize>>,
    ) -> Result<Option<Vec<u8>>, PackError> {
        let input = self.input(entry);
        build(
            z,
            input,
            entry.decompressed_size,
            base,
            limit,
            delta,
            changed,
        )
        .map(|built| built.map(|(data, _)| data))
        .map_err(|m| self.corrupt(entry.pack_offset(), m))
    }
}

/// The most one compressed byte can inflate to: deflate's longest match, 258 bytes, costs at
/// least two bits (1032 bytes per byte); the zlib header and checksum only lower the ratio.
const MAX_INFLATE_RATIO: u64 = 1032;

/// Buffers start this large (or at the declared size, when smaller) and then double as bytes
/// arrive, so a size an entry merely claims sets nothing aside: the typical object (all but
/// the largest source files) is inflated in one step into a buffer of its declared size.
const FIRST_CHUNK: usize = 1 << 20;

/// The longest a delta instruction is per byte it builds: a copy takes at most 8 bytes (the
/// opcode, 4 of offset, 3 of length) and builds at least one; an insert takes one more byte
/// than it builds.
const MAX_DELTA_BYTES_PER_BYTE: u64 = 8;

/// Checks the `declared` size of an entry whose compressed data is `left` bytes at most:
/// `Ok(false)` when it is over `limit`, an error when no stream that short could hold it.
fn claim(declared: u64, left: usize, limit: u64) -> Result<bool, Malformed> {
    let left = left as u64;
    if declared > left.saturating_mul(MAX_INFLATE_RATIO) {
        return Err(Malformed::Impossible { declared, left });
    }
    Ok(declared <= limit)
}

/// Room given past an object's declared size. zlib's fast loop runs only while 260 bytes of
/// output room remain, and inflates byte by byte through a state machine after that: an
/// object inflated into a buffer of exactly its size (a commit, a delta of a few lines) went
/// all the way through the slow path. With the slack the fast loop inflates every byte (on
/// the history bench: the listing's reads 415 → 356 million instructions, the delta walk
/// 1.31 → 1.25 billion); a stream that writes into the slack is longer than declared (an
/// error, as before).
const SLACK: usize = 272;

/// A zlib stream that must inflate to exactly `declared` bytes.
struct Stream<'a> {
    z: &'a mut Decompress,
    input: &'a [u8],
    used: usize,
    declared: usize,
    ended: bool,
}

impl<'a> Stream<'a> {
    fn new(z: &'a mut Decompress, input: &'a [u8], declared: usize) -> Self {
        z.reset();
        Stream {
            z,
            input,
            used: 0,
            declared,
            ended: false,
        }
    }

    /// Inflates into `out` until it holds `upto` bytes (at most the declared size), growing
    /// it by at most what it already holds (or [`FIRST_CHUNK`]) at a time.
    fn fill(&mut self, out: &mut Vec<u8>, upto: usize) -> Result<(), Malformed> {
        let upto = upto.min(self.declared);
        while out.len() < upto {
            if self.ended {
                return Err(Malformed::Short {
                    declared: self.declared as u64,
                    inflated: out.len() as u64,
                });
            }
            let filled = out.len();
            let room = filled.max(FIRST_CHUNK).min(upto - filled);
            // The step that reaches the declared size gets [`SLACK`] bytes more of room.
            let slack = if filled + room == self.declared {
                SLACK
            } else {
                0
            };
            out.resize(filled + room + slack, 0);
            let (made, status) = self.step(&mut out[filled..]);
            out.truncate(filled + made);
            if out.len() > self.declared {
                return Err(Malformed::Long {
                    declared: self.declared as u64,
                });
            }
            self.check(status, out.len())?;
        }
        Ok(())
    }

    /// One call into zlib: bytes written, and whether the stream ended (`None`: it failed
    /// or could make no progress).
    fn step(&mut self, out: &mut [u8]) -> (usize, Option<bool>) {
        let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
        let input = self.input.get(self.used..).unwrap_or_default();
        let status = self
            .z
            .decompress(input, out, gix::zlib::FlushDecompress::None);
        let used = (self.z.total_in() - in_before) as usize;
        let made = (self.z.total_out() - out_before) as usize;
        self.used += used;
        let status = match status {
            Ok(gix::zlib::Status::StreamEnd) => Some(true),
            Ok(_) if used + made > 0 => Some(false),
            _ => None,
        };
        (made, status)
    }

    fn check(&mut self, status: Option<bool>, inflated: usize) -> Result<(), Malformed> {
        match status {
            Some(ended) => {
                self.ended = ended;
                Ok(())
            }
            None => Err(Malformed::Zlib {
                declared: self.declared as u64,
                inflated: inflated as u64,
            }),
        }
    }

    /// Checks that the stream ends at the declared size; the compressed bytes it took.
    fn finish(mut self, inflated: usize) -> Result<usize, Malformed> {
        if inflated < self.declared {
            return Err(Malformed::Short {
                declared: self.declared as u64,
                inflated: inflated as u64,
            });
        }
        let mut probe = [0u8; 1];
        while !self.ended {
            let (made, status) = self.step(&mut probe);
            if made > 0 {
                return Err(Malformed::Long {
                    declared: self.declared as u64,
                });
            }
            self.check(status, inflated)?;
        }
        Ok(self.used)
    }
}

/// Inflates the zlib stream at the start of `input` (an entry's data, to the end of the
/// pack), which must hold exactly `declared` bytes: the bytes and the compressed bytes they
/// took; `None` when `declared` is over `limit`.
pub(crate) fn inflate(
    z: &mut Decompress,
    input: &[u8],
    declared: u64,
    limit: u64,
) -> Result<Option<(Vec<u8>, usize)>, Malformed> {
    if !claim(declared, input.len(), limit)? {
        return Ok(None);
    }
    let declared = usize::try_from(declared).map_err(|_| Malformed::OverLimit {
        declared,
        limit: usize::MAX as u64,
    })?;
    let mut stream = Stream::new(z, input, declared);
    let mut out = Vec::new();
    stream.fill(&mut out, declared)?;
    let used = stream.finish(out.len())?;
    Ok(Some((out, used)))
}

/// Builds the object that the delta entry at the start of `input` (declaring `declared`
/// bytes of instructions) makes of `base`, recording in `changed` what it changes (see
/// [`apply`]): the object and the compressed bytes the delta took; `None` when the object
/// would be larger than `limit`. The result size the delta declares is checked before the
/// instructions are inflated, and each instruction before it writes. `delta` is scratch space.
pub(crate) fn build(
    z: &mut Decompress,
    input: &[u8],
    declared: u64,
    base: &[u8],
    limit: u64,
    delta: &mut Vec<u8>,
    changed: &mut Vec<Range<usize>>,
) -> Result<Option<(Vec<u8>, usize)>, Malformed> {
    // The instructions are at most as long as the largest result allowed can need.
    let instructions_limit = limit
        .saturating_mul(MAX_DELTA_BYTES_PER_BYTE)
        .saturating_add(20);
    if !claim(declared, input.len(), instructions_limit)? {
        return Ok(None);
    }
    let declared_len = usize::try_from(declared).map_err(|_| Malformed::OverLimit {
        declared,
        limit: usize::MAX as u64,
    })?;
    let mut stream = Stream::new(z, input, declared_len);
    delta.clear();
    // The two sizes, 10 bytes each at most, come first: checked before a long delta is
    // inflated whole (a short one, the most common, is inflated at once: in two steps, the
    // first would take zlib's slow path).
    stream.fill(
        delta,
        if declared_len <= 1 << 16 {
            declared_len
        } else {
            20
        },
    )?;
    let (base_len, rest) = size(delta).ok_or(Malformed::DeltaHeader)?;
    let (len, rest) = size(rest).ok_or(Malformed::DeltaHeader)?;
    let header = delta.len() - rest.len();
    if base_len != base.len() as u64 {
        return Err(Malformed::BaseSize {
            declared: base_len,
            actual: base.len() as u64,
        });
    }
    if len > limit {
        return Ok(None);
    }
    let most = (header as u64).saturating_add(len.saturating_mul(MAX_DELTA_BYTES_PER_BYTE));
    if declared > most {
        return Err(Malformed::DeltaTooLong {
            delta: declared,
            result: len,
        });
    }
    stream.fill(delta, declared_len)?;
    let used = stream.finish(delta.len())?;
    let len = usize::try_from(len).map_err(|_| Malformed::OverLimit {
        declared: len,
        limit: usize::MAX as u64,
    })?;
    let ops = &delta[header..];
    // Most deltas build about their base plus what they insert; more is reserved as built.
    let mut out = Vec::with_capacity(len.min(base.len().saturating_add(ops.len())));
    changed.clear();
    apply(base, ops, len, &mut out, changed).map_err(|e| match e {
        Malformed::Overflow { at, declared } => Malformed::Overflow {
            at: at + header,
            declared,
        },
        Malformed::CopyOutside { at, base } => Malformed::CopyOutside {
            at: at + header,
            base,
        },
        Malformed::BadInstruction { at } => Malformed::BadInstruction { at: at + header },
        other => other,
    })?;
    Ok(Some((out, used)))
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

/// Reads objects from the packs one at a time — the history walk's trees, and the blobs
/// history reads one by one — keeping every object a delta chain passes through. History is
/// walked oldest first, and git stores older versions as deltas of newer ones (and
/// `git fast-import` each blob as a delta of the one written before it): a reader that keeps
/// only what it was asked for, or only the chains' bases (as gix's cache does), rebuilds a
/// whole chain, fifty deltas deep, for every version.
pub struct Reader<P: Borrow<Packs>> {
    packs: P,
    cache: HashMap<(usize, u64), Object>,
    cached_bytes: usize,
    cache_limit: usize,
    z: Decompress,
    /// Scratch space for a delta and what it changes (unused here).
    delta: Vec<u8>,
    changed: Vec<Range<usize>>,
}

/// The largest tree the reader builds (git's largest trees, of directories with a million
/// files, are tens of MB).
const MAX_TREE_BYTES: u64 = 512 << 20;

const TOO_LARGE: &str = "is a tree over 512 MiB";

/// Memory for the objects the reader keeps; past it, it starts over.
const READER_CACHE_BYTES: usize = 64 << 20;

impl<P: Borrow<Packs>> Reader<P> {
    /// A reader over `packs` (borrowed or owned).
    pub fn new(packs: P) -> Self {
        Self::keeping(packs, READER_CACHE_BYTES)
    }

    /// A reader that keeps at most `bytes` of the objects it built.
    pub fn keeping(packs: P, bytes: usize) -> Self {
        Reader {
            packs,
            cache: HashMap::new(),
            cached_bytes: 0,
            cache_limit: bytes,
            z: Decompress::default(),
            delta: Vec::new(),
            changed: Vec::new(),
        }
    }

    /// Object `id` and its kind; `None` when no pack can build it alone (a loose object,
    /// or a thin pack's external base): read it some other way.
    pub fn read(&mut self, id: &gix::oid) -> Result<Option<Object>, PackError> {
        match self.make(id, MAX_TREE_BYTES)? {
            Built::Object(object) => Ok(Some(object)),
            Built::Outside => Ok(None),
            Built::TooLarge(pack, offset) => {
                Err(self.packs.borrow().list[pack].corrupt(offset, TOO_LARGE))
            }
        }
    }

    /// Blob `id`, when the packs build it alone and neither it nor an object its delta
    /// chain passes through is larger than `limit`; `None` otherwise (read it some other
    /// way, which tells its size). Read one by one, versions of a file share their chains:
    /// each object on the way is kept, so the next version costs one delta, not the chain.
    pub fn read_blob(
        &mut self,
        id: &gix::oid,
        limit: u64,
    ) -> Result<Option<Rc<Vec<u8>>>, PackError> {
        Ok(match self.make(id, limit)? {
            Built::Object((gix::objs::Kind::Blob, data)) => Some(data),
            _ => None,
        })
    }

    fn make(&mut self, id: &gix::oid, limit: u64) -> Result<Built, PackError> {
        let packs = self.packs.borrow();
        let Some((p, offset)) = packs.locate(id) else {
            return Ok(Built::Outside);
        };
        let pack = &packs.list[p];
        // The deltas between the object and the nearest object kept or stored whole.
        let mut chain = Vec::new();
        let mut at = offset;
        let (kind, mut data) = loop {
            if let Some((kind, data)) = self.cache.get(&(p, at)) {
                break (*kind, data.clone());
            }
            if chain.len() > MAX_CHAIN {
                return Err(pack.corrupt(offset, "is at the end of a delta chain that loops"));
            }
            let entry = pack.entry(at)?;
            match pack.link(&entry)? {
                Link::Delta(base) => at = base,
                Link::Outside => return Ok(Built::Outside),
                Link::Whole(kind) => {
                    let Some(data) = pack.whole(&entry, &mut self.z, limit)? else {
                        return Ok(Built::TooLarge(p, at));
                    };
                    let data = Rc::new(data);
                    let kept = (&mut self.cache, &mut self.cached_bytes, self.cache_limit);
                    keep(kept, (p, at), kind, &data);
                    break (kind, data);
                }
            }
            chain.push(entry);
        };
        for entry in chain.iter().rev() {
            let built = pack.build(
                entry,
                &data,
                limit,
                &mut self.z,
                &mut self.delta,
                &mut self.changed,
            )?;
            let Some(built) = built else {
                return Ok(Built::TooLarge(p, entry.pack_offset()));
            };
            data = Rc::new(built);
            let key = (p, entry.pack_offset());
            let kept = (&mut self.cache, &mut self.cached_bytes, self.cache_limit);
            keep(kept, key, kind, &data);
        }
        Ok(Built::Object((kind, data)))
    }
}

/// What [`Reader`] built.
enum Built {
    Object(Object),
    /// Not in the packs, or built on a base outside them.
    Outside,
    /// The object (or one its chain passes through), in pack and at offset, is over the limit.
    TooLarge(usize, u64),
}

/// What a [`Reader`] keeps: the objects, their bytes, the limit.
type Kept<'a> = (&'a mut HashMap<(usize, u64), Object>, &'a mut usize, usize);

/// Keeps an object the reader built, within its limit (past it, the reader starts over).
fn keep(
    (cache, cached_bytes, limit): Kept<'_>,
    key: (usize, u64),
    kind: gix::objs::Kind,
    data: &Rc<Vec<u8>>,
) {
    if *cached_bytes + data.len() > limit {
        cache.clear();
        *cached_bytes = 0;
    }
    *cached_bytes += data.len();
    cache.insert(key, (kind, data.clone()));
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> PackError {
    PackError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
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
/// adjoining source bytes count as one run. The result must be `len` bytes: an instruction
/// that would write past it fails before it writes. Errors give instructions' offsets in `ops`.
fn apply(
    base: &[u8],
    ops: &[u8],
    len: usize,
    out: &mut Vec<u8>,
    changed: &mut Vec<Range<usize>>,
) -> Result<(), Malformed> {
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
    let start = out.len();
    let mut i = 0;
    while let Some(&op) = ops.get(i) {
        let at = i;
        let overflow = |n: usize, out: &[u8]| {
            if out.len() - start + n > len {
                Err(Malformed::Overflow {
                    at,
                    declared: len as u64,
                })
            } else {
                Ok(())
            }
        };
        i += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, shift: u32, value: &mut usize| -> Result<(), Malformed> {
                if op & bits != 0 {
                    let byte = ops.get(i).ok_or(Malformed::BadInstruction { at })?;
                    *value |= usize::from(*byte) << shift;
                    i += 1;
                }
                Ok(())
            };
            let (mut from, mut n) = (0usize, 0usize);
            field(0x01, 0, &mut from)?;
            field(0x02, 8, &mut from)?;
            field(0x04, 16, &mut from)?;
            field(0x08, 24, &mut from)?;
            field(0x10, 0, &mut n)?;
            field(0x20, 8, &mut n)?;
            field(0x40, 16, &mut n)?;
            if n == 0 {
                n = 0x10000;
            }
            let source = from
                .checked_add(n)
                .and_then(|end| base.get(from..end))
                .ok_or(Malformed::CopyOutside {
                    at,
                    base: base.len() as u64,
                })?;
            overflow(n, out)?;
            match run {
                Some((_, source_end)) if source_end == from => {}
                _ => {
                    end_run(&mut run, out, changed);
                    run = Some((out.len(), 0));
                }
            }
            if let Some(r) = run.as_mut() {
                r.1 = from + n;
            }
            out.extend_from_slice(source);
        } else if op != 0 {
            let n = usize::from(op);
            let bytes = ops.get(i..i + n).ok_or(Malformed::BadInstruction { at })?;
            overflow(n, out)?;
            end_run(&mut run, out, changed);
            i += n;
            mark(changed, out.len()..out.len() + n);
            out.extend_from_slice(bytes);
        } else {
            return Err(Malformed::BadInstruction { at });
        }
    }
    end_run(&mut run, out, changed);
    if out.len() - start != len {
        return Err(Malformed::ResultShort {
            declared: len as u64,
            built: (out.len() - start) as u64,
        });
    }
    Ok(())
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
        apply(base, ops, len, &mut out, &mut changed).expect("a valid delta");
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
    fn malformed_deltas_are_refused_at_the_instruction() {
        use Malformed::*;
        let base = b"abcdef";
        for (ops, len, want) in [
            // Copy past the base's end.
            (&[0x91, 0x00, 0x09][..], 9, CopyOutside { at: 0, base: 6 }),
            // An insert longer than the delta; the reserved op 0.
            (&[0x05, b'x'], 5, BadInstruction { at: 0 }),
            (&[0x01, b'x', 0x00], 2, BadInstruction { at: 2 }),
            // A copy whose offset bytes are missing.
            (&[0x83, 0x00], 3, BadInstruction { at: 0 }),
            // The second instruction writes past the declared 4 bytes; a copy of 3 past 2.
            (
                &[0x03, b'x', b'y', b'z', 0x02, b'u', b'v'],
                4,
                Overflow { at: 4, declared: 4 },
            ),
            (&[0x90, 0x03], 2, Overflow { at: 0, declared: 2 }),
            // Fewer bytes than declared.
            (
                &[0x02, b'x', b'y'],
                3,
                ResultShort {
                    declared: 3,
                    built: 2,
                },
            ),
        ] {
            let (mut out, mut changed) = (Vec::new(), Vec::new());
            assert_eq!(
                apply(base, ops, len, &mut out, &mut changed),
                Err(want),
                "{ops:?}"
            );
            assert!(out.len() <= len, "{ops:?} wrote past its size");
        }
        assert!(size(&[0x80; 12]).is_none());
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut w =
            gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::BEST);
        w.write_all(data).expect("deflate");
        w.flush().expect("deflate");
        w.into_inner()
    }

    #[test]
    fn sizes_are_checked_before_anything_is_allocated() {
        use Malformed::*;
        let mut z = Decompress::default();
        let stream = zlib(b"hello, world");
        let mut padded = stream.clone();
        padded.extend_from_slice(b"the next entry");
        // What the stream holds, with or without more pack after it.
        for input in [&stream, &padded] {
            let (data, used) = inflate(&mut z, input, 12, 100)
                .expect("valid")
                .expect("under the limit");
            assert_eq!(
                (data.as_slice(), used),
                (&b"hello, world"[..], stream.len())
            );
        }
        // Over the limit: not read.
        assert_eq!(inflate(&mut z, &stream, 12, 11), Ok(None));
        // 2^44 bytes from 20 compressed bytes: refused before any allocation.
        assert_eq!(
            inflate(&mut z, &stream, 1 << 44, u64::MAX),
            Err(Impossible {
                declared: 1 << 44,
                left: stream.len() as u64
            })
        );
        assert_eq!(
            inflate(&mut z, &stream, 13, 100),
            Err(Short {
                declared: 13,
                inflated: 12
            })
        );
        assert_eq!(
            inflate(&mut z, &stream, 11, 100),
            Err(Long { declared: 11 })
        );
        // Longer than zlib's fast loop needs room for (260 bytes): exact, short, long.
        let text: Vec<u8> = (0..5_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        let long = zlib(&text);
        let n = text.len() as u64;
        let (data, used) = inflate(&mut z, &long, n, n).expect("valid").expect("fits");
        assert_eq!((data, used), (text.clone(), long.len()));
        assert_eq!(
            inflate(&mut z, &long, n + 1, n + 1),
            Err(Short {
                declared: n + 1,
                inflated: n
            })
        );
        assert_eq!(
            inflate(&mut z, &long, n - 1, n),
            Err(Long { declared: n - 1 })
        );
        assert!(matches!(
            inflate(&mut z, &stream[..stream.len() - 3], 12, 100),
            Err(Zlib { .. })
        ));
        assert!(matches!(
            inflate(&mut z, b"not zlib at all", 5, 100),
            Err(Zlib { .. })
        ));
    }

    #[test]
    fn a_delta_is_checked_before_its_instructions_are_inflated() {
        use Malformed::*;
        let mut z = Decompress::default();
        let base = vec![b'a'; 0x10000];
        let (mut scratch, mut changed) = (Vec::new(), Vec::new());
        let mut build_with = |sizes: &[u8], ops: &[u8], limit: u64| {
            let mut d = sizes.to_vec();
            d.extend_from_slice(ops);
            let input = zlib(&d);
            super::build(
                &mut z,
                &input,
                d.len() as u64,
                &base,
                limit,
                &mut scratch,
                &mut changed,
            )
            .map(|b| b.map(|(data, _)| data.len()))
        };
        // 0x10000 as a delta size: 0x80 0x80 0x04.
        let base_size = [0x80, 0x80, 0x04];
        let sizes = |result: &[u8]| [&base_size[..], result].concat();
        // Four 64 KiB copies, declared as such.
        assert_eq!(
            build_with(&sizes(&[0x80, 0x80, 0x10]), &[0x80; 4], 1 << 20),
            Ok(Some(0x40000))
        );
        // Over the limit: not built.
        assert_eq!(
            build_with(&sizes(&[0x80, 0x80, 0x10]), &[0x80; 4], 1000),
            Ok(None)
        );
        // For another base.
        assert_eq!(
            build_with(&[0x05, 0x01], &[0x01, b'x'], 100),
            Err(BaseSize {
                declared: 5,
                actual: 0x10000
            })
        );
        // 65,536 copies of 64 KiB (4 GiB) declared as 100 bytes: more instructions than 100
        // bytes can need, refused before they are inflated.
        assert_eq!(
            build_with(&sizes(&[100]), &[0x80; 65_536], 1 << 20),
            Err(DeltaTooLong {
                delta: 65_540,
                result: 100
            })
        );
        // Declared as 600,000 bytes: the tenth copy would write past them.
        assert_eq!(
            build_with(&sizes(&[0xc0, 0xcf, 0x24]), &[0x80; 65_536], 1 << 20),
            Err(Overflow {
                at: 6 + 9,
                declared: 600_000
            })
        );
        assert_eq!(build_with(&[0x80], &[], 100), Err(DeltaHeader));
    }
}
