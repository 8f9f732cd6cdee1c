//! The policy stage: what blocks. This is the only code that decides whether a finding
//! blocks: forbidden files ([`forbidden`]), the team's exceptions ([`allowlist`]), inline
//! `keyward:allow` markers, and whether a secret is new or already in history.

pub(crate) mod allowlist;
pub(crate) mod forbidden;

use crate::model::{Allowance, Candidate, Finding, Item, Kind, Place, Size, Standing};
use crate::rules::{FileAction, FileRule, Rule};
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
pub(crate) struct Policy {
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
    pub(crate) fn new(
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
    pub(crate) fn allowlist(&self) -> &Allowlist {
        &self.allowlist
    }

    /// Whether `allow.paths` allows the content at `path`.
    pub(crate) fn allows_path(&self, path: &[u8]) -> bool {
        self.allowlist.allows_path(path).is_some()
    }

    /// The forbidden-file finding for `item`, if any: none for a symbolic link (its blob is
    /// a target path) or a detached blob (it has no name). `content` is `None` when the file
    /// was too large to read (rules that depend on content are then skipped). A file
    /// `allow.files` exempts, or whose rule `allow.rules` turns off, is reported as allowed.
    pub(crate) fn forbidden(
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
    pub(crate) fn not_scanned(&self, path: &[u8], size: u64, cap: Size) -> Finding {
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
    pub(crate) fn judge<'r>(
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
    pub(crate) fn settle(
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

/// Table tests for [`Policy::judge`] and [`Policy::settle`]: candidates, items and a policy
/// built directly, with the team's exceptions from the text of a `.keyward.toml`; no git, no
/// scan. The values judged are plain words: the policy never looks at what a secret looks
/// like, only at its rule, fingerprint, identity and bytes.
#[cfg(test)]
mod seams {
    use super::*;
    use crate::config::Config;
    use crate::model::{CommitRef, Content};
    use crate::redact;

    /// A built-in rule that blocks.
    const KEY: &str = "kw.openai.project-key";
    /// A built-in rule that warns (a practice the seed warns against).
    const WARN: &str = "kw.seed.browser-exposed-key";
    /// Another built-in rule that blocks.
    const OTHER: &str = "kw.github.pat";

    /// The value judged, and another.
    const VALUE: &[u8] = b"value-under-judgement";
    const OTHER_VALUE: &[u8] = b"another-value-entirely";

    fn rules() -> Vec<Rule> {
        [KEY, WARN, OTHER]
            .iter()
            .map(|id| {
                crate::rules::BUILTIN_RULES
                    .iter()
                    .find(|r| r.id == *id)
                    .unwrap_or_else(|| panic!("no built-in rule {id}"))
                    .to_rule()
            })
            .collect()
    }

    /// A policy with the exceptions of `toml` (the text of a `.keyward.toml`).
    fn policy(strict: bool, inline_allow: bool, toml: &str) -> Policy {
        let config = Config::parse(toml).unwrap_or_else(|e| panic!("{toml}: {e}"));
        Policy::new(
            strict,
            inline_allow,
            Vec::new(),
            Allowlist::new(Some(config)),
        )
    }

    /// A candidate of rule `rule` (an index in [`rules`]) for `value`, with or without an
    /// inline marker on its line.
    fn candidate(rule: usize, value: &[u8], inline: bool) -> Candidate {
        let id = &rules()[rule].id;
        Candidate {
            rule,
            custom: false,
            line: 3,
            column: 7,
            inline_allowed: inline,
            fingerprint: redact::fingerprint(id, value),
            identity: redact::identity(id, value),
            preview: redact::preview(b"", value.len()),
            span: 40..40 + value.len(),
            evidence: value.to_vec(),
        }
    }

    fn item(path: &str, place: Place) -> Item {
        Item {
            place,
            ..Item::new(path.into(), Content::Text(Vec::new().into()))
        }
    }

    /// One case of [`judge_table`]: the policy, the item and the candidate, and what the
    /// finding must say.
    #[derive(Clone, Copy)]
    struct Case {
        name: &'static str,
        /// The `.keyward.toml`; `{fp}` stands for the fingerprint of [`VALUE`] under the
        /// case's rule, `{other}` for that of [`OTHER_VALUE`].
        toml: &'static str,
        strict: bool,
        inline_allow: bool,
        path: &'static str,
        place: Place,
        /// The candidate is the warning rule's, not the blocking one's.
        warning: bool,
        /// An inline marker on the candidate's line.
        inline: bool,
        /// The version the item replaces; `{value}` stands for [`VALUE`].
        previous: Option<&'static str>,
        /// Expected: the exception that allowed it ([`Allowance::by`]).
        allowed: Option<&'static str>,
        blocking: bool,
        pre_existing: bool,
        /// Expected: a note saying why an exception did not apply.
        expired_note: bool,
    }

    /// A new secret in a file, no exception: it blocks.
    const NEW: Case = Case {
        name: "",
        toml: "",
        strict: false,
        inline_allow: true,
        path: "src/app.py",
        place: Place::File,
        warning: false,
        inline: false,
        previous: None,
        allowed: None,
        blocking: true,
        pre_existing: false,
        expired_note: false,
    };

    const RULE_OFF: &str = "[allow]\nrules = [\"kw.openai.project-key\"]\n";
    const WARN_OFF: &str = "[allow]\nrules = [\"kw.seed.browser-exposed-key\"]\n";
    const PATHS: &str = "[allow]\npaths = [\"fixtures/**\"]\n";
    const FINGERPRINT: &str =
        "[[allow.fingerprints]]\nfingerprint = \"{fp}\"\nreason = \"a documented test value\"\n";
    const FINGERPRINT_UNTIL_LATER: &str = "[[allow.fingerprints]]\nfingerprint = \"{fp}\"\nreason = \"a documented test value\"\nexpires = \"2999-12-31\"\n";
    const FINGERPRINT_EXPIRED: &str = "[[allow.fingerprints]]\nfingerprint = \"{fp}\"\nreason = \"a documented test value\"\nexpires = \"2001-01-01\"\n";
    const OTHER_FINGERPRINT: &str =
        "[[allow.fingerprints]]\nfingerprint = \"{other}\"\nreason = \"another value\"\n";
    const HELD: Option<&str> = Some("before\nkey = {value}\nafter\n");
    const NOT_HELD: Option<&str> = Some("before\nkey = something-else\nafter\n");

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        Case { name: "new, no exception: blocks", ..NEW },
        Case { name: "new, strict: blocks", strict: true, ..NEW },
        // Each exception, and where it must not reach.
        Case { name: "rule turned off", toml: RULE_OFF, allowed: Some("rule"), blocking: false, ..NEW },
        Case { name: "rule turned off, strict", toml: RULE_OFF, strict: true, allowed: Some("rule"), blocking: false, ..NEW },
        Case { name: "rule turned off, in a message", toml: RULE_OFF, place: Place::Message, path: "commit 1a2b3c4d5e message", allowed: Some("rule"), blocking: false, ..NEW },
        Case { name: "another rule turned off: blocks", toml: WARN_OFF, ..NEW },
        Case { name: "path allowed", toml: PATHS, path: "fixtures/keys.txt", allowed: Some("path"), blocking: false, ..NEW },
        Case { name: "path allowed, strict", toml: PATHS, strict: true, path: "fixtures/keys.txt", allowed: Some("path"), blocking: false, ..NEW },
        Case { name: "path allowed, a symbolic link there", toml: PATHS, path: "fixtures/link", place: Place::Symlink, allowed: Some("path"), blocking: false, ..NEW },
        Case { name: "path allowed, but a detached blob that only names it: blocks", toml: PATHS, path: "fixtures/keys.txt", place: Place::Ref, ..NEW },
        Case { name: "path allowed, but a message that only names it: blocks", toml: PATHS, path: "fixtures/keys.txt", place: Place::Message, ..NEW },
        Case { name: "another path allowed: blocks", toml: PATHS, path: "src/fixtures.py", ..NEW },
        Case { name: "fingerprint allowed", toml: FINGERPRINT, allowed: Some("fingerprint"), blocking: false, ..NEW },
        Case { name: "fingerprint allowed, strict", toml: FINGERPRINT, strict: true, allowed: Some("fingerprint"), blocking: false, ..NEW },
        Case { name: "fingerprint allowed, in a message", toml: FINGERPRINT, place: Place::Message, path: "commit 1a2b3c4d5e message", allowed: Some("fingerprint"), blocking: false, ..NEW },
        Case { name: "fingerprint allowed, in a detached blob", toml: FINGERPRINT, place: Place::Ref, path: "refs/tags/blob", allowed: Some("fingerprint"), blocking: false, ..NEW },
        Case { name: "fingerprint allowed until a later day", toml: FINGERPRINT_UNTIL_LATER, allowed: Some("fingerprint"), blocking: false, ..NEW },
        Case { name: "fingerprint expired: allows nothing, says why", toml: FINGERPRINT_EXPIRED, expired_note: true, ..NEW },
        Case { name: "fingerprint expired, inline marker: the marker allows, the note stays", toml: FINGERPRINT_EXPIRED, inline: true, allowed: Some("inline"), blocking: false, expired_note: true, ..NEW },
        Case { name: "another value's fingerprint allowed: blocks", toml: OTHER_FINGERPRINT, ..NEW },
        Case { name: "inline marker", inline: true, allowed: Some("inline"), blocking: false, ..NEW },
        Case { name: "inline marker, strict", inline: true, strict: true, allowed: Some("inline"), blocking: false, ..NEW },
        Case { name: "inline marker in a message", inline: true, place: Place::Message, path: "commit 1a2b3c4d5e message", allowed: Some("inline"), blocking: false, ..NEW },
        Case { name: "inline marker refused by the policy: blocks", inline: true, inline_allow: false, ..NEW },
        Case { name: "inline marker refused, strict: blocks", inline: true, inline_allow: false, strict: true, ..NEW },
        Case { name: "inline marker refused, fingerprint allowed", toml: FINGERPRINT, inline: true, inline_allow: false, allowed: Some("fingerprint"), blocking: false, ..NEW },
        // The rule turned off comes first, then the path, then the fingerprint, then the line.
        Case { name: "rule off and path allowed: the rule", toml: "[allow]\nrules = [\"kw.openai.project-key\"]\npaths = [\"fixtures/**\"]\n", path: "fixtures/keys.txt", allowed: Some("rule"), blocking: false, ..NEW },
        Case { name: "path and fingerprint allowed: the path", toml: "[allow]\npaths = [\"fixtures/**\"]\n[[allow.fingerprints]]\nfingerprint = \"{fp}\"\nreason = \"a documented test value\"\n", path: "fixtures/keys.txt", allowed: Some("path"), blocking: false, ..NEW },
        Case { name: "fingerprint allowed and inline marker: the fingerprint", toml: FINGERPRINT, inline: true, allowed: Some("fingerprint"), blocking: false, ..NEW },
        // Already in history: the replaced version holds the value.
        Case { name: "pre-existing: reported, does not block", previous: HELD, pre_existing: true, blocking: false, ..NEW },
        Case { name: "pre-existing, strict: blocks", previous: HELD, strict: true, pre_existing: true, ..NEW },
        Case { name: "a replaced version without the value: new", previous: NOT_HELD, ..NEW },
        Case { name: "pre-existing and allowed", previous: HELD, toml: FINGERPRINT, strict: true, pre_existing: true, allowed: Some("fingerprint"), blocking: false, ..NEW },
        // Warnings block only under the strict policy.
        Case { name: "warning: does not block", warning: true, blocking: false, ..NEW },
        Case { name: "warning, strict: blocks", warning: true, strict: true, ..NEW },
        Case { name: "warning, pre-existing: does not block", warning: true, previous: HELD, pre_existing: true, blocking: false, ..NEW },
        Case { name: "warning, pre-existing, strict: blocks", warning: true, previous: HELD, strict: true, pre_existing: true, ..NEW },
        Case { name: "warning, rule turned off, strict", warning: true, toml: WARN_OFF, strict: true, allowed: Some("rule"), blocking: false, ..NEW },
        Case { name: "warning, inline marker, strict", warning: true, inline: true, strict: true, allowed: Some("inline"), blocking: false, ..NEW },
    ];

    #[test]
    fn judge_table() {
        let rules = rules();
        for case in CASES {
            let rule = usize::from(case.warning);
            let id = &rules[rule].id;
            let toml = case
                .toml
                .replace("{fp}", &redact::fingerprint(id, VALUE))
                .replace("{other}", &redact::fingerprint(id, OTHER_VALUE));
            let policy = policy(case.strict, case.inline_allow, &toml);
            let item = item(case.path, case.place);
            let previous = case
                .previous
                .map(|p| p.replace("{value}", std::str::from_utf8(VALUE).expect("text")));
            let found = policy.judge(
                &item,
                vec![candidate(rule, VALUE, case.inline)],
                previous.as_deref().map(str::as_bytes),
                |i| &rules[i],
            );
            let name = case.name;
            let [f] = found.as_slice() else {
                panic!("{name}: one finding, not {found:?}");
            };
            assert_eq!(
                f.allowed.as_ref().map(Allowance::by),
                case.allowed,
                "{name}: allowed"
            );
            assert_eq!(f.blocking, case.blocking, "{name}: blocking");
            assert_eq!(f.pre_existing, case.pre_existing, "{name}: pre-existing");
            assert_eq!(
                f.note.is_some(),
                case.expired_note,
                "{name}: note {:?}",
                f.note
            );
            if case.expired_note {
                let note = f.note.as_deref().unwrap_or_default();
                assert!(note.contains("until 2001-01-01: expired"), "{name}: {note}");
            }
            match &f.allowed {
                Some(Allowance::Path(glob)) => assert_eq!(glob, "fixtures/**", "{name}"),
                Some(Allowance::Fingerprint(reason)) => {
                    assert_eq!(reason, "a documented test value", "{name}")
                }
                _ => {}
            }
            // What the finding carries over from the rule, the item and the candidate.
            let c = candidate(rule, VALUE, case.inline);
            let r = &rules[rule];
            let want_kind = if case.warning {
                Kind::Warning
            } else {
                Kind::Secret
            };
            assert_eq!(f.kind, want_kind, "{name}");
            assert_eq!((&f.rule_id, &f.rule_name), (&r.id, &r.name), "{name}");
            assert_eq!(
                (f.path.as_slice(), f.place),
                (case.path.as_bytes(), case.place),
                "{name}"
            );
            assert_eq!((f.line, f.column), (Some(3), Some(7)), "{name}");
            assert_eq!(f.fingerprint.as_ref(), Some(&c.fingerprint), "{name}");
            assert_eq!(f.identity, Some(c.identity), "{name}");
            assert_eq!(f.preview.as_ref(), Some(&c.preview), "{name}");
            let remedy = if case.warning {
                r.guidance.clone().expect("a warning's guidance")
            } else {
                r.revoke_url.clone()
            };
            assert_eq!(f.remedy, remedy, "{name}: remedy");
            assert_eq!(f.env_var.as_ref(), Some(&r.env_var), "{name}");
            assert_eq!(f.commit, None, "{name}");
        }
    }

    #[test]
    fn judge_an_exception_for_one_rule_hides_no_other_rules_finding() {
        // Two rules match overlapping bytes; the first in priority order is allowed by its
        // fingerprint, which says nothing of the other rule's finding: both are reported.
        let rules = rules();
        let toml = FINGERPRINT.replace("{fp}", &redact::fingerprint(KEY, VALUE));
        let policy = policy(false, true, &toml);
        let mut allowed = candidate(0, VALUE, false);
        allowed.span = 0..VALUE.len();
        let mut other = candidate(2, OTHER_VALUE, false);
        other.span = 4..4 + OTHER_VALUE.len();
        let found = policy.judge(
            &item("src/app.py", Place::File),
            vec![other, allowed],
            None,
            |i| &rules[i],
        );
        let got: Vec<(&str, bool)> = found
            .iter()
            .map(|f| (f.rule_id.as_str(), f.blocking))
            .collect();
        assert_eq!(got, [(KEY, false), (OTHER, true)]);
    }

    #[test]
    fn judge_pre_existing_only_for_the_value_the_replaced_version_holds() {
        let rules = rules();
        let policy = policy(false, true, "");
        let mut old = candidate(0, VALUE, false);
        old.span = 0..VALUE.len();
        let mut new = candidate(0, OTHER_VALUE, false);
        new.span = 100..100 + OTHER_VALUE.len();
        let previous = [b"key = ".as_slice(), VALUE, b"\n"].concat();
        let found = policy.judge(
            &item("src/app.py", Place::File),
            vec![old, new],
            Some(&previous),
            |i| &rules[i],
        );
        let got: Vec<(bool, bool)> = found.iter().map(|f| (f.pre_existing, f.blocking)).collect();
        assert_eq!(got, [(true, false), (false, true)]);
    }

    // --- settle ---

    /// `n` items, each in a commit of its own (commit `i` at time `i`).
    fn committed_items(n: usize) -> Vec<Item> {
        (0..n)
            .map(|i| Item {
                commit: Some(commit(i)),
                ..item(&format!("src/file{i}.py"), Place::File)
            })
            .collect()
    }

    fn commit(i: usize) -> CommitRef {
        CommitRef {
            id: gix::ObjectId::from_hex(format!("{:040x}", i + 1).as_bytes()).expect("an id"),
            author_time: i as i64,
        }
    }

    /// A secret finding for `value` under [`KEY`], as [`Policy::judge`] makes it.
    fn secret(value: &[u8], pre_existing: bool, allowed: Option<Allowance>) -> Finding {
        Finding {
            kind: Kind::Secret,
            rule_id: KEY.into(),
            rule_name: "OpenAI project API key".into(),
            path: b"src/app.py".to_vec(),
            place: Place::File,
            line: Some(1),
            column: Some(1),
            fingerprint: Some(redact::fingerprint(KEY, value)),
            identity: Some(redact::identity(KEY, value)),
            preview: Some(redact::preview(b"", value.len())),
            pre_existing,
            blocking: allowed.is_none() && !pre_existing,
            remedy: String::new(),
            env_var: None,
            note: None,
            commit: None,
            allowed,
        }
    }

    /// A forbidden-file finding at `path`.
    fn forbidden_file(path: &str) -> Finding {
        Finding {
            kind: Kind::ForbiddenFile,
            rule_id: "kw.file.env".into(),
            path: path.into(),
            fingerprint: None,
            identity: None,
            preview: None,
            blocking: true,
            ..secret(b"", false, None)
        }
    }

    /// A settled finding as the settle tests compare it: the value's index in the test's
    /// list, its commit's number, pre-existing, blocking, and the exception that allowed it.
    type Settled = (usize, Option<i64>, bool, bool, Option<&'static str>);

    /// What settle returned (see [`Settled`]).
    fn settled(
        policy: &Policy,
        standing: Standing,
        items: &[Item],
        found: Vec<(usize, Finding)>,
        values: &[&[u8]],
    ) -> Vec<Settled> {
        policy
            .settle(standing, items, found)
            .into_iter()
            .map(|f| {
                let value = values
                    .iter()
                    .position(|v| Some(redact::identity(KEY, v)) == f.identity)
                    .unwrap_or(usize::MAX);
                let by = f.allowed.as_ref().map(Allowance::by);
                (
                    value,
                    f.commit.map(|c| c.author_time),
                    f.pre_existing,
                    f.blocking,
                    by,
                )
            })
            .collect()
    }

    fn path_allowed() -> Option<Allowance> {
        Some(Allowance::Path("fixtures/**".into()))
    }

    #[test]
    fn settle_committed_one_finding_per_secret_at_its_first_commit() {
        let items = committed_items(3);
        let found = vec![
            (2, secret(VALUE, false, None)),
            (0, secret(VALUE, false, None)),
            (1, secret(OTHER_VALUE, false, None)),
            (2, secret(OTHER_VALUE, false, None)),
            (1, secret(VALUE, false, None)),
        ];
        let values = [VALUE, OTHER_VALUE];
        // Committed: in history by definition, and new ones block.
        assert_eq!(
            settled(
                &policy(false, true, ""),
                Standing::Committed,
                &items,
                found,
                &values
            ),
            [
                (0, Some(0), true, true, None),
                (1, Some(1), true, true, None)
            ]
        );
    }

    #[test]
    fn settle_committed_already_in_history_only_for_the_identity_the_base_held() {
        let items = committed_items(3);
        // The base held VALUE (judged pre-existing at commit 0, kept by commit 2); a new
        // value whose 8-digit fingerprint happens to equal VALUE's arrives at commit 1.
        let mut same_fingerprint = secret(OTHER_VALUE, false, None);
        same_fingerprint.fingerprint = Some(redact::fingerprint(KEY, VALUE));
        let found = || {
            vec![
                (0, secret(VALUE, true, None)),
                (1, same_fingerprint.clone()),
                (2, secret(VALUE, false, None)),
            ]
        };
        let values = [VALUE, OTHER_VALUE];
        assert_eq!(
            settled(
                &policy(false, true, ""),
                Standing::Committed,
                &items,
                found(),
                &values
            ),
            [
                (0, Some(0), true, false, None),
                (1, Some(1), true, true, None)
            ]
        );
        // Strict: already in history blocks too.
        assert_eq!(
            settled(
                &policy(true, true, ""),
                Standing::Committed,
                &items,
                found(),
                &values
            ),
            [
                (0, Some(0), true, true, None),
                (1, Some(1), true, true, None)
            ]
        );
    }

    #[test]
    fn settle_committed_a_later_commit_keeping_a_value_the_base_held_is_not_new() {
        // The base side of commit 1 held VALUE, which commit 0 (on another line of history)
        // also added: reported once, at the first commit, as already in history.
        let items = committed_items(2);
        let found = vec![
            (0, secret(VALUE, false, None)),
            (1, secret(VALUE, true, None)),
        ];
        assert_eq!(
            settled(
                &policy(false, true, ""),
                Standing::Committed,
                &items,
                found,
                &[VALUE]
            ),
            [(0, Some(0), true, false, None)]
        );
    }

    #[test]
    fn settle_committed_allowed_findings_are_kept_and_stand_for_no_other() {
        let items = committed_items(4);
        let found = vec![
            (0, secret(VALUE, false, path_allowed())),
            (1, secret(VALUE, false, None)),
            (2, secret(VALUE, false, path_allowed())),
            (3, secret(VALUE, false, None)),
        ];
        assert_eq!(
            settled(
                &policy(false, true, ""),
                Standing::Committed,
                &items,
                found,
                &[VALUE]
            ),
            [
                (0, Some(0), true, false, Some("path")),
                (0, Some(1), true, true, None)
            ]
        );
    }

    #[test]
    fn settle_committed_a_value_history_held_only_where_allowed_is_new_elsewhere() {
        let items = committed_items(2);
        let found = vec![
            (0, secret(VALUE, true, path_allowed())),
            (1, secret(VALUE, false, None)),
        ];
        assert_eq!(
            settled(
                &policy(false, true, ""),
                Standing::Committed,
                &items,
                found,
                &[VALUE]
            ),
            [
                (0, Some(0), true, false, Some("path")),
                (0, Some(1), true, true, None)
            ]
        );
    }

    #[test]
    fn settle_committed_forbidden_files_once_per_path_and_warnings_untouched() {
        let items = committed_items(3);
        let mut warning = secret(VALUE, false, None);
        warning.kind = Kind::Warning;
        warning.rule_id = WARN.into();
        warning.blocking = false;
        let found = vec![
            (0, forbidden_file(".env")),
            (1, forbidden_file(".env")),
            (1, forbidden_file("config/.env")),
            (1, warning.clone()),
            (2, warning.clone()),
        ];
        let out = policy(false, true, "").settle(Standing::Committed, &items, found);
        // Kind, path, commit number, pre-existing, blocking.
        type Row<'a> = (Kind, &'a [u8], Option<i64>, bool, bool);
        let got: Vec<Row> = out
            .iter()
            .map(|f| {
                let when = f.commit.map(|c| c.author_time);
                (f.kind, f.path.as_slice(), when, f.pre_existing, f.blocking)
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    Kind::ForbiddenFile,
                    b".env".as_slice(),
                    Some(0),
                    false,
                    true
                ),
                (
                    Kind::ForbiddenFile,
                    b"config/.env".as_slice(),
                    Some(1),
                    false,
                    true
                ),
                (
                    Kind::Warning,
                    b"src/app.py".as_slice(),
                    Some(1),
                    false,
                    false
                ),
            ]
        );
    }

    #[test]
    fn settle_staged_and_files_leave_findings_as_judged() {
        let items = committed_items(2);
        for standing in [Standing::Staged, Standing::Files] {
            for strict in [false, true] {
                let found = vec![
                    (1, secret(VALUE, false, None)),
                    (0, secret(VALUE, true, None)),
                    (0, secret(OTHER_VALUE, false, path_allowed())),
                    (1, secret(VALUE, false, None)),
                ];
                let values = [VALUE, OTHER_VALUE];
                assert_eq!(
                    settled(&policy(strict, true, ""), standing, &items, found, &values),
                    [
                        (0, None, true, false, None),
                        (1, None, false, false, Some("path")),
                        (0, None, false, true, None),
                        (0, None, false, true, None),
                    ],
                    "{standing:?}, strict {strict}"
                );
            }
        }
    }
}
