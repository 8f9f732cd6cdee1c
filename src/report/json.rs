//! JSON: an array of findings (`kind`, `rule_id`, `rule_name`, `path`, `line`, `column`,
//! `fingerprint`, `preview`, `pre_existing`, `blocking`), redacted like every other output.

use super::Report;
use crate::engine::Outcome;
use std::io;

/// The JSON report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Report for Json {
    fn write(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &outcome.findings)?;
        writeln!(out)
    }
}
