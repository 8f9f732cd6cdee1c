//! Turns the built-in rule files (`src/rules/builtin/*.toml`, the form people edit) into what
//! the binary embeds:
//! - `builtin_static.rs` and `builtin_static_files.rs`: the rules as Rust values
//!   (`StaticRule`, `StaticFileRule`), so that nothing is parsed at start-up — with 350 rules,
//!   parsing them took longer than a typical commit's whole scan — and a rule is turned into
//!   an owned `Rule` only when its keyword occurs;
//! - `builtin_rules_full.rs`: the files as JSON with their examples, for the tests that prove
//!   every example through serde (which also checks the schema: unknown keys are errors).
//!
//! A key this script does not know fails the build, naming the file and the rule.
//!
//! It also turns the filters' word tables (`src/scan/filters/words.toml`) into statics:
//! `filter_words.rs`, included by `src/scan/filters/words.rs`.

use std::path::Path;

#[path = "src/scan/gate.rs"]
#[allow(dead_code)]
mod gate;

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
    let mut full = String::from("&[\n");
    let mut rules = String::from("&[\n");
    let mut files = String::from("&[\n");
    // The keywords of the rules the scanner searches (those not decided by code), lowercase,
    // with each rule's index among them: what the prefilter is built from.
    let mut keywords: Vec<(Vec<u8>, usize)> = Vec::new();
    let mut searched = 0;
    for path in names {
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("readable rule file");
        let value: toml::Value =
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
        for rule in list(&value, "rule") {
            rules.push_str(&static_rule(&file, rule));
            if rule.get("check").is_none() {
                for k in rule
                    .get("keywords")
                    .and_then(|k| k.as_array())
                    .into_iter()
                    .flatten()
                {
                    let k = k.as_str().expect("keywords are strings");
                    keywords.push((k.to_ascii_lowercase().into_bytes(), searched));
                }
                searched += 1;
            }
        }
        for rule in list(&value, "file") {
            files.push_str(&static_file_rule(&file, rule));
        }
    }
    full.push(']');
    rules.push(']');
    files.push(']');
    let write = |name: &str, text: &str| {
        std::fs::write(Path::new(&out).join(name), text).expect("OUT_DIR is writable")
    };
    write("builtin_rules_full.rs", &full);
    write("builtin_static.rs", &rules);
    write("builtin_static_files.rs", &files);
    write("builtin_prefilter.rs", &prefilter(&keywords));
    write("filter_words.rs", &filter_words(Path::new(WORDS)));
}

/// The filters' word tables.
const WORDS: &str = "src/scan/filters/words.toml";

/// Each table of the word tables' file as a `Words` static named after it in capitals, with
/// its `about` as documentation. A table without `about`, `against`, `at` or `words`, or with
/// a key besides those, fails the build naming the table; the values of `against` and `at`
/// are checked by the compiler (they become enum variants).
fn filter_words(path: &Path) -> String {
    println!("cargo:rerun-if-changed={}", path.display());
    let text = std::fs::read_to_string(path).expect("readable word tables");
    let tables: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::new();
    for (name, table) in &tables {
        let fail = |message: &str| -> ! { panic!("{}: [{name}]: {message}", path.display()) };
        let Some(table) = table.as_table() else {
            fail("must be a table")
        };
        let string = |key: &str| match table.get(key) {
            Some(toml::Value::String(s)) => s.clone(),
            _ => fail(&format!("`{key}` must be a string")),
        };
        if let Some(key) = table
            .keys()
            .find(|k| !["about", "against", "at", "words"].contains(&k.as_str()))
        {
            fail(&format!("unknown key `{key}`"));
        }
        let words: Vec<String> = match table.get("words") {
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|w| match w.as_str() {
                    Some(w) => format!("b\"{}\"", w.as_bytes().escape_ascii()),
                    None => fail("`words` must be strings"),
                })
                .collect(),
            _ => fail("`words` must be a list"),
        };
        let variant = |key: &str| {
            let value = string(key);
            let mut c = value.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        };
        out.push_str(&format!(
            "#[doc = {:?}]\npub(super) static {}: Words = Words::new(Against::{}, At::{}, &[{}]);\n",
            string("about"),
            name.to_ascii_uppercase(),
            variant("against"),
            variant("at"),
            words.join(", "),
        ));
    }
    out
}

