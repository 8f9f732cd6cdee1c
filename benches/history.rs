//! `keyward scan --history` against `git log -p --all` on the same generated repository, in
//! the same run.
//!
//! Run with `cargo bench --bench history`. Environment: `KW_HISTORY_RUNS` (default 3) timed
//! runs of each command; `KW_BENCH_DIR` keeps the generated repository there for reuse.
//!
//! The repository is written with one `git fast-import` stream and repacked as a clone or
//! `git gc --aggressive` leaves a repository (deltas between versions of each file): a code
//! base of 300 source-like files of about 42 KB, then 5,000 commits that each edit one file
//! (five lines rewritten, two appended) — about 220 MB of unique blob data in all — with
//! GitHub tokens planted in five commits (generated at run time; none is committed here).
//! Printed: wall time (median), throughput in MB/s of unique blob bytes, the ratio, keyward's
//! peak RSS (GNU time's `%M`), and whether every planted token was found. Targets: keyward at
//! least 8× faster than `git log -p --all` produces its output, peak memory under 300 MB.
//! The bench never fails on them.
//!
//! Beside each history, its floor (`keyward::floor::history`, in this process): the same
//! listing and every blob version read by keyward's own readers on every core — built along
//! delta chains, the rest read in order — with nothing scanned. Target: the full scan within
//! 1.3× of it.
//!
//! Then the same history imported by `git fast-import` into a bare repository
//! (`git fast-export --all | git fast-import`; `KW_HISTORY_FAST_IMPORT=0` skips it), timed the
//! same way: fast-import packs each blob as a delta of the blob written before it, whatever
//! its path, so versions are stored nearly whole and reading them is mostly inflating.
//!
//! Then the same history as one push (`KW_HISTORY_PUSH=0` skips it): `git push` of `main` to
//! an empty bare repository whose pre-receive hook is, in turn, `keyward pre-receive` (pushed
//! blobs read in process from git's quarantine), the same with `KEYWARD_GIT_BACKEND=cli` (read
//! through `git cat-file --batch`, as before), a hook running `git log -p` over what each ref
//! update brings, and no hook. Printed: the push's wall time, the hook's own wall and CPU time
//! (GNU time inside the hook, its children included: the listing's git commands, `cat-file`),
//! medians, the ratios, whether keyward reported every planted token, and the load average
//! before and after.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

mod support;

use keyward::rules::examples::Rng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use support::{Env, Job, Result};

const COMMITS: usize = 5_000;
const FILES: usize = 300;
const FILE_SIZE: usize = 42_000;
const PLANTED_AT: [usize; 5] = [17, 1_234, 2_500, 3_999, 4_990];
const READY: &str = "keyward-history-bench v3";

