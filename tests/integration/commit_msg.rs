//! The commit-msg hook, driven by real `git commit`: a key in the message git will record is
//! refused before the commit exists, and nothing git leaves out of the message (the diff of
//! `git commit -v`) is held against it.

use crate::keys::{self, assert_no_leak, Key};
use crate::repo::{isolated, write_executable, Commit, Out, Repo, Run, KEYWARD};
use std::path::PathBuf;

/// A repository with the binary as both hooks, as git finds them by name: it runs `hook` as
/// `pre-commit` and `commit-msg FILE` as `commit-msg`.
fn repo() -> Repo {
    let repo = Repo::new();
    let hooks = git_path(&repo, "hooks");
    let binary = std::fs::read(KEYWARD).expect("read keyward");
    write_executable(&hooks.join("commit-msg"), &binary, 0o755);
    repo
}

/// `git rev-parse --git-path NAME`, absolute.
fn git_path(repo: &Repo, name: &str) -> PathBuf {
    let out = repo.git(&["rev-parse", "--path-format=absolute", "--git-path", name]);
    PathBuf::from(out.stdout_text().trim())
}

fn home(repo: &Repo) -> PathBuf {
    repo.dir.parent().expect("tmp").join("home")
}

/// `git ARGS` (a commit), with `env`, and whether HEAD moved.
fn commit(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Commit {
    let before = repo.head();
    let mut cmd = isolated("git", &home(repo));
    cmd.args(args).current_dir(&repo.dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = Out(cmd.run().expect("git"));
    Commit {
        moved: repo.head() != before,
        out,
    }
}

/// `git commit -m MESSAGE` of a clean staged file.
fn commit_message(repo: &Repo, message: &str) -> Commit {
    stage_clean(repo);
    commit(repo, &["commit", "-q", "-m", message], &[])
}

fn stage_clean(repo: &Repo) {
    let n = std::fs::read_dir(&repo.dir).map_or(0, |d| d.count());
    let name = format!("file{n}.txt");
    repo.write(&name, format!("nothing secret {n}\n"));
    repo.git(&["add", &name]).assert_ok();
}

/// An editor for `GIT_EDITOR` that puts `message` above what git wrote into the file.
fn editor(repo: &Repo, message: &str) -> String {
    let dir = repo.dir.parent().expect("tmp");
    let n = std::fs::read_dir(dir).map_or(0, |d| d.count());
    let text = dir.join(format!("message-{n}.txt"));
    std::fs::write(&text, message).expect("message");
    let script = dir.join(format!("editor-{n}.sh"));
    let body = format!(
        "#!/bin/sh\ncat '{}' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
        text.display()
    );
    write_executable(&script, body.as_bytes(), 0o755);
    script.to_string_lossy().into_owned()
}

/// Asserts that the commit-msg hook refused the commit, saying so, and printed no part of
/// `key`: the report text.
fn assert_refused(c: &Commit, key: &Key) -> String {
    c.assert_blocked();
    let text = c.out.all();
    assert!(
        text.contains("commit blocked — 1 problem in your commit message"),
        "{text}"
    );
    assert_no_leak(&text, key);
    text
}

/// The recorded message of HEAD.
fn head_message(repo: &Repo) -> String {
    repo.git(&["log", "-1", "--format=%B"]).stdout_text()
}

#[test]
fn a_key_in_the_message_is_refused_before_the_commit_exists() {
    let repo = repo();
    let key = keys::openai_project();
    let message = format!("Fix the client\n\nThe old one was {} oops\n", key.value);
    // The first commit (unborn HEAD) too.
    stage_clean(&repo);
    let status_before = repo.git(&["status", "--porcelain"]).stdout_text();
    let c = commit(&repo, &["commit", "-q", "-m", &message], &[]);
    let text = assert_refused(&c, &key);
    assert_eq!(repo.head(), None);
    assert!(
        text.contains("commit message:3:17   OpenAI API key   sk-proj-…(164 chars)  fp:"),
        "{text}"
    );
    // Where the message is kept, found by git, and the command that commits it again.
    let kept = git_path(&repo, "COMMIT_EDITMSG");
    let kept_shown = kept
        .to_string_lossy()
        .replace(&*home(&repo).to_string_lossy(), "~");
    assert!(
        text.contains(&format!("git kept your message in {kept_shown}.")),
        "{text}"
    );
    assert!(
        text.contains(&format!("git commit -e -F {kept_shown}\n")),
        "{text}"
    );
    assert!(
        text.contains("Revoke it and create a new one: https://"),
        "{text}"
    );
    // Nothing about reading keys from the environment: it does not apply to a message.
    assert!(!text.contains("environment"), "{text}");
    // The hook wrote nothing: the message file as git wrote it (key and all), the index
    // and the working tree as they were, no ref.
    assert_eq!(
        std::fs::read_to_string(&kept).expect("kept"),
        message.trim_end().to_owned() + "\n"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]).stdout_text(),
        status_before
    );
    assert_eq!(repo.git(&["for-each-ref"]).stdout_text(), "");

    // The retry it prints, with the key taken out, commits the message.
    let fixed = std::fs::read_to_string(&kept)
        .expect("kept")
        .replace(&key.value, "a key read from the environment");
    std::fs::write(&kept, fixed).expect("write");
    let retry = commit(
        &repo,
        &["commit", "-q", "-e", "-F", &kept.to_string_lossy()],
        &[("GIT_EDITOR", "true")],
    );
    retry.assert_passed();
    assert_eq!(
        head_message(&repo),
        "Fix the client\n\nThe old one was a key read from the environment oops\n\n"
    );
    // A clean message commits.
    commit_message(&repo, "Another change\n").assert_passed();
}

