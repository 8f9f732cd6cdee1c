//! Reading the blobs of a history scan straight from the pack files, along their delta chains.
//!
//! Read one by one, every version of a file is rebuilt from its chain of deltas, again and
//! again: that costs more than scanning it, and more than `git log -p` spends. Walked as the
//! trees the deltas form, each object is built once from its base, which stays in memory while
//! the objects built on it are visited. The delta also says what a version adds to its base:
//! the lines it inserts or splices are the only ones that can hold something the base did not,
//! so a scan can look at those alone.
//!
//! Objects outside the packs (loose objects, alternates, bases missing from a thin pack) and
//! versions above the size cap are left to the one-by-one reader.
//!
//! Here: the packs opened and their entries read; [`plan()`] (the wanted blobs as delta trees,
//! walked), [`reader`] (objects one by one, from the nearest one kept), `stream` (an entry
//! inflated within limits a hostile pack cannot stretch), `delta` (git's delta format).

mod delta;
pub(crate) mod plan;
pub(crate) mod reader;
mod stream;

pub(crate) use plan::{plan, Job, Plan, Version};
pub(crate) use reader::Reader;
pub(crate) use stream::{build, inflate};

use gix::odb::pack;
use gix::zlib::Decompress;
use std::ops::Range;
use std::path::Path;

/// Errors reading pack files.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// A pack or its index could not be opened or read.
    #[error("cannot read pack {path}: {message}")]
    Read {
        /// The pack file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An entry is malformed: a size it cannot hold, a delta that does not fit its base,
    /// chains that loop.
    #[error("corrupt pack {path}: {message}")]
    Corrupt {
        /// The pack file.
        path: String,
        /// Which entry (by offset) and what is wrong with it.
        message: String,
    },
}

/// What is wrong with one pack entry. Every size an entry or a delta declares is checked
/// against the bytes that can back it and against a limit before memory is set aside for it,
/// and buffers grow only as bytes actually arrive: whatever an entry claims, memory stays
/// within about twice the largest object actually built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Malformed {
    /// More bytes than the compressed bytes left in the pack could inflate to.
    #[error("declares {declared} bytes, more than the {left} bytes left in the pack can hold")]
    Impossible {
        /// The size the entry declares.
        declared: u64,
        /// Compressed bytes from the entry's data to the end of the pack.
        left: u64,
    },
    /// More bytes than the reader's limit for the object.
    #[error("declares {declared} bytes, over the limit of {limit}")]
    OverLimit {
        /// The size the entry declares.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// The zlib stream is malformed or cut short.
    #[error("has a broken zlib stream after {inflated} of its {declared} bytes")]
    Zlib {
        /// The size the entry declares.
        declared: u64,
        /// Bytes inflated before the stream broke.
        inflated: u64,
    },
    /// The stream ends before the declared size.
    #[error("inflates to {inflated} bytes, not the {declared} it declares")]
    Short {
        /// The size the entry declares.
        declared: u64,
        /// Bytes the stream held.
        inflated: u64,
    },
    /// The stream goes on past the declared size.
    #[error("inflates past the {declared} bytes it declares")]
    Long {
        /// The size the entry declares.
        declared: u64,
    },
    /// A delta without its two size fields.
    #[error("is a delta without a valid size header")]
    DeltaHeader,
    /// A delta for another base.
    #[error("is a delta for a base of {declared} bytes, but its base has {actual}")]
    BaseSize {
        /// The base size the delta declares.
        declared: u64,
        /// The size of the base it is applied to.
        actual: u64,
    },
    /// More delta instructions than any delta building the declared result could hold.
    #[error("is a delta of {delta} bytes, more than any delta building {result} bytes holds")]
    DeltaTooLong {
        /// The delta's size.
        delta: u64,
        /// The result size it declares.
        result: u64,
    },
    /// An instruction that writes past the declared result size.
    #[error(
        "is a delta whose instruction at byte {at} writes past its declared {declared}-byte result"
    )]
    Overflow {
        /// The instruction's offset in the delta.
        at: usize,
        /// The result size the delta declares.
        declared: u64,
    },
    /// An instruction that copies from outside the base.
    #[error("is a delta whose instruction at byte {at} copies outside its {base}-byte base")]
    CopyOutside {
        /// The instruction's offset in the delta.
        at: usize,
        /// The base's size.
        base: u64,
    },
    /// An insert instruction longer than the rest of the delta, or the reserved opcode 0.
    #[error("is a delta whose instruction at byte {at} is truncated or reserved")]
    BadInstruction {
        /// The instruction's offset in the delta.
        at: usize,
    },
    /// The instructions build less than the declared result.
    #[error("is a delta that builds {built} bytes, not the {declared} it declares")]
    ResultShort {
        /// The result size the delta declares.
        declared: u64,
        /// What the instructions built.
        built: u64,
    },
}

