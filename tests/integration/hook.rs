//! The hook, driven by real `git commit`: what git records is what keyward reads.

use crate::keys::{self, assert_no_leak};
use crate::repo::{Repo, Run};

fn py(key: &str) -> String {
    format!("import os\n\nclient = OpenAI(api_key=\"{key}\")\n")
}

#[test]
fn staged_secret_blocks_even_when_deleted_from_the_working_tree() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value));
    repo.git(&["add", "app.py"]).assert_ok();
    repo.write("app.py", "import os\n"); // only the working tree is clean now
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("app.py:3:"), "{}", c.out.all());
    assert!(
        c.out.all().contains("sk-proj-…(164 chars)"),
        "{}",
        c.out.all()
    );
    assert_no_leak(&c.out.all(), &key);
}

#[test]
fn secret_only_in_the_working_tree_does_not_block() {
    let repo = Repo::new();
    repo.write("app.py", "import os\n");
    repo.git(&["add", "app.py"]).assert_ok();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value)); // unstaged
    repo.commit(&[]).assert_passed();
    let recorded = repo.git(&["show", "HEAD:app.py"]).stdout_text();
    assert_eq!(recorded, "import os\n");
}

#[test]
fn commit_all_sees_the_modified_tracked_file() {
    let repo = Repo::new();
    repo.write("app.py", "import os\n");
    repo.git(&["add", "app.py"]).assert_ok();
    repo.commit(&[]).assert_passed();
    let key = keys::openai_legacy();
    repo.write("app.py", py(&key.value));
    let c = repo.commit(&["-a"]);
    c.assert_blocked();
    assert_no_leak(&c.out.all(), &key);
}

#[test]
fn commit_with_paths_scans_the_named_path() {
    let repo = Repo::new();
    repo.write("app.py", "x = 1\n");
    repo.git(&["add", "app.py"]).assert_ok();
    repo.commit(&[]).assert_passed();
    let key = keys::github();
    repo.write("app.py", format!("token = \"{}\"\n", key.value));
    repo.commit(&["app.py"]).assert_blocked();
}

#[test]
fn commit_of_other_paths_ignores_a_secret_staged_elsewhere() {
    let repo = Repo::new();
    repo.write("x.py", "x = 1\n");
    repo.write("y.py", "y = 1\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    let key = keys::openai_project();
    repo.write("x.py", py(&key.value));
    repo.git(&["add", "x.py"]).assert_ok();
    repo.write("y.py", "y = 2\n");
    // `git commit y.py` records only y.py, through a temporary index.
    let c = repo.commit(&["y.py"]);
    c.assert_passed();
    assert!(repo
        .git(&["diff", "--cached", "--name-only"])
        .stdout_text()
        .contains("x.py"));
}

#[test]
fn first_commit_is_scanned() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("config/settings.py", py(&key.value));
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert_eq!(repo.head(), None);
}

