//! Reports: one [`Report`] implementation per output format. This is the only code that
//! formats findings; findings carry no secret bytes (only redacted previews and
//! fingerprints) and raw paths, which each report escapes for its own output (terminal,
//! JSON, SARIF URI, GitHub annotation).

mod advice;
mod github;
mod human;
mod json;
mod rules;
mod sarif;

pub(crate) use github::Github;
pub(crate) use human::Human;
pub(crate) use json::Json;
pub(crate) use rules::{rule_list, write_rules_human, write_rules_json};
pub(crate) use sarif::Sarif;

use crate::model::Outcome;
use std::io;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Human,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow-command annotations.
    Github,
}

impl Format {
    /// The report for this format; `color` and `context` shape the human one.
    pub(crate) fn report(
        self,
        color: bool,
        context: Context,
        invocation: fn() -> String,
    ) -> Box<dyn Report> {
        match self {
            Format::Human => Box::new(Human {
                color,
                context,
                kept: None,
                invocation,
            }),
            Format::Json => Box::new(Json),
            Format::Sarif => Box::new(Sarif),
            Format::Github => Box::new(Github),
        }
    }
}

impl Format {
    /// The report for the commit-msg hook: the human one says where the refused message is
    /// kept and how to commit it again.
    pub(crate) fn message_report(
        self,
        color: bool,
        kept: Kept,
        invocation: fn() -> String,
    ) -> Box<dyn Report> {
        match self {
            Format::Human => Box::new(Human {
                color,
                context: Context::Message,
                kept: Some(kept),
                invocation,
            }),
            other => other.report(color, Context::Message, invocation),
        }
    }
}

/// Where git keeps the message of a commit the commit-msg hook refused, and the command that
/// commits it again once the key is out: both shell words, ready to paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kept {
    /// The message file (`~/src/app/.git/COMMIT_EDITMSG`).
    pub(crate) file: String,
    /// `git commit -e -F FILE` (with `-v` when the file holds a verbose commit's diff, which
    /// `-v` drops again).
    pub(crate) retry: String,
}

/// An output format.
pub(crate) trait Report {
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
    /// Running as the commit-msg hook: the message of the commit being made.
    Message,
}
