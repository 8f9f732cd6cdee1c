//! Objects read one by one from the packs, building each delta from the nearest object kept.

use super::{Link, PackError, Packs, MAX_CHAIN};
use gix::zlib::Decompress;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

/// An object and its kind, as the [`Reader`] shares it.
pub(crate) type Object = (gix::objs::Kind, Rc<Vec<u8>>);

/// Reads objects from the packs one at a time — the history walk's trees, and the blobs
/// history reads one by one — keeping every object a delta chain passes through. History is
/// walked oldest first, and git stores older versions as deltas of newer ones (and
/// `git fast-import` each blob as a delta of the one written before it): a reader that keeps
/// only what it was asked for, or only the chains' bases (as gix's cache does), rebuilds a
/// whole chain, fifty deltas deep, for every version.
pub(crate) struct Reader<P: Borrow<Packs>> {
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
    pub(crate) fn new(packs: P) -> Self {
        Self::keeping(packs, READER_CACHE_BYTES)
    }

    /// A reader that keeps at most `bytes` of the objects it built.
    pub(crate) fn keeping(packs: P, bytes: usize) -> Self {
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
    pub(crate) fn read(&mut self, id: &gix::oid) -> Result<Option<Object>, PackError> {
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
    pub(crate) fn read_blob(
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
