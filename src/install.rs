//! `keyward install`, `uninstall` and `status`: the hook in a repository (or in git's template
//! directory, for every repository cloned or created afterwards).
//!
//! The hook is a short POSIX `sh` script that runs the installed keyward binary and then, if
//! keyward passes, the hook that was there before (kept beside it as
//! `pre-commit.keyward-chained`, with the same arguments, environment and standard input, its
//! exit status counting). Uninstalling removes the script and puts the previous hook back
//! byte for byte. Where hooks live is asked of git (`core.hooksPath`, linked worktrees).

use crate::cli::{HookAction, Target};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The file name of the hook that keyward replaced and now runs after itself.
pub const CHAINED: &str = "pre-commit.keyward-chained";

/// Errors from installing or inspecting the hook; each is one line.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// `git` could not say where the hooks live.
    #[error("{0}: not a git repository (or git is not installed)")]
    NotARepository(String),
    /// A file operation failed.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: String,
        /// Why.
        message: String,
    },
    /// The hook is not keyward's; nothing was changed.
    #[error("{0} is not keyward's hook; leaving it alone")]
    Foreign(String),
    /// A previous hook is already kept aside and the current one is not keyward's.
    #[error("{0} already exists; move it away before installing")]
    ChainTaken(String),
}

fn io(path: &Path, e: std::io::Error) -> InstallError {
    InstallError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// What `install` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// A new hook.
    Fresh,
    /// A new hook; the previous one runs after keyward.
    Chained,
    /// keyward's hook was rewritten (another version or binary path).
    Updated,
    /// keyward's hook was already exactly this one.
    Unchanged,
}

/// What `status` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// No pre-commit hook.
    Missing,
    /// A hook that is not keyward's.
    Foreign,
    /// keyward's hook, written by an older keyward.
    Outdated(String),
    /// keyward's hook, pointing at a binary that no longer exists.
    BinaryMissing(PathBuf),
    /// keyward's hook, current; `chained` when it runs a previous hook after itself.
    Current {
        /// A previous hook runs after keyward.
        chained: bool,
    },
}

