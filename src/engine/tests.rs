//! The engine driven by a source held in memory, through each of the three feeds: what it
//! reports follows the items and the policy, never the way they were fed.

use super::*;
use crate::config::Config;
use crate::model::{CommitRef, Content, Item, Kind, Place, ReadBlob, Size};
use crate::policy::allowlist::Allowlist;
use crate::rules::{StaticFileRule, BUILTIN_FILES, BUILTIN_RULES};
use crate::source::feed::{
    ChainWalk, ChainWalker, Feed, ParallelRead, Stop, Version, Visit, WorkerRead,
};
use crate::source::{BlobRead, Parts, Source, SourceError, Standing, Stream};
use gix::ObjectId;
use std::collections::HashMap;
use std::ops::Range;

/// A GitHub token with a body drawn from `seed` (built here, never written as a literal).
fn token(seed: u64) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let body: String = (0..36)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[(x % alphabet.len() as u64) as usize] as char
        })
        .collect();
    format!("gh{}_{body}", "p")
}

/// How the memory source feeds its items.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Sequential,
    Workers,
    Chains,
}

/// A source held in memory: blobs by id, each item at a path, the version each replaced.
struct Memory {
    items: Vec<Item>,
    reader: MemoryReader,
    /// The same blobs, for the workers and the chains (a source keeps them apart from its
    /// reader, which the engine's thread holds).
    shared: Blobs,
    mode: Mode,
    standing: Standing,
}

/// Blobs by id, and each item's, in the order the items were given.
#[derive(Clone)]
struct Blobs {
    blobs: HashMap<ObjectId, Vec<u8>>,
    order: Vec<ObjectId>,
}

struct MemoryReader {
    data: Blobs,
    /// For each item, what the version it replaced held (already in history).
    previous: Vec<Option<Vec<u8>>>,
    /// For each item, the listed item whose version it replaced.
    bases: Vec<Option<usize>>,
}

/// The blob id of `data`: equal data, equal id (as git's are).
fn id_of(data: &[u8]) -> ObjectId {
    use sha2::Digest;
    ObjectId::from_bytes_or_panic(&sha2::Sha256::digest(data)[..20])
}

impl Memory {
    /// Items `(path, content)`, each a blob, fed as `mode` says.
    fn new(mode: Mode, standing: Standing, files: &[(&str, &str)]) -> Memory {
        let mut blobs = HashMap::new();
        let mut items = Vec::new();
        let mut order = Vec::new();
        for (path, data) in files {
            let id = id_of(data.as_bytes());
            order.push(id);
            blobs.insert(id, data.as_bytes().to_vec());
            let mut item = Item::new(path.as_bytes().to_vec(), Content::Blob(id));
            if standing == Standing::Committed {
                item.commit = Some(CommitRef { id, author_time: 0 });
            }
            items.push(item);
        }
        let n = items.len();
        Memory {
            items,
            reader: MemoryReader {
                data: Blobs {
                    blobs: blobs.clone(),
                    order: order.clone(),
                },
                previous: vec![None; n],
                bases: vec![None; n],
            },
            shared: Blobs { blobs, order },
            mode,
            standing,
        }
    }
}

impl Source for Memory {
    fn standing(&self) -> Standing {
        self.standing
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn parts(&mut self) -> Parts<'_> {
        let feed = match self.mode {
            Mode::Sequential => Feed::Sequential,
            Mode::Workers => Feed::Workers(&self.shared),
            Mode::Chains => Feed::Chains(&self.shared),
        };
        Parts {
            items: &self.items,
            reader: &mut self.reader,
            feed,
        }
    }
}

impl Blobs {
    fn bytes(&self, item: &Item) -> Result<&[u8], SourceError> {
        match &item.content {
            Content::Blob(id) => self
                .blobs
                .get(id)
                .map(Vec::as_slice)
                .ok_or_else(|| SourceError::Input("no such blob".into())),
            _ => Err(SourceError::Input("not a blob".into())),
        }
    }
}

