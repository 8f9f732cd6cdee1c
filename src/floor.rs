//! The physical floor of a history scan, for the history bench: every blob version the scan
//! would judge, listed and read by keyward's own readers exactly as `scan --history` lists and
//! reads them — built along delta chains on every core, the rest read in order — and nothing
//! scanned. A scan can be no faster than this; the bench prints the ratio. (Every version is
//! read, whatever its size: the bench's blobs are all under the scan's cap.)

use crate::model::{Content, ReadBlob, Selection};
use crate::source::commits::Commits;
use crate::source::feed::{Feed, Version};
use crate::source::Source;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// What the floor read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Versions built or read (a blob at several paths counts once per build).
    pub versions: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// Lists the history of the repository at `dir` (every ref) as `scan --history` does and
/// reads every version of every blob in it, on [`crate::cores::cores`] threads; scans nothing.
pub fn history(dir: &Path) -> Result<Read, String> {
    let selection = Selection::History { branch: None };
    let mut source = Commits::open_in(dir, &selection).map_err(|e| e.to_string())?;
    let parts = source.parts();
    let (versions, bytes) = (AtomicUsize::new(0), AtomicU64::new(0));
    let rest: Vec<usize> = if let Feed::Chains(chains) = parts.feed {
        let next = AtomicUsize::new(0);
        let skipped = Mutex::new(Vec::new());
        let failed = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..crate::cores::cores() {
                s.spawn(|| {
                    let mut walker = chains.walker();
                    let mut mine = Vec::new();
                    loop {
                        let chain = next.fetch_add(1, Ordering::Relaxed);
                        if chain >= chains.chains() {
                            break;
                        }
                        let mut visit = |v: Version<'_>, _base: Option<usize>| {
                            versions.fetch_add(1, Ordering::Relaxed);
                            bytes.fetch_add(v.data.len() as u64, Ordering::Relaxed);
                            Ok(0)
                        };
                        if let Err(e) = walker.walk(chain, u64::MAX, &mut visit, &mut mine) {
                            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            break;
                        }
                    }
                    skipped
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend(mine);
                });
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e.to_string());
        }
        let mut rest = chains.rest().to_vec();
        rest.extend(skipped.into_inner().unwrap_or_else(|p| p.into_inner()));
        rest
    } else {
        (0..parts.items.len()).collect()
    };
    // What no chain built, read in order on this thread, as the engine's thread reads it;
    // messages and names came with the listing.
    let mut buf = Vec::new();
    for index in rest {
        let item = &parts.items[index];
        if let Content::Text(text) = &item.content {
            versions.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(text.len() as u64, Ordering::Relaxed);
            continue;
        }
        match parts.reader.read(item, &mut buf, u64::MAX) {
            Ok(ReadBlob::Read) => {
                versions.fetch_add(1, Ordering::Relaxed);
                bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(Read {
        versions: versions.into_inner(),
        bytes: bytes.into_inner(),
    })
}
