//! Whether a list of globs together matches every path: an exception list that does is an off
//! switch, not an exception (`paths = ["**/[!a]*", "**/a*"]` allows every file, though neither
//! glob alone does).
//!
//! # How it is decided, and why the answer is exact
//!
//! globset matches a path by running the regular expression it compiles each glob to
//! ([`Glob::regex`]) over the path's bytes (`/` separators, the path as UTF-8). Whatever the
//! glob syntax — classes, negated classes, `*`, `**`, `?`, alternations — a list of globs is
//! therefore one regular language, and the union of the list is recognised by one finite
//! automaton: [`union`] compiles those very expressions, with the options globset compiles them
//! with, into one nondeterministic automaton (regex-automata's Thompson NFA), which the search
//! makes deterministic as it goes (each state a set of the NFA's states).
//!
//! The paths asked about are a regular language too ([`Spelling`]): non-empty components
//! separated by single slashes, none of them `.`, `..` or `.git` (git records no such path),
//! no NUL byte, valid UTF-8. The list leaves a path unmatched exactly when some path of that
//! language drives the union's automaton to a state that does not accept at the end. The
//! search walks the product of the two automata breadth-first from their start states, over
//! one byte of each class of bytes the two treat alike (the NFA's byte classes, crossed
//! with the bytes [`Spelling`] tells apart): a finite graph, so it ends, and it visits every
//! reachable pair but those that another visited pair stands for (see [`unmatched`]), so it
//! finds an unmatched path whenever there is one — and returns it as a witness. No sampling is
//! involved; a list reported as covering everything does.
//!
//! Two languages are asked about. [`Reach::Every`]: every path git can record. And
//! [`Reach::Nearly`]: every path of a file whose name holds a dot, in a directory
//! (`src/app.py`, `deploy/.env`). A list that matches all of those is an off switch too, even
//! if it leaves `Makefile` or the top-level files out (`**/*.*`, `*/**`); before this check,
//! eight paths of that shape were probed one glob at a time. The probes still settle most
//! lists at once, before any automaton is built: a list that misses one leaves a file out.

use globset::{Glob, GlobSet};
use regex_automata::nfa::thompson::{self, State, WhichCaptures, NFA};
use regex_automata::util::look::{Look, LookSet};
use regex_automata::util::primitives::StateID;
use regex_automata::util::syntax;
use std::collections::{HashMap, VecDeque};

/// How much of the paths a list matches, when it is too much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Every path git can record.
    Every,
    /// Every path of a file with a dot in its name, in a directory (every `dir/name.ext`),
    /// but not every path.
    Nearly,
}

/// The union's automaton would be larger than this: the list is too complex to check.
#[derive(Debug, thiserror::Error)]
#[error("too complex to check that they leave some file out ({0})")]
pub(crate) struct TooComplex(String);

/// Paths of every usual kind: a list that misses one of them leaves a file out, and nothing
/// more needs building (most lists: `tests/fixtures/**`, `*.md`).
const PROBES: &[&str] = &[
    "src/app.py",
    "config/deploy.py",
    "lib/x/y/z.rs",
    "deploy/.env",
    "k8s/prod/secret.yaml",
    "web/src/index.ts",
    "a/b/c/d/e/f/g/h.txt",
    "java/Main.java",
];

/// The NFA of a list's union may take this many bytes, and the search visit this many sets
/// of its states, at most: far more than a policy file's globs need.
const NFA_SIZE_LIMIT: usize = 16 << 20;
const VISIT_LIMIT: usize = 200_000;

/// How much of the paths `globs` (compiled together as `set`) match together: `None` when
/// they leave out some `dir/name.ext` path.
pub(crate) fn reach(globs: &[Glob], set: &GlobSet) -> Result<Option<Reach>, TooComplex> {
    if globs.is_empty() || PROBES.iter().any(|p| !set.is_match(p)) {
        return Ok(None);
    }
    let union = union(globs)?;
    if unmatched(&union, Shape::Nearly)?.is_some() {
        return Ok(None);
    }
    Ok(Some(if unmatched(&union, Shape::Every)?.is_some() {
        Reach::Nearly
    } else {
        Reach::Every
    }))
}

