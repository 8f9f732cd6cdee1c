//! What a hook manager's YAML configuration runs at git's `pre-commit` and `commit-msg`, read
//! the way the manager reads it: parsed (a comment is a comment, a command belongs to the hook
//! it sits under, anchors resolve), with the conditions under which the manager skips it.
//! `keyward status` and `install` decide from this; the byte-preserving edits of
//! [`super::edit`] only write.
//!
//! keyward must run at *every* commit, so a keyward command the manager may skip counts as
//! not running: lefthook's `skip` (other than at merges and rebases), `only`, and the file
//! filters (`glob`, `files`, `exclude`, `file_types`, `root`), after which lefthook skips a
//! command when no staged file is left; the framework's file filters on a hook that is not
//! `always_run`, and its `stages`.

use super::script::{self, Hook};
use yaml_rust2::{Yaml, YamlLoader};

/// How a configuration runs keyward's check for one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Runs {
    /// At every commit, started this way.
    Always(Launch),
    /// Named for this hook, but the manager skips it at some commits: why, for messages.
    Sometimes(String),
    /// Not for this hook.
    Never,
    /// The manager could not read the file: the parser's reason, on one line.
    Unreadable(String),
}

impl Runs {
    /// Whether keyward runs at every commit.
    pub(crate) fn always(&self) -> bool {
        matches!(self, Runs::Always(_))
    }
}

/// How the manager starts keyward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Launch {
    /// A shell command that looks for keyward as keyward's own lines do (see
    /// [`script::SEARCH_PATH`]: `Hook::command_with`, `Hook::framework_entry`).
    Shell,
    /// The framework's `language: system` (or `unsupported`) entry: the first keyward on `PATH`.
    Path,
    /// The framework pip-installs keyward from a package index: the requirement
    /// (`keyward-hook==0.1.0`), if the hook names one.
    Wheel(Option<String>),
    /// The framework builds keyward with cargo (`language: rust`, keyward's own repository).
    Cargo,
}

/// The first YAML document of `text` (`Null` for an empty file), or the parser's reason.
fn load(text: &str) -> Result<Yaml, String> {
    let mut docs = YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    Ok(if docs.is_empty() {
        Yaml::Null
    } else {
        docs.swap_remove(0)
    })
}

