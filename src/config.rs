//! The team's policy file, `.keyward.toml`: its schema, its validation, and `keyward allow`,
//! which appends an exception to it. How its settings combine with flags and git config is
//! [`crate::settings`]'s business; what its exceptions do is [`crate::policy`]'s.
//!
//! The file is read from the working tree and versioned with the code. Unknown keys are
//! errors that name the file, the line and the key, so a typo never silently turns a check
//! off. Exceptions are keyed to a finding's fingerprint (rule id + secret value, hashed), carry
//! a reason, and may expire; the secret itself is never stored.

use crate::model::{parse_date, Size};
use crate::rules::{self, Rule};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::path::{Path, PathBuf};

mod cover;

/// The file name, at the repository root.
pub(crate) const FILE_NAME: &str = ".keyward.toml";

/// Errors in `.keyward.toml`, each naming the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read. (Messages quote what the file says: escaped, like any
    /// untrusted text.)
    #[error("{path}: {}", crate::redact::escape(.message.as_bytes()))]
    Read {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// A syntax or schema error (an unknown key, a wrong type).
    #[error("{path}:{line}: {}", crate::redact::escape(.message.as_bytes()))]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A value that parses but means nothing (a bad glob, date, size or rule).
    #[error("{path}: {}", crate::redact::escape(.message.as_bytes()))]
    Value {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// `.keyward.toml`, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct File {
    /// Block secrets already in HEAD too.
    #[serde(default)]
    pub(crate) strict: Option<bool>,
    /// Size cap, e.g. `"8m"`.
    #[serde(default)]
    pub(crate) max_file_size: Option<String>,
    /// Whether inline `keyward:allow` markers are honoured.
    #[serde(default)]
    pub(crate) inline_allow: Option<bool>,
    /// Exceptions.
    #[serde(default)]
    pub(crate) allow: Allow,
    /// Extra forbidden files.
    #[serde(default)]
    pub(crate) forbid: Forbid,
    /// Custom rules, with the built-in schema.
    #[serde(default)]
    pub(crate) rule: Vec<Rule>,
}

/// `[allow]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Allow {
    /// Globs whose content is not scanned.
    #[serde(default)]
    pub(crate) paths: Vec<String>,
    /// Globs exempt from the forbidden-file rules.
    #[serde(default)]
    pub(crate) files: Vec<String>,
    /// Rule ids turned off.
    #[serde(default)]
    pub(crate) rules: Vec<String>,
    /// Allowed findings, by fingerprint.
    #[serde(default)]
    pub(crate) fingerprints: Vec<AllowedFingerprint>,
}

/// One `[[allow.fingerprints]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AllowedFingerprint {
    /// The finding's fingerprint (8 hex digits).
    pub(crate) fingerprint: String,
    /// Why it is allowed (required: the audit trail).
    pub(crate) reason: String,
    /// `YYYY-MM-DD`: after this day the entry stops allowing.
    #[serde(default)]
    pub(crate) expires: Option<String>,
}

/// `[forbid]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Forbid {
    /// Extra globs of files that must not be committed.
    #[serde(default)]
    pub(crate) paths: Vec<String>,
}

/// A loaded, validated `.keyward.toml`.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// What it says.
    pub(crate) file: File,
    /// The 1-based line of each top-level setting, for `keyward config`.
    pub(crate) lines: Vec<(String, usize)>,
    /// `allow.paths`, compiled.
    pub(crate) allow_paths: GlobSet,
    /// `allow.files`, compiled.
    pub(crate) allow_files: GlobSet,
    /// `forbid.paths`, compiled.
    pub(crate) forbid_paths: GlobSet,
    /// `max-file-size`.
    pub(crate) max_file_size: Option<Size>,
}

