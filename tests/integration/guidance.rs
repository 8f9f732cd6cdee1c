//! The advice a blocked commit prints is one coherent fix per problem, and each command it
//! prints works when pasted: the tests follow it with real git and see the commit go through.

use crate::keys::{self, assert_no_leak};
use crate::repo::{Repo, KEYWARD};

/// The printed `… allow FP --reason …` lines, each as it would be pasted, with the binary
/// under test in place of the hook copy the report names.
fn allow_commands(report: &str) -> Vec<String> {
    report
        .lines()
        .filter_map(|l| l.trim().split_once(" allow "))
        .filter(|(_, rest)| rest.contains("--reason"))
        .map(|(_, rest)| format!("'{KEYWARD}' allow {rest}"))
        .collect()
}

#[test]
fn a_key_in_a_staged_env_file_gets_the_env_file_advice_alone() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write(".env", format!("OPENAI_API_KEY={}\n", key.value));
    repo.write("app.py", "import os\n");
    repo.git(&["add", "-f", ".env", "app.py"]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    let report = c.out.all();
    assert_no_leak(&report, &key);
    // One fix: unstage and ignore. Nothing says to edit the file and stage it again.
    assert!(
        report.contains("git rm --cached .env && echo .env >> .gitignore"),
        "{report}"
    );
    assert!(report.contains(".env.example"), "{report}");
    for contradiction in [
        "git add .env",
        "${OPENAI_API_KEY}",
        "read it from the environment",
        "This key has not left",
    ] {
        assert!(
            !report.contains(contradiction),
            "{contradiction}:\n{report}"
        );
    }
    // Following the advice lets the commit through, and .env stays on disk, ignored.
    let fix = report
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("git rm --cached"))
        .expect("the unstage command");
    repo.run_in(&repo.dir, "sh", &["-c", fix]).assert_ok();
    repo.git(&["add", ".gitignore"]).assert_ok();
    repo.commit(&[]).assert_passed();
    assert!(repo.dir.join(".env").exists());
    let tree = repo.git(&["ls-files"]).stdout_text();
    assert!(!tree.contains(".env\n"), "{tree}");
}

#[test]
fn the_printed_exemption_for_a_forbidden_file_lets_it_through() {
    let repo = Repo::new();
    let key = keys::openai_project();
    // A file the team means to commit, holding a value that is not a secret.
    repo.write("deploy/.env", format!("TEST_KEY={}\n", key.value));
    repo.git(&["add", "-f", "deploy/.env"]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    let report = c.out.all();
    let entry = report
        .lines()
        .find_map(|l| l.split_once("under [allow]: ").map(|(_, e)| e.trim()))
        .unwrap_or_else(|| panic!("no exemption:\n{report}"));
    assert_eq!(entry, "files = [\"deploy/.env\"]");
    // The exemption alone does not unblock: the key blocks on its own, so it is listed too.
    let allows = allow_commands(&report);
    assert_eq!(allows.len(), 1, "{report}");
    repo.write(".keyward.toml", format!("[allow]\n{entry}\n"));
    repo.git(&["add", ".keyward.toml"]).assert_ok();
    repo.commit(&[]).assert_blocked();
    repo.run_in(&repo.dir, "sh", &["-c", &allows[0]])
        .assert_ok();
    repo.git(&["add", ".keyward.toml"]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_passed();
    assert!(c.out.all().contains("by file exemption"), "{}", c.out.all());
}

#[test]
fn a_forbidden_file_without_keys_is_exempted_at_the_root_only() {
    let repo = Repo::new();
    repo.write(".env", "DEBUG=1\n");
    repo.git(&["add", "-f", ".env"]).assert_ok();
    let report = repo.commit(&[]).out.all();
    assert!(
        report.contains("under [allow]: files = [\"/.env\"]"),
        "{report}"
    );
    assert!(allow_commands(&report).is_empty(), "{report}");
    repo.write(".keyward.toml", "[allow]\nfiles = [\"/.env\"]\n");
    repo.write("sub/.env", "DEBUG=1\n");
    repo.git(&["add", "-f", ".keyward.toml", "sub/.env"])
        .assert_ok();
    // `sub/.env` is another file: still blocked.
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("sub/.env"), "{}", c.out.all());
    repo.git(&["rm", "-q", "--cached", "sub/.env"]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn every_blocking_key_gets_its_own_allow_line() {
    let repo = Repo::new();
    let (a, b, c) = (keys::github(), keys::openai_project(), keys::slack());
    repo.write(
        "app.py",
        format!(
            "a = \"{}\"\nb = \"{}\"\nc = \"{}\"\n",
            a.value, b.value, c.value
        ),
    );
    repo.git(&["add", "app.py"]).assert_ok();
    let commit = repo.commit(&[]);
    commit.assert_blocked();
    let report = commit.out.all();
    for key in [&a, &b, &c] {
        assert_no_leak(&report, key);
    }
    assert!(!report.contains("This key"), "{report}");
    assert!(report.contains("These 3 keys"), "{report}");
    let allows = allow_commands(&report);
    assert_eq!(allows.len(), 3, "{report}");
    for (i, line) in allows.iter().enumerate() {
        assert!(line.contains(&format!("# app.py:{}:", i + 1)), "{line}");
    }
    // Each printed command, pasted, records one key: all three let the commit through.
    for (i, allow) in allows.iter().enumerate() {
        repo.run_in(&repo.dir, "sh", &["-c", allow]).assert_ok();
        repo.git(&["add", ".keyward.toml"]).assert_ok();
        let c = repo.commit(&[]);
        assert_eq!(c.moved, i == 2, "{}", c.out.all());
    }
}

#[test]
fn a_range_names_a_committed_env_file_once_with_every_key_it_held() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    let (first, second) = (keys::openai_project(), keys::github());
    for key in [&first, &second] {
        repo.write(".env", format!("TOKEN={}\n", key.value));
        repo.git(&["add", "-f", ".env"]).assert_ok();
        repo.commit_unchecked(&[]);
    }
    let range = format!("{base}..HEAD");
    let out = repo.keyward(&["scan", "--range", &range, "--color", "never"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let report = out.stdout_text();
    assert_no_leak(&report, &first);
    assert_no_leak(&report, &second);
    // The file's section holds both keys' allow lines; no key is advised apart from it.
    let section = report
        .split(".env must not be committed")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or_else(|| panic!("{report}"));
    let allows = allow_commands(section);
    assert_eq!(allows.len(), 2, "{report}");
    assert_eq!(allow_commands(&report).len(), 2, "{report}");
    assert!(!report.contains("Not a secret"), "{report}");
    // Followed as printed, the exemption and the two allow lines clear the range.
    let entry = section
        .lines()
        .find_map(|l| l.split_once("under [allow]: ").map(|(_, e)| e.trim()))
        .unwrap_or_else(|| panic!("{section}"));
    repo.write(".keyward.toml", format!("[allow]\n{entry}\n"));
    for allow in &allows {
        repo.run_in(&repo.dir, "sh", &["-c", allow]).assert_ok();
    }
    let again = repo.keyward(&["scan", "--range", &range]);
    assert_eq!(again.code(), Some(0), "{}", again.all());
}