/// `overlay` merged over `base`, mappings key by key (how lefthook applies
/// `lefthook-local.yml` over `lefthook.yml`); anything else is replaced.
fn merge(base: Yaml, overlay: Yaml) -> Yaml {
    match (base, overlay) {
        (Yaml::Hash(mut base), Yaml::Hash(overlay)) => {
            for (key, value) in overlay {
                let merged = match base.remove(&key) {
                    Some(old) => merge(old, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Yaml::Hash(base)
        }
        (base, Yaml::Null | Yaml::BadValue) => base,
        (_, overlay) => overlay,
    }
}

/// A YAML boolean as the managers read one (PyYAML takes `yes`/`on` too).
fn truthy(value: &Yaml) -> bool {
    match value {
        Yaml::Boolean(b) => *b,
        Yaml::String(s) => ["true", "yes", "on"].contains(&s.to_ascii_lowercase().as_str()),
        _ => false,
    }
}

/// Whether `value` is set to something (not absent, null, `false` or empty).
fn set(value: &Yaml) -> bool {
    match value {
        Yaml::Null | Yaml::BadValue => false,
        Yaml::Boolean(b) => *b,
        Yaml::String(s) => !s.trim().is_empty(),
        Yaml::Array(a) => !a.is_empty(),
        Yaml::Hash(h) => !h.is_empty(),
        _ => true,
    }
}

/// The strings of a string or a list of strings.
fn strings(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Yaml::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// lefthook

/// lefthook's `skip:` for a plain commit: `None` when it runs, else the condition.
fn lefthook_skip(skip: &Yaml) -> Option<String> {
    // Merges and rebases are not the commits keyward guards alone; every other condition
    // (a branch, a command's result, `true`) skips some or all plain commits.
    let harmless = |v: &Yaml| {
        v.as_str()
            .is_some_and(|s| matches!(s, "merge" | "rebase" | "merge-commit"))
    };
    match skip {
        Yaml::Null | Yaml::BadValue => None,
        Yaml::Array(a) if a.iter().all(harmless) => None,
        v if harmless(v) => None,
        v if !set(v) && !truthy(v) => None,
        Yaml::Boolean(true) => Some("`skip: true`".into()),
        _ => Some("a `skip:` condition".into()),
    }
}

/// Why lefthook may skip the command or job `node` (or its hook, `hook`) at a plain commit.
fn lefthook_condition(hook: &Yaml, node: &Yaml, name: &str) -> Option<String> {
    if let Some(why) = lefthook_skip(&hook["skip"]) {
        return Some(format!("the hook has {why}"));
    }
    if set(&hook["only"]) {
        return Some("the hook has an `only:` condition".into());
    }
    if let Some(why) = lefthook_skip(&node["skip"]) {
        return Some(why);
    }
    for key in ["only", "glob", "files", "exclude", "file_types", "root"] {
        if set(&node[key]) {
            return Some(format!("`{key}:`"));
        }
    }
    let excluded = strings(&hook["exclude_tags"]);
    let tags = strings(&node["tags"]);
    if excluded.iter().any(|t| t == name || tags.contains(t)) {
        return Some("a tag the hook's `exclude_tags` skips".into());
    }
    None
}

/// Every command and job of lefthook's hook `node`, with its name (jobs in groups included).
fn lefthook_commands(node: &Yaml) -> Vec<(String, &Yaml)> {
    fn jobs<'a>(list: &'a Yaml, out: &mut Vec<(String, &'a Yaml)>) {
        for job in list.as_vec().into_iter().flatten() {
            let name = job["name"].as_str().unwrap_or_default().to_owned();
            out.push((name, job));
            jobs(&job["group"]["jobs"], out);
        }
    }
    let mut out = Vec::new();
    if let Some(commands) = node["commands"].as_hash() {
        for (name, command) in commands {
            out.push((name.as_str().unwrap_or_default().to_owned(), command));
        }
    }
    jobs(&node["jobs"], &mut out);
    out
}

/// What lefthook runs for `hook` from its configuration `texts` (the main file first, then the
/// personal overrides merged over it, as lefthook does).
pub(crate) fn lefthook(texts: &[&str], hook: Hook) -> Runs {
    let mut config = Yaml::Null;
    for text in texts {
        match load(text) {
            Ok(doc) => config = merge(config, doc),
            Err(why) => return Runs::Unreadable(why),
        }
    }
    let node = &config[hook.name()];
    let mut sometimes = None;
    for (name, command) in lefthook_commands(node) {
        let Some(run) = command["run"].as_str() else {
            continue;
        };
        if !hook.runs(run) {
            continue;
        }
        let why = match lefthook_condition(node, command, &name) {
            Some(why) => Some(format!(
                "its `{name}` command has {why}, so lefthook skips it at some commits"
            )),
            None => script::unsafe_line(run, hook, false)
                .map(|line| format!("`{line}` lets the commit through when keyward fails")),
        };
        match why {
            None => return Runs::Always(Launch::Shell),
            Some(why) => sometimes = sometimes.or(Some(why)),
        }
    }
    sometimes.map_or(Runs::Never, Runs::Sometimes)
}

// ---------------------------------------------------------------------------------------------
// The pre-commit framework

/// The id keyward's own `.pre-commit-hooks.yaml` gives `hook`'s check.
pub(crate) fn framework_id(hook: Hook) -> &'static str {
    match hook {
        Hook::PreCommit => "keyward",
        Hook::CommitMsg => "keyward-commit-msg",
    }
}

/// The framework's name for `hook`'s stage, and its name before pre-commit 3.
fn stages(hook: Hook) -> [&'static str; 2] {
    match hook {
        Hook::PreCommit => ["pre-commit", "commit"],
        Hook::CommitMsg => ["commit-msg", "commit-msg"],
    }
}

/// What the framework runs for `hook` from `.pre-commit-config.yaml`'s `text`.
pub(crate) fn framework(text: &str, hook: Hook) -> Runs {
    let config = match load(text) {
        Ok(c) => c,
        Err(why) => return Runs::Unreadable(why),
    };
    let filtered_all = set(&config["files"]) || set(&config["exclude"]);
    let mut found = Runs::Never;
    for repo in config["repos"].as_vec().into_iter().flatten() {
        let url = repo["repo"].as_str().unwrap_or_default();
        for h in repo["hooks"].as_vec().into_iter().flatten() {
            let id = h["id"].as_str().unwrap_or_default();
            let entry = h["entry"].as_str().unwrap_or_default();
            let ours = match url {
                "local" => hook.runs(entry),
                "meta" => false,
                // A hook repository's hooks are defined there: keyward's by their ids.
                _ => id == framework_id(hook),
            };
            if !ours {
                continue;
            }
            let named = if set(&h["stages"]) {
                strings(&h["stages"])
            } else if set(&config["default_stages"]) {
                strings(&config["default_stages"])
            } else {
                // No stages: a local hook runs at every stage; keyward's repository gives
                // each id its own.
                stages(hook).map(str::to_owned).to_vec()
            };
            if !named.iter().any(|s| stages(hook).contains(&s.as_str())) {
                continue;
            }
            let filtered = filtered_all
                || ["files", "exclude", "types", "types_or", "exclude_types"]
                    .iter()
                    .any(|k| set(&h[*k]));
            if filtered && !truthy(&h["always_run"]) {
                found = Runs::Sometimes(format!(
                    "its `{id}` hook filters files and is not `always_run: true`, so the framework skips it at some commits"
                ));
                continue;
            }
            let language =
                h["language"]
                    .as_str()
                    .unwrap_or(if url == "local" { "system" } else { "rust" });
            let launch = match language {
                "python" => Launch::Wheel(
                    strings(&h["additional_dependencies"])
                        .into_iter()
                        .find(|d| d.starts_with("keyward-hook")),
                ),
                "rust" => Launch::Cargo,
                _ if entry.contains(script::PROJECT_BIN) => Launch::Shell,
                _ => Launch::Path,
            };
            return Runs::Always(launch);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "run: keyward hook";

    #[test]
    fn lefthook_runs_what_sits_under_the_hook_and_is_not_skipped() {
        let cases: &[(&str, bool)] = &[
            (&format!("pre-commit:\n  commands:\n    keyward:\n      {RUN}\n"), true),
            // Commented out, under another hook, skipped, conditioned: not at every commit.
            (&format!("pre-commit:\n  commands:\n    lint:\n      run: x\n#    keyward:\n#      {RUN}\n"), false),
            (&format!("pre-push:\n  commands:\n    keyward:\n      {RUN}\n"), false),
            (&format!("pre-commit:\n  commands:\n    keyward:\n      {RUN}\n      skip: true\n"), false),
            (&format!("pre-commit:\n  skip: true\n  commands:\n    keyward:\n      {RUN}\n"), false),
            (&format!("pre-commit:\n  commands:\n    keyward:\n      {RUN}\n      only:\n        - ref: main\n"), false),
            (&format!("pre-commit:\n  commands:\n    keyward:\n      {RUN}\n      exclude: '*.md'\n"), false),
            (&format!("pre-commit:\n  commands:\n    keyward:\n      {RUN}\n      skip: [merge, rebase]\n"), true),
            (&format!("pre-commit:\n  jobs:\n    - name: checks\n      group:\n        jobs:\n          - {RUN}\n"), true),
            ("pre-commit:\n  commands:\n    keyward:\n      run: keyward hook || true\n", false),
        ];
        for (text, want) in cases {
            assert_eq!(lefthook(&[text], Hook::PreCommit).always(), *want, "{text}");
        }
        // A personal override skips the team's command.
        let team = format!("pre-commit:\n  commands:\n    keyward:\n      {RUN}\n");
        let local = "pre-commit:\n  commands:\n    keyward:\n      skip: true\n";
        assert!(matches!(
            lefthook(&[&team, local], Hook::PreCommit),
            Runs::Sometimes(_)
        ));
        assert!(matches!(
            lefthook(&["pre-commit: [\n"], Hook::PreCommit),
            Runs::Unreadable(_)
        ));
    }

    #[test]
    fn the_framework_runs_hooks_of_the_stage_that_are_not_filtered_out() {
        let local = |extra: &str| {
            format!("repos:\n  - repo: local\n    hooks:\n      - id: keyward\n        name: k\n        entry: keyward hook\n        language: system\n{extra}")
        };
        assert_eq!(
            framework(&local(""), Hook::PreCommit),
            Runs::Always(Launch::Path)
        );
        assert_eq!(framework(&local(""), Hook::CommitMsg), Runs::Never);
        assert_eq!(
            framework(&local("        stages: [pre-push]\n"), Hook::PreCommit),
            Runs::Never
        );
        assert!(matches!(
            framework(&local("        files: '^src/'\n"), Hook::PreCommit),
            Runs::Sometimes(_)
        ));
        assert!(framework(
            &local("        files: '^src/'\n        always_run: true\n"),
            Hook::PreCommit
        )
        .always());
        let commented = "repos:\n  - repo: local\n    hooks:\n      - id: lint\n        name: l\n        entry: lint\n        language: system\n#      - id: keyward\n#        entry: keyward hook\n";
        assert_eq!(framework(commented, Hook::PreCommit), Runs::Never);
        let wheel = local("").replace(
            "language: system\n",
            "language: python\n        additional_dependencies: [keyward-hook==0.1.0]\n",
        );
        assert_eq!(
            framework(&wheel, Hook::PreCommit),
            Runs::Always(Launch::Wheel(Some("keyward-hook==0.1.0".into())))
        );
        let remote = "repos:\n  - repo: https://example.com/keyward\n    rev: v0.1.0\n    hooks:\n      - id: keyward\n";
        assert_eq!(
            framework(remote, Hook::PreCommit),
            Runs::Always(Launch::Cargo)
        );
        assert!(matches!(
            framework("repos: [\n", Hook::PreCommit),
            Runs::Unreadable(_)
        ));
    }
}
