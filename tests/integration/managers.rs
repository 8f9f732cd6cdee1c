//! keyward next to real hook managers — husky 9 and lefthook 2 from the npm registry — in both
//! install orders: a staged key is blocked through a real `git commit`, and `keyward status`
//! says what git will run. keyward is in `~/.local/bin`, which is not on `PATH`.

use crate::machine::{npm_tools, Dev};

/// A machine whose repository is an npm project with husky and lefthook installed.
fn npm_project() -> Option<Dev> {
    let modules = npm_tools()?;
    let dev = Dev::new().with_local_bin();
    dev.write(
        "package.json",
        "{\n  \"name\": \"app\",\n  \"private\": true,\n  \"scripts\": { \"test\": \"node -e 0\" }\n}\n",
    );
    crate::repo::link_dir(&modules, &dev.dir().join("node_modules"));
    dev.write(".gitignore", "node_modules\n");
    Some(dev)
}

fn husky_init(dev: &Dev) {
    dev.run(dev.dir().join("node_modules/.bin/husky"), &["init"])
        .assert_ok();
    assert_eq!(
        dev.git(&["config", "core.hooksPath"]).stdout_text().trim(),
        ".husky/_"
    );
}

/// The team's lefthook configuration: a pre-commit command of its own.
const LEFTHOOK_YML: &str = "# the team's hooks\npre-commit:\n  commands:\n    lint:\n      run: echo linted > .git/lint.log\n";

fn lefthook_install(dev: &Dev) {
    dev.run(dev.dir().join("node_modules/.bin/lefthook"), &["install"])
        .assert_ok();
}

#[test]
fn husky_first_then_keyward_adds_a_line_the_team_commits() {
    let Some(dev) = npm_project() else { return };
    husky_init(&dev);
    let out = dev.keyward(&["install"]);
    out.assert_ok();
    assert!(
        out.stdout_text()
            .contains("added keyward to .husky/pre-commit (not tracked yet: commit it"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout_text()
            .contains("added keyward to .husky/commit-msg (new file: commit it"),
        "{}",
        out.all()
    );
    let team = std::fs::read_to_string(dev.dir().join(".husky/pre-commit")).expect("read");
    assert!(
        team.ends_with("npm test\n"),
        "the team's command stays: {team}"
    );
    assert!(
        !team.contains(&*dev.home.to_string_lossy()),
        "no machine's path: {team}"
    );
    let status = dev.status(0);
    assert!(status.contains("husky"), "{status}");
    assert!(status.contains(".local/bin/keyward"), "{status}");
    assert!(
        status.contains("commit messages: git runs husky's .husky/_/commit-msg"),
        "{status}"
    );
    dev.assert_message_blocked(&[]);

    let report = dev.assert_key_blocked(&[]);
    // The command the report prints runs as printed, though keyward is not on PATH.
    let allow = report
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" allow ") && l.contains("--reason"))
        .expect("an allow command")
        .to_owned();
    assert!(allow.starts_with("~/.local/bin/keyward allow "), "{allow}");
    dev.run("sh", &["-c", &allow]).assert_ok();
    assert!(dev.dir().join(".keyward.toml").exists());

    dev.stage_clean("a.txt");
    dev.commit().assert_passed();
    // Idempotent, and uninstall gives the team's file back.
    assert!(dev
        .keyward(&["install"])
        .stdout_text()
        .contains("already runs keyward"));
    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".husky/pre-commit")).expect("read"),
        "npm test\n"
    );
    // The commit-msg file keyward created goes with it.
    assert!(!dev.dir().join(".husky/commit-msg").exists());
}

#[test]
fn a_team_husky_commit_msg_file_gets_keyward_first_and_back_byte_for_byte() {
    let Some(dev) = npm_project() else { return };
    husky_init(&dev);
    let team = "grep -q . \"$1\"\necho \"$1\" > .git/team-msg.log\n";
    dev.write(".husky/commit-msg", team);
    dev.keyward(&["install"]).assert_ok();
    dev.status(0);
    dev.assert_message_blocked(&[]);
    assert!(
        !dev.dir().join(".git/team-msg.log").exists(),
        "keyward runs first"
    );
    dev.stage_clean("a.txt");
    dev.commit().assert_passed();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".git/team-msg.log")).expect("ran"),
        ".git/COMMIT_EDITMSG\n"
    );
    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".husky/commit-msg")).expect("read"),
        team
    );
}