/// The prefilter's tables for the built-in keywords (see `src/scan/gate.rs`), as statics.
fn prefilter(keywords: &[(Vec<u8>, usize)]) -> String {
    let list: Vec<&[u8]> = keywords.iter().map(|(k, _)| k.as_slice()).collect();
    let t = gate::tables(&list, gate::choose_multiplier(&list));
    let join = |items: Vec<String>| items.join(",");
    let mut text = Vec::new();
    let mut spans = Vec::new();
    for (k, rule) in keywords {
        spans.push(format!("({},{},{rule})", text.len(), k.len()));
        text.extend_from_slice(k);
    }
    let anchors = t
        .anchors
        .iter()
        .map(|a| {
            format!(
                "Anchor{{hash:{},folded:{},keyword:{},offset:{}}}",
                a.hash, a.folded, a.keyword, a.offset
            )
        })
        .collect();
    format!(
        "pub static GATE: [u64; {}] = [{}];\n\
         pub static ANCHORS: &[Anchor] = &[{}];\n\
         pub static BY_GROUP: [u32; {}] = [{}];\n\
         pub static SHORT: &[u32] = &[{}];\n\
         pub static TEXT: &[u8] = b\"{}\";\n\
         pub static KEYWORDS: &[(u32, u32, u32)] = &[{}];\n\
         pub const MULTIPLIER: u32 = {};\n",
        t.gate.len(),
        join(t.gate.iter().map(|w| w.to_string()).collect()),
        join(anchors),
        t.by_group.len(),
        join(t.by_group.iter().map(|w| w.to_string()).collect()),
        join(t.short.iter().map(|w| w.to_string()).collect()),
        text.escape_ascii(),
        join(spans),
        t.multiplier,
    )
}

fn list<'a>(value: &'a toml::Value, key: &str) -> Vec<&'a toml::Table> {
    value
        .get(key)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|r| r.as_table()).collect())
        .unwrap_or_default()
}

/// Renders one `[[rule]]` as a `StaticRule` literal.
fn static_rule(file: &str, t: &toml::Table) -> String {
    let mut f = Fields::new(file, t);
    let text = format!(
        "    StaticRule {{ id: {}, name: {}, family: {}, action: {}, guidance: {}, keywords: {}, pattern: {}, check: {}, min_entropy: {}, placeholder_filter: {}, assignment: {}, validate: {}, multiline: {}, path_exclude: {}, binary: {}, prefixes: {}, allow_values: {}, revoke_url: {}, env_var: {} }},\n",
        f.string("id"),
        f.string("name"),
        f.optional_string("family"),
        f.variant("action", "FileAction", Some("block")),
        f.optional_string("guidance"),
        f.strings("keywords"),
        f.string_or_empty("pattern"),
        f.optional_variant("check", "Check"),
        f.float("min_entropy"),
        f.boolean("placeholder_filter", true),
        f.boolean("assignment", false),
        f.optional_variant("validate", "Validator"),
        f.boolean("multiline", false),
        f.optional_string("path_exclude"),
        f.boolean("binary", false),
        f.strings("prefixes"),
        f.strings("allow_values"),
        f.string("revoke_url"),
        f.string("env_var"),
    );
    f.done();
    text
}

