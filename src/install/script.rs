//! The texts keyward writes into hook files, and how keyward tells hook files apart by reading
//! them (never by running them).

use std::path::Path;

/// Marks keyward's committed pre-commit shim (`hooks/pre-commit` in this repository).
pub(crate) const SHIM_MARKER: &str = "keyward-pre-commit-shim";

/// Marks keyward's committed commit-msg shim (`hooks/commit-msg` in this repository).
pub(crate) const MSG_SHIM_MARKER: &str = "keyward-commit-msg-shim";

/// The pre-commit shim: POSIX `sh`, no machine's paths, so a team can commit it.
pub(crate) const SHIM: &str = include_str!("../../hooks/pre-commit");

/// The commit-msg shim, like [`SHIM`].
pub(crate) const MSG_SHIM: &str = include_str!("../../hooks/commit-msg");

/// A git hook keyward installs: `pre-commit` checks what the commit records, `commit-msg`
/// the message it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Hook {
    /// `pre-commit`: runs `keyward hook`.
    PreCommit,
    /// `commit-msg`: runs `keyward commit-msg FILE` on the message file git passes.
    CommitMsg,
}

impl Hook {
    /// Every hook keyward installs, in the order git runs them.
    pub(crate) const ALL: [Hook; 2] = [Hook::PreCommit, Hook::CommitMsg];

    /// git's name for it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hook::PreCommit => "pre-commit",
            Hook::CommitMsg => "commit-msg",
        }
    }

    /// The name keyward keeps the hook it replaced under, and runs after itself.
    pub(crate) fn chained(self) -> String {
        format!("{}.keyward-chained", self.name())
    }

    /// A name next to the hook (`pre-commit.old`, `commit-msg.legacy`).
    pub(crate) fn with(self, suffix: &str) -> String {
        format!("{}{suffix}", self.name())
    }

    /// keyward's committed shim for it.
    pub(crate) fn shim(self) -> &'static str {
        match self {
            Hook::PreCommit => SHIM,
            Hook::CommitMsg => MSG_SHIM,
        }
    }

    /// What it keeps out, for messages.
    pub(crate) fn what(self) -> &'static str {
        match self {
            Hook::PreCommit => "staged secrets",
            Hook::CommitMsg => "secrets in commit messages",
        }
    }

    /// The one shell command keyward adds to a manager's hook file or command list, with the
    /// message file as the manager spells git's first argument (`"$1"` in a hook file,
    /// `"{1}"` in lefthook's configuration): it runs keyward wherever it was installed,
    /// whether or not that is on `PATH`. (Every `sh` git ships with — dash, bash, BusyBox
    /// ash, Git for Windows' bash — looks the command up in the `PATH` given before it.)
    pub(crate) fn command_with(self, message_file: &str) -> String {
        match self {
            Hook::PreCommit => format!("PATH=\"{SEARCH_PATH}\" keyward hook"),
            Hook::CommitMsg => {
                format!("PATH=\"{SEARCH_PATH}\" keyward commit-msg {message_file}")
            }
        }
    }

    /// The pre-commit framework's `entry` for this hook's `language: system` hook: `sh` looks
    /// for keyward as [`Hook::command_with`] does and, where there is none, blocks the commit
    /// saying so (`sh`'s own "not found" would block it too, but say nothing useful). The
    /// framework passes the message file after the entry: `"$1"` of `sh -c '…' keyward FILE`.
    /// A YAML plain scalar: it holds no `: `, no ` #` and no single quote but `sh`'s.
    pub(crate) fn framework_entry(self) -> String {
        let args = match self {
            Hook::PreCommit => "hook",
            Hook::CommitMsg => "commit-msg \"$1\"",
        };
        format!(
            "sh -c 'PATH=\"{SEARCH_PATH}\"; command -v keyward >/dev/null || {{ echo \"keyward (the pre-commit framework {name} hook) cannot find keyward in {PROJECT_BIN}, PATH, ~/.local/bin or ~/.cargo/bin, so the commit is blocked. Install it ({HOW_TO_INSTALL}) and commit again.\" >&2; exit 1; }}; exec keyward {args}' keyward",
            name = self.name()
        )
    }

    /// [`Hook::command_with`] for a shell hook file, where git's first argument is `"$1"`.
    pub(crate) fn command(self) -> String {
        self.command_with("\"$1\"")
    }

    /// The comment line above keyward's command in a shell hook file; `uninstall` finds the
    /// command by it.
    pub(crate) fn sh_comment(self) -> String {
        format!(
            "# keyward: blocks {} (`keyward uninstall` removes these two lines)",
            self.what()
        )
    }

    /// The two lines keyward adds to a shell hook file (husky's `.husky/pre-commit`, a
    /// committed hook).
    pub(crate) fn sh_lines(self) -> [String; 2] {
        [self.sh_comment(), format!("{} || exit $?", self.command())]
    }

    /// Whether shell (or a manager's) text runs keyward's check for this hook on some line
    /// that is not a comment.
    pub(crate) fn runs(self, text: &str) -> bool {
        match self {
            Hook::PreCommit => runs_keyward(text),
            Hook::CommitMsg => text.lines().any(|line| {
                let line = line.trim_start();
                !line.starts_with('#')
                    && (line.contains("keyward commit-msg")
                        || line.contains("keyward\" commit-msg")
                        || line.contains("keyward' commit-msg"))
            }),
        }
    }
}

