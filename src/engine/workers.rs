//! Items every core reads on its own ([`Feed::Workers`](crate::source::feed::Feed::Workers)):
//! each worker opens, reads and scans the items it is given with a reader of its own (what
//! `git add` leaves loose is inflated on every core), and hands back the ones its reader does
//! not hold, for this thread to read.

use super::pool::{self, Event};
use super::{
    large, Body, Engine, Error, Group, Processed, HELD_AT_ONCE, KEEP_BUFFER, PARALLEL_FROM,
};
use crate::source::feed::{ParallelRead, WorkerRead};

/// What a worker hands back for an item.
enum Out {
    Processed(Processed),
    /// Not its reader's: read on the engine's thread.
    Elsewhere(usize),
}

impl Engine {
    /// Reads and scans the items of `group` on every core, each with its own reader from
    /// `parallel`; returns the items no worker's reader holds, in order.
    pub(super) fn run_workers(
        &self,
        group: &Group<'_>,
        parallel: &dyn ParallelRead,
        done: &mut Vec<Processed>,
    ) -> Result<Vec<usize>, Error> {
        let items = group.items;
        let budget = pool::Budget::new(HELD_AT_ONCE);
        let work = |(reader, buf): &mut (Box<dyn WorkerRead + '_>, Vec<u8>),
                    index: usize,
                    emit: &mut dyn FnMut(Out)|
         -> Result<(), Error> {
            let Some(size) = reader.open(&items[index])? else {
                emit(Out::Elsewhere(index));
                return Ok(());
            };
            if size > self.cap.0 {
                for i in std::iter::once(index).chain(group.others(index).iter().copied()) {
                    emit(Out::Processed(self.process(
                        i,
                        &items[i],
                        Body::TooLarge(size),
                    )?));
                }
                return Ok(());
            }
            if size > large::STREAM_FROM {
                // Too large to hold: scanned in windows as it is read, at each of its paths.
                let _held = budget.hold(large::WINDOW as u64);
                let mut stream = reader.stream()?;
                emit(Out::Processed(self.process_stream(
                    index,
                    &items[index],
                    &mut stream,
                    size,
                )?));
                drop(stream);
                for &other in group.others(index) {
                    if reader.open(&items[other])?.is_some() {
                        let mut stream = reader.stream()?;
                        let p = self.process_stream(other, &items[other], &mut stream, size)?;
                        emit(Out::Processed(p));
                    }
                }
                return Ok(());
            }
            let _held = budget.hold(size);
            reader.read(buf)?;
            let content = Body::Bytes {
                data: buf,
                windows: None,
            };
            let mut p = self.process(index, &items[index], content)?;
            if p.needs_data() {
                p.data = Some(buf.clone());
            }
            emit(Out::Processed(p));
            for mut other in group.others_of(self, index, buf)? {
                if other.needs_data() {
                    other.data = Some(buf.clone());
                }
                emit(Out::Processed(other));
            }
            if buf.capacity() > KEEP_BUFFER {
                *buf = Vec::new();
            }
            reader.shrink(KEEP_BUFFER);
            Ok(())
        };
        // Past eight threads, each adds its own regex caches (up to tens of MB with many
        // rules at work) for little: reading and inflating keep pace with eight.
        let threads = if items.len() < PARALLEL_FROM {
            1
        } else {
            pool::cores().min(8)
        };
        let mut rest = Vec::new();
        pool::run(
            threads,
            || (parallel.reader(), Vec::new()),
            &work,
            |feeder| {
                for index in (0..items.len()).filter(|&i| !group.is_other(i)) {
                    if !feeder.push(index)? {
                        break;
                    }
                }
                Ok(())
            },
            |event| match event {
                Event::Output(Out::Processed(p)) => done.push(p),
                Event::Output(Out::Elsewhere(index)) => rest.push(index),
                Event::Tick => {}
            },
        )?;
        rest.sort_unstable();
        Ok(rest)
    }
}
