//! The texts keyward writes into hook files, and how keyward tells hook files apart by reading
//! them (never by running them).

use std::path::Path;

/// The file name of the hook that keyward replaced and now runs after itself.
pub const CHAINED: &str = "pre-commit.keyward-chained";

/// Marks keyward's committed shim (`hooks/pre-commit` in this repository).
pub const SHIM_MARKER: &str = "keyward-pre-commit-shim";

/// The shim: POSIX `sh`, no machine's paths, so a team can commit it.
pub const SHIM: &str = include_str!("../../hooks/pre-commit");

/// Where keyward's lines in other tools' files look for keyward after `PATH`: `install.sh` and
/// pipx (`~/.local/bin`), `cargo install` (`~/.cargo/bin`), `npm install --save-dev keyward`
/// (`node_modules/.bin`, relative to the work tree's root, where git runs pre-commit hooks).
/// Appended to `PATH`, so whatever is on `PATH` wins.
pub const FALLBACK_PATH: &str = "$HOME/.local/bin:$HOME/.cargo/bin:node_modules/.bin";

/// The one shell command keyward adds to a manager's hook file or command list: it runs
/// keyward wherever it was installed, whether or not that is on `PATH`. (Every `sh` git ships
/// with — dash, bash, BusyBox ash, Git for Windows' bash — looks the command up in the `PATH`
/// given before it.)
pub fn command() -> String {
    format!("PATH=\"$PATH:{FALLBACK_PATH}\" keyward hook")
}

/// The comment line above keyward's command in a shell hook file; `uninstall` finds the
/// command by it.
pub const SH_COMMENT: &str =
    "# keyward: blocks staged secrets (`keyward uninstall` removes these two lines)";

/// The two lines keyward adds to a shell hook file (husky's `.husky/pre-commit`, a committed
/// hook).
pub fn sh_lines() -> [String; 2] {
    [SH_COMMENT.to_owned(), format!("{} || exit $?", command())]
}

/// How to install keyward, for messages printed where it is missing.
pub const HOW_TO_INSTALL: &str =
    "pip install keyward-hook, npm install --save-dev keyward, or ./install.sh in a keyward checkout";

/// The hook script for `binary`: runs it (or, when it has moved, the first keyward found on
/// `PATH`, in `~/.local/bin` or `~/.cargo/bin`), then the hook it replaced.
pub fn script(binary: &Path) -> String {
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
    echo "keyward: the pre-commit hook cannot find keyward, so the commit is blocked." >&2
    echo "keyward: install it: {HOW_TO_INSTALL}" >&2
    echo "keyward: bypass once (not recommended): git commit --no-verify" >&2
    exit 1
fi
KEYWARD_HOOK="$0" "$KEYWARD" hook || exit $?
chained="$(dirname "$0")/{CHAINED}"
if [ -x "$chained" ]; then
    exec "$chained" "$@"
fi
"#,
        marker = crate::HOOK_MARKER,
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// What a hook file is, read from its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// keyward's hook script (or the binary itself, as the first version installed it).
    Keyward {
        /// `keyward-version:` (`"0"` when absent).
        version: String,
        /// The binary it runs.
        binary: Option<std::path::PathBuf>,
    },
    /// keyward's portable shim.
    Shim,
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
pub fn kind(bytes: &[u8]) -> Kind {
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
        Kind::Shim
    } else if has("File generated by pre-commit: https://pre-commit.com") {
        Kind::PreCommit
    } else if has("call_lefthook") || (has("lefthook") && has("run \"pre-commit\"")) {
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

/// Whether shell text runs keyward's hook on some line that is not a comment.
pub fn runs_keyward(text: &str) -> bool {
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
pub fn older(a: &str, b: &str) -> bool {
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
        let s = script(Path::new("/opt/it's here/keyward"));
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
    }

    #[test]
    fn hook_files_are_told_apart() {
        for (text, want) in [
            (SHIM, Kind::Shim),
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
        assert!(runs_keyward(&sh_lines().join("\n")));
        assert!(runs_keyward("npx keyward hook\n"));
        assert!(runs_keyward("exec ~/.local/bin/keyward hook"));
        assert!(!runs_keyward("# keyward hook\nnpm test\n"));
        assert!(!runs_keyward("npm test\n"));
    }
}
