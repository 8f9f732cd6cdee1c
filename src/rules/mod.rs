//! Rule schema and the built-in catalog.
//!
//! A rule is a record, not a regex string: it has a stable id, the literal keywords that the
//! prefilter looks for, a pattern whose group 1 is the secret, an optional entropy floor, the
//! guidance a developer needs to fix a leak, and generated examples that prove all of it. The
//! built-in rules live as TOML under `src/rules/builtin/`, one file per provider family, and are
//! compiled into the binary with `include_str!`.

pub(crate) mod dockerfile;
pub mod examples;

use serde::Deserialize;

/// A content rule: finds one kind of secret inside a blob.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable identifier, e.g. `kw.openai.project-key`. Never reused, never renamed.
    pub(crate) id: String,
    /// Human name shown in reports, e.g. "OpenAI project API key".
    pub(crate) name: String,
    /// The family the rule belongs to (`ai`, `cloud`, `code-hosting`, …): `keyward rules`
    /// groups the catalog by it. A team's own rules may leave it out.
    #[serde(default)]
    pub(crate) family: Option<String>,
    /// Block (a credential) or warn (a practice the seed's checklist warns against, such as a
    /// provider key in a browser-exposed variable: reported, blocking only under `--strict`).
    #[serde(default)]
    pub(crate) action: FileAction,
    /// For a warning: what to do instead, shown in place of the revoke step.
    #[serde(default)]
    pub(crate) guidance: Option<String>,
    /// Literals (lowercase) of which at least one occurs in every match. The prefilter runs the
    /// rule's regex only on blobs that contain one of them.
    pub keywords: Vec<String>,
    /// Regular expression over bytes; capture group 1 is the secret. Empty for a rule that a
    /// [`Check`] decides.
    #[serde(default)]
    pub(crate) pattern: String,
    /// A check in code that decides this rule instead of a pattern, for findings that need
    /// more than one file (see [`Check`]). Such a rule has no keywords: the scanner never
    /// runs it.
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    // the engine reads StaticRule's; the rule tests read this
    pub(crate) check: Option<Check>,
    /// Minimum Shannon entropy (bits per byte) of the secret; lower is treated as a placeholder.
    #[serde(default)]
    pub(crate) min_entropy: Option<f64>,
    /// Whether placeholder heuristics (runs like `xxxxxx`, `abcdef`, the word "example") apply.
    /// Off for formats whose real values contain such runs (DER's `AAAAAA`).
    #[serde(default = "yes")]
    pub(crate) placeholder_filter: bool,
    /// Whether the generic-assignment filters apply (the value is checked against references,
    /// templates, paths, identifiers, hashes and labels; see [`crate::scan::filters`]). The pattern
    /// may name the assigned-to identifier as group `name`.
    #[serde(default)]
    pub(crate) assignment: bool,
    /// A structural check the secret must pass beyond its pattern (see [`Validator`]).
    #[serde(default)]
    pub(crate) validate: Option<Validator>,
    /// Whether a match can span lines (PEM blocks). A single-line rule's regex runs only on
    /// the lines where one of its keywords occurs.
    #[serde(default)]
    pub(crate) multiline: bool,
    /// Regex on the path of files this rule does not scan (lockfiles, for generic rules).
    #[serde(default)]
    pub(crate) path_exclude: Option<String>,
    /// Whether the rule is distinctive enough to run on binary blobs too.
    #[serde(default)]
    pub(crate) binary: bool,
    /// Public heads a secret may start with, shown in previews (`sk-proj-`); keywords count too.
    #[serde(default)]
    pub(crate) prefixes: Vec<String>,
    /// Exact secret values that are documented examples and never real (AWS's own example).
    #[serde(default)]
    pub(crate) allow_values: Vec<String>,
    /// Where the key is managed and revoked, e.g. `https://platform.openai.com/api-keys`.
    pub(crate) revoke_url: String,
    /// The environment variable code should read instead, e.g. `OPENAI_API_KEY`.
    pub(crate) env_var: String,
    /// The characters an identifier may end in, right before the secret, for the rule still
    /// to find it glued there (`TOKEN_ghp_…`), as the body of a regex class: `"_0-9-"`. The
    /// pattern's left boundary does the finding; this says what it lets through, and the rule
    /// check proves it: every example is found with `KEY` and each of `_`, `-`, a digit and a
    /// letter of either case glued on its left when the class holds that character, and not
    /// found when it does not. Unset: the rule makes no claim (most rules need a boundary).
    #[serde(default)]
    pub(crate) glued_after: Option<String>,
    /// Examples with the secret between `«` and `»`; generators like `{{alnum:20}}` are expanded.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Text that must never produce a finding for this rule.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

