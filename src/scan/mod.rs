//! The scan stage: keyword prefilter → rule regex → filters → [`Candidate`](crate::model::Candidate)s, before any
//! policy.
//!
//! One multi-pattern searcher holds every rule's keywords ([`prefilter`]). A blob is searched
//! once with it; only the rules whose keywords occur are confirmed with their regex, on the
//! lines that hold a keyword ([`windows`], [`confirm`]), and each regex is compiled on the
//! first blob that needs it ([`compiled`]). A typical commit therefore compiles a handful of
//! regexes, and a blob with no keyword costs one linear pass. What a match must also pass
//! (entropy, placeholders, structural checks, what an assigned value can be) is [`filters`];
//! values encoded inside a file (UTF-16, escapes, Kubernetes `Secret` data) are decoded and
//! scanned too ([`examine`]).
//!
//! The engine calls one method, [`Scanner::examine`] (a blob → [`BlobScan`]); [`Scanner::scan`]
//! is the bare search of a text for its [`Match`]es (masking messages, checking rules).
//!
//! - `mod.rs`: the [`Scanner`], its construction and what it tells about its rules;
//! - `compiled.rs`: a rule as the scanner holds it (compiled on first use), path profiles;
//! - `examine.rs`: a blob read whole, decoded where it holds encoded text, made candidates;
//! - `confirm.rs`: the regexes on the lines around keywords, the filters, lines and columns,
//!   inline allow markers;
//! - `prefilter.rs`, `gate.rs`, `gate_avx2.rs`, `common_windows.rs`: the keyword search;
//! - `relaxed.rs`: the regexes' cheap first pass; `windows.rs`: which lines;
//! - `filters/`: a match's look-alikes; `decode.rs`, `encodings.rs`: encoded content.

pub(crate) mod check;
mod compiled;
mod confirm;
pub(crate) mod decode;
pub(crate) mod encodings;
mod examine;
pub(crate) mod filters;
mod gate;
#[cfg(target_arch = "x86_64")]
mod gate_avx2;
mod prefilter;
mod relaxed;
pub(crate) mod windows;

pub(crate) use compiled::PathProfile;
pub(crate) use confirm::{line_and_column, Match};
pub use examine::{is_binary, BlobScan, Reading, BINARY_SNIFF_LEN};

use crate::rules::{Rule, StaticRule};
use compiled::{Compiled, Source};
use once_cell::sync::OnceCell;
use prefilter::Prefilter;

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

/// A scanner built once per process from a rule list.
pub struct Scanner {
    rules: Vec<Compiled>,
    prefilter: Prefilter,
    /// The first `custom` rules are a team's own (see [`Scanner::catalog`]).
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
    /// A scanner of `rules` alone (a rule set being checked, a team's rule on its own); builds
    /// the keyword searcher, and leaves the regexes for the scans to compile.
    pub fn new(rules: Vec<Rule>) -> Result<Self, ScanError> {
        Ok(Self::build(
            rules.into_iter().map(Source::Owned).collect(),
            0,
        ))
    }

    /// The scanner a run uses: a team's rules `custom` first, then the built-in catalog
    /// `builtin` (rules decided by code, with no keywords, left out), each made owned only
    /// when its keyword occurs. Where two rules match the same bytes, the one earlier in the
    /// list wins among built-in rules and among custom ones, but a custom rule never hides a
    /// built-in rule's match (nor the reverse): a policy file can add findings, never remove
    /// one by shadowing it.
    pub(crate) fn catalog(custom: Vec<Rule>, builtin: &'static [StaticRule]) -> Self {
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
            .flat_map(|(i, source)| source.keywords().into_iter().map(move |k| (k, i)))
            .collect();
        Scanner {
            prefilter: Prefilter::new(keywords),
            rules: sources.into_iter().map(Compiled::new).collect(),
            custom,
        }
    }

    /// The rule behind a [`Match::rule`] or [`Candidate::rule`](crate::model::Candidate::rule) index.
    pub(crate) fn rule(&self, index: usize) -> &Rule {
        self.rules[index].rule()
    }

    /// Number of rules whose regex has been compiled so far (for tests and benchmarks).
    #[cfg(test)]
    pub(crate) fn compiled_count(&self) -> usize {
        self.rules.iter().filter(|c| c.is_compiled()).count()
    }

    /// Compiles every rule's regex now; used to validate a rule set up front.
    #[cfg(test)]
    pub(crate) fn compile_all(&self) -> Result<(), ScanError> {
        (0..self.rules.len()).try_for_each(|i| self.compile_one(i))
    }

    /// Compiles rule `index`'s patterns now (see [`check`]).
    pub(crate) fn compile_one(&self, index: usize) -> Result<(), ScanError> {
        let c = &self.rules[index];
        c.regex()?;
        c.excluded(b"").map(|_| ())
    }

    /// How many keyword occurrences the prefilter finds in `data` (for benchmarks: the
    /// prefilter alone, without confirming anything).
    pub fn keyword_hits(&self, data: &[u8]) -> usize {
        self.prefilter.hits(data).len()
    }

    /// Finds the secrets in `data`, a text with no path (a message, a rule's example): the
    /// search alone, without the decoding [`Scanner::examine`] adds. A binary blob (see
    /// [`is_binary`]) is only checked with the rules marked `binary`, whose prefixes are
    /// distinctive enough to mean something there.
    pub fn scan(&self, data: &[u8], binary: bool) -> Result<Vec<Match>, ScanError> {
        Ok(self.scan_file(b"", data, binary)?.0)
    }
}
