//! The object directories git hands a pre-receive hook, read in process.
//!
//! While pre-receive runs, the pushed objects wait in a quarantine directory until the hook
//! accepts them: git points `GIT_OBJECT_DIRECTORY` (and `GIT_QUARANTINE_PATH`) at it, and lists
//! the repository's own object directory in `GIT_ALTERNATE_OBJECT_DIRECTORIES`. gix 0.90 reads
//! neither variable: it opens `<git dir>/objects` and that directory's `info/alternates`, where
//! the pushed objects are not. So each directory is opened here as its own object database
//! (each with its own `info/alternates`, as git reads them), and asked in git's order: the
//! object directory first, then the alternates.
//!
//! No replacement objects apply (`refs/replace/*` is not read at all here), and nothing is
//! written.

use super::{GitError, ReadBlob};
use gix::odb::Header;
use gix::ObjectId;
use std::path::{Path, PathBuf};

/// The object databases git set up for this process (`GIT_OBJECT_DIRECTORY` and
/// `GIT_ALTERNATE_OBJECT_DIRECTORIES`), in the order git asks them.
pub(crate) struct Quarantine {
    dir: PathBuf,
    /// Every directory opened, in order (for [`Quarantine::has_commit_graph`]).
    dirs: Vec<PathBuf>,
    odbs: Vec<gix::odb::Handle>,
}

/// The environment's object directory and its alternates, as git would use them: `None`
/// without `GIT_OBJECT_DIRECTORY` (the repository's own objects hold everything then).
pub(crate) fn object_dirs() -> Result<Option<(PathBuf, Vec<PathBuf>)>, GitError> {
    let Some(dir) = std::env::var_os("GIT_OBJECT_DIRECTORY").filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let alternates = match std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        Some(list) => alternates(&list)?,
        None => Vec::new(),
    };
    Ok(Some((PathBuf::from(dir), alternates)))
}

/// Splits `GIT_ALTERNATE_OBJECT_DIRECTORIES` as git does: by the path separator, empty
/// entries ignored. git quotes an entry (C-style, in double quotes) only when it holds the
/// separator or starts with a quote; such an entry is left to git's plumbing.
fn alternates(list: &std::ffi::OsStr) -> Result<Vec<PathBuf>, GitError> {
    let list = list.to_str().ok_or_else(|| {
        GitError::Unsupported("GIT_ALTERNATE_OBJECT_DIRECTORIES is not UTF-8".into())
    })?;
    let sep = if cfg!(windows) { ';' } else { ':' };
    let mut dirs = Vec::new();
    for entry in list.split(sep).filter(|e| !e.is_empty()) {
        if entry.starts_with('"') {
            return Err(GitError::Unsupported(
                "a quoted entry in GIT_ALTERNATE_OBJECT_DIRECTORIES".into(),
            ));
        }
        dirs.push(PathBuf::from(entry));
    }
    Ok(dirs)
}

impl Quarantine {
    /// Opens the object directories of the environment (see [`object_dirs`]) for objects of
    /// `hash`: `None` when git set none. A directory gix cannot open is
    /// [`GitError::Unsupported`]: git's plumbing reads it then.
    pub(crate) fn from_env(hash: gix::hash::Kind) -> Result<Option<Quarantine>, GitError> {
        let Some((dir, alternates)) = object_dirs()? else {
            return Ok(None);
        };
        Quarantine::open(dir, &alternates, hash).map(Some)
    }

