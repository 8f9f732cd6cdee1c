//! The team policy (`.keyward.toml`), inline allows and per-person git config, through real
//! commits: each exception allows exactly what it names and nothing more.

use crate::keys::{self, assert_no_leak};
use crate::repo::Repo;

/// The fingerprint keyward reports for the only secret staged.
fn fingerprint(repo: &Repo) -> String {
    let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
    let found = out.json();
    assert_eq!(found.len(), 1, "{}", out.all());
    found[0]["fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_owned()
}

fn py(key: &str) -> String {
    format!("client = OpenAI(api_key=\"{key}\")\n")
}

#[test]
fn allowed_paths_skip_content_but_not_forbidden_files() {
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"tests/fixtures/**\"]\n",
    );
    let key = keys::github();
    repo.write(
        "tests/fixtures/recorded.py",
        format!("token = \"{}\"\n", key.value),
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    // The same content outside the allowed path still blocks.
    repo.write("src/app.py", format!("token = \"{}\"\n", key.value));
    repo.git(&["add", "src"]).assert_ok();
    repo.commit(&[]).assert_blocked();
    repo.git(&["rm", "-q", "--cached", "src/app.py"])
        .assert_ok();
    // An env file inside the allowed path is still a forbidden file.
    repo.write("tests/fixtures/.env", "A=1\n");
    repo.git(&["add", "tests"]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(
        c.out.all().contains("tests/fixtures/.env"),
        "{}",
        c.out.all()
    );
}

#[test]
fn an_allowed_fingerprint_survives_moves_and_renames_and_allows_nothing_else() {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write("app.py", py(&key.value));
    repo.git(&["add", "."]).assert_ok();
    let fp = fingerprint(&repo);
    let allow = repo.keyward(&["allow", &fp, "--reason", "documented test key"]);
    allow.assert_ok();
    assert_no_leak(&allow.all(), &key);
    let policy = std::fs::read_to_string(repo.dir.join(".keyward.toml")).expect("written");
    assert!(policy.contains(&fp) && policy.contains("documented test key"));
    assert_no_leak(&policy, &key);
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();

    // Moved down the file and renamed: same rule, same value, same fingerprint.
    repo.git(&["mv", "app.py", "client.py"]).assert_ok();
    repo.write(
        "client.py",
        format!("import os\n\n\n# reformatted\n{}", py(&key.value)),
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();

    // Another key in the same file is not covered.
    let other = keys::openai_project();
    repo.write(
        "client.py",
        format!("{}{}", py(&key.value), py(&other.value)),
    );
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert_no_leak(&c.out.all(), &other);
}

#[test]
fn an_expired_entry_blocks_and_says_so() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("ci.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    let fp = fingerprint(&repo);
    repo.keyward(&[
        "allow",
        &fp,
        "--reason",
        "temporary",
        "--expires",
        "2001-01-01",
    ])
    .assert_ok();
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("expired"), "{}", c.out.all());
    assert!(c.out.all().contains("2001-01-01"), "{}", c.out.all());
}

#[test]
fn an_invalid_policy_blocks_with_file_line_and_key() {
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "# team policy\nstrict = false\n[allow]\npathz = [\"docs/**\"]\n",
    );
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(out.all().contains(".keyward.toml:4:"), "{}", out.all());
    assert!(out.all().contains("pathz"), "{}", out.all());
    let c = repo.commit(&[]);
    c.assert_blocked();
}

#[test]
fn a_custom_rule_with_a_failing_example_is_rejected() {
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "[[rule]]\nid = \"acme.deploy-token\"\nname = \"Acme deploy token\"\nkeywords = [\"acmedt_\"]\npattern = '''(acmedt_[a-f0-9]{32})'''\nrevoke_url = \"https://deploy.acme.example/tokens\"\nenv_var = \"ACME_DEPLOY_TOKEN\"\nexamples = ['token = \"«acmedt_{{hex:16}}»\"']\n",
    );
    repo.write("a.txt", "x\n");
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    assert!(out.all().contains("acme.deploy-token"), "{}", out.all());
    // Fixed, the custom rule finds the team's own token, with its own guidance.
    let fixed = std::fs::read_to_string(repo.dir.join(".keyward.toml"))
        .expect("read")
        .replace("{{hex:16}}", "{{hex:32}}");
    repo.write(".keyward.toml", fixed);
    let token = format!("acmedt_{}", keys::random("0123456789abcdef", 32));
    repo.write("deploy.sh", format!("TOKEN={token}\n"));
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("Acme deploy token"), "{}", c.out.all());
    assert!(!c.out.all().contains(&token[7..]), "{}", c.out.all());
}