impl Config {
    /// Reads `.keyward.toml` in `root`; `Ok(None)` when there is none.
    pub(crate) fn load(root: &Path) -> Result<Option<Self>, ConfigError> {
        let path = root.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: FILE_NAME.into(),
                    message: e.to_string(),
                })
            }
        };
        Self::parse_named(FILE_NAME, &text).map(Some)
    }

    /// Reads a policy file given by name (`--policy FILE`, `KEYWARD_POLICY`): it must exist.
    pub(crate) fn load_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = crate::redact::escape(path.as_os_str().as_encoded_bytes());
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        Self::parse_named(&shown, &text)
    }

    /// Parses and validates the text of a `.keyward.toml` (see [`Config::load`]).
    pub(crate) fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_named(FILE_NAME, text)
    }

    /// [`Config::parse`], naming the file `shown` in errors.
    fn parse_named(shown: &str, text: &str) -> Result<Self, ConfigError> {
        let shown = shown.to_owned();
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: shown.clone(),
            line: e.span().map_or(1, |s| {
                1 + text[..s.start.min(text.len())].matches('\n').count()
            }),
            message: e.message().trim().replace('\n', " "),
        })?;
        let value = |message: String| ConfigError::Value {
            path: shown.clone(),
            message,
        };
        let globs = |what: &str, list: &[String], allowing: bool| -> Result<GlobSet, ConfigError> {
            let compiled = list
                .iter()
                .map(|g| glob(g, !allowing).map_err(|e| value(format!("{what}: {e}"))))
                .collect::<Result<Vec<Glob>, _>>()?;
            let set = glob_set(&compiled).map_err(|e| value(format!("{what}: {e}")))?;
            // An exception for every file is an off switch, not an exception.
            if allowing {
                refuse_everything(what, list, &compiled, &set).map_err(|(glob, message)| {
                    ConfigError::Invalid {
                        path: shown.clone(),
                        line: glob.map_or(1, |g| line_with(text, g)),
                        message,
                    }
                })?;
            }
            Ok(set)
        };
        let max_file_size = file
            .max_file_size
            .as_deref()
            .map(|s| {
                let size = s.parse::<Size>().map_err(|()| {
                    value(format!(
                        "max-file-size: invalid size `{}`",
                        crate::redact::escape(s.as_bytes())
                    ))
                })?;
                if size < MIN_FILE_SIZE_CAP {
                    return Err(value(format!(
                        "max-file-size: {size} would leave ordinary files unscanned (at least {MIN_FILE_SIZE_CAP})"
                    )));
                }
                Ok(size)
            })
            .transpose()?;
        for entry in &file.allow.fingerprints {
            if !is_fingerprint(&entry.fingerprint) {
                return Err(value(format!(
                    "allow.fingerprints: `{}` is not a fingerprint (8 hex digits, as keyward prints them)",
                    crate::redact::escape(entry.fingerprint.as_bytes())
                )));
            }
            if entry.reason.trim().is_empty() {
                return Err(value(format!(
                    "allow.fingerprints: {} needs a reason",
                    entry.fingerprint
                )));
            }
            if let Some(d) = &entry.expires {
                parse_date(d).ok_or_else(|| {
                    value(format!(
                        "allow.fingerprints: {}: expires `{d}` is not a date (YYYY-MM-DD)",
                        entry.fingerprint
                    ))
                })?;
            }
        }
        for id in &file.allow.rules {
            let known = rules::is_builtin_id(id) || file.rule.iter().any(|r| &r.id == id);
            if !known {
                return Err(value(format!(
                    "allow.rules: unknown rule id `{id}` (see keyward rules)"
                )));
            }
        }
        let mut file = file;
        for rule in &mut file.rule {
            // The prefilter ignores case; keywords are kept lowercase.
            for k in &mut rule.keywords {
                *k = k.to_ascii_lowercase();
            }
        }
        for (index, rule) in file.rule.iter().enumerate() {
            if rules::is_builtin_id(&rule.id) {
                return Err(value(format!(
                    "rule {}: the id is a built-in rule's",
                    rule.id
                )));
            }
            if file.rule[..index].iter().any(|r| r.id == rule.id) {
                return Err(value(format!("rule {}: the id is used twice", rule.id)));
            }
            let scanner = crate::scan::Scanner::new(vec![rule.clone()])
                .map_err(|e| value(format!("rule {}: {e}", rule.id)))?;
            crate::scan::check::check(&scanner, 0, 1, &mut rules::examples::Rng::new(7))
                .map_err(|e| value(e.to_string()))?;
        }
        let lines = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| {
                let key = l.split('=').next()?.trim();
                ["strict", "max-file-size", "inline-allow"]
                    .contains(&key)
                    .then(|| (key.to_owned(), i + 1))
            })
            .collect();
        Ok(Config {
            allow_paths: globs("allow.paths", &file.allow.paths, true)?,
            allow_files: globs("allow.files", &file.allow.files, true)?,
            forbid_paths: globs("forbid.paths", &file.forbid.paths, false)?,
            max_file_size,
            lines,
            file,
        })
    }

    /// The line a top-level setting is on.
    pub(crate) fn line_of(&self, key: &str) -> Option<usize> {
        self.lines.iter().find(|(k, _)| k == key).map(|(_, l)| *l)
    }

    /// The entry allowing `fingerprint`, if any.
    pub(crate) fn allowed(&self, fingerprint: &str) -> Option<&AllowedFingerprint> {
        self.file
            .allow
            .fingerprints
            .iter()
            .find(|e| e.fingerprint == fingerprint)
    }
}

