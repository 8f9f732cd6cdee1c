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
