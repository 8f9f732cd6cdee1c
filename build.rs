//! Converts the built-in rule files (`src/rules/builtin/*.toml`, the form people edit) into
//! JSON in `OUT_DIR`, plus a table of them (`builtin_rules.rs`), which the binary embeds:
//! parsing JSON at start-up costs a tenth of parsing TOML, and the hook pays it on every commit.
//! The schema is still checked at run time, and by the rule tests.

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
    for path in names {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("readable rule file");
        let value: toml::Value =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let json = serde_json::to_string(&value).expect("TOML values are JSON values");
        let file = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let json_name = format!("{file}.json");
        std::fs::write(Path::new(&out).join(&json_name), json).expect("OUT_DIR is writable");
        table.push_str(&format!(
            "    ({file:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/{json_name}\"))),\n"
        ));
    }
    table.push(']');
    std::fs::write(Path::new(&out).join("builtin_rules.rs"), table).expect("OUT_DIR is writable");
}
