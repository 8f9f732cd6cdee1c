//! Writes `src/scan/common_windows.rs`: the 4-byte windows most common in source code, which
//! the prefilter's gate keeps its anchors off (see `src/scan/gate.rs`, `frequency` and
//! `choose_multiplier`).
//!
//! ```sh
//! cargo run --release --example common_windows -- --write src/scan/common_windows.rs \
//!     "rust:rs:$(rustc --print sysroot)/lib/rustlib/src/rust/library" \
//!     python:py:/usr/lib/python3.11 c:h:/usr/include/linux
//! ```
//!
//! (Without `--write FILE` it prints the table; with it, the file is replaced once the table
//! is made: a shell's `> src/scan/common_windows.rs` would empty the file that the example
//! itself is built with.) Each other argument is a source, `LABEL:EXTENSIONS:DIRECTORY`
//! (extensions joined by `,`). Of each source, the files with those extensions are read in the order of their paths (directories
//! walked depth first, entries sorted by name; links and files of 4 MiB or more left out, as
//! the prefilter bench leaves them), whole files until 5 MB are read (`--budget BYTES` for
//! another amount). Every 4-byte window of every file (none across two files) is folded as
//! the gate folds it and counted. The most common 4,096 (`--top N`; ties to the lower
//! window) are written sorted by window, each with how often it occurs per ten million windows
//! (rounded down, capped at 65,535), after a header that says what was read: each source's
//! files, bytes and the SHA-256 of those bytes in that order, so two runs that print the same
//! header read the same code and write the same table, byte for byte.
//!
//! The code must be other code than `benches/prefilter.rs` reads (the cargo registry's
//! sources), or the bench would measure a gate tuned to its own corpus; and code whose version
//! names it, so that the table can be made again: the table in the repository was made by the
//! command above from Rust 1.95.0's standard library (`rustup component add rust-src`),
//! Python 3.11.2's (Debian 12's `libpython3.11-minimal` and `libpython3.11-stdlib`,
//! 3.11.2-6+deb12u6) and Linux 6.1's headers for programs (`linux-libc-dev` 6.1.187-1,
//! `/usr/include/linux`: 4.7 MB, all of it). The header's
//! digests say exactly which bytes were read: other versions make another table, as good (a
//! table from other Python and C headers made the prefilter bench's gate run the same
//! instructions within 2%).
//!
//! The table before this generator (until 2026-12) was measured on the cargo registry's
//! sources past the prefilter bench's first 100 MB, Python's standard library and C headers of
//! another machine, with no record of which files; it could not be made again.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

#[path = "../src/scan/gate.rs"]
#[allow(dead_code)]
mod gate;

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Bytes read of each source, by default.
const BUDGET: usize = 5_000_000;
/// Windows in the table, by default.
const TOP: usize = 4_096;
/// Files this large or larger are left out (as `benches/prefilter.rs` leaves them out).
const LARGEST: u64 = 4 << 20;
/// The table's lines are filled up to this many characters.
const WIDTH: usize = 98;

/// One source of code: its label, the extensions read, the directory.
struct Source {
    label: String,
    extensions: Vec<String>,
    dir: PathBuf,
}

/// What was read of a source.
struct Read {
    files: usize,
    bytes: usize,
    digest: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: common_windows [--write FILE] [--budget BYTES] [--top N] LABEL:EXTENSIONS:DIRECTORY..."
    );
    std::process::exit(2)
}

