//! Secrets that a file carries encoded: the base64 values of a Kubernetes `Secret`'s `data:`
//! map. Each is decoded and handed back with the span of its encoded form, so that a finding in
//! the decoded text is reported where the developer sees it.

use std::ops::Range;

/// One decoded value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// `key: value` (or the decoded text alone when it spans lines), ready to scan.
    pub(crate) text: Vec<u8>,
    /// Span of the encoded value in the original file.
    pub(crate) encoded: Range<usize>,
}

/// The decoded `data:` values of every Kubernetes `Secret` document in a YAML file. Values that
/// do not decode to text are left out (certificates in DER, random bytes): the rules look for
/// text.
pub(crate) fn kubernetes_secret_values(data: &[u8]) -> Vec<Decoded> {
    // Built once: `memmem::find` builds its searcher on every call, which cost more than the
    // search on the short texts history scans by the thousand (commit messages).
    static SECRET: once_cell::sync::Lazy<memchr::memmem::Finder<'static>> =
        once_cell::sync::Lazy::new(|| memchr::memmem::Finder::new(b"Secret"));
    let mut out = Vec::new();
    if SECRET.find(data).is_none() {
        return out;
    }
    if data.trim_ascii_start().starts_with(b"{") {
        json_secret_values(data, &mut out);
        return out;
    }
    let mut offset = 0;
    for doc in split_documents(data) {
        let is_secret = lines(doc).any(|(_, l)| {
            let t = trim(l);
            t.starts_with(b"kind:") && trim(&t[5..]).trim_ascii_end() == b"Secret"
        });
        if is_secret {
            collect_data(doc, offset, &mut out);
        }
        offset += doc.len();
    }
    out
}

/// The same for JSON (`kubectl get secret -o json`, a `List` of them, manifests written as
/// JSON): every object with `"kind": "Secret"` and its `data` map.
fn json_secret_values(data: &[u8], out: &mut Vec<Decoded>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let mut stack = vec![&value];
    let mut searched_from = 0;
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(map) => {
                if map.get("kind").and_then(|k| k.as_str()) == Some("Secret") {
                    for (key, encoded) in map
                        .get("data")
                        .and_then(|d| d.as_object())
                        .into_iter()
                        .flatten()
                    {
                        let Some(encoded) = encoded.as_str() else {
                            continue;
                        };
                        let Some(text) = base64_text(encoded.as_bytes()) else {
                            continue;
                        };
                        // Where the encoded value sits: the next `"key": "value"` pair in
                        // document order (an equal pair earlier in the file is skipped).
                        let Some(at) = pair_at(data, searched_from, key, encoded)
                            .or_else(|| pair_at(data, 0, key, encoded))
                        else {
                            continue;
                        };
                        searched_from = at;
                        let text = if text.contains(&b'\n') {
                            text
                        } else {
                            [key.as_bytes(), b": ", &text].concat()
                        };
                        out.push(Decoded {
                            text,
                            encoded: at..at + encoded.len(),
                        });
                    }
                }
                stack.extend(map.values().rev());
            }
            serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
}

/// The offset of `value` in the first `"key": "value"` pair at or after `from`.
fn pair_at(data: &[u8], from: usize, key: &str, value: &str) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut at = from;
    while let Some(i) = memchr::memmem::find(&data[at..], needle.as_bytes()) {
        let after = at + i + needle.len();
        let rest = &data[after..];
        let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        if let Some(r) = rest[skip..].strip_prefix(b":") {
            let skip2 = r.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let r = &r[skip2..];
            if r.first() == Some(&b'"') && r[1..].starts_with(value.as_bytes()) {
                return Some(after + skip + 1 + skip2 + 1);
            }
        }
        at = after;
    }
    None
}

/// Splits a YAML stream at `---` lines, keeping every byte (the separators stay with the
/// document before them) so offsets add up.
fn split_documents(data: &[u8]) -> Vec<&[u8]> {
    let mut docs = Vec::new();
    let mut start = 0;
    for (at, line) in lines(data) {
        if at > start && line.trim_ascii_end() == b"---" {
            docs.push(&data[start..at]);
            start = at;
        }
    }
    docs.push(&data[start..]);
    docs
}

