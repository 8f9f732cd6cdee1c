//! Filters that tell a real secret from its look-alikes: entropy, placeholders, and — for the
//! generic rules, which match any value assigned to a name like `api_key` or `password` — the
//! many things such a value can be instead: a reference to the environment or a secret
//! manager, a template, a path, an identifier, a hash, a UUID, a label.

use crate::rules::Validator;

/// Shannon entropy of `bytes`, in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Placeholders that pass a length and entropy check: the word "example" (AWS's documented
/// keys end in `EXAMPLE`), a masked run (`xxxx`), or six repeated or consecutive characters
/// (`000000`, `abcdef`, `123456`) making up a fifth of the value.
pub fn looks_like_placeholder(secret: &[u8]) -> bool {
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

/// Whether the value `data[value]`, assigned to `name`, looks like a real secret rather than
/// one of its look-alikes. Used by rules with `assignment = true`.
/// `code` says the file is source code, where an unquoted value is an expression (a variable,
/// a type), never a literal; in config files (`.env`, YAML, INI) it is the value itself.
pub fn assigned_value_is_secret(
    name: &[u8],
    data: &[u8],
    value: std::ops::Range<usize>,
    code: bool,
) -> bool {
    let quoted = value.start > 0 && matches!(data[value.start - 1], b'"' | b'\'' | b'`');
    if code && !quoted {
        let v = &data[value.clone()];
        if v.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return false;
        }
    }
    value_is_secret(name, data, value, quoted)
}

/// Whether `path` names a source file in a programming language (by its extension).
pub fn is_code_path(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    const CODE: &[&[u8]] = &[
        b"rs", b"py", b"pyi", b"js", b"mjs", b"cjs", b"jsx", b"ts", b"tsx", b"go", b"java", b"kt",
        b"kts", b"scala", b"c", b"h", b"cc", b"cpp", b"hpp", b"cs", b"fs", b"rb", b"php", b"swift",
        b"m", b"mm", b"dart", b"lua", b"pl", b"pm", b"r", b"jl", b"ex", b"exs", b"erl", b"hs",
        b"ml", b"clj", b"groovy", b"vue", b"svelte", b"zig", b"nim",
    ];
    let ext = name[dot + 1..].to_ascii_lowercase();
    CODE.contains(&ext.as_slice())
}