fn main() {
    let mut budget = BUDGET;
    let mut top = TOP;
    let mut write = None;
    let mut sources = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || -> usize {
            args.next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| usage())
        };
        match arg.as_str() {
            "--budget" => budget = number(),
            "--top" => top = number(),
            "--write" => write = Some(PathBuf::from(args.next().unwrap_or_else(|| usage()))),
            _ => {
                let mut parts = arg.splitn(3, ':');
                let (Some(label), Some(extensions), Some(dir)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    usage()
                };
                sources.push(Source {
                    label: label.to_owned(),
                    extensions: extensions.split(',').map(str::to_owned).collect(),
                    dir: PathBuf::from(dir),
                });
            }
        }
    }
    if sources.is_empty() {
        usage();
    }
    let mut counts: HashMap<u32, u64> = HashMap::new();
    let mut windows = 0u64;
    let mut read = Vec::new();
    for source in &sources {
        let mut files = Vec::new();
        list(&source.dir, &source.extensions, &mut files);
        let (mut taken, mut bytes, mut digest) = (0, 0, Sha256::new());
        for path in files {
            if bytes >= budget {
                break;
            }
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            digest.update(&data);
            for w in data.windows(4) {
                let folded = gate::fold(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
                *counts.entry(folded).or_default() += 1;
                windows += 1;
            }
            taken += 1;
            bytes += data.len();
        }
        if bytes < budget {
            eprintln!(
                "warning: {} holds {bytes} bytes of such files, less than {budget}",
                source.label
            );
        }
        let digest = digest.finalize().iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        read.push(Read {
            files: taken,
            bytes,
            digest,
        });
    }
    let mut common: Vec<(u32, u64)> = counts.into_iter().collect();
    // Most common first; among equals, the lower window (a total order: the same table
    // whatever order the map holds them in).
    common.sort_unstable_by_key(|&(w, n)| (std::cmp::Reverse(n), w));
    common.truncate(top);
    common.sort_unstable();
    let text = table(&sources, &read, budget, windows, &common);
    match write {
        None => print!("{text}"),
        Some(path) => {
            let temporary = path.with_extension("rs.new");
            std::fs::write(&temporary, text)
                .and_then(|()| std::fs::rename(&temporary, &path))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}

/// The files under `dir` with one of `extensions`, in the order of their paths.
fn list(dir: &Path, extensions: &[String], files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut entries: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    entries.sort();
    for path in entries {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            list(&path, extensions, files);
        } else if meta.is_file()
            && meta.len() < LARGEST
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.iter().any(|x| x == e))
        {
            files.push(path);
        }
    }
}

/// The file's text: the header, then the entries filled into lines of [`WIDTH`] characters.
fn table(
    sources: &[Source],
    read: &[Read],
    budget: usize,
    windows: u64,
    common: &[(u32, u64)],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// The {} most common 4-byte windows of source code, case-folded as `fold` folds them",
        thousands(common.len())
    );
    out.push_str(
        "// (little-endian, sorted), each with how often it occurs per ten million windows (capped at\n\
         // 65,535). `gate.rs` includes it to keep anchors off windows that code is full of (`flag`,\n\
         // `conf`, `allo`). Written by `cargo run --release --example common_windows` (see\n\
         // examples/common_windows.rs) from other code than `benches/prefilter.rs` reads:\n",
    );
    for (source, r) in sources.iter().zip(read) {
        let _ = writeln!(
            out,
            "// - {} (.{}): {} files, {} bytes, SHA-256\n//   {}",
            source.label,
            source.extensions.join(", ."),
            r.files,
            thousands(r.bytes),
            r.digest
        );
    }
    let _ = writeln!(
        out,
        "// (up to {} bytes of each, in whole files; {} windows in all).",
        thousands(budget),
        thousands(windows as usize)
    );
    out.push_str("&[\n");
    let mut line = String::new();
    for &(w, n) in common {
        let per_ten_million = (u128::from(n) * 10_000_000 / u128::from(windows)).min(65_535);
        let entry = format!("(0x{w:08x}, {per_ten_million})");
        if !line.is_empty() && 4 + line.len() + 2 + entry.len() + 1 > WIDTH {
            let _ = writeln!(out, "    {line},");
            line.clear();
        }
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(&entry);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "    {line},");
    }
    out.push_str("]\n");
    out
}

/// `n` with a comma between each group of three digits.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
