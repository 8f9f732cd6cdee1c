//! Hostile repositories: packs whose entries lie about their sizes, indexes whose entries
//! say one thing in a length field and another in their bytes. Each must end in a one-line
//! error (exit 2) or in what git itself would do — never in an abort, a buffer grown to what
//! the input claims, or a scan of a different path than git commits.

use crate::repo::{Out, Repo};
use gix::ObjectId;

/// Objects of a pack written by hand: whole objects from the repository, and entries made
/// up by the test.
struct PackBuilder {
    bytes: Vec<u8>,
    ids: Vec<(ObjectId, u64)>,
}

/// Pack entry types (git's `enum object_type`).
const COMMIT: u8 = 1;
const TREE: u8 = 2;
const BLOB: u8 = 3;
const OFS_DELTA: u8 = 6;

fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::BEST);
    w.write_all(data).expect("deflate");
    w.flush().expect("deflate");
    w.into_inner()
}

/// git's pack entry header: type and size, little-endian base-128 after the first nibble.
fn entry_header(kind: u8, size: u64) -> Vec<u8> {
    let mut out = vec![(kind << 4) | (size & 0x0f) as u8];
    let mut rest = size >> 4;
    while rest > 0 {
        *out.last_mut().expect("one byte") |= 0x80;
        out.push((rest & 0x7f) as u8);
        rest >>= 7;
    }
    out
}

/// A delta's size header (little-endian base-128).
fn delta_size(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

impl PackBuilder {
    fn new() -> Self {
        PackBuilder {
            bytes: b"PACK\0\0\0\x02\0\0\0\0".to_vec(),
            ids: Vec::new(),
        }
    }

    /// Adds an entry for `id` with header `header` and zlib payload `payload`; its offset.
    fn raw(&mut self, id: ObjectId, header: &[u8], payload: &[u8]) -> u64 {
        let at = self.bytes.len() as u64;
        self.bytes.extend_from_slice(header);
        self.bytes.extend_from_slice(payload);
        self.ids.push((id, at));
        at
    }

    /// Adds object `id` of the repository, whole.
    fn whole(&mut self, repo: &Repo, id: ObjectId) -> u64 {
        let kind = repo.git(&["cat-file", "-t", &id.to_string()]).stdout_text();
        let (name, code) = match kind.trim() {
            "commit" => ("commit", COMMIT),
            "tree" => ("tree", TREE),
            "blob" => ("blob", BLOB),
            other => panic!("unexpected object type {other}"),
        };
        let data = repo.git(&["cat-file", name, &id.to_string()]).0.stdout;
        self.raw(id, &entry_header(code, data.len() as u64), &zlib(&data))
    }

    /// Adds `id` as a delta against the entry at `base`: `ops` after the two sizes.
    fn delta(&mut self, id: ObjectId, base: u64, sizes: (u64, u64), ops: &[u8]) -> u64 {
        let mut delta = Vec::new();
        delta_size(&mut delta, sizes.0);
        delta_size(&mut delta, sizes.1);
        delta.extend_from_slice(ops);
        let header = self.delta_header(delta.len() as u64, base);
        self.raw(id, &header, &zlib(&delta))
    }

    /// The header of a delta entry of `size` bytes, added next, against the entry at `base`.
    fn delta_header(&self, size: u64, base: u64) -> Vec<u8> {
        let mut header = entry_header(OFS_DELTA, size);
        // git's offset encoding: big-endian base-128, each continuation adding one.
        let mut ofs = self.bytes.len() as u64 - base;
        let mut enc = vec![(ofs & 0x7f) as u8];
        while {
            ofs >>= 7;
            ofs > 0
        } {
            ofs -= 1;
            enc.insert(0, 0x80 | (ofs & 0x7f) as u8);
        }
        header.extend_from_slice(&enc);
        header
    }

    /// Writes `pack-<hash>.pack` and its `.idx` (version 2) into `dir`.
    fn write(mut self, dir: &std::path::Path) {
        let count = self.ids.len() as u32;
        self.bytes[8..12].copy_from_slice(&count.to_be_bytes());
        let pack_hash = sha1(&self.bytes);
        self.bytes.extend_from_slice(pack_hash.as_bytes());
        self.ids.sort();
        let mut idx = b"\xfftOc\0\0\0\x02".to_vec();
        for first in 0..=255u8 {
            let n = self
                .ids
                .iter()
                .filter(|(id, _)| id.as_bytes()[0] <= first)
                .count();
            idx.extend_from_slice(&(n as u32).to_be_bytes());
        }
        for (id, _) in &self.ids {
            idx.extend_from_slice(id.as_bytes());
        }
        for _ in &self.ids {
            idx.extend_from_slice(&[0; 4]); // CRC-32s: nothing here checks them
        }
        for (_, at) in &self.ids {
            idx.extend_from_slice(&(*at as u32).to_be_bytes());
        }
        idx.extend_from_slice(pack_hash.as_bytes());
        let idx_hash = sha1(&idx);
        idx.extend_from_slice(idx_hash.as_bytes());
        let name = format!("pack-{pack_hash}");
        std::fs::create_dir_all(dir).expect("pack dir");
        std::fs::write(dir.join(format!("{name}.pack")), &self.bytes).expect("write pack");
        std::fs::write(dir.join(format!("{name}.idx")), &idx).expect("write idx");
    }
}

fn sha1(data: &[u8]) -> ObjectId {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    h.update(data);
    h.try_finalize().expect("sha1")
}

fn id(repo: &Repo, rev: &str) -> ObjectId {
    let hex = repo.git(&["rev-parse", rev]).stdout_text();
    ObjectId::from_hex(hex.trim().as_bytes()).expect("object id")
}

/// A repository with two versions of `data.txt` (the first over 64 KiB, so one copy
/// instruction of the default length fits it), whose objects are replaced by one pack
/// written by hand: everything whole, except the second version, which `lie` writes.
fn repo_with_forged_pack(lie: impl FnOnce(&mut PackBuilder, ObjectId, u64, u64)) -> Repo {
    let repo = Repo::new();
    let base: String = (0..2000)
        .map(|i| format!("line {i:05} of a file that is long enough\n"))
        .collect();
    assert!(base.len() > 0x10000);
    repo.write("data.txt", &base);
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.write("data.txt", format!("{base}one more line\n"));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let mut pack = PackBuilder::new();
    for rev in ["HEAD", "HEAD~1", "HEAD^{tree}", "HEAD~1^{tree}"] {
        pack.whole(&repo, id(&repo, rev));
    }
    let first = pack.whole(&repo, id(&repo, "HEAD~1:data.txt"));
    lie(
        &mut pack,
        id(&repo, "HEAD:data.txt"),
        first,
        base.len() as u64,
    );
    let objects = repo.git_dir().join("objects");
    for entry in std::fs::read_dir(&objects).expect("objects").flatten() {
        let name = entry.file_name();
        if name.len() == 2 {
            std::fs::remove_dir_all(entry.path()).expect("remove loose objects");
        }
    }
    pack.write(&objects.join("pack"));
    repo
}

/// `keyward scan --history` with at most `limit` bytes of address space: a reader that
/// allocates what a pack claims aborts instead of answering.
fn scan_history_within(repo: &Repo, limit: &str) -> Out {
    let script = format!(
        "ulimit -v {limit} && exec \"{}\" scan --history",
        crate::repo::KEYWARD
    );
    repo.run_in(&repo.dir, "sh", &["-c", &script])
}

fn assert_one_line_error(out: &Out, needles: &[&str]) {
    assert_eq!(out.code(), Some(2), "{}", out.all());
    let stderr = String::from_utf8_lossy(&out.0.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "no {needle:?} in {stderr}");
    }
}

