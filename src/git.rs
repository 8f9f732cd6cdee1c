//! What the commit is about to record: the repository opened the way git set it up for the
//! hook, the index entries that differ from `HEAD^{tree}`, and their blobs.
//!
//! The fast path is gix: decode the index (without re-hashing it, as git does not either) and
//! walk `HEAD^{tree}` alongside the sorted index entries, skipping every directory whose
//! cache-tree (`TREE` extension) id equals HEAD's subtree id, exactly as git itself does. On a
//! 100,000-file repository this reads about a dozen trees. Where gix cannot read a layout (an
//! object format, extension or ref backend it does not know, a sparse directory that changed),
//! the same answer comes from git's plumbing: `git diff --cached --raw -z` and
//! `git cat-file --batch`.

use crate::index::{self, CacheTree, Index, MODE_DIR, MODE_GITLINK, MODE_SYMLINK};
use gix::bstr::{BString, ByteSlice};
use gix::index::entry::Flags;
use gix::prelude::FindExt;
use gix::ObjectId;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Errors from reading the staged changes.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// Neither gix nor git could read the staged changes.
    #[error("cannot read what is staged: {primary}{}", fallback.as_ref().map(|f| format!(" (git says: {f})")).unwrap_or_default())]
    Staged {
        /// Why gix could not.
        primary: String,
        /// Why git's plumbing could not either, when it was tried.
        fallback: Option<String>,
    },
    /// A blob could not be read.
    #[error("cannot read blob {id} for {path}: {message}")]
    Blob {
        /// The blob id.
        id: String,
        /// The path it is staged at (escaped).
        path: String,
        /// Why.
        message: String,
    },
}

/// One index entry whose content the commit adds or changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Path relative to the repository root, as git stores it.
    pub path: BString,
    /// The staged blob.
    pub id: ObjectId,
    /// The entry is a symbolic link (its blob holds the target path).
    pub symlink: bool,
    /// The blob HEAD has at this path (or, for a pure rename, at the path it came from).
    pub previous: Option<ObjectId>,
}

/// `keyward.*` git config entries: `(key, value)`, keys lowercased, later ones win.
pub type GitConfig = Vec<(String, String)>;

/// The settings keyward reads from git config.
pub const CONFIG_KEYS: &[&str] = &["strict", "maxfilesize", "inlineallow", "color"];

/// The root of the working tree and the `keyward.*` git config of the repository around the
/// current directory, for commands that do not read the index (`scan PATH`, `config`,
/// `allow`). `None` outside a repository.
pub fn discover() -> Option<(Option<std::path::PathBuf>, GitConfig)> {
    let repo = gix::discover_with_environment_overrides(".").ok()?;
    Some((
        repo.workdir().map(std::path::Path::to_path_buf),
        gix_keyward_config(&repo),
    ))
}

/// gix reads system, global, local and `GIT_CONFIG_COUNT` settings; `git -c` reaches hooks as
/// `GIT_CONFIG_PARAMETERS`, which it does not read, so that comes last, as in git.
fn gix_keyward_config(repo: &gix::Repository) -> Vec<(String, String)> {
    let snapshot = repo.config_snapshot();
    let mut found: Vec<(String, String)> = CONFIG_KEYS
        .iter()
        .filter_map(|k| {
            let key = format!("keyward.{k}");
            snapshot.string(key.as_str()).map(|v| (key, v.to_string()))
        })
        .collect();
    if let Ok(raw) = std::env::var("GIT_CONFIG_PARAMETERS") {
        for (k, v) in crate::config::config_parameters(&raw) {
            found.retain(|(key, _)| *key != k);
            found.push((k, v));
        }
    }
    found
}

fn cli_keyward_config() -> Vec<(String, String)> {
    let Ok(out) = git()
        .args(["config", "--get-regexp", r"^keyward\."])
        .stdin(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, "true"));
        let k = k.to_ascii_lowercase();
        found.retain(|(key, _)| *key != k);
        found.push((k, v.to_owned()));
    }
    found
}

fn cli_root() -> Option<std::path::PathBuf> {
    let out = git()
        .args(["rev-parse", "--show-toplevel"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let root = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !root.trim().is_empty())
        .then(|| std::path::PathBuf::from(root.trim_end_matches('\n')))
}

/// Which implementation answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// gix, in process.
    Gix,
    /// git's plumbing commands.
    Cli,
}

