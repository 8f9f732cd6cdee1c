//! Items read in order on the engine's thread ([`Feed::Sequential`], and what the other feeds
//! leave), scanned on the other cores while the next ones are read; and the texts a source
//! holds (messages), scanned in batches.
//!
//! A version whose base the source also lists (the version before it at its path, see
//! [`BlobRead::base`]) is scanned where its lines differ from the base's, as its patch would
//! show it: the base's lines were scanned with it ([`super::history::LineStore`]).
//!
//! [`Feed::Sequential`]: crate::source::feed::Feed::Sequential

use super::history::LineStore;
use super::pool::{self, Event};
use super::{
    large, read_item, Body, Engine, Error, Group, Processed, Read, HELD_AT_ONCE, PARALLEL_FROM,
};
use crate::model::{self, ReadBlob, Unreadable};
use crate::scan::windows::{changed_lines, line_hashes, lines_not_in};
use crate::source::{BlobRead, SourceError, Standing};
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

impl Engine {
    /// Reads the items `indexes` of `group` through `reader` on this thread and scans them on
    /// the others, each with the items that share its blob. A file that cannot be read
    /// (files on disk) is returned, not scanned; any other error stops the scan. What is too
    /// large to hold is scanned in windows as it is read where the source can stream it —
    /// always for what is already committed (`standing`), which is never let through
    /// unscanned; up to the cap otherwise, past which it is named as not scanned.
    pub(super) fn run_sequential(
        &self,
        group: &Group<'_>,
        reader: &mut dyn BlobRead,
        indexes: &[usize],
        standing: Standing,
        done: &mut Vec<Processed>,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<Vec<Unreadable>, Error> {
        let mut unreadable = Vec::new();
        if indexes.is_empty() {
            return Ok(unreadable);
        }
        let cap = self.cap.0;
        // The versions a later one is compared with.
        let needed: HashSet<usize> = indexes.iter().filter_map(|&i| reader.base(i)).collect();
        let lines = LineStore::default();
        let budget = pool::Budget::new(HELD_AT_ONCE);
        let work = |_: &mut (),
                    (index, base, read, _held): Task<'_>,
                    emit: &mut dyn FnMut(Processed)|
         -> Result<(), Error> {
            let item = &group.items[index];
            let data = match read {
                Read::Streamed(p) => {
                    emit(*p);
                    return Ok(());
                }
                Read::TooLarge(size) => {
                    for i in std::iter::once(index).chain(group.others(index).iter().copied()) {
                        emit(self.process(i, &group.items[i], Body::TooLarge(size))?);
                    }
                    return Ok(());
                }
                Read::Bytes(data) => data,
            };
            let base = base.and_then(|b| lines.get(b));
            let keep_lines = needed.contains(&index);
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
            if let (true, Some(hashes), Some(scan)) = (keep_lines, hashes, &p.scan) {
                lines.put(index, hashes, scan.multiline);
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
        let threads = if indexes.len() < PARALLEL_FROM {
            1
        } else {
            pool::cores().saturating_sub(1).clamp(1, 8)
        };
        // Read whole up to here; past it, streamed where the source can, up to `most`.
        let whole = cap.min(large::STREAM_FROM);
        let most = match standing {
            Standing::Committed => u64::MAX,
            _ => cap,
        };
        pool::run(
            threads,
            || (),
            &work,
            |feeder| {
                let mut buf = Vec::new();
                for &index in indexes {
                    let tasks = match self.read_one(reader, group, index, &mut buf, whole, most) {
                        Ok(tasks) => tasks,
                        // A file on disk that cannot be read: said at the end, not scanned.
                        Err(Error::Source(SourceError::Unreadable { path, source })) => {
                            unreadable.push(Unreadable {
                                path,
                                error: source,
                            });
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    let base = reader.base(index);
                    for (index, read) in tasks {
                        let len = match &read {
                            Read::Bytes(data) => data.len() as u64,
                            Read::TooLarge(_) | Read::Streamed(_) => 0,
                        };
                        if !feeder.push((index, base, read, budget.hold(len)))? {
                            return Ok(());
                        }
                        progress(1, len);
                    }
                }
                Ok(())
            },
            |event| {
                if let Event::Output(p) = event {
                    done.push(p);
                }
            },
        )?;
        Ok(unreadable)
    }

    /// Reads item `index` of `group` for the workers: whole up to `whole` bytes; past that,
    /// no larger than `most`, scanned here in windows as `reader` streams it (see [`large`]),
    /// and so is each item that shares its blob; where the source cannot stream it, read
    /// whole up to the cap, past which it is named as not scanned.
    fn read_one(
        &self,
        reader: &mut dyn BlobRead,
        group: &Group<'_>,
        index: usize,
        buf: &mut Vec<u8>,
        whole: u64,
        most: u64,
    ) -> Result<Vec<(usize, Read)>, Error> {
        let items = group.items;
        let size = match read_item(reader, &items[index], buf, whole)? {
            ReadBlob::Read => return Ok(vec![(index, Read::Bytes(std::mem::take(buf)))]),
            ReadBlob::TooLarge(size) => size,
        };
        let first = match size <= most {
            true => match reader.stream(&items[index], whole, most)? {
                Some((mut stream, size)) => {
                    Some(self.process_stream(index, &items[index], &mut stream, size)?)
                }
                None => None,
            },
            false => None,
        };
        if let Some(first) = first {
            let mut tasks = vec![(index, Read::Streamed(Box::new(first)))];
            for &other in group.others(index) {
                let read = match reader.stream(&items[other], whole, most)? {
                    Some((mut stream, size)) => Read::Streamed(Box::new(self.process_stream(
                        other,
                        &items[other],
                        &mut stream,
                        size,
                    )?)),
                    None => Read::TooLarge(size),
                };
                tasks.push((other, read));
            }
            return Ok(tasks);
        }
        // Not a stream here: read whole, as far as the cap allows.
        let read = match size <= self.cap.0 {
            true => match read_item(reader, &items[index], buf, self.cap.0)? {
                ReadBlob::Read => Read::Bytes(std::mem::take(buf)),
                ReadBlob::TooLarge(size) => Read::TooLarge(size),
            },
            false => Read::TooLarge(size),
        };
        Ok(vec![(index, read)])
    }

    /// Scans the items `indexes` of `group`, whose bytes the source holds (messages), in
    /// batches on every core. Returns how many were scanned clean (not in `done`).
    pub(super) fn texts(
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
}

/// What the reading thread hands a worker: the item, its base (see [`BlobRead::base`]), its
/// bytes, and their hold on the budget.
type Task<'b> = (usize, Option<usize>, Read, pool::Hold<'b>);
