//! What the name a value is assigned to says about it: whether it names the secret itself
//! (`api_key`, `password`) or something about one (`token_type`, `password_hash_algorithm`),
//! and how strongly it says "secret".

use super::words::{HEX_KEY_NAMES, NOT_SECRET_NAME_ENDS, NOT_SECRET_NAME_PARTS, STRONG_NAMES};

/// A name as the filters compare it.
pub(super) struct Name<'a> {
    raw: &'a [u8],
    /// Lowercase, without separators: `wordToken.type`, `token-type`, `TokenType` and
    /// `token_type` are one name.
    compact: Vec<u8>,
}

impl<'a> Name<'a> {
    pub(super) fn new(raw: &'a [u8]) -> Self {
        let compact = raw
            .iter()
            .filter(|b| !b"_-.".contains(b))
            .map(u8::to_ascii_lowercase)
            .collect();
        Name { raw, compact }
    }

    /// The value has no name: a password in a URL or an auth entry, known by its place.
    pub(super) fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The name holds something about a secret, not the secret (`token_type`, `cache_key`,
    /// `SAML_TOKEN_TYPE_V1`), or a token handed out to anyone (`next_token`, `csrf_token`).
    pub(super) fn holds_no_secret(&self) -> bool {
        // A trailing version or index is not part of what the name says (`…_TYPE_V1`).
        let trimmed = self.compact.trim_ascii_end();
        let mut base = trimmed.len();
        while base > 0 && trimmed[base - 1].is_ascii_digit() {
            base -= 1;
        }
        if base < trimmed.len() && base > 0 && trimmed[base - 1] == b'v' {
            base -= 1;
        }
        let unversioned = &self.compact[..base];
        NOT_SECRET_NAME_ENDS.found_in(&self.compact)
            || NOT_SECRET_NAME_ENDS.found_in(unversioned)
            || NOT_SECRET_NAME_PARTS.found_in(&self.compact)
    }

    /// The name says "secret", "token" or "password", not only "key" (see the `strong_names`
    /// table of `words.toml`).
    pub(super) fn is_strong(&self) -> bool {
        STRONG_NAMES.found_in(&self.compact)
    }

    /// Hex values assigned to this name are keys even at the length of a SHA (some
    /// providers' keys are 40 hex digits).
    pub(super) fn takes_hex_keys(&self) -> bool {
        HEX_KEY_NAMES.found_in(&self.compact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_separators_or_versions() {
        for name in [
            "token_type",
            "TokenType",
            "wordToken.type",
            "SAML_TOKEN_TYPE_V1",
        ] {
            assert!(Name::new(name.as_bytes()).holds_no_secret(), "{name}");
        }
        assert!(Name::new(b"next_page_token").holds_no_secret());
        assert!(!Name::new(b"API_KEY").holds_no_secret());
        assert!(Name::new(b"Api-Key").is_strong() && !Name::new(b"ACME_KEY").is_strong());
        assert!(
            Name::new(b"SECRET_KEY").takes_hex_keys() && !Name::new(b"commit").takes_hex_keys()
        );
    }
}
