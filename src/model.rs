//! What the stages hand each other: the [`Item`] a source yields, the [`Finding`] the policy
//! settles, and the [`Outcome`] reports read. Nothing here knows how it was computed.

use gix::ObjectId;

/// One thing to scan, as a source lists it: a name and where its content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The path as git stores it (relative to the repository root, `/`-separated) or as it
    /// was reached on disk: raw bytes, never escaped. Reports escape it for their output.
    /// For an item that is not a file ([`Place::Ref`], [`Place::Message`]) a name for the
    /// report: `commit 1a2b3c4d5e message`.
    pub(crate) path: Vec<u8>,
    /// Where the bytes are.
    pub content: Content,
    /// What the item is in what git records: which rules apply to it.
    pub(crate) place: Place,
    /// The commit that introduced it (ranges, history, pushes).
    pub(crate) commit: Option<CommitRef>,
}

impl Item {
    /// A file at `path` with `content`, outside any commit.
    pub(crate) fn new(path: Vec<u8>, content: Content) -> Self {
        Item {
            path,
            content,
            place: Place::File,
            commit: None,
        }
    }
}

/// What an item is in what git records. Every kind is scanned for secrets; the kinds differ
/// in the rules about names and paths that apply to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Place {
    /// A file at its path: every rule applies.
    File,
    /// A symbolic link: git stores and serves its blob (a target path) like a file's, so it
    /// is scanned like one, but no file-name rule applies (a link named `.env` holds no
    /// environment values).
    Symlink,
    /// A blob a ref points at directly, at no path: no path-based exception (allowed paths,
    /// file exemptions) and no file-name rule applies; `path` only names it.
    Ref,
    /// Text git records beside the files: a commit or tag message, an author's or tagger's
    /// name and email. No path-based exception and no file-name rule applies; `path` names
    /// it (`commit 1a2b3c4d5e message`, `tag v1 message`).
    Message,
}

impl Place {
    /// Whether the item sits at a path of the tree (a file or a link), where path-based
    /// exceptions apply.
    pub(crate) fn at_path(self) -> bool {
        matches!(self, Place::File | Place::Symlink)
    }
}

/// Where an item's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Content {
    /// A blob in the object database.
    Blob(ObjectId),
    /// A file on disk, and its size when it was listed.
    File(std::path::PathBuf, u64),
    /// Bytes the source holds already (a message, an identity): small, read with the listing.
    Text(std::sync::Arc<[u8]>),
}

/// How the items of a source stand: what a finding in them means for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// About to be committed: a secret the replaced version held is already in history.
    Staged,
    /// Committed already (a range, a push, history): each finding is reported once, at the
    /// first commit that introduced it.
    Committed,
    /// Files on disk, with no history to compare with.
    Files,
}

/// What reading an item's bytes gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadBlob {
    /// The bytes are in the caller's buffer.
    Read,
    /// The item is larger than the cap; its size is given and nothing was kept.
    TooLarge(u64),
}

/// A commit, as findings name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommitRef {
    /// The commit id.
    pub(crate) id: ObjectId,
    /// Its author date, in seconds since the epoch.
    pub(crate) author_time: i64,
}

/// Which commits a commit source walks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// `A..B`: commits reachable from `B` and not from `A`.
    Range(String),
    /// Every commit reachable from any ref, or from one branch.
    History {
        /// Only this branch.
        branch: Option<String>,
    },
    /// A push: what the updated refs reach, minus everything the existing refs reach.
    Push {
        /// The refs the push creates or moves, and where to.
        tips: Vec<PushedRef>,
    },
}

/// A ref a push creates or moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    /// The object it will point at: a commit, an annotated tag, a tree or a blob.
    pub(crate) id: ObjectId,
    /// Its full name (`refs/heads/main`).
    pub(crate) name: String,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Kind {
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// What the finding is about.
    pub(crate) kind: Kind,
    /// Stable rule id (`kw.openai.project-key`, `kw.file.env`, `kw.not-scanned.too-large`).
    pub(crate) rule_id: String,
    /// Human name of the rule.
    pub(crate) rule_name: String,
    /// The path, raw (see [`Item::path`]).
    pub(crate) path: Vec<u8>,
    /// What the item the finding is in is: a file, a link, a message (see [`Place`]).
    pub(crate) place: Place,
    /// 1-based line of the secret.
    pub(crate) line: Option<usize>,
    /// 1-based column (characters) of the secret.
    pub(crate) column: Option<usize>,
    /// Identity of the secret for people: rule id + value, hashed to 8 hex digits (see
    /// [`crate::redact::fingerprint`]).
    pub(crate) fingerprint: Option<String>,
    /// Identity of the secret for decisions (already in history, one finding per secret):
    /// never shown (see [`crate::redact::Identity`]).
    pub(crate) identity: Option<crate::redact::Identity>,
    /// Redacted preview, e.g. `sk-proj-…(164 chars)`.
    pub(crate) preview: Option<String>,
    /// The value was already in history: in the version the commit replaces, or committed
    /// already (ranges, history, pushes).
    pub(crate) pre_existing: bool,
    /// Whether this finding blocks.
    pub(crate) blocking: bool,
    /// Where to revoke the key, or what to do instead of committing the file.
    pub(crate) remedy: String,
    /// The environment variable to read the value from instead.
    pub(crate) env_var: Option<String>,
    /// Why a policy exception did not apply (an expired allow entry).
    pub(crate) note: Option<String>,
    /// The first commit that introduced the finding (ranges, history, pushes).
    pub(crate) commit: Option<CommitRef>,
    /// The exception that allowed it, if one did: then it does not block, and reports show
    /// it only as allowed (JSON and SARIF carry it for audit; the human report counts it).
    pub(crate) allowed: Option<Allowance>,
}

