//! Placeholders: values written to stand where a secret will go (`AKIA…EXAMPLE`, `xxxx`,
//! `your-api-key`, `123456`), which pass a length and entropy check.

use super::words::PLACEHOLDER;

/// Placeholders that pass a length and entropy check: the word "example" (AWS's documented
/// keys end in `EXAMPLE`), a masked run (`xxxx`), or six repeated or consecutive characters
/// (`000000`, `abcdef`, `123456`) making up a fifth of the value.
pub(crate) fn looks_like_placeholder(secret: &[u8]) -> bool {
    const RUN: usize = 6;
    // Masks are written in one case (`xxxx`, `XXXX`); a mixed `xXxX` turns up in random keys.
    if contains_ignore_case(secret, b"example")
        || memchr::memmem::find(secret, b"xxxx").is_some()
        || memchr::memmem::find(secret, b"XXXX").is_some()
    {
        return true;
    }
    let (mut same, mut ascending) = (1, 1);
    for pair in secret.windows(2) {
        same = if pair[1] == pair[0] { same + 1 } else { 1 };
        ascending = if pair[1] == pair[0].wrapping_add(1) {
            ascending + 1
        } else {
            1
        };
        // A run this long in a long value can be chance (digit groups of Slack tokens): it
        // counts when it is a fifth of the value, or ten characters whatever the length.
        let long = |run: usize| run >= RUN && (run * 5 >= secret.len() || run >= 10);
        if long(same) || long(ascending) {
            return true;
        }
    }
    false
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether `value` holds one of the placeholder words that make the generic rules pass it by
/// (`your`, `test`, `null`, …; the `placeholder` table of `words.toml`). A random key holds
/// one by chance about once in two thousand.
pub(crate) fn has_placeholder_word(value: &[u8]) -> bool {
    PLACEHOLDER.found_in(value)
}

/// Whether `v` holds a mask, written in one case (`xxx`, `XXX`; a mixed `XxX` turns up in
/// random values).
pub(super) fn has_mask(v: &[u8]) -> bool {
    memchr::memmem::find(v, b"xxx").is_some() || memchr::memmem::find(v, b"XXX").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_heuristics() {
        // AWS's documented example key, assembled at run time: this file is scanned too.
        let aws = format!("AKIAIOSFODNN7{}", "EXAMPLE");
        for (s, want) in [
            (aws.as_bytes(), true),
            (b"sk-proj-xxxxxxxxxxxxxxxx", true),
            (b"aaaaaa", true),
            (b"abcdefgh", true),
            (b"x123456y", true),
            (b"Zq3vN8pL2mK7", false),
        ] {
            assert_eq!(
                looks_like_placeholder(s),
                want,
                "{}",
                String::from_utf8_lossy(s)
            );
        }
    }

    #[test]
    fn placeholder_words_in_any_case() {
        assert!(has_placeholder_word(b"YOUR_KEY_HERE"));
        assert!(has_placeholder_word("sk-…".as_bytes()));
        assert!(!has_placeholder_word(b"q8ZfR2mXv9LpT4wKc7Nh"));
        assert!(has_mask(b"abXXXcd") && !has_mask(b"aXxXb"));
    }
}