#[test]
fn inline_allows_and_their_refusal() {
    let repo = Repo::new();
    let (a, b) = (keys::github(), keys::github());
    repo.write(
        "fixtures.py",
        format!("token = \"{}\"  # keyward:allow (revoked)\n", a.value),
    );
    repo.write(
        "fixtures.json",
        format!(
            "{{\n  \"_comment\": \"keyward:allow-next-line\",\n  \"token\": \"{}\"\n}}\n",
            b.value
        ),
    );
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged"]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    let refused = repo.keyward(&["scan", "--staged", "--no-inline-allow", "--format", "json"]);
    assert_eq!(refused.code(), Some(1), "{}", refused.all());
    assert_eq!(refused.json().len(), 2);
    // allow-next-line speaks for the next line only.
    repo.write(
        "later.json",
        format!(
            "{{\n  \"_comment\": \"keyward:allow-next-line\",\n  \"x\": 1,\n  \"token\": \"{}\"\n}}\n",
            keys::github().value
        ),
    );
    repo.git(&["add", "later.json"]).assert_ok();
    assert_eq!(repo.keyward(&["scan", "--staged"]).code(), Some(1));
    repo.git(&["rm", "-q", "--cached", "later.json"])
        .assert_ok();
    // The team can refuse inline allows in its policy.
    repo.write(".keyward.toml", "inline-allow = false\n");
    repo.git(&["add", ".keyward.toml"]).assert_ok();
    repo.commit(&[]).assert_blocked();
}

#[test]
fn rules_turned_off_and_extra_forbidden_files() {
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "[allow]\nrules = [\"kw.github.pat\"]\nfiles = [\"deploy/.env.ci\"]\n[forbid]\npaths = [\"*.sqlite\"]\n",
    );
    repo.write(
        "setup.sh",
        format!(
            "git clone https://{}@github.com/acme/app.git\n",
            keys::github().value
        ),
    );
    repo.write("deploy/.env.ci", "CI=true\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    repo.write("data/app.sqlite", "SQLite format 3\n");
    repo.write("deploy/.env", "A=1\n");
    repo.git(&["add", "."]).assert_ok();
    let out = repo.keyward(&["scan", "--staged", "--format", "json"]);
    let ids: Vec<String> = out
        .json()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["kw.file.forbidden-by-policy", "kw.file.env"]);
}

/// Case in `.keyward.toml`: an exemption (`allow.files`) covers the path as written and
/// nothing more — not the same name in another case, not its editor's backup — while an
/// extra forbidden file (`forbid.paths`) is forbidden in any case, as the built-in rules are.
#[test]
fn exemptions_match_as_written_and_forbidden_paths_in_any_case() {
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "[allow]\nfiles = [\"deploy/.env.ci\"]\n[forbid]\npaths = [\"*.sqlite\"]\n",
    );
    repo.write("deploy/.env.ci", "CI=true\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
    for path in ["deploy/.ENV.CI", "deploy/.env.ci~", "data/APP.SQLITE"] {
        repo.write(path, "CI=true\n");
        repo.git(&["add", "-f", "--", path]).assert_ok();
        let c = repo.commit(&[]);
        c.assert_blocked();
        assert!(c.out.all().contains(path), "{path}: {}", c.out.all());
        repo.git(&["rm", "-q", "--cached", "--", path]).assert_ok();
    }
}

