//! Entry points for fuzzing: one function per target, each taking arbitrary bytes and
//! asserting what must hold for every input — no panic, memory bounded by what the input
//! really holds, no secret in any report, errors on one line, and agreement with gix where
//! gix reads the same format.
//!
//! The cargo-fuzz targets in `fuzz/` (nightly) call these functions and nothing else, and so
//! does a stable test over every seed corpus and every past crash input
//! (`fuzz/corpus/TARGET/`, `fuzz/regressions/TARGET/`, run by `cargo test`), so a crash once
//! found stays fixed. [`TARGETS`] lists them by the name of their fuzz target and corpus.
//!
//! A failed assertion here is a bug the fuzzer found: each panics with what went wrong.

use crate::git::index::{self, Read};
use crate::git::packs;
use once_cell::sync::Lazy;

/// A target's entry point: any bytes in; panics on a bug.
pub(crate) type Target = fn(&[u8]);

/// Every target: the name of its fuzz target (and corpus directory), and its entry point.
pub const TARGETS: &[(&str, Target)] = &[
    ("scan", scan),
    ("config", config),
    ("index", index),
    ("pack", pack),
    ("pre_receive", pre_receive),
    ("cli", cli),
];

/// Paths the scanner target puts its input under (chosen by the input's first byte): their
/// names change which rules and filters apply.
const PATHS: &[&str] = &[
    "src/app.py",
    ".env",
    "config/settings.yaml",
    "k8s/secret.yaml",
    "deploy/id_rsa",
    "docs/README.md",
    "tests/fixtures/data.json",
    "package-lock.json",
];

/// The pipeline as a hook builds it with no `.keyward.toml`: the built-in catalog, the
/// built-in forbidden files, the default policy and size cap.
static ENGINE: Lazy<crate::engine::Engine> = Lazy::new(|| {
    use crate::rules::{StaticFileRule, BUILTIN_FILES, BUILTIN_RULES};
    let files = BUILTIN_FILES.iter().map(StaticFileRule::to_rule).collect();
    let policy = crate::policy::Policy::new(false, true, files, Default::default());
    let cap = crate::settings::DEFAULT_MAX_FILE_SIZE;
    crate::engine::Engine::new(Vec::new(), BUILTIN_RULES, policy, cap)
});

/// The scanner, from bytes to reports: the first byte picks a path, the rest is the file,
/// taken through the one step every item goes through ([`crate::engine::Engine::process`])
/// and judged by the policy. Generators as in rule examples (`{{base64url:74}}`) are expanded
/// first, so a seed can hold a key's shape without holding a key. Every finding must lie
/// inside the file; every report (human, JSON, SARIF, GitHub annotations) must hold no run of
/// 4 bytes of a secret beyond its public head, which its redacted preview shows.
pub fn scan(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(first) % PATHS.len()].as_bytes();
    let expanded;
    let text: &[u8] = match std::str::from_utf8(rest) {
        Ok(s) if s.contains("{{") && generators_are_short(s) => {
            let mut rng = crate::rules::examples::Rng::new(u64::from(first));
            match crate::rules::examples::expand(s, &mut rng) {
                Ok(e) => {
                    expanded = e.text;
                    expanded.as_bytes()
                }
                Err(_) => rest,
            }
        }
        _ => rest,
    };
    let engine = &*ENGINE;
    let item = crate::model::Item::new(
        path.to_vec(),
        crate::model::Content::File(std::path::PathBuf::from("fuzz"), text.len() as u64),
    );
    let content = crate::engine::Body::Bytes {
        data: text,
        windows: None,
    };
    let processed = engine
        .process(0, &item, content)
        .expect("the built-in rules compile");
    let mut outcome = crate::model::Outcome {
        scanned: 1,
        findings: processed.findings,
        ..Default::default()
    };
    // Each secret's identity, its bytes, and how many of them its preview shows.
    let mut secrets: Vec<(crate::redact::Identity, Vec<u8>, usize)> = Vec::new();
    let candidates = processed.scan.map(|s| s.candidates).unwrap_or_default();
    for c in &candidates {
        assert!(
            c.span.start < c.span.end && c.span.end <= text.len(),
            "a finding outside the file: {:?} in {} bytes",
            c.span,
            text.len()
        );
        assert!(c.line >= 1 && c.column >= 1, "line and column are 1-based");
        let rule = engine.scanner().rule(c.rule);
        if rule.shows_match() {
            continue; // a practice (a variable's name), shown as it is
        }
        let public = rule.public_prefix(&c.evidence).len();
        assert!(
            public * 3 <= c.evidence.len(),
            "a preview shows over a third of a secret"
        );
        secrets.push((c.identity, c.evidence.clone(), public));
    }
    let judged = engine
        .policy()
        .judge(&item, candidates, None, |r| engine.scanner().rule(r));
    outcome.findings.extend(judged);
    // The same findings with each secret's preview as it must be — its public head and its
    // length, written here without the code under test: the report's own words (paths, rule
    // names, guidance, numbers, fingerprints), which a run of a secret may equal by chance.
    let expected = crate::model::Outcome {
        scanned: 1,
        findings: outcome
            .findings
            .iter()
            .cloned()
            .map(|mut f| {
                let secret = secrets.iter().find(|s| Some(s.0) == f.identity);
                if let Some((_, secret, public)) = secret {
                    let head = crate::redact::escape(&secret[..*public]);
                    f.preview = Some(format!("{head}…({} chars)", secret.len()));
                }
                f
            })
            .collect(),
        ..Default::default()
    };
    use crate::report::{Context, Github, Human, Json, Report, Sarif};
    let reports: [Box<dyn Report>; 5] = [
        Box::new(Human {
            color: false,
            context: Context::Commit,
            kept: None,
            invocation: crate::install::invocation,
        }),
        Box::new(Human {
            color: false,
            context: Context::Message,
            kept: Some(crate::report::Kept {
                file: ".git/COMMIT_EDITMSG".into(),
                retry: "git commit -e -F .git/COMMIT_EDITMSG".into(),
            }),
            invocation: crate::install::invocation,
        }),
        Box::new(Json),
        Box::new(Sarif),
        Box::new(Github),
    ];
    for report in reports {
        let mut out = Vec::new();
        report.write(&outcome, &mut out).expect("writes to memory");
        let mut own = Vec::new();
        report.write(&expected, &mut own).expect("writes to memory");
        for (_, secret, public) in &secrets {
            // No 4 bytes of what the preview does not show, raw or escaped, unless the
            // report's own words hold them too.
            let hidden = &secret[*public..];
            let escaped = crate::redact::escape(hidden);
            for run in hidden.windows(4).chain(escaped.as_bytes().windows(4)) {
                assert!(
                    memchr::memmem::find(&out, run).is_none()
                        || memchr::memmem::find(&own, run).is_some(),
                    "a report shows 4 bytes of a secret its preview hides"
                );
            }
        }
    }
}

