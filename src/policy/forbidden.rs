//! Forbidden files: names that must not be committed (`.env`, private keys, keystores),
//! some only with a content condition (an `.npmrc` holding a token), and the extra names a
//! team's `.keyward.toml` forbids or exempts.

use crate::model::{Finding, Kind};
use crate::rules::{FileAction, FileRule};
use once_cell::sync::OnceCell;
use regex::bytes::{Regex, RegexBuilder};

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
            path: path.to_vec(),
            place: crate::model::Place::File,
            line: None,
            column: None,
            fingerprint: None,
            identity: None,
            preview: None,
            pre_existing: false,
            blocking: rule.action == FileAction::Block,
            remedy: rule.guidance.clone(),
            env_var: None,
            note: None,
            commit: None,
            allowed: None,
        }
    }
}

/// File names are bytes (git allows any but `/` and NUL), so patterns match bytes, ASCII-wise.
fn bytes_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

/// The forbidden-file rule behind `forbid.paths` in `.keyward.toml`.
pub static CONFIG_FORBIDDEN: once_cell::sync::Lazy<FileRule> =
    once_cell::sync::Lazy::new(|| FileRule {
        id: "kw.file.forbidden-by-policy".into(),
        name: "file forbidden by .keyward.toml".into(),
        name_pattern: String::new(),
        name_keywords: Vec::new(),
        except_pattern: None,
        content_pattern: None,
        content_example: None,
        action: FileAction::Block,
        guidance: "the team's .keyward.toml forbids committing this file".into(),
        examples: Vec::new(),
        negative_examples: Vec::new(),
    });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

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
