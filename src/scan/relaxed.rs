//! A rule's pattern with its long bounded repetitions unbounded: a cheap first pass that says
//! whether the rule can match a window at all.
//!
//! The lazy DFA a regex search runs on builds its states as the input asks for them. A
//! bounded repetition such as the generic rule's `[a-z0-9_.\-]{0,40}?` before a name makes it
//! count: every identifier character leads to a new state, and each new state costs an
//! epsilon closure over the whole pattern (about 6,000 instructions for the generic rule).
//! Measured on the history bench (5,000 commits of code that says `token` and `key`, one
//! thread): the generic rule searched 8.6 MB of keyword lines in 0.68 s (13 MB/s), computing
//! 222,000 DFA transitions, a third of the whole scan's instructions; unbounded, the same
//! search takes 0.10 s. The whole history scan went from 4.43 to 3.07 billion instructions.
//!
//! Unbounding only widens what a pattern matches, so a window where the relaxed pattern finds
//! nothing holds no match of the rule either, and is skipped; a window where it finds
//! something is searched with the rule's own pattern, so what is reported is unchanged.
//! Most keyword lines of real code are settled by the first pass (on the history bench, all
//! of them; lines such as `token = config.get("token")` pass it and are searched twice).
//!
//! The rule's own regex is then compiled only when a window passes the twin: the generic
//! rules' regexes, with their counted repetitions, cost some 28 million instructions to
//! compile, their twins a tenth of that. A commit whose file says `token`, `secret key` and
//! `password` in prose but assigns none: 47 million instructions before, 7.8 million with
//! twins built as meta regexes, 6.6 million with bare forward lazy DFAs ([`Twin`]) built from
//! an expression rebuilt only where it changes.

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::Input;
use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};

/// Repetitions allowing more than this many extra repeats are unbounded; shorter ones cost
/// the lazy DFA little and keep the relaxed pattern selective.
const LONG: u32 = 8;

/// Makes a search cache for a [`Twin`]'s DFA (one per thread that searches with it).
type MakeCache = Box<dyn Fn() -> Cache + Send + Sync>;

/// A relaxed pattern, compiled for the one question asked of it: does it match somewhere in
/// a window. A forward lazy DFA alone: the meta regex built besides it a reverse automaton
/// and a PikeVM that an is-match search never runs (a third of the cost of building a twin,
/// paid on every commit whose files name the generic rules' keywords).
pub(crate) struct Twin {
    dfa: DFA,
    caches: Pool<Cache, MakeCache>,
}

impl Twin {
    /// Whether the relaxed pattern matches somewhere in `haystack`. Where the lazy DFA gives
    /// up (its cache cleared too often), the answer is yes: the rule's own regex decides.
    pub(crate) fn is_match(&self, haystack: &[u8]) -> bool {
        let mut cache = self.caches.get();
        let input = Input::new(haystack).earliest(true);
        !matches!(self.dfa.try_search_fwd(&mut cache, &input), Ok(None))
    }
}

/// The relaxed twin of `pattern` (compiled as the scanner compiles rules: bytes, not
/// Unicode), or `None` when it has no long bounded repetition or cannot be relaxed.
pub(crate) fn twin(pattern: &str) -> Option<Twin> {
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    if !has_long(&hir) {
        return None;
    }
    let relaxed = relax(hir);
    // Built from the relaxed HIR itself (printing and parsing it again cost more than the
    // rest). No literal prefilter: the keyword prefilter chose the lines already.
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(1 << 24))
                .shrink(false)
                .which_captures(WhichCaptures::None),
        )
        .build_from_hir(&relaxed)
        .ok()?;
    let dfa = DFA::builder()
        .configure(DFA::config().cache_capacity(16 << 20))
        .build_from_nfa(nfa)
        .ok()?;
    let for_caches = dfa.clone();
    let make: MakeCache = Box::new(move || for_caches.create_cache());
    Some(Twin {
        dfa,
        caches: Pool::new(make),
    })
}

/// Whether `hir` holds a repetition with more than [`LONG`] optional repeats.
fn has_long(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Repetition(r) => {
            r.max.is_some_and(|max| max.saturating_sub(r.min) > LONG) || has_long(&r.sub)
        }
        HirKind::Capture(c) => has_long(&c.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(has_long),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => false,
    }
}

/// `hir` with every long bounded repetition unbounded. Only the parts that hold one are
/// rebuilt (rebuilding the whole expression, every case-folded class of it, was a quarter of
/// what building a twin costs); capture groups stay, and the twin's automaton ignores them.
fn relax(hir: Hir) -> Hir {
    if !has_long(&hir) {
        return hir;
    }
    match hir.into_kind() {
        HirKind::Repetition(Repetition {
            min,
            max,
            greedy,
            sub,
        }) => {
            let max = max.filter(|max| max.saturating_sub(min) <= LONG);
            Hir::repetition(Repetition {
                min,
                max,
                greedy,
                sub: Box::new(relax(*sub)),
            })
        }
        HirKind::Capture(Capture { sub, .. }) => relax(*sub),
        HirKind::Concat(subs) => Hir::concat(subs.into_iter().map(relax).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.into_iter().map(relax).collect()),
        // These hold no repetition, and were returned above.
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(l) => Hir::literal(l.0),
        HirKind::Class(c) => Hir::class(c),
        HirKind::Look(l) => Hir::look(l),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bounds_are_lifted_and_short_ones_kept() {
        let twin =
            twin(r"(?i)(?:^|[^a-z])(?P<name>[a-z_]{0,40}?token)[ ]{0,3}=[ ]{0,3}([a-z0-9]{8,64})")
                .expect("relaxed");
        // A name longer than the bound, and a value longer than its bound, are matched by the
        // twin (it only widens); the short bounds stay.
        let long = format!("x = 1; {}token = abcdefgh1234", "a".repeat(60));
        assert!(twin.is_match(long.as_bytes()));
        let value = format!("api_token = {}", "a".repeat(100));
        assert!(twin.is_match(value.as_bytes()));
        assert!(
            !twin.is_match(b"api_token     =     abcdefgh1234"),
            "{{0,3}} spaces kept"
        );
        assert!(!twin.is_match(b"nothing here"));
    }

    #[test]
    fn a_pattern_without_long_bounds_has_no_twin() {
        assert!(twin(r"ghp_[A-Za-z0-9]{36}").is_none());
        assert!(twin(r"sk-[a-z]{2,5}").is_none());
    }

    #[test]
    fn every_built_in_rule_matches_its_twin_wherever_it_matches() {
        // The twin must never skip a window the rule matches: checked on every built-in rule
        // over its generated examples and negative examples (several draws each).
        let set = crate::rules::RuleSet::builtin_with_examples().expect("catalog");
        let mut rng = crate::rules::examples::Rng::new(7);
        let mut twins = 0;
        for rule in &set.rules {
            let Some(twin) = twin(&rule.pattern) else {
                continue;
            };
            twins += 1;
            let exact = regex::bytes::RegexBuilder::new(&rule.pattern)
                .unicode(false)
                .size_limit(1 << 24)
                .build()
                .expect("built-in pattern");
            for template in rule.examples.iter().chain(&rule.negative_examples) {
                for _ in 0..4 {
                    let text = crate::rules::examples::expand(template, &mut rng)
                        .expect("example")
                        .text;
                    assert!(
                        !exact.is_match(text.as_bytes()) || twin.is_match(text.as_bytes()),
                        "{}: the twin misses an example the rule matches",
                        rule.id
                    );
                }
            }
        }
        assert!(twins > 0, "the generic rules have long bounded repetitions");
    }
}
