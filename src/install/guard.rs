//! At commit time: is keyward's hook about to stop being the one git runs? keyward's script
//! passes its own path (`KEYWARD_HOOK`); the hook runs at the top of the work tree, where a
//! hook manager keeps its files. A manager there that does not run keyward will take git's hook
//! when it is next installed or syncs its hooks (lefthook re-syncs whenever its configuration
//! changes, husky on every `npm install`, simple-git-hooks too) — and from then on no keyward
//! runs at commit, silently. Warn while keyward still runs.
//!
//! Cost: a handful of `stat`s and, only where a manager's file exists, reading it; no
//! subprocess. Nothing when keyward runs through a manager or the shim (no `KEYWARD_HOOK`):
//! then it is the manager's own route.

use super::files;
use super::managers;
use super::reads;
use super::script::{Hook, Kind};
use std::path::Path;

/// The variable keyward's hook script sets to its own path for the `keyward hook` it runs.
pub(crate) const HOOK_VAR: &str = "KEYWARD_HOOK";

/// Whether keyward, started by its own script running as the pre-commit framework's
/// `.legacy` hook (the framework keeps a hook it finds under that name and runs it before its
/// own), leaves `hook`'s check to the keyward hook of the framework's configuration, which
/// runs next: so each check runs once, whichever of `keyward install` and `pre-commit install`
/// ran first. Only when the configuration runs that check at every commit, so stepping aside
/// never leaves a commit unchecked. Cost: a `stat` and, only in that case, reading the
/// configuration.
pub(crate) fn defers(hook: Hook) -> bool {
    std::env::var_os(HOOK_VAR).is_some_and(|h| defers_at(Path::new(&h), Path::new("."), hook))
}

/// [`defers`] for keyward's script at `script`, run in the work tree at `root`.
fn defers_at(script: &Path, root: &Path, hook: Hook) -> bool {
    script
        .file_name()
        .is_some_and(|n| n.to_string_lossy() == hook.with(".legacy"))
        && files::hook_kind(&script.with_file_name(hook.name())) == Some(Kind::PreCommit)
        && std::fs::read_to_string(root.join(".pre-commit-config.yaml"))
            .is_ok_and(|t| reads::framework(&t, hook).always())
}

/// A one-line warning for the developer when keyward's hook script is about to be displaced
/// (or was renamed and runs by another route); `None` otherwise, and whenever keyward was not
/// started by its own script.
pub(crate) fn displaced() -> Option<String> {
    let hook = std::env::var_os(HOOK_VAR)?;
    check(Path::new(&hook), Path::new("."))
}