#[test]
fn invoked_by_name_or_as_a_command_it_judges_the_file_it_is_given() {
    let repo = repo();
    let key = keys::github();
    let file = repo.dir.join("msg.txt");
    std::fs::write(&file, format!("deploy with {}\n", key.value)).expect("write");
    let file_s = file.to_string_lossy().into_owned();
    let out = repo.keyward(&["commit-msg", &file_s]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(out.all().contains("commit message:1:13"), "{}", out.all());
    assert_no_leak(&out.all(), &key);
    std::fs::write(&file, "deploy with the token from the vault\n").expect("write");
    assert_eq!(repo.keyward(&["commit-msg", &file_s]).code(), Some(0));
}

#[test]
fn the_diff_of_git_commit_verbose_never_refuses_the_commit() {
    let repo = repo();
    let old = keys::github();
    let fixture = keys::openai_project();
    // A key already in HEAD (it shows as context in the diff), and a test fixture's key the
    // policy allows at its path (it shows as an added line).
    repo.write(
        "config.py",
        format!("a = 1\nTOKEN = \"{}\"\nb = 2\n", old.value),
    );
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"tests/fixtures/**\"]\n",
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    // -vv's second diff shows what is not staged: a key only in the working tree.
    repo.write("notes.txt", "notes\n");
    repo.git(&["add", "notes.txt"]).assert_ok();
    repo.commit_unchecked(&[]);
    let local = keys::github();
    repo.write("notes.txt", format!("notes {}\n", local.value));
    let kept = git_path(&repo, "COMMIT_EDITMSG");
    for (i, args) in [
        &["commit", "-q", "-v"][..],
        &["-c", "core.commentChar=;", "commit", "-q", "-v"],
        &["-c", "core.commentChar=auto", "commit", "-q", "-v"],
        &["-c", "core.commentString=//", "commit", "-q", "-v"],
        &["commit", "-q", "-v", "-v"],
        &["-c", "commit.verbose=true", "commit", "-q"],
        &["-c", "commit.cleanup=scissors", "commit", "-q", "-v"],
    ]
    .iter()
    .enumerate()
    {
        repo.write(
            "config.py",
            format!("a = {i}\nTOKEN = \"{}\"\nb = 2\n", old.value),
        );
        repo.write(
            &format!("tests/fixtures/key{i}.txt"),
            format!("{}\n", fixture.value),
        );
        repo.git(&["add", "config.py", "tests"]).assert_ok();
        let edit = editor(&repo, &format!("Update config {i}\n"));
        let c = commit(&repo, args, &[("GIT_EDITOR", &edit)]);
        c.assert_passed();
        assert!(!c.out.all().contains("blocked"), "{}", c.out.all());
        // The diff was there, keys and all, and git left it out of the message.
        let file = std::fs::read_to_string(&kept).expect("kept");
        assert!(
            file.contains(&old.value) && file.contains(&fixture.value),
            "{args:?}"
        );
        if args.contains(&"-v") && args.iter().filter(|a| **a == "-v").count() == 2 {
            assert!(file.contains(&local.value), "{file}");
        }
        assert_eq!(
            head_message(&repo),
            format!("Update config {i}\n\n"),
            "{args:?}"
        );
    }
    // A key typed above the scissors line of a verbose commit is recorded: refused.
    let typed = keys::github();
    repo.write("config.py", "a = 9\n");
    repo.git(&["add", "config.py"]).assert_ok();
    let edit = editor(&repo, &format!("Rotate {}\n", typed.value));
    let c = commit(&repo, &["commit", "-q", "-v"], &[("GIT_EDITOR", &edit)]);
    let text = assert_refused(&c, &typed);
    assert_no_leak(&text, &old);
    // A message kept from a verbose commit is retried with -v, which drops its diff again.
    assert!(text.contains("git commit -v -e -F "), "{text}");
}

#[test]
fn what_git_records_after_a_scissors_line_is_judged() {
    let repo = repo();
    let key = keys::github();
    let message = format!(
        "Fix\n# ------------------------ >8 ------------------------\ntoken {}\n",
        key.value
    );
    // Without an editor, git cuts nothing there: it would record the key.
    assert_refused(&commit_message(&repo, &message), &key);
    commit(&repo, &["commit", "-q", "--no-verify", "-m", &message], &[]).assert_passed();
    assert!(head_message(&repo).contains(&key.value));

    // A refused verbose commit's message retried without -v: git would record its old diff,
    // which shows a key of HEAD's. Refused; with -v (what the report prints), committed.
    repo.write("config.py", format!("a = 1\nTOKEN = \"{}\"\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.write("config.py", format!("a = 2\nTOKEN = \"{}\"\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    let typed = keys::openai_legacy();
    let edit = editor(&repo, &format!("Update {}\n", typed.value));
    assert_refused(
        &commit(&repo, &["commit", "-q", "-v"], &[("GIT_EDITOR", &edit)]),
        &typed,
    );
    let kept = git_path(&repo, "COMMIT_EDITMSG");
    let fixed = std::fs::read_to_string(&kept)
        .expect("kept")
        .replace(&typed.value, "the key");
    std::fs::write(&kept, fixed).expect("write");
    let kept_s = kept.to_string_lossy().into_owned();
    let retry = |args: &[&str]| {
        let mut all = vec!["commit", "-q"];
        all.extend_from_slice(args);
        all.extend(["-e", "-F", &kept_s]);
        commit(&repo, &all, &[("GIT_EDITOR", "true")])
    };
    let c = retry(&[]);
    c.assert_blocked();
    assert!(
        c.out.all().contains("GitHub personal access token"),
        "{}",
        c.out.all()
    );
    retry(&["-v"]).assert_passed();
    assert_eq!(head_message(&repo), "Update the key\n\n");
}

#[test]
fn inline_allows_and_fingerprints_apply_and_path_exceptions_do_not() {
    let repo = repo();
    let key = keys::github();
    // Patterns that name the message, its file and the files committed allow nothing in it.
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"commit message\", \".git/**\", \"*COMMIT_EDITMSG\", \"file*\"]\n",
    );
    repo.git(&["add", ".keyward.toml"]).assert_ok();
    repo.commit_unchecked(&[]);
    let c = commit_message(&repo, &format!("Token {}\n", key.value));
    assert_refused(&c, &key);
    commit_message(
        &repo,
        &format!("Token {} (revoked) keyward:allow\n", key.value),
    )
    .assert_passed();
    // The finding's fingerprint, recorded for the team.
    let other = keys::github();
    let file = repo.dir.join("msg.txt");
    std::fs::write(&file, format!("Token {}\n", other.value)).expect("write");
    let out = repo.keyward(&["commit-msg", &file.to_string_lossy(), "--format", "json"]);
    let fp = out.json()[0]["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_owned();
    repo.keyward(&["allow", &fp, "--reason", "a revoked example"])
        .assert_ok();
    commit_message(&repo, &format!("Token {}\n", other.value)).assert_passed();
}

#[test]
fn a_key_already_in_heads_message_is_history_and_blocks_only_when_strict() {
    let repo = repo();
    let key = keys::github();
    stage_clean(&repo);
    let leaked = format!("Deploy\n\nwith {}\n", key.value);
    commit(&repo, &["commit", "-q", "--no-verify", "-m", &leaked], &[]).assert_passed();
    let reword = format!("Deploy to staging\n\nwith {}\n", key.value);
    let strict = commit(
        &repo,
        &[
            "-c",
            "keyward.strict=true",
            "commit",
            "-q",
            "--amend",
            "-m",
            &reword,
        ],
        &[],
    );
    strict.assert_blocked();
    assert_no_leak(&strict.out.all(), &key);
    // HEAD's message read in process, or by git's plumbing.
    for (i, env) in [&[][..], &[("KEYWARD_GIT_BACKEND", "cli")]]
        .iter()
        .enumerate()
    {
        let reword = format!("{reword}\nTake {i}\n");
        let amend = commit(&repo, &["commit", "-q", "--amend", "-m", &reword], env);
        amend.assert_passed();
        let text = amend.out.all();
        assert!(text.contains("already in history"), "{text}");
        assert_no_leak(&text, &key);
    }
}

#[test]
fn bad_input_is_one_line_and_fails_closed() {
    let repo = repo();
    let missing = repo.keyward(&["commit-msg", "no/such/file"]);
    assert_eq!(missing.code(), Some(2), "{}", missing.all());
    assert!(
        missing.all().starts_with("keyward: error: no/such/file"),
        "{}",
        missing.all()
    );
    assert!(missing.all().contains("git commit --no-verify"));
    let none = repo.keyward(&["commit-msg"]);
    assert_eq!(none.code(), Some(2));
    assert_eq!(none.all().lines().count(), 1, "{}", none.all());
    // Control characters, invalid UTF-8 and a NUL around a key: escaped, never raw.
    let key = keys::github();
    let file = repo.dir.join("msg");
    let mut bytes = b"\x1b[31mred\x1b]0;title\x07 \xff\x00 ".to_vec();
    bytes.extend_from_slice(key.value.as_bytes());
    bytes.extend_from_slice(b"\x1b[0m\n");
    std::fs::write(&file, bytes).expect("write");
    let out = repo.keyward(&["commit-msg", &file.to_string_lossy()]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        !out.all().contains('\x1b') && !out.all().contains('\x07'),
        "{:?}",
        out.all()
    );
    assert_no_leak(&out.all(), &key);
}

#[test]
fn a_linked_worktree_s_message_is_kept_in_its_own_git_directory() {
    let repo = repo();
    stage_clean(&repo);
    commit(&repo, &["commit", "-q", "-m", "init"], &[]).assert_passed();
    let wt = repo.dir.parent().expect("tmp").join("other tree");
    repo.git(&["worktree", "add", "-q", &wt.to_string_lossy(), "-b", "side"])
        .assert_ok();
    std::fs::write(wt.join("a.txt"), "a\n").expect("write");
    let key = keys::github();
    let run = |args: &[&str]| {
        Out(isolated("git", &home(&repo))
            .args(args)
            .current_dir(&wt)
            .run()
            .expect("git"))
    };
    run(&["add", "a.txt"]).assert_ok();
    let out = run(&["commit", "-q", "-m", &format!("x {}", key.value)]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let kept = run(&[
        "rev-parse",
        "--path-format=absolute",
        "--git-path",
        "COMMIT_EDITMSG",
    ]);
    let kept = kept.stdout_text().trim().to_owned();
    assert!(kept.contains("/worktrees/"), "{kept}");
    assert!(
        out.all().contains(&format!("git commit -e -F {kept}\n")),
        "{}",
        out.all()
    );
    assert_no_leak(&out.all(), &key);
}
