//! Forbidden files: names that must not be committed (`.env`, private keys, keystores),
//! some only with a content condition (an `.npmrc` holding a token), and the extra names a
//! team's `.keyward.toml` forbids or exempts.
//!
//! Names are matched as the file systems developers use see them, and as a careless commit
//! records them:
//! - **Without regard to case.** macOS and Windows file systems make `.ENV` and `.env` one
//!   file: dotenv, ssh and npm read `.ENV`, `ID_RSA` and `.NPMRC` there, so the name a Mac
//!   commits is the file those tools read. (ASCII case only: tools name these files in ASCII.)
//! - **With what editors and tools leave beside a file** ([`LEFTOVERS`]): backups (`.env~`,
//!   `.env.bak`, `.env.orig`), swap, undo and autosave files (`.env.swp`, `#.env#`), Emacs's
//!   lock (`.#.env`), copies (`.env copy`, `.env (1)`). A name is judged with each of these
//!   taken off in turn — its *cores* — and a rule forbids it when one core matches the rule's
//!   name and none is one of the rule's exceptions: `.env.example~` is a template's backup and
//!   passes, `id_rsa.pub.swp` is a public key's swap file and passes.
//!
//! AppleDouble files (`._.env`, macOS's metadata beside a file on foreign file systems) hold
//! extended attributes, not the file's content, and are not leftovers.

use crate::model::{Finding, Kind};
use crate::rules::{FileAction, FileRule};
use once_cell::sync::{Lazy, OnceCell};
use regex::bytes::{Regex, RegexBuilder};

/// Forbidden-file rules. A rule's name pattern is compiled only for a name that contains one
/// of its name keywords, and its exception and content patterns only when the name pattern
/// matches: a typical commit compiles none of them (ten of them cost a millisecond).
#[derive(Debug)]
pub(crate) struct FileMatcher {
    rules: Vec<FileRule>,
    names: Vec<OnceCell<Regex>>,
    conditions: Vec<OnceCell<Conditions>>,
}

/// A file rule's exception and content condition.
type Conditions = (Option<Regex>, Option<Regex>);

/// A forbidden file: the rule that forbids it, and the name it is a leftover of, if it is one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forbidden<'a> {
    /// The rule.
    pub(crate) rule: &'a FileRule,
    /// The forbidden name this one is an editor's or a tool's leftover of (`.env` for
    /// `#.env#`), when the name itself is not one the rule names.
    pub(crate) leftover_of: Option<&'a [u8]>,
}

/// What editors and tools make of a file's name, each with the name in group 1: a name that
/// one of them matches is also judged as that name. Matched without regard to case.
pub(crate) const LEFTOVERS: &[&str] = &[
    // Emacs's auto-save file.
    r"^#(.+)#$",
    // Emacs's lock (a symbolic link on Unix, which is not judged by name; a file on Windows).
    r"^\.#(.+)$",
    // Vim's swap and undo files of a name without a leading dot (`.id_rsa.swp`).
    r"^\.(.+)\.(?:sw[a-p]|un~)$",
    // Backups: Emacs, Vim, nano, gedit (`~`, Emacs's numbered `.~1~`); Vim's swap and undo
    // files of a dotted name (`.env.swp`); hand-made and tool backups, patch and merge
    // leftovers (`git mergetool` keeps `.orig`); nano's `.save`; JetBrains' safe writes;
    // copies by macOS Finder (` copy`, ` copy 2`), Windows Explorer (` - Copy`), browsers and
    // sync clients (` (1)`, ` (conflicted copy …)`); trailing dots and spaces, which Windows
    // drops (`.env.` is `.env` there).
    r"^(.+?)(?:~|\.~[0-9]+~|\.sw[a-p]|\.un~|\.(?:bak|backup|old|orig|rej|save(?:\.[0-9]+)?|tmp|temp)|___jb_(?:tmp|old)___| copy(?: [0-9]+)?| - copy(?: \([0-9]+\))?| \(.*\)|[. ]+)$",
];

/// At most this many cores are judged for one name (a name built of decorations on
/// decorations, `#.#.#.#…`, must not cost more than that).
const MAX_CORES: usize = 32;

/// [`LEFTOVERS`], compiled once, when a name first needs them.
static LEFTOVER_PATTERNS: Lazy<Vec<Regex>> = Lazy::new(|| {
    LEFTOVERS
        .iter()
        .filter_map(|p| name_regex(p).ok())
        .collect()
});

