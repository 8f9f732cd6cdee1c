//! The commit message source: the message the commit being made will record, read from the
//! file git hands the commit-msg hook, as one item named `commit message` ([`Place::Message`]:
//! every content rule applies, no file-name or path rule does). The version it replaces is
//! HEAD's message: a key that message holds is in history already (`git commit --amend` of a
//! commit whose message leaked it).
//!
//! # What of the file is scanned
//!
//! git runs the hook on the file as it was edited, and only then cleans it up: it drops
//! comment lines (under `--cleanup=strip`, the default when an editor ran) and everything
//! from the first scissors line on (`# ------------------------ >8 ------------------------`,
//! with `core.commentChar`/`core.commentString`), but only when the commit is verbose
//! (`git commit -v`, `commit.verbose`) or the cleanup mode is `scissors`. Those are
//! command-line flags as often as configuration, and a hook cannot see the command line. So
//! keyward scans every line git *might* record, and leaves out only what git certainly
//! drops:
//!
//! - **Comment lines are scanned.** `-m`, `-F` and `--cleanup=verbatim|whitespace` record
//!   them; a key typed on a `#` line is taken out in a second, and git's own comment lines
//!   (status, file names) hold none.
//! - **From the first scissors line on, the file is left out only when git wrote the diff
//!   of a verbose commit after it**: an editor ran for this commit (git sets `GIT_EDITOR=:`
//!   for the hook when none did, and then wrote nothing into the file but the message it was
//!   given), and the file ends in the block git writes last — a scissors line, comment
//!   lines, then nothing but diff output (`-vv`'s comment heading between its two diffs
//!   allowed). git writes that diff only for a verbose commit, and a verbose commit drops
//!   everything from the first scissors line: the diff, which shows keys already in HEAD as
//!   context and keys the pre-commit hook judged in their files (a fixture's, allowed by
//!   path), never blocks the commit falsely.
//! - **Otherwise a scissors line cuts nothing**: `git commit -m "…"` or `-F FILE` with a
//!   scissors line in the text records what follows it, and so does `git commit -e -F
//!   .git/COMMIT_EDITMSG` without `-v` after a verbose commit was refused — the old diff is
//!   then part of the message (git's status comments follow it, so it is not the block git
//!   writes last). Scanning it blocks a key git would record.
//!
//! What is left to chance, and why it is acceptable: a file whose old verbose block is its
//! last one only because git added no status (`commit.status=false`, `--no-status`) with an
//! editor and without `-v` — reusing a verbose message file that way records the old diff
//! whole, which a developer sees in the editor; and a verbose commit whose user exported
//! `GIT_EDITOR=:` (the diff is scanned: a false block, never a missed key).

use super::{BlobRead, SourceError, Standing};
use crate::git::{plumbing, GitError};
use crate::model::ReadBlob;
use crate::model::{Content, Item, Place};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of the item, as reports show it (`commit message:3:15`).
pub(crate) const NAME: &[u8] = b"commit message";

/// The line git cuts a verbose message at, after the comment string (`wt-status.c`'s
/// `cut_line`, which git matches with its newline).
const CUT: &[u8] = b" ------------------------ >8 ------------------------";

/// The comment characters `core.commentChar=auto` picks from (`builtin/commit.c`).
const AUTO: &[u8] = b"#;@!$%^&|:";

/// What git writes between the two diffs of `git commit -vv`, after the comment string.
const VV_SEPARATOR: &[u8] = b" --------------------------------------------------";

/// The comment string of a message file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Comment {
    /// This string (`#` unless configured).
    Text(Vec<u8>),
    /// `core.commentChar=auto`: git picked one of [`AUTO`] for this message.
    Auto,
}

impl Comment {
    /// From the value of `core.commentString`/`core.commentChar` (`None`: not set).
    pub(crate) fn from_config(value: Option<&str>) -> Self {
        match value {
            Some("auto") => Comment::Auto,
            Some(v) if !v.is_empty() => Comment::Text(v.as_bytes().to_vec()),
            _ => Comment::Text(b"#".to_vec()),
        }
    }

    /// The comment string of `line` if it is a scissors line under this setting.
    fn scissors<'a>(&self, line: &'a [u8]) -> Option<&'a [u8]> {
        let prefix = line.strip_suffix(CUT)?;
        let ours = match self {
            Comment::Text(c) => prefix == c.as_slice(),
            Comment::Auto => prefix.len() == 1 && AUTO.contains(&prefix[0]),
        };
        ours.then_some(prefix)
    }
}

/// What of a message file git may record: the bytes before `end` (see the module's
/// documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    /// Where the part that is scanned ends.
    pub(crate) end: usize,
    /// The file holds a scissors line git would cut at in a verbose commit: a message kept
    /// from one (retried with `git commit -v -e -F`, which drops the old diff again).
    pub(crate) scissors: bool,
}

