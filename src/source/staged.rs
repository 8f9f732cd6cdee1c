//! The staged source: what the commit being made records. The index entries whose blob is
//! new or differs from `HEAD^{tree}` at their path, read from the index git handed the hook
//! (`GIT_INDEX_FILE`: a temporary one during `git commit -a` and `git commit <paths>`), never
//! from the files on disk.
//!
//! The fast path is gix with the lean index reader ([`crate::git::index`]): walk
//! `HEAD^{tree}` alongside the sorted index entries, skipping every directory whose
//! cache-tree (`TREE` extension) id equals HEAD's subtree id, exactly as git itself does. On a
//! 100,000-file repository this reads about a dozen trees. Where gix cannot read a layout
//! (reftable refs, a sparse directory that changed), git's plumbing answers:
//! `git diff --cached --raw -z` and `git cat-file --batch`.

use super::{BlobRead, Sibling, SourceError, Standing};
use crate::git::index::{self, CacheTree, Index, MODE_DIR, MODE_GITLINK, MODE_SYMLINK};
use crate::git::plumbing::{self, CatFile};
use crate::git::GitError;
use crate::model::ReadBlob;
use crate::model::{Content, Item, Place};
use gix::bstr::{BString, ByteSlice};
use gix::index::entry::Flags;
use gix::prelude::FindExt;
use gix::ObjectId;
use std::path::PathBuf;

/// One index entry whose content the commit adds or changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    path: BString,
    id: ObjectId,
    symlink: bool,
    /// The blob HEAD has at this path (or, for a pure rename, at the path it came from).
    previous: Option<ObjectId>,
}

/// What the commit being made records.
pub struct Staged {
    items: Vec<Item>,
    reader: StagedReader,
    /// Where gix reads the repository: its loose objects, for every worker to read.
    loose: Option<super::loose::LooseFeed>,
}

/// Reads the staged blobs and the versions they replace.
pub struct StagedReader {
    /// For each item, HEAD's blob at its path (or where it was renamed from).
    previous: Vec<Option<ObjectId>>,
    reader: Reader,
}

/// How blobs are read.
enum Reader {
    /// gix, in process; the commits being merged (`MERGE_HEAD`), if a merge is concluded.
    Gix {
        repo: Box<gix::Repository>,
        merging: Vec<ObjectId>,
    },
    /// git's plumbing, started on the first read.
    Plumbing(Option<CatFile>),
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("items", &self.items.len())
            .field("in_process", &self.in_process())
            .finish()
    }
}

impl Staged {
    /// Opens the repository from the environment git gives hooks and lists what is staged.
    /// `KEYWARD_GIT_BACKEND=cli` forces git's plumbing (troubleshooting, and its tests).
    pub fn open() -> Result<Self, SourceError> {
        if std::env::var_os("KEYWARD_GIT_BACKEND").is_some_and(|v| v == "cli") {
            return Self::open_plumbing();
        }
        let repo = crate::git::open()?;
        if let Some(what) = crate::git::unsupported(&repo) {
            return Self::open_plumbing().map_err(|e| fallback_failed(what, e));
        }
        match Self::open_gix(repo) {
            Err(SourceError::Git(GitError::Unsupported(what))) => {
                Self::open_plumbing().map_err(|e| fallback_failed(what, e))
            }
            other => other,
        }
    }

    /// The root of the working tree (where `.keyward.toml` lives), when there is one.
    pub fn root(&self) -> Result<Option<PathBuf>, SourceError> {
        match &self.reader.reader {
            Reader::Gix { repo, .. } => Ok(crate::git::workdir(repo)),
            Reader::Plumbing(_) => Ok(plumbing::toplevel()?),
        }
    }

    /// The effective `keyward.*` git config: `(key, value)` with keys lowercased.
    pub fn keyward_config(&self) -> Result<Vec<(String, String)>, SourceError> {
        match &self.reader.reader {
            Reader::Gix { repo, .. } => Ok(crate::git::keyward_config(repo)),
            Reader::Plumbing(_) => Ok(plumbing::keyward_config()?),
        }
    }

    /// Whether gix reads this repository in process (git's plumbing otherwise).
    pub fn in_process(&self) -> bool {
        matches!(self.reader.reader, Reader::Gix { .. })
    }

