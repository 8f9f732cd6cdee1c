//! Speed and memory of `keyward` against git itself, on the same machine, in the same run.
//!
//! Run with `cargo bench --bench hook`. Environment:
//! - `KW_BENCH_RUNS` (default 30): timed runs per command, after 5 warm-up runs each;
//! - `KW_BENCH_DIR`: keep the generated repositories there and reuse them on the next run
//!   (regenerated when missing or made by another version of this file); without it they live
//!   in a temporary directory that is removed at exit.
//!
//! Fixtures, generated deterministically (no key-shaped strings: the generated text is clean by
//! construction), with one `git fast-import` stream per repository and then `git checkout -f main`:
//! - "big": one commit of 100,000 files of 0.1–1.7 KB, `src/dNNN/sNN/fNNN.rs` (100 × 10 × 100).
//!   - typical commit: 5 files in 5 directories get a line appended, 1 file is new, `git add`;
//!   - bulk: the same plus 500 new text files of 100,000 bytes (50 MB; code and prose), `git add`.
//!
//!   After each `git add`, `git write-tree` brings the index's cache-tree (TREE extension) up to
//!   date, which is what `git commit` does before it runs the pre-commit hook.
//! - "tiny": one commit of 10 files, then 1 file modified and staged.
//! - "deep": one commit of 100,001 files 6 to 10 directories down (`services/svc-NN/src/main/…`,
//!   a 12–14 MB index, as a large Java or monorepo tree has), with the same kind of typical
//!   commit; and "many": 2,000 newly staged files of about 25 KB in it (52 MB, 20 of them
//!   binary, code that says `token`, `password` and `secret` so the rules' regexes do run),
//!   left as loose objects as `git add` leaves them.
//!
//! Measured (wall time from spawn to exit, stdout and stderr to `/dev/null`, both commands in the
//! repository root with the same isolated environment, runs of the two interleaved so that load
//! from other processes hits both alike; median and minimum):
//! 1. `keyward hook` vs `git diff --cached --name-only` on the typical commit (target ≤ 0.8×);
//!    1d, the same on the deep repository (target ≤ 0.6×);
//! 2. the same two on the tiny repository (target ≤ 1.5×);
//! 3. `keyward scan --staged` on the bulk index vs `git cat-file --batch` reading the same blobs
//!    (the ids of `git diff --cached --raw`, on stdin) (target ≤ 0.7×); 3m, the same for the
//!    2,000 files (target ≤ 0.6×);
//! 4. peak RSS of both commands of cases 3 and 3m (target < 150 MB for keyward), from GNU time
//!    (`/usr/bin/time -f %M`, i.e. `ru_maxrss` of `wait4` on the child). The crate forbids
//!    `unsafe`, so the bench cannot call `wait4` itself.
//!
//! 5. the matrix of repository shapes (`benches/matrix/mod.rs`): the typical commit in 100,000
//!    files at 5, 16 and 90 files per directory, index v2 and v4, and (with
//!    `KW_BENCH_MILLION=1`) in 1,000,000 files, against the same git command (target ≤ 0.5×,
//!    ≤ 0.25× at 1M files); `KW_BENCH_CALLGRIND=1` adds both commands' instruction counts and
//!    keyward's growth from 100k to 1M files (target ≤ 2×); `KW_BENCH_MATRIX_ONLY=1` runs
//!    the matrix alone.
//!
//! It also prints, for reference, peak RSS of case 1, case 2 with a staged file that mentions
//! `token`, `secret key` and `password` in prose (2p: the rules of those keywords run on its
//! lines; made at each run in `prose/`), and process start-up (`--version`). Targets are
//! reported as PASS or MISS; the bench never fails on them.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

mod matrix;
mod support;

use support::{compare, loadavg, peak_rss_kib, Env, Job, Stats, RSS_RUNS, WARMUP};

use std::error::Error;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// Bump when the fixtures change, so that a kept `KW_BENCH_DIR` is regenerated.
const FIXTURE_VERSION: &str = "keyward-bench fixtures v2";
const DEFAULT_RUNS: usize = 30;

const DIRS: usize = 100;
const SUBDIRS: usize = 10;
const FILES_PER_SUBDIR: usize = 100;
const TINY_FILES: usize = 10;
const BULK_FILES: usize = 500;
const BULK_FILE_SIZE: usize = 100_000;
/// The deep repository: 100,001 files 6 to 10 directories down, ~12 MB of index.
const DEEP_FILES: usize = 100_001;
/// Newly staged in it, loose: 2,000 files of about 25 KB (50 MB), 20 of them binary.
const MANY_FILES: usize = 2_000;
const MANY_FILE_SIZE: usize = 25_000;
const MANY_BINARY: usize = 20;
/// The deep repository's typical commit: indexes of 5 modified files, and a new file.
const DEEP_EDITS: [usize; 5] = [1_234, 20_511, 47_002, 73_390, 99_871];
/// The typical commit: `(dNNN, sNN, fNNN)` of the 5 modified files, and the new file.
const TYPICAL_EDITS: [(usize, usize, usize); 5] = [
    (7, 3, 42),
    (23, 8, 5),
    (51, 0, 77),
    (78, 6, 19),
    (95, 2, 60),
];
const TYPICAL_NEW: &str = "src/d042/s05/retry_policy.rs";

