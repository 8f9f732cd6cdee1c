//! `keyward install | uninstall | status`, `install.sh` and the committed-hooks shim, against
//! real repositories, followed by real commits.

use crate::keys;
use crate::machine::{npm_tools, Dev};
use crate::repo::{isolated, link_dir, mode_of, write_executable, Repo, Run, KEYWARD};
use std::path::Path;

fn secret_file(repo: &Repo, dir: &Path) {
    let key = keys::github();
    std::fs::write(dir.join("leak.txt"), format!("token = {}\n", key.value)).expect("write");
    repo.run_in(dir, "git", &["add", "leak.txt"]).assert_ok();
}

fn hook_path(repo: &Repo) -> std::path::PathBuf {
    let hooks = repo
        .git(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .stdout_text();
    Path::new(hooks.trim()).join("pre-commit")
}

fn msg_hook_path(repo: &Repo) -> std::path::PathBuf {
    hook_path(repo).with_file_name("commit-msg")
}

/// `git commit -m MESSAGE` in `dir` of a clean staged change; whether HEAD moved, and the output.
fn commit_message(repo: &Repo, dir: &Path, message: &str) -> (bool, String) {
    let name = format!("m-{}.txt", keys::random("abcdefghij", 8));
    std::fs::write(dir.join(&name), "clean\n").expect("write");
    repo.run_in(dir, "git", &["add", &name]).assert_ok();
    let head = |d: &Path| {
        repo.run_in(d, "git", &["rev-parse", "-q", "--verify", "HEAD"])
            .stdout_text()
    };
    let before = head(dir);
    let out = repo.run_in(dir, "git", &["commit", "-q", "-m", message]);
    (head(dir) != before, out.all())
}

/// A key in a commit message is refused in `dir`, with keyward's report.
fn assert_message_refused(repo: &Repo, dir: &Path) {
    let key = keys::openai_project();
    let (moved, text) = commit_message(repo, dir, &format!("Use {}", key.value));
    assert!(!moved, "committed:\n{text}");
    assert!(text.contains("commit message:1:5"), "{text}");
    keys::assert_no_leak(&text, &key);
}

/// A repository without keyward's hook (the helper installs it by copying; these tests don't).
fn bare_repo() -> Repo {
    let repo = Repo::new();
    std::fs::remove_file(hook_path(&repo)).expect("remove copied hook");
    repo
}

fn write_hook(path: &Path, body: &str) {
    write_executable(path, body.as_bytes(), 0o755);
}

#[test]
fn install_protects_a_fresh_repository_and_is_idempotent() {
    let repo = bare_repo();
    let out = repo.keyward(&["install"]);
    out.assert_ok();
    assert!(out.stdout_text().contains("installed"), "{}", out.all());
    let first = std::fs::read(hook_path(&repo)).expect("hook");
    let again = repo.keyward(&["install"]);
    assert!(
        again.stdout_text().contains("already up to date"),
        "{}",
        again.all()
    );
    assert_eq!(std::fs::read(hook_path(&repo)).expect("hook"), first);
    assert!(
        again
            .stdout_text()
            .contains("commit-msg is already up to date"),
        "{}",
        again.all()
    );
    let status = repo.keyward(&["status"]);
    assert_eq!(status.code(), Some(0), "{}", status.all());
    assert!(
        status.stdout_text().contains("; commit messages: "),
        "{}",
        status.all()
    );
    assert_message_refused(&repo, &repo.dir);
    let (moved, text) = commit_message(&repo, &repo.dir, "A clean message");
    assert!(moved, "{text}");
    secret_file(&repo, &repo.dir);
    repo.commit(&[]).assert_blocked();
}

/// A team's commit-msg hook (commitlint, a ticket check) is kept, and runs after keyward's
/// check passes with what git gave the hook: the message file, the environment, the input.
#[test]
fn a_team_commit_msg_hook_is_chained_with_its_arguments_and_restored() {
    let repo = bare_repo();
    let hook = msg_hook_path(&repo);
    let original = "#!/bin/sh\n# the team's message check\nprintf '%s|%s|%s\\n' \"$1\" \"$TEAM_VAR\" \"$(head -n1 \"$1\")\" >> \"$(git rev-parse --git-dir)/team.log\"\nexit \"${TEAM_HOOK_EXIT:-0}\"\n";
    write_executable(&hook, original.as_bytes(), 0o750);
    let out = repo.keyward(&["install"]);
    assert!(
        out.stdout_text().contains(
            "commit-msg; the previous hook runs after keyward passes (commit-msg.keyward-chained)"
        ),
        "{}",
        out.all()
    );
    let log = repo.git_dir().join("team.log");
    // keyward refuses first: the team's hook does not run.
    assert_message_refused(&repo, &repo.dir);
    assert!(!log.exists());
    // A clean message: keyward passes, then the team's hook, with git's argument.
    repo.write("a.txt", "a\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    let out = isolated("git", &repo.dir)
        .args(["commit", "-q", "-m", "Clean subject"])
        .env("TEAM_VAR", "passed on")
        .current_dir(&repo.dir)
        .run()
        .expect("git");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&log).expect("team hook ran"),
        ".git/COMMIT_EDITMSG|passed on|Clean subject\n"
    );
    // Its failure still refuses the commit.
    repo.write("b.txt", "b\n");
    repo.git(&["add", "b.txt"]).assert_ok();
    let before = repo.head();
    let out = isolated("git", &repo.dir)
        .args(["commit", "-q", "-m", "x"])
        .env("TEAM_HOOK_EXIT", "1")
        .current_dir(&repo.dir)
        .run()
        .expect("git");
    assert!(!out.status.success());
    assert_eq!(repo.head(), before);
    // Uninstall puts it back byte for byte, mode included.
    repo.keyward(&["uninstall"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), original);
    assert!(
        mode_of(&hook).is_none_or(|m| m == 0o750),
        "{:?}",
        mode_of(&hook)
    );
    assert!(!hook.with_file_name("commit-msg.keyward-chained").exists());
}

