//! Every call to the `git` command: the staged changes (`git diff --cached --raw`), history
//! (`git log --raw`), blobs (`git cat-file --batch`), config and the working-tree root. They
//! answer where gix cannot: a layout it does not read, and a push's quarantined objects, which
//! only git sees while pre-receive runs. Output is parsed in git's machine formats, with
//! every setting that could change them fixed on the command line.

use super::ReadBlob;
use gix::bstr::ByteSlice;
use gix::ObjectId;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// Errors from running git.
#[derive(Debug, thiserror::Error)]
pub enum PlumbingError {
    /// git could not be started.
    #[error("cannot run git {command}")]
    Spawn {
        /// The subcommand.
        command: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// git ran and failed; its first line of error output.
    #[error("git {command}: {message}")]
    Failed {
        /// The subcommand.
        command: &'static str,
        /// What git said.
        message: String,
    },
    /// git's output is not in the expected format.
    #[error("unexpected output from git {0}")]
    Output(&'static str),
    /// Reading from or writing to git failed.
    #[error("git {command}")]
    Io {
        /// The subcommand.
        command: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `git` with settings that no user, repository or server configuration may change: no
/// pager, no colour, no path quoting.
pub fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.args([
        "--no-pager",
        "-c",
        "color.ui=never",
        "-c",
        "core.quotePath=false",
    ]);
    cmd
}

/// Runs `cmd` (git `name`) to completion; its standard output, or its first line of errors.
fn output(mut cmd: Command, name: &'static str) -> Result<Vec<u8>, PlumbingError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| PlumbingError::Spawn {
            command: name,
            source,
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(PlumbingError::Failed {
            command: name,
            message: err.lines().next().unwrap_or("failed").to_owned(),
        });
    }
    Ok(out.stdout)
}

/// One record of `git diff --raw` or `git log --raw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The mode after the change, octal (`100644`, `120000`, `160000`).
    pub new_mode: Vec<u8>,
    /// The blob before the change (`None` for an addition).
    pub old_id: Option<ObjectId>,
    /// The blob after the change (null for a deletion).
    pub new_id: ObjectId,
    /// The status letter (`A`, `M`, `T`, `D`).
    pub status: u8,
    /// The path.
    pub path: Vec<u8>,
}

/// The index against HEAD: `git diff --cached --raw` (additions, modifications, type
/// changes and deletions; no rename detection; submodules ignored).
pub fn staged_changes() -> Result<Vec<RawRecord>, PlumbingError> {
    let mut cmd = git();
    cmd.args([
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "--ignore-submodules=all",
        "--diff-filter=AMTD",
    ]);
    let out = output(cmd, "diff")?;
    let mut records = Vec::new();
    let mut fields = out.split(|&b| b == 0);
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let path = fields.next().ok_or(PlumbingError::Output("diff"))?;
        records.push(raw_record(meta, path).ok_or(PlumbingError::Output("diff"))?);
    }
    Ok(records)
}

/// Parses `:<old mode> <new mode> <old id> <new id> <status>` and its path.
fn raw_record(meta: &[u8], path: &[u8]) -> Option<RawRecord> {
    let meta = meta.strip_prefix(b":")?;
    let parts: Vec<&[u8]> = meta.split(|&b| b == b' ').collect();
    let [_, new_mode, old_id, new_id, status] = parts[..] else {
        return None;
    };
    let old_id = ObjectId::from_hex(old_id).ok()?;
    Some(RawRecord {
        new_mode: new_mode.to_vec(),
        old_id: (!old_id.is_null()).then_some(old_id),
        new_id: ObjectId::from_hex(new_id).ok()?,
        status: *status.first()?,
        path: path.to_vec(),
    })
}

/// A commit of `git log --raw`, with its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCommit {
    /// The commit.
    pub id: ObjectId,
    /// Its author date, seconds since the epoch.
    pub author_time: i64,
    /// What it changed relative to its first parent.
    pub records: Vec<RawRecord>,
}

/// `git log --reverse --raw` over `revisions`, oldest first; merges show what they bring
/// relative to their first parent.
pub fn log(revisions: &[String]) -> Result<Vec<LogCommit>, PlumbingError> {
    let mut cmd = git();
    cmd.args([
        "log",
        "--reverse",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--diff-merges=first-parent",
        "--format=%x01%H %at",
    ]);
    cmd.args(revisions).arg("--");
    parse_log(&output(cmd, "log")?)
}