const AUTHOR: &str = "keyward bench <bench@example.invalid> 1700000000 +0000";

fn main() -> Result<()> {
    let runs = support::runs_from_env("KW_BENCH_RUNS", DEFAULT_RUNS);
    let keyward = PathBuf::from(env!("CARGO_BIN_EXE_keyward"));
    let (_temp, root) = match std::env::var_os("KW_BENCH_DIR") {
        Some(dir) => {
            fs::create_dir_all(&dir)?;
            (None, fs::canonicalize(dir)?)
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("keyward-bench-")
                .tempdir()?;
            let root = temp.path().to_owned();
            (Some(temp), root)
        }
    };
    let env = Env::new(&root)?;
    let load_before = loadavg();
    if std::env::var_os("KW_BENCH_MATRIX_ONLY").is_some_and(|v| v == "1") {
        return print_matrix(&env, &root, &keyward, runs, &load_before);
    }
    let fixtures = Fixtures::prepare(&env, &root)?;

    let typical = root.join("big/.git/kw-bench-index-typical");
    let bulk = root.join("big/.git/kw-bench-index-bulk");
    let index = root.join("big/.git/index");
    let hook_big = Job::new(&env, &fixtures.big, &keyward, &["hook"]);
    let hook_tiny = Job::new(&env, &fixtures.tiny, &keyward, &["hook"]);
    let scan_bulk = Job::new(&env, &fixtures.big, &keyward, &["scan", "--staged"]);
    let names_big = Job::new(
        &env,
        &fixtures.big,
        "git",
        &["diff", "--cached", "--name-only"],
    );
    let names_tiny = Job::new(
        &env,
        &fixtures.tiny,
        "git",
        &["diff", "--cached", "--name-only"],
    );
    let mut cat_file = Job::new(&env, &fixtures.big, "git", &["cat-file", "--batch"]);
    cat_file.stdin = Some(fixtures.oids.clone());
    let hook_deep = Job::new(&env, &fixtures.deep, &keyward, &["hook"]);
    let names_deep = Job::new(
        &env,
        &fixtures.deep,
        "git",
        &["diff", "--cached", "--name-only"],
    );
    let scan_many = Job::new(&env, &fixtures.deep, &keyward, &["scan", "--staged"]);
    let mut cat_many = Job::new(&env, &fixtures.deep, "git", &["cat-file", "--batch"]);
    cat_many.stdin = Some(fixtures.many_oids.clone());
    let deep_index = root.join("deep/.git/index");
    let prose = prose_repo(&env, &root)?;
    let hook_prose = Job::new(&env, &prose, &keyward, &["hook"]);
    let names_prose = Job::new(&env, &prose, "git", &["diff", "--cached", "--name-only"]);
    let kw_version = Job::new(&env, &fixtures.tiny, &keyward, &["--version"]);
    let git_version = Job::new(&env, &fixtures.tiny, "git", &["--version"]);

    eprintln!("measuring: {runs} runs per command after {WARMUP} warm-ups");
    fs::copy(&typical, &index)?;
    let index_info = describe_index(&index);
    let (kw1, git1) = compare(runs, &hook_big, &names_big)?;
    let (rss1, rss1_git) = (peak_rss_kib(&hook_big)?, peak_rss_kib(&names_big)?);
    let (kw2, git2) = compare(runs, &hook_tiny, &names_tiny)?;
    let (kw2p, git2p) = compare(runs, &hook_prose, &names_prose)?;
    fs::copy(&bulk, &index)?;
    let (kw3, git3) = compare(runs, &scan_bulk, &cat_file)?;
    let (rss3, rss3_git) = (peak_rss_kib(&scan_bulk)?, peak_rss_kib(&cat_file)?);
    let (kw0, git0) = compare(runs, &kw_version, &git_version)?;
    fs::copy(&typical, &index)?;
    fs::copy(root.join("deep/.git/kw-bench-index-typical"), &deep_index)?;
    let deep_info = describe_index(&deep_index);
    let (kw5, git5) = compare(runs, &hook_deep, &names_deep)?;
    fs::copy(root.join("deep/.git/kw-bench-index-many"), &deep_index)?;
    let (kw6, git6) = compare(runs, &scan_many, &cat_many)?;
    let (rss6, rss6_git) = (peak_rss_kib(&scan_many)?, peak_rss_kib(&cat_many)?);
    fs::copy(root.join("deep/.git/kw-bench-index-typical"), &deep_index)?;

    let size = fs::metadata(&keyward)?.len();
    let git_version = env.git(&root, &["--version"])?;
    let kw_version = {
        let out = env.command(&keyward, &root).arg("--version").output()?;
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    println!();
    println!("keyward benchmark: {runs} interleaved runs per command after {WARMUP} warm-ups");
    println!(
        "keyward  {kw_version}: {} ({})",
        keyward.display(),
        megabytes(size)
    );
    println!("git      {}", git_version.trim());
    println!("fixtures {}{}", root.display(), fixtures.note);
    println!(
        "big      {} files in HEAD; typical commit: 6 staged paths, index {index_info}",
        DIRS * SUBDIRS * FILES_PER_SUBDIR
    );
    println!(
        "bulk     {} staged blobs, {} (newly staged, loose objects)",
        fixtures.bulk_blobs,
        megabytes(fixtures.bulk_bytes)
    );
    println!("tiny     {TINY_FILES} files in HEAD, 1 staged");
    println!("deep     {DEEP_FILES} files 6-10 levels down; typical commit: 6 staged paths, index {deep_info}");
    println!(
        "many     {} staged blobs in the deep repository, {} ({MANY_BINARY} binary; loose objects)",
        fixtures.many_blobs,
        megabytes(fixtures.many_bytes)
    );
    println!(
        "load     {} before, {} after (2-core machine shared with other jobs)",
        load_before,
        loadavg()
    );
    println!();

    let rows = [
        Row::time("1 hook, typical commit, 100k files", &kw1, &git1, 0.8),
        Row::time("1d hook, typical commit, deep 100k", &kw5, &git5, 0.6),
        Row::time("2 hook, 1-file commit, 10 files", &kw2, &git2, 1.5),
        Row::time("3 scan --staged, 50 MB new text", &kw3, &git3, 0.7),
        Row::time("3m scan --staged, 2,000 files", &kw6, &git6, 0.6),
        Row::rss("4 peak RSS of case 3", rss3, rss3_git, Some(150.0)),
        Row::rss("4m peak RSS of case 3m", rss6, rss6_git, Some(150.0)),
        Row::rss("  peak RSS of case 1 (info)", rss1, rss1_git, None),
        Row::time_info("  2p hook, 1 file of prose keywords (info)", &kw2p, &git2p),
        Row::time_info("  start-up, --version (info)", &kw0, &git0),
    ];
    print_table(&rows);
    println!();
    println!("times: median (min); ratio: keyward / git, of medians; RSS: max of {RSS_RUNS} runs");
    println!("git: 1, 1d, 2  git diff --cached --name-only");
    println!(
        "     3, 4  git cat-file --batch < the {} blob ids > /dev/null; 3m, 4m the same for the {} ids",
        fixtures.bulk_blobs, fixtures.many_blobs
    );
    println!("     info  git --version");
    let mut all_ok = true;
    for (what, stats) in [
        ("keyward hook (case 1)", &kw1),
        ("keyward hook (case 2)", &kw2),
        ("keyward scan --staged (case 3)", &kw3),
        ("keyward hook (case 1d)", &kw5),
        ("keyward scan --staged (case 3m)", &kw6),
        ("git diff --cached (case 1)", &git1),
        ("git diff --cached (case 2)", &git2),
        ("git cat-file --batch (case 3)", &git3),
    ] {
        if let Some(status) = stats.failure {
            all_ok = false;
            println!("WARNING: {what} did not exit 0 ({status}): its times are not comparable");
        }
    }
    if all_ok {
        println!("every timed run exited 0 (keyward found nothing to block)");
    }
    if rss3.is_none() {
        println!("peak RSS needs GNU time at /usr/bin/time (package `time`)");
    }
    println!();
    print_matrix(&env, &root, &keyward, runs, &load_before)
}

/// Runs the matrix of repository shapes ([`matrix`]) and prints its table.
fn print_matrix(env: &Env, root: &Path, keyward: &Path, runs: usize, load: &str) -> Result<()> {
    let measured = matrix::run(env, root, keyward, runs)?;
    println!("matrix: typical commit (5 modified + 1 new, 6 directories), keyward hook vs git diff --cached --name-only");
    println!("load {load} before, {} after", loadavg());
    println!(
        "{:<24} {:>8} {:>22} {:>22} {:>6} {:>7}  {:>8} {:>14} {:>14} {:>6}",
        "shape",
        "index",
        "keyward",
        "git",
        "ratio",
        "target",
        "result",
        "keyward Ir",
        "git Ir",
        "Ir"
    );
    for m in &measured {
        let ratio = m.keyward.median.as_secs_f64() / m.git.median.as_secs_f64();
        let cell = |s: &Stats| format!("{} (min {:.2})", millis(s.median), ms(s.min));
        let (kw_ir, git_ir, ir) = match m.instructions {
            Some((k, g)) => (
                k.to_string(),
                g.to_string(),
                format!("{:.2}", k as f64 / g as f64),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        println!(
            "{:<24} {:>8} {:>22} {:>22} {:>6.2} {:>7}  {:>8} {:>14} {:>14} {:>6}",
            m.name,
            m.index,
            cell(&m.keyward),
            cell(&m.git),
            ratio,
            format!("≤ {:.2}×", m.target),
            if ratio <= m.target { "PASS" } else { "MISS" },
            kw_ir,
            git_ir,
            ir
        );
    }
    // The 1M-file shape against the 100k-file one of the same directory size.
    let ir = |name: &str| {
        measured
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.instructions)
    };
    if let (Some((big, _)), Some((small, _))) =
        (ir("1M files, 16/dir, v2"), ir("100k files, 16/dir, v2"))
    {
        let growth = big as f64 / small as f64;
        let result = if growth <= 2.0 { "PASS" } else { "MISS" };
        println!("keyward's instructions, 1M files / 100k files (16/dir, v2): {growth:.2}× (target ≤ 2×)  {result}");
    }
    for m in &measured {
        for (what, stats) in [("keyward hook", &m.keyward), ("git diff --cached", &m.git)] {
            if let Some(status) = stats.failure {
                println!("WARNING: {what} ({}) did not exit 0 ({status})", m.name);
            }
        }
    }
    Ok(())
}

/// The generated repositories.
struct Fixtures {
    big: PathBuf,
    tiny: PathBuf,
    deep: PathBuf,
    /// Blob ids staged in the bulk index, one a line: `git cat-file --batch`'s input.
    oids: PathBuf,
    bulk_blobs: usize,
    bulk_bytes: u64,
    /// The same for the 2,000-file index of the deep repository.
    many_oids: PathBuf,
    many_blobs: usize,
    many_bytes: u64,
    /// How they were obtained, for the header.
    note: String,
}

impl Fixtures {
    fn prepare(env: &Env, root: &Path) -> Result<Fixtures> {
        let marker = root.join("kw-bench-ready");
        let note = if fs::read_to_string(&marker).is_ok_and(|m| m == FIXTURE_VERSION) {
            eprintln!("reusing the fixtures in {}", root.display());
            " (reused)".to_owned()
        } else {
            let _ = fs::remove_file(&marker);
            let took = generate(env, root)?;
            fs::write(&marker, FIXTURE_VERSION)?;
            format!(" (generated in {took})")
        };
        let big = root.join("big");
        let deep = root.join("deep");
        let oids = root.join("bulk-oids.txt");
        let many_oids = root.join("many-oids.txt");
        let sizes = |repo: &Path, oids: &Path| -> Result<Vec<u64>> {
            let mut cmd = env.command("git", repo);
            cmd.args(["cat-file", "--batch-check=%(objectsize)"])
                .stdin(File::open(oids)?);
            let text = String::from_utf8(cmd.output()?.stdout)?;
            Ok(text.lines().map(str::parse).collect::<Result<_, _>>()?)
        };
        let bulk = sizes(&big, &oids)?;
        let many = sizes(&deep, &many_oids)?;
        Ok(Fixtures {
            big,
            tiny: root.join("tiny"),
            deep,
            oids,
            bulk_blobs: bulk.len(),
            bulk_bytes: bulk.iter().sum(),
            many_oids,
            many_blobs: many.len(),
            many_bytes: many.iter().sum(),
            note,
        })
    }
}

/// A staged file that says `token`, `secret key` and `password` without assigning a secret:
/// the generic rules' keywords occur, so their relaxed twins are built and run on these lines
/// (their exact regexes only where a twin matches).
const PROSE_FILE: &str = "\
// The API token and the secret key are read from the config at run time; the
// password is never logged, and a missing token is an error.
fn settings(config: &Config) -> Settings {
    let name = config.name();
    Settings { name, header: \"Authorization\", retries: 3 }
}
";

/// "prose": the tiny repository's files, then [`PROSE_FILE`] staged over one of them (made
/// at each run, not a cached fixture: it takes a few milliseconds).
fn prose_repo(env: &Env, root: &Path) -> Result<PathBuf> {
    let repo = root.join("prose");
    if repo.exists() {
        fs::remove_dir_all(&repo)?;
    }
    env.git(root, &["init", "-q", "prose"])?;
    fast_import(
        env,
        &repo,
        (0..TINY_FILES).map(|i| (format!("src/f{i:02}.rs"), small_file(900_000 + i as u64))),
    )?;
    env.git(&repo, &["checkout", "-q", "-f", "main"])?;
    fs::write(repo.join("src/f03.rs"), PROSE_FILE)?;
    env.git(&repo, &["add", "src/f03.rs"])?;
    env.git(&repo, &["write-tree"])?;
    Ok(repo)
}

/// Builds "big" (with its two saved indexes and the blob-id list) and "tiny"; returns how long
/// each step took.
fn generate(env: &Env, root: &Path) -> Result<String> {
    assert_vocabulary_is_clean();
    let (big, tiny) = (root.join("big"), root.join("tiny"));
    for dir in [&big, &tiny] {
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
    }
    let start = Instant::now();
    let mut steps = Vec::new();
    let mut step = |name: &str, since: &mut Instant| {
        steps.push(format!("{name} {:.1} s", since.elapsed().as_secs_f64()));
        *since = Instant::now();
    };
    let mut t = Instant::now();

    let files = DIRS * SUBDIRS * FILES_PER_SUBDIR;
    eprintln!(
        "generating {files} files with git fast-import in {}",
        big.display()
    );
    env.git(root, &["init", "-q", "big"])?;
    fast_import(
        env,
        &big,
        (0..files).map(|i| (big_path(i), small_file(i as u64))),
    )?;
    step("fast-import", &mut t);
    env.git(&big, &["checkout", "-q", "-f", "main"])?;
    step("checkout", &mut t);

    let mut staged = Vec::new();
    for &(d, s, f) in &TYPICAL_EDITS {
        let path = format!("src/d{d:03}/s{s:02}/f{f:03}.rs");
        append_line(&big.join(&path), (d * 1000 + f) as u64)?;
        staged.push(path);
    }
    let mut text = String::new();
    code(&mut Rng::new(7_000_001), 1200, &mut text);
    fs::write(big.join(TYPICAL_NEW), &text)?;
    staged.push(TYPICAL_NEW.to_owned());
    stage(env, &big, &staged, "kw-bench-index-typical")?;
    step("typical commit", &mut t);

    eprintln!("writing and staging {BULK_FILES} files of {BULK_FILE_SIZE} bytes");
    for i in 0..BULK_FILES {
        let path = big.join(bulk_path(i));
        fs::create_dir_all(path.parent().expect("bulk paths have a parent"))?;
        fs::write(&path, bulk_file(i as u64))?;
    }
    stage(env, &big, &["bulk".to_owned()], "kw-bench-index-bulk")?;
    save_staged_ids(env, &big, &root.join("bulk-oids.txt"))?;
    step("bulk", &mut t);

    env.git(root, &["init", "-q", "tiny"])?;
    fast_import(
        env,
        &tiny,
        (0..TINY_FILES).map(|i| (format!("src/f{i:02}.rs"), small_file(900_000 + i as u64))),
    )?;
    env.git(&tiny, &["checkout", "-q", "-f", "main"])?;
    append_line(&tiny.join("src/f03.rs"), 3)?;
    stage(
        env,
        &tiny,
        &["src/f03.rs".to_owned()],
        "kw-bench-index-typical",
    )?;
    step("tiny", &mut t);

    let deep = root.join("deep");
    eprintln!(
        "generating {DEEP_FILES} files 6 to 10 levels deep in {}",
        deep.display()
    );
    env.git(root, &["init", "-q", "deep"])?;
    fast_import(
        env,
        &deep,
        (0..DEEP_FILES).map(|i| (deep_path(i), small_file(2_000_000 + i as u64))),
    )?;
    env.git(&deep, &["checkout", "-q", "-f", "main"])?;
    step("deep", &mut t);
    let mut staged = Vec::new();
    for &i in &DEEP_EDITS {
        let path = deep_path(i);
        append_line(&deep.join(&path), i as u64)?;
        staged.push(path);
    }
    let new = format!("{}/RetryPolicy.java", deep_dir(55_555));
    let mut text = String::new();
    code(&mut Rng::new(7_000_002), 1200, &mut text);
    fs::write(deep.join(&new), &text)?;
    staged.push(new);
    stage(env, &deep, &staged, "kw-bench-index-typical")?;
    env.git(&deep, &["reset", "-q"])?;
    eprintln!("writing and staging {MANY_FILES} files of about {MANY_FILE_SIZE} bytes");
    for i in 0..MANY_FILES {
        let path = deep.join(many_path(i));
        fs::create_dir_all(path.parent().expect("paths have a parent"))?;
        fs::write(&path, many_file(i))?;
    }
    stage(env, &deep, &["generated".to_owned()], "kw-bench-index-many")?;
    save_staged_ids(env, &deep, &root.join("many-oids.txt"))?;
    step("many", &mut t);

    Ok(format!(
        "{:.1} s: {}",
        start.elapsed().as_secs_f64(),
        steps.join(", ")
    ))
}

/// One commit on `main` holding `files`, in one `git fast-import` stream.
fn fast_import(
    env: &Env,
    repo: &Path,
    files: impl Iterator<Item = (String, String)>,
) -> Result<()> {
    let mut child = env
        .command("git", repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let written = (|| -> io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, stdin);
        let message = "synthetic tree for the keyward benchmark";
        write!(
            w,
            "commit refs/heads/main\nauthor {AUTHOR}\ncommitter {AUTHOR}\ndata {}\n{message}\n",
            message.len()
        )?;
        for (path, data) in files {
            write!(w, "M 100644 inline {path}\ndata {}\n", data.len())?;
            w.write_all(data.as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.write_all(b"\n")?;
        w.flush()
    })();
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("git fast-import: {status}").into());
    }
    Ok(written?)
}

/// `git add` the paths, bring the cache-tree up to date like `git commit` does before its
/// pre-commit hook (`git write-tree`, which also proves the index is committable), and save a
/// copy of the index under `.git/<save_as>`.
fn stage(env: &Env, repo: &Path, paths: &[String], save_as: &str) -> Result<()> {
    let mut args = vec!["add", "--"];
    args.extend(paths.iter().map(String::as_str));
    env.git(repo, &args)?;
    env.git(repo, &["write-tree"])?;
    let git_dir = repo.join(".git");
    fs::copy(git_dir.join("index"), git_dir.join(save_as))?;
    Ok(())
}

/// Writes to `out` the ids of the blobs the staged commit in `repo` would add, one a line
/// (`git cat-file --batch`'s input).
fn save_staged_ids(env: &Env, repo: &Path, out: &Path) -> Result<()> {
    let raw = env.git(
        repo,
        &["diff", "--cached", "--raw", "--no-abbrev", "--no-renames"],
    )?;
    // `:100644 100644 <old> <new> M\tpath`: the blobs the commit would add.
    let oids: String = raw
        .lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .flat_map(|oid| [oid, "\n"])
        .collect();
    fs::write(out, oids)?;
    Ok(())
}

fn append_line(path: &Path, seed: u64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut line = "// Reviewed: ".to_owned();
    rng.sentence(8..9, &mut line);
    line.push('\n');
    fs::OpenOptions::new()
        .append(true)
        .open(path)?
        .write_all(line.as_bytes())
}

fn big_path(i: usize) -> String {
    let (d, rest) = (
        i / (SUBDIRS * FILES_PER_SUBDIR),
        i % (SUBDIRS * FILES_PER_SUBDIR),
    );
    let (s, f) = (rest / FILES_PER_SUBDIR, rest % FILES_PER_SUBDIR);
    format!("src/d{d:03}/s{s:02}/f{f:03}.rs")
}

/// A directory 6 to 10 levels down, shared by about 20 files, as deep Java, Kotlin and
/// TypeScript trees are.
fn deep_dir(i: usize) -> String {
    const NAMES: [&str; 10] = [
        "com", "acme", "platform", "core", "api", "model", "internal", "impl", "util", "v2",
    ];
    let service = i % 25;
    let group = (i / 25) % 200;
    let depth = 6 + group % 5;
    let mut parts = vec![
        "services".to_owned(),
        format!("svc-{service:02}"),
        "src".to_owned(),
        "main".to_owned(),
    ];
    while parts.len() < depth {
        parts.push(format!("{}{}", NAMES[parts.len() % NAMES.len()], group % 7));
    }
    parts.join("/")
}

fn deep_path(i: usize) -> String {
    format!("{}/Component{i:06}.java", deep_dir(i))
}

fn many_path(i: usize) -> String {
    let ext = ["java", "ts", "py", "md", "json"][i % 5];
    if i < MANY_BINARY {
        return format!("generated/assets/a{i:02}/image{i:04}.png");
    }
    format!(
        "generated/batch{:02}/part{:02}/unit{i:04}.{ext}",
        i % 40,
        i % 13
    )
}

/// About 25 KB: code whose names include the words secret-scanning keywords are made of
/// (`token`, `key`, `password`, `secret`, `auth`: real code says them all the time, so the
/// rules' regexes do run) but no secret; the first few are binary (a PNG header, NUL bytes).
fn many_file(i: usize) -> Vec<u8> {
    let mut rng = Rng::new(3_000_000 + i as u64);
    if i < MANY_BINARY {
        let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        while out.len() < MANY_FILE_SIZE {
            out.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        return out;
    }
    let size = MANY_FILE_SIZE / 2 + rng.below(MANY_FILE_SIZE);
    let mut out = String::with_capacity(size + 256);
    while out.len() < size {
        code(&mut rng, out.len() + 2_000, &mut out);
        let name = ["token", "api_key", "password", "secret", "auth_header"][rng.below(5)];
        out.push_str(&format!(
            "    let {name} = config.get(\"{name}\").unwrap_or_default(); // read at run time\n"
        ));
    }
    out.into_bytes()
}

fn bulk_path(i: usize) -> String {
    let ext = if i.is_multiple_of(2) { "rs" } else { "md" };
    format!("bulk/m{:02}/t{i:03}.{ext}", i % 10)
}

/// A Rust-like source file of 0.1–1.7 KB.
fn small_file(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let target = 100 + rng.below(1501);
    let mut out = String::with_capacity(target + 128);
    code(&mut rng, target, &mut out);
    out
}

/// Exactly `BULK_FILE_SIZE` bytes of code (even seeds) or Markdown prose (odd seeds).
fn bulk_file(seed: u64) -> String {
    let mut rng = Rng::new(1_000_000 + seed);
    let mut out = String::with_capacity(BULK_FILE_SIZE + 256);
    if seed.is_multiple_of(2) {
        code(&mut rng, BULK_FILE_SIZE, &mut out);
    } else {
        prose(&mut rng, BULK_FILE_SIZE, &mut out);
    }
    out.truncate(BULK_FILE_SIZE - 1); // ASCII only: any index is a char boundary
    out.push('\n');
    out
}

/// Everyday words of code and prose. None holds, nor forms when joined, a keyword of keyward's
/// rules (checked by [`assert_vocabulary_is_clean`]), so no rule's regex even runs on the text.
const WORDS: &[&str] = &[
    "the", "a", "of", "to", "and", "in", "for", "with", "on", "by", "from", "as", "that", "this",
    "is", "are", "be", "was", "it", "when", "each", "every", "into", "over", "under", "after",
    "before", "between", "without", "then", "only", "once", "again", "value", "index", "element",
    "tree", "blob", "path", "file", "buffer", "reader", "writer", "config", "option", "state",
    "error", "result", "count", "length", "offset", "cursor", "node", "child", "parent", "record",
    "field", "table", "row", "column", "cache", "queue", "stack", "batch", "chunk", "line",
    "commit", "branch", "stage", "hash", "digest", "header", "payload", "message", "request",
    "response", "client", "server", "handler", "session", "timer", "limit", "window", "frame",
    "layer", "shape", "color", "point", "vector", "range", "slice", "string", "number", "signal",
    "event", "pipe", "thread", "worker", "pool", "lock", "guard", "scope", "module", "crate",
    "trait", "type", "closure", "parse", "format", "render", "build", "check", "load", "store",
    "fetch", "deliver", "receive", "open", "close", "read", "write", "flush", "reset", "update",
    "insert", "remove", "find", "sort", "merge", "split", "join", "filter", "map", "fold", "retry",
    "delay", "budget", "quota", "report", "summary", "detail", "user", "team", "review", "release",
    "version", "feature", "test", "bench", "metric", "sample", "total", "first", "last", "next",
    "previous", "small", "large", "empty", "full", "valid", "stale", "fresh", "local", "remote",
    "shared", "inner", "outer", "upper", "lower", "left", "right", "north", "south", "river",
    "garden", "paper", "window", "market", "letter", "answer", "question",
];

/// Words and every join of two words (`a_b`, `a b`, `AB`) are free of rule keywords.
fn assert_vocabulary_is_clean() {
    for a in WORDS {
        for b in WORDS {
            for joined in [format!("{a}_{b}"), format!("{a} {b}"), format!("{a}{b}")] {
                let keywords = keyward::rules::BUILTIN_RULES
                    .iter()
                    .flat_map(|r| r.keywords.iter());
                if let Some(k) = keywords.into_iter().find(|k| joined.contains(*k)) {
                    panic!("generated text could contain the rule keyword {k:?} ({joined:?})");
                }
            }
        }
    }
}

/// Rust-like code, whole lines, until `out` holds at least `target` bytes.
fn code(rng: &mut Rng, target: usize, out: &mut String) {
    let mut in_fn = false;
    while out.len() < target {
        if !in_fn {
            if rng.below(4) == 0 {
                out.push_str("use crate::");
                rng.snake(out);
                out.push_str("::");
                rng.camel(out);
                out.push_str(";\n");
            }
            for _ in 0..rng.below(3) {
                out.push_str("/// ");
                rng.sentence(4..13, out);
                out.push('\n');
            }
            out.push_str("pub fn ");
            rng.snake(out);
            out.push('(');
            rng.snake(out);
            out.push_str(": &");
            rng.camel(out);
            out.push_str(", limit: usize) -> Result<");
            rng.camel(out);
            out.push_str(", Error> {\n");
            in_fn = true;
            continue;
        }
        match rng.below(8) {
            0 => {
                out.push_str("}\n\n");
                in_fn = false;
            }
            1 => {
                out.push_str("    // ");
                rng.sentence(4..14, out);
                out.push('\n');
            }
            2 => {
                out.push_str("    if ");
                rng.snake(out);
                out.push_str(&format!(
                    " > {} {{\n        return Err(Error::",
                    rng.below(4096)
                ));
                rng.camel(out);
                out.push_str(");\n    }\n");
            }
            3 => {
                out.push_str("    ");
                rng.snake(out);
                out.push_str(".push_str(\"");
                rng.sentence(2..7, out);
                out.push_str("\");\n");
            }
            4 => {
                out.push_str("    for item in ");
                rng.snake(out);
                out.push_str(".iter() {\n        total += item.");
                rng.snake(out);
                out.push_str("();\n    }\n");
            }
            _ => {
                out.push_str("    let ");
                rng.snake(out);
                out.push_str(" = ");
                rng.snake(out);
                out.push('.');
                rng.snake(out);
                out.push_str(&format!("({});\n", rng.below(10_000)));
            }
        }
    }
    if in_fn {
        out.push_str("}\n");
    }
}

/// Markdown prose wrapped at 80 columns, until `out` holds at least `target` bytes.
fn prose(rng: &mut Rng, target: usize, out: &mut String) {
    while out.len() < target {
        match rng.below(6) {
            0 => {
                out.push_str("## ");
                rng.sentence(2..6, out);
                out.push_str("\n\n");
            }
            1 => {
                for _ in 0..2 + rng.below(3) {
                    out.push_str("- ");
                    rng.sentence(3..11, out);
                    out.push_str(".\n");
                }
                out.push('\n');
            }
            _ => {
                let mut paragraph = String::new();
                for _ in 0..3 + rng.below(5) {
                    rng.sentence(6..20, &mut paragraph);
                    paragraph.push_str(". ");
                }
                let mut column = 0;
                for word in paragraph.split_whitespace() {
                    if column > 0 && column + 1 + word.len() > 80 {
                        out.push('\n');
                        column = 0;
                    } else if column > 0 {
                        out.push(' ');
                        column += 1;
                    }
                    out.push_str(word);
                    column += word.len();
                }
                out.push_str("\n\n");
            }
        }
    }
}

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }

    /// `word` or `word_word` or `word_word_word`.
    fn snake(&mut self, out: &mut String) {
        for k in 0..1 + self.below(3) {
            if k > 0 {
                out.push('_');
            }
            out.push_str(self.word());
        }
    }

    /// `Word` or `WordWord`.
    fn camel(&mut self, out: &mut String) {
        for _ in 0..1 + self.below(2) {
            capitalized(self.word(), out);
        }
    }

    /// A number of words in `words`, the first capitalized, no final stop.
    fn sentence(&mut self, words: Range<usize>, out: &mut String) {
        let count = words.start + self.below(words.len());
        capitalized(self.word(), out);
        for _ in 1..count {
            out.push(' ');
            out.push_str(self.word());
        }
    }
}

fn capitalized(word: &str, out: &mut String) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.push(first.to_ascii_uppercase());
        out.push_str(chars.as_str());
    }
}

