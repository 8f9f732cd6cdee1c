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
            Hook::PreCommit => format!("PATH=\"$PATH:{FALLBACK_PATH}\" keyward hook"),
            Hook::CommitMsg => {
                format!("PATH=\"$PATH:{FALLBACK_PATH}\" keyward commit-msg {message_file}")
            }
        }
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

/// Where keyward's lines in other tools' files look for keyward after `PATH`: `install.sh` and
/// pipx (`~/.local/bin`), `cargo install` (`~/.cargo/bin`), `npm install --save-dev keyward`
/// (`node_modules/.bin`, relative to the work tree's root, where git runs pre-commit hooks).
/// Appended to `PATH`, so whatever is on `PATH` wins.
pub(crate) const FALLBACK_PATH: &str = "$HOME/.local/bin:$HOME/.cargo/bin:node_modules/.bin";

/// How to install keyward, for messages printed where it is missing.
pub(crate) const HOW_TO_INSTALL: &str =
    "pip install keyward-hook, npm install --save-dev keyward, or ./install.sh in a keyward checkout";

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

/// `a < b` for dotted version numbers.
pub(crate) fn older(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}

#[cfg(test)]
mod tests {
    use super::*;

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
