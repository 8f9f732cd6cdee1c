//! `keyward scan PATH...` on files and directories.

use crate::keys;
use crate::repo::Repo;

#[test]
fn scan_paths_skips_git_and_ignored_files() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write(".gitignore", "secret.log\n");
    repo.write("secret.log", format!("t={}\n", key.value));
    repo.write("src/ok.txt", "fine\n");
    std::fs::write(repo.git_dir().join("leak"), format!("t={}\n", key.value)).expect("write");
    let out = repo.keyward(&["scan", "."]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    repo.write("src/bad.txt", format!("t={}\n", key.value));
    let out = repo.keyward(&["scan", "--format", "json", "."]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let json = out.json();
    assert_eq!(json.len(), 1, "{json:?}");
    assert_eq!(json[0]["path"], "src/bad.txt");
    keys::assert_no_leak(&out.all(), &key);
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let repo = Repo::new();
    for args in [
        &["scan"][..],
        &["frobnicate"],
        &["scan", "--format", "xml", "."],
        &["scan", "/no/such/path"],
    ] {
        let out = repo.keyward(args);
        assert_eq!(out.code(), Some(2), "{args:?}: {}", out.all());
        assert_eq!(
            String::from_utf8_lossy(&out.0.stderr).lines().count(),
            1,
            "{args:?}: {}",
            out.all()
        );
    }
}

#[test]
fn rules_lists_the_catalog() {
    let repo = Repo::new();
    let out = repo.keyward(&["rules", "--format", "json"]);
    out.assert_ok();
    let ids: Vec<String> = out
        .json()
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(ids.contains(&"kw.openai.api-key".to_owned()));
    assert!(ids.contains(&"kw.file.env".to_owned()));
}

/// `keyward rules check` runs the one rule check over a team's rule file: a rule that finds
/// its examples passes; one whose example it misses fails with one line naming it.
#[test]
fn rules_check_proves_a_rule_file() {
    let repo = Repo::new();
    let rule = "[[rule]]\nid = \"acme.deploy-token\"\nname = \"Acme deploy token\"\nkeywords = [\"acmedt_\"]\npattern = '''(acmedt_[a-f0-9]{32})'''\nrevoke_url = \"https://deploy.acme.example/tokens\"\nenv_var = \"ACME_DEPLOY_TOKEN\"\nexamples = ['TOKEN=«acmedt_{{hex:32}}»']\nnegative_examples = ['TOKEN=acmedt_...']\n";
    repo.write("rules/acme.toml", rule);
    let out = repo.keyward(&["rules", "check", "rules/acme.toml"]);
    out.assert_ok();
    assert!(out.stdout_text().contains("1 rules pass"), "{}", out.all());
    repo.write("rules/bad.toml", rule.replace("{{hex:32}}", "{{hex:12}}"));
    let out = repo.keyward(&["rules", "check", "rules/bad.toml"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    let err = String::from_utf8_lossy(&out.0.stderr).into_owned();
    assert!(err.contains("rule acme.deploy-token"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    repo.write("rules/broken.toml", "[[rule]]\nid = 3\n");
    let out = repo.keyward(&["rules", "check", "rules/broken.toml"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
}

/// PATHs named on the command line are followed when they are symbolic links (to a file or a
/// directory), as they would be with a trailing slash; links met inside a walked directory
/// are not.
#[cfg(unix)]
#[test]
fn symlinked_paths_are_followed_when_named_and_not_when_walked() {
    use std::os::unix::fs::symlink;
    let repo = Repo::new();
    let key = keys::github();
    repo.write("elsewhere/key.txt", format!("t={}\n", key.value));
    repo.write("tree/ok.txt", "fine\n");
    symlink("../elsewhere", repo.dir.join("tree/link")).expect("symlink");
    symlink("elsewhere", repo.dir.join("dirlink")).expect("symlink");
    symlink("elsewhere/key.txt", repo.dir.join("filelink")).expect("symlink");

    for (arg, path) in [
        ("filelink", "filelink"),
        ("dirlink", "dirlink/key.txt"),
        ("dirlink/", "dirlink/key.txt"),
    ] {
        let out = repo.keyward(&["scan", "--format", "json", arg]);
        assert_eq!(out.code(), Some(1), "{arg}: {}", out.all());
        assert_eq!(out.json().len(), 1, "{arg}: {}", out.all());
        assert_eq!(out.json()[0]["path"], path, "{arg}");
        keys::assert_no_leak(&out.all(), &key);
    }
    let out = repo.keyward(&["scan", "--format", "json", "tree"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert_eq!(out.json().len(), 0, "{}", out.all());
}

/// A PATH that cannot be read (missing, a dangling link, a link loop) is named on stderr and
/// makes the exit code 2, but every other PATH is still scanned and reported.
#[cfg(unix)]
#[test]
fn unreadable_paths_are_named_and_the_rest_is_still_scanned() {
    use std::os::unix::fs::symlink;
    let repo = Repo::new();
    let key = keys::github();
    repo.write("src/bad.txt", format!("t={}\n", key.value));
    symlink("nowhere", repo.dir.join("dangling")).expect("symlink");
    symlink("loop", repo.dir.join("loop")).expect("symlink");
    let out = repo.keyward(&[
        "scan", "--format", "json", "missing", "dangling", "src", "loop",
    ]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    let json = out.json();
    assert_eq!(json.len(), 1, "{}", out.all());
    assert_eq!(json[0]["path"], "src/bad.txt");
    let stderr = String::from_utf8_lossy(&out.0.stderr).into_owned();
    let named: Vec<&str> = stderr.lines().collect();
    assert_eq!(named.len(), 3, "{stderr}");
    for (line, path) in named.iter().zip(["missing", "dangling", "loop"]) {
        assert!(
            line.starts_with(&format!("keyward: cannot read {path}: ")),
            "{line}"
        );
    }
    keys::assert_no_leak(&out.all(), &key);
}

/// A key pasted where a setting, a fingerprint or a revision was expected is masked in the
/// error that quotes it, as findings are; so is a random-looking value no rule knows.
#[test]
fn values_typed_by_mistake_are_masked_in_errors() {
    let repo = Repo::new();
    let key = keys::openai_project();
    // Letters and digits: what a generated password looks like.
    let value = keys::distinctive(32);
    let plain = keys::Key {
        bodies: vec![value.clone()],
        head: 0,
        value,
    };
    for secret in [&key, &plain] {
        let v = secret.value.as_str();
        let size_flag = format!("--max-file-size={v}");
        for args in [
            &["allow", v, "--reason", "test"][..],
            &["scan", "--staged", &size_flag],
            &["scan", "--range", v],
            &["scan", "--history", "--branch", v],
            &["scan", "--format", v, "."],
        ] {
            let out = repo.keyward(args);
            assert_eq!(out.code(), Some(2), "{args:?}: {}", out.all());
            assert!(out.all().contains("chars)"), "{args:?}: {}", out.all());
            keys::assert_no_leak(&out.all(), secret);
        }
        // The same value in git config, read by the hook.
        repo.write("a.txt", "fine\n");
        repo.git(&["add", "."]).assert_ok();
        repo.install_hook();
        let c = repo.commit_with(&["-c", &format!("keyward.maxFileSize={v}")]);
        c.assert_blocked();
        keys::assert_no_leak(&c.out.all(), secret);
    }
}

/// A file larger than the default size cap, scanned because the cap is raised: read and
/// scanned in windows (16 MiB, overlapping), from disk and from the staged loose object. A key
/// across a window's edge is found once, on its line; a key in the last bytes too.
#[test]
fn a_file_over_the_default_cap_is_scanned_in_windows_without_missing_an_edge() {
    const MIB: usize = 1 << 20;
    let repo = Repo::new();
    let (a, b, c) = (keys::github(), keys::github(), keys::github());
    let line = b"let total = items.iter().map(|i| i.price).sum::<u64>();\n";
    let mut data: Vec<u8> = line.iter().copied().cycle().take(70 * MIB).collect();
    let end = data.len() - 60;
    // `a` across the first window's end, `b` across the second window's start region, `c`
    // at the very end.
    let mut place = |at: usize, key: &keys::Key| {
        let text = format!("\nt = \"{}\"\n", key.value);
        data[at..at + text.len()].copy_from_slice(text.as_bytes());
    };
    place(16 * MIB - 20, &a);
    place(31 * MIB - 10, &b);
    place(end, &c);
    let line_of =
        |at: usize, data: &[u8]| data[..at + 1].iter().filter(|&&x| x == b'\n').count() + 1;
    let want = [
        line_of(16 * MIB - 20, &data),
        line_of(31 * MIB - 10, &data),
        line_of(end, &data),
    ];
    repo.write("big.rs", &data);
    drop(data);
    let lines = |out: &crate::repo::Out| -> Vec<usize> {
        let mut got: Vec<usize> = out
            .json()
            .iter()
            .map(|f| f["line"].as_u64().unwrap_or_default() as usize)
            .collect();
        got.sort_unstable();
        got
    };
    let out = repo.keyward(&[
        "scan",
        "--format",
        "json",
        "--max-file-size",
        "100m",
        "big.rs",
    ]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(lines(&out), want, "{}", out.all());
    // Under the default cap it is named, not scanned.
    let out = repo.keyward(&["scan", "--format", "json", "big.rs"]);
    assert!(
        out.all().contains("not-scanned") || out.all().contains("not scanned"),
        "{}",
        out.all()
    );

    repo.git(&["add", "big.rs"]).assert_ok();
    let out = repo.keyward(&[
        "scan",
        "--staged",
        "--format",
        "json",
        "--max-file-size",
        "100m",
    ]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(lines(&out), want, "{}", out.all());
    for key in [&a, &b, &c] {
        keys::assert_no_leak(&out.all(), key);
    }
}
