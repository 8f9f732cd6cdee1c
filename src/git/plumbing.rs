//! Every call to the `git` command: the staged changes (`git diff --cached --raw`), history
//! (`git log --raw`), blobs (`git cat-file --batch`), config and the working-tree root. They
//! answer where gix cannot: a layout it does not read, and a push's quarantined objects, which
//! only git sees while pre-receive runs. Output is parsed in git's machine formats, with
//! every setting that could change them fixed on the command line.

use super::ReadBlob;
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
/// pager, no colour, no path quoting, no prefixes, no relative paths, no rename or copy
/// detection, root commits shown, and no replacement objects (`refs/replace/*` would let a
/// pusher show keyward a decoy instead of the commit it pushes). Each command also passes the
/// explicit flags of its output format.
pub(crate) fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager");
    for setting in [
        "color.ui=never",
        "core.quotePath=false",
        "diff.noprefix=false",
        "diff.relative=false",
        "diff.renames=false",
        "log.showRoot=true",
        "log.showSignature=false",
        "core.useReplaceRefs=false",
    ] {
        cmd.args(["-c", setting]);
    }
    cmd.env("GIT_NO_REPLACE_OBJECTS", "1")
        .env_remove("GIT_EXTERNAL_DIFF")
        .env_remove("GIT_DIFF_OPTS");
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
pub(crate) struct RawRecord {
    /// The mode before the change, octal (`000000` for an addition).
    pub(crate) old_mode: Vec<u8>,
    /// The mode after the change, octal (`100644`, `120000`, `160000`).
    pub(crate) new_mode: Vec<u8>,
    /// The blob before the change (`None` for an addition).
    pub(crate) old_id: Option<ObjectId>,
    /// The blob after the change (null for a deletion).
    pub(crate) new_id: ObjectId,
    /// The status letter (`A`, `M`, `T`, `D`).
    pub(crate) status: u8,
    /// The path.
    pub(crate) path: Vec<u8>,
}

/// The index against HEAD: `git diff --cached --raw` (additions, modifications, type
/// changes and deletions; no rename detection; submodules ignored).
pub(crate) fn staged_changes() -> Result<Vec<RawRecord>, PlumbingError> {
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
    let [old_mode, new_mode, old_id, new_id, status] = parts[..] else {
        return None;
    };
    let old_id = ObjectId::from_hex(old_id).ok()?;
    Some(RawRecord {
        old_mode: old_mode.to_vec(),
        new_mode: new_mode.to_vec(),
        old_id: (!old_id.is_null()).then_some(old_id),
        new_id: ObjectId::from_hex(new_id).ok()?,
        status: *status.first()?,
        path: path.to_vec(),
    })
}

/// A commit and what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogCommit {
    /// The commit.
    pub(crate) id: ObjectId,
    /// Its author date, seconds since the epoch.
    pub(crate) author_time: i64,
    /// Its parents.
    pub(crate) parents: Vec<ObjectId>,
    /// What it changed relative to each of its parents, in their order (one diff of every
    /// path for a root commit).
    pub(crate) diffs: Vec<Vec<RawRecord>>,
}