/// Decides what of message file `text` is scanned: all of it, unless `editor` (git ran an
/// editor for this commit) and the file ends in the verbose block git writes, in which case
/// everything from the first scissors line on is left out.
pub(crate) fn recorded(text: &[u8], comment: &Comment, editor: bool) -> Recorded {
    let mut scissors: Vec<(usize, usize, &[u8])> = Vec::new(); // (start, end, comment)
    let mut start = 0;
    // git matches the cut line with its newline: a last line without one is no cut line.
    while let Some(len) = memchr::memchr(b'\n', &text[start..]) {
        if let Some(prefix) = comment.scissors(&text[start..start + len]) {
            scissors.push((start, start + len + 1, prefix));
        }
        start += len + 1;
    }
    let whole = Recorded {
        end: text.len(),
        scissors: !scissors.is_empty(),
    };
    match (scissors.first(), scissors.last()) {
        (Some(&(first, ..)), Some(&(_, after, prefix)))
            if editor && git_wrote(&text[after..], prefix) =>
        {
            Recorded {
                end: first,
                scissors: true,
            }
        }
        _ => whole,
    }
}

/// Whether `tail`, the lines after a scissors line, is what git writes there: comment lines,
/// then (when the commit is verbose) the diff, to the end of the file. Inside the diff, a
/// comment line may only start `-vv`'s heading of the second diff.
fn git_wrote(tail: &[u8], comment: &[u8]) -> bool {
    let tail = tail.strip_suffix(b"\n").unwrap_or(tail);
    if tail.is_empty() {
        return true;
    }
    let mut in_diff = false;
    for line in tail.split(|&b| b == b'\n') {
        // A hunk header is diff output whatever the comment character (`auto` may pick `@`).
        let is_comment = line.starts_with(comment) && !(in_diff && line.starts_with(b"@@"));
        if in_diff {
            if is_comment {
                if line.strip_prefix(comment) != Some(VV_SEPARATOR) {
                    return false;
                }
                in_diff = false;
            }
        } else if line.starts_with(b"diff ") || line.starts_with(b"Submodule ") {
            in_diff = true;
        } else if !is_comment {
            return false;
        }
    }
    true
}

/// The message the commit being made will record.
pub(crate) struct Message {
    items: Vec<Item>,
    reader: MessageReader,
    recorded: Recorded,
}

/// Reads HEAD's message, the version a new message replaces.
pub(crate) struct MessageReader {
    repo: Option<Box<gix::Repository>>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("recorded", &self.recorded)
            .finish_non_exhaustive()
    }
}

impl Message {
    /// The message in `text`, the file git passed the hook, in the repository `repo` (none
    /// when run by hand outside one). Whether git ran an editor comes from the environment
    /// git gives the hook (`GIT_EDITOR=:` when none ran); the comment string from git config,
    /// asked only when the file has a line that could be a scissors line.
    pub(crate) fn new(text: Vec<u8>, repo: Option<gix::Repository>) -> Result<Self, SourceError> {
        let editor = std::env::var_os("GIT_EDITOR").is_none_or(|v| v != ":");
        let comment = if memchr::memmem::find(&text, CUT).is_some() {
            Comment::from_config(plumbing::comment_string()?.as_deref())
        } else {
            Comment::Text(b"#".to_vec())
        };
        let recorded = recorded(&text, &comment, editor);
        let mut text = text;
        text.truncate(recorded.end);
        let item = Item {
            path: NAME.to_vec(),
            content: Content::Text(Arc::from(text)),
            place: Place::Message,
            commit: None,
        };
        Ok(Message {
            items: vec![item],
            reader: MessageReader {
                repo: repo.map(Box::new),
            },
            recorded,
        })
    }

    /// What of the file is scanned, and whether it holds a scissors line.
    pub(crate) fn recorded(&self) -> Recorded {
        self.recorded
    }
}

/// Where the developer finds the message git kept, as a path that works from any directory:
/// `file` made absolute (git passes `.git/COMMIT_EDITMSG` relative to the work tree's root,
/// where hooks run, and a linked worktree's file in its own git directory).
pub(crate) fn kept(file: &Path) -> PathBuf {
    std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf())
}

impl super::Source for Message {
    fn standing(&self) -> Standing {
        Standing::Staged
    }

    fn items(&self) -> &[Item] {
        &self.items
    }

    fn parts(&mut self) -> super::Parts<'_> {
        super::Parts {
            items: &self.items,
            reader: &mut self.reader,
            feed: super::feed::Feed::Sequential,
        }
    }
}

