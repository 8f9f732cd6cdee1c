//! git's template directory for `keyward install --global`: what `git init` and `git clone`
//! copy into every new repository's `.git`.
//!
//! A template directory replaces git's own (`/usr/share/git-core/templates`), it is not added
//! to it: a template holding only `hooks/` gives new repositories no `.git/info/`, and tools
//! that append to `.git/info/exclude` (or git itself, with `git sparse-checkout`) then fail.
//! So the template keyward creates carries `info/exclude` as git's own does.

use super::{io, InstallError, Line};
use crate::cli::HookAction;
use std::path::{Path, PathBuf};
use std::process::Command;

/// git's default `info/exclude`, word for word: a new repository looks as `git init` makes it.
const EXCLUDE: &str = "\
# git ls-files --others --exclude-from=.git/info/exclude
# Lines that start with '#' are comments.
# For a project mostly in C, the following would be a good set of
# exclude patterns (uncomment them if you want to use them):
# *.[oa]
# *~
";

/// `init.templateDir` from the global config, if set.
fn configured() -> Result<Option<PathBuf>, InstallError> {
    let out = Command::new("git")
        .args(["config", "--global", "--path", "--get", "init.templateDir"])
        .output()
        .map_err(|_| InstallError::NotARepository("git".into()))?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok((out.status.success() && !value.is_empty()).then(|| PathBuf::from(value)))
}

/// keyward's own template directory: `~/.config/keyward/git-template`.
fn own() -> Result<PathBuf, InstallError> {
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .ok_or_else(|| InstallError::Io {
            path: "$HOME".into(),
            message: "not set".into(),
        })?;
    Ok(PathBuf::from(home).join(".config/keyward/git-template"))
}

/// Whether `dir` is keyward's own template directory.
fn is_own(dir: &Path) -> Result<bool, InstallError> {
    let own = own()?;
    Ok(dir == own
        || std::fs::canonicalize(dir)
            .ok()
            .is_some_and(|d| std::fs::canonicalize(&own).ok() == Some(d)))
}

/// The template directory `action` works on: git's `init.templateDir` if the user has one.
/// Else, to install, keyward's own — created with git's `info/exclude`, and registered with
/// git; to check or uninstall, keyward's own path, neither created nor registered (looking
/// changes nothing).
pub(crate) fn global(action: HookAction) -> Result<PathBuf, InstallError> {
    let dir = match configured()? {
        Some(dir) => dir,
        None if action != HookAction::Install => return own(),
        None => {
            let dir = own()?;
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
            dir
        }
    };
    // A user's own template is theirs; keyward's (also one an older keyward made without
    // it) gets the `info/` git's template has.
    if action == HookAction::Install && is_own(&dir)? {
        let exclude = dir.join("info/exclude");
        if !exclude.exists() {
            std::fs::create_dir_all(dir.join("info")).map_err(|e| io(&dir, e))?;
            std::fs::write(&exclude, EXCLUDE).map_err(|e| io(&exclude, e))?;
        }
    }
    Ok(dir)
}

/// After `uninstall --global`: unsets `init.templateDir` when it names keyward's own
/// template directory (keyward set it), so `git init` uses git's own template again. A
/// template the user chose stays configured.
pub(crate) fn unregister() -> Result<Option<Line>, InstallError> {
    let Some(dir) = configured()? else {
        return Ok(None);
    };
    if !is_own(&dir)? {
        return Ok(None);
    }
    let unset = Command::new("git")
        .args(["config", "--global", "--unset", "init.templateDir"])
        .status()
        .map_err(|e| io(&dir, e))?;
    if !unset.success() {
        return Err(InstallError::Io {
            path: "git config --global --unset init.templateDir".into(),
            message: "failed".into(),
        });
    }
    Ok(Some(Line::Done(format!(
        "unset init.templateDir ({}, which keyward had set): new repositories get git's own template again",
        super::slashed(&dir)
    ))))
}
