//! What a commit or a tag records besides files — messages, authors', committers' and
//! taggers' names and emails — is judged by `scan --range`, `scan --history` and
//! `pre-receive` as files are: a key pasted there is reported where it is
//! (`commit 1a2b3c4d5e message:3`) with how to reword it.

use crate::keys::{self, assert_no_leak};
use crate::receive::{assert_refused, Server};
use crate::repo::{isolated, Out, Repo, SpawnAndWait};

/// `git commit` of what is staged, with `message` (through a file: any bytes) and, when
/// given, the author's name.
fn commit_with_message(repo: &Repo, message: &str, author: Option<&str>) {
    let file = repo.dir.join(".git/message.tmp");
    std::fs::write(&file, message).expect("message");
    let mut cmd = isolated("git", &repo.home);
    cmd.args(["commit", "-q", "--no-verify", "--allow-empty", "-F"])
        .arg(&file)
        .current_dir(&repo.dir);
    if let Some(name) = author {
        cmd.env("GIT_AUTHOR_NAME", name);
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    Out(out).assert_ok();
}

/// The (path, line) of each finding no exception allowed, in a JSON report.
fn places(out: &Out) -> Vec<(String, u64)> {
    let mut places: Vec<(String, u64)> = out
        .json()
        .iter()
        .filter(|f| f.get("allowed").is_none())
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    places.sort();
    places
}

#[test]
fn ranges_and_history_report_keys_in_commit_messages_and_identities() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    let (in_message, in_name) = (keys::github(), keys::openai_project());
    commit_with_message(
        &repo,
        &format!(
            "Fix the deploy\n\nTested with {} on staging.\n",
            in_message.value
        ),
        None,
    );
    let first = repo.head().expect("commit")[..10].to_owned();
    commit_with_message(&repo, "Tidy up\n", Some(&in_name.value));
    let second = repo.head().expect("commit")[..10].to_owned();
    let range = format!("{base}..HEAD");
    for args in [
        &["scan", "--range", &range, "--format", "json"][..],
        &["scan", "--history", "--format", "json"],
    ] {
        let out = repo.keyward(args);
        assert_eq!(out.code(), Some(1), "{args:?}: {}", out.all());
        let mut expected = vec![
            (format!("commit {first} message"), 3),
            (format!("commit {second} author"), 1),
        ];
        expected.sort();
        assert_eq!(places(&out), expected, "{args:?}");
        assert!(
            out.all().contains("\"place\": \"message\""),
            "{}",
            out.all()
        );
        assert_no_leak(&out.all(), &in_message);
        assert_no_leak(&out.all(), &in_name);
    }
    let human = repo.keyward(&["scan", "--range", &range]);
    let text = human.all();
    assert!(
        text.contains(&format!("commit {first} message:3:")),
        "{text}"
    );
    assert!(text.contains("git commit --amend"), "{text}");
    assert!(text.contains("git rebase -i"), "{text}");
    assert_no_leak(&text, &in_message);
    assert_no_leak(&text, &in_name);
    // A range that starts after them brings no message with a key.
    let later = format!("{}..HEAD", repo.head().expect("head"));
    assert_eq!(repo.keyward(&["scan", "--range", &later]).code(), Some(0));
}

#[test]
fn history_reports_a_key_in_an_annotated_tags_message() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let key = keys::github();
    repo.git(&[
        "tag",
        "-a",
        "v1",
        "-m",
        &format!("Release\n\ntoken {}\n", key.value),
    ])
    .assert_ok();
    let out = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(places(&out), [("tag v1 message".to_owned(), 3)]);
    let human = repo.keyward(&["scan", "--history"]);
    assert!(human.all().contains("git tag -d v1"), "{}", human.all());
    assert_no_leak(&human.all(), &key);
}

#[test]
fn a_push_with_a_key_in_a_message_or_a_tag_is_rejected() {
    for cli in [false, true] {
        let server = Server::new(if cli { "KEYWARD_GIT_BACKEND=cli" } else { "" });
        let accepted = server.accept_first_push();
        let repo = &server.repo;
        let key = keys::github();
        commit_with_message(repo, &format!("Deploy with {}\n", key.value), None);
        let push = server.push("main");
        assert_refused(&push, &server, "refs/heads/main", accepted.as_deref());
        let short = &repo.head().expect("head")[..10];
        assert!(
            push.all().contains(&format!("commit {short} message:1:")),
            "{}",
            push.all()
        );
        assert_no_leak(&push.all(), &key);

        // A clean commit, accepted; then a tag on it whose message holds a key.
        repo.git(&["reset", "-q", "--hard", "HEAD~1"]).assert_ok();
        commit_with_message(repo, "Deploy\n", None);
        server.push("main").assert_ok();
        let tag_key = keys::openai_project();
        repo.git(&["tag", "-a", "v2", "-m", &format!("key {}", tag_key.value)])
            .assert_ok();
        let push = server.push("v2");
        assert!(!push.0.status.success(), "tag accepted: {}", push.all());
        assert!(push.all().contains("tag v2 message:1:"), "{}", push.all());
        assert_eq!(server.remote("refs/tags/v2"), None);
        assert_no_leak(&push.all(), &tag_key);
    }
}

/// Exceptions apply to messages as to files, where they can: a fingerprint the team allowed,
/// an inline marker on the line; a path exception cannot (a message has no path).
#[test]
fn exceptions_apply_to_messages_by_fingerprint_and_inline_marker() {
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"**/*.md\", \"commit*\"]\n",
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    let (marked, listed, plain) = (keys::github(), keys::github(), keys::github());
    commit_with_message(
        &repo,
        &format!("Docs\n\nexample {} keyward:allow\n", marked.value),
        None,
    );
    commit_with_message(&repo, &format!("Fixture {}\n", listed.value), None);
    let range = format!("{base}..HEAD");
    let out = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    let fp = out
        .json()
        .iter()
        .find(|f| f.get("allowed").is_none())
        .and_then(|f| f["fingerprint"].as_str().map(str::to_owned))
        .expect("the listed key's finding");
    repo.keyward(&["allow", &fp, "--reason", "a revoked test token"])
        .assert_ok();
    let out = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    // A path exception that happens to match the item's name allows nothing.
    commit_with_message(&repo, &format!("Oops {}\n", plain.value), None);
    let out = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(places(&out).len(), 1, "{}", out.all());
}