/// [`displaced`] for the hook at `hook`, run in the work tree at `root`.
pub(crate) fn check(hook: &Path, root: &Path) -> Option<String> {
    // Only when there is something to say: finding how keyward runs here costs a PATH walk.
    let fix = || format!("run: {} install", super::invocation());
    let name = hook.file_name()?.to_string_lossy();
    if name != "pre-commit" && name != "pre-commit.legacy" {
        return Some(format!(
            "keyward's hook runs as {name}, not as git's pre-commit hook: whatever runs it now may stop; check with {} status",
            super::invocation()
        ));
    }
    // keyward's commit-msg hook is displaced the same way; its check is said here, once per
    // commit, where the pre-commit hook's is.
    if let Some(config) = managers::LEFTHOOK_CONFIGS
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
    {
        let text = std::fs::read_to_string(&config).unwrap_or_default();
        for hook in Hook::ALL {
            if managers::lefthook_has(&text, hook) && !hook.runs(&text) {
                let name = hook.name();
                return Some(format!(
                    "{} has {name} commands but not keyward: when lefthook next syncs its hooks it renames keyward's {name} hook to {name}.old and never runs it; {}",
                    super::slashed(config.strip_prefix(root).unwrap_or(&config)),
                    fix()
                ));
            }
        }
    }
    let husky = root.join(".husky");
    if husky.is_dir() {
        for hook in Hook::ALL {
            let team = std::fs::read_to_string(husky.join(hook.name())).unwrap_or_default();
            if !hook.runs(&team) {
                let without = match hook {
                    Hook::PreCommit => "without keyward".to_owned(),
                    Hook::CommitMsg => "without keyward's commit-msg check".to_owned(),
                };
                return Some(format!(
                    "husky is set up in .husky/ {without}: once husky is installed (npm install), git runs .husky/ instead of keyward's hooks; {}",
                    fix()
                ));
            }
        }
    }
    let package = std::fs::read_to_string(root.join("package.json")).unwrap_or_default();
    if package.contains("\"simple-git-hooks\"") {
        for hook in Hook::ALL {
            // simple-git-hooks writes the hooks its configuration names, over keyward's.
            let named =
                hook == Hook::PreCommit || package.contains(&format!("\"{}\"", hook.name()));
            if named && !hook.runs(&package) {
                return Some(format!(
                    "package.json configures simple-git-hooks without keyward: its next install overwrites keyward's {} hook; {}",
                    hook.name(),
                    fix()
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyward_s_legacy_script_steps_aside_only_for_the_framework_s_keyward() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        let hooks = root.join(".git/hooks");
        std::fs::create_dir_all(&hooks).expect("mkdir");
        let legacy = hooks.join("pre-commit.legacy");
        let framework =
            "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n";
        let config = root.join(".pre-commit-config.yaml");
        let with_keyward =
            super::super::edit::precommit_add_all("repos:\n- repo: local\n  hooks: []\n");
        let super::super::edit::Edit::Added(with_keyward) = with_keyward else {
            panic!("not added")
        };
        // Not the framework's hook beside it: keyward checks.
        std::fs::write(&config, &with_keyward).expect("w");
        assert!(!defers_at(&legacy, root, Hook::PreCommit));
        std::fs::write(hooks.join("pre-commit"), framework).expect("w");
        assert!(defers_at(&legacy, root, Hook::PreCommit));
        // The commit-msg check is its own: no framework commit-msg hook, no stepping aside.
        assert!(!defers_at(
            &hooks.join("commit-msg.legacy"),
            root,
            Hook::CommitMsg
        ));
        // Run as the hook itself, or with a configuration that does not run keyward: checks.
        assert!(!defers_at(&hooks.join("pre-commit"), root, Hook::PreCommit));
        std::fs::write(&config, "repos: []\n").expect("w");
        assert!(!defers_at(&legacy, root, Hook::PreCommit));
    }

    #[test]
    fn managers_about_to_take_the_hook_are_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let root = dir.path();
        let hook = root.join(".git/hooks/pre-commit");
        assert_eq!(check(&hook, root), None);
        // lefthook's generated configuration (all comments) takes no hook.
        std::fs::write(root.join("lefthook.yml"), "# pre-commit:\n#   commands:\n").expect("w");
        assert_eq!(check(&hook, root), None);
        std::fs::write(
            root.join("lefthook.yml"),
            "pre-commit:\n  commands:\n    lint:\n      run: x\n",
        )
        .expect("w");
        let w = check(&hook, root).expect("warns");
        assert!(w.starts_with("lefthook.yml has pre-commit commands"), "{w}");
        assert!(w.contains(" install"), "{w}");
        std::fs::write(
            root.join("lefthook.yml"),
            super::super::edit::lefthook_snippet(),
        )
        .expect("w");
        assert_eq!(check(&hook, root), None);
        // A team's commit-msg commands without keyward's: lefthook takes that hook too.
        std::fs::write(
            root.join("lefthook.yml"),
            "pre-commit:\n  commands:\n    keyward:\n      run: keyward hook\ncommit-msg:\n  commands:\n    lint:\n      run: commitlint --edit\n",
        )
        .expect("w");
        assert!(check(&hook, root)
            .expect("warns")
            .contains("renames keyward's commit-msg hook to commit-msg.old"));
        std::fs::write(
            root.join("lefthook.yml"),
            super::super::edit::lefthook_snippet(),
        )
        .expect("w");
        std::fs::create_dir(root.join(".husky")).expect("mkdir");
        std::fs::write(root.join(".husky/pre-commit"), "npm test\n").expect("w");
        assert!(check(&hook, root)
            .expect("warns")
            .starts_with("husky is set up"));
        std::fs::write(
            root.join(".husky/pre-commit"),
            Hook::PreCommit.sh_lines().join("\n"),
        )
        .expect("w");
        // keyward's pre-commit check alone: husky would drop its commit-msg check.
        assert!(check(&hook, root)
            .expect("warns")
            .contains("without keyward's commit-msg check"));
        std::fs::write(
            root.join(".husky/commit-msg"),
            Hook::CommitMsg.sh_lines().join("\n"),
        )
        .expect("w");
        assert_eq!(check(&hook, root), None);
        let old = root.join(".git/hooks/pre-commit.old");
        assert!(check(&old, root)
            .expect("warns")
            .contains("runs as pre-commit.old"));
    }
}
