//! Commits as a source: the blobs that a range of commits, a push, or the whole history
//! introduced, each blob once, with the first commit that carried it.
//!
//! Commits are visited oldest first. A tree already seen is skipped whole (an unchanged
//! directory costs nothing), and a blob already seen is not listed again, so each blob is
//! scanned once however many commits and paths carry it, and is attributed to the first
//! commit (in that order) whose tree holds it. For a range `A..B` everything reachable from
//! `A`'s tree is marked seen first: only what the range adds is listed.

use gix::bstr::{BString, ByteSlice};
use gix::prelude::FindExt;
use gix::ObjectId;
use std::collections::HashSet;

/// Errors reading history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Not a repository, or it cannot be opened.
    #[error("cannot open the repository: {0}")]
    Open(String),
    /// A revision that does not name a commit.
    #[error("unknown revision `{0}`")]
    Revision(String),
    /// A malformed range or pre-receive line.
    #[error("{0}")]
    Input(String),
    /// An object could not be read.
    #[error("reading history: {0}")]
    Read(String),
}

/// What to walk.
#[derive(Debug, Clone)]
pub enum Selection {
    /// `A..B`: commits reachable from `B` and not from `A`.
    Range(String),
    /// Every commit reachable from any ref, or from one branch.
    History {
        /// Only this branch.
        branch: Option<String>,
    },
    /// A push: the new tips, minus everything the existing refs reach.
    Push {
        /// Commit ids the push makes refs point to.
        tips: Vec<ObjectId>,
    },
}

/// One blob a commit introduced.
#[derive(Debug, Clone)]
pub struct Introduced {
    /// The blob.
    pub blob: ObjectId,
    /// Its path in that commit.
    pub path: BString,
    /// The first commit that carried it.
    pub commit: ObjectId,
    /// That commit's author date, in seconds since the epoch.
    pub author_time: i64,
    /// The blob this one replaced at the same path, when it was listed (or, for a range,
    /// is on the hidden side): its lines were scanned already.
    pub base: Option<ObjectId>,
}

fn read_err(e: impl std::fmt::Display) -> HistoryError {
    HistoryError::Read(e.to_string().lines().next().unwrap_or_default().to_owned())
}

