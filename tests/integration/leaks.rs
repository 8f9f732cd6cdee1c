//! No report prints a secret. Every format (human, JSON, SARIF, GitHub annotations) of every
//! run that reports findings — the hook, a staged scan, files on disk, the commit-msg hook, a
//! range, the history, a push's pre-receive report — with secrets new, already in history
//! and allowed, in files and in a commit message, shows no run of 4 characters of a key's
//! random body (see [`keys::assert_no_leak`]): only its preview, `sk-proj-…(164 chars)`.

use crate::history::server_and_clone;
use crate::keys::{self, assert_no_leak, Key};
use crate::repo::{write_executable, KEYWARD};

const FORMATS: [&str; 4] = ["human", "json", "sarif", "github"];

/// One key of each shape the tests generate (each preview prints a different head), and a key
/// whose rule only warns.
fn every_shape() -> Vec<Key> {
    vec![
        keys::openai_project(),
        keys::openai_legacy(),
        keys::github(),
        keys::anthropic(),
        keys::slack(),
        keys::gitlab(),
        keys::stripe_test(),
    ]
}

/// The keys as lines of a file (or of a message).
fn lines(keys: &[Key]) -> String {
    keys.iter()
        .enumerate()
        .map(|(i, k)| format!("token_{i} = \"{}\"\n", k.value))
        .collect()
}

/// Asserts that `output` (of `what`) reported findings by their previews and shows nothing
/// of any of `keys` beyond them.
fn assert_shows_none(what: &str, output: &str, keys: &[&[Key]]) {
    assert!(output.contains("chars)"), "{what}: no preview:\n{output}");
    for key in keys.iter().copied().flatten() {
        let shown = std::panic::catch_unwind(|| assert_no_leak(output, key));
        assert!(shown.is_ok(), "{what}: a report shows part of a secret");
    }
}

#[test]
fn no_format_prints_four_characters_of_a_secret() {
    let (repo, server, bare) = server_and_clone();
    let hook = bare.join("hooks/pre-receive");
    let accept = b"#!/bin/sh\ncat >/dev/null\n";
    // The base, already pushed: keys committed before (already in history when their file
    // changes), and an exception for fixtures.
    let old = every_shape();
    repo.write("README.md", "hello\n");
    repo.write("old.py", lines(&old));
    repo.write(".keyward.toml", "[allow]\npaths = [\"fixtures/**\"]\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    write_executable(&hook, accept, 0o755);
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();

    // New keys in a file, the same in an allowed fixture, and the old file changed.
    let new = every_shape();
    repo.write("app/config.py", lines(&new));
    repo.write("fixtures/sample.py", lines(&new));
    repo.write("old.py", format!("{}more = 1\n", lines(&old)));
    repo.git(&["add", "."]).assert_ok();
    let both: &[&[Key]] = &[&old, &new];
    for format in FORMATS {
        let staged = repo.keyward(&["scan", "--staged", "--format", format]);
        assert_eq!(staged.code(), Some(1), "{}", staged.all());
        assert_shows_none(
            &format!("scan --staged --format {format}"),
            &staged.all(),
            both,
        );
        let files = repo.keyward(&["scan", "--format", format, "."]);
        assert_eq!(files.code(), Some(1), "{}", files.all());
        assert_shows_none(&format!("scan --format {format} ."), &files.all(), both);
    }
    let hook_run = repo.commit(&[]);
    hook_run.assert_blocked();
    assert_shows_none("the pre-commit hook", &hook_run.out.all(), both);

    // Keys in a commit message: the commit-msg hook's reports.
    let in_message = every_shape();
    let message = format!("Deploy\n\n{}", lines(&in_message));
    let file = repo.git_dir().join("MESSAGE");
    std::fs::write(&file, &message).expect("message");
    let path = file.to_string_lossy().into_owned();
    for format in FORMATS {
        let out = repo.keyward(&["commit-msg", &path, "--format", format]);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        assert_shows_none(
            &format!("commit-msg --format {format}"),
            &out.all(),
            &[&in_message],
        );
    }

    // Committed: a range, the history, a push.
    repo.git(&["commit", "-q", "--no-verify", "-m", &message])
        .assert_ok();
    let every: &[&[Key]] = &[&old, &new, &in_message];
    let range = format!("{base}..HEAD");
    for format in FORMATS {
        let out = repo.keyward(&["scan", "--range", &range, "--format", format]);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        assert_shows_none(
            &format!("scan --range --format {format}"),
            &out.all(),
            every,
        );
        let out = repo.keyward(&["scan", "--history", "--format", format]);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        assert_shows_none(
            &format!("scan --history --format {format}"),
            &out.all(),
            every,
        );
        let script = format!("#!/bin/sh\nexec '{KEYWARD}' pre-receive --format {format}\n");
        write_executable(&hook, script.as_bytes(), 0o755);
        let push = repo.git(&["push", "origin", "main"]);
        assert!(!push.0.status.success(), "{}", push.all());
        assert_shows_none(
            &format!("pre-receive --format {format}"),
            &push.all(),
            every,
        );
    }
    assert_eq!(
        crate::history::remote_ref(&bare, server.path(), "main"),
        Some(base)
    );
}
