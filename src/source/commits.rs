//! The commit source: the blobs that a range of commits, a push or the whole history
//! introduced, each blob once, with the first commit that carried it.
//!
//! Commits are visited oldest first. A tree already seen is skipped whole (an unchanged
//! directory costs nothing), and a blob already seen is not listed again, so each blob is
//! scanned once however many commits and paths carry it, and is attributed to the first
//! commit (in that order) whose tree holds it. For a range `A..B` everything reachable from
//! `A`'s tree is marked seen first: only what the range adds is listed.
//!
//! gix walks history in process; a push's objects sit in git's quarantine while pre-receive
//! runs, where only git sees them, so pushes (and layouts gix does not read) are listed with
//! `git log --raw` and read with `git cat-file --batch`.

use super::{BlobRead, SourceError, Stage};
use crate::git::packs::{Packs, Plan};
use crate::git::plumbing::{self, CatFile};
use crate::git::{GitError, ReadBlob};
use crate::model::{CommitRef, Content, Item, Selection};
use gix::bstr::{BString, ByteSlice};
use gix::prelude::FindExt;
use gix::ObjectId;
use std::collections::HashSet;

/// The blobs some commits introduced.
pub struct Commits {
    items: Vec<Item>,
    reader: CommitReader,
    plan: Option<Plan>,
}

/// Reads the blobs some commits introduced, and the versions they replaced.
pub struct CommitReader {
    /// For each item, the blob it replaced at its path, when known.
    bases: Vec<Option<ObjectId>>,
    /// The listed blobs.
    listed: HashSet<ObjectId>,
    reader: Reader,
}

enum Reader {
    Gix(Box<gix::Repository>),
    Plumbing(Option<CatFile>),
}

/// One blob the walk listed, and the blob it replaced at its path.
struct Listed {
    item: Item,
    base: Option<ObjectId>,
}

impl Commits {
    /// Lists what `selection` introduced in the repository around the current directory.
    pub fn open(selection: &Selection) -> Result<Self, SourceError> {
        Self::open_in(std::path::Path::new("."), selection)
    }

    /// [`Commits::open`] for the repository around `dir` (git's plumbing, for a push or a
    /// layout gix does not read, runs in the current directory).
    pub fn open_in(dir: &std::path::Path, selection: &Selection) -> Result<Self, SourceError> {
        if matches!(selection, Selection::Push { .. }) {
            return Self::open_plumbing(selection);
        }
        let repo = open_for_history(dir)?;
        if crate::git::unsupported(&repo).is_some() {
            return Self::open_plumbing(selection);
        }
        // The packs, read directly: see `crate::git::packs`.
        let packs = Packs::open(&repo).ok();
        let listed = introduced(&repo, packs.as_ref(), selection)?;
        let (items, bases): (Vec<Item>, Vec<Option<ObjectId>>) =
            listed.into_iter().map(|l| (l.item, l.base)).unzip();
        // Where git packed versions of a file against each other (as it does when it packs),
        // their delta chains are walked; otherwise each version is read and compared with the
        // one before.
        let plan = packs.and_then(|p| crate::git::packs::plan(p, &items));
        Ok(Self::new(items, bases, Reader::Gix(Box::new(repo)), plan))
    }

    fn open_plumbing(selection: &Selection) -> Result<Self, SourceError> {
        let revisions: Vec<String> = match selection {
            Selection::Range(r) => vec![r.clone()],
            Selection::History { branch: Some(b) } => vec![b.clone()],
            Selection::History { branch: None } => vec!["--all".into()],
            Selection::Push { tips } if tips.is_empty() => Vec::new(),
            Selection::Push { tips } => tips
                .iter()
                .map(ToString::to_string)
                .chain(["--not".into(), "--all".into()])
                .collect(),
        };
        let mut items = Vec::new();
        let mut bases = Vec::new();
        if !revisions.is_empty() {
            let mut seen = HashSet::new();
            for commit in plumbing::log(&revisions)? {
                for r in commit.records {
                    // Deletions bring nothing; symlinks and submodules carry no content.
                    if r.status == b'D' || !r.new_mode.starts_with(b"100") {
                        continue;
                    }
                    if seen.insert(r.new_id) {
                        items.push(Item {
                            path: r.path,
                            content: Content::Blob(r.new_id),
                            symlink: false,
                            commit: Some(CommitRef {
                                id: commit.id,
                                author_time: commit.author_time,
                            }),
                        });
                        bases.push(r.old_id);
                    }
                }
            }
        }
        Ok(Self::new(items, bases, Reader::Plumbing(None), None))
    }

