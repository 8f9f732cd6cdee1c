//! Where a repository's hooks are, as git computes them, and what its work tree holds. Asked
//! of git (a few `git rev-parse`/`git config` calls: install and status are not on a commit's
//! path), never joined by hand.

use super::script::Hook;
use super::InstallError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A repository, as `install`, `uninstall` and `status` see it.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// How the user named it (for messages).
    pub(crate) name: String,
    /// The top of the work tree (none in a bare repository or a template directory).
    pub(crate) root: Option<PathBuf>,
    /// The directory git runs hooks from, absolute.
    pub(crate) hooks: PathBuf,
    /// The repository's git directory (shared by its worktrees), absolute.
    pub(crate) git_dir: Option<PathBuf>,
    /// `core.hooksPath`, when set: its value and the scope that set it (`local`, `global`, …).
    pub(crate) hooks_path: Option<(String, String)>,
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .trim_end_matches(['\n', '\r'])
            .to_owned()
    })
}

impl Place {
    /// The repository at (or around) `dir`.
    pub(crate) fn repo(dir: &Path) -> Result<Place, InstallError> {
        let name = super::slashed(dir);
        let not_repo = || InstallError::NotARepository(name.clone());
        let lines = git(
            dir,
            &[
                "rev-parse",
                "--path-format=absolute",
                "--git-path",
                "hooks",
                "--git-common-dir",
                "--is-bare-repository",
            ],
        )
        .ok_or_else(not_repo)?;
        let mut lines = lines.lines();
        let hooks = PathBuf::from(lines.next().ok_or_else(not_repo)?);
        let git_dir = lines.next().map(PathBuf::from);
        let bare = lines.next() == Some("true");
        let root = if bare {
            None
        } else {
            git(dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
        };
        let hooks_path =
            git(dir, &["config", "--show-scope", "--get", "core.hooksPath"]).and_then(|l| {
                let (scope, value) = l.split_once('\t')?;
                Some((value.to_owned(), scope.to_owned()))
            });
        Ok(Place {
            name,
            root,
            hooks,
            git_dir,
            hooks_path,
        })
    }

    /// A template directory's hooks (`keyward install --global`): no work tree, no managers.
    pub(crate) fn template(hooks: PathBuf) -> Place {
        Place {
            name: "git's template directory".to_owned(),
            root: None,
            hooks,
            git_dir: None,
            hooks_path: None,
        }
    }

    /// Whether this is git's template directory (`--global`), not a repository.
    pub(crate) fn is_template(&self) -> bool {
        self.git_dir.is_none() && self.root.is_none()
    }

    /// Where git looks for `hook` at `git commit`.
    pub(crate) fn hook(&self, hook: Hook) -> PathBuf {
        self.hooks.join(hook.name())
    }

    /// `rel` in the work tree, when there is one.
    pub(crate) fn in_tree(&self, rel: &str) -> Option<PathBuf> {
        self.root.as_ref().map(|r| r.join(rel))
    }

    /// Whether `path` lies in the work tree's content: under its root, not in the git directory
    /// (`core.hooksPath=.git/hooks` is git's own directory, not a committed one).
    pub(crate) fn in_work_tree(&self, path: &Path) -> bool {
        let Some(root) = &self.root else {
            return false;
        };
        let path = canonical(path);
        path.starts_with(canonical(root))
            && !self
                .git_dir
                .as_deref()
                .is_some_and(|g| path.starts_with(canonical(g)))
    }

    /// `path` for a message: relative to the work tree's root when inside it, with `/`
    /// separators, control characters escaped.
    pub(crate) fn show(&self, path: &Path) -> String {
        if let Some(root) = &self.root {
            // The file itself is not resolved: a symlink is shown by its own name.
            let (root, parent) = (canonical(root), path.parent().map(canonical));
            if let (Some(parent), Some(name)) = (parent, path.file_name()) {
                if let Ok(rel) = parent.join(name).strip_prefix(&root) {
                    return super::slashed(rel);
                }
            }
        }
        super::slashed(path)
    }

    /// Whether git tracks `path` (a file in the work tree).
    pub(crate) fn tracked(&self, path: &Path) -> bool {
        let Some(root) = &self.root else {
            return false;
        };
        let Some(path) = path.to_str() else {
            return false;
        };
        git(root, &["ls-files", "--error-unmatch", "--", path]).is_some()
    }

    /// What to tell the team about a file keyward changed or created in the work tree.
    pub(crate) fn commit_hint(&self, path: &Path, existed: bool) -> &'static str {
        if !existed {
            "new file: commit it so every clone runs keyward"
        } else if self.tracked(path) {
            "a tracked file: commit the change so every clone runs keyward"
        } else {
            "not tracked yet: commit it so every clone runs keyward"
        }
    }
}

/// `path` with symlinks resolved, also when its last components do not exist yet (a hooks
/// directory before anything is written to it).
fn canonical(path: &Path) -> PathBuf {
    let mut probe = path.to_path_buf();
    let mut tail = Vec::new();
    while !probe.exists() {
        match (probe.file_name(), probe.parent()) {
            (Some(n), Some(p)) => {
                tail.push(n.to_owned());
                probe = p.to_path_buf();
            }
            _ => break,
        }
    }
    let mut full = std::fs::canonicalize(&probe).unwrap_or(probe);
    full.extend(tail.iter().rev());
    full
}
