//! `keyward install`, `uninstall` and `status`: keyward where git will run it at `git commit`,
//! as the pre-commit hook (what the commit records) and the commit-msg hook (its message).
//!
//! Where that is depends on who owns the repository's hook ([`managers`]): a hook manager
//! (husky, lefthook, the pre-commit framework) gets keyward added to *its* configuration —
//! a file the team commits, edited line by line and named in the output ([`edit`]); a
//! committed hooks directory (`core.hooksPath` in the work tree) gets keyward's portable shim
//! or two lines in the team's hook; otherwise git's hooks directory gets keyward's script
//! ([`script`]), which runs the installed binary and then, if keyward passes, the hook that
//! was there before (kept beside it as `pre-commit.keyward-chained`). A manager that has
//! keyward's commit-msg check in its configuration but no commit-msg hook installed yet
//! (lefthook until its next run, the pre-commit framework until asked) gets keyward's own
//! script there meanwhile. [`uninstall`] takes out exactly what `install` put in. `status`
//! ([`status`]) follows what git will run to its end, for both hooks. Whether a manager's
//! configuration runs keyward — at every commit, and in a way that lets a failure stop it —
//! is read as the manager reads it ([`reads`]: a YAML parse, skips and filters included);
//! the edits only write. At commit time, [`displaced`] warns when a manager is about to take
//! a hook from keyward, and [`defers`] lets keyward's script step aside for the framework's
//! own keyward hook, so each check runs once.
//!
//! Every file is written atomically ([`files`]): a commit made meanwhile runs the old hook or
//! the new one, never a half-written one and never none.

mod edit;
mod files;
mod guard;
mod managers;
mod place;
mod reads;
mod script;
mod status;
mod template;
mod uninstall;

use crate::cli::{HookAction, Target};
use edit::Edit;
use files::{exists, Installed};
use managers::Route;
use place::Place;
use script::{Hook, Kind};
use std::path::{Path, PathBuf};

pub(crate) use guard::displaced;

/// [`guard::defers`] for the pre-commit check (`message` false) or the commit-msg one.
pub(crate) fn defers(message: bool) -> bool {
    guard::defers(if message {
        Hook::CommitMsg
    } else {
        Hook::PreCommit
    })
}

/// Errors from installing or inspecting the hook; each is one line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InstallError {
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
        path: slashed(path),
        message: e.to_string(),
    }
}

/// One line of output from [`run`].
#[derive(Debug)]
pub(crate) enum Line {
    /// Something done or found in order.
    Done(String),
    /// A check that failed, or a change keyward would not make (with the snippet to make by
    /// hand on the lines after the first).
    Problem(String),
    /// An error; nothing was changed at that place.
    Error(InstallError),
}

/// `path` for output: `/` between components on every platform (Windows too, where Git for
/// Windows and its `sh` take them), control characters escaped.
pub(crate) fn slashed(path: &Path) -> String {
    let text = path.to_string_lossy();
    #[cfg(windows)]
    let text = text.replace('\\', "/");
    crate::redact::escape(text.as_bytes())
}

/// The executable named keyward in `dir`, if any.
fn executable_in(dir: &Path) -> Option<PathBuf> {
    ["keyward", "keyward.exe"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// How to run this keyward in a shell, for commands keyward prints (`keyward allow …` in a
/// blocked commit's report, `keyward install` in a warning): `keyward` when that name on
/// `PATH` is this binary, else its full path (`~/` for the home directory, quoted where the
/// shell needs it), so the command runs as printed wherever keyward was installed.
pub(crate) fn invocation() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "keyward".to_owned();
    };
    let same = |p: &Path| std::fs::canonicalize(p).ok() == std::fs::canonicalize(&exe).ok();
    // A hook's PATH is not the developer's shell's: keyward's own lines append their fallbacks
    // to it (script::FALLBACK_PATH) and put the relative `node_modules/.bin` first, as husky does.
    // Neither is where a shell would find `keyward`.
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let home = std::env::var("HOME").unwrap_or_default();
    let fallbacks: Vec<PathBuf> = script::FALLBACK_PATH
        .split(':')
        .map(|d| PathBuf::from(d.replace("$HOME", &home)))
        .collect();
    if dirs.ends_with(&fallbacks) {
        dirs.truncate(dirs.len() - fallbacks.len());
    }
    let on_path = dirs
        .iter()
        .filter(|d| d.is_absolute())
        .find_map(|d| executable_in(d));
    if on_path.as_deref().is_some_and(same) {
        return "keyward".to_owned();
    }
    shell_word(&exe)
}

