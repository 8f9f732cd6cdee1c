//! What a listing collects: each (blob, path, link or file) once, in order, with the version it
//! replaced and the version the hidden side held there; paths numbered exactly.

use super::*;

/// What the listing collects: items in order, each (blob, path, place) once, and for each the
/// version it replaced.
#[derive(Default)]
pub(super) struct Listing {
    pub(super) items: Vec<Item>,
    /// For each item, the version it replaced at its path, when the walk saw one: its lines
    /// were scanned already, so only the lines that differ need scanning.
    pub(super) bases: Vec<Option<ObjectId>>,
    /// For each item, the version the hidden side (what the server had, the range's base)
    /// held at its path, when the item replaced it: what that version held was in history
    /// already. Never a version this listing itself brings.
    pub(super) previous: Vec<Option<ObjectId>>,
    /// Every path met, numbered (see [`PathIds`]).
    pub(super) paths: PathIds,
    /// Each (blob, path, place) met: the item that lists it, or [`HIDDEN`].
    pub(super) pairs: PairMap,
    /// Blobs refs point at directly, listed once each.
    pub(super) refs: HashSet<ObjectId>,
    /// Paths each blob had on the hidden side (a few).
    pub(super) hidden: HashMap<ObjectId, Vec<Vec<u8>>>,
}

/// Hidden-side paths kept per blob: enough to tell a copied fixture from a copied secret.
pub(super) const HIDDEN_PATHS: usize = 8;

/// A pair met on the hidden side only: nothing lists it.
pub(super) const HIDDEN: u32 = u32::MAX;

/// A blob at a path, as git records it: a file's or a link's (see [`Place`]). The same
/// blob at the same path is judged again when it changes from a link to a file, where the
/// file-name rules start to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Pair {
    pub(super) blob: ObjectId,
    pub(super) path: u32,
    pub(super) link: bool,
}

impl Listing {
    /// Lists `blob` at `path` as `place` (a file or a link) for `commit`, unless that pair
    /// was met already; with `listing` false only notes it as the hidden side's. `base` and
    /// `previous` are what [`Listing::bases`] and [`Listing::previous`] hold. Returns
    /// whether the pair is new.
    pub(super) fn pair(&mut self, blob: ObjectId, path: &[u8], place: Place, seen: Seen) -> bool {
        let key = Pair {
            blob,
            path: self.paths.id(path),
            link: place == Place::Symlink,
        };
        match self.pairs.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => {
                // Met again through another parent of a merge: a version the hidden side
                // held there counts, whichever parent brought it.
                let at = *o.get() as usize;
                if at != HIDDEN as usize && self.previous[at].is_none() {
                    self.previous[at] = seen.previous;
                }
                return false;
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                if !seen.listing {
                    v.insert(HIDDEN);
                    self.hide(blob, path);
                    return true;
                }
                v.insert(self.items.len() as u32);
            }
        }
        self.items.push(Item {
            path: path.to_vec(),
            content: Content::Blob(blob),
            place,
            commit: seen.commit,
        });
        self.bases.push(seen.base);
        self.previous.push(seen.previous);
        true
    }

    /// Notes that the hidden side held `blob` at `path`.
    pub(super) fn hide(&mut self, blob: ObjectId, path: &[u8]) {
        let paths = self.hidden.entry(blob).or_default();
        if paths.len() < HIDDEN_PATHS && !paths.iter().any(|p| p == path) {
            paths.push(path.to_vec());
        }
    }

    /// Lists what commit `at` (or, with none, the annotated tag `name`) records besides
    /// files: its message and who wrote it, each an item of its own (`commit 1a2b3c4d5e
    /// message`, `tag v1 tagger`).
    pub(super) fn texts(&mut self, at: Option<CommitRef>, name: &[u8], texts: &Texts) {
        let owner = match at {
            Some(c) => format!("commit {}", short(c.id)).into_bytes(),
            None => [&b"tag "[..], name].concat(),
        };
        let message = std::iter::once(("message", &texts.message));
        let people = texts.people.iter().map(|(role, p)| (*role, p));
        for (what, text) in message.chain(people) {
            if text.is_empty() {
                continue;
            }
            self.items.push(Item {
                path: [&owner[..], b" ", what.as_bytes()].concat(),
                content: Content::Text(Arc::clone(text)),
                place: Place::Message,
                commit: at,
            });
            self.bases.push(None);
            self.previous.push(None);
        }
    }

    /// Lists a blob a ref points at directly: not at a path.
    pub(super) fn detached(&mut self, blob: ObjectId, name: &str) {
        if !self.refs.insert(blob) {
            return;
        }
        self.items.push(Item {
            path: format!("{name} (blob {})", short(blob)).into_bytes(),
            content: Content::Blob(blob),
            place: Place::Ref,
            commit: None,
        });
        self.bases.push(None);
        self.previous.push(None);
    }
}

