//! Expansion of rule examples.
//!
//! Examples are written with generators instead of key-shaped literals, so that no real-looking
//! key is ever committed: `{{alnum:20}}`, `{{base64url:74}}`, `{{base64:40}}`, `{{hex:32}}`,
//! `{{upper:16}}`, `{{base32:16}}`, `{{digits:10}}`, `{{lower:8}}`, `{{lowernum:30}}`,
//! `{{hexup:32}}`, `{{bech32:58}}`, and structured values such as `{{uuid}}` and `{{jwt}}`. The expected secret is
//! marked with `«` and `»`. A `{{` followed by a space is literal text (a quoted template such
//! as `{{ .Values.apiKey }}`).

use std::ops::Range;

/// A small deterministic generator (xorshift64*), enough to fill example bodies.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed; the same seed gives the same examples.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `len` characters drawn uniformly from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[(self.next_u64() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

/// The alphabet a generator name stands for.
pub(crate) fn alphabet(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "alnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "base64url" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        "base64" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "hex" => b"0123456789abcdef",
        "upper" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "base32" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "lower" => b"abcdefghijklmnopqrstuvwxyz",
        "digits" => b"0123456789",
        "lowernum" => b"abcdefghijklmnopqrstuvwxyz0123456789",
        "hexup" => b"0123456789ABCDEF",
        "bech32" => b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
        _ => return None,
    })
}

/// Generators of values with inner structure: `{{uuid}}` (a version-4 UUID),
/// `{{basic-auth}}` (base64 of `user:password`),
/// `{{jwt}}` (a signed-looking JWT for a service role), and the public look-alikes
/// `{{jwt:anon}}` (a Supabase `anon` key), `{{jwt:sample}}` (jwt.io's sample) and
/// `{{jwt:none}}` (unsigned).
fn structured(spec: &str, rng: &mut Rng) -> Option<String> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    match spec {
        "uuid" => {
            const HEX: &[u8] = b"0123456789abcdef";
            Some(format!(
                "{}-{}-4{}-a{}-{}",
                rng.string(HEX, 8),
                rng.string(HEX, 4),
                rng.string(HEX, 3),
                rng.string(HEX, 3),
                rng.string(HEX, 12)
            ))
        }
        "basic-auth" => {
            let credentials = format!("ci-bot:{}", rng.string(ALNUM, 20));
            Some(base64(credentials.as_bytes(), false))
        }
        "jwt" | "jwt:anon" | "jwt:sample" | "jwt:none" => {
            let alg = if spec == "jwt:none" { "none" } else { "HS256" };
            let header = base64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes(), true);
            let payload = match spec {
                // The shape of the sample token on jwt.io, found in countless docs.
                "jwt:sample" => {
                    r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#.to_owned()
                }
                _ => format!(
                    r#"{{"iss":"supabase","ref":"{}","role":"{}","iat":1700000000,"exp":2000000000}}"#,
                    rng.string(b"abcdefghijklmnopqrstuvwxyz", 20),
                    if spec == "jwt:anon" {
                        "anon"
                    } else {
                        "service_role"
                    }
                ),
            };
            let signature = rng.string(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                43,
            );
            Some(format!(
                "{header}.{}.{signature}",
                base64(payload.as_bytes(), true)
            ))
        }
        _ => None,
    }
}

/// Base64 of `bytes`: standard and padded, or URL-safe without padding (as in JWTs).
fn base64(bytes: &[u8], url: bool) -> String {
    let alphabet: &[u8; 64] = if url {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while !url && !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// An example with its generators expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expanded {
    /// The text to scan.
    pub(crate) text: String,
    /// Byte range of the expected secret in `text`, when the example marks one.
    pub(crate) secret: Option<Range<usize>>,
}

/// Errors in an example template.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ExampleError {
    /// `{{name:N}}` with an unknown name or a bad length.
    #[error("bad generator `{{{{{0}}}}}`")]
    BadGenerator(String),
    /// `{{` without `}}`.
    #[error("unclosed generator")]
    Unclosed,
    /// Markers `«`/`»` unbalanced or repeated.
    #[error("the secret must be marked once, as «…»")]
    BadMarkers,
}

/// The longest body one generator makes: keys are far shorter (the longest example, 180). A
/// `.keyward.toml` from any branch has its rules' examples expanded: `{{lower:802379605485813823}}`
/// must be an error, not an allocation that aborts (found by the config fuzz target).
const MAX_GENERATED: usize = 4096;

/// The longest an expanded example may grow.
const MAX_EXPANDED: usize = 1 << 20;