/// One NFA for the union of `globs`, compiled from the expressions globset matches with.
fn union(globs: &[Glob]) -> Result<NFA, TooComplex> {
    let patterns: Vec<&str> = globs.iter().map(Glob::regex).collect();
    let nfa = thompson::Compiler::new()
        // As globset compiles them (`globset::glob::new_regex`); each says `(?-u)` itself.
        .syntax(syntax::Config::new().utf8(false).dot_matches_new_line(true))
        .configure(
            thompson::Config::new()
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(NFA_SIZE_LIMIT)),
        )
        .build_many(&patterns)
        .map_err(|e| TooComplex(e.to_string()))?;
    // globset writes `^` and `$` and no other assertion; [`Closure`] knows only those.
    let known = LookSet::singleton(Look::Start).insert(Look::End);
    if !nfa.look_set_any().subtract(known).is_empty() {
        return Err(TooComplex("an assertion other than ^ and $".into()));
    }
    Ok(nfa)
}

/// Which paths are asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Every path git can record.
    Every,
    /// Those in a directory whose file name holds a dot.
    Nearly,
}

/// A state of the search: the NFA states the union is in after a path's bytes (sorted: those
/// that read a byte, matches, and `$` assertions still to be checked), where the path stands,
/// and the node and byte it was reached from.
struct Node {
    set: Vec<StateID>,
    spelling: Spelling,
    from: Option<(usize, u8)>,
}

/// A path of `shape` that no glob of `nfa` matches (the first found, among the shortest).
///
/// The search is the subset construction of the union's automaton, in product with
/// [`Spelling`], breadth-first, pruned as antichain algorithms prune it (De Wulf, Doyen,
/// Henzinger and Raskin, 2006): a set of NFA states that holds a set already reached with the
/// same spelling is not explored. The larger set's states match every continuation the
/// smaller set's match, so a path the larger one leaves unmatched is left unmatched from the
/// smaller one too, and found there. Without it, fifty globs such as `dir3/**/*.py` beside
/// `**/[!a]*` and `**/a*` made 14,000 sets and took seconds; with it, under a hundred.
fn unmatched(nfa: &NFA, shape: Shape) -> Result<Option<Vec<u8>>, TooComplex> {
    let bytes = representatives(nfa);
    let mut closure = Closure::new(nfa);
    let mut nodes = vec![Node {
        set: closure.of(vec![nfa.start_anchored()], true, false),
        spelling: Spelling::START,
        from: None,
    }];
    // The sets reached so far, by spelling, none holding another reached before it.
    let mut reached: HashMap<Spelling, Vec<usize>> = HashMap::from([(Spelling::START, vec![0])]);
    let mut queue = VecDeque::from([0]);
    while let Some(at) = queue.pop_front() {
        if nodes[at].spelling.complete(shape) && !closure.matches_at_end(&nodes[at].set) {
            return Ok(Some(spelled(&nodes, at)));
        }
        for &b in &bytes {
            let Some(spelling) = nodes[at].spelling.next(b) else {
                continue;
            };
            let set = closure.step(&nodes[at].set, b);
            let same = reached.entry(spelling).or_default();
            if same.iter().any(|&j| is_subset(&nodes[j].set, &set)) {
                continue;
            }
            if nodes.len() >= VISIT_LIMIT {
                return Err(TooComplex(format!("more than {VISIT_LIMIT} states")));
            }
            same.push(nodes.len());
            queue.push_back(nodes.len());
            nodes.push(Node {
                set,
                spelling,
                from: Some((at, b)),
            });
        }
    }
    Ok(None)
}

/// The bytes that lead from the start to node `at`.
fn spelled(nodes: &[Node], mut at: usize) -> Vec<u8> {
    let mut path = Vec::new();
    while let Some((from, b)) = nodes[at].from {
        path.push(b);
        at = from;
    }
    path.reverse();
    path
}

/// Whether sorted `small` is a subset of sorted `large`.
fn is_subset(small: &[StateID], large: &[StateID]) -> bool {
    let mut large = large.iter();
    small.iter().all(|s| large.any(|l| l == s))
}

/// Moves through the NFA without reading a byte: `^` holds at the start of the text, `$` at
/// its end. (One buffer of visited states, reused.)
struct Closure<'a> {
    nfa: &'a NFA,
    seen: Vec<bool>,
}

impl<'a> Closure<'a> {
    fn new(nfa: &'a NFA) -> Self {
        Closure {
            nfa,
            seen: vec![false; nfa.states().len()],
        }
    }

