//! Loose objects read on any thread. What `git add` writes is loose (one zlib file per
//! object under `objects/xx/`), and gix's object database handle stays on one thread: a
//! commit of 2,000 new files was inflated by one core while the other waited. This reader is
//! plain data (the objects directory), so every worker reads and inflates its own blobs;
//! what it does not find (packed objects, alternates) the caller reads through gix.

use super::GitError;
#[cfg(test)]
use super::ReadBlob;
use gix::ObjectId;
use std::io::Read;
use std::path::PathBuf;

/// The loose objects of one object directory.
#[derive(Debug, Clone)]
pub(crate) struct Loose {
    dir: PathBuf,
}

/// Buffers a thread reuses from one object to the next.
#[derive(Default)]
pub(crate) struct Scratch {
    inflate: gix::zlib::Inflate,
    compressed: Vec<u8>,
    /// The first inflated bytes: `blob <size>\0` (at most 26 bytes) and the start of the body.
    head: [u8; 32],
    open: Option<Opened>,
}

impl Scratch {
    /// Lets go of a large object's compressed bytes, as the engine lets go of
    /// its inflated ones: what a thread keeps between objects stays small.
    pub(crate) fn shrink(&mut self, keep: usize) {
        if self.compressed.capacity() > keep {
            self.compressed = Vec::new();
        }
    }
}

impl Loose {
    /// The loose objects under `dir` (a repository's `objects` directory).
    pub(crate) fn new(dir: PathBuf) -> Self {
        Loose { dir }
    }

    /// Reads blob `id` into `buf` unless it is larger than `cap`; `None` when it is not a
    /// loose object here. A loose object that is damaged, or not a blob, is an error. (The
    /// readers stream objects; this is the tests' oracle.)
    #[cfg(test)]
    pub(crate) fn read(
        &self,
        id: ObjectId,
        buf: &mut Vec<u8>,
        cap: u64,
        scratch: &mut Scratch,
    ) -> Result<Option<ReadBlob>, GitError> {
        buf.clear();
        match self.open(id, scratch)? {
            None => Ok(None),
            Some(size) if size > cap => Ok(Some(ReadBlob::TooLarge(size))),
            Some(_) => {
                self.inflate(buf, scratch)?;
                Ok(Some(ReadBlob::Read))
            }
        }
    }

    /// Reads blob `id`'s file and header: its size, before anything that large is allocated
    /// (see [`Loose::inflate`]); `None` when it is not a loose object here.
    pub(crate) fn open(
        &self,
        id: ObjectId,
        scratch: &mut Scratch,
    ) -> Result<Option<u64>, GitError> {
        let hex = id.to_string();
        let path = self.dir.join(&hex[..2]).join(&hex[2..]);
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(GitError::read(format!("loose object {hex}"), e)),
        };
        scratch.compressed.clear();
        // A large file is read as far as its header first: its blob may be streamed.
        let large = file.metadata().is_ok_and(|m| m.len() > WHOLE_FILE);
        let head = if large { HEAD_BYTES } else { u64::MAX };
        (&mut file)
            .take(head)
            .read_to_end(&mut scratch.compressed)
            .map_err(|e| GitError::read(format!("loose object {hex}"), e))?;
        let damaged = |what: &str| damaged(&hex, what);
        // The header, `blob <size>\0`, is in the first few dozen inflated bytes.
        scratch.inflate.reset();
        let (_, consumed, written) = scratch
            .inflate
            .prefix(&scratch.compressed, &mut scratch.head)
            .map_err(|_| damaged("not a zlib stream"))?;
        let head = &scratch.head[..written];
        let nul = memchr::memchr(0, head).ok_or_else(|| damaged("no header"))?;
        let header = std::str::from_utf8(&head[..nul]).map_err(|_| damaged("bad header"))?;
        let (kind, size) = header
            .split_once(' ')
            .ok_or_else(|| damaged("bad header"))?;
        if kind != "blob" {
            return Err(damaged("not a blob"));
        }
        let size: u64 = size.parse().map_err(|_| damaged("bad size"))?;
        scratch.open = Some(Opened {
            hex,
            consumed,
            written,
            body: nul + 1,
            size,
            rest: large.then_some(file),
        });
        Ok(Some(size))
    }

    /// The blob [`Loose::open`] read last as a stream, inflated as it is read: a blob too
    /// large to hold is scanned in windows.
    pub(crate) fn stream(&self, scratch: &mut Scratch) -> Result<LooseStream, GitError> {
        let Some(o) = scratch.open.take() else {
            return Err(damaged("?", "read before it was opened"));
        };
        let compressed = std::mem::take(&mut scratch.compressed);
        let input: Box<dyn std::io::BufRead + Send> = match o.rest {
            // Inflated again from the start, this time as a stream.
            Some(mut file) => {
                use std::io::Seek;
                file.rewind()
                    .map_err(|e| GitError::read(format!("loose object {}", o.hex), e))?;
                Box::new(std::io::BufReader::with_capacity(1 << 16, file))
            }
            None => Box::new(std::io::Cursor::new(compressed)),
        };
        Ok(LooseStream {
            input,
            state: gix::zlib::Decompress::new(),
            skip: o.body,
            left: o.size,
            hex: o.hex,
        })
    }

    /// Inflates the blob [`Loose::open`] read last into `buf`: exactly the size its header
    /// said, or an error.
    pub(crate) fn inflate(&self, buf: &mut Vec<u8>, scratch: &mut Scratch) -> Result<(), GitError> {
        buf.clear();
        let Some(o) = scratch.open.take() else {
            return Err(damaged("?", "read before it was opened"));
        };
        if let Some(mut file) = o.rest {
            file.read_to_end(&mut scratch.compressed)
                .map_err(|e| GitError::read(format!("loose object {}", o.hex), e))?;
        }
        let len = usize::try_from(o.size).map_err(|_| damaged(&o.hex, "too large"))?;
        let n = scratch
            .inflate
            .rest(
                &scratch.compressed[o.consumed..],
                &scratch.head[..o.written],
                o.body,
                buf,
                len,
            )
            .map_err(|_| damaged(&o.hex, "truncated zlib stream"))?;
        if n != len {
            return Err(damaged(&o.hex, "shorter than its header says"));
        }
        buf.truncate(n);
        Ok(())
    }
}

