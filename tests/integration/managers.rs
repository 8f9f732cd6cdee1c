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