/// Renders one `[[file]]` as a `StaticFileRule` literal.
fn static_file_rule(file: &str, t: &toml::Table) -> String {
    let mut f = Fields::new(file, t);
    let text = format!(
        "    StaticFileRule {{ id: {}, name: {}, name_pattern: {}, name_keywords: {}, except_pattern: {}, content_pattern: {}, action: {}, guidance: {} }},\n",
        f.string("id"),
        f.string("name"),
        f.string("name_pattern"),
        f.strings("name_keywords"),
        f.optional_string("except_pattern"),
        f.optional_string("content_pattern"),
        f.variant("action", "FileAction", None),
        f.string("guidance"),
    );
    f.done();
    text
}

/// A rule's fields, each taken once; what is left over is a key this script does not know.
struct Fields<'a> {
    file: &'a str,
    table: toml::Table,
}

impl<'a> Fields<'a> {
    fn new(file: &'a str, table: &toml::Table) -> Self {
        let mut table = table.clone();
        // What only the tests read: the examples, and the claim the rule check proves about a
        // rule's left boundary.
        for key in [
            "examples",
            "negative_examples",
            "content_example",
            "glued_after",
        ] {
            table.remove(key);
        }
        Fields { file, table }
    }

    fn fail(&self, message: &str) -> ! {
        let id = self.table.get("id").and_then(|v| v.as_str()).unwrap_or("?");
        panic!("src/rules/builtin/{}: rule {id}: {message}", self.file)
    }

    fn take(&mut self, key: &str) -> Option<toml::Value> {
        self.table.remove(key)
    }

    fn string(&mut self, key: &str) -> String {
        match self.take(key) {
            Some(toml::Value::String(s)) => format!("{s:?}"),
            _ => self.fail(&format!("`{key}` must be a string")),
        }
    }

    fn string_or_empty(&mut self, key: &str) -> String {
        match self.take(key) {
            None => "\"\"".into(),
            Some(toml::Value::String(s)) => format!("{s:?}"),
            Some(_) => self.fail(&format!("`{key}` must be a string")),
        }
    }

    fn optional_string(&mut self, key: &str) -> String {
        match self.take(key) {
            None => "None".into(),
            Some(toml::Value::String(s)) => format!("Some({s:?})"),
            Some(_) => self.fail(&format!("`{key}` must be a string")),
        }
    }

    fn strings(&mut self, key: &str) -> String {
        let items = match self.take(key) {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| match v.as_str() {
                    Some(s) => format!("{s:?}"),
                    None => self.fail(&format!("`{key}` must be strings")),
                })
                .collect(),
            Some(_) => self.fail(&format!("`{key}` must be a list")),
        };
        format!("&[{}]", items.join(", "))
    }

    fn boolean(&mut self, key: &str, default: bool) -> bool {
        match self.take(key) {
            None => default,
            Some(toml::Value::Boolean(b)) => b,
            Some(_) => self.fail(&format!("`{key}` must be true or false")),
        }
    }

    fn float(&mut self, key: &str) -> String {
        match self.take(key) {
            None => "None".into(),
            Some(toml::Value::Float(x)) => format!("Some({x:?})"),
            Some(toml::Value::Integer(x)) => format!("Some({x}.0)"),
            Some(_) => self.fail(&format!("`{key}` must be a number")),
        }
    }

    /// `kebab-case` → `Enum::KebabCase` (a variant that does not exist fails to compile).
    fn variant(&mut self, key: &str, enumeration: &str, default: Option<&str>) -> String {
        let value = match self.take(key) {
            Some(toml::Value::String(s)) => s,
            None => match default {
                Some(d) => d.to_owned(),
                None => self.fail(&format!("`{key}` is required")),
            },
            Some(_) => self.fail(&format!("`{key}` must be a string")),
        };
        let camel: String = value
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        format!("{enumeration}::{camel}")
    }

    fn optional_variant(&mut self, key: &str, enumeration: &str) -> String {
        if self.table.contains_key(key) {
            format!("Some({})", self.variant(key, enumeration, None))
        } else {
            "None".into()
        }
    }

    /// Every key was taken: none is unknown.
    fn done(self) {
        if let Some(key) = self.table.keys().next() {
            self.fail(&format!("unknown key `{key}`"));
        }
    }
}
