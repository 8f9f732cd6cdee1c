//! The pipeline in one place: source → scanner → policy → [`Outcome`].

use crate::config::{Config, Resolved};
use crate::git::{Blob, Staged};
use crate::policy::{FileMatcher, Finding, Kind, Policy};
use crate::rules::{FileRule, LoadError, Rule, RuleSet};
use crate::scan::{is_binary, ScanError, Scanner};
use crate::source;
use std::collections::HashSet;
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
    /// History could not be read.
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    /// A pack file could not be read.
    #[error(transparent)]
    Pack(#[from] crate::packs::PackError),
    /// `.keyward.toml` or a `keyward.*` git config value is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
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
    /// Rules decided by code rather than the scanner (the seed's Dockerfile checks).
    checks: Vec<Rule>,
    files: FileMatcher,
    settings: Settings,
    config: Option<Config>,
}

impl Engine {
    /// Builds the engine over the built-in rules.
    pub fn new(settings: Settings) -> Result<Self, Error> {
        Self::with_config(settings, None)
    }

    /// Builds the engine over the built-in rules and a repository's `.keyward.toml`: rules it
    /// turns off are dropped, its own rules come first (a team's rule names its own secrets
    /// best), and its exceptions and extra forbidden files apply.
    pub fn with_config(settings: Settings, config: Option<Config>) -> Result<Self, Error> {
        let mut rules = RuleSet::builtin()?;
        if let Some(c) = &config {
            let off = &c.file.allow.rules;
            let mut custom: Vec<Rule> = c.file.rule.clone();
            for rule in &mut custom {
                rule.keywords = rule
                    .keywords
                    .iter()
                    .map(|k| k.to_ascii_lowercase())
                    .collect();
            }
            custom.append(&mut rules.rules);
            custom.retain(|r| !off.contains(&r.id));
            rules.rules = custom;
            rules.files.retain(|r| !off.contains(&r.id));
        }
        let checks = rules
            .rules
            .iter()
            .filter(|r| r.check.is_some())
            .cloned()
            .collect();
        rules.rules.retain(|r| r.check.is_none());
        Ok(Engine {
            checks,
            scanner: Scanner::new(rules.rules)?,
            files: FileMatcher::new(rules.files),
            settings,
            config,
        })
    }

    /// Opens the repository the way git set it up for the hook, reads its policy
    /// (`.keyward.toml`, `keyward.*` git config) and builds the engine under it.
    pub fn for_staged(options: &crate::cli::Options) -> Result<(Self, Resolved, Staged), Error> {
        let staged = Staged::open()?;
        let config = match staged.root() {
            Some(root) => Config::load(&root)?,
            None => None,
        };
        let resolved = crate::config::resolve(options, config.as_ref(), &staged.keyward_config())?;
        let engine = Self::with_config(resolved.settings, config)?;
        Ok((engine, resolved, staged))
    }

    /// The engine for `scan PATH…`: the policy of the repository around the current
    /// directory, if any, else a `.keyward.toml` in the current directory.
    pub fn for_paths(options: &crate::cli::Options) -> Result<(Self, Resolved), Error> {
        let (root, git) = crate::git::discover().unwrap_or((None, Vec::new()));
        let root = root.unwrap_or_else(|| std::path::PathBuf::from("."));
        let config = Config::load(&root)?;
        let resolved = crate::config::resolve(options, config.as_ref(), &git)?;
        let engine = Self::with_config(resolved.settings, config)?;
        Ok((engine, resolved))
    }