/// Opens the repository around the current directory (bare repositories too), with a cache
/// of delta bases: versions of a file are stored as chains of deltas, and reading history
/// oldest first would otherwise rebuild each chain from its base every time.
pub fn open() -> Result<gix::Repository, HistoryError> {
    let mut repo = gix::discover_with_environment_overrides(".").map_err(|e| {
        HistoryError::Open(e.to_string().lines().next().unwrap_or_default().to_owned())
    })?;
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
fn commit_id(repo: &gix::Repository, spec: &str) -> Result<ObjectId, HistoryError> {
    let id = repo
        .rev_parse_single(spec.as_bytes().as_bstr())
        .map_err(|_| HistoryError::Revision(spec.to_owned()))?;
    let commit = id
        .object()
        .map_err(read_err)?
        .peel_to_commit()
        .map_err(|_| HistoryError::Revision(spec.to_owned()))?;
    Ok(commit.id)
}

/// The commits every ref points to (tags peeled), for "reachable from anything".
pub fn ref_tips(repo: &gix::Repository) -> Result<Vec<ObjectId>, HistoryError> {
    let refs = repo.references().map_err(read_err)?;
    let mut tips = Vec::new();
    for r in refs.all().map_err(read_err)? {
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
/// where they are there (see [`crate::packs::Reader`]), otherwise through gix.
pub fn introduced(
    repo: &gix::Repository,
    packs: Option<&crate::packs::Packs>,
    selection: &Selection,
) -> Result<Vec<Introduced>, HistoryError> {
    let (tips, hidden) = match selection {
        Selection::Range(range) => {
            let (a, b) = range.split_once("..").ok_or_else(|| {
                HistoryError::Input(format!("`{range}` is not a range (use A..B)"))
            })?;
            if a.is_empty() || b.is_empty() || b.starts_with('.') {
                return Err(HistoryError::Input(format!(
                    "`{range}` is not a range (use A..B)"
                )));
            }
            (vec![commit_id(repo, b)?], vec![commit_id(repo, a)?])
        }
        Selection::History { branch: Some(b) } => (vec![commit_id(repo, b)?], Vec::new()),
        Selection::History { branch: None } => (ref_tips(repo)?, Vec::new()),
        Selection::Push { tips } => (tips.clone(), ref_tips(repo)?),
    };
    let mut walk = Walk {
        repo,
        reader: packs.map(crate::packs::Reader::new),
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
    let mut commits: Vec<ObjectId> = Vec::new();
    let iter = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .all()
        .map_err(read_err)?;
    for info in iter {
        commits.push(info.map_err(read_err)?.id);
    }
    commits.reverse();
    for id in commits {
        let commit = repo.find_commit(id).map_err(read_err)?;
        let time = commit
            .author()
            .ok()
            .and_then(|a| a.time().ok())
            .map_or(0, |t| t.seconds);
        let tree = commit.tree_id().map_err(read_err)?.detach();
        walk.tree(tree, b"", Some((id, time)))?;
    }
    Ok(walk.out)
}

fn tree_of(repo: &gix::Repository, commit: ObjectId) -> Result<ObjectId, HistoryError> {
    Ok(repo
        .find_commit(commit)
        .map_err(read_err)?
        .tree_id()
        .map_err(read_err)?
        .detach())
}

struct Walk<'r> {
    repo: &'r gix::Repository,
    reader: Option<crate::packs::Reader<'r>>,
    seen_trees: gix::hashtable::HashSet<ObjectId>,
    seen_blobs: gix::hashtable::HashSet<ObjectId>,
    /// The blob last listed (or marked seen) at each path.
    last_at: std::collections::HashMap<BString, ObjectId>,
    out: Vec<Introduced>,
    buf: Vec<u8>,
}

impl Walk<'_> {
    /// Visits tree `id` at `prefix`; `commit` is `None` while marking the hidden side.
    fn tree(
        &mut self,
        id: ObjectId,
        prefix: &[u8],
        commit: Option<(ObjectId, i64)>,
    ) -> Result<(), HistoryError> {
        if !self.seen_trees.insert(id) {
            return Ok(());
        }
        let packed = match &mut self.reader {
            Some(reader) => reader.read(&id).map_err(read_err)?,
            None => None,
        };
        let data: &[u8] = match &packed {
            Some((gix::objs::Kind::Tree, data)) => data,
            Some(_) => return Err(HistoryError::Read(format!("{id} is not a tree"))),
            None => {
                self.repo
                    .objects
                    .find_tree(&id, &mut self.buf)
                    .map_err(read_err)?;
                &self.buf
            }
        };
        let entries: Vec<(gix::objs::tree::EntryMode, BString, ObjectId)> =
            gix::objs::TreeRefIter::from_bytes(data, self.repo.object_hash())
                .map(|e| e.map(|e| (e.mode, e.filename.to_owned(), e.oid.to_owned())))
                .collect::<Result<_, _>>()
                .map_err(read_err)?;
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
                    self.out.push(Introduced {
                        blob: oid,
                        path,
                        commit,
                        author_time,
                        base,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Reads blob `id` with gix, unless it is larger than `cap`.
pub fn read_blob(
    repo: &gix::Repository,
    id: ObjectId,
    buf: &mut Vec<u8>,
    cap: u64,
) -> Result<crate::git::Blob, HistoryError> {
    let header = repo.find_header(id).map_err(read_err)?;
    if header.size() > cap {
        return Ok(crate::git::Blob::TooLarge(header.size()));
    }
    let blob = repo.objects.find_blob(&id, buf).map_err(read_err)?;
    let len = blob.data.len();
    buf.truncate(len);
    Ok(crate::git::Blob::Read)
}

/// [`introduced`] through git plumbing (`git log --raw`), which sees what gix does not: the
/// quarantined objects of a push, while the pre-receive hook runs. Each blob once, oldest
/// commit first; merges count what they bring relative to their first parent.
pub fn introduced_cli(selection: &Selection) -> Result<Vec<Introduced>, HistoryError> {
    let mut cmd = crate::git::git();
    cmd.args([
        "log",
        "--reverse",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--diff-merges=first-parent",
        "--format=%x01%H %at",
    ]);
    match selection {
        Selection::Range(r) => {
            cmd.arg(r);
        }
        Selection::History { branch: Some(b) } => {
            cmd.arg(b);
        }
        Selection::History { branch: None } => {
            cmd.arg("--all");
        }
        Selection::Push { tips } => {
            if tips.is_empty() {
                return Ok(Vec::new());
            }
            cmd.args(tips.iter().map(|t| t.to_string()))
                .args(["--not", "--all"]);
        }
    }
    cmd.arg("--");
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| HistoryError::Read(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(HistoryError::Read(
            err.lines().next().unwrap_or("git log failed").to_owned(),
        ));
    }
    parse_log_raw(&out.stdout)
}

/// Parses `git log --raw -z --format=%x01%H %at`: a commit header, then
/// `:old-mode new-mode old-id new-id status\0path\0` records.
fn parse_log_raw(out: &[u8]) -> Result<Vec<Introduced>, HistoryError> {
    let bad = || HistoryError::Read("unexpected output from git log --raw".into());
    let mut seen = HashSet::new();
    let mut found = Vec::new();
    let mut commit: Option<(ObjectId, i64)> = None;
    let mut fields = out.split(|&b| b == 0).peekable();
    while let Some(field) = fields.next() {
        let field = field.strip_prefix(b"\n").unwrap_or(field);
        if field.is_empty() {
            continue;
        }
        if let Some(header) = field.strip_prefix(b"\x01") {
            let header = header.to_str().map_err(|_| bad())?;
            let (id, time) = header.trim().split_once(' ').ok_or_else(bad)?;
            let id = ObjectId::from_hex(id.as_bytes()).map_err(|_| bad())?;
            commit = Some((id, time.trim().parse().unwrap_or(0)));
            // The header and the first record share a field: `\x01id time\n\n:…`.
            if let Some(nl) = header.find('\n') {
                let rest = header[nl..].trim_start_matches('\n');
                if !rest.is_empty() {
                    let path = fields.next().ok_or_else(bad)?;
                    record(rest.as_bytes(), path, commit, &mut seen, &mut found)?;
                }
            }
            continue;
        }
        let path = fields.next().ok_or_else(bad)?;
        record(field, path, commit, &mut seen, &mut found)?;
    }
    Ok(found)
}

fn record(
    meta: &[u8],
    path: &[u8],
    commit: Option<(ObjectId, i64)>,
    seen: &mut HashSet<ObjectId>,
    found: &mut Vec<Introduced>,
) -> Result<(), HistoryError> {
    let bad = || HistoryError::Read("unexpected output from git log --raw".into());
    let meta = meta.strip_prefix(b":").ok_or_else(bad)?;
    let parts: Vec<&[u8]> = meta.split(|&b| b == b' ').collect();
    let [_, new_mode, old_id, new_id, status] = parts[..] else {
        return Err(bad());
    };
    let (commit, author_time) = commit.ok_or_else(bad)?;
    // Deletions bring nothing; symlinks and submodules carry no content.
    if status.starts_with(b"D") || !new_mode.starts_with(b"100") {
        return Ok(());
    }
    let blob = ObjectId::from_hex(new_id).map_err(|_| bad())?;
    if seen.insert(blob) {
        let base = ObjectId::from_hex(old_id).ok().filter(|id| !id.is_null());
        found.push(Introduced {
            blob,
            path: path.into(),
            commit,
            author_time,
            base,
        });
    }
    Ok(())
}

/// Parses pre-receive input: `old new ref` per line. Returns the new tips (deletions, whose
/// new id is all zeros, introduce nothing).
pub fn push_tips(input: &str) -> Result<Vec<ObjectId>, HistoryError> {
    let mut tips = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [_old, new, _name] = parts[..] else {
            return Err(HistoryError::Input(format!(
                "pre-receive line {}: expected `old new ref`",
                n + 1
            )));
        };
        let id = ObjectId::from_hex(new.as_bytes()).map_err(|_| {
            HistoryError::Input(format!(
                "pre-receive line {}: `{}` is not an object id",
                n + 1,
                crate::redact::escape(new.as_bytes())
            ))
        })?;
        if !id.is_null() {
            tips.push(id);
        }
    }
    Ok(tips)
}

/// `YYYY-MM-DD` of a time in seconds since the epoch (UTC).
pub fn date(seconds: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_700_000_000), "2023-11-14");
        assert_eq!(date(951_782_400), "2000-02-29");
    }

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
