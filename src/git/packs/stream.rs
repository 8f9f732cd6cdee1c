//! A pack entry inflated as it is read, within limits that a hostile pack cannot stretch.

use super::delta::{apply, size};
use super::Malformed;
use gix::zlib::Decompress;
use std::ops::Range;

/// The most one compressed byte can inflate to: deflate's longest match, 258 bytes, costs at
/// least two bits (1032 bytes per byte); the zlib header and checksum only lower the ratio.
const MAX_INFLATE_RATIO: u64 = 1032;

/// Buffers start this large (or at the declared size, when smaller) and then double as bytes
/// arrive, so a size an entry merely claims sets nothing aside: the typical object (all but
/// the largest source files) is inflated in one step into a buffer of its declared size.
const FIRST_CHUNK: usize = 1 << 20;

/// The longest a delta instruction is per byte it builds: a copy takes at most 8 bytes (the
/// opcode, 4 of offset, 3 of length) and builds at least one; an insert takes one more byte
/// than it builds.
const MAX_DELTA_BYTES_PER_BYTE: u64 = 8;

/// Checks the `declared` size of an entry whose compressed data is `left` bytes at most:
/// `Ok(false)` when it is over `limit`, an error when no stream that short could hold it.
fn claim(declared: u64, left: usize, limit: u64) -> Result<bool, Malformed> {
    let left = left as u64;
    if declared > left.saturating_mul(MAX_INFLATE_RATIO) {
        return Err(Malformed::Impossible { declared, left });
    }
    Ok(declared <= limit)
}

/// Room given past an object's declared size. zlib's fast loop runs only while 260 bytes of
/// output room remain, and inflates byte by byte through a state machine after that: an
/// object inflated into a buffer of exactly its size (a commit, a delta of a few lines) went
/// all the way through the slow path. With the slack the fast loop inflates every byte (on
/// the history bench: the listing's reads 415 → 356 million instructions, the delta walk
/// 1.31 → 1.25 billion); a stream that writes into the slack is longer than declared (an
/// error, as before).
const SLACK: usize = 272;

/// A zlib stream that must inflate to exactly `declared` bytes.
pub(super) struct Stream<'a> {
    z: &'a mut Decompress,
    input: &'a [u8],
    used: usize,
    declared: usize,
    ended: bool,
}

impl<'a> Stream<'a> {
    fn new(z: &'a mut Decompress, input: &'a [u8], declared: usize) -> Self {
        z.reset();
        Stream {
            z,
            input,
            used: 0,
            declared,
            ended: false,
        }
    }

    /// Inflates into `out` until it holds `upto` bytes (at most the declared size), growing
    /// it by at most what it already holds (or [`FIRST_CHUNK`]) at a time.
    fn fill(&mut self, out: &mut Vec<u8>, upto: usize) -> Result<(), Malformed> {
        let upto = upto.min(self.declared);
        while out.len() < upto {
            if self.ended {
                return Err(Malformed::Short {
                    declared: self.declared as u64,
                    inflated: out.len() as u64,
                });
            }
            let filled = out.len();
            let room = filled.max(FIRST_CHUNK).min(upto - filled);
            // The step that reaches the declared size gets [`SLACK`] bytes more of room.
            let slack = if filled + room == self.declared {
                SLACK
            } else {
                0
            };
            out.resize(filled + room + slack, 0);
            let (made, status) = self.step(&mut out[filled..]);
            out.truncate(filled + made);
            if out.len() > self.declared {
                return Err(Malformed::Long {
                    declared: self.declared as u64,
                });
            }
            self.check(status, out.len())?;
        }
        Ok(())
    }

    /// One call into zlib: bytes written, and whether the stream ended (`None`: it failed
    /// or could make no progress).
    fn step(&mut self, out: &mut [u8]) -> (usize, Option<bool>) {
        let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
        let input = self.input.get(self.used..).unwrap_or_default();
        let status = self
            .z
            .decompress(input, out, gix::zlib::FlushDecompress::None);
        let used = (self.z.total_in() - in_before) as usize;
        let made = (self.z.total_out() - out_before) as usize;
        self.used += used;
        let status = match status {
            Ok(gix::zlib::Status::StreamEnd) => Some(true),
            Ok(_) if used + made > 0 => Some(false),
            _ => None,
        };
        (made, status)
    }

    fn check(&mut self, status: Option<bool>, inflated: usize) -> Result<(), Malformed> {
        match status {
            Some(ended) => {
                self.ended = ended;
                Ok(())
            }
            None => Err(Malformed::Zlib {
                declared: self.declared as u64,
                inflated: inflated as u64,
            }),
        }
    }