/// `name` and the names it is a leftover of, nearest first: `.env.bak~` gives `.env.bak~`,
/// `.env.bak`, `.env`.
pub(crate) fn cores(name: &[u8]) -> Vec<&[u8]> {
    let mut found = vec![name];
    let mut next = 0;
    while next < found.len() && found.len() < MAX_CORES {
        let current = found[next];
        next += 1;
        for pattern in LEFTOVER_PATTERNS.iter() {
            let Some(core) = pattern.captures(current).and_then(|c| c.get(1)) else {
                continue;
            };
            let core = core.as_bytes();
            if !found.contains(&core) && found.len() < MAX_CORES {
                found.push(core);
            }
        }
    }
    found
}

impl FileMatcher {
    /// A matcher over `rules`; nothing is compiled yet.
    pub(crate) fn new(rules: Vec<FileRule>) -> Self {
        FileMatcher {
            conditions: rules.iter().map(|_| OnceCell::new()).collect(),
            names: rules.iter().map(|_| OnceCell::new()).collect(),
            rules,
        }
    }

    /// Rule `index`'s name pattern, compiled on first use.
    fn name(&self, index: usize) -> Result<&Regex, regex::Error> {
        self.names[index].get_or_try_init(|| name_regex(&self.rules[index].name_pattern))
    }

    fn conditions(&self, index: usize) -> Result<&Conditions, regex::Error> {
        self.conditions[index].get_or_try_init(|| {
            let r = &self.rules[index];
            let except = r.except_pattern.as_deref().map(name_regex).transpose()?;
            let content = r.content_pattern.as_deref().map(bytes_regex).transpose()?;
            Ok((except, content))
        })
    }

    /// The first rule that forbids `path`, matched on its last component, its cores (see the
    /// module's documentation) and without regard to case. Rules with a content condition
    /// (`.npmrc` only when it holds a token) need `content`; without it they are skipped.
    pub(crate) fn matching<'a>(
        &'a self,
        path: &'a [u8],
        content: Option<&[u8]>,
    ) -> Result<Option<Forbidden<'a>>, regex::Error> {
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        // Made when a name holds a rule's keyword: a core holds no byte its name does not.
        let mut names: Option<Vec<&[u8]>> = None;
        for (index, rule) in self.rules.iter().enumerate() {
            // Most names contain none of a rule's keywords: no regex is compiled for them.
            let candidate = rule.name_keywords.is_empty()
                || rule
                    .name_keywords
                    .iter()
                    .any(|k| memchr::memmem::find(&lower, k.as_bytes()).is_some());
            if !candidate {
                continue;
            }
            let names = names.get_or_insert_with(|| cores(name));
            let pattern = self.name(index)?;
            // The farthest core the rule names: what the file is a leftover of.
            let Some(&named) = names.iter().rev().find(|n| pattern.is_match(n)) else {
                continue;
            };
            let (except, wants) = self.conditions(index)?;
            if except
                .as_ref()
                .is_some_and(|e| names.iter().any(|n| e.is_match(n)))
            {
                continue;
            }
            let holds = match (wants, content) {
                (None, _) => true,
                (Some(w), Some(c)) => w.is_match(c),
                (Some(_), None) => false,
            };
            if holds {
                return Ok(Some(Forbidden {
                    rule: &self.rules[index],
                    leftover_of: (named != name).then_some(named),
                }));
            }
        }
        Ok(None)
    }

    /// The finding for a forbidden file.
    pub(crate) fn finding(forbidden: Forbidden<'_>, path: &[u8]) -> Finding {
        let rule = forbidden.rule;
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
            note: forbidden.leftover_of.map(|core| {
                format!(
                    "a leftover of {} (an editor's or a tool's backup, swap, autosave or copy)",
                    crate::redact::escape(core)
                )
            }),
            commit: None,
            allowed: None,
        }
    }
}

/// File names are bytes (git allows any but `/` and NUL), so patterns match bytes, ASCII-wise.
fn bytes_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).unicode(false).build()
}

/// A pattern on file names: bytes, and ASCII letters in either case (see the module's
/// documentation).
fn name_regex(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .case_insensitive(true)
        .build()
}

