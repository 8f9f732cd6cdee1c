//! The loose objects of a repository as a [`Feed::Workers`](super::feed::Feed::Workers): what
//! `git add` writes is loose, one zlib file per object, and every worker reads and inflates
//! its own (see [`crate::git::loose`]). What is not loose here (packed, in an alternate) goes
//! back to the engine's thread.

use super::feed::{ParallelRead, WorkerRead};
use super::SourceError;
use crate::git::loose::{Loose, Scratch};
use crate::git::GitError;
use crate::model::{Content, Item};

/// Loose objects under one object directory, for any number of workers.
#[derive(Debug, Clone)]
pub(crate) struct LooseFeed(Loose);

impl LooseFeed {
    /// The loose objects under `dir` (a repository's `objects` directory).
    pub(crate) fn new(dir: std::path::PathBuf) -> Self {
        LooseFeed(Loose::new(dir))
    }
}

impl ParallelRead for LooseFeed {
    fn reader(&self) -> Box<dyn WorkerRead + '_> {
        Box::new(LooseReader {
            loose: &self.0,
            scratch: Scratch::default(),
            path: Vec::new(),
        })
    }
}

/// One worker's reader of loose objects.
struct LooseReader<'l> {
    loose: &'l Loose,
    scratch: Scratch,
    /// The path of the item opened last, for errors.
    path: Vec<u8>,
}

impl LooseReader<'_> {
    fn failed(&self, e: GitError) -> SourceError {
        GitError::read(crate::redact::escape(&self.path), e).into()
    }
}

impl WorkerRead for LooseReader<'_> {
    fn open(&mut self, item: &Item) -> Result<Option<u64>, SourceError> {
        let Content::Blob(id) = item.content else {
            return Ok(None);
        };
        self.path.clone_from(&item.path);
        self.loose
            .open(id, &mut self.scratch)
            .map_err(|e| self.failed(e))
    }

    fn read(&mut self, buf: &mut Vec<u8>) -> Result<(), SourceError> {
        let read = self.loose.inflate(buf, &mut self.scratch);
        read.map_err(|e| self.failed(e))
    }

    fn stream(&mut self) -> Result<Box<dyn std::io::Read + '_>, SourceError> {
        match self.loose.stream(&mut self.scratch) {
            Ok(stream) => Ok(Box::new(stream)),
            Err(e) => Err(self.failed(e)),
        }
    }

    fn shrink(&mut self, keep: usize) {
        self.scratch.shrink(keep);
    }
}