/// Parses `git log --raw -z --format=%x01%H %at`: a commit header, then
/// `:old-mode new-mode old-id new-id status\0path\0` records.
fn parse_log(out: &[u8]) -> Result<Vec<LogCommit>, PlumbingError> {
    let bad = || PlumbingError::Output("log");
    let mut commits: Vec<LogCommit> = Vec::new();
    let mut fields = out.split(|&b| b == 0);
    let record = |meta: &[u8], path: &[u8], commits: &mut Vec<LogCommit>| {
        let r = raw_record(meta, path).ok_or_else(bad)?;
        commits.last_mut().ok_or_else(bad)?.records.push(r);
        Ok::<_, PlumbingError>(())
    };
    while let Some(field) = fields.next() {
        let field = field.strip_prefix(b"\n").unwrap_or(field);
        if field.is_empty() {
            continue;
        }
        if let Some(header) = field.strip_prefix(b"\x01") {
            let header = header.to_str().map_err(|_| bad())?;
            let (id, rest) = header.split_once(' ').ok_or_else(bad)?;
            let (time, rest) = rest.split_once('\n').unwrap_or((rest, ""));
            commits.push(LogCommit {
                id: ObjectId::from_hex(id.as_bytes()).map_err(|_| bad())?,
                author_time: time.trim().parse().unwrap_or(0),
                records: Vec::new(),
            });
            // The header and the first record share a field: `\x01id time\n\n:…`.
            let rest = rest.trim_start_matches('\n');
            if !rest.is_empty() {
                let path = fields.next().ok_or_else(bad)?;
                record(rest.as_bytes(), path, &mut commits)?;
            }
            continue;
        }
        let path = fields.next().ok_or_else(bad)?;
        record(field, path, &mut commits)?;
    }
    Ok(commits)
}

/// The `keyward.*` entries of the effective git config: `(key, value)`, keys lowercased,
/// later ones win.
pub fn keyward_config() -> Result<Vec<(String, String)>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["config", "--get-regexp", r"^keyward\."]);
    let out = match output(cmd, "config") {
        Ok(out) => out,
        // Exit 1: no such keys.
        Err(PlumbingError::Failed { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&out).lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, "true"));
        let k = k.to_ascii_lowercase();
        found.retain(|(key, _)| *key != k);
        found.push((k, v.to_owned()));
    }
    Ok(found)
}

/// The root of the working tree, when there is one.
pub fn toplevel() -> Result<Option<std::path::PathBuf>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["rev-parse", "--show-toplevel"]);
    let out = match output(cmd, "rev-parse") {
        Ok(out) => out,
        // A bare repository has no working tree.
        Err(PlumbingError::Failed { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let root = String::from_utf8(out).map_err(|_| PlumbingError::Output("rev-parse"))?;
    let root = root.trim_end_matches('\n');
    Ok((!root.is_empty()).then(|| std::path::PathBuf::from(root)))
}

/// A long-running `git cat-file --batch`.
pub struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CatFile {
    /// Starts `git cat-file --batch` in the current repository.
    pub fn spawn() -> Result<Self, PlumbingError> {
        let mut child = git()
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| PlumbingError::Spawn {
                command: "cat-file",
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(PlumbingError::Output("cat-file"));
        };
        Ok(CatFile {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// Reads blob `id` into `buf` (cleared first), unless it is larger than `cap` bytes.
    pub fn read(
        &mut self,
        id: ObjectId,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<ReadBlob, PlumbingError> {
        let io = |source| PlumbingError::Io {
            command: "cat-file",
            source,
        };
        buf.clear();
        writeln!(self.stdin, "{id}").map_err(io)?;
        self.stdin.flush().map_err(io)?;
        let mut header = String::new();
        self.stdout.read_line(&mut header).map_err(io)?;
        let mut parts = header.split_whitespace();
        let (_, kind, size) = (parts.next(), parts.next(), parts.next());
        if kind != Some("blob") {
            return Err(PlumbingError::Failed {
                command: "cat-file",
                message: header.trim().to_owned(),
            });
        }
        let size: u64 = size
            .and_then(|s| s.parse().ok())
            .ok_or(PlumbingError::Output("cat-file"))?;
        let body = (&mut self.stdout).take(size + 1); // content and the closing newline
        if size > cap {
            std::io::copy(&mut { body }, &mut std::io::sink()).map_err(io)?;
            return Ok(ReadBlob::TooLarge(size));
        }
        { body }.read_to_end(buf).map_err(io)?;
        if buf.pop() != Some(b'\n') || buf.len() as u64 != size {
            return Err(PlumbingError::Output("cat-file"));
        }
        Ok(ReadBlob::Read)
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_raw_records() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let r = raw_record(
            format!(":000000 100644 {zero} {a} A").as_bytes(),
            b"new file",
        )
        .expect("parses");
        assert_eq!(r.old_id, None);
        assert_eq!(r.status, b'A');
        assert_eq!(r.path, b"new file");
        assert!(raw_record(b":nonsense", b"p").is_none());
        assert!(raw_record(b":1 2 3 4 A", b"p").is_none());
    }

    #[test]
    fn parses_log_output() {
        let zero = "0".repeat(40);
        let (c1, c2, a, b) = (
            "1".repeat(40),
            "2".repeat(40),
            "a".repeat(40),
            "b".repeat(40),
        );
        let out = format!(
            "\x01{c1} 100\n\n:000000 100644 {zero} {a} A\0x.txt\0\n\x01{c2} 200\n\n:100644 100644 {a} {b} M\0x.txt\0:000000 120000 {zero} {a} A\0link\0"
        );
        let commits = parse_log(out.as_bytes()).expect("parses");
        assert_eq!(commits.len(), 2);
        assert_eq!(commits[0].author_time, 100);
        assert_eq!(commits[1].records.len(), 2);
        assert_eq!(commits[1].records[0].old_id.map(|i| i.to_string()), Some(a));
        assert!(parse_log(b"\x01zz 1\n\n:x\0p\0").is_err());
    }
}
