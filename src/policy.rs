//! What blocks: forbidden file names, inline allows, and new versus pre-existing secrets.

use crate::redact;
use crate::rules::{FileAction, FileRule, Rule};
use crate::scan::Match;
use once_cell::sync::OnceCell;
use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A secret inside a file.
    Secret,
    /// A file that must not be committed at all.
    ForbiddenFile,
    /// A file that was not scanned (over the size cap): never silently clean.
    NotScanned,
    /// A practice the seed's checklist warns against (a provider key in a browser-exposed
    /// variable, an env file copied into an image): blocks only under `--strict`.
    Warning,
}

/// Everything a report needs about one problem. Holds no secret bytes: only the redacted
/// preview and the fingerprint.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// What the finding is about.
    pub kind: Kind,
    /// Stable rule id (`kw.openai.project-key`, `kw.file.env`, `kw.not-scanned.too-large`).
    pub rule_id: String,
    /// Human name of the rule.
    pub rule_name: String,
    /// Path, escaped for display (control characters made visible).
    pub path: String,
    /// 1-based line of the secret.
    pub line: Option<usize>,
    /// 1-based column (characters) of the secret.
    pub column: Option<usize>,
    /// Identity of the secret: rule id + value, hashed.
    pub fingerprint: Option<String>,
    /// Redacted preview, e.g. `sk-proj-…(164 chars)`.
    pub preview: Option<String>,
    /// The same value is already in HEAD's version of this file.
    pub pre_existing: bool,
    /// Whether this finding blocks the commit.
    pub blocking: bool,
    /// Where to revoke the key, or what to do instead of committing the file.
    #[serde(skip)]
    pub remedy: String,
    /// The environment variable to read the value from instead.
    #[serde(skip)]
    pub env_var: Option<String>,
    /// The raw path bytes, for guidance commands.
    #[serde(skip)]
    pub raw_path: Vec<u8>,
    /// Why a policy exception did not apply (an expired allow entry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The first commit that introduced the secret (history and range scans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// That commit's author date, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_date: Option<String>,
}

/// Policy switches.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Block pre-existing secrets too.
    pub strict: bool,
    /// Honour inline `keyward:allow` markers (CI may refuse them).
    pub inline_allow: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            strict: false,
            inline_allow: true,
        }
    }
}

impl Policy {
    /// Turns a confirmed match into a finding, or drops it when an inline marker allows it.
    /// `previous` is HEAD's version of the file, when there is one.
    pub fn secret(
        &self,
        rule: &Rule,
        m: &Match,
        data: &[u8],
        path: &[u8],
        previous: Option<&[u8]>,
    ) -> Option<Finding> {
        if m.inline_allowed && self.inline_allow {
            return None;
        }
        let secret = &data[m.secret.clone()];
        let pre_existing = previous.is_some_and(|old| memchr::memmem::find(old, secret).is_some());
        if rule.action == FileAction::Warn {
            return Some(self.warning(rule, m, secret, path, pre_existing));
        }
        Some(Finding {
            kind: Kind::Secret,
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            path: redact::escape(path),
            line: Some(m.line),
            column: Some(m.column),
            fingerprint: Some(redact::fingerprint(&rule.id, secret)),
            preview: Some(redact::preview(rule.public_prefix(secret), secret.len())),
            pre_existing,
            blocking: !pre_existing || self.strict,
            remedy: rule.revoke_url.clone(),
            env_var: Some(rule.env_var.clone()),
            raw_path: path.to_vec(),
            note: None,
            commit: None,
            author_date: None,
        })
    }

    /// A warning rule's finding: what it points at is a name or a path, not a secret, so it
    /// is shown; it blocks only under `--strict`, and its remedy is the rule's guidance.
    pub fn warning(
        &self,
        rule: &Rule,
        m: &Match,
        what: &[u8],
        path: &[u8],
        pre_existing: bool,
    ) -> Finding {
        Finding {
            kind: Kind::Warning,
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            path: redact::escape(path),
            line: Some(m.line),
            column: Some(m.column),
            fingerprint: Some(redact::fingerprint(&rule.id, what)),
            preview: Some(redact::escape(what)),
            pre_existing,
            blocking: self.strict,
            remedy: rule
                .guidance
                .clone()
                .unwrap_or_else(|| rule.revoke_url.clone()),
            env_var: Some(rule.env_var.clone()),
            raw_path: path.to_vec(),
            note: None,
            commit: None,
            author_date: None,
        }
    }

    /// A finding for a blob that was too large to scan; it does not block, but is named.
    pub fn not_scanned(&self, path: &[u8], size: u64, cap: u64) -> Finding {
        Finding {
            kind: Kind::NotScanned,
            rule_id: "kw.not-scanned.too-large".into(),
            rule_name: format!(
                "not scanned: {} over the {} cap",
                human_size(size),
                human_size(cap)
            ),
            path: redact::escape(path),
            line: None,
            column: None,
            fingerprint: None,
            preview: None,
            pre_existing: false,
            blocking: false,
            remedy: "raise the cap with --max-file-size if this file should be scanned".into(),
            env_var: None,
            raw_path: path.to_vec(),
            note: None,
            commit: None,
            author_date: None,
        }
    }
}