    fn open_gix(repo: gix::Repository) -> Result<Self, SourceError> {
        let index_path = index_path(&repo);
        let mut head = repo.head().map_err(|e| GitError::read("HEAD", e))?;
        let head_tree = if head.is_unborn() {
            None
        } else {
            let commit = head
                .peel_to_commit()
                .map_err(|e| GitError::read("HEAD's commit", e))?;
            Some(
                commit
                    .tree_id()
                    .map_err(|e| GitError::read("HEAD's tree", e))?
                    .detach(),
            )
        };
        let shown = || format!("the index {}", index_path.display());
        // What the lean reader refuses (a split index, anything git might read otherwise) is
        // read by git itself: never a different path than git commits.
        let read = index::read(&index_path, repo.object_hash()).map_err(|e| {
            let what = format!(
                "{}: {}",
                shown(),
                crate::redact::escape(e.to_string().as_bytes())
            );
            GitError::Unsupported(what)
        })?;
        let changes = match read {
            index::Read::Index(index) => {
                Walk::new(&repo, &index).run(head_tree, index.cache_tree())?
            }
            index::Read::Unsupported(_) => {
                // Split and sparse indexes: gix's complete decoder (it resolves `sharedindex.*`).
                let file =
                    gix::index::File::at(&index_path, repo.object_hash(), true, Default::default())
                        .map_err(|e| GitError::read(shown(), e))?;
                let cache = file.tree().map(CacheTree::from_gix);
                Walk::new(&repo, &*file).run(head_tree, cache.as_ref())?
            }
        };
        let merging = merge_heads(&repo);
        Ok(Self::from_changes(
            changes,
            Reader::Gix {
                repo: Box::new(repo),
                merging,
            },
        ))
    }

    fn open_plumbing() -> Result<Self, SourceError> {
        let mut changes = Vec::new();
        let mut deleted = Vec::new();
        for r in plumbing::staged_changes()? {
            match r.status {
                b'D' => deleted.extend(r.old_id),
                b'A' | b'M' | b'T' if r.new_mode != b"160000" => changes.push(Change {
                    path: r.path.into(),
                    id: r.new_id,
                    symlink: r.new_mode == b"120000",
                    previous: r.old_id.filter(|_| r.status != b'T'),
                }),
                _ => {}
            }
        }
        renamed(&mut changes, &deleted);
        Ok(Self::from_changes(changes, Reader::Plumbing(None)))
    }

    fn from_changes(changes: Vec<Change>, reader: Reader) -> Self {
        let previous = changes.iter().map(|c| c.previous).collect();
        let items = changes
            .into_iter()
            .map(|c| Item {
                place: if c.symlink {
                    Place::Symlink
                } else {
                    Place::File
                },
                ..Item::new(c.path.into(), Content::Blob(c.id))
            })
            .collect();
        let loose = match &reader {
            Reader::Gix { repo, .. } => Some(super::loose::LooseFeed::new(
                repo.objects.store_ref().path().to_path_buf(),
            )),
            Reader::Plumbing(_) => None,
        };
        Staged {
            items,
            reader: StagedReader { previous, reader },
            loose,
        }
    }
}

impl StagedReader {
    fn read_id(&mut self, id: ObjectId, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, GitError> {
        match &mut self.reader {
            Reader::Gix { repo, .. } => crate::git::read_blob(repo, id, buf, cap),
            Reader::Plumbing(cat) => {
                let cat = match cat {
                    Some(cat) => cat,
                    slot @ None => slot.insert(CatFile::spawn()?),
                };
                Ok(cat.read(id, buf, cap)?)
            }
        }
    }
}

impl super::Source for Staged {
    fn standing(&self) -> Standing {
        Standing::Staged
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn parts(&mut self) -> super::Parts<'_> {
        super::Parts {
            items: &self.items,
            reader: &mut self.reader,
            feed: match &self.loose {
                Some(loose) => super::feed::Feed::Workers(loose),
                None => super::feed::Feed::Sequential,
            },
        }
    }
}

impl BlobRead for StagedReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError> {
        let Content::Blob(id) = item.content else {
            return Err(SourceError::Input("a staged item is not a blob".into()));
        };
        self.read_id(id, buf, cap).map_err(|e| {
            let path = crate::redact::escape(&item.path);
            GitError::read(path, e).into()
        })
    }