    /// Whether the policy skips the content of `path` (`allow.paths`).
    fn content_allowed(&self, path: &[u8]) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.allow_paths.is_match(bytes_path(path).as_ref()))
    }

    /// The repository's policy file, if it has one.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The scanner (for tests and benchmarks).
    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Scans what the commit will record. Large commits are scanned on worker threads (one per
    /// core but this one, up to four) while this one reads (and inflates) the next blobs:
    /// reading and scanning cost about the same, so the two overlap.
    pub fn scan_staged(&self) -> Result<Outcome, Error> {
        self.scan_index(Staged::open()?)
    }

    /// [`Engine::scan_staged`] over a repository already opened (to read its policy first).
    pub fn scan_index(&self, mut staged: Staged) -> Result<Outcome, Error> {
        let changes = std::mem::take(&mut staged.changes);
        if changes.len() < PARALLEL_FROM {
            return self.scan_changes(&mut staged, &changes, |data, path| {
                self.scan_blob(path, data)
            });
        }
        let (to_worker, inbox) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(32);
        let inbox = std::sync::Mutex::new(inbox);
        let (to_main, results) = std::sync::mpsc::channel();
        let paths: Vec<&[u8]> = changes.iter().map(|c| c.path.as_slice()).collect();
        std::thread::scope(|scope| {
            // This thread keeps a core for reading; the others scan.
            let scanners = std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).clamp(1, 4));
            let workers: Vec<_> = (0..scanners)
                .map(|_| {
                    let (inbox, paths, to_main) = (&inbox, &paths, to_main.clone());
                    scope.spawn(move || -> Result<(), Error> {
                        loop {
                            // A poisoned lock means another worker panicked: stop too.
                            let next = match inbox.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => return Err(Error::Scan(ScanError::Worker)),
                            };
                            let Ok((index, data)) = next else { break };
                            let scan = self.scan_blob(paths[index], &data)?;
                            // The bytes go back only when the policy needs them (a match).
                            let keep = scan.has_matches().then_some(data);
                            if to_main.send((index, scan, keep)).is_err() {
                                break;
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            drop(to_main);
            let mut out = Outcome::default();
            let mut pending = 0usize;
            let mut buf = Vec::new();
            let cap = self.settings.max_file_size;
            let mut ordered: Vec<(usize, Finding)> = Vec::new();
            let sent: Result<(), Error> = (|| {
                for (index, change) in changes.iter().enumerate() {
                    let mut one = Outcome::default();
                    if let Blob::TooLarge(size) = staged.read(change, change.id, &mut buf, cap)? {
                        if !change.symlink {
                            self.forbidden(&change.path, None, &mut one)?;
                        }
                        one.findings.push(self.settings.policy.not_scanned(
                            &change.path,
                            size,
                            cap,
                        ));
                    } else {
                        if !change.symlink {
                            self.forbidden(&change.path, Some(&buf), &mut one)?;
                            self.dockerfile_warnings(
                                &change.path,
                                &buf,
                                |p| Ok(staged.index_blob(p, cap)?),
                                &mut one,
                            )?;
                        }
                        if self.content_allowed(&change.path) {
                            ordered.extend(one.findings.into_iter().map(|f| (index, f)));
                            continue;
                        }
                        pending += 1;
                        if to_worker.send((index, std::mem::take(&mut buf))).is_err() {
                            break; // the worker stopped on an error, reported below
                        }
                    }
                    ordered.extend(one.findings.into_iter().map(|f| (index, f)));
                }
                Ok(())
            })();
            drop(to_worker);
            let worked: Result<(), Error> = workers
                .into_iter()
                .try_for_each(|w| w.join().unwrap_or(Err(Error::Scan(ScanError::Worker))));
            sent?;
            worked?;
            let mut old = Vec::new();
            let mut scans: Vec<(usize, BlobScan, Option<Vec<u8>>)> = results.iter().collect();
            debug_assert!(scans.len() <= pending);
            out.scanned = pending;
            scans.sort_by_key(|(index, _, _)| *index);
            for (index, scan, data) in scans {
                let change = &changes[index];
                if scan.binary {
                    out.binary.push(crate::redact::escape(&change.path));
                }
                let Some(data) = data else { continue };
                let mut one = Outcome::default();
                let has_old = previous_versions(&mut staged, change, &mut old, cap)?;
                self.findings(
                    &change.path,
                    &data,
                    scan,
                    has_old.then_some(old.as_slice()),
                    &mut one,
                );
                ordered.extend(one.findings.into_iter().map(|f| (index, f)));
            }
            ordered.sort_by_key(|(index, _)| *index);
            out.findings = ordered.into_iter().map(|(_, f)| f).collect();
            Ok(out)
        })
    }

    /// The sequential scan of staged changes, for small commits.
    fn scan_changes(
        &self,
        staged: &mut Staged,
        changes: &[crate::git::Change],
        scan: impl Fn(&[u8], &[u8]) -> Result<BlobScan, Error>,
    ) -> Result<Outcome, Error> {
        let mut out = Outcome::default();
        let (mut buf, mut old) = (Vec::new(), Vec::new());
        let cap = self.settings.max_file_size;
        for change in changes {
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
                self.dockerfile_warnings(
                    &change.path,
                    &buf,
                    |p| Ok(staged.index_blob(p, cap)?),
                    &mut out,
                )?;
            }
            if self.content_allowed(&change.path) {
                continue;
            }
            out.scanned += 1;
            let result = scan(&buf, &change.path)?;
            if result.binary {
                out.binary.push(crate::redact::escape(&change.path));
            }
            if !result.has_matches() {
                continue;
            }
            // HEAD's version is read only when the new one has a finding.
            let has_old = previous_versions(staged, change, &mut old, cap)?;
            self.findings(
                &change.path,
                &buf,
                result,
                has_old.then_some(old.as_slice()),
                &mut out,
            );
        }
        Ok(out)
    }

    /// Scans the blobs a range, a push or the whole history introduced (see
    /// [`crate::history`]). The blobs `packs` can build are built along their delta chains and
    /// scanned where they differ from their base (see [`crate::packs`]); the others are read
    /// one by one with `read`. `progress` is told, after each blob, how many are done and how
    /// many bytes were scanned.
    pub fn scan_history(
        &self,
        packs: Option<&crate::packs::Plan>,
        read: &mut ReadBlob<'_>,
        items: &[crate::history::Introduced],
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<Outcome, Error> {
        let mut out = Outcome::default();
        let mut scans: Vec<(usize, BlobScan, Option<Vec<u8>>)> = Vec::new();
        let mut ordered: Vec<(usize, Finding)> = Vec::new();
        let (mut done, mut bytes) = (0, 0);
        let mut counted = |n: usize, b: u64| {
            done += n;
            bytes += b;
            progress(done, bytes);
        };
        let mut clean = 0;
        let one_by_one: Vec<usize> = match packs {
            Some(plan) => {
                let (mut left, scanned_clean) =
                    self.scan_packs(plan, items, &mut scans, &mut ordered, &mut counted)?;
                clean = scanned_clean;
                left.extend_from_slice(&plan.rest);
                left.sort_unstable();
                left
            }
            None => (0..items.len()).collect(),
        };
        self.scan_one_by_one(
            read,
            items,
            &one_by_one,
            &mut scans,
            &mut ordered,
            &mut counted,
        )?;
        out.scanned = scans.len() + clean;
        scans.sort_by_key(|(index, _, _)| *index);
        // The listed blobs, gathered only once a finding needs to know.
        let mut listed: Option<HashSet<gix::ObjectId>> = None;
        let mut already = HashSet::new();
        let cap = self.settings.max_file_size;
        for (index, scan, data) in scans {
            if scan.binary {
                out.binary.push(crate::redact::escape(&items[index].path));
            }
            let Some(data) = data else { continue };
            // The version this one replaced, when the selection does not list it (the base
            // of a range, what the server has before a push): a secret it holds already was
            // not introduced here, and is reported only under the strict policy.
            let mut old = Vec::new();
            let listed = listed.get_or_insert_with(|| items.iter().map(|i| i.blob).collect());
            let had = match items[index].base.filter(|b| !listed.contains(b)) {
                Some(b) => matches!(read(b, &mut old, cap)?, Blob::Read),
                None => false,
            };
            let mut one = Outcome::default();
            self.findings(
                &items[index].path,
                &data,
                scan,
                had.then_some(old.as_slice()),
                &mut one,
            );
            if had && !self.settings.policy.strict {
                for f in one.findings.iter().filter(|f| f.pre_existing) {
                    already.insert((f.rule_id.clone(), f.fingerprint.clone()));
                }
            }
            ordered.extend(one.findings.into_iter().map(|f| (index, f)));
        }
        // Nor is it introduced by the later versions that keep it.
        ordered.retain(|(_, f)| {
            f.fingerprint.is_none()
                || !already.contains(&(f.rule_id.clone(), f.fingerprint.clone()))
        });
        ordered.sort_by_key(|(index, _)| *index);
        // A secret that lives on through later versions of a file is one finding, reported
        // at the first commit that introduced it; so is a forbidden file at one path.
        let mut reported = HashSet::new();
        ordered.retain(|(_, f)| {
            reported.insert((
                f.rule_id.clone(),
                f.fingerprint.clone().unwrap_or_else(|| f.path.clone()),
            ))
        });
        out.findings = ordered
            .into_iter()
            .map(|(index, mut f)| {
                let item = &items[index];
                f.commit = Some(item.commit.to_string());
                f.author_date = Some(crate::history::date(item.author_time));
                // Committed already: the guidance is rotation first, then history rewriting.
                if f.kind == Kind::Secret {
                    f.pre_existing = true;
                    f.blocking = true;
                }
                f
            })
            .collect();
        Ok(out)
    }

    /// Builds and scans the blobs the packs hold, on every core (see [`crate::packs`]): a
    /// version whose base was scanned clean, at a path that scans the same way, is scanned on
    /// the lines the delta adds; one whose base had a match, or was not scanned, is scanned whole, so
    /// every version gets the findings a whole scan would give it. Returns the blobs left to
    /// the one-by-one reader (above the size cap).
    fn scan_packs(
        &self,
        plan: &crate::packs::Plan,
        items: &[crate::history::Introduced],
        scans: &mut Vec<(usize, BlobScan, Option<Vec<u8>>)>,
        ordered: &mut Vec<(usize, Finding)>,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<(Vec<usize>, usize), Error> {
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
        /// What a version's scan tells the versions built on it.
        enum Base {
            /// Not one of the wanted blobs, or at a path whose content is allowed.
            Unscanned,
            Scanned {
                profile: crate::scan::PathProfile,
                clean: bool,
                multiline: bool,
            },
        }
        let cap = self.settings.max_file_size;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8));
        let (to_main, results) = std::sync::mpsc::channel::<PackScan>();
        // Only what has something to report is sent; the rest is counted (thousands of
        // wake-ups of this thread would cost more than the scans).
        let (done, bytes, clean) = (AtomicUsize::new(0), AtomicU64::new(0), AtomicUsize::new(0));
        let (done, bytes, clean) = (&done, &bytes, &clean);
        std::thread::scope(|scope| {
            let walker = scope.spawn(move || {
                let visit =
                    |v: crate::packs::Version<'_>, base: Option<&Base>| -> Result<Base, Error> {
                        let Some(index) = v.item else {
                            return Ok(Base::Unscanned);
                        };
                        let path = items[index].path.as_slice();
                        let mut one = Outcome::default();
                        self.forbidden(path, Some(v.data), &mut one)?;
                        let (scan, state) = if self.content_allowed(path) {
                            (None, Base::Unscanned)
                        } else {
                            // A base at another path serves if the path changes nothing in the
                            // scan (git deltas against similar files, not only earlier versions).
                            let profile = self.scanner.path_profile(path)?;
                            let scan = match (v.changed, base) {
                                (
                                    Some(changed),
                                    Some(Base::Scanned {
                                        profile: p,
                                        clean: true,
                                        multiline,
                                    }),
                                ) if *p == profile => {
                                    let windows = crate::packs::changed_lines(v.data, changed);
                                    self.scan_blob_in(path, v.data, Some((&windows, *multiline)))?
                                }
                                _ => self.scan_blob(path, v.data)?,
                            };
                            let state = Base::Scanned {
                                profile,
                                clean: !scan.has_matches(),
                                multiline: scan.multiline,
                            };
                            (Some(scan), state)
                        };
                        let matched = scan.as_ref().is_some_and(BlobScan::has_matches);
                        let binary = scan.as_ref().is_some_and(|s| s.binary);
                        if matched || binary || !one.findings.is_empty() {
                            // The receiver outlives the walk: a send cannot fail.
                            let _ = to_main.send(PackScan {
                                index,
                                scan,
                                keep: matched.then(|| v.data.to_vec()),
                                findings: one.findings,
                            });
                        } else if scan.is_some() {
                            clean.fetch_add(1, Relaxed);
                        }
                        bytes.fetch_add(v.data.len() as u64, Relaxed);
                        done.fetch_add(1, Relaxed);
                        Ok(state)
                    };
                plan.walk(threads, cap, &visit)
            });
            let mut told = (0, 0);
            loop {
                use std::sync::mpsc::RecvTimeoutError;
                let message = results.recv_timeout(std::time::Duration::from_millis(100));
                let finished = matches!(message, Err(RecvTimeoutError::Disconnected));
                if let Ok(r) = message {
                    ordered.extend(r.findings.into_iter().map(|f| (r.index, f)));
                    if let Some(scan) = r.scan {
                        scans.push((r.index, scan, r.keep));
                    }
                }
                let now = (done.load(Relaxed), bytes.load(Relaxed));
                progress(now.0 - told.0, now.1 - told.1);
                told = now;
                if finished {
                    break;
                }
            }
            let left = walker
                .join()
                .unwrap_or(Err(Error::Scan(ScanError::Worker)))?;
            Ok((left, clean.load(Relaxed)))
        })
    }

    /// Reads the blobs `indexes` of `items` one by one on this thread, and scans them on the
    /// others. A version whose predecessor at the same path was scanned just before is
    /// scanned where its lines differ from it.
    fn scan_one_by_one(
        &self,
        read: &mut ReadBlob<'_>,
        items: &[crate::history::Introduced],
        indexes: &[usize],
        scans: &mut Vec<(usize, BlobScan, Option<Vec<u8>>)>,
        ordered: &mut Vec<(usize, Finding)>,
        progress: &mut dyn FnMut(usize, u64),
    ) -> Result<(), Error> {
        if indexes.is_empty() {
            return Ok(());
        }
        let (to_worker, inbox) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(64);
        let inbox = std::sync::Mutex::new(inbox);
        let (to_main, results) = std::sync::mpsc::channel();
        let cap = self.settings.max_file_size;
        // The lines of each version that a later one replaces, by blob id (hashed): a later
        // version is scanned only where it differs, as its patch would show it.
        let needed: HashSet<gix::ObjectId> =
            indexes.iter().filter_map(|&i| items[i].base).collect();
        let lines = LineStore::default();
        std::thread::scope(|scope| -> Result<(), Error> {
            let scanners = std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).clamp(1, 8));
            let workers: Vec<_> = (0..scanners)
                .map(|_| {
                    let (inbox, to_main, needed, lines) =
                        (&inbox, to_main.clone(), &needed, &lines);
                    scope.spawn(move || -> Result<(), Error> {
                        loop {
                            let next = match inbox.lock() {
                                Ok(rx) => rx.recv(),
                                Err(_) => return Err(Error::Scan(ScanError::Worker)),
                            };
                            let Ok((index, data)) = next else { break };
                            let item = &items[index];
                            let path = item.path.as_slice();
                            let base = item.base.and_then(|b| lines.get(&b));
                            let keep_lines = needed.contains(&item.blob);
                            // Lines are hashed only where a version is compared or kept.
                            let hashes = (base.is_some() || keep_lines).then(|| line_hashes(&data));
                            let scan = match (&base, &hashes) {
                                (Some((base, multiline)), Some(hashes)) => {
                                    let changed = lines_not_in(&data, hashes, base);
                                    let windows = crate::packs::changed_lines(&data, &changed);
                                    self.scan_blob_in(path, &data, Some((&windows, *multiline)))?
                                }
                                _ => self.scan_blob(path, &data)?,
                            };
                            if let Some(hashes) = hashes.filter(|_| keep_lines) {
                                lines.put(item.blob, hashes, scan.multiline);
                            }
                            let keep = scan.has_matches().then_some(data);
                            if to_main.send((index, scan, keep)).is_err() {
                                break;
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            drop(to_main);
            let sent: Result<(), Error> = (|| {
                for &index in indexes {
                    let item = &items[index];
                    let mut buf = Vec::new();
                    let mut one = Outcome::default();
                    let mut len = 0;
                    match read(item.blob, &mut buf, cap)? {
                        Blob::TooLarge(size) => {
                            self.forbidden(&item.path, None, &mut one)?;
                            one.findings
                                .push(self.settings.policy.not_scanned(&item.path, size, cap));
                        }
                        Blob::Read => {
                            len = buf.len() as u64;
                            self.forbidden(&item.path, Some(&buf), &mut one)?;
                            if !self.content_allowed(&item.path)
                                && to_worker.send((index, buf)).is_err()
                            {
                                break;
                            }
                        }
                    }
                    ordered.extend(one.findings.into_iter().map(|f| (index, f)));
                    progress(1, len);
                }
                Ok(())
            })();
            drop(to_worker);
            let worked: Result<(), Error> = workers
                .into_iter()
                .try_for_each(|w| w.join().unwrap_or(Err(Error::Scan(ScanError::Worker))));
            sent?;
            worked
        })?;
        scans.extend(results.iter());
        Ok(())
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
            self.dockerfile_warnings(
                shown,
                &buf,
                |p| Ok(std::fs::read(bytes_path(p).as_ref()).ok()),
                &mut out,
            )?;
            if self.content_allowed(shown) {
                continue;
            }
            out.scanned += 1;
            let scan = self.scan_blob(shown, &buf)?;
            if scan.binary {
                out.binary.push(crate::redact::escape(shown));
            }
            self.findings(shown, &buf, scan, None, &mut out);
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
        if let Some(c) = &self.config {
            let p = bytes_path(path);
            if c.allow_files.is_match(p.as_ref()) {
                return Ok(());
            }
            if c.forbid_paths.is_match(p.as_ref()) {
                out.findings
                    .push(FileMatcher::finding(&CONFIG_FORBIDDEN, path));
                return Ok(());
            }
        }
        let rule = self
            .files
            .matching(path, content)
            .map_err(|e| Error::FileRule(e.to_string()))?;
        if let Some(rule) = rule {
            out.findings.push(FileMatcher::finding(rule, path));
        }
        Ok(())
    }

    /// The seed's Dockerfile checks (see [`crate::rules::dockerfile`]): when `path` is a
    /// Dockerfile, warns about env files it would bake into the image. `read_ignore` reads a
    /// file beside it (the `.dockerignore`; from the index for a commit), only when the
    /// Dockerfile copies its whole build context.
    fn dockerfile_warnings(
        &self,
        path: &[u8],
        data: &[u8],
        mut read_ignore: impl FnMut(&[u8]) -> Result<Option<Vec<u8>>, Error>,
        out: &mut Outcome,
    ) -> Result<(), Error> {
        use crate::rules::dockerfile;
        if self.checks.is_empty() || !dockerfile::is_dockerfile(path) || self.content_allowed(path)
        {
            return Ok(());
        }
        let mut found = dockerfile::check(path, data, None);
        if found.iter().any(|f| f.rule == dockerfile::WHOLE_CONTEXT) {
            for candidate in dockerfile::ignore_files(path) {
                if let Some(ignore) = read_ignore(&candidate)? {
                    found = dockerfile::check(path, data, Some(&ignore));
                    break;
                }
            }
        }
        let start = out.findings.len();
        for f in found {
            let Some(rule) = self.checks.iter().find(|r| r.id == f.rule) else {
                continue; // turned off in .keyward.toml
            };
            let (line, column) = line_and_column(data, f.span.start);
            let m = crate::scan::Match {
                rule: 0,
                secret: f.span,
                line,
                column,
                inline_allowed: false,
            };
            out.findings
                .extend(self.settings.policy.secret(rule, &m, data, path, None));
        }
        self.apply_allowlist(out, start);
        Ok(())
    }

    /// Finds the secrets in one blob, before any policy: the matches of the rules, and those
    /// inside encoded values (Kubernetes `Secret` data), which are scanned decoded.
    fn scan_blob(&self, path: &[u8], data: &[u8]) -> Result<BlobScan, Error> {
        self.scan_blob_in(path, data, None)
    }

    /// [`Engine::scan_blob`], limited to `windows` of a new version when given, with whether
    /// its base may hold a multi-line rule's keyword (see [`Scanner::scan_windows`]); encoded
    /// values are decoded from the whole blob either way.
    fn scan_blob_in(
        &self,
        path: &[u8],
        data: &[u8],
        windows: Option<(&[std::ops::Range<usize>], bool)>,
    ) -> Result<BlobScan, Error> {
        let binary = is_binary(data);
        let (matches, multiline) = match windows {
            Some((windows, base_multiline)) => {
                self.scanner
                    .scan_windows(path, data, binary, windows, base_multiline)?
            }
            None => self
                .scanner
                .scan_file_noting_multiline(path, data, binary)?,
        };
        let mut decoded = Vec::new();
        if !binary {
            for d in crate::decode::kubernetes_secret_values(data) {
                let found = self.scanner.scan_file(path, &d.text, false)?;
                if !found.is_empty() {
                    decoded.push((d, found));
                }
            }
        }
        Ok(BlobScan {
            binary,
            matches,
            decoded,
            multiline,
        })
    }

    /// Turns a blob's matches into findings; `old` is HEAD's version of the file, if any.
    fn findings(
        &self,
        path: &[u8],
        data: &[u8],
        scan: BlobScan,
        old: Option<&[u8]>,
        out: &mut Outcome,
    ) {
        let policy = self.settings.policy;
        let start = out.findings.len();
        out.findings.extend(
            scan.matches
                .iter()
                .filter_map(|m| policy.secret(self.scanner.rule(m.rule), m, data, path, old)),
        );
        for (d, found) in scan.decoded {
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
        self.apply_allowlist(out, start);
    }

    /// Drops the findings from `start` on that `.keyward.toml` allows by fingerprint; an
    /// expired entry allows nothing and says so.
    fn apply_allowlist(&self, out: &mut Outcome, start: usize) {
        let Some(config) = &self.config else { return };
        let today = crate::config::today();
        let mut kept = Vec::with_capacity(out.findings.len() - start);
        for mut f in out.findings.drain(start..) {
            let entry = f.fingerprint.as_deref().and_then(|fp| config.allowed(fp));
            match entry {
                Some(e) => match e.expires.as_deref() {
                    Some(d) if crate::config::parse_date(d).is_some_and(|day| day < today) => {
                        f.note = Some(format!(
                            "allowed in {} until {d}: expired (renew the entry or remove the secret)",
                            crate::config::FILE_NAME
                        ));
                        kept.push(f);
                    }
                    _ => {}
                },
                None => kept.push(f),
            }
        }
        out.findings.extend(kept);
    }
}

/// Fills `old` with what the commit's parents have at the change's path: HEAD's version and,
/// while a merge is being committed, the merged branch's (a secret that branch already
/// carries is in history, not new). Returns whether there is any.
fn previous_versions(
    staged: &mut Staged,
    change: &crate::git::Change,
    old: &mut Vec<u8>,
    cap: u64,
) -> Result<bool, Error> {
    let mut any = match change.previous {
        Some(id) => staged.read(change, id, old, cap)? == Blob::Read,
        None => false,
    };
    if !any {
        old.clear();
    }
    let mut other = Vec::new();
    for id in staged.merged_versions(&change.path) {
        if staged.read(change, id, &mut other, cap)? == Blob::Read {
            old.push(b'\n');
            old.extend_from_slice(&other);
            any = true;
        }
    }
    Ok(any)
}

/// Sorted line hashes of the versions later ones are compared with, bounded in memory: past
/// the budget a version is simply scanned whole.
#[derive(Default)]
struct LineStore {
    /// The versions kept, and how many hashes they hold in all.
    map: std::sync::Mutex<(std::collections::HashMap<gix::ObjectId, Lines>, usize)>,
}

/// A version's sorted line hashes, and whether a multi-line rule's keyword may be in it.
type Lines = (std::sync::Arc<Vec<u64>>, bool);

/// Line hashes kept at most (8 bytes each).
const LINE_STORE_BUDGET: usize = 4 << 20;

impl LineStore {
    fn get(&self, id: &gix::ObjectId) -> Option<Lines> {
        self.map.lock().ok()?.0.get(id).cloned()
    }

    fn put(&self, id: gix::ObjectId, mut hashes: Vec<u64>, multiline: bool) {
        hashes.sort_unstable();
        hashes.dedup();
        if let Ok(mut guard) = self.map.lock() {
            let (map, used) = &mut *guard;
            if *used + hashes.len() <= LINE_STORE_BUDGET {
                *used += hashes.len();
                map.insert(id, (std::sync::Arc::new(hashes), multiline));
            }
        }
    }
}

/// A 64-bit hash of each line of `data`, in order: eight bytes at a time, multiply and
/// rotate (a collision would hide one changed line; at 64 bits that is out of reach).
fn line_hashes(data: &[u8]) -> Vec<u64> {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    data.split(|&b| b == b'\n')
        .map(|line| {
            let mut h = (line.len() as u64).wrapping_mul(K);
            let mut chunks = line.chunks_exact(8);
            for c in &mut chunks {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
            }
            let mut w = [0u8; 8];
            w[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
            h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
            h ^ (h >> 29)
        })
        .collect()
}

/// The lines of `data` (hashes `hashes`) that `base` (sorted hashes of the version it
/// replaces) does not have, as byte ranges with their line break, in the form
/// [`crate::packs::changed_lines`] widens into the windows to scan.
fn lines_not_in(data: &[u8], hashes: &[u64], base: &[u64]) -> Vec<std::ops::Range<usize>> {
    let mut changed = Vec::new();
    let mut start = 0;
    for (line, h) in data.split(|&b| b == b'\n').zip(hashes) {
        let end = (start + line.len() + 1).min(data.len());
        if start < end && base.binary_search(h).is_err() {
            changed.push(start..end);
        }
        start = end;
    }
    changed
}

/// Reads a blob into the buffer unless it is larger than the cap (bytes).
pub type ReadBlob<'a> = dyn FnMut(gix::ObjectId, &mut Vec<u8>, u64) -> Result<Blob, Error> + 'a;

/// The forbidden-file rule behind `forbid.paths` in `.keyward.toml`.
static CONFIG_FORBIDDEN: once_cell::sync::Lazy<FileRule> =
    once_cell::sync::Lazy::new(|| FileRule {
        id: "kw.file.forbidden-by-policy".into(),
        name: "file forbidden by .keyward.toml".into(),
        name_pattern: String::new(),
        name_keywords: Vec::new(),
        except_pattern: None,
        content_pattern: None,
        content_example: None,
        action: crate::rules::FileAction::Block,
        guidance: "the team's .keyward.toml forbids committing this file".into(),
        examples: Vec::new(),
        negative_examples: Vec::new(),
    });

/// Paths are bytes; globs match them as text (git paths are UTF-8 in practice; anything else
/// is matched after lossy conversion).
fn bytes_path(path: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(path.strip_prefix(b"./").unwrap_or(path))
}

/// Commits with at least this many blobs are scanned on a second thread.
const PARALLEL_FROM: usize = 64;

/// What the scanner found in one blob, before the policy.
#[derive(Debug)]
struct BlobScan {
    binary: bool,
    matches: Vec<crate::scan::Match>,
    decoded: Vec<(crate::decode::Decoded, Vec<crate::scan::Match>)>,
    /// A keyword of a multi-line rule may be in the blob (see [`Scanner::scan_windows`]).
    multiline: bool,
}

/// A version the pack walk built and scanned, sent to the thread that gathers them.
struct PackScan {
    index: usize,
    /// `None` where the path's content is allowed.
    scan: Option<BlobScan>,
    /// The content, kept when the scan has matches.
    keep: Option<Vec<u8>>,
    /// Forbidden-file findings.
    findings: Vec<Finding>,
}

impl BlobScan {
    fn has_matches(&self) -> bool {
        !self.matches.is_empty() || !self.decoded.is_empty()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_are_the_ones_the_base_lacks() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nc\nd\ne\n";
        let mut base = line_hashes(old);
        base.sort_unstable();
        let changed = lines_not_in(new, &line_hashes(new), &base);
        // `B` and `e`, each with its line break.
        assert_eq!(changed, vec![2..4, 8..10]);
        assert_eq!(&new[changed[0].clone()], b"B\n");
        assert_eq!(&new[changed[1].clone()], b"e\n");
        // Widened by a line on each side, the two make one window.
        let w = crate::packs::changed_lines(new, &changed);
        assert_eq!(w, vec![0..10]);
        // Adjacent changed lines make one window.
        let new = b"x\ny\nc\nd";
        let changed = lines_not_in(new, &line_hashes(new), &base);
        assert_eq!(changed, vec![0..2, 2..4]);
        assert_eq!(crate::packs::changed_lines(new, &changed), vec![0..5]);
    }
}
