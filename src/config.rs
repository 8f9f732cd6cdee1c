//! The team's policy file, `.keyward.toml` at the repository root, and the effective settings:
//! flags over the file over per-person git config (`keyward.*`) over defaults.
//!
//! The file is read from the working tree and versioned with the code. Unknown keys are
//! errors that name the file, the line and the key, so a typo never silently turns a check
//! off. Exceptions are keyed to a finding's fingerprint (rule id + secret value, hashed), carry
//! a reason, and may expire; the secret itself is never stored.

use crate::rules::{self, Rule};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name, at the repository root.
pub const FILE_NAME: &str = ".keyward.toml";

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
pub struct File {
    /// Block secrets already in HEAD too.
    #[serde(default)]
    pub strict: Option<bool>,
    /// Size cap, e.g. `"8m"`.
    #[serde(default)]
    pub max_file_size: Option<String>,
    /// Whether inline `keyward:allow` markers are honoured.
    #[serde(default)]
    pub inline_allow: Option<bool>,
    /// Exceptions.
    #[serde(default)]
    pub allow: Allow,
    /// Extra forbidden files.
    #[serde(default)]
    pub forbid: Forbid,
    /// Custom rules, with the built-in schema.
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// `[allow]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// Globs whose content is not scanned.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Globs exempt from the forbidden-file rules.
    #[serde(default)]
    pub files: Vec<String>,
    /// Rule ids turned off.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Allowed findings, by fingerprint.
    #[serde(default)]
    pub fingerprints: Vec<AllowedFingerprint>,
}

/// One `[[allow.fingerprints]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedFingerprint {
    /// The finding's fingerprint (8 hex digits).
    pub fingerprint: String,
    /// Why it is allowed (required: the audit trail).
    pub reason: String,
    /// `YYYY-MM-DD`: after this day the entry stops allowing.
    #[serde(default)]
    pub expires: Option<String>,
}

/// `[forbid]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forbid {
    /// Extra globs of files that must not be committed.
    #[serde(default)]
    pub paths: Vec<String>,
}

/// A loaded, validated `.keyward.toml`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// What it says.
    pub file: File,
    /// The 1-based line of each top-level setting, for `keyward config`.
    pub lines: Vec<(String, usize)>,
    /// `allow.paths`, compiled.
    pub allow_paths: GlobSet,
    /// `allow.files`, compiled.
    pub allow_files: GlobSet,
    /// `forbid.paths`, compiled.
    pub forbid_paths: GlobSet,
    /// `max-file-size` in bytes.
    pub max_file_size: Option<u64>,
}

impl Config {
    /// Reads `.keyward.toml` in `root`; `Ok(None)` when there is none.
    pub fn load(root: &Path) -> Result<Option<Self>, ConfigError> {
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
        Self::parse(&path, &text).map(Some)
    }

    /// Parses and validates the text of a `.keyward.toml`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let shown = FILE_NAME.to_owned();
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
        let globs = |what: &str, list: &[String]| -> Result<GlobSet, ConfigError> {
            let mut b = GlobSetBuilder::new();
            for g in list {
                b.add(glob(g).map_err(|e| value(format!("{what}: {e}")))?);
            }
            b.build().map_err(|e| value(format!("{what}: {e}")))
        };
        let max_file_size = file
            .max_file_size
            .as_deref()
            .map(|s| {
                crate::cli::parse_size(s)
                    .ok_or_else(|| value(format!("max-file-size: invalid size `{s}`")))
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
        let builtin = rules::RuleSet::builtin().map_err(|e| value(e.to_string()))?;
        for id in &file.allow.rules {
            let known = builtin.rules.iter().any(|r| &r.id == id)
                || builtin.files.iter().any(|r| &r.id == id)
                || file.rule.iter().any(|r| &r.id == id);
            if !known {
                return Err(value(format!(
                    "allow.rules: unknown rule id `{id}` (see keyward rules)"
                )));
            }
        }
        for rule in &file.rule {
            validate_rule(rule, &builtin).map_err(|m| value(format!("rule {}: {m}", rule.id)))?;
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
            path: path.to_owned(),
            allow_paths: globs("allow.paths", &file.allow.paths)?,
            allow_files: globs("allow.files", &file.allow.files)?,
            forbid_paths: globs("forbid.paths", &file.forbid.paths)?,
            max_file_size,
            lines,
            file,
        })
    }