/// The staged changes of a repository, and a way to read their blobs.
pub struct Staged {
    /// Entries to scan, in index order.
    pub changes: Vec<Change>,
    reader: Reader,
}

enum Reader {
    Gix(Box<gix::Repository>),
    Cli(Option<CatFile>),
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("changes", &self.changes.len())
            .field("backend", &self.backend())
            .finish()
    }
}

/// What reading a blob gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Blob {
    /// The bytes are in the caller's buffer.
    Read,
    /// The blob is larger than the cap; its size is given and nothing was kept.
    TooLarge(u64),
}

impl Staged {
    /// Opens the repository from the environment git gives hooks (`GIT_DIR`, `GIT_WORK_TREE`,
    /// `GIT_INDEX_FILE`, …) and computes the staged changes. `KEYWARD_GIT_BACKEND=cli` forces
    /// the git plumbing path (troubleshooting, and the tests of that path).
    pub fn open() -> Result<Self, GitError> {
        if std::env::var_os("KEYWARD_GIT_BACKEND").is_some_and(|v| v == "cli") {
            return Self::open_cli().map_err(|e| GitError::Staged {
                primary: e,
                fallback: None,
            });
        }
        match Self::open_gix() {
            Ok(staged) => Ok(staged),
            Err(primary) => Self::open_cli().map_err(|fallback| GitError::Staged {
                primary,
                fallback: Some(fallback),
            }),
        }
    }

    /// The root of the working tree (where `.keyward.toml` lives), when there is one.
    pub fn root(&self) -> Option<std::path::PathBuf> {
        match &self.reader {
            Reader::Gix(repo) => repo.workdir().map(std::path::Path::to_path_buf),
            Reader::Cli(_) => cli_root(),
        }
    }

    /// The blobs the other parents of a merge being committed (`MERGE_HEAD`) have at `path`.
    /// Empty outside a merge, and with the plumbing reader (which only compares with HEAD).
    pub fn merged_versions(&self, path: &[u8]) -> Vec<ObjectId> {
        let Reader::Gix(repo) = &self.reader else {
            return Vec::new();
        };
        let Ok(heads) = std::fs::read_to_string(repo.git_dir().join("MERGE_HEAD")) else {
            return Vec::new();
        };
        let Ok(rel) = gix::path::from_byte_slice(path) else {
            return Vec::new();
        };
        heads
            .lines()
            .filter_map(|l| ObjectId::from_hex(l.trim().as_bytes()).ok())
            .filter_map(|id| {
                let tree = gix::Repository::find_commit(repo, id).ok()?.tree().ok()?;
                let entry = tree.lookup_entry_by_path(rel).ok()??;
                entry.mode().is_blob().then(|| entry.object_id())
            })
            .collect()
    }

    /// The effective `keyward.*` git config: `(key, value)` with keys lowercased.
    pub fn keyward_config(&self) -> Vec<(String, String)> {
        match &self.reader {
            Reader::Gix(repo) => gix_keyward_config(repo),
            Reader::Cli(_) => cli_keyward_config(),
        }
    }

    /// Which implementation computed the changes.
    pub fn backend(&self) -> Backend {
        match self.reader {
            Reader::Gix(_) => Backend::Gix,
            Reader::Cli(_) => Backend::Cli,
        }
    }

    fn open_gix() -> Result<Self, String> {
        let repo = gix::discover_with_environment_overrides(".").map_err(one_line)?;
        let index_path = index_path(&repo);
        let mut head = repo.head().map_err(one_line)?;
        let head_tree = if head.is_unborn() {
            None
        } else {
            let commit = head.peel_to_commit().map_err(one_line)?;
            Some(commit.tree_id().map_err(one_line)?.detach())
        };
        let shown = || index_path.display().to_string();
        let changes = match index::read(&index_path, repo.object_hash())
            .map_err(|e| format!("{}: {e}", shown()))?
        {
            index::Read::Index(index) => {
                Walk::new(&repo, &index).run(head_tree, index.cache_tree())?
            }
            index::Read::Unsupported(_) => {
                // Split and sparse indexes: gix's complete decoder (it resolves `sharedindex.*`).
                let file =
                    gix::index::File::at(&index_path, repo.object_hash(), true, Default::default())
                        .map_err(|e| format!("{}: {}", shown(), one_line(e)))?;
                let cache = file.tree().map(CacheTree::from_gix);
                Walk::new(&repo, &*file).run(head_tree, cache.as_ref())?
            }
        };
        Ok(Staged {
            changes,
            reader: Reader::Gix(Box::new(repo)),
        })
    }