/// 3 GB of address space (in KiB, for `ulimit -v`): room for the binary, its threads (glibc
/// falls back to a shared heap when it cannot map one per thread) and the mapped packs, not
/// for a buffer of what a forged entry claims (the reader before these tests grew one to 4 GB).
const ADDRESS_SPACE: &str = "3000000";

#[test]
fn a_pack_entry_claiming_sixteen_terabytes_is_an_error_not_an_abort() {
    let repo = repo_with_forged_pack(|pack, id, first, base_len| {
        // A delta entry whose header says 2^44 bytes, over a few real ones.
        let mut delta = Vec::new();
        delta_size(&mut delta, base_len);
        delta_size(&mut delta, base_len);
        let header = pack.delta_header(1 << 44, first);
        pack.raw(id, &header, &zlib(&delta));
    });
    let out = scan_history_within(&repo, ADDRESS_SPACE);
    assert_one_line_error(&out, &["17592186044416", "pack"]);
}

#[test]
fn a_delta_of_copies_past_its_declared_size_fails_at_that_copy() {
    // 65,536 one-byte copy instructions: each copies 64 KiB (a copy of length 0), 4 GiB in
    // all, in a delta of a few hundred bytes compressed.
    let ops = vec![0x80u8; 65_536];
    // Declared as 100 bytes: more instructions than 100 bytes can need, refused before they
    // are inflated.
    let repo = repo_with_forged_pack(|pack, id, first, base_len| {
        pack.delta(id, first, (base_len, 100), &ops);
    });
    let out = scan_history_within(&repo, ADDRESS_SPACE);
    assert_one_line_error(
        &out,
        &["pack", "offset", "more than any delta building 100 bytes"],
    );
    // Declared as 600,000 bytes: the tenth copy would write past them, and fails there.
    let repo = repo_with_forged_pack(|pack, id, first, base_len| {
        pack.delta(id, first, (base_len, 600_000), &ops);
    });
    let out = scan_history_within(&repo, ADDRESS_SPACE);
    assert_one_line_error(
        &out,
        &[
            "pack",
            "offset",
            "instruction at byte 15 writes past its declared 600000-byte result",
        ],
    );
}