/// Checks that look inside a matched value, for formats whose look-alikes share their shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Validator {
    /// A JSON Web Token: header and payload decode to JSON objects, the header names an
    /// algorithm other than `none`, and the token is not a public one (a Supabase `anon` key,
    /// the jwt.io sample).
    Jwt,
    /// Base64 of `user:password` (a registry `auth` entry) whose password passes the same
    /// filters as an assigned secret.
    BasicAuth,
    /// The password of a URL (`scheme://user:password@host`): not for documentation hosts
    /// (`example.com`) or the local machine; on a real host (a domain name) any password but
    /// a template, a placeholder or the user name again, elsewhere one that passes the filters
    /// of an assigned secret.
    UrlCredentials,
    /// The password of a connection string (`Server=…;User ID=…;Password=…`): not for the
    /// local machine or a documentation host, not a template, placeholder or default.
    ConnectionPassword,
    /// Base64 of a DER private key (PKCS#1, SEC1 or PKCS#8), without PEM armour.
    DerPrivateKey,
    /// A PEM block's body that is not a DER structure cut short (documentation showing a
    /// key's first line and `...`).
    PemBody,
}

/// Rules decided by code rather than a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Check {
    /// A Dockerfile read with the `.dockerignore` of its build context (see [`dockerfile`]).
    Dockerfile,
}

fn yes() -> bool {
    true
}

/// What happens when a rule matches: a forbidden file, or a content rule's finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FileAction {
    /// The commit is blocked.
    #[default]
    Block,
    /// The file is reported but the commit goes through.
    Warn,
}

/// A forbidden-file rule: a path that must not be committed, whatever it holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRule {
    /// Stable identifier, e.g. `kw.file.env`.
    pub(crate) id: String,
    /// Human name shown in reports.
    pub(crate) name: String,
    /// Regex matched against the file name (the last path component).
    pub(crate) name_pattern: String,
    /// Literals (lowercase), at least one of which is in every matching name: the name
    /// pattern is compiled and tried only for names that contain one.
    #[serde(default)]
    pub(crate) name_keywords: Vec<String>,
    /// Regex on the file name that exempts a match (templates such as `.env.example`).
    #[serde(default)]
    pub(crate) except_pattern: Option<String>,
    /// Regex on the content: when set, the file is forbidden only if its content matches
    /// (an `.npmrc` that carries a token, a kubeconfig with embedded credentials).
    #[serde(default)]
    pub(crate) content_pattern: Option<String>,
    /// Content for the examples of a rule with `content_pattern` (generators allowed).
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))] // read by the tests of every file rule
    pub(crate) content_example: Option<String>,
    /// Block or warn.
    pub(crate) action: FileAction,
    /// One line telling the developer what to do instead.
    pub(crate) guidance: String,
    /// Paths that must match.
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))] // read by the tests of every file rule
    pub(crate) examples: Vec<String>,
    /// Paths that must not match.
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))] // read by the tests of every file rule
    pub(crate) negative_examples: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Rule>,
    #[serde(default)]
    file: Vec<FileRule>,
}

/// Errors met while loading rules.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A rule file is not valid TOML for the schema.
    #[error("rule file {file}: {message}")]
    Parse {
        /// Which file.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
}

/// The built-in rule files with their examples and negative examples, as JSON (for the tests
/// that prove every example; the schema is checked there, by serde).
const BUILTIN_FULL: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules_full.rs"));

/// The built-in content rules, in priority order (file-name order, then order in the file):
/// when two rules match the same bytes, the earlier rule's finding is kept, so the generic
/// rules come last. `build.rs` writes them as Rust values: nothing is parsed at start-up.
pub static BUILTIN_RULES: &[StaticRule] = include!(concat!(env!("OUT_DIR"), "/builtin_static.rs"));

