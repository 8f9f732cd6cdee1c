//! The pipeline. Every item of a [`Source`] goes through one step, [`Engine::process`]:
//! forbidden-file rules, then the scan. [`Engine::run`] is the one run of every scan: the
//! source says how its items reach the workers ([`crate::source::feed`]) — read by every core
//! on its own ([`workers`]), built along delta chains ([`history`]), or read in order on this
//! thread while the other cores scan ([`sequential`]) — and the engine takes each that way,
//! knowing nothing of where the bytes come from. What the scan found is then judged by the
//! policy with the version the item replaces (read on this thread, only for items with
//! candidates), and the policy settles the whole ([`crate::policy::Policy::settle`]).

pub(crate) mod history;
pub(crate) mod large;
pub(crate) mod pool;
mod sequential;
#[cfg(test)]
mod tests;
mod workers;

use crate::model::Candidate;
use crate::model::{self, Finding, Item, Outcome, ReadBlob, Size};
use crate::policy::{Policy, PolicyError};
use crate::rules::dockerfile;
use crate::rules::{Rule, StaticRule};
use crate::scan::{BlobScan, ScanError, Scanner};
use crate::source::feed::Feed;
use crate::source::{BlobRead, Parts, Sibling, Source, SourceError, Standing};
use std::collections::HashMap;
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
pub(crate) struct Engine {
    scanner: Scanner,
    /// Rules decided by code rather than the scanner (the seed's Dockerfile checks).
    checks: Vec<Rule>,
    policy: Policy,
    cap: Size,
}

/// An item's bytes as [`Engine::process`] takes them (its body; where they are is the item's
/// [`model::Content`]), or only its size when it is over the cap.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Body<'a> {
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
pub(crate) struct Processed {
    /// The item's index in its source.
    pub(crate) index: usize,
    /// What is settled already: a forbidden file, a file not scanned.
    pub(crate) findings: Vec<Finding>,
    /// The scan, when the content was scanned (not over the cap).
    pub(crate) scan: Option<BlobScan>,
    /// The content, kept when a check reads it again (a Dockerfile, with its
    /// `.dockerignore`): nothing else holds a blob after its scan.
    pub(crate) data: Option<Vec<u8>>,
    /// What the Dockerfile checks found, when the item is a Dockerfile; `true` when the
    /// `.dockerignore` beside it decides the rest (see [`crate::rules::dockerfile`]).
    pub(crate) dockerfile: Option<(Vec<dockerfile::Finding>, bool)>,
}

impl Processed {
    /// Whether the settling step needs the content again (see [`Processed::data`]).
    pub(crate) fn needs_data(&self) -> bool {
        self.dockerfile.is_some()
    }

    /// Whether there is anything to report or judge (a clean, scanned text blob has not).
    pub(crate) fn matters(&self) -> bool {
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
    pub(crate) fn new(
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
    pub(crate) fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// The policy.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The step every item goes through: the forbidden-file rules, then — unless the content
    /// is over the cap — the scan. Content on an allowed path is scanned too: what the
    /// exception allows is reported as allowed, never dropped unseen.
    pub(crate) fn process(
        &self,
        index: usize,
        item: &Item,
        content: Body<'_>,
    ) -> Result<Processed, Error> {
        let mut findings = Vec::new();
        let data = match content {
            Body::TooLarge(_) => None,
            Body::Bytes { data, .. } => Some(data),
        };
        findings.extend(self.policy.forbidden(item, data)?);
        let scan = match content {
            Body::TooLarge(size) => {
                findings.push(self.policy.not_scanned(&item.path, size, self.cap));
                None
            }
            Body::Bytes { data, windows } => {
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

    /// Takes every item of `source` through [`Engine::process`] and the policy, as the
    /// source feeds them (see the module docs), telling `progress` how many items are done
    /// and how many bytes were scanned as it goes. A blob at several paths is read and
    /// scanned once, then judged at each. Sources of fewer than [`PARALLEL_FROM`] items
    /// start no thread.
    pub(crate) fn run(
        &self,
        source: &mut dyn Source,
        progress: &mut Progress<'_>,
    ) -> Result<Outcome, Error> {
        let standing = source.standing();
        let mut unreadable = source.unlisted();
        let Parts {
            items,
            reader,
            feed,
        } = source.parts();
        let group = Group::of(items);
        let mut done = Vec::new();
        let mut total = (0usize, 0u64);
        let mut progress = |n: usize, bytes: u64| {
            total = (total.0 + n, total.1 + bytes);
            progress(total.0, total.1);
        };
        let (rest, mut clean) = match feed {
            Feed::Workers(parallel) => (self.run_workers(&group, parallel, &mut done)?, 0),
            Feed::Chains(chains) => self.walk_chains(chains, &group, &mut done, &mut progress)?,
            Feed::Sequential => ((0..items.len()).collect(), 0),
        };
        // Text the source holds (messages) is scanned in batches; the rest is read here.
        let (texts, rest): (Vec<usize>, Vec<usize>) = rest
            .into_iter()
            .filter(|&i| !group.is_other(i))
            .partition(|&i| matches!(items[i].content, model::Content::Text(_)));
        clean += self.texts(&group, &texts, &mut done, &mut progress)?;
        let read =
            self.run_sequential(&group, reader, &rest, standing, &mut done, &mut progress)?;
        unreadable.extend(read);
        let mut outcome = self.settle(standing, items, reader, done, clean)?;
        outcome.unreadable = unreadable;
        Ok(outcome)
    }

    /// The policy stage for a whole source: each item's candidates judged with the version it
    /// replaces (read here, only for items with candidates), then settled together. `clean`
    /// counts the items scanned clean that are not in `done`.
    fn settle(
        &self,
        standing: Standing,
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
        out.findings = self.policy.settle(standing, items, found);
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

/// Told how many items are done and how many bytes were scanned so far.
pub(crate) type Progress<'a> = dyn FnMut(usize, u64) + 'a;

/// The items of a source, and which of them share a blob with an earlier one (read and
/// scanned with that one, judged at their own paths).
struct Group<'a> {
    items: &'a [Item],
    /// By the first item of a blob, the later items with the same blob.
    others: HashMap<usize, Vec<usize>>,
    is_other: Vec<bool>,
}

impl<'a> Group<'a> {
    fn of(items: &'a [Item]) -> Self {
        let mut first: HashMap<&model::Content, usize> = HashMap::new();
        let mut others: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut is_other = vec![false; items.len()];
        for (index, item) in items.iter().enumerate() {
            // Blobs only: a file on disk or a text is read where it is.
            if !matches!(item.content, model::Content::Blob(_)) {
                continue;
            }
            match first.entry(&item.content) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(index);
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    others.entry(*o.get()).or_default().push(index);
                    is_other[index] = true;
                }
            }
        }
        Group {
            items,
            others,
            is_other,
        }
    }

    fn is_other(&self, index: usize) -> bool {
        self.is_other[index]
    }

    /// The later items with item `first`'s blob.
    fn others(&self, first: usize) -> &[usize] {
        self.others.get(&first).map_or(&[], Vec::as_slice)
    }

    /// The items after `first` with its blob (`data`), each processed at its own path (the
    /// whole blob: a delta's windows are its first path's business).
    fn others_of(
        &self,
        engine: &Engine,
        first: usize,
        data: &[u8],
    ) -> Result<Vec<Processed>, Error> {
        self.others(first)
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

/// A blob as the reading thread hands it to a worker.
enum Read {
    TooLarge(u64),
    Bytes(Vec<u8>),
    /// Scanned already, as it was read (see [`large`]).
    Streamed(Box<Processed>),
}
