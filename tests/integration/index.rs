//! The lean index reader against git itself: every kind of index git writes (versions 2, 3
//! and 4, extended flags, conflicts, split and sparse indexes, offset tables, the untracked
//! cache, SHA-256, paths longer than 4095 bytes, unusual names), and thousands of damaged
//! copies of them (flipped bytes, truncations, edited length fields, sizes and counts).
//!
//! For each copy, what keyward would read — the lean reader's entries, or gix's where the lean
//! reader hands the index to gix — must be exactly what `git ls-files -s --debug` reads
//! (path, id, mode, stage, flags), or keyward must refuse it (and then asks git's plumbing).
//! Agreeing with gix is not enough: gix reads a version-4 name up to its NUL, git by its
//! length field.

use crate::repo::Repo;
use keyward::git::index::{self, Read};

/// One entry: path, id, mode, flags (`ce_flags` without the name length: stage,
/// assume-valid, extended, intent-to-add, skip-worktree).
type Entry = (Vec<u8>, String, u32, u32);

/// The flags all three readers report alike.
const FLAGS: u32 = 0x6000_f000;

/// What keyward reads from `path`: `None` when it refuses (the lean reader's error, or gix's
/// where the lean reader hands the file over).
fn keyward_reads(path: &std::path::Path, hash: gix::hash::Kind) -> Option<Vec<Entry>> {
    match index::read(path, hash).ok()? {
        Read::Index(lean) => Some(
            (0..lean.len())
                .map(|i| {
                    (
                        lean.path(i).to_vec(),
                        lean.id(i).to_string(),
                        lean.mode(i),
                        lean.flags(i) & FLAGS,
                    )
                })
                .collect(),
        ),
        Read::Unsupported(_) => gix_reads(path, hash),
    }
}

/// What gix's complete decoder reads, as the hook opens it (no checksum check).
fn gix_reads(path: &std::path::Path, hash: gix::hash::Kind) -> Option<Vec<Entry>> {
    let file = gix::index::File::at(path, hash, true, Default::default()).ok()?;
    Some(
        file.entries()
            .iter()
            .map(|e| {
                (
                    e.path(&file).to_vec(),
                    e.id.to_string(),
                    e.mode.bits(),
                    e.flags.bits() & FLAGS,
                )
            })
            .collect(),
    )
}

/// What git reads from the repository's index: `None` when it refuses it, crashes, or spins
/// (git 2.47 loops on some damaged untracked caches: 20 seconds is its limit here).
fn git_reads(repo: &Repo) -> Option<Vec<Entry>> {
    let args = ["20", "git", "ls-files", "-s", "-z", "--debug", "--sparse"];
    let out = repo.run_in(&repo.dir, "timeout", &args);
    if out.code() != Some(0) {
        return None;
    }
    // `<mode> <id> <stage>\t<path>\0` and five debug lines, the last `  size: N\tflags: X\n`.
    let mut rest = out.0.stdout.as_slice();
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let tab = rest.iter().position(|&b| b == b'\t')?;
        let meta = std::str::from_utf8(&rest[..tab]).ok()?;
        let nul = tab + 1 + rest[tab + 1..].iter().position(|&b| b == 0)?;
        let path = rest[tab + 1..nul].to_vec();
        rest = &rest[nul + 1..];
        let flags_at = rest.windows(7).position(|w| w == b"flags: ")? + 7;
        let line_end = flags_at + rest[flags_at..].iter().position(|&b| b == b'\n')?;
        let flags =
            u32::from_str_radix(std::str::from_utf8(&rest[flags_at..line_end]).ok()?, 16).ok()?;
        rest = &rest[line_end + 1..];
        let mut fields = meta.split(' ');
        let mode = u32::from_str_radix(fields.next()?, 8).ok()?;
        let id = fields.next()?.to_owned();
        entries.push((path, id, mode, flags & FLAGS));
    }
    Some(entries)
}

/// A deterministic random source (xorshift), so that a failure names a reproducible copy.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Where the fields of a well-formed index are, for the mutations to aim at.
struct Layout {
    /// Per entry: its header, its flags, its v4 strip varint, its name, the name's length on
    /// disk (the suffix in v4).
    entries: Vec<(usize, usize, Option<usize>, usize, usize)>,
    /// Per extension: its offset and the size of its body.
    extensions: Vec<(usize, usize)>,
}

