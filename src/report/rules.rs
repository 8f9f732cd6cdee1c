//! `keyward rules`: the catalog, for people and for machines.

use crate::rules::{FileAction, RuleSet};
use serde::Serialize;
use std::io;

/// One line of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct RuleEntry {
    /// Stable rule id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// `secret` (content) or `file` (forbidden file name).
    pub kind: &'static str,
    /// `block` or `warn`.
    pub action: &'static str,
    /// Where to revoke, or what to do instead.
    pub guidance: String,
}

/// Every rule of `set`, content rules first, in priority order.
pub fn rule_list(set: &RuleSet) -> Vec<RuleEntry> {
    let secrets = set.rules.iter().map(|r| RuleEntry {
        id: r.id.clone(),
        name: r.name.clone(),
        kind: "secret",
        action: "block",
        guidance: r.revoke_url.clone(),
    });
    let files = set.files.iter().map(|f| RuleEntry {
        id: f.id.clone(),
        name: f.name.clone(),
        kind: "file",
        action: match f.action {
            FileAction::Block => "block",
            FileAction::Warn => "warn",
        },
        guidance: f.guidance.clone(),
    });
    secrets.chain(files).collect()
}

/// A table: id, kind, action, name.
pub fn write_rules_human(list: &[RuleEntry], out: &mut dyn io::Write) -> io::Result<()> {
    let w = list.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in list {
        writeln!(out, "{:w$}  {:6}  {:5}  {}", r.id, r.kind, r.action, r.name)?;
    }
    writeln!(out, "{} rules", list.len())
}

/// A JSON array of [`RuleEntry`].
pub fn write_rules_json(list: &[RuleEntry], out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, list)?;
    writeln!(out)
}
