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

/// Words that make an assigned value a placeholder or a label wherever they occur in it.
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

/// Whether `value` holds one of the placeholder words that make the generic rules pass it by
/// (`your`, `test`, `null`, …). A random key holds one by chance about once in two thousand.
pub fn has_placeholder_word(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    WORDS.iter().any(|w| contains(&lower, w))
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
    value_is_secret(name, data, value, quoted, code)
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
fn value_is_secret(
    name: &[u8],
    data: &[u8],
    value: std::ops::Range<usize>,
    quoted: bool,
    code: bool,
) -> bool {
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
        b"keys",
        b"tokenizer",
        b"publickey",
        b"maxtokens",
        // Settings about a secret, not the secret: `password_hash_algorithm: argon2id`,
        // `PasswordLastUsed: 2024-…`, `token_refresh_enabled: yes`.
        b"algorithm",
        b"algo",
        b"scheme",
        b"cipher",
        b"kdf",
        b"strength",
        b"rounds",
        b"iterations",
        b"complexity",
        b"history",
        b"lastused",
        b"used",
        b"changed",
        b"changedat",
        b"createdat",
        b"updatedat",
        b"expiresat",
        b"rotatedat",
        b"enabled",
        b"required",
        b"hint",
        b"validator",
        b"validation",
        b"encoding",
        b"encoder",
        b"hasher",
        b"rule",
        b"rules",
        b"maxage",
        b"minage",
        b"source",
        b"backend",
        b"manager",
        b"helper",
        b"handler",
        b"class",
        b"module",
        b"command",
        b"script",
        b"template",
        // `_key` names that hold no secret: database and cache keys, lookups, UI keys.
        b"primarykey",
        b"foreignkey",
        b"sortkey",
        b"partitionkey",
        b"rangekey",
        b"hashkey",
        b"cachekey",
        b"rowkey",
        b"lookupkey",
        b"mapkey",
        b"objectkey",
        b"bucketkey",
        b"s3key",
        b"storagekey",
        b"querykey",
        b"routekey",
        b"routingkey",
        b"eventkey",
        b"groupkey",
        b"shardkey",
        b"indexkey",
        b"tablekey",
        b"columnkey",
        b"fieldkey",
        b"i18nkey",
        b"translationkey",
        b"labelkey",
        b"messagekey",
        b"localekey",
        b"hotkey",
        b"shortcutkey",
        b"dedupkey",
        b"idempotencykey",
        b"sshkey",
        b"gpgkey",
        b"licensekey",
        b"reactkey",
        b"uniquekey",
        b"compositekey",
        b"statekey",
        b"contextkey",
        b"configkey",
        b"settingkey",
        b"settingskey",
        b"metadatakey",
        b"tagkey",
        b"labelselectorkey",
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
    // A trailing version or index is not part of what the name says (`SAML_TOKEN_TYPE_V1`).
    let trimmed = compact.trim_ascii_end();
    let mut base = trimmed.len();
    while base > 0 && trimmed[base - 1].is_ascii_digit() {
        base -= 1;
    }
    if base < trimmed.len() && base > 0 && trimmed[base - 1] == b'v' {
        base -= 1;
    }
    let unversioned = &compact[..base];
    if NOT_SECRET_SUFFIXES
        .iter()
        .any(|s| compact.ends_with(s) || unversioned.ends_with(s))
        || NOT_SECRET_TOKENS.iter().any(|t| contains(&compact, t))
    {
        return false;
    }
    if WELL_KNOWN_PUBLIC.contains(&v) || v.starts_with(b"urn:") {
        return false;
    }
    // A name that says only "key" (`ACME_KEY`, `activationKey`, `result_key`) holds a secret
    // less often than one that says "secret" or "token": its value must look generated.
    const STRONG: &[&[u8]] = &[
        b"apikey",
        b"secret",
        b"token",
        b"passw",
        b"pwd",
        b"credential",
        b"authkey",
        b"accesskey",
        b"privatekey",
        b"signingkey",
        b"encryptionkey",
        b"masterkey",
        b"clientkey",
        b"serverkey",
        b"licensekey",
    ];
    if !name.is_empty() && !STRONG.iter().any(|w| contains(&compact, w)) {
        let digits = v.iter().filter(|b| b.is_ascii_digit()).count();
        if v.len() < 16 || digits == 0 || entropy(v) < 3.5 || camel_words(v) {
            return false;
        }
    }
    // Words run together (`AWSAccessKeyId`, `pkInitKDC`) are identifiers, not keys.
    if quoted && !v.iter().any(u8::is_ascii_digit) && camel_words(v) {
        return false;
    }
    // Words joined by separators (`struct.HashMap.html#method.into_keys`, `a-b_c/d`): a
    // link, a path or a label.
    let word = |seg: &[u8]| {
        let (first, rest) = seg.split_first().unwrap_or((&b'a', &[]));
        seg.iter().all(u8::is_ascii_lowercase)
            || (first.is_ascii_uppercase() && rest.iter().all(u8::is_ascii_lowercase))
            || (seg.len() <= 5 && seg.iter().all(u8::is_ascii_uppercase))
            || camel_words(seg)
    };
    if !name.is_empty()
        && v.split(|b| b"._#-/:".contains(b))
            .filter(|seg| !seg.is_empty())
            .count()
            >= 2
        && v.split(|b| b"._#-/:".contains(b)).all(word)
    {
        return false;
    }
    if v.iter().all(u8::is_ascii_digit) {
        return false; // numbers: counts, ports, timeouts
    }
    if in_public_url(data, value.clone()) {
        return false;
    }
    // A connection string for the developer's machine (`Server=localhost;…;Password=…`).
    if !name.is_empty() {
        let line_start = memchr::memrchr(b'\n', &data[..value.start]).map_or(0, |i| i + 1);
        let line_end =
            memchr::memchr(b'\n', &data[value.end..]).map_or(data.len(), |i| value.end + i);
        let line = &data[line_start..line_end];
        if memchr::memchr(b';', line).is_some()
            && connection_host(line).is_some_and(|h| is_local_or_documentation_host(&h))
        {
            return false;
        }
    }
    // Algorithm and key-type names (`ssh-ed25519`, `aes-256-gcm`, `HS256`).
    const ALGORITHMS: &[&[u8]] = &[
        b"ssh-",
        b"ecdsa-",
        b"ed25519",
        b"rsa-",
        b"aes-",
        b"aes128",
        b"aes256",
        b"sha1",
        b"sha256",
        b"sha384",
        b"sha512",
        b"hmac-",
        b"hmacsha",
        b"argon2",
        b"bcrypt",
        b"pbkdf2",
        b"scrypt",
        b"chacha20",
        b"x25519",
        b"secp256",
        b"prime256",
        b"hs256",
        b"rs256",
        b"es256",
    ];
    let folded = v.to_ascii_lowercase();
    if v.len() <= 24 && ALGORITHMS.iter().any(|a| folded.starts_with(a)) {
        return false;
    }
    // The name of an environment variable or a setting, quoted: `ACCESS_KEY =
    // "AWS_ACCESS_KEY_ID"`, `CREDENTIALS = "GOOGLE_APPLICATION_CREDENTIALS"`.
    if quoted
        && v.contains(&b'_')
        && v.first().is_some_and(u8::is_ascii_uppercase)
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
    {
        return false;
    }
    // A path of words is a label or a route (`"auth-request-type/at"`, `"oauth/token"`).
    if v.contains(&b'/')
        && v.split(|&b| b == b'/').all(|seg| {
            seg.iter()
                .all(|b| b.is_ascii_lowercase() || b"-_".contains(b))
        })
    {
        return false;
    }
    // Base64 of words (`aGVsbG8gd29ybGQ=`, "hello world"): a label, encoded. A password
    // encoded is judged as the password.
    if let Some(text) = base64_of_text(v) {
        if text.iter().any(u8::is_ascii_whitespace) || text.iter().all(u8::is_ascii_alphabetic) {
            return false;
        }
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
    // Keyboard runs such as `abc123` and `12345678` make short values fake, but they also
    // turn up by chance inside long random hex (one in 700 for 48 digits): only short values
    // are judged by them.
    const SHORT_WORDS: &[&[u8]] = &[b"abc1", b"1234"];
    // A mask is written in one case (`xxx`, `XXX`); `XxX` turns up in random values.
    if has_placeholder_word(v)
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
    // `#` starts a comment only after white space (`key: # note`); `PASSWORD=#a1…` in an env
    // or INI file is a value.
    // …and only where `#` starts a comment: after `key: ` in YAML. An env or INI value
    // (`DB_PASSWORD = #a1…`) and a Dockerfile's `ENV NAME #a1…` are values.
    let before = data[..value.start].trim_ascii_end();
    let after_space =
        value.start > 0 && matches!(data[value.start - 1], b' ' | b'\t') && before.ends_with(b":");
    if starts_like_reference(v, quoted && !after_space, after_space)
        || REFERENCES.iter().any(|r| contains(&lower, r))
    {
        return false;
    }
    // Paths and file names (`certs/client.key`) and e-mail addresses (`ops@example.org`).
    if (v.contains(&b'/') || v.contains(&b'@')) && v.contains(&b'.') && !v.contains(&b'+') {
        return false;
    }
    // Code, not a literal: a path (`windows_sys::core::PCWSTR`, `Token::Literal`), a macro
    // or function call (`bracketed!(…)`, `load(…)`).
    // (A `!` ends many a password in a config file; in code it ends a macro name.)
    if contains(v, b"::")
        || (!quoted && ((code && v.ends_with(b"!")) || data.get(value.end) == Some(&b'(')))
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
    // A dotted name (`config.secret_token`, `os.environ`) is a reference; a dotted token
    // (Discord's, with digits in its parts) is not.
    let dotted_name = v.contains(&b'.')
        && v.split(|&b| b == b'.').all(|seg| {
            !seg.is_empty()
                && (seg.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_')
                    || (seg.first().is_some_and(u8::is_ascii_alphabetic)
                        && seg.iter().filter(|b| b.is_ascii_digit()).count() <= 1))
        });
    // Words in an identifier start with a capital (`userPassword`, `DB_PASSWORD`); a random
    // letters-only value (one alphanumeric password in 30 has no digit) is half capitals.
    let upper = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = v.iter().filter(|b| b.is_ascii_lowercase()).count();
    let word_like = upper * 3 <= v.len() || lower == 0 || v.contains(&b'_') || dotted_name;
    let no_digit = !v.iter().any(u8::is_ascii_digit);
    if identifier && (!quoted || dotted_name) && ((no_digit && word_like) || dotted_name) {
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

/// Values published as examples that are never secret: the Azure Storage emulator's account
/// key, which Microsoft documents and every Azurite setup uses.
const WELL_KNOWN_PUBLIC: &[&[u8]] =
    &[b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="];

/// Whether `v` reads as words run together, as identifiers are written (`AWSAccessKeyId`,
/// `pkInitKDC`, `Ipv6CidrAssociations`, `maximumPageSize`): letters and at most two digits,
/// every segment a word — a capital and two or more lowercase letters, a lowercase run, an
/// acronym of two to four capitals, a short number, or a trailing `Id`-like pair — and three
/// characters a segment on average. Random characters leave single capitals and pairs behind.
fn camel_words(v: &[u8]) -> bool {
    if v.len() < 6
        || !v.iter().all(u8::is_ascii_alphanumeric)
        || v.iter().filter(|b| b.is_ascii_digit()).count() > 2
    {
        return false;
    }
    // Segment starts: a capital after a lowercase letter or a digit, the capital that begins
    // a word after an acronym (`AWSAccess`: the second `A`), a digit run, a letter after one.
    let mut starts = vec![0];
    for i in 1..v.len() {
        let (prev, cur) = (v[i - 1], v[i]);
        let next_lower = v.get(i + 1).is_some_and(u8::is_ascii_lowercase);
        if (cur.is_ascii_uppercase()
            && (prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)))
            || (cur.is_ascii_digit() && prev.is_ascii_lowercase())
            || (cur.is_ascii_alphabetic() && prev.is_ascii_digit())
        {
            starts.push(i);
        }
    }
    starts.push(v.len());
    let segments: Vec<&[u8]> = starts.windows(2).map(|w| &v[w[0]..w[1]]).collect();
    let last = segments.len() - 1;
    segments.len() >= 2
        && v.len() >= segments.len() * 3
        && segments.iter().enumerate().all(|(i, seg)| {
            let (head, tail) = seg.split_at(1);
            let capitalized =
                head[0].is_ascii_uppercase() && tail.iter().all(u8::is_ascii_lowercase);
            (capitalized && (seg.len() >= 3 || (i == last && seg.len() == 2)))
                || (seg.len() >= 2 && seg.iter().all(u8::is_ascii_lowercase))
                || ((2..=4).contains(&seg.len()) && seg.iter().all(u8::is_ascii_uppercase))
                || seg.iter().all(u8::is_ascii_digit)
                // `V2`, `S3`, `MD5`: capitals and a version.
                || (seg.first().is_some_and(u8::is_ascii_uppercase)
                    && seg.len() <= 5
                    && seg.iter().any(u8::is_ascii_digit)
                    && seg.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
        })
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
            let host = &data[value.end..];
            let host = host_name(host.strip_prefix(b"@").unwrap_or(host));
            if is_local_or_documentation_host(&host) {
                return false;
            }
            // On a real host (a domain name or an address), any password that is not a
            // template, a placeholder or the user name again is the real one, even a
            // dictionary word (`sunshine` as the password of a MongoDB Atlas cluster). On a
            // single-label host (`db`, `redis`: a compose service) it is judged like any value.
            if host.contains(&b'.') {
                let user = url_user(data, value.start);
                return plausible_password(v) && v != user;
            }
            value_is_secret(b"", data, value, true, false)
        }
        Validator::ConnectionPassword => {
            let line_start = memchr::memrchr(b'\n', &data[..value.start]).map_or(0, |i| i + 1);
            let line_end =
                memchr::memchr(b'\n', &data[value.end..]).map_or(data.len(), |i| value.end + i);
            let line = &data[line_start..line_end];
            let host = connection_host(line);
            // `Pwd={password}`: a format string's placeholder, not ODBC's brace quoting.
            let braced_name = value.start > 0
                && data[value.start - 1] == b'{'
                && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
            !braced_name
                && !host.as_deref().is_some_and(is_local_or_documentation_host)
                && plausible_password(v)
        }
        Validator::DerPrivateKey => is_der_private_key(v),
        Validator::PemBody => !is_truncated_der(v),
        Validator::Jwt => is_private_jwt(v),
        Validator::BasicAuth => {
            let Some(decoded) = crate::scan::decode::base64(v) else {
                return false;
            };
            match memchr::memchr(b':', &decoded) {
                Some(colon) if colon > 0 => {
                    value_is_secret(b"", &decoded, colon + 1..decoded.len(), true, false)
                }
                _ => false,
            }
        }
    }
}

/// The host name at the start of `rest` (what follows a URL's `@`), lowercase.
fn host_name(rest: &[u8]) -> Vec<u8> {
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"-._".contains(b)))
        .unwrap_or(rest.len());
    rest[..end].to_ascii_lowercase()
}

/// The developer's own machine and the documentation domains: a password there is a sample
/// or a local default, not a leaked credential.
fn is_local_or_documentation_host(host: &[u8]) -> bool {
    let host = host.to_ascii_lowercase();
    let host = host.as_slice();
    [
        &b"localhost"[..],
        b"127.0.0.1",
        b"0.0.0.0",
        b"::1",
        b"host.docker.internal",
        b".",
        b"(local)",
        b"(localdb)",
    ]
    .contains(&host)
        || host.starts_with(b"(localdb)")
        || host.starts_with(b"localhost")
        || [
            &b"example.com"[..],
            b"example.org",
            b"example.net",
            b".example",
            b".local",
            b".localhost",
            b".test",
            b".invalid",
        ]
        .iter()
        .any(|h| host.ends_with(h))
}

/// The user name of the URL whose password starts at `password_start`.
fn url_user(data: &[u8], password_start: usize) -> &[u8] {
    let before = &data[..password_start.saturating_sub(1)];
    let from = memchr::memmem::rfind(before, b"//").map_or(0, |i| i + 2);
    &before[from..]
}

/// The server a connection string on `line` names (`Server=`, `Data Source=`, `Host=`,
/// `Address=`, or a URL's host), without port or instance.
fn connection_host(line: &[u8]) -> Option<Vec<u8>> {
    let lower = line.to_ascii_lowercase();
    for key in [
        &b"server="[..],
        b"data source=",
        b"datasource=",
        b"host=",
        b"hostname=",
        b"address=",
        b"addr=",
        b"server =",
        b"data source =",
        b"host =",
    ] {
        if let Some(at) = memchr::memmem::find(&lower, key) {
            let rest = lower[at + key.len()..].trim_ascii_start();
            let rest = rest.strip_prefix(b"tcp:").unwrap_or(rest);
            let end = rest
                .iter()
                .position(|b| b";,\\\"' \t".contains(b))
                .unwrap_or(rest.len());
            return Some(rest[..end].to_vec());
        }
    }
    let at = memchr::memmem::find(&lower, b"://")?;
    let authority = &lower[at + 3..];
    let end = authority
        .iter()
        .position(|b| b"/?#\"' ".contains(b))
        .unwrap_or(authority.len());
    let authority = &authority[..end];
    let host = authority
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(authority, |i| &authority[i + 1..]);
    Some(host_name(host))
}

/// Whether a password known to be one by its place (a URL on a real host, a connection
/// string's `Password=`) is real: not a template or reference, not a placeholder word or a
/// well-known default, not a mask.
fn plausible_password(v: &[u8]) -> bool {
    if v.len() < 4 || !v.is_ascii() {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    const DEFAULTS: &[&[u8]] = &[
        b"password",
        b"passw0rd",
        b"pass",
        b"pwd",
        b"secret",
        b"admin",
        b"root",
        b"guest",
        b"postgres",
        b"mysql",
        b"redis",
        b"sa",
        b"user",
        b"test",
        b"demo",
        b"default",
        b"none",
        b"null",
        b"changeme",
        b"changeit",
        b"letmein",
        b"1234",
        b"12345",
        b"123456",
        b"12345678",
        b"qwerty",
        b"dbpassword",
        b"mypassword",
        b"yourpassword",
    ];
    const MARKERS: &[&[u8]] = &[
        b"your",
        b"example",
        b"placeholder",
        b"change_me",
        b"change-me",
        b"changeme",
        b"redacted",
        b"xxx",
        b"***",
        b"...",
        b"\xe2\x80\xa6",
        b"{{",
        b"${",
        b"$(",
        b"#{",
        b"<%",
        b"%(",
        b"env(",
        b"env:",
        b"secret(",
    ];
    let template = matches!(v[0], b'$' | b'<' | b'{' | b'[') || (v[0] == b'%' && v.ends_with(b"%"));
    let varied = v.iter().collect::<std::collections::HashSet<_>>().len() >= 3;
    let fake = DEFAULTS.contains(&lower.as_slice())
        || MARKERS.iter().any(|m| contains(&lower, m))
        || looks_like_placeholder(v);
    !template && !fake && varied
}

/// `v` without white space and JSON-escaped line breaks (`\n`, `\r`).
fn base64_body(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && matches!(v.get(i + 1), Some(b'n' | b'r')) {
            i += 2;
            continue;
        }
        if !v[i].is_ascii_whitespace() {
            out.push(v[i]);
        }
        i += 1;
    }
    out
}

/// Whether a PEM body is a DER structure cut short: it declares (`SEQUENCE` of N bytes) far
/// more than it holds, as in documentation that shows a key's first line and `...`. Bodies
/// with headers (`Proc-Type:`), OpenSSH and PGP keys, and anything that is not DER are left
/// to the other filters.
fn is_truncated_der(v: &[u8]) -> bool {
    let body = base64_body(v);
    let end = body
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || b"+/=".contains(b)))
        .unwrap_or(body.len());
    let Some(der) = crate::scan::decode::base64(&body[..end - end % 4]) else {
        return false;
    };
    let declared = match der.get(..4) {
        Some([0x30, 0x81, n, _]) => 3 + usize::from(*n),
        Some([0x30, 0x82, a, b]) => 4 + (usize::from(*a) << 8 | usize::from(*b)),
        _ => return false,
    };
    declared > der.len() + 16 && end < body.len()
}