impl BlobRead for MemoryReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError> {
        buf.clear();
        let data = self.data.bytes(item)?;
        if data.len() as u64 > cap {
            return Ok(ReadBlob::TooLarge(data.len() as u64));
        }
        buf.extend_from_slice(data);
        Ok(ReadBlob::Read)
    }

    fn previous(
        &mut self,
        index: usize,
        _item: &Item,
        buf: &mut Vec<u8>,
        _cap: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        match &self.previous[index] {
            Some(old) => {
                buf.extend_from_slice(old);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn stream(
        &mut self,
        item: &Item,
        from: u64,
        cap: u64,
    ) -> Result<Option<Stream<'_>>, SourceError> {
        let data = self.data.bytes(item)?;
        let size = data.len() as u64;
        if size <= from || size > cap {
            return Ok(None);
        }
        Ok(Some((Box::new(std::io::Cursor::new(data)), size)))
    }

    fn base(&self, index: usize) -> Option<usize> {
        self.bases[index]
    }
}

impl ParallelRead for Blobs {
    fn reader(&self) -> Box<dyn WorkerRead + '_> {
        Box::new(MemoryWorker {
            reader: self,
            open: None,
        })
    }
}

struct MemoryWorker<'m> {
    reader: &'m Blobs,
    open: Option<&'m [u8]>,
}

impl WorkerRead for MemoryWorker<'_> {
    fn open(&mut self, item: &Item) -> Result<Option<u64>, SourceError> {
        self.open = self.reader.bytes(item).ok();
        Ok(self.open.map(|d| d.len() as u64))
    }

    fn read(&mut self, buf: &mut Vec<u8>) -> Result<(), SourceError> {
        buf.clear();
        buf.extend_from_slice(self.open.unwrap_or_default());
        Ok(())
    }

    fn stream(&mut self) -> Result<Box<dyn std::io::Read + '_>, SourceError> {
        Ok(Box::new(std::io::Cursor::new(
            self.open.unwrap_or_default(),
        )))
    }
}

/// One chain of all the items, in order: each built on the one before, with the byte
/// ranges where it differs (whole lines that are not the base's).
impl ChainWalk for Blobs {
    fn chains(&self) -> usize {
        1
    }

    fn walker(&self) -> Box<dyn ChainWalker + '_> {
        Box::new(MemoryChain(self))
    }

    fn rest(&self) -> &[usize] {
        &[]
    }
}

struct MemoryChain<'m>(&'m Blobs);

impl ChainWalker for MemoryChain<'_> {
    fn walk(
        &mut self,
        _chain: usize,
        _cap: u64,
        visit: &mut Visit<'_>,
        _skipped: &mut Vec<usize>,
    ) -> Result<(), SourceError> {
        let mut memo = None;
        let mut before: &[u8] = &[];
        let mut built = std::collections::HashSet::new();
        for (index, id) in self.0.order.iter().enumerate() {
            if !built.insert(id) {
                continue; // built once, as the first item that has it
            }
            let data = self.0.blobs[id].as_slice();
            let changed = changed_ranges(before, data);
            let version = Version {
                item: Some(index),
                data,
                changed: memo.map(|_| changed.as_slice()),
            };
            match visit(version, memo) {
                Ok(m) => memo = Some(m),
                Err(Stop) => return Ok(()),
            }
            before = data;
        }
        Ok(())
    }
}

/// The lines of `new` that `old` does not have, as byte ranges.
fn changed_ranges(old: &[u8], new: &[u8]) -> Vec<Range<usize>> {
    let old_lines: Vec<&[u8]> = old.split(|&b| b == b'\n').collect();
    let mut out = Vec::new();
    let mut at = 0;
    for line in new.split(|&b| b == b'\n') {
        let end = (at + line.len() + 1).min(new.len());
        if !old_lines.contains(&line) && at < end {
            out.push(at..end);
        }
        at = end;
    }
    out
}

/// An engine over the built-in rules and forbidden files, under `config` (a `.keyward.toml`
/// text), strict or not.
fn engine(config: &str, strict: bool) -> Engine {
    let config = Config::parse(config).expect("config");
    let files = BUILTIN_FILES.iter().map(StaticFileRule::to_rule).collect();
    let policy = Policy::new(strict, true, files, Allowlist::new(Some(config)));
    Engine::new(Vec::new(), BUILTIN_RULES, policy, Size(64 << 20))
}

