//! Previews, fingerprints, identities and terminal escaping: the code that turns secret or
//! untrusted bytes into text. (Masking what looks like a secret in an error message needs the
//! scanner, so it lives with the commands: [`crate::app::mask`].)

use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// A redacted preview: the public prefix and the length, e.g. `sk-proj-…(164 chars)`. The
/// random body never appears, not even a few characters of it.
pub(crate) fn preview(public_prefix: &[u8], secret_len: usize) -> String {
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
pub(crate) struct Identity([u8; 32]);

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(…)")
    }
}

/// The [`Identity`] of `secret` under rule `rule_id`.
pub(crate) fn identity(rule_id: &str, secret: &[u8]) -> Identity {
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
pub(crate) fn is_dangerous_format_char(c: char) -> bool {
    matches!(c as u32,
        0x80..=0x9f | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff)
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
}
