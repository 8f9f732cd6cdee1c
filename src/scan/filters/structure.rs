//! Structural checks on what a value decodes to: a DER private key (as opposed to a
//! certificate or a public key), a PEM body cut short in documentation, a JWT that grants
//! something.

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
pub(super) fn is_truncated_der(v: &[u8]) -> bool {
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
pub(crate) fn is_der_private_key(v: &[u8]) -> bool {
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
pub(super) fn is_private_jwt(token: &[u8]) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