#[test]
fn keyward_first_then_husky_status_says_so_and_install_fixes_it() {
    let Some(dev) = npm_project() else { return };
    dev.keyward(&["install"]).assert_ok();
    dev.status(0);
    // A teammate commits husky's files; until husky is installed here, keyward's hook still
    // runs, and warns that husky will take over without it.
    dev.write(".husky/pre-commit", "npm test\n");
    dev.stage_clean("a.txt");
    let commit = dev.commit();
    commit.assert_passed();
    assert!(
        commit
            .out
            .all()
            .contains("warning: husky is set up in .husky/ without keyward"),
        "{}",
        commit.out.all()
    );
    assert!(commit.out.all().contains("~/.local/bin/keyward install"));
    let status = dev.status(1);
    assert!(
        status.contains("husky is set up in .husky without keyward"),
        "{status}"
    );

    husky_init(&dev);
    let status = dev.status(1);
    assert!(
        status.contains("git runs husky's .husky/_/pre-commit")
            && status.contains(".husky/pre-commit does not run keyward")
            && status.contains("run ~/.local/bin/keyward install"),
        "{status}"
    );
    // What the team's setup script does on every machine: install again.
    dev.keyward(&["install"]).assert_ok();
    dev.status(0);
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
}

#[test]
fn lefthook_first_then_keyward_adds_a_command_to_its_configuration() {
    let Some(dev) = npm_project() else { return };
    dev.write("lefthook.yml", LEFTHOOK_YML);
    lefthook_install(&dev);
    let status = dev.status(1);
    assert!(status.contains("git runs lefthook"), "{status}");
    let out = dev.keyward(&["install"]);
    out.assert_ok();
    assert!(
        out.stdout_text()
            .contains("added keyward to lefthook.yml ("),
        "{}",
        out.all()
    );
    let config = std::fs::read_to_string(dev.dir().join("lefthook.yml")).expect("read");
    assert!(
        config.starts_with("# the team's hooks\npre-commit:\n  commands:\n    keyward:"),
        "{config}"
    );
    assert!(
        config.contains("    lint:\n      run: echo linted > .git/lint.log\n"),
        "{config}"
    );
    assert!(
        config.contains("commit-msg:\n  commands:\n    keyward:"),
        "{config}"
    );
    // Until lefthook installs its commit-msg hook (at its next run), keyward's own runs.
    assert!(
        out.stdout_text().contains(
            "installed .git/hooks/commit-msg (until lefthook installs its commit-msg hook)"
        ),
        "{}",
        out.all()
    );
    let status = dev.status(0);
    assert!(status.contains("lefthook.yml runs keyward"), "{status}");

    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
    // lefthook re-syncs its hooks when its configuration's modification time has moved past
    // its own record (in seconds): not within the second it was installed in, as here.
    let config = dev.dir().join("lefthook.yml");
    std::fs::File::options()
        .write(true)
        .open(&config)
        .and_then(|f| {
            f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(2))
        })
        .expect("mtime");
    dev.assert_key_blocked(&[]);
    // lefthook has synced: its commit-msg hook runs keyward from lefthook.yml.
    let status = dev.status(0);
    assert!(
        status.contains("commit messages: git runs lefthook (.git/hooks/commit-msg), and lefthook.yml runs keyward"),
        "{status}"
    );
    dev.assert_message_blocked(&[]);
    dev.stage_clean("a.txt");
    dev.commit().assert_passed();
    assert!(
        dev.dir().join(".git/lint.log").exists(),
        "the team's command ran"
    );
    // Installing again tidies keyward's script lefthook set aside.
    let again = dev.keyward(&["install"]);
    assert!(
        again
            .stdout_text()
            .contains("removed keyward's unused earlier hook .git/hooks/commit-msg.old"),
        "{}",
        again.all()
    );

    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join("lefthook.yml")).expect("read"),
        LEFTHOOK_YML
    );
}

/// lefthook configured with jobs in `.config/lefthook.yml`, its own commit-msg check among
/// them: keyward's goes first in each hook, and comes out again byte for byte.
#[test]
fn lefthook_jobs_with_the_team_s_commit_msg_check_get_keyward_s_too() {
    let Some(dev) = npm_project() else { return };
    let team = "pre-commit:\n  jobs:\n    - name: lint\n      run: echo linted\ncommit-msg:\n  jobs:\n    - name: subject\n      run: grep -q . \"{1}\" && echo \"{1}\" > .git/subject.log\n";
    dev.write(".config/lefthook.yml", team);
    lefthook_install(&dev);
    let status = dev.status(1);
    assert!(
        status.contains("commit messages: git runs lefthook"),
        "{status}"
    );
    dev.keyward(&["install"]).assert_ok();
    let config = std::fs::read_to_string(dev.dir().join(".config/lefthook.yml")).expect("read");
    assert!(
        config.contains("commit-msg:\n  jobs:\n    - name: keyward"),
        "{config}"
    );
    dev.status(0);
    // lefthook runs every job of a hook (keyward's refusal fails the hook).
    dev.assert_message_blocked(&[]);
    dev.stage_clean("a.txt");
    dev.commit().assert_passed();
    assert!(dev.dir().join(".git/subject.log").exists());
    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".config/lefthook.yml")).expect("read"),
        team
    );
}