#[test]
fn linked_worktree_commits_are_scanned() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    let wt = repo.dir.parent().expect("parent").join("wt");
    repo.git(&["worktree", "add", "-q", &wt.to_string_lossy(), "-b", "side"])
        .assert_ok();
    let key = keys::github();
    std::fs::write(wt.join("b.txt"), format!("GITHUB_TOKEN={}\n", key.value)).expect("write");
    repo.run_in(&wt, "git", &["add", "b.txt"]).assert_ok();
    let out = repo.run_in(&wt, "git", &["commit", "-q", "-m", "wt"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(out.all().contains("b.txt:1:"), "{}", out.all());
    std::fs::write(wt.join("b.txt"), "GITHUB_TOKEN=${GITHUB_TOKEN}\n").expect("write");
    repo.run_in(&wt, "git", &["add", "b.txt"]).assert_ok();
    repo.run_in(&wt, "git", &["commit", "-q", "-m", "wt"])
        .assert_ok();
}

#[test]
fn env_files_are_blocked_at_any_depth_and_templates_pass() {
    for path in [".env", ".env.production", ".env.local", "config/.env"] {
        let repo = Repo::new();
        repo.write(path, "DEBUG=1\n");
        repo.git(&["add", "-f", path]).assert_ok();
        let c = repo.commit(&[]);
        c.assert_blocked();
        assert!(
            c.out.all().contains("must not be committed"),
            "{path}: {}",
            c.out.all()
        );
        assert!(
            c.out.all().contains(&format!("git rm --cached {path}")),
            "{path}: {}",
            c.out.all()
        );
    }
    let repo = Repo::new();
    repo.write(".env.example", "OPENAI_API_KEY=sk-proj-...\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}

/// The names a careless developer commits `.env` under: another case (one file on macOS and
/// Windows) and what editors and tools leave beside it. Each blocks the commit, a leftover is
/// named as one, and the printed command, run as printed, unstages the file and makes git
/// ignore it (`#.env#` would be a comment in `.gitignore` unescaped). Templates, in any case,
/// and their leftovers pass.
#[test]
fn env_files_in_any_case_and_their_leftovers_are_blocked() {
    let repo = Repo::new();
    for (path, leftover) in [
        (".ENV", false),
        (".Env.Production", false),
        ("config/.ENV.LOCAL", false),
        (".env-prod", false),
        (".env~", true),
        (".env.swp", true),
        (".env.orig", true),
        (".env.save", true),
        (".env.bak", true),
        (".env.old", true),
        ("#.env#", true),
        (".#.env", true),
        ("config/.env.local~", true),
        (".env copy", true),
    ] {
        repo.write(path, "DEBUG=1\n");
        repo.git(&["add", "-f", "--", path]).assert_ok();
        let c = repo.commit(&[]);
        c.assert_blocked();
        let said = c.out.all();
        assert!(said.contains("environment file"), "{path}: {said}");
        assert!(said.contains("must not be committed"), "{path}: {said}");
        assert_eq!(
            said.contains("a leftover of .env"),
            leftover,
            "{path}: {said}"
        );
        let fix = said
            .lines()
            .find(|l| l.contains("git rm --cached"))
            .unwrap_or_else(|| panic!("{path}: no fix printed: {said}"))
            .trim();
        repo.run_in(&repo.dir, "sh", &["-c", fix]).assert_ok();
        let staged = repo.git(&["diff", "--cached", "--name-only"]).stdout_text();
        assert!(
            staged.is_empty(),
            "{path}: still staged after `{fix}`: {staged}"
        );
        repo.git(&["check-ignore", "-q", "--", path]).assert_ok();
    }
    for template in [
        ".ENV.EXAMPLE",
        ".env.example~",
        "#.env.sample#",
        ".env.template.swp",
    ] {
        repo.write(template, "OPENAI_API_KEY=\n");
        repo.git(&["add", "-f", "--", template]).assert_ok();
    }
    repo.commit(&[]).assert_passed();
}

/// A key glued to an identifier on its left (`GH_TOKEN_ghp_…`, `KEY_sk-proj-…`), as a
/// missing `=` or a concatenation leaves it, is found where the provider's prefix cannot be the
/// tail of a word; glued after a letter where it can be (`highp_`, `flask-admin-`), the
/// look-alike passes.
#[test]
fn keys_glued_to_an_identifier_are_found_where_the_prefix_is_distinctive() {
    let cases = [
        ("export GH_TOKEN_", keys::github()),
        ("CI_TOKEN2", keys::github()),
        ("export KEY_", keys::openai_project()),
        ("ANTHROPIC_API_KEY", keys::anthropic()),
        ("SLACK_BOT_TOKEN_", keys::slack()),
        ("MY_TOKEN=ci_", keys::gitlab()),
    ];
    for (glued, key) in &cases {
        let repo = Repo::new();
        repo.write("deploy.sh", format!("set -e\n{glued}{}\n", key.value));
        repo.git(&["add", "."]).assert_ok();
        let c = repo.commit(&[]);
        c.assert_blocked();
        let said = c.out.all();
        assert!(
            said.contains(&format!("deploy.sh:2:{}", glued.chars().count() + 1)),
            "{glued}: {said}"
        );
        assert_no_leak(&said, key);
    }
    let repo = Repo::new();
    repo.write(
        "shader.glsl",
        format!("uniform vec4 highp_{};\n", keys::alnum(36)),
    );
    repo.write(
        "requirements.txt",
        format!("flask-admin-{}==1.0\n", keys::lowercase(44)),
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn unstaging_an_env_file_is_never_blocked() {
    let repo = Repo::new();
    repo.write(".env", "DEBUG=1\n");
    repo.git(&["add", ".env"]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["rm", "-q", "--cached", ".env"]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn the_seed_document_passes() {
    // The seed sits beside the checkout (`../shared`, as CI clones it): without it this test
    // fails rather than pass having committed nothing.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/seed/000_f593cda742fc14fd.txt"
    );
    let seed = std::fs::read(path).unwrap_or_else(|e| {
        panic!("the seed document {path}: {e} (../shared/seed beside the checkout)")
    });
    let repo = Repo::new();
    repo.write("README.md", seed);
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
#[cfg(unix)] // a link in the working tree; the index side is tested everywhere (index.rs)
fn symlinks_and_submodule_entries_do_not_crash() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    std::os::unix::fs::symlink("a.txt", repo.dir.join(".env")).expect("symlink");
    repo.git(&["add", "."]).assert_ok();
    let id = "1".repeat(40);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{id},vendor/lib"),
    ])
    .assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn awkward_file_names_are_reported_escaped() {
    let repo = Repo::new();
    let key = keys::github();
    for name in ["with space.txt", "ünïcödé.txt", "esc\u{1b}[31mape.txt"] {
        repo.write(name, format!("token: {}\n", key.value));
    }
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    let all = c.out.all();
    assert!(all.contains("with space.txt:1:"), "{all}");
    assert!(all.contains("ünïcödé.txt:1:"), "{all}");
    assert!(all.contains("esc\\x1b[31mape.txt:1:"), "{all}");
    assert!(
        !all.contains('\u{1b}'),
        "raw escape byte reached the terminal: {all:?}"
    );
    assert_no_leak(&all, &key);
}

#[test]
fn a_secret_at_the_end_of_a_large_file_is_found_with_its_line() {
    let repo = Repo::new();
    let key = keys::openai_project();
    let mut text = "let filler = \"lorem ipsum dolor sit amet\";\n".repeat(80_000); // ~3.4 MB
    text.push_str(&format!("const KEY = \"{}\";\n", key.value));
    repo.write("big.js", text);
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("big.js:80001:14"), "{}", c.out.all());
}

#[test]
fn files_over_the_size_cap_are_named_not_scanned() {
    let repo = Repo::new();
    repo.write("data.txt", "x".repeat(4096));
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--max-file-size", "1k"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(out.all().contains("data.txt"), "{}", out.all());
    assert!(out.all().contains("not scanned"), "{}", out.all());
    let json = repo
        .keyward(&[
            "scan",
            "--staged",
            "--max-file-size",
            "1k",
            "--format",
            "json",
        ])
        .json();
    assert_eq!(json[0]["kind"], "not_scanned");
}

#[test]
fn personal_git_config_cannot_hide_a_secret() {
    let repo = Repo::new();
    repo.git(&["config", "color.ui", "always"]).assert_ok();
    repo.git(&["config", "diff.external", "/bin/false"])
        .assert_ok();
    repo.git(&["config", "diff.noprefix", "true"]).assert_ok();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_blocked();
    // The git plumbing path must be immune too.
    let out = repo.run_in(
        &repo.dir,
        crate::repo::KEYWARD,
        &["scan", "--staged", "--format", "json"],
    );
    assert_eq!(out.json().len(), 1);
}

fn layouts_block_and_pass(repo: &Repo, prepare: &[&[&str]]) {
    repo.write("src/a.txt", "a\n");
    repo.write("src/b.txt", "b\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    for args in prepare {
        repo.git(args).assert_ok();
    }
    let key = keys::github();
    repo.write("src/a.txt", format!("a\ntoken = {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("src/a.txt:2:"), "{}", c.out.all());
    repo.write("src/a.txt", "a\nfixed\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn index_version_4() {
    let repo = Repo::new();
    layouts_block_and_pass(&repo, &[&["update-index", "--index-version", "4"]]);
}

#[test]
fn split_index() {
    let repo = Repo::new();
    layouts_block_and_pass(&repo, &[&["update-index", "--split-index"]]);
}

#[test]
fn sha256_repository() {
    let repo = Repo::new_with(&["--object-format=sha256"]);
    layouts_block_and_pass(&repo, &[]);
}

#[test]
fn reftable_repository() {
    let repo = Repo::new_with(&["--ref-format=reftable"]);
    layouts_block_and_pass(&repo, &[]);
}

#[test]
fn sparse_index() {
    let repo = Repo::new();
    repo.write("other/c.txt", "c\n");
    layouts_block_and_pass(
        &repo,
        &[&["sparse-checkout", "set", "--cone", "--sparse-index", "src"]],
    );
}

#[test]
fn the_git_plumbing_path_gives_the_same_verdict() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("a.py", "x = 1\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    repo.write("a.py", py(&key.value));
    repo.write("b.txt", "clean\n");
    repo.git(&["add", "."]).assert_ok();
    let gix = repo
        .keyward(&["scan", "--staged", "--format", "json"])
        .json();
    let mut cmd = crate::repo::isolated(crate::repo::KEYWARD, &repo.dir);
    let out = cmd
        .args(["scan", "--staged", "--format", "json"])
        .env("KEYWARD_GIT_BACKEND", "cli")
        .current_dir(&repo.dir)
        .run()
        .expect("run");
    let cli: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(gix, cli);
    assert_eq!(gix.len(), 1);
}

#[test]
fn a_secret_already_in_history_is_reported_but_does_not_block() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.write("app.py", format!("{}\nprint('more')\n", py(&key.value)));
    repo.git(&["add", "."]).assert_ok();
    let strict = repo.keyward(&["scan", "--staged", "--strict"]);
    assert_eq!(strict.code(), Some(1), "{}", strict.all());
    let c = repo.commit(&[]);
    c.assert_passed();
    assert!(
        c.out.all().contains("already in history"),
        "{}",
        c.out.all()
    );
    assert!(
        c.out.all().contains("https://platform.openai.com/api-keys"),
        "{}",
        c.out.all()
    );
    assert_no_leak(&c.out.all(), &key);
}

#[test]
fn a_renamed_file_keeps_its_history() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("old.txt", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["mv", "old.txt", "new.txt"]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn a_blocked_run_changes_neither_index_nor_working_tree() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value));
    repo.write(".env", "A=1\n");
    repo.git(&["add", "."]).assert_ok();
    repo.git(&["write-tree"]).assert_ok(); // what `git commit` itself writes before the hook
    let index = std::fs::read(repo.git_dir().join("index")).expect("index");
    let file = std::fs::read(repo.dir.join("app.py")).expect("file");
    assert_eq!(repo.keyward(&["hook"]).code(), Some(1));
    assert_eq!(
        std::fs::read(repo.git_dir().join("index")).expect("index"),
        index
    );
    repo.commit(&[]).assert_blocked();
    assert_eq!(std::fs::read(repo.dir.join("app.py")).expect("file"), file);
    assert!(repo.dir.join(".env").exists());
}

#[test]
fn not_a_repository_is_a_one_line_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = crate::repo::isolated(crate::repo::KEYWARD, dir.path())
        .args(["scan", "--staged"])
        .current_dir(dir.path())
        .env(
            "GIT_CEILING_DIRECTORIES",
            dir.path().parent().expect("parent"),
        )
        .run()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("keyward: error: "), "{err}");
    assert!(err.lines().next().is_some_and(|l| l.len() < 400), "{err}");
}

#[test]
fn a_corrupt_index_blocks_the_commit_and_names_the_bypass() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).assert_ok();
    std::fs::write(
        repo.git_dir().join("index"),
        b"DIRC garbage garbage garbage garbage",
    )
    .expect("corrupt");
    let out = repo.keyward(&["hook"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(
        out.all().contains("git commit --no-verify"),
        "{}",
        out.all()
    );
}

#[test]
fn json_output_has_the_documented_shape_and_no_secret() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value));
    repo.write(".env", "X=1\n");
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
    assert_eq!(out.code(), Some(1));
    assert_no_leak(&out.all(), &key);
    let json = out.json();
    let secret = json
        .iter()
        .find(|f| f["kind"] == "secret")
        .expect("a secret");
    assert_eq!(secret["rule_id"], "kw.openai.api-key");
    assert_eq!(secret["path"], "app.py");
    assert_eq!(secret["line"], 3);
    assert_eq!(secret["column"], 26);
    assert_eq!(secret["preview"], "sk-proj-…(164 chars)");
    assert_eq!(secret["pre_existing"], false);
    assert_eq!(secret["blocking"], true);
    assert_eq!(secret["fingerprint"].as_str().map(str::len), Some(8));
    let env = json
        .iter()
        .find(|f| f["kind"] == "forbidden_file")
        .expect("env file");
    assert_eq!(env["rule_id"], "kw.file.env");
    assert_eq!(env["line"], serde_json::Value::Null);
    // The commit-msg hook's: the message is the one item, `commit message`.
    let file = repo.dir.join("MSG");
    std::fs::write(&file, format!("Subject\n\nwith {} in it\n", key.value)).expect("write");
    let out = repo.keyward(&["commit-msg", &file.to_string_lossy(), "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_no_leak(&out.all(), &key);
    let json = out.json();
    assert_eq!(json.len(), 1, "{}", out.all());
    assert_eq!(json[0]["path"], "commit message");
    assert_eq!(
        (json[0]["line"].as_u64(), json[0]["column"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(json[0]["preview"], "sk-proj-…(164 chars)");
    assert_eq!(json[0]["blocking"], true);
}

#[test]
fn placeholders_never_match() {
    let repo = Repo::new();
    let text = [
        "export OPENAI_API_KEY=\"sk-proj-...\"",
        "OPENAI_API_KEY=sk-proj-... docker-compose up",
        "key = \"sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"",
        "key = \"<your-key>\"",
        "key = YOUR_API_KEY",
        "key: ${OPENAI_API_KEY}",
        "key = os.environ[\"OPENAI_API_KEY\"]",
        "const key = process.env.OPENAI_API_KEY;",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    ]
    .join("\n");
    repo.write("docs/setup.md", text);
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}

#[test]
fn keys_in_notebooks_and_bearer_headers_block() {
    let repo = Repo::new();
    let a = keys::openai_project();
    let b = keys::openai_legacy();
    repo.write(
        "analysis.ipynb",
        format!("{{\"cells\": [{{\"source\": [\"import openai\\n\", \"openai.api_key = \\\"{}\\\"\\n\"]}}]}}\n", a.value),
    );
    repo.write(
        "call.sh",
        format!(
            "curl -H \"Authorization: Bearer {}\" https://api.openai.com/v1/models\n",
            b.value
        ),
    );
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
    let paths: Vec<_> = out
        .json()
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(paths.contains(&"analysis.ipynb".to_owned()), "{paths:?}");
    assert!(paths.contains(&"call.sh".to_owned()), "{paths:?}");
    assert_no_leak(&out.all(), &a);
}

#[test]
fn a_binary_blob_is_still_checked_for_prefixed_keys() {
    let repo = Repo::new();
    let key = keys::openai_project();
    let mut blob = vec![0u8, 1, 2, 3, 0, 255];
    blob.extend_from_slice(key.value.as_bytes());
    blob.extend_from_slice(&[0, 0, 7]);
    repo.write("model.bin", blob);
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("binary"), "{}", c.out.all());
}

#[test]
fn the_binary_runs_as_the_hook_from_a_subdirectory() {
    let repo = Repo::new();
    repo.write("sub/dir/a.txt", "a\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    let key = keys::github();
    repo.write("sub/dir/a.txt", format!("t={}\n", key.value));
    repo.run_in(&repo.dir.join("sub/dir"), "git", &["add", "a.txt"])
        .assert_ok();
    let out = repo.run_in(
        &repo.dir.join("sub/dir"),
        "git",
        &["commit", "-q", "-m", "x"],
    );
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(out.all().contains("sub/dir/a.txt:1:"), "{}", out.all());
}

/// Commits of 64 blobs or more are scanned on a second thread; the verdict, the order of the
/// findings and the history check must be the same as for a small commit.
#[test]
fn a_large_commit_is_scanned_in_parallel_with_the_same_verdict() {
    let repo = Repo::new();
    let old_key = keys::github();
    repo.write("src/f000.py", format!("token = \"{}\"\n", old_key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    for i in 0..150 {
        repo.write(&format!("src/f{i:03}.py"), format!("x_{i} = {i}\n"));
    }
    // An old key kept in an edited file, a new key late in the commit, an env file between.
    repo.write(
        "src/f000.py",
        format!("token = \"{}\"\nprint(1)\n", old_key.value),
    );
    let new_key = keys::openai_project();
    repo.write("src/f140.py", py(&new_key.value));
    repo.write("config/.env", "A=1\n");
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let found: Vec<(String, String, bool)> = out
        .json()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["rule_id"].as_str().unwrap_or_default().to_owned(),
                f["pre_existing"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("config/.env".into(), "kw.file.env".into(), false),
            ("src/f000.py".into(), "kw.github.pat".into(), true),
            ("src/f140.py".into(), "kw.openai.api-key".into(), false),
        ]
    );
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert_no_leak(&c.out.all(), &new_key);
    assert_no_leak(&c.out.all(), &old_key);
}

/// Committing a merge records everything the merged branch brought; a secret that branch
/// already carries is in history (reported, not blocking), while one added while resolving
/// the merge is new and blocks.
#[test]
fn a_merge_commit_does_not_block_what_the_merged_branch_already_carries() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "-b", "feature"]).assert_ok();
    let old = keys::github();
    repo.write("ci.yml", format!("token: {}\n", old.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "main"]).assert_ok();
    repo.write("other.txt", "main moves on\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "feature"])
        .assert_ok();
    let c = repo.commit(&[]);
    c.assert_passed();
    assert!(
        c.out.all().contains("already in history"),
        "{}",
        c.out.all()
    );
    assert_no_leak(&c.out.all(), &old);

    // A new secret introduced while committing a merge still blocks.
    repo.git(&["checkout", "-q", "-b", "feature2", "HEAD~1"])
        .assert_ok();
    repo.write("f2.txt", "x\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "main"]).assert_ok();
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "feature2"])
        .assert_ok();
    let new = keys::openai_project();
    repo.write("app.py", py(&new.value));
    repo.git(&["add", "app.py"]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert_no_leak(&c.out.all(), &new);
}

/// `text` as UTF-16 little-endian with a byte-order mark, as PowerShell 5's `>` writes it.
fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

#[test]
fn keys_written_in_other_encodings_block_and_are_placed_on_their_line() {
    let repo = Repo::new();
    let (a, b, c) = (
        keys::openai_project(),
        keys::openai_project(),
        keys::openai_legacy(),
    );
    repo.write(
        "setup.ps1",
        utf16le(&format!(
            "# set up the shell\r\n$env:OPENAI_API_KEY = \"{}\"\r\n",
            a.value
        )),
    );
    // A query string: `-` written `%2D`, the `=` before it `%3D`.
    let url = b.value.replace('-', "%2D");
    repo.write(
        "access.log",
        format!("GET /ok\nGET /callback?next=%2Fhome&api_key%3D{url} HTTP/1.1\n"),
    );
    // JSON that escapes every `-` as `\u002d`.
    let json = c.value.replace('-', "\\u002d");
    repo.write(
        "fixture.json",
        format!("{{\n  \"openai\": \"{json}\"\n}}\n"),
    );
    repo.git(&["add", "."]).assert_ok();

    let commit = repo.commit(&[]);
    commit.assert_blocked();
    for key in [&a, &b, &c] {
        assert_no_leak(&commit.out.all(), key);
    }

    let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
    let mut places: Vec<(String, u64)> = out
        .json()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        [
            ("access.log".to_owned(), 2),
            ("fixture.json".to_owned(), 2),
            ("setup.ps1".to_owned(), 2),
        ],
        "{}",
        out.all()
    );
}

#[test]
fn an_encoded_key_already_committed_does_not_block_an_edit_elsewhere_in_the_file() {
    let repo = Repo::new();
    let key = keys::openai_project();
    let body = format!("$env:OPENAI_API_KEY = \"{}\"\r\n", key.value);
    repo.write("setup.ps1", utf16le(&body));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.write("setup.ps1", utf16le(&format!("# a comment\r\n{body}")));
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}
