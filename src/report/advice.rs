//! What the human report tells a developer to type: which findings a forbidden file's advice
//! already covers, and the exact `.keyward.toml` entry that exempts a forbidden file.

use crate::model::{Finding, Kind};

/// The blocked forbidden file whose advice covers `key`: the file at its path in the same
/// commit, else (a range names a forbidden path once, at its first commit) the one at its
/// path. Unstaging or exempting that file is the key's fix too, so the key gets no advice of
/// its own that contradicts the file's ("read it from the environment", "git add .env").
pub(crate) fn covering_file<'a>(key: &Finding, files: &[&'a Finding]) -> Option<&'a Finding> {
    let blocked_here = |f: &&&Finding| f.blocking && f.path == key.path;
    let commit = |f: &Finding| f.commit.as_ref().map(|c| c.id);
    files
        .iter()
        .filter(blocked_here)
        .find(|f| commit(f) == commit(key))
        .or_else(|| files.iter().find(blocked_here))
        .copied()
}

/// Whether a blocked forbidden file's advice covers `key` (see [`covering_file`]).
pub(crate) fn inside_blocked_file(key: &Finding, files: &[&Finding]) -> bool {
    covering_file(key, files).is_some()
}

/// The `allow.files` entry that exempts exactly `path`, as a TOML string: `"/.env"` (a
/// pattern without `/` would match the name at any depth, so the root is anchored), glob
/// characters in brackets (`[*]`), control characters as `\uXXXX` (valid TOML, and nothing
/// raw reaches the terminal). `None` for a path that is not UTF-8: a TOML string cannot name it.
pub(crate) fn allow_files_entry(path: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(path).ok()?;
    let mut glob = String::with_capacity(text.len() + 2);
    if !text.contains('/') {
        glob.push('/');
    }
    for c in text.chars() {
        match c {
            '*' | '?' | '[' | '{' | '}' => {
                glob.push('[');
                glob.push(c);
                glob.push(']');
            }
            _ => glob.push(c),
        }
    }
    let mut toml = String::with_capacity(glob.len() + 2);
    toml.push('"');
    for c in glob.chars() {
        match c {
            '"' => toml.push_str("\\\""),
            '\\' => toml.push_str("\\\\"),
            c if c.is_control() => toml.push_str(&format!("\\u{:04X}", c as u32)),
            c => toml.push(c),
        }
    }
    toml.push('"');
    Some(toml)
}

/// Findings an allow entry can unblock on its own, once per fingerprint: every blocking
/// finding with a fingerprint, except keys inside a blocked forbidden file (their file's
/// advice lists them with the exemption the file needs too).
pub(crate) fn allowable<'a>(shown: &[&'a Finding], files: &[&Finding]) -> Vec<&'a Finding> {
    let mut out: Vec<&Finding> = Vec::new();
    for f in shown {
        if !f.blocking || f.kind == Kind::ForbiddenFile || inside_blocked_file(f, files) {
            continue;
        }
        let Some(fp) = f.fingerprint.as_deref() else {
            continue;
        };
        if out.iter().all(|o| o.fingerprint.as_deref() != Some(fp)) {
            out.push(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_files_entries_name_exactly_that_file() {
        for (path, entry) in [
            (&b".env"[..], Some(r#""/.env""#)),
            (b"config/.env", Some(r#""config/.env""#)),
            (b"a*b/.env", Some(r#""a[*]b/.env""#)),
            (b"x{1}.env", Some(r#""/x[{]1[}].env""#)),
            (b"q\"uote/.env", Some(r#""q\"uote/.env""#)),
            (b"back\\slash/.env", Some(r#""back\\slash/.env""#)),
            (b"\x1b[31m.env", Some(r#""/\u001B[[]31m.env""#)),
            (b"\xff.env", None),
        ] {
            assert_eq!(
                allow_files_entry(path).as_deref(),
                entry,
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }

    /// The entry, read back as `.keyward.toml` reads it, exempts the path and nothing else.
    #[test]
    fn allow_files_entries_are_read_back_as_that_path() {
        for path in [
            &b".env"[..],
            b"config/.env",
            b"a*b/.env",
            b"x{1}?.env",
            b"q\"uote/.env",
            b"\x1b[31m.env",
        ] {
            let entry = allow_files_entry(path).expect("utf-8");
            let text = format!("[allow]\nfiles = [{entry}]\n");
            let config = crate::config::Config::parse(&text).expect("valid policy");
            assert!(config
                .allow_files
                .is_match(std::str::from_utf8(path).expect("utf-8")));
            let deeper = [b"sub/".as_slice(), path].concat();
            assert!(!config
                .allow_files
                .is_match(std::str::from_utf8(&deeper).expect("utf-8")));
        }
    }
}
