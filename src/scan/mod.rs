//! The scan stage: keyword prefilter → rule regex → filters → [`Candidate`]s, before any
//! policy.
//!
//! One multi-pattern searcher holds every rule's keywords ([`prefilter`]). A blob is searched
//! once with it; only the rules whose keywords occur are confirmed with their regex, on the
//! lines that hold a keyword ([`windows`]), and each regex is compiled on the first blob that
//! needs it. A typical commit therefore compiles a handful of regexes, and a blob with no
//! keyword costs one linear pass. What a match must also pass (entropy, placeholders,
//! structural checks, what an assigned value can be) is [`filters`]; values encoded inside
//! a file (Kubernetes `Secret` data) are [`decode`]d and scanned too.

pub mod check;
pub mod decode;
pub mod encodings;
pub mod filters;
mod gate;
#[cfg(target_arch = "x86_64")]
mod gate_avx2;
mod prefilter;
mod relaxed;
pub mod windows;

use crate::rules::{Rule, StaticRule};
use filters::{entropy, looks_like_placeholder};
use once_cell::sync::OnceCell;
use prefilter::Prefilter;
use regex::bytes::{Regex, RegexBuilder};
use std::ops::Range;

/// How many leading bytes decide whether a blob is binary (git's own heuristic uses 8000).
pub const BINARY_SNIFF_LEN: usize = 8000;

/// Markers that allow the finding on their line. `gitleaks:allow` and detect-secrets'
/// `pragma: allowlist secret` are honoured so that teams can migrate without editing files.
const INLINE_ALLOW: &[&[u8]] = &[
    b"keyward:allow",
    b"gitleaks:allow",
    b"pragma: allowlist secret",
];

/// Markers on the line before, for formats without same-line comments (JSON).
const ALLOW_NEXT_LINE: &[&[u8]] = &[
    b"keyward:allow-next-line",
    b"pragma: allowlist nextline secret",
];

/// Whether `line` carries a same-line allow marker (`keyward:allow-next-line` is not one: it
/// speaks for the next line only).
fn allows_itself(line: &[u8]) -> bool {
    INLINE_ALLOW.iter().any(|m| {
        memchr::memmem::find_iter(line, m)
            .any(|at| !line[at + m.len()..].starts_with(b"-next-line"))
    })
}

/// Errors from building or running the scanner.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rule's pattern does not compile (only possible for a broken rule file).
    #[error("rule {id}: pattern does not compile: {message}")]
    Pattern {
        /// The rule id.
        id: String,
        /// The regex error, on one line.
        message: String,
    },
    /// A rule's pattern has no capture group 1 for the secret.
    #[error("rule {id}: pattern needs a capture group 1 for the secret")]
    NoGroup {
        /// The rule id.
        id: String,
    },
    /// The scanning thread stopped without a result (a bug; the scan fails closed).
    #[error("the scanning thread stopped unexpectedly")]
    Worker,
}

/// A confirmed secret in one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in the scanner's rule list.
    pub rule: usize,
    /// Byte range of the secret.
    pub secret: Range<usize>,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// The line carries an inline allow marker such as `keyward:allow`.
    pub inline_allowed: bool,
}

struct Compiled {
    source: Source,
    /// Read from the rule when it is added: every blob asks these of every rule.
    multiline: bool,
    has_path_exclude: bool,
    regex: OnceCell<Regex>,
    /// The pattern's relaxed twin, a cheap first pass (see [`relaxed`]).
    twin: OnceCell<Option<relaxed::Twin>>,
    path_exclude: OnceCell<Option<Regex>>,
}

/// Where a rule comes from: a team's, owned; or a built-in one, made owned on first use (most
/// rules' keywords never occur in a commit, and making all 350 costs more than the scan).
enum Source {
    Owned(Rule),
    Static(&'static StaticRule, OnceCell<Rule>),
}

impl Compiled {
    fn new(source: Source) -> Self {
        let (multiline, has_path_exclude) = match &source {
            Source::Owned(r) => (r.multiline, r.path_exclude.is_some()),
            Source::Static(s, _) => (s.multiline, s.path_exclude.is_some()),
        };
        Compiled {
            source,
            multiline,
            has_path_exclude,
            regex: OnceCell::new(),
            twin: OnceCell::new(),
            path_exclude: OnceCell::new(),
        }
    }

