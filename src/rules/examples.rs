//! Expansion of rule examples.
//!
//! Examples are written with generators instead of key-shaped literals, so that no real-looking
//! key is ever committed: `{{alnum:20}}`, `{{base64url:74}}`, `{{base64:40}}`, `{{hex:32}}`,
//! `{{upper:16}}`, `{{base32:16}}`, `{{digits:10}}`, `{{lower:8}}`. The expected secret is
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
pub fn alphabet(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "alnum" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "base64url" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        "base64" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "hex" => b"0123456789abcdef",
        "upper" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "base32" => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "lower" => b"abcdefghijklmnopqrstuvwxyz",
        "digits" => b"0123456789",
        _ => return None,
    })
}

/// An example with its generators expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// The text to scan.
    pub text: String,
    /// Byte range of the expected secret in `text`, when the example marks one.
    pub secret: Option<Range<usize>>,
}

/// Errors in an example template.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExampleError {
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

/// Expands `template`, drawing random bodies from `rng`.
pub fn expand(template: &str, rng: &mut Rng) -> Result<Expanded, ExampleError> {
    let mut text = String::with_capacity(template.len() * 2);
    let (mut start, mut end) = (None, None);
    let mut rest = template;
    while !rest.is_empty() {
        // `{{ .Values.x }}` (with spaces) is a template being quoted, not a generator.
        let template = rest.starts_with("{{ ") || rest.starts_with("{{\t");
        if let Some(after) = rest.strip_prefix("{{").filter(|_| !template) {
            let close = after.find("}}").ok_or(ExampleError::Unclosed)?;
            let spec = &after[..close];
            let (name, len) = spec
                .split_once(':')
                .ok_or_else(|| ExampleError::BadGenerator(spec.to_owned()))?;
            let alphabet =
                alphabet(name).ok_or_else(|| ExampleError::BadGenerator(spec.to_owned()))?;
            let len: usize = len
                .parse()
                .map_err(|_| ExampleError::BadGenerator(spec.to_owned()))?;
            text.push_str(&rng.string(alphabet, len));
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