/// The absolute hooks directory of the repository at `repo`, as git computes it.
pub fn hooks_dir(repo: &Path) -> Result<PathBuf, InstallError> {
    let out = Command::new("git")
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .current_dir(repo)
        .output()
        .map_err(|_| InstallError::NotARepository(repo.display().to_string()))?;
    if !out.status.success() {
        return Err(InstallError::NotARepository(repo.display().to_string()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(PathBuf::from(text.trim_end_matches(['\n', '\r'])))
}

/// The hook script for `binary`.
pub fn script(binary: &Path) -> String {
    let quoted = binary.display().to_string().replace('\'', r"'\''");
    format!(
        r#"#!/bin/sh
# {marker}
# keyward-version: {version}
# Installed by `keyward install`; `keyward uninstall` restores the hook that was here before.
KEYWARD='{quoted}'
if [ ! -x "$KEYWARD" ]; then
    KEYWARD=$(command -v keyward 2>/dev/null) || KEYWARD="$HOME/.local/bin/keyward"
fi
if [ ! -x "$KEYWARD" ]; then
    echo "keyward: the pre-commit hook cannot find keyward, so the commit is blocked." >&2
    echo "keyward: install it: ./install.sh in the keyward checkout (bypass once, not recommended: git commit --no-verify)" >&2
    exit 1
fi
"$KEYWARD" hook || exit $?
chained="$(dirname "$0")/{CHAINED}"
if [ -x "$chained" ]; then
    exec "$chained" "$@"
fi
"#,
        marker = crate::HOOK_MARKER,
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// Whether `path` holds keyward's hook (the script, or the binary itself as earlier versions
/// installed it).
fn is_keyward(path: &Path) -> bool {
    std::fs::read(path)
        .is_ok_and(|bytes| memchr::memmem::find(&bytes, crate::HOOK_MARKER.as_bytes()).is_some())
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Installs the hook into `hooks`, keeping and chaining a foreign one.
pub fn install(hooks: &Path, binary: &Path) -> Result<Installed, InstallError> {
    std::fs::create_dir_all(hooks).map_err(|e| io(hooks, e))?;
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(CHAINED);
    let text = script(binary);
    let outcome = if !exists(&hook) {
        Installed::Fresh
    } else if is_keyward(&hook) {
        if std::fs::read(&hook).is_ok_and(|b| b == text.as_bytes()) {
            return Ok(Installed::Unchanged);
        }
        Installed::Updated
    } else {
        keep_aside(&hook, &chained)?;
        Installed::Chained
    };
    write_executable(&hook, text.as_bytes())?;
    Ok(outcome)
}

/// Keeps the team's hook at `chained`, exactly (bytes, mode, symlink-ness). A hard link is
/// made first: it fails when the name is taken, so two installs running at once cannot chain
/// one over the other (the loser says so), and `hook` is never missing — the new hook replaces
/// it in one rename, so a commit made meanwhile runs one hook or the other, never none.
fn keep_aside(hook: &Path, chained: &Path) -> Result<(), InstallError> {
    let taken = || InstallError::ChainTaken(chained.display().to_string());
    match std::fs::hard_link(hook, chained) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(taken()),
        // A file system without hard links: a rename keeps the file as exactly.
        Err(_) if exists(chained) => Err(taken()),
        Err(_) => std::fs::rename(hook, chained).map_err(|e| io(hook, e)),
    }
}

/// Writes the hook to a temporary file beside it and renames it into place: the path git
/// executes never names a file open for writing (an `exec` of one fails with ETXTBSY), and a
/// reader sees the old hook or the new one, whole. keyward starts no process while it writes.
fn write_executable(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt;
    let tmp = path.with_file_name(format!("pre-commit.keyward-new.{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

/// Removes keyward's hook from `hooks` and puts back the one it replaced. `Ok(false)` when
/// there was no keyward hook.
pub fn uninstall(hooks: &Path) -> Result<bool, InstallError> {
    let hook = hooks.join("pre-commit");
    if !exists(&hook) {
        return Ok(false);
    }
    if !is_keyward(&hook) {
        return Err(InstallError::Foreign(hook.display().to_string()));
    }
    std::fs::remove_file(&hook).map_err(|e| io(&hook, e))?;
    let chained = hooks.join(CHAINED);
    if exists(&chained) {
        std::fs::rename(&chained, &hook).map_err(|e| io(&chained, e))?;
    }
    Ok(true)
}

/// What the hook in `hooks` is.
pub fn status(hooks: &Path) -> Status {
    let hook = hooks.join("pre-commit");
    if !exists(&hook) {
        return Status::Missing;
    }
    if !is_keyward(&hook) {
        return Status::Foreign;
    }
    let text = std::fs::read_to_string(&hook).unwrap_or_default();
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("# keyward-version: "))
        .unwrap_or("0"); // the binary-as-hook of the first version carried none
    if older(version, env!("CARGO_PKG_VERSION")) {
        return Status::Outdated(version.to_owned());
    }
    let binary = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("KEYWARD='")
                .and_then(|r| r.strip_suffix('\''))
        })
        .map(|b| PathBuf::from(b.replace(r"'\''", "'")));
    if let Some(b) = binary.filter(|b| !b.exists()) {
        return Status::BinaryMissing(b);
    }
    Status::Current {
        chained: exists(&hooks.join(CHAINED)),
    }
}

/// `a < b` for dotted version numbers.
fn older(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}

/// The template directory that `keyward install --global` uses: git's `init.templateDir` if
/// the user has one, else keyward's own, which is then registered with git.
pub fn global_template() -> Result<PathBuf, InstallError> {
    let out = Command::new("git")
        .args(["config", "--global", "--path", "--get", "init.templateDir"])
        .output()
        .map_err(|_| InstallError::NotARepository("git".into()))?;
    let configured = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() && !configured.is_empty() {
        return Ok(PathBuf::from(configured));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| InstallError::Io {
        path: "$HOME".into(),
        message: "not set".into(),
    })?;
    let dir = PathBuf::from(home).join(".config/keyward/git-template");
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
    let set = Command::new("git")
        .args(["config", "--global", "init.templateDir"])
        .arg(&dir)
        .status()
        .map_err(|e| io(&dir, e))?;
    if !set.success() {
        return Err(InstallError::Io {
            path: "git config --global init.templateDir".into(),
            message: "could not be set".into(),
        });
    }
    Ok(dir)
}

/// One line of output from [`run`].
#[derive(Debug)]
pub enum Line {
    /// Something done or found in order.
    Done(String),
    /// A check that failed (`status`).
    Problem(String),
    /// An error; nothing was changed at that place.
    Error(InstallError),
}

/// Carries out `keyward install | uninstall | status` at each place of `target`, installing
/// hooks that run `binary`.
pub fn run(action: HookAction, target: Target, binary: &Path) -> Vec<Line> {
    let places: Vec<(String, Result<PathBuf, InstallError>)> = match target {
        Target::Global => vec![(
            "git's template directory".to_owned(),
            global_template().map(|t| t.join("hooks")),
        )],
        Target::Repos(repos) => repos
            .into_iter()
            .map(|r| (r.display().to_string(), hooks_dir(&r)))
            .collect(),
    };
    places
        .into_iter()
        .map(
            |(name, hooks)| match hooks.and_then(|h| act(action, &h, &name, binary)) {
                Ok(line) => line,
                Err(e) => Line::Error(e),
            },
        )
        .collect()
}

fn act(action: HookAction, hooks: &Path, name: &str, binary: &Path) -> Result<Line, InstallError> {
    let hook = hooks.join("pre-commit").display().to_string();
    let version = env!("CARGO_PKG_VERSION");
    Ok(match action {
        HookAction::Install => Line::Done(match install(hooks, binary)? {
            Installed::Fresh => format!("installed {hook}"),
            Installed::Chained => {
                format!("installed {hook}; the previous hook runs after keyward passes ({CHAINED})")
            }
            Installed::Updated => format!("updated {hook}"),
            Installed::Unchanged => format!("{hook} is already up to date"),
        }),
        HookAction::Uninstall => Line::Done(if uninstall(hooks)? {
            format!("removed keyward's hook from {hook} (any previous hook is back)")
        } else {
            format!("no hook at {hook}; nothing to do")
        }),
        HookAction::Status => match status(hooks) {
            Status::Current { chained } => Line::Done(format!(
                "{hook} runs keyward {version}{}",
                if chained { ", then the previous hook" } else { "" }
            )),
            Status::Missing => Line::Problem(format!("no pre-commit hook in {name}: run keyward install")),
            Status::Foreign => {
                Line::Problem(format!("{hook} is not keyward's hook: run keyward install to chain it"))
            }
            Status::Outdated(v) => Line::Problem(format!(
                "{hook} was installed by keyward {v}, older than this keyward {version}: run keyward install"
            )),
            Status::BinaryMissing(b) => Line::Problem(format!(
                "{hook} runs {}, which no longer exists: run ./install.sh",
                b.display()
            )),
        },
    })
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
    fn the_script_quotes_the_binary_path() {
        let s = script(Path::new("/opt/it's here/keyward"));
        assert!(s.contains(r"KEYWARD='/opt/it'\''s here/keyward'"));
        assert!(s.contains(crate::HOOK_MARKER));
    }
}
