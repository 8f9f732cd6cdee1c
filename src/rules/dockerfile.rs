//! The seed's "API key is NOT in Docker images": a Dockerfile that copies an env file into
//! the image, copies the whole build context while no `.dockerignore` keeps env files out of
//! it, or passes a secret through `ARG`/`ENV` (both end up in the image's history) bakes keys
//! into every image built from it.
//!
//! The decision needs two files — the Dockerfile and the `.dockerignore` beside it — so it is a
//! pure function of both ([`check`]); the engine reads the ignore file (from the index, for a
//! commit) and turns what this returns into warnings under the rules of `80-seed.toml`.

use std::ops::Range;

/// Rule id: an env file named as a source of `COPY`/`ADD`.
pub(crate) const ENV_FILE: &str = "kw.seed.docker-env-file";
/// Rule id: the whole build context copied while env files are not ignored.
pub(crate) const WHOLE_CONTEXT: &str = "kw.seed.docker-context-env";
/// Rule id: a secret passed through `ARG` or `ENV`.
pub(crate) const SECRET_BUILD_ARG: &str = "kw.seed.docker-secret-arg";

/// One thing a Dockerfile would bake into its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// Which rule: [`ENV_FILE`], [`WHOLE_CONTEXT`] or [`SECRET_BUILD_ARG`].
    pub(crate) rule: &'static str,
    /// The bytes to point at: the source argument, or the variable's name.
    pub(crate) span: Range<usize>,
}

/// Whether `path` names a Dockerfile: `Dockerfile`, `Dockerfile.prod`, `api.Dockerfile`,
/// `Containerfile` (any case).
pub(crate) fn is_dockerfile(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    ["dockerfile", "containerfile"].iter().any(|n| {
        let n = n.as_bytes();
        lower == n
            || lower.strip_prefix(n).is_some_and(|r| r.starts_with(b"."))
            || lower.strip_suffix(n).is_some_and(|r| r.ends_with(b"."))
    })
}

/// The ignore files that apply to a Dockerfile built with its own directory as the context,
/// in the order BuildKit looks for them: `<Dockerfile>.dockerignore` beside it, then
/// `.dockerignore` there.
pub(crate) fn ignore_files(dockerfile: &[u8]) -> [Vec<u8>; 2] {
    let (dir, name) = match dockerfile.iter().rposition(|&b| b == b'/') {
        Some(i) => (&dockerfile[..=i], &dockerfile[i + 1..]),
        None => (&b""[..], dockerfile),
    };
    [
        [dir, name, b".dockerignore"].concat(),
        [dir, b".dockerignore"].concat(),
    ]
}

/// What the Dockerfile at `path` (content `dockerfile`) would bake into its image, given the
/// `.dockerignore` of its build context (`None`: there is none). Empty for other files.
pub(crate) fn check(path: &[u8], dockerfile: &[u8], dockerignore: Option<&[u8]>) -> Vec<Finding> {
    if !is_dockerfile(path) {
        return Vec::new();
    }
    let mut found = Vec::new();
    let env_ignored = dockerignore.is_some_and(excludes_env_files);
    for inst in instructions(dockerfile) {
        let Some((keyword, args)) = inst.words.split_first() else {
            continue;
        };
        let keyword = keyword.text.to_ascii_uppercase();
        match keyword.as_slice() {
            b"COPY" | b"ADD" => copies(args, env_ignored, &mut found),
            b"ARG" | b"ENV" => secret_variables(args, &mut found),
            _ => {}
        }
    }
    found
}

