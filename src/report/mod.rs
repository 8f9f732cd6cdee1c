//! Reports: one [`Report`] implementation per output format. This is the only code that
//! formats findings, and findings carry no secret bytes: only redacted previews and
//! fingerprints.

mod github;
mod human;
mod json;
mod rules;
mod sarif;

pub use github::Github;
pub use human::Human;
pub use json::Json;
pub use rules::{rule_list, write_rules_human, write_rules_json, RuleEntry};
pub use sarif::Sarif;

use crate::engine::Outcome;
use std::io;

/// An output format.
pub trait Report {
    /// Writes `outcome`.
    fn write(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()>;
}

/// What was scanned, for the wording of a human report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Running as the pre-commit hook.
    Commit,
    /// `keyward scan --staged`.
    Staged,
    /// `keyward scan PATH…`.
    Paths,
    /// `keyward scan --range` or `--history`: commits already made.
    History,
    /// `keyward pre-receive`: commits being pushed to a server.
    Push,
}