/// Where keyward's lines in other tools' files look for keyward first: the version a Node
/// project pins (`npm install --save-dev keyward`), relative to the work tree's root, where
/// git runs its hooks. Before `PATH`, so a stale or foreign `keyward` there cannot stand in
/// for the pinned one (husky puts it first too).
pub(crate) const PROJECT_BIN: &str = "node_modules/.bin";

/// Where keyward's lines in other tools' files look for keyward after `PATH`: `install.sh` and
/// pipx (`~/.local/bin`), `cargo install` (`~/.cargo/bin`). Appended to `PATH`, so a keyward
/// on `PATH` wins over these.
pub(crate) const FALLBACK_PATH: &str = "$HOME/.local/bin:$HOME/.cargo/bin";

/// The whole search, as the `PATH` of keyward's command: [`PROJECT_BIN`], `PATH`,
/// [`FALLBACK_PATH`].
pub(crate) const SEARCH_PATH: &str = "node_modules/.bin:$PATH:$HOME/.local/bin:$HOME/.cargo/bin";

/// How to install keyward, for messages printed where it is missing: first what works before
/// a release too (the registries' packages wait for one). It goes into shell text inside
/// quotes, so it holds none.
pub(crate) const HOW_TO_INSTALL: &str = "./install.sh in a keyward checkout or a release archive; \
     once keyward is released, also pip install keyward-hook or npm install --save-dev keyward";

/// The script for `hook` running `binary` (or, when it has moved, the first keyward found on
/// `PATH`, in `~/.local/bin` or `~/.cargo/bin`), then the hook it replaced, with the same
/// arguments, environment and standard input.
pub(crate) fn script(binary: &Path, hook: Hook) -> String {
    // The path itself, not its escaped display: `sh` reads it between single quotes.
    let path = binary.to_string_lossy();
    #[cfg(windows)]
    let path = path.replace('\\', "/");
    let quoted = path.replace('\'', r"'\''");
    format!(
        r#"#!/bin/sh
# {marker}
# keyward-version: {version}
# Installed by `keyward install`; `keyward uninstall` restores the hook that was here before.
KEYWARD='{quoted}'
if [ ! -x "$KEYWARD" ]; then
    for KEYWARD in "$(command -v keyward 2>/dev/null)" "$HOME/.local/bin/keyward" "$HOME/.cargo/bin/keyward"; do
        [ -x "$KEYWARD" ] && break
    done
fi
if [ ! -x "$KEYWARD" ]; then
    echo "keyward: the {name} hook cannot find keyward, so the commit is blocked." >&2
    echo "keyward: install it: {HOW_TO_INSTALL}" >&2
    echo "keyward: bypass once (not recommended): git commit --no-verify" >&2
    exit 1
fi
KEYWARD_HOOK="$0" "$KEYWARD" {args} || exit $?
chained="$(dirname "$0")/{chained}"
if [ -x "$chained" ]; then
    exec "$chained" "$@"
fi
"#,
        marker = crate::HOOK_MARKER,
        version = env!("CARGO_PKG_VERSION"),
        name = hook.name(),
        chained = hook.chained(),
        args = match hook {
            Hook::PreCommit => "hook",
            Hook::CommitMsg => "commit-msg \"$1\"",
        },
    )
}

