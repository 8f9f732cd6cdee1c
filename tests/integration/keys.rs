//! Key-shaped test values, generated at run time: none is ever committed as a literal.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    (t ^ u64::from(std::process::id())) | 1
}

fn next() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

/// `len` random characters of `alphabet`.
pub fn random(alphabet: &str, len: usize) -> String {
    let a = alphabet.as_bytes();
    (0..len)
        .map(|_| a[(next() % a.len() as u64) as usize] as char)
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";

/// Standard base64's alphabet, as key bodies use it.
pub const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A PEM private key whose body starts with `first_line`, then two random lines.
pub fn private_key(first_line: &str) -> String {
    format!(
        "-----BEGIN {k}-----\n{first_line}\n{}\n{}\n-----END {k}-----\n",
        random(BASE64, 64),
        random(BASE64, 64),
        k = ["PRIVATE", "KEY"].join(" "),
    )
}

/// The marker every OpenAI key carries, assembled so that no line here is key-shaped.
pub fn marker() -> String {
    ["T3Bl", "bkFJ"].concat()
}

/// A key with its random bodies, so tests can check that no part of a body is ever printed.
pub struct Key {
    /// The whole key.
    pub value: String,
    /// How many characters `value` starts with that are the format's, not random (`sk-proj-`,
    /// `ghp_`): what a preview may show.
    pub head: usize,
    /// The random parts, each [`distinctive`]: not 4 consecutive characters of one may appear
    /// in any output (see [`assert_no_leak`]).
    pub bodies: Vec<String>,
}

/// `len` random letters and digits in which every 3 consecutive characters hold an uppercase
/// letter, a lowercase letter and a digit — so no run of 4 of them can be part of a word, a
/// number, a date, a hex id or a fingerprint, and a run of 4 in an output is there because
/// the output printed it, not by chance (see [`assert_no_leak`]).
pub fn distinctive(len: usize) -> String {
    const ORDERS: [[&str; 3]; 6] = [
        [UPPER, LOWER, DIGITS],
        [UPPER, DIGITS, LOWER],
        [LOWER, UPPER, DIGITS],
        [LOWER, DIGITS, UPPER],
        [DIGITS, UPPER, LOWER],
        [DIGITS, LOWER, UPPER],
    ];
    let order = ORDERS[(next() % 6) as usize];
    (0..len).map(|i| random(order[i % 3], 1)).collect()
}

/// An OpenAI project key: `sk-proj-` + 74 + marker + 74.
pub fn openai_project() -> Key {
    let (a, b) = (distinctive(74), distinctive(74));
    Key {
        value: format!("sk-proj-{a}{}{b}", marker()),
        head: "sk-proj-".len(),
        bodies: vec![a, b],
    }
}

/// A legacy OpenAI key: `sk-` + 20 + marker + 20.
pub fn openai_legacy() -> Key {
    let (a, b) = (distinctive(20), distinctive(20));
    Key {
        value: format!("sk-{a}{}{b}", marker()),
        head: "sk-".len(),
        bodies: vec![a, b],
    }
}

/// A GitHub personal access token.
pub fn github() -> Key {
    let a = distinctive(36);
    Key {
        value: format!("gh{}_{a}", "p"),
        head: 4,
        bodies: vec![a],
    }
}

/// An Anthropic API key: `sk-ant-api03-` + 93 + `AA`.
pub fn anthropic() -> Key {
    let a = distinctive(93);
    Key {
        value: format!("sk-{}-api03-{a}AA", "ant"),
        head: "sk-ant-api03-".len(),
        bodies: vec![a],
    }
}

/// A Slack bot token: `xoxb-` + 12 digits + 13 digits + 24 characters. The digits (the
/// workspace's and the bot's numbers) are not a body: 4 digits of them are in any output's
/// dates and ids by chance; they are checked as part of the value (see [`assert_no_leak`]).
pub fn slack() -> Key {
    let (a, b, c) = (random(DIGITS, 12), random(DIGITS, 13), distinctive(24));
    Key {
        value: format!("xox{}-{a}-{b}-{c}", "b"),
        head: "xoxb-".len(),
        bodies: vec![c],
    }
}

/// A GitLab personal access token: `glpat-` + 20 characters.
pub fn gitlab() -> Key {
    let a = distinctive(20);
    Key {
        value: format!("gl{}-{a}", "pat"),
        head: "glpat-".len(),
        bodies: vec![a],
    }
}

/// A Stripe test-mode secret key: `sk_test_` + 99 characters (a warning, not a block: it
/// moves no money, but it is a key all the same).
pub fn stripe_test() -> Key {
    let a = distinctive(99);
    Key {
        value: format!("sk_{}_{a}", "test"),
        head: "sk_test_".len(),
        bodies: vec![a],
    }
}

/// Lowercase letters and digits, `len` of them (a package name's slug, a word-like run).
pub fn lowercase(len: usize) -> String {
    random("abcdefghijklmnopqrstuvwxyz", len)
}

/// Letters and digits, `len` of them.
pub fn alnum(len: usize) -> String {
    random(ALNUM, len)
}

/// Asserts that `output` shows nothing of `key` beyond what a redacted preview prints (its
/// head, `sk-proj-…(164 chars)`): no run of 4 characters of any of its random bodies, and no
/// run of 8 characters of the rest of the value past its head (a body with what joins it,
/// the digits of a Slack token). The bodies are [`distinctive`], so a run of 4 of them
/// appears in an output only when it was printed — except in the names `tempfile` and git
/// draw at random (`.tmpAb3xY9`, a push's `incoming-Q2wE4r`), which are taken out first.
pub fn assert_no_leak(output: &str, key: &Key) {
    let output = without_random_names(output);
    let mut runs: Vec<&str> = Vec::new();
    for body in &key.bodies {
        assert!(
            is_distinctive(body),
            "{body:?}: a body the leak check cannot tell from an output's own words (use keys::distinctive)"
        );
        runs.extend(windows(body, 4));
    }
    runs.extend(windows(&key.value[key.head..], 8));
    for run in runs {
        if let Some(at) = output.find(run) {
            let from = output[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            let to = output[at..]
                .char_indices()
                .nth(60)
                .map_or(output.len(), |(i, _)| at + i);
            panic!(
                "output leaks part of a secret ({run}), here: …{}…\n{output}",
                &output[from..to]
            );
        }
    }
}

/// The runs of `n` characters of `text` (ASCII).
fn windows(text: &str, n: usize) -> impl Iterator<Item = &str> {
    (0..=text.len().saturating_sub(n)).map(move |i| &text[i..i + n])
}

/// Whether every 4 consecutive characters of `body` hold an uppercase letter, a lowercase
/// letter and a digit (see [`distinctive`]).
fn is_distinctive(body: &str) -> bool {
    body.len() >= 4
        && body.as_bytes().windows(4).all(|w| {
            w.iter().any(u8::is_ascii_uppercase)
                && w.iter().any(u8::is_ascii_lowercase)
                && w.iter().any(u8::is_ascii_digit)
        })
}

/// `output` without the random names of temporary directories (`tempfile`'s `.tmp` and 6
/// letters or digits) and of a push's quarantine (git's `incoming-` and 6).
fn without_random_names(output: &str) -> String {
    let mut out = output.to_owned();
    for marker in [".tmp", "incoming-"] {
        let mut from = 0;
        while let Some(at) = out[from..].find(marker).map(|i| from + i) {
            let name = at + marker.len();
            let random = out[name..]
                .bytes()
                .take(6)
                .take_while(u8::is_ascii_alphanumeric)
                .count();
            if random == 6 {
                out.replace_range(name..name + 6, "XXXXXX");
            }
            from = name;
        }
    }
    out
}

#[test]
fn the_leak_check_finds_four_characters_and_ignores_random_names() {
    let key = openai_project();
    let body = &key.bodies[1];
    let clean = format!(
        "app.py:1:8 sk-proj-…({} chars) in /tmp/.tmpA1b2C3/repo",
        key.value.len()
    );
    assert_no_leak(&clean, &key);
    for shown in [&body[..4], &body[body.len() - 4..], &body[30..34]] {
        let leaky = format!("{clean} {shown}…");
        let caught = std::panic::catch_unwind(|| assert_no_leak(&leaky, &key));
        assert!(caught.is_err(), "{shown} not caught in {leaky}");
    }
    // Digits of a Slack token, with what joins them.
    let slack = slack();
    let digits = &slack.value[5..13];
    let caught = std::panic::catch_unwind(|| assert_no_leak(&format!("xoxb-{digits}…"), &slack));
    assert!(caught.is_err(), "{digits}");
    // A body that is not distinctive is refused, not trusted.
    let weak = Key {
        value: format!("ghp_{}", "ab12".repeat(9)),
        head: 4,
        bodies: vec!["ab12".repeat(9)],
    };
    assert!(std::panic::catch_unwind(|| assert_no_leak("", &weak)).is_err());
}
