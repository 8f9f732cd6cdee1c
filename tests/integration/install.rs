//! `keyward install | uninstall | status`, `install.sh` and the committed-hooks shim, against
//! real repositories, followed by real commits.

use crate::keys;
use crate::repo::{isolated, write_executable, Repo, Run, KEYWARD};
use std::os::unix::fs::PermissionsExt;
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
    secret_file(&repo, &repo.dir);
    repo.commit(&[]).assert_blocked();
    assert_eq!(repo.keyward(&["status"]).code(), Some(0));
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
        // The losers of the race say the chained name is taken; nobody overwrites it.
        assert!(
            out.code() == Some(0) || out.all().contains("already exists"),
            "{}",
            out.all()
        );
    }
    assert!(outs.iter().any(|o| o.code() == Some(0)));
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
    let mode = std::fs::metadata(&hook).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    // And on a repository with no previous hook, nothing is left behind.
    let fresh = bare_repo();
    fresh.keyward(&["install"]).assert_ok();
    fresh.keyward(&["uninstall"]).assert_ok();
    assert!(!hook_path(&fresh).exists());
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
}

#[test]
fn core_hooks_path_is_honoured() {
    let repo = bare_repo();
    repo.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    repo.keyward(&["install"]).assert_ok();
    assert!(repo.dir.join(".githooks/pre-commit").exists());
    secret_file(&repo, &repo.dir);
    repo.commit(&[]).assert_blocked();
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
}

#[test]
fn the_shim_blocks_with_the_install_command_when_keyward_is_missing() {
    let repo = bare_repo();
    let shim = concat!(env!("CARGO_MANIFEST_DIR"), "/hooks/pre-commit");
    write_hook(
        &repo.dir.join("hooks/pre-commit"),
        &std::fs::read_to_string(shim).expect("shim"),
    );
    repo.git(&["config", "core.hooksPath", "hooks"]).assert_ok();
    repo.write("a.txt", "clean\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    // PATH with git but without keyward, and a HOME without ~/.local/bin/keyward.
    let git = repo.git(&["--exec-path"]).stdout_text();
    let path = format!("{}:/usr/bin:/bin", Path::new(git.trim()).display());
    let out = isolated("git", &repo.dir)
        .args(["commit", "-q", "-m", "x"])
        .env("PATH", &path)
        .current_dir(&repo.dir)
        .run()
        .expect("git");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("./install.sh"), "{text}");
    assert_eq!(repo.head(), None);
    // With keyward on PATH the shim runs it.
    let bin = Path::new(KEYWARD).parent().expect("dir");
    let out = isolated("git", &repo.dir)
        .args(["commit", "-q", "-m", "x"])
        .env("PATH", format!("{}:{path}", bin.display()))
        .current_dir(&repo.dir)
        .run()
        .expect("git");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert!(run(&["--prefix", &prefix_s, "--uninstall"])
        .status
        .success());
    assert!(!hook_path(&repo).exists());
    let not_repo = isolated("sh", &prefix)
        .arg(script)
        .arg("/")
        .env("KEYWARD_PREBUILT", KEYWARD)
        .run()
        .expect("sh");
    assert_eq!(not_repo.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&not_repo.stderr).lines().count(), 1);
}
