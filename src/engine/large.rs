//! Blobs too large to hold whole: read from a stream and scanned in windows that overlap, so
//! that memory follows the window, not the blob (`--max-file-size 2g` and a 1 GB file), and
//! no key is missed where one window ends and the next begins.

use super::{Engine, Error, Processed};
use crate::model::Item;
use crate::scan::{BlobScan, Reading};
use crate::source::SourceError;
use std::io::Read;

/// Blobs larger than this are read in windows when their source can stream them. The default
/// size cap: only a cap raised above it lets such a blob be scanned at all.
pub(crate) const STREAM_FROM: u64 = crate::settings::DEFAULT_MAX_FILE_SIZE.0;

/// The bytes scanned at once.
pub(crate) const WINDOW: usize = 16 << 20;

/// What each window shares with the next: far more than the longest key or PEM block, so
/// a match that starts in one window ends in the next one whole.
const OVERLAP: usize = 1 << 20;

impl Engine {
    /// [`Engine::process`] for a blob read from `stream`, `size` bytes long, in windows of
    /// 16 MiB that overlap by 1 MiB and start at line starts, so lines and columns stay true.
    /// Each match is kept by the window where it starts before the overlap (or by the last
    /// window). How the blob is read (text, binary, UTF-16) is decided by its first window,
    /// as for a blob read whole; the forbidden-file rules see that first window.
    pub(crate) fn process_stream(
        &self,
        index: usize,
        item: &Item,
        stream: &mut dyn Read,
        size: u64,
    ) -> Result<Processed, Error> {
        let unreadable = |error: std::io::Error| -> Error {
            SourceError::read(crate::redact::escape(&item.path), error).into()
        };
        let mut window: Vec<u8> = Vec::with_capacity(WINDOW.min(size as usize));
        let mut offset = 0usize; // where `window` starts in the blob
        let mut lines = 0usize; // lines before it
        let mut findings = Vec::new();
        let mut reading = None;
        let mut scan = BlobScan {
            binary: false,
            candidates: Vec::new(),
            multiline: false,
        };
        loop {
            let room = WINDOW - window.len();
            let before = window.len();
            let read = (&mut *stream)
                .take(room as u64)
                .read_to_end(&mut window)
                .map_err(unreadable)?;
            let last = window.len() - before < room || read == 0;
            let how = *reading.get_or_insert_with(|| Reading::of(&window));
            if offset == 0 {
                findings.extend(self.policy.forbidden(item, Some(&window))?);
            }
            // A UTF-16 window after the first carries no byte-order mark; the first decides.
            let part = self.scanner.examine(&item.path, &window, None, how)?;
            let keep = if last {
                window.len()
            } else {
                cut(&window, how)
            };
            scan.binary = how == Reading::Binary;
            scan.multiline |= part.multiline;
            for mut c in part.candidates {
                if c.span.start >= keep {
                    continue;
                }
                c.span = c.span.start + offset..c.span.end + offset;
                c.line += lines;
                scan.candidates.push(c);
            }
            if last {
                break;
            }
            lines += count_lines(&window[..keep], how);
            offset += keep;
            window.drain(..keep);
        }
        if offset as u64 + window.len() as u64 != size {
            let short = std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{} bytes read of {size}", offset + window.len()),
            );
            return Err(unreadable(short));
        }
        Ok(Processed {
            index,
            findings,
            scan: Some(scan),
            data: None,
            dockerfile: None,
        })
    }
}

/// Where a full window hands over to the next: the start of the last line that begins
/// before the overlap (or the overlap itself, in a window without a line break there). A
/// UTF-16 window is cut after a line break code unit, at an even offset.
fn cut(window: &[u8], how: Reading) -> usize {
    let end = window.len() - OVERLAP;
    let at = match how {
        Reading::Utf16 { little } => {
            let unit: [u8; 2] = if little { [b'\n', 0] } else { [0, b'\n'] };
            (0..end / 2)
                .rev()
                .map(|i| i * 2)
                .find(|&i| window[i..i + 2] == unit)
                .map(|i| i + 2)
        }
        _ => memchr::memrchr(b'\n', &window[..end]).map(|i| i + 1),
    };
    at.filter(|&at| at > 0).unwrap_or(end & !1)
}

/// The line breaks in `data` as the window is read.
fn count_lines(data: &[u8], how: Reading) -> usize {
    match how {
        Reading::Utf16 { little } => {
            let unit: [u8; 2] = if little { [b'\n', 0] } else { [0, b'\n'] };
            data.chunks_exact(2).filter(|u| **u == unit).count()
        }
        _ => memchr::memchr_iter(b'\n', data).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_cut_at_line_starts_and_even_offsets() {
        let mut text = vec![b'a'; WINDOW];
        text[100] = b'\n';
        assert_eq!(cut(&text, Reading::Text), 101);
        let plain = vec![b'a'; WINDOW];
        assert_eq!(cut(&plain, Reading::Text), WINDOW - OVERLAP);
        let mut wide = vec![0u8; WINDOW];
        wide[200] = b'\n';
        assert_eq!(cut(&wide, Reading::Utf16 { little: true }), 202);
        assert_eq!(
            count_lines(&wide[..202], Reading::Utf16 { little: true }),
            1
        );
    }
}