/// The built-in forbidden-file rules.
pub(crate) static BUILTIN_FILES: &[StaticFileRule] =
    include!(concat!(env!("OUT_DIR"), "/builtin_static_files.rs"));

/// A built-in content rule as the binary embeds it: [`Rule`] without its examples (nor
/// `glued_after`, which only the rule check reads), in `'static` data. [`StaticRule::to_rule`] makes the owned rule, when one is needed.
#[derive(Debug)]
#[allow(missing_docs)] // the fields are [`Rule`]'s
pub struct StaticRule {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) family: Option<&'static str>,
    pub(crate) action: FileAction,
    pub(crate) guidance: Option<&'static str>,
    pub keywords: &'static [&'static str],
    pub(crate) pattern: &'static str,
    pub(crate) check: Option<Check>,
    pub(crate) min_entropy: Option<f64>,
    pub(crate) placeholder_filter: bool,
    pub(crate) assignment: bool,
    pub(crate) validate: Option<Validator>,
    pub(crate) multiline: bool,
    pub(crate) path_exclude: Option<&'static str>,
    pub(crate) binary: bool,
    pub(crate) prefixes: &'static [&'static str],
    pub(crate) allow_values: &'static [&'static str],
    pub(crate) revoke_url: &'static str,
    pub(crate) env_var: &'static str,
}

impl StaticRule {
    /// The owned rule (without examples).
    pub(crate) fn to_rule(&self) -> Rule {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Rule {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            family: self.family.map(str::to_owned),
            action: self.action,
            guidance: self.guidance.map(str::to_owned),
            keywords: strings(self.keywords),
            pattern: self.pattern.to_owned(),
            check: self.check,
            min_entropy: self.min_entropy,
            placeholder_filter: self.placeholder_filter,
            assignment: self.assignment,
            validate: self.validate,
            multiline: self.multiline,
            path_exclude: self.path_exclude.map(str::to_owned),
            binary: self.binary,
            prefixes: strings(self.prefixes),
            allow_values: strings(self.allow_values),
            revoke_url: self.revoke_url.to_owned(),
            env_var: self.env_var.to_owned(),
            glued_after: None,
            examples: Vec::new(),
            negative_examples: Vec::new(),
        }
    }
}

/// A built-in forbidden-file rule as the binary embeds it (see [`StaticRule`]).
#[derive(Debug)]
#[allow(missing_docs)] // the fields are [`FileRule`]'s
pub(crate) struct StaticFileRule {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) name_pattern: &'static str,
    pub(crate) name_keywords: &'static [&'static str],
    pub(crate) except_pattern: Option<&'static str>,
    pub(crate) content_pattern: Option<&'static str>,
    pub(crate) action: FileAction,
    pub(crate) guidance: &'static str,
}

impl StaticFileRule {
    /// The owned rule (without examples).
    pub(crate) fn to_rule(&self) -> FileRule {
        FileRule {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            name_pattern: self.name_pattern.to_owned(),
            name_keywords: self.name_keywords.iter().map(|s| (*s).to_owned()).collect(),
            except_pattern: self.except_pattern.map(str::to_owned),
            content_pattern: self.content_pattern.map(str::to_owned),
            content_example: None,
            action: self.action,
            guidance: self.guidance.to_owned(),
            examples: Vec::new(),
            negative_examples: Vec::new(),
        }
    }
}

/// Whether `id` is a built-in rule's (content or forbidden-file).
pub(crate) fn is_builtin_id(id: &str) -> bool {
    BUILTIN_RULES.iter().any(|r| r.id == id) || BUILTIN_FILES.iter().any(|r| r.id == id)
}

/// The full set of rules a scan uses.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Content rules, in priority order.
    pub rules: Vec<Rule>,
    /// Forbidden-file rules.
    pub(crate) files: Vec<FileRule>,
}

impl RuleSet {
    /// The built-in catalog as owned rules, without their examples (scanning never reads
    /// them; a scan turns only the rules it needs into owned ones, see [`BUILTIN_RULES`]).
    pub fn builtin() -> Result<Self, LoadError> {
        Ok(RuleSet {
            rules: BUILTIN_RULES.iter().map(StaticRule::to_rule).collect(),
            files: BUILTIN_FILES.iter().map(StaticFileRule::to_rule).collect(),
        })
    }

