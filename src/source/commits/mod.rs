//! The commit source: what a range of commits, a push or the whole history introduced — each
//! (blob, path) pair once, with the first commit that carried it.
//!
//! A blob's content is scanned once however many paths carry it (the engine groups them), but
//! the policy judges every path: a key under an allowed path (`tests/fixtures/**`) copied to
//! `config/deploy.py`, or a `.env` whose content equals `.env.example`'s, is judged where it
//! landed, as the hook judges it.
//!
//! Commits are visited parents first. A tree already seen at the same path is skipped whole
//! (an unchanged directory costs nothing), and a pair already seen is not listed again. For a
//! range `A..B` everything `A`'s tree holds is marked seen first: only what the range adds is
//! listed. Refs may point at any object, so tips are judged whatever their type: commits,
//! annotated tags (peeled), trees (every blob at its path) and blobs (judged with no
//! path-based exception). Replacement objects (`refs/replace/*`) never apply.
//!
//! gix walks history in process. A push is listed in process too, from the quarantine git
//! keeps the pushed objects in while pre-receive runs and the repository behind it
//! ([`crate::git::quarantine`]), as git's plumbing lists it (`git rev-list --not --all`, then
//! `git diff-tree` per commit: see [`push`]); its blobs are read from there along the delta
//! chains of the pushed pack, as a history scan reads its packs. git's plumbing — `git
//! rev-list`, `git diff-tree`, `git ls-tree`, hardened against the server's configuration and
//! replace refs — lists what the walk does not stand in for (a shallow or grafted server, a
//! layout gix does not read, such as reftable refs), and git's `cat-file` reads only what gix
//! cannot.

mod chains;
mod push;
mod tree;

use super::{BlobRead, SourceError, Standing, Stream};
use crate::git::packs::{Packs, Plan};
use crate::git::plumbing::{self, CatFile};
use crate::git::quarantine::Quarantine;
use crate::git::GitError;
use crate::model::ReadBlob;
use crate::model::{CommitRef, Content, Item, Place, PushedRef, Selection};
use gix::bstr::ByteSlice;
use gix::prelude::FindExt;
use gix::ObjectId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The blobs some commits introduced, at their paths.
pub struct Commits {
    items: Vec<Item>,
    reader: CommitReader,
    /// Where the packs build the items along their delta chains.
    chains: Option<chains::PackChains>,
}

/// Reads the blobs some commits introduced, and the versions they replaced.
pub struct CommitReader {
    /// For each item, the item whose version it replaced at its path, when the walk listed
    /// that version too (see [`BlobRead::base`]).
    bases: Vec<Option<usize>>,
    /// For each item, the version the hidden side held at its path (see
    /// [`Listing::previous`]).
    previous: Vec<Option<ObjectId>>,
    /// For each item, the other paths its blob had on the hidden side.
    elsewhere: Vec<Vec<Vec<u8>>>,
    reader: Reader,
    /// The packs, read directly before gix is asked (see [`CommitReader::read_id`]).
    packs: Option<crate::git::packs::Reader<Arc<Packs>>>,
}

enum Reader {
    Gix(Box<gix::Repository>),
    /// A push's objects and the repository's, in process; git's `cat-file` (started on first
    /// use) for what gix cannot read.
    Pushed(Quarantine, Option<CatFile>),
    Plumbing(Option<CatFile>),
}

/// What the listing collects: items in order, each (blob, path, place) once, and for each the
/// version it replaced.
#[derive(Default)]
struct Listing {
    items: Vec<Item>,
    /// For each item, the version it replaced at its path, when the walk saw one: its lines
    /// were scanned already, so only the lines that differ need scanning.
    bases: Vec<Option<ObjectId>>,
    /// For each item, the version the hidden side (what the server had, the range's base)
    /// held at its path, when the item replaced it: what that version held was in history
    /// already. Never a version this listing itself brings.
    previous: Vec<Option<ObjectId>>,
    /// Every path met, numbered (see [`PathIds`]).
    paths: PathIds,
    /// Each (blob, path, place) met: the item that lists it, or [`HIDDEN`].
    pairs: PairMap,
    /// Blobs refs point at directly, listed once each.
    refs: HashSet<ObjectId>,
    /// Paths each blob had on the hidden side (a few).
    hidden: HashMap<ObjectId, Vec<Vec<u8>>>,
}

/// Hidden-side paths kept per blob: enough to tell a copied fixture from a copied secret.
const HIDDEN_PATHS: usize = 8;

/// A pair met on the hidden side only: nothing lists it.
const HIDDEN: u32 = u32::MAX;

/// A blob at a path, as git records it: a file's or a link's (see [`Place`]). The same
/// blob at the same path is judged again when it changes from a link to a file, where the
/// file-name rules start to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Pair {
    blob: ObjectId,
    path: u32,
    link: bool,
}