fn main() -> Result<()> {
    let keep = std::env::var_os("KW_BENCH_DIR").map(PathBuf::from);
    let tmp = tempfile::tempdir()?;
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_owned());
    let repo = base.join("history");
    let runs = support::runs_from_env("KW_HISTORY_RUNS", 3);
    let env = Env::new(&base)?;
    let marker = repo.join("kw-history-ready");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(READY) {
        let _ = std::fs::remove_dir_all(&repo);
        let started = Instant::now();
        generate(&env, &repo)?;
        std::fs::write(&marker, READY)?;
        println!(
            "generated {} in {:.1} s",
            repo.display(),
            started.elapsed().as_secs_f64()
        );
    } else {
        println!("reusing {}", repo.display());
    }
    let unique = unique_blob_bytes(&env, &repo)?;
    println!(
        "repository: {COMMITS} commits, {:.1} MB of unique blob data",
        unique as f64 / 1e6
    );

    let keyward = env!("CARGO_BIN_EXE_keyward");
    let (kw, git, found) = compare(&env, &repo, keyward, runs)?;
    let scan = Job::new(
        &env,
        &repo,
        keyward,
        &["scan", "--history", "--format", "json"],
    );
    let rss = support::peak_rss_kib(&scan)?.ok_or("peak RSS needs GNU time at /usr/bin/time")?;
    let mbps = |t: Duration| unique as f64 / 1e6 / t.as_secs_f64();
    println!();
    println!(
        "keyward scan --history   {:>8.2} s  {:>7.1} MB/s  peak RSS {:.1} MB",
        kw.as_secs_f64(),
        mbps(kw),
        rss as f64 / 1024.0
    );
    println!(
        "git log -p --all         {:>8.2} s  {:>7.1} MB/s",
        git.as_secs_f64(),
        mbps(git)
    );
    let speedup = git.as_secs_f64() / kw.as_secs_f64();
    let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
    println!();
    println!(
        "speed-up {speedup:.1}x (target >= 8x): {}",
        verdict(speedup >= 8.0)
    );
    println!(
        "peak memory {:.1} MB (target < 300 MB): {}",
        rss as f64 / 1024.0,
        verdict(rss < 300 * 1024)
    );
    println!(
        "planted tokens found: {found} of {} : {}",
        PLANTED_AT.len(),
        verdict(found == PLANTED_AT.len())
    );
    print_floor(&repo, runs, kw)?;
    println!("(medians of {runs} runs; output to a pipe that is drained and discarded)");
    if std::env::var_os("KW_HISTORY_FAST_IMPORT").is_none_or(|v| v != "0") {
        // The same history as `git fast-import` packs it: each blob a delta of the blob
        // written before it, another file's, so most versions are stored (nearly) whole.
        let imported = base.join("history-fast-import");
        if !imported.join("kw-ready").exists() {
            let _ = std::fs::remove_dir_all(&imported);
            env.git(&base, &["init", "-q", "--bare", path_str(&imported)?])?;
            let status = env
                .command("sh", &base)
                .arg("-c")
                .arg("git -C \"$1\" fast-export --all | git -C \"$2\" fast-import --quiet")
                .args(["sh", path_str(&repo)?, path_str(&imported)?])
                .status()?;
            if !status.success() {
                return Err("git fast-export | git fast-import failed".into());
            }
            std::fs::write(imported.join("kw-ready"), READY)?;
        }
        let (kw, git, found) = compare(&env, &imported, keyward, runs)?;
        let speedup = git.as_secs_f64() / kw.as_secs_f64();
        println!();
        println!(
            "the same history imported by git fast-import (one pack, as fast-import wrote it):"
        );
        println!(
            "keyward scan --history   {:>8.2} s  {:>7.1} MB/s",
            kw.as_secs_f64(),
            mbps(kw)
        );
        println!(
            "git log -p --all         {:>8.2} s  {:>7.1} MB/s",
            git.as_secs_f64(),
            mbps(git)
        );
        println!(
            "speed-up {speedup:.1}x (target >= 8x): {}; planted tokens found: {found} of {}",
            verdict(speedup >= 8.0),
            PLANTED_AT.len()
        );
        print_floor(&imported, runs, kw)?;
    }
    if std::env::var_os("KW_HISTORY_PUSH").is_none_or(|v| v != "0") {
        push(&env, &base, &repo, keyward, runs)?;
    }
    Ok(())
}

/// The pre-receive hooks the push bench compares: a name, the command the hook runs (with the
/// ref updates on its standard input), and whether git should accept the push with it.
fn hooks(keyward: &str) -> Vec<(&'static str, String, bool)> {
    vec![
        ("no hook", String::new(), true),
        (
            "keyward pre-receive",
            format!("'{keyward}' pre-receive"),
            false,
        ),
        (
            "  with KEYWARD_GIT_BACKEND=cli",
            format!("KEYWARD_GIT_BACKEND=cli '{keyward}' pre-receive"),
            false,
        ),
        (
            "git log -p (per ref)",
            "while read old new ref; do git log -p \"$new\" --not --all || exit 2; done >/dev/null"
                .to_owned(),
            true,
        ),
    ]
}

