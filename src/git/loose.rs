//! Loose objects read on any thread. What `git add` writes is loose (one zlib file per
//! object under `objects/xx/`), and gix's object database handle stays on one thread: a
//! commit of 2,000 new files was inflated by one core while the other waited. This reader is
//! plain data (the objects directory), so every worker reads and inflates its own blobs;
//! what it does not find (packed objects, alternates) the caller reads through gix.

use super::{GitError, ReadBlob};
use gix::ObjectId;
use std::io::Read;
use std::path::PathBuf;

/// The loose objects of one object directory.
#[derive(Debug, Clone)]
pub struct Loose {
    dir: PathBuf,
}

/// Buffers a thread reuses from one object to the next.
#[derive(Default)]
pub struct Scratch {
    inflate: gix::zlib::Inflate,
    compressed: Vec<u8>,
}

impl Loose {
    /// The loose objects under `dir` (a repository's `objects` directory).
    pub fn new(dir: PathBuf) -> Self {
        Loose { dir }
    }

    /// Reads blob `id` into `buf` unless it is larger than `cap`; `None` when it is not a
    /// loose object here. A loose object that is damaged, or not a blob, is an error.
    pub fn read(
        &self,
        id: ObjectId,
        buf: &mut Vec<u8>,
        cap: u64,
        scratch: &mut Scratch,
    ) -> Result<Option<ReadBlob>, GitError> {
        buf.clear();
        let hex = id.to_string();
        let path = self.dir.join(&hex[..2]).join(&hex[2..]);
        let damaged = |what: &str| {
            GitError::read(
                format!("loose object {hex}"),
                std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned()),
            )
        };
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(GitError::read(format!("loose object {hex}"), e)),
        };
        scratch.compressed.clear();
        file.read_to_end(&mut scratch.compressed)
            .map_err(|e| GitError::read(format!("loose object {hex}"), e))?;
        let input = scratch.compressed.as_slice();
        // The header, `blob <size>\0`, is in the first few dozen inflated bytes.
        scratch.inflate.reset();
        let mut head = [0u8; 64];
        let (_, consumed, written) = scratch
            .inflate
            .prefix(input, &mut head)
            .map_err(|_| damaged("not a zlib stream"))?;
        let head = &head[..written];
        let nul = memchr::memchr(0, head).ok_or_else(|| damaged("no header"))?;
        let header = std::str::from_utf8(&head[..nul]).map_err(|_| damaged("bad header"))?;
        let (kind, size) = header
            .split_once(' ')
            .ok_or_else(|| damaged("bad header"))?;
        if kind != "blob" {
            return Err(damaged("not a blob"));
        }
        let size: u64 = size.parse().map_err(|_| damaged("bad size"))?;
        if size > cap {
            return Ok(Some(ReadBlob::TooLarge(size)));
        }
        // The size is checked against the cap before anything that large is allocated, and
        // what the stream holds must be exactly that size.
        let len = usize::try_from(size).map_err(|_| damaged("too large"))?;
        let n = scratch
            .inflate
            .rest(&input[consumed..], head, nul + 1, buf, len)
            .map_err(|_| damaged("truncated zlib stream"))?;
        if n != len {
            return Err(damaged("shorter than its header says"));
        }
        buf.truncate(n);
        Ok(Some(ReadBlob::Read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
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
