//! How a source's items reach the engine's workers. A source says which of three ways suits
//! what it reads, through the traits here, and the engine runs every scan the same way over
//! them: it knows nothing of where the bytes come from (no git type appears below).
//!
//! - [`Feed::Sequential`]: the engine's thread reads each item in order through the source's
//!   [`BlobRead`](super::BlobRead) while the other cores scan (files on disk, git's plumbing).
//! - [`Feed::Workers`]: every worker reads the items it is given with a reader of its own
//!   ([`ParallelRead`]): what `git add` leaves loose is inflated on every core. What a worker's
//!   reader does not hold goes back to the engine's thread.
//! - [`Feed::Chains`]: versions are built along chains ([`ChainWalk`]), each right after the
//!   version it was built from, with the byte ranges where it differs: a history's versions
//!   cost what they change. What no chain builds is read in order.

use super::SourceError;
use crate::model::Item;
use std::ops::Range;

/// How a source's items reach the engine's workers (see the module docs).
pub(crate) enum Feed<'s> {
    /// Read in order on the engine's thread.
    Sequential,
    /// Read by every worker on its own.
    Workers(&'s dyn ParallelRead),
    /// Built along chains, each version after its base.
    Chains(&'s dyn ChainWalk),
}

/// Readers for the engine's workers, one each (see [`Feed::Workers`]).
pub(crate) trait ParallelRead: Sync {
    /// A reader for one worker thread.
    fn reader(&self) -> Box<dyn WorkerRead + '_>;
}

/// One worker's reader: an item is opened (its size known before anything that large is
/// held), then read whole or as a stream.
pub(crate) trait WorkerRead {
    /// Opens `item`: its size, or `None` when this reader does not hold it (the engine's
    /// thread reads it then). A damaged object is an error.
    fn open(&mut self, item: &Item) -> Result<Option<u64>, SourceError>;

    /// Reads the item opened last into `buf` (cleared first): exactly its size.
    fn read(&mut self, buf: &mut Vec<u8>) -> Result<(), SourceError>;

    /// The item opened last, as a stream of its size.
    fn stream(&mut self) -> Result<Box<dyn std::io::Read + '_>, SourceError>;

    /// Lets go of what it keeps between items past `keep` bytes (after a large one).
    fn shrink(&mut self, keep: usize) {
        let _ = keep;
    }
}

/// Versions built along chains (see [`Feed::Chains`]).
pub(crate) trait ChainWalk: Sync {
    /// How many chains there are to walk: any worker may walk any of them.
    fn chains(&self) -> usize;

    /// A walker for one worker thread.
    fn walker(&self) -> Box<dyn ChainWalker + '_>;

    /// The items no chain builds: the engine's thread reads them in order.
    fn rest(&self) -> &[usize];
}

/// One worker's walker of chains.
pub(crate) trait ChainWalker {
    /// Walks chain `chain`: builds its versions, each after the one it is built from, and
    /// hands each to `visit` with the memo `visit` returned for that base (`None` for a
    /// chain's first version). A blob is built once, as the first item that has it (the
    /// engine judges the others with it). Items larger than `cap` are not built: they (and those built
    /// on them) go into `skipped`, for the engine's thread to read. When `visit` returns
    /// [`Stop`], the walk ends there, successfully: the visitor keeps its own reason.
    fn walk(
        &mut self,
        chain: usize,
        cap: u64,
        visit: &mut Visit<'_>,
        skipped: &mut Vec<usize>,
    ) -> Result<(), SourceError>;
}

/// What a chain's walk hands the engine for each object it builds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Version<'a> {
    /// The item it is, or `None` for a base that is not one of the items.
    pub(crate) item: Option<usize>,
    /// Its bytes.
    pub(crate) data: &'a [u8],
    /// Where it differs from the version it was built from: byte ranges that are not whole
    /// lines of the base (a line that touches none of them is a line of the base). `None`
    /// for a version built whole.
    pub(crate) changed: Option<&'a [Range<usize>]>,
}

/// The engine's visitor of versions (see [`ChainWalker::walk`]): given a version and its
/// base's memo, this version's memo — a number the engine gives meaning to.
pub(crate) type Visit<'v> = dyn FnMut(Version<'_>, Option<usize>) -> Result<usize, Stop> + 'v;

/// The visitor stopped a walk (it keeps its reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stop;