impl BlobRead for MessageReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, _cap: u64) -> Result<ReadBlob, SourceError> {
        buf.clear();
        if let Content::Text(text) = &item.content {
            buf.extend_from_slice(text);
        }
        Ok(ReadBlob::Read)
    }

    fn previous(
        &mut self,
        _index: usize,
        _item: &Item,
        buf: &mut Vec<u8>,
        _cap: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        let Some(repo) = &self.repo else {
            return Ok(false);
        };
        // git's plumbing where gix would read HEAD wrongly (reftable refs), or where asked to
        // (`KEYWARD_GIT_BACKEND=cli`, as for the staged source).
        let cli = std::env::var_os("KEYWARD_GIT_BACKEND").is_some_and(|v| v == "cli");
        let message = if cli || crate::git::unsupported(repo).is_some() {
            plumbing::head_message()?
        } else {
            head_message(repo)?
        };
        match message {
            Some(message) => {
                buf.extend_from_slice(&message);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// HEAD's message as stored; `None` on an unborn branch.
fn head_message(repo: &gix::Repository) -> Result<Option<Vec<u8>>, GitError> {
    let mut head = repo.head().map_err(|e| GitError::read("HEAD", e))?;
    if head.is_unborn() {
        return Ok(None);
    }
    let commit = head
        .peel_to_commit()
        .map_err(|e| GitError::read("HEAD's commit", e))?;
    let message = commit
        .message_raw()
        .map_err(|e| GitError::read("HEAD's commit", e))?;
    Ok(Some(message.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERBOSE: &str = "Fix it\n\n# Please enter the commit message for your changes.\n#\n# On branch main\n# ------------------------ >8 ------------------------\n# Do not modify or remove the line above.\n# Everything below it will be ignored.\ndiff --git a/f b/f\nindex 1..2 100644\n--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n d\n";

    fn hash() -> Comment {
        Comment::Text(b"#".to_vec())
    }

    fn end(text: &str, comment: &Comment, editor: bool) -> usize {
        recorded(text.as_bytes(), comment, editor).end
    }

    #[test]
    fn the_verbose_diff_git_wrote_is_left_out_and_nothing_else() {
        let cut = VERBOSE.find("# ----").expect("cut");
        // Verbose, with an editor: up to the scissors line.
        assert_eq!(end(VERBOSE, &hash(), true), cut);
        // No editor ran: git wrote nothing into the file, so it is all the message.
        assert_eq!(end(VERBOSE, &hash(), false), VERBOSE.len());
        // -vv: its heading between the two diffs.
        let vv = format!("{VERBOSE}# --------------------------------------------------\n# Changes not staged for commit:\ndiff --git i/f w/f\n+x\n");
        assert_eq!(end(&vv, &hash(), true), cut);
        // An editor that strips trailing spaces leaves empty context lines.
        let stripped = VERBOSE.replace("\n a\n", "\n\n");
        assert_eq!(end(&stripped, &hash(), true), cut);
        // --cleanup=scissors: comment lines after the cut, with or without a diff.
        let scissors = "msg\n\n# ------------------------ >8 ------------------------\n# Do not modify.\n#\n# On branch main\n#\n";
        assert_eq!(end(scissors, &hash(), true), 5);
        // A verbose commit with nothing to diff (--allow-empty).
        let empty = "msg\n# ------------------------ >8 ------------------------\n";
        assert_eq!(end(empty, &hash(), true), 4);
    }

    #[test]
    fn a_scissors_line_cuts_nothing_where_git_may_record_what_follows() {
        for text in [
            // Typed after the scissors line: not what git writes there.
            "msg\n# ------------------------ >8 ------------------------\nmore text\n",
            // An old verbose file reused without -v: git's status follows the old diff.
            &format!("{VERBOSE}\n# Please enter the commit message for your changes.\n# On branch main\n"),
            // A blank line before the diff, a comment inside it that is not -vv's heading.
            "msg\n# ------------------------ >8 ------------------------\n\ndiff --git a/f b/f\n",
            "msg\n# ------------------------ >8 ------------------------\ndiff --git a/f b/f\n+x\n# note\n",
            // Not the cut line: other text on it, another comment string, no newline, CRLF.
            "msg\n# ------------------------ >8 ------------------------ \n# x\n",
            "msg\n; ------------------------ >8 ------------------------\n# x\n",
            "msg\n# ------------------------ >8 ------------------------",
            "msg\r\n# ------------------------ >8 ------------------------\r\n# x\r\n",
        ] {
            assert_eq!(end(text, &hash(), true), text.len(), "{text:?}");
        }
        // The first scissors line is where git cuts, when the last block is git's.
        let twice = format!(
            "msg\n# ------------------------ >8 ------------------------\nold diff\n\n# status\n{}",
            &VERBOSE[VERBOSE.find("# ----").expect("cut")..]
        );
        assert_eq!(end(&twice, &hash(), true), 4);
    }

    #[test]
    fn the_comment_string_is_git_config_s() {
        let semi = VERBOSE.replace("\n#", "\n;");
        let cut = semi.find("; ----").expect("cut");
        assert_eq!(end(&semi, &Comment::from_config(Some(";")), true), cut);
        assert_eq!(end(&semi, &Comment::from_config(None), true), semi.len());
        assert_eq!(end(&semi, &Comment::from_config(Some("auto")), true), cut);
        let long = VERBOSE.replace("\n#", "\n//");
        let cut = long.find("// ----").expect("cut");
        assert_eq!(end(&long, &Comment::from_config(Some("//")), true), cut);
        // `auto` may pick `@`: hunk headers are still diff output.
        let at = VERBOSE.replace("\n#", "\n@");
        assert_eq!(
            end(&at, &Comment::Auto, true),
            at.find("@ ----").expect("cut")
        );
    }

    #[test]
    fn scissors_are_reported_for_the_retry() {
        assert!(recorded(VERBOSE.as_bytes(), &hash(), false).scissors);
        assert!(!recorded(b"msg\n", &hash(), true).scissors);
    }
}