/// Compressed files up to this size are read whole at once; larger ones first as far as
/// their header ([`HEAD_BYTES`]).
const WHOLE_FILE: u64 = 1 << 20;

/// Enough compressed bytes for the header of any blob (deflate writes a few dozen bytes of
/// output from far fewer of input).
const HEAD_BYTES: u64 = 512;

/// What [`Loose::open`] read of the object [`Loose::inflate`] or [`Loose::stream`] finishes.
struct Opened {
    hex: String,
    consumed: usize,
    written: usize,
    body: usize,
    size: u64,
    /// The file, when only its first bytes were read.
    rest: Option<std::fs::File>,
}

/// A loose blob inflated as it is read: exactly the size its header says, or an error.
pub(crate) struct LooseStream {
    input: Box<dyn std::io::BufRead + Send>,
    state: gix::zlib::Decompress,
    /// Header bytes still to inflate and drop.
    skip: usize,
    /// Body bytes still to come.
    left: u64,
    hex: String,
}

impl LooseStream {}

impl Read for LooseStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let short = |hex: &str, what: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("loose object {hex}: {what}"),
            )
        };
        let inflate = gix::zlib::stream::inflate::read;
        while self.skip > 0 {
            let mut header = [0u8; 32];
            let n = inflate(
                &mut self.input,
                &mut self.state,
                &mut header[..self.skip.min(32)],
            )?;
            if n == 0 {
                return Err(short(&self.hex, "no header"));
            }
            self.skip -= n;
        }
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = inflate(&mut self.input, &mut self.state, &mut buf[..want])?;
        if n == 0 {
            return Err(short(&self.hex, "shorter than its header says"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn damaged(hex: &str, what: &str) -> GitError {
    GitError::read(
        format!("loose object {hex}"),
        std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        crate::git::test_git(dir, args, &[])
    }

    #[test]
    fn reads_what_git_wrote_and_refuses_what_it_did_not() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        git(dir, &["init", "-q"]);
        let content: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        std::fs::write(dir.join("f"), &content).expect("write");
        let id = git(dir, &["hash-object", "-w", "f"]);
        let id = ObjectId::from_hex(id.as_bytes()).expect("id");
        let loose = Loose::new(dir.join(".git/objects"));
        let (mut buf, mut scratch) = (Vec::new(), Scratch::default());
        let read = loose
            .read(id, &mut buf, u64::MAX, &mut scratch)
            .expect("reads");
        assert_eq!(read, Some(ReadBlob::Read));
        assert_eq!(buf, content);
        // Over the cap: only its size.
        let read = loose.read(id, &mut buf, 10, &mut scratch).expect("reads");
        assert_eq!(read, Some(ReadBlob::TooLarge(content.len() as u64)));
        // Absent: not here.
        let other = ObjectId::from_hex(b"0123456789012345678901234567890123456789").expect("id");
        assert_eq!(
            loose
                .read(other, &mut buf, u64::MAX, &mut scratch)
                .expect("ok"),
            None
        );
        // Damaged: an error, not a guess.
        let hex = id.to_string();
        let path = dir.join(".git/objects").join(&hex[..2]).join(&hex[2..]);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.truncate(bytes.len() / 2);
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, &bytes).expect("write");
        assert!(loose.read(id, &mut buf, u64::MAX, &mut scratch).is_err());
    }
}