/// [`assigned_value_is_secret`], told whether the value is a literal (quoted, or in a place
/// where code cannot stand, such as a URL's password).
fn value_is_secret(name: &[u8], data: &[u8], value: std::ops::Range<usize>, quoted: bool) -> bool {
    let v = &data[value.clone()];
    // A value cut short by a template (`key-{{ env }}`, `pre${SUFFIX}`) or made of non-ASCII
    // text (a label in another language) is not a credential.
    if data.get(value.end).is_some_and(|b| b"{<$%".contains(b)) || !v.is_ascii() {
        return false;
    }
    // Names compared without case or separators: `wordToken.type`, `token-type`, `TokenType`
    // and `token_type` are one name.
    let compact: Vec<u8> = name
        .iter()
        .filter(|b| !b"_-.".contains(b))
        .map(u8::to_ascii_lowercase)
        .collect();
    // Names that hold something about a secret, not the secret.
    const NOT_SECRET_SUFFIXES: &[&[u8]] = &[
        b"id",
        b"ids",
        b"name",
        b"url",
        b"uri",
        b"file",
        b"path",
        b"dir",
        b"type",
        b"length",
        b"len",
        b"size",
        b"format",
        b"field",
        b"hash",
        b"digest",
        b"header",
        b"label",
        b"placeholder",
        b"policy",
        b"prompt",
        b"env",
        b"var",
        b"ref",
        b"endpoint",
        b"expiry",
        b"expires",
        b"expiration",
        b"ttl",
        b"timeout",
        b"count",
        b"limit",
        b"version",
        b"regex",
        b"pattern",
        b"mode",
        b"method",
        b"param",
        b"arn",
        b"region",
        b"prefix",
        b"suffix",
        b"time",
        b"date",
        b"location",
        b"provider",
        b"store",
        b"tokens",
        b"tokenizer",
        b"publickey",
        b"maxtokens",
    ];
    // Tokens that page through results or make a request idempotent: handed out to anyone.
    const NOT_SECRET_TOKENS: &[&[u8]] = &[
        b"nexttoken",
        b"continuationtoken",
        b"pagetoken",
        b"pagingtoken",
        b"backwardtoken",
        b"forwardtoken",
        b"inputtoken",
        b"outputtoken",
        b"updatetoken",
        b"clienttoken",
        b"idempotency",
        b"cursor",
        b"csrf",
        b"xsrf",
    ];
    if NOT_SECRET_SUFFIXES.iter().any(|s| compact.ends_with(s))
        || NOT_SECRET_TOKENS.iter().any(|t| contains(&compact, t))
    {
        return false;
    }
    if v.iter().all(u8::is_ascii_digit) {
        return false; // numbers: counts, ports, timeouts
    }
    // Short hex is an id or a truncated hash (`"ApiKey": "48205d4ffd7feba3"`), not a key.
    if v.len() < 20 && v.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    // `name:value` with nothing between is not an assignment but one token (`token::Kind`,
    // `"secretsmanager:ResourceTag/…"`): YAML needs a space after the colon, code quotes.
    if !quoted && value.start > 0 && data[value.start - 1] == b':' {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&[u8]] = &[
        b"changeme",
        b"qwer",
        b"asdf",
        b"change_me",
        b"change-me",
        b"example",
        b"placeholder",
        b"your",
        b"redacted",
        b"dummy",
        b"sample",
        b"todo",
        b"fixme",
        b"replace",
        b"insert",
        b"test",
        b"fake",
        b"mock",
        b"demo",
        b"secret",
        b"password",
        b"passwd",
        b"token",
        b"apikey",
        b"api_key",
        b"undefined",
        b"null",
        b"none",
        b"true",
        b"false",
        b"default",
        b"***",
        b"...",
        b"\xe2\x80\xa6",
    ];
    // Keyboard runs such as `abc123` and `12345678` make short values fake, but they also
    // turn up by chance inside long random hex (one in 700 for 48 digits): only short values
    // are judged by them.
    const SHORT_WORDS: &[&[u8]] = &[b"abc1", b"1234"];
    // A mask is written in one case (`xxx`, `XXX`); `XxX` turns up in random values.
    if WORDS.iter().any(|w| contains(&lower, w))
        || contains(v, b"xxx")
        || contains(v, b"XXX")
        || (v.len() <= 20 && SHORT_WORDS.iter().any(|w| contains(&lower, w)))
    {
        return false;
    }
    // References to where the value really lives.
    const REFERENCES: &[&[u8]] = &[
        b"process.env",
        b"os.environ",
        b"getenv",
        b"env(",
        b"env[",
        b"environ",
        b"secrets.",
        b"vault:",
        b"arn:aws:",
        b"ssm:",
        b"secretmanager",
        b"projects/",
        b"keyvault",
        b"file:",
        b"env:",
        b"{{",
        b"}}",
        b"${",
        b"#{",
        b"<%",
        b"://",
    ];
    if starts_like_reference(v, quoted) || REFERENCES.iter().any(|r| contains(&lower, r)) {
        return false;
    }
    // Paths and file names (`certs/client.key`) and e-mail addresses (`ops@example.org`).
    if (v.contains(&b'/') || v.contains(&b'@')) && v.contains(&b'.') && !v.contains(&b'+') {
        return false;
    }
    // Code, not a literal: a path (`windows_sys::core::PCWSTR`, `Token::Literal`), a macro
    // or function call (`bracketed!(…)`, `load(…)`).
    if contains(v, b"::") || (!quoted && (v.ends_with(b"!") || data.get(value.end) == Some(&b'(')))
    {
        return false;
    }
    // SCREAMING_SNAKE and snake_case names (`MSV1_0_CREDENTIAL_KEY_TYPE`, `_bindgen_ty_3`)
    // unquoted are constants and variables: a random value is not all one case.
    if !quoted
        && v.contains(&b'_')
        && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && (!v.iter().any(u8::is_ascii_lowercase) || !v.iter().any(u8::is_ascii_uppercase))
    {
        return false;
    }
    // A JWT is judged as one: public tokens (`anon` keys, unsigned ones) are not secrets.
    if v.starts_with(b"eyJ") && v.iter().filter(|&&b| b == b'.').count() == 2 {
        return is_private_jwt(v);
    }
    // Twilio-style resource ids (`AC…`, `SK…`: two capitals and 32 hex digits) name an
    // account or key; the secret is the token that goes with them.
    if v.len() == 34
        && v[..2].iter().all(u8::is_ascii_uppercase)
        && v[2..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return false;
    }
    if is_uuid(v)
        || (v.len() == 40 || v.len() == 64)
            && v.iter().all(u8::is_ascii_hexdigit)
            && !quoted_in_env(name)
    {
        return false; // UUIDs; git SHAs and SHA-256 digests
    }
    // Unquoted identifiers in code are variables (`password = userPassword`); a letters-only
    // dotted or snake name is a reference, not a value.
    let identifier = v
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    // Words in an identifier start with a capital (`userPassword`, `DB_PASSWORD`); a random
    // letters-only value (one alphanumeric password in 30 has no digit) is half capitals.
    let upper = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = v.iter().filter(|b| b.is_ascii_lowercase()).count();
    let word_like = upper * 3 <= v.len() || lower == 0 || v.contains(&b'_') || v.contains(&b'.');
    let no_digit = !v.iter().any(u8::is_ascii_digit);
    if identifier
        && (!quoted || v.contains(&b'.'))
        && ((no_digit && word_like) || v.contains(&b'.'))
    {
        return false;
    }
    // Quoted words are labels and enum values (`"next_marker"`, `"IAmSensitive"`), not keys;
    // a password in a URL or an auth entry (no name) is never a label.
    let may_be_label = !name.is_empty();
    if may_be_label
        && identifier
        && no_digit
        && (made_of_words(v) || (upper == 0 && v.contains(&b'_')))
    {
        return false;
    }
    // Words joined by dashes or underscores (`not-supported`,
    // `Access-Control-Allow-Credentials`) are labels and header names too.
    if may_be_label
        && v.split(|b| b"-_".contains(b))
            .all(|w| match w.split_first() {
                Some((first, rest)) => {
                    first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_lowercase)
                }
                None => true,
            })
    {
        return false;
    }
    // A value needs some variety: at least two kinds of character and 8 bytes.
    let kinds = [
        v.iter().any(u8::is_ascii_lowercase),
        v.iter().any(u8::is_ascii_uppercase),
        v.iter().any(u8::is_ascii_digit),
        v.iter().any(|b| !b.is_ascii_alphanumeric()),
    ];
    v.len() >= 8 && kinds.iter().filter(|k| **k).count() >= 2 && entropy(v) >= 3.0
}

