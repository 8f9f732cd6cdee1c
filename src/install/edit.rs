//! Adding keyward to the files of hook managers, and taking it out again, as text: every
//! line keyward did not write stays byte for byte (comments, quoting, order, line endings).
//! Where the file is in a form these edits do not understand (flow-style YAML, anchors, a hook
//! file in another language), they refuse, and the caller prints the exact snippet instead.
//!
//! YAML is edited by indentation, not parsed: the structures edited are block mappings and
//! sequences written one key per line, which is how lefthook's and pre-commit's own examples
//! (and, in practice, teams) write them.

use super::reads::{self, Launch, Runs};
use super::script::{self, Hook};

/// The comment on the first line of each YAML entry keyward adds for the pre-commit hook;
/// `uninstall` finds the entry by it.
pub(crate) const YAML_MARK: &str =
    "# keyward: blocks staged secrets (`keyward uninstall` removes it)";

/// [`YAML_MARK`] for the commit-msg hook's entry.
pub(crate) const MSG_YAML_MARK: &str =
    "# keyward: blocks secrets in commit messages (`keyward uninstall` removes it)";

/// The comment on the `default_install_hook_types` line keyward adds to
/// `.pre-commit-config.yaml`.
pub(crate) const HOOK_TYPES_MARK: &str =
    "# keyward: pre-commit install installs the commit-msg hook too (`keyward uninstall` removes this line)";

/// The mark of `hook`'s YAML entry.
fn mark(hook: Hook) -> &'static str {
    match hook {
        Hook::PreCommit => YAML_MARK,
        Hook::CommitMsg => MSG_YAML_MARK,
    }
}

/// The result of adding keyward to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit {
    /// The new text.
    Added(String),
    /// The file already runs keyward.
    Already,
    /// Not edited, and why.
    Refused(String),
}

/// One line, without its terminator.
struct Line<'a> {
    text: &'a str,
    indent: usize,
}

impl<'a> Line<'a> {
    fn new(text: &'a str) -> Self {
        let text = text.strip_suffix('\r').unwrap_or(text);
        let indent = text.len() - text.trim_start_matches(' ').len();
        Line { text, indent }
    }
    /// Blank or a comment: carries no structure.
    fn is_filler(&self) -> bool {
        let t = self.text.trim_start();
        t.is_empty() || t.starts_with('#')
    }
    fn content(&self) -> &'a str {
        self.text.trim_start()
    }
    /// The value after `key:` on this line with any comment removed, if the line is `key:`.
    fn value_of(&self, key: &str) -> Option<&'a str> {
        let rest = self.content().strip_prefix(key)?.strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return None;
        }
        let rest = rest.trim();
        Some(if rest.starts_with('#') { "" } else { rest })
    }
}

/// The file's lines and its line terminator.
fn split(text: &str) -> (Vec<&str>, &'static str) {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    (lines, eol)
}

fn join(lines: &[String], eol: &str) -> String {
    let mut out = lines.join(eol);
    out.push_str(eol);
    out
}

/// Whether a manager's configuration already runs keyward's check for `hook` at every
/// commit (`Already`), names it where the manager skips it at some commits (`Refused`: the
/// team's condition is not keyward's to remove), or needs it added (`None`).
fn configured(runs: Runs) -> Option<Edit> {
    match runs {
        Runs::Always(Launch::Wheel(requirement)) => Some(Edit::Refused(format!(
            "its keyward hook installs {} from the Python package index, where it has no release yet",
            requirement.unwrap_or_else(|| "keyward-hook".into())
        ))),
        Runs::Always(_) => Some(Edit::Already),
        Runs::Sometimes(why) => Some(Edit::Refused(format!(
            "{why}; keyward must run at every commit"
        ))),
        Runs::Unreadable(why) => Some(Edit::Refused(format!("it is not valid YAML: {why}"))),
        Runs::Never => None,
    }
}