/// Whether every `{{name:N}}` generator in `template` asks for at most 1,000 characters (the
/// fuzzer soon writes `{{alnum:3745752460}}`: a test of the expansion, not of the scanner).
fn generators_are_short(template: &str) -> bool {
    template.split("{{").skip(1).all(|spec| {
        let spec = spec.split("}}").next().unwrap_or_default();
        match spec.split_once(':') {
            Some((_, n)) => n.trim().parse::<usize>().is_ok_and(|n| n <= 1000),
            None => true,
        }
    })
}

/// Asserts that an error message is one line with no raw control character.
fn one_line(what: &str, message: &str) {
    assert!(
        !message.chars().any(char::is_control),
        "{what}: an error message with a control character or a line break: {message:?}"
    );
}

/// `.keyward.toml`: parses or fails with a one-line error.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = crate::config::Config::parse(&text) {
        one_line("config", &e.to_string());
    }
}

/// The lean index reader, as SHA-1 and as SHA-256: never a panic; every accessor works on
/// every entry it accepts; and where gix reads the same bytes too (and the lean reader does
/// not leave them to gix), both read the same entries.
pub fn index(data: &[u8]) {
    for hash in [gix::hash::Kind::Sha1, gix::hash::Kind::Sha256] {
        let lean = match index::read_bytes(data.to_vec(), hash) {
            Ok(Read::Index(lean)) => lean,
            Ok(Read::Unsupported(_)) => continue,
            Err(e) => {
                one_line("index", &e.to_string());
                continue;
            }
        };
        let ours: Vec<_> = (0..lean.len())
            .map(|i| {
                let _ = (lean.stage(i), lean.intent_to_add(i));
                (
                    lean.path(i).to_vec(),
                    lean.id(i).to_owned(),
                    lean.mode(i),
                    lean.flags(i),
                )
            })
            .collect();
        let _ = lean.cache_tree();
        let options = gix::index::decode::Options::default();
        // (gix does not name its time type; an empty index lends one.)
        let timestamp = gix::index::State::new(hash).timestamp();
        let Ok((state, _)) = gix::index::State::from_bytes(data, timestamp, hash, options) else {
            continue;
        };
        const FLAGS: u32 = 0x6000_f000;
        let theirs: Vec<_> = state
            .entries()
            .iter()
            .map(|e| {
                (
                    e.path(&state).to_vec(),
                    e.id,
                    e.mode.bits(),
                    e.flags.bits() & FLAGS,
                )
            })
            .collect();
        let ours: Vec<_> = ours
            .into_iter()
            .map(|(p, id, mode, flags)| (p, id, mode, flags & FLAGS))
            .collect();
        assert!(
            ours == theirs,
            "the lean reader and gix read different entries"
        );
        let tree = state.tree().map(crate::git::index::CacheTree::from_gix);
        assert!(
            lean.cache_tree() == tree,
            "the lean reader and gix read different cache-trees"
        );
    }
}