/// `COPY`/`ADD` arguments: flags, then sources, then the destination.
fn copies(args: &[Word], env_ignored: bool, found: &mut Vec<Finding>) {
    let mut rest = args;
    let mut excluded_env = false;
    while let Some((first, tail)) = rest.split_first() {
        if !first.text.starts_with(b"--") {
            break;
        }
        // From another stage or image: nothing comes from the build context.
        if first.text.starts_with(b"--from") {
            return;
        }
        // BuildKit's `--exclude=PATTERN` keeps matching files out of this copy.
        if let Some(pattern) = first.text.strip_prefix(b"--exclude=") {
            excluded_env |= [&b".env"[..], b".env.local", b".env.production"]
                .iter()
                .all(|f| glob(strip_slashes(pattern), f));
        }
        rest = tail;
    }
    let words = json_array(rest).unwrap_or_else(|| rest.to_vec());
    if words.len() < 2 || words[0].text.starts_with(b"<<") {
        return; // a heredoc, or no destination
    }
    for source in &words[..words.len() - 1] {
        let text = strip_slashes(&source.text);
        let name = text.rsplit(|&b| b == b'/').next().unwrap_or(text);
        if is_env_file_name(name) {
            found.push(Finding {
                rule: ENV_FILE,
                span: source.span.clone(),
            });
        } else if matches!(text, b"" | b"." | b"*" | b"./*") && !env_ignored && !excluded_env {
            found.push(Finding {
                rule: WHOLE_CONTEXT,
                span: source.span.clone(),
            });
        }
    }
}

/// `ARG NAME[=default]` and `ENV NAME=value …` / `ENV NAME value`: a secret-named variable
/// whose value comes from the build (a build argument, a reference) lands in the image's
/// history. A literal value is a key in the Dockerfile itself: the content rules report it.
fn secret_variables(args: &[Word], found: &mut Vec<Finding>) {
    let pairs: Vec<(&Word, Option<&[u8]>)> = if args.len() == 2 && !args[0].text.contains(&b'=') {
        vec![(&args[0], Some(args[1].text.as_slice()))] // ENV NAME value
    } else {
        args.iter()
            .map(|w| match memchr::memchr(b'=', &w.text) {
                Some(eq) => (w, Some(&w.text[eq + 1..])),
                None => (w, None),
            })
            .collect()
    };
    for (word, value) in pairs {
        let name_len = memchr::memchr(b'=', &word.text).unwrap_or(word.text.len());
        let name = &word.text[..name_len];
        let from_build = match value {
            None => true,
            Some(v) => {
                let v = v.trim_ascii_matches_quotes();
                v.is_empty() || v.starts_with(b"$")
            }
        };
        if from_build && is_secret_name(name) {
            found.push(Finding {
                rule: SECRET_BUILD_ARG,
                span: word.span.start..word.span.start + name_len,
            });
        }
    }
}

trait TrimQuotes {
    fn trim_ascii_matches_quotes(&self) -> &[u8];
}

impl TrimQuotes for [u8] {
    fn trim_ascii_matches_quotes(&self) -> &[u8] {
        let t = self.trim_ascii();
        t.strip_prefix(b"\"")
            .and_then(|r| r.strip_suffix(b"\""))
            .unwrap_or(t)
    }
}

/// `OPENAI_API_KEY`, `NPM_TOKEN`, `DB_PASSWORD`; not `TOKEN_FILE`, `SECRET_PATH`, `KEY_ID`.
fn is_secret_name(name: &[u8]) -> bool {
    let upper = name.to_ascii_uppercase();
    let has = |w: &[u8]| memchr::memmem::find(&upper, w).is_some();
    let secret = has(b"API_KEY")
        || has(b"APIKEY")
        || has(b"SECRET")
        || has(b"TOKEN")
        || has(b"PASSWORD")
        || has(b"PASSWD")
        || has(b"PRIVATE_KEY")
        || has(b"ACCESS_KEY")
        || has(b"CREDENTIAL");
    let about = [
        &b"_FILE"[..],
        b"_PATH",
        b"_DIR",
        b"_URL",
        b"_ID",
        b"_NAME",
        b"_TYPE",
        b"_LENGTH",
        b"_TTL",
    ]
    .iter()
    .any(|s| upper.ends_with(s));
    secret && !about
}

/// `.env`, `.env.production`, `prod.env`, `.env*` — not the templates (`.env.example`).
fn is_env_file_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    let env = lower == b".env"
        || lower.starts_with(b".env.")
        || lower == b".env*"
        || (lower.ends_with(b".env") && lower.len() > 4);
    let template = [
        &b"example"[..],
        b"sample",
        b"template",
        b"dist",
        b"defaults",
        b"schema",
    ]
    .iter()
    .any(|t| memchr::memmem::find(&lower, t).is_some());
    env && !template
}