/// Pushes `repo`'s `main` to a new bare repository with each hook of [`hooks`] (see the
/// module docs).
fn push(env: &Env, base: &Path, repo: &Path, keyward: &str, runs: usize) -> Result<()> {
    println!();
    println!(
        "push of all {COMMITS} commits to an empty bare repository (load average {}):",
        support::loadavg()
    );
    // The hook's CPU time (its children's included) says more than its wall time on a
    // shared machine; GNU time measures it.
    let gnu_time = Path::new("/usr/bin/time").exists();
    let hooks = hooks(keyward);
    // Per hook: push wall times, hook wall times, hook CPU times (user + system).
    let mut times: Vec<[Vec<Duration>; 3]> = vec![Default::default(); hooks.len()];
    for run in 0..runs {
        for (h, (name, command, accepted)) in hooks.iter().enumerate() {
            let server = base.join("push-server.git");
            let _ = std::fs::remove_dir_all(&server);
            let clock = base.join("push-hook-time");
            let _ = std::fs::remove_file(&clock);
            env.git(base, &["init", "-q", "--bare", path_str(&server)?])?;
            if !command.is_empty() {
                let body = server.join("hooks/body.sh");
                std::fs::write(&body, format!("{command}\n"))?;
                let script = if gnu_time {
                    format!(
                        "#!/bin/sh\nexec /usr/bin/time -f '%e %U %S' -o '{}' sh '{}'\n",
                        clock.display(),
                        body.display()
                    )
                } else {
                    format!(
                        "#!/bin/sh\nstart=$(date +%s%N)\nsh '{}'\ncode=$?\n\
                         echo $(( ($(date +%s%N) - start) / 1000 ))e-6 > '{}'\nexit $code\n",
                        body.display(),
                        clock.display()
                    )
                };
                let hook = server.join("hooks/pre-receive");
                std::fs::write(&hook, script)?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
                }
            }
            let start = Instant::now();
            let out = env
                .command("git", repo)
                .args(["push", path_str(&server)?, "main"])
                .output()?;
            let wall = start.elapsed();
            if out.status.success() != *accepted {
                return Err(format!(
                    "push with {name}: accepted = {}, expected {accepted}",
                    out.status.success()
                )
                .into());
            }
            // `wall [user system]` in seconds, last line (GNU time may say the exit status
            // first).
            let text = std::fs::read_to_string(&clock).unwrap_or_default();
            let fields: Vec<f64> = text
                .lines()
                .last()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect();
            let secs = |i: usize| Duration::from_secs_f64(fields.get(i).copied().unwrap_or(0.0));
            times[h][0].push(wall);
            times[h][1].push(secs(0));
            times[h][2].push(secs(1) + secs(2));
            if run == 0 && !accepted {
                // What keyward reported, relayed by git: the planted tokens, each once.
                let report = String::from_utf8_lossy(&out.stderr);
                let mut found: Vec<&str> = report
                    .lines()
                    .filter(|l| l.contains("GitHub personal access token"))
                    .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("fp:")))
                    .collect();
                found.sort_unstable();
                found.dedup();
                println!(
                    "  {}: push refused, planted tokens reported: {} of {}",
                    name.trim(),
                    found.len(),
                    PLANTED_AT.len()
                );
            }
        }
    }
    let medians: Vec<[f64; 3]> = times
        .iter_mut()
        .map(|t| [0, 1, 2].map(|i| median(&mut t[i]).as_secs_f64()))
        .collect();
    println!();
    println!(
        "  {:<32} {:>8} {:>11} {:>10}",
        "hook", "push", "hook wall", "hook CPU"
    );
    for ((name, _, _), [push, wall, cpu]) in hooks.iter().zip(&medians) {
        println!("  {name:<32} {push:>6.2} s {wall:>9.2} s {cpu:>8.2} s");
    }
    let ratio = |a: usize, b: usize, i: usize| medians[a][i] / medians[b][i];
    println!();
    println!(
        "hook, git log -p / keyward pre-receive: {:.1}x wall, {:.1}x CPU",
        ratio(3, 1, 1),
        ratio(3, 1, 2)
    );
    println!(
        "hook, old reader (cat-file) / in process: {:.1}x wall, {:.1}x CPU",
        ratio(2, 1, 1),
        ratio(2, 1, 2)
    );
    println!(
        "(medians of {runs} runs; the hook timed inside the hook{}; load average now {})",
        if gnu_time {
            " by GNU time, CPU with its children"
        } else {
            ", CPU not measured without GNU time"
        },
        support::loadavg()
    );
    let _ = std::fs::remove_dir_all(base.join("push-server.git"));
    Ok(())
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| "a non-UTF-8 path".into())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `keyward scan --history` and `git log -p --all` on `repo`, interleaved `runs` times: their
/// median times, and how many of the planted tokens keyward reported.
fn compare(
    env: &Env,
    repo: &Path,
    keyward: &str,
    runs: usize,
) -> Result<(Duration, Duration, usize)> {
    let mut kw_times = Vec::new();
    let mut git_times = Vec::new();
    let mut found = 0;
    for _ in 0..runs {
        let (t, out) = timed(
            env,
            repo,
            keyward,
            &["scan", "--history", "--format", "json"],
        )?;
        kw_times.push(t);
        let findings: Vec<serde_json::Value> = serde_json::from_slice(&out)?;
        let mut fingerprints: Vec<&str> = findings
            .iter()
            .filter(|f| f["rule_id"] == "kw.github.pat")
            .filter_map(|f| f["fingerprint"].as_str())
            .collect();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        found = fingerprints.len();
        let (t, _) = timed(env, repo, "git", &["log", "-p", "--all"])?;
        git_times.push(t);
    }
    Ok((median(&mut kw_times), median(&mut git_times), found))
}