    /// Opens object directory `dir` and then `alternates`, in that order.
    pub(crate) fn open(
        dir: PathBuf,
        alternates: &[PathBuf],
        hash: gix::hash::Kind,
    ) -> Result<Quarantine, GitError> {
        let mut odbs = Vec::with_capacity(1 + alternates.len());
        for path in std::iter::once(&dir).chain(alternates) {
            let mut odb = gix::odb::at_opts(
                path.clone(),
                hash,
                std::iter::empty(),
                gix::odb::store::init::Options::default(),
            )
            .map_err(|e| {
                GitError::Unsupported(format!("object directory {}: {e}", path.display()))
            })?;
            odb.ignore_replacements = true;
            // Versions of a file built from each other, read one by one: see
            // `crate::source::commits`.
            odb.set_pack_cache(|| {
                Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                    PACK_CACHE_BYTES,
                ))
            });
            odbs.push(odb);
        }
        let dirs = std::iter::once(&dir).chain(alternates).cloned().collect();
        Ok(Quarantine { dir, dirs, odbs })
    }

    /// Whether git reads a commit-graph for these objects: one in any of the directories, or
    /// in an alternate one of them lists (`info/alternates`, as deep as git follows them).
    /// git then walks a push's commits by generation numbers, not by date, and lists another
    /// set of commits when clocks disagree (see `crate::source::commits`).
    pub(crate) fn has_commit_graph(&self) -> bool {
        let mut dirs = self.dirs.clone();
        let mut seen = std::collections::HashSet::new();
        while let Some(dir) = dirs.pop() {
            if seen.len() > MAX_ALTERNATES || !seen.insert(dir.clone()) {
                continue;
            }
            let info = dir.join("info");
            if info.join("commit-graph").is_file()
                || info.join("commit-graphs/commit-graph-chain").is_file()
            {
                return true;
            }
            if let Ok(list) = std::fs::read_to_string(info.join("alternates")) {
                dirs.extend(
                    list.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty() && !l.starts_with('#'))
                        .map(|l| dir.join(l)),
                );
            }
        }
        false
    }

    /// The object directory where the push's objects are (its packs under `pack/`).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads blob `id` into `buf` from the first database that has it, unless it is larger
    /// than `cap` bytes (only its header is inflated then). An object none of them has, or
    /// one that cannot be read, is an error.
    pub(crate) fn read_blob(
        &self,
        id: ObjectId,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<ReadBlob, GitError> {
        buf.clear();
        let err = |e| GitError::read(format!("blob {id}"), e);
        for odb in &self.odbs {
            let Some(header) = odb.try_header(&id).map_err(err)? else {
                continue;
            };
            if header.size() > cap {
                return Ok(ReadBlob::TooLarge(header.size()));
            }
            let len = gix::prelude::FindExt::find_blob(odb, &id, buf)
                .map_err(err)?
                .data
                .len();
            buf.truncate(len);
            return Ok(ReadBlob::Read);
        }
        Err(missing(format!("blob {id}")))
    }

    /// The size of blob `id`, from the first database that has it (its header only).
    pub(crate) fn blob_size(&self, id: ObjectId) -> Result<u64, GitError> {
        let err = |e| GitError::read(format!("blob {id}"), e);
        for odb in &self.odbs {
            if let Some(header) = odb.try_header(&id).map_err(err)? {
                return Ok(header.size());
            }
        }
        Err(missing(format!("blob {id}")))
    }

    /// The object directories, in the order they are asked.
    pub(crate) fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Reads object `id`, of any kind, into `buf` from the first database that has it, and
    /// says what kind it is. An object none of them has, or one that cannot be read, is an
    /// error.
    pub(crate) fn find(
        &self,
        id: ObjectId,
        buf: &mut Vec<u8>,
    ) -> Result<gix::objs::Kind, GitError> {
        let err = |e| GitError::read(format!("object {id}"), e);
        for odb in &self.odbs {
            if let Some(data) = gix::objs::Find::try_find(odb, &id, buf).map_err(err)? {
                let (kind, len) = (data.kind, data.data.len());
                buf.truncate(len);
                return Ok(kind);
            }
        }
        Err(missing(format!("object {id}")))
    }
}

/// `what` is in none of the databases.
fn missing(what: String) -> GitError {
    GitError::read(
        what,
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "not in the object directory or its alternates",
        ),
    )
}

/// Object directories looked at for a commit-graph, at most (git follows alternates five
/// levels deep; this bounds a loop of them).
const MAX_ALTERNATES: usize = 64;

/// Memory for delta bases while blobs are read one by one, per database.
const PACK_CACHE_BYTES: usize = 48 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_split_as_git_splits_them() {
        let list = std::ffi::OsStr::new("/srv/a.git/objects::/srv/b/objects:");
        assert_eq!(
            alternates(list).expect("plain"),
            vec![
                PathBuf::from("/srv/a.git/objects"),
                PathBuf::from("/srv/b/objects")
            ]
        );
        assert!(matches!(
            alternates(std::ffi::OsStr::new("\"/srv/a:b/objects\"")),
            Err(GitError::Unsupported(_))
        ));
    }
}