#[test]
fn an_existing_hook_is_chained_and_its_failure_still_blocks() {
    let repo = bare_repo();
    let hook = hook_path(&repo);
    let original = "#!/bin/sh\necho \"team hook ran with $# args\" >> \"$(git rev-parse --git-dir)/team.log\"\nexit \"${TEAM_HOOK_EXIT:-0}\"\n";
    write_hook(&hook, original);
    let out = repo.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("previous hook runs after keyward"),
        "{}",
        out.all()
    );

    repo.write("a.txt", "clean\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    repo.commit(&[]).assert_passed();
    let log = std::fs::read_to_string(repo.git_dir().join("team.log")).expect("team hook ran");
    assert_eq!(log, "team hook ran with 0 args\n");

    // The team hook's own failure still blocks.
    repo.write("b.txt", "clean\n");
    repo.git(&["add", "b.txt"]).assert_ok();
    let before = repo.head();
    let out = isolated("git", &repo.dir)
        .args(["commit", "-q", "-m", "x"])
        .env("TEAM_HOOK_EXIT", "1")
        .current_dir(&repo.dir)
        .run()
        .expect("git");
    assert!(!out.status.success());
    assert_eq!(repo.head(), before);

    // keyward blocks first: the team hook does not even run.
    std::fs::remove_file(repo.git_dir().join("team.log")).expect("rm");
    secret_file(&repo, &repo.dir);
    repo.commit(&[]).assert_blocked();
    assert!(!repo.git_dir().join("team.log").exists());
}

