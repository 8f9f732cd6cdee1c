//! The merge of `HEAD^{tree}` with the sorted index entries, as `git commit` will record them:
//! a valid cache-tree node's tree where git will use it as it is, the entries elsewhere.

use super::*;

/// Read access to index entries, from the lean reader or from gix's full decoder.
pub(super) trait Entries {
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
pub(super) const MAX_TREE_DEPTH: usize = 2048;

pub(super) fn too_deep(prefix: &[u8]) -> GitError {
    GitError::Unsupported(format!(
        "directories nested deeper than {MAX_TREE_DEPTH} levels ({})",
        crate::redact::escape(prefix)
    ))
}

/// A tree object's bytes as git's `cache_tree_update` writes them, entry by entry in the
/// index's order (which is git's tree order): `<octal mode> <name>NUL<id>`.
#[derive(Default)]
pub(super) struct TreeBytes(Vec<u8>);

impl TreeBytes {
    pub(super) fn push(&mut self, mode: u32, name: &[u8], id: &gix::oid) {
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
    pub(super) fn id(&self, hash: gix::hash::Kind) -> Option<ObjectId> {
        gix::objs::compute_hash(hash, gix::objs::Kind::Tree, &self.0).ok()
    }
}

/// A cache-tree node: the lean reader's, read from the index file as the walk visits it, or
/// one of gix's decoded tree (split and sparse indexes).
pub(super) trait CacheNode<'c>: Copy {
    /// The tree id, or `None` when git invalidated the node.
    fn id(self) -> Option<ObjectId>;
    /// The subdirectories with their names, by name.
    fn sorted_children(self) -> Vec<(&'c [u8], Self)>;
}

impl<'c> CacheNode<'c> for &'c CacheTree {
    fn id(self) -> Option<ObjectId> {
        self.id
    }
    fn sorted_children(self) -> Vec<(&'c [u8], Self)> {
        // Already by name: gix sorts them.
        self.children
            .iter()
            .map(|c| (c.name.as_slice(), c))
            .collect()
    }
}

impl<'c> CacheNode<'c> for TreeRef<'c> {
    fn id(self) -> Option<ObjectId> {
        TreeRef::id(self)
    }
    fn sorted_children(self) -> Vec<(&'c [u8], Self)> {
        // Only the directories a commit changes are visited: sorting their subdirectories
        // once makes each lookup a binary search. (The reader refused repeated names.)
        let mut kids: Vec<_> = self.children().map(|c| (c.name(), c)).collect();
        kids.sort_unstable_by(|a, b| a.0.cmp(b.0));
        kids
    }
}

/// The cache-tree node of subdirectory `name`, among a visited node's `kids`.
pub(super) fn child<'c, C: CacheNode<'c>>(kids: &[(&'c [u8], C)], name: &[u8]) -> Option<C> {
    kids.binary_search_by(|k| k.0.cmp(name))
        .ok()
        .map(|at| kids[at].1)
}

/// git's order of two entries of one tree: by name, a tree's name as if it ended in `/`.
pub(super) fn tree_order(a: &TreeItem, b: &TreeItem) -> std::cmp::Ordering {
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
pub(super) struct Walk<'a, E: Entries> {
    pub(super) repo: &'a gix::Repository,
    pub(super) entries: &'a E,
    pub(super) changes: Vec<Change>,
    /// Blobs HEAD had at paths the index no longer has, to recognise pure renames.
    pub(super) deleted: Vec<ObjectId>,
}

pub(super) struct TreeItem {
    pub(super) name: BString,
    pub(super) mode: gix::object::tree::EntryMode,
    pub(super) id: ObjectId,
}

impl<'a, E: Entries> Walk<'a, E> {
    pub(super) fn new(repo: &'a gix::Repository, entries: &'a E) -> Self {
        Walk {
            repo,
            entries,
            changes: Vec::new(),
            deleted: Vec::new(),
        }
    }

    pub(super) fn run<'c, C: CacheNode<'c>>(
        mut self,
        head_tree: Option<ObjectId>,
        cache: Option<C>,
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
    pub(super) fn dir<'c, C: CacheNode<'c>>(
        &mut self,
        head: Option<ObjectId>,
        prefix: &[u8],
        range: std::ops::Range<usize>,
        cache: Option<C>,
        depth: usize,
    ) -> Result<ObjectId, GitError> {
        if depth > MAX_TREE_DEPTH {
            return Err(too_deep(prefix));
        }
        let cached = cache.and_then(|c| c.id());
        if let (Some(cached), Some(head)) = (cached, head) {
            if cached == head {
                return Ok(head); // git's own shortcut: this directory is unchanged
            }
        }
        let kids = cache.map(C::sorted_children).unwrap_or_default();
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
            self.additions(i..stop, prefix, &kids, depth, &mut tree)?;
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
                let child = child(&kids, &item.name);
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
        self.additions(i..range.end, prefix, &kids, depth, &mut tree)?;
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
    pub(super) fn record(&self, i: usize, prefix: &[u8], tree: &mut TreeBytes) {
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
    pub(super) fn additions<'c, C: CacheNode<'c>>(
        &mut self,
        range: std::ops::Range<usize>,
        prefix: &[u8],
        kids: &[(&'c [u8], C)],
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
            let id = self.dir(None, &key, sub, child(kids, &name), depth + 1)?;
            tree.push(MODE_DIR, &name, &id);
        }
        Ok(())
    }

    /// The entries of `range` under `key` (a directory, ending in `/`): contiguous from the
    /// start of the range, found by binary search.
    pub(super) fn under(
        &self,
        key: &[u8],
        range: std::ops::Range<usize>,
    ) -> std::ops::Range<usize> {
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
    pub(super) fn trees(
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

    pub(super) fn changed(&mut self, i: usize, previous: Option<ObjectId>) -> Result<(), GitError> {
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

    pub(super) fn read_tree(&self, id: ObjectId) -> Result<Vec<TreeItem>, GitError> {
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