/// What `engine` reports for `source`: (path, rule, blocking), in order.
fn report(engine: &Engine, source: &mut Memory) -> Vec<(String, String, bool)> {
    let outcome = engine.run(source, &mut |_, _| {}).expect("runs");
    outcome
        .findings
        .iter()
        .filter(|f| f.allowed.is_none())
        .map(|f| {
            (
                String::from_utf8_lossy(&f.path).into_owned(),
                f.rule_id.clone(),
                f.blocking,
            )
        })
        .collect()
}

const MODES: [Mode; 3] = [Mode::Sequential, Mode::Workers, Mode::Chains];

/// Every feed reports the same: a key in one file, a forbidden file, a clean file, and the
/// same key at a second path where the team allows it.
#[test]
fn every_feed_reports_the_same() {
    let key = token(1);
    let with_key = format!("x = 1\nTOKEN = \"{key}\"\n");
    let files = [
        ("src/app.py", with_key.as_str()),
        ("README.md", "hello\n"),
        (".env", "DEBUG=1\n"),
        ("tests/fixtures/app.py", with_key.as_str()),
    ];
    let engine = engine("[allow]\npaths = [\"tests/fixtures/**\"]\n", false);
    let mut reports = Vec::new();
    for mode in MODES {
        let mut source = Memory::new(mode, Standing::Staged, &files);
        reports.push((mode, report(&engine, &mut source)));
    }
    let expected = vec![
        ("src/app.py".to_owned(), "kw.github.pat".to_owned(), true),
        (".env".to_owned(), "kw.file.env".to_owned(), true),
    ];
    for (mode, found) in reports {
        let mut found = found;
        found.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(found, want, "{mode:?}");
    }
}

/// A value the replaced version held is already in history: it does not block unless strict;
/// a different value does (through every feed, in a commit source and a staged one).
#[test]
fn already_in_history_only_for_the_value_history_held() {
    let (old, new) = (token(2), token(3));
    for standing in [Standing::Staged, Standing::Committed] {
        for mode in MODES {
            for strict in [false, true] {
                let files = [
                    ("a.py", format!("A = \"{old}\"\n")),
                    ("b.py", format!("B = \"{new}\"\n")),
                ];
                let files: Vec<(&str, &str)> =
                    files.iter().map(|(p, d)| (*p, d.as_str())).collect();
                let mut source = Memory::new(mode, standing, &files);
                source.reader.previous[0] = Some(format!("A = \"{old}\"\nX = 1\n").into_bytes());
                source.reader.previous[1] = Some(format!("B = \"{old}\"\n").into_bytes());
                let found = report(&engine("", strict), &mut source);
                let blocking: Vec<&str> =
                    found.iter().filter(|f| f.2).map(|f| f.0.as_str()).collect();
                let want: &[&str] = if strict { &["a.py", "b.py"] } else { &["b.py"] };
                assert_eq!(blocking, want, "{standing:?} {mode:?} strict {strict}");
            }
        }
    }
}

/// A blob at several paths is read once and judged at each: a fingerprint exception names
/// the value wherever it is; a path exception only where it applies.
#[test]
fn a_blob_at_several_paths_is_judged_at_each() {
    let key = token(4);
    let data = format!("K = \"{key}\"\n");
    let fp = crate::redact::fingerprint("kw.github.pat", key.as_bytes());
    for mode in MODES {
        let files = [
            ("one.py", data.as_str()),
            ("fixtures/two.py", data.as_str()),
            ("three.py", data.as_str()),
        ];
        let mut source = Memory::new(mode, Standing::Staged, &files);
        let by_path = engine("[allow]\npaths = [\"fixtures/**\"]\n", false);
        let found = report(&by_path, &mut source);
        let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(paths, ["one.py", "three.py"], "{mode:?}");
        let mut source = Memory::new(mode, Standing::Staged, &files);
        let by_fingerprint = engine(
            &format!("[[allow.fingerprints]]\nfingerprint = \"{fp}\"\nreason = \"test\"\n"),
            false,
        );
        assert_eq!(report(&by_fingerprint, &mut source), [], "{mode:?}");
    }
}