    /// The line a top-level setting is on.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.lines.iter().find(|(k, _)| k == key).map(|(_, l)| *l)
    }

    /// The entry allowing `fingerprint`, if any.
    pub fn allowed(&self, fingerprint: &str) -> Option<&AllowedFingerprint> {
        self.file
            .allow
            .fingerprints
            .iter()
            .find(|e| e.fingerprint == fingerprint)
    }
}

/// A glob over repository paths: `*` stays within a directory, `**` crosses them, and a
/// pattern without `/` matches a file name at any depth (as in `.gitignore`).
fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    let pattern = if pattern.contains('/') {
        pattern.trim_start_matches('/').to_owned()
    } else {
        format!("**/{pattern}")
    };
    globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
}

/// 8 lowercase hex digits.
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `YYYY-MM-DD` → days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if s.trim().len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Today, in days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 86_400) as i64)
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A custom rule must compile, find each example where its `«…»` marks say, carry a keyword in
/// every example, and find none of its negative examples.
fn validate_rule(rule: &Rule, builtin: &rules::RuleSet) -> Result<(), String> {
    if builtin.rules.iter().any(|r| r.id == rule.id) {
        return Err("the id is a built-in rule's".into());
    }
    if rule.keywords.is_empty() {
        return Err("needs at least one keyword".into());
    }
    if rule.examples.is_empty() {
        return Err("needs at least one example".into());
    }
    let mut rule = rule.clone();
    rule.keywords = rule
        .keywords
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .collect();
    let scanner = crate::scan::Scanner::new(vec![rule.clone()]).map_err(|e| e.to_string())?;
    scanner.compile_all().map_err(|e| e.to_string())?;
    let mut rng = rules::examples::Rng::new(7);
    for template in &rule.examples {
        let ex = rules::examples::expand(template, &mut rng)
            .map_err(|e| format!("example `{template}`: {e}"))?;
        let lower = ex.text.to_ascii_lowercase();
        if !rule.keywords.iter().any(|k| lower.contains(k.as_str())) {
            return Err(format!(
                "example `{template}` contains none of the keywords"
            ));
        }
        let found = scanner
            .scan(ex.text.as_bytes(), false)
            .map_err(|e| e.to_string())?;
        let ok = match &ex.secret {
            Some(span) => found.iter().any(|m| &m.secret == span),
            None => !found.is_empty(),
        };
        if !ok {
            return Err(format!("example `{template}` does not match"));
        }
    }
    for template in &rule.negative_examples {
        let ex = rules::examples::expand(template, &mut rng)
            .map_err(|e| format!("negative example `{template}`: {e}"))?;
        if !scanner
            .scan(ex.text.as_bytes(), false)
            .map_err(|e| e.to_string())?
            .is_empty()
        {
            return Err(format!("negative example `{template}` matches"));
        }
    }
    Ok(())
}

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Built in.
    Default,
    /// `git config keyward.<key>` (with the scope when known).
    GitConfig(String),
    /// `.keyward.toml`, at this line.
    File(usize),
    /// A command-line flag.
    Flag,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::GitConfig(what) => write!(f, "git config {what}"),
            Source::File(line) => write!(f, "{FILE_NAME}:{line}"),
            Source::Flag => f.write_str("command line"),
        }
    }
}

/// The settings a scan runs with, and where each came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// What the engine uses.
    pub settings: crate::engine::Settings,
    /// When to colour.
    pub color: crate::cli::Color,
    /// `(name, value, source)` of each setting, for `keyward config`.
    pub sources: Vec<(&'static str, String, Source)>,
}