/// Memory for the objects a thread keeps while it walks down a delta chain.
const CHAIN_BYTES: usize = 256 << 20;

/// Longer chains than git ever writes (its maximum depth is 4095) mean a loop in a corrupt pack.
const MAX_CHAIN: usize = 10_000;

/// The pack files of a repository's object directory, opened (mapped) once.
pub(crate) struct Packs {
    list: Vec<Pack>,
}

struct Pack {
    index: pack::index::File,
    data: pack::data::File,
}

impl Packs {
    /// Opens every pack (with its index) in the repository's object directory.
    pub(crate) fn open(repo: &gix::Repository) -> Result<Packs, PackError> {
        Packs::open_dir(repo.objects.store_ref().path(), repo.object_hash())
    }

    /// Opens every pack (with its index) in object directory `objects` (its alternates are
    /// not followed): a push's quarantine (see [`crate::git::quarantine`]).
    pub(crate) fn open_dir(objects: &Path, hash: gix::hash::Kind) -> Result<Packs, PackError> {
        let dir = objects.join("pack");
        let entries: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        let mut indexes: Vec<_> = entries
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "idx"))
            .collect();
        indexes.sort();
        let mut list = Vec::new();
        for idx in indexes {
            let data_path = idx.with_extension("pack");
            if !data_path.exists() {
                continue;
            }
            list.push(Pack {
                index: pack::index::File::at(&idx, hash).map_err(|e| read_err(&idx, e))?,
                data: pack::data::File::at(&data_path, hash)
                    .map_err(|e| read_err(&data_path, e))?,
            });
        }
        Ok(Packs { list })
    }

    /// The pack holding `id` and the object's offset in it.
    fn locate(&self, id: &gix::oid) -> Option<(usize, u64)> {
        self.list.iter().enumerate().find_map(|(p, pack)| {
            let entry = pack.index.lookup(id)?;
            Some((p, pack.index.pack_offset_at_index(entry)))
        })
    }
}

impl Pack {
    fn read_err(&self, e: impl std::fmt::Display) -> PackError {
        read_err(self.data.path(), e)
    }

    /// An error naming the entry at `offset` and what is wrong with it.
    fn corrupt(&self, offset: u64, what: impl std::fmt::Display) -> PackError {
        PackError::Corrupt {
            path: self.data.path().display().to_string(),
            message: format!("the object at offset {offset} {what}"),
        }
    }

    fn entry(&self, offset: u64) -> Result<pack::data::Entry, PackError> {
        self.data.entry(offset).map_err(|e| self.read_err(e))
    }

    /// How the object at `entry` is stored.
    fn link(&self, entry: &pack::data::Entry) -> Result<Link, PackError> {
        Ok(match entry.header {
            pack::data::entry::Header::OfsDelta { base_distance } => Link::Delta(
                entry
                    .checked_base_pack_offset(base_distance)
                    .ok_or_else(|| {
                        self.corrupt(
                            entry.pack_offset(),
                            "is a delta whose base lies outside the pack",
                        )
                    })?,
            ),
            pack::data::entry::Header::RefDelta { base_id } => match self.index.lookup(base_id) {
                Some(e) => Link::Delta(self.index.pack_offset_at_index(e)),
                None => Link::Outside,
            },
            header => Link::Whole(
                header
                    .as_kind()
                    .ok_or_else(|| self.corrupt(entry.pack_offset(), "has an unknown type"))?,
            ),
        })
    }

