//! The confirm step: the rules whose keywords the prefilter found run their regex on the lines
//! around the keywords ([`windows`]), each match passes the filters ([`filters::accept`]),
//! and what is left is located (line, column) and checked for an inline allow marker.

use super::{filters, prefilter, windows, ScanError, Scanner};
use aho_corasick::AhoCorasick;
use once_cell::sync::Lazy;
use std::ops::Range;

/// A confirmed secret in one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// Index of the rule in the scanner's rule list.
    pub(crate) rule: usize,
    /// Byte range of the secret.
    pub(crate) secret: Range<usize>,
    /// 1-based line of the secret's first byte.
    pub(crate) line: usize,
    /// 1-based column, counted in characters.
    pub(crate) column: usize,
    /// The line carries an inline allow marker such as `keyward:allow`.
    pub(crate) inline_allowed: bool,
}

impl Scanner {
    /// The matches in a whole file at `path` (empty: no path, so no rule is excluded by its
    /// path), and whether a keyword of a multi-line rule (a PEM header) occurs in it: a later
    /// version scanned with [`Scanner::scan_windows`] needs to know. A binary file is only
    /// checked with the rules marked `binary`, whose prefixes are distinctive enough to mean
    /// something there.
    pub(super) fn scan_file(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
    ) -> Result<(Vec<Match>, bool), ScanError> {
        let hits = self.prefilter.hits(data);
        let multiline = self.multiline_hit(&hits);
        Ok((self.confirm(path, data, binary, &hits)?, multiline))
    }

    /// [`Scanner::scan_file`] for a new version of a file, looking only at `windows` (the
    /// lines it adds to a version already scanned): keywords are searched there alone, so the
    /// cost follows the change, not the file. Rules whose matches span lines (PEM blocks) are
    /// checked over the whole file when one of their keywords is in the windows or was in
    /// the previous version (`base_multiline`): every line outside the windows is one of its
    /// lines. Returns the matches and whether such a keyword may be in this version.
    pub(super) fn scan_windows(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
        windows: &[Range<usize>],
        base_multiline: bool,
    ) -> Result<(Vec<Match>, bool), ScanError> {
        let mut hits = prefilter::Hits::default();
        for w in windows {
            self.prefilter.search(&data[w.clone()], w.start, &mut hits);
        }
        hits.settle();
        let multiline = base_multiline || self.multiline_hit(&hits);
        if multiline {
            // A multi-line rule runs over the whole blob whatever its hits say.
            for (i, c) in self.rules.iter().enumerate() {
                if c.multiline && !hits.has(i) {
                    hits.add(i, 0);
                }
            }
            hits.settle();
        }
        Ok((self.confirm(path, data, binary, &hits)?, multiline))
    }

    fn multiline_hit(&self, hits: &prefilter::Hits) -> bool {
        hits.rules().any(|rule| self.rules[rule].multiline)
    }

    /// Runs the regexes of the rules whose keywords were found (`hits`: positions per rule).
    fn confirm(
        &self,
        path: &[u8],
        data: &[u8],
        binary: bool,
        hits: &prefilter::Hits,
    ) -> Result<Vec<Match>, ScanError> {
        let code = filters::is_code_path(path);
        let mut found = Vec::new();
        for (index, at) in hits.by_rule() {
            let compiled = &self.rules[index];
            let rule = compiled.rule();
            if binary && !rule.binary {
                continue;
            }
            if !path.is_empty() && compiled.excluded(path)? {
                continue;
            }
            let windows = if rule.multiline {
                std::iter::once(0..data.len()).collect()
            } else {
                windows::lines_around(data, &at)
            };
            let twin = compiled.twin();
            // The rule's own regex, compiled when a window passes its twin (the generic
            // rules' regexes cost several times their twins' to compile).
            let mut exact = None;
            for window in windows {
                let offset = window.start;
                if twin.is_some_and(|t| !t.is_match(&data[window.clone()])) {
                    continue;
                }
                let (re, name_group) = match exact {
                    Some(ready) => ready,
                    None => {
                        let re = compiled.regex()?;
                        // The secret is the first group that took part, other than the one
                        // named `name` (a rule may offer alternatives: quoted and unquoted
                        // values).
                        let name_group = re.capture_names().position(|n| n == Some("name"));
                        *exact.insert((re, name_group))
                    }
                };
                for caps in re.captures_iter(&data[window]) {
                    let group = caps
                        .iter()
                        .enumerate()
                        .skip(1)
                        .find_map(|(i, g)| g.filter(|_| Some(i) != name_group));
                    let Some(group) = group else { continue };
                    let secret = offset + group.start()..offset + group.end();
                    let name = caps.name("name").map(|m| m.as_bytes());
                    if filters::accept(rule, data, secret.clone(), name, code) {
                        found.push((index, secret));
                    }
                }
            }
        }
        // Every rule's match is kept, overlapping or not: the policy judges each (an
        // exception names one finding), then keeps one per place (see
        // `crate::policy::Policy::judge`).
        found.sort_by_key(|(rule, range)| (range.start, *rule));
        found.dedup();
        Ok(locate(data, found))
    }
}