/// What a hook file is, read from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// keyward's hook script (or the binary itself, as the first version installed it).
    Keyward {
        /// `keyward-version:` (`"0"` when absent).
        version: String,
        /// The binary it runs.
        binary: Option<std::path::PathBuf>,
    },
    /// keyward's portable shim for this hook.
    Shim(Hook),
    /// husky 9's generated stub, which runs the team's file of the same name in `.husky/`.
    HuskyStub,
    /// A husky 8 hook (the team's own file, sourcing `_/husky.sh`).
    Husky8,
    /// husky 4's generated hook, which runs `husky.hooks` from `package.json`.
    Husky4,
    /// lefthook's generated hook, which runs `lefthook.yml`.
    Lefthook,
    /// The pre-commit framework's generated hook, which runs `.pre-commit-config.yaml`.
    PreCommit,
    /// simple-git-hooks' generated hook (its command copied from `package.json`).
    SimpleGitHooks,
    /// Anything else.
    Other,
}

/// What the hook file with bytes `bytes` is.
pub(crate) fn kind(bytes: &[u8]) -> Kind {
    let has = |s: &str| memchr::memmem::find(bytes, s.as_bytes()).is_some();
    if has(crate::HOOK_MARKER) {
        let text = String::from_utf8_lossy(bytes);
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("# keyward-version: "))
            .unwrap_or("0") // the binary-as-hook of the first version carried none
            .trim()
            .to_owned();
        let binary = text.lines().find_map(|l| {
            l.strip_prefix("KEYWARD='")
                .and_then(|r| r.strip_suffix('\''))
                .map(|b| std::path::PathBuf::from(b.replace(r"'\''", "'")))
        });
        return Kind::Keyward { version, binary };
    }
    if has(SHIM_MARKER) || has("keyward's pre-commit shim") {
        Kind::Shim(Hook::PreCommit)
    } else if has(MSG_SHIM_MARKER) {
        Kind::Shim(Hook::CommitMsg)
    } else if has("File generated by pre-commit: https://pre-commit.com") {
        Kind::PreCommit
    } else if has("call_lefthook")
        || (has("lefthook") && (has("run \"pre-commit\"") || has("run \"commit-msg\"")))
    {
        Kind::Lefthook
    } else if has(". \"$(dirname \"$0\")/h\"") {
        Kind::HuskyStub
    } else if has("_/husky.sh") {
        Kind::Husky8
    } else if has("husky-run") || has("Created by Husky v4") || has("husky.local.sh") {
        Kind::Husky4
    } else if has("SKIP_SIMPLE_GIT_HOOKS") {
        Kind::SimpleGitHooks
    } else {
        Kind::Other
    }
}

/// Whether shell text runs keyward's pre-commit check on some line that is not a comment.
pub(crate) fn runs_keyward(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        !line.starts_with('#')
            && (line.contains("keyward hook")
                || line.contains("keyward scan --staged")
                || line.contains("keyward\" hook")
                || line.contains("keyward' hook"))
    })
}

/// How one shell statement's commands are joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Pipe,
}

/// One shell statement: its commands, each with the operator before it; and whether it runs
/// in the background (`&`).
type Statement = (Vec<(Option<Op>, String)>, bool);