impl Listing {
    /// Lists `blob` at `path` as `place` (a file or a link) for `commit`, unless that pair
    /// was met already; with `listing` false only notes it as the hidden side's. `base` and
    /// `previous` are what [`Listing::bases`] and [`Listing::previous`] hold. Returns
    /// whether the pair is new.
    fn pair(&mut self, blob: ObjectId, path: &[u8], place: Place, seen: Seen) -> bool {
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
    fn hide(&mut self, blob: ObjectId, path: &[u8]) {
        let paths = self.hidden.entry(blob).or_default();
        if paths.len() < HIDDEN_PATHS && !paths.iter().any(|p| p == path) {
            paths.push(path.to_vec());
        }
    }

    /// Lists what commit `at` (or, with none, the annotated tag `name`) records besides
    /// files: its message and who wrote it, each an item of its own (`commit 1a2b3c4d5e
    /// message`, `tag v1 tagger`).
    fn texts(&mut self, at: Option<CommitRef>, name: &[u8], texts: &Texts) {
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
    fn detached(&mut self, blob: ObjectId, name: &str) {
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
fn short(id: ObjectId) -> String {
    let hex = id.to_string();
    hex[..hex.len().min(10)].to_owned()
}

/// How a pair was met (see [`Listing::pair`]).
#[derive(Clone, Copy)]
struct Seen {
    /// Listed (a commit of the selection, a tree a ref points at), or only noted as the
    /// hidden side's.
    listing: bool,
    commit: Option<CommitRef>,
    base: Option<ObjectId>,
    previous: Option<ObjectId>,
}

impl Seen {
    /// Met on the hidden side.
    const HIDDEN: Seen = Seen {
        listing: false,
        commit: None,
        base: None,
        previous: None,
    };

    /// Listed for `commit` (none: a tree a ref points at), with nothing before it.
    fn listed(commit: Option<CommitRef>) -> Seen {
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
struct PathIds(HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>);

impl PathIds {
    /// The number of `path`.
    fn id(&mut self, path: &[u8]) -> u32 {
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
struct Change {
    path: Vec<u8>,
    /// What the path held before, and its mode as git reads it, unless it is new (or was a
    /// directory).
    old: Option<(ObjectId, u32)>,
    /// What it holds now, and its mode; `None` when it was deleted.
    new: Option<(ObjectId, u32)>,
}

/// What a tree entry of `mode` (as git canonicalises it) is as an item: a file, a link, or
/// nothing to scan (a submodule's commit).
fn place_of(mode: u32) -> Option<Place> {
    match mode & tree::S_IFMT {
        tree::S_IFREG => Some(Place::File),
        tree::S_IFLNK => Some(Place::Symlink),
        _ => None,
    }
}

/// What one commit changed relative to one parent, and whether the selection leaves that
/// parent out (a commit the server has, the range's base side): its versions were in history
/// before.
struct ParentDiff {
    hidden: bool,
    changes: Vec<Change>,
}

/// Lists the files commit `at` changed (`diffs`, relative to each of its parents in turn;
/// one diff with no parent for a root commit), each with the version it replaced.
fn list_changes(listing: &mut Listing, at: Option<CommitRef>, diffs: &[ParentDiff]) {
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
struct PairHasher(u64);

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
type PairMap = HashMap<Pair, u32, std::hash::BuildHasherDefault<PairHasher>>;

/// Trees met, at the path (numbered) they were met at.
type TreeSet = HashSet<(ObjectId, u32), std::hash::BuildHasherDefault<PairHasher>>;

impl Commits {
    /// Lists what `selection` introduced in the repository around the current directory.
    pub fn open(selection: &Selection) -> Result<Self, SourceError> {
        Self::open_in(std::path::Path::new("."), selection)
    }

    /// [`Commits::open`] for the repository around `dir` (git's plumbing, for a push or a
    /// layout gix does not read, runs in the current directory).
    pub fn open_in(dir: &std::path::Path, selection: &Selection) -> Result<Self, SourceError> {
        if let Selection::Push { tips } = selection {
            let Some((repo, objects)) = pushed_objects(dir) else {
                return Self::open_plumbing(selection);
            };
            let packs = Packs::open_dir(objects.dir(), repo.object_hash())
                .ok()
                .map(Arc::new);
            let listing = match push::list(&repo, &objects, packs.as_deref(), tips) {
                Ok(listing) => listing,
                // What the walk does not stand in for (a shallow or grafted repository, other
                // worktrees' HEADs) is git's to list: the authority on what a push brings.
                Err(SourceError::Git(GitError::Unsupported(_))) => list_plumbing(selection)?,
                // A missing or damaged object fails the push, naming it: never a second
                // opinion that might read less.
                Err(e) => return Err(e),
            };
            // The pushed pack holds versions of a file as deltas of each other (git packs a
            // push as it packs a clone): walked along its chains, as history is.
            let plan = packs.and_then(|p| crate::git::packs::plan(p, &listing.items));
            return Ok(Self::new(listing, Reader::Pushed(objects, None), plan));
        }
        let repo = open_for_history(dir)?;
        if crate::git::unsupported(&repo).is_some() {
            return Self::open_plumbing(selection);
        }
        // The packs, read directly: see `crate::git::packs`.
        let packs = Packs::open(&repo).ok().map(Arc::new);
        let listing = list_gix(&repo, packs.as_deref(), selection)?;
        // Where git packed versions of a file against each other (as it does when it packs),
        // their delta chains are walked; otherwise each version is read and compared with the
        // one before.
        let plan = packs
            .clone()
            .and_then(|p| crate::git::packs::plan(p, &listing.items));
        // What the plan does not build is read one by one: from the same packs, where they
        // hold it.
        let one_by_one =
            packs.map(|p| crate::git::packs::Reader::keeping(p, ONE_BY_ONE_KEPT_BYTES));
        let mut commits = Self::new(listing, Reader::Gix(Box::new(repo)), plan);
        commits.reader.packs = one_by_one;
        Ok(commits)
    }

    fn open_plumbing(selection: &Selection) -> Result<Self, SourceError> {
        Ok(Self::new(
            list_plumbing(selection)?,
            Reader::Plumbing(None),
            None,
        ))
    }

    fn new(listing: Listing, reader: Reader, plan: Option<Plan>) -> Self {
        let mut elsewhere = Vec::with_capacity(listing.items.len());
        let mut first: HashMap<ObjectId, usize> = HashMap::new();
        for (index, item) in listing.items.iter().enumerate() {
            let mut other = Vec::new();
            if let Content::Blob(id) = item.content {
                first.entry(id).or_insert(index);
                if let Some(paths) = listing.hidden.get(&id) {
                    other.extend(paths.iter().filter(|p| **p != item.path).cloned());
                }
            }
            elsewhere.push(other);
        }
        // A version the walk saw but did not list (the hidden side's) was not scanned here:
        // its lines are no base for windows.
        let bases = listing
            .bases
            .iter()
            .map(|b| b.and_then(|b| first.get(&b).copied()))
            .collect();
        Commits {
            items: listing.items,
            reader: CommitReader {
                bases,
                previous: listing.previous,
                elsewhere,
                reader,
                packs: None,
            },
            chains: plan.map(chains::PackChains::new),
        }
    }

    /// How many items the packs build along their delta chains, and how many are left to
    /// read one by one (`None` without a plan).
    pub fn planned(&self) -> Option<(usize, usize)> {
        self.chains.as_ref().map(chains::PackChains::planned)
    }
}

impl CommitReader {
    fn read_id(&mut self, id: ObjectId, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, GitError> {
        if let Some(packs) = &mut self.packs {
            // A blob stored as a delta is built from the nearest object the reader kept:
            // gix's cache keeps only the chains' bases, and where `git fast-import` chained
            // each blob to the one written before it, fifty deep, every version rebuilt its
            // chain (5 billion instructions of inflating for 5,000 versions).
            let read = packs
                .read_blob(&id, cap)
                .map_err(|e| GitError::read(format!("blob {id}"), e))?;
            if let Some(data) = read {
                buf.clear();
                buf.extend_from_slice(&data);
                return Ok(ReadBlob::Read);
            }
        }
        match &mut self.reader {
            Reader::Gix(repo) => crate::git::read_blob(repo, id, buf, cap),
            Reader::Pushed(objects, cat) => match objects.read_blob(id, buf, cap) {
                Ok(read) => Ok(read),
                // git accepted these objects and reads them in every layout: where gix cannot
                // (a layout it does not know), git's answer counts. What git cannot read
                // either fails the scan, with gix's reason (it names the damage; git's
                // `cat-file --batch` only says "missing").
                Err(e) => match cat_file(cat).and_then(|c| Ok(c.read(id, buf, cap)?)) {
                    Ok(read) => Ok(read),
                    Err(_) => Err(e),
                },
            },
            Reader::Plumbing(cat) => Ok(cat_file(cat)?.read(id, buf, cap)?),
        }
    }
}

/// Lists what `selection` introduced with git's plumbing (`git rev-list`, `git diff-tree`,
/// `git ls-tree`): for a layout gix does not read, and what the in-process walk of a push
/// does not stand in for.
fn list_plumbing(selection: &Selection) -> Result<Listing, SourceError> {
    let (tips, hidden): (Vec<PushedRef>, Vec<String>) = match selection {
        Selection::Push { tips } => (tips.clone(), vec!["--not".into(), "--all".into()]),
        Selection::History { branch: None } => (
            plumbing::refs()?
                .into_iter()
                .map(|(id, name)| PushedRef { id, name })
                .collect(),
            Vec::new(),
        ),
        Selection::History { branch: Some(b) } => (vec![named(plumbing_commit(b)?, b)], Vec::new()),
        Selection::Range(range) => {
            let (a, b) = split_range(range)?;
            let base = plumbing_commit(a)?;
            (
                vec![named(plumbing_commit(b)?, b)],
                vec!["--not".into(), base.to_string()],
            )
        }
    };
    let mut listing = Listing::default();
    if let Selection::Range(range) = selection {
        // What the base's tree holds is not new.
        let (a, _) = split_range(range)?;
        for (mode, id, path) in plumbing::ls_tree(plumbing_commit(a)?)? {
            if let Some(place) = place_of(octal_mode(&mode)?) {
                listing.pair(id, &path, place, Seen::HIDDEN);
            }
        }
    }
    let tips = peel_plumbing(tips)?;
    if !tips.commits.is_empty() {
        let mut args: Vec<String> = tips.commits.iter().map(ToString::to_string).collect();
        args.extend(hidden);
        let commits = plumbing::commits(&args)?;
        let listed: HashSet<ObjectId> = commits.iter().map(|c| c.id).collect();
        let ids: Vec<ObjectId> = commits.iter().map(|c| c.id).collect();
        let raw = plumbing::raw_objects(&ids)?;
        for (commit, raw) in commits.into_iter().zip(raw) {
            let parsed = gix::objs::CommitRef::from_bytes(&raw, commit.id.kind())
                .map_err(|e| GitError::read(format!("commit {}", commit.id), e))?;
            let texts = Texts::of_commit(&parsed);
            let at = Some(CommitRef {
                id: commit.id,
                author_time: commit.author_time,
            });
            // A root commit's one diff has no parent, and nothing before it was hidden.
            let hidden = |n: usize| commit.parents.get(n).is_some_and(|p| !listed.contains(p));
            let mut diffs = Vec::with_capacity(commit.diffs.len());
            for (n, records) in commit.diffs.into_iter().enumerate() {
                diffs.push(ParentDiff {
                    hidden: hidden(n),
                    changes: records
                        .into_iter()
                        .map(raw_change)
                        .collect::<Result<_, _>>()?,
                });
            }
            list_changes(&mut listing, at, &diffs);
            listing.texts(at, b"", &texts);
        }
    }
    for tree in tips.trees {
        for (mode, id, path) in plumbing::ls_tree(tree)? {
            if let Some(place) = place_of(octal_mode(&mode)?) {
                listing.pair(id, &path, place, Seen::listed(None));
            }
        }
    }
    for (blob, name) in tips.blobs {
        listing.detached(blob, &name);
    }
    for (name, texts) in &tips.tags {
        listing.texts(None, name, texts);
    }
    Ok(listing)
}

/// A line of `git diff-tree --raw` as a [`Change`].
fn raw_change(r: plumbing::RawRecord) -> Result<Change, SourceError> {
    let old = match r.old_id {
        Some(id) => Some((id, octal_mode(&r.old_mode)?)),
        None => None,
    };
    let new = match r.status {
        b'D' => None,
        _ => Some((r.new_id, octal_mode(&r.new_mode)?)),
    };
    Ok(Change {
        old,
        new,
        path: r.path,
    })
}

/// A mode as git prints it (octal digits), canonicalised as git reads a tree's (see
/// [`tree::canon_mode`]). Anything else is not git's output: an error, never a guess (a
/// guess could read a file as a submodule, which is not scanned).
fn octal_mode(digits: &[u8]) -> Result<u32, SourceError> {
    let mode = digits.iter().try_fold(0u32, |m, &d| match d {
        b'0'..=b'7' => m.checked_mul(8).map(|m| m | u32::from(d - b'0')),
        _ => None,
    });
    let mode = mode
        .filter(|_| !digits.is_empty())
        .ok_or_else(|| SourceError::from(plumbing::PlumbingError::Output("diff-tree")))?;
    Ok(tree::canon_mode(mode))
}

/// The `git cat-file --batch` in `slot`, started on first use.
fn cat_file(slot: &mut Option<CatFile>) -> Result<&mut CatFile, GitError> {
    Ok(match slot {
        Some(cat) => cat,
        slot @ None => slot.insert(CatFile::spawn()?),
    })
}

/// The object databases a push's blobs are read from in process, and their object format:
/// the quarantine git set up for pre-receive and its alternates (see
/// [`crate::git::quarantine`]), or the repository's own objects outside a hook. `None` where
/// gix does not read the repository (git's plumbing reads the blobs then), and with
/// `KEYWARD_GIT_BACKEND=cli` (troubleshooting, and the tests that compare both readers).
fn pushed_objects(dir: &std::path::Path) -> Option<(gix::Repository, Quarantine)> {
    if std::env::var_os("KEYWARD_GIT_BACKEND").is_some_and(|v| v == "cli") {
        return None;
    }
    let repo = crate::git::open_in(dir).ok()?;
    if crate::git::unsupported(&repo).is_some() {
        return None;
    }
    let hash = repo.object_hash();
    let objects = match Quarantine::from_env(hash) {
        Ok(Some(objects)) => objects,
        Ok(None) => Quarantine::open(repo.objects.store_ref().path().to_owned(), &[], hash).ok()?,
        Err(_) => return None,
    };
    Some((repo, objects))
}

impl super::Source for Commits {
    fn standing(&self) -> Standing {
        Standing::Committed
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn parts(&mut self) -> super::Parts<'_> {
        super::Parts {
            items: &self.items,
            reader: &mut self.reader,
            feed: match &self.chains {
                Some(chains) => super::feed::Feed::Chains(chains),
                None => super::feed::Feed::Sequential,
            },
        }
    }
}

impl BlobRead for CommitReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError> {
        let Content::Blob(id) = item.content else {
            return Err(SourceError::Input("a commit's item is not a blob".into()));
        };
        Ok(self.read_id(id, buf, cap)?)
    }

    /// The version this one replaced when the hidden side held it (the base of a range,
    /// what the server had before a push): a secret it holds already was not introduced
    /// here. A version the selection itself brings is judged as its own item, never as
    /// history.
    fn previous(
        &mut self,
        index: usize,
        _item: &Item,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        let Some(previous) = self.previous[index] else {
            return Ok(false);
        };
        Ok(self.read_id(previous, buf, cap)? == ReadBlob::Read)
    }

    fn elsewhere(&self, index: usize) -> &[Vec<u8>] {
        &self.elsewhere[index]
    }

    fn base(&self, index: usize) -> Option<usize> {
        self.bases[index]
    }

    /// A blob as a stream, for one too large to hold (what is committed is never let through
    /// unscanned): a loose one inflated here as it is read, a packed one through `git cat-file
    /// blob`, which streams it (gix would build it whole).
    fn stream(
        &mut self,
        item: &Item,
        from: u64,
        cap: u64,
    ) -> Result<Option<Stream<'_>>, SourceError> {
        let Content::Blob(id) = item.content else {
            return Ok(None);
        };
        let in_range = |size: u64| size > from && size <= cap;
        let dirs: Vec<std::path::PathBuf> = match &self.reader {
            Reader::Gix(repo) => vec![repo.objects.store_ref().path().to_owned()],
            Reader::Pushed(objects, _) => objects.dirs().to_vec(),
            Reader::Plumbing(_) => Vec::new(),
        };
        for dir in dirs {
            let loose = crate::git::loose::Loose::new(dir);
            let mut scratch = crate::git::loose::Scratch::default();
            if let Some(size) = loose.open(id, &mut scratch)? {
                if !in_range(size) {
                    return Ok(None);
                }
                return Ok(Some((Box::new(loose.stream(&mut scratch)?), size)));
            }
        }
        let size = match &self.reader {
            Reader::Gix(repo) => gix::odb::Header::try_header(&repo.objects, &id)
                .map_err(|e| GitError::read(format!("blob {id}"), e))?
                .map(|h| h.size())
                .ok_or_else(|| GitError::read(format!("blob {id}"), not_found()))?,
            Reader::Pushed(objects, _) => objects.blob_size(id)?,
            Reader::Plumbing(_) => plumbing::blob_size(id)?,
        };
        if !in_range(size) {
            return Ok(None);
        }
        Ok(Some((Box::new(plumbing::blob_stream(id)?), size)))
    }
}

/// An object that is not there.
fn not_found() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "not in the repository")
}

/// A ref named for the report.
fn named(id: ObjectId, name: &str) -> PushedRef {
    PushedRef {
        id,
        name: name.to_owned(),
    }
}

/// `A..B` → `(A, B)`.
fn split_range(range: &str) -> Result<(&str, &str), SourceError> {
    let not_a_range = || SourceError::Input(format!("`{range}` is not a range (use A..B)"));
    let (a, b) = range.split_once("..").ok_or_else(not_a_range)?;
    if a.is_empty() || b.is_empty() || b.starts_with('.') {
        return Err(not_a_range());
    }
    Ok((a, b))
}

/// The commit `revision` names, through git.
fn plumbing_commit(revision: &str) -> Result<ObjectId, SourceError> {
    plumbing::commit_of(revision)?.ok_or_else(|| unknown(revision, false))
}

/// An unknown revision; in a shallow clone the base is often simply not fetched.
fn unknown(revision: &str, shallow: bool) -> SourceError {
    SourceError::Revision {
        revision: crate::redact::escape(revision.as_bytes()),
        hint: shallow.then_some(
            "this clone is shallow: fetch the history the range needs (actions/checkout with fetch-depth: 0, or git fetch --unshallow)",
        ),
    }
}

/// Tips sorted by what they point at, annotated tags peeled.
#[derive(Default)]
struct Tips {
    commits: Vec<ObjectId>,
    trees: Vec<ObjectId>,
    blobs: Vec<(ObjectId, String)>,
    /// The annotated tags met on the way, each once: its name and what it records.
    tags: Vec<(Vec<u8>, Texts)>,
}

/// The name of an annotated tag as reports show it: its `tag` line, or the ref's short name
/// when the object does not say.
fn tag_name(tag: &gix::objs::TagRef<'_>, by: &str) -> Vec<u8> {
    match tag.name.is_empty() {
        false => tag.name.to_vec(),
        true => by
            .strip_prefix("refs/tags/")
            .unwrap_or(by)
            .as_bytes()
            .to_vec(),
    }
}

/// Longer tag chains than anyone writes mean a loop.
const MAX_PEEL: usize = 64;

fn peel_plumbing(refs: Vec<PushedRef>) -> Result<Tips, SourceError> {
    let mut tips = Tips::default();
    let mut pending = refs;
    let mut tags_seen = HashSet::new();
    for _ in 0..MAX_PEEL {
        if pending.is_empty() {
            return Ok(tips);
        }
        let ids: Vec<ObjectId> = pending.iter().map(|r| r.id).collect();
        let kinds = plumbing::object_kinds(&ids)?;
        let mut next = Vec::new();
        for (r, kind) in pending.into_iter().zip(kinds) {
            match kind.as_str() {
                "commit" => tips.commits.push(r.id),
                "tree" => tips.trees.push(r.id),
                "blob" => tips.blobs.push((r.id, r.name)),
                "tag" => {
                    let raw = plumbing::tag_object(r.id)?;
                    let tag = gix::objs::TagRef::from_bytes(&raw, r.id.kind())
                        .map_err(|e| GitError::read(format!("tag {}", r.id), e))?;
                    if tags_seen.insert(r.id) {
                        tips.tags
                            .push((tag_name(&tag, &r.name), Texts::of_tag(&tag)));
                    }
                    next.push(PushedRef {
                        id: tag.target(),
                        name: r.name,
                    });
                }
                other => {
                    return Err(SourceError::Input(format!(
                        "{} points at a {other}",
                        crate::redact::escape(r.name.as_bytes())
                    )))
                }
            }
        }
        pending = next;
    }
    Err(SourceError::Input(
        "an annotated tag chain does not end".into(),
    ))
}

/// Opens the repository around `dir` (bare repositories too), with a cache of delta bases:
/// versions of a file are stored as chains of deltas, and reading history oldest first would
/// otherwise rebuild each chain from its base every time.
fn open_for_history(dir: &std::path::Path) -> Result<gix::Repository, GitError> {
    let mut repo = crate::git::open_in(dir)?;
    repo.objects.set_pack_cache(|| {
        Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
            PACK_CACHE_BYTES,
        ))
    });
    Ok(repo)
}

/// Memory for delta bases during a history scan.
const PACK_CACHE_BYTES: usize = 48 << 20;

/// Memory for the objects the one-by-one reader keeps: versions are read in history order,
/// so a chain is followed from where the last read left it (the last few objects).
const ONE_BY_ONE_KEPT_BYTES: usize = 16 << 20;

/// The commit a revision names (`main`, `origin/main`, `HEAD~3`, an id).
fn commit_id(repo: &gix::Repository, spec: &str) -> Result<ObjectId, SourceError> {
    let unknown = || unknown(spec, repo.is_shallow().unwrap_or(false));
    let id = repo
        .rev_parse_single(spec.as_bytes().as_bstr())
        .map_err(|_| unknown())?;
    let commit = id
        .object()
        .map_err(|e| {
            GitError::read(
                format!("revision {}", crate::redact::escape(spec.as_bytes())),
                e,
            )
        })?
        .peel_to_commit()
        .map_err(|_| unknown())?;
    Ok(commit.id)
}

/// Every ref, named, pointing wherever it points.
fn all_refs(repo: &gix::Repository) -> Result<Vec<PushedRef>, SourceError> {
    let refs = repo.references().map_err(|e| GitError::read("refs", e))?;
    let mut tips = Vec::new();
    for r in refs.all().map_err(|e| GitError::read("refs", e))? {
        let r = r.map_err(|e| GitError::read("a ref", std::io::Error::other(e.to_string())))?;
        let name = r.name().as_bstr().to_string();
        // A symbolic ref names another ref, listed on its own.
        let Some(id) = r.try_id().map(|id| id.detach()) else {
            continue;
        };
        tips.push(PushedRef { id, name });
    }
    Ok(tips)
}

/// Sorts `refs` by what they point at, peeling annotated tags, in process; commits sorted,
/// each once.
fn peel_gix(repo: &gix::Repository, refs: Vec<PushedRef>) -> Result<Tips, SourceError> {
    let mut tips = peel(repo, repo.object_hash(), refs)?;
    tips.commits.sort();
    tips.commits.dedup();
    Ok(tips)
}

/// Sorts `refs` by what they point at, in their order, peeling annotated tags (read through
/// `objects`, of object format `hash`).
fn peel(
    objects: &dyn Objects,
    hash: gix::hash::Kind,
    refs: Vec<PushedRef>,
) -> Result<Tips, SourceError> {
    let mut tips = Tips::default();
    let mut buf = Vec::new();
    let mut tags_seen = HashSet::new();
    for r in refs {
        let mut id = r.id;
        let mut kind = None;
        for _ in 0..MAX_PEEL {
            let found = objects.find_kind(id, &mut buf).map_err(|e| {
                GitError::read(
                    format!("{} ({id})", crate::redact::escape(r.name.as_bytes())),
                    e,
                )
            })?;
            if found != gix::objs::Kind::Tag {
                kind = Some(found);
                break;
            }
            let tag = gix::objs::TagRef::from_bytes(&buf, hash)
                .map_err(|e| GitError::read(format!("tag {id}"), e))?;
            if tags_seen.insert(id) {
                tips.tags
                    .push((tag_name(&tag, &r.name), Texts::of_tag(&tag)));
            }
            id = tag.target();
        }
        match kind {
            Some(gix::objs::Kind::Commit) => tips.commits.push(id),
            Some(gix::objs::Kind::Tree) => tips.trees.push(id),
            Some(gix::objs::Kind::Blob) => tips.blobs.push((id, r.name)),
            _ => {
                return Err(SourceError::Input(format!(
                    "{}: an annotated tag chain does not end",
                    crate::redact::escape(r.name.as_bytes())
                )))
            }
        }
    }
    Ok(tips)
}

/// Lists what `selection` introduced, parents first. Trees are read from `packs` where they
/// are there (see [`crate::git::packs::Reader`]), otherwise through gix.
fn list_gix(
    repo: &gix::Repository,
    packs: Option<&Packs>,
    selection: &Selection,
) -> Result<Listing, SourceError> {
    let (refs, hidden) = match selection {
        Selection::Range(range) => {
            let (a, b) = split_range(range)?;
            (
                vec![named(commit_id(repo, b)?, b)],
                vec![commit_id(repo, a)?],
            )
        }
        Selection::History { branch: Some(b) } => (vec![named(commit_id(repo, b)?, b)], Vec::new()),
        Selection::History { branch: None } => (all_refs(repo)?, Vec::new()),
        // A push is listed as git's plumbing lists it, not as a range (see `push`).
        Selection::Push { .. } => {
            return Err(GitError::Unsupported("a push outside its own listing".into()).into())
        }
    };
    let tips = peel_gix(repo, refs)?;
    let mut walk = Walk {
        repo,
        reader: packs.map(crate::git::packs::Reader::new),
        seen_trees: TreeSet::default(),
        last_at: Vec::new(),
        listing: Listing::default(),
        depth: 0,
    };
    // What the hidden side already has is not new.
    for id in &hidden {
        let tree = tree_of(repo, *id)?;
        walk.tree(tree, b"", None, false)?;
    }
    if !tips.commits.is_empty() {
        let shallow = repo.is_shallow().unwrap_or(true);
        let newest_first = match walk.reader.as_mut() {
            // A whole history: each commit read once, from the packs where it is there.
            Some(reader) if hidden.is_empty() && !shallow => {
                walk_by_time(repo, reader, &tips.commits)?
            }
            // A range (gix stops where the hidden side begins), or a shallow clone (whose
            // boundary gix knows).
            _ => walk_with_gix(repo, tips.commits, hidden)?,
        };
        for commit in newest_first.into_iter().rev() {
            walk.tree(commit.tree, b"", Some(commit.at), true)?;
            walk.listing.texts(Some(commit.at), b"", &commit.texts);
        }
    }
    for tree in tips.trees {
        walk.tree(tree, b"", None, true)?;
    }
    let mut listing = walk.listing;
    for (blob, name) in tips.blobs {
        listing.detached(blob, &name);
    }
    for (name, texts) in &tips.tags {
        listing.texts(None, name, texts);
    }
    Ok(listing)
}

/// A commit of the walk, with what the listing needs of it.
struct Walked {
    at: CommitRef,
    tree: ObjectId,
    texts: Texts,
}

/// What a commit or an annotated tag records besides files: its message, and the names and
/// emails of who wrote it — text a key can be pasted into as easily as a file.
#[derive(Clone, Default)]
struct Texts {
    message: Arc<[u8]>,
    /// `Name <email>` of the author, the committer or the tagger, as each item names them.
    people: Vec<(&'static str, Arc<[u8]>)>,
}

impl Texts {
    /// What commit `commit` records besides its tree.
    fn of_commit(commit: &gix::objs::CommitRef<'_>) -> Texts {
        let mut people = vec![("author", person(commit.author(), commit.author))];
        let committer = person(commit.committer(), commit.committer);
        if committer != people[0].1 {
            people.push(("committer", committer));
        }
        Texts {
            message: commit.message.to_vec().into(),
            people,
        }
    }

    /// What tag `tag` records besides its target.
    fn of_tag(tag: &gix::objs::TagRef<'_>) -> Texts {
        let tagger = tag
            .tagger
            .map(|raw| {
                let parsed = tag.tagger().ok().flatten().ok_or(());
                ("tagger", person(parsed, raw))
            })
            .into_iter()
            .collect();
        Texts {
            message: tag.message.to_vec().into(),
            people: tagger,
        }
    }
}

/// `Name <email>` of a signature, or its raw header when it does not parse.
fn person<E>(parsed: Result<gix::actor::SignatureRef<'_>, E>, raw: &gix::bstr::BStr) -> Arc<[u8]> {
    match parsed {
        Ok(s) => {
            let parts: [&[u8]; 4] = [s.name, b" <", s.email, b">"];
            parts.concat().into()
        }
        Err(_) => raw.to_vec().into(),
    }
}

/// A commit read by [`walk_by_time`], waiting in its queue.
struct Queued {
    walked: Walked,
    parents: Vec<ObjectId>,
}

/// The commits reachable from `tips`, newest first by committer date (as gix's walk and
/// `git log` list them), each read once: the walk gets its parents, date, tree and author
/// date from one read (gix's walk reads each commit for its parents and date, and the
/// listing read it again for its tree: two thirds of the listing's reads of commits).
fn walk_by_time(
    repo: &gix::Repository,
    reader: &mut crate::git::packs::Reader<&Packs>,
    tips: &[ObjectId],
) -> Result<Vec<Walked>, SourceError> {
    // Ordered by date, then by when the commit was found (the earlier first); the second
    // number is its index in `waiting`.
    let mut queue = std::collections::BinaryHeap::new();
    let mut waiting: Vec<Option<Queued>> = Vec::new();
    let mut seen = gix::hashtable::HashSet::default();
    let mut buf = Vec::new();
    let mut found = |id: ObjectId,
                     queue: &mut std::collections::BinaryHeap<_>,
                     waiting: &mut Vec<Option<Queued>>| {
        if !seen.insert(id) {
            return Ok(());
        }
        let (time, commit) = read_commit(repo, repo.object_hash(), Some(reader), id, &mut buf)?;
        queue.push((time, std::cmp::Reverse(waiting.len())));
        waiting.push(Some(commit));
        Ok::<(), SourceError>(())
    };
    for &tip in tips {
        found(tip, &mut queue, &mut waiting)?;
    }
    let mut newest_first = Vec::new();
    while let Some((_, std::cmp::Reverse(index))) = queue.pop() {
        let Queued { walked, parents } = waiting[index].take().expect("queued once");
        for parent in parents {
            found(parent, &mut queue, &mut waiting)?;
        }
        newest_first.push(walked);
    }
    Ok(newest_first)
}

/// Commit `id` (of object format `hash`), from the packs where `reader` builds it or else
/// through `objects`, and its committer date.
fn read_commit(
    objects: &dyn Objects,
    hash: gix::hash::Kind,
    reader: Option<&mut crate::git::packs::Reader<&Packs>>,
    id: ObjectId,
    buf: &mut Vec<u8>,
) -> Result<(i64, Queued), SourceError> {
    let packed = read_object(objects, reader, id, gix::objs::Kind::Commit, buf)?;
    parse_commit(id, packed.as_deref().unwrap_or(buf), hash)
}

/// Where the commits and trees a listing needs are read when the packs reader cannot build
/// them: the repository's object database, or a push's (quarantine and alternates).
trait Objects {
    /// Reads object `id` into `buf` and says what kind it is.
    fn find_kind(&self, id: ObjectId, buf: &mut Vec<u8>) -> Result<gix::objs::Kind, GitError>;
}

impl Objects for gix::Repository {
    fn find_kind(&self, id: ObjectId, buf: &mut Vec<u8>) -> Result<gix::objs::Kind, GitError> {
        Ok(self
            .objects
            .find(&id, buf)
            .map_err(|e| GitError::read(format!("object {id}"), e))?
            .kind)
    }
}

impl Objects for Quarantine {
    fn find_kind(&self, id: ObjectId, buf: &mut Vec<u8>) -> Result<gix::objs::Kind, GitError> {
        self.find(id, buf)
    }
}

/// Object `id`, which must be a `kind`: built from the packs where `reader` can, read
/// through `objects` into `buf` otherwise. Returns the packed object's bytes, or `None` when
/// the bytes are in `buf`.
fn read_object(
    objects: &dyn Objects,
    reader: Option<&mut crate::git::packs::Reader<&Packs>>,
    id: ObjectId,
    kind: gix::objs::Kind,
    buf: &mut Vec<u8>,
) -> Result<Option<std::rc::Rc<Vec<u8>>>, SourceError> {
    let err = |e: &dyn std::fmt::Display| {
        GitError::read(format!("{kind} {id}"), std::io::Error::other(e.to_string()))
    };
    let packed = match reader {
        Some(reader) => reader.read(&id).map_err(|e| err(&e))?,
        None => None,
    };
    let found = match packed {
        Some((found, data)) if found == kind => return Ok(Some(data)),
        Some((found, _)) => found,
        None => objects.find_kind(id, buf)?,
    };
    if found != kind {
        return Err(err(&format!("a {found}, not a {kind}")).into());
    }
    Ok(None)
}

/// Commit `id` from its bytes: its committer date and what the walk needs of it.
fn parse_commit(
    id: ObjectId,
    data: &[u8],
    hash: gix::hash::Kind,
) -> Result<(i64, Queued), SourceError> {
    let commit = gix::objs::CommitRef::from_bytes(data, hash)
        .map_err(|e| GitError::read(format!("commit {id}"), e))?;
    let author_time = commit
        .author()
        .ok()
        .and_then(|a| a.time().ok())
        .map_or(0, |t| t.seconds);
    let queued = Queued {
        walked: Walked {
            at: CommitRef { id, author_time },
            tree: commit.tree(),
            texts: Texts::of_commit(&commit),
        },
        parents: commit.parents().collect(),
    };
    Ok((commit.time().map_or(0, |t| t.seconds), queued))
}

/// [`walk_by_time`] by gix's walk, which leaves out what `hidden` reaches and stops at a
/// shallow clone's boundary.
fn walk_with_gix(
    repo: &gix::Repository,
    tips: Vec<ObjectId>,
    hidden: Vec<ObjectId>,
) -> Result<Vec<Walked>, SourceError> {
    let walk_err = |e| GitError::read("the commit graph", e);
    let iter = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(walk_err)?;
    let mut newest_first = Vec::new();
    for info in iter {
        let id = info.map_err(|e| GitError::read("the commit graph", e))?.id;
        let commit = repo
            .find_commit(id)
            .map_err(|e| GitError::read(format!("commit {id}"), e))?;
        let (_, queued) = parse_commit(id, &commit.data, repo.object_hash())?;
        newest_first.push(queued.walked);
    }
    Ok(newest_first)
}

fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId, SourceError> {
    let err = |e| GitError::read(format!("commit {commit}"), e);
    Ok(repo
        .find_commit(commit)
        .map_err(err)?
        .tree_id()
        .map_err(|e| GitError::read(format!("commit {commit}"), e))?
        .detach())
}

/// What a walk last met at a path.
#[derive(Clone, Copy)]
struct Last {
    blob: ObjectId,
    place: Place,
    /// On the hidden side (the range's base).
    hidden: bool,
}

struct Walk<'r> {
    repo: &'r gix::Repository,
    reader: Option<crate::git::packs::Reader<&'r Packs>>,
    /// Trees seen, at the path (numbered in the listing's [`PathIds`]) they were seen at:
    /// the same tree at another path (a copied directory) holds pairs not seen yet.
    seen_trees: TreeSet,
    /// What was last listed (or noted as the hidden side's) at each path (numbered).
    /// (By path number: the numbers are dense, so a vector, not a second map.)
    last_at: Vec<Option<Last>>,
    listing: Listing,
    /// How deep the tree being visited is (see [`tree::MAX_TREE_DEPTH`]).
    depth: usize,
}

impl Walk<'_> {
    /// Visits tree `id` at `prefix` (which ends in `/` unless it is the root): listed for
    /// `commit`, or for a tree a ref points at (no commit), unless it is the hidden side
    /// (`listing` false: noted, not listed).
    fn tree(
        &mut self,
        id: ObjectId,
        prefix: &[u8],
        commit: Option<CommitRef>,
        listing: bool,
    ) -> Result<(), SourceError> {
        self.visit(id, &mut prefix.to_vec(), commit, listing)
    }

    /// Visits tree `id` at `path`, which holds its prefix and is left as it was.
    fn visit(
        &mut self,
        id: ObjectId,
        path: &mut Vec<u8>,
        commit: Option<CommitRef>,
        listing: bool,
    ) -> Result<(), SourceError> {
        let at = self.listing.paths.id(path);
        if !self.seen_trees.insert((id, at)) {
            return Ok(());
        }
        // The tree's bytes are owned here (not borrowed from `self`), for the recursion.
        let mut read = Vec::new();
        let kind = gix::objs::Kind::Tree;
        let packed = read_object(self.repo, self.reader.as_mut(), id, kind, &mut read)?;
        let data: &[u8] = packed.as_deref().unwrap_or(&read);
        let prefix = path.len();
        let mut entries = tree::Entries::new(Some(id), data, self.repo.object_hash());
        while let Some(entry) = entries.next()? {
            path.truncate(prefix);
            path.extend_from_slice(entry.filename);
            if entry.is_tree() {
                path.push(b'/');
                self.depth += 1;
                if self.depth > tree::MAX_TREE_DEPTH {
                    return Err(GitError::Unsupported(format!(
                        "tree {id} nests trees deeper than {} levels",
                        tree::MAX_TREE_DEPTH
                    ))
                    .into());
                }
                self.visit(entry.oid.to_owned(), path, commit, listing)?;
                self.depth -= 1;
            } else if let Some(place) = place_of(entry.mode) {
                // Files and links: git stores and serves a link's blob as it does a file's.
                // A submodule's entry names a commit: no content here.
                let at = self.listing.paths.id(path);
                let last = self.last_at.get(at as usize).copied().flatten();
                let blob = entry.oid.to_owned();
                // What was last seen at this path, again (most entries of a tree that changed
                // beside one file): a pair met already, skipped at once.
                if last.is_some_and(|l| l.blob == blob && l.place == place) {
                    continue;
                }
                let seen = Seen {
                    listing,
                    commit,
                    base: last.map(|l| l.blob).filter(|&b| b != blob),
                    previous: last.filter(|l| l.hidden).map(|l| l.blob),
                };
                if self.listing.pair(blob, path, place, seen) {
                    let hidden = !listing;
                    let slot = at as usize;
                    if self.last_at.len() <= slot {
                        self.last_at.resize(slot + 1, None);
                    }
                    self.last_at[slot] = Some(Last {
                        blob,
                        place,
                        hidden,
                    });
                }
            }
        }
        path.truncate(prefix);
        Ok(())
    }
}

/// Parses pre-receive input: `old new ref` per line. Returns the refs created or moved
/// (deletions, whose new id is all zeros, introduce nothing).
pub fn push_tips(input: &str) -> Result<Vec<PushedRef>, SourceError> {
    let mut tips = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_old, new, name] = parts[..] else {
            return Err(SourceError::Input(format!(
                "pre-receive line {}: expected `old new ref`",
                n + 1
            )));
        };
        let id = ObjectId::from_hex(new.as_bytes()).map_err(|_| {
            SourceError::Input(format!(
                "pre-receive line {}: `{}` is not an object id",
                n + 1,
                crate::redact::escape(new.as_bytes())
            ))
        })?;
        if !id.is_null() {
            tips.push(PushedRef {
                id,
                name: name.to_owned(),
            });
        }
    }
    Ok(tips)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_receive_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let input = format!("{zero} {a} refs/heads/new\n{a} {zero} refs/heads/gone\n");
        let tips = push_tips(&input).expect("valid");
        assert_eq!(tips.len(), 1);
        assert_eq!(tips[0].name, "refs/heads/new");
        assert!(push_tips("nonsense").is_err());
        assert!(push_tips(&format!("{zero} xyz refs/heads/x")).is_err());
    }