/// Whether a `.dockerignore` keeps env files (`.env`, `.env.local`, `.env.production` at the
/// context's root) out of the build context. Lines are patterns matched against paths relative
/// to the context; `!` re-includes; the last pattern that matches decides.
pub(crate) fn excludes_env_files(dockerignore: &[u8]) -> bool {
    let patterns: Vec<(bool, &[u8])> = dockerignore
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
        .map(|l| match l.strip_prefix(b"!") {
            Some(p) => (false, strip_slashes(p.trim_ascii())),
            None => (true, strip_slashes(l)),
        })
        .collect();
    [&b".env"[..], b".env.local", b".env.production"]
        .iter()
        .all(|file| {
            patterns
                .iter()
                .rev()
                .find(|(_, p)| glob(p, file))
                .is_some_and(|(exclude, _)| *exclude)
        })
}

/// `./a/` → `a`, `/a` → `a`.
fn strip_slashes(p: &[u8]) -> &[u8] {
    let p = p.strip_prefix(b"./").unwrap_or(p);
    let p = p.trim_ascii_start();
    let p = p.strip_prefix(b"/").unwrap_or(p);
    p.strip_suffix(b"/").unwrap_or(p)
}

/// Go's `filepath.Match` with Docker's `**` (any number of directories): `*` and `?` do not
/// cross `/`, `[…]` is a class, `\` escapes.
fn glob(pattern: &[u8], path: &[u8]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((b'*', rest)) if rest.first() == Some(&b'*') => {
            let rest = rest[1..].strip_prefix(b"/").unwrap_or(&rest[1..]);
            (0..=path.len()).any(|i| (i == 0 || path[i - 1] == b'/') && glob(rest, &path[i..]))
                || glob(rest, path)
        }
        Some((b'*', rest)) => {
            let mut i = 0;
            loop {
                if glob(rest, &path[i..]) {
                    return true;
                }
                if i == path.len() || path[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        Some((b'?', rest)) => path.first().is_some_and(|&c| c != b'/') && glob(rest, &path[1..]),
        Some((b'[', rest)) => {
            let Some(close) = rest.iter().position(|&b| b == b']') else {
                return path.first() == Some(&b'[') && glob(rest, &path[1..]);
            };
            let (class, after) = (&rest[..close], &rest[close + 1..]);
            let Some(&c) = path.first() else { return false };
            let (negate, class) = match class.split_first() {
                Some((b'^' | b'!', r)) => (true, r),
                _ => (false, class),
            };
            let mut hit = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    hit |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    hit |= class[i] == c;
                    i += 1;
                }
            }
            hit != negate && c != b'/' && glob(after, &path[1..])
        }
        Some((b'\\', rest)) if !rest.is_empty() => {
            path.first() == Some(&rest[0]) && glob(&rest[1..], &path[1..])
        }
        Some((&c, rest)) => path.first() == Some(&c) && glob(rest, &path[1..]),
    }
}

/// A word of an instruction and where its bytes are in the file.
#[derive(Debug, Clone)]
struct Word {
    text: Vec<u8>,
    span: Range<usize>,
}

/// One instruction: its words, continuation lines joined.
struct Instruction {
    words: Vec<Word>,
}

/// The instructions of a Dockerfile: comment lines skipped, lines ending in the escape
/// character (`\`, or the one a `# escape=` directive names) joined to the next.
fn instructions(data: &[u8]) -> Vec<Instruction> {
    let escape = escape_char(data);
    let mut out = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    let mut continuing = false;
    let mut at = 0;
    for line in data.split(|&b| b == b'\n') {
        let start = at;
        at += line.len() + 1;
        let trimmed = line.trim_ascii();
        if trimmed.starts_with(b"#") || (trimmed.is_empty() && continuing) {
            continue; // comments and blank lines inside a continuation are dropped
        }
        let body_end = line.trim_ascii_end().len();
        let continues = body_end > 0 && line[body_end - 1] == escape;
        let end = if continues { body_end - 1 } else { body_end };
        split_words(&line[..end], start, &mut words);
        if !continues {
            if !words.is_empty() {
                out.push(Instruction {
                    words: std::mem::take(&mut words),
                });
            }
            continuing = false;
        } else {
            continuing = true;
        }
    }
    if !words.is_empty() {
        out.push(Instruction { words });
    }
    out
}

