//! Sources: where the bytes to scan come from. The staged source reads blobs from the index
//! and object database (see [`crate::git`]); the path source reads files on disk, skipping
//! `.git` and whatever `.gitignore` ignores. Nothing after a source knows about git.

use std::path::{Path, PathBuf};

/// Errors from walking paths on disk.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// A path given on the command line does not exist or cannot be read.
    #[error("{path}: {message}")]
    Unreadable {
        /// The path, escaped.
        path: String,
        /// Why.
        message: String,
    },
}

/// The files under `roots`, in walk order, with their sizes. Directories are walked
/// recursively, honouring `.gitignore` (also outside a repository) and never entering `.git`;
/// a file named explicitly is always included.
pub fn files(roots: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>, PathError> {
    let mut out = Vec::new();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|e| unreadable(root, e))?;
        if !meta.is_dir() {
            if meta.is_file() {
                out.push((root.clone(), meta.len()));
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
            let entry = entry.map_err(|e| PathError::Unreadable {
                path: crate::redact::escape(root.as_os_str().as_encoded_bytes()),
                message: e.to_string(),
            })?;
            if entry.file_type().is_some_and(|t| t.is_file()) {
                let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((entry.into_path(), len));
            }
        }
    }
    Ok(out)
}

fn unreadable(path: &Path, e: std::io::Error) -> PathError {
    PathError::Unreadable {
        path: crate::redact::escape(path.as_os_str().as_encoded_bytes()),
        message: e.to_string(),
    }
}

/// Reads one file found by [`files`].
pub fn read(path: &Path, buf: &mut Vec<u8>) -> Result<(), PathError> {
    use std::io::Read;
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .map(drop)
        .map_err(|e| unreadable(path, e))
}

/// Display form of a path from the walk: without a leading `./`.
pub fn display(path: &Path) -> &[u8] {
    let bytes = path.as_os_str().as_encoded_bytes();
    bytes.strip_prefix(b"./").unwrap_or(bytes)
}