/// A team's setup script may run installs in parallel: however they interleave, the team's
/// hook is kept exactly once and keyward's runs before it.
#[test]
fn installs_racing_each_other_keep_the_team_hook() {
    let repo = bare_repo();
    let hook = hook_path(&repo);
    let original = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/team.log\"\n";
    write_hook(&hook, original);
    let outs: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|_| s.spawn(|| repo.keyward(&["install"])))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("thread"))
            .collect()
    });
    for out in &outs {
        // Whoever loses the race to keep the team's hook aside finds keyward's hook in place
        // and brings it up to date; nobody overwrites the kept hook, nobody fails.
        assert_eq!(out.code(), Some(0), "{}", out.all());
    }
    let chained = hook.with_file_name("pre-commit.keyward-chained");
    assert_eq!(
        std::fs::read_to_string(&chained).expect("chained"),
        original
    );
    assert_eq!(repo.keyward(&["status"]).code(), Some(0));
    secret_file(&repo, &repo.dir);
    repo.commit(&[]).assert_blocked();
    assert!(!repo.git_dir().join("team.log").exists());
    repo.git(&["rm", "-q", "--cached", "leak.txt"]).assert_ok();
    repo.write("a.txt", "clean\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    repo.commit(&[]).assert_passed();
    let log = std::fs::read_to_string(repo.git_dir().join("team.log")).expect("team hook ran");
    assert_eq!(log, "ran\n");
}

#[test]
fn uninstall_restores_the_previous_hook_byte_for_byte() {
    let repo = bare_repo();
    let hook = hook_path(&repo);
    let original = "#!/bin/sh\n# the team's hook\nexit 0\n";
    write_executable(&hook, original.as_bytes(), 0o750);
    repo.keyward(&["install"]).assert_ok();
    assert_ne!(std::fs::read_to_string(&hook).expect("hook"), original);
    repo.keyward(&["uninstall"]).assert_ok();
    assert_eq!(std::fs::read_to_string(&hook).expect("hook"), original);
    assert!(
        mode_of(&hook).is_none_or(|m| m == 0o750),
        "{:?}",
        mode_of(&hook)
    );
    // And on a repository with no previous hook, nothing is left behind.
    let fresh = bare_repo();
    fresh.keyward(&["install"]).assert_ok();
    assert!(msg_hook_path(&fresh).exists());
    fresh.keyward(&["uninstall"]).assert_ok();
    assert!(!hook_path(&fresh).exists());
    assert!(!msg_hook_path(&fresh).exists());
}

#[test]
fn status_explains_what_is_wrong_in_one_line() {
    let repo = bare_repo();
    let missing = repo.keyward(&["status"]);
    assert_eq!(missing.code(), Some(1));
    assert!(
        missing.all().contains("no pre-commit hook"),
        "{}",
        missing.all()
    );
    write_hook(&hook_path(&repo), "#!/bin/sh\nexit 0\n");
    let foreign = repo.keyward(&["status"]);
    assert_eq!(foreign.code(), Some(1));
    assert!(
        foreign.all().contains("not keyward's hook"),
        "{}",
        foreign.all()
    );
    repo.keyward(&["install"]).assert_ok();
    assert_eq!(repo.keyward(&["status"]).code(), Some(0));
    let hook = hook_path(&repo);
    let text = std::fs::read_to_string(&hook).expect("hook");
    let old = text.replace(
        &format!("keyward-version: {}", env!("CARGO_PKG_VERSION")),
        "keyward-version: 0.0.1",
    );
    write_executable(&hook, old.as_bytes(), 0o755);
    let outdated = repo.keyward(&["status"]);
    assert_eq!(outdated.code(), Some(1));
    assert!(
        outdated.all().contains("older than this keyward"),
        "{}",
        outdated.all()
    );
    assert_eq!(outdated.all().lines().count(), 1, "{}", outdated.all());
    // The commit-msg hook counts too: without it, status fails, still on one line.
    repo.keyward(&["install"]).assert_ok();
    std::fs::remove_file(msg_hook_path(&repo)).expect("rm");
    let no_msg = repo.keyward(&["status"]);
    assert_eq!(no_msg.code(), Some(1));
    assert!(
        no_msg
            .all()
            .contains("commit messages: no commit-msg hook in .: run "),
        "{}",
        no_msg.all()
    );
    assert_eq!(no_msg.all().lines().count(), 1, "{}", no_msg.all());
    write_hook(&msg_hook_path(&repo), "#!/bin/sh\nexit 0\n");
    let foreign = repo.keyward(&["status"]);
    assert_eq!(foreign.code(), Some(1));
    assert!(
        foreign
            .all()
            .contains("commit messages: .git/hooks/commit-msg is not keyward's hook"),
        "{}",
        foreign.all()
    );
}