    fn rule(&self) -> &Rule {
        match &self.source {
            Source::Owned(rule) => rule,
            Source::Static(stat, rule) => rule.get_or_init(|| stat.to_rule()),
        }
    }
}

/// A scanner built once per process from a rule list.
pub struct Scanner {
    rules: Vec<Compiled>,
    prefilter: Prefilter,
    /// The first `custom` rules are a team's own (see [`Scanner::with_custom`]).
    custom: usize,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Scanner {
    /// Builds the keyword searcher; regexes are left for [`Scanner::scan`] to compile.
    pub fn new(rules: Vec<Rule>) -> Result<Self, ScanError> {
        Self::with_custom(rules, 0)
    }

    /// [`Scanner::new`] where the first `custom` rules are a team's own (`[[rule]]` in
    /// `.keyward.toml`). Where two rules match the same bytes, the one earlier in the list
    /// wins among built-in rules and among custom ones, but a custom rule never hides a
    /// built-in rule's match (nor the reverse): a policy file can add findings, never remove
    /// one by shadowing it.
    pub fn with_custom(rules: Vec<Rule>, custom: usize) -> Result<Self, ScanError> {
        let custom = custom.min(rules.len());
        Ok(Self::build(
            rules.into_iter().map(Source::Owned).collect(),
            custom,
        ))
    }

    /// The scanner a run uses: a team's rules `custom` first, then the built-in catalog
    /// `builtin` (rules decided by code, with no keywords, left out), each made owned only
    /// when its keyword occurs.
    pub fn catalog(custom: Vec<Rule>, builtin: &'static [StaticRule]) -> Self {
        let count = custom.len();
        let sources: Vec<Source> = custom
            .into_iter()
            .map(Source::Owned)
            .chain(
                builtin
                    .iter()
                    .filter(|r| r.check.is_none())
                    .map(|r| Source::Static(r, OnceCell::new())),
            )
            .collect();
        if count == 0 && std::ptr::eq(builtin, crate::rules::BUILTIN_RULES) {
            // The catalog alone (no `.keyward.toml` rules): its prefilter was built with it.
            return Scanner {
                prefilter: Prefilter::builtin(),
                rules: sources.into_iter().map(Compiled::new).collect(),
                custom: 0,
            };
        }
        Self::build(sources, count)
    }

    fn build(sources: Vec<Source>, custom: usize) -> Self {
        let keywords = sources
            .iter()
            .enumerate()
            .flat_map(|(i, source)| {
                let keywords: Vec<&str> = match source {
                    Source::Owned(rule) => rule.keywords.iter().map(String::as_str).collect(),
                    Source::Static(stat, _) => stat.keywords.to_vec(),
                };
                keywords
                    .into_iter()
                    .map(move |k| (k.to_ascii_lowercase().into_bytes(), i))
            })
            .collect();
        Scanner {
            prefilter: Prefilter::new(keywords),
            rules: sources.into_iter().map(Compiled::new).collect(),
            custom,
        }
    }

    /// The rule behind a [`Match::rule`] index.
    pub fn rule(&self, index: usize) -> &Rule {
        self.rules[index].rule()
    }

    /// Number of rules whose regex has been compiled so far (for tests and benchmarks).
    pub fn compiled_count(&self) -> usize {
        self.rules
            .iter()
            .filter(|c| c.regex.get().is_some())
            .count()
    }

    /// Compiles every rule's regex now; used to validate a rule set up front.
    pub fn compile_all(&self) -> Result<(), ScanError> {
        (0..self.rules.len()).try_for_each(|i| self.compile_one(i))
    }

    /// Compiles rule `index`'s patterns now (see [`crate::scan::check`]).
    pub fn compile_one(&self, index: usize) -> Result<(), ScanError> {
        self.regex(index)?;
        self.excluded(index, b"").map(|_| ())
    }

    /// Scans one blob at `path`: the whole of it, or only `windows` of a new version with
    /// whether its base may hold a multi-line rule's keyword (see [`Scanner::scan_windows`]).
    /// A UTF-16 file is scanned as the text it holds; lines with URL or JSON escapes are also
    /// scanned decoded (see [`encodings`]), and Kubernetes `Secret` data values decoded from
    /// base64 (see [`decode`]).
    pub fn examine(
        &self,
        path: &[u8],
        data: &[u8],
        windows: Option<(&[Range<usize>], bool)>,
    ) -> Result<BlobScan, ScanError> {
        self.examine_as(path, data, windows, Reading::of(data))
    }

    /// [`Scanner::examine`] for data read as `reading` says: a window of a blob read in
    /// windows is read as its first window decided.
    pub fn examine_as(
        &self,
        path: &[u8],
        data: &[u8],
        windows: Option<(&[Range<usize>], bool)>,
        reading: Reading,
    ) -> Result<BlobScan, ScanError> {
        if let Reading::Utf16 { little } = reading {
            let start = match encodings::utf16_order(data) {
                Some((_, start)) => start,
                None => 0,
            };
            let view = encodings::decode_utf16(data, little, start);
            let (matches, multiline) = self.scan_file_noting_multiline(path, &view.text, false)?;
            let candidates = matches
                .into_iter()
                .map(|m| {
                    let span = view.map.at(m.secret.start)..view.map.at(m.secret.end);
                    let evidence = data[span.clone()].to_vec();
                    self.candidate(&view.text[m.secret.clone()], &m, span, evidence)
                })
                .collect();
            return Ok(BlobScan {
                binary: false,
                candidates,
                multiline,
            });
        }
        let binary = reading == Reading::Binary;
        let (matches, multiline) = match windows {
            Some((windows, base_multiline)) => {
                self.scan_windows(path, data, binary, windows, base_multiline)?
            }
            None => self.scan_file_noting_multiline(path, data, binary)?,
        };
        let mut candidates: Vec<Candidate> = matches
            .into_iter()
            .map(|m| {
                let secret = &data[m.secret.clone()];
                self.candidate(secret, &m, m.secret.clone(), secret.to_vec())
            })
            .collect();
        if binary {
            return Ok(BlobScan {
                binary,
                candidates,
                multiline,
            });
        }
        for view in encodings::escaped_lines(data) {
            let in_windows = windows.is_none_or(|(w, _)| {
                let at = view.map.at(0);
                w.iter().any(|r| r.start <= at && at <= r.end)
            });
            if !in_windows {
                continue;
            }
            for m in self.scan_file(path, &view.text, false)? {
                let span = view.map.at(m.secret.start)..view.map.at(m.secret.end);
                let evidence = data[span.clone()].to_vec();
                let mut c = self.candidate(&view.text[m.secret.clone()], &m, span, evidence);
                c.line = view.first_line + m.line - 1;
                candidates.push(c);
            }
        }
        for d in decode::kubernetes_secret_values(data) {
            // Reported where the encoded value is; pre-existing if that value was there.
            let (line, column) = line_and_column(data, d.encoded.start);
            for m in self.scan_file(path, &d.text, false)? {
                let evidence = data[d.encoded.clone()].to_vec();
                let mut c =
                    self.candidate(&d.text[m.secret.clone()], &m, d.encoded.clone(), evidence);
                (c.line, c.column) = (line, column);
                candidates.push(c);
            }
        }
        Ok(BlobScan {
            binary,
            candidates,
            multiline,
        })
    }

    fn candidate(
        &self,
        secret: &[u8],
        m: &Match,
        span: Range<usize>,
        evidence: Vec<u8>,
    ) -> Candidate {
        let rule = self.rule(m.rule);
        // A warning about a practice matches a name (a variable's), not a secret: it is shown.
        let preview = if rule.shows_match() {
            crate::redact::escape(secret)
        } else {
            crate::redact::preview(rule.public_prefix(secret), secret.len())
        };
        Candidate {
            rule: m.rule,
            custom: m.rule < self.custom,
            line: m.line,
            column: m.column,
            inline_allowed: m.inline_allowed,
            fingerprint: crate::redact::fingerprint(&rule.id, secret),
            identity: crate::redact::identity(&rule.id, secret),
            preview,
            span,
            evidence,
        }
    }

    /// What a path changes in how a file is scanned: whether it holds code (assignments are
    /// read more strictly) and which rules it is excluded from. Two paths with the same
    /// profile get the same matches from the same lines.
    pub fn path_profile(&self, path: &[u8]) -> Result<PathProfile, ScanError> {
        let mut excluded = Vec::new();
        for (index, c) in self.rules.iter().enumerate() {
            if c.has_path_exclude {
                excluded.push(self.excluded(index, path)?);
            }
        }
        Ok(PathProfile {
            code: filters::is_code_path(path),
            excluded,
        })
    }

    /// Whether rule `index` skips files at `path`.
    fn excluded(&self, index: usize, path: &[u8]) -> Result<bool, ScanError> {
        let c = &self.rules[index];
        if !c.has_path_exclude {
            return Ok(false);
        }
        let Some(pattern) = &c.rule().path_exclude else {
            return Ok(false);
        };
        let re = c.path_exclude.get_or_try_init(|| {
            RegexBuilder::new(pattern)
                .unicode(false)
                .build()
                .map(Some)
                .map_err(|e| ScanError::Pattern {
                    id: c.rule().id.clone(),
                    message: format!("path_exclude: {}", e.to_string().replace('\n', " ")),
                })
        })?;
        Ok(re.as_ref().is_some_and(|re| re.is_match(path)))
    }

    fn regex(&self, index: usize) -> Result<&Regex, ScanError> {
        let c = &self.rules[index];
        c.regex.get_or_try_init(|| {
            let re = RegexBuilder::new(&c.rule().pattern)
                // Bytes, not Unicode: secrets are ASCII, and a negated class such as
                // `[^A-Za-z0-9]` in Unicode mode compiles to a UTF-8 automaton that costs ten
                // times more to build (~0.4 ms per rule, on every commit that needs it).
                .unicode(false)
                .size_limit(1 << 24)
                // Room for the lazy DFA's states: the generic and provider-anchored patterns
                // (bounded repeats, case-insensitive) need many, and a cache that keeps filling
                // up is cleared and rebuilt over and over (measured: half of a history scan).
                .dfa_size_limit(64 << 20)
                .build()
                .map_err(|e| ScanError::Pattern {
                    id: c.rule().id.clone(),
                    message: e.to_string().replace('\n', " "),
                })?;
            if re.captures_len() < 2 {
                return Err(ScanError::NoGroup {
                    id: c.rule().id.clone(),
                });
            }
            Ok(re)
        })
    }

    /// How many keyword occurrences the prefilter finds in `data` (for benchmarks: the
    /// prefilter alone, without confirming anything).
    pub fn keyword_hits(&self, data: &[u8]) -> usize {
        self.prefilter.hits(data).len()
    }

    /// Finds the secrets in `data`. A binary blob (see [`is_binary`]) is only checked with the
    /// rules marked `binary`, whose prefixes are distinctive enough to mean something there.
    pub fn scan(&self, data: &[u8], binary: bool) -> Result<Vec<Match>, ScanError> {
        self.scan_file(b"", data, binary)
    }

    /// [`Scanner::scan`] for a file at `path`, so that rules excluding that path (lockfiles for
    /// the generic rules) are skipped.
    pub fn scan_file(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
    ) -> Result<Vec<Match>, ScanError> {
        Ok(self.scan_file_noting_multiline(path, data, binary)?.0)
    }

    /// [`Scanner::scan_file`], also telling whether a keyword of a multi-line rule (a PEM
    /// header) occurs in the file: a later version scanned with [`Scanner::scan_windows`]
    /// needs to know.
    pub fn scan_file_noting_multiline(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
    ) -> Result<(Vec<Match>, bool), ScanError> {
        let hits = self.prefilter.hits(data);
        let multiline = self.multiline_hit(&hits);
        Ok((self.confirm(path, data, binary, &hits)?, multiline))
    }

    /// [`Scanner::scan_file`] for a new version of a file, looking only at `windows` (the
    /// lines it adds to a version already scanned): keywords are searched there alone, so the
    /// cost follows the change, not the file. Rules whose matches span lines (PEM blocks) are
    /// checked over the whole file when one of their keywords is in the windows or was in
    /// the previous version (`base_multiline`): every line outside the windows is one of its
    /// lines. Returns the matches and whether such a keyword may be in this version.
    pub fn scan_windows(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
        windows: &[Range<usize>],
        base_multiline: bool,
    ) -> Result<(Vec<Match>, bool), ScanError> {
        let mut hits = prefilter::Hits::default();
        for w in windows {
            self.prefilter.search(&data[w.clone()], w.start, &mut hits);
        }
        hits.settle();
        let multiline = base_multiline || self.multiline_hit(&hits);
        if multiline {
            // A multi-line rule runs over the whole blob whatever its hits say.
            for (i, c) in self.rules.iter().enumerate() {
                if c.multiline && !hits.has(i) {
                    hits.add(i, 0);
                }
            }
            hits.settle();
        }
        Ok((self.confirm(path, data, binary, &hits)?, multiline))
    }

    fn multiline_hit(&self, hits: &prefilter::Hits) -> bool {
        hits.rules().any(|rule| self.rules[rule].multiline)
    }

    /// Runs the regexes of the rules whose keywords were found (`hits`: positions per rule).
    fn confirm(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
        hits: &prefilter::Hits,
    ) -> Result<Vec<Match>, ScanError> {
        let code = filters::is_code_path(path);
        let mut found = Vec::new();
        for (index, at) in hits.by_rule() {
            let rule = self.rules[index].rule();
            if binary && !rule.binary {
                continue;
            }
            if !path.is_empty() && self.excluded(index, path)? {
                continue;
            }
            let windows = if rule.multiline {
                std::iter::once(0..data.len()).collect()
            } else {
                windows::lines_around(data, &at)
            };
            let twin = self.rules[index]
                .twin
                .get_or_init(|| relaxed::twin(&rule.pattern));
            // The rule's own regex, compiled when a window passes its twin (the generic
            // rules' regexes cost several times their twins' to compile).
            let mut exact = None;
            for window in windows {
                let offset = window.start;
                if twin
                    .as_ref()
                    .is_some_and(|t| !t.is_match(&data[window.clone()]))
                {
                    continue;
                }
                let (re, name_group) = match exact {
                    Some(compiled) => compiled,
                    None => {
                        let re = self.regex(index)?;
                        // The secret is the first group that took part, other than the one
                        // named `name` (a rule may offer alternatives: quoted and unquoted
                        // values).
                        let name_group = re.capture_names().position(|n| n == Some("name"));
                        *exact.insert((re, name_group))
                    }
                };
                for caps in re.captures_iter(&data[window]) {
                    let group = caps
                        .iter()
                        .enumerate()
                        .skip(1)
                        .find_map(|(i, g)| g.filter(|_| Some(i) != name_group));
                    let Some(group) = group else { continue };
                    let secret = offset + group.start()..offset + group.end();
                    let name = caps.name("name").map(|m| m.as_bytes());
                    if accept(rule, data, secret.clone(), name, code) {
                        found.push((index, secret));
                    }
                }
            }
        }
        // Every rule's match is kept, overlapping or not: the policy judges each (an
        // exception names one finding), then keeps one per place (see
        // `crate::policy::Policy::judge`).
        found.sort_by_key(|(rule, range)| (range.start, *rule));
        found.dedup();
        Ok(locate(data, found))
    }
}

/// What the scanner found in one blob, before the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobScan {
    /// The blob is binary (see [`is_binary`]): only the rules marked `binary` ran.
    pub binary: bool,
    /// The matches, in the blob's order (decoded values' after the rest).
    pub candidates: Vec<Candidate>,
    /// A keyword of a multi-line rule may be in the blob (see [`Scanner::scan_windows`]).
    pub multiline: bool,
}

/// A secret the scanner found, before the policy judges it. The fingerprint, the identity and
/// the redacted preview are made here, where the value is at hand; the one field that holds
/// bytes of the secret is `evidence`, which the policy searches the replaced version for and
/// no report ever reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Index of the rule in the scanner's rule list: its priority (lower first).
    pub rule: usize,
    /// The rule is a team's own (see [`Scanner::with_custom`]): its matches and the
    /// built-in rules' never stand in for each other.
    pub custom: bool,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Its line carries an inline allow marker such as `keyward:allow`.
    pub inline_allowed: bool,
    /// See [`crate::redact::fingerprint`]: for people.
    pub fingerprint: String,
    /// See [`crate::redact::identity`]: for decisions.
    pub identity: crate::redact::Identity,
    /// See [`crate::redact::preview`].
    pub preview: String,
    /// Where in the blob it sits (its bytes, however encoded).
    pub span: Range<usize>,
    /// The bytes whose presence in the version it replaces makes it pre-existing: the
    /// secret as the file writes it, or the encoded value it was decoded from. (Kept, not
    /// the blob: a scan holds no blob longer than it reads it.)
    pub evidence: Vec<u8>,
}