/// Flags win, then `.keyward.toml` (the team's policy), then git config (a person's
/// choices), then defaults. `git` holds the `keyward.*` entries, keys lowercased.
pub fn resolve(
    options: &crate::cli::Options,
    file: Option<&Config>,
    git: &[(String, String)],
) -> Result<Resolved, ConfigError> {
    use crate::cli::Color;
    let bad = |key: &str, v: &str, what: &str| ConfigError::Value {
        path: "git config".into(),
        message: format!(
            "keyward.{key}: `{}` is not {what}",
            crate::redact::escape(v.as_bytes())
        ),
    };
    let git_value = |key: &str| {
        git.iter()
            .rev()
            .find(|(k, _)| k == &format!("keyward.{key}"))
            .map(|(_, v)| v.as_str())
    };
    let mut settings = options.settings;
    let mut sources = Vec::new();

    let (strict, from) = if options.explicit.strict {
        (true, Source::Flag)
    } else if let Some(v) = file.and_then(|c| c.file.strict) {
        (
            v,
            Source::File(file.and_then(|c| c.line_of("strict")).unwrap_or(1)),
        )
    } else if let Some(v) = git_value("strict") {
        let b = git_bool(v).ok_or_else(|| bad("strict", v, "a boolean"))?;
        (b, Source::GitConfig("keyward.strict".into()))
    } else {
        (false, Source::Default)
    };
    settings.policy.strict = strict;
    sources.push(("strict", strict.to_string(), from));

    let (inline, from) = if options.explicit.inline_allow {
        (false, Source::Flag)
    } else if let Some(v) = file.and_then(|c| c.file.inline_allow) {
        (
            v,
            Source::File(file.and_then(|c| c.line_of("inline-allow")).unwrap_or(1)),
        )
    } else if let Some(v) = git_value("inlineallow") {
        let b = git_bool(v).ok_or_else(|| bad("inlineAllow", v, "a boolean"))?;
        (b, Source::GitConfig("keyward.inlineAllow".into()))
    } else {
        (true, Source::Default)
    };
    settings.policy.inline_allow = inline;
    sources.push(("inline-allow", inline.to_string(), from));

    let (size, from) = if options.explicit.max_file_size {
        (options.settings.max_file_size, Source::Flag)
    } else if let Some(v) = file.and_then(|c| c.max_file_size) {
        (
            v,
            Source::File(file.and_then(|c| c.line_of("max-file-size")).unwrap_or(1)),
        )
    } else if let Some(v) = git_value("maxfilesize") {
        let n = crate::cli::parse_size(v).ok_or_else(|| bad("maxFileSize", v, "a size"))?;
        (n, Source::GitConfig("keyward.maxFileSize".into()))
    } else {
        (crate::engine::DEFAULT_MAX_FILE_SIZE, Source::Default)
    };
    settings.max_file_size = size;
    sources.push(("max-file-size", crate::policy::human_size(size), from));

    let (color, from) = if options.explicit.color {
        (options.color, Source::Flag)
    } else if let Some(v) = git_value("color") {
        let c = match v.trim().to_ascii_lowercase().as_str() {
            "auto" => Color::Auto,
            "always" | "true" => Color::Always,
            "never" | "false" => Color::Never,
            _ => return Err(bad("color", v, "auto, always or never")),
        };
        (c, Source::GitConfig("keyward.color".into()))
    } else {
        (Color::Auto, Source::Default)
    };
    sources.push(("color", format!("{color:?}").to_ascii_lowercase(), from));
    Ok(Resolved {
        settings,
        color,
        sources,
    })
}

/// Appends an exception for `fingerprint` to the `.keyward.toml` in `root` (creating it),
/// keeping what is there byte for byte. Returns the file's path.
pub fn append_allow(
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
        let current = Config::parse(&path, &old)?;
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
    Config::parse(&path, &text).map_err(|e| {
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

/// Reads git's boolean spellings.
pub fn git_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// The `keyward.*` entries of `GIT_CONFIG_PARAMETERS`, which carries `git -c key=value` to
/// the hooks git runs: `'keyward.strict'='true' 'core.x'='y'` (shell-quoted; older gits
/// quote `'key=value'` as one word).
pub fn config_parameters(raw: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut chars = raw.chars().peekable();
    let mut word = String::new();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                    in_word = true;
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=').unwrap_or((w.as_str(), "true"));
            let k = k.to_ascii_lowercase();
            k.starts_with("keyward.").then(|| (k, v.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(FILE_NAME), text)
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
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let ok = parse("strict = true\nmax-file-size = \"8m\"\n[allow]\npaths = [\"tests/fixtures/**\"]\nrules = [\"kw.jwt.token\"]\n[[allow.fingerprints]]\nfingerprint = \"0123abcd\"\nreason = \"fixture\"\nexpires = \"2030-01-31\"\n").expect("valid");
        assert_eq!(ok.max_file_size, Some(8 << 20));
        assert_eq!(ok.line_of("strict"), Some(1));
        assert!(ok.allow_paths.is_match("tests/fixtures/a/b.json"));
        assert!(!ok.allow_paths.is_match("src/tests/fixtures.rs"));
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

    #[test]
    fn dates_and_parameters() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(
            config_parameters("'keyward.strict'='true' 'core.pager'='less'"),
            vec![("keyward.strict".into(), "true".into())]
        );
        assert_eq!(
            config_parameters("'keyward.inlineAllow=false'"),
            vec![("keyward.inlineallow".into(), "false".into())]
        );
    }
}