/// The forbidden-file rule behind `forbid.paths` in `.keyward.toml`.
pub(crate) static CONFIG_FORBIDDEN: once_cell::sync::Lazy<FileRule> =
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
                .map(|f| f.rule.id.clone())
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
                    .map(|f| f.rule.id.clone())
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

    /// What an editor or a tool would leave beside a file named `name`; with `vim_dotted`,
    /// also Vim's swap file of a name without a leading dot (`.id_rsa.swp`), which reads as
    /// the swap file of a dotted name as well (`.env.py.swp` is also `.env.py`'s).
    fn leftovers_of(name: &str, vim_dotted: bool) -> Vec<String> {
        let mut out: Vec<String> = [
            "{}~", "{}.bak", "{}.swp", "{}.orig", "{}.~1~", "#{}#", ".#{}", "{} copy", "{} (1)",
        ]
        .iter()
        .map(|form| form.replace("{}", name))
        .collect();
        if vim_dotted && !name.starts_with('.') {
            out.push(format!(".{name}.swp"));
        }
        out.push(name.to_ascii_uppercase());
        out
    }

    /// Every rule's examples stay forbidden in any case and with whatever an editor leaves
    /// beside them; its negative examples stay allowed the same ways (a template's backup is
    /// a template's).
    #[test]
    fn examples_keep_their_verdict_in_any_case_and_as_leftovers() {
        let set = RuleSet::builtin_with_examples().expect("builtin rules parse");
        for rule in &set.files {
            let one = FileMatcher::new(vec![rule.clone()]);
            let content = rule.content_example.as_deref().map(str::as_bytes);
            let forbids = |path: &str| {
                one.matching(path.as_bytes(), content)
                    .expect("compiles")
                    .is_some()
            };
            let variants = |path: &str, vim_dotted: bool| -> Vec<String> {
                let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
                leftovers_of(name, vim_dotted)
                    .into_iter()
                    .map(|n| {
                        if dir.is_empty() {
                            n
                        } else {
                            format!("{dir}/{n}")
                        }
                    })
                    .collect()
            };
            for path in &rule.examples {
                for variant in variants(path, true) {
                    assert!(forbids(&variant), "{}: {variant} should match", rule.id);
                }
            }
            for path in &rule.negative_examples {
                for variant in variants(path, false) {
                    assert!(
                        !forbids(&variant),
                        "{}: {variant} should not match",
                        rule.id
                    );
                }
            }
        }
    }

    #[test]
    fn cores_take_off_what_editors_and_tools_add() {
        assert_eq!(
            LEFTOVER_PATTERNS.len(),
            LEFTOVERS.len(),
            "every pattern compiles"
        );
        for (name, core) in [
            (".env~", ".env"),
            (".env.swp", ".env"),
            (".ENV.SWO", ".ENV"),
            ("#.env.local#", ".env.local"),
            (".#.env", ".env"),
            (".id_rsa.swp", "id_rsa"),
            (".env.~12~", ".env"),
            (".env.save.3", ".env"),
            (".env copy 2", ".env"),
            (".env - Copy (2)", ".env"),
            (".env (conflicted copy)", ".env"),
            (".env. ", ".env"),
            (".npmrc___jb_tmp___", ".npmrc"),
            (".env.bak~", ".env"),
            ("#.env.swp#", ".env"),
        ] {
            let found = cores(name.as_bytes());
            assert_eq!(found[0], name.as_bytes());
            assert!(
                found.contains(&core.as_bytes()),
                "{name}: {:?}",
                found
                    .iter()
                    .map(|c| String::from_utf8_lossy(c))
                    .collect::<Vec<_>>()
            );
        }
        for plain in [".env", "app.py", ".env.production", "._.env", "id_rsa.pub"] {
            assert_eq!(cores(plain.as_bytes()), vec![plain.as_bytes()], "{plain}");
        }
        // Decorations on decorations cost a bounded amount.
        let crafted = "#.#".repeat(200) + ".env" + &"~".repeat(200);
        assert!(cores(crafted.as_bytes()).len() <= MAX_CORES);
    }

    /// A leftover is reported as one, naming what it is a leftover of.
    #[test]
    fn a_leftover_says_what_it_is_a_leftover_of() {
        let set = RuleSet::builtin().expect("builtin rules parse");
        let m = FileMatcher::new(set.files);
        let found = m
            .matching(b"config/#.env.local#", None)
            .expect("compiles")
            .expect("forbidden");
        assert_eq!(found.rule.id, "kw.file.env");
        assert_eq!(found.leftover_of, Some(&b".env.local"[..]));
        let note = FileMatcher::finding(found, b"config/#.env.local#").note;
        assert!(note.is_some_and(|n| n.contains("a leftover of .env.local")));
        let plain = m
            .matching(b".Env.Production", None)
            .expect("compiles")
            .expect("forbidden");
        assert_eq!(plain.leftover_of, None);
    }
}