    /// `git args` in `dir`, authored and committed at `date`.
    fn git(dir: &std::path::Path, args: &[&str], date: i64) {
        let stamp = format!("{date} +0000");
        let dates = [
            ("GIT_AUTHOR_DATE", stamp.as_str()),
            ("GIT_COMMITTER_DATE", &stamp),
        ];
        crate::git::test_git(dir, args, &dates);
    }

    /// Commit ids, author dates and trees, in the order a walk lists them.
    fn walked(list: Vec<Walked>) -> Vec<(ObjectId, i64, ObjectId)> {
        list.into_iter()
            .map(|w| (w.at.id, w.at.author_time, w.tree))
            .collect()
    }

    /// The walk that reads each commit once lists what gix's walk lists, in its order: over
    /// branches and merges, with a clock set back on one branch (children older than their
    /// parents), from loose objects and from a pack.
    #[test]
    fn the_walk_by_date_lists_what_gix_lists_in_its_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"], 0);
        let mut date = 1_700_000_000;
        let commit = |name: &str, date: i64| {
            std::fs::write(d.join(name), format!("{name} {date}\n")).expect("write");
            git(d, &["add", name], date);
            git(d, &["commit", "-q", "-m", name], date);
        };
        for i in 0..6 {
            date += 100;
            commit(&format!("main{i}"), date);
        }
        git(d, &["checkout", "-q", "-b", "side", "HEAD~3"], date);
        for i in 0..5 {
            // A clock set back: each commit of the side branch older than the one before.
            commit(&format!("side{i}"), date - 1_000 - 50 * i);
        }
        git(d, &["checkout", "-q", "main"], date);
        date += 100;
        git(d, &["merge", "-q", "--no-ff", "-m", "merge", "side"], date);
        git(d, &["checkout", "-q", "-b", "topic", "HEAD~2"], date);
        for i in 0..3 {
            date += 7;
            commit(&format!("topic{i}"), date);
        }
        for packed in [false, true] {
            if packed {
                git(d, &["gc", "-q"], date);
            }
            let repo = open_for_history(d).expect("repository");
            let packs = Packs::open(&repo).expect("packs");
            let tips = peel_gix(&repo, all_refs(&repo).expect("refs")).expect("tips");
            let mut reader = crate::git::packs::Reader::new(&packs);
            let ours = walk_by_time(&repo, &mut reader, &tips.commits).expect("walk");
            let theirs = walk_with_gix(&repo, tips.commits.clone(), Vec::new()).expect("gix");
            assert_eq!(ours.len(), 6 + 5 + 1 + 3, "packed: {packed}");
            assert_eq!(walked(ours), walked(theirs), "packed: {packed}");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(split_range("a..b").ok(), Some(("a", "b")));
        assert!(split_range("a...b").is_err());
        assert!(split_range("..b").is_err());
        assert!(split_range("a").is_err());
    }
}