/// A glob over repository paths: `*` stays within a directory, `**` crosses them, and a
/// pattern without `/` matches a file name at any depth (as in `.gitignore`).
///
/// Case: `forbid.paths` matches without regard to it (`any_case`), as the built-in
/// forbidden-file rules do — on macOS and Windows `Secrets.yaml` is the file a team forbade as
/// `secrets.yaml`, and forbidding more is the safe side. Exceptions (`allow.paths`,
/// `allow.files`) match as written: an exception never reaches further than its text, and the
/// report names the path as git records it, ready to be written in.
fn glob(pattern: &str, any_case: bool) -> Result<Glob, globset::Error> {
    let pattern = if pattern.contains('/') {
        pattern.trim_start_matches('/').to_owned()
    } else {
        format!("**/{pattern}")
    };
    globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .case_insensitive(any_case)
        .build()
}

/// The smallest size cap a policy file may set: below it, ordinary source and config files
/// would go unscanned (reported, but not checked).
pub(crate) const MIN_FILE_SIZE_CAP: Size = Size(1 << 20);

/// The globs compiled together.
fn glob_set(globs: &[Glob]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(g.clone());
    }
    b.build()
}

/// Refuses the exceptions `list` of key `what` (compiled: `globs`, `set`) when together they
/// match every file (see [`cover`]). The message names the globs that do — none of them can be
/// left out: the others were, halves first, then smaller runs down to single globs, as long as
/// the rest still matched every file (two globs among fifty take a dozen checks) — and comes
/// with the first one's text, to find its line by.
fn refuse_everything<'a>(
    what: &str,
    list: &'a [String],
    globs: &[Glob],
    set: &GlobSet,
) -> Result<(), (Option<&'a str>, String)> {
    let too_complex = |e: cover::TooComplex| {
        (
            None,
            format!("{what}: {e}; name the files the exceptions are for"),
        )
    };
    let Some(mut reach) = cover::reach(globs, set).map_err(too_complex)? else {
        return Ok(());
    };
    let mut kept: Vec<usize> = (0..list.len()).collect();
    let mut run = kept.len().div_ceil(2);
    while run > 0 {
        let mut start = 0;
        while start < kept.len() && kept.len() > 1 {
            let rest: Vec<usize> = kept[..start]
                .iter()
                .chain(kept.get(start + run..).unwrap_or_default())
                .copied()
                .collect();
            let subset: Vec<Glob> = rest.iter().map(|&k| globs[k].clone()).collect();
            let subset_set = glob_set(&subset).map_err(|e| (None, format!("{what}: {e}")))?;
            match cover::reach(&subset, &subset_set).map_err(too_complex)? {
                Some(r) => (kept, reach) = (rest, r),
                None => start += run,
            }
        }
        run /= 2;
    }
    let named: Vec<String> = kept
        .iter()
        .map(|&k| format!("`{}`", crate::redact::escape(list[k].as_bytes())))
        .collect();
    let (subject, verb) = match named.split_last() {
        Some((only, [])) => (only.clone(), "matches"),
        Some((last, init)) => (format!("{} and {last}", init.join(", ")), "together match"),
        None => (String::new(), "match"),
    };
    let extent = match reach {
        cover::Reach::Every => "every file",
        cover::Reach::Nearly => "every file (at least every dir/name.ext)",
    };
    Err((
        kept.first().map(|&k| list[k].as_str()),
        format!("{what}: {subject} {verb} {extent}; name the files the exception is for"),
    ))
}

/// The 1-based line of `text` that holds `needle` (as a quoted string), or 1.
fn line_with(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(&format!("\"{needle}\"")) || l.contains(&format!("'{needle}'")))
        .map_or(1, |i| i + 1)
}