#[test]
fn linked_worktree_and_subdirectory_and_spaces() {
    let repo = Repo::new_with(&[]);
    std::fs::remove_file(hook_path(&repo)).expect("rm");
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    let wt = repo
        .dir
        .parent()
        .expect("parent")
        .join("work tree with spaces");
    repo.git(&["worktree", "add", "-q", &wt.to_string_lossy(), "-b", "side"])
        .assert_ok();
    std::fs::create_dir_all(wt.join("sub/dir")).expect("mkdir");
    // Installed from a subdirectory of the linked worktree.
    let out = repo.run_in(&wt.join("sub/dir"), KEYWARD, &["install"]);
    out.assert_ok();
    secret_file(&repo, &wt.join("sub/dir"));
    let out = repo.run_in(&wt.join("sub/dir"), "git", &["commit", "-q", "-m", "x"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(out.all().contains("sub/dir/leak.txt:1:"), "{}", out.all());
    repo.run_in(&wt, "git", &["rm", "-q", "--cached", "sub/dir/leak.txt"])
        .assert_ok();
    assert_message_refused(&repo, &wt.join("sub/dir"));
}

#[test]
fn global_install_protects_repositories_created_afterwards() {
    let repo = bare_repo(); // gives us an isolated HOME
    let home = repo.dir.parent().expect("tmp").join("home");
    let out = isolated(KEYWARD, &home)
        .args(["install", "--global"])
        .current_dir(&home)
        .run()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The existing repository is untouched.
    assert!(!hook_path(&repo).exists());
    let new = home.join("new repo");
    let out = isolated("git", &home)
        .args(["init", "-q"])
        .arg(&new)
        .run()
        .expect("git");
    assert!(out.status.success());
    let key = keys::github();
    std::fs::write(new.join("leak.txt"), format!("token = {}\n", key.value)).expect("write");
    let run = |args: &[&str]| {
        isolated("git", &home)
            .args(args)
            .current_dir(&new)
            .run()
            .expect("git")
    };
    assert!(run(&["add", "."]).status.success());
    let out = run(&["commit", "-q", "-m", "x"]);
    assert!(
        !out.status.success(),
        "a new repository should be protected"
    );
    // Its commit messages too.
    let msg_key = keys::openai_project();
    assert!(run(&["rm", "-q", "--cached", "leak.txt"]).status.success());
    std::fs::write(new.join("clean.txt"), "clean\n").expect("write");
    assert!(run(&["add", "clean.txt"]).status.success());
    let out = run(&["commit", "-q", "-m", &format!("x {}", msg_key.value)]);
    assert!(
        !out.status.success(),
        "a key in a message should be refused"
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("commit message:1:3"), "{text}");
    keys::assert_no_leak(&text, &msg_key);
    // A clone too.
    let clone = home.join("clone");
    let out = isolated("git", &home)
        .args(["clone", "-q"])
        .arg(&repo.dir)
        .arg(&clone)
        .run()
        .expect("git");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(clone.join(".git/hooks/pre-commit").exists());
    assert!(clone.join(".git/hooks/commit-msg").exists());
}

#[test]
fn install_sh_installs_checks_and_uninstalls() {
    let repo = bare_repo();
    let prefix = repo.dir.parent().expect("tmp").join("prefix dir");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh");
    let run = |args: &[&str]| {
        isolated("sh", &repo.dir)
            .arg(script)
            .args(args)
            .env("KEYWARD_PREBUILT", KEYWARD)
            .current_dir(&repo.dir)
            .run()
            .expect("sh")
    };
    let prefix_s = prefix.to_string_lossy().into_owned();
    let check = run(&["--prefix", &prefix_s, "--check"]);
    assert_eq!(check.status.code(), Some(1));
    let out = run(&["--prefix", &prefix_s]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(prefix.join("bin/keyward").exists());
    let hook = std::fs::read_to_string(hook_path(&repo)).expect("hook");
    assert!(
        hook.contains(&prefix.join("bin/keyward").display().to_string()),
        "{hook}"
    );
    let again = run(&["--prefix", &prefix_s]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already up to date"));
    assert_eq!(
        run(&["--prefix", &prefix_s, "--check"]).status.code(),
        Some(0)
    );
    secret_file(&repo, &repo.dir);
    repo.commit(&[]).assert_blocked();
    repo.git(&["rm", "-q", "--cached", "leak.txt"]).assert_ok();
    assert_message_refused(&repo, &repo.dir);
    assert!(run(&["--prefix", &prefix_s, "--uninstall"])
        .status
        .success());
    assert!(!hook_path(&repo).exists());
    assert!(!msg_hook_path(&repo).exists());
    let not_repo = isolated("sh", &prefix)
        .arg(script)
        .arg("/")
        .env("KEYWARD_PREBUILT", KEYWARD)
        .run()
        .expect("sh");
    assert_eq!(not_repo.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&not_repo.stderr).lines().count(), 1);
}

/// keyward's shims as this repository ships them.
const SHIM: &str = include_str!("../../hooks/pre-commit");
const MSG_SHIM: &str = include_str!("../../hooks/commit-msg");

#[test]
fn a_hooks_path_in_the_work_tree_gets_the_portable_shim_not_a_machine_path() {
    let dev = Dev::new().with_local_bin();
    dev.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    let out = dev.keyward(&["install"]);
    out.assert_ok();
    assert!(
        out.stdout_text()
            .contains("wrote .githooks/pre-commit: keyward's shim, with no machine's paths (new file: commit it"),
        "{}",
        out.all()
    );
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".githooks/pre-commit")).expect("shim"),
        SHIM
    );
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".githooks/commit-msg")).expect("shim"),
        MSG_SHIM
    );
    let status = dev.status(0);
    assert!(status.contains("keyward's shim, which runs"), "{status}");
    assert!(status.contains(".local/bin/keyward"), "{status}");
    assert!(
        status.contains("commit messages: git runs .githooks/commit-msg"),
        "{status}"
    );
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
    // The team commits them; a second install changes nothing.
    dev.git(&["add", ".githooks"]).assert_ok();
    dev.commit().assert_passed();
    assert!(dev
        .keyward(&["install"])
        .stdout_text()
        .contains("is keyward's shim, up to date"));
    assert_eq!(
        dev.git(&["status", "--porcelain", ".githooks"])
            .stdout_text(),
        ""
    );
}