/// Whether the first characters of a value make it a reference or a structure rather than a
/// literal: `$VAR`, `%(name)s`, `{…}`, `<…>`, `[…]`, `(…)`, `\\…`, `~/path`, `./path`, `.attr`,
/// `==`, a YAML anchor or alias (`&name`, `*name`), a Ruby symbol (`:name`), a comment (`#`
/// unquoted), a lowercase absolute path. Passwords start with such characters too (`_`, `*`,
/// `#`, `=`, `%`), so each is judged with what follows it.
fn starts_like_reference(v: &[u8], quoted: bool) -> bool {
    let (Some(&first), rest) = (v.first(), v.get(1..).unwrap_or_default()) else {
        return false;
    };
    let second = rest.first().copied().unwrap_or(0);
    let name_like = |r: &[u8]| r.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    match first {
        b'$' | b'{' | b'<' | b'[' | b'(' | b'\\' => true,
        b'%' => matches!(second, b'(' | b'{') || v.ends_with(b"%"),
        b'&' | b'*' | b':' => name_like(rest),
        b'#' => !quoted,
        b'~' => second == b'/',
        b'.' => second == b'/' || name_like(rest),
        b'=' => second == b'=',
        b'/' => v
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/_.-".contains(b)),
        _ => false,
    }
}

/// Whether half of `v` sits in lowercase runs of four or more letters, as in the
/// words of an identifier; random characters rarely do.
fn made_of_words(v: &[u8]) -> bool {
    let (mut in_words, mut run) = (0, 0);
    for b in v.iter().chain([&b' ']) {
        if b.is_ascii_lowercase() {
            run += 1;
        } else {
            if run >= 4 {
                in_words += run;
            }
            run = 0;
        }
    }
    in_words * 2 >= v.len()
}