/// The commits `args` select for `git rev-list` (`TIP… --not HIDDEN…`), parents before
/// children, with what each changed: `git rev-list` then `git diff-tree --stdin`, plumbing
/// that no diff or log setting reshapes.
pub(crate) fn commits(args: &[String]) -> Result<Vec<LogCommit>, PlumbingError> {
    let mut cmd = git();
    cmd.args([
        "rev-list",
        "--reverse",
        "--topo-order",
        "--format=%H %at %P",
    ])
    .args(args)
    .arg("--");
    let out = output(cmd, "rev-list")?;
    let mut commits = Vec::new();
    for line in String::from_utf8_lossy(&out).lines() {
        // Older gits print a `commit <id>` line before each formatted one.
        if line.starts_with("commit ") || line.trim().is_empty() {
            continue;
        }
        let bad = || PlumbingError::Output("rev-list");
        let mut fields = line.split(' ');
        let id = fields.next().ok_or_else(bad)?;
        let time = fields.next().ok_or_else(bad)?;
        let parents = fields
            .filter(|p| !p.is_empty())
            .map(|p| ObjectId::from_hex(p.as_bytes()).map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        commits.push(LogCommit {
            id: ObjectId::from_hex(id.as_bytes()).map_err(|_| bad())?,
            author_time: time.trim().parse().unwrap_or(0),
            parents,
            diffs: Vec::new(),
        });
    }
    if commits.is_empty() {
        return Ok(commits);
    }
    // One line per (commit, parent) — `<commit> <parent>` diffs against that parent alone —
    // and `--always`, so that every line gets its header, an empty diff too: the headers
    // then say which parent each record is relative to. (With `-m`, git prints no header for
    // a parent that differs in nothing, and records could not be told apart.)
    let mut input = Vec::new();
    let mut slots = Vec::new();
    for (at, c) in commits.iter().enumerate() {
        let id = c.id.to_string();
        if c.parents.is_empty() {
            input.extend_from_slice(format!("{id}\n").as_bytes());
            slots.push(at);
        }
        for parent in &c.parents {
            input.extend_from_slice(format!("{id} {parent}\n").as_bytes());
            slots.push(at);
        }
    }
    let mut cmd = git();
    cmd.args([
        "diff-tree",
        "--stdin",
        "--always",
        "-r",
        "-z",
        "--root",
        "--no-renames",
        "--no-abbrev",
        "--no-ext-diff",
        "--no-textconv",
    ]);
    let out = output_with_input(cmd, "diff-tree", input)?;
    let mut slots = slots.into_iter();
    let mut current: Option<usize> = None;
    let mut fields = out.split(|&b| b == 0);
    while let Some(field) = fields.next() {
        let field = field.strip_prefix(b"\n").unwrap_or(field);
        if field.is_empty() {
            continue;
        }
        if field.starts_with(b":") {
            let path = fields.next().ok_or(PlumbingError::Output("diff-tree"))?;
            let record = raw_record(field, path).ok_or(PlumbingError::Output("diff-tree"))?;
            let at = current.ok_or(PlumbingError::Output("diff-tree"))?;
            let diffs = &mut commits[at].diffs;
            diffs
                .last_mut()
                .ok_or(PlumbingError::Output("diff-tree"))?
                .push(record);
            continue;
        }
        // A header: the next line of input, whose commit it must name.
        let hex = field.split(|&b| b == b' ').next().unwrap_or_default();
        let id = ObjectId::from_hex(hex).map_err(|_| PlumbingError::Output("diff-tree"))?;
        let at = slots.next().ok_or(PlumbingError::Output("diff-tree"))?;
        if commits[at].id != id {
            return Err(PlumbingError::Output("diff-tree"));
        }
        commits[at].diffs.push(Vec::new());
        current = Some(at);
    }
    if slots.next().is_some() {
        return Err(PlumbingError::Output("diff-tree"));
    }
    Ok(commits)
}

/// The commits `git rev-list --reverse --topo-order ARGS` lists (`TIP… --not --all`), in its
/// order: parents before children.
pub(crate) fn rev_list(args: &[String]) -> Result<Vec<ObjectId>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["rev-list", "--reverse", "--topo-order"])
        .args(args)
        .arg("--");
    let out = output(cmd, "rev-list")?;
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            ObjectId::from_hex(l.trim().as_bytes()).map_err(|_| PlumbingError::Output("rev-list"))
        })
        .collect()
}

/// What kind of object each of `ids` is (`commit`, `tree`, `blob`, `tag`): `git cat-file
/// --batch-check`. An object the repository does not have is an error.
pub(crate) fn object_kinds(ids: &[ObjectId]) -> Result<Vec<String>, PlumbingError> {
    let mut input = Vec::new();
    for id in ids {
        input.extend_from_slice(id.to_string().as_bytes());
        input.push(b'\n');
    }
    let mut cmd = git();
    cmd.args(["cat-file", "--batch-check=%(objectname) %(objecttype)"]);
    let out = output_with_input(cmd, "cat-file", input)?;
    let text = String::from_utf8_lossy(&out);
    let kinds: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap_or("missing").to_owned())
        .collect();
    if kinds.len() != ids.len() {
        return Err(PlumbingError::Output("cat-file"));
    }
    if let Some(i) = kinds.iter().position(|k| k == "missing") {
        return Err(PlumbingError::Failed {
            command: "cat-file",
            message: format!("object {} is missing", ids[i]),
        });
    }
    Ok(kinds)
}

/// The annotated tag object `id`, as git stores it (`git cat-file tag`).
pub(crate) fn tag_object(id: ObjectId) -> Result<Vec<u8>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["cat-file", "tag", &id.to_string()]);
    output(cmd, "cat-file")
}