/// Applies each edit of `edits` to the text the one before left: `Added` when any added,
/// `Already` when none had to, `Refused` (nothing edited) when any refused.
fn all(text: &str, edits: &[&dyn Fn(&str) -> Edit]) -> Edit {
    let mut current = text.to_owned();
    for edit in edits {
        match edit(&current) {
            Edit::Added(new) => current = new,
            Edit::Already => {}
            refused => return refused,
        }
    }
    if current == text {
        Edit::Already
    } else {
        Edit::Added(current)
    }
}

/// Takes one entry out of a file's text; `None` when it is not there.
type Take<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Takes out every entry `takes` find, one after the other; `None` when there was none.
fn take_all(text: &str, takes: &[Take<'_>]) -> Option<String> {
    let mut current: Option<String> = None;
    for take in takes {
        if let Some(new) = take(current.as_deref().unwrap_or(text)) {
            current = Some(new);
        }
    }
    current
}

// ---------------------------------------------------------------------------------------------
// Shell hook files: husky's `.husky/pre-commit`, a committed `.githooks/pre-commit`.

/// Adds keyward's two lines for `hook` to a shell hook file, before the team's own commands
/// (after the `#!` line and husky 8's `. …/husky.sh`), so a key is refused before slower
/// checks run. A file that runs keyward already is left alone, unless a failing keyward
/// would not stop the commit there (the file is run with `sh -e` when `errexit`): then the
/// caller prints the lines to use.
pub(crate) fn sh_add(text: &str, hook: Hook, errexit: bool) -> Edit {
    if hook.runs(text) {
        return match script::unsafe_line(text, hook, errexit) {
            None => Edit::Already,
            Some(line) => Edit::Refused(format!(
                "`{line}` lets the commit through when keyward fails"
            )),
        };
    }
    let (lines, eol) = split(text);
    let mut at = 0;
    if let Some(first) = lines.first() {
        if let Some(shebang) = first.strip_prefix("#!") {
            let interpreter = shebang
                .split_whitespace()
                .map(|w| w.rsplit('/').next().unwrap_or(w))
                .find(|w| *w != "env" && !w.starts_with('-'))
                .unwrap_or("");
            if !matches!(interpreter, "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash") {
                return Edit::Refused(format!(
                    "it is a `{interpreter}` script, not a shell script"
                ));
            }
            at = 1;
        }
    }
    while at < lines.len()
        && lines[at].trim_start().starts_with(". ")
        && lines[at].contains("husky.sh")
    {
        at += 1;
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for (i, l) in hook.sh_lines().into_iter().enumerate() {
        out.insert(at + i, l);
    }
    Edit::Added(join(&out, eol))
}

/// Takes keyward's two lines for `hook` out of a shell hook file; `None` when they are not
/// there.
pub(crate) fn sh_remove(text: &str, hook: Hook) -> Option<String> {
    let (lines, eol) = split(text);
    let comment = hook.sh_comment();
    let i = lines
        .iter()
        .position(|l| l.trim_end_matches('\r') == comment)?;
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let next_is_ours = out
        .get(i + 1)
        .is_some_and(|l| hook.runs(l.trim_end_matches('\r')));
    out.drain(i..i + if next_is_ours { 2 } else { 1 });
    Some(if out.is_empty() {
        String::new()
    } else {
        join(&out, eol)
    })
}

// ---------------------------------------------------------------------------------------------
// YAML block structure.

/// The end (exclusive) of the block that starts after line `start` and holds the lines
/// indented more than `indent` (or, with `sequence_at_indent`, also `- ` items at `indent`,
/// which YAML allows under a key).
fn block_end(lines: &[Line], start: usize, indent: usize, sequence_at_indent: bool) -> usize {
    let mut end = start + 1;
    let mut last_content = start;
    while end < lines.len() {
        let l = &lines[end];
        if !l.is_filler() {
            let belongs = l.indent > indent
                || (sequence_at_indent && l.indent == indent && l.content().starts_with('-'));
            if !belongs {
                break;
            }
            last_content = end;
        }
        end += 1;
    }
    // Trailing blank lines and comments belong to what follows.
    last_content + 1
}

/// The first content line in `lines[from..to]`.
fn first_content(lines: &[Line], from: usize, to: usize) -> Option<usize> {
    (from..to).find(|&i| !lines[i].is_filler())
}

/// The smallest indentation step the file uses (2 when it has none).
fn unit(lines: &[Line]) -> usize {
    lines
        .iter()
        .filter(|l| !l.is_filler() && l.indent > 0)
        .map(|l| l.indent)
        .min()
        .unwrap_or(2)
}

/// A top-level key's line, refusing forms not edited here (`key: {…}`, `key: &anchor`).
fn top_level(lines: &[Line], key: &str) -> Result<Option<usize>, String> {
    let Some(i) = lines
        .iter()
        .position(|l| l.indent == 0 && l.value_of(key).is_some())
    else {
        return Ok(None);
    };
    match lines[i].value_of(key) {
        Some("") => Ok(Some(i)),
        Some(v) => Err(format!(
            "`{key}: {v}` is written in a form keyward does not edit"
        )),
        None => Ok(None),
    }
}

/// Removes the entry whose first line carries `mark` (with every line indented more than that
/// line), and a `commands:`/`jobs:` key, then a `pre-commit:`/`commit-msg:` key, left empty by
/// it.
fn yaml_remove(text: &str, mark: &str) -> Option<String> {
    let (raw, eol) = split(text);
    let lines: Vec<Line> = raw.iter().map(|l| Line::new(l)).collect();
    let at = lines.iter().position(|l| l.text.contains(mark))?;
    let end = block_end(&lines, at, lines[at].indent, false);
    let mut keep: Vec<bool> = vec![true; lines.len()];
    keep[at..end].iter_mut().for_each(|k| *k = false);
    // Walk up: a parent key whose only child was the entry goes too.
    let mut child = at;
    while let Some(parent) = (0..child).rev().find(|&i| !lines[i].is_filler()) {
        let p = &lines[parent];
        let is_container = ["commands", "jobs", "pre-commit", "commit-msg"]
            .iter()
            .any(|k| p.value_of(k) == Some(""));
        let parent_end = block_end(&lines, parent, p.indent, true);
        let only_child = (parent + 1..parent_end).all(|i| !keep[i] || lines[i].is_filler());
        if !(is_container && lines[child].indent >= p.indent && only_child) {
            break;
        }
        keep[parent..parent_end].iter_mut().for_each(|k| *k = false);
        // The blank line keyward put before a hook's block it appended at the end.
        if p.indent == 0
            && parent > 0
            && parent_end == lines.len()
            && lines[parent - 1].text.trim().is_empty()
        {
            keep[parent - 1] = false;
        }
        child = parent;
        if p.indent == 0 {
            break;
        }
    }
    let out: Vec<String> = raw
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(l, _)| l.to_string())
        .collect();
    Some(if out.is_empty() {
        String::new()
    } else {
        join(&out, eol)
    })
}

// ---------------------------------------------------------------------------------------------
// lefthook: `lefthook.yml` and its variants.

/// The `run:` value for `hook`, single-quoted for YAML (the command holds no single quote).
/// lefthook puts git's first argument where `{1}` is, unquoted: the quotes keep a path with
/// spaces (a linked worktree's message file) one word.
fn lefthook_run(hook: Hook) -> String {
    format!("run: '{}'", hook.command_with("\"{1}\""))
}

/// What to add by hand to a lefthook configuration.
pub(crate) fn lefthook_snippet() -> String {
    Hook::ALL
        .iter()
        .map(|&hook| {
            format!(
                "{}:\n  commands:\n    keyward:\n      {}\n",
                hook.name(),
                lefthook_run(hook)
            )
        })
        .collect()
}

/// Adds keyward's commands to lefthook's `pre-commit` and `commit-msg` hooks (see
/// [`lefthook_add`]); refused whole when either would be.
pub(crate) fn lefthook_add_all(text: &str) -> Edit {
    all(
        text,
        &[&|t| lefthook_add(t, Hook::PreCommit), &|t| {
            lefthook_add(t, Hook::CommitMsg)
        }],
    )
}

/// Adds a `keyward` command to lefthook's `hook` (`pre-commit:`, `commit-msg:`): to its
/// `commands:` (or `jobs:`) if it has them, else a `commands:` of its own; the hook at the
/// end when there is none.
pub(crate) fn lefthook_add(text: &str, hook: Hook) -> Edit {
    if let Some(done) = configured(reads::lefthook(&[text], hook)) {
        return done;
    }
    let mark = mark(hook);
    let run = lefthook_run(hook);
    let (raw, eol) = split(text);
    let lines: Vec<Line> = raw.iter().map(|l| Line::new(l)).collect();
    let mut out: Vec<String> = raw.iter().map(|l| l.to_string()).collect();
    let u = unit(&lines);
    let key = match top_level(&lines, hook.name()) {
        Ok(h) => h,
        Err(why) => return Edit::Refused(why),
    };
    let Some(hook) = key else {
        if out.last().is_some_and(|l| !l.trim().is_empty()) {
            out.push(String::new());
        }
        out.push(format!("{}:", hook.name()));
        out.push(format!("{}commands:", " ".repeat(u)));
        out.push(format!("{}keyward: {mark}", " ".repeat(2 * u)));
        out.push(format!("{}{run}", " ".repeat(3 * u)));
        return Edit::Added(join(&out, eol));
    };
    let end = block_end(&lines, hook, 0, false);
    let child = first_content(&lines, hook + 1, end).map_or(u, |i| lines[i].indent);
    let list = (hook + 1..end).find(|&i| {
        lines[i].indent == child
            && (lines[i].value_of("commands").is_some() || lines[i].value_of("jobs").is_some())
    });
    let Some(list) = list else {
        let step = child;
        let entry = [
            format!("{}commands:", " ".repeat(child)),
            format!("{}keyward: {mark}", " ".repeat(child + step)),
            format!("{}{run}", " ".repeat(child + 2 * step)),
        ];
        out.splice(hook + 1..hook + 1, entry);
        return Edit::Added(join(&out, eol));
    };
    let l = &lines[list];
    let jobs = l.value_of("jobs").is_some();
    let value = l.value_of("jobs").or(l.value_of("commands")).unwrap_or("");
    if !value.is_empty() {
        return Edit::Refused(format!(
            "`{}` is written in a form keyward does not edit",
            l.content()
        ));
    }
    let list_end = block_end(&lines, list, child, jobs);
    let first = first_content(&lines, list + 1, list_end);
    let entry = if jobs {
        let (indent, offset) = first.map_or((child + u, 2), |i| {
            let c = lines[i].content();
            let after = c.strip_prefix('-').unwrap_or(c);
            (lines[i].indent, 1 + after.len() - after.trim_start().len())
        });
        vec![
            format!(
                "{}-{}name: keyward {mark}",
                " ".repeat(indent),
                " ".repeat(offset - 1)
            ),
            format!("{}{run}", " ".repeat(indent + offset)),
        ]
    } else {
        let indent = first.map_or(child + u, |i| lines[i].indent);
        if (list + 1..list_end)
            .any(|i| lines[i].indent == indent && lines[i].value_of("keyward").is_some())
        {
            return Edit::Refused(
                "it has a command named `keyward` that does not run keyward's hook".into(),
            );
        }
        let step = indent - child;
        vec![
            format!("{}keyward: {mark}", " ".repeat(indent)),
            format!("{}{run}", " ".repeat(indent + step)),
        ]
    };
    out.splice(list + 1..list + 1, entry);
    Edit::Added(join(&out, eol))
}

/// Takes keyward's commands out of a lefthook configuration, the commit-msg one first (added
/// last, it may sit at the end after the other); `None` when neither is there.
pub(crate) fn lefthook_remove(text: &str) -> Option<String> {
    take_all(
        text,
        &[&|t| yaml_remove(t, MSG_YAML_MARK), &|t| {
            yaml_remove(t, YAML_MARK)
        }],
    )
}

// ---------------------------------------------------------------------------------------------
// The pre-commit framework: `.pre-commit-config.yaml`.

/// The entry for `hook`'s lines, each with its indentation relative to the list item's `-`.
/// `language: system`: the framework runs keyward's command, which finds the keyward this
/// machine has (whichever way the README's routes installed it) and blocks the commit where
/// there is none. (A `language: python` entry pinning `keyward-hook` from the package index
/// fails every commit for as long as that version is not published there.)
fn precommit_entry(hook: Hook) -> Vec<(usize, String)> {
    let mut lines = vec![
        (0, format!("repo: local {}", mark(hook))),
        (1, "hooks:".into()),
    ];
    lines.extend(match hook {
        Hook::PreCommit => vec![
            (2, "id: keyward".to_owned()),
            (3, "name: keyward (staged secrets and env files)".into()),
        ],
        Hook::CommitMsg => vec![
            (2, "id: keyward-commit-msg".to_owned()),
            (3, "name: keyward (secrets in the commit message)".into()),
        ],
    });
    // The framework passes the message file as the one file name, after the entry.
    lines.push((3, format!("entry: {}", hook.framework_entry())));
    lines.push((3, "language: system".into()));
    if hook == Hook::PreCommit {
        lines.push((3, "pass_filenames: false".into()));
    }
    lines.push((3, "always_run: true".into()));
    lines.push((3, format!("stages: [{}]", hook.name())));
    lines
}

/// The line that makes a plain `pre-commit install` install the commit-msg hook as well as
/// the pre-commit one: without it, the framework never runs a `commit-msg` stage.
fn hook_types_line() -> String {
    format!("default_install_hook_types: [pre-commit, commit-msg]  {HOOK_TYPES_MARK}")
}

/// What to add by hand to `.pre-commit-config.yaml`: under `repos:`, and at the top level.
pub(crate) fn precommit_snippet() -> String {
    let mut out = String::new();
    for hook in Hook::ALL {
        out.push_str(&(render_precommit(hook, 2, 2, 2).join("\n") + "\n"));
    }
    out.push_str("and at the top level:\n");
    out.push_str("default_install_hook_types: [pre-commit, commit-msg]\n");
    out
}

/// The entry for `hook` at item indentation `indent`, `offset` from `-` to the key, and
/// nested lists indented `nested` more than their key.
fn render_precommit(hook: Hook, indent: usize, offset: usize, nested: usize) -> Vec<String> {
    let dash = |n: usize, text: &str| {
        format!(
            "{}-{}{text}",
            " ".repeat(n),
            " ".repeat(offset.saturating_sub(1).max(1))
        )
    };
    precommit_entry(hook)
        .into_iter()
        .map(|(level, text)| match level {
            0 => dash(indent, &text),
            1 => format!("{}{text}", " ".repeat(indent + offset)),
            2 => dash(indent + offset + nested, &text),
            _ => format!("{}{text}", " ".repeat(indent + offset + nested + offset)),
        })
        .collect()
}

/// Adds keyward's entries for both hooks to `.pre-commit-config.yaml` (see
/// [`precommit_add`]), and `default_install_hook_types` when the file does not set it;
/// refused whole when any would be.
pub(crate) fn precommit_add_all(text: &str) -> Edit {
    all(
        text,
        &[
            &|t| precommit_add(t, Hook::PreCommit),
            &|t| precommit_add(t, Hook::CommitMsg),
            &precommit_hook_types_add,
        ],
    )
}

/// Adds a `repo: local` entry running keyward's check for `hook` (the keyward on this
/// machine, see [`precommit_entry`]) at the end of `repos:`, in the file's own list style.
pub(crate) fn precommit_add(text: &str, hook: Hook) -> Edit {
    if let Some(done) = configured(reads::framework(text, hook)) {
        return done;
    }
    let (raw, eol) = split(text);
    let lines: Vec<Line> = raw.iter().map(|l| Line::new(l)).collect();
    let repos = match top_level(&lines, "repos") {
        Ok(Some(i)) => i,
        Ok(None) => return Edit::Refused("it has no `repos:` list".into()),
        Err(why) => return Edit::Refused(why),
    };
    let end = block_end(&lines, repos, 0, true);
    let first = first_content(&lines, repos + 1, end);
    let (indent, offset) = match first {
        Some(i) => {
            let c = lines[i].content();
            let Some(after) = c.strip_prefix('-') else {
                return Edit::Refused("`repos:` is not a list of `- repo:` entries".into());
            };
            (lines[i].indent, 1 + after.len() - after.trim_start().len())
        }
        None => (2, 2),
    };
    // How the file nests `hooks:` lists: from the first `hooks:` key and its first item.
    let nested = (repos + 1..end)
        .find(|&i| lines[i].value_of("hooks").is_some())
        .and_then(|h| {
            let key = lines[h].indent + lines[h].content().find("hooks:").unwrap_or(0);
            first_content(&lines, h + 1, end).map(|i| lines[i].indent.saturating_sub(key))
        })
        .unwrap_or(2);
    let mut out: Vec<String> = raw.iter().map(|l| l.to_string()).collect();
    out.splice(end..end, render_precommit(hook, indent, offset, nested));
    Edit::Added(join(&out, eol))
}

/// The hook types `default_install_hook_types` gives `pre-commit install`: `None` when the
/// file does not set it (the framework installs the pre-commit hook alone), else the text of
/// its value (flow or block list).
pub(crate) fn precommit_hook_types(text: &str) -> Option<String> {
    let (raw, _) = split(text);
    let lines: Vec<Line> = raw.iter().map(|l| Line::new(l)).collect();
    let key = "default_install_hook_types";
    let at = lines
        .iter()
        .position(|l| l.indent == 0 && l.value_of(key).is_some())?;
    let end = block_end(&lines, at, 0, true);
    let mut value = lines[at].value_of(key).unwrap_or_default().to_owned();
    for l in &lines[at + 1..end] {
        if !l.is_filler() {
            value.push(' ');
            value.push_str(l.content());
        }
    }
    Some(value)
}

/// Adds [`hook_types_line`] before `repos:` when the file does not set
/// `default_install_hook_types`. A file that sets it without `commit-msg` is left as it is
/// (its list is the team's): the caller says what to add.
fn precommit_hook_types_add(text: &str) -> Edit {
    if precommit_hook_types(text).is_some() {
        return Edit::Already;
    }
    let (raw, eol) = split(text);
    let lines: Vec<Line> = raw.iter().map(|l| Line::new(l)).collect();
    let Ok(Some(repos)) = top_level(&lines, "repos") else {
        return Edit::Refused("it has no `repos:` list".into());
    };
    let mut out: Vec<String> = raw.iter().map(|l| l.to_string()).collect();
    out.insert(repos, hook_types_line());
    Edit::Added(join(&out, eol))
}

/// Takes keyward's entries and its `default_install_hook_types` line out of
/// `.pre-commit-config.yaml`, in the reverse order of [`precommit_add_all`]; `None` when none
/// is there.
pub(crate) fn precommit_remove(text: &str) -> Option<String> {
    take_all(
        text,
        &[
            &|t| {
                let (raw, eol) = split(t);
                let at = raw.iter().position(|l| l.contains(HOOK_TYPES_MARK))?;
                let out: Vec<String> = raw
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != at)
                    .map(|(_, l)| l.to_string())
                    .collect();
                Some(join(&out, eol))
            },
            &|t| yaml_remove(t, MSG_YAML_MARK),
            &|t| yaml_remove(t, YAML_MARK),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(e: Edit) -> String {
        match e {
            Edit::Added(t) => t,
            other => panic!("not added: {other:?}"),
        }
    }

    #[test]
    fn sh_lines_go_after_the_shebang_and_come_out_again() {
        for original in [
            "npm test\n",
            "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\n\nnpx lint-staged\n",
            "#!/bin/bash\r\nmake lint\r\n",
            "",
        ] {
            for hook in Hook::ALL {
                let new = added(sh_add(original, hook, false));
                assert!(hook.runs(&new), "{new}");
                assert_eq!(sh_add(&new, hook, false), Edit::Already);
                assert_eq!(sh_remove(&new, hook).as_deref(), Some(original), "{new}");
            }
        }
        let husky8 = added(sh_add(
            "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\nnpm test\n",
            Hook::PreCommit,
            false,
        ));
        assert!(
            husky8.lines().nth(2) == Some(Hook::PreCommit.sh_comment().as_str()),
            "{husky8}"
        );
        assert!(matches!(
            sh_add("#!/usr/bin/env python3\nprint()\n", Hook::CommitMsg, false),
            Edit::Refused(_)
        ));
        assert_eq!(sh_remove("npm test\n", Hook::PreCommit), None);
        // The commit-msg lines pass git's message file on.
        let msg = added(sh_add("", Hook::CommitMsg, false));
        assert!(
            msg.contains(" keyward commit-msg \"$1\" || exit $?\n"),
            "{msg}"
        );
        assert_eq!(sh_remove(&msg, Hook::PreCommit), None);
    }

    #[test]
    fn lefthook_commands_jobs_and_none() {
        let cases = [
            // No pre-commit hook yet (lefthook's generated file is all comments).
            "# EXAMPLE USAGE:\n#\n# pre-commit:\n#   commands:\n",
            "pre-push:\n  commands:\n    audit:\n      run: npm audit\n",
            // commands, 4-space indentation, a comment kept in place.
            "pre-commit:\n    parallel: true\n    commands:\n        # lint first\n        eslint:\n            run: npx eslint {staged_files}\n",
            // jobs, list items at the key's indentation.
            "pre-commit:\n  jobs:\n  - name: lint\n    run: npx eslint\npre-push:\n  jobs:\n    - run: npm test\n",
            // jobs, indented items.
            "pre-commit:\n  jobs:\n    -   name: lint\n        run: npx eslint\n",
            // A hook with only options.
            "pre-commit:\n  parallel: true\n",
            "",
        ];
        for original in cases {
            let new = added(lefthook_add_all(original));
            for hook in Hook::ALL {
                assert!(new.contains(&lefthook_run(hook)), "{new}");
                assert_eq!(lefthook_add(&new, hook), Edit::Already, "{new}");
            }
            assert_eq!(lefthook_add_all(&new), Edit::Already, "{new}");
            assert_eq!(lefthook_remove(&new).as_deref(), Some(original), "{new}");
            // An older keyward's configuration (pre-commit only) gains the commit-msg command,
            // and loses both again.
            let old = added(lefthook_add(original, Hook::PreCommit));
            let upgraded = added(lefthook_add_all(&old));
            assert_eq!(
                lefthook_remove(&upgraded).as_deref(),
                Some(original),
                "{upgraded}"
            );
        }
        let jobs = added(lefthook_add(cases[3], Hook::PreCommit));
        assert!(
            jobs.starts_with(&format!(
                "pre-commit:\n  jobs:\n  - name: keyward {YAML_MARK}\n    run: '"
            )),
            "{jobs}"
        );
        let four = added(lefthook_add(cases[2], Hook::PreCommit));
        assert!(
            four.contains(&format!(
                "    commands:\n        keyward: {YAML_MARK}\n            run: '"
            )),
            "{four}"
        );
        let indented = added(lefthook_add(cases[4], Hook::PreCommit));
        assert!(
            indented.contains(&format!(
                "    -   name: keyward {YAML_MARK}\n        run: '"
            )),
            "{indented}"
        );
    }

    #[test]
    fn lefthook_forms_not_edited_are_refused() {
        for text in [
            "pre-commit: {commands: {lint: {run: x}}}\n",
            "pre-commit: &hook\n  commands:\n    a:\n      run: x\n",
            "pre-commit:\n  commands: {a: {run: x}}\n",
            "pre-commit:\n  commands:\n    keyward:\n      run: echo not ours\n",
            // The commit-msg hook in a form not edited refuses the whole file.
            "commit-msg: {commands: {lint: {run: x}}}\n",
        ] {
            assert!(matches!(lefthook_add_all(text), Edit::Refused(_)), "{text}");
        }
    }

    #[test]
    fn precommit_entries_follow_the_file_style() {
        let styles = [
            "repos:\n-   repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v4.6.0\n    hooks:\n    -   id: trailing-whitespace\n",
            "default_stages: [pre-commit]\nrepos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n\n# trailing comment\nci:\n  autofix_prs: false\n",
            "repos:\n",
        ];
        for original in styles {
            let new = added(precommit_add_all(original));
            assert!(new.contains("language: system"), "{new}");
            // The entry reads back, as the framework's YAML parser reads it, as keyward's.
            assert_eq!(
                reads::framework(&new, Hook::PreCommit),
                Runs::Always(Launch::Shell),
                "{new}"
            );
            assert_eq!(
                reads::framework(&new, Hook::CommitMsg),
                Runs::Always(Launch::Shell),
                "{new}"
            );
            assert!(
                new.contains("exec keyward commit-msg \"$1\"' keyward\n"),
                "{new}"
            );
            assert!(
                precommit_hook_types(&new).is_some_and(|t| t.contains("commit-msg")),
                "{new}"
            );
            assert_eq!(precommit_add_all(&new), Edit::Already, "{new}");
            assert_eq!(precommit_remove(&new).as_deref(), Some(original), "{new}");
            // An older keyward's entry (pre-commit only) gains the rest, and all goes again.
            let old = added(precommit_add(original, Hook::PreCommit));
            let upgraded = added(precommit_add_all(&old));
            assert_eq!(
                precommit_remove(&upgraded).as_deref(),
                Some(original),
                "{upgraded}"
            );
        }
        // The team's own hook types are theirs: not edited (install says what to add).
        let typed = "default_install_hook_types:\n  - pre-commit\n  - pre-push\nrepos:\n";
        let new = added(precommit_add_all(typed));
        assert!(new.starts_with(typed), "{new}");
        assert!(precommit_hook_types(&new).is_some_and(|t| !t.contains("commit-msg")));
        assert_eq!(precommit_remove(&new).as_deref(), Some(typed));
        let msg = added(precommit_add(styles[0], Hook::CommitMsg));
        assert!(
            msg.contains(&format!(
                "-   repo: local {MSG_YAML_MARK}\n    hooks:\n    -   id: keyward-commit-msg\n"
            )) && msg.ends_with("        stages: [commit-msg]\n"),
            "{msg}"
        );
        let sample = added(precommit_add(styles[0], Hook::PreCommit));
        assert!(
            sample.contains(&format!(
                "-   repo: local {YAML_MARK}\n    hooks:\n    -   id: keyward\n        name:"
            )),
            "{sample}"
        );
        let indented = added(precommit_add(styles[1], Hook::PreCommit));
        assert!(
            indented.contains(&format!(
                "      - id: black\n  - repo: local {YAML_MARK}\n    hooks:\n      - id: keyward\n        name:"
            )),
            "{indented}"
        );
        assert!(indented.ends_with("\n# trailing comment\nci:\n  autofix_prs: false\n"));
        assert!(matches!(precommit_add_all("repos: []\n"), Edit::Refused(_)));
        assert!(matches!(
            precommit_add_all("fail_fast: true\n"),
            Edit::Refused(_)
        ));
        // Hooks of the keyward repository already configured count, each by its id.
        let remote = "repos:\n- repo: https://example.com/keyward\n  rev: v0.1.0\n  hooks:\n  - id: keyward\n";
        assert_eq!(precommit_add(remote, Hook::PreCommit), Edit::Already);
        assert!(matches!(
            precommit_add(remote, Hook::CommitMsg),
            Edit::Added(_)
        ));
        let both = format!("default_install_hook_types: [pre-commit, commit-msg]\n{remote}  - id: keyward-commit-msg\n");
        assert_eq!(precommit_add_all(&both), Edit::Already);
    }
}
