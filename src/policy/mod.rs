//! The policy stage: what blocks. This is the only code that decides whether a finding
//! blocks: forbidden files ([`forbidden`]), the team's exceptions ([`allowlist`]), inline
//! `keyward:allow` markers, and whether a secret is new or already in history.

pub mod allowlist;
pub mod forbidden;

use crate::model::{Finding, Item, Kind, Size};
use crate::rules::{FileRule, Rule};
use crate::scan::Candidate;
use crate::source::Stage;
use allowlist::{Allowlist, Verdict};
use forbidden::FileMatcher;
use std::collections::HashSet;

/// A forbidden-file pattern that does not compile (only possible for a broken rule file).
#[derive(Debug, thiserror::Error)]
#[error("forbidden-file rule")]
pub struct PolicyError(#[from] regex::Error);

/// What blocks, for one run.
#[derive(Debug)]
pub struct Policy {
    /// Block secrets already in history too.
    strict: bool,
    /// Honour inline allow markers.
    inline_allow: bool,
    files: FileMatcher,
    allowlist: Allowlist,
}

impl Policy {
    /// A policy with these switches, the forbidden-file rules `files` and the exceptions of
    /// `allowlist`.
    pub fn new(
        strict: bool,
        inline_allow: bool,
        files: Vec<FileRule>,
        allowlist: Allowlist,
    ) -> Self {
        Policy {
            strict,
            inline_allow,
            files: FileMatcher::new(files),
            allowlist,
        }
    }

    /// The team's exceptions.
    pub fn allowlist(&self) -> &Allowlist {
        &self.allowlist
    }

    /// Whether the content at `path` is scanned (`allow.paths` skips it).
    pub fn scans_content(&self, path: &[u8]) -> bool {
        !self.allowlist.skips_content(path)
    }

    /// The forbidden-file finding for `path`, if any. `content` is `None` when the file was
    /// too large to read (rules that depend on content are then skipped).
    pub fn forbidden(
        &self,
        path: &[u8],
        content: Option<&[u8]>,
    ) -> Result<Option<Finding>, PolicyError> {
        if self.allowlist.exempts_file(path) {
            return Ok(None);
        }
        if self.allowlist.forbids_file(path) {
            return Ok(Some(FileMatcher::finding(
                &forbidden::CONFIG_FORBIDDEN,
                path,
            )));
        }
        Ok(self
            .files
            .matching(path, content)?
            .map(|rule| FileMatcher::finding(rule, path)))
    }

    /// A file that was too large to scan: it does not block, but is named.
    pub fn not_scanned(&self, path: &[u8], size: u64, cap: Size) -> Finding {
        Finding {
            kind: Kind::NotScanned,
            rule_id: "kw.not-scanned.too-large".into(),
            rule_name: format!("not scanned: {} over the {cap} cap", Size(size)),
            path: path.to_vec(),
            line: None,
            column: None,
            fingerprint: None,
            preview: None,
            pre_existing: false,
            blocking: false,
            remedy: "raise the cap with --max-file-size if this file should be scanned".into(),
            env_var: None,
            note: None,
            commit: None,
        }
    }

    /// Judges the candidates of one blob at `path` (`data`): an inline marker or an allow
    /// entry drops one (an expired entry keeps it, with a note), and a value the replaced
    /// version (`previous`) already holds is pre-existing, blocking only under the strict
    /// policy. `rule` gives the rule behind a candidate.
    pub fn judge<'r>(
        &self,
        path: &[u8],
        data: &[u8],
        candidates: Vec<Candidate>,
        previous: Option<&[u8]>,
        rule: impl Fn(usize) -> &'r Rule,
    ) -> Vec<Finding> {
        let mut out = Vec::with_capacity(candidates.len());
        for c in candidates {
            if c.inline_allowed && self.inline_allow {
                continue;
            }
            let note = match self.allowlist.fingerprint(&c.fingerprint) {
                Verdict::Allowed(_) => continue,
                Verdict::Expired(date) => Some(format!(
                    "allowed in {} until {date}: expired (renew the entry or remove the secret)",
                    crate::config::FILE_NAME
                )),
                Verdict::Unlisted => None,
            };
            let evidence = &data[c.evidence.clone()];
            let pre_existing =
                previous.is_some_and(|old| memchr::memmem::find(old, evidence).is_some());
            let rule = rule(c.rule);
            out.push(Finding {
                kind: Kind::Secret,
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                path: path.to_vec(),
                line: Some(c.line),
                column: Some(c.column),
                fingerprint: Some(c.fingerprint),
                preview: Some(c.preview),
                pre_existing,
                blocking: !pre_existing || self.strict,
                remedy: rule.revoke_url.clone(),
                env_var: Some(rule.env_var.clone()),
                note,
                commit: None,
            });
        }
        out
    }

    /// Settles the findings of a whole source (`(item index, finding)`, in scan order),
    /// as `stage` requires. Committed findings are reported once, at the first commit (in
    /// history order) that introduced them, and are in history by definition; a secret the
    /// base side already held was not introduced by editing its file, and is reported only
    /// under the strict policy.
    pub fn settle(
        &self,
        stage: Stage,
        items: &[Item],
        mut found: Vec<(usize, Finding)>,
    ) -> Vec<Finding> {
        found.sort_by_key(|(index, _)| *index);
        if stage != Stage::Committed {
            return found.into_iter().map(|(_, f)| f).collect();
        }
        if !self.strict {
            let already: HashSet<(String, Option<String>)> = found
                .iter()
                .filter(|(_, f)| f.kind == Kind::Secret && f.pre_existing)
                .map(|(_, f)| (f.rule_id.clone(), f.fingerprint.clone()))
                .collect();
            // Nor is it introduced by the later versions that keep it.
            found.retain(|(_, f)| {
                f.fingerprint.is_none()
                    || !already.contains(&(f.rule_id.clone(), f.fingerprint.clone()))
            });
        }
        // A secret that lives on through later versions of a file is one finding, reported
        // at the first commit that introduced it; so is a forbidden file at one path.
        let mut reported = HashSet::new();
        found.retain(|(_, f)| {
            reported.insert((
                f.rule_id.clone(),
                f.fingerprint
                    .clone()
                    .map_or_else(|| f.path.clone(), String::into_bytes),
            ))
        });
        found
            .into_iter()
            .map(|(index, mut f)| {
                f.commit = items[index].commit;
                // Committed already: the guidance is rotation first, then history rewriting.
                if f.kind == Kind::Secret {
                    f.pre_existing = true;
                    f.blocking = true;
                }
                f
            })
            .collect()
    }
}
