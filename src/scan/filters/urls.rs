//! Passwords known to be passwords by their place — a URL's `user:password@host`, a
//! connection string's `Password=` — and the hosts that make one harmless: the developer's
//! own machine and the domains reserved for documentation.

use super::placeholders::looks_like_placeholder;
use super::words::{
    CONNECTION_HOST_KEYS, DEFAULT_PASSWORDS, DOCUMENTATION_DOMAINS, LOCAL_HOSTS, LOCAL_HOST_STARTS,
    PASSWORD_MARKERS,
};
use std::ops::Range;

/// The verdict on a URL's password `data[value]` (followed by `@host`): `None` when the host
/// is a single label (`db`, `redis`: a compose service), where the password is judged like
/// any value.
pub(super) fn url_password(data: &[u8], value: Range<usize>) -> Option<bool> {
    let v = &data[value.clone()];
    let host = &data[value.end..];
    let host = host_name(host.strip_prefix(b"@").unwrap_or(host));
    if is_local_or_documentation_host(&host) {
        return Some(false);
    }
    // On a real host (a domain name or an address), any password that is not a template, a
    // placeholder or the user name again is the real one, even a dictionary word (`sunshine`
    // as the password of a MongoDB Atlas cluster).
    host.contains(&b'.').then(|| {
        let user = url_user(data, value.start);
        plausible_password(v) && v != user
    })
}

/// Whether a connection string's password `data[value]` is real: not a format string's
/// `{name}`, not for a local or documentation server, and plausible.
pub(super) fn connection_password(data: &[u8], value: Range<usize>) -> bool {
    let v = &data[value.clone()];
    let host = connection_host(line_of(data, value.clone()));
    // `Pwd={password}`: a format string's placeholder, not ODBC's brace quoting.
    let braced_name = value.start > 0
        && data[value.start - 1] == b'{'
        && v.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    !braced_name
        && !host.as_deref().is_some_and(is_local_or_documentation_host)
        && plausible_password(v)
}

/// Whether the value `data[value]` sits in a connection string for the developer's machine
/// or a documentation host (`Server=localhost;…;Password=…`).
pub(super) fn on_local_connection_line(data: &[u8], value: Range<usize>) -> bool {
    let line = line_of(data, value);
    memchr::memchr(b';', line).is_some()
        && connection_host(line).is_some_and(|h| is_local_or_documentation_host(&h))
}

/// The line of `data` that holds `value`.
fn line_of(data: &[u8], value: Range<usize>) -> &[u8] {
    let line_start = memchr::memrchr(b'\n', &data[..value.start]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &data[value.end..]).map_or(data.len(), |i| value.end + i);
    &data[line_start..line_end]
}

/// Whether the value is a query parameter of a URL that is public or not a secret's home: a
/// badge (`…/badge.svg?token=…`, shields.io) or a documentation or local host.
pub(super) fn in_public_url(data: &[u8], value: Range<usize>) -> bool {
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
    memchr::memmem::find(&url, b"badge").is_some()
        || memchr::memmem::find(host, b"shields.io").is_some()
        || is_local_or_documentation_host(&host_name(host))
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
    LOCAL_HOSTS.found_in(host)
        || LOCAL_HOST_STARTS.found_in(host)
        || DOCUMENTATION_DOMAINS.found_in(host)
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
    if let Some(key) = CONNECTION_HOST_KEYS.first_listed_in(&lower) {
        let rest = lower[key.end..].trim_ascii_start();
        let rest = rest.strip_prefix(b"tcp:").unwrap_or(rest);
        let end = rest
            .iter()
            .position(|b| b";,\\\"' \t".contains(b))
            .unwrap_or(rest.len());
        return Some(rest[..end].to_vec());
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
    let template = matches!(v[0], b'$' | b'<' | b'{' | b'[') || (v[0] == b'%' && v.ends_with(b"%"));
    let varied = v.iter().collect::<std::collections::HashSet<_>>().len() >= 3;
    let fake =
        DEFAULT_PASSWORDS.found_in(v) || PASSWORD_MARKERS.found_in(v) || looks_like_placeholder(v);
    !template && !fake && varied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_connection_strings_and_urls() {
        let host =
            |line: &str| connection_host(line.as_bytes()).map(|h| h.escape_ascii().to_string());
        assert_eq!(
            host("Server=tcp:DB01.acme.io,1433;Uid=a"),
            Some("db01.acme.io".into())
        );
        assert_eq!(
            host("Data Source = (localdb)\\v11;"),
            Some("(localdb)".into())
        );
        assert_eq!(
            host("postgres://u:p@Db.Acme.io:5432/x"),
            Some("db.acme.io".into())
        );
        assert_eq!(host("no host here"), None);
        for local in [
            "localhost",
            "127.0.0.1",
            "(localdb)\\x",
            "db.example.com",
            "api.test",
        ] {
            assert!(is_local_or_documentation_host(local.as_bytes()), "{local}");
        }
        assert!(!is_local_or_documentation_host(b"db.acme.io"));
    }

    #[test]
    fn badges_and_documentation_urls_are_public() {
        let at = |s: &str, v: &str| {
            let at = s.find(v).expect("value in line");
            in_public_url(s.as_bytes(), at..at + v.len())
        };
        assert!(at(
            "https://img.shields.io/x.svg?token=abc123XYZ",
            "abc123XYZ"
        ));
        assert!(at("https://api.example.com/v1?key=abc123XYZ", "abc123XYZ"));
        assert!(!at("https://api.acme.io/v1?key=abc123XYZ", "abc123XYZ"));
    }
}
