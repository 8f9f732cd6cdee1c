//! Which tool decides what git runs at `git commit`, and so where keyward belongs: husky's
//! `.husky/pre-commit`, lefthook's configuration, the pre-commit framework's configuration, a
//! committed hooks directory (`core.hooksPath` in the work tree), or git's own hooks directory.
//! Facts behind each (measured with husky 9.1, lefthook 2.2, pre-commit 4.x):
//!
//! - husky 9 sets `core.hooksPath=.husky/_`; git then runs `.husky/_/pre-commit`, a stub that
//!   runs `.husky/pre-commit` with `sh -e` and `node_modules/.bin` first on `PATH`. A hook in
//!   `.git/hooks` is ignored from then on.
//! - lefthook, when its configuration has a `pre-commit` hook, renames the hook it finds to
//!   `pre-commit.old` and never runs it; it re-syncs its hooks whenever its configuration
//!   changes, so that can happen long after keyward was installed.
//! - the pre-commit framework keeps a hook it finds as `pre-commit.legacy` and still runs it.
//! - simple-git-hooks and husky 4 write `.git/hooks/pre-commit` from `package.json` on every
//!   `npm install`, over whatever was there.
//!
//! For the commit-msg hook (measured with the same versions):
//!
//! - husky 9 writes a stub for every git hook into `.husky/_`; `.husky/_/commit-msg` runs
//!   `.husky/commit-msg`, when there is one, with git's arguments.
//! - lefthook installs a hook for each hook its configuration names, and re-syncs at a run of
//!   any of its hooks once its configuration changed — judged by the file's modification time
//!   in seconds, so not for an edit made within the second of `lefthook install`. In a
//!   command it puts git's first argument where `{1}` is, unquoted.
//! - the pre-commit framework installs a commit-msg hook only with `pre-commit install
//!   --hook-type commit-msg` or `default_install_hook_types`; an existing one becomes
//!   `commit-msg.legacy` and still runs. It passes the message file as the hook's one file
//!   name, filtered by the configuration's top-level `files:`/`exclude:` like any other.
//! - simple-git-hooks writes the command into git's hook, where git's first argument is `"$1"`;
//!   husky 4 passes git's arguments in `HUSKY_GIT_PARAMS`.

use super::files;
use super::place::Place;
use super::reads::{self, Launch, Runs};
use super::script::{self, Hook, Kind};
use std::path::{Path, PathBuf};

/// lefthook's configuration files, in the order lefthook reads them.
pub(crate) const LEFTHOOK_CONFIGS: [&str; 6] = [
    "lefthook.yml",
    ".lefthook.yml",
    "lefthook.yaml",
    ".lefthook.yaml",
    ".config/lefthook.yml",
    ".config/lefthook.yaml",
];

/// lefthook's configuration files in other formats (not edited: the snippet is printed).
const LEFTHOOK_OTHER: [&str; 5] = [
    "lefthook.toml",
    ".lefthook.toml",
    "lefthook.json",
    ".lefthook.json",
    "lefthook.jsonc",
];

/// lefthook's personal overrides, merged over the configuration.
const LEFTHOOK_LOCAL: [&str; 4] = [
    "lefthook-local.yml",
    ".lefthook-local.yml",
    "lefthook-local.yaml",
    ".lefthook-local.yaml",
];

const HUSKY4_CONFIGS: [&str; 6] = [
    ".huskyrc",
    ".huskyrc.json",
    ".huskyrc.yaml",
    ".huskyrc.yml",
    ".huskyrc.js",
    "husky.config.js",
];

const SIMPLE_GIT_HOOKS_CONFIGS: [&str; 8] = [
    ".simple-git-hooks.cjs",
    ".simple-git-hooks.js",
    ".simple-git-hooks.mjs",
    ".simple-git-hooks.json",
    "simple-git-hooks.cjs",
    "simple-git-hooks.js",
    "simple-git-hooks.mjs",
    "simple-git-hooks.json",
];

