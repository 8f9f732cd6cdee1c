//! The path source: files on disk (`keyward scan PATH…`). Directories are walked
//! recursively, honouring `.gitignore` (also outside a repository) and never entering `.git`;
//! a file named explicitly is always included.

use super::{BlobRead, Sibling, SourceError, Stage};
use crate::git::ReadBlob;
use crate::model::{Content, Item};
use std::path::{Path, PathBuf};

/// Files on disk.
#[derive(Debug)]
pub struct Paths {
    items: Vec<Item>,
    reader: FileReader,
}

/// Reads files.
#[derive(Debug)]
pub struct FileReader;

impl Paths {
    /// Lists the files under `roots`, in walk order.
    pub fn open(roots: &[PathBuf]) -> Result<Self, SourceError> {
        let mut items = Vec::new();
        for root in roots {
            let meta = std::fs::symlink_metadata(root).map_err(|e| unreadable(root, e))?;
            if !meta.is_dir() {
                if meta.is_file() {
                    items.push(item(root.clone(), meta.len()));
                }
                continue;
            }
            let walk = ignore::WalkBuilder::new(root)
                .hidden(false)
                .require_git(false)
                .follow_links(false)
                .filter_entry(|e| e.file_name() != ".git")
                .build();
            for entry in walk {
                let entry = entry.map_err(|e| SourceError::Path {
                    path: crate::redact::escape(root.as_os_str().as_encoded_bytes()),
                    source: std::io::Error::other(e),
                })?;
                if entry.file_type().is_some_and(|t| t.is_file()) {
                    let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                    items.push(item(entry.into_path(), len));
                }
            }
        }
        Ok(Paths {
            items,
            reader: FileReader,
        })
    }
}

/// The item for a file: its path as shown, without a leading `./`.
fn item(path: PathBuf, len: u64) -> Item {
    let bytes = path.as_os_str().as_encoded_bytes();
    let shown = bytes.strip_prefix(b"./").unwrap_or(bytes).to_vec();
    Item::new(shown, Content::File(path, len))
}

fn unreadable(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Path {
        path: crate::redact::escape(path.as_os_str().as_encoded_bytes()),
        source,
    }
}

impl super::Source for Paths {
    fn stage(&self) -> Stage {
        Stage::Files
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn split(&mut self) -> (&[Item], &mut dyn BlobRead) {
        (&self.items, &mut self.reader)
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
        std::fs::File::open(path)
            .and_then(|f| f.take(cap.saturating_add(1)).read_to_end(buf))
            .map_err(|e| unreadable(path, e))?;
        // A file that grew past the cap since it was listed is not scanned either.
        if buf.len() as u64 > cap {
            let size = buf.len() as u64;
            buf.clear();
            return Ok(ReadBlob::TooLarge(size));
        }
        Ok(ReadBlob::Read)
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
                    .map_err(|e| unreadable(&path, e))?;
                Ok(Sibling::Found(buf))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sibling::Absent),
            Err(e) => Err(unreadable(&path, e)),
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