    fn open_cli() -> Result<Self, String> {
        let out = git()
            .args([
                "diff",
                "--cached",
                "--raw",
                "-z",
                "--no-abbrev",
                "--no-renames",
                "--no-ext-diff",
                "--no-textconv",
                "--ignore-submodules=all",
                "--diff-filter=AMTD",
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            return Err(err.lines().next().unwrap_or("git diff failed").to_owned());
        }
        let changes = parse_raw_diff(&out.stdout)?;
        Ok(Staged {
            changes,
            reader: Reader::Cli(None),
        })
    }

    /// Reads blob `id` into `buf`, unless it is larger than `cap` bytes.
    pub fn read(
        &mut self,
        change: &Change,
        id: ObjectId,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<Blob, GitError> {
        let err = |message: String| GitError::Blob {
            id: id.to_string(),
            path: crate::redact::escape(&change.path),
            message,
        };
        buf.clear();
        match &mut self.reader {
            Reader::Gix(repo) => {
                let size = gix::prelude::HeaderExt::header(&repo.objects, id)
                    .map_err(|e| err(one_line(e)))?
                    .size();
                if size > cap {
                    return Ok(Blob::TooLarge(size));
                }
                repo.objects
                    .find_blob(&id, buf)
                    .map_err(|e| err(one_line(e)))?;
                Ok(Blob::Read)
            }
            Reader::Cli(cat) => {
                if cat.is_none() {
                    *cat = Some(CatFile::spawn().map_err(err)?);
                }
                let cat = cat
                    .as_mut()
                    .ok_or_else(|| err("git cat-file is gone".into()))?;
                cat.read(id, buf, cap).map_err(err)
            }
        }
    }
}

impl Staged {
    /// The staged content of `path` (an index entry at stage 0), or `None` when the index has
    /// no such file. The seed's Dockerfile check reads the `.dockerignore` beside a staged
    /// Dockerfile with it: only then is the index searched (the lean reader, a linear scan).
    pub fn index_blob(&mut self, path: &[u8], cap: u64) -> Result<Option<Vec<u8>>, GitError> {
        let id = match &self.reader {
            Reader::Gix(repo) => {
                let index_path = index_path(repo);
                let found = match index::read(&index_path, repo.object_hash()) {
                    Ok(index::Read::Index(index)) => (0..index.len())
                        .find(|&i| index.stage(i) == 0 && index.path(i) == path)
                        .map(|i| index.id(i).to_owned()),
                    _ => gix::index::File::at(
                        &index_path,
                        repo.object_hash(),
                        false,
                        Default::default(),
                    )
                    .ok()
                    .and_then(|file| file.entry_by_path(path.as_bstr()).map(|e| e.id)),
                };
                found
            }
            Reader::Cli(_) => {
                let spec = format!(":{}", String::from_utf8_lossy(path));
                let out = git()
                    .args(["rev-parse", "--verify", "--quiet", &spec])
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| GitError::Blob {
                        id: spec.clone(),
                        path: crate::redact::escape(path),
                        message: format!("cannot run git: {e}"),
                    })?;
                std::str::from_utf8(&out.stdout)
                    .ok()
                    .and_then(|hex| ObjectId::from_hex(hex.trim().as_bytes()).ok())
            }
        };
        let Some(id) = id else { return Ok(None) };
        let change = Change {
            path: path.into(),
            id,
            symlink: false,
            previous: None,
        };
        let mut buf = Vec::new();
        Ok(match self.read(&change, id, &mut buf, cap)? {
            Blob::Read => Some(buf),
            Blob::TooLarge(_) => None,
        })
    }
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

fn one_line(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `git` with settings that no user configuration may change: no colour and no pager (and
/// `--no-ext-diff` where it applies), so the output is the plumbing format whatever
/// `color.ui=always` or `diff.external` say.
/// `git` with settings that keep its output parseable whatever the user's config says.
pub(crate) fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.args([
        "--no-pager",
        "-c",
        "color.ui=never",
        "-c",
        "core.quotePath=false",
    ]);
    cmd
}

/// Read access to index entries, from the lean reader or from gix's full decoder.
trait Entries {
    fn len(&self) -> usize;
    fn path(&self, i: usize) -> &[u8];
    fn id(&self, i: usize) -> ObjectId;
    fn mode(&self, i: usize) -> u32;
    /// Conflict stage, intent-to-add or submodule: nothing of its own to scan.
    fn no_content(&self, i: usize) -> bool;
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
    ) -> Result<Vec<Change>, String> {
        let all = 0..self.entries.len();
        match head_tree {
            None => all.clone().try_for_each(|i| self.changed(i, None))?,
            Some(tree) => self.tree(tree, b"", all, cache)?,
        }
        // A blob that HEAD had at a path now gone is not new where it reappears (a rename):
        // let the policy compare against it, as it would for an edit in place.
        if !self.deleted.is_empty() {
            for change in self.changes.iter_mut().filter(|c| c.previous.is_none()) {
                if self.deleted.contains(&change.id) {
                    change.previous = Some(change.id);
                }
            }
        }
        Ok(self.changes)
    }

    /// Compares the tree `id` (at `prefix`, which ends in `/` unless it is the root) with the
    /// index entries `range`, which are those under that prefix.
    fn tree(
        &mut self,
        id: ObjectId,
        prefix: &[u8],
        range: std::ops::Range<usize>,
        cache: Option<&CacheTree>,
    ) -> Result<(), String> {
        if cache.is_some_and(|c| c.id == Some(id)) {
            return Ok(()); // git's own shortcut: this directory is unchanged
        }
        let items = self.read_tree(id)?;
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
            while i < range.end && entries.path(i) < key.as_slice() {
                self.changed(i, None)?;
                i += 1;
            }
            if item.mode.is_tree() {
                // Entries under `key/` are contiguous: binary-search where they end.
                let (mut lo, mut hi) = (i, range.end);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if entries.path(mid).starts_with(&key) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                let sub = i..lo;
                i = lo;
                if sub.is_empty() {
                    continue; // the whole directory was removed: deletions are never blocked
                }
                if sub.len() == 1 && entries.mode(sub.start) == MODE_DIR {
                    // A sparse-index directory entry: unchanged if it names the same tree.
                    if entries.id(sub.start) != item.id {
                        return Err(format!(
                            "sparse directory {} differs from HEAD",
                            crate::redact::escape(&key)
                        ));
                    }
                    continue;
                }
                let child =
                    cache.and_then(|c| c.children.iter().find(|t| t.name == item.name.as_slice()));
                self.tree(item.id, &key, sub, child)?;
            } else if i < range.end && entries.path(i) == key.as_slice() {
                if entries.id(i) != item.id {
                    let previous = item.mode.is_blob_or_symlink().then_some(item.id);
                    self.changed(i, previous)?;
                }
                i += 1;
            } else if item.mode.is_blob_or_symlink() {
                self.deleted.push(item.id);
            }
        }
        (i..range.end).try_for_each(|i| self.changed(i, None))
    }

    fn changed(&mut self, i: usize, previous: Option<ObjectId>) -> Result<(), String> {
        let entries = self.entries;
        if entries.no_content(i) {
            return Ok(());
        }
        if entries.mode(i) == MODE_DIR {
            return Err(format!(
                "sparse directory {} is not in HEAD",
                crate::redact::escape(entries.path(i))
            ));
        }
        self.changes.push(Change {
            path: entries.path(i).into(),
            id: entries.id(i),
            symlink: entries.mode(i) == MODE_SYMLINK,
            previous,
        });
        Ok(())
    }

    fn read_tree(&self, id: ObjectId) -> Result<Vec<TreeItem>, String> {
        if id.is_empty_tree() {
            return Ok(Vec::new());
        }
        let mut buf = Vec::new();
        let tree = self
            .repo
            .objects
            .find_tree(&id, &mut buf)
            .map_err(|e| format!("tree {id}: {}", one_line(e)))?;
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

/// Parses `git diff --cached --raw -z --no-abbrev` output:
/// `:<old mode> <new mode> <old id> <new id> <status>\0<path>\0`, repeated.
fn parse_raw_diff(out: &[u8]) -> Result<Vec<Change>, String> {
    let bad = || "unexpected output from git diff --raw".to_owned();
    let mut fields = out.split(|&b| b == 0);
    let mut changes = Vec::new();
    let mut deleted = Vec::new();
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let path = fields.next().ok_or_else(bad)?;
        let meta = meta.strip_prefix(b":").ok_or_else(bad)?;
        let parts: Vec<&[u8]> = meta.split(|&b| b == b' ').collect();
        let [_, new_mode, old_id, new_id, status] = parts[..] else {
            return Err(bad());
        };
        let parse = |hex: &[u8]| ObjectId::from_hex(hex).map_err(|_| bad());
        let (old_id, new_id) = (parse(old_id)?, parse(new_id)?);
        match status.first() {
            Some(b'D') => deleted.push(old_id),
            Some(b'A' | b'M' | b'T') if new_mode != b"160000" => changes.push(Change {
                path: path.into(),
                id: new_id,
                symlink: new_mode == b"120000",
                previous: (!old_id.is_null() && status[0] != b'T').then_some(old_id),
            }),
            _ => {}
        }
    }
    for change in changes.iter_mut().filter(|c| c.previous.is_none()) {
        if deleted.contains(&change.id) {
            change.previous = Some(change.id);
        }
    }
    Ok(changes)
}

/// A long-running `git cat-file --batch`, started on the first blob read.
/// Blob reads through `git cat-file --batch`, for what gix cannot see (a pre-receive hook's
/// quarantined objects).
pub struct Plumbing(CatFile);

impl Plumbing {
    /// Starts `git cat-file --batch` in the current repository.
    pub fn spawn() -> Result<Self, GitError> {
        CatFile::spawn()
            .map(Plumbing)
            .map_err(|message| GitError::Blob {
                id: String::new(),
                path: String::new(),
                message,
            })
    }

    /// Reads blob `id` into `buf` unless it is larger than `cap`.
    pub fn read(&mut self, id: ObjectId, buf: &mut Vec<u8>, cap: u64) -> Result<Blob, GitError> {
        buf.clear();
        self.0.read(id, buf, cap).map_err(|message| GitError::Blob {
            id: id.to_string(),
            path: String::new(),
            message,
        })
    }
}

struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CatFile {
    fn spawn() -> Result<Self, String> {
        let mut child = git()
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run git cat-file: {e}"))?;
        let stdin = child.stdin.take().ok_or("git cat-file: no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("git cat-file: no stdout")?);
        Ok(CatFile {
            child,
            stdin,
            stdout,
        })
    }

    fn read(&mut self, id: ObjectId, buf: &mut Vec<u8>, cap: u64) -> Result<Blob, String> {
        let io = |e: std::io::Error| format!("git cat-file: {e}");
        writeln!(self.stdin, "{id}").map_err(io)?;
        self.stdin.flush().map_err(io)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(io)?;
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            return Err(format!("git cat-file: {}", header.trim()));
        }
        let size: u64 = size
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("git cat-file: bad header {}", header.trim()))?;
        let body = (&mut self.stdout).take(size + 1); // content and the closing newline
        if size > cap {
            std::io::copy(&mut { body }, &mut std::io::sink()).map_err(io)?;
            return Ok(Blob::TooLarge(size));
        }
        { body }.read_to_end(buf).map_err(io)?;
        if buf.pop() != Some(b'\n') || buf.len() as u64 != size {
            return Err("git cat-file: truncated output".into());
        }
        Ok(Blob::Read)
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_diff_records() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let raw = format!(
            ":000000 100644 {zero} {a} A\0new file.txt\0:100644 100644 {b} {a} M\0mod\0:100644 000000 {b} {zero} D\0gone\0:000000 160000 {zero} {a} A\0sub\0:000000 120000 {zero} {b} A\0link\0"
        );
        let changes = parse_raw_diff(raw.as_bytes()).expect("parses");
        let paths: Vec<_> = changes.iter().map(|c| c.path.to_string()).collect();
        assert_eq!(paths, ["new file.txt", "mod", "link"]);
        assert_eq!(changes[0].previous, None);
        assert_eq!(changes[1].previous.map(|p| p.to_string()), Some(b.clone()));
        assert!(changes[2].symlink);
        // `link`'s blob was deleted at `gone`: a pure rename keeps its history.
        assert_eq!(changes[2].previous.map(|p| p.to_string()), Some(b));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_raw_diff(b":nonsense\0path\0").is_err());
        assert!(parse_raw_diff(b":1 2 3 4 A\0").is_err());
    }
}
