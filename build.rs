//! Converts the built-in rule files (`src/rules/builtin/*.toml`, the form people edit) into
//! JSON in `OUT_DIR`, plus a table of them (`builtin_rules.rs`), which the binary embeds:
//! parsing JSON at start-up costs a tenth of parsing TOML, and the hook pays it on every commit.
//! The schema is still checked at run time, and by the rule tests. Two tables are written: the
//! full rules (`builtin_rules_full.rs`, for the tests that prove every example), and the rules
//! without their examples (`builtin_rules.rs`, what a commit needs: a third of the parsing).

use std::path::Path;

fn main() {
    let dir = Path::new("src/rules/builtin");
    println!("cargo:rerun-if-changed={}", dir.display());
    let out = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("src/rules/builtin exists")
        .map(|e| e.expect("readable directory").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    names.sort();
    // The table of embedded files, in file-name order: that order is rule priority.
    let mut table = String::from("&[\n");
    let mut full = String::from("&[\n");
    for path in names {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("readable rule file");
        let mut value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let full_name = format!("{file}.full.json");
        let json = serde_json::to_string(&value).expect("TOML values are JSON values");
        std::fs::write(Path::new(&out).join(&full_name), json).expect("OUT_DIR is writable");
        full.push_str(&format!(
            "    ({file:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/{full_name}\"))),\n"
        ));
        strip_examples(&mut value);
        let json_name = format!("{file}.json");
        let json = serde_json::to_string(&value).expect("TOML values are JSON values");
        std::fs::write(Path::new(&out).join(&json_name), json).expect("OUT_DIR is writable");
        table.push_str(&format!(
            "    ({file:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/{json_name}\"))),\n"
        ));
    }
    table.push(']');
    full.push(']');
    std::fs::write(Path::new(&out).join("builtin_rules.rs"), table).expect("OUT_DIR is writable");
    std::fs::write(Path::new(&out).join("builtin_rules_full.rs"), full)
        .expect("OUT_DIR is writable");
}

/// Drops the example fields of every rule: scanning never reads them.
fn strip_examples(value: &mut toml::Value) {
    for list in ["rule", "file"] {
        if let Some(rules) = value.get_mut(list).and_then(|v| v.as_array_mut()) {
            for rule in rules.iter_mut().filter_map(|r| r.as_table_mut()) {
                for key in ["examples", "negative_examples", "content_example"] {
                    rule.remove(key);
                }
            }
        }
    }
}
