//! The policy stage: what blocks. This is the only code that decides whether a finding
//! blocks: forbidden files ([`forbidden`]), the team's exceptions ([`allowlist`]), inline
//! `keyward:allow` markers, and whether a secret is new or already in history.

pub mod allowlist;
pub mod forbidden;

use crate::model::{Allowance, Finding, Item, Kind, Place, Size};
use crate::rules::{FileAction, FileRule, Rule};
use crate::scan::Candidate;
use crate::source::Standing;
use allowlist::{Allowlist, Verdict};
use forbidden::FileMatcher;
use std::collections::HashSet;

/// Where a judged finding sits, for [`one_per_place`].
struct Spot {
    rule: usize,
    custom: bool,
    span: std::ops::Range<usize>,
}

/// Keeps one finding where several rules matched overlapping bytes: in rule priority order, a
/// finding is dropped when a kept one of the same kind (a team's rule or a built-in one)
/// overlaps it and is not allowed, or when it is allowed itself — so an allowed finding
/// never hides one that is not — or when a kept one holds exactly the same bytes (the same
/// value under another rule: what the team allowed under one rule it allowed).
fn one_per_place(findings: Vec<Finding>, places: &[Spot]) -> Vec<Finding> {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| (places[i].rule, places[i].span.start));
    let mut kept: Vec<usize> = Vec::with_capacity(findings.len());
    for i in order {
        let (p, f) = (&places[i], &findings[i]);
        let shadowed = kept.iter().any(|&k| {
            let q = &places[k];
            q.custom == p.custom
                && q.span.start < p.span.end
                && p.span.start < q.span.end
                && (findings[k].allowed.is_none() || f.allowed.is_some() || q.span == p.span)
        });
        if !shadowed {
            kept.push(i);
        }
    }
    kept.sort_unstable_by_key(|&i| places[i].span.start);
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    kept.into_iter().filter_map(|i| slots[i].take()).collect()
}

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

    /// Whether `allow.paths` allows the content at `path`.
    pub fn allows_path(&self, path: &[u8]) -> bool {
        self.allowlist.allows_path(path).is_some()
    }

    /// The forbidden-file finding for `item`, if any: none for a symbolic link (its blob is
    /// a target path) or a detached blob (it has no name). `content` is `None` when the file
    /// was too large to read (rules that depend on content are then skipped). A file
    /// `allow.files` exempts, or whose rule `allow.rules` turns off, is reported as allowed.
    pub fn forbidden(
        &self,
        item: &Item,
        content: Option<&[u8]>,
    ) -> Result<Option<Finding>, PolicyError> {
        if item.place != Place::File {
            return Ok(None);
        }
        let path = item.path.as_slice();
        let forbidden = if self.allowlist.forbids_file(path) {
            Some(forbidden::Forbidden {
                rule: &forbidden::CONFIG_FORBIDDEN,
                leftover_of: None,
            })
        } else {
            self.files.matching(path, content)?
        };
        let Some(forbidden) = forbidden else {
            return Ok(None);
        };
        let rule = forbidden.rule;
        let mut finding = FileMatcher::finding(forbidden, path);
        finding.allowed = if self.allowlist.turns_off(&rule.id) {
            Some(Allowance::Rule)
        } else {
            self.allowlist
                .exempts_file(path)
                .map(|glob| Allowance::File(glob.to_owned()))
        };
        if finding.allowed.is_some() {
            finding.blocking = false;
        }
        Ok(Some(finding))
    }

    /// A file that was too large to scan: it does not block, but is named.
    pub fn not_scanned(&self, path: &[u8], size: u64, cap: Size) -> Finding {
        Finding {
            kind: Kind::NotScanned,
            rule_id: "kw.not-scanned.too-large".into(),
            rule_name: format!("not scanned: {} over the {cap} cap", Size(size)),
            path: path.to_vec(),
            place: crate::model::Place::File,
            line: None,
            column: None,
            fingerprint: None,
            identity: None,
            preview: None,
            pre_existing: false,
            blocking: false,
            remedy: "raise the cap with --max-file-size if this file should be scanned".into(),
            env_var: None,
            note: None,
            commit: None,
            allowed: None,
        }
    }

    /// Judges the candidates of one blob at `item`'s path. A value the replaced
    /// version (`previous`) already holds is pre-existing, blocking only under the strict
    /// policy. An exception allows a candidate — the rule turned off, the path allowed (not
    /// for a detached blob), its fingerprint listed, an inline marker on its own line (unless
    /// refused) — and the finding stays, allowed, for the record; an expired entry allows
    /// nothing and says so. `rule` gives the rule behind a candidate.
    ///
    /// Each candidate is judged on its own, and only then is one kept where several rules
    /// matched the same bytes (the first rule in priority order): an exception that names one
    /// finding (its fingerprint, its line) never hides another rule's finding of the same key,
    /// and a team's rule and a built-in one never stand in for each other.
    pub fn judge<'r>(
        &self,
        item: &Item,
        candidates: Vec<Candidate>,
        previous: Option<&[u8]>,
        rule: impl Fn(usize) -> &'r Rule,
    ) -> Vec<Finding> {
        let path_allowed = item
            .place
            .at_path()
            .then(|| self.allowlist.allows_path(&item.path))
            .flatten()
            .map(|glob| Allowance::Path(glob.to_owned()));
        let mut out = Vec::with_capacity(candidates.len());
        let mut places: Vec<Spot> = Vec::with_capacity(candidates.len());
        for c in candidates {
            places.push(Spot {
                rule: c.rule,
                custom: c.custom,
                span: c.span.clone(),
            });
            let rule = rule(c.rule);
            let mut note = None;
            let allowed = if self.allowlist.turns_off(&rule.id) {
                Some(Allowance::Rule)
            } else if path_allowed.is_some() {
                path_allowed.clone()
            } else {
                match self.allowlist.fingerprint(&c.fingerprint) {
                    Verdict::Allowed(entry) => Some(Allowance::Fingerprint(entry.reason.clone())),
                    verdict => {
                        if let Verdict::Expired(date) = verdict {
                            note = Some(format!(
                                "allowed in {} until {date}: expired (renew the entry or remove the secret)",
                                crate::config::FILE_NAME
                            ));
                        }
                        (c.inline_allowed && self.inline_allow).then_some(Allowance::Inline)
                    }
                }
            };
            let pre_existing =
                previous.is_some_and(|old| memchr::memmem::find(old, &c.evidence).is_some());
            // A warning (a practice the seed warns against) blocks only under the strict
            // policy, and its remedy is what to do instead.
            let warning = rule.action == FileAction::Warn;
            let blocks = if warning {
                self.strict
            } else {
                !pre_existing || self.strict
            };
            out.push(Finding {
                kind: if warning { Kind::Warning } else { Kind::Secret },
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                path: item.path.clone(),
                place: item.place,
                line: Some(c.line),
                column: Some(c.column),
                fingerprint: Some(c.fingerprint),
                identity: Some(c.identity),
                preview: Some(c.preview),
                pre_existing,
                blocking: allowed.is_none() && blocks,
                remedy: match (&rule.guidance, warning) {
                    (Some(g), true) => g.clone(),
                    _ => rule.revoke_url.clone(),
                },
                env_var: Some(rule.env_var.clone()),
                note,
                commit: None,
                allowed,
            });
        }
        one_per_place(out, &places)
    }

    /// Settles the findings of a whole source (`(item index, finding)`, in scan order), as
    /// `standing` requires. Committed findings are in history by definition, and each is
    /// reported once, at the first commit (in history order) that introduced it at a path
    /// where it is not allowed. A secret the base side already held (the version a range's
    /// commit or a push replaced) was not introduced by editing its file: it is reported as
    /// already in history, blocking only under the strict policy, and so is every later
    /// version that keeps it.
    pub fn settle(
        &self,
        standing: Standing,
        items: &[Item],
        mut found: Vec<(usize, Finding)>,
    ) -> Vec<Finding> {
        found.sort_by_key(|(index, _)| *index);
        if standing != Standing::Committed {
            return found.into_iter().map(|(_, f)| f).collect();
        }
        // Values are compared by their full identity, never by the 8-digit fingerprint: a new
        // key whose fingerprint equals an old one's is a different key.
        let already: HashSet<(String, Option<crate::redact::Identity>)> = found
            .iter()
            .filter(|(_, f)| f.kind == Kind::Secret && f.pre_existing && f.allowed.is_none())
            .map(|(_, f)| (f.rule_id.clone(), f.identity))
            .collect();
        // One finding per secret (or per forbidden path) and exception: a secret allowed at
        // one path and not at another is reported where it is not allowed.
        let mut reported = HashSet::new();
        found.retain(|(_, f)| {
            let what = match f.identity {
                Some(identity) => Ok(identity),
                None => Err(f.path.clone()),
            };
            reported.insert((f.rule_id.clone(), what, f.allowed.clone()))
        });
        found
            .into_iter()
            .map(|(index, mut f)| {
                f.commit = items[index].commit;
                if f.kind == Kind::Secret {
                    let kept = already.contains(&(f.rule_id.clone(), f.identity));
                    // Committed already: the guidance is rotation first, then history
                    // rewriting.
                    f.pre_existing = true;
                    f.blocking = f.allowed.is_none() && (!kept || self.strict);
                }
                f
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: usize, allowed: bool) -> Finding {
        Finding {
            kind: Kind::Secret,
            rule_id: format!("r{rule}"),
            rule_name: String::new(),
            path: Vec::new(),
            place: Place::File,
            line: None,
            column: None,
            fingerprint: None,
            identity: None,
            preview: None,
            pre_existing: false,
            blocking: !allowed,
            remedy: String::new(),
            env_var: None,
            note: None,
            commit: None,
            allowed: allowed.then_some(Allowance::Inline),
        }
    }

    fn kept(cases: &[(usize, bool, bool, std::ops::Range<usize>)]) -> Vec<String> {
        let findings = cases.iter().map(|c| finding(c.0, c.1)).collect();
        let places: Vec<Spot> = cases
            .iter()
            .map(|c| Spot {
                rule: c.0,
                custom: c.2,
                span: c.3.clone(),
            })
            .collect();
        one_per_place(findings, &places)
            .into_iter()
            .map(|f| f.rule_id)
            .collect()
    }

    #[test]
    fn one_finding_per_place_and_exceptions_hide_nothing_else() {
        // Two rules on the same bytes: the first in priority order.
        assert_eq!(
            kept(&[(1, false, false, 0..10), (0, false, false, 0..10)]),
            ["r0"]
        );
        // The first allowed on a different span: the other is reported.
        assert_eq!(
            kept(&[(0, true, false, 0..10), (1, false, false, 2..12)]),
            ["r0", "r1"]
        );
        // Allowed on exactly the same bytes: the same value, allowed.
        assert_eq!(
            kept(&[(0, true, false, 0..10), (1, false, false, 0..10)]),
            ["r0"]
        );
        // A team's rule and a built-in rule never stand in for each other.
        assert_eq!(
            kept(&[(0, true, true, 0..10), (5, false, false, 0..10)]),
            ["r0", "r5"]
        );
        // Apart: both.
        assert_eq!(
            kept(&[(0, false, false, 0..5), (1, false, false, 5..9)]),
            ["r0", "r1"]
        );
    }
}