/// The floor's median time over `runs` runs (see [`keyward::floor`]): every blob version of
/// the history read by keyward's own readers on every core, nothing scanned; and what it read.
fn floor(repo: &Path, runs: usize) -> Result<(Duration, keyward::floor::Read)> {
    let mut times = Vec::new();
    let mut read = None;
    for _ in 0..runs {
        let start = Instant::now();
        read = Some(keyward::floor::history(repo)?);
        times.push(start.elapsed());
    }
    Ok((median(&mut times), read.ok_or("no run")?))
}

/// Prints the floor beside keyward's time `kw`, and the ratio's verdict.
fn print_floor(repo: &Path, runs: usize, kw: Duration) -> Result<()> {
    let (t, read) = floor(repo, runs)?;
    let ratio = kw.as_secs_f64() / t.as_secs_f64();
    println!(
        "floor (read, not scanned){:>8.2} s  {} versions, {:.1} MB inflated",
        t.as_secs_f64(),
        read.versions,
        read.bytes as f64 / 1e6
    );
    println!(
        "keyward / floor {ratio:.2}x (target <= 1.3x): {}",
        if ratio <= 1.3 { "PASS" } else { "MISS" }
    );
    Ok(())
}

/// Runs `program args` in `dir`, returning the wall time and standard output.
fn timed(env: &Env, dir: &Path, program: &str, args: &[&str]) -> Result<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let out = env
        .command(program, dir)
        .args(args)
        .env("GIT_PAGER", "cat")
        .stderr(Stdio::null())
        .output()?;
    let t = start.elapsed();
    if !(out.status.success() || out.status.code() == Some(1)) {
        return Err(format!("{program} {args:?} failed").into());
    }
    Ok((t, out.stdout))
}

/// Sum of the sizes of every blob reachable from any ref, each once.
fn unique_blob_bytes(env: &Env, repo: &Path) -> Result<u64> {
    let out = env
        .command("git", repo)
        .args([
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype) %(objectsize)",
        ])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("blob "))
        .filter_map(|n| n.parse::<u64>().ok())
        .sum())
}

const WORDS: &[&str] = &[
    "let",
    "fn",
    "return",
    "match",
    "config",
    "request",
    "response",
    "handler",
    "value",
    "items",
    "count",
    "error",
    "result",
    "self",
    "map",
    "filter",
    "into",
    "from",
    "buffer",
    "path",
    "client",
    "server",
    "retry",
    "timeout",
    "cache",
    "index",
    "user",
    "session",
    "query",
    "update",
    "delete",
    "create",
    "render",
    "token_count",
    "keys",
    "data",
    "format",
    "print",
];

