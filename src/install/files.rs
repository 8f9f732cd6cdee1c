//! File operations on hooks and on the files of other tools, each atomic: a reader (git
//! starting a hook, a manager reading its config, another `keyward install`) sees the old file
//! or the new one, whole, never a mix and never nothing.

use super::script::{self, Hook, Kind};
use super::{io, InstallError};
use std::path::{Path, PathBuf};

/// What installing the hook script did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Installed {
    /// A new hook.
    Fresh,
    /// A new hook; the previous one runs after keyward.
    Chained,
    /// keyward's hook was rewritten (another version or binary path).
    Updated,
    /// keyward's hook was already exactly this one.
    Unchanged,
}

/// Whether anything (a file, a symlink, even a dangling one) is at `path`.
pub(crate) fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// What the hook file at `path` is, if there is one.
pub(crate) fn hook_kind(path: &Path) -> Option<Kind> {
    std::fs::read(path).ok().map(|b| script::kind(&b))
}

/// Installs keyward's script for `which` into `hooks`, keeping and chaining a hook that is
/// not keyward's.
pub(crate) fn install(hooks: &Path, which: Hook, binary: &Path) -> Result<Installed, InstallError> {
    std::fs::create_dir_all(hooks).map_err(|e| io(hooks, e))?;
    let hook = hooks.join(which.name());
    let text = script::script(binary, which);
    let outcome = match std::fs::read(&hook) {
        Err(_) if !exists(&hook) => Installed::Fresh,
        Ok(bytes) if matches!(script::kind(&bytes), Kind::Keyward { .. }) => {
            if bytes == text.as_bytes() {
                return Ok(Installed::Unchanged);
            }
            Installed::Updated
        }
        // A hook of someone else's (or a dangling symlink): kept aside, run after keyward.
        _ => match keep_aside(&hook, &hooks.join(which.chained())) {
            Ok(()) => Installed::Chained,
            // Another install kept it aside first and is putting keyward's hook in place (a
            // rename away): that hook is the one to bring up to date, not an error.
            Err(InstallError::ChainTaken(_)) if another_install_finishes(&hook) => {
                return match install(hooks, which, binary)? {
                    Installed::Fresh | Installed::Chained => Ok(Installed::Chained),
                    other => Ok(other),
                };
            }
            Err(e) => return Err(e),
        },
    };
    write_hook(&hook, text.as_bytes())?;
    Ok(outcome)
}

/// Whether keyward's script replaces the hook at `hook` within a second: what a racing install
/// that has just kept the team's hook aside does next. A chained hook left by something else
/// (the hook at `hook` stays foreign) is a real conflict, reported after that wait.
fn another_install_finishes(hook: &Path) -> bool {
    for _ in 0..50 {
        if matches!(hook_kind(hook), Some(Kind::Keyward { .. })) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

/// Keeps the team's hook at `chained`, exactly (bytes, mode, symlink-ness). A hard link is
/// made first: it fails when the name is taken, so two installs running at once cannot chain
/// one over the other (the loser says so), and `hook` is never missing — the new hook replaces
/// it in one rename, so a commit made meanwhile runs one hook or the other, never none.
fn keep_aside(hook: &Path, chained: &Path) -> Result<(), InstallError> {
    let taken = || InstallError::ChainTaken(super::slashed(chained));
    match std::fs::hard_link(hook, chained) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(taken()),
        // A file system without hard links: a copy keeps the bytes and the mode, and leaves
        // the hook in place until the rename over it.
        Err(_) if exists(chained) => Err(taken()),
        Err(_) => {
            let bytes = std::fs::read(hook).map_err(|e| io(hook, e))?;
            write_new(chained, &bytes, mode_of(hook).unwrap_or(0o755)).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => taken(),
                _ => io(chained, e),
            })
        }
    }
}

/// Removes keyward's script for `which` from `hooks` and puts back the one it replaced: the
/// chained hook is renamed over keyward's in one step, so there is no moment without a hook.
/// `Ok(false)` when there was no keyward hook.
pub(crate) fn uninstall(hooks: &Path, which: Hook) -> Result<bool, InstallError> {
    let hook = hooks.join(which.name());
    match hook_kind(&hook) {
        None if !exists(&hook) => return Ok(false),
        Some(Kind::Keyward { .. }) => {}
        _ => return Err(InstallError::Foreign(super::slashed(&hook))),
    }
    let chained = hooks.join(which.chained());
    if exists(&chained) {
        std::fs::rename(&chained, &hook).map_err(|e| io(&chained, e))?;
    } else {
        std::fs::remove_file(&hook).map_err(|e| io(&hook, e))?;
    }
    Ok(true)
}