    /// HEAD's version and, while a merge is being committed, the merged branches' versions:
    /// a secret a merged branch already carries is in history, not new.
    fn previous(
        &mut self,
        index: usize,
        item: &Item,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        let mut any = false;
        if let Some(id) = self.previous[index] {
            any = self.read_id(id, buf, cap)? == ReadBlob::Read;
            if !any {
                buf.clear();
            }
        }
        let merged: Vec<ObjectId> = match &self.reader {
            Reader::Gix { repo, merging } => merging
                .iter()
                .filter_map(|&commit| blob_at(repo, commit, &item.path))
                .collect(),
            Reader::Plumbing(_) => Vec::new(),
        };
        let mut other = Vec::new();
        for id in merged {
            if self.read_id(id, &mut other, cap)? == ReadBlob::Read {
                buf.push(b'\n');
                buf.extend_from_slice(&other);
                any = true;
            }
        }
        Ok(any)
    }

    /// The staged content of `path` (stage 0): the index is searched only when a check asks
    /// (a Dockerfile's `.dockerignore`), with the reader that listed the changes.
    fn sibling(&mut self, path: &[u8], cap: u64) -> Result<Sibling, SourceError> {
        let id = match &self.reader {
            Reader::Gix { repo, .. } => {
                let index_path = index_path(repo);
                match index::read(&index_path, repo.object_hash()) {
                    Ok(index::Read::Index(index)) => (0..index.len())
                        .find(|&i| index.stage(i) == 0 && index.path(i) == path)
                        .map(|i| index.id(i).to_owned()),
                    _ => gix::index::File::at(
                        &index_path,
                        repo.object_hash(),
                        true,
                        Default::default(),
                    )
                    .map_err(|e| GitError::read(format!("the index {}", index_path.display()), e))?
                    .entry_by_path(path.as_bstr())
                    .map(|e| e.id),
                }
            }
            Reader::Plumbing(_) => plumbing::index_entry(path)?,
        };
        let Some(id) = id else {
            return Ok(Sibling::Absent);
        };
        let mut buf = Vec::new();
        Ok(match self.read_id(id, &mut buf, cap)? {
            ReadBlob::Read => Sibling::Found(buf),
            ReadBlob::TooLarge(_) => Sibling::Unknown,
        })
    }
}

fn fallback_failed(what: String, e: SourceError) -> SourceError {
    match e {
        SourceError::Git(GitError::Plumbing(p)) => SourceError::Git(GitError::read(
            format!("what is staged: {what} needs git, and"),
            p,
        )),
        e => e,
    }
}

/// A blob that HEAD had at a path now gone is not new where it reappears (a rename): the
/// policy compares against it, as it would for an edit in place.
fn renamed(changes: &mut [Change], deleted: &[ObjectId]) {
    if deleted.is_empty() {
        return;
    }
    for change in changes.iter_mut().filter(|c| c.previous.is_none()) {
        if deleted.contains(&change.id) {
            change.previous = Some(change.id);
        }
    }
}

/// The commits being merged, while a merge is concluded (`MERGE_HEAD`).
fn merge_heads(repo: &gix::Repository) -> Vec<ObjectId> {
    let Ok(heads) = std::fs::read_to_string(repo.git_dir().join("MERGE_HEAD")) else {
        return Vec::new();
    };
    heads
        .lines()
        .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
        .collect()
}

/// The blob `commit` has at `path`, if any.
fn blob_at(repo: &gix::Repository, commit: ObjectId, path: &[u8]) -> Option<ObjectId> {
    let rel = gix::path::from_byte_slice(path).ok()?;
    let tree = repo.find_commit(commit).ok()?.tree().ok()?;
    let entry = tree.lookup_entry_by_path(rel).ok()??;
    entry.mode().is_blob().then(|| entry.object_id())
}

/// The index git asked for: `GIT_INDEX_FILE` when set (a temporary index during
/// `git commit -a` and `git commit <paths>`), resolved against the working directory as git
/// does, else the repository's own index.
fn index_path(repo: &gix::Repository) -> PathBuf {
    // gix honours GIT_INDEX_FILE itself for trusted repositories; reading it here too keeps the
    // answer right when gix runs with reduced trust (a repository owned by another user).
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => std::env::current_dir()
            .map(|cwd| cwd.join(&p))
            .unwrap_or_else(|_| PathBuf::from(p)),
        _ => repo.index_path(),
    }
}