#[test]
fn keyward_first_then_lefthook_status_names_the_set_aside_hook() {
    let Some(dev) = npm_project() else { return };
    dev.keyward(&["install"]).assert_ok();
    // The team adds lefthook. Before lefthook is installed here, keyward's hook warns.
    dev.write("lefthook.yml", LEFTHOOK_YML);
    dev.stage_clean("a.txt");
    let commit = dev.commit();
    commit.assert_passed();
    assert!(
        commit
            .out
            .all()
            .contains("warning: lefthook.yml has pre-commit commands but not keyward"),
        "{}",
        commit.out.all()
    );
    // lefthook renames keyward's hook to pre-commit.old and never runs it.
    lefthook_install(&dev);
    let old = dev.repo.git_dir().join("hooks/pre-commit.old");
    assert!(old.exists());
    let status = dev.status(1);
    assert!(
        status.contains("git runs lefthook")
            && status.contains("lefthook.yml does not run keyward")
            && status.contains("set aside as .git/hooks/pre-commit.old")
            && status.contains("run ~/.local/bin/keyward install"),
        "{status}"
    );
    // The key would pass now: that is what status says. Install fixes it.
    let out = dev.keyward(&["install"]);
    out.assert_ok();
    assert!(
        out.stdout_text()
            .contains("removed keyward's unused earlier hook"),
        "{}",
        out.all()
    );
    assert!(!old.exists());
    dev.status(0);
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
}

// ---------------------------------------------------------------------------------------------
// Nothing breaks a team: what status and install read is what the managers run.

/// `n` occurrences of `needle` in `text`, for "ran exactly once".
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// A clean commit of a new file named `name`, which must pass.
fn clean_commit(dev: &Dev, name: &str) {
    dev.stage_clean(name);
    dev.commit().assert_passed();
}

/// A commit of a staged key that gets through, as the manager runs it: HEAD moves.
fn key_gets_through(dev: &Dev) {
    dev.stage_key();
    let commit = dev.commit();
    assert!(
        commit.moved,
        "the key was expected to pass (keyward does not run, or its failure is ignored):\n{}",
        commit.out.all()
    );
}

/// lefthook runs keyward under `pre-push:` only: nothing checks a commit. status says so,
/// and install adds keyward to `pre-commit:` instead of saying "already runs keyward".
#[test]
fn managers_lefthook_keyward_under_pre_push_only_is_not_protection() {
    let Some(dev) = npm_project() else { return };
    let command = "PATH=\"node_modules/.bin:$PATH:$HOME/.local/bin\" keyward hook";
    let team = format!("pre-commit:\n  commands:\n    lint:\n      run: echo linted\npre-push:\n  commands:\n    keyward:\n      run: {command}\n");
    dev.write("lefthook.yml", &team);
    lefthook_install(&dev);
    let status = dev.status(1);
    assert!(
        status.contains("lefthook.yml does not run keyward"),
        "{status}"
    );
    key_gets_through(&dev);
    let out = dev.keyward(&["install"]);
    out.assert_ok();
    assert!(
        !out.stdout_text().contains("already runs keyward")
            && out.stdout_text().contains("added keyward to lefthook.yml"),
        "{}",
        out.all()
    );
    assert!(dev.status(0).contains("lefthook.yml runs keyward"));
    dev.assert_key_blocked(&[]);
}