/// 1-based line and character column of byte `at`.
pub(crate) fn line_and_column(data: &[u8], at: usize) -> (usize, usize) {
    let before = &data[..at];
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = 1 + before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count();
    (line, column)
}

/// Markers that allow the finding on their line. `gitleaks:allow` and detect-secrets'
/// `pragma: allowlist secret` are honoured so that teams can migrate without editing files.
/// (No marker's end can begin another, so one search finds every occurrence of each.)
static INLINE_ALLOW: Lazy<AhoCorasick> = Lazy::new(|| {
    AhoCorasick::new([
        &b"keyward:allow"[..],
        b"gitleaks:allow",
        b"pragma: allowlist secret",
    ])
    .expect("three markers build")
});

/// Markers on the line before, for formats without same-line comments (JSON).
static ALLOW_NEXT_LINE: Lazy<AhoCorasick> = Lazy::new(|| {
    AhoCorasick::new([
        &b"keyward:allow-next-line"[..],
        b"pragma: allowlist nextline secret",
    ])
    .expect("two markers build")
});

/// Whether `line` carries a same-line allow marker (`keyward:allow-next-line` is not one: it
/// speaks for the next line only).
fn allows_itself(line: &[u8]) -> bool {
    INLINE_ALLOW
        .find_iter(line)
        .any(|m| !line[m.end()..].starts_with(b"-next-line"))
}

/// Adds line, column and inline-allow markers, walking `data` once in order.
fn locate(data: &[u8], found: Vec<(usize, Range<usize>)>) -> Vec<Match> {
    let (mut line, mut line_start, mut pos) = (1usize, 0usize, 0usize);
    found
        .into_iter()
        .map(|(rule, secret)| {
            for nl in memchr::memchr_iter(b'\n', &data[pos..secret.start]) {
                line += 1;
                line_start = pos + nl + 1;
            }
            pos = secret.start;
            let column = 1 + data[line_start..secret.start]
                .iter()
                .filter(|&&b| (b & 0xC0) != 0x80)
                .count();
            let line_end = memchr::memchr(b'\n', &data[secret.start..])
                .map_or(data.len(), |i| secret.start + i);
            let text = &data[line_start..line_end];
            let previous = line_start
                .checked_sub(1)
                .map(|end| {
                    let start = memchr::memrchr(b'\n', &data[..end]).map_or(0, |i| i + 1);
                    &data[start..end]
                })
                .unwrap_or_default();
            let inline_allowed = allows_itself(text) || ALLOW_NEXT_LINE.is_match(previous);
            Match {
                rule,
                secret,
                line,
                column,
                inline_allowed,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_counts_lines_and_character_columns() {
        let data = "one\nzwei ü x\nthree".as_bytes();
        let x = data.iter().position(|&b| b == b'x').expect("x");
        let m = locate(data, vec![(0, x..x + 1)]);
        assert_eq!((m[0].line, m[0].column), (2, 8));
        assert_eq!(line_and_column(data, x), (2, 8));
    }

    #[test]
    fn allow_markers_speak_for_their_own_line_or_the_next() {
        let allowed = |text: &str| {
            let x = text.rfind('x').expect("x");
            locate(text.as_bytes(), vec![(0, x..x + 1)])[0].inline_allowed
        };
        assert!(allowed("k = x # keyward:allow"));
        assert!(allowed("k = x // gitleaks:allow"));
        assert!(allowed("k = x # pragma: allowlist secret"));
        assert!(!allowed("k = x # keyward:allow-next-line"));
        assert!(allowed("k = x # keyward:allow-next-line keyward:allow"));
        assert!(allowed("// keyward:allow-next-line\nk = x"));
        assert!(allowed("# pragma: allowlist nextline secret\nk = x"));
        assert!(!allowed("// keyward:allow-next-line\n\nk = x"));
        assert!(!allowed("k = x # KEYWARD:ALLOW"));
    }
}
