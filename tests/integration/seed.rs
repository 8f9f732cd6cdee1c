//! The seed's checklist beyond literal keys, driven by real `git commit`: warnings that let
//! the commit through, block under `keyward.strict`, and read the `.dockerignore` the commit
//! records (the index), not the one on disk.

use crate::repo::Repo;

/// The rule ids and blocking flags `scan --staged` reports.
fn staged(repo: &Repo) -> Vec<(String, bool)> {
    repo.keyward(&["scan", "--staged", "--format", "json"])
        .json()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_owned(),
                f["blocking"].as_bool().unwrap_or(true),
            )
        })
        .collect()
}

#[test]
fn copying_the_build_context_warns_until_the_staged_dockerignore_keeps_env_files_out() {
    let repo = Repo::new();
    repo.write(
        "svc/Dockerfile",
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n",
    );
    repo.git(&["add", "svc/Dockerfile"]).assert_ok();
    assert_eq!(
        staged(&repo),
        [("kw.seed.docker-context-env".to_owned(), false)]
    );
    // Strict makes the warning block.
    let strict = repo.commit_with(&["-c", "keyward.strict=true"]);
    strict.assert_blocked();
    // An ignore file on disk only is not what the commit records: still a warning.
    repo.write("svc/.dockerignore", ".env*\n");
    assert_eq!(staged(&repo).len(), 1);
    // Staged, it is: nothing left to report, and the commit goes through silently.
    repo.git(&["add", "svc/.dockerignore"]).assert_ok();
    assert!(staged(&repo).is_empty());
    let c = repo.commit(&[]);
    c.assert_passed();
    assert!(!c.out.all().contains("keyward"), "{}", c.out.all());
}

#[test]
fn a_committed_dockerignore_counts_when_only_the_dockerfile_changes() {
    let repo = Repo::new();
    repo.write(".dockerignore", "node_modules\n.env\n.env.*\n");
    repo.write("Dockerfile", "FROM node:20\n");
    repo.git(&["add", "-A"]).assert_ok();
    repo.commit(&[]).assert_passed();
    repo.write(
        "Dockerfile",
        "FROM node:20\nCOPY . .\nCOPY .env.production ./\n",
    );
    repo.git(&["add", "Dockerfile"]).assert_ok();
    // The context copy is covered by the committed ignore file; the named env file is not.
    assert_eq!(
        staged(&repo),
        [("kw.seed.docker-env-file".to_owned(), false)]
    );
    let c = repo.commit(&[]);
    c.assert_passed();
    let out = c.out.all();
    assert!(out.contains("Dockerfile:3:6"), "{out}");
    assert!(out.contains("--strict blocks it"), "{out}");
    assert!(out.contains("docker run --env-file"), "{out}");
}

#[test]
fn a_provider_key_in_a_browser_exposed_variable_warns_with_the_proxy_fix() {
    let repo = Repo::new();
    let name = format!("NEXT_PUBLIC_{}_API_KEY", "OPENAI");
    repo.write(
        ".env.example",
        format!("{name}=\nNEXT_PUBLIC_SITE_URL=http://localhost:3000\n"),
    );
    repo.git(&["add", ".env.example"]).assert_ok();
    assert_eq!(
        staged(&repo),
        [("kw.seed.browser-exposed-key".to_owned(), false)]
    );
    let c = repo.commit(&[]);
    c.assert_passed();
    let out = c.out.all();
    assert!(out.contains(&name), "the variable's name is shown: {out}");
    assert!(out.contains("from your server"), "{out}");
}