/// Runs a rule's structural check on the value `data[value]`.
pub fn validate(validator: Validator, data: &[u8], value: std::ops::Range<usize>) -> bool {
    let v = &data[value.clone()];
    match validator {
        Validator::UrlCredentials => {
            // Documentation hosts and the developer's own machine: a password there is a
            // sample or a local default, not a leaked credential.
            let host = &data[value.end..];
            let host = host.strip_prefix(b"@").unwrap_or(host);
            let end = host
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || b"-._".contains(b)))
                .unwrap_or(host.len());
            let host = host[..end].to_ascii_lowercase();
            let local = [
                &b"localhost"[..],
                b"127.0.0.1",
                b"0.0.0.0",
                b"host.docker.internal",
            ]
            .contains(&host.as_slice())
                || [
                    &b"example.com"[..],
                    b"example.org",
                    b"example.net",
                    b".example",
                    b".local",
                    b".test",
                    b".invalid",
                ]
                .iter()
                .any(|h| host.ends_with(h));
            !local && value_is_secret(b"", data, value, true)
        }
        Validator::Jwt => is_private_jwt(v),
        Validator::BasicAuth => {
            let Some(decoded) = crate::decode::base64(v) else {
                return false;
            };
            match memchr::memchr(b':', &decoded) {
                Some(colon) if colon > 0 => {
                    value_is_secret(b"", &decoded, colon + 1..decoded.len(), true)
                }
                _ => false,
            }
        }
    }
}

/// Whether `token` is a signed JWT that grants something. Public tokens are not secrets: a
/// Supabase `anon` key ships in every browser bundle, and the jwt.io sample (`John Doe`,
/// subject `1234567890`) fills documentation everywhere.
fn is_private_jwt(token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let json = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = crate::decode::base64(part)?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let (Some(header), Some(payload)) = (json(header), json(payload)) else {
        return false;
    };
    let field = |map: &serde_json::Map<String, serde_json::Value>, key: &str| {
        map.get(key).and_then(|v| v.as_str()).map(str::to_owned)
    };
    let alg = field(&header, "alg").unwrap_or_default();
    if alg.is_empty() || alg.eq_ignore_ascii_case("none") || signature.is_empty() {
        return false;
    }
    let role = field(&payload, "role").unwrap_or_default();
    let sample = field(&payload, "sub").as_deref() == Some("1234567890")
        && field(&payload, "name").as_deref() == Some("John Doe");
    role != "anon" && !sample
}

/// Hex values assigned to these names are keys even at SHA length (some providers use 40 hex).
fn quoted_in_env(name: &[u8]) -> bool {
    let n = name.to_ascii_lowercase();
    contains(&n, b"key") || contains(&n, b"secret")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// `8-4-4-4-12` hex digits.
pub fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_heuristics() {
        for (s, want) in [
            (&b"AKIAIOSFODNN7EXAMPLE"[..], true),
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
    fn entropy_of_uniform_and_constant_strings() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(entropy(b""), 0.0);
    }

    #[test]
    fn assigned_values() {
        let cases: &[(&str, &str, bool)] = &[
            ("api_key", "q8ZfR2mXv9LpT4wKc7Nh", true),
            ("password", "Tr0ub4dor&3x", true),
            ("password", "password", false),
            ("password", "changeme123", false),
            ("secret", "test", false),
            ("api_key", "os.environ.get", false),
            ("token", "${GITHUB_TOKEN}", false),
            ("max_tokens", "4096", false),
            ("token_type", "Bearer", false),
            ("password_hash", "$2b$12$abcdefghijklmnopqrstuv", false),
            ("secret_key_file", "./secrets/prod.key", false),
            ("session_id", "9f8e7d6c5b4a39281706", false),
            (
                "client_secret",
                "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
                false,
            ),
            ("api_key", "self.apiKey", false),
            ("password", "userPassword", false),
        ];
        for (name, value, want) in cases {
            let data = format!("\"{value}\"");
            let got = assigned_value_is_secret(
                name.as_bytes(),
                data.as_bytes(),
                1..1 + value.len(),
                false,
            );
            assert_eq!(got, *want, "{name} = {value}");
        }
    }
}