#[test]
fn the_committed_shim_is_recognised_and_fails_closed_without_keyward() {
    // The team's repository carries the shims; a new clone points git at them.
    let dev = Dev::new();
    write_executable(
        &dev.dir().join("githooks/pre-commit"),
        SHIM.as_bytes(),
        0o755,
    );
    write_executable(
        &dev.dir().join("githooks/commit-msg"),
        MSG_SHIM.as_bytes(),
        0o755,
    );
    dev.git(&["add", "githooks"]).assert_ok();
    dev.git(&["commit", "-q", "--no-verify", "-m", "hooks"])
        .assert_ok();
    dev.git(&["config", "core.hooksPath", "githooks"])
        .assert_ok();

    // keyward not installed on this machine: status says so, the commit is blocked with how
    // to install it.
    let status = dev.status(1);
    assert!(
        status.contains("keyward's shim, but this machine has no keyward"),
        "{status}"
    );
    dev.stage_clean("a.txt");
    let commit = dev.commit();
    assert!(!commit.moved);
    assert!(
        commit.out.all().contains("pip install keyward-hook"),
        "{}",
        commit.out.all()
    );
    assert!(
        commit.out.all().contains("git commit --no-verify"),
        "{}",
        commit.out.all()
    );

    // Installed the way install.sh does (~/.local/bin, not on PATH): recognised, and
    // installing does not touch the tracked file.
    let dev = dev.with_local_bin();
    dev.status(0);
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("githooks/pre-commit is keyward's shim, up to date"),
        "{}",
        out.all()
    );
    assert_eq!(
        dev.git(&["status", "--porcelain", "githooks"])
            .stdout_text(),
        ""
    );
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
    dev.commit().assert_passed();
    // A team that committed the pre-commit shim alone: status says the commit-msg one is
    // missing, and install writes it.
    dev.git(&["rm", "-q", "githooks/commit-msg"]).assert_ok();
    dev.git(&["commit", "-q", "--no-verify", "-m", "rm"])
        .assert_ok();
    assert!(dev
        .status(1)
        .contains("commit messages: no hook at githooks/commit-msg"));
    assert!(dev
        .keyward(&["install"])
        .stdout_text()
        .contains("wrote githooks/commit-msg: keyward's shim"));
    dev.status(0);
}