fn layout(data: &[u8], hash_len: usize) -> Layout {
    let be16 = |at: usize| u16::from_be_bytes([data[at], data[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
    let strlen = |at: usize| data[at..].iter().position(|&b| b == 0).expect("NUL");
    let version = be32(4);
    let count = be32(8);
    let end = data.len() - hash_len;
    let mut pos = 12;
    let mut entries = Vec::new();
    for _ in 0..count {
        let flags_at = pos + 40 + hash_len;
        let flags = be16(flags_at);
        let mut p = flags_at + 2 + if flags & 0x4000 != 0 { 2 } else { 0 };
        if version == 4 {
            let varint_at = p;
            while data[p] & 0x80 != 0 {
                p += 1;
            }
            p += 1;
            let len = strlen(p);
            entries.push((pos, flags_at, Some(varint_at), p, len));
            pos = p + len + 1;
        } else {
            let len = match usize::from(flags & 0xfff) {
                0xfff => strlen(p),
                n => n,
            };
            entries.push((pos, flags_at, None, p, len));
            pos += (p - pos + len + 8) & !7;
        }
    }
    let mut extensions = Vec::new();
    while pos + 8 <= end {
        let size = be32(pos + 4) as usize;
        extensions.push((pos, size));
        pos += 8 + size;
    }
    Layout {
        entries,
        extensions,
    }
}

/// A damaged copy of `data`, and what was done to it.
fn mutate(data: &[u8], l: &Layout, rng: &mut Rng) -> (Vec<u8>, String) {
    let mut d = data.to_vec();
    let set16 =
        |d: &mut Vec<u8>, at: usize, v: u16| d[at..at + 2].copy_from_slice(&v.to_be_bytes());
    let set32 =
        |d: &mut Vec<u8>, at: usize, v: u32| d[at..at + 4].copy_from_slice(&v.to_be_bytes());
    let get16 = |d: &[u8], at: usize| u16::from_be_bytes([d[at], d[at + 1]]);
    let get32 = |d: &[u8], at: usize| u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]]);
    let entry = l.entries.get(rng.below(l.entries.len())).copied();
    let what = match (rng.below(14), entry) {
        (0 | 1, _) => {
            let at = rng.below(d.len());
            let v = rng.next() as u8;
            d[at] = v;
            format!("byte {at} = {v:#04x}")
        }
        (2, _) => {
            let at = rng.below(d.len());
            d.truncate(at);
            format!("truncated to {at} bytes")
        }
        (3, _) => {
            let at = rng.below(d.len());
            if rng.below(2) == 0 {
                d.remove(at);
                format!("byte {at} removed")
            } else {
                d.insert(at, rng.next() as u8);
                format!("a byte inserted at {at}")
            }
        }
        (4..=6, Some((_, flags_at, _, _, len))) => {
            let old = get16(&d, flags_at);
            let choices = [
                len.saturating_sub(4),
                len.saturating_sub(1),
                len + 1,
                len + 4,
                0,
                0xffe,
                0xfff,
                rng.below(0x1000),
            ];
            let new = choices[rng.below(choices.len())].min(0xfff) as u16;
            set16(&mut d, flags_at, (old & 0xf000) | new);
            format!("name length at {flags_at}: {} -> {new}", old & 0xfff)
        }
        (7, Some((_, flags_at, _, _, _))) => {
            // One bit of the flags, or of the extended flags.
            let at = flags_at + 2 * rng.below(2);
            let bit = 1u16 << (12 + rng.below(4) as u16).min(15);
            let bit = if rng.below(2) == 0 {
                bit
            } else {
                1 << rng.below(16)
            };
            let old = get16(&d, at);
            set16(&mut d, at, old ^ bit);
            format!("flag bit {bit:#06x} at {at} flipped")
        }
        (8, Some((_, _, Some(varint_at), _, _))) if d[varint_at] < 0x80 => {
            let old = d[varint_at];
            let new = match rng.below(3) {
                0 => old.saturating_add(1).min(0x7f),
                1 => old.saturating_sub(1),
                _ => rng.below(0x80) as u8,
            };
            d[varint_at] = new;
            format!("v4 strip at {varint_at}: {old} -> {new}")
        }
        (9, Some((header, ..))) => {
            let modes = [
                0o100664,
                0o160644,
                0o040000,
                0o100000,
                0o120755,
                rng.next() as u32,
            ];
            let mode = modes[rng.below(modes.len())];
            set32(&mut d, header + 24, mode);
            format!("mode at {header} = {mode:o}")
        }
        (10, _) if !l.extensions.is_empty() => {
            let (at, size) = l.extensions[rng.below(l.extensions.len())];
            let sizes = [
                size + 1,
                size.saturating_sub(1),
                size + 8,
                size.saturating_sub(8),
                rng.next() as usize,
            ];
            let new = sizes[rng.below(sizes.len())] as u32;
            set32(&mut d, at + 4, new);
            format!("extension at {at}: size {size} -> {new}")
        }
        (11, _) if !l.extensions.is_empty() => {
            // A byte inside an extension: its signature or its body (the TREE's numbers).
            let (at, size) = l.extensions[rng.below(l.extensions.len())];
            let off = at + rng.below(size + 8);
            let bytes = [
                b' ',
                b'\n',
                b'-',
                b'+',
                b'0',
                b'9',
                0,
                b'a',
                b'Z',
                rng.next() as u8,
            ];
            let v = bytes[rng.below(bytes.len())];
            d[off] = v;
            format!("extension at {at}: byte {off} = {v:#04x}")
        }
        (12, _) => {
            let old = get32(&d, 8);
            let new = match rng.below(3) {
                0 => old + 1,
                1 => old.saturating_sub(1),
                _ => rng.next() as u32,
            };
            set32(&mut d, 8, new);
            format!("entry count {old} -> {new}")
        }
        (13, Some((_, _, _, name, len))) if len > 0 => {
            // A byte of a name: ordering, NULs, separators.
            let at = name + rng.below(len);
            let bytes = [0, b'/', b'.', b'a', b'z', 0xff, rng.next() as u8];
            let v = bytes[rng.below(bytes.len())];
            d[at] = v;
            format!("name byte {at} = {v:#04x}")
        }
        _ => {
            let at = rng.below(d.len());
            d[at] ^= 1 << rng.below(8);
            format!("bit flipped in byte {at}")
        }
    };
    (d, what)
}

