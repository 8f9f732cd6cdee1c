//! History's driver: the items of a commit source, scanned where each version differs from
//! the one it replaced, as its patch would show it.
//!
//! The blobs the packs build are built along their delta chains, one delta tree per task on
//! every core ([`crate::git::packs`]): a version whose base was scanned clean, at a path that
//! scans the same way, is scanned on the lines the delta adds; one whose base had a match, or
//! was not scanned, is scanned whole, so every version gets the findings a whole scan would
//! give it. The rest (loose objects, packs whose deltas do not follow the versions of a file,
//! blobs over the size cap) are read one by one on this thread and scanned on the others,
//! each on the lines that differ from the version before (line hashes).

use super::pool::{self, Event};
use super::{Body, Engine, Error, Processed, Read};
use crate::git::packs::{Plan, Version};
use crate::git::ReadBlob;
use crate::model::{self, Item, Outcome};
use crate::scan::windows::{changed_lines, line_hashes, lines_not_in};
use crate::scan::PathProfile;
use crate::source::commits::Commits;
use crate::source::{BlobRead, Source, Standing};
use gix::ObjectId;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Told how many blobs are done and how many bytes were scanned so far.
pub type Progress<'a> = dyn FnMut(usize, u64) + 'a;

impl Engine {
    /// Takes the items of `source` (a range, a push, history) through the pipeline, each
    /// version scanned where it differs from its base (see the module docs).
    pub fn run_commits(
        &self,
        source: &mut Commits,
        progress: &mut Progress<'_>,
    ) -> Result<Outcome, Error> {
        let plan = source.take_plan();
        let bases = source.bases().to_vec();
        let (items, reader) = source.split();
        // A blob at several paths is read and scanned with its first item; the others are
        // judged with the same bytes, each at its own path.
        let mut first: HashMap<ObjectId, usize> = HashMap::new();
        let mut others: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut is_other = vec![false; items.len()];
        for (index, item) in items.iter().enumerate() {
            if let model::Content::Blob(id) = item.content {
                match first.entry(id) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(index);
                    }
                    std::collections::hash_map::Entry::Occupied(o) => {
                        others.entry(*o.get()).or_default().push(index);
                        is_other[index] = true;
                    }
                }
            }
        }
        let group = Group {
            items,
            others: &others,
        };
        let mut done = Vec::new();
        let mut total = (0usize, 0u64);
        let mut progress = |n: usize, b: u64| {
            total = (total.0 + n, total.1 + b);
            progress(total.0, total.1);
        };
        let (mut rest, clean) = match &plan {
            Some(plan) => {
                let (mut left, clean) = self.walk_packs(plan, &group, &mut done, &mut progress)?;
                left.extend_from_slice(&plan.rest);
                left.sort_unstable();
                (left, clean)
            }
            None => ((0..items.len()).collect(), 0),
        };
        rest.retain(|&i| !is_other[i]);
        // Messages and other text the source holds: thousands of short items, scanned in
        // batches (one at a time through the reading thread's queue, their hand-offs cost
        // more than their scans).
        let (texts, rest): (Vec<usize>, Vec<usize>) = rest
            .into_iter()
            .partition(|&i| matches!(items[i].content, model::Content::Text(_)));
        let clean_texts = self.texts(&group, &texts, &mut done, &mut progress)?;
        self.one_by_one(&group, reader, &bases, &rest, &mut done, &mut progress)?;
        self.settle(
            Standing::Committed,
            items,
            reader,
            done,
            clean + clean_texts,
        )
    }

    /// Scans the items `indexes` of `group`, whose bytes the source holds (messages), in
    /// batches on every core. Returns how many were scanned clean (not in `done`).
    fn texts(
        &self,
        group: &Group<'_>,
        indexes: &[usize],
        done: &mut Vec<Processed>,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<usize, Error> {
        /// Items per batch: enough that a hand-off is a small part of a batch's work.
        const BATCH: usize = 256;
        let clean = AtomicUsize::new(0);
        let work = |_: &mut (), batch: &[usize], emit: &mut dyn FnMut(Processed)| {
            for &index in batch {
                let item = &group.items[index];
                let model::Content::Text(text) = &item.content else {
                    continue;
                };
                let content = Body::Bytes {
                    data: text,
                    windows: None,
                };
                let p = self.process(index, item, content)?;
                if p.matters() {
                    emit(p);
                } else {
                    clean.fetch_add(1, Relaxed);
                }
            }
            Ok::<(), Error>(())
        };
        let threads = if indexes.len() > BATCH {
            pool::cores().clamp(1, 8)
        } else {
            1
        };
        pool::run(
            threads,
            || (),
            &work,
            |feeder| {
                for batch in indexes.chunks(BATCH) {
                    if !feeder.push(batch)? {
                        break;
                    }
                    progress(batch.len(), 0);
                }
                Ok(())
            },
            |event| {
                if let Event::Output(p) = event {
                    done.push(p);
                }
            },
        )?;
        Ok(clean.load(Relaxed))
    }

    /// Builds and scans the blobs `plan` holds (see the module docs). Returns the blobs left
    /// to the one-by-one reader (over the size cap) and how many were scanned clean (those
    /// are not in `done`: only what has something to report is kept).
    fn walk_packs(
        &self,
        plan: &Plan,
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
        let work = |inflate: &mut gix::zlib::Decompress,
                    job: crate::git::packs::Job,
                    emit: &mut dyn FnMut(Out)|
         -> Result<(), Error> {
            let mut visit = |v: Version<'_>, base: Option<&Base>| -> Result<Base, Error> {
                let Some(index) = v.item else {
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
            let mut skipped = Vec::new();
            plan.walk(job, cap, inflate, &mut visit, &mut skipped)?;
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
            gix::zlib::Decompress::default,
            &work,
            |feeder| {
                for job in plan.jobs() {
                    if !feeder.push(job)? {
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
        Ok((left, clean.load(Relaxed)))
    }

    /// Reads the blobs `indexes` of `items` one by one on this thread and scans them on the
    /// others. A version whose base was scanned before it is scanned where its lines differ
    /// from the base's.
    fn one_by_one(
        &self,
        group: &Group<'_>,
        reader: &mut dyn BlobRead,
        bases: &[Option<ObjectId>],
        indexes: &[usize],
        done: &mut Vec<Processed>,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<(), Error> {
        if indexes.is_empty() {
            return Ok(());
        }
        let cap = self.cap.0;
        // The lines of each version that a later one replaces, by blob id (hashed).
        let needed: HashSet<ObjectId> = indexes.iter().filter_map(|&i| bases[i]).collect();
        let lines = LineStore::default();
        let budget = pool::Budget::new(super::HELD_AT_ONCE);
        let work = |_: &mut (),
                    (index, read, _held): (usize, Read, pool::Hold<'_>),
                    emit: &mut dyn FnMut(Processed)|
         -> Result<(), Error> {
            let item = &group.items[index];
            let data = match read {
                Read::Streamed(p) => {
                    emit(*p);
                    return Ok(());
                }
                Read::TooLarge(size) => {
                    emit(self.process(index, item, Body::TooLarge(size))?);
                    for &other in group.others.get(&index).into_iter().flatten() {
                        let content = Body::TooLarge(size);
                        emit(self.process(other, &group.items[other], content)?);
                    }
                    return Ok(());
                }
                Read::Bytes(data) => data,
            };
            let id = match item.content {
                model::Content::Blob(id) => Some(id),
                model::Content::File(..) | model::Content::Text(_) => None,
            };
            let base = bases[index].and_then(|b| lines.get(&b));
            let keep_lines = id.is_some_and(|id| needed.contains(&id));
            // Lines are hashed only where a version is compared or kept.
            let hashes = (base.is_some() || keep_lines).then(|| line_hashes(&data));
            let windows = match (&base, &hashes) {
                (Some((base, multiline)), Some(hashes)) => Some((
                    changed_lines(&data, &lines_not_in(&data, hashes, base)),
                    *multiline,
                )),
                _ => None,
            };
            let content = Body::Bytes {
                data: &data,
                windows: windows.as_ref().map(|(w, m)| (w.as_slice(), *m)),
            };
            let mut p = self.process(index, item, content)?;
            if let (Some(id), Some(hashes), Some(scan)) = (id, hashes, &p.scan) {
                if keep_lines {
                    lines.put(id, hashes, scan.multiline);
                }
            }
            for mut other in group.others_of(self, index, &data)? {
                if other.needs_data() {
                    other.data = Some(data.clone());
                }
                emit(other);
            }
            if p.needs_data() {
                p.data = Some(data);
            }
            emit(p);
            Ok(())
        };
        let threads = pool::cores().saturating_sub(1).clamp(1, 8);
        pool::run(
            threads,
            || (),
            &work,
            |feeder| {
                let mut buf = Vec::new();
                for &index in indexes {
                    let item = &group.items[index];
                    let read = match super::read_item(reader, item, &mut buf, cap)? {
                        ReadBlob::Read => Read::Bytes(std::mem::take(&mut buf)),
                        // What is committed is never let through unscanned: a blob too large
                        // to hold is scanned here, window by window, as it is read — at each
                        // of its paths (the cap bounds memory, not what is judged).
                        ReadBlob::TooLarge(size) => match self.streamed(reader, group, index)? {
                            None => Read::TooLarge(size),
                            Some(p) => {
                                for &other in group.others.get(&index).into_iter().flatten() {
                                    let Some(o) = self.streamed(reader, group, other)? else {
                                        continue;
                                    };
                                    let streamed = Read::Streamed(Box::new(o));
                                    if !feeder.push((other, streamed, budget.hold(0)))? {
                                        return Ok(());
                                    }
                                }
                                Read::Streamed(Box::new(p))
                            }
                        },
                    };
                    let len = match &read {
                        Read::Bytes(data) => data.len() as u64,
                        Read::TooLarge(_) | Read::Streamed(_) => 0,
                    };
                    if !feeder.push((index, read, budget.hold(len)))? {
                        break;
                    }
                    progress(1, len);
                }
                Ok(())
            },
            |event| {
                if let Event::Output(p) = event {
                    done.push(p);
                }
            },
        )?;
        Ok(())
    }
}

impl Engine {
    /// Item `index` of `group` scanned as `reader` streams it, window by window (see
    /// [`super::large`]); `None` where the source cannot stream it.
    fn streamed(
        &self,
        reader: &mut dyn BlobRead,
        group: &Group<'_>,
        index: usize,
    ) -> Result<Option<Processed>, Error> {
        let item = &group.items[index];
        match reader.stream(item, 0, u64::MAX)? {
            Some((mut stream, size)) => {
                Ok(Some(self.process_stream(index, item, &mut stream, size)?))
            }
            None => Ok(None),
        }
    }
}

/// The items of a commit source, and the items that share a blob with an earlier one.
struct Group<'a> {
    items: &'a [Item],
    /// By the first item of a blob, the later items with the same blob.
    others: &'a HashMap<usize, Vec<usize>>,
}

impl Group<'_> {
    /// The items after `first` with its blob (`data`), each processed at its own path (the
    /// whole blob: a delta's windows are its first path's business).
    fn others_of(
        &self,
        engine: &Engine,
        first: usize,
        data: &[u8],
    ) -> Result<Vec<Processed>, Error> {
        let Some(others) = self.others.get(&first) else {
            return Ok(Vec::new());
        };
        others
            .iter()
            .map(|&i| {
                let content = Body::Bytes {
                    data,
                    windows: None,
                };
                engine.process(i, &self.items[i], content)
            })
            .collect()
    }
}

/// Sorted line hashes of the versions later ones are compared with, bounded in memory: past
/// the budget a version is simply scanned whole.
#[derive(Default)]
struct LineStore {
    /// The versions kept, and how many hashes they hold in all.
    map: Mutex<(HashMap<ObjectId, Lines>, usize)>,
}

/// A version's sorted line hashes, and whether a multi-line rule's keyword may be in it.
type Lines = (Arc<Vec<u64>>, bool);

/// Line hashes kept at most (8 bytes each).
const LINE_STORE_BUDGET: usize = 4 << 20;

impl LineStore {
    fn get(&self, id: &ObjectId) -> Option<Lines> {
        self.map.lock().ok()?.0.get(id).cloned()
    }

    fn put(&self, id: ObjectId, mut hashes: Vec<u64>, multiline: bool) {
        hashes.sort_unstable();
        hashes.dedup();
        if let Ok(mut guard) = self.map.lock() {
            let (map, used) = &mut *guard;
            if *used + hashes.len() <= LINE_STORE_BUDGET {
                *used += hashes.len();
                map.insert(id, (Arc::new(hashes), multiline));
            }
        }
    }
}
