//! Throughput of the keyword prefilter and of the whole scan over real source code, with the
//! full built-in catalog.
//!
//! Run with `cargo bench --bench prefilter`. The corpus is up to 100 MB of source files
//! (`.rs .py .js .ts .go .java .c .h .rb .toml .json .yaml .md`) from the cargo registry
//! (`~/.cargo/registry/src`, present wherever this crate was built) and, when
//! `KW_CORPUS_DIR` names one, another directory (a Python site-packages, a monorepo). Each
//! file is scanned on its own, as a commit's blobs are. Printed: bytes, files, keyword hits,
//! GB/s of the prefilter alone and of the whole scan (prefilter, regexes, filters), medians
//! of 5 rounds on one thread. Target: the prefilter at 1 GB/s or more.
//!
//! Beside the prefilter (the hash gate of `src/scan/gate.rs`), on the same corpus and in the
//! same rounds, the `aho-corasick` crate's automaton over the same keywords (ASCII case
//! ignored, every occurrence of every keyword, the same `(rule, position)` hits counted once
//! each, as the gate counts them): its DFA, and the kind the crate chooses by itself. The hit
//! counts must agree (the bench says so, and fails when they do not); the GB/s are what the
//! README's reason for the gate rests on.
//!
//! `KW_CORPUS_LIMIT` (bytes) reads less. Timings on a shared machine are noisy; instructions
//! are not: `KW_CORPUS_LIMIT=20000000 valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='*prefilter_round*' target/release/deps/prefilter-*` counts the
//! prefilter's alone (five rounds); `--toggle-collect='*aho_corasick_round*'` the automata's.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const LIMIT: usize = 100_000_000;
const ROUNDS: usize = 5;
const EXTENSIONS: &[&str] = &[
    "rs", "py", "js", "ts", "go", "java", "c", "h", "rb", "toml", "json", "yaml", "yml", "md",
];

fn collect(dir: &Path, files: &mut Vec<Vec<u8>>, total: &mut usize, limit: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if *total >= limit {
            return;
        }
        if path.is_dir() {
            collect(&path, files, total, limit);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            if let Ok(data) = std::fs::read(&path) {
                if data.len() < 4 << 20 {
                    *total += data.len();
                    files.push(data);
                }
            }
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One round of the prefilter alone over the corpus: its keyword hits (a function of its own
/// for callgrind's `--toggle-collect`).
#[inline(never)]
fn prefilter_round(scanner: &keyward::scan::Scanner, files: &[Vec<u8>]) -> usize {
    files.iter().map(|f| scanner.keyword_hits(f)).sum()
}

/// One round of an Aho-Corasick automaton over the corpus: every occurrence of every keyword
/// (`rule_of` maps a keyword to its rule), made `(rule, position)` hits settled as the gate's
/// are (sorted, each once), and counted.
#[inline(never)]
fn aho_corasick_round(
    automaton: &AhoCorasick,
    rule_of: &[usize],
    files: &[Vec<u8>],
    hits: &mut Vec<(usize, usize)>,
) -> usize {
    files
        .iter()
        .map(|f| {
            hits.clear();
            hits.extend(
                automaton
                    .find_overlapping_iter(f)
                    .map(|m| (rule_of[m.pattern().as_usize()], m.start())),
            );
            hits.sort_unstable();
            hits.dedup();
            hits.len()
        })
        .sum()
}

/// An automaton over `keywords`, ASCII case ignored, of `kind` (`None`: the crate's choice),
/// and how long it took to build.
fn automaton(keywords: &[Vec<u8>], kind: Option<AhoCorasickKind>) -> (AhoCorasick, Duration) {
    let started = Instant::now();
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(kind)
        .build(keywords)
        .expect("the catalog's keywords make an automaton");
    (automaton, started.elapsed())
}

fn main() {
    let limit = std::env::var("KW_CORPUS_LIMIT")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(LIMIT);
    let mut files = Vec::new();
    let mut total = 0;
    if let Some(dir) = std::env::var_os("KW_CORPUS_DIR") {
        collect(Path::new(&dir), &mut files, &mut total, limit);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    collect(&home.join("registry/src"), &mut files, &mut total, limit);
    if total == 0 {
        eprintln!("no source files found (set KW_CORPUS_DIR)");
        return;
    }
    let set = keyward::rules::RuleSet::builtin().expect("built-in rules");
    // The keywords as the scanner numbers them: lowercase, each with its rule's index.
    let (words, rule_of): (Vec<Vec<u8>>, Vec<usize>) = set
        .rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.keywords
                .iter()
                .map(move |k| (k.to_ascii_lowercase().into_bytes(), i))
        })
        .unzip();
    let keywords = words.len();
    let started = Instant::now();
    let scanner = keyward::scan::Scanner::new(set.rules).expect("scanner");
    let build = started.elapsed();
    let (dfa, dfa_build) = automaton(&words, Some(AhoCorasickKind::DFA));
    let (chosen, chosen_build) = automaton(&words, None);
    let mut hits = 0;
    let (mut dfa_hits, mut chosen_hits) = (0, 0);
    let mut scratch = Vec::new();
    let (mut pre, mut by_dfa, mut by_chosen, mut whole) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        hits = prefilter_round(&scanner, &files);
        pre.push(t.elapsed());
        let t = Instant::now();
        dfa_hits = aho_corasick_round(&dfa, &rule_of, &files, &mut scratch);
        by_dfa.push(t.elapsed());
        let t = Instant::now();
        chosen_hits = aho_corasick_round(&chosen, &rule_of, &files, &mut scratch);
        by_chosen.push(t.elapsed());
        let t = Instant::now();
        for f in &files {
            let _ = scanner.scan(f, keyward::scan::is_binary(f));
        }
        whole.push(t.elapsed());
    }
    let gbps = |d: Duration| total as f64 / 1e9 / d.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let (pre, by_dfa, by_chosen, whole) = (
        median(pre),
        median(by_dfa),
        median(by_chosen),
        median(whole),
    );
    println!(
        "corpus      {:.1} MB in {} files; catalog: {keywords} keywords",
        total as f64 / 1e6,
        files.len()
    );
    println!(
        "build       {:.3} ms (scanner, prefilter included)",
        ms(build)
    );
    println!(
        "prefilter   {:.2} GB/s ({hits} keyword hits)  target >= 1 GB/s: {}",
        gbps(pre),
        if gbps(pre) >= 1.0 { "PASS" } else { "MISS" }
    );
    let same = |n: usize| if n == hits { "the same" } else { "DIFFERENT" };
    println!("aho-corasick, side by side (same keywords, ASCII case ignored, same hits counted):");
    println!("  hash gate          {:.2} GB/s", gbps(pre));
    println!(
        "  DFA                {:.2} GB/s ({dfa_hits} hits: {}; built in {:.3} ms, {:.1} MB)",
        gbps(by_dfa),
        same(dfa_hits),
        ms(dfa_build),
        dfa.memory_usage() as f64 / 1e6
    );
    println!(
        "  its own choice     {:.2} GB/s ({chosen_hits} hits: {}; {:?}, built in {:.3} ms, {:.1} MB)",
        gbps(by_chosen),
        same(chosen_hits),
        chosen.kind(),
        ms(chosen_build),
        chosen.memory_usage() as f64 / 1e6
    );
    println!("whole scan  {:.2} GB/s", gbps(whole));
    assert!(
        dfa_hits == hits && chosen_hits == hits,
        "the automata and the gate disagree on the hits"
    );
}