/// Version, entry count and cache-tree state of an index file, as gix reads it.
fn describe_index(path: &Path) -> String {
    fn nodes(tree: &gix::index::extension::Tree) -> (usize, usize) {
        tree.children.iter().map(nodes).fold(
            (1, usize::from(tree.num_entries.is_none())),
            |(n, bad), (cn, cbad)| (n + cn, bad + cbad),
        )
    }
    let size = fs::metadata(path)
        .map(|m| megabytes(m.len()))
        .unwrap_or_default();
    match gix::index::File::at(path, gix::hash::Kind::Sha1, false, Default::default()) {
        Err(e) => format!("{size}, unreadable by gix: {e}"),
        Ok(file) => {
            let tree = match file.tree() {
                None => "no cache-tree".to_owned(),
                Some(tree) => {
                    let (n, bad) = nodes(tree);
                    format!("cache-tree of {n} nodes, {bad} invalid")
                }
            };
            format!(
                "{size} ({}, {} entries, {tree})",
                format!("{:?}", file.version()).to_lowercase(),
                file.entries().len()
            )
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn millis(d: Duration) -> String {
    format!("{:.2} ms", ms(d))
}

/// One line of the results table.
struct Row {
    case: &'static str,
    keyward: String,
    baseline: String,
    ratio: Option<f64>,
    target: String,
    pass: Option<bool>,
}

impl Row {
    fn time(case: &'static str, kw: &Stats, git: &Stats, max_ratio: f64) -> Row {
        let ratio = kw.median.as_secs_f64() / git.median.as_secs_f64();
        Row {
            pass: Some(ratio <= max_ratio),
            target: format!("≤ {max_ratio:.1}×"),
            ..Row::time_info(case, kw, git)
        }
    }

    fn time_info(case: &'static str, kw: &Stats, git: &Stats) -> Row {
        let cell = |s: &Stats| format!("{} (min {:.2})", millis(s.median), ms(s.min));
        Row {
            case,
            keyward: cell(kw),
            baseline: cell(git),
            ratio: Some(kw.median.as_secs_f64() / git.median.as_secs_f64()),
            target: "—".to_owned(),
            pass: None,
        }
    }

    fn rss(case: &'static str, kw: Option<u64>, git: Option<u64>, max_mb: Option<f64>) -> Row {
        let mb = |kib: u64| kib as f64 * 1024.0 / 1e6;
        let cell = |v: Option<u64>| v.map_or("—".to_owned(), |kib| format!("{:.1} MB", mb(kib)));
        Row {
            case,
            keyward: cell(kw),
            baseline: cell(git),
            ratio: kw.zip(git).map(|(k, g)| k as f64 / g as f64),
            target: max_mb.map_or("—".to_owned(), |m| format!("< {m:.0} MB")),
            pass: max_mb.zip(kw).map(|(m, kib)| mb(kib) < m),
        }
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<36} {:>24} {:>24} {:>6} {:>9}  result",
        "case", "keyward", "git", "ratio", "target"
    );
    for r in rows {
        let ratio = r.ratio.map_or("—".to_owned(), |x| format!("{x:.2}"));
        let result = match r.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "info",
        };
        println!(
            "{:<36} {:>24} {:>24} {:>6} {:>9}  {result}",
            r.case, r.keyward, r.baseline, ratio, r.target
        );
    }
}
