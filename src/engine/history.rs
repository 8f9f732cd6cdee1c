//! History's per-version memo: versions a source builds along delta chains
//! ([`Feed::Chains`](crate::source::feed::Feed::Chains)) are scanned where each differs from
//! the one it was built from, as its patch would show it, and the line hashes of versions
//! read in order ([`super::sequential`]) are kept for the versions after them.
//!
//! A chain's versions are walked one chain per task on every core: a version whose base was
//! scanned clean, at a path that scans the same way, is scanned on the lines the delta adds;
//! one whose base had a match, or was not scanned, is scanned whole, so every version gets
//! the findings a whole scan would give it. What no chain builds (loose objects, packs whose
//! deltas do not follow the versions of a file, blobs over the size cap) is read in order on
//! the engine's thread, each version on the lines that differ from the version before.

use super::pool::{self, Event};
use super::{Body, Engine, Error, Group, Processed};
use crate::scan::windows::changed_lines;
use crate::scan::PathProfile;
use crate::source::feed::{ChainWalk, ChainWalker, Stop, Version};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

impl Engine {
    /// Builds and scans the versions `chains` holds (see the module docs). Returns the items
    /// left to be read in order (what no chain builds, and what is over the size cap) and how
    /// many were scanned clean (those are not in `done`: only what has something to report
    /// is kept).
    pub(super) fn walk_chains(
        &self,
        chains: &dyn ChainWalk,
        group: &Group<'_>,
        done: &mut Vec<Processed>,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<(Vec<usize>, usize), Error> {
        /// What a version's scan tells the versions built on it.
        enum Base {
            /// Not one of the wanted blobs, or at a path whose content is not scanned.
            Unscanned,
            Scanned {
                profile: PathProfile,
                clean: bool,
                multiline: bool,
            },
        }
        /// What a delta tree's walk hands back.
        enum Out {
            Processed(Processed),
            /// Blobs to read one by one.
            Skipped(Vec<usize>),
        }
        let cap = self.cap.0;
        // Counted, not sent: thousands of wake-ups of this thread would cost more than the
        // scans.
        let (count, bytes, clean) = (AtomicUsize::new(0), AtomicU64::new(0), AtomicUsize::new(0));
        let work = |walker: &mut Box<dyn ChainWalker + '_>,
                    chain: usize,
                    emit: &mut dyn FnMut(Out)|
         -> Result<(), Error> {
            // What each version told the versions built on it, by the number the walk hands
            // back for it.
            let mut memos: Vec<Base> = Vec::new();
            let mut failed = None;
            let mut scan = |v: Version<'_>, base: Option<&Base>| -> Result<Base, Error> {
                // An item that shares an earlier item's blob is scanned with that one.
                let Some(index) = v.item.filter(|&i| !group.is_other(i)) else {
                    return Ok(Base::Unscanned);
                };
                let item = &group.items[index];
                // A base at another path serves if the path changes nothing in the scan
                // (git deltas against similar files, not only earlier versions).
                let profile = self.scanner.path_profile(&item.path)?;
                let windows = match (v.changed, base) {
                    (
                        Some(changed),
                        Some(Base::Scanned {
                            profile: p,
                            clean: true,
                            multiline,
                        }),
                    ) if *p == profile => Some((changed_lines(v.data, changed), *multiline)),
                    _ => None,
                };
                let content = Body::Bytes {
                    data: v.data,
                    windows: windows.as_ref().map(|(w, m)| (w.as_slice(), *m)),
                };
                let p = self.process(index, item, content)?;
                let state = match &p.scan {
                    None => Base::Unscanned,
                    Some(scan) => Base::Scanned {
                        profile,
                        clean: scan.candidates.is_empty(),
                        multiline: scan.multiline,
                    },
                };
                let mut keep = |mut p: Processed| {
                    if p.matters() {
                        if p.needs_data() {
                            p.data = Some(v.data.to_vec());
                        }
                        emit(Out::Processed(p));
                    } else if p.scan.is_some() {
                        clean.fetch_add(1, Relaxed);
                    }
                };
                keep(p);
                for p in group.others_of(self, index, v.data)? {
                    keep(p);
                }
                bytes.fetch_add(v.data.len() as u64, Relaxed);
                count.fetch_add(1, Relaxed);
                Ok(state)
            };
            let mut visit = |v: Version<'_>, base: Option<usize>| match scan(
                v,
                base.and_then(|b| memos.get(b)),
            ) {
                Ok(memo) => {
                    memos.push(memo);
                    Ok(memos.len() - 1)
                }
                Err(e) => {
                    failed = Some(e);
                    Err(Stop)
                }
            };
            let mut skipped = Vec::new();
            walker.walk(chain, cap, &mut visit, &mut skipped)?;
            if let Some(e) = failed {
                return Err(e);
            }
            if !skipped.is_empty() {
                emit(Out::Skipped(skipped));
            }
            Ok(())
        };
        let mut left = Vec::new();
        let mut told = (0, 0);
        let threads = pool::cores().clamp(1, 8);
        pool::run(
            threads,
            || chains.walker(),
            &work,
            |feeder| {
                for chain in 0..chains.chains() {
                    if !feeder.push(chain)? {
                        break;
                    }
                }
                Ok(())
            },
            |event| {
                match event {
                    Event::Output(Out::Processed(p)) => done.push(p),
                    Event::Output(Out::Skipped(s)) => left.extend(s),
                    Event::Tick => {}
                }
                let now = (count.load(Relaxed), bytes.load(Relaxed));
                progress(now.0 - told.0, now.1 - told.1);
                told = now;
            },
        )?;
        left.extend_from_slice(chains.rest());
        left.sort_unstable();
        Ok((left, clean.load(Relaxed)))
    }
}

/// Sorted line hashes of the versions later ones are compared with, bounded in memory: past
/// the budget a version is simply scanned whole.
#[derive(Default)]
pub(super) struct LineStore {
    /// The versions kept (by item), and how many hashes they hold in all.
    map: Mutex<(HashMap<usize, Lines>, usize)>,
}

/// A version's sorted line hashes, and whether a multi-line rule's keyword may be in it.
pub(super) type Lines = (Arc<Vec<u64>>, bool);

/// Line hashes kept at most (8 bytes each).
const LINE_STORE_BUDGET: usize = 4 << 20;

impl LineStore {
    /// Item `index`'s lines, when they were kept.
    pub(super) fn get(&self, index: usize) -> Option<Lines> {
        self.map.lock().ok()?.0.get(&index).cloned()
    }

    /// Keeps item `index`'s line hashes (unsorted), unless the budget is spent.
    pub(super) fn put(&self, index: usize, mut hashes: Vec<u64>, multiline: bool) {
        hashes.sort_unstable();
        hashes.dedup();
        if let Ok(mut guard) = self.map.lock() {
            let (map, used) = &mut *guard;
            if *used + hashes.len() <= LINE_STORE_BUDGET {
                *used += hashes.len();
                map.insert(index, (Arc::new(hashes), multiline));
            }
        }
    }
}