/// An object id as reports show it: its first ten hex digits (for people; nothing is looked
/// up by it).
pub(super) fn short(id: ObjectId) -> String {
    let hex = id.to_string();
    hex[..hex.len().min(10)].to_owned()
}

/// How a pair was met (see [`Listing::pair`]).
#[derive(Clone, Copy)]
pub(super) struct Seen {
    /// Listed (a commit of the selection, a tree a ref points at), or only noted as the
    /// hidden side's.
    pub(super) listing: bool,
    pub(super) commit: Option<CommitRef>,
    pub(super) base: Option<ObjectId>,
    pub(super) previous: Option<ObjectId>,
}

impl Seen {
    /// Met on the hidden side.
    pub(super) const HIDDEN: Seen = Seen {
        listing: false,
        commit: None,
        base: None,
        previous: None,
    };

    /// Listed for `commit` (none: a tree a ref points at), with nothing before it.
    pub(super) fn listed(commit: Option<CommitRef>) -> Seen {
        Seen {
            listing: true,
            commit,
            base: None,
            previous: None,
        }
    }
}

/// Paths numbered as they are met: each distinct byte string gets one number, so the sets
/// keyed by it compare paths exactly. (They were keyed by a 64-bit hash of the path once; that
/// hash could be inverted, and a name built to collide with `.env`'s hid the `.env`.) The
/// map's own hash only places entries: a collision costs a comparison, never a wrong answer.
#[derive(Default)]
pub(super) struct PathIds(HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>);

impl PathIds {
    /// The number of `path`.
    pub(super) fn id(&mut self, path: &[u8]) -> u32 {
        if let Some(&id) = self.0.get(path) {
            return id;
        }
        let id = self.0.len() as u32;
        self.0.insert(path.into(), id);
        id
    }
}

/// One path a commit changed, relative to one of its parents (a line of `git diff-tree -r`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Change {
    pub(super) path: Vec<u8>,
    /// What the path held before, and its mode as git reads it, unless it is new (or was a
    /// directory).
    pub(super) old: Option<(ObjectId, u32)>,
    /// What it holds now, and its mode; `None` when it was deleted.
    pub(super) new: Option<(ObjectId, u32)>,
}

/// What a tree entry of `mode` (as git canonicalises it) is as an item: a file, a link, or
/// nothing to scan (a submodule's commit).
pub(super) fn place_of(mode: u32) -> Option<Place> {
    match mode & tree::S_IFMT {
        tree::S_IFREG => Some(Place::File),
        tree::S_IFLNK => Some(Place::Symlink),
        _ => None,
    }
}

/// What one commit changed relative to one parent, and whether the selection leaves that
/// parent out (a commit the server has, the range's base side): its versions were in history
/// before.
pub(super) struct ParentDiff {
    pub(super) hidden: bool,
    pub(super) changes: Vec<Change>,
}

/// Lists the files commit `at` changed (`diffs`, relative to each of its parents in turn;
/// one diff with no parent for a root commit), each with the version it replaced.
pub(super) fn list_changes(listing: &mut Listing, at: Option<CommitRef>, diffs: &[ParentDiff]) {
    for diff in diffs {
        // What a parent the selection leaves out held, at each path this diff names: in
        // history already there (a blob moved from one path to another is compared with
        // itself through these paths, as the hook does).
        if diff.hidden {
            for c in &diff.changes {
                if let Some((old, mode)) = c.old {
                    if place_of(mode).is_some() {
                        listing.hide(old, &c.path);
                    }
                }
            }
        }
        for c in &diff.changes {
            // Deletions bring nothing; submodules carry no content.
            let Some((new, mode)) = c.new else {
                continue;
            };
            let Some(place) = place_of(mode) else {
                continue;
            };
            let old = c
                .old
                .filter(|&(_, m)| place_of(m).is_some())
                .map(|(id, _)| id);
            let seen = Seen {
                listing: true,
                commit: at,
                base: old,
                previous: old.filter(|_| diff.hidden),
            };
            listing.pair(new, &c.path, place, seen);
        }
    }
}

/// Hashes `Pair` keys by their bits: object ids are uniformly random already, and a path's
/// number sets it apart from the same blob's other paths.
#[derive(Default)]
pub(super) struct PairHasher(u64);

impl std::hash::Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(w);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).rotate_left(17);
    }

    fn write_u8(&mut self, n: u8) {
        self.0 ^= u64::from(n) << 40;
    }

    fn write_usize(&mut self, _: usize) {
        // Slice lengths (the object id's): the same for every key.
    }
}

/// What was met of each pair (see [`Listing::pairs`]).
pub(super) type PairMap = HashMap<Pair, u32, std::hash::BuildHasherDefault<PairHasher>>;

/// Trees met, at the path (numbered) they were met at.
pub(super) type TreeSet = HashSet<(ObjectId, u32), std::hash::BuildHasherDefault<PairHasher>>;