/// 1-based line and character column of byte `at`.
pub fn line_and_column(data: &[u8], at: usize) -> (usize, usize) {
    let before = &data[..at];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    (line, column)
}

/// How a blob is read: decided by its first bytes (see [`Scanner::examine`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// UTF-16 text, decoded first ([`encodings::utf16`]).
    Utf16 {
        /// Little-endian.
        little: bool,
    },
    /// Binary ([`is_binary`]): only the rules marked `binary` run.
    Binary,
    /// Text.
    Text,
}

impl Reading {
    /// How `data` is read, by its first bytes.
    pub fn of(data: &[u8]) -> Self {
        match encodings::utf16_order(data) {
            Some((little, _)) => Reading::Utf16 { little },
            None if is_binary(data) => Reading::Binary,
            None => Reading::Text,
        }
    }
}

/// See [`Scanner::path_profile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProfile {
    code: bool,
    excluded: Vec<bool>,
}

/// Whether `data` looks binary: a NUL byte among its first [`BINARY_SNIFF_LEN`] bytes.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// The filters a regex match must pass to be a finding.
fn accept(rule: &Rule, data: &[u8], secret: Range<usize>, name: Option<&[u8]>, code: bool) -> bool {
    let value = &data[secret.clone()];
    if rule.allow_values.iter().any(|v| v.as_bytes() == value) {
        return false;
    }
    if rule.min_entropy.is_some_and(|min| entropy(value) < min) {
        return false;
    }
    if rule.placeholder_filter && looks_like_placeholder(value) {
        return false;
    }
    if rule
        .validate
        .is_some_and(|v| !filters::validate(v, data, secret.clone()))
    {
        return false;
    }
    !rule.assignment
        || filters::assigned_value_is_secret(name.unwrap_or_default(), data, secret, code)
}

