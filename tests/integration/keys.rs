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
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

/// A key with its random body, so tests can check the body never leaks.
pub struct Key {
    /// The whole key.
    pub value: String,
    /// The random parts (each must never appear in output, not even 8 characters of it).
    pub bodies: Vec<String>,
}

/// An OpenAI project key: `sk-proj-` + 74 + marker + 74.
pub fn openai_project() -> Key {
    let (a, b) = (random(URLSAFE, 74), random(URLSAFE, 74));
    Key {
        value: format!("sk-proj-{a}{}{b}", marker()),
        bodies: vec![a, b],
    }
}

/// A legacy OpenAI key: `sk-` + 20 + marker + 20.
pub fn openai_legacy() -> Key {
    let (a, b) = (random(ALNUM, 20), random(ALNUM, 20));
    Key {
        value: format!("sk-{a}{}{b}", marker()),
        bodies: vec![a, b],
    }
}

/// A GitHub personal access token.
pub fn github() -> Key {
    let a = random(ALNUM, 36);
    Key {
        value: format!("gh{}_{a}", "p"),
        bodies: vec![a],
    }
}

/// An Anthropic API key: `sk-ant-api03-` + 93 + `AA`.
pub fn anthropic() -> Key {
    let a = random(URLSAFE, 93);
    Key {
        value: format!("sk-{}-api03-{a}AA", "ant"),
        bodies: vec![a],
    }
}

/// A Slack bot token: `xoxb-` + 12 digits + 13 digits + 24 characters.
pub fn slack() -> Key {
    let digits = "0123456789";
    let (a, b, c) = (random(digits, 12), random(digits, 13), random(ALNUM, 24));
    Key {
        value: format!("xox{}-{a}-{b}-{c}", "b"),
        bodies: vec![a, b, c],
    }
}

/// A GitLab personal access token: `glpat-` + 20 characters.
pub fn gitlab() -> Key {
    let a = random(ALNUM, 20);
    Key {
        value: format!("gl{}-{a}", "pat"),
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

/// Asserts that no 8-character run of any random body appears in `output`.
pub fn assert_no_leak(output: &str, key: &Key) {
    for body in &key.bodies {
        for window in body.as_bytes().windows(8) {
            let w = std::str::from_utf8(window).expect("ascii");
            assert!(
                !output.contains(w),
                "output leaks part of a secret ({w}):\n{output}"
            );
        }
    }
}