/// Where two readings differ, briefly (the lists are long).
fn difference(a: Option<&Vec<Entry>>, b: Option<&Vec<Entry>>) -> Option<String> {
    let show = |e: &Entry| {
        format!(
            "{:o} {} {:#x} {}",
            e.2,
            &e.1[..8],
            e.3,
            String::from_utf8_lossy(&e.0[..e.0.len().min(60)])
        )
    };
    match (a, b) {
        (Some(a), Some(b)) if a == b => None,
        (Some(a), Some(b)) => {
            let i = a
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            Some(format!(
                "{} vs {} entries; first difference at {i}: {:?} vs {:?}",
                a.len(),
                b.len(),
                a.get(i).map(show),
                b.get(i).map(show)
            ))
        }
        (None, None) => None,
        (a, b) => Some(format!("read: {} vs {}", a.is_some(), b.is_some())),
    }
}

/// Checks `repo`'s index as it is, then `copies` damaged copies of it: keyward reads each as
/// git does, or refuses it. Returns how many copies keyward read (the rest it refused).
fn differential(repo: &Repo, hash: gix::hash::Kind, seed: u64, copies: usize) -> usize {
    let path = repo.git_dir().join("index");
    let original = std::fs::read(&path).expect("index");
    let git = git_reads(repo).expect("git reads its own index");
    assert!(!git.is_empty());
    if let Err(index::IndexError::LeftToGit(_)) = index::read(&path, hash) {
        // A split index: git's plumbing reads it, whatever is done to it.
        return 0;
    }
    if let Some(d) = difference(keyward_reads(&path, hash).as_ref(), Some(&git)) {
        panic!(
            "keyward, on the index as git wrote it: {d}: {:?}",
            index::read(&path, hash)
        );
    }
    let l = layout(&original, hash.len_in_bytes());
    let mut rng = Rng(seed | 1);
    let mut read = 0;
    for n in 0..copies {
        let (copy, what) = mutate(&original, &l, &mut rng);
        std::fs::write(&path, &copy).expect("write index");
        let Some(ours) = keyward_reads(&path, hash) else {
            continue;
        };
        read += 1;
        // Where git cannot read the copy at all (it refuses it, or crashes: a damaged
        // untracked cache can make it segfault), nothing can be committed from it; gix's
        // reading is the reference then.
        let (reference, name) = match git_reads(repo) {
            Some(git) => (Some(git), "git"),
            None => (gix_reads(&path, hash), "gix (git cannot read it)"),
        };
        if let Some(d) = difference(Some(&ours), reference.as_ref()) {
            panic!("copy {n} (seed {seed}): {what}: keyward reads what {name} does not: {d}");
        }
    }
    std::fs::write(&path, &original).expect("restore index");
    eprintln!("index differential, seed {seed}: {copies} copies, {read} read as git reads them, the rest refused");
    read
}

