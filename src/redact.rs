//! Masking, fingerprints and terminal escaping: the only code that turns secret or untrusted
//! bytes into text.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// A redacted preview: the public prefix and the length, e.g. `sk-proj-…(164 chars)`. The
/// random body never appears, not even a few characters of it.
pub fn preview(public_prefix: &[u8], secret_len: usize) -> String {
    format!("{}…({secret_len} chars)", escape(public_prefix))
}

/// A stable identifier of a finding, derived from the rule id and the secret's value, so it
/// survives line moves, renames and reformatting. 8 hex digits of SHA-256: enough to name a
/// finding, far too little to recover a high-entropy key. A low-entropy value can be guessed
/// and checked against it, so a fingerprint proves identity, not secrecy.
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(secret);
    let digest = hasher.finalize();
    digest[..4]
        .iter()
        .fold(String::with_capacity(8), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The full identity of a finding's value, for the decisions that compare values: whether a
/// secret is the one already in history, whether two findings are one. The printed
/// [`fingerprint`] is 32 bits, so two values of one rule share one in 2^32 pairs — and one
/// can be searched for in seconds — which is fine for naming a finding to a person and never
/// for a decision. This is SHA-256 over the same input, keyed with 256 bits drawn when the
/// process starts: equal only for equal values within one run, meaningless outside it, and
/// never printed (its `Debug` shows nothing of it), so it cannot be used to test guesses of a
/// low-entropy value either.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity([u8; 32]);

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(…)")
    }
}

/// The [`Identity`] of `secret` under rule `rule_id`.
pub fn identity(rule_id: &str, secret: &[u8]) -> Identity {
    static KEY: once_cell::sync::Lazy<[u8; 32]> = once_cell::sync::Lazy::new(run_key);
    let mut hasher = Sha256::new();
    hasher.update(*KEY);
    hasher.update(rule_id.as_bytes());
    hasher.update([0]);
    hasher.update(secret);
    Identity(hasher.finalize().into())
}

/// 256 random bits for this run: from the operating system, or where it cannot give them,
/// from the keys the standard library draws for its hash maps (from the same source).
fn run_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    if getrandom::fill(&mut key).is_err() {
        use std::hash::BuildHasher;
        for (i, chunk) in key.chunks_mut(8).enumerate() {
            let word = std::collections::hash_map::RandomState::new().hash_one(i);
            chunk.copy_from_slice(&word.to_le_bytes());
        }
    }
    key
}

/// Makes untrusted bytes (paths, content) safe to print on a terminal: control characters,
/// invalid UTF-8 and bidirectional overrides (the "Trojan Source" characters) become visible
/// escapes such as `\x1b` or `\u{202e}`; a backslash is doubled so escapes stay unambiguous.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if is_dangerous_format_char(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// C1 controls, bidi embeddings/overrides/isolates and other invisible format characters.
fn is_dangerous_format_char(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff)
}

/// `text` (a message about to be printed: an error, a usage line) with every value in it that
/// looks like a secret masked the way findings are (`sk-proj-…(164 chars)`), then escaped for
/// the terminal. Messages quote what the user typed (`keyward allow <a key>`, a
/// `keyward.maxFileSize` set to a key by mistake, a revision): a key pasted in the wrong place
/// must not be echoed whole. A value is masked when a built-in rule finds it, or when it is a
/// long random-looking token (20 characters or more, letters and digits, more than 3.5 bits of
/// entropy per character) that is not a hex id or a path, so object ids and file names stay
/// readable. Control characters left in it are escaped; backslashes are not doubled again,
/// since the parts of a message that quote untrusted bytes are [`escape`]d already.
pub fn message(text: &str) -> String {
    let bytes = text.as_bytes();
    let scanner = crate::scan::Scanner::catalog(Vec::new(), crate::rules::BUILTIN_RULES);
    let mut masks: Vec<(std::ops::Range<usize>, String)> = scanner
        .scan(bytes, false)
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let secret = &bytes[m.secret.clone()];
            let prefix = scanner.rule(m.rule).public_prefix(secret);
            (m.secret, preview(prefix, secret.len()))
        })
        .collect();
    let mut at = 0;
    for token in bytes.split(|&b| is_token_boundary(b)) {
        let span = at..at + token.len();
        at = span.end + 1;
        let masked = masks
            .iter()
            .any(|(m, _)| m.start < span.end && span.start < m.end);
        if !masked && looks_random(token) {
            masks.push((span, preview(b"", token.len())));
        }
    }
    masks.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for (span, shown) in masks {
        if span.start < from {
            continue;
        }
        push_controls_escaped(&mut out, &text[from..span.start]);
        out.push_str(&shown);
        from = span.end;
    }
    push_controls_escaped(&mut out, &text[from..]);
    out
}

