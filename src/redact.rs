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
}