    /// Parses the built-in catalog with every rule's examples and negative examples.
    pub fn builtin_with_examples() -> Result<Self, LoadError> {
        Self::parse_builtin(BUILTIN_FULL)
    }

    fn parse_builtin(files: &[(&str, &str)]) -> Result<Self, LoadError> {
        let mut set = RuleSet::default();
        for (name, json) in files {
            let parsed: RuleFile = serde_json::from_str(json).map_err(|e| LoadError::Parse {
                file: format!("src/rules/builtin/{name}"),
                message: e.to_string(),
            })?;
            set.rules.extend(parsed.rule);
            set.files.extend(parsed.file);
        }
        Ok(set)
    }

    /// Adds the rules of one TOML document; `origin` names it in errors.
    pub(crate) fn extend_from_toml(&mut self, origin: &str, text: &str) -> Result<(), LoadError> {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| LoadError::Parse {
            file: origin.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        self.rules.extend(parsed.rule);
        self.files.extend(parsed.file);
        Ok(())
    }
}

impl Rule {
    /// Whether previews show this rule's match whole: only a warning's whose match is a name
    /// (a browser-exposed variable, an option: the practices the seed warns against). A rule
    /// with a key's marks — public heads (`prefixes`), an entropy floor, a validator — matches
    /// a key, which is previewed as a key whatever the rule's action (Stripe's test-mode keys
    /// only warn, and are keys all the same).
    pub(crate) fn shows_match(&self) -> bool {
        self.action == FileAction::Warn
            && self.prefixes.is_empty()
            && self.min_entropy.is_none()
            && self.validate.is_none()
    }

    /// The public, non-secret head of a secret, for previews: the longest declared prefix or
    /// keyword the secret starts with (`sk-proj-`, `ghp_`), never more than a third of it.
    pub(crate) fn public_prefix<'a>(&self, secret: &'a [u8]) -> &'a [u8] {
        let best = self
            .prefixes
            .iter()
            .chain(&self.keywords)
            .filter(|k| {
                secret.len() >= k.len() * 3 && secret[..k.len()].eq_ignore_ascii_case(k.as_bytes())
            })
            .map(|k| k.len())
            .max()
            .unwrap_or(0);
        &secret[..best]
    }
}

#[cfg(test)]
mod tests {
    use super::examples::{expand, Rng};
    use super::*;
    use crate::scan::Scanner;

    /// Every rule's examples go through the whole scanner: each must be found exactly where its
    /// `«…»` marks say, under that rule, and must contain one of the rule's keywords (or the
    /// prefilter would never run the regex). No negative example may produce a finding.
    #[test]
    fn every_rule_finds_its_examples_and_none_of_its_negative_examples() {
        let mut set = RuleSet::builtin_with_examples().expect("built-in rules parse");
        let checked: Vec<Rule> = set
            .rules
            .iter()
            .filter(|r| r.check.is_some())
            .cloned()
            .collect();
        set.rules.retain(|r| r.check.is_none());
        every_checked_rule_finds_its_examples(&checked);
        let scanner = Scanner::new(set.rules.clone()).expect("scanner builds");
        scanner.compile_all().expect("every pattern compiles");
        let mut rng = Rng::new(u64::from_le_bytes(*b"keyward!"));
        let mut ids = std::collections::HashSet::new();
        for (index, rule) in set.rules.iter().enumerate() {
            assert!(ids.insert(rule.id.clone()), "duplicate rule id {}", rule.id);
            assert!(
                rule.id.starts_with("kw."),
                "{}: ids start with kw.",
                rule.id
            );
            assert!(rule.family.is_some(), "{}: needs a family", rule.id);
            // The one rule check (`keyward rules check` runs it too), examples drawn several
            // times so that a pattern that only works for lucky bodies fails; negative
            // examples must produce no finding from any rule of the catalog.
            if let Err(e) =
                crate::scan::check::check(&scanner, index, crate::scan::check::DRAWS, &mut rng)
            {
                panic!("{e}");
            }
        }
    }

