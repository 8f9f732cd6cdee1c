//! The path source: files on disk (`keyward scan PATH…`). Directories are walked
//! recursively, honouring `.gitignore` (also outside a repository) and never entering `.git`;
//! a file named explicitly is always included.

use super::{BlobRead, Sibling, SourceError, Standing, Stream};
use crate::model::ReadBlob;
use crate::model::{Content, Item, Place, Unreadable};
use std::path::{Path, PathBuf};

/// Files on disk.
#[derive(Debug)]
pub(crate) struct Paths {
    items: Vec<Item>,
    reader: FileReader,
    /// Paths named or met that could not be listed.
    unlisted: Vec<Unreadable>,
}

/// Reads files.
#[derive(Debug)]
pub(crate) struct FileReader;

impl Paths {
    /// Lists the files under `roots`, in walk order. A root that is a symbolic link is
    /// followed (what it names was asked for); links met while walking a directory are not
    /// (they may lead anywhere, or in circles). What cannot be listed is kept for
    /// [`super::Source::unlisted`], and the rest is listed all the same.
    pub(crate) fn open(roots: &[PathBuf]) -> Self {
        let mut items = Vec::new();
        let mut unlisted = Vec::new();
        for root in roots {
            let meta = match std::fs::metadata(root) {
                Ok(meta) => meta,
                Err(error) => {
                    unlisted.push(unreadable(root, error));
                    continue;
                }
            };
            if !meta.is_dir() {
                // Named explicitly: read whatever it is (a file, a pipe such as `<(…)`), up
                // to the size cap.
                items.push(item(root.clone(), meta.len()));
                continue;
            }
            let walk = ignore::WalkBuilder::new(root)
                .hidden(false)
                .require_git(false)
                .follow_links(false)
                .filter_entry(|e| e.file_name() != ".git")
                .build();
            for entry in walk {
                match entry {
                    Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                        let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                        items.push(item(entry.into_path(), len));
                    }
                    // A link is not followed, but what it holds — its target, the bytes git
                    // would store as its blob — is scanned like a file's content.
                    Ok(entry) if entry.file_type().is_some_and(|t| t.is_symlink()) => {
                        match std::fs::read_link(entry.path()) {
                            Ok(target) => items.push(link(entry.into_path(), &target)),
                            Err(error) => unlisted.push(unreadable(entry.path(), error)),
                        }
                    }
                    Ok(_) => {}
                    Err(e) => unlisted.extend(walk_error(root, e)),
                }
            }
        }
        Paths {
            items,
            reader: FileReader,
            unlisted,
        }
    }
}

/// What a walk error says could not be read: the path it names (or the root) and the I/O
/// error, if it is one. A bad pattern in a `.gitignore` is not: git passes it by too.
fn walk_error(root: &Path, error: ignore::Error) -> Option<Unreadable> {
    let mut path = root.to_path_buf();
    let mut error = error;
    loop {
        error = match error {
            ignore::Error::WithPath { path: p, err } => {
                path = p;
                *err
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                *err
            }
            ignore::Error::Partial(mut errors) if !errors.is_empty() => errors.remove(0),
            ignore::Error::Io(io) => return Some(unreadable(&path, io)),
            ignore::Error::Loop { child, .. } => {
                let loop_error = std::io::Error::other("a symbolic link loop");
                return Some(unreadable(&child, loop_error));
            }
            _ => return None,
        }
    }
}

/// The item for a file: its path as shown, without a leading `./`.
fn item(path: PathBuf, len: u64) -> Item {
    Item::new(shown(&path), Content::File(path, len))
}

/// The item for a symbolic link met in a directory: its target, as the link's content.
fn link(path: PathBuf, target: &Path) -> Item {
    let target = target.as_os_str().as_encoded_bytes();
    Item {
        place: Place::Symlink,
        ..Item::new(shown(&path), Content::Text(target.into()))
    }
}

/// A path as reports show it: without a leading `./`.
fn shown(path: &Path) -> Vec<u8> {
    let bytes = path.as_os_str().as_encoded_bytes();
    bytes.strip_prefix(b"./").unwrap_or(bytes).to_vec()
}

fn unreadable(path: &Path, error: std::io::Error) -> Unreadable {
    Unreadable {
        path: crate::redact::escape(path.as_os_str().as_encoded_bytes()),
        error,
    }
}

/// A file that could not be read: the scan goes on without it.
fn unread(path: &Path, error: std::io::Error) -> SourceError {
    let Unreadable { path, error } = unreadable(path, error);
    SourceError::Unreadable {
        path,
        source: error,
    }
}

impl super::Source for Paths {
    fn standing(&self) -> Standing {
        Standing::Files
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn parts(&mut self) -> super::Parts<'_> {
        super::Parts {
            items: &self.items,
            reader: &mut self.reader,
            feed: super::feed::Feed::Sequential,
        }
    }

    fn unlisted(&mut self) -> Vec<Unreadable> {
        std::mem::take(&mut self.unlisted)
    }
}

impl BlobRead for FileReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError> {
        use std::io::Read;
        buf.clear();
        let Content::File(path, len) = &item.content else {
            return Err(SourceError::Input("a path item is not a file".into()));
        };
        if *len > cap {
            return Ok(ReadBlob::TooLarge(*len));
        }
        // Room for what was listed (read_to_end would double its buffer past it).
        buf.reserve_exact(usize::try_from(*len).unwrap_or(0).saturating_add(1));
        std::fs::File::open(path)
            .and_then(|f| f.take(cap.saturating_add(1)).read_to_end(buf))
            .map_err(|e| unread(path, e))?;
        // A file that grew past the cap since it was listed is not scanned either.
        if buf.len() as u64 > cap {
            let size = buf.len() as u64;
            buf.clear();
            return Ok(ReadBlob::TooLarge(size));
        }
        Ok(ReadBlob::Read)
    }

    fn stream(
        &mut self,
        item: &Item,
        from: u64,
        cap: u64,
    ) -> Result<Option<Stream<'_>>, SourceError> {
        let Content::File(path, len) = &item.content else {
            return Ok(None);
        };
        if *len <= from || *len > cap {
            return Ok(None);
        }
        let file = std::fs::File::open(path).map_err(|e| unread(path, e))?;
        // What was listed is what is read: a file that grew since is read as far as it was.
        Ok(Some((Box::new(std::io::Read::take(file, *len)), *len)))
    }

    fn previous(
        &mut self,
        _: usize,
        _: &Item,
        buf: &mut Vec<u8>,
        _: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        Ok(false)
    }

    fn sibling(&mut self, path: &[u8], cap: u64) -> Result<Sibling, SourceError> {
        use std::io::Read;
        let path = path_of(path);
        let mut buf = Vec::new();
        match std::fs::File::open(&path) {
            Ok(f) => {
                f.take(cap)
                    .read_to_end(&mut buf)
                    .map_err(|e| unread(&path, e))?;
                Ok(Sibling::Found(buf))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sibling::Absent),
            Err(e) => Err(unread(&path, e)),
        }
    }
}

/// A path from the bytes an item shows (on Unix, any bytes; elsewhere, UTF-8).
fn path_of(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}