/// Where keyward belongs in a repository.
#[derive(Debug, Clone)]
pub(crate) enum Route {
    /// husky: two lines in each of the team's `.husky/pre-commit` and `.husky/commit-msg`.
    Husky {
        /// The team's pre-commit file (the commit-msg one is beside it, see [`Route::file`]).
        file: PathBuf,
        /// husky's hooks are installed in this clone (`core.hooksPath` points at them).
        installed: bool,
        /// husky 8 (git runs the file itself, which sources `_/husky.sh`).
        v8: bool,
    },
    /// lefthook: a `keyward` command in each of its hooks, in its YAML configuration.
    Lefthook {
        /// The configuration file (it may not exist yet).
        config: PathBuf,
        /// lefthook's hook is what git runs.
        installed: bool,
    },
    /// The pre-commit framework: a hook for each stage in `.pre-commit-config.yaml`.
    PreCommit {
        /// The configuration file.
        config: PathBuf,
        /// The framework's hook is what git runs (else the configuration is committed but
        /// `pre-commit install` has not run in this clone).
        installed: bool,
    },
    /// A manager whose configuration keyward does not edit: the snippet to add by hand.
    Manual {
        /// The manager, for messages.
        what: &'static str,
        /// Its configuration file.
        file: PathBuf,
        /// For each of [`Hook::ALL`]: what to add, and whether the configuration runs
        /// keyward there already.
        hooks: [(String, bool); 2],
        /// The command that re-applies the configuration.
        then: &'static str,
    },
    /// `core.hooksPath` inside the work tree: a committed hooks directory.
    TreeHooks,
    /// git's hooks directory (or a `core.hooksPath` outside the work tree): keyward's script.
    Plain,
}

/// The lefthook configuration in `root`, if any.
pub(crate) fn lefthook_config(root: &Path) -> Option<PathBuf> {
    LEFTHOOK_CONFIGS
        .iter()
        .chain(&LEFTHOOK_OTHER)
        .map(|n| root.join(n))
        .find(|p| p.is_file())
}

/// lefthook's configuration files in `root` that exist, personal overrides included.
pub(crate) fn lefthook_files(root: &Path) -> Vec<PathBuf> {
    LEFTHOOK_CONFIGS
        .iter()
        .chain(&LEFTHOOK_OTHER)
        .chain(&LEFTHOOK_LOCAL)
        .map(|n| root.join(n))
        .filter(|p| p.is_file())
        .collect()
}

/// Whether a lefthook configuration names hook `hook` (so lefthook takes git's).
pub(crate) fn lefthook_has(text: &str, hook: Hook) -> bool {
    let name = hook.name();
    text.lines().any(|l| {
        l.starts_with(&format!("{name}:"))
            || l.starts_with(&format!("[{name}"))
            || l.trim_start().starts_with(&format!("\"{name}\""))
    })
}

/// What lefthook runs for `hook` from its configuration `files` (as [`lefthook_files`] lists
/// them: the configuration, then the personal overrides lefthook merges over it). A TOML or
/// JSON configuration, which keyward does not parse, counts when its text runs keyward.
pub(crate) fn lefthook_runs(files: &[PathBuf], hook: Hook) -> Runs {
    let texts: Vec<(bool, String)> = files
        .iter()
        .filter_map(|f| {
            let yaml = f.extension().is_some_and(|e| e == "yml" || e == "yaml");
            std::fs::read_to_string(f).ok().map(|t| (yaml, t))
        })
        .collect();
    if texts.iter().any(|(yaml, t)| !yaml && hook.runs(t)) {
        return Runs::Always(Launch::Shell);
    }
    let yaml: Vec<&str> = texts
        .iter()
        .filter(|(yaml, _)| *yaml)
        .map(|(_, t)| t.as_str())
        .collect();
    reads::lefthook(&yaml, hook)
}

impl Route {
    /// The file of the team's that runs `hook`, where keyward's lines go: husky's
    /// `.husky/commit-msg` beside `.husky/pre-commit`; the configuration for the others.
    pub(crate) fn file(&self, hook: Hook) -> Option<PathBuf> {
        match self {
            Route::Husky { file, .. } => Some(file.with_file_name(hook.name())),
            Route::Lefthook { config, .. } | Route::PreCommit { config, .. } => {
                Some(config.clone())
            }
            Route::Manual { file, .. } => Some(file.clone()),
            Route::TreeHooks | Route::Plain => None,
        }
    }
}