    /// The states reachable from `stack` without reading a byte, keeping those that read a
    /// byte, the matches, and (unless `at_end`) the `$` assertions; sorted.
    fn of(&mut self, mut stack: Vec<StateID>, at_start: bool, at_end: bool) -> Vec<StateID> {
        let mut kept = Vec::new();
        let mut visited = Vec::new();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut self.seen[id.as_usize()], true) {
                continue;
            }
            visited.push(id);
            match self.nfa.state(id) {
                State::ByteRange { .. }
                | State::Sparse(_)
                | State::Dense(_)
                | State::Match { .. } => kept.push(id),
                State::Look { look, next } => match look {
                    Look::Start if at_start => stack.push(*next),
                    Look::End if at_end => stack.push(*next),
                    Look::End => kept.push(id),
                    _ => {}
                },
                State::Union { alternates } => stack.extend(alternates.iter().copied()),
                State::BinaryUnion { alt1, alt2 } => stack.extend([*alt1, *alt2]),
                State::Capture { next, .. } => stack.push(*next),
                State::Fail => {}
            }
        }
        for id in visited {
            self.seen[id.as_usize()] = false;
        }
        kept.sort_unstable();
        kept
    }

    /// The set after `set` reads `byte`.
    fn step(&mut self, set: &[StateID], byte: u8) -> Vec<StateID> {
        let next = set
            .iter()
            .filter_map(|&id| match self.nfa.state(id) {
                State::ByteRange { trans } => trans.matches_byte(byte).then_some(trans.next),
                State::Sparse(t) => t.matches_byte(byte),
                State::Dense(t) => t.matches_byte(byte),
                _ => None,
            })
            .collect();
        self.of(next, false, false)
    }

    /// Whether a glob matches a text that ends where `set` is.
    fn matches_at_end(&mut self, set: &[StateID]) -> bool {
        let nfa = self.nfa;
        self.of(set.to_vec(), false, true)
            .iter()
            .any(|&id| matches!(nfa.state(id), State::Match { .. }))
    }
}

/// One byte for each class of bytes that both `nfa` and [`Spelling`] treat alike (letters and
/// digits first, so that witnesses read well): stepping with it stands for stepping with any
/// byte of its class.
fn representatives(nfa: &NFA) -> Vec<u8> {
    let classes = nfa.byte_classes();
    let mut order: Vec<u8> = (0..=255).collect();
    order.sort_by_key(|b| (!b.is_ascii_alphanumeric(), !b.is_ascii_graphic(), *b));
    let mut seen = std::collections::HashSet::new();
    order
        .into_iter()
        .filter(|&b| seen.insert((classes.get(b), Spelling::class(b))))
        .collect()
}

/// A component spelled so far, as far as it matters whether git could record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Component {
    /// Nothing yet.
    Empty,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `.g`, any case
    DotG,
    /// `.gi`, any case
    DotGi,
    /// `.git`, any case
    DotGit,
    /// Anything else (a name git accepts, and stays one whatever follows).
    Other,
}

impl Component {
    fn step(self, b: u8) -> Component {
        match (self, b.to_ascii_lowercase()) {
            (Component::Empty, b'.') => Component::Dot,
            (Component::Dot, b'.') => Component::DotDot,
            (Component::Dot, b'g') => Component::DotG,
            (Component::DotG, b'i') => Component::DotGi,
            (Component::DotGi, b't') => Component::DotGit,
            _ => Component::Other,
        }
    }

    /// Whether a component may end here: git refuses empty ones, `.`, `..` and `.git`.
    fn can_end(self) -> bool {
        matches!(self, Component::DotG | Component::DotGi | Component::Other)
    }
}

/// Where a path being spelled byte by byte stands: whether it can end here as a path git
/// could record (and of which [`Shape`]), and which bytes may come next. A finite automaton:
/// its states are these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Spelling {
    component: Component,
    /// A `/` was spelled: the path is in a directory.
    nested: bool,
    /// The current component holds a `.`.
    dotted: bool,
    /// UTF-8 continuation bytes still owed.
    owed: u8,
    /// The range the next continuation byte must fall in (narrower after `E0`, `ED`, `F0`,
    /// `F4`: no overlong forms, surrogates or code points past U+10FFFF).
    low: u8,
    high: u8,
}

impl Spelling {
    const START: Spelling = Spelling {
        component: Component::Empty,
        nested: false,
        dotted: false,
        owed: 0,
        low: 0x80,
        high: 0xBF,
    };

    /// The spelling after byte `b`, or `None` when no path continues with it.
    fn next(self, b: u8) -> Option<Spelling> {
        if self.owed > 0 {
            return (self.low..=self.high).contains(&b).then_some(Spelling {
                owed: self.owed - 1,
                low: 0x80,
                high: 0xBF,
                ..self
            });
        }
        let (owed, low, high) = match b {
            0 => return None,
            b'/' if self.component.can_end() => {
                return Some(Spelling {
                    nested: true,
                    ..Spelling::START
                })
            }
            b'/' => return None,
            0x01..=0x7F => {
                return Some(Spelling {
                    component: self.component.step(b),
                    dotted: self.dotted || b == b'.',
                    ..self
                })
            }
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return None,
        };
        Some(Spelling {
            component: Component::Other,
            owed,
            low,
            high,
            ..self
        })
    }