/// Objects `ids` as git stores them, in order (`git cat-file --batch`); a missing one is an
/// error.
pub(crate) fn raw_objects(ids: &[ObjectId]) -> Result<Vec<Vec<u8>>, PlumbingError> {
    let mut input = Vec::new();
    for id in ids {
        input.extend_from_slice(format!("{id}\n").as_bytes());
    }
    let mut cmd = git();
    cmd.args(["cat-file", "--batch"]);
    let out = output_with_input(cmd, "cat-file", input)?;
    let bad = || PlumbingError::Output("cat-file");
    let mut objects = Vec::with_capacity(ids.len());
    let mut at = 0;
    for id in ids {
        let end = out[at..].iter().position(|&b| b == b'\n').ok_or_else(bad)? + at;
        let header = String::from_utf8_lossy(&out[at..end]).into_owned();
        let size: usize = match header.split(' ').collect::<Vec<_>>()[..] {
            [_, _, size] => size.parse().map_err(|_| bad())?,
            _ => {
                return Err(PlumbingError::Failed {
                    command: "cat-file",
                    message: format!("object {id} is missing"),
                })
            }
        };
        let body = out.get(end + 1..end + 1 + size).ok_or_else(bad)?;
        objects.push(body.to_vec());
        at = end + 1 + size + 1;
    }
    Ok(objects)
}

/// One entry of a tree, recursively: mode, object, path.
pub(crate) type TreeEntry = (Vec<u8>, ObjectId, Vec<u8>);

/// Every entry of tree `id` and its subtrees (`git ls-tree -r -z --full-tree`).
pub(crate) fn ls_tree(id: ObjectId) -> Result<Vec<TreeEntry>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["ls-tree", "-r", "-z", "--full-tree", &id.to_string()]);
    let out = output(cmd, "ls-tree")?;
    let mut entries = Vec::new();
    for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let bad = || PlumbingError::Output("ls-tree");
        let tab = record.iter().position(|&b| b == b'\t').ok_or_else(bad)?;
        let meta: Vec<&[u8]> = record[..tab].split(|&b| b == b' ').collect();
        let [mode, _kind, id] = meta[..] else {
            return Err(bad());
        };
        let id = ObjectId::from_hex(id).map_err(|_| bad())?;
        entries.push((mode.to_vec(), id, record[tab + 1..].to_vec()));
    }
    Ok(entries)
}

/// Every ref and the object it points at (`git for-each-ref`).
pub(crate) fn refs() -> Result<Vec<(ObjectId, String)>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["for-each-ref", "--format=%(objectname) %(refname)"]);
    let out = output(cmd, "for-each-ref")?;
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, name) = l
                .split_once(' ')
                .ok_or(PlumbingError::Output("for-each-ref"))?;
            let id = ObjectId::from_hex(id.as_bytes())
                .map_err(|_| PlumbingError::Output("for-each-ref"))?;
            Ok((id, name.to_owned()))
        })
        .collect()
}

/// The commit `revision` names, if it names one.
pub(crate) fn commit_of(revision: &str) -> Result<Option<ObjectId>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["rev-parse", "-q", "--verify", "--end-of-options"])
        .arg(format!("{revision}^{{commit}}"));
    match output(cmd, "rev-parse") {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out);
            Ok(ObjectId::from_hex(text.trim().as_bytes()).ok())
        }
        Err(PlumbingError::Failed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The blob the index holds at `path` (stage 0), if any.
pub(crate) fn index_entry(path: &[u8]) -> Result<Option<ObjectId>, PlumbingError> {
    let mut cmd = git();
    cmd.args(["rev-parse", "--verify", "--quiet"])
        .arg(format!(":{}", String::from_utf8_lossy(path)));
    match output(cmd, "rev-parse") {
        Ok(out) => Ok(ObjectId::from_hex(String::from_utf8_lossy(&out).trim().as_bytes()).ok()),
        Err(PlumbingError::Failed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs `cmd` (git `name`) with `input` on its standard input, written from another thread
/// so that neither side waits on a full pipe.
fn output_with_input(
    mut cmd: Command,
    name: &'static str,
    input: Vec<u8>,
) -> Result<Vec<u8>, PlumbingError> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| PlumbingError::Spawn {
            command: name,
            source,
        })?;
    let mut stdin = child.stdin.take().ok_or(PlumbingError::Output(name))?;
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child
        .wait_with_output()
        .map_err(|source| PlumbingError::Io {
            command: name,
            source,
        })?;
    // A write error means git stopped reading: its status says why.
    let _ = writer.join();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(PlumbingError::Failed {
            command: name,
            message: err.lines().next().unwrap_or("failed").to_owned(),
        });
    }
    Ok(out.stdout)
}

/// Every `keyward.*` entry of git config, from every level: `(key, value)`, keys lowercased,
/// in git's order (see [`crate::git::keyward_config`]).
pub(crate) fn keyward_config() -> Result<Vec<(String, String)>, PlumbingError> {
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
        found.push((k.to_ascii_lowercase(), v.to_owned()));
    }
    Ok(found)
}

