//! The hook under every way git can call it and every state a repository can be in: each
//! blocks a staged key (or fails closed, naming the bypass), and passes what is clean. These
//! protect behaviour that is right today.

use crate::keys::{self, assert_no_leak};
use crate::repo::{isolated, Repo, Run, SpawnAndWait, KEYWARD};

fn with_history(repo: &Repo) {
    repo.write("app.py", "x = 1\n");
    repo.write("other.py", "y = 2\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn commit_only_and_include_see_what_they_record() {
    let repo = Repo::new();
    with_history(&repo);
    let key = keys::github();
    repo.write("app.py", format!("x = 1\ntoken = \"{}\"\n", key.value));
    // `--only` and `--include` build a temporary index from the named paths.
    for mode in ["-o", "-i"] {
        let c = repo.commit(&[mode, "app.py"]);
        c.assert_blocked();
        assert!(c.out.all().contains("app.py:2:"), "{mode}: {}", c.out.all());
        assert_no_leak(&c.out.all(), &key);
    }
    // `--only` of another path records nothing of app.py.
    repo.write("other.py", "y = 3\n");
    repo.commit(&["-o", "other.py"]).assert_passed();
}

#[test]
fn git_dir_and_work_tree_apart() {
    let repo = Repo::new();
    with_history(&repo);
    let key = keys::github();
    repo.write("app.py", format!("token = \"{}\"\n", key.value));
    let git_dir = repo.git_dir();
    let run = |args: &[&str]| {
        isolated("git", &repo.dir)
            .arg(format!("--git-dir={}", git_dir.display()))
            .arg(format!("--work-tree={}", repo.dir.display()))
            .args(args)
            .current_dir(repo.dir.parent().expect("tmp"))
            .run()
            .expect("git")
    };
    assert!(run(&["add", "app.py"]).status.success());
    let before = repo.head();
    let out = run(&["commit", "-q", "-m", "x"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(repo.head(), before);
}

/// The index names a blob the object database does not have: the hook cannot read it, so
/// it blocks and says how to bypass, rather than let an unread blob through.
#[test]
fn a_missing_blob_fails_closed() {
    let repo = Repo::new();
    with_history(&repo);
    repo.write("new.py", "z = 3\n");
    repo.git(&["add", "new.py"]).assert_ok();
    let id = repo.git(&["rev-parse", ":new.py"]).stdout_text();
    let id = id.trim();
    let loose = repo.git_dir().join("objects").join(&id[..2]).join(&id[2..]);
    std::fs::remove_file(&loose).expect("remove the loose object");
    let out = repo.keyward(&["hook"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(
        out.all().contains("git commit --no-verify"),
        "{}",
        out.all()
    );
    assert!(out.all().contains("new.py"), "{}", out.all());
    assert_eq!(out.all().lines().count(), 2, "{}", out.all());
}

/// A report that cannot be written (a full disk, a closed stdout) never lets the commit
/// through silently.
#[test]
fn an_unwritable_report_fails_closed() {
    let repo = Repo::new();
    with_history(&repo);
    let key = keys::github();
    repo.write("app.py", format!("token = \"{}\"\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = isolated(KEYWARD, &repo.dir)
        .arg("hook")
        .current_dir(&repo.dir)
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn_and_wait();
    assert_eq!(out.status.code(), Some(1), "blocked stays blocked");
    // Clean, but the verdict cannot be written: an error, with its reason.
    repo.write("app.py", "token = os.environ[\"TOKEN\"]\n");
    repo.git(&["add", "."]).assert_ok();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = isolated(KEYWARD, &repo.dir)
        .args(["scan", "--staged", "--format", "json"])
        .current_dir(&repo.dir)
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn_and_wait();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("writing the report"), "{err}");
    assert!(err.contains("git commit --no-verify"), "{err}");
}

/// Two worktrees committing at once: each hook reads its own index.
#[test]
fn concurrent_commits_in_two_worktrees() {
    let repo = Repo::new();
    with_history(&repo);
    let wt = repo.dir.parent().expect("parent").join("wt");
    repo.git(&["worktree", "add", "-q", &wt.to_string_lossy(), "-b", "side"])
        .assert_ok();
    let key = keys::github();
    repo.write("app.py", format!("token = \"{}\"\n", key.value));
    repo.git(&["add", "app.py"]).assert_ok();
    std::fs::write(wt.join("clean.py"), "ok = True\n").expect("write");
    repo.run_in(&wt, "git", &["add", "clean.py"]).assert_ok();
    let (main, side) = std::thread::scope(|s| {
        let main = s.spawn(|| repo.git(&["commit", "-q", "-m", "main"]));
        let side = s.spawn(|| repo.run_in(&wt, "git", &["commit", "-q", "-m", "side"]));
        (main.join().expect("main"), side.join().expect("side"))
    });
    assert_eq!(main.code(), Some(1), "{}", main.all());
    assert!(main.all().contains("app.py:1:"), "{}", main.all());
    assert_eq!(side.code(), Some(0), "{}", side.all());
}

/// In a reftable repository HEAD is read through git, not guessed: a secret already in
/// history stays non-blocking, a new one blocks.
#[test]
fn reftable_keeps_history_and_blocks_what_is_new() {
    let repo = Repo::new_with(&["--ref-format=reftable"]);
    let old = keys::github();
    repo.write("ci.yml", format!("token: {}\n", old.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.write("ci.yml", format!("token: {}\nretries: 3\n", old.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    let new = keys::github();
    repo.write(
        "ci.yml",
        format!("token: {}\nretries: 3\nother: {}\n", old.value, new.value),
    );
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("ci.yml:3:"), "{}", c.out.all());
}