/// Whether `v` is base64 (optionally with JSON-escaped line breaks) of a DER private key:
/// `SEQUENCE { INTEGER 0|1, … }` as PKCS#1 (RSA), SEC1 (EC) and PKCS#8 keys begin, filling
/// the decoded bytes. A certificate or a public key starts with a nested `SEQUENCE` instead.
pub fn is_der_private_key(v: &[u8]) -> bool {
    let compact: Vec<u8> = v
        .split(|&b| b == b'\\')
        .enumerate()
        .flat_map(|(i, part)| {
            // `\n` escapes: drop the `n` that followed each backslash.
            if i == 0 {
                part
            } else {
                part.get(1..).unwrap_or_default()
            }
        })
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let Some(der) = crate::scan::decode::base64(&compact) else {
        return false;
    };
    let (Some(&0x30), Some(&first)) = (der.first(), der.get(1)) else {
        return false;
    };
    // The outer length, short or long form.
    let (len, header) = match first {
        n if n < 0x80 => (usize::from(n), 2),
        0x81 => (usize::from(*der.get(2).unwrap_or(&0)), 3),
        0x82 => (
            usize::from(*der.get(2).unwrap_or(&0)) << 8 | usize::from(*der.get(3).unwrap_or(&0)),
            4,
        ),
        _ => return false,
    };
    // The content fills the decoded bytes (base64 padding may add none or one byte).
    let fits = header + len <= der.len() && der.len() <= header + len + 2;
    fits && der
        .get(header..header + 3)
        .is_some_and(|v| v[0] == 0x02 && v[1] == 0x01 && v[2] <= 1)
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
        let bytes = crate::scan::decode::base64(part)?;
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
    // A token that grants something says who or until when: a payload with none of these
    // claims (`{"some": "payload"}`) is a library's documentation sample.
    const CLAIMS: &[&str] = &[
        "exp",
        "iat",
        "nbf",
        "sub",
        "iss",
        "aud",
        "jti",
        "role",
        "scope",
        "scp",
        "azp",
        "client_id",
        "uid",
        "user_id",
        "email",
        "tid",
        "oid",
        "ref",
        "k",
        "id",
        "org",
    ];
    let claims = CLAIMS.iter().any(|c| payload.contains_key(*c));
    role != "anon" && !sample && claims
}