/// Forbidden-file rules. A rule's name pattern is compiled only for a name that contains one
/// of its name keywords, and its exception and content patterns only when the name pattern
/// matches: a typical commit compiles none of them (ten of them cost a millisecond).
#[derive(Debug)]
pub struct FileMatcher {
    rules: Vec<FileRule>,
    names: Vec<OnceCell<Regex>>,
    conditions: Vec<OnceCell<Conditions>>,
}

/// A file rule's exception and content condition.
type Conditions = (Option<Regex>, Option<Regex>);

impl FileMatcher {
    /// A matcher over `rules`; nothing is compiled yet.
    pub fn new(rules: Vec<FileRule>) -> Self {
        FileMatcher {
            conditions: rules.iter().map(|_| OnceCell::new()).collect(),
            names: rules.iter().map(|_| OnceCell::new()).collect(),
            rules,
        }
    }

    /// Rule `index`'s name pattern, compiled on first use.
    fn name(&self, index: usize) -> Result<&Regex, regex::Error> {
        self.names[index].get_or_try_init(|| bytes_regex(&self.rules[index].name_pattern))
    }

    fn conditions(&self, index: usize) -> Result<&Conditions, regex::Error> {
        self.conditions[index].get_or_try_init(|| {
            let r = &self.rules[index];
            let except = r.except_pattern.as_deref().map(bytes_regex).transpose()?;
            let content = r.content_pattern.as_deref().map(bytes_regex).transpose()?;
            Ok((except, content))
        })
    }

    /// The first rule that forbids `path`, matched on its last component. Rules with a content
    /// condition (`.npmrc` only when it holds a token) need `content`; without it they are
    /// skipped.
    pub fn matching(
        &self,
        path: &[u8],
        content: Option<&[u8]>,
    ) -> Result<Option<&FileRule>, regex::Error> {
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        for (index, rule) in self.rules.iter().enumerate() {
            // Most names contain none of a rule's keywords: no regex is compiled for them.
            let candidate = rule.name_keywords.is_empty()
                || rule
                    .name_keywords
                    .iter()
                    .any(|k| memchr::memmem::find(&lower, k.as_bytes()).is_some());
            if !candidate || !self.name(index)?.is_match(name) {
                continue;
            }
            let (except, wants) = self.conditions(index)?;
            if except.as_ref().is_some_and(|e| e.is_match(name)) {
                continue;
            }
            let holds = match (wants, content) {
                (None, _) => true,
                (Some(w), Some(c)) => w.is_match(c),
                (Some(_), None) => false,
            };
            if holds {
                return Ok(Some(&self.rules[index]));
            }
        }
        Ok(None)
    }

    /// The finding for a forbidden file.
    pub fn finding(rule: &FileRule, path: &[u8]) -> Finding {
        Finding {
            kind: Kind::ForbiddenFile,
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            path: redact::escape(path),
            line: None,
            column: None,
            fingerprint: None,
            preview: None,
            pre_existing: false,
            blocking: rule.action == FileAction::Block,
            remedy: rule.guidance.clone(),
            env_var: None,
            raw_path: path.to_vec(),
            note: None,
            commit: None,
            author_date: None,
        }
    }
}

/// File names are bytes (git allows any but `/` and NUL), so patterns match bytes, ASCII-wise.
fn bytes_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

/// `64 MiB`, `1.5 KiB`, `12 bytes`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_size(64 << 20), "64 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
    }

    #[test]
    fn content_conditions_decide_for_npmrc_and_kubeconfig() {
        let set = RuleSet::builtin().expect("builtin rules parse");
        let m = FileMatcher::new(set.files);
        let id = |path: &str, content: &str| {
            m.matching(path.as_bytes(), Some(content.as_bytes()))
                .expect("compiles")
                .map(|r| r.id.clone())
        };
        assert_eq!(
            id(".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"),
            None
        );
        assert_eq!(id(".npmrc", "registry=https://registry.npmjs.org/\n"), None);
        assert_eq!(
            id(".npmrc", "//r.example/:_authToken=abc123def456\n").as_deref(),
            Some("kw.file.npmrc")
        );
        assert_eq!(
            id("config", "[core]\n\tbare = false\n"),
            None,
            "a git config is not a kubeconfig"
        );
        assert_eq!(
            id(".npmrc", "_authToken=x").and(
                m.matching(b".npmrc", None)
                    .expect("compiles")
                    .map(|r| r.id.clone())
            ),
            None,
            "no content, no verdict"
        );
    }

    #[test]
    fn forbidden_file_examples_from_the_rules() {
        let set = RuleSet::builtin_with_examples().expect("builtin rules parse");
        for rule in &set.files {
            let one = FileMatcher::new(vec![rule.clone()]);
            for path in &rule.examples {
                assert!(
                    one.matching(
                        path.as_bytes(),
                        rule.content_example.as_deref().map(str::as_bytes)
                    )
                    .expect("compiles")
                    .is_some(),
                    "{}: {path} should match",
                    rule.id
                );
            }
            for path in &rule.negative_examples {
                assert!(
                    one.matching(
                        path.as_bytes(),
                        rule.content_example.as_deref().map(str::as_bytes)
                    )
                    .expect("compiles")
                    .is_none(),
                    "{}: {path} should not match",
                    rule.id
                );
            }
        }
    }
}
