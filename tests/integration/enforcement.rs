//! Enforcement nobody can switch off silently: each way an attacker (or a careless change)
//! could get a key past the server, CI or history audit, tried through real git — real
//! pushes to a bare repository guarded by `keyward pre-receive`, real `scan --range` and
//! `scan --history` — with the exit code and the report checked.

use crate::history::{remote_ref, server_and_clone};
use crate::keys::{self, assert_no_leak};
use crate::repo::{isolated, Repo, Run};

/// `git hash-object -w` of `content` in `repo`.
fn blob(repo: &Repo, content: &str) -> String {
    repo.write("blob.tmp", content);
    let id = repo.git(&["hash-object", "-w", "blob.tmp"]).stdout_text();
    std::fs::remove_file(repo.dir.join("blob.tmp")).expect("rm");
    id.trim().to_owned()
}

/// A push that git's pre-receive rejected, naming `what`, with the ref not created.
fn assert_rejected(
    repo: &Repo,
    bare: &std::path::Path,
    home: &std::path::Path,
    refspec: &str,
    name: &str,
    what: &str,
) {
    let push = repo.git(&["push", "origin", refspec]);
    assert!(
        !push.0.status.success(),
        "push {refspec} should be rejected:\n{}",
        push.all()
    );
    assert!(push.all().contains("push rejected"), "{}", push.all());
    assert!(
        push.all().contains(what),
        "the report should name {what}:\n{}",
        push.all()
    );
    assert_eq!(remote_ref(bare, home, name), None, "{name} was created");
}

#[test]
fn a_ref_pointing_at_a_blob_a_tree_or_a_tag_of_one_is_judged() {
    let (repo, server, bare) = server_and_clone();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    let key = keys::github();
    // A blob, pushed as a tag.
    let id = blob(&repo, &format!("TOKEN={}\n", key.value));
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        &format!("{id}:refs/tags/b"),
        "refs/tags/b",
        "refs/tags/b (blob",
    );
    // A tree holding it at a path.
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{id},config/deploy.py"),
    ])
    .assert_ok();
    let tree = repo.git(&["write-tree"]).stdout_text().trim().to_owned();
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        &format!("{tree}:refs/tags/t"),
        "refs/tags/t",
        "config/deploy.py",
    );
    // An annotated tag of the blob.
    repo.git(&["tag", "-a", "-m", "release notes", "annotated", &id])
        .assert_ok();
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        "refs/tags/annotated",
        "refs/tags/annotated",
        "refs/tags/annotated (blob",
    );
    // A tag of a tag of the commit that adds it.
    repo.git(&["reset", "-q"]).assert_ok();
    let other = keys::github();
    repo.write("deploy.sh", format!("export TOKEN={}\n", other.value));
    repo.git(&["add", "deploy.sh"]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["tag", "-a", "-m", "one", "inner", "HEAD"])
        .assert_ok();
    repo.git(&["tag", "-a", "-m", "two", "outer", "inner"])
        .assert_ok();
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        "refs/tags/outer",
        "refs/tags/outer",
        "deploy.sh",
    );
    assert_no_leak(
        &repo.git(&["push", "origin", "refs/tags/outer"]).all(),
        &key,
    );
    // A history audit sees what refs point at too.
    let audit = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(audit.code(), Some(1), "{}", audit.all());
    assert!(
        audit.all().contains("refs/tags/annotated (blob"),
        "{}",
        audit.all()
    );
}

