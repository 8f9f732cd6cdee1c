//! The repository: opened once, the way git set it up for the command (`GIT_DIR`,
//! `GIT_INDEX_FILE`, `git -c` values, linked worktrees), with typed errors. gix reads it in
//! process; where gix cannot read a layout, that is said so ([`GitError::Unsupported`]), and
//! only then do callers ask git's [`plumbing`]. Corruption is an error, never a fallback.
//! A push's objects, which wait in git's quarantine while pre-receive runs, are read through
//! [`quarantine`].

pub mod index;
pub(crate) mod loose;
pub(crate) mod packs;
pub(crate) mod plumbing;
pub(crate) mod quarantine;

use gix::prelude::FindExt;
use gix::ObjectId;

/// Errors opening or reading the repository.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository around the current directory.
    #[error("not a git repository (or any of the parent directories)")]
    NotARepository,
    /// The repository could not be opened.
    #[error("cannot open the repository")]
    Open(#[source] Box<gix::Error>),
    /// A layout gix does not read; git's plumbing does.
    #[error("{0} (not readable in process)")]
    Unsupported(String),
    /// An object or file could not be read.
    #[error("cannot read {what}")]
    Read {
        /// What (an object id and its role, a file).
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// git's plumbing failed.
    #[error(transparent)]
    Plumbing(#[from] plumbing::PlumbingError),
    /// A pack file could not be read.
    #[error(transparent)]
    Pack(#[from] packs::PackError),
}

impl GitError {
    /// A read error about `what`.
    pub(crate) fn read(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        GitError::Read {
            what: what.into(),
            source: Box::new(source),
        }
    }
}

/// What reading a blob gave (a model type: sources hand it to the engine).
pub(crate) use crate::model::ReadBlob;

/// Opens the repository around the current directory (bare ones too) from the environment
/// git gives hooks and commands. Replacement objects (`refs/replace/*`) never apply: they
/// would let a decoy stand in for what is scanned.
pub(crate) fn open() -> Result<gix::Repository, GitError> {
    open_in(std::path::Path::new("."))
}

/// [`open`] for the repository around `dir`.
pub(crate) fn open_in(dir: &std::path::Path) -> Result<gix::Repository, GitError> {
    use gix::discover::upwards::Error as Upwards;
    let mut repo = gix::discover_with_environment_overrides(dir).map_err(|e| {
        match e.downcast_any_ref::<Upwards>() {
            Some(
                Upwards::NoGitRepository { .. }
                | Upwards::NoGitRepositoryWithinCeiling { .. }
                | Upwards::NoGitRepositoryWithinFs { .. },
            ) => GitError::NotARepository,
            _ => GitError::Open(Box::new(e)),
        }
    })?;
    repo.objects.ignore_replacements = true;
    Ok(repo)
}

/// What about this repository gix 0.90 would read wrongly rather than fail on: refs in a
/// reftable (`extensions.refStorage`), which it does not know, so that HEAD would look unborn
/// and every ref missing.
pub(crate) fn unsupported(repo: &gix::Repository) -> Option<String> {
    let config = repo.config_snapshot();
    let storage = config.string("extensions.refStorage")?;
    (storage.as_slice() != b"files").then(|| format!("{storage} refs"))
}

/// The working tree's root, when there is one (where `.keyward.toml` lives).
pub(crate) fn workdir(repo: &gix::Repository) -> Option<std::path::PathBuf> {
    repo.workdir().map(std::path::Path::to_path_buf)
}

/// The settings keyward reads from git config (`keyward.<key>`, lowercased).
pub(crate) const CONFIG_KEYS: &[&str] = &["strict", "maxfilesize", "inlineallow", "color"];

/// Every `keyward.*` git config entry, from every level (system, global, local, worktree,
/// `git -c`): `(key, value)`, keys lowercased, in git's order (the last one of a key is its
/// effective value; a refusal in any of them counts, see [`crate::settings`]). gix reads the
/// files and `GIT_CONFIG_COUNT` settings; `git -c` reaches hooks as `GIT_CONFIG_PARAMETERS`,
/// which it does not read, so those come last, as in git.
pub(crate) fn keyward_config(repo: &gix::Repository) -> Vec<(String, String)> {
    let snapshot = repo.config_snapshot();
    let mut found: Vec<(String, String)> = Vec::new();
    for k in CONFIG_KEYS {
        let key = format!("keyward.{k}");
        for value in snapshot
            .plumbing()
            .strings(key.as_str())
            .unwrap_or_default()
        {
            found.push((key.clone(), value.to_string()));
        }
    }
    if let Ok(raw) = std::env::var("GIT_CONFIG_PARAMETERS") {
        found.extend(config_parameters(&raw));
    }
    found
}

/// The `keyward.*` entries of `GIT_CONFIG_PARAMETERS`, which carries `git -c key=value` to
/// the hooks git runs: `'keyward.strict'='true' 'core.x'='y'` (shell-quoted; older gits
/// quote `'key=value'` as one word).
pub(crate) fn config_parameters(raw: &str) -> Vec<(String, String)> {
    let mut words = Vec::new();
    let mut chars = raw.chars().peekable();
    let mut word = String::new();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                    in_word = true;
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=').unwrap_or((w.as_str(), "true"));
            let k = k.to_ascii_lowercase();
            k.starts_with("keyward.").then(|| (k, v.to_owned()))
        })
        .collect()
}

/// Reads blob `id` into `buf` with gix, unless it is larger than `cap` bytes (only its header
/// is inflated then).
pub(crate) fn read_blob(
    repo: &gix::Repository,
    id: ObjectId,
    buf: &mut Vec<u8>,
    cap: u64,
) -> Result<ReadBlob, GitError> {
    buf.clear();
    let size = gix::prelude::HeaderExt::header(&repo.objects, id)
        .map_err(|e| GitError::read(format!("blob {id}"), e))?
        .size();
    if size > cap {
        return Ok(ReadBlob::TooLarge(size));
    }
    let len = repo
        .objects
        .find_blob(&id, buf)
        .map_err(|e| GitError::read(format!("blob {id}"), e))?
        .data
        .len();
    buf.truncate(len);
    Ok(ReadBlob::Read)
}

/// Runs `git args` in `dir` for a unit test, isolated from the user's configuration and from
/// the environment of a git that runs the tests, with `env` set besides; panics on failure.
/// Returns what it printed, trimmed.
#[cfg(test)]
pub(crate) fn test_git(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .envs(env.iter().copied())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parameters_as_git_quotes_them() {
        assert_eq!(
            config_parameters("'keyward.strict'='true' 'core.pager'='less'"),
            vec![("keyward.strict".into(), "true".into())]
        );
        assert_eq!(
            config_parameters("'keyward.inlineAllow=false'"),
            vec![("keyward.inlineallow".into(), "false".into())]
        );
    }
}