#[test]
fn a_tracked_team_hook_gets_two_lines_and_says_so() {
    let dev = Dev::new().with_local_bin();
    let team = "#!/bin/sh\nset -e\necho team checks >> \"$(git rev-parse --git-dir)/team.log\"\n";
    write_executable(
        &dev.dir().join(".githooks/pre-commit"),
        team.as_bytes(),
        0o755,
    );
    dev.git(&["add", ".githooks"]).assert_ok();
    dev.git(&["commit", "-q", "--no-verify", "-m", "hooks"])
        .assert_ok();
    dev.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    assert!(dev.status(1).contains("is not keyward's hook"));
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("added keyward to .githooks/pre-commit (a tracked file: commit the change"),
        "{}",
        out.all()
    );
    let text = std::fs::read_to_string(dev.dir().join(".githooks/pre-commit")).expect("hook");
    assert!(text.starts_with("#!/bin/sh\n# keyward:"), "{text}");
    assert!(!text.contains(&*dev.home.to_string_lossy()), "{text}");
    dev.status(0);
    dev.assert_key_blocked(&[]);
    assert!(
        !dev.repo.git_dir().join("team.log").exists(),
        "keyward runs first"
    );
    dev.stage_clean("a.txt");
    dev.commit().assert_passed();
    assert!(dev.repo.git_dir().join("team.log").exists());
    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".githooks/pre-commit")).expect("hook"),
        team
    );
}

#[test]
fn a_tracked_team_commit_msg_hook_gets_two_lines_that_pass_the_message_on() {
    let dev = Dev::new().with_local_bin();
    let team = "#!/bin/sh\nset -e\ngrep -q . \"$1\"\necho \"$1\" >> \"$(git rev-parse --git-dir)/team.log\"\n";
    write_executable(
        &dev.dir().join(".githooks/commit-msg"),
        team.as_bytes(),
        0o755,
    );
    dev.git(&["add", ".githooks"]).assert_ok();
    dev.git(&["commit", "-q", "--no-verify", "-m", "hooks"])
        .assert_ok();
    dev.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("added keyward to .githooks/commit-msg (a tracked file: commit the change"),
        "{}",
        out.all()
    );
    let text = std::fs::read_to_string(dev.dir().join(".githooks/commit-msg")).expect("hook");
    assert!(
        text.starts_with("#!/bin/sh\n# keyward: blocks secrets in commit messages"),
        "{text}"
    );
    dev.status(0);
    dev.assert_message_blocked(&[]);
    assert!(
        !dev.repo.git_dir().join("team.log").exists(),
        "keyward runs first"
    );
    dev.stage_clean("a.txt");
    dev.commit().assert_passed();
    assert_eq!(
        std::fs::read_to_string(dev.repo.git_dir().join("team.log")).expect("ran"),
        ".git/COMMIT_EDITMSG\n"
    );
    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".githooks/commit-msg")).expect("hook"),
        team
    );
}