/// Read access to index entries, from the lean reader or from gix's full decoder.
trait Entries {
    fn len(&self) -> usize;
    fn path(&self, i: usize) -> &[u8];
    fn id(&self, i: usize) -> ObjectId;
    fn mode(&self, i: usize) -> u32;
    /// Conflict stage, intent-to-add or submodule: nothing of its own to scan.
    fn no_content(&self, i: usize) -> bool;
    /// What git leaves out of the trees it writes: an intent-to-add entry, a conflict stage.
    fn left_out(&self, i: usize) -> bool;
}

impl Entries for Index {
    fn len(&self) -> usize {
        Index::len(self)
    }
    fn path(&self, i: usize) -> &[u8] {
        Index::path(self, i)
    }
    fn id(&self, i: usize) -> ObjectId {
        Index::id(self, i).to_owned()
    }
    fn mode(&self, i: usize) -> u32 {
        Index::mode(self, i)
    }
    fn no_content(&self, i: usize) -> bool {
        self.stage(i) != 0 || self.intent_to_add(i) || self.mode(i) == MODE_GITLINK
    }
    fn left_out(&self, i: usize) -> bool {
        self.stage(i) != 0 || self.intent_to_add(i)
    }
}

impl Entries for gix::index::State {
    fn len(&self) -> usize {
        self.entries().len()
    }
    fn path(&self, i: usize) -> &[u8] {
        self.entries()[i].path(self).as_bytes()
    }
    fn id(&self, i: usize) -> ObjectId {
        self.entries()[i].id
    }
    fn mode(&self, i: usize) -> u32 {
        self.entries()[i].mode.bits()
    }
    fn no_content(&self, i: usize) -> bool {
        let e = &self.entries()[i];
        e.stage_raw() != 0 || e.flags.contains(Flags::INTENT_TO_ADD) || e.mode.is_submodule()
    }
    fn left_out(&self, i: usize) -> bool {
        let e = &self.entries()[i];
        e.stage_raw() != 0 || e.flags.contains(Flags::INTENT_TO_ADD)
    }
}

/// How deep directories may nest: git's `core.maxTreeDepth` default. Deeper is refused with
/// an error (the hook then blocks) rather than exhaust the stack.
const MAX_TREE_DEPTH: usize = 2048;

fn too_deep(prefix: &[u8]) -> GitError {
    GitError::Unsupported(format!(
        "directories nested deeper than {MAX_TREE_DEPTH} levels ({})",
        crate::redact::escape(prefix)
    ))
}

/// A tree object's bytes as git's `cache_tree_update` writes them, entry by entry in the
/// index's order (which is git's tree order): `<octal mode> <name>NUL<id>`.
#[derive(Default)]
struct TreeBytes(Vec<u8>);

impl TreeBytes {
    fn push(&mut self, mode: u32, name: &[u8], id: &gix::oid) {
        // The modes git writes, spelled out: formatting each entry's mode cost more than
        // hashing it.
        let spelled: &[u8] = match mode {
            0o100644 => b"100644 ",
            0o100755 => b"100755 ",
            0o120000 => b"120000 ",
            0o160000 => b"160000 ",
            MODE_DIR => b"40000 ",
            _ => b"",
        };
        if spelled.is_empty() {
            use std::io::Write as _;
            let _ = write!(self.0, "{mode:o} ");
        } else {
            self.0.extend_from_slice(spelled);
        }
        self.0.extend_from_slice(name);
        self.0.push(0);
        self.0.extend_from_slice(id.as_bytes());
    }

    /// The tree's id, as git hashes a tree object; `None` where SHA-1's collision detection
    /// refuses the bytes. (About 60 µs for the 90 KB of trees a typical commit in a deep tree
    /// changes; a plain SHA-1 was no faster here.)
    fn id(&self, hash: gix::hash::Kind) -> Option<ObjectId> {
        gix::objs::compute_hash(hash, gix::objs::Kind::Tree, &self.0).ok()
    }
}

/// The cache-tree node of subdirectory `name` under `cache`.
fn child<'c>(cache: Option<&'c CacheTree>, name: &[u8]) -> Option<&'c CacheTree> {
    cache.and_then(|c| c.children.iter().find(|t| t.name == name))
}