    /// Whether the path spelled so far is a whole path of `shape`.
    fn complete(self, shape: Shape) -> bool {
        self.owed == 0
            && self.component.can_end()
            && (shape == Shape::Every || (self.nested && self.dotted))
    }

    /// The class of `b`: bytes of one class lead every spelling to the same spelling.
    fn class(b: u8) -> u8 {
        match b.to_ascii_lowercase() {
            0 => 0,
            b'/' => 1,
            b'.' => 2,
            b'g' => 3,
            b'i' => 4,
            b't' => 5,
            0x01..=0x7F => 6,
            0x80..=0x8F => 7,
            0x90..=0x9F => 8,
            0xA0..=0xBF => 9,
            0xC0..=0xC1 => 10,
            0xC2..=0xDF => 11,
            0xE0 => 12,
            0xE1..=0xEC | 0xEE..=0xEF => 13,
            0xED => 14,
            0xF0 => 15,
            0xF1..=0xF3 => 16,
            0xF4 => 17,
            _ => 18,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use globset::GlobSetBuilder;

    /// Compiles `list` as `.keyward.toml` does (see `super::super::glob`).
    fn compiled(list: &[&str]) -> (Vec<Glob>, GlobSet) {
        let globs: Vec<Glob> = list
            .iter()
            .map(|g| super::super::glob(g, false).expect("valid glob"))
            .collect();
        let mut b = GlobSetBuilder::new();
        for g in &globs {
            b.add(g.clone());
        }
        (globs, b.build().expect("set builds"))
    }

    #[test]
    fn lists_that_together_match_every_path() {
        for list in [
            &["**"][..],
            &["*"],
            &["**/*"],
            &["?*"],
            &["**/[!a]*", "**/a*"],
            &["[!a]*", "a*"],
            &["**/{[!a],a}*"],
            &["**/[!.]*", "**/.?*"],
            &["[a-m]*", "[!a-m]*"],
            &["**/*[!x]", "**/*x"],
            &["**/[!a]*", "**/a", "**/a?*"],
            &["docs/*.md", "**/[!a]*", "**/a*"],
            &["*", "src/**"],
        ] {
            let (globs, set) = compiled(list);
            assert_eq!(
                reach(&globs, &set).expect("small"),
                Some(Reach::Every),
                "{list:?}"
            );
        }
    }

    /// Fifty globs that each name a directory, a name or an extension, and the two that
    /// cover everything: refused, and the search stays small.
    #[test]
    fn a_long_list_is_decided_as_a_short_one() {
        let exts = [
            "py", "rs", "ts", "go", "java", "rb", "php", "yaml", "json", "md",
        ];
        let mut list: Vec<String> = Vec::new();
        for (i, e) in exts.iter().enumerate() {
            list.push(format!("dir{i}/**/*.{e}"));
            list.push(format!("**/test{i}/*.{e}"));
            list.push(format!("src/**/fixture_{e}_*"));
            list.push(format!("**/*.{e}.snap"));
            list.push(format!("docs/{e}/**"));
        }
        let (globs, set) = compiled(&list.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(reach(&globs, &set).expect("small"), None);
        list.extend(["**/[!a]*".into(), "**/a*".into()]);
        let (globs, set) = compiled(&list.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(reach(&globs, &set).expect("small"), Some(Reach::Every));
    }

    #[test]
    fn lists_that_match_every_dir_name_ext_but_not_every_path() {
        for list in [
            &["**/*.*"][..],
            &["*/**"],
            &["**/*.*", "/*"],
            &["**/[!.]*.*", "**/.*"],
            &["*/**/[!a]*", "*/**/a*"],
            // Only files named `a` are left out.
            &["**/[!a]*", "**/a?*"],
        ] {
            let (globs, set) = compiled(list);
            let got = reach(&globs, &set).expect("small");
            assert_eq!(got, Some(Reach::Nearly), "{list:?}");
            let union = union(&globs).expect("small");
            let witness = unmatched(&union, Shape::Every)
                .expect("small")
                .expect("a path is left out");
            assert!(!set.is_match(String::from_utf8_lossy(&witness).as_ref()));
        }
    }

    /// Lists that look broad but leave a path out; the path the search finds proves it.
    #[test]
    fn lists_that_leave_a_path_out_and_the_path() {
        for list in [
            &["**/[!a]*", "**/ab*"][..],
            &["**/[!a]*", "**/a"],
            &["*.md", "tests/**"],
            &[
                "**/*.py",
                "**/*.rs",
                "**/*.yaml",
                "**/*.ts",
                "**/*.java",
                "**/*.txt",
                "**/.env",
            ],
            &["**/[!.]*", "**/.[!e]*"],
            &["**/[!a-z]*", "**/[a-y]*"],
            &["*/**/[!a]*", "*/**/ab*", "/*"],
            &["**/*[!y]", "**/*x"],
            &["**/?", "**/??"],
            // globset reads a class byte by byte: `[!é]` leaves out every name starting with
            // é's first byte (`À`, `è`), and so does the check.
            &["**/[!é]*", "**/é*"],
        ] {
            let (globs, set) = compiled(list);
            let union = union(&globs).expect("small");
            let witness = unmatched(&union, Shape::Nearly)
                .expect("small")
                .unwrap_or_else(|| panic!("{list:?}"));
            let path = String::from_utf8(witness).expect("a witness is UTF-8");
            assert!(!set.is_match(&path), "{list:?}: {path:?} is matched");
            assert!(
                path.contains('/') && path.rsplit('/').next().is_some_and(|n| n.contains('.')),
                "{list:?}: {path:?} is not dir/name.ext"
            );
            assert_eq!(reach(&globs, &set).expect("small"), None, "{list:?}");
        }
    }

    /// Names git never records do not count: a list that misses only `.`, `..` or `.git`
    /// components, a NUL or invalid UTF-8 still matches every path.
    #[test]
    fn only_paths_git_records_count() {
        for list in [
            &["**/[!.]*", "**/.?*"][..],
            &[
                "**/[!.]*",
                "**/.[!.g]*",
                "**/.g",
                "**/.g[!i]*",
                "**/.gi",
                "**/.gi[!t]*",
                "**/.git?*",
                "**/..?*",
            ],
        ] {
            let (globs, set) = compiled(list);
            assert_eq!(
                reach(&globs, &set).expect("small"),
                Some(Reach::Every),
                "{list:?}"
            );
        }
        // … but `.gitignore`, `.g` and `..x` are names like any other.
        for list in [&["**/[!.]*", "**/.[!g]*"][..], &["**/[!.]*"]] {
            let (globs, set) = compiled(list);
            assert_eq!(reach(&globs, &set).expect("small"), None, "{list:?}");
        }
    }

    #[test]
    fn spelling_accepts_exactly_the_paths_git_records() {
        let spell = |path: &[u8], shape: Shape| {
            path.iter()
                .try_fold(Spelling::START, |s, &b| s.next(b))
                .is_some_and(|s| s.complete(shape))
        };
        for ok in [
            &b"a"[..],
            b"a/b",
            b"src/app.py",
            b".env",
            b".gitignore",
            b"x/.g",
            "é/ü.rs".as_bytes(),
            b"..x",
            b"a b/c",
        ] {
            assert!(spell(ok, Shape::Every), "{}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b""[..],
            b"/a",
            b"a/",
            b"a//b",
            b".",
            b"a/../b",
            b".git/config",
            b"x/.GIT",
            b"a\0b",
            b"\xff",
            b"\xc3",
            b"\xed\xa0\x80",
            b"\xc0\xaf",
        ] {
            assert!(
                !spell(bad, Shape::Every),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert!(spell(b"src/app.py", Shape::Nearly));
        assert!(spell(b"deploy/.env", Shape::Nearly));
        assert!(!spell(b"app.py", Shape::Nearly));
        assert!(!spell(b"src/Makefile", Shape::Nearly));
        // Each byte of a class leads every spelling alike.
        for b in 0..=255u8 {
            for c in 0..=255u8 {
                if Spelling::class(b) != Spelling::class(c) {
                    continue;
                }
                for s in [
                    Spelling::START,
                    Spelling::START.next(b'.').expect("."),
                    Spelling::START.next(0xE0).expect("lead"),
                    Spelling::START.next(0xF4).expect("lead"),
                ] {
                    let (x, y) = (s.next(b), s.next(c));
                    assert_eq!(
                        x.map(|s| (s.component, s.owed, s.low, s.high, s.dotted, s.nested)),
                        y.map(|s| (s.component, s.owed, s.low, s.high, s.dotted, s.nested)),
                        "{b:#x} {c:#x}"
                    );
                }
            }
        }
    }
}