/// Expands `template`, drawing random bodies from `rng`.
pub(crate) fn expand(template: &str, rng: &mut Rng) -> Result<Expanded, ExampleError> {
    let mut text = String::with_capacity(template.len() * 2);
    let (mut start, mut end) = (None, None);
    let mut rest = template;
    while !rest.is_empty() {
        // `{{ .Values.x }}` (with spaces) is a template being quoted, not a generator.
        let template = rest.starts_with("{{ ") || rest.starts_with("{{\t");
        if let Some(after) = rest.strip_prefix("{{").filter(|_| !template) {
            let close = after.find("}}").ok_or(ExampleError::Unclosed)?;
            let spec = &after[..close];
            let bad = || ExampleError::BadGenerator(spec.to_owned());
            if let Some(value) = structured(spec, rng) {
                text.push_str(&value);
            } else {
                let (name, len) = spec.split_once(':').ok_or_else(bad)?;
                let alphabet = alphabet(name).ok_or_else(bad)?;
                let len: usize = len
                    .parse()
                    .ok()
                    .filter(|&n| n <= MAX_GENERATED)
                    .ok_or_else(bad)?;
                if text.len() + len > MAX_EXPANDED {
                    return Err(bad());
                }
                text.push_str(&rng.string(alphabet, len));
            }
            rest = &after[close + 2..];
        } else if let Some(after) = rest.strip_prefix('«') {
            if start.replace(text.len()).is_some() {
                return Err(ExampleError::BadMarkers);
            }
            rest = after;
        } else if let Some(after) = rest.strip_prefix('»') {
            if start.is_none() || end.replace(text.len()).is_some() {
                return Err(ExampleError::BadMarkers);
            }
            rest = after;
        } else {
            let c = rest.chars().next().unwrap_or_default();
            text.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    let secret = match (start, end) {
        (Some(s), Some(e)) => Some(s..e),
        (None, None) => None,
        _ => return Err(ExampleError::BadMarkers),
    };
    Ok(Expanded { text, secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_bounded() {
        let mut rng = Rng::new(7);
        assert!(expand("{{lower:4096}}", &mut rng).is_ok());
        for huge in ["{{lower:4097}}", "{{lower:802379605485813823}}"] {
            assert!(matches!(
                expand(huge, &mut rng),
                Err(ExampleError::BadGenerator(_))
            ));
        }
        let many = "{{hex:4096}}".repeat(300);
        assert!(expand(&many, &mut rng).is_err());
    }

    #[test]
    fn expands_generators_and_marks_the_secret() {
        let mut rng = Rng::new(7);
        let e = expand("key = \"«ab{{hex:8}}»\" {{digits:3}}", &mut rng).expect("valid");
        let secret = e.secret.clone().expect("marked");
        assert_eq!(&e.text[..7], "key = \"");
        assert_eq!(secret, 7..17);
        assert!(e.text[secret.start + 2..secret.end]
            .bytes()
            .all(|b| b.is_ascii_hexdigit()));
        assert_eq!(e.text.len(), 7 + 10 + 2 + 3);
    }

    #[test]
    fn base64_round_trips_through_the_decoder() {
        assert_eq!(base64(b"Man", false), "TWFu");
        assert_eq!(base64(b"Ma", false), "TWE=");
        assert_eq!(base64(b"M", true), "TQ");
        let mut rng = Rng::new(3);
        let jwt = structured("jwt", &mut rng).expect("generator");
        let payload = jwt.split('.').nth(1).expect("three parts");
        let decoded = crate::scan::decode::base64(payload.as_bytes()).expect("decodes");
        assert!(String::from_utf8_lossy(&decoded).contains(r#""role":"service_role""#));
    }

    #[test]
    fn rejects_bad_templates() {
        let mut rng = Rng::new(1);
        for (t, err) in [
            ("{{nope:3}}", ExampleError::BadGenerator("nope:3".into())),
            ("{{hex:x}}", ExampleError::BadGenerator("hex:x".into())),
            ("{{hex:3", ExampleError::Unclosed),
            ("«a", ExampleError::BadMarkers),
            ("a»", ExampleError::BadMarkers),
            ("«a»«b»", ExampleError::BadMarkers),
        ] {
            assert_eq!(expand(t, &mut rng), Err(err), "{t}");
        }
        assert_eq!(
            expand("{{ .Values.key }}", &mut rng).map(|e| e.text),
            Ok("{{ .Values.key }}".into())
        );
        assert_eq!(
            expand("{{x:1}}", &mut rng),
            Err(ExampleError::BadGenerator("x:1".into()))
        );
    }
}
