//! `keyward status`: follows what git will run at `git commit` — `core.hooksPath`, a manager's
//! stub and configuration, the committed shim — to its end, for the pre-commit hook and for
//! the commit-msg hook, and passes only when both ends are keyward (and a keyward binary is
//! there for them to run). Otherwise one line: what runs instead, and the fix.

use super::files::{exists, hook_kind};
use super::managers::{self, Route};
use super::place::Place;
use super::reads::{self, Launch, Runs};
use super::script::{self, Hook, Kind};
use super::Line;
use std::path::{Path, PathBuf};

/// What `keyward status` says about `place`, on one line: whether both the pre-commit hook
/// and the commit-msg hook end in keyward, and what runs instead when one does not. The fix
/// it names is a command that runs as printed: `keyward` where that is this binary on `PATH`,
/// else its full path.
pub(crate) fn status(place: &Place) -> Line {
    // The fix is run as printed: for the template directory, that is `install --global`.
    let global = if place.is_template() { " --global" } else { "" };
    let fix = format!("run {} install{global}", super::invocation());
    let line = match (
        verdict(place, Hook::PreCommit),
        verdict(place, Hook::CommitMsg),
    ) {
        (Line::Done(pre), Line::Done(msg)) => Line::Done(format!("{pre}; commit messages: {msg}")),
        (Line::Done(_), Line::Problem(msg)) => Line::Problem(format!("commit messages: {msg}")),
        (Line::Problem(pre), Line::Problem(msg)) => {
            // One fix for both is said once, at the end.
            const INSTALL: &str = ": run keyward install";
            let pre = match pre.strip_suffix(INSTALL) {
                Some(what) if msg.ends_with(INSTALL) => what.to_owned(),
                _ => pre,
            };
            Line::Problem(format!("{pre}; commit messages: {msg}"))
        }
        (pre, _) => pre,
    };
    match line {
        Line::Problem(text) => Line::Problem(text.replace("run keyward install", &fix)),
        other => other,
    }
}

