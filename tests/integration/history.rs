//! Commits as a source: pull-request ranges, whole-history audits, the server-side
//! pre-receive hook, and the machine formats (SARIF, GitHub annotations).

use crate::keys::{self, assert_no_leak};
use crate::repo::{isolated, write_executable, Repo, Run, KEYWARD};

fn ids(out: &crate::repo::Out) -> Vec<(String, String)> {
    out.json()
        .iter()
        .filter(|f| f.get("allowed").is_none())
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["commit"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The findings of a history scan, as comparable tuples.
fn findings(out: &crate::repo::Out) -> Vec<(String, String, String, u64, String)> {
    let mut found: Vec<_> = out
        .json()
        .iter()
        .filter(|f| f.get("allowed").is_none())
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_owned(),
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["commit"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
                f["fingerprint"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn a_range_reports_each_introduced_secret_once_with_its_first_commit() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    let key = keys::github();
    repo.write("ci/deploy.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let introducing = repo.head().expect("commit");
    // The same file copied, then the original removed: still one blob, one finding.
    repo.write("ci/copy.yml", format!("token: {}\n", key.value));
    repo.git(&["rm", "-q", "ci/deploy.yml"]).assert_ok();
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let range = format!("{base}..HEAD");
    let out = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(
        ids(&out),
        vec![("ci/deploy.yml".into(), introducing.clone())]
    );
    let found = out.json();
    assert_eq!(found[0]["author_date"], "2026-01-01");
    assert_no_leak(&out.all(), &key);
    // A range after the secret landed introduces nothing new.
    let later = format!("{introducing}..HEAD");
    let out = repo.keyward(&["scan", "--range", &later]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    // Human output names the commit and puts rotation first.
    let human = repo.keyward(&["scan", "--range", &range]);
    assert!(human.all().contains(&introducing[..10]), "{}", human.all());
    assert!(human.all().contains("Revoke it now"), "{}", human.all());
    assert!(human.all().contains("filter-repo"), "{}", human.all());
    assert_no_leak(&human.all(), &key);
}

#[test]
fn history_covers_every_branch_or_one() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "-b", "feature"]).assert_ok();
    let key = keys::openai_project();
    repo.write("app.py", format!("KEY = \"{}\"\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "main"]).assert_ok();
    let all = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(all.code(), Some(1), "{}", all.all());
    assert_eq!(all.json().len(), 1);
    let main = repo.keyward(&["scan", "--history", "--branch", "main"]);
    assert_eq!(main.code(), Some(0), "{}", main.all());
    // Not a terminal: no progress line.
    assert!(!all.all().contains("MB/s"), "{}", all.all());
    for bad in [
        &["scan", "--range", "nope..HEAD"][..],
        &["scan", "--range", "HEAD"],
        &["scan", "--history", "--branch", "nope"],
    ] {
        let out = repo.keyward(bad);
        assert_eq!(out.code(), Some(2), "{bad:?}: {}", out.all());
        assert_eq!(out.all().trim().lines().count(), 1, "{}", out.all());
    }
}

/// A bare repository with keyward as its pre-receive hook, and a clone that pushes to it.
pub(crate) fn server_and_clone() -> (Repo, tempfile::TempDir, std::path::PathBuf) {
    let server = tempfile::tempdir().expect("tmp");
    let bare = server.path().join("origin.git");
    let home = server.path();
    let init = isolated("git", home)
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare)
        .run()
        .expect("git init --bare");
    assert!(init.status.success());
    let hook = bare.join("hooks/pre-receive");
    let script = format!("#!/bin/sh\nexec '{KEYWARD}' pre-receive\n");
    write_executable(&hook, script.as_bytes(), 0o755);
    let repo = Repo::new();
    repo.git(&[
        "remote",
        "add",
        "origin",
        bare.to_str().expect("utf-8 path"),
    ])
    .assert_ok();
    (repo, server, bare)
}

pub(crate) fn remote_ref(
    bare: &std::path::Path,
    home: &std::path::Path,
    name: &str,
) -> Option<String> {
    let out = isolated("git", home)
        .args(["--git-dir"])
        .arg(bare)
        .args(["rev-parse", "-q", "--verify", name])
        .run()
        .expect("rev-parse");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn the_server_rejects_a_push_that_introduces_a_secret() {
    let (repo, server, bare) = server_and_clone();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    let accepted = remote_ref(&bare, server.path(), "main");
    assert_eq!(accepted, repo.head());

    // A secret, and a .keyward.toml in the pushed tree that tries to allow it: the server
    // takes its policy from its own configuration, never from what is pushed.
    let key = keys::github();
    repo.write("deploy.sh", format!("TOKEN={}\n", key.value));
    repo.write(".keyward.toml", "[allow]\npaths = [\"deploy.sh\"]\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let push = repo.git(&["push", "origin", "main"]);
    assert!(
        !push.0.status.success(),
        "push should be rejected: {}",
        push.all()
    );
    assert!(
        push.all().contains("remote: keyward: push rejected"),
        "{}",
        push.all()
    );
    assert!(push.all().contains("deploy.sh"), "{}", push.all());
    assert_no_leak(&push.all(), &key);
    assert_eq!(
        remote_ref(&bare, server.path(), "main"),
        accepted,
        "ref moved"
    );

    // A new branch carrying the same commit is rejected too; deleting a branch is not.
    let branch = repo.git(&["push", "origin", "HEAD:refs/heads/topic"]);
    assert!(!branch.0.status.success(), "{}", branch.all());
    assert_eq!(remote_ref(&bare, server.path(), "topic"), None);
    repo.git(&[
        "push",
        "-q",
        "origin",
        &format!("{}:refs/heads/old", accepted.clone().expect("id")),
    ])
    .assert_ok();
    repo.git(&["push", "-q", "origin", ":refs/heads/old"])
        .assert_ok();

    // Fixed by rewriting the commit: accepted.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]).assert_ok();
    repo.write("deploy.sh", "TOKEN=\"$DEPLOY_TOKEN\"\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    assert_eq!(remote_ref(&bare, server.path(), "main"), repo.head());
}

/// A repository that already holds a secret (pushed before keyward guarded it) can still be
/// worked on: a push that edits the file around it introduces nothing, and is accepted. A new
/// secret in the same file is rejected, and so is everything under the server's strict policy.
#[test]
fn the_server_accepts_edits_around_a_secret_it_already_has() {
    let (repo, server, bare) = server_and_clone();
    let hook = bare.join("hooks/pre-receive");
    let parked = bare.join("hooks/pre-receive.parked");
    std::fs::rename(&hook, &parked).expect("park the hook");
    let old = keys::github();
    let mut lines: Vec<String> = (0..30).map(|i| format!("SETTING_{i}={i}")).collect();
    lines.insert(10, format!("TOKEN={}", old.value));
    repo.write("settings.env.sample", lines.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    std::fs::rename(&parked, &hook).expect("restore the hook");

    lines[20] = "SETTING_19=changed".into();
    repo.write("settings.env.sample", lines.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let push = repo.git(&["push", "origin", "main"]);
    assert!(push.0.status.success(), "{}", push.all());
    assert_eq!(remote_ref(&bare, server.path(), "main"), repo.head());

    let new = keys::github();
    lines.push(format!("SECOND_TOKEN={}", new.value));
    repo.write("settings.env.sample", lines.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let push = repo.git(&["push", "origin", "main"]);
    assert!(!push.0.status.success(), "{}", push.all());
    assert!(
        push.all().contains("settings.env.sample:32"),
        "{}",
        push.all()
    );
    // The secret the server already had is reported as such, and does not block.
    let said = push.all();
    let rows: Vec<&str> = said.lines().collect();
    let old_row = rows.iter().find(|l| l.contains("settings.env.sample:11"));
    assert!(
        old_row.is_some_and(|l| l.contains('!') && !l.contains('✗')),
        "{}",
        push.all()
    );
    let new_row = rows.iter().find(|l| l.contains("settings.env.sample:32"));
    assert!(new_row.is_some_and(|l| l.contains('✗')), "{}", push.all());
    assert_no_leak(&push.all(), &new);

    // Strict, the server refuses any push that carries a secret, old or new.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]).assert_ok();
    lines.pop();
    lines[21] = "SETTING_20=changed".into();
    repo.write("settings.env.sample", lines.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let strict = isolated("git", server.path())
        .args(["--git-dir"])
        .arg(&bare)
        .args(["config", "keyward.strict", "true"])
        .run()
        .expect("git config");
    assert!(strict.status.success());
    let push = repo.git(&["push", "origin", "main"]);
    assert!(!push.0.status.success(), "{}", push.all());
    assert_no_leak(&push.all(), &old);
}

#[test]
fn sarif_has_the_required_structure_and_no_secret() {
    let repo = Repo::new();
    let (a, b) = (keys::openai_project(), keys::github());
    repo.write("app.py", format!("KEY = \"{}\"\n", a.value));
    repo.write("ci.yml", format!("token: {}\n", b.value));
    repo.write(".env", "A=1\n");
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--format", "sarif"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let log: serde_json::Value = serde_json::from_slice(&out.0.stdout).expect("JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"]
        .as_str()
        .is_some_and(|s| s.contains("sarif-2.1.0")));
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "keyward");
    let rules = driver["rules"].as_array().expect("rules");
    let rule_ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut unique = rule_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), rule_ids.len(), "one rule per rule id");
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().expect("level")));
        let location = &r["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"].as_str().is_some());
    }
    assert!(results.iter().any(
        |r| r["partialFingerprints"]["keyward/v1"].as_str().is_some()
            && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    ));
    assert_no_leak(&out.all(), &a);
    assert_no_leak(&out.all(), &b);
    // The commit-msg hook's: one result, at the message.
    let file = repo.dir.join("MSG");
    std::fs::write(&file, format!("Rotate {}\n", b.value)).expect("write");
    let out = repo.keyward(&["commit-msg", &file.to_string_lossy(), "--format", "sarif"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let log: serde_json::Value = serde_json::from_slice(&out.0.stdout).expect("JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    let location = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "commit%20message");
    assert_eq!(location["region"]["startLine"], 1);
    let help = log["runs"][0]["tool"]["driver"]["rules"][0]["help"]["text"]
        .as_str()
        .expect("help");
    assert!(
        help.starts_with("Remove the key from the message"),
        "{help}"
    );
    assert_no_leak(&out.all(), &b);
}

#[test]
fn github_annotations_are_escaped_and_redacted() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("odd, name:1.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--format", "github"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let text = out.stdout_text();
    assert!(
        text.starts_with("::error file=odd%2C name%3A1.yml,line=1,col=8,title=keyward%3A "),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    assert_no_leak(&text, &key);
    // The commit-msg hook's: an annotation at the message, with what to do about a message.
    let file = repo.dir.join("MSG");
    std::fs::write(&file, format!("Rotate {}\n", key.value)).expect("write");
    let out = repo.keyward(&["commit-msg", &file.to_string_lossy(), "--format", "github"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let text = out.stdout_text();
    assert!(
        text.starts_with("::error file=commit message,line=1,col=8,title=keyward%3A "),
        "{text}"
    );
    assert!(text.contains("remove it from the message"), "{text}");
    assert!(!text.contains("environment"), "{text}");
    assert_no_leak(&text, &key);
}

#[test]
fn the_framework_variant_scans_the_files_it_is_given() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("src/a.py", format!("TOKEN = \"{}\"\n", key.value));
    repo.write("src/b.py", "x = 1\n");
    repo.write("config/.env.production", "A=1\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    // What `pre-commit run --all-files` does with `keyward-files`: every tracked file as
    // arguments, whatever is staged.
    let out = repo.keyward(&[
        "scan",
        "src/a.py",
        "src/b.py",
        "config/.env.production",
        "--format",
        "json",
    ]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(out.json().len(), 2, "{}", out.all());
    let hooks = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/.pre-commit-hooks.yaml"
    ))
    .expect("hooks file");
    assert!(hooks.contains("id: keyward-files") && hooks.contains("pass_filenames: true"));
}

/// Later versions of a file are scanned where they differ from the version before: a secret
/// added to the middle of an old file is found at its commit, and a private key whose body is
/// edited (a multi-line match) is found again as the new key it is.
#[test]
fn edits_to_existing_files_are_scanned_where_they_change() {
    let repo = Repo::new();
    let body: Vec<String> = (0..40)
        .map(|i| format!("let value_{i} = compute({i});"))
        .collect();
    repo.write("src/lib.rs", body.join("\n") + "\n");
    let first = keys::random(keys::BASE64, 64);
    let key_file = keys::private_key(&first);
    repo.write("deploy/key.pem.txt", &key_file);
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");

    let token = keys::github();
    let mut edited = body.clone();
    edited.insert(20, format!("let token = \"{}\";", token.value));
    repo.write("src/lib.rs", edited.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let with_token = repo.head().expect("commit");

    edited[3] = "let value_3 = compute(33);".into();
    repo.write("src/lib.rs", edited.join("\n") + "\n");
    let second = keys::random(keys::BASE64, 64);
    repo.write("deploy/key.pem.txt", key_file.replacen(&first, &second, 1));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);

    let out = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let found = findings(&out);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "kw.github.pat" && f.1 == "src/lib.rs" && f.2 == with_token),
        "{found:?}"
    );
    let keys_found = found.iter().filter(|f| f.0 == "kw.pem.private-key").count();
    assert_eq!(keys_found, 2, "both private keys: {found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.0 == "kw.pem.private-key" && f.2 == base),
        "{found:?}"
    );
    assert_no_leak(&out.all(), &token);
}

/// Removing a `keyward:allow-next-line` marker exposes the unchanged line below it: history
/// scanning compares versions line by line, and still sees it.
#[test]
fn removing_an_allow_next_line_marker_exposes_the_line_below() {
    let repo = Repo::new();
    let key = keys::github();
    let allowed = format!(
        "{{\n  \"_comment\": \"keyward:allow-next-line\",\n  \"token\": \"{}\"\n}}\n",
        key.value
    );
    repo.write("fixture.json", &allowed);
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    assert_eq!(repo.keyward(&["scan", "--history"]).code(), Some(0));
    repo.write(
        "fixture.json",
        allowed.replace("keyward:allow-next-line", "reviewed"),
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let head = repo.head().expect("head");
    let out = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let found = out.json();
    let (allowed, shown): (Vec<_>, Vec<_>) = found.iter().partition(|f| f.get("allowed").is_some());
    assert_eq!(shown.len(), 1, "{}", out.all());
    assert_eq!(shown[0]["commit"], head.as_str());
    // The version with the marker is on record, allowed inline.
    assert_eq!(allowed.len(), 1, "{}", out.all());
    assert_eq!(allowed[0]["allowed"]["by"], "inline");
    assert_eq!(allowed[0]["blocking"], false);
}

/// Packed, a file's older versions are deltas of its newer ones: a secret that an old
/// version carries sits in the bytes its delta copies from the newest. Walking the packs'
/// delta chains (only the lines a delta adds are scanned) must find exactly what reading
/// every version whole finds, each secret at the commit that introduced it.
#[test]
fn packed_history_gives_the_findings_of_loose_objects() {
    let repo = Repo::new();
    let mut code: Vec<String> = (0..120)
        .map(|i| format!("    result_{i} = transform(record, {i}, options)"))
        .collect();
    let write_code = |code: &[String]| repo.write("app/pipeline.py", code.join("\n") + "\n");
    let commit = || {
        repo.git(&["add", "-A"]).assert_ok();
        repo.commit_unchecked(&[]);
        repo.head().expect("head")
    };
    write_code(&code);
    commit();
    let token = keys::github();
    code.insert(60, format!("    token = \"{}\"", token.value));
    write_code(&code);
    let introducing = commit();
    let pem = keys::private_key(&keys::random(keys::BASE64, 64));
    let marked = format!(
        "{{\n  \"_comment\": \"keyward:allow-next-line\",\n  \"token\": \"{}\"\n}}\n",
        keys::github().value
    );
    let mut commits = Vec::new();
    for round in 0..10 {
        // Edits elsewhere in the file: the secret's line lives on, unchanged.
        code[5] = format!("    result_5 = transform(record, {round}, options)");
        code.push(format!("    extra_{round} = finish(record)"));
        write_code(&code);
        if round == 2 {
            repo.write("deploy/key.pem.txt", &pem);
            repo.write("tests/fixture.json", &marked);
        }
        if round == 6 {
            let line = pem.lines().nth(1).expect("body");
            repo.write(
                "deploy/key.pem.txt",
                pem.replacen(line, &keys::random(keys::BASE64, 64), 1),
            );
            repo.write(
                "tests/fixture.json",
                marked.replace("keyward:allow-next-line", "reviewed"),
            );
        }
        commits.push(commit());
    }
    let loose = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(loose.code(), Some(1), "{}", loose.all());
    let before = findings(&loose);
    // A range whose base side (read through the packs too, once packed) holds the token.
    let range = format!("{}..HEAD", commits[1]);
    let range_out = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    let range_loose = findings(&range_out);
    // The token predates the range: editing its file does not introduce it (it is reported
    // as already in history, not blocking).
    assert_eq!(range_loose.len(), 4, "{range_loose:?}");
    let old: Vec<_> = range_out
        .json()
        .into_iter()
        .filter(|f| f["path"] == "app/pipeline.py")
        .collect();
    assert_eq!(old.len(), 1, "{}", range_out.all());
    assert_eq!(old[0]["blocking"], false);
    assert_eq!(old[0]["pre_existing"], true);

    repo.git(&["repack", "-adfq", "--window=10", "--depth=50"])
        .assert_ok();
    let objects = repo.git(&["count-objects", "-v"]).stdout_text();
    assert!(objects.starts_with("count: 0\n"), "{objects}");
    let packed = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(packed.code(), Some(1), "{}", packed.all());
    assert_eq!(findings(&packed), before);
    assert_no_leak(&packed.all(), &token);
    let range_packed = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    assert_eq!(findings(&range_packed), range_loose);

    // What both found: the token at the commit that added it (line 61), both private keys,
    // and the fixture's token once its marker was removed.
    let at = |rule: &str, path: &str| -> Vec<(String, u64)> {
        before
            .iter()
            .filter(|f| f.0 == rule && f.1 == path)
            .map(|f| (f.2.clone(), f.3))
            .collect()
    };
    assert_eq!(
        at("kw.github.pat", "app/pipeline.py"),
        vec![(introducing, 61)]
    );
    let mut keys_at: Vec<String> = at("kw.pem.private-key", "deploy/key.pem.txt")
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    keys_at.sort();
    let mut expected = vec![commits[2].clone(), commits[6].clone()];
    expected.sort();
    assert_eq!(keys_at, expected);
    assert_eq!(
        at("kw.github.pat", "tests/fixture.json"),
        vec![(commits[6].clone(), 3)]
    );

    // The packed scan did walk the packs: they hold every blob, mostly as deltas between
    // versions of a file. (The commits' messages and authors are items the source holds.)
    let selection = keyward::model::Selection::History { branch: None };
    let source = keyward::source::commits::Commits::open_in(&repo.dir, &selection).expect("walk");
    let items = keyward::source::Source::items(&source);
    let blobs = items
        .iter()
        .filter(|i| matches!(i.content, keyward::model::Content::Blob(_)))
        .count();
    assert_eq!(source.planned(), Some((blobs, items.len() - blobs)));

    // The history bench's floor reads each of those blobs once, exactly the bytes git holds
    // for it, and counts the texts the listing holds.
    let read = keyward::floor::history(&repo.dir).expect("floor");
    let mut ids: Vec<String> = items
        .iter()
        .filter_map(|i| match &i.content {
            keyward::model::Content::Blob(id) => Some(id.to_string()),
            _ => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let blob_bytes: u64 = ids
        .iter()
        .map(|id| {
            let size = repo.git(&["cat-file", "-s", id]).stdout_text();
            size.trim().parse::<u64>().expect("size")
        })
        .sum();
    let texts: Vec<u64> = items
        .iter()
        .filter_map(|i| match &i.content {
            keyward::model::Content::Text(t) => Some(t.len() as u64),
            _ => None,
        })
        .collect();
    assert_eq!(
        read,
        keyward::floor::Read {
            versions: ids.len() + texts.len(),
            bytes: blob_bytes + texts.iter().sum::<u64>(),
        }
    );
}

/// `git fast-import` stores each blob as a delta of the blob written just before it, whatever
/// its path, in chains up to fifty deep; history read one version at a time follows those
/// chains from where the last read left them. A key in the middle of a chain is found once,
/// at the commit that brought it, and the versions after it do not report it again.
#[test]
fn history_packed_by_fast_import_finds_a_key_inside_a_delta_chain() {
    use crate::repo::SpawnAndWait;
    let repo = Repo::new();
    let key = keys::github();
    let paths = ["src/a.rs", "src/b.rs", "src/c.rs"];
    let mut contents: Vec<String> = (0..3)
        .map(|f| {
            (0..80)
                .map(|l| format!("fn f{f}_{l}() -> u32 {{ {l} }}\n"))
                .collect()
        })
        .collect();
    let mut stream = String::new();
    for n in 1..=90usize {
        let f = if n == 47 { 1 } else { n % 3 };
        if n == 47 {
            contents[f].push_str(&format!("const TOKEN: &str = \"{}\";\n", key.value));
        } else {
            contents[f].push_str(&format!("// change {n}\n"));
        }
        let message = format!("c{n}");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter T <t@example.com> {} +0000\ndata {}\n{message}\n",
            1_767_225_600 + n,
            message.len()
        ));
        stream.push_str(&format!(
            "M 100644 inline {}\ndata {}\n{}\n",
            paths[f],
            contents[f].len(),
            contents[f]
        ));
    }
    let input = repo.dir.join("../stream");
    std::fs::write(&input, stream).expect("stream");
    let home = repo.dir.join("../home");
    let imported = isolated("git", &home)
        .args(["fast-import", "--quiet"])
        .current_dir(&repo.dir)
        .stdin(std::fs::File::open(&input).expect("open stream"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    assert!(imported.status.success(), "{imported:?}");
    // The pack fast-import wrote holds delta chains (the case this test is about).
    let pack_dir = repo.git_dir().join("objects/pack");
    let index = std::fs::read_dir(&pack_dir)
        .expect("pack dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("a pack index");
    let verify = repo.git(&["verify-pack", "-v", index.to_str().expect("utf-8")]);
    assert!(
        verify.stdout_text().contains("chain length = 10"),
        "{}",
        verify.all()
    );
    let introducing = repo.git(&["rev-parse", "main~43"]).stdout_text();
    let out = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(
        ids(&out),
        vec![("src/b.rs".into(), introducing.trim().to_owned())]
    );
    assert_no_leak(&out.all(), &key);
}