/// Lines with their offsets, without the newline.
fn lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0;
    data.split(|&b| b == b'\n').map(move |l| {
        let start = at;
        at += l.len() + 1;
        (start, l)
    })
}

fn trim(l: &[u8]) -> &[u8] {
    l.trim_ascii()
}

fn indent(l: &[u8]) -> usize {
    l.iter().take_while(|&&b| b == b' ').count()
}

fn collect_data(doc: &[u8], offset: usize, out: &mut Vec<Decoded>) {
    let mut in_data: Option<usize> = None;
    for (at, line) in lines(doc) {
        let t = trim(line);
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        let ind = indent(line);
        if let Some(data_indent) = in_data {
            if ind <= data_indent {
                in_data = None;
            } else if let Some(colon) = memchr::memchr(b':', t) {
                let key = trim(&t[..colon]);
                let raw = trim(&t[colon + 1..]);
                let value = raw
                    .strip_prefix(b"\"")
                    .and_then(|v| v.strip_suffix(b"\""))
                    .or_else(|| raw.strip_prefix(b"'").and_then(|v| v.strip_suffix(b"'")))
                    .unwrap_or(raw);
                if let Some(text) = base64_text(value) {
                    // Position of the value inside the line, then inside the file.
                    let in_line = memchr::memmem::find(line, value).unwrap_or(0);
                    let start = offset + at + in_line;
                    let text = if text.contains(&b'\n') {
                        text
                    } else {
                        [key, b": ", &text].concat()
                    };
                    out.push(Decoded {
                        text,
                        encoded: start..start + value.len(),
                    });
                }
                continue;
            }
        }
        if t == b"data:" || t == b"binaryData:" {
            in_data = Some(ind);
        }
    }
}

/// Standard base64 (with or without padding) that decodes to printable text.
fn base64_text(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() < 8 {
        return None;
    }
    let out = base64(value)?;
    let text = std::str::from_utf8(&out).ok()?;
    text.chars()
        .all(|c| !c.is_control() || c == '\n' || c == '\r' || c == '\t')
        .then_some(out)
}

/// Decodes base64 in either alphabet (standard `+/` or URL-safe `-_`), padded or not.
pub(crate) fn base64(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(value.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for &c in value.iter().take_while(|&&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64() {
        assert_eq!(
            base64_text(b"aGVsbG8gd29ybGQ="),
            Some(b"hello world".to_vec())
        );
        assert_eq!(
            base64_text(b"aGVsbG8gd29ybGQ"),
            Some(b"hello world".to_vec())
        );
        assert_eq!(base64_text(b"AAECAwQFBgc="), None, "binary is not text");
        assert_eq!(base64_text(b"not base64!"), None);
    }

    #[test]
    fn finds_the_data_values_of_json_secrets() {
        let json = br#"{"kind": "List", "items": [{"kind": "ConfigMap", "data": {"a": "aGVsbG8gd29ybGQ="}}, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"db-password": "aGVsbG8gd29ybGQ="}}]}"#; // keyward:allow (base64 of "hello world")
        let found = kubernetes_secret_values(json);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, b"db-password: hello world");
        assert_eq!(&json[found[0].encoded.clone()], b"aGVsbG8gd29ybGQ=");
        assert!(
            found[0].encoded.start > 100,
            "the Secret's value, not the ConfigMap's"
        );
    }

    #[test]
    fn finds_the_data_values_of_secret_documents_only() {
        let yaml = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  a: aGVsbG8gd29ybGQ=\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ndata:\n  db-password: \"aGVsbG8gd29ybGQ=\"\n  other: aGVsbG8gd29ybGQ=\ntype: Opaque\n"; // keyward:allow (base64 of "hello world")
        let found = kubernetes_secret_values(yaml);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].text, b"db-password: hello world");
        assert_eq!(&yaml[found[0].encoded.clone()], b"aGVsbG8gd29ybGQ=");
        let line = yaml[..found[0].encoded.start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        assert_eq!(line, 11);
        assert_eq!(found[1].text, b"other: hello world");
    }
}