fn verdict(place: &Place, which: Hook) -> Line {
    let name = which.name();
    let hook = place.hook(which);
    let shown = place.show(&hook);
    let via = match &place.hooks_path {
        Some((value, scope)) => format!(" (core.hooksPath={value}, {scope} config)"),
        None => String::new(),
    };
    let route = managers::route(place);
    let Some(kind) = hook_kind(&hook) else {
        return Line::Problem(match route {
            Route::Lefthook { config, installed: false } => format!(
                "no hook runs at commit: {} is here, but lefthook's hooks are not installed in this clone: run npx lefthook install",
                place.show(&config)
            ),
            Route::Husky { file, installed: false, .. } => format!(
                "no hook runs at commit: husky is set up in {}, but not installed in this clone (core.hooksPath is not set): run npm install, or npx husky",
                place.show(file.parent().unwrap_or(&file))
            ),
            Route::PreCommit { config, installed: false } => format!(
                "no hook runs at commit: {} is here, but the pre-commit framework's hooks are not installed in this clone: run pre-commit install",
                place.show(&config)
            ),
            Route::PreCommit { .. } if which == Hook::CommitMsg => format!(
                "the pre-commit framework's {name} hook is not installed in this clone, so no keyward check of the message runs: run keyward install (or pre-commit install --hook-type {name})"
            ),
            _ if place.hooks_path.is_some() => {
                format!("no hook at {shown}{via}: run keyward install")
            }
            _ => format!("no {name} hook in {}: run keyward install", place.name),
        });
    };
    match kind {
        Kind::Keyward { version, binary } => {
            keyward_script(place, which, &shown, &via, &version, binary, &route)
        }
        Kind::Shim(h) if h != which => Line::Problem(format!(
            "{shown}{via} is keyward's {} shim, not its {name} one: run keyward install",
            h.name()
        )),
        Kind::Shim(_) => match find(place) {
            Some(bin) => Line::Done(format!(
                "git runs {shown}{via}, keyward's shim, which runs {}",
                place.show(&bin)
            )),
            None => Line::Problem(format!(
                "git runs {shown}{via}, keyward's shim, but this machine has no keyward where it looks (node_modules/.bin, PATH, ~/.local/bin, ~/.cargo/bin): {}",
                script::HOW_TO_INSTALL
            )),
        },
        Kind::HuskyStub => {
            let team = hook
                .parent()
                .and_then(Path::parent)
                .map(|d| d.join(name))
                .unwrap_or_default();
            let text = std::fs::read_to_string(&team).unwrap_or_default();
            let what = format!("git runs husky's {shown}{via}");
            // husky 9's stub runs the team's file with `sh -e`.
            through_shell(place, which, &what, &place.show(&team), &text, true)
        }
        Kind::Husky8 => {
            let text = std::fs::read_to_string(&hook).unwrap_or_default();
            // husky 8's `husky.sh` runs the hook again with `sh -e`.
            through_shell(place, which, "git runs husky", &shown, &text, true)
        }
        Kind::Lefthook => {
            let root = place.root.clone().unwrap_or_default();
            let configs = managers::lefthook_files(&root);
            let names: Vec<String> = configs.iter().map(|c| place.show(c)).collect();
            let names = if names.is_empty() {
                "no lefthook configuration".to_owned()
            } else {
                names.join(", ")
            };
            let set_aside = || {
                let old = place.hooks.join(which.with(".old"));
                if managers::is_keyward_script(&old) {
                    format!(
                        "; keyward's earlier hook was set aside as {}, which nothing runs",
                        place.show(&old)
                    )
                } else {
                    String::new()
                }
            };
            let what = format!("git runs lefthook ({shown}), and {names}");
            match managers::lefthook_runs(&configs, which) {
                Runs::Always(_) => found(place, &format!("{what} runs keyward")),
                Runs::Sometimes(why) => Line::Problem(format!(
                    "{what} does not run keyward at every commit: {why}{}: keyward must run at every commit",
                    set_aside()
                )),
                Runs::Unreadable(why) => Line::Problem(format!(
                    "{what} is not YAML lefthook can read ({why}){}",
                    set_aside()
                )),
                Runs::Never => Line::Problem(format!(
                    "{what} does not run keyward{}: run keyward install",
                    set_aside()
                )),
            }
        }
        Kind::PreCommit => {
            let config = place
                .in_tree(".pre-commit-config.yaml")
                .unwrap_or_default();
            let legacy = place.hooks.join(which.with(".legacy"));
            let text = std::fs::read_to_string(&config).unwrap_or_default();
            let what = format!(
                "git runs the pre-commit framework ({shown}), and {}",
                place.show(&config)
            );
            match reads::framework(&text, which) {
                Runs::Always(launch) => framework_runs(place, &what, launch),
                Runs::Sometimes(why) => Line::Problem(format!(
                    "{what} does not run keyward at every commit: {why}: keyward must run at every commit"
                )),
                Runs::Unreadable(why) => Line::Problem(format!(
                    "{what} is not YAML the framework can read ({why}), so every commit fails"
                )),
                Runs::Never if managers::is_keyward_script(&legacy) => Line::Done(format!(
                    "git runs the pre-commit framework ({shown}), which runs keyward's hook first ({}, migration mode)",
                    place.show(&legacy)
                )),
                Runs::Never => Line::Problem(format!(
                    "{what} does not run keyward: run keyward install"
                )),
            }
        }
        Kind::Husky4 | Kind::SimpleGitHooks | Kind::Other => {
            let text = std::fs::read_to_string(&hook).unwrap_or_default();
            if which.runs(&text) {
                if let Some(line) = script::unsafe_line(&text, which, false) {
                    return Line::Problem(format!(
                        "git runs {shown}{via}, where `{line}` lets the commit through when keyward fails: run keyward install for the line to use"
                    ));
                }
                return found(place, &format!("git runs {shown}{via}, which runs keyward"));
            }
            match route {
                Route::Manual {
                    what,
                    file,
                    hooks,
                    then,
                } => {
                    let runs = hooks[Hook::ALL.iter().position(|h| *h == which).unwrap_or(0)].1;
                    if runs {
                        Line::Problem(format!(
                            "{shown} was written by {what} before {} ran keyward: {then}",
                            place.show(&file)
                        ))
                    } else {
                        Line::Problem(format!(
                            "git runs {shown}, written by {what} from {}, which does not run keyward: run keyward install for the line to add",
                            place.show(&file)
                        ))
                    }
                }
                _ => Line::Problem(format!(
                    "{shown}{via} is not keyward's hook: run keyward install to chain it"
                )),
            }
        }
    }
}

/// keyward's own script is what git runs: is it current, is its binary there, and is a
/// manager in the work tree about to set it aside?
fn keyward_script(
    place: &Place,
    which: Hook,
    shown: &str,
    via: &str,
    version: &str,
    binary: Option<PathBuf>,
    route: &Route,
) -> Line {
    let this = env!("CARGO_PKG_VERSION");
    if script::older(version, this) {
        return Line::Problem(format!(
            "{shown} was installed by keyward {version}, older than this keyward {this}: run keyward install"
        ));
    }
    if let Some(b) = binary.filter(|b| !b.exists()) {
        return Line::Problem(format!(
            "{shown} runs {}, which no longer exists: install keyward again ({}), then run keyward install",
            super::slashed(&b),
            script::HOW_TO_INSTALL
        ));
    }
    if let Some(warning) = future(place, route, which) {
        return Line::Problem(warning);
    }
    let chained = exists(&place.hooks.join(which.chained()));
    Line::Done(format!(
        "{shown}{via} runs keyward {this}{}",
        if chained {
            ", then the previous hook"
        } else {
            ""
        }
    ))
}

