//! Error messages with what looks like a secret in them masked, for the one place that prints
//! errors (`main`). It scans the text, so it sits here with the commands, above the scanner,
//! and not in [`crate::redact`], which the scanner's own findings use.

use crate::redact::{escape, is_dangerous_format_char, preview};

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
