//! Sources: what to scan. A source lists [`Item`]s — a path and where its bytes are — and
//! reads them; the engine takes each item through the same scan and policy whatever the
//! source. Nothing after a source knows about git.
//!
//! - [`staged`]: what the commit being made records (the hook, `scan --staged`).
//! - [`commits`]: what a range, a push or the whole history introduced.
//! - [`message`]: the message the commit being made records (the commit-msg hook).
//! - [`paths`]: files on disk (`scan PATH…`).
//!
//! Each says how its items reach the engine's workers ([`feed`]): read in order, read by every
//! core on its own, or built along delta chains.

pub mod commits;
pub(crate) mod feed;
pub(crate) mod loose;
pub(crate) mod message;
pub(crate) mod paths;
pub(crate) mod staged;

use crate::git::GitError;
use crate::model::Item;
use crate::model::ReadBlob;

/// Errors from listing or reading a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The repository could not be read.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A file on disk could not be read. Scans of files on disk go on without it
    /// ([`crate::model::Outcome::unreadable`]).
    #[error("{path}")]
    Unreadable {
        /// The path, escaped for the terminal.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A revision that does not name a commit.
    #[error("unknown revision `{revision}`{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    Revision {
        /// The revision, escaped.
        revision: String,
        /// What may be wrong.
        hint: Option<&'static str>,
    },
    /// Malformed input: a range, a pre-receive line.
    #[error("{0}")]
    Input(String),
}

impl SourceError {
    /// Reading `what` failed (a blob cut short as it was streamed, a damaged object): an
    /// error that stops the scan, as any repository read that fails.
    pub(crate) fn read(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SourceError::Git(GitError::read(what, source))
    }
}

impl From<crate::git::plumbing::PlumbingError> for SourceError {
    fn from(e: crate::git::plumbing::PlumbingError) -> Self {
        SourceError::Git(e.into())
    }
}

/// How the items of a source stand (a model type: the policy reads it).
pub(crate) use crate::model::Standing;

/// A source: its items, and a reader of their bytes.
pub trait Source {
    /// How its findings stand.
    fn standing(&self) -> Standing;

    /// The items to scan, in the order findings are reported.
    fn items(&self) -> &[Item];

    /// The items, the reader and the feed, apart: workers look at the items (and read them,
    /// or walk chains, through the feed) while the engine's thread reads through the reader.
    fn parts(&mut self) -> Parts<'_>;

    /// What could not be listed (a directory, a path that vanished): files on disk only.
    /// What cannot be read from a repository is an error that stops the scan instead.
    fn unlisted(&mut self) -> Vec<crate::model::Unreadable> {
        Vec::new()
    }
}

/// Reads the bytes of a source's items.
pub(crate) trait BlobRead {
    /// Reads `item`'s bytes into `buf` (cleared first), unless they are more than `cap`.
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError>;

    /// Fills `buf` with what item `index` replaces and history already has: the version the
    /// commit's parents hold at its path, the base side of a range. `false` when there is
    /// none. Read only for items with findings.
    fn previous(
        &mut self,
        index: usize,
        item: &Item,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<bool, SourceError>;

    /// Other paths where item `index`'s content already was before the source's items (the
    /// base of a range): what it holds is in history already, unless every one of those
    /// paths is one the policy allows (a fixture's key copied to where it is not allowed is
    /// new there).
    fn elsewhere(&self, index: usize) -> &[Vec<u8>] {
        let _ = index;
        &[]
    }

    /// What `path` (a file beside an item, such as the `.dockerignore` of a Dockerfile's
    /// build context) holds in the same state as the items: staged, on disk. `Unknown` where
    /// the source cannot tell (commits).
    fn sibling(&mut self, path: &[u8], cap: u64) -> Result<Sibling, SourceError> {
        let _ = (path, cap);
        Ok(Sibling::Unknown)
    }

    /// `item`'s bytes as a stream, with its size, when it is larger than `from` and no
    /// larger than `cap`: such a blob is scanned in windows rather than read whole (see
    /// [`crate::engine::large`]). `None` when the source reads it whole.
    fn stream(
        &mut self,
        _item: &Item,
        _from: u64,
        _cap: u64,
    ) -> Result<Option<Stream<'_>>, SourceError> {
        Ok(None)
    }

    /// The item whose content item `index`'s replaced (the version before it at its path),
    /// when the source lists that version too: lines the two share were scanned with it, so
    /// the engine scans only the lines that differ (see [`crate::engine::history`]).
    fn base(&self, index: usize) -> Option<usize> {
        let _ = index;
        None
    }
}

/// What [`Source::parts`] hands the engine.
pub struct Parts<'s> {
    /// The items, in the order findings are reported.
    pub(crate) items: &'s [Item],
    /// The reader the engine's thread reads through.
    pub(crate) reader: &'s mut dyn BlobRead,
    /// How the items reach the workers.
    pub(crate) feed: feed::Feed<'s>,
}

/// A blob read as a stream, and its size (see [`BlobRead::stream`]).
pub(crate) type Stream<'a> = (Box<dyn std::io::Read + 'a>, u64);

/// What [`BlobRead::sibling`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sibling {
    /// The file's bytes.
    Found(Vec<u8>),
    /// There is no such file.
    Absent,
    /// The source cannot say.
    Unknown,
}