#[test]
fn replacement_objects_never_stand_in_for_what_is_pushed() {
    let (repo, server, bare) = server_and_clone();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    let base = repo.head().expect("base");
    // C carries the key; D is a clean decoy; refs/replace/C points at D.
    repo.git(&["checkout", "-q", "-b", "feature"]).assert_ok();
    let key = keys::github();
    repo.write("app.py", format!("TOKEN = \"{}\"\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let c = repo.head().expect("C");
    repo.git(&["checkout", "-q", "main"]).assert_ok();
    repo.git(&["checkout", "-q", "-b", "decoy"]).assert_ok();
    repo.write("app.py", "TOKEN = os.environ[\"TOKEN\"]\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let d = repo.head().expect("D");
    repo.git(&["replace", &c, &d]).assert_ok();
    // Locally, a range scan sees C's content, not the decoy's.
    let range = repo.keyward(&[
        "scan",
        "--range",
        &format!("{base}..feature"),
        "--format",
        "json",
    ]);
    assert_eq!(range.code(), Some(1), "{}", range.all());
    assert!(range.all().contains("app.py"), "{}", range.all());
    // The decoy and the replace ref go first (clean), then the branch holding C.
    repo.git(&[
        "push",
        "-q",
        "origin",
        "decoy",
        &format!("refs/replace/{c}"),
    ])
    .assert_ok();
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        "feature",
        "refs/heads/feature",
        "app.py",
    );
    // A push to refs/replace/* is judged like any ref.
    repo.git(&["replace", "-d", &c]).assert_ok();
    repo.git(&["replace", &d, &c]).assert_ok();
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        &format!("refs/replace/{d}"),
        &format!("refs/replace/{d}"),
        "app.py",
    );
}

#[test]
fn a_server_config_cannot_hide_a_root_commit() {
    let (repo, server, bare) = server_and_clone();
    for (key, value) in [
        ("log.showRoot", "false"),
        ("diff.noprefix", "true"),
        ("color.ui", "always"),
        ("log.decorate", "full"),
        ("diff.renames", "copies"),
        ("diff.relative", "true"),
        ("log.showSignature", "true"),
    ] {
        let set = isolated("git", server.path())
            .arg("--git-dir")
            .arg(&bare)
            .args(["config", key, value])
            .run()
            .expect("git config");
        assert!(set.status.success());
    }
    // The first push: a root commit that carries the key.
    let key = keys::github();
    repo.write("ci/deploy.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        "main",
        "refs/heads/main",
        "ci/deploy.yml",
    );
}

/// A range, a history audit, a push and the hook give the same verdict for the same change.
#[test]
fn a_blob_at_two_paths_is_judged_at_each() {
    let (repo, server, bare) = server_and_clone();
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"tests/fixtures/**\"]\n",
    );
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    // The server's own policy says the same as the team's.
    std::fs::write(
        bare.join(".keyward.toml"),
        "[allow]\npaths = [\"tests/fixtures/**\"]\n",
    )
    .expect("server policy");
    repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    let key = keys::github();
    let content = format!("TOKEN = \"{}\"\n", key.value);
    repo.write("tests/fixtures/recorded.py", &content);
    repo.write("config/deploy.py", &content);
    repo.write(".env.example", "API_URL=https://example.com\n");
    repo.write(".env", "API_URL=https://example.com\n");
    repo.git(&["add", "."]).assert_ok();
    // The hook blocks it.
    let hook = repo.commit(&[]);
    hook.assert_blocked();
    assert!(
        hook.out.all().contains("config/deploy.py"),
        "{}",
        hook.out.all()
    );
    assert!(hook.out.all().contains(".env "), "{}", hook.out.all());
    repo.commit_unchecked(&[]);
    for args in [
        vec![
            "scan".to_owned(),
            "--range".to_owned(),
            format!("{base}..HEAD"),
        ],
        vec!["scan".to_owned(), "--history".to_owned()],
    ] {
        let mut args = args;
        args.extend(["--format".to_owned(), "json".to_owned()]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = repo.keyward(&argv);
        assert_eq!(out.code(), Some(1), "{args:?}: {}", out.all());
        let json = out.json();
        let blocking: Vec<&str> = json
            .iter()
            .filter(|f| f["blocking"] == true)
            .filter_map(|f| f["path"].as_str())
            .collect();
        assert!(
            blocking.contains(&"config/deploy.py"),
            "{args:?}: {blocking:?}"
        );
        assert!(blocking.contains(&".env"), "{args:?}: {blocking:?}");
        assert!(
            !blocking.contains(&"tests/fixtures/recorded.py"),
            "{args:?}: {blocking:?}"
        );
        // The fixture's copy is on record, allowed by its path.
        assert!(
            json.iter()
                .any(|f| f["path"] == "tests/fixtures/recorded.py"
                    && f["allowed"]["by"] == "path"
                    && f["allowed"]["pattern"] == "tests/fixtures/**"),
            "{}",
            out.all()
        );
    }
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        "main:refs/heads/next",
        "refs/heads/next",
        "config/deploy.py",
    );
    // A copy made later, from the fixture already on the server, is new where it lands.
    repo.git(&["reset", "-q", "--hard", &base]).assert_ok();
    repo.write("tests/fixtures/recorded.py", &content);
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["push", "-q", "-f", "origin", "main"])
        .assert_ok();
    let fixture = repo.head().expect("fixture");
    repo.write("config/deploy.py", &content);
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let range = repo.keyward(&["scan", "--range", &format!("{fixture}..HEAD")]);
    assert_eq!(range.code(), Some(1), "{}", range.all());
    assert!(range.all().contains("config/deploy.py"), "{}", range.all());
    assert_rejected(
        &repo,
        &bare,
        server.path(),
        "main:refs/heads/later",
        "refs/heads/later",
        "config/deploy.py",
    );
    assert_no_leak(&range.all(), &key);
}