/// The comment string git uses in commit message files: the value of `core.commentString` or
/// `core.commentChar`, whichever is set last (`git -c` included, as git reads it); `None`
/// when neither is set.
pub(crate) fn comment_string() -> Result<Option<String>, PlumbingError> {
    let mut cmd = git();
    cmd.args([
        "config",
        "-z",
        "--get-regexp",
        r"^core\.comment(char|string)$",
    ]);
    let out = match output(cmd, "config") {
        Ok(out) => out,
        // Exit 1: neither is set.
        Err(PlumbingError::Failed { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    // `-z`: `key\nvalue\0` per entry.
    Ok(out
        .split(|&b| b == 0)
        .rfind(|entry| !entry.is_empty())
        .map(|entry| {
            let value = entry.splitn(2, |&b| b == b'\n').nth(1).unwrap_or_default();
            String::from_utf8_lossy(value).into_owned()
        }))
}

/// The message of the commit HEAD names, as stored; `None` on an unborn branch.
pub(crate) fn head_message() -> Result<Option<Vec<u8>>, PlumbingError> {
    let Some(id) = commit_of("HEAD")? else {
        return Ok(None);
    };
    let mut cmd = git();
    cmd.args(["cat-file", "commit"]).arg(id.to_string());
    let out = output(cmd, "cat-file")?;
    let at = memchr::memmem::find(&out, b"\n\n").map_or(out.len(), |i| i + 2);
    Ok(Some(out[at..].to_vec()))
}

/// The root of the working tree, when there is one.
pub(crate) fn toplevel() -> Result<Option<std::path::PathBuf>, PlumbingError> {
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

/// Blob `id` as `git cat-file blob` writes it, read as it comes: git streams a blob (holding
/// at most what its deltas need), so a blob too large to hold here is scanned in windows
/// while git reads it. Reading past its end checks that git finished well; a stream cut
/// short reads as an error, never as the end.
pub(crate) fn blob_stream(id: ObjectId) -> Result<BlobStream, PlumbingError> {
    let mut child = cat_file(&["blob", &id.to_string()], Stdio::null())?;
    let stdout = child
        .stdout
        .take()
        .ok_or(PlumbingError::Output("cat-file"))?;
    Ok(BlobStream { child, stdout, id })
}

/// The size of blob `id` (`git cat-file -s`).
pub(crate) fn blob_size(id: ObjectId) -> Result<u64, PlumbingError> {
    let mut cmd = git();
    cmd.args(["cat-file", "-s", &id.to_string()]);
    let out = output(cmd, "cat-file")?;
    String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .map_err(|_| PlumbingError::Output("cat-file"))
}

/// Starts `git cat-file ARGS`, its output piped, its errors dropped (what fails shows in its
/// output or its status).
fn cat_file(args: &[&str], stdin: Stdio) -> Result<Child, PlumbingError> {
    git()
        .arg("cat-file")
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|source| PlumbingError::Spawn {
            command: "cat-file",
            source,
        })
}

/// See [`blob_stream`].
pub(crate) struct BlobStream {
    child: Child,
    stdout: ChildStdout,
    id: ObjectId,
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.stdout.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.child.wait()?.success() {
            return Err(std::io::Error::other(format!(
                "git cat-file could not read blob {}",
                self.id
            )));
        }
        Ok(n)
    }
}

impl Drop for BlobStream {
    fn drop(&mut self) {
        // Stopped early (an error elsewhere): git is not left writing to no one.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A long-running `git cat-file --batch`.
pub(crate) struct CatFile {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CatFile {
    /// Starts `git cat-file --batch` in the current repository.
    pub(crate) fn spawn() -> Result<Self, PlumbingError> {
        let mut child = cat_file(&["--batch"], Stdio::piped())?;
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
    pub(crate) fn read(
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
}
