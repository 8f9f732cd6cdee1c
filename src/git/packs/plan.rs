//! The blobs a history scan reads, arranged as the delta trees of the packs that hold them,
//! and walked: each object built once from its base.

use super::{Link, Pack, PackError, Packs, CHAIN_BYTES, MAX_CHAIN};
use gix::zlib::Decompress;
use gix::ObjectId;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// The blobs to read, arranged as the delta trees of the packs that hold them.
pub(crate) struct Plan {
    /// Shared with the reader of the blobs the plan does not build.
    packs: Arc<Packs>,
    /// By pack, as in [`Packs`].
    chains: Vec<Chains>,
    /// Indexes of the blobs no pack here can build: read them one by one.
    pub(crate) rest: Vec<usize>,
}

/// The plan for the blobs a history walk listed, when walking the packs pays: the packs
/// hold most of them, and mostly as deltas between versions of the same file (see
/// [`Plan::share_built_from_same_path`]). `None` otherwise, and on any error reading the
/// packs: the one-by-one reader then does the work, and reports what it cannot read.
pub(crate) fn plan(packs: Arc<Packs>, items: &[crate::model::Item]) -> Option<Plan> {
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
pub(crate) type Visit<'v, S, E> =
    dyn for<'a, 'b> FnMut(Version<'a>, Option<&'b S>) -> Result<S, E> + 'v;

/// One object built from the packs, as [`Plan::walk`] shows it.
pub(crate) struct Version<'a> {
    /// The wanted blob's index in the caller's list; `None` for a base it is built from.
    pub(crate) item: Option<usize>,
    /// The object's content.
    pub(crate) data: &'a [u8],
    /// For an object built from a delta, the byte ranges of `data` that are not whole lines
    /// of its base: the inserted bytes and the first and last bytes of every copied run. A
    /// line that touches none of them is, with its line breaks, a line of the base.
    pub(crate) changed: Option<&'a [Range<usize>]>,
}

impl Plan {
    /// Arranges `blobs` (found in `packs`) along their delta chains; the items that are not
    /// blobs (`None`) are left to the rest.
    pub(crate) fn new(packs: Arc<Packs>, blobs: &[Option<ObjectId>]) -> Result<Plan, PackError> {
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
    pub(crate) fn len(&self) -> usize {
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
    pub(crate) fn share_built_from_same_path<'a>(&self, path: impl Fn(usize) -> &'a [u8]) -> f64 {
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

    /// The delta trees to walk, one job each: any thread may walk any of them (see
    /// [`Plan::walk`]).
    pub(crate) fn jobs(&self) -> Vec<Job> {
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
    pub(crate) fn walk<S, E: From<PackError>>(
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
pub(crate) struct Job {
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