/// 8 lowercase hex digits.
pub(crate) fn is_fingerprint(s: &str) -> bool {
    s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Appends an exception for `fingerprint` to the `.keyward.toml` in `root` (creating it),
/// keeping what is there byte for byte. Returns the file's path.
pub(crate) fn append_allow(
    root: &Path,
    fingerprint: &str,
    reason: &str,
    expires: Option<&str>,
) -> Result<PathBuf, ConfigError> {
    let path = root.join(FILE_NAME);
    let value = |message: String| ConfigError::Value {
        path: FILE_NAME.into(),
        message,
    };
    if !is_fingerprint(fingerprint) {
        return Err(value(format!(
            "`{}` is not a fingerprint (8 hex digits, as keyward prints them: fp:1a2b3c4d)",
            crate::redact::escape(fingerprint.as_bytes())
        )));
    }
    if let Some(d) = expires {
        parse_date(d)
            .ok_or_else(|| value(format!("--expires `{d}` is not a date (YYYY-MM-DD)")))?;
    }
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(value(e.to_string())),
    };
    if !old.is_empty() {
        let current = Config::parse(&old)?;
        if current.allowed(fingerprint).is_some() {
            return Err(value(format!("{fingerprint} is already allowed")));
        }
    }
    let mut text = old.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str("[[allow.fingerprints]]\n");
    text.push_str(&format!("fingerprint = \"{fingerprint}\"\n"));
    text.push_str(&format!("reason = {}\n", toml_string(reason)));
    if let Some(d) = expires {
        text.push_str(&format!("expires = \"{}\"\n", d.trim()));
    }
    // The result must still be a valid policy (an `allow.fingerprints = [...]` written inline
    // cannot take a `[[allow.fingerprints]]` table after it).
    Config::parse(&text).map_err(|e| {
        value(format!(
            "cannot append an entry to this file ({e}); add it by hand"
        ))
    })?;
    std::fs::write(&path, text).map_err(|e| value(e.to_string()))?;
    Ok(path)
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text)
    }

    #[test]
    fn unknown_keys_name_the_file_and_line() {
        let e = parse("strict = true\n[allow]\npath = [\"x\"]\n").expect_err("unknown key");
        let shown = e.to_string();
        assert!(shown.starts_with(".keyward.toml:3:"), "{shown}");
        assert!(shown.contains("path"), "{shown}");
    }

    #[test]
    fn values_are_validated() {
        for bad in [
            "max-file-size = \"lots\"",
            "[[allow.fingerprints]]\nfingerprint = \"nothex!!\"\nreason = \"x\"",
            "[[allow.fingerprints]]\nfingerprint = \"0123abcd\"\nreason = \" \"",
            "[[allow.fingerprints]]\nfingerprint = \"0123abcd\"\nreason = \"x\"\nexpires = \"soon\"",
            "[allow]\nrules = [\"kw.nope\"]",
            "[allow]\npaths = [\"a[\"]",
            "max-file-size = \"1k\"",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let ok = parse("strict = true\nmax-file-size = \"8m\"\n[allow]\npaths = [\"tests/fixtures/**\"]\nrules = [\"kw.jwt.token\"]\n[[allow.fingerprints]]\nfingerprint = \"0123abcd\"\nreason = \"fixture\"\nexpires = \"2030-01-31\"\n").expect("valid");
        assert_eq!(ok.max_file_size, Some(Size(8 << 20)));
        assert_eq!(ok.line_of("strict"), Some(1));
        assert!(ok.allow_paths.is_match("tests/fixtures/a/b.json"));
        assert!(!ok.allow_paths.is_match("src/tests/fixtures.rs"));
    }

    #[test]
    fn exceptions_for_everything_are_refused_with_their_line() {
        for all in ["**", "*", "/**", "**/*", "**/*.*", "*/**", "**/**"] {
            for key in ["paths", "files"] {
                let text = format!("strict = false\n[allow]\n{key} = [\"docs/*.md\", \"{all}\"]\n");
                let e = parse(&text).expect_err(all).to_string();
                assert!(e.starts_with(".keyward.toml:3:"), "{all}: {e}");
                assert!(e.contains("matches every file"), "{all}: {e}");
            }
        }
        for fine in ["tests/fixtures/**", "*.md", "docs/**", "**/testdata/*.json"] {
            let text = format!("[allow]\npaths = [\"{fine}\"]\n");
            parse(&text).unwrap_or_else(|e| panic!("{fine}: {e}"));
        }
        // Extra forbidden files may be as broad as a team likes.
        parse("[forbid]\npaths = [\"**\"]\n").expect("forbidding is not an exception");
    }

    /// Each glob leaves files out, together they leave none: the list is refused, naming the
    /// key, the line of the first glob that does it and the globs (only those).
    #[test]
    fn exceptions_that_together_match_everything_are_refused() {
        for key in ["paths", "files"] {
            for (list, line, named) in [
                (
                    "\"**/[!a]*\",\n  \"**/a*\"",
                    3,
                    "`**/[!a]*` and `**/a*` together match every file;",
                ),
                (
                    "\"tests/**\",\n  \"[!a]*\",\n  \"a*\"",
                    4,
                    "`[!a]*` and `a*` together match every file;",
                ),
                (
                    "\"**/[!.]*\", \"**/.?*\"",
                    3,
                    "`**/[!.]*` and `**/.?*` together match every file;",
                ),
                (
                    "\"[a-m]*\", \"[n-z]*\", \"[!a-z]*\"",
                    3,
                    "`[a-m]*`, `[n-z]*` and `[!a-z]*` together match every file;",
                ),
                (
                    "\"**/*.{py,rs}\", \"**/*.*\"",
                    3,
                    "`**/*.*` matches every file (at least every dir/name.ext);",
                ),
            ] {
                let text = format!("strict = false\n[allow]\n{key} = [\n  {list}\n]\n")
                    .replacen("[\n  ", "[", 1);
                let e = parse(&text).expect_err(list).to_string();
                let want = format!(".keyward.toml:{line}: allow.{key}: {named}");
                assert!(e.starts_with(&want), "{list}:\n{e}\nwant {want}");
                assert!(!e.contains('\n'), "one line: {e}");
            }
            // Among many, only the globs that do it are named.
            let mut many: Vec<String> = (0..40).map(|i| format!("\"dir{i}/**/*.md\"")).collect();
            many.insert(17, "\"**/[!a]*\"".into());
            many.insert(31, "\"**/a*\"".into());
            let e = parse(&format!("[allow]\n{key} = [{}]\n", many.join(", ")))
                .expect_err("many")
                .to_string();
            assert!(
                e.ends_with(&format!("allow.{key}: `**/[!a]*` and `**/a*` together match every file; name the files the exception is for")),
                "{e}"
            );
            for (alone, both) in [
                (&["**/[!a]*", "**/a*"][..], false),
                (&["**/[!a]*", "**/ab*"], true),
                (&["**/[!a-z]*", "**/[a-y]*"], true),
                (&["*.md", "tests/**", "**/testdata/**"], true),
            ] {
                for glob in alone {
                    parse(&format!("[allow]\n{key} = [\"{glob}\"]\n"))
                        .unwrap_or_else(|e| panic!("{glob} alone: {e}"));
                }
                let list: Vec<String> = alone.iter().map(|g| format!("\"{g}\"")).collect();
                let text = format!("[allow]\n{key} = [{}]\n", list.join(", "));
                assert_eq!(parse(&text).is_ok(), both, "{text}");
            }
        }
    }

    #[test]
    fn custom_rules_must_prove_their_examples() {
        let good = "[[rule]]\nid = \"acme.internal-token\"\nname = \"Acme token\"\nkeywords = [\"acme_\"]\npattern = '''(acme_[a-z0-9]{24})'''\nrevoke_url = \"https://acme.example/tokens\"\nenv_var = \"ACME_TOKEN\"\nexamples = ['t = \"«acme_{{lower:24}}»\"']\nnegative_examples = ['t = \"acme_...\"']\n";
        parse(good).expect("valid custom rule");
        let failing = good.replace("{{lower:24}}", "{{lower:10}}");
        let e = parse(&failing).expect_err("example does not match");
        assert!(e.to_string().contains("acme.internal-token"), "{e}");
        let bad_pattern = good.replace("{24})", "{24}");
        assert!(parse(&bad_pattern).is_err());
        let no_keyword = good.replace("keywords = [\"acme_\"]", "keywords = [\"zzz\"]");
        assert!(parse(&no_keyword).is_err());
    }
}