#[test]
fn reftable_repositories_are_scanned_not_reported_clean() {
    let repo = Repo::new_with(&["--ref-format=reftable"]);
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    let key = keys::github();
    repo.write("ci.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let history = repo.keyward(&["scan", "--history", "--format", "json"]);
    assert_eq!(history.code(), Some(1), "{}", history.all());
    assert!(history.all().contains("ci.yml"), "{}", history.all());
    let range = repo.keyward(&["scan", "--range", &format!("{base}..HEAD")]);
    assert_eq!(range.code(), Some(1), "{}", range.all());
    assert!(range.all().contains("ci.yml"), "{}", range.all());
    let branch = repo.keyward(&["scan", "--history", "--branch", "main"]);
    assert_eq!(branch.code(), Some(1), "{}", branch.all());
    assert_no_leak(&history.all(), &key);
}

#[test]
fn a_policy_file_that_allows_everything_is_an_error() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("app.py", format!("TOKEN = \"{}\"\n", key.value));
    repo.write(".env", "X=1\n");
    for (text, line) in [
        ("strict = false\n[allow]\npaths = [\"**\"]\n", 3),
        ("[allow]\nfiles = [\"src/*.md\",\n  \"**/*\"]\n", 3),
        ("[allow]\npaths = [\"/**\"]\n", 2),
    ] {
        repo.write(".keyward.toml", text);
        repo.git(&["add", "."]).assert_ok();
        let c = repo.commit(&[]);
        c.assert_blocked();
        let said = c.out.all();
        assert!(said.contains(&format!(".keyward.toml:{line}:")), "{said}");
        assert!(said.contains("matches every file"), "{said}");
    }
}

/// Globs that each leave files out but together match every path are an off switch too:
/// refused with the file, the line, the key and the globs that do it.
#[test]
fn globs_that_together_allow_everything_are_an_error() {
    let key = keys::github();
    for field in ["paths", "files"] {
        let repo = Repo::new();
        // What the exception would let through: a key, or an env file.
        if field == "paths" {
            repo.write("app.py", format!("TOKEN = \"{}\"\n", key.value));
        } else {
            repo.write(".env", "X=1\n");
        }
        repo.write(
            ".keyward.toml",
            format!("[allow]\n{field} = [\n  \"docs/*.md\",\n  \"**/[!a]*\",\n  \"**/a*\",\n]\n"),
        );
        repo.git(&["add", "."]).assert_ok();
        let c = repo.commit(&[]);
        c.assert_blocked();
        let said = c.out.all();
        assert!(
            said.contains(&format!(
                ".keyward.toml:4: allow.{field}: `**/[!a]*` and `**/a*` together match every file"
            )),
            "{field}: {said}"
        );
        assert!(!said.contains("docs/*.md"), "{field}: {said}");
        assert_no_leak(&said, &key);
    }
}

/// A list that only looks broad — names starting with `a` but not `ab` are left out — is an
/// exception like any other: the key in `app.py` is still found.
#[test]
fn globs_that_leave_a_file_out_are_accepted() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("app.py", format!("TOKEN = \"{}\"\n", key.value));
    repo.write("docs/guide.md", format!("TOKEN = \"{}\"\n", key.value));
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"**/[!a]*\", \"**/ab*\"]\n",
    );
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    let said = c.out.all();
    assert!(!said.contains(".keyward.toml:"), "{said}");
    assert!(said.contains("app.py:1:"), "{said}");
    assert!(!said.contains("docs/guide.md:1:"), "{said}");
    assert_no_leak(&said, &key);
}

