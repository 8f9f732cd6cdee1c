//! One pool for every scan: this thread feeds tasks (reading blobs: gix's repository handle
//! stays on one thread), workers run them on the other cores, and their outputs come back
//! to this thread. With one thread, tasks run inline as they are fed: a typical commit
//! starts no thread at all.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

pub(crate) use crate::cores::cores;

/// A limit on the bytes of content held at once, shared by the threads of a scan. Memory
/// then depends on this limit and on the largest blob, not on how many cores there are or
/// how many blobs are staged (70 staged files of 40 MB once took 1.4 GB). A blob larger than
/// the limit is let through alone, once nothing else is held.
#[derive(Debug)]
pub(crate) struct Budget {
    held: Mutex<u64>,
    freed: Condvar,
    limit: u64,
}

/// Bytes held from a [`Budget`] until this is dropped.
#[derive(Debug)]
pub(crate) struct Hold<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: u64) -> Self {
        Budget {
            held: Mutex::new(0),
            freed: Condvar::new(),
            limit,
        }
    }

    /// Waits until `bytes` more fit under the limit, or nothing is held, and holds them.
    pub(crate) fn hold(&self, bytes: u64) -> Hold<'_> {
        // A poisoned lock means a thread panicked holding it; the scan fails through that
        // thread, so waiting here on a best-effort count is harmless.
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        while *held > 0 && held.saturating_add(bytes) > self.limit {
            held = self.freed.wait(held).unwrap_or_else(|e| e.into_inner());
        }
        *held += bytes;
        Hold {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let mut held = self.budget.held.lock().unwrap_or_else(|e| e.into_inner());
        *held -= self.bytes;
        self.budget.freed.notify_all();
    }
}

/// What the collector on this thread receives.
pub(crate) enum Event<O> {
    /// A task's output.
    Output(O),
    /// Nothing arrived for a while (at most every 100 ms while waiting): time to show
    /// progress.
    Tick,
}

/// A worker thread stopped without finishing (a bug; the scan fails closed).
#[derive(Debug, thiserror::Error)]
#[error("a scanning thread stopped unexpectedly")]
pub struct WorkerDied;

/// What a worker runs for each task: with its own state, emitting outputs.
pub(crate) type Work<'a, T, O, W, E> =
    dyn Fn(&mut W, T, &mut dyn FnMut(O)) -> Result<(), E> + Sync + 'a;

/// Hands tasks to the workers (see [`run`]).
pub(crate) struct Feeder<'a, T, O, W, E> {
    mode: Mode<'a, T, O, W, E>,
}

enum Mode<'a, T, O, W, E> {
    Inline {
        state: W,
        work: &'a Work<'a, T, O, W, E>,
        collect: &'a mut dyn FnMut(Event<O>),
    },
    Threads {
        tasks: Option<SyncSender<T>>,
        outputs: &'a Receiver<O>,
        collect: &'a mut dyn FnMut(Event<O>),
    },
}

impl<T, O, W, E> Feeder<'_, T, O, W, E> {
    /// Hands over a task. `Ok(false)` when the workers stopped (one failed: its error is
    /// returned by [`run`]), so feeding should stop too.
    pub(crate) fn push(&mut self, task: T) -> Result<bool, E> {
        match &mut self.mode {
            Mode::Inline {
                state,
                work,
                collect,
            } => {
                work(state, task, &mut |o| collect(Event::Output(o)))?;
                Ok(true)
            }
            Mode::Threads {
                tasks,
                outputs,
                collect,
            } => {
                let sent = tasks.as_ref().is_some_and(|t| t.send(task).is_ok());
                // Collect what is ready, so outputs do not pile up while feeding.
                while let Ok(o) = outputs.try_recv() {
                    collect(Event::Output(o));
                }
                Ok(sent)
            }
        }
    }
}

