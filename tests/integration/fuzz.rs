//! The fuzz targets (`fuzz/`, nightly) on stable: every target's entry point runs once over
//! each input of its seed corpus (`fuzz/corpus/TARGET/`) and each past crash input
//! (`fuzz/regressions/TARGET/`), so CI keeps what the fuzzer found fixed.

use std::path::Path;

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).expect("read a fuzz input"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_target_holds_on_its_corpus_and_past_crashes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, run) in keyward::fuzzing::TARGETS {
        let seeds = inputs(&root.join("corpus").join(target));
        assert!(!seeds.is_empty(), "no seed corpus for fuzz target {target}");
        let crashes = inputs(&root.join("regressions").join(target));
        for (name, data) in seeds.iter().chain(&crashes) {
            let ran = std::panic::catch_unwind(|| run(data));
            assert!(ran.is_ok(), "fuzz target {target} fails on {name}");
        }
    }
    // Every fuzz target has a corpus, and every corpus a target.
    let mut dirs: Vec<String> = std::fs::read_dir(root.join("corpus"))
        .expect("fuzz/corpus")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = keyward::fuzzing::TARGETS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    names.sort();
    assert_eq!(dirs, names);
}

#[test]
fn the_scanner_target_holds_on_every_rule_example() {
    let rules = keyward::rules::RuleSet::builtin_with_examples().expect("rules");
    for (n, rule) in rules.rules.iter().enumerate() {
        for text in rule.examples.iter().chain(&rule.negative_examples) {
            let mut input = vec![n as u8];
            input.extend_from_slice(text.as_bytes());
            keyward::fuzzing::scan(&input);
        }
    }
}
