//! What a value assigned to a name like `api_key` or `password` can be instead of a secret —
//! the generic rules match any such value: a reference to the environment or a secret
//! manager, a template, a path, an identifier, a hash, a UUID, a label. Each kind of
//! look-alike is one named step; [`value_is_secret`] runs them in a fixed order.

use super::name::Name;
use super::placeholders::{has_mask, has_placeholder_word};
use super::randomness::{camel_words, entropy, is_uuid, made_of_words, varied};
use super::structure::is_private_jwt;
use super::urls::{in_public_url, on_local_connection_line};
use super::words::{ALGORITHMS, CODE_EXTENSIONS, REFERENCES, SHORT_VALUE_WORDS};
use std::ops::Range;

/// Whether the value `data[value]`, assigned to `name`, looks like a real secret rather than
/// one of its look-alikes. Used by rules with `assignment = true`.
/// `code` says the file is source code, where an unquoted value is an expression (a variable,
/// a type), never a literal; in config files (`.env`, YAML, INI) it is the value itself.
pub(crate) fn assigned_value_is_secret(
    name: &[u8],
    data: &[u8],
    value: Range<usize>,
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
    value_is_secret(name, data, value, quoted, code)
}

/// Whether `path` names a source file in a programming language (by its extension: the
/// `code_extensions` table of `words.toml`).
pub(crate) fn is_code_path(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    CODE_EXTENSIONS.found_in(&name[dot + 1..])
}

/// [`assigned_value_is_secret`], told whether the value is a literal (`quoted`, or in a place
/// where code cannot stand, such as a URL's password); `name` is empty for a password known
/// by its place (a URL's, a Basic auth header's).
pub(super) fn value_is_secret(
    name: &[u8],
    data: &[u8],
    value: Range<usize>,
    quoted: bool,
    code: bool,
) -> bool {
    verdict(&Value {
        name: Name::new(name),
        v: &data[value.clone()],
        data,
        span: value,
        quoted,
        code,
    })
    .is_secret()
}

/// A value assigned to a name, as the steps read it.
struct Value<'a> {
    name: Name<'a>,
    /// The value's bytes: `data[span]`.
    v: &'a [u8],
    /// The file (or decoded text) it sits in, for what surrounds it.
    data: &'a [u8],
    span: Range<usize>,
    /// A literal: quoted, or where code cannot stand.
    quoted: bool,
    /// In a source file (see [`assigned_value_is_secret`]).
    code: bool,
}

/// What the steps made of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// One of the look-alikes, named by the step that recognised it.
    LookAlike(&'static str),
    /// A JWT: a secret when it grants something (see [`is_private_jwt`]).
    Jwt(bool),
    /// None of the look-alikes: a secret when it has the variety of a generated value.
    Other(bool),
}

impl Verdict {
    fn is_secret(self) -> bool {
        match self {
            Verdict::LookAlike(_) => false,
            Verdict::Jwt(secret) | Verdict::Other(secret) => secret,
        }
    }
}