/// `path` as one shell word: `~/…` under the home directory, single-quoted when it holds
/// anything a shell would split or expand.
pub(crate) fn shell_word(path: &Path) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%,=".contains(&b))
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if let Some(rest) = home.as_deref().and_then(|h| path.strip_prefix(h).ok()) {
        let rest = slashed(rest);
        if plain(&rest) {
            return format!("~/{rest}");
        }
    }
    let full = slashed(path);
    if plain(&full) {
        full
    } else if cfg!(windows) {
        format!("\"{full}\"")
    } else {
        format!("'{}'", full.replace('\'', r"'\''"))
    }
}

/// Carries out `keyward install | uninstall | status` at each place of `target`, installing
/// hooks that run `binary`.
pub(crate) fn run(action: HookAction, target: Target, binary: &Path) -> Vec<Line> {
    let global = matches!(target, Target::Global);
    let places: Vec<Result<Place, InstallError>> = match target {
        Target::Global => vec![template::global(action).map(|t| Place::template(t.join("hooks")))],
        Target::Repos(repos) => repos.iter().map(|r| Place::repo(r)).collect(),
    };
    let mut lines = Vec::new();
    for place in places {
        let place = match place {
            Ok(p) => p,
            Err(e) => {
                lines.push(Line::Error(e));
                continue;
            }
        };
        let result = match action {
            HookAction::Install => install(&place, binary),
            HookAction::Uninstall => uninstall::uninstall(&place),
            HookAction::Status => Ok(vec![status::status(&place)]),
        };
        match result {
            Ok(mut done) => lines.append(&mut done),
            Err(e) => lines.push(Line::Error(e)),
        }
        // The template keyward registered goes with its hooks: `git init` then copies git's
        // own template again.
        if action == HookAction::Uninstall && global {
            match template::unregister() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => {}
                Err(e) => lines.push(Line::Error(e)),
            }
        }
    }
    lines
}

/// The snippet lines of a refusal, indented under its message.
fn indented(snippet: &str) -> String {
    snippet
        .lines()
        .map(|l| format!("\n    {l}"))
        .collect::<String>()
}

/// The first lines of a husky 8 hook file, which keyward writes when it creates one.
const HUSKY8_HEADER: &str = "#!/usr/bin/env sh\n. \"$(dirname -- \"$0\")/_/husky.sh\"\n";

