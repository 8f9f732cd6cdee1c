//! `--output FILE`: every format's report goes to the file, not standard output, with the
//! exit code it would have had; the SARIF file is one GitHub code scanning ingests.

use crate::keys::{self, assert_no_leak};
use crate::repo::{Out, Repo};

/// A staged `.env` and a key in a source file: a file-level and a line-level finding.
fn staged_problems() -> (Repo, keys::Key) {
    let repo = Repo::new();
    let key = keys::openai_project();
    repo.write(".env", "DEBUG=1\n");
    repo.write(
        "app.py",
        format!("client = OpenAI(api_key=\"{}\")\n", key.value),
    );
    repo.git(&["add", "-f", ".env", "app.py"]).assert_ok();
    (repo, key)
}

/// `scan --staged --format sarif --output FILE`: the run, and the SARIF the file holds.
fn sarif_to(repo: &Repo, file: &std::path::Path) -> (Out, serde_json::Value) {
    let out = repo.keyward(&[
        "scan",
        "--staged",
        "--format",
        "sarif",
        "--output",
        &file.to_string_lossy(),
    ]);
    let text = std::fs::read_to_string(file).expect("the SARIF file");
    (out, serde_json::from_str(&text).expect("SARIF"))
}

#[test]
fn every_format_writes_its_report_to_the_output_file_and_nothing_to_stdout() {
    let (repo, key) = staged_problems();
    for format in ["human", "json", "sarif", "github"] {
        let file = repo.dir.join(format!("report.{format}"));
        let file_arg = file.to_string_lossy().into_owned();
        let out = repo.keyward(&[
            "scan", "--staged", "--format", format, "--output", &file_arg,
        ]);
        assert_eq!(out.code(), Some(1), "{format}: {}", out.all());
        assert!(out.0.stdout.is_empty(), "{format}: {}", out.stdout_text());
        let report = std::fs::read_to_string(&file).expect("the report file");
        assert!(report.contains("app.py"), "{format}: {report}");
        assert!(report.contains("chars)"), "{format}: {report}");
        assert_no_leak(&report, &key);
        // The same report as standard output would carry (never coloured: a file).
        let stdout = repo.keyward(&["scan", "--staged", "--format", format, "--color", "never"]);
        if format != "sarif" && format != "json" {
            assert_eq!(report, stdout.stdout_text(), "{format}");
        }
    }
    // A clean scan writes its (empty) report too, replacing the old one, and exits 0.
    repo.git(&["rm", "-q", "--cached", ".env", "app.py"])
        .assert_ok();
    let file = repo.dir.join("report.sarif");
    let (out, log) = sarif_to(&repo, &file);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(0));
}

#[test]
fn an_output_file_that_cannot_be_written_is_a_one_line_error() {
    let (repo, _) = staged_problems();
    let out = repo.keyward(&["scan", "--staged", "--output", "no/such/dir/report.txt"]);
    assert_eq!(out.code(), Some(2), "{}", out.all());
    let err = String::from_utf8_lossy(&out.0.stderr).into_owned();
    assert!(
        err.starts_with("keyward: error: writing the report to no/such/dir/report.txt"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn sarif_has_what_code_scanning_ingestion_asks_for() {
    let (repo, _) = staged_problems();
    let file = repo.dir.join("keyward.sarif");
    let (out, log) = sarif_to(&repo, &file);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.len() >= 2, "{rules:?}");
    for rule in rules {
        let text = rule["fullDescription"]["text"].as_str().unwrap_or_default();
        assert!(!text.is_empty(), "no fullDescription: {rule}");
        let uri = rule["helpUri"].as_str().unwrap_or_default();
        assert!(uri.starts_with("https://"), "no helpUri: {rule}");
    }
    let results = run["results"].as_array().expect("results");
    let env = results
        .iter()
        .find(|r| r["ruleId"] == "kw.file.env")
        .expect("the .env result");
    let location = &env["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], ".env");
    assert_eq!(location["region"]["startLine"], 1, "{location}");
    for r in results {
        assert!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1),
            "{r}"
        );
    }
}

#[test]
fn the_action_writes_sarif_to_a_file_for_the_upload_step() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    let key = keys::github();
    repo.write("config/leak.txt", format!("token = {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let range = format!("{base}..{}", repo.head().expect("head"));
    let outputs = repo.home.join("github-output");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action/scan.sh");
    let mut cmd = crate::repo::isolated("sh", &repo.home);
    cmd.arg(&script)
        .current_dir(&repo.dir)
        .env("KEYWARD_RANGE", &range)
        .env("KEYWARD_INSTALL", crate::repo::KEYWARD)
        .env("KEYWARD_FORMAT", "sarif")
        .env("GITHUB_OUTPUT", &outputs);
    let out = crate::repo::Out(crate::repo::output(&mut cmd).expect("sh"));
    assert_eq!(out.code(), Some(1), "{}", out.all());
    // The log holds the version line, not the report.
    assert!(!out.stdout_text().contains("\"runs\""), "{}", out.all());
    let text = std::fs::read_to_string(repo.dir.join("keyward.sarif")).expect("keyward.sarif");
    assert_no_leak(&text, &key);
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF");
    assert_eq!(
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/leak.txt"
    );
    let written = std::fs::read_to_string(&outputs).expect("GITHUB_OUTPUT");
    assert!(written.contains("exit-code=1\n"), "{written}");
    assert!(written.contains("output=keyward.sarif\n"), "{written}");
}