#[test]
fn a_hook_keyward_cannot_edit_is_refused_with_the_snippet() {
    let dev = Dev::new().with_local_bin();
    let team = "#!/usr/bin/env python3\nimport sys\nsys.exit(0)\n";
    write_executable(
        &dev.dir().join(".githooks/pre-commit"),
        team.as_bytes(),
        0o755,
    );
    dev.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    let out = dev.keyward(&["install"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.stdout_text()
            .contains("not edited (it is a `python3` script"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout_text().contains("keyward hook || exit $?"),
        "{}",
        out.all()
    );
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".githooks/pre-commit")).expect("hook"),
        team
    );
}

/// simple-git-hooks (from the npm registry) writes git's hook from package.json on every
/// install: keyward refuses to install a hook it would overwrite, and prints the command to
/// add; with it added, the key is blocked.
#[test]
fn simple_git_hooks_gets_the_snippet_and_the_snippet_works() {
    let Some(modules) = npm_tools() else { return };
    let dev = Dev::new().with_local_bin();
    link_dir(&modules, &dev.dir().join("node_modules"));
    let package = |pre_commit: &str, commit_msg: Option<&str>| {
        let msg = commit_msg
            .map(|c| format!(", \"commit-msg\": {}", serde_json::Value::String(c.into())))
            .unwrap_or_default();
        format!(
            "{{\n  \"name\": \"app\",\n  \"simple-git-hooks\": {{ \"pre-commit\": {}{msg} }}\n}}\n",
            serde_json::Value::String(pre_commit.into())
        )
    };
    dev.write("package.json", &package("echo linted", None));
    let apply = || {
        dev.run(dev.dir().join("node_modules/.bin/simple-git-hooks"), &[])
            .assert_ok()
    };
    apply();
    let status = dev.status(1);
    assert!(
        status.contains("written by simple-git-hooks from package.json"),
        "{status}"
    );
    let out = dev.keyward(&["install"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let snippet = out
        .stdout_text()
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"pre-commit\": ").map(str::to_owned))
        .unwrap_or_else(|| panic!("no snippet: {}", out.all()));
    let command: String = serde_json::from_str(&snippet).expect("a JSON string");
    assert!(
        command.ends_with("keyward hook || exit $?; echo linted"),
        "{command}"
    );
    let message = out
        .stdout_text()
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"commit-msg\": ").map(str::to_owned))
        .unwrap_or_else(|| panic!("no commit-msg line: {}", out.all()));
    let message: String = serde_json::from_str(&message).expect("a JSON string");
    assert!(message.ends_with("keyward commit-msg \"$1\""), "{message}");
    // The team applies the pre-commit line: status still says the message is not checked.
    dev.write("package.json", &package(&command, None));
    apply();
    assert!(dev.status(1).contains("commit messages: "));
    // And the commit-msg line.
    dev.write("package.json", &package(&command, Some(&message)));
    apply();
    dev.status(0);
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
    assert!(dev
        .keyward(&["install"])
        .stdout_text()
        .contains("package.json already runs keyward (simple-git-hooks)"));
}