/// Installs keyward where git will run it in `place`: its pre-commit check and its
/// commit-msg check, each where that hook's commands are.
fn install(place: &Place, binary: &Path) -> Result<Vec<Line>, InstallError> {
    let mut lines = Vec::new();
    let route = managers::route(place);
    match &route {
        Route::Husky { installed, v8, .. } => {
            let header = if *v8 { HUSKY8_HEADER } else { "" };
            for hook in Hook::ALL {
                let file = route.file(hook).unwrap_or_default();
                lines.push(edit_file(
                    place,
                    &file,
                    header,
                    if *v8 { 0o755 } else { 0o644 },
                    // husky 9's stub and husky 8's `husky.sh` both run the file with `sh -e`.
                    |t| edit::sh_add(t, hook, true),
                    |t| edit::sh_remove(t, hook),
                    || hook.sh_lines().join("\n"),
                )?);
            }
            if !installed {
                lines.push(Line::Done(
                    "note: husky is not installed in this clone yet (core.hooksPath is not set), so no hook runs at commit until it is: run npm install, or npx husky".into(),
                ));
            }
        }
        Route::Lefthook { config, installed } => {
            lines.push(edit_file(
                place,
                config,
                "",
                0o644,
                edit::lefthook_add_all,
                edit::lefthook_remove,
                edit::lefthook_snippet,
            )?);
            // A personal override (`lefthook-local.yml`) can skip what the team's file runs.
            let root = place.root.clone().unwrap_or_default();
            let configs = managers::lefthook_files(&root);
            let overridden = configs
                .iter()
                .any(|c| c.to_string_lossy().contains("lefthook-local."));
            for hook in Hook::ALL.into_iter().filter(|_| overridden) {
                if let reads::Runs::Sometimes(why) = managers::lefthook_runs(&configs, hook) {
                    lines.push(Line::Problem(format!(
                        "lefthook does not run keyward's {} check at every commit: {why}",
                        hook.name()
                    )));
                }
            }
            for hook in Hook::ALL {
                lines.extend(tidy(place, hook, ".old")?);
            }
            if *installed {
                // lefthook installs its commit-msg hook at its next run (its configuration
                // changed); until then, and wherever it does not, keyward's own runs.
                lines.extend(bridge(
                    place,
                    binary,
                    Kind::Lefthook,
                    "lefthook",
                    Hook::CommitMsg,
                )?);
            } else {
                lines.push(Line::Done(
                    "note: lefthook's hooks are not installed in this clone yet, so no hook runs at commit until they are: run npx lefthook install".into(),
                ));
            }
        }
        Route::PreCommit { config, installed } => {
            let line = edit_file(
                place,
                config,
                "",
                0o644,
                edit::precommit_add_all,
                edit::precommit_remove,
                edit::precommit_snippet,
            )?;
            let configured = matches!(line, Line::Done(_));
            lines.push(line);
            if !installed {
                // Until `pre-commit install` runs here, keyward's own scripts; it then keeps
                // them as `.legacy` and runs them first, and they leave the check to the
                // configuration's keyward (see `guard::defers`): each check runs once.
                for hook in Hook::ALL {
                    lines.extend(bridge(
                        place,
                        binary,
                        Kind::PreCommit,
                        "the pre-commit framework",
                        hook,
                    )?);
                }
                lines.push(Line::Done(
                    "note: the pre-commit framework is configured here but its hooks are not installed in this clone: run pre-commit install (keyward's hooks run until then)".into(),
                ));
                return Ok(lines);
            }
            if configured {
                lines.extend(tidy(place, Hook::PreCommit, ".legacy")?);
                if files::hook_kind(&place.hook(Hook::CommitMsg)) == Some(Kind::PreCommit) {
                    lines.extend(tidy(place, Hook::CommitMsg, ".legacy")?);
                }
                let types = std::fs::read_to_string(config)
                    .ok()
                    .and_then(|t| edit::precommit_hook_types(&t));
                if types.is_some_and(|t| !t.contains("commit-msg")) {
                    lines.push(Line::Done(format!(
                        "note: {} sets default_install_hook_types without commit-msg: add it, so that pre-commit install runs keyward's commit-msg check in every clone",
                        place.show(config)
                    )));
                }
            }
            // The framework installs its commit-msg hook only when asked (`pre-commit install
            // --hook-type commit-msg`, or the hook types above): until it does, keyward's own.
            lines.extend(bridge(
                place,
                binary,
                Kind::PreCommit,
                "the pre-commit framework",
                Hook::CommitMsg,
            )?);
        }
        Route::Manual {
            what,
            file,
            hooks,
            then,
        } => {
            let missing: Vec<&str> = hooks
                .iter()
                .filter(|(_, runs)| !runs)
                .map(|(snippet, _)| snippet.as_str())
                .collect();
            lines.push(if missing.is_empty() {
                Line::Done(format!("{} already runs keyward ({what})", place.show(file)))
            } else {
                Line::Problem(format!(
                    "{what} writes git's hooks from {}, which keyward does not edit: add keyward to it, then {then}:{}",
                    place.show(file),
                    indented(&missing.join("\n"))
                ))
            });
        }
        Route::TreeHooks => {
            for hook in Hook::ALL {
                lines.push(install_tree(place, hook)?);
            }
        }
        Route::Plain => {
            for hook in Hook::ALL {
                lines.push(plain(place, hook, binary)?);
            }
            if let Some((value, scope)) = &place.hooks_path {
                if scope != "local" && scope != "worktree" {
                    lines.push(Line::Done(format!(
                        "note: core.hooksPath={value} comes from {scope} config: every repository that uses it runs these hooks"
                    )));
                }
            }
            for hook in Hook::ALL {
                lines.extend(tidy(place, hook, ".old")?);
            }
        }
    }
    Ok(lines)
}

/// keyward's script for `hook` in git's hooks directory, chaining the hook that was there.
fn plain(place: &Place, hook: Hook, binary: &Path) -> Result<Line, InstallError> {
    let shown = place.show(&place.hook(hook));
    Ok(Line::Done(
        match files::install(&place.hooks, hook, binary)? {
            Installed::Fresh => format!("installed {shown}"),
            Installed::Chained => format!(
                "installed {shown}; the previous hook runs after keyward passes ({})",
                hook.chained()
            ),
            Installed::Updated => format!("updated {shown}"),
            Installed::Unchanged => format!("{shown} is already up to date"),
        },
    ))
}

/// keyward's own script for `hook` where a manager (`manager`, whose hook files are `kind`)
/// has keyward's check in its configuration but has not installed its hook for it: the
/// check runs from the next commit on all the same. When the manager installs its hook, it
/// sets keyward's aside (lefthook as `commit-msg.old`, which it never runs; the pre-commit
/// framework as `commit-msg.legacy`, which it runs first, and which then leaves the check to
/// the configuration: `guard::defers`), and the next `keyward install` tidies it away.
fn bridge(
    place: &Place,
    binary: &Path,
    kind: Kind,
    manager: &str,
    hook: Hook,
) -> Result<Option<Line>, InstallError> {
    if files::hook_kind(&place.hook(hook)) == Some(kind) {
        return Ok(None);
    }
    Ok(Some(match plain(place, hook, binary)? {
        Line::Done(text) => Line::Done(format!(
            "{text} (until {manager} installs its {} hook)",
            hook.name()
        )),
        other => other,
    }))
}

