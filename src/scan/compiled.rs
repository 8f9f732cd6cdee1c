//! A rule as the scanner holds it: made owned on first use (a built-in rule), its regex, its
//! relaxed twin and its path exclusion each compiled on first use; and what a path changes in
//! how a file is scanned ([`PathProfile`]).

use super::{filters, relaxed, ScanError, Scanner};
use crate::rules::{Rule, StaticRule};
use once_cell::sync::OnceCell;
use regex::bytes::{Regex, RegexBuilder};

pub(super) struct Compiled {
    source: Source,
    /// Read from the rule when it is added: every blob asks these of every rule.
    pub(super) multiline: bool,
    has_path_exclude: bool,
    regex: OnceCell<Regex>,
    /// The pattern's relaxed twin, a cheap first pass (see [`relaxed`]).
    twin: OnceCell<Option<relaxed::Twin>>,
    path_exclude: OnceCell<Option<Regex>>,
}

/// Where a rule comes from: a team's, owned; or a built-in one, made owned on first use (most
/// rules' keywords never occur in a commit, and making all 350 costs more than the scan).
pub(super) enum Source {
    Owned(Rule),
    Static(&'static StaticRule, OnceCell<Rule>),
}

impl Source {
    /// The rule's keywords, lowercase (the prefilter's form).
    pub(super) fn keywords(&self) -> Vec<Vec<u8>> {
        let keywords: Vec<&str> = match self {
            Source::Owned(rule) => rule.keywords.iter().map(String::as_str).collect(),
            Source::Static(stat, _) => stat.keywords.to_vec(),
        };
        keywords
            .into_iter()
            .map(|k| k.to_ascii_lowercase().into_bytes())
            .collect()
    }
}

impl Compiled {
    pub(super) fn new(source: Source) -> Self {
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

    pub(super) fn rule(&self) -> &Rule {
        match &self.source {
            Source::Owned(rule) => rule,
            Source::Static(stat, rule) => rule.get_or_init(|| stat.to_rule()),
        }
    }

    /// The relaxed twin of the rule's pattern, if it has one (see [`relaxed::twin`]).
    pub(super) fn twin(&self) -> Option<&relaxed::Twin> {
        self.twin
            .get_or_init(|| relaxed::twin(&self.rule().pattern))
            .as_ref()
    }

    /// Whether the rule's regex has been compiled.
    #[cfg(test)]
    pub(super) fn is_compiled(&self) -> bool {
        self.regex.get().is_some()
    }

    /// The rule's regex, compiled on first use.
    pub(super) fn regex(&self) -> Result<&Regex, ScanError> {
        self.regex.get_or_try_init(|| {
            let re = RegexBuilder::new(&self.rule().pattern)
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
                    id: self.rule().id.clone(),
                    message: e.to_string().replace('\n', " "),
                })?;
            if re.captures_len() < 2 {
                return Err(ScanError::NoGroup {
                    id: self.rule().id.clone(),
                });
            }
            Ok(re)
        })
    }

    /// Whether the rule skips files at `path`.
    pub(super) fn excluded(&self, path: &[u8]) -> Result<bool, ScanError> {
        if !self.has_path_exclude {
            return Ok(false);
        }
        let Some(pattern) = &self.rule().path_exclude else {
            return Ok(false);
        };
        let re = self.path_exclude.get_or_try_init(|| {
            RegexBuilder::new(pattern)
                .unicode(false)
                .build()
                .map(Some)
                .map_err(|e| ScanError::Pattern {
                    id: self.rule().id.clone(),
                    message: format!("path_exclude: {}", e.to_string().replace('\n', " ")),
                })
        })?;
        Ok(re.as_ref().is_some_and(|re| re.is_match(path)))
    }
}

/// See [`Scanner::path_profile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathProfile {
    code: bool,
    excluded: Vec<bool>,
}

impl Scanner {
    /// What a path changes in how a file is scanned: whether it holds code (assignments are
    /// read more strictly) and which rules it is excluded from. Two paths with the same
    /// profile get the same matches from the same lines.
    pub(crate) fn path_profile(&self, path: &[u8]) -> Result<PathProfile, ScanError> {
        let mut excluded = Vec::new();
        for c in &self.rules {
            if c.has_path_exclude {
                excluded.push(c.excluded(path)?);
            }
        }
        Ok(PathProfile {
            code: filters::is_code_path(path),
            excluded,
        })
    }
}