/// git's order of two entries of one tree: by name, a tree's name as if it ended in `/`.
fn tree_order(a: &TreeItem, b: &TreeItem) -> std::cmp::Ordering {
    let key = |t: &TreeItem| {
        let mut k = t.name.to_vec();
        if t.mode.is_tree() {
            k.push(b'/');
        }
        k
    };
    key(a).cmp(&key(b))
}

/// The merge of `HEAD^{tree}` with the sorted index entries.
struct Walk<'a, E: Entries> {
    repo: &'a gix::Repository,
    entries: &'a E,
    changes: Vec<Change>,
    /// Blobs HEAD had at paths the index no longer has, to recognise pure renames.
    deleted: Vec<ObjectId>,
}

struct TreeItem {
    name: BString,
    mode: gix::object::tree::EntryMode,
    id: ObjectId,
}

impl<'a, E: Entries> Walk<'a, E> {
    fn new(repo: &'a gix::Repository, entries: &'a E) -> Self {
        Walk {
            repo,
            entries,
            changes: Vec::new(),
            deleted: Vec::new(),
        }
    }

    fn run(
        mut self,
        head_tree: Option<ObjectId>,
        cache: Option<&CacheTree>,
    ) -> Result<Vec<Change>, GitError> {
        let all = 0..self.entries.len();
        self.dir(head_tree, b"", all, cache, 0)?;
        renamed(&mut self.changes, &self.deleted);
        Ok(self.changes)
    }

    /// Compares directory `prefix` (which ends in `/` unless it is the root) as the commit
    /// will record it with HEAD's tree there (`head`; none where HEAD has no such directory),
    /// and returns the id of the tree the commit records there.
    ///
    /// That tree is what git's `cache_tree_update` writes: a valid cache-tree node's tree as
    /// it is, whatever the entries say, and otherwise the tree the index entries `range`
    /// (those under `prefix`) make, each subdirectory by the same rule. So the entries are
    /// walked against HEAD's tree, as git's own diff walks them, while the tree they make is
    /// hashed; where a valid node names another tree than that — an index git did not write,
    /// which git commits all the same — what was found here is set aside and the node's tree
    /// is judged instead, against HEAD's. (Reading the node's tree every time would cost a
    /// read of each changed directory's new tree on every commit; hashing the entries costs a
    /// tenth of that.)
    fn dir(
        &mut self,
        head: Option<ObjectId>,
        prefix: &[u8],
        range: std::ops::Range<usize>,
        cache: Option<&CacheTree>,
        depth: usize,
    ) -> Result<ObjectId, GitError> {
        if depth > MAX_TREE_DEPTH {
            return Err(too_deep(prefix));
        }
        let cached = cache.and_then(|c| c.id);
        if let (Some(cached), Some(head)) = (cached, head) {
            if cached == head {
                return Ok(head); // git's own shortcut: this directory is unchanged
            }
        }
        let found = (self.changes.len(), self.deleted.len());
        let mut tree = TreeBytes::default();
        let items = match head {
            Some(id) => self.read_tree(id)?,
            None => Vec::new(),
        };
        let entries = self.entries;
        let mut i = range.start;
        let mut key = Vec::with_capacity(prefix.len() + 64);
        for item in items {
            key.clear();
            key.extend_from_slice(prefix);
            key.extend_from_slice(&item.name);
            if item.mode.is_tree() {
                key.push(b'/');
            }
            // Index entries sorting before this tree entry are not in HEAD: additions.
            let mut stop = i;
            while stop < range.end && entries.path(stop) < key.as_slice() {
                stop += 1;
            }
            self.additions(i..stop, prefix, cache, depth, &mut tree)?;
            i = stop;
            if item.mode.is_tree() {
                let sub = self.under(&key, i..range.end);
                i = sub.end;
                if sub.is_empty() {
                    continue; // the whole directory was removed: deletions are never blocked
                }
                if sub.len() == 1 && entries.mode(sub.start) == MODE_DIR {
                    // A sparse-index directory entry: unchanged if it names the same tree.
                    if entries.id(sub.start) != item.id {
                        return Err(GitError::Unsupported(format!(
                            "a sparse directory that differs from HEAD ({})",
                            crate::redact::escape(&key)
                        )));
                    }
                    tree.push(MODE_DIR, &item.name, &item.id);
                    continue;
                }
                let child = child(cache, &item.name);
                let id = self.dir(Some(item.id), &key, sub, child, depth + 1)?;
                tree.push(MODE_DIR, &item.name, &id);
            } else if i < range.end && entries.path(i) == key.as_slice() {
                let was_link = item.mode.is_link();
                let is_link = entries.mode(i) == MODE_SYMLINK;
                // A new blob, or the same one turned from a link into a file or back: the
                // rules that apply to it differ.
                if entries.id(i) != item.id
                    || (item.mode.is_blob_or_symlink() && was_link != is_link)
                {
                    let previous = item.mode.is_blob_or_symlink().then_some(item.id);
                    self.changed(i, previous)?;
                }
                self.record(i, prefix, &mut tree);
                i += 1;
            } else if item.mode.is_blob_or_symlink() {
                self.deleted.push(item.id);
            }
        }
        self.additions(i..range.end, prefix, cache, depth, &mut tree)?;
        let made = tree.id(self.repo.object_hash());
        match cached {
            Some(cached) if made != Some(cached) && self.repo.has_object(cached) => {
                self.changes.truncate(found.0);
                self.deleted.truncate(found.1);
                self.trees(head, cached, prefix, depth)?;
                Ok(cached)
            }
            // The entries make the node's tree (or git, not finding the node's object,
            // makes the entries' tree): what the walk found is what the commit records.
            _ => made.ok_or_else(|| {
                GitError::Unsupported(format!(
                    "a tree that does not hash ({})",
                    crate::redact::escape(prefix)
                ))
            }),
        }
    }

