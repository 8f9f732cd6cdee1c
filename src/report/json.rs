//! JSON: an array of findings (`kind`, `rule_id`, `rule_name`, `path`, `place`, `line`,
//! `column`, `fingerprint`, `preview`, `pre_existing`, `blocking`), redacted like every other
//! output. `place` says what the path names: `file`, `symlink`, `ref` (a blob a ref points at)
//! or `message` (a commit's or tag's message, author, committer or tagger).
//! Findings an exception allowed are included, with `allowed` saying which (for audit).

use super::Report;
use crate::model::{date, Allowance, Finding, Kind, Outcome};
use serde::Serialize;
use std::io;

/// The JSON report.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Json;

impl Report for Json {
    fn write(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        let rows: Vec<Row<'_>> = outcome.findings.iter().map(Row::from).collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)
    }
}

/// One finding as JSON shows it: the path escaped like the terminal's (control characters
/// made visible), the commit as hex and its author date.
#[derive(Serialize)]
struct Row<'a> {
    kind: Kind,
    rule_id: &'a str,
    rule_name: &'a str,
    path: String,
    place: crate::model::Place,
    line: Option<usize>,
    column: Option<usize>,
    fingerprint: Option<&'a str>,
    preview: Option<&'a str>,
    pre_existing: bool,
    blocking: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<Allowed<'a>>,
}

/// The exception that allowed a finding: `{"by": "path", "pattern": "tests/fixtures/**"}`,
/// `{"by": "fingerprint", "reason": "…"}`, `{"by": "inline"}`, `{"by": "rule"}`,
/// `{"by": "file", "pattern": "…"}`.
#[derive(Serialize)]
struct Allowed<'a> {
    by: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

impl<'a> From<&'a Finding> for Row<'a> {
    fn from(f: &'a Finding) -> Self {
        Row {
            kind: f.kind,
            rule_id: &f.rule_id,
            rule_name: &f.rule_name,
            path: crate::redact::escape(&f.path),
            place: f.place,
            line: f.line,
            column: f.column,
            fingerprint: f.fingerprint.as_deref(),
            preview: f.preview.as_deref(),
            pre_existing: f.pre_existing,
            blocking: f.blocking,
            note: f.note.as_deref(),
            commit: f.commit.map(|c| c.id.to_string()),
            author_date: f.commit.map(|c| date(c.author_time)),
            allowed: f.allowed.as_ref().map(|a| Allowed {
                by: a.by(),
                pattern: match a {
                    Allowance::Path(p) | Allowance::File(p) => Some(p),
                    _ => None,
                },
                reason: match a {
                    Allowance::Fingerprint(r) => Some(r),
                    _ => None,
                },
            }),
        }
    }
}
