//! The pipeline. Every item of a [`Source`] goes through one step, [`Engine::process`]:
//! forbidden-file rules, then the scan — on every core ([`pool`]) while this thread reads
//! the next blobs. What the scan found is then judged by the policy with the version the item
//! replaces (read on this thread, only for items with candidates), and the policy settles the
//! whole ([`crate::policy::Policy::settle`]). History adds a delta-aware driver that scans
//! a new version only where it differs from its base ([`history`]).

pub mod history;
pub mod large;
pub mod pool;

use crate::git::loose::{Loose, Scratch};
use crate::git::packs::PackError;
use crate::git::{GitError, ReadBlob};
use crate::model::{self, Finding, Item, Outcome, Size, Unreadable};
use crate::policy::{Policy, PolicyError};
use crate::rules::dockerfile;
use crate::rules::{Rule, StaticRule};
use crate::scan::{BlobScan, Candidate, ScanError, Scanner};
use crate::source::{BlobRead, Sibling, Source, SourceError, Stage};
use pool::Event;
use std::ops::Range;

/// Errors that stop a scan; the hook turns every one of them into a blocked commit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scanner could not be built or run.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// A forbidden-file rule is broken.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A pack file could not be read.
    #[error(transparent)]
    Pack(#[from] PackError),
    /// A scanning thread stopped.
    #[error(transparent)]
    Worker(#[from] pool::WorkerDied),
}

/// Commits with at least this many blobs are scanned on worker threads while this one reads.
const PARALLEL_FROM: usize = 64;

/// The bytes of content held at once while scanning (see [`pool::Budget`]): a few large blobs,
/// or thousands of typical ones; peak memory stays about twice this plus the largest blob.
const HELD_AT_ONCE: u64 = 96 << 20;

/// A thread's buffer that grew past this for one large blob is let go afterwards rather than
/// kept for the next.
const KEEP_BUFFER: usize = 4 << 20;

/// A scanner with its rules and a policy, built once per process.
#[derive(Debug)]
pub struct Engine {
    scanner: Scanner,
    /// Rules decided by code rather than the scanner (the seed's Dockerfile checks).
    checks: Vec<Rule>,
    policy: Policy,
    cap: Size,
}

/// An item's content, as [`Engine::process`] takes it.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// Larger than the cap (its size): not read.
    TooLarge(u64),
    /// The bytes; with `windows`, a new version looked at only there (see
    /// [`crate::scan::Scanner::examine`]).
    Bytes {
        /// The content.
        data: &'a [u8],
        /// The parts to scan, and whether the base may hold a multi-line rule's keyword.
        windows: Option<(&'a [Range<usize>], bool)>,
    },
}

/// One item after [`Engine::process`].
#[derive(Debug)]
pub struct Processed {
    /// The item's index in its source.
    pub index: usize,
    /// What is settled already: a forbidden file, a file not scanned.
    pub findings: Vec<Finding>,
    /// The scan, when the content was scanned (not over the cap).
    pub scan: Option<BlobScan>,
    /// The content, kept when a check reads it again (a Dockerfile, with its
    /// `.dockerignore`): nothing else holds a blob after its scan.
    pub data: Option<Vec<u8>>,
    /// What the Dockerfile checks found, when the item is a Dockerfile; `true` when the
    /// `.dockerignore` beside it decides the rest (see [`crate::rules::dockerfile`]).
    pub dockerfile: Option<(Vec<dockerfile::Finding>, bool)>,
}

impl Processed {
    /// Whether the scan found anything for the policy to judge.
    pub fn has_candidates(&self) -> bool {
        self.scan.as_ref().is_some_and(|s| !s.candidates.is_empty()) || self.dockerfile.is_some()
    }

    /// Whether the settling step needs the content again (see [`Processed::data`]).
    pub fn needs_data(&self) -> bool {
        self.dockerfile.is_some()
    }

    /// Whether there is anything to report or judge (a clean, scanned text blob has not).
    pub fn matters(&self) -> bool {
        !self.findings.is_empty()
            || self
                .scan
                .as_ref()
                .is_some_and(|s| s.binary || !s.candidates.is_empty())
    }
}

impl Engine {
    /// An engine over a team's rules `custom` and the built-in catalog `builtin` (see
    /// [`Scanner::catalog`]), under `policy`, reading nothing larger than `cap`. Rules decided
    /// by code (a `check`) are kept apart from the scanner.
    pub fn new(
        custom: Vec<Rule>,
        builtin: &'static [StaticRule],
        policy: Policy,
        cap: Size,
    ) -> Self {
        let checks = builtin
            .iter()
            .filter(|r| r.check.is_some())
            .map(StaticRule::to_rule)
            .collect();
        Engine {
            checks,
            scanner: Scanner::catalog(custom, builtin),
            policy,
            cap,
        }
    }

    /// The scanner (for tests and benchmarks).
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The step every item goes through: the forbidden-file rules, then — unless the content
    /// is over the cap — the scan. Content on an allowed path is scanned too: what the
    /// exception allows is reported as allowed, never dropped unseen.
    pub fn process(
        &self,
        index: usize,
        item: &Item,
        content: Content<'_>,
    ) -> Result<Processed, Error> {
        let mut findings = Vec::new();
        let data = match content {
            Content::TooLarge(_) => None,
            Content::Bytes { data, .. } => Some(data),
        };
        findings.extend(self.policy.forbidden(item, data)?);
        let scan = match content {
            Content::TooLarge(size) => {
                findings.push(self.policy.not_scanned(&item.path, size, self.cap));
                None
            }
            Content::Bytes { data, windows } => {
                let reading = crate::scan::Reading::of(data);
                Some(self.scanner.examine(&item.path, data, windows, reading)?)
            }
        };
        let dockerfile = match data {
            Some(data) if !self.checks.is_empty() && dockerfile::is_dockerfile(&item.path) => {
                let found = dockerfile::check(&item.path, data, None);
                let whole_context = found.iter().any(|f| f.rule == dockerfile::WHOLE_CONTEXT);
                (!found.is_empty()).then_some((found, whole_context))
            }
            _ => None,
        };
        Ok(Processed {
            index,
            findings,
            scan,
            data: None,
            dockerfile,
        })
    }

    /// Takes every item of `source` through [`Engine::process`] and the policy. Where the
    /// source's blobs are loose objects (what `git add` writes), every core reads, inflates
    /// and scans its own; the rest are read on this thread and scanned on the others. Commits
    /// of fewer than [`PARALLEL_FROM`] blobs start no thread.
    pub fn run(&self, source: &mut dyn Source) -> Result<Outcome, Error> {
        let stage = source.stage();
        let (items, reader) = source.split();
        let mut done = Vec::new();
        let rest: Vec<usize> = match reader.loose() {
            Some(loose) => self.run_loose(items, &loose, &mut done)?,
            None => (0..items.len()).collect(),
        };
        let mut unreadable = Vec::new();
        self.run_read(items, reader, &rest, &mut done, &mut unreadable)?;
        let mut outcome = self.settle(stage, items, reader, done, 0)?;
        outcome.unreadable = source.unlisted();
        outcome.unreadable.append(&mut unreadable);
        Ok(outcome)
    }

    /// Reads and scans the loose blobs of `items` on every core; returns the items that are
    /// not loose objects here.
    fn run_loose(
        &self,
        items: &[Item],
        loose: &Loose,
        done: &mut Vec<Processed>,
    ) -> Result<Vec<usize>, Error> {
        enum Out {
            Processed(Processed),
            NotLoose(usize),
        }
        let cap = self.cap.0;
        let budget = pool::Budget::new(HELD_AT_ONCE);
        let work = |(scratch, buf): &mut (Scratch, Vec<u8>),
                    index: usize,
                    emit: &mut dyn FnMut(Out)|
         -> Result<(), Error> {
            let item = &items[index];
            let model::Content::Blob(id) = item.content else {
                emit(Out::NotLoose(index));
                return Ok(());
            };
            let failed =
                |e| SourceError::from(GitError::read(crate::redact::escape(&item.path), e));
            match loose.open(id, scratch).map_err(failed)? {
                None => emit(Out::NotLoose(index)),
                Some(size) if size > cap => emit(Out::Processed(self.process(
                    index,
                    item,
                    Content::TooLarge(size),
                )?)),
                Some(size) if size > large::STREAM_FROM => {
                    let _held = budget.hold(large::WINDOW as u64);
                    let mut stream = loose.stream(scratch).map_err(failed)?;
                    emit(Out::Processed(self.process_stream(
                        index,
                        item,
                        &mut stream,
                        size,
                    )?));
                }
                Some(size) => {
                    let _held = budget.hold(size);
                    loose.inflate(buf, scratch).map_err(failed)?;
                    let content = Content::Bytes {
                        data: buf,
                        windows: None,
                    };
                    let mut p = self.process(index, item, content)?;
                    if p.needs_data() {
                        p.data = Some(buf.clone());
                    }
                    emit(Out::Processed(p));
                    if buf.capacity() > KEEP_BUFFER {
                        *buf = Vec::new();
                    }
                    scratch.shrink(KEEP_BUFFER);
                }
            }
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
            Default::default,
            &work,
            |feeder| {
                for index in 0..items.len() {
                    if !feeder.push(index)? {
                        break;
                    }
                }
                Ok(())
            },
            |event| match event {
                Event::Output(Out::Processed(p)) => done.push(p),
                Event::Output(Out::NotLoose(index)) => rest.push(index),
                Event::Tick => {}
            },
        )?;
        rest.sort_unstable();
        Ok(rest)
    }

    /// Reads the items `indexes` through `reader` on this thread and scans them on the
    /// others (one per core but this one, up to four: reading and scanning cost about the
    /// same, so the two overlap).
    fn run_read(
        &self,
        items: &[Item],
        reader: &mut dyn BlobRead,
        indexes: &[usize],
        done: &mut Vec<Processed>,
        unreadable: &mut Vec<Unreadable>,
    ) -> Result<(), Error> {
        if indexes.is_empty() {
            return Ok(());
        }
        let threads = if indexes.len() < PARALLEL_FROM {
            1
        } else {
            pool::cores().saturating_sub(1).clamp(1, 4)
        };
        let cap = self.cap.0;
        let budget = pool::Budget::new(HELD_AT_ONCE);
        let work = |_: &mut (),
                    (index, read, _held): (usize, Read, pool::Hold<'_>),
                    emit: &mut dyn FnMut(Processed)|
         -> Result<(), Error> {
            let item = &items[index];
            let processed = match read {
                Read::Streamed(p) => *p,
                Read::TooLarge(size) => self.process(index, item, Content::TooLarge(size))?,
                Read::Bytes(data) => {
                    let content = Content::Bytes {
                        data: &data,
                        windows: None,
                    };
                    let mut p = self.process(index, item, content)?;
                    if p.needs_data() {
                        p.data = Some(data);
                    }
                    p
                }
            };
            emit(processed);
            Ok(())
        };
        pool::run(
            threads,
            || (),
            &work,
            |feeder| {
                let mut buf = Vec::new();
                for &index in indexes {
                    // Too large to hold: scanned here, window by window, as it is read.
                    let streamed = match reader.stream(&items[index], large::STREAM_FROM, cap) {
                        Ok(Some((mut stream, size))) => {
                            let _held = budget.hold(large::WINDOW as u64);
                            Some(self.process_stream(index, &items[index], &mut stream, size))
                        }
                        Ok(None) => None,
                        Err(e) => Some(Err(e.into())),
                    };
                    let read = match streamed {
                        Some(Ok(p)) => Read::Streamed(Box::new(p)),
                        Some(Err(Error::Source(SourceError::Unreadable { path, source }))) => {
                            let error = source;
                            unreadable.push(Unreadable { path, error });
                            continue;
                        }
                        Some(Err(e)) => return Err(e),
                        None => match read_item(reader, &items[index], &mut buf, cap) {
                            Ok(ReadBlob::TooLarge(size)) => Read::TooLarge(size),
                            Ok(ReadBlob::Read) => Read::Bytes(std::mem::take(&mut buf)),
                            // A file on disk that cannot be read: said at the end, not scanned.
                            Err(SourceError::Unreadable { path, source }) => {
                                let error = source;
                                unreadable.push(Unreadable { path, error });
                                continue;
                            }
                            Err(e) => return Err(e.into()),
                        },
                    };
                    let held = budget.hold(match &read {
                        Read::Bytes(data) => data.len() as u64,
                        Read::TooLarge(_) | Read::Streamed(_) => 0,
                    });
                    if !feeder.push((index, read, held))? {
                        break;
                    }
                }
                Ok(())
            },
            |event| {
                if let Event::Output(p) = event {
                    done.push(p);
                }
            },
        )
    }

    /// The policy stage for a whole source: each item's candidates judged with the version it
    /// replaces (read here, only for items with candidates), then settled together. `clean`
    /// counts the items scanned clean that are not in `done`.
    fn settle(
        &self,
        stage: Stage,
        items: &[Item],
        reader: &mut dyn BlobRead,
        mut done: Vec<Processed>,
        clean: usize,
    ) -> Result<Outcome, Error> {
        done.sort_by_key(|p| p.index);
        let mut out = Outcome {
            scanned: clean,
            ..Outcome::default()
        };
        let mut found = Vec::new();
        let mut old = Vec::new();
        for p in done {
            let item = &items[p.index];
            found.extend(p.findings.into_iter().map(|f| (p.index, f)));
            if let (Some(docker), Some(data)) = (p.dockerfile, p.data.as_deref()) {
                let judged = self.dockerfile(item, data, docker, reader)?;
                found.extend(judged.into_iter().map(|f| (p.index, f)));
            }
            let Some(scan) = p.scan else { continue };
            out.scanned += 1;
            if scan.binary {
                out.binary.push(item.path.clone());
            }
            if scan.candidates.is_empty() {
                continue;
            }
            let mut had = reader.previous(p.index, item, &mut old, self.cap.0)?;
            // The same content at another path before (the base of a range): in history
            // already, unless only where the policy allows it.
            let elsewhere = reader.elsewhere(p.index);
            if elsewhere.iter().any(|path| !self.policy.allows_path(path)) {
                for c in &scan.candidates {
                    old.push(b'\n');
                    old.extend_from_slice(&c.evidence);
                }
                had = true;
            }
            let judged = self.policy.judge(
                item,
                scan.candidates,
                had.then_some(old.as_slice()),
                |rule| self.scanner.rule(rule),
            );
            found.extend(judged.into_iter().map(|f| (p.index, f)));
        }
        out.findings = self.policy.settle(stage, items, found);
        Ok(out)
    }
}

impl Engine {
    /// The seed's Dockerfile checks for `item` (`data`): what they found, with the
    /// `.dockerignore` of its build context read through `reader` when it decides
    /// (`COPY . .`); where the source cannot tell whether there is one, that warning is left
    /// out rather than guessed.
    fn dockerfile(
        &self,
        item: &Item,
        data: &[u8],
        (mut found, whole_context): (Vec<dockerfile::Finding>, bool),
        reader: &mut dyn BlobRead,
    ) -> Result<Vec<Finding>, Error> {
        if whole_context {
            let mut known = false;
            for candidate in dockerfile::ignore_files(&item.path) {
                match reader.sibling(&candidate, self.cap.0)? {
                    Sibling::Found(ignore) => {
                        found = dockerfile::check(&item.path, data, Some(&ignore));
                        known = true;
                        break;
                    }
                    Sibling::Absent => known = true,
                    Sibling::Unknown => {}
                }
            }
            if !known {
                found.retain(|f| f.rule != dockerfile::WHOLE_CONTEXT);
            }
        }
        let candidates: Vec<Candidate> = found
            .into_iter()
            .filter_map(|f| {
                let rule = self.checks.iter().position(|r| r.id == f.rule)?;
                let (line, column) = crate::scan::line_and_column(data, f.span.start);
                let what = &data[f.span.clone()];
                Some(Candidate {
                    rule,
                    custom: false,
                    line,
                    column,
                    inline_allowed: false,
                    fingerprint: crate::redact::fingerprint(&self.checks[rule].id, what),
                    identity: crate::redact::identity(&self.checks[rule].id, what),
                    preview: crate::redact::escape(what),
                    evidence: what.to_vec(),
                    span: f.span,
                })
            })
            .collect();
        Ok(self
            .policy
            .judge(item, candidates, None, |rule| &self.checks[rule]))
    }
}

/// Reads `item` through `reader`, unless the item holds its bytes itself (a message).
fn read_item(
    reader: &mut dyn BlobRead,
    item: &Item,
    buf: &mut Vec<u8>,
    cap: u64,
) -> Result<ReadBlob, SourceError> {
    match &item.content {
        model::Content::Text(text) => {
            buf.clear();
            buf.extend_from_slice(text);
            Ok(ReadBlob::Read)
        }
        _ => reader.read(item, buf, cap),
    }
}

/// A blob as the reading thread hands it to a worker.
enum Read {
    TooLarge(u64),
    Bytes(Vec<u8>),
    /// Scanned already, as it was read (see [`large`]).
    Streamed(Box<Processed>),
}
