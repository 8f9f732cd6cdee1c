//! What a push brings, listed in process exactly as git's plumbing lists it:
//! `git rev-list --reverse --topo-order TIPS --not --all`, then `git diff-tree -r -m --root
//! --no-renames` for each commit listed.
//!
//! That is the commits no existing ref reaches, parents first, and for each what differs from
//! each of its parents (everything, for a root commit). It is not the range listing's
//! "everything the new trees hold that the hidden tips' trees do not": a branch pushed on top of
//! an old commit would then list as new every file that old commit held and no ref tip holds
//! any more.
//!
//! The walk is git's own, step for step (revision.c's `limit_list`, with its date-ordered list
//! and its stopping rule, and commit.c's `sort_in_topological_order` in graph order), so the
//! same commits are listed in the same order as `git rev-list` lists them when the repository
//! has no commit-graph (with one, git walks another way to another topological order; nothing
//! here depends on which). The tree diff is tree-diff.c's merge of two sorted trees.
//!
//! Objects are read from the pushed pack first, then from the quarantine and its alternates
//! ([`Quarantine`]): gix 0.90 sees neither the quarantine nor `GIT_ALTERNATE_OBJECT_DIRECTORIES`.
//! What the walk cannot stand in for (a shallow or grafted repository, other worktrees' HEADs,
//! an object it cannot read) is an error, and the caller asks git's plumbing instead.

use super::tree::{base_name_compare, Entries, MAX_TREE_DEPTH};
use super::{
    list_changes, peel, place_of, read_commit, read_object, Change, Listing, ParentDiff, Seen,
};
use crate::git::packs::{Packs, Reader};
use crate::git::quarantine::Quarantine;
use crate::git::GitError;
use crate::model::{CommitRef, PushedRef};
use crate::source::SourceError;
use gix::objs::Kind;
use gix::ObjectId;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::rc::Rc;