/// Adds line, column and inline-allow markers, walking `data` once in order.
fn locate(data: &[u8], found: Vec<(usize, Range<usize>)>) -> Vec<Match> {
    let (mut line, mut line_start, mut pos) = (1usize, 0usize, 0usize);
    found
        .into_iter()
        .map(|(rule, secret)| {
            for nl in memchr::memchr_iter(b'\n', &data[pos..secret.start]) {
                line += 1;
                line_start = pos + nl + 1;
            }
            pos = secret.start;
            let column = 1 + data[line_start..secret.start]
                .iter()
                .filter(|&&b| (b & 0xC0) != 0x80)
                .count();
            let line_end = memchr::memchr(b'\n', &data[secret.start..])
                .map_or(data.len(), |i| secret.start + i);
            let text = &data[line_start..line_end];
            let previous = line_start
                .checked_sub(1)
                .map(|end| {
                    let start = memchr::memrchr(b'\n', &data[..end]).map_or(0, |i| i + 1);
                    &data[start..end]
                })
                .unwrap_or_default();
            let inline_allowed = allows_itself(text)
                || ALLOW_NEXT_LINE
                    .iter()
                    .any(|m| memchr::memmem::find(previous, m).is_some());
            Match {
                rule,
                secret,
                line,
                column,
                inline_allowed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_a_nul_in_the_first_8000_bytes() {
        assert!(is_binary(b"a\0b"));
        assert!(!is_binary(b"plain text"));
        let mut late = vec![b'a'; BINARY_SNIFF_LEN];
        late.push(0);
        assert!(!is_binary(&late));
    }

    #[test]
    fn locate_counts_lines_and_character_columns() {
        let data = "one\nzwei ü x\nthree".as_bytes();
        let x = data.iter().position(|&b| b == b'x').expect("x");
        let m = locate(data, vec![(0, x..x + 1)]);
        assert_eq!((m[0].line, m[0].column), (2, 8));
    }
}
