//! The filters' word tables: `words.toml` beside this file, made into statics by `build.rs`
//! (nothing is parsed at run time), each with what its words are compared with and where
//! they must stand in it. A table whose words may stand anywhere is searched with one
//! Aho-Corasick automaton, built on its first use (microseconds for a few dozen words), not
//! with one substring search per word.

use aho_corasick::AhoCorasick;
use once_cell::sync::OnceCell;
use std::ops::Range;

/// What a table's words are compared with (`against` in `words.toml`). Every comparison
/// ignores ASCII case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Against {
    /// An assigned value.
    Value,
    /// A name, lowercase and without `_`, `-` and `.` (see [`super::name::Name`]).
    Name,
    /// A host name.
    Host,
    /// A line of a file.
    Line,
    /// A file name's extension.
    Extension,
}

/// Where a word must stand in what it is compared with (`at` in `words.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// Anywhere in it.
    Anywhere,
    /// At its start.
    Start,
    /// At its end.
    End,
    /// It is the whole of it.
    Whole,
}

/// A word table.
pub(super) struct Words {
    /// Read by the tests that check the data.
    #[cfg_attr(not(test), allow(dead_code))]
    against: Against,
    at: At,
    words: &'static [&'static [u8]],
    /// For [`At::Anywhere`]: all the words at once, ASCII case ignored.
    searcher: OnceCell<AhoCorasick>,
}

impl Words {
    const fn new(against: Against, at: At, words: &'static [&'static [u8]]) -> Self {
        Words {
            against,
            at,
            words,
            searcher: OnceCell::new(),
        }
    }

    fn searcher(&self) -> &AhoCorasick {
        self.searcher.get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(self.words)
                .expect("a word table's automaton builds (a few dozen short words)")
        })
    }

    /// Whether one of the words stands in `text` where the table says, ignoring ASCII case.
    pub(super) fn found_in(&self, text: &[u8]) -> bool {
        let ends = |w: &[u8]| {
            text.len() >= w.len() && text[text.len() - w.len()..].eq_ignore_ascii_case(w)
        };
        match self.at {
            At::Anywhere => self.searcher().is_match(text),
            At::Start => self.words.iter().any(|w| {
                text.get(..w.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(w))
            }),
            At::End => self.words.iter().any(|w| ends(w)),
            At::Whole => self.words.iter().any(|w| w.eq_ignore_ascii_case(text)),
        }
    }

    /// Where in `text` the first word of the table that occurs in it occurs first (a table
    /// in order of preference, whose words may stand anywhere).
    pub(super) fn first_listed_in(&self, text: &[u8]) -> Option<Range<usize>> {
        debug_assert_eq!(self.at, At::Anywhere);
        // Every occurrence of every word (overlapping ones too), then the earliest word's
        // earliest: what trying the words one by one in order would find.
        self.searcher()
            .find_overlapping_iter(text)
            .min_by_key(|m| (m.pattern(), m.start()))
            .map(|m| m.range())
    }
}

include!(concat!(env!("OUT_DIR"), "/filter_words.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table of `words.toml`, by name.
    const TABLES: &[(&str, &Words)] = &[
        ("placeholder", &PLACEHOLDER),
        ("short_value_words", &SHORT_VALUE_WORDS),
        ("references", &REFERENCES),
        ("algorithms", &ALGORITHMS),
        ("not_secret_name_ends", &NOT_SECRET_NAME_ENDS),
        ("not_secret_name_parts", &NOT_SECRET_NAME_PARTS),
        ("strong_names", &STRONG_NAMES),
        ("hex_key_names", &HEX_KEY_NAMES),
        ("default_passwords", &DEFAULT_PASSWORDS),
        ("password_markers", &PASSWORD_MARKERS),
        ("local_hosts", &LOCAL_HOSTS),
        ("local_host_starts", &LOCAL_HOST_STARTS),
        ("documentation_domains", &DOCUMENTATION_DOMAINS),
        ("connection_host_keys", &CONNECTION_HOST_KEYS),
        ("code_extensions", &CODE_EXTENSIONS),
    ];

    #[test]
    fn every_table_is_listed_here() {
        let file = include_str!("words.toml");
        let tables = file.lines().filter(|l| l.starts_with('[')).count();
        assert_eq!(tables, TABLES.len());
    }

    /// The data itself: what would make a word never match, or match twice.
    #[test]
    fn the_word_tables_hold_words_that_can_match() {
        for (name, table) in TABLES {
            assert!(!table.words.is_empty(), "[{name}] is empty");
            let mut seen = std::collections::HashSet::new();
            for &word in table.words {
                let shown = String::from_utf8_lossy(word);
                assert!(
                    !word.is_empty(),
                    "[{name}]: an empty word matches everything"
                );
                assert!(seen.insert(word), "[{name}]: `{shown}` twice");
                // Compared ignoring ASCII case, and the names, hosts and lines they meet are
                // lowercased first: one spelling is enough, and it is lowercase.
                assert_eq!(
                    word,
                    word.to_ascii_lowercase(),
                    "[{name}]: `{shown}` is not lowercase"
                );
                match table.against {
                    Against::Name => assert!(
                        !word.iter().any(|b| b"_-.".contains(b)),
                        "[{name}]: `{shown}` has a separator, which names lose before they are compared"
                    ),
                    Against::Extension => assert!(
                        word.iter().all(u8::is_ascii_alphanumeric),
                        "[{name}]: `{shown}` is not an extension without its dot"
                    ),
                    Against::Value | Against::Host | Against::Line => {}
                }
            }
        }
    }

    #[test]
    fn each_place_in_the_text_is_honoured() {
        assert!(PLACEHOLDER.found_in(b"my-TEST-key"));
        assert!(PLACEHOLDER.found_in("a…b".as_bytes()));
        assert!(!PLACEHOLDER.found_in(b"q8ZfR2mXv9Lp"));
        assert!(ALGORITHMS.found_in(b"SSH-ed25519"));
        assert!(!ALGORITHMS.found_in(b"my-ssh-key"));
        assert!(NOT_SECRET_NAME_ENDS.found_in(b"tokentype"));
        assert!(!NOT_SECRET_NAME_ENDS.found_in(b"typetoken"));
        assert!(DEFAULT_PASSWORDS.found_in(b"Admin"));
        assert!(!DEFAULT_PASSWORDS.found_in(b"admin1"));
    }

    #[test]
    fn the_first_listed_word_wins_wherever_it_stands() {
        // `host=` is listed after `server=` but stands first; `host =` overlaps `host=`'s
        // place with nothing, and `hostname=` holds no `host=`.
        let line = b"host=a;server=b;hostname=c";
        assert_eq!(CONNECTION_HOST_KEYS.first_listed_in(line), Some(7..14));
        assert_eq!(
            CONNECTION_HOST_KEYS.first_listed_in(b"x=1;HOST=db"),
            Some(4..9)
        );
        assert_eq!(CONNECTION_HOST_KEYS.first_listed_in(b"nothing here"), None);
    }
}