#[test]
fn allow_keeps_the_existing_file_byte_for_byte() {
    let repo = Repo::new();
    let before = "# Team policy — reviewed by security\nstrict = false # see RFC-12\n\n[allow]\npaths = [\"docs/**\"] # examples\n";
    repo.write(".keyward.toml", before);
    let out = repo.keyward(&["allow", "0123abcd", "--reason", "sample \"key\" in docs"]);
    out.assert_ok();
    let after = std::fs::read_to_string(repo.dir.join(".keyward.toml")).expect("read");
    assert!(after.starts_with(before), "{after}");
    assert!(after.contains("fingerprint = \"0123abcd\""), "{after}");
    // Twice is an error, and so is a malformed fingerprint; neither touches the file.
    assert_eq!(
        repo.keyward(&["allow", "0123abcd", "--reason", "again"])
            .code(),
        Some(2)
    );
    assert_eq!(
        repo.keyward(&["allow", "sk-proj-oops", "--reason", "x"])
            .code(),
        Some(2)
    );
    assert_eq!(
        std::fs::read_to_string(repo.dir.join(".keyward.toml")).expect("read"),
        after
    );
    assert_eq!(
        repo.keyward(&["allow", "0123abce"]).code(),
        Some(2),
        "no reason"
    );
}

#[test]
fn git_config_reaches_the_hook_and_the_policy_file_cannot_relax_it() {
    let repo = Repo::new();
    let key = keys::github();
    repo.write("ci.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.write("ci.yml", format!("token: {}\nretries: 3\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    // Already in history: passes by default, blocks with `git -c keyward.strict=true`.
    let c = Repo::commit_with(&repo, &["-c", "keyward.strict=true"]);
    c.assert_blocked();
    repo.git(&["config", "keyward.strict", "true"]).assert_ok();
    let config = repo.keyward(&["config"]);
    config.assert_ok();
    assert!(
        config.stdout_text().contains("git config keyward.strict"),
        "{}",
        config.all()
    );
    repo.commit(&[]).assert_blocked();
    // A file in the change cannot switch off what git config (a person, CI, a server) set:
    // strict from any layer holds.
    repo.write(".keyward.toml", "strict = false\ninline-allow = true\n");
    repo.git(&["add", "."]).assert_ok();
    let config = repo.keyward(&["config"]);
    assert!(
        config.stdout_text().contains("git config keyward.strict"),
        "{}",
        config.all()
    );
    repo.commit(&[]).assert_blocked();
    // Nor can it turn inline allows back on once git config refuses them.
    repo.git(&["config", "--unset", "keyward.strict"])
        .assert_ok();
    repo.git(&["config", "keyward.inlineAllow", "false"])
        .assert_ok();
    let fresh = keys::github();
    repo.write(
        "app.py",
        format!("TOKEN = \"{}\"  # keyward:allow\n", fresh.value),
    );
    repo.git(&["add", "app.py"]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(c.out.all().contains("app.py:1"), "{}", c.out.all());
    let c = repo.commit_with(&["-c", "keyward.inlineAllow=true"]);
    c.assert_blocked();
    // With nothing refusing, the file decides.
    repo.git(&["config", "--unset", "keyward.inlineAllow"])
        .assert_ok();
    repo.commit(&[]).assert_passed();
}

/// Each finding is judged on its own: a marker on one line of a private key block allows
/// nothing of the block, whose finding sits on its `BEGIN` line.
#[test]
fn a_marker_inside_a_key_block_does_not_allow_the_block() {
    let repo = Repo::new();
    let pem = keys::private_key(&keys::random(keys::BASE64, 64));
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    lines[2].push_str("  keyward:allow");
    repo.write("deploy/key.pem.txt", lines.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    let c = repo.commit(&[]);
    c.assert_blocked();
    assert!(
        c.out.all().contains("deploy/key.pem.txt:1:"),
        "{}",
        c.out.all()
    );
    // On the BEGIN line it allows the block.
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    lines[0].push_str("  keyward:allow");
    repo.write("deploy/key.pem.txt", lines.join("\n") + "\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit(&[]).assert_passed();
}