/// Files with names that test sorting, escaping and separators; with `long`, a path longer
/// than 4095 bytes too (gix 0.90 cannot read those: it skips no padding after them, so the
/// tests of indexes the lean reader leaves to gix go without).
fn populate(repo: &Repo, long: bool) {
    for name in [
        "README.md",
        "a-b",
        "a.b",
        "a/b.txt",
        "a/c/d.txt",
        "a0",
        "sp ace.txt",
        "tab\there",
        "new\nline",
        "ünïcode.txt",
        "-dash",
        "#hash",
        "z/y/x/w/v.txt",
    ] {
        repo.write(name, format!("{name}\n"));
    }
    repo.write("run.sh", "#!/bin/sh\n");
    repo.git(&["add", "."]).assert_ok();
    repo.git(&["update-index", "--chmod=+x", "run.sh"])
        .assert_ok();
    // A symbolic link's entry (mode 120000), staged as git stages one where links are files
    // holding their target (`core.symlinks=false`, Git for Windows): on every platform.
    repo.write("link", "README.md");
    let target = repo.git(&["hash-object", "-w", "link"]).stdout_text();
    let link = format!("120000,{},link", target.trim());
    repo.git(&["update-index", "--add", "--cacheinfo", &link])
        .assert_ok();
    let blob = repo.git(&["rev-parse", ":README.md"]).stdout_text();
    let blob = blob.trim();
    // A gitlink, and a path longer than 4095 bytes (its length field says 0xFFF).
    let gitlink = format!("160000,{blob},sub");
    repo.git(&["update-index", "--add", "--cacheinfo", &gitlink])
        .assert_ok();
    if long {
        let path: String = (0..50)
            .map(|i| format!("{i:02}{}/", "d".repeat(98)))
            .collect();
        let entry = format!("100644,{blob},{path}file");
        repo.git(&["update-index", "--add", "--cacheinfo", &entry])
            .assert_ok();
    }
    repo.commit_unchecked(&[]);
}