    /// The compressed bytes of `entry`, to the end of the pack (where its stream ends is
    /// known only once it is inflated).
    fn input(&self, entry: &pack::data::Entry) -> &[u8] {
        self.data
            .entry_slice(entry.data_offset..self.data.pack_end() as u64)
            .unwrap_or_default()
    }

    /// The object stored whole at `entry`; `None` when it declares more than `limit` bytes.
    fn whole(
        &self,
        entry: &pack::data::Entry,
        z: &mut Decompress,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, PackError> {
        inflate(z, self.input(entry), entry.decompressed_size, limit)
            .map(|built| built.map(|(data, _)| data))
            .map_err(|m| self.corrupt(entry.pack_offset(), m))
    }

    /// The object the delta at `entry` builds from `base`, with what it changes (see
    /// [`delta::apply`]); `None` when it would be larger than `limit`. `delta` is scratch space.
    fn build(
        &self,
        entry: &pack::data::Entry,
        base: &[u8],
        limit: u64,
        z: &mut Decompress,
        delta: &mut Vec<u8>,
        changed: &mut Vec<Range<usize>>,
    ) -> Result<Option<Vec<u8>>, PackError> {
        let input = self.input(entry);
        build(
            z,
            input,
            entry.decompressed_size,
            base,
            limit,
            delta,
            changed,
        )
        .map(|built| built.map(|(data, _)| data))
        .map_err(|m| self.corrupt(entry.pack_offset(), m))
    }
}
/// How a pack stores an object.
enum Link {
    /// Whole, as an object of this kind.
    Whole(gix::objs::Kind),
    /// As a delta against the object at this offset.
    Delta(u64),
    /// As a delta against an object this pack does not hold (a thin pack's).
    Outside,
}

fn read_err(path: &Path, e: impl std::fmt::Display) -> PackError {
    PackError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::delta::{apply, size};
    use super::*;
    use crate::scan::windows::changed_lines;

    /// A delta in git's format: sizes, then `ops` (`Ok` copies `from..to` of the base,
    /// `Err` inserts the bytes).
    fn delta(base: &[u8], ops: &[Result<Range<usize>, &[u8]>]) -> (Vec<u8>, usize) {
        let mut d = Vec::new();
        let varint = |mut n: usize, d: &mut Vec<u8>| loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                d.push(b);
                break;
            }
            d.push(b | 0x80);
        };
        let len: usize = ops
            .iter()
            .map(|o| match o {
                Ok(r) => r.len(),
                Err(b) => b.len(),
            })
            .sum();
        varint(base.len(), &mut d);
        varint(len, &mut d);
        for op in ops {
            match op {
                Ok(r) => {
                    d.push(0x80 | 0x01 | 0x02 | 0x10 | 0x20);
                    d.extend_from_slice(&(r.start as u16).to_le_bytes());
                    d.extend_from_slice(&(r.len() as u16).to_le_bytes());
                }
                Err(bytes) => {
                    d.push(bytes.len() as u8);
                    d.extend_from_slice(bytes);
                }
            }
        }
        (d, len)
    }

    fn build(base: &[u8], ops: &[Result<Range<usize>, &[u8]>]) -> (Vec<u8>, Vec<Range<usize>>) {
        let (d, len) = delta(base, ops);
        let (b, rest) = size(&d).expect("base size");
        let (l, ops) = size(rest).expect("result size");
        assert_eq!((b, l), (base.len() as u64, len as u64));
        let (mut out, mut changed) = (Vec::new(), Vec::new());
        apply(base, ops, len, &mut out, &mut changed).expect("a valid delta");
        (out, changed)
    }

    #[test]
    fn a_delta_builds_its_target_and_marks_what_is_new() {
        let base = b"one\ntwo\nthree\nfour\nfive\n";
        // "one\ntwo\n" + "TWO\n" + "three\nfour\nfive\n"
        let (out, changed) = build(base, &[Ok(0..8), Err(b"TWO\n"), Ok(8..24)]);
        assert_eq!(out, b"one\ntwo\nTWO\nthree\nfour\nfive\n");
        // The inserted line, and the ends of the two copied runs.
        assert_eq!(changed, vec![0..1, 7..13, 27..28]);
        let lines = changed_lines(&out, &changed);
        // Every line here is within one line of a mark.
        assert_eq!(lines, vec![0..28]);
    }

    #[test]
    fn adjoining_copies_are_one_run() {
        let base = b"a\nb\nc\nd\ne\nf\ng\nh\n";
        let (out, changed) = build(base, &[Ok(0..6), Ok(6..16)]);
        assert_eq!(out, base);
        assert_eq!(changed, vec![0..1, 15..16]);
        // The first and last lines and their neighbours; the middle ones are the base's.
        assert_eq!(changed_lines(&out, &changed), vec![0..3, 12..16]);
    }

    #[test]
    fn lines_spliced_from_two_places_are_changed() {
        let base = b"key = \nvalue\n";
        // "key = value\n" is on no line of the base: both runs' ends mark it.
        let (out, changed) = build(base, &[Ok(0..6), Ok(7..13)]);
        assert_eq!(out, b"key = value\n");
        assert_eq!(changed_lines(&out, &changed), vec![0..12]);
    }

    #[test]
    fn malformed_deltas_are_refused_at_the_instruction() {
        use Malformed::*;
        let base = b"abcdef";
        for (ops, len, want) in [
            // Copy past the base's end.
            (&[0x91, 0x00, 0x09][..], 9, CopyOutside { at: 0, base: 6 }),
            // An insert longer than the delta; the reserved op 0.
            (&[0x05, b'x'], 5, BadInstruction { at: 0 }),
            (&[0x01, b'x', 0x00], 2, BadInstruction { at: 2 }),
            // A copy whose offset bytes are missing.
            (&[0x83, 0x00], 3, BadInstruction { at: 0 }),
            // The second instruction writes past the declared 4 bytes; a copy of 3 past 2.
            (
                &[0x03, b'x', b'y', b'z', 0x02, b'u', b'v'],
                4,
                Overflow { at: 4, declared: 4 },
            ),
            (&[0x90, 0x03], 2, Overflow { at: 0, declared: 2 }),
            // Fewer bytes than declared.
            (
                &[0x02, b'x', b'y'],
                3,
                ResultShort {
                    declared: 3,
                    built: 2,
                },
            ),
        ] {
            let (mut out, mut changed) = (Vec::new(), Vec::new());
            assert_eq!(
                apply(base, ops, len, &mut out, &mut changed),
                Err(want),
                "{ops:?}"
            );
            assert!(out.len() <= len, "{ops:?} wrote past its size");
        }
        assert!(size(&[0x80; 12]).is_none());
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut w =
            gix::zlib::stream::deflate::Write::new(Vec::new(), gix::zlib::Compression::BEST);
        w.write_all(data).expect("deflate");
        w.flush().expect("deflate");
        w.into_inner()
    }

    #[test]
    fn sizes_are_checked_before_anything_is_allocated() {
        use Malformed::*;
        let mut z = Decompress::default();
        let stream = zlib(b"hello, world");
        let mut padded = stream.clone();
        padded.extend_from_slice(b"the next entry");
        // What the stream holds, with or without more pack after it.
        for input in [&stream, &padded] {
            let (data, used) = inflate(&mut z, input, 12, 100)
                .expect("valid")
                .expect("under the limit");
            assert_eq!(
                (data.as_slice(), used),
                (&b"hello, world"[..], stream.len())
            );
        }
        // Over the limit: not read.
        assert_eq!(inflate(&mut z, &stream, 12, 11), Ok(None));
        // 2^44 bytes from 20 compressed bytes: refused before any allocation.
        assert_eq!(
            inflate(&mut z, &stream, 1 << 44, u64::MAX),
            Err(Impossible {
                declared: 1 << 44,
                left: stream.len() as u64
            })
        );
        assert_eq!(
            inflate(&mut z, &stream, 13, 100),
            Err(Short {
                declared: 13,
                inflated: 12
            })
        );
        assert_eq!(
            inflate(&mut z, &stream, 11, 100),
            Err(Long { declared: 11 })
        );
        // Longer than zlib's fast loop needs room for (260 bytes): exact, short, long.
        let text: Vec<u8> = (0..5_000u32)
            .flat_map(|i| i.to_string().into_bytes())
            .collect();
        let long = zlib(&text);
        let n = text.len() as u64;
        let (data, used) = inflate(&mut z, &long, n, n).expect("valid").expect("fits");
        assert_eq!((data, used), (text.clone(), long.len()));
        assert_eq!(
            inflate(&mut z, &long, n + 1, n + 1),
            Err(Short {
                declared: n + 1,
                inflated: n
            })
        );
        assert_eq!(
            inflate(&mut z, &long, n - 1, n),
            Err(Long { declared: n - 1 })
        );
        assert!(matches!(
            inflate(&mut z, &stream[..stream.len() - 3], 12, 100),
            Err(Zlib { .. })
        ));
        assert!(matches!(
            inflate(&mut z, b"not zlib at all", 5, 100),
            Err(Zlib { .. })
        ));
    }

    #[test]
    fn a_delta_is_checked_before_its_instructions_are_inflated() {
        use Malformed::*;
        let mut z = Decompress::default();
        let base = vec![b'a'; 0x10000];
        let (mut scratch, mut changed) = (Vec::new(), Vec::new());
        let mut build_with = |sizes: &[u8], ops: &[u8], limit: u64| {
            let mut d = sizes.to_vec();
            d.extend_from_slice(ops);
            let input = zlib(&d);
            super::build(
                &mut z,
                &input,
                d.len() as u64,
                &base,
                limit,
                &mut scratch,
                &mut changed,
            )
            .map(|b| b.map(|(data, _)| data.len()))
        };
        // 0x10000 as a delta size: 0x80 0x80 0x04.
        let base_size = [0x80, 0x80, 0x04];
        let sizes = |result: &[u8]| [&base_size[..], result].concat();
        // Four 64 KiB copies, declared as such.
        assert_eq!(
            build_with(&sizes(&[0x80, 0x80, 0x10]), &[0x80; 4], 1 << 20),
            Ok(Some(0x40000))
        );
        // Over the limit: not built.
        assert_eq!(
            build_with(&sizes(&[0x80, 0x80, 0x10]), &[0x80; 4], 1000),
            Ok(None)
        );
        // For another base.
        assert_eq!(
            build_with(&[0x05, 0x01], &[0x01, b'x'], 100),
            Err(BaseSize {
                declared: 5,
                actual: 0x10000
            })
        );
        // 65,536 copies of 64 KiB (4 GiB) declared as 100 bytes: more instructions than 100
        // bytes can need, refused before they are inflated.
        assert_eq!(
            build_with(&sizes(&[100]), &[0x80; 65_536], 1 << 20),
            Err(DeltaTooLong {
                delta: 65_540,
                result: 100
            })
        );
        // Declared as 600,000 bytes: the tenth copy would write past them.
        assert_eq!(
            build_with(&sizes(&[0xc0, 0xcf, 0x24]), &[0x80; 65_536], 1 << 20),
            Err(Overflow {
                at: 6 + 9,
                declared: 600_000
            })
        );
        assert_eq!(build_with(&[0x80], &[], 100), Err(DeltaHeader));
    }
}