fn package_json(root: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(root.join("package.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// The team's part of a one-line command: `command` less a keyward check of `hook` it starts
/// with (`… keyward hook && `, `… keyward hook || exit $?; `), as an earlier `keyward install`
/// printed it.
fn without_keyward(command: &str, hook: Hook) -> &str {
    // The separator right after keyward's command: the first one in the line.
    let first = ["; ", " && "]
        .iter()
        .filter_map(|sep| command.find(sep).map(|at| (at, sep.len())))
        .min();
    if let Some((at, len)) = first {
        if hook.runs(&command[..at]) {
            return command[at + len..].trim();
        }
    }
    if hook.runs(command) && !command.contains([';', '&', '|', '\n']) {
        ""
    } else {
        command.trim()
    }
}

/// A `package.json`-driven manager (husky 4, simple-git-hooks): where its commands are, and
/// for each hook the line to put there.
fn package_manager(root: &Path) -> Option<Route> {
    let pkg = package_json(root);
    let command_in = |v: Option<&serde_json::Value>, hook: Hook| {
        v.and_then(|v| v.get(hook.name()))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .filter(|c| !c.trim().is_empty())
    };
    // husky 4 passes git's arguments in HUSKY_GIT_PARAMS; simple-git-hooks writes the command
    // into git's hook, where they are "$1".
    let manual = |what,
                  file: PathBuf,
                  config: Option<&serde_json::Value>,
                  text: Option<String>,
                  json_path: &str,
                  message_file: &str,
                  then| {
        let hooks = Hook::ALL.map(|hook| {
            let existing = command_in(config, hook);
            // Runs keyward, and a failing keyward stops the commit whatever the team's command
            // holds (`;`, `||`).
            let safe = |t: &str| hook.runs(t) && script::unsafe_line(t, hook, false).is_none();
            let runs = match &text {
                Some(text) => safe(text),
                None => existing.as_deref().is_some_and(safe),
            };
            // `|| exit $?`, not `&&`: in `keyward hook && lint || true` or `keyward hook &&
            // format; lint`, the team's command decides the hook's status.
            let command = match existing.as_deref().map(|c| without_keyward(c, hook)) {
                Some(c) if !c.is_empty() => {
                    format!("{} || exit $?; {c}", hook.command_with(message_file))
                }
                _ => hook.command_with(message_file),
            };
            let value = serde_json::Value::String(command).to_string();
            (format!("{json_path}\"{}\": {value}", hook.name()), runs)
        });
        Route::Manual {
            what,
            file,
            hooks,
            then,
        }
    };
    if let Some(hooks) = pkg.as_ref().and_then(|p| p.get("husky")?.get("hooks")) {
        return Some(manual(
            "husky 4",
            root.join("package.json"),
            Some(hooks),
            None,
            "in \"husky\": { \"hooks\": { … } }:\n    ",
            "\"$HUSKY_GIT_PARAMS\"",
            "commit as usual (husky 4 reads package.json at each commit)",
        ));
    }
    if let Some(file) = HUSKY4_CONFIGS
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
    {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        return Some(manual(
            "husky 4",
            file,
            None,
            Some(text),
            "in \"hooks\": { … }:\n    ",
            "\"$HUSKY_GIT_PARAMS\"",
            "commit as usual",
        ));
    }
    if let Some(cfg) = pkg.as_ref().and_then(|p| p.get("simple-git-hooks")) {
        return Some(manual(
            "simple-git-hooks",
            root.join("package.json"),
            Some(cfg),
            None,
            "in \"simple-git-hooks\": { … }:\n    ",
            "\"$1\"",
            "run npx simple-git-hooks",
        ));
    }
    if let Some(file) = SIMPLE_GIT_HOOKS_CONFIGS
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
    {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        return Some(manual(
            "simple-git-hooks",
            file,
            None,
            Some(text),
            "as a command:\n    ",
            "\"$1\"",
            "run npx simple-git-hooks",
        ));
    }
    None
}

/// A lefthook configuration in a format keyward does not edit.
fn lefthook_manual(config: PathBuf, installed: bool) -> Route {
    let name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hooks = Hook::ALL.map(|hook| {
        let command = hook.command_with("\"{1}\"");
        let snippet = if name.ends_with(".toml") {
            format!("[{}.commands.keyward]\n    run = '{command}'", hook.name())
        } else {
            let value = serde_json::Value::String(command).to_string();
            format!(
                "\"{}\": {{ \"commands\": {{ \"keyward\": {{ \"run\": {value} }} }} }}",
                hook.name()
            )
        };
        (
            snippet,
            lefthook_runs(std::slice::from_ref(&config), hook).always(),
        )
    });
    Route::Manual {
        what: "lefthook",
        file: config,
        hooks,
        then: if installed {
            "commit as usual (lefthook re-reads its configuration)"
        } else {
            "run npx lefthook install"
        },
    }
}

/// Where keyward belongs in `place`.
pub(crate) fn route(place: &Place) -> Route {
    let hook_kind = files::hook_kind(&place.hook(Hook::PreCommit));
    let Some(root) = place.root.clone() else {
        return Route::Plain;
    };
    if let Some((value, _)) = &place.hooks_path {
        let value = value.replace('\\', "/");
        let value = value.trim_end_matches('/');
        if value == ".husky/_" || value.ends_with("/.husky/_") {
            let dir = place.hooks.parent().unwrap_or(&place.hooks);
            return Route::Husky {
                file: dir.join("pre-commit"),
                installed: true,
                v8: false,
            };
        }
        if hook_kind == Some(Kind::Husky8)
            || ((value == ".husky" || value.ends_with("/.husky"))
                && place.hooks.join("_/husky.sh").is_file())
        {
            return Route::Husky {
                file: place.hook(Hook::PreCommit),
                installed: true,
                v8: true,
            };
        }
    }
    match hook_kind {
        Some(Kind::Lefthook) => {
            let config = lefthook_config(&root).unwrap_or_else(|| root.join("lefthook.yml"));
            return lefthook_route(config, true);
        }
        Some(Kind::PreCommit) => {
            return Route::PreCommit {
                config: root.join(".pre-commit-config.yaml"),
                installed: true,
            }
        }
        _ => {}
    }
    // The team pointed git at committed hooks: that is where keyward goes, whatever other
    // tools' files lie around.
    if place.hooks_path.is_some() && place.in_work_tree(&place.hooks) {
        return Route::TreeHooks;
    }
    if let Some(config) = lefthook_config(&root) {
        return lefthook_route(config, false);
    }
    if root.join(".husky").is_dir() {
        let file = root.join(".husky/pre-commit");
        let v8 = std::fs::read_to_string(&file).is_ok_and(|t| t.contains("husky.sh"));
        return Route::Husky {
            file,
            installed: false,
            v8,
        };
    }
    // The framework's configuration is committed but `pre-commit install` has not run here: a
    // script of keyward's would be set aside by it (and run as `pre-commit.legacy`, besides
    // the configuration's keyward), so keyward goes into the configuration.
    let framework = root.join(".pre-commit-config.yaml");
    if framework.is_file() {
        return Route::PreCommit {
            config: framework,
            installed: false,
        };
    }
    if let Some(route) = package_manager(&root) {
        return route;
    }
    Route::Plain
}

fn lefthook_route(config: PathBuf, installed: bool) -> Route {
    let yaml = config
        .extension()
        .is_some_and(|e| e == "yml" || e == "yaml");
    if yaml {
        Route::Lefthook { config, installed }
    } else {
        lefthook_manual(config, installed)
    }
}

/// Whether the hook at `path` is keyward's script.
pub(crate) fn is_keyward_script(path: &Path) -> bool {
    matches!(files::hook_kind(path), Some(Kind::Keyward { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_s_part_of_a_line_keeps_everything_after_keyward_s_check() {
        let k = Hook::PreCommit.command();
        for (line, team) in [
            (
                format!("{k} && npx lint-staged || true"),
                "npx lint-staged || true",
            ),
            (
                format!("{k} && echo format; echo lint"),
                "echo format; echo lint",
            ),
            (
                format!("{k} || exit $?; echo lint || true"),
                "echo lint || true",
            ),
            (k.clone(), ""),
            ("echo a; keyward hook".to_owned(), "echo a; keyward hook"),
            ("npx lint-staged".to_owned(), "npx lint-staged"),
        ] {
            assert_eq!(without_keyward(&line, Hook::PreCommit), team, "{line}");
        }
    }
}
