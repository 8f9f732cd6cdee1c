//! Text written in another encoding than the one the rules read: UTF-16 files (what Windows
//! PowerShell 5's `>` and many Windows editors write), and lines with URL escapes
//! (`token%3Dsk-proj-…`, `Bearer%20ghp_…`, `%2D` inside a key: query strings, form bodies,
//! logs) or JSON `\uXXXX` escapes. Each is decoded into a [`View`] that the scanner reads like
//! any text, with a map back to the bytes of the file, so that a finding sits where its bytes
//! are and is compared with the version it replaces byte for byte.

/// Decoded text and where its bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View {
    /// The decoded text (UTF-8).
    pub(crate) text: Vec<u8>,
    /// Where each byte of `text`, and one past its end, came from in the file.
    pub(crate) map: Map,
    /// The 1-based line of the file where `text` starts; a line's view is one line.
    pub(crate) first_line: usize,
    /// The whole file (UTF-16): lines and columns are counted in `text` itself.
    pub(crate) whole: bool,
}

/// Where the bytes of decoded text came from, as runs that advance by a fixed step (two file
/// bytes per character of ASCII written as UTF-16, one per byte between escapes, none inside
/// one decoded character): a few runs for most files, where a table of offsets would take
/// eight bytes per byte decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Map {
    /// `(text offset, file offset, file bytes per text byte)`, by text offset.
    runs: Vec<(usize, usize, usize)>,
}

impl Map {
    /// Records that text byte `text` (the next one) came from file offset `file`, the bytes
    /// after it `step` apart; extends the last run when it says as much already.
    fn push(&mut self, text: usize, file: usize, step: usize) {
        if let Some(&(t, f, s)) = self.runs.last() {
            if s == step && f + (text - t) * s == file {
                return;
            }
        }
        self.runs.push((text, file, step));
    }

    /// The file offset text byte `i` came from (`i` may be the text's length: the end).
    pub(crate) fn at(&self, i: usize) -> usize {
        let k = self.runs.partition_point(|&(t, _, _)| t <= i);
        match k.checked_sub(1).map(|k| self.runs[k]) {
            Some((t, f, s)) => f + (i - t) * s,
            None => 0,
        }
    }
}

/// How many leading bytes decide whether a file is UTF-16 by its NUL pattern.
const SNIFF: usize = 8000;

/// The UTF-16 text of `data`, when it has a UTF-16 byte-order mark, or when one byte of every
/// pair is NUL nearly everywhere in its first bytes (ASCII text written as UTF-16 without a
/// mark). `None` for anything else (binary files too: their NULs fall anywhere).
#[cfg(test)]
pub(crate) fn utf16(data: &[u8]) -> Option<View> {
    let (little, start) = utf16_order(data)?;
    Some(decode_utf16(data, little, start))
}

/// Whether `data` is UTF-16 (see [`decode_utf16`]): little-endian or not, and where its text starts
/// (after the byte-order mark).
pub(crate) fn utf16_order(data: &[u8]) -> Option<(bool, usize)> {
    Some(match data {
        [0xFF, 0xFE, ..] => (true, 2),
        [0xFE, 0xFF, ..] => (false, 2),
        _ => {
            let head = &data[..data.len().min(SNIFF) & !1];
            // Text without a NUL byte (nearly every file) is settled by one memchr.
            if head.len() < 16 || memchr::memchr(0, head).is_none() {
                return None;
            }
            let pairs = head.len() / 2;
            let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
            let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
            // 90% of one side NUL and nearly none of the other.
            if odd_nul * 10 >= pairs * 9 && even_nul * 20 <= pairs {
                (true, 0)
            } else if even_nul * 10 >= pairs * 9 && odd_nul * 20 <= pairs {
                (false, 0)
            } else {
                return None;
            }
        }
    })
}

/// `data[start..]` decoded as UTF-16 in the given byte order (a window of a file that
/// [`utf16_order`] recognised by its first bytes).
pub(crate) fn decode_utf16(data: &[u8], little: bool, start: usize) -> View {
    let units = data[start..].chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let mut text = Vec::with_capacity(data.len() / 2);
    let mut map = Map::default();
    let mut at = start;
    let mut buf = [0u8; 4];
    for c in char::decode_utf16(units) {
        let width = match &c {
            Ok(c) if c.len_utf16() == 2 => 4,
            _ => 2,
        };
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        // ASCII advances by its code unit; every byte of a wider character maps to its start.
        let step = if c.is_ascii() { 2 } else { 0 };
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            map.push(text.len(), at, step);
            text.push(b);
        }
        at += width;
    }
    map.push(text.len(), at, 2);
    View {
        text,
        map,
        first_line: 1,
        whole: true,
    }
}