#[test]
fn install_sh_uses_a_release_archive_binary_and_refuses_a_wrong_one() {
    let dev = Dev::new();
    let archive = dev.home.join("keyward-0.1.0-x86_64-unknown-linux-musl");
    let script = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/install.sh")).expect("read");
    write_executable(&archive.join("install.sh"), &script, 0o755);
    write_executable(
        &archive.join("keyward"),
        &std::fs::read(KEYWARD).expect("read"),
        0o755,
    );
    // No Rust toolchain on PATH: the archive needs none.
    let path = crate::machine::path_without(&["cargo", "rustc"]);
    let mut cmd = dev.cmd("sh", &[&archive.join("install.sh").to_string_lossy()]);
    let out = crate::repo::Out(cmd.env("PATH", &path).run().expect("sh"));
    assert!(out.0.status.success(), "{}", out.all());
    assert!(
        out.stdout_text()
            .contains("using the prebuilt binary of this release archive"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout_text().contains("is not on your PATH"),
        "{}",
        out.all()
    );
    assert!(dev.local_bin().exists());
    dev.status(0);
    dev.assert_key_blocked(&[]);
    // A binary that is not keyward is refused, and nothing is installed from it.
    let mut cmd = dev.cmd(
        "sh",
        &[&archive.join("install.sh").to_string_lossy(), "--no-hook"],
    );
    let out = crate::repo::Out(cmd.env("KEYWARD_PREBUILT", "/bin/true").run().expect("sh"));
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.all().contains("is not a keyward binary"),
        "{}",
        out.all()
    );
}

#[test]
fn hooks_paths_outside_the_work_tree_get_the_script() {
    // core.hooksPath naming git's own directory is not a committed hooks directory.
    let dev = Dev::new().with_local_bin();
    dev.git(&["config", "core.hooksPath", ".git/hooks"])
        .assert_ok();
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("installed .git/hooks/pre-commit"),
        "{}",
        out.all()
    );
    dev.status(0);
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);

    // A personal hooks directory for every repository (global config): keyward's script
    // there, and the output says it applies everywhere.
    let dev = Dev::new().with_local_bin();
    let global = dev.home.join("git-hooks");
    let global_s = global.to_string_lossy().into_owned();
    dev.git(&["config", "--global", "core.hooksPath", &global_s])
        .assert_ok();
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("comes from global config: every repository that uses it runs these hooks"),
        "{}",
        out.all()
    );
    let script = std::fs::read_to_string(global.join("pre-commit")).expect("hook");
    assert!(script.contains("keyward-pre-commit-hook"), "{script}");
    let script = std::fs::read_to_string(global.join("commit-msg")).expect("hook");
    assert!(script.contains("commit-msg \"$1\""), "{script}");
    dev.status(0);
    dev.assert_key_blocked(&[]);
    dev.assert_message_blocked(&[]);
}

/// Parallel installs into a manager's configuration: each writes the whole file by a rename,
/// so the result is one whole file with keyward in it once.
#[test]
fn installs_racing_on_a_manager_file_leave_one_entry() {
    let dev = Dev::new().with_local_bin();
    let original = "pre-commit:\n  commands:\n    lint:\n      run: echo lint\n";
    dev.write("lefthook.yml", original);
    let outs: Vec<_> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..8)
            .map(|_| s.spawn(|| dev.keyward(&["install"])))
            .collect();
        runs.into_iter()
            .map(|r| r.join().expect("thread"))
            .collect()
    });
    for out in &outs {
        assert_eq!(out.code(), Some(0), "{}", out.all());
    }
    let text = std::fs::read_to_string(dev.dir().join("lefthook.yml")).expect("read");
    assert_eq!(text.matches("keyward hook").count(), 1, "{text}");
    assert_eq!(text.matches("keyward commit-msg").count(), 1, "{text}");
    assert!(
        text.contains(original.trim_start_matches("pre-commit:\n  commands:\n")),
        "{text}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dev.dir())
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("keyward-new"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