    /// Adds index entry `i` (directly under `prefix`) to the tree being made, as git writes
    /// it: its mode as the index has it. What git leaves out of trees — an intent-to-add
    /// entry, a conflict stage — is left out.
    fn record(&self, i: usize, prefix: &[u8], tree: &mut TreeBytes) {
        let entries = self.entries;
        if entries.left_out(i) {
            return;
        }
        let name = &entries.path(i)[prefix.len()..];
        tree.push(entries.mode(i), name, &entries.id(i));
    }

    /// The index entries `range` (under `prefix`), none of them in HEAD: files are added;
    /// a new subdirectory is judged as [`Walk::dir`] judges one (its cache-tree node may name
    /// the tree git records there). Each goes into `tree`, the tree being made at `prefix`.
    fn additions(
        &mut self,
        range: std::ops::Range<usize>,
        prefix: &[u8],
        cache: Option<&CacheTree>,
        depth: usize,
        tree: &mut TreeBytes,
    ) -> Result<(), GitError> {
        let entries = self.entries;
        let mut i = range.start;
        while i < range.end {
            let rest = &entries.path(i)[prefix.len()..];
            let Some(slash) = rest.iter().position(|&b| b == b'/') else {
                self.changed(i, None)?;
                self.record(i, prefix, tree);
                i += 1;
                continue;
            };
            let name = rest[..slash].to_vec();
            let key = entries.path(i)[..prefix.len() + slash + 1].to_vec();
            let sub = self.under(&key, i..range.end);
            i = sub.end.max(i + 1);
            let id = self.dir(None, &key, sub, child(cache, &name), depth + 1)?;
            tree.push(MODE_DIR, &name, &id);
        }
        Ok(())
    }

