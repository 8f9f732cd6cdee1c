//! The pipeline in one place: source → scanner → policy → [`Outcome`].

use crate::git::{Blob, Staged};
use crate::policy::{FileMatcher, Finding, Kind, Policy};
use crate::rules::{LoadError, RuleSet};
use crate::scan::{is_binary, ScanError, Scanner};
use crate::source;
use std::path::PathBuf;

/// Errors that stop a scan; the hook turns every one of them into a blocked commit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file is broken.
    #[error(transparent)]
    Rules(#[from] LoadError),
    /// The scanner could not be built or run.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// A forbidden-file pattern does not compile.
    #[error("forbidden-file rule: {0}")]
    FileRule(String),
    /// The repository or a blob could not be read.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// A path on disk could not be read.
    #[error(transparent)]
    Path(#[from] source::PathError),
}

/// What to scan with.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// What blocks.
    pub policy: Policy,
    /// Blobs larger than this are reported as not scanned.
    pub max_file_size: u64,
}

/// The default size cap: generous enough for any source or config file.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            policy: Policy::default(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Problems found, in scan order.
    pub findings: Vec<Finding>,
    /// Binary files (escaped paths): checked only with the rules marked `binary`.
    pub binary: Vec<String>,
    /// How many files or blobs were scanned.
    pub scanned: usize,
}

impl Outcome {
    /// Whether any finding blocks.
    pub fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.blocking)
    }
}

/// A scanner with its rules and policy, built once per process.
#[derive(Debug)]
pub struct Engine {
    scanner: Scanner,
    files: FileMatcher,
    settings: Settings,
}

impl Engine {
    /// Builds the engine over the built-in rules.
    pub fn new(settings: Settings) -> Result<Self, Error> {
        let rules = RuleSet::builtin()?;
        Ok(Engine {
            scanner: Scanner::new(rules.rules)?,
            files: FileMatcher::new(rules.files),
            settings,
        })
    }

    /// The scanner (for tests and benchmarks).
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Scans what the commit will record.
    pub fn scan_staged(&self) -> Result<Outcome, Error> {
        let mut staged = Staged::open()?;
        let changes = std::mem::take(&mut staged.changes);
        let mut out = Outcome::default();
        let (mut buf, mut old) = (Vec::new(), Vec::new());
        let cap = self.settings.max_file_size;
        for change in &changes {
            if let Blob::TooLarge(size) = staged.read(change, change.id, &mut buf, cap)? {
                if !change.symlink {
                    self.forbidden(&change.path, None, &mut out)?;
                }
                out.findings
                    .push(self.settings.policy.not_scanned(&change.path, size, cap));
                continue;
            }
            // A symlink's blob is a target path: it carries no secret, whatever its name.
            if !change.symlink {
                self.forbidden(&change.path, Some(&buf), &mut out)?;
            }
            // HEAD's version is read only when the new one has a finding.
            let previous = |old: &mut Vec<u8>| -> Result<bool, Error> {
                Ok(match change.previous {
                    Some(id) => staged.read(change, id, old, cap)? == Blob::Read,
                    None => false,
                })
            };
            self.blob(&change.path, &buf, &mut old, previous, &mut out)?;
        }
        Ok(out)
    }

    /// Scans files and directories on disk.
    pub fn scan_paths(&self, roots: &[PathBuf]) -> Result<Outcome, Error> {
        let mut out = Outcome::default();
        let mut buf = Vec::new();
        let cap = self.settings.max_file_size;
        for (path, len) in source::files(roots)? {
            let shown = source::display(&path);
            if len > cap {
                self.forbidden(shown, None, &mut out)?;
                out.findings
                    .push(self.settings.policy.not_scanned(shown, len, cap));
                continue;
            }
            source::read(&path, &mut buf)?;
            self.forbidden(shown, Some(&buf), &mut out)?;
            self.blob(shown, &buf, &mut Vec::new(), |_| Ok(false), &mut out)?;
        }
        Ok(out)
    }

    /// Checks the forbidden-file rules; `content` is `None` when the file was too large to read
    /// (rules that depend on content are then skipped).
    fn forbidden(
        &self,
        path: &[u8],
        content: Option<&[u8]>,
        out: &mut Outcome,
    ) -> Result<(), Error> {
        let rule = self
            .files
            .matching(path, content)
            .map_err(|e| Error::FileRule(e.to_string()))?;
        if let Some(rule) = rule {
            out.findings.push(FileMatcher::finding(rule, path));
        }
        Ok(())
    }

    /// Scans one blob. `previous` fills the buffer with the old version and says whether
    /// there is one; it is called only when the blob has a match.
    fn blob(
        &self,
        path: &[u8],
        data: &[u8],
        old: &mut Vec<u8>,
        mut previous: impl FnMut(&mut Vec<u8>) -> Result<bool, Error>,
        out: &mut Outcome,
    ) -> Result<(), Error> {
        out.scanned += 1;
        let binary = is_binary(data);
        if binary {
            out.binary.push(crate::redact::escape(path));
        }
        let matches = self.scanner.scan_file(path, data, binary)?;
        // Encoded secrets (Kubernetes `Secret` data), scanned decoded and reported where the
        // encoded value sits.
        let mut decoded = Vec::new();
        if !binary {
            for d in crate::decode::kubernetes_secret_values(data) {
                let found = self.scanner.scan_file(path, &d.text, false)?;
                if !found.is_empty() {
                    decoded.push((d, found));
                }
            }
        }
        if matches.is_empty() && decoded.is_empty() {
            return Ok(());
        }
        let old = previous(old)?.then_some(old.as_slice());
        let policy = self.settings.policy;
        out.findings.extend(
            matches
                .iter()
                .filter_map(|m| policy.secret(self.scanner.rule(m.rule), m, data, path, old)),
        );
        for (d, found) in decoded {
            let (line, column) = line_and_column(data, d.encoded.start);
            let encoded = &data[d.encoded.clone()];
            let pre_existing = old.is_some_and(|o| memchr::memmem::find(o, encoded).is_some());
            for m in &found {
                let Some(mut f) = policy.secret(self.scanner.rule(m.rule), m, &d.text, path, None)
                else {
                    continue;
                };
                f.line = Some(line);
                f.column = Some(column);
                f.pre_existing = pre_existing;
                f.blocking = !pre_existing || policy.strict;
                out.findings.push(f);
            }
        }
        Ok(())
    }
}

/// 1-based line and character column of byte `at`.
fn line_and_column(data: &[u8], at: usize) -> (usize, usize) {
    let before = &data[..at];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    (line, column)
}

/// Counts of findings by how they weigh.
pub fn counts(outcome: &Outcome) -> (usize, usize, usize) {
    let blocking = outcome.findings.iter().filter(|f| f.blocking).count();
    let history = outcome
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Secret && f.pre_existing && !f.blocking)
        .count();
    (
        blocking,
        history,
        outcome.findings.len() - blocking - history,
    )
}
