//! The team's exceptions, from `.keyward.toml`: paths whose content is not scanned
//! (`allow.paths`), files exempt from the forbidden-file rules (`allow.files`), extra
//! forbidden files (`forbid.paths`), and findings allowed by fingerprint — each with a
//! reason, perhaps until a date.

use crate::config::{AllowedFingerprint, Config};

/// The exceptions of one policy file (none without one).
#[derive(Debug, Default)]
pub(crate) struct Allowlist {
    config: Option<Config>,
    /// Today, in days since 1970-01-01: entries expire at its start.
    today: i64,
}

/// What the allowlist says of a fingerprint.
#[derive(Debug)]
pub(crate) enum Verdict<'a> {
    /// No entry.
    Unlisted,
    /// Allowed by this entry.
    Allowed(&'a AllowedFingerprint),
    /// An entry that expired on this date: it allows nothing any more.
    Expired(&'a str),
}

impl Allowlist {
    /// The exceptions of `config`.
    pub(crate) fn new(config: Option<Config>) -> Self {
        Allowlist {
            config,
            today: crate::model::today(),
        }
    }

    /// The policy file, if there is one.
    pub(crate) fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The `allow.paths` pattern that allows the content of `path`, if one does.
    pub(crate) fn allows_path(&self, path: &[u8]) -> Option<&str> {
        let c = self.config.as_ref()?;
        let first = *c.allow_paths.matches(glob_path(path).as_ref()).first()?;
        c.file.allow.paths.get(first).map(String::as_str)
    }

    /// The `allow.files` pattern that exempts `path` from the forbidden-file rules, if one
    /// does.
    pub(crate) fn exempts_file(&self, path: &[u8]) -> Option<&str> {
        let c = self.config.as_ref()?;
        let first = *c.allow_files.matches(glob_path(path).as_ref()).first()?;
        c.file.allow.files.get(first).map(String::as_str)
    }

    /// Whether `allow.rules` turns rule `id` off.
    pub(crate) fn turns_off(&self, id: &str) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.file.allow.rules.iter().any(|r| r == id))
    }

    /// Whether `forbid.paths` forbids `path`.
    pub(crate) fn forbids_file(&self, path: &[u8]) -> bool {
        self.config
            .as_ref()
            .is_some_and(|c| c.forbid_paths.is_match(glob_path(path).as_ref()))
    }

    /// What `[[allow.fingerprints]]` says of `fingerprint`.
    pub(crate) fn fingerprint(&self, fingerprint: &str) -> Verdict<'_> {
        let Some(entry) = self.config.as_ref().and_then(|c| c.allowed(fingerprint)) else {
            return Verdict::Unlisted;
        };
        match entry.expires.as_deref() {
            Some(d) if crate::model::parse_date(d).is_some_and(|day| day < self.today) => {
                Verdict::Expired(d)
            }
            _ => Verdict::Allowed(entry),
        }
    }
}

/// Paths are bytes; globs match them as text (git paths are UTF-8 in practice; anything else
/// is matched after lossy conversion).
fn glob_path(path: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(path.strip_prefix(b"./").unwrap_or(path))
}