    /// The entries of `range` under `key` (a directory, ending in `/`): contiguous from the
    /// start of the range, found by binary search.
    fn under(&self, key: &[u8], range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let (mut lo, mut hi) = (range.start, range.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entries.path(mid).starts_with(key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        range.start..lo
    }

    /// What tree `new` (recorded at `prefix`) holds that HEAD's tree there (`old`) does not:
    /// files and links that are new or changed, as the entries would show them.
    fn trees(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        prefix: &[u8],
        depth: usize,
    ) -> Result<(), GitError> {
        if depth > MAX_TREE_DEPTH {
            return Err(too_deep(prefix));
        }
        let olds = match old {
            Some(id) => self.read_tree(id)?,
            None => Vec::new(),
        };
        let news = self.read_tree(new)?;
        let mut olds = olds.into_iter().peekable();
        let mut path = prefix.to_vec();
        for item in news {
            // Entries of HEAD's tree that sort before this one are gone from the new tree.
            while let Some(o) = olds.next_if(|o| tree_order(o, &item).is_lt()) {
                if o.mode.is_blob_or_symlink() {
                    self.deleted.push(o.id);
                }
            }
            let same = olds.next_if(|o| tree_order(o, &item).is_eq());
            path.truncate(prefix.len());
            path.extend_from_slice(&item.name);
            if item.mode.is_tree() {
                path.push(b'/');
                let before = same.filter(|o| o.mode.is_tree()).map(|o| o.id);
                if before != Some(item.id) {
                    self.trees(before, item.id, &path, depth + 1)?;
                }
                continue;
            }
            if !item.mode.is_blob_or_symlink() {
                continue; // a submodule's commit: nothing to scan
            }
            let before = same.filter(|o| o.mode.is_blob_or_symlink());
            let unchanged = before
                .as_ref()
                .is_some_and(|o| o.id == item.id && o.mode.is_link() == item.mode.is_link());
            if !unchanged {
                self.changes.push(Change {
                    path: path.clone().into(),
                    id: item.id,
                    symlink: item.mode.is_link(),
                    previous: before.map(|o| o.id),
                });
            }
        }
        for o in olds {
            if o.mode.is_blob_or_symlink() {
                self.deleted.push(o.id);
            }
        }
        Ok(())
    }

    fn changed(&mut self, i: usize, previous: Option<ObjectId>) -> Result<(), GitError> {
        let entries = self.entries;
        if entries.no_content(i) {
            return Ok(());
        }
        if entries.mode(i) == MODE_DIR {
            return Err(GitError::Unsupported(format!(
                "a sparse directory that is not in HEAD ({})",
                crate::redact::escape(entries.path(i))
            )));
        }
        self.changes.push(Change {
            path: entries.path(i).into(),
            id: entries.id(i),
            symlink: entries.mode(i) == MODE_SYMLINK,
            previous,
        });
        Ok(())
    }

    fn read_tree(&self, id: ObjectId) -> Result<Vec<TreeItem>, GitError> {
        if id.is_empty_tree() {
            return Ok(Vec::new());
        }
        let mut buf = Vec::new();
        let tree = self
            .repo
            .objects
            .find_tree(&id, &mut buf)
            .map_err(|e| GitError::read(format!("tree {id}"), e))?;
        Ok(tree
            .entries
            .iter()
            .map(|e| TreeItem {
                name: e.filename.to_owned(),
                mode: e.mode,
                id: e.oid.to_owned(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree the walk makes from the entries hashes to git's own id for it, for every
    /// kind of entry and for both object formats: otherwise every commit would look like a
    /// crafted cache-tree and take the slow road (correct, but reading every new tree).
    #[test]
    fn trees_made_from_entries_hash_as_git_hashes_them() {
        for format in ["sha1", "sha256"] {
            let dir = tempfile::tempdir().expect("temp dir");
            let d = dir.path();
            let git = |args: &[&str]| crate::git::test_git(d, args, &[]);
            git(&["init", "-q", &format!("--object-format={format}")]);
            let hash = if format == "sha1" {
                gix::hash::Kind::Sha1
            } else {
                gix::hash::Kind::Sha256
            };
            std::fs::write(d.join("a.txt"), "a\n").expect("write");
            std::fs::create_dir(d.join("sub")).expect("dir");
            std::fs::write(d.join("sub/b.sh"), "b\n").expect("write");
            git(&["add", "."]);
            git(&["update-index", "--chmod=+x", "sub/b.sh"]);
            let blob = git(&["rev-parse", ":a.txt"]);
            git(&[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("120000,{blob},link"),
            ]);
            git(&[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{blob},mod"),
            ]);
            let root = git(&["write-tree"]);
            let sub = git(&["rev-parse", &format!("{root}:sub")]);
            let id = |hex: &str| ObjectId::from_hex(hex.as_bytes()).expect("id");
            let mut made = TreeBytes::default();
            made.push(0o100644, b"a.txt", &id(&blob));
            made.push(0o120000, b"link", &id(&blob));
            made.push(0o160000, b"mod", &id(&blob));
            made.push(MODE_DIR, b"sub", &id(&sub));
            assert_eq!(made.id(hash), Some(id(&root)), "{format}");
        }
    }
}
