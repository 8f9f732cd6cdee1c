//! A blob examined whole: read as its first bytes say ([`Reading`]), its matches confirmed
//! ([`super::confirm`]), and the text it holds encoded scanned too — UTF-16, lines with URL or
//! JSON escapes ([`encodings`]), Kubernetes `Secret` values ([`decode`]) — each match made a
//! [`Candidate`] for the policy.

use super::{decode, encodings, line_and_column, Match, ScanError, Scanner};
use crate::model::Candidate;
use std::ops::Range;

/// How many leading bytes decide whether a blob is binary (git's own heuristic uses 8000).
pub const BINARY_SNIFF_LEN: usize = 8000;

/// Whether `data` looks binary: a NUL byte among its first [`BINARY_SNIFF_LEN`] bytes.
pub fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// How a blob is read: decided by its first bytes ([`Reading::of`]), or, for a window of a
/// blob read in windows, as its first window decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// UTF-16 text, decoded first ([`encodings::utf16_order`]).
    Utf16 {
        /// Little-endian.
        little: bool,
    },
    /// Binary ([`is_binary`]): only the rules marked `binary` run.
    Binary,
    /// Text.
    Text,
}

impl Reading {
    /// How `data` is read, by its first bytes.
    pub(crate) fn of(data: &[u8]) -> Self {
        match encodings::utf16_order(data) {
            Some((little, _)) => Reading::Utf16 { little },
            None if is_binary(data) => Reading::Binary,
            None => Reading::Text,
        }
    }
}

/// What the scanner found in one blob, before the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobScan {
    /// The blob is binary (see [`is_binary`]): only the rules marked `binary` ran.
    pub(crate) binary: bool,
    /// The matches, in the blob's order (decoded values' after the rest).
    pub(crate) candidates: Vec<Candidate>,
    /// A keyword of a multi-line rule may be in the blob (see [`Scanner::examine`]).
    pub(crate) multiline: bool,
}

impl Scanner {
    /// Scans one blob at `path`, read as `reading` says (`Reading::of(data)`, or for a window
    /// of a blob read in windows, as its first window was read): the whole of it, or only
    /// `windows` of a new version — the lines it adds to a version already scanned — with
    /// whether that version may hold a multi-line rule's keyword ([`BlobScan::multiline`] of
    /// its scan): keywords are then searched in the windows alone, and multi-line rules (PEM
    /// blocks) run over the whole blob when one of their keywords is in the windows or may
    /// have been in the base. A UTF-16 blob is scanned as the text it holds; lines with URL
    /// or JSON escapes are also scanned decoded (see [`encodings`]), and Kubernetes `Secret`
    /// data values decoded from base64 (see [`decode`]). The one entry point of the engine.
    pub(crate) fn examine(
        &self,
        path: &[u8],
        data: &[u8],
        windows: Option<(&[Range<usize>], bool)>,
        reading: Reading,
    ) -> Result<BlobScan, ScanError> {
        if let Reading::Utf16 { little } = reading {
            let start = match encodings::utf16_order(data) {
                Some((_, start)) => start,
                None => 0,
            };
            let view = encodings::decode_utf16(data, little, start);
            let (matches, multiline) = self.scan_file(path, &view.text, false)?;
            let candidates = matches
                .into_iter()
                .map(|m| {
                    let span = view.map.at(m.secret.start)..view.map.at(m.secret.end);
                    let evidence = data[span.clone()].to_vec();
                    self.candidate(&view.text[m.secret.clone()], &m, span, evidence)
                })
                .collect();
            return Ok(BlobScan {
                binary: false,
                candidates,
                multiline,
            });
        }
        let binary = reading == Reading::Binary;
        let (matches, multiline) = match windows {
            Some((windows, base_multiline)) => {
                self.scan_windows(path, data, binary, windows, base_multiline)?
            }
            None => self.scan_file(path, data, binary)?,
        };
        let mut candidates: Vec<Candidate> = matches
            .into_iter()
            .map(|m| {
                let secret = &data[m.secret.clone()];
                self.candidate(secret, &m, m.secret.clone(), secret.to_vec())
            })
            .collect();
        if binary {
            return Ok(BlobScan {
                binary,
                candidates,
                multiline,
            });
        }
        for view in encodings::escaped_lines(data) {
            let in_windows = windows.is_none_or(|(w, _)| {
                let at = view.map.at(0);
                w.iter().any(|r| r.start <= at && at <= r.end)
            });
            if !in_windows {
                continue;
            }
            for m in self.scan_file(path, &view.text, false)?.0 {
                let span = view.map.at(m.secret.start)..view.map.at(m.secret.end);
                let evidence = data[span.clone()].to_vec();
                let mut c = self.candidate(&view.text[m.secret.clone()], &m, span, evidence);
                c.line = view.first_line + m.line - 1;
                candidates.push(c);
            }
        }
        for d in decode::kubernetes_secret_values(data) {
            // Reported where the encoded value is; pre-existing if that value was there.
            let (line, column) = line_and_column(data, d.encoded.start);
            for m in self.scan_file(path, &d.text, false)?.0 {
                let evidence = data[d.encoded.clone()].to_vec();
                let mut c =
                    self.candidate(&d.text[m.secret.clone()], &m, d.encoded.clone(), evidence);
                (c.line, c.column) = (line, column);
                candidates.push(c);
            }
        }
        Ok(BlobScan {
            binary,
            candidates,
            multiline,
        })
    }

    /// The candidate for match `m`, whose secret is `secret` (decoded, if it was encoded),
    /// found at `span` of the blob, which holds `evidence` there.
    fn candidate(
        &self,
        secret: &[u8],
        m: &Match,
        span: Range<usize>,
        evidence: Vec<u8>,
    ) -> Candidate {
        let rule = self.rule(m.rule);
        // A warning about a practice matches a name (a variable's), not a secret: it is shown.
        let preview = if rule.shows_match() {
            crate::redact::escape(secret)
        } else {
            crate::redact::preview(rule.public_prefix(secret), secret.len())
        };
        Candidate {
            rule: m.rule,
            custom: m.rule < self.custom,
            line: m.line,
            column: m.column,
            inline_allowed: m.inline_allowed,
            fingerprint: crate::redact::fingerprint(&rule.id, secret),
            identity: crate::redact::identity(&rule.id, secret),
            preview,
            span,
            evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_a_nul_in_the_first_8000_bytes() {
        assert!(is_binary(b"a\0b"));
        assert!(!is_binary(b"plain text"));
        let mut late = vec![b'a'; BINARY_SNIFF_LEN];
        late.push(0);
        assert!(!is_binary(&late));
    }
}