#[test]
fn a_custom_rule_cannot_shadow_a_built_in_one() {
    let repo = Repo::new();
    // A rule that captures only the public prefix: every token has the same fingerprint.
    let fp_of_prefix = {
        repo.write(
            ".keyward.toml",
            "[[rule]]\nid = \"team.gh\"\nname = \"team token\"\nkeywords = [\"ghp_\"]\npattern = '''(ghp_)[A-Za-z0-9]{36}'''\nrevoke_url = \"x\"\nenv_var = \"X\"\nexamples = ['t = «ghp_»{{alnum:36}}']\nmin_entropy = 0.0\nplaceholder_filter = false\n",
        );
        repo.write("probe.py", format!("t = {}\n", keys::github().value));
        repo.git(&["add", "."]).assert_ok();
        let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
        let json = out.json();
        let team = json
            .iter()
            .find(|f| f["rule_id"] == "team.gh")
            .expect("team finding");
        team["fingerprint"].as_str().expect("fp").to_owned()
    };
    repo.git(&["rm", "-q", "--cached", "probe.py"]).assert_ok();
    let policy = std::fs::read_to_string(repo.dir.join(".keyward.toml")).expect("policy");
    repo.write(
        ".keyward.toml",
        format!("{policy}\n[[allow.fingerprints]]\nfingerprint = \"{fp_of_prefix}\"\nreason = \"public prefix\"\n"),
    );
    let key = keys::github();
    repo.write("deploy.py", format!("TOKEN = \"{}\"\n", key.value));
    repo.git(&["add", ".keyward.toml", "deploy.py"]).assert_ok();
    for flags in [vec![], vec!["--strict", "--no-inline-allow"]] {
        let mut args = vec!["scan", "--staged", "--format", "json"];
        args.extend(flags.iter().copied());
        let out = repo.keyward(&args);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        let json = out.json();
        assert!(
            json.iter()
                .any(|f| f["rule_id"] == "kw.github.pat" && f["blocking"] == true),
            "{}",
            out.all()
        );
        // The team's finding is on record as allowed by its fingerprint.
        assert!(
            json.iter()
                .any(|f| f["rule_id"] == "team.gh" && f["allowed"]["by"] == "fingerprint"),
            "{}",
            out.all()
        );
    }
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("deploy.py:1"), "{}", c.out.all());
    assert!(
        c.out
            .all()
            .contains("policy: 1 finding allowed — 1 by fingerprint"),
        "{}",
        c.out.all()
    );
    assert_no_leak(&c.out.all(), &key);
}

#[test]
fn ci_can_pin_its_own_policy() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    // The pull request brings the key and a policy that allows it.
    let key = keys::github();
    repo.write("deploy.sh", format!("TOKEN={}\n", key.value));
    repo.write(".keyward.toml", "[allow]\npaths = [\"deploy.sh\"]\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let range = format!("{base}..HEAD");
    let lenient = repo.keyward(&["scan", "--range", &range]);
    assert_eq!(lenient.code(), Some(0), "{}", lenient.all());
    assert!(
        lenient
            .all()
            .contains("policy: 1 finding allowed — 1 by path (deploy.sh)"),
        "{}",
        lenient.all()
    );
    let ignored = repo.keyward(&["scan", "--range", &range, "--no-repo-policy"]);
    assert_eq!(ignored.code(), Some(1), "{}", ignored.all());
    let pinned_file = repo.dir.parent().expect("tmp").join("ci-policy.toml");
    std::fs::write(&pinned_file, "strict = true\n").expect("pinned");
    let pinned = repo.keyward(&[
        "scan",
        "--range",
        &range,
        "--policy",
        pinned_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(pinned.code(), Some(1), "{}", pinned.all());
    let by_env = crate::repo::isolated(crate::repo::KEYWARD, &repo.dir)
        .args(["scan", "--range", &range])
        .env("KEYWARD_POLICY", &pinned_file)
        .current_dir(&repo.dir)
        .run()
        .expect("run");
    assert_eq!(by_env.status.code(), Some(1));
    let missing = repo.keyward(&[
        "scan",
        "--range",
        &range,
        "--policy",
        "/nonexistent/policy.toml",
    ]);
    assert_eq!(missing.code(), Some(2), "{}", missing.all());
    assert!(
        missing.all().contains("/nonexistent/policy.toml"),
        "{}",
        missing.all()
    );
    assert_no_leak(&pinned.all(), &key);
}

#[test]
fn text_from_a_policy_file_reaches_the_terminal_escaped() {
    let repo = Repo::new();
    // A rule whose name clears the screen and prints its own all-clear.
    repo.write(
        ".keyward.toml",
        "[[rule]]\nid = \"team.token\"\nname = \"\\u001b[2J\\u001b[Hkeyward: all clear\"\nkeywords = [\"teamtok_\"]\npattern = '''(teamtok_[a-f0-9]{32})'''\nrevoke_url = \"\\u001b[31mhttps://example.com\"\nenv_var = \"TEAM\\u0007TOKEN\"\nexamples = ['t = «teamtok_{{hex:32}}»']\n",
    );
    let value = format!("teamtok_{}", keys::random("0123456789abcdef", 32));
    repo.write("app.py", format!("t = \"{value}\"\n"));
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    let said = c.out.all();
    assert!(
        !said.contains('\u{1b}'),
        "raw escape reached the terminal: {said:?}"
    );
    assert!(
        !said.contains('\u{7}'),
        "raw bell reached the terminal: {said:?}"
    );
    assert!(said.contains("\\x1b[2J"), "{said}");
    assert!(!said.contains(&value), "{said}");
}