/// A kind of look-alike: its name, and whether a value is one.
type Step = (&'static str, fn(&Value) -> bool);

/// The look-alikes every value is checked for, JWTs included, in this order: what the text
/// around the value and its name say first, then its own form, the cheaper and more common
/// look-alikes before the rarer. Only a step's place relative to the JWT check changes a
/// verdict: the steps are rejections, so among themselves their order is a matter of cost.
const LOOK_ALIKES: &[Step] = &[
    (
        "cut short by a template, or not ASCII",
        cut_short_or_not_ascii,
    ),
    (
        "its name holds something about a secret",
        name_holds_no_secret,
    ),
    ("a published public value or a URN", public_value_or_urn),
    (
        "a weak name's value that does not look generated",
        weak_name_plain_value,
    ),
    ("words run together, quoted", quoted_camel_words),
    ("words joined by separators", words_joined_by_separators),
    ("a number", number),
    ("a public URL's query parameter", public_url_parameter),
    ("a local connection string's", local_connection_string),
    ("an algorithm's name", algorithm_name),
    ("an environment variable's name, quoted", variable_name),
    ("a path of words", path_of_words),
    ("base64 of words", base64_of_words),
    ("short hex", short_hex),
    ("a token with a colon before it", colon_joined),
    ("a placeholder or a mask", placeholder),
    ("a reference to where the value lives", reference),
    ("a path, a file name or an e-mail address", path_or_email),
    ("code: a path, a macro or a call", code_expression),
    ("a constant's or a variable's name", constant_or_variable),
];

/// The look-alikes that a JWT is not checked for: it is judged as one instead (public tokens
/// such as Supabase `anon` keys are not secrets), and these shapes never hold one.
const NOT_JWT_LOOK_ALIKES: &[Step] = &[
    ("a resource id", resource_id),
    ("a UUID, a git SHA or a SHA-256 digest", uuid_or_digest),
    ("an identifier", identifier),
    ("a label", label),
    ("words joined by dashes or underscores", dashed_words),
];

/// The steps, in order: the look-alikes, the JWT check, the look-alikes a JWT is not, and
/// last the variety a generated value has.
fn verdict(value: &Value) -> Verdict {
    let first = |steps: &[Step]| steps.iter().find(|(_, is)| is(value)).map(|s| s.0);
    if let Some(step) = first(LOOK_ALIKES) {
        return Verdict::LookAlike(step);
    }
    let v = value.v;
    if v.starts_with(b"eyJ") && v.iter().filter(|&&b| b == b'.').count() == 2 {
        return Verdict::Jwt(is_private_jwt(v));
    }
    if let Some(step) = first(NOT_JWT_LOOK_ALIKES) {
        return Verdict::LookAlike(step);
    }
    Verdict::Other(varied(v))
}

/// A value cut short by a template (`key-{{ env }}`, `pre${SUFFIX}`) or made of non-ASCII
/// text (a label in another language) is not a credential.
fn cut_short_or_not_ascii(x: &Value) -> bool {
    x.data.get(x.span.end).is_some_and(|b| b"{<$%".contains(b)) || !x.v.is_ascii()
}

/// See [`Name::holds_no_secret`].
fn name_holds_no_secret(x: &Value) -> bool {
    x.name.holds_no_secret()
}

/// Values published as examples that are never secret: the Azure Storage emulator's account
/// key, which Microsoft documents and every Azurite setup uses.
const WELL_KNOWN_PUBLIC: &[&[u8]] =
    &[b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="];

/// [`WELL_KNOWN_PUBLIC`], or a URN (`urn:oasis:names:tc:SAML:1.0:assertion`).
fn public_value_or_urn(x: &Value) -> bool {
    WELL_KNOWN_PUBLIC.contains(&x.v) || x.v.starts_with(b"urn:")
}

/// A name that says only "key" (`ACME_KEY`, `activationKey`, `result_key`) holds a secret
/// less often than one that says "secret" or "token": its value must look generated — 16
/// bytes or more, a digit, 3.5 bits of entropy per byte, not words run together.
fn weak_name_plain_value(x: &Value) -> bool {
    let v = x.v;
    !x.name.is_empty()
        && !x.name.is_strong()
        && (v.len() < 16 || !v.iter().any(u8::is_ascii_digit) || entropy(v) < 3.5 || camel_words(v))
}

/// Words run together (`AWSAccessKeyId`, `pkInitKDC`) are identifiers, not keys.
fn quoted_camel_words(x: &Value) -> bool {
    x.quoted && !x.v.iter().any(u8::is_ascii_digit) && camel_words(x.v)
}

/// Words joined by separators (`struct.HashMap.html#method.into_keys`, `a-b_c/d`): a link, a
/// path or a label.
fn words_joined_by_separators(x: &Value) -> bool {
    let word = |seg: &[u8]| {
        let (first, rest) = seg.split_first().unwrap_or((&b'a', &[]));
        seg.iter().all(u8::is_ascii_lowercase)
            || (first.is_ascii_uppercase() && rest.iter().all(u8::is_ascii_lowercase))
            || (seg.len() <= 5 && seg.iter().all(u8::is_ascii_uppercase))
            || camel_words(seg)
    };
    let segments = || x.v.split(|b| b"._#-/:".contains(b));
    !x.name.is_empty()
        && segments().filter(|seg| !seg.is_empty()).count() >= 2
        && segments().all(word)
}

/// Numbers: counts, ports, timeouts.
fn number(x: &Value) -> bool {
    x.v.iter().all(u8::is_ascii_digit)
}

/// See [`in_public_url`].
fn public_url_parameter(x: &Value) -> bool {
    in_public_url(x.data, x.span.clone())
}

/// A connection string for the developer's machine (`Server=localhost;…;Password=…`).
fn local_connection_string(x: &Value) -> bool {
    !x.name.is_empty() && on_local_connection_line(x.data, x.span.clone())
}

/// Algorithm and key-type names (`ssh-ed25519`, `aes-256-gcm`, `HS256`; the `algorithms`
/// table of `words.toml`).
fn algorithm_name(x: &Value) -> bool {
    x.v.len() <= 24 && ALGORITHMS.found_in(x.v)
}

/// The name of an environment variable or a setting, quoted: `ACCESS_KEY =
/// "AWS_ACCESS_KEY_ID"`, `CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"`.
fn variable_name(x: &Value) -> bool {
    let v = x.v;
    x.quoted
        && v.contains(&b'_')
        && v.first().is_some_and(u8::is_ascii_uppercase)
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
}

/// A path of words is a label or a route (`"auth-request-type/at"`, `"oauth/token"`).
fn path_of_words(x: &Value) -> bool {
    x.v.contains(&b'/')
        && x.v.split(|&b| b == b'/').all(|seg| {
            seg.iter()
                .all(|b| b.is_ascii_lowercase() || b"-_".contains(b))
        })
}

/// Base64 of words (`aGVsbG8gd29ybGQ=`, "hello world"): a label, encoded. A password
/// encoded is judged as the password.
fn base64_of_words(x: &Value) -> bool {
    base64_of_text(x.v).is_some_and(|text| {
        text.iter().any(u8::is_ascii_whitespace) || text.iter().all(u8::is_ascii_alphabetic)
    })
}

/// Standard base64 that decodes to printable ASCII text, for values that look encoded: a
/// length of 12 or more, in whole groups of four.
fn base64_of_text(v: &[u8]) -> Option<Vec<u8>> {
    let body = v.iter().position(|&b| b == b'=').unwrap_or(v.len());
    if v.len() < 12
        || !v.len().is_multiple_of(4)
        || v.len() - body > 2
        || !v[..body]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/".contains(b))
        || !v[body..].iter().all(|&b| b == b'=')
    {
        return None;
    }
    let text = crate::scan::decode::base64(v)?;
    text.iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ')
        .then_some(text)
}

/// Short hex is an id or a truncated hash (`"ApiKey": "48205d4ffd7feba3"`), not a key.
fn short_hex(x: &Value) -> bool {
    x.v.len() < 20 && x.v.iter().all(u8::is_ascii_hexdigit)
}

/// `name:value` with nothing between is not an assignment but one token (`token::Kind`,
/// `"secretsmanager:ResourceTag/…"`): YAML needs a space after the colon, code quotes.
fn colon_joined(x: &Value) -> bool {
    !x.quoted && x.span.start > 0 && x.data[x.span.start - 1] == b':'
}

/// A placeholder word (see [`has_placeholder_word`]), a mask, or in a short value a keyboard
/// run (the `short_value_words` table of `words.toml`).
fn placeholder(x: &Value) -> bool {
    has_placeholder_word(x.v)
        || has_mask(x.v)
        || (x.v.len() <= 20 && SHORT_VALUE_WORDS.found_in(x.v))
}

/// A reference to where the value really lives (the `references` table of `words.toml`), or
/// a value that starts like one (see [`starts_like_reference`]).
fn reference(x: &Value) -> bool {
    // `#` starts a comment only where YAML reads one: after `key: `. An env or INI value
    // (`DB_PASSWORD = #a1…`) and a Dockerfile's `ENV NAME #a1…` are values.
    let before = x.data[..x.span.start].trim_ascii_end();
    let after_space = x.span.start > 0
        && matches!(x.data[x.span.start - 1], b' ' | b'\t')
        && before.ends_with(b":");
    starts_like_reference(x.v, x.quoted && !after_space, after_space) || REFERENCES.found_in(x.v)
}

/// Whether the first characters of a value make it a reference or a structure rather than a
/// literal: `$VAR`, `%(name)s`, `{…}`, `<…>`, `[…]`, `(…)`, `\\…`, `~/path`, `./path`, `.attr`,
/// `==`, a YAML anchor or alias (`&name`, `*name`), a Ruby symbol (`:name`), a comment (`#`
/// unquoted), a lowercase absolute path. Passwords start with such characters too (`_`, `*`,
/// `#`, `=`, `%`), so each is judged with what follows it.
fn starts_like_reference(v: &[u8], quoted: bool, after_space: bool) -> bool {
    let (Some(&first), rest) = (v.first(), v.get(1..).unwrap_or_default()) else {
        return false;
    };
    let second = rest.first().copied().unwrap_or(0);
    let name_like = |r: &[u8]| r.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    match first {
        b'$' | b'{' | b'<' | b'[' | b'(' | b'\\' => true,
        b'%' => matches!(second, b'(' | b'{') || v.ends_with(b"%"),
        b'&' | b'*' | b':' => name_like(rest),
        b'#' => !quoted && after_space,
        b'~' => {
            second == b'/'
                || rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"._".contains(b))
        }
        b'.' => second == b'/' || name_like(rest),
        b'=' => second == b'=',
        b'/' => v
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/_.-".contains(b)),
        _ => false,
    }
}

/// Paths and file names (`certs/client.key`) and e-mail addresses (`ops@example.org`).
fn path_or_email(x: &Value) -> bool {
    let v = x.v;
    (v.contains(&b'/') || v.contains(&b'@')) && v.contains(&b'.') && !v.contains(&b'+')
}

/// Code, not a literal: a path (`windows_sys::core::PCWSTR`, `Token::Literal`), a macro or
/// function call (`bracketed!(…)`, `load(…)`). (A `!` ends many a password in a config file;
/// in code it ends a macro name.)
fn code_expression(x: &Value) -> bool {
    memchr::memmem::find(x.v, b"::").is_some()
        || (!x.quoted && ((x.code && x.v.ends_with(b"!")) || x.data.get(x.span.end) == Some(&b'(')))
}

/// SCREAMING_SNAKE and snake_case names (`MSV1_0_CREDENTIAL_KEY_TYPE`, `_bindgen_ty_3`)
/// unquoted are constants and variables: a random value is not all one case.
fn constant_or_variable(x: &Value) -> bool {
    let v = x.v;
    !x.quoted
        && v.contains(&b'_')
        && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && (!v.iter().any(u8::is_ascii_lowercase) || !v.iter().any(u8::is_ascii_uppercase))
}

/// Twilio-style resource ids (`AC…`, `SK…`: two capitals and 32 hex digits) name an account
/// or key; the secret is the token that goes with them.
fn resource_id(x: &Value) -> bool {
    let v = x.v;
    v.len() == 34
        && v[..2].iter().all(u8::is_ascii_uppercase)
        && v[2..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// UUIDs; git SHAs and SHA-256 digests, unless the name takes hex keys of that length
/// ([`Name::takes_hex_keys`]).
fn uuid_or_digest(x: &Value) -> bool {
    let v = x.v;
    is_uuid(v)
        || (v.len() == 40 || v.len() == 64)
            && v.iter().all(u8::is_ascii_hexdigit)
            && !x.name.takes_hex_keys()
}

impl Value<'_> {
    /// Letters, digits, `_` and `.` only.
    fn is_identifier(&self) -> bool {
        self.v
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    }

    /// A dotted name (`config.secret_token`, `os.environ`) is a reference; a dotted token
    /// (Discord's, with digits in its parts) is not.
    fn is_dotted_name(&self) -> bool {
        self.v.contains(&b'.')
            && self.v.split(|&b| b == b'.').all(|seg| {
                !seg.is_empty()
                    && (seg.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_')
                        || (seg.first().is_some_and(u8::is_ascii_alphabetic)
                            && seg.iter().filter(|b| b.is_ascii_digit()).count() <= 1))
            })
    }

    fn has_digit(&self) -> bool {
        self.v.iter().any(u8::is_ascii_digit)
    }

    fn capitals(&self) -> usize {
        self.v.iter().filter(|b| b.is_ascii_uppercase()).count()
    }
}

/// Unquoted identifiers in code are variables (`password = userPassword`); a letters-only
/// dotted or snake name is a reference, not a value. Words in an identifier start with a
/// capital (`userPassword`, `DB_PASSWORD`); a random letters-only value (one alphanumeric
/// password in 30 has no digit) is half capitals.
fn identifier(x: &Value) -> bool {
    let v = x.v;
    let dotted_name = x.is_dotted_name();
    let lower = v.iter().filter(|b| b.is_ascii_lowercase()).count();
    let word_like = x.capitals() * 3 <= v.len() || lower == 0 || v.contains(&b'_') || dotted_name;
    x.is_identifier()
        && (!x.quoted || dotted_name)
        && ((!x.has_digit() && word_like) || dotted_name)
}

/// Quoted words are labels and enum values (`"next_marker"`, `"IAmSensitive"`), not keys; a
/// password in a URL or an auth entry (no name) is never a label.
fn label(x: &Value) -> bool {
    !x.name.is_empty()
        && x.is_identifier()
        && !x.has_digit()
        && (made_of_words(x.v) || (x.capitals() == 0 && x.v.contains(&b'_')))
}

/// Words joined by dashes or underscores (`not-supported`,
/// `Access-Control-Allow-Credentials`) are labels and header names too.
fn dashed_words(x: &Value) -> bool {
    !x.name.is_empty()
        && x.v
            .split(|b| b"-_".contains(b))
            .all(|w| match w.split_first() {
                Some((first, rest)) => {
                    first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_lowercase)
                }
                None => true,
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the steps make of `value`, quoted, assigned to `name` in a config file.
    fn judged(name: &str, value: &str) -> Verdict {
        judged_in(name, &format!("\"{value}\""), value)
    }

    /// What the steps make of `value`, quoted, at its first place in `data`.
    fn judged_in(name: &str, data: &str, value: &str) -> Verdict {
        let at = data.find(value).expect("the value is in the data");
        verdict(&Value {
            name: Name::new(name.as_bytes()),
            v: value.as_bytes(),
            data: data.as_bytes(),
            span: at..at + value.len(),
            quoted: true,
            code: false,
        })
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
            // Settings about a secret, names of variables, labels, links, identifiers.
            ("password_hash_algorithm", "argon2id-v19", false),
            ("PasswordLastUsed", "2024-05-01T10:00:00Z", false),
            ("ACCESS_KEY", "AWS_ACCESS_KEY_ID", false),
            ("CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS", false),
            (
                "TOKEN_TYPE_V1",
                "urn:oasis:names:tc:SAML:1.0:assertion",
                false,
            ),
            ("token_path", "auth-request-type/at", false),
            ("ACCESS_KEY", "AWSAccessKeyId", false),
            ("result_key", "Ipv6CidrAssociations", false),
            ("limit_key", "maximumPageSize", false),
            ("secret", "aGVsbG8gd29ybGQ=", false),
            ("into_keys", "struct.HashMap.html#method.into_keys", false),
            (
                "credential",
                "~azure.core.credentials.AzureKeyCredential",
                false,
            ),
            // Real values: symbols, a provider's own `_key`, a base64-encoded password.
            ("SMTP_PASSWORD", "Xk9!pQ~2*vL.7=", true),
            ("ACME_KEY", "q8ZfR2mXv9LpT4wKc7NhY3bD", true),
            ("db_password", "UzNjcjN0UEBzcw==", true),
        ];
        for (name, value, want) in cases {
            let data = format!("\"{value}\"");
            let got = assigned_value_is_secret(
                name.as_bytes(),
                data.as_bytes(),
                1..1 + value.len(),
                false,
            );
            assert_eq!(got, *want, "{name} = {value}: {:?}", judged(name, value));
        }
    }

    /// Each look-alike is told by the step named for it (a regression names the step that
    /// let a value through, or took it).
    #[test]
    fn each_look_alike_is_told_by_its_own_step() {
        for (name, value, step) in [
            (
                "token_type",
                "Bearer",
                "its name holds something about a secret",
            ),
            (
                "ACME_KEY",
                "activation",
                "a weak name's value that does not look generated",
            ),
            ("secret", "AWSAccessKeyId", "words run together, quoted"),
            ("secret", "12345678901234567", "a number"),
            ("secret", "ssh-ed25519", "an algorithm's name"),
            (
                "secret",
                "AWS_SECRET_ACCESS_KEY",
                "an environment variable's name, quoted",
            ),
            ("secret", "aGVsbG8gd29ybGQ=", "base64 of words"),
            ("secret", "48205d4ffd7feba3", "short hex"),
            ("secret", "your-secret-here-1", "a placeholder or a mask"),
            (
                "secret",
                "vault:prod/db#pw1",
                "a reference to where the value lives",
            ),
            (
                "secret",
                "certs/Q7x.pem",
                "a path, a file name or an e-mail address",
            ),
            (
                "secret",
                "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
                "a UUID, a git SHA or a SHA-256 digest",
            ),
            ("secret", "cfg.v2x", "an identifier"),
            ("secret", "IAmSensitive", "a label"),
            // Words joined by dashes are mostly told by the step for separators, earlier.
            ("secret", "Xyz", "words joined by dashes or underscores"),
        ] {
            assert_eq!(
                judged(name, value),
                Verdict::LookAlike(step),
                "{name} = {value}"
            );
        }
        assert_eq!(
            judged_in("password", "\"pre${SUFFIX}\"", "pre"),
            Verdict::LookAlike("cut short by a template, or not ASCII")
        );
        // A hex value of a SHA's length is a key under a name that takes hex keys.
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let digest = Verdict::LookAlike("a UUID, a git SHA or a SHA-256 digest");
        assert_eq!(judged("commit", sha), digest);
        assert_eq!(judged("secret_key", sha), Verdict::Other(true));
    }

    #[test]
    fn source_files_by_extension() {
        assert!(is_code_path(b"src/app.PY"));
        assert!(is_code_path(b"a/b.rs"));
        assert!(!is_code_path(b"config/.env"));
        assert!(!is_code_path(b"Makefile"));
        assert!(!is_code_path(b"settings.yaml"));
    }
}