    /// A preview shows a match whole only where it is a name: the seed's warnings about
    /// variables and options; a key that only warns (Stripe's test-mode keys) is previewed as
    /// a key.
    #[test]
    fn only_warnings_about_names_show_their_match() {
        let shown: Vec<&str> = BUILTIN_RULES
            .iter()
            .filter(|r| r.to_rule().shows_match())
            .map(|r| r.id)
            .collect();
        assert!(!shown.is_empty());
        for id in &shown {
            assert!(id.starts_with("kw.seed."), "{id} shows its match whole");
        }
        let stripe = BUILTIN_RULES.iter().find(|r| r.id == "kw.stripe.test-key");
        let stripe = stripe.expect("the Stripe test-key rule").to_rule();
        assert_eq!(stripe.action, FileAction::Warn);
        assert!(!stripe.shows_match());
    }

    /// The rules a [`Check`] decides: their examples are Dockerfiles (without a
    /// `.dockerignore`), and the check must report exactly the marked span under the rule.
    fn every_checked_rule_finds_its_examples(rules: &[Rule]) {
        let mut rng = Rng::new(7);
        assert!(!rules.is_empty());
        for rule in rules {
            assert!(
                rule.keywords.is_empty(),
                "{}: the scanner must never run it",
                rule.id
            );
            assert!(
                rule.family.is_some() && !rule.examples.is_empty(),
                "{}",
                rule.id
            );
            let found = |text: &str| -> Vec<(String, std::ops::Range<usize>)> {
                match rule.check {
                    Some(Check::Dockerfile) => {
                        dockerfile::check(b"Dockerfile", text.as_bytes(), None)
                            .into_iter()
                            .map(|f| (f.rule.to_owned(), f.span))
                            .collect()
                    }
                    None => Vec::new(),
                }
            };
            for template in &rule.examples {
                let ex = expand(template, &mut rng).expect("valid example");
                let want = ex.secret.clone().expect("examples mark the span");
                assert!(
                    found(&ex.text).contains(&(rule.id.clone(), want)),
                    "{}: example not found: {template}",
                    rule.id
                );
            }
            for template in &rule.negative_examples {
                let ex = expand(template, &mut rng).expect("valid negative example");
                assert!(
                    !found(&ex.text).iter().any(|(id, _)| *id == rule.id),
                    "{}: negative example found: {template}",
                    rule.id
                );
            }
        }
    }

    /// The rules `build.rs` embeds as Rust values are exactly what serde reads from the TOML
    /// (without the examples): the two cannot drift apart.
    #[test]
    fn the_embedded_catalog_is_the_parsed_one() {
        let parsed = RuleSet::builtin_with_examples().expect("built-in rules parse");
        let embedded = RuleSet::builtin().expect("embedded");
        assert_eq!(parsed.rules.len(), embedded.rules.len());
        assert_eq!(parsed.files.len(), embedded.files.len());
        for (mut p, e) in parsed.rules.into_iter().zip(embedded.rules) {
            p.examples.clear();
            p.negative_examples.clear();
            p.glued_after = None;
            assert_eq!(format!("{p:?}"), format!("{e:?}"));
        }
        for (mut p, e) in parsed.files.into_iter().zip(embedded.files) {
            p.examples.clear();
            p.negative_examples.clear();
            p.content_example = None;
            assert_eq!(format!("{p:?}"), format!("{e:?}"));
        }
    }

    /// The document keyward grew from is full of placeholders (`sk-proj-...`); it must pass.
    #[test]
    fn the_seed_document_is_clean() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/seed/000_f593cda742fc14fd.txt"
        );
        // The seed sits beside the checkout (`../shared`, as CI clones it): without it this
        // test fails rather than pass having checked nothing.
        let text = std::fs::read(path).unwrap_or_else(|e| {
            panic!("the seed document {path}: {e} (../shared/seed beside the checkout)")
        });
        let set = RuleSet::builtin().expect("built-in rules parse");
        let scanner = Scanner::new(set.rules).expect("scanner builds");
        assert!(scanner.scan(&text, false).expect("scan").is_empty());
    }

    #[test]
    fn only_the_rules_whose_keywords_occur_are_compiled() {
        let set = RuleSet::builtin().expect("built-in rules parse");
        let scanner = Scanner::new(set.rules).expect("scanner builds");
        scanner
            .scan(b"fn main() { println!(\"hello\"); }", false)
            .expect("scan");
        assert_eq!(scanner.compiled_count(), 0);
        scanner.scan(b"x = ghp_", false).expect("scan");
        assert_eq!(scanner.compiled_count(), 1);
    }
}