/// Damaged copies per index: 250 in a normal run (about 2,500 in all, 10 s); set
/// `KEYWARD_INDEX_COPIES` (and `KEYWARD_INDEX_SEED` for other copies) for a deeper search.
fn copies() -> usize {
    std::env::var("KEYWARD_INDEX_COPIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250)
}

fn seed(n: u64) -> u64 {
    let base: u64 = std::env::var("KEYWARD_INDEX_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    base.wrapping_mul(1000).wrapping_add(n)
}

#[test]
fn versions_2_3_and_4_with_every_entry_flag() {
    let repo = Repo::new();
    populate(&repo, true);
    let sha1 = gix::hash::Kind::Sha1;
    // Version 2: assume-unchanged is the only flag it can hold beyond the stage.
    repo.git(&["update-index", "--assume-unchanged", "a0"])
        .assert_ok();
    repo.git(&["update-index", "--index-version", "2"])
        .assert_ok();
    repo.git(&["write-tree"]).assert_ok();
    let mut read = differential(&repo, sha1, seed(1), copies());
    // Version 3: intent-to-add and skip-worktree.
    repo.write("later.txt", "later\n");
    repo.git(&["add", "-N", "later.txt"]).assert_ok();
    repo.git(&["update-index", "--skip-worktree", "a.b"])
        .assert_ok();
    repo.git(&["update-index", "--index-version", "3"])
        .assert_ok();
    read += differential(&repo, sha1, seed(2), copies());
    repo.git(&["update-index", "--index-version", "4"])
        .assert_ok();
    read += differential(&repo, sha1, seed(3), copies());
    assert!(
        read > copies() / 2,
        "too few copies were read to compare: {read}"
    );
}

#[test]
fn conflicts_resolve_undo_and_the_untracked_cache() {
    let repo = Repo::new();
    populate(&repo, false);
    repo.git(&["checkout", "-q", "-b", "other"]).assert_ok();
    repo.write("a/b.txt", "theirs\n");
    repo.write("a0", "theirs\n");
    repo.git(&["commit", "-qam", "theirs", "--no-verify"])
        .assert_ok();
    repo.git(&["checkout", "-q", "main"]).assert_ok();
    repo.write("a/b.txt", "ours\n");
    repo.write("a0", "ours\n");
    repo.git(&["commit", "-qam", "ours", "--no-verify"])
        .assert_ok();
    let merge = repo.git(&["merge", "-q", "other"]);
    assert_ne!(merge.code(), Some(0), "a conflict: {}", merge.all());
    // One conflict resolved (a REUC extension records it), one left in stages 1 to 3.
    repo.write("a0", "both\n");
    repo.git(&["add", "a0"]).assert_ok();
    repo.git(&["-c", "core.untrackedCache=true", "status", "-s"])
        .assert_ok();
    repo.git(&["update-index", "--untracked-cache"]).assert_ok();
    let sha1 = gix::hash::Kind::Sha1;
    let mut read = differential(&repo, sha1, seed(4), copies());
    repo.git(&["update-index", "--index-version", "4"])
        .assert_ok();
    read += differential(&repo, sha1, seed(5), copies());
    assert!(
        read > copies() / 4,
        "too few copies were read to compare: {read}"
    );
}

#[test]
fn offset_tables_split_and_sparse_indexes() {
    let repo = Repo::new();
    populate(&repo, false);
    // With three threads configured, git writes an offset table of three blocks.
    let threads = [
        "-c",
        "index.threads=3",
        "-c",
        "index.recordEndOfIndexEntries=true",
        "-c",
        "index.recordOffsetTable=true",
    ];
    let sha1 = gix::hash::Kind::Sha1;
    for version in ["4", "2"] {
        let mut args = threads.to_vec();
        args.extend(["update-index", "--index-version", version]);
        repo.git(&args).assert_ok();
        let index = std::fs::read(repo.git_dir().join("index")).expect("index");
        assert!(
            index.windows(4).any(|w| w == b"IEOT"),
            "v{version} has an offset table"
        );
        differential(&repo, sha1, seed(6), copies() / 2);
    }
    // Split: the shared index holds most entries, the index the changes. git merges them by
    // its own rules (gix keeps a new entry `/x` that git drops): only git reads it.
    repo.git(&["update-index", "--index-version", "2"])
        .assert_ok();
    repo.git(&["update-index", "--split-index"]).assert_ok();
    repo.write("a/b.txt", "changed\n");
    repo.write("new.txt", "new\n");
    repo.git(&["add", "."]).assert_ok();
    repo.git(&["rm", "-q", "--cached", "a0"]).assert_ok();
    let split = index::read(&repo.git_dir().join("index"), sha1);
    assert!(
        matches!(split, Err(index::IndexError::LeftToGit(_))),
        "{split:?}"
    );
    repo.git(&["update-index", "--no-split-index"]).assert_ok();
    repo.git(&["commit", "-qm", "split", "--no-verify"])
        .assert_ok();
    // Sparse: `z/` outside the cone is one directory entry.
    repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"])
        .assert_ok();
    repo.git(&["sparse-checkout", "set", "a"]).assert_ok();
    let listed = git_reads(&repo).expect("ls-files");
    assert!(
        listed.iter().any(|e| e.2 == 0o040000),
        "a sparse directory entry"
    );
    differential(&repo, sha1, seed(8), copies());
}

#[test]
fn sha256_and_skip_hash_indexes() {
    let repo = Repo::new_with(&["--object-format=sha256"]);
    populate(&repo, true);
    repo.git(&[
        "-c",
        "index.skipHash=true",
        "update-index",
        "--index-version",
        "4",
    ])
    .assert_ok();
    let read = differential(&repo, gix::hash::Kind::Sha256, seed(9), copies());
    assert!(
        read > copies() / 4,
        "too few copies were read to compare: {read}"
    );
}