/// A manager configured in the work tree but not installed in this clone, which will take
/// git's hook `which` from keyward's script when it is, without running keyward.
pub(crate) fn future(place: &Place, route: &Route, which: Hook) -> Option<String> {
    let name = which.name();
    match route {
        Route::Lefthook {
            config,
            installed: false,
        } => {
            let text = std::fs::read_to_string(config).unwrap_or_default();
            (managers::lefthook_has(&text, which) && !which.runs(&text)).then(|| {
                format!(
                    "{} has {name} commands but does not run keyward: when lefthook installs its hooks it sets keyward's aside (as {name}.old) and never runs it: run keyward install",
                    place.show(config)
                )
            })
        }
        Route::Husky {
            installed: false, ..
        } => {
            let file = route.file(which).unwrap_or_default();
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            (!which.runs(&text)).then(|| {
                format!(
                    "husky is set up in {} without keyward: once husky is installed (npm install), git runs its hooks instead of this one: run keyward install",
                    place.show(file.parent().unwrap_or(&file))
                )
            })
        }
        _ => None,
    }
}

/// The hook runs shell text (`team`, shown as `file`; with `sh -e` when `errexit`): does it
/// run keyward's check for `which` so that a failure stops the commit, and is there a keyward?
fn through_shell(
    place: &Place,
    which: Hook,
    what: &str,
    file: &str,
    team: &str,
    errexit: bool,
) -> Line {
    if team.is_empty() {
        Line::Problem(format!(
            "{what}, and there is no {file}: run keyward install"
        ))
    } else if which.runs(team) {
        match script::unsafe_line(team, which, errexit) {
            Some(line) => Line::Problem(format!(
                "{what}, and in {file} `{line}` lets the commit through when keyward fails: put keyward's check first, ending in `|| exit $?` (run keyward install for the lines)"
            )),
            None => found(place, &format!("{what}, which runs keyward from {file}")),
        }
    } else {
        Line::Problem(format!(
            "{what}, and {file} does not run keyward: run keyward install"
        ))
    }
}

/// `what` passes when keyward's command finds a binary where it looks.
fn found(place: &Place, what: &str) -> Line {
    match find(place) {
        Some(bin) => Line::Done(format!("{what} ({})", place.show(&bin))),
        None => Line::Problem(format!(
            "{what}, but this machine has no keyward where it looks (node_modules/.bin, PATH, ~/.local/bin, ~/.cargo/bin): install it: {}",
            script::HOW_TO_INSTALL
        )),
    }
}

/// The framework runs keyward's hook, started by `launch`: can it, on this machine?
fn framework_runs(place: &Place, what: &str, launch: Launch) -> Line {
    let runs = format!("{what} runs keyward");
    match launch {
        Launch::Shell => found(place, &runs),
        Launch::Path => match on_path() {
            Some(bin) => Line::Done(format!("{runs} ({})", place.show(&bin))),
            None => Line::Problem(format!(
                "{runs} from PATH (language: system), and there is none on PATH, so every commit fails: run keyward install (its entry also looks in node_modules/.bin, ~/.local/bin and ~/.cargo/bin)"
            )),
        },
        Launch::Wheel(requirement) => {
            let requirement = requirement.unwrap_or_else(|| "keyward-hook".into());
            if framework_built("py_env-") {
                Line::Done(format!("{runs} ({requirement}, installed in the framework's cache)"))
            } else {
                Line::Problem(format!(
                    "{runs} from {requirement}, which the framework installs from the Python package index, where keyward-hook has no release yet: the framework cannot install it, so every commit fails: run keyward install (its entry runs the keyward on this machine)"
                ))
            }
        }
        Launch::Cargo => {
            if framework_built("rustenv-") || on_path_named("cargo").is_some() {
                Line::Done(format!("{runs} (built with cargo)"))
            } else {
                Line::Problem(format!(
                    "{runs}, which the framework builds with cargo, and this machine has no cargo, so every commit fails: run keyward install (its entry runs the keyward on this machine)"
                ))
            }
        }
    }
}

/// Whether the pre-commit framework's cache holds an environment (`py_env-…`, `rustenv-…`)
/// with a keyward built in it: then the framework can run it without the network.
fn framework_built(env_prefix: &str) -> bool {
    let store = std::env::var_os("PRE_COMMIT_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("pre-commit")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pre-commit")));
    let Some(store) = store else { return false };
    let dirs = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    dirs(&store).iter().flat_map(|repo| dirs(repo)).any(|env| {
        env.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(env_prefix))
            && (super::executable_in(&env.join("bin")).is_some()
                || super::executable_in(&env.join("Scripts")).is_some())
    })
}

/// The first `name` on `PATH`.
fn on_path_named(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The first keyward on `PATH`.
fn on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|d| super::executable_in(&d))
}

/// The keyward that keyward's command in a hook file would run, found as
/// [`script::SEARCH_PATH`] finds it: the project's pinned one (`node_modules/.bin` at the top
/// of the work tree), then the first on `PATH`, then the fallbacks of
/// [`script::FALLBACK_PATH`].
fn find(place: &Place) -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut dirs: Vec<PathBuf> = Vec::new();
    dirs.extend(place.in_tree(script::PROJECT_BIN));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    if let Some(home) = home {
        dirs.push(home.join(".local/bin"));
        dirs.push(home.join(".cargo/bin"));
    }
    dirs.into_iter().find_map(|d| super::executable_in(&d))
}
