//! The one rule check. A rule must compile, find each of its examples exactly where the
//! example's `«…»` marks say, carry one of its keywords in every example (or the prefilter
//! would never run its regex), and find none of its negative examples. The test suite runs it
//! over the built-in catalog, `.keyward.toml` over a team's rules when it is read, and
//! `keyward rules check FILE` over any rule file.

use super::examples::{expand, Rng};
use super::Rule;
use crate::scan::Scanner;

/// Why a rule fails the check: one line, naming the rule.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule}: {message}")]
pub struct CheckError {
    /// The rule id.
    pub rule: String,
    /// What is wrong.
    pub message: String,
}

/// How many times each example is drawn: a pattern that works only for lucky random bodies
/// fails one of them.
pub const DRAWS: usize = 8;

/// Checks rule `index` of `scanner`'s rules. Negative examples must produce no match from
/// any rule of `scanner` (the whole catalog, for the built-in rules). Examples are drawn
/// `draws` times each from `rng`.
pub fn check(
    scanner: &Scanner,
    index: usize,
    draws: usize,
    rng: &mut Rng,
) -> Result<(), CheckError> {
    let rule = scanner.rule(index);
    let fail = |message: String| CheckError {
        rule: rule.id.clone(),
        message,
    };
    structure(rule).map_err(fail)?;
    scanner
        .compile_one(index)
        .map_err(|e| fail(e.to_string()))?;
    for template in &rule.examples {
        for _ in 0..draws.max(1) {
            let ex =
                expand(template, rng).map_err(|e| fail(format!("example `{template}`: {e}")))?;
            let lower = ex.text.to_ascii_lowercase();
            if !rule.keywords.iter().any(|k| lower.contains(k.as_str())) {
                return Err(fail(format!(
                    "example `{template}` contains none of the keywords"
                )));
            }
            let found = scanner
                .scan(ex.text.as_bytes(), false)
                .map_err(|e| fail(e.to_string()))?;
            let hit = found.iter().any(|m| {
                m.rule == index && ex.secret.as_ref().is_none_or(|span| &m.secret == span)
            });
            if !hit {
                let by: Vec<&str> = found
                    .iter()
                    .map(|m| scanner.rule(m.rule).id.as_str())
                    .collect();
                return Err(fail(format!(
                    "example `{template}` is not found where its «» marks say (found by: {})",
                    if by.is_empty() {
                        "no rule".to_owned()
                    } else {
                        by.join(", ")
                    }
                )));
            }
        }
    }
    for template in &rule.negative_examples {
        let ex = expand(template, rng)
            .map_err(|e| fail(format!("negative example `{template}`: {e}")))?;
        let found = scanner
            .scan(ex.text.as_bytes(), false)
            .map_err(|e| fail(e.to_string()))?;
        if let Some(m) = found.first() {
            return Err(fail(format!(
                "negative example `{template}` is found by {}",
                scanner.rule(m.rule).id
            )));
        }
    }
    Ok(())
}

/// What a rule must have before its examples mean anything.
fn structure(rule: &Rule) -> Result<(), String> {
    if rule.keywords.is_empty() {
        return Err("needs at least one keyword".into());
    }
    if rule.keywords.iter().any(|k| k.is_empty()) {
        return Err("a keyword is empty".into());
    }
    if rule.keywords.iter().any(|k| *k != k.to_ascii_lowercase()) {
        return Err("keywords are lowercase (the prefilter ignores case)".into());
    }
    if rule.examples.is_empty() {
        return Err("needs at least one example".into());
    }
    Ok(())
}

/// Checks every rule of a rule file (TOML, the built-in schema) on its own, as
/// `keyward rules check FILE` does: each must pass [`check`] in a scanner of the file's rules.
pub fn check_file(origin: &str, text: &str) -> Result<usize, CheckError> {
    let mut set = super::RuleSet::default();
    set.extend_from_toml(origin, text).map_err(|e| CheckError {
        rule: origin.to_owned(),
        message: e.to_string(),
    })?;
    let count = set.rules.len();
    let scanner = Scanner::new(set.rules).map_err(|e| CheckError {
        rule: origin.to_owned(),
        message: e.to_string(),
    })?;
    let mut rng = Rng::new(7);
    for index in 0..count {
        check(&scanner, index, DRAWS, &mut rng)?;
    }
    Ok(count)
}
