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

mod by_git;
mod chains;
mod listing;
mod push;
mod reader;
mod revs;
mod tree;
mod walk;

use by_git::*;
use listing::*;
use reader::*;
use revs::*;
use walk::*;

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

impl Commits {
    /// Lists what `selection` introduced in the repository around the current directory.
    pub(crate) fn open(selection: &Selection) -> Result<Self, SourceError> {
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

/// Parses pre-receive input: `old new ref` per line. Returns the refs created or moved
/// (deletions, whose new id is all zeros, introduce nothing).
pub(crate) fn push_tips(input: &str) -> Result<Vec<PushedRef>, SourceError> {
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