    fn new(
        items: Vec<Item>,
        bases: Vec<Option<ObjectId>>,
        reader: Reader,
        plan: Option<Plan>,
    ) -> Self {
        let listed = items
            .iter()
            .filter_map(|i| match i.content {
                Content::Blob(id) => Some(id),
                Content::File(..) => None,
            })
            .collect();
        Commits {
            items,
            reader: CommitReader {
                bases,
                listed,
                reader,
            },
            plan,
        }
    }

    /// For each item, the blob it replaced at its path, when the walk saw it: its lines
    /// were scanned already.
    pub fn bases(&self) -> &[Option<ObjectId>] {
        &self.reader.bases
    }

    /// How many items the packs build along their delta chains, and how many are left to
    /// read one by one (`None` without a plan).
    pub fn planned(&self) -> Option<(usize, usize)> {
        self.plan.as_ref().map(|p| (p.len(), p.rest.len()))
    }

    /// The items the packs build along their delta chains (see [`crate::git::packs`]),
    /// taken once.
    pub fn take_plan(&mut self) -> Option<Plan> {
        self.plan.take()
    }
}

impl CommitReader {
    fn read_id(&mut self, id: ObjectId, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, GitError> {
        match &mut self.reader {
            Reader::Gix(repo) => crate::git::read_blob(repo, id, buf, cap),
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

impl super::Source for Commits {
    fn stage(&self) -> Stage {
        Stage::Committed
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn split(&mut self) -> (&[Item], &mut dyn BlobRead) {
        (&self.items, &mut self.reader)
    }
}

impl BlobRead for CommitReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError> {
        let Content::Blob(id) = item.content else {
            return Err(SourceError::Input("a commit's item is not a blob".into()));
        };
        Ok(self.read_id(id, buf, cap)?)
    }

    /// The version this one replaced, when the selection does not list it (the base of a
    /// range, what the server has before a push): a secret it holds already was not
    /// introduced here.
    fn previous(
        &mut self,
        index: usize,
        _: &Item,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        match self.bases[index].filter(|b| !self.listed.contains(b)) {
            Some(b) => Ok(self.read_id(b, buf, cap)? == ReadBlob::Read),
            None => Ok(false),
        }
    }
}

/// Opens the repository around the current directory (bare repositories too), with a cache
/// of delta bases: versions of a file are stored as chains of deltas, and reading history
/// oldest first would otherwise rebuild each chain from its base every time.
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

/// The commit a revision names (`main`, `origin/main`, `HEAD~3`, an id).
fn commit_id(repo: &gix::Repository, spec: &str) -> Result<ObjectId, SourceError> {
    let id = repo
        .rev_parse_single(spec.as_bytes().as_bstr())
        .map_err(|_| SourceError::Revision(spec.to_owned()))?;
    let commit = id
        .object()
        .map_err(|e| GitError::read(format!("revision {spec}"), e))?
        .peel_to_commit()
        .map_err(|_| SourceError::Revision(spec.to_owned()))?;
    Ok(commit.id)
}

/// The commits every ref points to (tags peeled), for "reachable from anything".
fn ref_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>, SourceError> {
    let refs = repo.references().map_err(|e| GitError::read("refs", e))?;
    let mut tips = Vec::new();
    for r in refs.all().map_err(|e| GitError::read("refs", e))? {
        let Ok(mut r) = r else { continue };
        if let Ok(commit) = r.peel_to_commit() {
            tips.push(commit.id);
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Lists the blobs `selection` introduced, oldest commit first. Trees are read from `packs`
/// where they are there (see [`crate::git::packs::Reader`]), otherwise through gix.
fn introduced(
    repo: &gix::Repository,
    packs: Option<&Packs>,
    selection: &Selection,
) -> Result<Vec<Listed>, SourceError> {
    let not_a_range =
        |range: &str| SourceError::Input(format!("`{range}` is not a range (use A..B)"));
    let (tips, hidden) = match selection {
        Selection::Range(range) => {
            let (a, b) = range.split_once("..").ok_or_else(|| not_a_range(range))?;
            if a.is_empty() || b.is_empty() || b.starts_with('.') {
                return Err(not_a_range(range));
            }
            (vec![commit_id(repo, b)?], vec![commit_id(repo, a)?])
        }
        Selection::History { branch: Some(b) } => (vec![commit_id(repo, b)?], Vec::new()),
        Selection::History { branch: None } => (ref_tips(repo)?, Vec::new()),
        Selection::Push { tips } => (tips.clone(), ref_tips(repo)?),
    };
    let mut walk = Walk {
        repo,
        reader: packs.map(crate::git::packs::Reader::new),
        seen_trees: gix::hashtable::HashSet::default(),
        seen_blobs: gix::hashtable::HashSet::default(),
        last_at: std::collections::HashMap::new(),
        out: Vec::new(),
        buf: Vec::new(),
    };
    // What the hidden side already has is not new.
    for id in &hidden {
        let tree = tree_of(repo, *id)?;
        walk.tree(tree, b"", None)?;
    }
    walk.out.clear();
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let walk_err = |e| GitError::read("the commit graph", e);
    let mut commits: Vec<ObjectId> = Vec::new();
    let iter = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(walk_err)?;
    for info in iter {
        commits.push(info.map_err(|e| GitError::read("the commit graph", e))?.id);
    }
    commits.reverse();
    for id in commits {
        let commit = repo
            .find_commit(id)
            .map_err(|e| GitError::read(format!("commit {id}"), e))?;
        let time = commit
            .author()
            .ok()
            .and_then(|a| a.time().ok())
            .map_or(0, |t| t.seconds);
        let tree = commit
            .tree_id()
            .map_err(|e| GitError::read(format!("commit {id}"), e))?
            .detach();
        walk.tree(tree, b"", Some((id, time)))?;
    }
    Ok(walk.out)
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

struct Walk<'r> {
    repo: &'r gix::Repository,
    reader: Option<crate::git::packs::Reader<'r>>,
    seen_trees: gix::hashtable::HashSet<ObjectId>,
    seen_blobs: gix::hashtable::HashSet<ObjectId>,
    /// The blob last listed (or marked seen) at each path.
    last_at: std::collections::HashMap<BString, ObjectId>,
    out: Vec<Listed>,
    buf: Vec<u8>,
}

impl Walk<'_> {
    /// Visits tree `id` at `prefix`; `commit` is `None` while marking the hidden side.
    fn tree(
        &mut self,
        id: ObjectId,
        prefix: &[u8],
        commit: Option<(ObjectId, i64)>,
    ) -> Result<(), SourceError> {
        if !self.seen_trees.insert(id) {
            return Ok(());
        }
        let packed = match &mut self.reader {
            Some(reader) => reader
                .read(&id)
                .map_err(|e| GitError::read(format!("tree {id}"), e))?,
            None => None,
        };
        let data: &[u8] = match &packed {
            Some((gix::objs::Kind::Tree, data)) => data,
            Some(_) => {
                return Err(GitError::read(
                    format!("tree {id}"),
                    std::io::Error::other("not a tree"),
                )
                .into())
            }
            None => {
                self.repo
                    .objects
                    .find_tree(&id, &mut self.buf)
                    .map_err(|e| GitError::read(format!("tree {id}"), e))?;
                &self.buf
            }
        };
        let entries: Vec<(gix::objs::tree::EntryMode, BString, ObjectId)> =
            gix::objs::TreeRefIter::from_bytes(data, self.repo.object_hash())
                .map(|e| e.map(|e| (e.mode, e.filename.to_owned(), e.oid.to_owned())))
                .collect::<Result<_, _>>()
                .map_err(|e| GitError::read(format!("tree {id}"), e))?;
        for (mode, name, oid) in entries {
            let mut path = Vec::with_capacity(prefix.len() + name.len() + 1);
            path.extend_from_slice(prefix);
            path.extend_from_slice(&name);
            if mode.is_tree() {
                path.push(b'/');
                self.tree(oid, &path, commit)?;
            } else if mode.is_blob() && self.seen_blobs.insert(oid) {
                // Symlinks hold a target path and gitlinks a commit: neither is content.
                let path = BString::from(path);
                let base = self.last_at.insert(path.clone(), oid);
                if let Some((commit, author_time)) = commit {
                    self.out.push(Listed {
                        item: Item {
                            path: path.into(),
                            content: Content::Blob(oid),
                            symlink: false,
                            commit: Some(CommitRef {
                                id: commit,
                                author_time,
                            }),
                        },
                        base,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Parses pre-receive input: `old new ref` per line. Returns the new tips (deletions, whose
/// new id is all zeros, introduce nothing).
pub fn push_tips(input: &str) -> Result<Vec<ObjectId>, SourceError> {
    let mut tips = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_old, new, _name] = parts[..] else {
            return Err(SourceError::Input(format!(
                "pre-receive line {}: expected `old new ref`",
                n + 1
            )));
        };
        let id = ObjectId::from_hex(new.as_bytes()).map_err(|_| {
            SourceError::Input(format!(
                "pre-receive line {}: `{new}` is not an object id",
                n + 1
            ))
        })?;
        if !id.is_null() {
            tips.push(id);
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
        assert_eq!(push_tips(&input).expect("valid").len(), 1);
        assert!(push_tips("nonsense").is_err());
        assert!(push_tips(&format!("{zero} xyz refs/heads/x")).is_err());
    }
}