/// Sets the 12-bit name length of the first index entry named `name` to `len`, in place.
fn set_name_length(index: &std::path::Path, name: &[u8], len: u16) {
    let mut data = std::fs::read(index).expect("read index");
    let at = data
        .windows(name.len() + 1)
        .position(|w| w[..name.len()] == *name && w[name.len()] == 0)
        .expect("the entry's name");
    // SHA-1 entries: 40 bytes of stat data, the id, then the flags right before the name.
    let flags = u16::from_be_bytes([data[at - 2], data[at - 1]]);
    let flags = (flags & 0xf000) | len;
    data[at - 2..at].copy_from_slice(&flags.to_be_bytes());
    std::fs::write(index, data).expect("write index");
}

#[test]
fn an_index_entry_whose_length_field_hides_part_of_its_name_cannot_pass_a_key() {
    for version in ["2", "3", "4"] {
        let repo = Repo::new();
        repo.write(".keyward.toml", "[allow]\npaths = [\"*.md\"]\n");
        repo.write("README.md", "docs\n");
        repo.git(&["add", "."]).assert_ok();
        repo.commit(&[]).assert_passed();
        let key = crate::keys::github();
        repo.write("a.py.md", format!("token = \"{}\"\n", key.value));
        repo.git(&["add", "a.py.md"]).assert_ok();
        if version == "3" {
            repo.write("later.txt", "");
            repo.git(&["add", "-N", "later.txt"]).assert_ok();
        }
        // An allowed path, really: a key in a Markdown file passes.
        let scan = repo.keyward(&["scan", "--staged"]);
        assert_eq!(scan.code(), Some(0), "{}", scan.all());
        repo.git(&["update-index", "--index-version", version])
            .assert_ok();
        // The entry's length field now says 4: git reads `a.py` (and a version 4 index
        // falls apart after that entry).
        let index = repo.git_dir().join("index");
        set_name_length(&index, b"a.py.md", 4);
        let forged = std::fs::read(&index).expect("index");
        let scan = repo.keyward(&["scan", "--staged"]);
        assert_ne!(
            scan.code(),
            Some(0),
            "v{version}: the key passed:\n{}",
            scan.all()
        );
        crate::keys::assert_no_leak(&scan.all(), &key);
        let commit = repo.commit(&[]);
        assert!(
            !commit.moved,
            "v{version}: the key was committed:\n{}",
            commit.out.all()
        );
        crate::keys::assert_no_leak(&commit.out.all(), &key);
        if version != "4" {
            // What git makes of the forged index: a tree with `a.py`.
            std::fs::write(&index, &forged).expect("index");
            let tree = repo.git(&["write-tree"]).stdout_text();
            let names = repo.git(&["ls-tree", "--name-only", tree.trim()]);
            assert!(names.stdout_text().contains("a.py\n"), "{}", names.all());
        }
    }
}

/// Writes `content` as a loose object of `kind` (`tree`, `blob`) and returns its id.
fn write_loose(repo: &Repo, kind: &str, content: &[u8]) -> ObjectId {
    let mut object = format!("{kind} {}\0", content.len()).into_bytes();
    object.extend_from_slice(content);
    let id = sha1(&object);
    let hex = id.to_string();
    let dir = repo.git_dir().join("objects").join(&hex[..2]);
    std::fs::create_dir_all(&dir).expect("object dir");
    std::fs::write(dir.join(&hex[2..]), zlib(&object)).expect("write object");
    id
}

/// Trees nested 2,100 deep (git's own limit is 2,048): the history walk ends in a one-line
/// error naming the tree, not in a stack overflow.
#[test]
fn trees_nested_past_gits_limit_are_an_error_not_an_abort() {
    let repo = Repo::new();
    let blob = write_loose(&repo, "blob", b"hello\n");
    let mut entry = b"100644 f.txt\0".to_vec();
    entry.extend_from_slice(blob.as_bytes());
    let mut tree = write_loose(&repo, "tree", &entry);
    for _ in 0..2100 {
        let mut entry = b"40000 d\0".to_vec();
        entry.extend_from_slice(tree.as_bytes());
        tree = write_loose(&repo, "tree", &entry);
    }
    let commit = repo.git(&["commit-tree", "-m", "deep", &tree.to_string()]);
    let commit = commit.stdout_text().trim().to_owned();
    repo.git(&["update-ref", "refs/heads/main", &commit])
        .assert_ok();
    let out = repo.keyward(&["scan", "--history"]);
    assert_one_line_error(&out, &["nests trees deeper than 2048 levels"]);
}