/// A keyward command lefthook skips (`skip: true`, an `only:` condition) protects nothing:
/// status exits 1 naming the condition, and install refuses to call it done.
#[test]
fn managers_lefthook_skipped_keyward_command_is_not_protection() {
    let Some(dev) = npm_project() else { return };
    for condition in ["skip: true", "only:\n        - ref: release"] {
        let team = format!("pre-commit:\n  commands:\n    keyward:\n      run: PATH=\"$PATH:$HOME/.local/bin\" keyward hook\n      {condition}\n");
        dev.write("lefthook.yml", &team);
        lefthook_install(&dev);
        let status = dev.status(1);
        assert!(
            status.contains("does not run keyward at every commit")
                && status.contains(condition.split(':').next().unwrap_or_default()),
            "{status}"
        );
        key_gets_through(&dev);
        let out = dev.keyward(&["install"]);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        assert!(
            !out.stdout_text().contains("already runs keyward")
                && out.all().contains("keyward must run at every commit"),
            "{}",
            out.all()
        );
        assert_eq!(
            std::fs::read_to_string(dev.dir().join("lefthook.yml")).expect("read"),
            team,
            "the team's file is left as it was"
        );
    }
}

/// simple-git-hooks: a team command holding `||` or `;` after keyward's check (`keyward hook
/// && npx lint-staged || true`, `… && echo format; echo lint`) lets a key through. status
/// says which line; the line install prints now stops the commit whatever follows it.
#[test]
fn managers_simple_git_hooks_line_stops_the_commit_whatever_the_team_command_holds() {
    let Some(modules) = npm_tools() else { return };
    for team in ["echo lint || true", "echo format; echo lint"] {
        let dev = Dev::new().with_local_bin();
        crate::repo::link_dir(&modules, &dev.dir().join("node_modules"));
        let package = |pre_commit: &str| {
            format!(
                "{{\n  \"name\": \"app\",\n  \"simple-git-hooks\": {{ \"pre-commit\": {} }}\n}}\n",
                serde_json::Value::String(pre_commit.into())
            )
        };
        let apply = || {
            dev.run(dev.dir().join("node_modules/.bin/simple-git-hooks"), &[])
                .assert_ok()
        };
        // The line an earlier keyward printed, applied: a failing keyward does not count.
        let earlier = format!("PATH=\"$PATH:$HOME/.local/bin\" keyward hook && {team}");
        dev.write("package.json", &package(&earlier));
        dev.write(".gitignore", "node_modules\n");
        apply();
        let status = dev.status(1);
        assert!(
            status.contains("lets the commit through when keyward fails"),
            "{status}"
        );
        key_gets_through(&dev);
        let out = dev.keyward(&["install"]);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        let line = out
            .stdout_text()
            .lines()
            .find_map(|l| l.trim().strip_prefix("\"pre-commit\": ").map(str::to_owned))
            .unwrap_or_else(|| panic!("no line: {}", out.all()));
        let line: String = serde_json::from_str(&line).expect("a JSON string");
        assert!(
            line.ends_with(&format!("keyward hook || exit $?; {team}")),
            "{line}"
        );
        assert_eq!(count(&line, "keyward hook"), 1, "{line}");
        dev.write("package.json", &package(&line));
        apply();
        assert!(!dev.status(1).contains("lets the commit through"));
        dev.assert_key_blocked(&[]);
        clean_commit(&dev, "a.txt");
    }
}