/// [`files::tidy_set_aside`] for `hook`'s set-aside name (`.old`, `.legacy`), said.
fn tidy(place: &Place, hook: Hook, suffix: &str) -> Result<Option<Line>, InstallError> {
    Ok(
        files::tidy_set_aside(&place.hooks, hook, &hook.with(suffix))?.map(|(path, restored)| {
            let shown = place.show(&path);
            Line::Done(if restored {
                format!("replaced keyward's earlier hook {shown} by the hook it had kept aside")
            } else {
                format!("removed keyward's unused earlier hook {shown}")
            })
        }),
    )
}

/// Adds keyward to another tool's `file` (created from `header` when missing), saying what
/// changed and that the team should commit it; refuses with `snippet` where the edit would
/// not be safe. `take` takes keyward's own lines out (what `uninstall` does), so that lines
/// an earlier keyward wrote are brought up to date.
fn edit_file(
    place: &Place,
    file: &Path,
    header: &str,
    mode: u32,
    add: impl Fn(&str) -> Edit,
    take: impl Fn(&str) -> Option<String>,
    snippet: impl Fn() -> String,
) -> Result<Line, InstallError> {
    let shown = place.show(file);
    let existed = exists(file);
    let text = match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                return Ok(Line::Problem(format!(
                    "{shown} is not UTF-8 text, so keyward did not edit it: add this to it:{}",
                    indented(&snippet())
                )))
            }
        },
        Err(_) if !existed => header.to_owned(),
        Err(e) => return Err(io(file, e)),
    };
    // keyward's own lines from an earlier version (an entry that pins an unpublished wheel, a
    // search order that lets another keyward run): taken out and added again, as this
    // keyward writes them, where that changes anything. The team's lines are never touched.
    let fresh = add(&text);
    let refreshed = match fresh {
        Edit::Already | Edit::Refused(_) => match take(&text).map(|orig| add(&orig)) {
            Some(Edit::Added(new)) if new != text => Some(new),
            _ => None,
        },
        Edit::Added(_) => None,
    };
    let updated = refreshed.is_some();
    let fresh = match refreshed {
        Some(new) => Edit::Added(new),
        None => fresh,
    };
    Ok(match fresh {
        Edit::Already => Line::Done(format!("{shown} already runs keyward")),
        Edit::Added(new) => {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            }
            // A symlinked file (a configuration shared between repositories) is edited where
            // it lives; replacing the link by a file would quietly fork it.
            let target = match std::fs::symlink_metadata(file) {
                Ok(m) if m.file_type().is_symlink() => {
                    std::fs::canonicalize(file).map_err(|e| io(file, e))?
                }
                _ => file.to_path_buf(),
            };
            files::write_file(&target, new.as_bytes(), mode)?;
            Line::Done(format!(
                "{} {shown} ({})",
                if updated {
                    "updated keyward's lines in"
                } else {
                    "added keyward to"
                },
                place.commit_hint(file, existed)
            ))
        }
        Edit::Refused(why) => Line::Problem(format!(
            "{shown}: not edited ({why}); add this to it:{}",
            indented(&snippet())
        )),
    })
}

/// `core.hooksPath` inside the work tree: the hooks there are the team's, committed, so
/// nothing machine-specific goes in. A missing hook becomes keyward's shim; a hook of the
/// team's gets keyward's two lines.
fn install_tree(place: &Place, which: Hook) -> Result<Line, InstallError> {
    let hook = place.hook(which);
    let shown = place.show(&hook);
    let bytes = std::fs::read(&hook).ok();
    let kind = bytes.as_deref().map(script::kind);
    let shim = which.shim();
    let write_shim = |what: &str, existed: bool| -> Result<Line, InstallError> {
        std::fs::create_dir_all(&place.hooks).map_err(|e| io(&place.hooks, e))?;
        let hint = place.commit_hint(&hook, existed);
        files::write_hook(&hook, shim.as_bytes())?;
        Ok(Line::Done(format!(
            "{what} {shown}: keyward's shim, with no machine's paths ({hint})"
        )))
    };
    match kind {
        None if !exists(&hook) => write_shim("wrote", false),
        Some(Kind::Shim(_)) if bytes.as_deref() == Some(shim.as_bytes()) => {
            Ok(Line::Done(format!("{shown} is keyward's shim, up to date")))
        }
        Some(Kind::Shim(_)) => write_shim("updated", true),
        Some(Kind::Keyward { .. }) if exists(&place.hooks.join(which.chained())) => {
            Ok(Line::Done(format!(
                "{shown} is keyward's hook for this machine, chaining {}; left as is",
                which.chained()
            )))
        }
        Some(Kind::Keyward { .. }) => write_shim("replaced the machine-specific hook at", true),
        _ => edit_file(
            place,
            &hook,
            "",
            0o755,
            |t| edit::sh_add(t, which, false),
            |t| edit::sh_remove(t, which),
            || which.sh_lines().join("\n"),
        ),
    }
}