/// The lines of `data` that hold URL escapes (`%XX`) or JSON escapes (`\uXXXX`), decoded:
/// a keyword or a key written with them is read as the text it stands for. Lines without
/// either cost one search for `%` and `\`.
pub(crate) fn escaped_lines(data: &[u8]) -> Vec<View> {
    let mut views = Vec::new();
    if memchr::memchr2(b'%', b'\\', data).is_none() {
        return views;
    }
    let mut line_start = 0;
    for (index, line) in data.split(|&b| b == b'\n').enumerate() {
        let offset = line_start;
        line_start += line.len() + 1;
        if memchr::memchr2(b'%', b'\\', line).is_none() {
            continue;
        }
        if let Some((text, map)) = unescape(line, offset) {
            views.push(View {
                text,
                map,
                first_line: index + 1,
                whole: false,
            });
        }
    }
    views
}

/// `line` (at `offset` in the file) with `%XX` and `\uXXXX` (ASCII code points) decoded;
/// `None` when there is nothing to decode.
fn unescape(line: &[u8], offset: usize) -> Option<(Vec<u8>, Map)> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut text = Vec::with_capacity(line.len());
    let mut map = Map::default();
    let mut i = 0;
    let mut decoded = false;
    while i < line.len() {
        let b = line[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (
                line.get(i + 1).and_then(|&c| hex(c)),
                line.get(i + 2).and_then(|&c| hex(c)),
            ) {
                let value = (h * 16 + l) as u8;
                // Only printable ASCII: a key is never anything else, and control bytes or
                // broken UTF-8 would only make noise.
                if (0x20..0x7F).contains(&value) {
                    map.push(text.len(), offset + i, 0);
                    text.push(value);
                    i += 3;
                    decoded = true;
                    continue;
                }
            }
        }
        if b == b'\\' && line.get(i + 1) == Some(&b'u') {
            let digits = line.get(i + 2..i + 6);
            if let Some(d) = digits.filter(|d| d.iter().all(|&c| hex(c).is_some())) {
                let value = d.iter().fold(0u32, |v, &c| v * 16 + hex(c).unwrap_or(0));
                if (0x20..0x7F).contains(&value) {
                    map.push(text.len(), offset + i, 0);
                    text.push(value as u8);
                    i += 6;
                    decoded = true;
                    continue;
                }
            }
        }
        map.push(text.len(), offset + i, 1);
        text.push(b);
        i += 1;
    }
    map.push(text.len(), offset + line.len(), 1);
    decoded.then_some((text, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn utf16_with_or_without_a_mark_either_order() {
        let text = "line one\ntoken = \"abc\" é 😀\n";
        for bom in [true, false] {
            let data = utf16le(text, bom);
            let view = utf16(&data).expect("utf-16");
            assert_eq!(view.text, text.as_bytes());
            // Each decoded byte maps to the code unit it came from.
            let t = view.text.iter().position(|&b| b == b't').expect("t");
            let at = view.map.at(t);
            assert_eq!(&data[at..at + 2], &[b't', 0]);
            assert_eq!(view.map.at(view.text.len()), data.len());
            // Mostly ASCII: a run for the text, one per wider character, one for the end.
            assert!(view.map.runs.len() <= 8, "{:?}", view.map);
        }
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(utf16(&be).expect("be").text, text.as_bytes());
        // Plain text and binary are not UTF-16.
        assert!(utf16(text.repeat(10).as_bytes()).is_none());
        let binary: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 251) as u8).collect();
        assert!(utf16(&binary).is_none());
    }

    #[test]
    fn url_and_json_escapes_are_decoded_where_they_are() {
        let data =
            b"plain line\nAuthorization=Bearer%20ghp_abc%2Ddef&x=1\n{\"k\": \"sk\\u002dproj\"}\n";
        let views = escaped_lines(data);
        assert_eq!(views.len(), 2);
        assert_eq!(views[0].text, b"Authorization=Bearer ghp_abc-def&x=1");
        assert_eq!(views[0].first_line, 2);
        let g = views[0].text.iter().position(|&b| b == b'g').expect("g");
        assert_eq!(data[views[0].map.at(g)], b'g');
        assert_eq!(views[1].text, b"{\"k\": \"sk-proj\"}");
        assert_eq!(views[1].first_line, 3);
        // A percent sign that escapes nothing, and a control byte, stay as they are.
        assert!(escaped_lines(b"100% done, %0A newline").is_empty());
    }
}