/// The largest object the pack target builds (libFuzzer's default limit on one allocation
/// is 2 GB: a reader that trusted a claimed size would hit it).
const PACK_OBJECT_LIMIT: u64 = 16 << 20;

/// A pack file, read entry after entry as `git index-pack` would, each object built with the
/// bounded reader of [`crate::git::packs`]: whole objects inflated, deltas applied to the object
/// at their base offset. Every size is checked before it is allocated (the fuzzer's malloc
/// limit catches any that is not); a delta's changed ranges lie inside what it built.
pub fn pack(data: &[u8]) {
    if data.len() < 32 || &data[..4] != b"PACK" {
        return;
    }
    for hash in [gix::hash::Kind::Sha1, gix::hash::Kind::Sha256] {
        pack_as(data, hash);
    }
}

/// [`pack`], with the object ids of reference deltas `hash` long.
fn pack_as(data: &[u8], hash: gix::hash::Kind) {
    let count = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
    let end = data.len() - 20; // the trailing checksum
    let mut z = gix::zlib::Decompress::default();
    let (mut scratch, mut changed) = (Vec::new(), Vec::new());
    let mut built: std::collections::HashMap<u64, Vec<u8>> = std::collections::HashMap::new();
    let mut held = 0usize;
    let mut at = 12usize;
    for _ in 0..count.min(10_000) {
        if at >= end {
            return;
        }
        let Ok(entry) = gix::odb::pack::data::Entry::from_bytes(&data[at..end], at as u64, hash)
        else {
            return;
        };
        let Some(input) = data.get(entry.data_offset as usize..end) else {
            return;
        };
        use gix::odb::pack::data::entry::Header;
        let base: Option<&Vec<u8>> = match entry.header {
            Header::OfsDelta { base_distance } => entry
                .checked_base_pack_offset(base_distance)
                .and_then(|b| built.get(&b)),
            _ => None,
        };
        let result = match (entry.header, base) {
            (Header::OfsDelta { .. }, Some(base)) => packs::build(
                &mut z,
                input,
                entry.decompressed_size,
                base,
                PACK_OBJECT_LIMIT,
                &mut scratch,
                &mut changed,
            )
            .map(|b| {
                b.map(|(object, used)| {
                    for r in &changed {
                        assert!(
                            r.start < r.end && r.end <= object.len(),
                            "a changed range outside the object"
                        );
                    }
                    for w in crate::scan::windows::changed_lines(&object, &changed) {
                        assert!(
                            w.start <= w.end && w.end <= object.len(),
                            "a window outside"
                        );
                    }
                    (object, used)
                })
            }),
            // Whole objects, and deltas whose base is not here: inflated as they are.
            _ => packs::inflate(&mut z, input, entry.decompressed_size, PACK_OBJECT_LIMIT),
        };
        let Ok(Some((object, used))) = result else {
            return;
        };
        assert!(used <= input.len(), "a stream longer than the pack");
        // Whole objects and built deltas can be bases; an inflated delta cannot.
        let is_object = match entry.header {
            Header::OfsDelta { .. } => base.is_some(),
            Header::RefDelta { .. } => false,
            _ => true,
        };
        if is_object && held + object.len() <= 64 << 20 {
            held += object.len();
            built.insert(at as u64, object);
        }
        at = entry.data_offset as usize + used;
    }
}

/// The pre-receive hook's standard input (`old new ref` lines): tips or a one-line error.
pub fn pre_receive(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = crate::source::commits::push_tips(&text) {
        one_line("pre-receive", &e.to_string());
    }
}

/// The command line: the input's NUL-separated parts are the arguments (the first one the
/// name the binary runs as). Parses or fails with a one-line error.
pub fn cli(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let argv0 = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let args = parts.map(os_string).collect();
    if let Err(e) = crate::cli::parse(&argv0, args) {
        one_line("cli", &e.to_string());
    }
}

/// One argument as the OS would hand it over: any bytes on Unix; on Windows, where
/// arguments are UTF-16, the bytes read as UTF-8 (lossily), which is what a shell passes.
fn os_string(bytes: &[u8]) -> std::ffi::OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(bytes).to_owned()
    }
    #[cfg(not(unix))]
    {
        String::from_utf8_lossy(bytes).into_owned().into()
    }
}