/// An exception that allowed a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Allowance {
    /// A marker on its line (`keyward:allow`, `gitleaks:allow`, …) or the line before.
    Inline,
    /// `allow.paths`: this pattern matched the path.
    Path(String),
    /// `allow.files`: this pattern exempts the file from the forbidden-file rules.
    File(String),
    /// `allow.rules`: the rule is turned off.
    Rule,
    /// `[[allow.fingerprints]]`, with the entry's reason.
    Fingerprint(String),
}

impl Allowance {
    /// How the exception is named in reports: `path`, `file`, `rule`, `fingerprint`, `inline`.
    pub(crate) fn by(&self) -> &'static str {
        match self {
            Allowance::Inline => "inline",
            Allowance::Path(_) => "path",
            Allowance::File(_) => "file",
            Allowance::Rule => "rule",
            Allowance::Fingerprint(_) => "fingerprint",
        }
    }
}

/// The result of a scan.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Problems found, in scan order.
    pub(crate) findings: Vec<Finding>,
    /// Binary files (raw paths): checked only with the rules marked `binary`.
    pub(crate) binary: Vec<Vec<u8>>,
    /// How many files or blobs were scanned.
    pub(crate) scanned: usize,
    /// Files on disk that could not be read (`keyward scan PATH…`): not scanned, and an error.
    pub(crate) unreadable: Vec<Unreadable>,
}

/// A file or directory on disk that could not be read.
#[derive(Debug)]
pub struct Unreadable {
    /// The path, escaped for the terminal.
    pub(crate) path: String,
    /// Why.
    pub(crate) error: std::io::Error,
}

impl Outcome {
    /// Whether any finding blocks.
    pub(crate) fn blocked(&self) -> bool {
        self.findings.iter().any(|f| f.blocking)
    }

    /// The findings no exception allowed: what reports list.
    pub(crate) fn shown(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.allowed.is_none())
    }

    /// The findings an exception allowed.
    pub(crate) fn allowed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.allowed.is_some())
    }

    /// How the shown findings weigh: `(blocking, secrets already in history, the rest)`.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let blocking = self.shown().filter(|f| f.blocking).count();
        let history = self
            .shown()
            .filter(|f| f.kind == Kind::Secret && f.pre_existing && !f.blocking)
            .count();
        (blocking, history, self.shown().count() - blocking - history)
    }
}

/// A size in bytes, as settings and messages spell it: `4096`, `512k`, `64m`, `1g` (also
/// `kb`, `MiB`, …) in, `64 MiB` out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Size(pub u64);

impl std::str::FromStr for Size {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let lower = s.trim().to_ascii_lowercase();
        let digits_end = lower
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(lower.len());
        let (num, unit) = lower.split_at(digits_end);
        let n: u64 = num.parse().map_err(|_| ())?;
        let shift = match unit.trim() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => return Err(()),
        };
        n.checked_mul(1 << shift).map(Size).ok_or(())
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
        let n = self.0;
        if n < 1024 {
            return write!(f, "{n} bytes");
        }
        let mut v = n as f64 / 1024.0;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        if v.fract() == 0.0 {
            write!(f, "{v:.0} {}", UNITS[unit])
        } else {
            write!(f, "{v:.1} {}", UNITS[unit])
        }
    }
}

/// `YYYY-MM-DD` of a time in seconds since the epoch (UTC).
pub(crate) fn date(seconds: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD` → days since 1970-01-01.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if s.trim().len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today, in days since 1970-01-01 (UTC).
pub(crate) fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| (d.as_secs() / 86_400) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        for (s, want) in [
            ("4096", Some(4096)),
            ("1k", Some(1024)),
            ("64m", Some(64 << 20)),
            ("2GiB", Some(2 << 30)),
            ("x", None),
            ("", None),
            ("1t", None),
        ] {
            assert_eq!(s.parse::<Size>().ok().map(|s| s.0), want, "{s}");
        }
        assert_eq!(Size(12).to_string(), "12 bytes");
        assert_eq!(Size(64 << 20).to_string(), "64 MiB");
        assert_eq!(Size(1536).to_string(), "1.5 KiB");
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_700_000_000), "2023-11-14");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-13-01"), None);
    }
}

/// A secret the scanner found, before the policy judges it. The fingerprint, the identity and
/// the redacted preview are made here, where the value is at hand; the one field that holds
/// bytes of the secret is `evidence`, which the policy searches the replaced version for and
/// no report ever reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Index of the rule in the scanner's rule list: its priority (lower first).
    pub(crate) rule: usize,
    /// The rule is a team's own (see [`crate::scan::Scanner::catalog`]): its matches and the built-in
    /// rules' never stand in for each other.
    pub(crate) custom: bool,
    /// 1-based line.
    pub(crate) line: usize,
    /// 1-based column, in characters.
    pub(crate) column: usize,
    /// Its line carries an inline allow marker such as `keyward:allow`.
    pub(crate) inline_allowed: bool,
    /// See [`crate::redact::fingerprint`]: for people.
    pub(crate) fingerprint: String,
    /// See [`crate::redact::identity`]: for decisions.
    pub(crate) identity: crate::redact::Identity,
    /// See [`crate::redact::preview`].
    pub(crate) preview: String,
    /// Where in the blob it sits (its bytes, however encoded).
    pub(crate) span: std::ops::Range<usize>,
    /// The bytes whose presence in the version it replaces makes it pre-existing: the
    /// secret as the file writes it, or the encoded value it was decoded from. (Kept, not
    /// the blob: a scan holds no blob longer than it reads it.)
    pub(crate) evidence: Vec<u8>,
}