/// Shell `text` cut into statements (at `;`, `&` and line ends outside quotes), each cut into
/// its commands with the operator before each (`&&`, `||`, `|`) and whether it runs in the
/// background. A reading for one question, not a shell parser: braces and `if` are not
/// understood, which only ever makes [`unsafe_line`] stricter.
fn statements(text: &str) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut items: Vec<(Option<Op>, String)> = Vec::new();
    let mut word = String::new();
    let mut op = None;
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    let mut end = |items: &mut Vec<(Option<Op>, String)>,
                   word: &mut String,
                   op: &mut Option<Op>,
                   background: bool| {
        items.push((op.take(), std::mem::take(word).trim().to_owned()));
        let statement = std::mem::take(items);
        if statement.iter().any(|(_, w)| !w.is_empty()) {
            out.push((statement, background));
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                word.push(c);
            }
            (Some('"'), '\\') | (None, '\\') => {
                word.push(c);
                word.extend(chars.next());
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.push(c);
            }
            (None, '#') if word.is_empty() || word.ends_with(char::is_whitespace) => {
                // A comment, to the end of the line.
                while chars.next_if(|&n| n != '\n').is_some() {}
            }
            (None, '\n' | ';') => end(&mut items, &mut word, &mut op, false),
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                items.push((
                    op.replace(Op::And),
                    std::mem::take(&mut word).trim().to_owned(),
                ));
            }
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                items.push((
                    op.replace(Op::Or),
                    std::mem::take(&mut word).trim().to_owned(),
                ));
            }
            (None, '|') => {
                items.push((
                    op.replace(Op::Pipe),
                    std::mem::take(&mut word).trim().to_owned(),
                ));
            }
            // `>&2`, `&>`: redirections, not a background job.
            (None, '&') if word.ends_with(['>', '<']) || chars.peek() == Some(&'>') => word.push(c),
            (None, '&') => end(&mut items, &mut word, &mut op, true),
            (None, c) => word.push(c),
        }
    }
    end(&mut items, &mut word, &mut op, false);
    out
}

/// Whether shell `text`, run as a hook (with `sh -e` when `errexit`), stops the commit when
/// its keyward check for `hook` fails: `None` when some command running it does (or none runs
/// it: see [`Hook::runs`]), else the first command that runs it and lets a failure through —
/// `keyward hook && lint || true`, `keyward hook && format; lint`, `lint || keyward hook`.
/// Stops it: `… || exit $?` (`exit 1`) after keyward, `exec keyward …`, and keyward (or an
/// `&&` chain from it) as the script's last statement, or, under `sh -e`, alone at the end of
/// its statement.
pub(crate) fn unsafe_line(text: &str, hook: Hook, errexit: bool) -> Option<String> {
    let statements = statements(text);
    let mut first_unsafe = None;
    for (at, (items, background)) in statements.iter().enumerate() {
        let Some(k) = items.iter().position(|(_, w)| hook.runs(w)) else {
            continue;
        };
        let last = at + 1 == statements.len();
        let before_ok = items[..=k]
            .iter()
            .all(|(op, _)| *op != Some(Op::Or) && *op != Some(Op::Pipe));
        let after: Vec<&(Option<Op>, String)> = items[k + 1..].iter().collect();
        let exec = items[k].1.starts_with("exec ") && after.is_empty();
        let stops = !background
            && before_ok
            && (exec
                || match after.first() {
                    Some((Some(Op::Or), next)) => next.starts_with("exit"),
                    Some(_) => last && after.iter().all(|(op, _)| *op == Some(Op::And)),
                    None => last || errexit,
                });
        if stops {
            return None;
        }
        first_unsafe.get_or_insert_with(|| {
            items
                .iter()
                .map(|(op, w)| match op {
                    Some(Op::And) => format!(" && {w}"),
                    Some(Op::Or) => format!(" || {w}"),
                    Some(Op::Pipe) => format!(" | {w}"),
                    None => w.clone(),
                })
                .collect::<String>()
        });
    }
    first_unsafe
}