/// A manager keeps the hook it replaced beside its own: lefthook as `pre-commit.old` (and
/// never runs it), the pre-commit framework as `pre-commit.legacy` (and runs it first). Once
/// keyward is in the manager's configuration, keyward's script there is dead weight, or runs
/// keyward twice: remove it, and put the hook keyward had chained (the team's original) under
/// that name instead, where the manager would have kept it. `name` is the set-aside name of
/// hook `which`. Returns the path and whether the team's hook took its place, when there was
/// anything to do.
pub(crate) fn tidy_set_aside(
    hooks: &Path,
    which: Hook,
    name: &str,
) -> Result<Option<(PathBuf, bool)>, InstallError> {
    let old = hooks.join(name);
    if !matches!(hook_kind(&old), Some(Kind::Keyward { .. })) {
        return Ok(None);
    }
    let chained = hooks.join(which.chained());
    if exists(&chained) {
        // One rename: the name never lacks a hook.
        std::fs::rename(&chained, &old).map_err(|e| io(&chained, e))?;
        Ok(Some((old, true)))
    } else {
        std::fs::remove_file(&old).map_err(|e| io(&old, e))?;
        Ok(Some((old, false)))
    }
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_: &Path) -> Option<u32> {
    None
}

/// Creates `path` with `bytes` and exactly `mode`, failing if anything is there already.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode; // Git for Windows runs a hook by its name and `#!` line
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    #[cfg(unix)]
    {
        // Exactly `mode`, whatever the umask.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Writes a hook (mode 0755, whatever was there before: git skips a hook it cannot execute).
pub(crate) fn write_hook(path: &Path, bytes: &[u8]) -> Result<(), InstallError> {
    write_atomic(path, bytes, 0o755)
}

/// Writes another tool's file, keeping its mode (`mode` for a new file).
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), InstallError> {
    write_atomic(path, bytes, mode_of(path).unwrap_or(mode))
}

/// Writes `bytes` to `path` through a new temporary file beside it, renamed into place: the
/// path git executes never names a file open for writing (an `exec` of one fails with
/// ETXTBSY), and a reader sees the old file or the new one, whole. The temporary name carries
/// the process id and is created exclusively, so parallel installs never share one. keyward
/// starts no process while it writes.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), InstallError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.keyward-new.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp); // left by a killed run of this same process id
    write_new(&tmp, bytes, mode).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(&tmp, e)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_chains_uninstall_restores_and_never_leaves_a_temporary_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let hooks = dir.path();
        std::fs::write(hooks.join("pre-commit"), "#!/bin/sh\nexit 0\n").expect("write");
        let bin = Path::new("/usr/local/bin/keyward");
        let pre = Hook::PreCommit;
        assert_eq!(
            install(hooks, pre, bin).expect("install"),
            Installed::Chained
        );
        assert_eq!(
            install(hooks, pre, bin).expect("again"),
            Installed::Unchanged
        );
        assert_eq!(
            std::fs::read_to_string(hooks.join(pre.chained())).expect("chained"),
            "#!/bin/sh\nexit 0\n"
        );
        // The other hook is its own: installed fresh, removed without touching this one.
        let msg = Hook::CommitMsg;
        assert_eq!(install(hooks, msg, bin).expect("msg"), Installed::Fresh);
        assert!(uninstall(hooks, msg).expect("uninstall msg"));
        assert!(uninstall(hooks, pre).expect("uninstall"));
        let names: Vec<_> = std::fs::read_dir(hooks)
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["pre-commit"]);
        assert_eq!(
            std::fs::read_to_string(hooks.join("pre-commit")).expect("hook"),
            "#!/bin/sh\nexit 0\n"
        );
        assert!(!uninstall(&hooks.join("none"), pre).expect("nothing"));
    }

    #[test]
    fn a_foreign_hook_is_not_uninstalled() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("pre-commit"), "#!/bin/sh\n").expect("write");
        assert!(matches!(
            uninstall(dir.path(), Hook::PreCommit),
            Err(InstallError::Foreign(_))
        ));
    }
}