/// Runs `work` on every task `feed` pushes, on `threads` threads (inline on this thread when
/// `threads` is 1 or less), each with its own state from `init`. `collect` receives, on this
/// thread, every output a task emits (in the order they arrive) and a [`Event::Tick`] at least
/// every 100 ms while the workers finish. The first error — from feeding or from a task —
/// is returned once every thread has stopped.
pub(crate) fn run<T, O, W, E>(
    threads: usize,
    init: impl Fn() -> W + Sync,
    work: &Work<'_, T, O, W, E>,
    feed: impl FnOnce(&mut Feeder<'_, T, O, W, E>) -> Result<(), E>,
    mut collect: impl FnMut(Event<O>),
) -> Result<(), E>
where
    T: Send,
    O: Send,
    E: Send + From<WorkerDied>,
{
    if threads <= 1 {
        let mut feeder = Feeder {
            mode: Mode::Inline {
                state: init(),
                work,
                collect: &mut collect,
            },
        };
        return feed(&mut feeder);
    }
    let (tasks, inbox) = mpsc::sync_channel::<T>(threads * 4);
    // The queue's receiving end; a failing worker drops it, so that feeding stops instead of
    // waiting on a full queue nobody drains.
    let inbox = Mutex::new(Some(inbox));
    let (out, outputs) = mpsc::channel::<O>();
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (inbox, out, failed, init) = (&inbox, out.clone(), &failed, &init);
                scope.spawn(move || -> Result<(), E> {
                    let mut state = init();
                    let stop = |e: E| {
                        failed.store(true, Ordering::Relaxed);
                        if let Ok(mut rx) = inbox.lock() {
                            rx.take();
                        }
                        Err(e)
                    };
                    while !failed.load(Ordering::Relaxed) {
                        let next = match inbox.lock() {
                            Ok(rx) => match rx.as_ref() {
                                Some(rx) => rx.recv(),
                                None => break,
                            },
                            Err(_) => return stop(WorkerDied.into()),
                        };
                        let Ok(task) = next else { break };
                        // The receiver lives until every worker has stopped.
                        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            work(&mut state, task, &mut |o| {
                                let _ = out.send(o);
                            })
                        }));
                        match result {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => return stop(e),
                            Err(_) => return stop(WorkerDied.into()),
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        drop(out);
        let mut feeder = Feeder {
            mode: Mode::Threads {
                tasks: Some(tasks),
                outputs: &outputs,
                collect: &mut collect,
            },
        };
        let fed = feed(&mut feeder);
        // Closing the queue lets the workers finish what is in it and stop.
        if let Mode::Threads { tasks, .. } = &mut feeder.mode {
            tasks.take();
        }
        drop(feeder);
        loop {
            match outputs.recv_timeout(Duration::from_millis(100)) {
                Ok(o) => collect(Event::Output(o)),
                Err(RecvTimeoutError::Timeout) => collect(Event::Tick),
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let mut first = fed.err();
        for w in workers {
            let result = w.join().unwrap_or_else(|_| Err(WorkerDied.into()));
            if let (None, Err(e)) = (&first, result) {
                first = Some(e);
            }
        }
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squares(threads: usize, n: u64, fail_at: Option<u64>) -> Result<Vec<u64>, String> {
        #[derive(Debug)]
        struct E(String);
        impl From<WorkerDied> for E {
            fn from(e: WorkerDied) -> Self {
                E(e.to_string())
            }
        }
        let mut got = Vec::new();
        let work = |_: &mut (), t: u64, emit: &mut dyn FnMut(u64)| {
            if Some(t) == fail_at {
                return Err(E(format!("task {t} failed")));
            }
            emit(t * t);
            Ok(())
        };
        let result = run(
            threads,
            || (),
            &work,
            |feeder| {
                for t in 0..n {
                    if !feeder.push(t)? {
                        break;
                    }
                }
                Ok(())
            },
            |e| {
                if let Event::Output(o) = e {
                    got.push(o);
                }
            },
        );
        got.sort_unstable();
        result.map(|()| got).map_err(|e| e.0)
    }

    #[test]
    fn every_task_runs_once_inline_or_on_threads() {
        let want: Vec<u64> = (0..500).map(|t| t * t).collect();
        assert_eq!(squares(1, 500, None), Ok(want.clone()));
        assert_eq!(squares(3, 500, None), Ok(want));
    }

    #[test]
    fn a_failing_task_fails_the_run() {
        assert_eq!(squares(1, 500, Some(7)), Err("task 7 failed".into()));
        assert_eq!(squares(3, 500, Some(7)), Err("task 7 failed".into()));
    }

    /// Sixteen threads holding blobs of 10 to 60 "bytes" under a budget of 100 never hold
    /// more than 100 at once, except a blob over the budget, which is held alone.
    #[test]
    fn a_budget_bounds_what_threads_hold_at_once() {
        use std::sync::atomic::AtomicU64;
        let budget = Budget::new(100);
        #[derive(Debug, PartialEq)]
        struct Died;
        impl From<WorkerDied> for Died {
            fn from(_: WorkerDied) -> Self {
                Died
            }
        }
        let (now, over, alone) = (
            AtomicU64::new(0),
            AtomicBool::new(false),
            AtomicBool::new(true),
        );
        let work = |_: &mut (), size: u64, _: &mut dyn FnMut(())| -> Result<(), Died> {
            let _held = budget.hold(size);
            // Counted inside the hold: never more than what the budget holds.
            let total = now.fetch_add(size, Ordering::SeqCst) + size;
            if size > 100 && total != size {
                alone.store(false, Ordering::SeqCst);
            }
            if size <= 100 && total > 100 {
                over.store(true, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_micros(200));
            now.fetch_sub(size, Ordering::SeqCst);
            Ok(())
        };
        let result = run(
            16,
            || (),
            &work,
            |feeder| {
                for t in 0..400u64 {
                    let size = if t % 97 == 0 { 250 } else { 10 + t * 7 % 51 };
                    if !feeder.push(size)? {
                        break;
                    }
                }
                Ok(())
            },
            |_| {},
        );
        assert_eq!(result, Ok(()));
        assert!(
            !over.load(Ordering::SeqCst),
            "more than the budget held at once"
        );
        assert!(
            alone.load(Ordering::SeqCst),
            "a blob over the budget shared it"
        );
        let small_peak = Budget::new(100);
        let held: Vec<Hold<'_>> = (0..5).map(|_| small_peak.hold(20)).collect();
        assert_eq!(*small_peak.held.lock().expect("lock"), 100);
        drop(held);
        assert_eq!(*small_peak.held.lock().expect("lock"), 0);
    }
}
