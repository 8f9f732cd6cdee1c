//! How random a value reads: its entropy, and the shapes random characters rarely take —
//! words run together as identifiers are written, lowercase words, a UUID.

/// Shannon entropy of `bytes`, in bits per byte.
pub(crate) fn entropy(bytes: &[u8]) -> f64 {
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

/// Whether `v` reads as words run together, as identifiers are written (`AWSAccessKeyId`,
/// `pkInitKDC`, `Ipv6CidrAssociations`, `maximumPageSize`): letters and at most two digits,
/// every segment a word — a capital and two or more lowercase letters, a lowercase run, an
/// acronym of two to four capitals, a short number, or a trailing `Id`-like pair — and three
/// characters a segment on average. Random characters leave single capitals and pairs behind.
pub(super) fn camel_words(v: &[u8]) -> bool {
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
pub(super) fn made_of_words(v: &[u8]) -> bool {
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

/// Whether `v` has the variety of a generated value: 8 bytes or more, at least two kinds of
/// character (lowercase, capitals, digits, others) and 3 bits of entropy per byte.
pub(super) fn varied(v: &[u8]) -> bool {
    let kinds = [
        v.iter().any(u8::is_ascii_lowercase),
        v.iter().any(u8::is_ascii_uppercase),
        v.iter().any(u8::is_ascii_digit),
        v.iter().any(|b| !b.is_ascii_alphanumeric()),
    ];
    v.len() >= 8 && kinds.iter().filter(|k| **k).count() >= 2 && entropy(v) >= 3.0
}

/// `8-4-4-4-12` hex digits.
pub(crate) fn is_uuid(v: &[u8]) -> bool {
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
    fn entropy_of_uniform_and_constant_strings() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(entropy(b""), 0.0);
    }

    #[test]
    fn identifiers_read_as_words_and_random_values_do_not() {
        for v in [
            &b"AWSAccessKeyId"[..],
            b"pkInitKDC",
            b"Ipv6CidrAssociations",
            b"maximumPageSize",
        ] {
            assert!(camel_words(v), "{}", String::from_utf8_lossy(v));
        }
        for v in [&b"q8ZfR2mXv9LpT4wKc7Nh"[..], b"aBcDeFgH", b"abc"] {
            assert!(!camel_words(v), "{}", String::from_utf8_lossy(v));
        }
        assert!(made_of_words(b"next_marker"));
        assert!(!made_of_words(b"q8ZfR2mXv9Lp"));
    }
}
