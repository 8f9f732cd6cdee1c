//! `keyward rules`: the catalog, for people and for machines, grouped by family.

use crate::rules::{FileAction, RuleSet};
use serde::Serialize;
use std::io;

/// One line of the catalog.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RuleEntry {
    /// Stable rule id.
    pub(crate) id: String,
    /// Human name.
    pub(crate) name: String,
    /// The family the rule belongs to (`ai`, `cloud`, …; `files` for forbidden files,
    /// `custom` for a team's own rules without one).
    pub(crate) family: String,
    /// `secret` (content) or `file` (forbidden file name).
    pub(crate) kind: &'static str,
    /// `block` or `warn`.
    pub(crate) action: &'static str,
    /// Where to revoke, or what to do instead.
    pub(crate) guidance: String,
}

fn action(a: FileAction) -> &'static str {
    match a {
        FileAction::Block => "block",
        FileAction::Warn => "warn",
    }
}

/// Every rule of `set`, content rules first, in priority order.
pub(crate) fn rule_list(set: &RuleSet) -> Vec<RuleEntry> {
    let secrets = set.rules.iter().map(|r| RuleEntry {
        id: r.id.clone(),
        name: r.name.clone(),
        family: r.family.clone().unwrap_or_else(|| "custom".into()),
        kind: "secret",
        action: action(r.action),
        guidance: r.guidance.clone().unwrap_or_else(|| r.revoke_url.clone()),
    });
    let files = set.files.iter().map(|f| RuleEntry {
        id: f.id.clone(),
        name: f.name.clone(),
        family: "files".into(),
        kind: "file",
        action: action(f.action),
        guidance: f.guidance.clone(),
    });
    secrets.chain(files).collect()
}

/// A table per family, in the order families first appear: id, action, name.
pub(crate) fn write_rules_human(list: &[RuleEntry], out: &mut dyn io::Write) -> io::Result<()> {
    let w = list.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut families: Vec<&str> = Vec::new();
    for r in list {
        if !families.contains(&r.family.as_str()) {
            families.push(&r.family);
        }
    }
    for family in &families {
        let members: Vec<&RuleEntry> = list.iter().filter(|r| r.family == *family).collect();
        writeln!(out, "{family} ({})", members.len())?;
        for r in members {
            writeln!(out, "  {:w$}  {:5}  {}", r.id, r.action, r.name)?;
        }
        writeln!(out)?;
    }
    let content = list.iter().filter(|r| r.kind == "secret").count();
    writeln!(
        out,
        "{} rules in {} families: {content} content rules, {} forbidden-file rules",
        list.len(),
        families.len(),
        list.len() - content
    )
}

/// A JSON array of [`RuleEntry`].
pub(crate) fn write_rules_json(list: &[RuleEntry], out: &mut dyn io::Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, list)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_grouped_by_family_and_every_built_in_rule_has_one() {
        let set = RuleSet::builtin().expect("built-in rules parse");
        assert!(set.rules.iter().all(|r| r.family.is_some()));
        let list = rule_list(&set);
        let mut out = Vec::new();
        write_rules_human(&list, &mut out).expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.contains("\nfiles ("), "{text}");
        // Each family is one block: a family's header appears once.
        for r in &list {
            let header = format!("{} (", r.family);
            assert_eq!(
                text.lines().filter(|l| l.starts_with(&header)).count(),
                1,
                "{}",
                r.family
            );
        }
    }
}
