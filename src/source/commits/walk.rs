//! The range and history walk in process: commits parents first, each tree visited against
//! what the walk saw at each path before; and what a commit or tag records besides files.

use super::*;

/// Lists what `selection` introduced, parents first. Trees are read from `packs` where they
/// are there (see [`crate::git::packs::Reader`]), otherwise through gix.
pub(super) fn list_gix(
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
pub(super) struct Walked {
    pub(super) at: CommitRef,
    pub(super) tree: ObjectId,
    pub(super) texts: Texts,
}

/// What a commit or an annotated tag records besides files: its message, and the names and
/// emails of who wrote it — text a key can be pasted into as easily as a file.
#[derive(Clone, Default)]
pub(super) struct Texts {
    pub(super) message: Arc<[u8]>,
    /// `Name <email>` of the author, the committer or the tagger, as each item names them.
    pub(super) people: Vec<(&'static str, Arc<[u8]>)>,
}

impl Texts {
    /// What commit `commit` records besides its tree.
    pub(super) fn of_commit(commit: &gix::objs::CommitRef<'_>) -> Texts {
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
    pub(super) fn of_tag(tag: &gix::objs::TagRef<'_>) -> Texts {
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
pub(super) fn person<E>(
    parsed: Result<gix::actor::SignatureRef<'_>, E>,
    raw: &gix::bstr::BStr,
) -> Arc<[u8]> {
    match parsed {
        Ok(s) => {
            let parts: [&[u8]; 4] = [s.name, b" <", s.email, b">"];
            parts.concat().into()
        }
        Err(_) => raw.to_vec().into(),
    }
}

/// A commit read by [`walk_by_time`], waiting in its queue.
pub(super) struct Queued {
    pub(super) walked: Walked,
    pub(super) parents: Vec<ObjectId>,
}

/// The commits reachable from `tips`, newest first by committer date (as gix's walk and
/// `git log` list them), each read once: the walk gets its parents, date, tree and author
/// date from one read (gix's walk reads each commit for its parents and date, and the
/// listing read it again for its tree: two thirds of the listing's reads of commits).
pub(super) fn walk_by_time(
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
pub(super) fn read_commit(
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
pub(super) trait Objects {
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
pub(super) fn read_object(
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
pub(super) fn parse_commit(
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
pub(super) fn walk_with_gix(
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

pub(super) fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId, SourceError> {
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
pub(super) struct Last {
    pub(super) blob: ObjectId,
    pub(super) place: Place,
    /// On the hidden side (the range's base).
    pub(super) hidden: bool,
}

pub(super) struct Walk<'r> {
    pub(super) repo: &'r gix::Repository,
    pub(super) reader: Option<crate::git::packs::Reader<&'r Packs>>,
    /// Trees seen, at the path (numbered in the listing's [`PathIds`]) they were seen at:
    /// the same tree at another path (a copied directory) holds pairs not seen yet.
    pub(super) seen_trees: TreeSet,
    /// What was last listed (or noted as the hidden side's) at each path (numbered).
    /// (By path number: the numbers are dense, so a vector, not a second map.)
    pub(super) last_at: Vec<Option<Last>>,
    pub(super) listing: Listing,
    /// How deep the tree being visited is (see [`tree::MAX_TREE_DEPTH`]).
    pub(super) depth: usize,
}

impl Walk<'_> {
    /// Visits tree `id` at `prefix` (which ends in `/` unless it is the root): listed for
    /// `commit`, or for a tree a ref points at (no commit), unless it is the hidden side
    /// (`listing` false: noted, not listed).
    pub(super) fn tree(
        &mut self,
        id: ObjectId,
        prefix: &[u8],
        commit: Option<CommitRef>,
        listing: bool,
    ) -> Result<(), SourceError> {
        self.visit(id, &mut prefix.to_vec(), commit, listing)
    }

    /// Visits tree `id` at `path`, which holds its prefix and is left as it was.
    pub(super) fn visit(
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
