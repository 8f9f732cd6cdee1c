//! The layout keeps its promises (`../shared/design.md`): the modules of `src` import each
//! other without a circle, the engine knows nothing of git, and no file holds more than 700
//! lines of logic before its tests (generated tables aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The code of a file before its tests, comments and string literals blanked out (a doc link
/// to another module is not an import).
fn code(text: &str) -> Vec<String> {
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .map(|line| {
            let mut out = String::new();
            let mut chars = line.chars().peekable();
            let mut in_string = false;
            while let Some(c) = chars.next() {
                match (in_string, c) {
                    (false, '/') if chars.peek() == Some(&'/') => break,
                    (false, '"') => in_string = true,
                    (true, '\\') => {
                        chars.next();
                    }
                    (true, '"') => in_string = false,
                    (false, c) => out.push(c),
                    (true, _) => {}
                }
            }
            out
        })
        .collect()
}

/// Which top-level modules each module names (`crate::x`), with where.
fn imports() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in sources(&src) {
        let rel = file.strip_prefix(&src).expect("under src");
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or_default()
            .trim_end_matches(".rs")
            .to_owned();
        // The binary's entry point, the crate root, and test modules of their own.
        let test_module = file.file_name().is_some_and(|n| n == "tests.rs");
        if module == "main" || module == "lib" || test_module {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in code(&text).iter().enumerate() {
            let mut rest = line.as_str();
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    edges
                        .entry(module.clone())
                        .or_default()
                        .entry(name)
                        .or_insert_with(|| format!("{}:{}", rel.display(), n + 1));
                }
            }
        }
    }
    edges
}

#[test]
fn the_modules_import_each_other_without_a_circle() {
    let edges = imports();
    let mut circles = BTreeSet::new();
    for (from, to) in &edges {
        for next in to.keys() {
            // Is `from` reachable from `next`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![next.clone()];
            while let Some(m) = stack.pop() {
                if m == *from {
                    circles.insert(format!("{from} → {next} (at {})", to[next]));
                    break;
                }
                if seen.insert(m.clone()) {
                    stack.extend(edges.get(&m).into_iter().flat_map(|e| e.keys().cloned()));
                }
            }
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}

#[test]
fn the_engine_knows_nothing_of_git() {
    let edges = imports();
    let engine = edges.get("engine").cloned().unwrap_or_default();
    assert!(
        !engine.contains_key("git"),
        "the engine imports git at {}",
        engine["git"]
    );
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    for file in sources(&src) {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        let uses_gix = code(&text).iter().any(|l| l.contains("gix::"));
        assert!(!uses_gix, "{} uses gix", file.display());
    }
}

#[test]
fn the_policy_reads_only_the_model_the_rules_and_the_configuration() {
    // The only code that decides blocking judges what it is handed (candidates, items, rules):
    // it may not reach back into the scanner, a source or git.
    let edges = imports();
    let policy = edges.get("policy").cloned().unwrap_or_default();
    let allowed = ["model", "rules", "config", "redact", "policy"];
    let beyond: Vec<_> = policy
        .iter()
        .filter(|(m, _)| !allowed.contains(&m.as_str()))
        .map(|(m, at)| format!("{m} (at {at})"))
        .collect();
    assert!(beyond.is_empty(), "the policy imports {beyond:?}");
}

/// Data tables written by a generator, exempt from the length limit.
const GENERATED: &[&str] = &["scan/common_windows.rs"];

#[test]
fn no_file_holds_more_than_700_lines_of_logic() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for file in sources(&src) {
        let rel = file
            .strip_prefix(&src)
            .expect("under src")
            .display()
            .to_string();
        if GENERATED.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        let lines = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .count();
        if lines > 700 {
            long.push(format!("{rel}: {lines}"));
        }
    }
    assert!(
        long.is_empty(),
        "files over 700 lines before their tests: {long:?}"
    );
}