    /// Checks that the stream ends at the declared size; the compressed bytes it took.
    fn finish(mut self, inflated: usize) -> Result<usize, Malformed> {
        if inflated < self.declared {
            return Err(Malformed::Short {
                declared: self.declared as u64,
                inflated: inflated as u64,
            });
        }
        let mut probe = [0u8; 1];
        while !self.ended {
            let (made, status) = self.step(&mut probe);
            if made > 0 {
                return Err(Malformed::Long {
                    declared: self.declared as u64,
                });
            }
            self.check(status, inflated)?;
        }
        Ok(self.used)
    }
}

/// Inflates the zlib stream at the start of `input` (an entry's data, to the end of the
/// pack), which must hold exactly `declared` bytes: the bytes and the compressed bytes they
/// took; `None` when `declared` is over `limit`.
pub(crate) fn inflate(
    z: &mut Decompress,
    input: &[u8],
    declared: u64,
    limit: u64,
) -> Result<Option<(Vec<u8>, usize)>, Malformed> {
    if !claim(declared, input.len(), limit)? {
        return Ok(None);
    }
    let declared = usize::try_from(declared).map_err(|_| Malformed::OverLimit {
        declared,
        limit: usize::MAX as u64,
    })?;
    let mut stream = Stream::new(z, input, declared);
    let mut out = Vec::new();
    stream.fill(&mut out, declared)?;
    let used = stream.finish(out.len())?;
    Ok(Some((out, used)))
}

/// Builds the object that the delta entry at the start of `input` (declaring `declared`
/// bytes of instructions) makes of `base`, recording in `changed` what it changes (see
/// [`apply`]): the object and the compressed bytes the delta took; `None` when the object
/// would be larger than `limit`. The result size the delta declares is checked before the
/// instructions are inflated, and each instruction before it writes. `delta` is scratch space.
pub(crate) fn build(
    z: &mut Decompress,
    input: &[u8],
    declared: u64,
    base: &[u8],
    limit: u64,
    delta: &mut Vec<u8>,
    changed: &mut Vec<Range<usize>>,
) -> Result<Option<(Vec<u8>, usize)>, Malformed> {
    // The instructions are at most as long as the largest result allowed can need.
    let instructions_limit = limit
        .saturating_mul(MAX_DELTA_BYTES_PER_BYTE)
        .saturating_add(20);
    if !claim(declared, input.len(), instructions_limit)? {
        return Ok(None);
    }
    let declared_len = usize::try_from(declared).map_err(|_| Malformed::OverLimit {
        declared,
        limit: usize::MAX as u64,
    })?;
    let mut stream = Stream::new(z, input, declared_len);
    delta.clear();
    // The two sizes, 10 bytes each at most, come first: checked before a long delta is
    // inflated whole (a short one, the most common, is inflated at once: in two steps, the
    // first would take zlib's slow path).
    stream.fill(
        delta,
        if declared_len <= 1 << 16 {
            declared_len
        } else {
            20
        },
    )?;
    let (base_len, rest) = size(delta).ok_or(Malformed::DeltaHeader)?;
    let (len, rest) = size(rest).ok_or(Malformed::DeltaHeader)?;
    let header = delta.len() - rest.len();
    if base_len != base.len() as u64 {
        return Err(Malformed::BaseSize {
            declared: base_len,
            actual: base.len() as u64,
        });
    }
    if len > limit {
        return Ok(None);
    }
    let most = (header as u64).saturating_add(len.saturating_mul(MAX_DELTA_BYTES_PER_BYTE));
    if declared > most {
        return Err(Malformed::DeltaTooLong {
            delta: declared,
            result: len,
        });
    }
    stream.fill(delta, declared_len)?;
    let used = stream.finish(delta.len())?;
    let len = usize::try_from(len).map_err(|_| Malformed::OverLimit {
        declared: len,
        limit: usize::MAX as u64,
    })?;
    let ops = &delta[header..];
    // Most deltas build about their base plus what they insert; more is reserved as built.
    let mut out = Vec::with_capacity(len.min(base.len().saturating_add(ops.len())));
    changed.clear();
    apply(base, ops, len, &mut out, changed).map_err(|e| match e {
        Malformed::Overflow { at, declared } => Malformed::Overflow {
            at: at + header,
            declared,
        },
        Malformed::CopyOutside { at, base } => Malformed::CopyOutside {
            at: at + header,
            base,
        },
        Malformed::BadInstruction { at } => Malformed::BadInstruction { at: at + header },
        other => other,
    })?;
    Ok(Some((out, used)))
}