/// `a < b` for dotted version numbers.
pub(crate) fn older(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_install_hint_fits_inside_shell_quotes_and_names_a_route_that_works_today() {
        assert!(!HOW_TO_INSTALL.contains(['\'', '"', '`', '$', '\\']));
        assert!(HOW_TO_INSTALL.starts_with("./install.sh"));
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(older("0.1.0", "0.2.0"));
        assert!(older("0.9.0", "0.10.0"));
        assert!(!older("1.0.0", "1.0.0"));
        assert!(older("0", "0.1.0"));
    }

    #[test]
    fn the_script_quotes_the_binary_path_and_reads_back() {
        let s = script(Path::new("/opt/it's here/keyward"), Hook::PreCommit);
        assert!(s.contains(r"KEYWARD='/opt/it'\''s here/keyward'"));
        assert_eq!(
            kind(s.as_bytes()),
            Kind::Keyward {
                version: env!("CARGO_PKG_VERSION").into(),
                binary: Some("/opt/it's here/keyward".into())
            }
        );
        // The script's own call is not one a manager file would carry.
        assert!(!runs_keyward(&s));
        let m = script(Path::new("/opt/keyward"), Hook::CommitMsg);
        assert!(
            m.contains("\"$KEYWARD\" commit-msg \"$1\" || exit $?"),
            "{m}"
        );
        assert!(m.contains("/commit-msg.keyward-chained\"\n"), "{m}");
        assert!(matches!(kind(m.as_bytes()), Kind::Keyward { .. }));
    }

    #[test]
    fn hook_files_are_told_apart() {
        for (text, want) in [
            (SHIM, Kind::Shim(Hook::PreCommit)),
            (MSG_SHIM, Kind::Shim(Hook::CommitMsg)),
            (
                "#!/bin/sh\ncall_lefthook run \"commit-msg\" \"$@\"\n",
                Kind::Lefthook,
            ),
            ("#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"", Kind::HuskyStub),
            (
                "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\nnpm test\n",
                Kind::Husky8,
            ),
            ("#!/bin/sh\ncall_lefthook run \"pre-commit\" \"$@\"\n", Kind::Lefthook),
            (
                "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n",
                Kind::PreCommit,
            ),
            (
                "#!/bin/sh\nif [ \"$SKIP_SIMPLE_GIT_HOOKS\" = \"1\" ]; then exit 0; fi\nnpx lint-staged\n",
                Kind::SimpleGitHooks,
            ),
            ("#!/bin/sh\nexit 0\n", Kind::Other),
        ] {
            assert_eq!(kind(text.as_bytes()), want, "{text}");
        }
    }

    #[test]
    fn a_failing_keyward_stops_the_commit_only_in_some_forms() {
        let k = Hook::PreCommit.command();
        for (text, errexit, stops) in [
            (format!("{k} || exit $?\nnpm test\n"), false, true),
            (
                format!("{k} || exit 1; npx lint-staged || true"),
                false,
                true,
            ),
            (format!("{k} && npx lint-staged"), false, true),
            (format!("npx lint-staged && {k}"), false, true),
            (format!("{k}\nnpm test\n"), true, true),
            (format!("exec {k}"), false, true),
            (Hook::PreCommit.framework_entry(), false, true),
            (format!("{k} && npx lint-staged || true"), false, false),
            (format!("{k} && echo format; echo lint"), false, false),
            (format!("{k} && echo format\necho lint"), true, false),
            (format!("{k}\nnpm test\n"), false, false),
            (format!("npx lint-staged || {k}"), false, false),
            (format!("{k} | tee log"), false, false),
            (format!("{k} & wait"), false, false),
            // Separators in quotes and comments are not separators.
            (format!("{k} && echo 'a; b' \"c || d\" # e; f"), false, true),
        ] {
            assert_eq!(
                unsafe_line(&text, Hook::PreCommit, errexit).is_none(),
                stops,
                "{text}"
            );
        }
    }

    #[test]
    fn keyward_lines_are_found_outside_comments() {
        assert!(runs_keyward(&Hook::PreCommit.sh_lines().join("\n")));
        // Each hook's lines are its own.
        let msg = Hook::CommitMsg.sh_lines().join("\n");
        assert!(Hook::CommitMsg.runs(&msg) && !Hook::PreCommit.runs(&msg));
        assert!(!Hook::CommitMsg.runs(&Hook::PreCommit.sh_lines().join("\n")));
        assert!(Hook::CommitMsg.runs("npx keyward commit-msg \"$1\"\n"));
        assert!(!Hook::CommitMsg.runs("# keyward commit-msg \"$1\"\n"));
        assert!(runs_keyward("npx keyward hook\n"));
        assert!(runs_keyward("exec ~/.local/bin/keyward hook"));
        assert!(!runs_keyward("# keyward hook\nnpm test\n"));
        assert!(!runs_keyward("npm test\n"));
    }
}
