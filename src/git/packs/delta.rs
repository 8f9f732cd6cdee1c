//! Git's delta format: a base and instructions to copy from it or insert, and what a delta
//! says about the lines it changes.

use super::Malformed;
use std::ops::Range;

/// A size at the start of a delta (little-endian base-128) and the bytes after it.
pub(super) fn size(d: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in d.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &d[i + 1..]));
        }
    }
    None
}

/// Applies git delta instructions `ops` to `base`, appending the result to `out` and the
/// ranges of it that are not whole lines of `base` to `changed` (see [`super::Version::changed`]):
/// inserted bytes, and the ends of each run copied from one place. Consecutive copies of
/// adjoining source bytes count as one run. The result must be `len` bytes: an instruction
/// that would write past it fails before it writes. Errors give instructions' offsets in `ops`.
pub(super) fn apply(
    base: &[u8],
    ops: &[u8],
    len: usize,
    out: &mut Vec<u8>,
    changed: &mut Vec<Range<usize>>,
) -> Result<(), Malformed> {
    // The run being copied: where it starts in `out` and where its source ends in `base`.
    let mut run: Option<(usize, usize)> = None;
    let end_run =
        |run: &mut Option<(usize, usize)>, out: &[u8], changed: &mut Vec<_>| match run.take() {
            Some((start, _)) if out.len() > start => {
                mark(changed, start..start + 1);
                mark(changed, out.len() - 1..out.len());
            }
            _ => {}
        };
    let start = out.len();
    let mut i = 0;
    while let Some(&op) = ops.get(i) {
        let at = i;
        let overflow = |n: usize, out: &[u8]| {
            if out.len() - start + n > len {
                Err(Malformed::Overflow {
                    at,
                    declared: len as u64,
                })
            } else {
                Ok(())
            }
        };
        i += 1;
        if op & 0x80 != 0 {
            let mut field = |bits: u8, shift: u32, value: &mut usize| -> Result<(), Malformed> {
                if op & bits != 0 {
                    let byte = ops.get(i).ok_or(Malformed::BadInstruction { at })?;
                    *value |= usize::from(*byte) << shift;
                    i += 1;
                }
                Ok(())
            };
            let (mut from, mut n) = (0usize, 0usize);
            field(0x01, 0, &mut from)?;
            field(0x02, 8, &mut from)?;
            field(0x04, 16, &mut from)?;
            field(0x08, 24, &mut from)?;
            field(0x10, 0, &mut n)?;
            field(0x20, 8, &mut n)?;
            field(0x40, 16, &mut n)?;
            if n == 0 {
                n = 0x10000;
            }
            let source = from
                .checked_add(n)
                .and_then(|end| base.get(from..end))
                .ok_or(Malformed::CopyOutside {
                    at,
                    base: base.len() as u64,
                })?;
            overflow(n, out)?;
            match run {
                Some((_, source_end)) if source_end == from => {}
                _ => {
                    end_run(&mut run, out, changed);
                    run = Some((out.len(), 0));
                }
            }
            if let Some(r) = run.as_mut() {
                r.1 = from + n;
            }
            out.extend_from_slice(source);
        } else if op != 0 {
            let n = usize::from(op);
            let bytes = ops.get(i..i + n).ok_or(Malformed::BadInstruction { at })?;
            overflow(n, out)?;
            end_run(&mut run, out, changed);
            i += n;
            mark(changed, out.len()..out.len() + n);
            out.extend_from_slice(bytes);
        } else {
            return Err(Malformed::BadInstruction { at });
        }
    }
    end_run(&mut run, out, changed);
    if out.len() - start != len {
        return Err(Malformed::ResultShort {
            declared: len as u64,
            built: (out.len() - start) as u64,
        });
    }
    Ok(())
}

/// Adds `range` to the sorted list `changed`, merging it with the last one where they touch.
fn mark(changed: &mut Vec<Range<usize>>, range: Range<usize>) {
    match changed.last_mut() {
        Some(last) if last.end >= range.start => last.end = last.end.max(range.end),
        _ => changed.push(range),
    }
}