/// A source-like line: words, identifiers, numbers, punctuation.
fn line(rng: &mut Rng, out: &mut String) {
    let indent = (rng.next_u64() % 3) as usize * 4;
    out.extend(std::iter::repeat_n(' ', indent));
    let n = 4 + rng.next_u64() % 9;
    for i in 0..n {
        if i > 0 {
            out.push(if rng.next_u64().is_multiple_of(5) {
                '.'
            } else {
                ' '
            });
        }
        let w = WORDS[(rng.next_u64() % WORDS.len() as u64) as usize];
        out.push_str(w);
        match rng.next_u64() % 7 {
            0 => {
                out.push('_');
                out.push_str(&rng.string(b"abcdefghijklmnopqrstuvwxyz", 5));
            }
            1 => out.push_str(&(rng.next_u64() % 10_000).to_string()),
            2 => out.push_str("();"),
            _ => {}
        }
    }
    out.push('\n');
}

fn file(rng: &mut Rng, size: usize) -> String {
    let mut s = String::with_capacity(size + 100);
    while s.len() < size {
        line(rng, &mut s);
    }
    s
}

fn generate(env: &Env, repo: &Path) -> Result<()> {
    std::fs::create_dir_all(repo)?;
    let ok = env
        .command("git", repo)
        .args(["init", "-q", "-b", "main"])
        .status()?
        .success();
    if !ok {
        return Err("git init failed".into());
    }
    let mut child = env
        .command("git", repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    let mut stdin = std::io::BufWriter::new(child.stdin.take().ok_or("no stdin")?);
    let mut rng = Rng::new(42);
    // A code base of FILES files that evolves by edits, as code does: each commit rewrites a
    // few lines of one file and appends two.
    let mut files: Vec<Vec<String>> = (0..FILES)
        .map(|_| {
            let text = file(&mut rng, FILE_SIZE);
            text.lines().map(str::to_owned).collect()
        })
        .collect();
    for c in 0..COMMITS {
        let time = 1_600_000_000 + c as u64 * 3600;
        writeln!(stdin, "commit refs/heads/main")?;
        writeln!(stdin, "author Bench <bench@example.invalid> {time} +0000")?;
        writeln!(
            stdin,
            "committer Bench <bench@example.invalid> {time} +0000"
        )?;
        let msg = format!("change {c}");
        writeln!(stdin, "data {}\n{msg}", msg.len())?;
        let touched: Vec<usize> = if c == 0 {
            (0..FILES).collect()
        } else {
            vec![(rng.next_u64() % FILES as u64) as usize]
        };
        for &f in &touched {
            let lines = &mut files[f];
            if c > 0 {
                for _ in 0..5 {
                    let at = (rng.next_u64() % lines.len() as u64) as usize;
                    let mut l = String::new();
                    line(&mut rng, &mut l);
                    lines[at] = l.trim_end().to_owned();
                }
                for _ in 0..2 {
                    let mut l = String::new();
                    line(&mut rng, &mut l);
                    lines.push(l.trim_end().to_owned());
                }
            }
            if PLANTED_AT.contains(&c) {
                let token = format!(
                    "gh{}_{}",
                    "p",
                    rng.string(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                        36,
                    )
                );
                let at = (rng.next_u64() % lines.len() as u64) as usize;
                lines.insert(at, format!("const TOKEN: &str = \"{token}\";"));
            }
            let content = lines.join("\n") + "\n";
            writeln!(stdin, "M 100644 inline src/m{:02}/f{f:04}.rs", f % 30)?;
            writeln!(stdin, "data {}", content.len())?;
            stdin.write_all(content.as_bytes())?;
            writeln!(stdin)?;
        }
        writeln!(stdin)?;
    }
    drop(stdin);
    if !child.wait()?.success() {
        return Err("git fast-import failed".into());
    }
    // Packed as a clone or `git gc --aggressive` leaves a real repository: deltas computed
    // afresh (`-f`), between versions of a file. Without `-f`, repack would keep fast-import's
    // deltas, each against the blob written just before it: another file.
    let ok = env
        .command("git", repo)
        .args(["repack", "-adfq", "--window=10", "--depth=50"])
        .status()?
        .success();
    if !ok {
        return Err("git repack failed".into());
    }
    Ok(())
}
