//! The one rule check (the scanner judges the rules; the rules know nothing of it). A rule must compile, find each of its examples exactly where the
//! example's `«…»` marks say, carry one of its keywords in every example (or the prefilter
//! would never run its regex), and find none of its negative examples. The test suite runs it
//! over the built-in catalog, `.keyward.toml` over a team's rules when it is read, and
//! `keyward rules check FILE` over any rule file.

use super::Scanner;
use crate::rules::examples::{expand, Rng};
use crate::rules::Rule;

/// Why a rule fails the check: one line, naming the rule.
#[derive(Debug, thiserror::Error)]
#[error("rule {rule}: {message}")]
pub struct CheckError {
    /// The rule id.
    pub(crate) rule: String,
    /// What is wrong.
    pub(crate) message: String,
}

/// How many times each example is drawn: a pattern that works only for lucky random bodies
/// fails one of them.
pub(crate) const DRAWS: usize = 8;

/// Checks rule `index` of `scanner`'s rules. Negative examples must produce no match from
/// any rule of `scanner` (the whole catalog, for the built-in rules). Examples are drawn
/// `draws` times each from `rng`.
pub(crate) fn check(
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
            let ex = draw(rule, template, rng)
                .map_err(|e| fail(format!("example `{template}`: {e}")))?;
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
                    "example `{template}` is not found where its «» marks say in `{}` (found by: {})",
                    crate::redact::escape(ex.text.as_bytes()),
                    if by.is_empty() {
                        "no rule".to_owned()
                    } else {
                        by.join(", ")
                    }
                )));
            }
        }
    }
    // The same examples, written in the encodings the scanner decodes: UTF-16 (every rule),
    // URL and JSON escapes (rules that match within one line).
    for template in &rule.examples {
        let ex =
            draw(rule, template, rng).map_err(|e| fail(format!("example `{template}`: {e}")))?;
        let Some(span) = ex.secret.clone() else {
            continue;
        };
        let want = crate::redact::fingerprint(&rule.id, &ex.text.as_bytes()[span]);
        let mut variants = vec![("UTF-16", utf16le(&ex.text))];
        if !rule.multiline {
            variants.push(("URL-encoded", url_encoded(&ex.text)));
            variants.push(("JSON-escaped", json_escaped(&ex.text)));
        }
        for (how, bytes) in variants {
            let scan = scanner
                .examine(b"", &bytes, None, crate::scan::Reading::of(&bytes))
                .map_err(|e| fail(e.to_string()))?;
            if !scan
                .candidates
                .iter()
                .any(|c| c.rule == index && c.fingerprint == want)
            {
                return Err(fail(format!(
                    "example `{template}` is not found when {how}"
                )));
            }
        }
    }
    glued(scanner, index, rng).map_err(fail)?;
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

/// What is glued on an example's left to try a rule's `glued_after`: `KEY` ending in an
/// underscore, a hyphen, a digit, a lowercase and an uppercase letter.
const GLUES: &[&str] = &["KEY_", "KEY-", "KEY7", "KEYx", "KEYQ"];

/// Proves a rule's `glued_after` (see [`Rule::glued_after`]): each example, with an
/// identifier glued on the secret's left, is found at the same secret when the class holds the
/// identifier's last character, and not found there when it does not.
fn glued(scanner: &Scanner, index: usize, rng: &mut Rng) -> Result<(), String> {
    let rule = scanner.rule(index);
    let Some(class) = &rule.glued_after else {
        return Ok(());
    };
    let class = regex::bytes::RegexBuilder::new(&format!("^[{class}]$"))
        .unicode(false)
        .build()
        .map_err(|e| format!("glued_after `{class}`: {e}"))?;
    for template in rule.examples.iter().filter(|t| t.contains('«')) {
        for glue in GLUES {
            let last = &glue.as_bytes()[glue.len() - 1..];
            let glued = template.replacen('«', &format!("{glue}«"), 1);
            let ex = draw(rule, &glued, rng).map_err(|e| format!("example `{glued}`: {e}"))?;
            let span = ex.secret.clone();
            let found = scanner
                .scan(ex.text.as_bytes(), false)
                .map_err(|e| e.to_string())?
                .iter()
                .any(|m| m.rule == index && Some(&m.secret) == span.as_ref());
            let claimed = class.is_match(last);
            if found != claimed {
                return Err(format!(
                    "example `{template}` with `{glue}` glued on its left is {} (glued_after {} `{}`)",
                    if found { "found" } else { "not found" },
                    if claimed { "holds" } else { "does not hold" },
                    crate::redact::escape(last),
                ));
            }
        }
    }
    Ok(())
}

/// An example drawn from `template` whose secret a real key could be: random bodies that
/// happen to fall below the rule's entropy floor, or to look like a placeholder, are drawn
/// again, up to a hundred times (the floor and the filters are the rule's design, not what the
/// draws test; an example they always reject still fails).
fn draw(
    rule: &Rule,
    template: &str,
    rng: &mut Rng,
) -> Result<crate::rules::examples::Expanded, crate::rules::examples::ExampleError> {
    let mut ex = expand(template, rng)?;
    for _ in 0..100 {
        let Some(span) = ex.secret.clone() else {
            break;
        };
        let secret = &ex.text.as_bytes()[span];
        let low = rule
            .min_entropy
            .is_some_and(|min| super::filters::entropy(secret) < min);
        let masked = rule.placeholder_filter && super::filters::looks_like_placeholder(secret);
        // A random value can spell `your` or `null`; the generic rules rightly pass it by.
        let worded = rule.assignment && super::filters::has_placeholder_word(secret);
        if !low && !masked && !worded {
            break;
        }
        ex = expand(template, rng)?;
    }
    Ok(ex)
}

/// `text` as UTF-16 (little-endian, with a byte-order mark).
fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// `text` with every printable byte but letters and digits written `%XX`, as a query
/// string or a form body would carry it.
fn url_encoded(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || !(0x20..0x7F).contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

/// `text` with its punctuation written as JSON `\u00XX` escapes.
fn json_escaped(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for &b in text.as_bytes() {
        if b.is_ascii_punctuation() {
            out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
        } else {
            out.push(b);
        }
    }
    out
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
pub(crate) fn check_file(origin: &str, text: &str) -> Result<usize, CheckError> {
    let mut set = crate::rules::RuleSet::default();
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