/// Lists what the push of `tips` brings to `repo`, reading objects from `packs` (the pushed
/// ones) and `objects`.
pub(super) fn list(
    repo: &gix::Repository,
    objects: &Quarantine,
    packs: Option<&Packs>,
    tips: &[PushedRef],
) -> Result<Listing, SourceError> {
    if let Some(why) = unlike_git(repo) {
        return Err(GitError::Unsupported(why.into()).into());
    }
    let hash = repo.object_hash();
    let mut graph = Graph::new(objects, packs, hash);
    let tips = peel(objects, hash, tips.to_vec())?;
    // A push of tags to trees or blobs alone walks no history (git's plumbing runs no
    // `rev-list` for it either).
    let commits = if tips.commits.is_empty() {
        Vec::new()
    } else if objects.has_commit_graph() {
        // With a commit-graph git walks by generation numbers and lists exactly the commits
        // no ref reaches, where the date-ordered walk below (git's without one) also lists,
        // when clocks disagree, commits the server has. git's list is the authority: asked.
        graph.listed_by_git(&tips.commits)?
    } else {
        let mut existing: Vec<PushedRef> = super::all_refs(repo)?;
        if let Ok(head) = repo.head_id() {
            existing.push(PushedRef {
                id: head.detach(),
                name: "HEAD".into(),
            });
        }
        let hidden = peel(objects, hash, existing)?.commits;
        graph.new_commits(&tips.commits, &hidden)?
    };
    let listed: std::collections::HashSet<usize> = commits.iter().copied().collect();
    let mut jobs = Vec::with_capacity(commits.len());
    let mut hidden_parents = Vec::with_capacity(commits.len());
    for &n in &commits {
        let commit = graph.nodes[n]
            .parsed
            .as_ref()
            .expect("listed commits are parsed");
        let mut parents = Vec::with_capacity(commit.parents.len());
        for &p in &commit.parents {
            let parent = graph.nodes[p].parsed.as_ref();
            let parent = parent.ok_or_else(|| GitError::Unsupported("an unread parent".into()))?;
            parents.push(parent.tree);
        }
        // A parent the push does not bring is one the server has.
        hidden_parents.push(commit.parents.iter().map(|p| !listed.contains(p)).collect());
        jobs.push(Job {
            tree: commit.tree,
            parents,
        });
    }
    let mut listing = Listing::default();
    let threads = if jobs.len() >= PARALLEL_FROM {
        crate::cores::cores().min(8)
    } else {
        1
    };
    let changes = graph.changes(&jobs, threads)?;
    for ((&n, diffs), hidden) in commits.iter().zip(changes).zip(hidden_parents) {
        let parsed = graph.nodes[n].parsed.as_ref();
        let at = parsed.map(|c| c.at);
        let hidden: Vec<bool> = hidden;
        let diffs: Vec<ParentDiff> = diffs
            .into_iter()
            .enumerate()
            .map(|(i, changes)| ParentDiff {
                hidden: hidden.get(i).copied().unwrap_or(false),
                changes,
            })
            .collect();
        list_changes(&mut listing, at, &diffs);
        if let Some(commit) = parsed {
            listing.texts(at, b"", &commit.texts);
        }
    }
    // A tree a ref points at: every file in it, at its path (as a root commit's).
    let trees: Vec<Job> = tips
        .trees
        .iter()
        .map(|&tree| Job {
            tree,
            parents: Vec::new(),
        })
        .collect();
    for diffs in graph.changes(&trees, 1)? {
        for c in diffs.iter().flatten() {
            let Some((id, mode)) = c.new else { continue };
            if let Some(place) = place_of(mode) {
                listing.pair(id, &c.path, place, Seen::listed(None));
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

/// Why git would walk this repository's history differently, if it would: history cut or
/// rewritten (a shallow repository, grafts) or heads that `--all` adds beyond the refs
/// (other worktrees').
fn unlike_git(repo: &gix::Repository) -> Option<&'static str> {
    if repo.is_shallow().unwrap_or(true) || std::env::var_os("GIT_SHALLOW_FILE").is_some() {
        return Some("a shallow repository");
    }
    let common = repo.common_dir();
    if common.join("info/grafts").exists() || std::env::var_os("GIT_GRAFT_FILE").is_some() {
        return Some("grafts");
    }
    if common.join("worktrees").exists() {
        return Some("worktrees");
    }
    None
}

/// What git's walk marks on a commit.
const UNINTERESTING: u8 = 1;
const SEEN: u8 = 2;

/// How many more commits git's walk takes once only hidden ones are left (revision.c's
/// `SLOP`): a child dated before its parent is still found.
const SLOP: u32 = 5;

/// A commit the walk met: marks, and once read, what it holds.
struct Node {
    id: ObjectId,
    flags: u8,
    parsed: Option<Parsed>,
}

struct Parsed {
    /// Committer date: what the walk orders by.
    date: i64,
    at: CommitRef,
    tree: ObjectId,
    parents: Vec<usize>,
    texts: super::Texts,
}

/// The commits met so far, and how objects are read.
struct Graph<'a> {
    objects: &'a Quarantine,
    packs: Option<&'a Packs>,
    reader: Option<Reader<&'a Packs>>,
    hash: gix::hash::Kind,
    index: HashMap<ObjectId, usize>,
    nodes: Vec<Node>,
    buf: Vec<u8>,
}

impl<'a> Graph<'a> {
    fn new(objects: &'a Quarantine, packs: Option<&'a Packs>, hash: gix::hash::Kind) -> Self {
        Graph {
            objects,
            packs,
            reader: packs.map(Reader::new),
            hash,
            index: HashMap::new(),
            nodes: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// The node of commit `id`, made unread if it is new.
    fn node(&mut self, id: ObjectId) -> usize {
        *self.index.entry(id).or_insert_with(|| {
            self.nodes.push(Node {
                id,
                flags: 0,
                parsed: None,
            });
            self.nodes.len() - 1
        })
    }

    /// Reads node `n`'s commit, once.
    fn parse(&mut self, n: usize) -> Result<(), SourceError> {
        if self.nodes[n].parsed.is_some() {
            return Ok(());
        }
        let id = self.nodes[n].id;
        let (date, queued) = read_commit(
            self.objects,
            self.hash,
            self.reader.as_mut(),
            id,
            &mut self.buf,
        )?;
        let parents = queued.parents.into_iter().map(|p| self.node(p)).collect();
        self.nodes[n].parsed = Some(Parsed {
            date,
            at: queued.walked.at,
            tree: queued.walked.tree,
            parents,
            texts: queued.walked.texts,
        });
        Ok(())
    }

    fn date(&self, n: usize) -> i64 {
        self.nodes[n].parsed.as_ref().map_or(0, |c| c.date)
    }

    fn parents(&self, n: usize) -> Vec<usize> {
        self.nodes[n]
            .parsed
            .as_ref()
            .map_or_else(Vec::new, |c| c.parents.clone())
    }

    fn uninteresting(&self, n: usize) -> bool {
        self.nodes[n].flags & UNINTERESTING != 0
    }

    /// The commits `tips` reach and `hidden` do not, parents first: revision.c's
    /// `limit_list` (a list ordered by committer date, hidden marks spread to every
    /// ancestor met, stopping [`SLOP`] commits after only hidden ones are left), then
    /// commit.c's `sort_in_topological_order` in graph order, reversed.
    fn new_commits(
        &mut self,
        tips: &[ObjectId],
        hidden: &[ObjectId],
    ) -> Result<Vec<usize>, SourceError> {
        let mut pending: Vec<usize> = tips.iter().map(|&t| self.node(t)).collect();
        for &h in hidden {
            let n = self.node(h);
            self.nodes[n].flags |= UNINTERESTING;
            pending.push(n);
        }
        // The list, as a heap: newest first, and among commits of one date, the one put in
        // first (git inserts after every commit at least as new).
        let mut list = BinaryHeap::new();
        let mut order = 0usize;
        let mut put = |list: &mut BinaryHeap<_>, date: i64, n: usize| {
            list.push((date, Reverse(order), n));
            order += 1;
        };
        for n in pending {
            if self.nodes[n].flags & SEEN != 0 {
                continue;
            }
            self.nodes[n].flags |= SEEN;
            self.parse(n)?;
            if self.uninteresting(n) {
                self.mark_parents_uninteresting(n);
            }
            put(&mut list, self.date(n), n);
        }
        let mut limited = Vec::new();
        let mut date = i64::MAX;
        let mut slop = SLOP;
        let mut cache = None;
        while let Some((_, _, c)) = list.pop() {
            if cache == Some(c) {
                cache = None;
            }
            let hidden = self.uninteresting(c);
            for p in self.parents(c) {
                if hidden {
                    self.nodes[p].flags |= UNINTERESTING;
                    // git reads the hidden side gently: what it cannot read stops there.
                    if self.parse(p).is_err() {
                        continue;
                    }
                    self.mark_parents_uninteresting(p);
                } else {
                    self.parse(p)?;
                }
                if self.nodes[p].flags & SEEN == 0 {
                    self.nodes[p].flags |= SEEN;
                    put(&mut list, self.date(p), p);
                }
            }
            if hidden {
                self.mark_parents_uninteresting(c);
                slop = self.still_interesting(&list, date, slop, &mut cache);
                if slop > 0 {
                    continue;
                }
                break;
            }
            date = self.date(c);
            limited.push(c);
        }
        let mut sorted = self.topological(&limited);
        sorted.retain(|&n| !self.uninteresting(n));
        sorted.reverse();
        Ok(sorted)
    }

    /// The commits `git rev-list --reverse --topo-order TIPS --not --all` lists, read with
    /// their parents.
    fn listed_by_git(&mut self, tips: &[ObjectId]) -> Result<Vec<usize>, SourceError> {
        let mut args: Vec<String> = tips.iter().map(ToString::to_string).collect();
        args.extend(["--not".to_owned(), "--all".to_owned()]);
        let mut listed = Vec::new();
        for id in crate::git::plumbing::rev_list(&args)? {
            let n = self.node(id);
            self.parse(n)?;
            for p in self.parents(n) {
                self.parse(p)?;
            }
            listed.push(n);
        }
        Ok(listed)
    }

    /// Marks every known ancestor of `n` hidden (revision.c's `mark_parents_uninteresting`:
    /// parents of commits not read yet are marked when they are read).
    fn mark_parents_uninteresting(&mut self, n: usize) {
        let mut stack = self.parents(n);
        while let Some(p) = stack.pop() {
            if self.uninteresting(p) {
                continue;
            }
            self.nodes[p].flags |= UNINTERESTING;
            stack.extend(self.parents(p));
        }
    }

    /// revision.c's `still_interesting`: how many more hidden commits to take.
    fn still_interesting(
        &self,
        list: &BinaryHeap<(i64, Reverse<usize>, usize)>,
        date: i64,
        slop: u32,
        cache: &mut Option<usize>,
    ) -> u32 {
        let Some(&(newest, _, _)) = list.peek() else {
            return 0;
        };
        if date <= newest {
            return SLOP;
        }
        if let Some(c) = *cache {
            if !self.uninteresting(c) {
                return SLOP;
            }
        }
        if let Some(&(_, _, c)) = list.iter().find(|&&(_, _, c)| !self.uninteresting(c)) {
            *cache = Some(c);
            return SLOP;
        }
        slop - 1
    }

    /// commit.c's `sort_in_topological_order` in graph order: children before parents, the
    /// tips in the order of `list`, and each line of descent followed as far as it goes.
    fn topological(&self, list: &[usize]) -> Vec<usize> {
        // 0: not in the list or emitted; otherwise 1 + children in the list not emitted.
        let mut indegree: HashMap<usize, u32> = list.iter().map(|&n| (n, 1)).collect();
        for &n in list {
            for p in self.parents(n) {
                if let Some(d) = indegree.get_mut(&p).filter(|d| **d > 0) {
                    *d += 1;
                }
            }
        }
        let mut stack: Vec<usize> = list.iter().copied().filter(|n| indegree[n] == 1).collect();
        stack.reverse();
        let mut sorted = Vec::with_capacity(list.len());
        while let Some(c) = stack.pop() {
            for p in self.parents(c) {
                let Some(d) = indegree.get_mut(&p).filter(|d| **d > 0) else {
                    continue;
                };
                *d -= 1;
                if *d == 1 {
                    stack.push(p);
                }
            }
            indegree.insert(c, 0);
            sorted.push(c);
        }
        sorted
    }

    /// What each of `jobs` changed, in order: on `threads` cores where the pushed packs hold the
    /// trees (each core with its own reader, over a run of consecutive commits, whose trees
    /// the reader keeps from one commit to the next), here for what they do not.
    fn changes(&mut self, jobs: &[Job], threads: usize) -> Result<Vec<Diffs>, SourceError> {
        let mut done: Vec<Option<Diffs>> = jobs.iter().map(|_| None).collect();
        if let Some(packs) = self.packs.filter(|_| threads > 1 && !jobs.is_empty()) {
            let hash = self.hash;
            let per = jobs.len().div_ceil(threads);
            std::thread::scope(|scope| {
                let runs: Vec<_> = jobs
                    .chunks(per)
                    .map(|run| {
                        // A stack for trees nested as deep as git reads them; a thread that
                        // cannot start leaves its run to this one.
                        let builder = std::thread::Builder::new().stack_size(WORKER_STACK_BYTES);
                        builder.spawn_scoped(scope, move || {
                            let mut reader = Reader::keeping(packs, WORKER_KEPT_BYTES);
                            let mut read = |id: ObjectId| match reader.read(&id) {
                                Ok(Some((Kind::Tree, data))) => Ok(data),
                                // Elsewhere, or not a tree: left to this thread's reader.
                                _ => Err(SourceError::from(GitError::Unsupported(
                                    "a tree outside the pushed packs".into(),
                                ))),
                            };
                            run.iter()
                                .map(|job| job.run(&mut read, hash).ok())
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                for (slots, run) in done.chunks_mut(per).zip(runs) {
                    if let Ok(results) = run.map_err(drop).and_then(|r| r.join().map_err(drop)) {
                        for (slot, result) in slots.iter_mut().zip(results) {
                            *slot = result;
                        }
                    }
                }
            });
        }
        let (objects, reader, hash) = (self.objects, &mut self.reader, self.hash);
        let mut read = |id: ObjectId| read_tree(objects, reader.as_mut(), id);
        jobs.iter()
            .zip(done)
            .map(|(job, done)| match done {
                Some(changes) => Ok(changes),
                None => job.run(&mut read, hash),
            })
            .collect()
    }
}

/// Commits diffed on every core from this many: fewer cost less than the threads.
const PARALLEL_FROM: usize = 64;

/// Each diffing thread's stack: [`MAX_TREE_DEPTH`] nested diffs fit with room to spare.
const WORKER_STACK_BYTES: usize = 16 << 20;

/// Memory for the trees each core's reader keeps.
const WORKER_KEPT_BYTES: usize = 16 << 20;

/// What one commit changed relative to each parent, in their order (one diff, of everything,
/// for a root commit).
type Diffs = Vec<Vec<Change>>;

/// What one commit changed is what its tree and each parent's differ by (everything, for a
/// root commit): `git diff-tree -r -m --root`.
struct Job {
    tree: ObjectId,
    parents: Vec<ObjectId>,
}

impl Job {
    fn run(&self, read: &mut ReadTree<'_>, hash: gix::hash::Kind) -> Result<Diffs, SourceError> {
        let parents: Vec<Option<ObjectId>> = if self.parents.is_empty() {
            vec![None]
        } else {
            self.parents.iter().copied().map(Some).collect()
        };
        let mut diffs = Vec::with_capacity(parents.len());
        for parent in parents {
            let mut changes = Vec::new();
            let mut path = Vec::new();
            diff(
                read,
                hash,
                parent,
                Some(self.tree),
                &mut path,
                &mut changes,
                0,
            )?;
            diffs.push(changes);
        }
        Ok(diffs)
    }
}

/// Reads a tree's bytes.
type ReadTree<'r> = dyn FnMut(ObjectId) -> Result<Rc<Vec<u8>>, SourceError> + 'r;

/// Tree `id`, from the packs where `reader` builds it, through `objects` otherwise.
fn read_tree(
    objects: &Quarantine,
    reader: Option<&mut Reader<&Packs>>,
    id: ObjectId,
) -> Result<Rc<Vec<u8>>, SourceError> {
    let mut buf = Vec::new();
    let packed = read_object(objects, reader, id, Kind::Tree, &mut buf)?;
    Ok(packed.unwrap_or_else(|| Rc::new(buf)))
}

/// What differs between trees `old` and `new` (either may be absent: everything added or
/// deleted) under `path`, file by file, appended to `out` in git's order (tree-diff.c: both
/// sorted lists merged, subtrees entered where they differ).
fn diff(
    read: &mut ReadTree<'_>,
    hash: gix::hash::Kind,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
    path: &mut Vec<u8>,
    out: &mut Vec<Change>,
    depth: usize,
) -> Result<(), SourceError> {
    let old_data = old.map(&mut *read).transpose()?;
    let new_data = new.map(&mut *read).transpose()?;
    // Both trees are walked side by side as they are parsed: no list of entries is built.
    let mut olds = Entries::new(old, old_data.as_deref().map_or(&[][..], |d| d), hash);
    let mut news = Entries::new(new, new_data.as_deref().map_or(&[][..], |d| d), hash);
    let (mut a, mut b) = (olds.next()?, news.next()?);
    let prefix = path.len();
    loop {
        let order = match (&a, &b) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => base_name_compare(a, b),
        };
        let (x, y) = match order {
            Ordering::Less => (a.take(), None),
            Ordering::Greater => (None, b.take()),
            Ordering::Equal => (a.take(), b.take()),
        };
        if x.is_some() {
            a = olds.next()?;
        }
        if y.is_some() {
            b = news.next()?;
        }
        if let (Some(x), Some(y)) = (x, y) {
            if x.oid == y.oid && x.mode == y.mode {
                continue;
            }
        }
        let entry = x.or(y).expect("one side at least");
        path.truncate(prefix);
        path.extend_from_slice(entry.filename);
        if entry.is_tree() {
            path.push(b'/');
            let (x, y) = (x.map(|e| e.oid.to_owned()), y.map(|e| e.oid.to_owned()));
            if depth >= MAX_TREE_DEPTH {
                return Err(
                    GitError::Unsupported("trees nested deeper than git reads".into()).into(),
                );
            }
            diff(read, hash, x, y, path, out, depth + 1)?;
        } else {
            out.push(Change {
                path: path.clone(),
                old: x.map(|e| (e.oid.to_owned(), e.mode)),
                new: y.map(|e| (e.oid.to_owned(), e.mode)),
            });
        }
    }
    path.truncate(prefix);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `git args` in `dir`, authored and committed at `date`; its output.
    fn git(dir: &std::path::Path, args: &[&str], date: i64) -> String {
        let stamp = format!("{date} +0000");
        let dates = [
            ("GIT_AUTHOR_DATE", stamp.as_str()),
            ("GIT_COMMITTER_DATE", &stamp),
        ];
        crate::git::test_git(dir, args, &dates)
    }

    /// A history with what a push can bring: branches and merges, a second root, commits of
    /// one date and a clock set back, renames, a directory replaced by a file and a file by a
    /// directory, mode changes, symlinks and submodules becoming files and back.
    fn history(d: &std::path::Path) {
        git(d, &["init", "-q", "-b", "main"], 0);
        let write = |path: &str, text: &str| {
            let file = d.join(path);
            std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
            std::fs::write(file, text).expect("write");
        };
        // A symlink or submodule entry, staged by hand (no file system support needed).
        let entry = |mode: &str, path: &str, target: &str| {
            write("target.tmp", target);
            let blob = git(d, &["hash-object", "-w", "target.tmp"], 0);
            std::fs::remove_file(d.join("target.tmp")).expect("rm");
            let id = if mode == "160000" { target } else { &blob };
            git(
                d,
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("{mode},{id},{path}"),
                ],
                0,
            );
        };
        let commit = |message: &str, date: i64| {
            git(d, &["add", "-A", "."], date);
            git(d, &["commit", "-q", "--allow-empty", "-m", message], date);
        };
        let t = 1_700_000_000;
        write("a.txt", "a1\n");
        write("dir/b.txt", "b1\n");
        write("dir/sub/c.txt", "c1\n");
        write("dir/sub.txt", "s\n");
        write("dir/sub-x", "x\n");
        write("run.sh", "echo\n");
        commit("one", t);
        entry("120000", "link", "a.txt");
        git(d, &["commit", "-q", "-m", "link"], t);
        let first = git(d, &["rev-parse", "HEAD"], t);
        entry("160000", "module", &first);
        git(d, &["commit", "-q", "-m", "module"], t + 10);
        write("a.txt", "a2\n");
        git(d, &["mv", "dir/b.txt", "dir/b2.txt"], t);
        git(d, &["update-index", "--chmod=+x", "run.sh"], t);
        commit("two", t + 20);
        // A directory becomes a file, a file becomes a directory.
        git(d, &["rm", "-rq", "dir/sub"], t);
        write("dir/sub", "now a file\n");
        std::fs::remove_file(d.join("a.txt")).expect("rm");
        write("a.txt/inner.txt", "a was a file\n");
        commit("three", t + 30);
        git(d, &["branch", "topic"], t);
        // A side branch from the first commit, its clock set back.
        git(d, &["checkout", "-q", "-b", "side", &first], t);
        git(d, &["rm", "-q", "--cached", "link"], t);
        write("link", "a file now\n");
        write("side.txt", "side\n");
        commit("side one", t - 500);
        write("side.txt", "side 2\n");
        git(d, &["rm", "-q", "dir/sub-x"], t);
        commit("side two", t - 600);
        git(d, &["checkout", "-q", "main"], t);
        git(
            d,
            &[
                "merge", "-q", "--no-ff", "-s", "ours", "-m", "merge", "side",
            ],
            t + 40,
        );
        // Commits of one date on topic, and a tag on it.
        git(d, &["checkout", "-q", "topic"], t);
        for i in 0..3 {
            write(&format!("topic{i}.txt"), "t\n");
            commit(&format!("topic {i}"), t + 50);
        }
        git(d, &["tag", "-a", "-m", "tag", "v1", "topic"], t + 50);
        // Two branches whose commits share a date: only the order they are found in
        // orders them.
        for name in ["eq1", "eq2"] {
            git(d, &["checkout", "-q", "-b", name, "main"], t);
            for i in 0..2 {
                write(&format!("{name}-{i}.txt"), "e\n");
                commit(name, t + 60);
            }
        }
        // A second root.
        git(d, &["checkout", "-q", "--orphan", "pages"], t);
        git(d, &["rm", "-rq", "--cached", "."], t);
        write("index.html", "<p>\n");
        git(d, &["add", "index.html"], t);
        git(d, &["commit", "-q", "-m", "pages"], t + 45);
        git(d, &["checkout", "-q", "-f", "main"], t);
    }

    /// `git diff-tree -r -m --root` of `commit`, as changes.
    fn git_changes(d: &std::path::Path, commit: ObjectId) -> Vec<Change> {
        let out = git(
            d,
            &[
                "diff-tree",
                "-r",
                "-m",
                "--root",
                "--no-renames",
                "--no-abbrev",
                "--no-commit-id",
                &commit.to_string(),
            ],
            0,
        );
        out.lines()
            .map(|line| {
                let (meta, path) = line.split_once('\t').expect("a raw line");
                let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
                let id = |hex: &str| ObjectId::from_hex(hex.as_bytes()).expect("an id");
                let mode = |octal: &str| u32::from_str_radix(octal, 8).expect("a mode");
                Change {
                    path: path.as_bytes().to_vec(),
                    old: Some(id(f[2]))
                        .filter(|i| !i.is_null())
                        .map(|i| (i, mode(f[0]))),
                    new: (f[4] != "D").then(|| (id(f[3]), mode(f[1]))),
                }
            })
            .collect()
    }

    /// For pushes of several tips onto several sets of existing commits, the walk lists the
    /// commits `git rev-list --reverse --topo-order` lists, in its order, and for each what
    /// `git diff-tree -r -m --root` says it changed; from loose objects and from a pack.
    #[test]
    fn the_push_walk_lists_what_git_lists_in_its_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        history(d);
        let rev = |name: &str| git(d, &["rev-parse", name], 0);
        let first = rev("main~3");
        let cases: Vec<(Vec<String>, Vec<String>)> = vec![
            (
                vec![rev("main"), rev("topic"), rev("v1"), rev("pages")],
                vec![],
            ),
            (vec![rev("main")], vec![first.clone()]),
            (vec![rev("topic")], vec![rev("main")]),
            (vec![rev("main"), rev("topic")], vec![rev("side")]),
            (vec![rev("side"), rev("pages")], vec![rev("topic"), first]),
            (vec![rev("main")], vec![rev("main")]),
            (vec![rev("eq2"), rev("eq1")], vec![rev("main")]),
            (vec![rev("eq1"), rev("eq2"), rev("topic")], vec![]),
        ];
        for packed in [false, true] {
            if packed {
                git(d, &["gc", "-q"], 0);
                let _ = std::fs::remove_file(d.join(".git/objects/info/commit-graph"));
            }
            let repo = crate::git::open_in(d).expect("repository");
            let hash = repo.object_hash();
            let objects_dir = repo.objects.store_ref().path().to_owned();
            let objects = Quarantine::open(objects_dir.clone(), &[], hash).expect("odb");
            let packs = Packs::open_dir(&objects_dir, hash).expect("packs");
            for (tips, hidden) in &cases {
                let mut graph = Graph::new(&objects, Some(&packs), hash);
                let refs = tips
                    .iter()
                    .map(|t| PushedRef {
                        id: ObjectId::from_hex(t.as_bytes()).expect("id"),
                        name: "refs/x".into(),
                    })
                    .collect();
                let tips_peeled = peel(&objects, hash, refs).expect("peel");
                let hidden_ids: Vec<ObjectId> = hidden
                    .iter()
                    .map(|h| ObjectId::from_hex(h.as_bytes()).expect("id"))
                    .collect();
                let ours = graph
                    .new_commits(&tips_peeled.commits, &hidden_ids)
                    .expect("walk");
                let ours: Vec<ObjectId> = ours.iter().map(|&n| graph.nodes[n].id).collect();
                let mut args = vec!["rev-list", "--reverse", "--topo-order"];
                args.extend(tips.iter().map(String::as_str));
                args.push("--not");
                args.extend(hidden.iter().map(String::as_str));
                let theirs: Vec<ObjectId> = git(d, &args, 0)
                    .lines()
                    .map(|l| ObjectId::from_hex(l.as_bytes()).expect("id"))
                    .collect();
                assert_eq!(
                    ours, theirs,
                    "packed {packed}, push {tips:?} onto {hidden:?}"
                );
                // What each commit changed, on three threads (none of them reads a loose
                // object: those commits are diffed again here).
                let jobs: Vec<Job> = ours
                    .iter()
                    .map(|id| {
                        let commit = graph.nodes[graph.index[id]].parsed.as_ref().expect("read");
                        let parents = commit
                            .parents
                            .iter()
                            .map(|&p| graph.nodes[p].parsed.as_ref().expect("parent read").tree);
                        Job {
                            tree: commit.tree,
                            parents: parents.collect(),
                        }
                    })
                    .collect();
                let changes = graph.changes(&jobs, 3).expect("diffs");
                for (&id, diffs) in ours.iter().zip(changes) {
                    assert_eq!(
                        diffs.into_iter().flatten().collect::<Vec<_>>(),
                        git_changes(d, id),
                        "commit {id}"
                    );
                }
            }
        }
    }

    /// A tree entry of mode `140000` is a submodule to git (gix would read a directory):
    /// replaced by a directory holding the same tree, every file in it is new, as `git
    /// diff-tree` says. Trees written byte by byte, as a hostile push can.
    #[test]
    fn a_mode_git_reads_as_a_submodule_is_diffed_as_git_diffs_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"], 0);
        std::fs::write(d.join("secret.txt"), "TOKEN\n").expect("write");
        let blob = git(d, &["hash-object", "-w", "secret.txt"], 0);
        let raw = |id: &str| ObjectId::from_hex(id.as_bytes()).expect("id");
        let tree_of = |entries: &[(&str, &str, ObjectId)]| {
            let mut bytes = Vec::new();
            for (mode, name, id) in entries {
                bytes.extend_from_slice(format!("{mode} {name}\0").as_bytes());
                bytes.extend_from_slice(id.as_bytes());
            }
            std::fs::write(d.join("tree.bin"), bytes).expect("write");
            let id = git(
                d,
                &["hash-object", "-t", "tree", "-w", "--literally", "tree.bin"],
                0,
            );
            raw(&id)
        };
        let inner = tree_of(&[("100644", "secret.txt", raw(&blob))]);
        let before = tree_of(&[("140000", "x", inner)]);
        let after = tree_of(&[("40000", "x", inner)]);
        let p = git(
            d,
            &["commit-tree", "-m", "p", &before.to_string()],
            1_700_000_000,
        );
        let c = git(
            d,
            &["commit-tree", "-m", "c", "-p", &p, &after.to_string()],
            1_700_000_000,
        );
        let repo = crate::git::open_in(d).expect("repository");
        let hash = repo.object_hash();
        let objects_dir = repo.objects.store_ref().path().to_owned();
        let objects = Quarantine::open(objects_dir, &[], hash).expect("odb");
        let mut graph = Graph::new(&objects, None, hash);
        let job = Job {
            tree: after,
            parents: vec![before],
        };
        let changes = graph
            .changes(&[job], 1)
            .expect("diff")
            .remove(0)
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        let theirs = git_changes(d, raw(&c));
        assert_eq!(changes, theirs);
        assert!(
            theirs.iter().any(|c| c.path == b"x/secret.txt"),
            "{theirs:?}"
        );
    }
}