/// In a Node project that pins keyward (`devDependencies`, `node_modules/.bin/keyward`), the
/// line keyward adds runs the pinned keyward, not a stale or foreign one earlier on `PATH`
/// (here one that passes everything), and status names the pinned one.
#[test]
fn managers_the_pinned_keyward_beats_one_on_path() {
    let Some(modules) = npm_tools() else { return };
    let dev = Dev::new();
    // The project's own node_modules: lefthook from the registry, keyward pinned.
    let bin = dev.dir().join("node_modules/.bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let lefthook = std::fs::canonicalize(modules.join(".bin/lefthook")).expect("lefthook");
    crate::repo::link_file(&lefthook, &bin.join("lefthook"));
    crate::repo::write_executable(
        &bin.join("keyward"),
        &std::fs::read(crate::repo::KEYWARD).expect("read"),
        0o755,
    );
    dev.write(
        "package.json",
        "{\n  \"name\": \"app\",\n  \"devDependencies\": { \"keyward\": \"0.1.0\", \"lefthook\": \"2.2.1\" }\n}\n",
    );
    dev.write(".gitignore", "node_modules\n");
    dev.write("lefthook.yml", LEFTHOOK_YML);
    // A stale keyward first on PATH that lets everything through.
    let stale = dev.home.join("stale");
    crate::repo::write_executable(&stale.join("keyward"), b"#!/bin/sh\nexit 0\n", 0o755);
    let dev = Dev {
        path: format!("{}:{}", stale.display(), dev.path),
        ..dev
    };
    dev.run(bin.join("lefthook"), &["install"]).assert_ok();
    // `npx keyward install`, as a Node team runs it.
    dev.run(bin.join("keyward"), &["install"]).assert_ok();
    let status = dev.run(bin.join("keyward"), &["status"]);
    assert_eq!(status.code(), Some(0), "{}", status.all());
    assert!(
        status.all().contains("(node_modules/.bin/keyward)"),
        "{}",
        status.all()
    );
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
}

// The pre-commit framework (from the Python package index), driven for real.

/// The team's framework configuration: a hook of its own that logs each run.
const FRAMEWORK_CONFIG: &str = "repos:\n  - repo: local\n    hooks:\n      - id: team-check\n        name: team check\n        entry: sh -c 'echo ran >> .git/team.log'\n        language: system\n        pass_filenames: false\n        always_run: true\n        stages: [pre-commit]\n";

/// A repository with the team's framework configuration committed, keyward in
/// `~/.local/bin`; and the framework's `pre-commit`.
fn framework_repo() -> Option<(Dev, std::path::PathBuf)> {
    let tools = crate::machine::py_tools()?;
    let dev = Dev::new().with_local_bin();
    dev.write(".pre-commit-config.yaml", FRAMEWORK_CONFIG);
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    dev.git(&["commit", "-q", "--no-verify", "-m", "hooks"])
        .assert_ok();
    Some((dev, tools.join("bin/pre-commit")))
}

/// `keyward install`, and the team commits the configuration it changed.
fn keyward_install(dev: &Dev) -> String {
    let out = dev.keyward(&["install"]);
    out.assert_ok();
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    out.stdout_text()
}

/// The team's hook and keyward's two checks each run exactly once per commit.
fn assert_each_runs_once(dev: &Dev, round: &str) {
    let log = dev.repo.git_dir().join("team.log");
    let _ = std::fs::remove_file(&log);
    clean_commit(dev, &format!("clean-{round}.txt"));
    assert_eq!(
        std::fs::read_to_string(&log).expect("team hook ran"),
        "ran\n"
    );
    let report = dev.assert_key_blocked(&[]);
    assert_eq!(count(&report, "commit blocked"), 1, "{report}");
    let report = dev.assert_message_blocked(&[]);
    assert_eq!(
        count(&report, "problem in your commit message"),
        1,
        "{report}"
    );
}

/// A setup script may run `keyward install` before or after `pre-commit install`, and again
/// later: each order ends with the team's hooks and keyward's each running once.
#[test]
fn managers_framework_either_install_order_runs_every_hook_once() {
    for keyward_first in [true, false] {
        let Some((dev, pre_commit)) = framework_repo() else {
            return;
        };
        if keyward_first {
            let out = keyward_install(&dev);
            assert!(
                out.contains(
                    "the pre-commit framework is configured here but its hooks are not installed"
                ),
                "{out}"
            );
            dev.run(&pre_commit, &["install"]).assert_ok();
        } else {
            dev.run(&pre_commit, &["install"]).assert_ok();
            keyward_install(&dev);
        }
        dev.status(0);
        assert_each_runs_once(&dev, "first");
        // The setup script again, in the other order.
        keyward_install(&dev);
        dev.run(&pre_commit, &["install"]).assert_ok();
        dev.status(0);
        assert_each_runs_once(&dev, "second");
        dev.keyward(&["uninstall"]).assert_ok();
        assert_eq!(
            std::fs::read_to_string(dev.dir().join(".pre-commit-config.yaml")).expect("read"),
            FRAMEWORK_CONFIG
        );
    }
}

/// The entry `keyward install` writes runs the keyward on the machine (no package index
/// involved); a machine without one fails closed, saying why; an entry pinning the unpublished
/// `keyward-hook` wheel (what earlier versions wrote) is reported and replaced.
#[test]
fn managers_framework_entry_uses_the_machine_s_keyward_and_fails_closed_without() {
    let Some((dev, pre_commit)) = framework_repo() else {
        return;
    };
    dev.run(&pre_commit, &["install"]).assert_ok();
    let out = keyward_install(&dev);
    assert!(
        out.contains("added keyward to .pre-commit-config.yaml"),
        "{out}"
    );
    let config = std::fs::read_to_string(dev.dir().join(".pre-commit-config.yaml")).expect("r");
    assert!(
        config.contains("language: system") && !config.contains("keyward-hook=="),
        "{config}"
    );
    assert!(dev.status(0).contains(".local/bin/keyward"));
    // Nothing reaches a package index.
    let offline = [("PIP_NO_INDEX", "1")];
    dev.assert_key_blocked(&offline);
    clean_commit(&dev, "a.txt");

    // A teammate without keyward: every commit is blocked, saying what to do.
    let binary = std::fs::read(dev.local_bin()).expect("read");
    std::fs::remove_file(dev.local_bin()).expect("rm");
    let status = dev.run(crate::repo::KEYWARD, &["status"]);
    assert_eq!(status.code(), Some(1), "{}", status.all());
    assert!(
        status.all().contains("no keyward where it looks"),
        "{}",
        status.all()
    );
    dev.stage_clean("b.txt");
    let commit = dev.commit_env(&offline);
    assert!(!commit.moved, "{}", commit.out.all());
    assert!(
        commit
            .out
            .all()
            .contains("cannot find keyward in node_modules/.bin, PATH, ~/.local/bin or ~/.cargo/bin, so the commit is blocked"),
        "{}",
        commit.out.all()
    );
    crate::repo::write_executable(&dev.local_bin(), &binary, 0o755);

    // An entry pinning keyward-hook from the package index, as keyward 0.1.0 wrote it.
    let pinned = format!("{FRAMEWORK_CONFIG}  - repo: local # keyward: blocks staged secrets (`keyward uninstall` removes it)\n    hooks:\n      - id: keyward\n        name: keyward (staged secrets and env files)\n        entry: keyward hook\n        language: python\n        additional_dependencies: [keyward-hook==0.1.0]\n        pass_filenames: false\n        always_run: true\n        stages: [pre-commit]\n");
    dev.write(".pre-commit-config.yaml", &pinned);
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    let status = dev.status(1);
    assert!(
        status.contains("keyward-hook==0.1.0") && status.contains("no release yet"),
        "{status}"
    );
    // What that costs: every commit fails, clean ones too.
    let commit = dev.commit_env(&offline);
    assert!(!commit.moved, "{}", commit.out.all());
    let out = keyward_install(&dev);
    assert!(
        out.contains("updated keyward's lines in .pre-commit-config.yaml"),
        "{out}"
    );
    dev.status(0);
    dev.commit_env(&offline).assert_passed();
    dev.assert_key_blocked(&offline);
}

/// keyward's entry commented out: the framework does not run it, status says so, and install
/// adds it again instead of "already runs keyward".
#[test]
fn managers_framework_commented_out_keyward_is_not_protection() {
    let Some((dev, pre_commit)) = framework_repo() else {
        return;
    };
    dev.run(&pre_commit, &["install"]).assert_ok();
    keyward_install(&dev);
    dev.status(0);
    let config = std::fs::read_to_string(dev.dir().join(".pre-commit-config.yaml")).expect("r");
    let mut inside = false;
    let commented: String = config
        .lines()
        .map(|l| {
            if l.contains("- repo: local # keyward: blocks staged secrets") {
                inside = true;
            } else if l.trim_start().starts_with("- repo:") {
                inside = false;
            }
            if inside {
                format!("#{l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    dev.write(".pre-commit-config.yaml", &commented);
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    let status = dev.status(1);
    assert!(
        status.contains(".pre-commit-config.yaml does not run keyward"),
        "{status}"
    );
    key_gets_through(&dev);
    let out = keyward_install(&dev);
    assert!(
        !out.contains("already runs keyward") && out.contains("added keyward to"),
        "{out}"
    );
    dev.status(0);
    dev.assert_key_blocked(&[]);
}

/// A personal `lefthook-local.yml` that skips the team's keyward command: lefthook merges it
/// over `lefthook.yml`, so keyward does not run; status and install say so.
#[test]
fn managers_lefthook_local_override_skipping_keyward_is_reported() {
    let Some(dev) = npm_project() else { return };
    dev.write("lefthook.yml", LEFTHOOK_YML);
    lefthook_install(&dev);
    dev.keyward(&["install"]).assert_ok();
    dev.status(0);
    dev.write(
        "lefthook-local.yml",
        "pre-commit:\n  commands:\n    keyward:\n      skip: true\n",
    );
    dev.write(".gitignore", "node_modules\nlefthook-local.yml\n");
    let status = dev.status(1);
    assert!(status.contains("lefthook-local.yml"), "{status}");
    assert!(status.contains("`skip: true`"), "{status}");
    key_gets_through(&dev);
    let out = dev.keyward(&["install"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.stdout_text()
            .contains("lefthook does not run keyward's pre-commit check at every commit"),
        "{}",
        out.all()
    );
}