/// Hex values assigned to these names are keys even at SHA length (some providers use 40 hex).
fn quoted_in_env(name: &[u8]) -> bool {
    let n: Vec<u8> = name
        .iter()
        .filter(|b| !b"_-.".contains(b))
        .map(u8::to_ascii_lowercase)
        .collect();
    [
        &b"apikey"[..],
        b"accesskey",
        b"privatekey",
        b"secretkey",
        b"signingkey",
        b"encryptionkey",
        b"masterkey",
        b"clientkey",
        b"serverkey",
        b"secret",
        b"token",
        b"auth",
        b"passw",
        b"pwd",
        b"credential",
    ]
    .iter()
    .any(|w| contains(&n, w))
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

/// Whether the value is a query parameter of a URL that is public or not a secret's home: a
/// badge (`…/badge.svg?token=…`, shields.io) or a documentation or local host.
fn in_public_url(data: &[u8], value: std::ops::Range<usize>) -> bool {
    let line_start = memchr::memrchr(b'\n', &data[..value.start]).map_or(0, |i| i + 1);
    let before = &data[line_start..value.start];
    // The name must be a query parameter: `?name=` or `&name=` right before the value.
    let Some(eq) = before.iter().rposition(|&b| b == b'=') else {
        return false;
    };
    let param_start = before[..eq]
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || b"_-.".contains(b)))
        .map_or(0, |i| i + 1);
    if param_start == 0 || !matches!(before[param_start - 1], b'?' | b'&' | b';') {
        return false;
    }
    let Some(scheme) = memchr::memmem::rfind(&before[..param_start], b"://") else {
        return false;
    };
    let url = before[scheme + 3..].to_ascii_lowercase();
    let authority_end = url
        .iter()
        .position(|b| b"/?#".contains(b))
        .unwrap_or(url.len());
    let authority = &url[..authority_end];
    let host = authority
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(authority, |i| &authority[i + 1..]);
    contains(&url, b"badge")
        || contains(host, b"shields.io")
        || is_local_or_documentation_host(&host_name(host))
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
    fn der_private_keys_are_told_from_certificates_and_truncated_examples() {
        // SEQUENCE (3 bytes of content) { INTEGER 0 }: a private key's opening, complete.
        assert!(is_der_private_key(b"MAMCAQA="));
        // SEQUENCE { SEQUENCE …: a certificate or a public key.
        assert!(!is_der_private_key(b"MAUwAwIBAA=="));
        // A SEQUENCE that declares 1,189 bytes and holds a few dozen, then `.`.
        let doc = b"MIIEpQIBAAKCAQEAuyf/lNrH9ck8DmNyo3fGgvCI1l9s+cmBY3WIz+cUDqmxiieR\\n.";
        assert!(is_truncated_der(doc));
        assert!(!is_truncated_der(
            b"MIIEpQIBAAKCAQEAuyf/lNrH9ck8DmNyo3fGgvCI1l9s"
        ));
    }

    #[test]
    fn passwords_by_their_place() {
        let line = |s: &str, v: &str| {
            let at = s.find(v).expect("value in line");
            validate(
                Validator::ConnectionPassword,
                s.as_bytes(),
                at..at + v.len(),
            )
        };
        // Assembled at run time: this file is scanned too.
        let word = format!("Summer{}!", 2024);
        let real = format!("Server=db01.acme.io;Uid=etl;Pwd={word};");
        assert!(line(&real, &word));
        assert!(!line(&real.replace("db01.acme.io", "localhost"), &word));
        assert!(!line(
            "Server=db01.acme.io;Uid=etl;Pwd=changeme;",
            "changeme"
        ));
        let url = |s: &str, v: &str| {
            let at = s.find(v).expect("value in line");
            validate(Validator::UrlCredentials, s.as_bytes(), at..at + v.len())
        };
        let atlas = format!(
            "mongodb+srv://app:{}@cluster0.ab1cd.mongodb.net/x",
            "sunshine"
        );
        assert!(url(&atlas, "sunshine"));
        assert!(!url("postgres://app:app@db.acme.io/x", "app"));
        assert!(!url("postgres://app:sunshine@db/x", "sunshine"));
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
            assert_eq!(got, *want, "{name} = {value}");
        }
    }
}
