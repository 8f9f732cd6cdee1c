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
//! `KW_CORPUS_LIMIT` (bytes) reads less. Timings on a shared machine are noisy; instructions
//! are not: `KW_CORPUS_LIMIT=20000000 valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect='*prefilter_round*' target/release/deps/prefilter-*` counts the
//! prefilter's alone (five rounds).

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

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
    let keywords: usize = set.rules.iter().map(|r| r.keywords.len()).sum();
    let started = Instant::now();
    let scanner = keyward::scan::Scanner::new(set.rules).expect("scanner");
    let build = started.elapsed();
    let mut hits = 0;
    let mut pre = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        hits = prefilter_round(&scanner, &files);
        pre.push(t.elapsed());
        let t = Instant::now();
        for f in &files {
            let _ = scanner.scan(f, keyward::scan::is_binary(f));
        }
        whole.push(t.elapsed());
    }
    let gbps = |d: Duration| total as f64 / 1e9 / d.as_secs_f64();
    let (pre, whole) = (median(pre), median(whole));
    println!(
        "corpus      {:.1} MB in {} files; catalog: {keywords} keywords",
        total as f64 / 1e6,
        files.len()
    );
    println!(
        "build       {:.3} ms (scanner, prefilter included)",
        build.as_secs_f64() * 1e3
    );
    println!(
        "prefilter   {:.2} GB/s ({hits} keyword hits)  target >= 1 GB/s: {}",
        gbps(pre),
        if gbps(pre) >= 1.0 { "PASS" } else { "MISS" }
    );
    println!("whole scan  {:.2} GB/s", gbps(whole));
}