/// What is committed is never let through unscanned: past the cap it is streamed and
/// scanned; at a commit it is named as not scanned.
#[test]
fn past_the_cap_committed_is_scanned_staged_is_named() {
    let key = token(5);
    let mut big = "filler line\n".repeat(200);
    big.push_str(&format!("T = \"{key}\"\n"));
    let config = Config::parse("").expect("config");
    let files = BUILTIN_FILES.iter().map(StaticFileRule::to_rule).collect();
    let policy = Policy::new(false, true, files, Allowlist::new(Some(config)));
    let small_cap = Engine::new(Vec::new(), BUILTIN_RULES, policy, Size(1024));
    for (standing, kind) in [
        (Standing::Committed, Kind::Secret),
        (Standing::Staged, Kind::NotScanned),
    ] {
        let mut source = Memory::new(Mode::Sequential, standing, &[("big.txt", &big)]);
        let outcome = small_cap.run(&mut source, &mut |_, _| {}).expect("runs");
        let kinds: Vec<Kind> = outcome.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [kind], "{standing:?}");
    }
}

/// Versions built on each other are scanned where they differ: a key that stays in every
/// version is found in the first, and one added later where it was added, whatever the feed.
#[test]
fn versions_built_on_each_other_are_scanned_where_they_differ() {
    let (early, late) = (token(6), token(7));
    let v1 = format!("a = 1\nE = \"{early}\"\n");
    let v2 = format!("a = 2\nE = \"{early}\"\n");
    let v3 = format!("a = 2\nE = \"{early}\"\nL = \"{late}\"\n");
    for mode in MODES {
        let files = [
            ("f.py", v1.as_str()),
            ("f.py", v2.as_str()),
            ("f.py", v3.as_str()),
        ];
        let mut source = Memory::new(mode, Standing::Committed, &files);
        source.reader.bases = vec![None, Some(0), Some(1)];
        let outcome = engine("", false)
            .run(&mut source, &mut |_, _| {})
            .expect("runs");
        // Each key once (the committed findings are settled per value), at its first version.
        let firsts: Vec<(usize, usize)> = outcome
            .findings
            .iter()
            .map(|f| {
                (
                    f.line.unwrap_or(0),
                    f.commit.map_or(9, |c| position(&source, c.id)),
                )
            })
            .collect();
        assert_eq!(firsts, [(2, 0), (3, 2)], "{mode:?}");
    }
}

/// The item whose commit carries `id` (the memory source names each commit by its blob).
fn position(source: &Memory, id: ObjectId) -> usize {
    source
        .shared
        .order
        .iter()
        .position(|&o| o == id)
        .unwrap_or(9)
}

/// Text the source holds (messages) is scanned, in batches; no path rule applies to it.
#[test]
fn texts_are_scanned_without_path_rules() {
    let key = token(8);
    let mut items: Vec<Item> = (0..600)
        .map(|i| Item {
            place: Place::Message,
            ..Item::new(
                format!("commit {i} message").into_bytes(),
                Content::Text(format!("fix {i}\n").into_bytes().into()),
            )
        })
        .collect();
    items.push(Item {
        place: Place::Message,
        ..Item::new(
            b".env".to_vec(),
            Content::Text(format!("pasted {key}\n").into_bytes().into()),
        )
    });
    let n = items.len();
    let mut source = Memory::new(Mode::Sequential, Standing::Committed, &[]);
    source.items = items;
    source.reader.previous = vec![None; n];
    source.reader.bases = vec![None; n];
    let outcome = engine("", false)
        .run(&mut source, &mut |_, _| {})
        .expect("runs");
    let found: Vec<(Kind, &[u8])> = outcome
        .findings
        .iter()
        .map(|f| (f.kind, f.path.as_slice()))
        .collect();
    assert_eq!(found, [(Kind::Secret, &b".env"[..])]);
    assert_eq!(outcome.scanned, n);
}