/// The escape character: `` ` `` when a leading `# escape=`` ` `` directive says so.
fn escape_char(data: &[u8]) -> u8 {
    for line in data.split(|&b| b == b'\n') {
        let t = line.trim_ascii();
        let Some(directive) = t.strip_prefix(b"#") else {
            break;
        };
        let d = directive.trim_ascii().to_ascii_lowercase();
        if let Some(v) = d.strip_prefix(b"escape") {
            let v = v.trim_ascii_start();
            if let Some(c) = v.strip_prefix(b"=").map(<[u8]>::trim_ascii) {
                return c.first().copied().unwrap_or(b'\\');
            }
        }
    }
    b'\\'
}

/// Splits on white space, keeping double-quoted words whole (their quotes dropped).
fn split_words(line: &[u8], offset: usize, words: &mut Vec<Word>) {
    let mut i = 0;
    while i < line.len() {
        if line[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = Vec::new();
        let mut quoted = false;
        while i < line.len() && (quoted || !line[i].is_ascii_whitespace()) {
            if line[i] == b'"' {
                quoted = !quoted;
            } else {
                text.push(line[i]);
            }
            i += 1;
        }
        words.push(Word {
            text,
            span: offset + start..offset + i,
        });
    }
}

/// The exec form `["a", "b", "c"]`: its strings, with the span of each (inside its quotes).
fn json_array(words: &[Word]) -> Option<Vec<Word>> {
    let first = words.first()?;
    if !first.text.starts_with(b"[") {
        return None;
    }
    let mut out = Vec::new();
    for w in words {
        // `split_words` dropped the quotes; `[`, `,` and `]` remain around the strings.
        let t = &w.text;
        let lead = t.iter().take_while(|b| b"[,".contains(b)).count();
        let trail = t[lead..]
            .iter()
            .rev()
            .take_while(|b| b"],".contains(b))
            .count();
        let inner = &t[lead..t.len() - trail];
        if inner.is_empty() {
            continue;
        }
        // The span: the raw word minus its punctuation and quotes.
        let raw_start = w.span.start + lead + 1;
        out.push(Word {
            text: inner.to_vec(),
            span: raw_start..raw_start + inner.len(),
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(path: &str, dockerfile: &str, ignore: Option<&str>) -> Vec<(&'static str, String)> {
        check(
            path.as_bytes(),
            dockerfile.as_bytes(),
            ignore.map(str::as_bytes),
        )
        .into_iter()
        .map(|f| (f.rule, dockerfile[f.span].to_owned()))
        .collect()
    }

    #[test]
    fn dockerfile_names() {
        for (path, want) in [
            ("Dockerfile", true),
            ("deploy/Dockerfile.prod", true),
            ("api.Dockerfile", true),
            ("Containerfile", true),
            ("dockerfile", true),
            ("Dockerfile.md", true),
            ("docs/dockerfiles.md", false),
            ("MyDockerfileParser.java", false),
        ] {
            assert_eq!(is_dockerfile(path.as_bytes()), want, "{path}");
        }
    }

    #[test]
    fn ignore_files_sit_beside_the_dockerfile() {
        assert_eq!(
            ignore_files(b"svc/api/Dockerfile"),
            [
                b"svc/api/Dockerfile.dockerignore".to_vec(),
                b"svc/api/.dockerignore".to_vec()
            ]
        );
        assert_eq!(ignore_files(b"Dockerfile")[1], b".dockerignore");
    }

    #[test]
    fn env_files_named_in_copy_or_add() {
        let d = "FROM node:20\nWORKDIR /app\nCOPY package.json .env ./\nADD --chown=app:app .env.production /app/\nCOPY [\"config/.env\", \"/app/config/\"]\nCOPY .env.example ./\nCOPY --from=build /app/.env /app/\n";
        assert_eq!(
            rules("Dockerfile", d, None),
            vec![
                (ENV_FILE, ".env".into()),
                (ENV_FILE, ".env.production".into()),
                (ENV_FILE, "config/.env".into()),
            ]
        );
    }

    #[test]
    fn the_whole_context_is_a_problem_only_without_an_ignore_that_keeps_env_files_out() {
        let d = "FROM python:3.12\nWORKDIR /app\nCOPY . .\n";
        assert_eq!(
            rules("Dockerfile", d, None),
            vec![(WHOLE_CONTEXT, ".".into())]
        );
        for ignore in [
            ".env*\n",
            "**/.env*\n",
            "node_modules\n.env\n.env.*\n",
            "*\n!src\n!package.json\n",
            "/.env*\n",
        ] {
            assert_eq!(rules("Dockerfile", d, Some(ignore)), vec![], "{ignore:?}");
        }
        for ignore in [
            "node_modules\n",
            ".env\n",
            ".env*\n!.env.production\n",
            "# .env*\n",
        ] {
            assert_eq!(
                rules("Dockerfile", d, Some(ignore)),
                vec![(WHOLE_CONTEXT, ".".into())],
                "{ignore:?}"
            );
        }
        let excluded = "FROM python:3.12\nCOPY --exclude=.env* . /app\n";
        assert_eq!(rules("Dockerfile", excluded, None), vec![]);
        assert_eq!(
            rules("Dockerfile", "FROM x\nADD ./ /srv/\n", None),
            vec![(WHOLE_CONTEXT, "./".into())]
        );
    }

    #[test]
    fn continuation_lines_comments_and_the_escape_directive() {
        let d = "FROM x\nCOPY \\\n  # a comment\n  .env \\\n  /app/\n";
        assert_eq!(
            rules("Dockerfile", d, None),
            vec![(ENV_FILE, ".env".into())]
        );
        let d = "# escape=`\nFROM mcr.microsoft.com/windows\nCOPY `\n  .env C:\\app\\\n";
        assert_eq!(
            rules("Dockerfile", d, None),
            vec![(ENV_FILE, ".env".into())]
        );
    }

    #[test]
    fn secrets_passed_through_arg_or_env() {
        let d = "FROM node:20\nARG NPM_TOKEN\nARG NODE_ENV=production\nENV OPENAI_API_KEY=${OPENAI_API_KEY} PORT=8080\nENV DB_PASSWORD_FILE=/run/secrets/db\nENV API_TOKEN $API_TOKEN\nARG GITHUB_TOKEN_PATH\n";
        assert_eq!(
            rules("Dockerfile", d, None),
            vec![
                (SECRET_BUILD_ARG, "NPM_TOKEN".into()),
                (SECRET_BUILD_ARG, "OPENAI_API_KEY".into()),
                (SECRET_BUILD_ARG, "API_TOKEN".into()),
            ]
        );
        // A literal value is left to the content rules, which block it.
        assert_eq!(
            rules("Dockerfile", "ENV STRIPE_SECRET_KEY=sk_live_abc\n", None),
            vec![]
        );
    }

    #[test]
    fn other_files_are_not_read() {
        assert_eq!(rules("build.sh", "COPY .env /app\n", None), vec![]);
    }

    #[test]
    fn globs_follow_docker() {
        for (p, path, want) in [
            (".env*", ".env.local", true),
            ("*.env", "prod.env", true),
            ("*", ".env", true),
            ("**/.env", ".env", true),
            ("**/.env", "a/b/.env", true),
            ("a/*/c", "a/b/c", true),
            ("a/*/c", "a/b/x/c", false),
            ("[.]env", ".env", true),
            ("?env", ".env", true),
            ("env", ".env", false),
        ] {
            assert_eq!(glob(p.as_bytes(), path.as_bytes()), want, "{p} {path}");
        }
    }
}