/// Appends `text` with its control and invisible format characters escaped as [`escape`]
/// writes them, and everything else (backslashes too) as it is.
fn push_controls_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if c != '\\' && (c.is_control() || is_dangerous_format_char(c)) {
            out.push_str(&escape(c.encode_utf8(&mut [0; 4]).as_bytes()));
        } else {
            out.push(c);
        }
    }
}

/// What separates the values a message quotes.
fn is_token_boundary(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'`' | b'\'' | b'"' | b'=' | b',' | b';' | b':' | b'(' | b')'
        )
}

/// A long token that reads like random characters: see [`message`].
fn looks_random(token: &[u8]) -> bool {
    token.len() >= 20
        && token.iter().any(u8::is_ascii_alphabetic)
        && token.iter().any(u8::is_ascii_digit)
        && !token.iter().all(u8::is_ascii_hexdigit)
        && !token.contains(&b'/')
        && crate::scan::filters::entropy(token) > 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        for (input, want) in [
            (&b"plain/path.txt"[..], "plain/path.txt"),
            (b"a\x1b[31mb", "a\\x1b[31mb"),
            (b"tab\there", "tab\\there"),
            (b"back\\slash", "back\\\\slash"),
            (b"\xff\xfe", "\\xff\\xfe"),
            ("ünïcode".as_bytes(), "ünïcode"),
            ("evil\u{202e}txt".as_bytes(), "evil\\u{202e}txt"),
            (b"del\x7f", "del\\x7f"),
        ] {
            assert_eq!(escape(input), want);
        }
    }

    #[test]
    fn preview_shows_prefix_and_length_only() {
        assert_eq!(preview(b"sk-proj-", 164), "sk-proj-…(164 chars)");
        assert_eq!(preview(b"", 20), "…(20 chars)");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_value() {
        let a = fingerprint("kw.x", b"value");
        assert_eq!(a.len(), 8);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, fingerprint("kw.x", b"value"));
        assert_ne!(a, fingerprint("kw.y", b"value"));
        assert_ne!(a, fingerprint("kw.x", b"other"));
    }

    #[test]
    fn identities_tell_apart_what_fingerprints_cannot() {
        assert_eq!(identity("kw.x", b"value"), identity("kw.x", b"value"));
        assert_ne!(identity("kw.x", b"value"), identity("kw.y", b"value"));
        assert_ne!(identity("kw.x", b"value"), identity("kw.x", b"other"));
        assert_eq!(format!("{:?}", identity("kw.x", b"value")), "Identity(…)");
    }

    #[test]
    fn messages_mask_what_looks_like_a_secret_and_keep_the_rest() {
        // Characters drawn by a small LCG: key-shaped without being a literal key.
        let mut state = 0x2545_f491_u32;
        let mut draw = |n: usize, alphabet: &[u8]| -> String {
            (0..n)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    char::from(alphabet[(state >> 16) as usize % alphabet.len()])
                })
                .collect()
        };
        let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let (body, tail) = (draw(74, alnum), draw(74, alnum));
        let key = format!("sk-proj-{body}{}{tail}", ["T3Bl", "bkFJ"].concat());
        let typed = draw(32, alnum);
        let id = "3f2a1b4c5d6e4f708a9b0c1d2e3f4a5b6c7d8e9f";
        let text = format!(
            "invalid size `{key}`; unknown revision `{typed}`; object {id} in src/a_very_long_module_name_2.rs"
        );
        let shown = message(&text);
        assert!(!shown.contains(&body[..8]), "{shown}");
        assert!(!shown.contains(&typed[..8]), "{shown}");
        assert!(shown.contains("`sk-proj-…("), "{shown}");
        assert!(
            shown.contains(&format!("`…({} chars)`", typed.len())),
            "{shown}"
        );
        assert!(shown.contains(id), "{shown}");
        assert!(
            shown.contains("src/a_very_long_module_name_2.rs"),
            "{shown}"
        );
        assert_eq!(message("a\x1b[31m plain"), "a\\x1b[31m plain");
        assert_eq!(message("tab\tthere"), "tab\\tthere");
    }
}
