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

mod walk;

use walk::Walk;

use super::{BlobRead, Sibling, SourceError, Standing};
use crate::git::index::{self, CacheTree, Index, TreeRef, MODE_DIR, MODE_GITLINK, MODE_SYMLINK};
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
pub(crate) struct Staged {
    items: Vec<Item>,
    reader: StagedReader,
    /// Where gix reads the repository: its loose objects, for every worker to read.
    loose: Option<super::loose::LooseFeed>,
}

/// Reads the staged blobs and the versions they replace.
pub(crate) struct StagedReader {
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
    pub(crate) fn open() -> Result<Self, SourceError> {
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
    pub(crate) fn root(&self) -> Result<Option<PathBuf>, SourceError> {
        match &self.reader.reader {
            Reader::Gix { repo, .. } => Ok(crate::git::workdir(repo)),
            Reader::Plumbing(_) => Ok(plumbing::toplevel()?),
        }
    }

    /// The effective `keyward.*` git config: `(key, value)` with keys lowercased.
    pub(crate) fn keyward_config(&self) -> Result<Vec<(String, String)>, SourceError> {
        match &self.reader.reader {
            Reader::Gix { repo, .. } => Ok(crate::git::keyward_config(repo)),
            Reader::Plumbing(_) => Ok(plumbing::keyward_config()?),
        }
    }

    /// Whether gix reads this repository in process (git's plumbing otherwise).
    pub(crate) fn in_process(&self) -> bool {
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
                Walk::new(&repo, &index).run(head_tree, index.cache_root())?
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
