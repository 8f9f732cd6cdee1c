//! The report a developer reads at `git commit`: what is wrong, where, and the commands that
//! fix it, following the OpenAI key-safety advice keyward grew from (read keys from the
//! environment, keep local values in `.env.local`, use a secret manager in production, revoke
//! what was committed).

use super::{advice, Context, Kept, Report};
use crate::model::{date, Allowance, Finding, Kind, Outcome, Place};
use crate::redact::escape;
use std::io;

/// The human report.
#[derive(Debug, Clone)]
pub(crate) struct Human {
    /// Use ANSI colour.
    pub(crate) color: bool,
    /// What was scanned.
    pub(crate) context: Context,
    /// Where the message of a refused commit is kept ([`Context::Message`]).
    pub(crate) kept: Option<Kept>,
    /// How to run this keyward in a shell (`keyward`, or its full path), for the `allow`
    /// command the report prints: asked only when it is printed (it looks at `PATH`).
    pub(crate) invocation: fn() -> String,
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// At most this many binary file names are listed.
const BINARY_LISTED: usize = 5;

impl Human {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color {
            format!("{style}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    fn header(&self, blocking: usize, history: usize, other: usize) -> String {
        let problems = |n: usize| {
            if n == 1 {
                "1 problem".to_owned()
            } else {
                format!("{n} problems")
            }
        };
        let place = match self.context {
            Context::Commit | Context::Staged => "in what you staged",
            Context::Message => "in your commit message",
            Context::Paths => "in the scanned files",
            Context::History => "in the scanned commits",
            Context::Push => "in the pushed commits",
        };
        if blocking > 0 {
            let verdict = match self.context {
                Context::Commit | Context::Staged | Context::Message => "commit blocked",
                Context::Paths | Context::History => "secrets found",
                Context::Push => "push rejected",
            };
            return format!(
                "keyward: {} — {} {place}",
                self.paint(RED, verdict),
                problems(blocking)
            );
        }
        let mut parts = Vec::new();
        if history > 0 {
            let s = if history == 1 { "" } else { "s" };
            parts.push(format!("{history} secret{s} already in history"));
        }
        if other > 0 {
            parts.push(format!("{other} to look at"));
        }
        let verdict = match self.context {
            Context::Commit | Context::Staged | Context::Message => "commit allowed",
            Context::Paths | Context::History => "nothing blocking",
            Context::Push => "push accepted",
        };
        format!(
            "keyward: {} — {}",
            self.paint(YELLOW, verdict),
            parts.join(", ")
        )
    }
}

impl Report for Human {
    fn write(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        let (blocking, history, other) = outcome.counts();
        let shown: Vec<&Finding> = outcome.shown().collect();
        if shown.is_empty() {
            self.binary_note(outcome, out)?;
            return self.allowed_note(outcome, out);
        }
        writeln!(out, "{}", self.header(blocking, history, other))?;
        writeln!(out)?;
        let rows: Vec<[String; 3]> = shown.iter().map(|f| row(f)).collect();
        let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
        for (f, r) in shown.iter().zip(&rows) {
            let mark = match (f.blocking, f.kind, f.pre_existing) {
                (true, _, _) => self.paint(RED, "✗"),
                (false, Kind::Secret, true) => self.paint(YELLOW, "!"),
                _ => self.paint(DIM, "·"),
            };
            let line = format!("{:w0$}   {:w1$}   {}", r[0], r[1], r[2]);
            writeln!(out, "  {mark} {}", line.trim_end())?;
            if let Some(note) = &f.note {
                writeln!(
                    out,
                    "      {}",
                    self.paint(YELLOW, &escape(note.as_bytes()))
                )?;
            }
        }
        self.guidance(outcome, out)?;
        self.binary_note(outcome, out)?;
        self.allowed_note(outcome, out)
    }
}

/// One line for the exceptions a run used, so that nothing is allowed unseen:
/// `policy: 3 findings allowed — 2 by path (tests/fixtures/**), 1 by fingerprint (7c1e09a2)`.
pub(crate) fn allowed_summary(outcome: &Outcome) -> Option<String> {
    let allowed: Vec<&Finding> = outcome.allowed().collect();
    if allowed.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    for (by, label) in [
        ("path", "by path"),
        ("fingerprint", "by fingerprint"),
        ("inline", "inline"),
        ("rule", "by rules turned off"),
        ("file", "by file exemption"),
    ] {
        let these: Vec<&Finding> = allowed
            .iter()
            .copied()
            .filter(|f| f.allowed.as_ref().is_some_and(|a| a.by() == by))
            .collect();
        if these.is_empty() {
            continue;
        }
        let mut names: Vec<String> = these
            .iter()
            .filter_map(|f| match f.allowed.as_ref()? {
                Allowance::Path(glob) | Allowance::File(glob) => Some(escape(glob.as_bytes())),
                Allowance::Fingerprint(_) => f.fingerprint.clone(),
                Allowance::Rule => Some(escape(f.rule_id.as_bytes())),
                Allowance::Inline => None,
            })
            .collect();
        names.sort();
        names.dedup();
        let listed = if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        };
        parts.push(format!("{} {label}{listed}", these.len()));
    }
    let n = allowed.len();
    Some(format!(
        "policy: {n} finding{} allowed — {}",
        if n == 1 { "" } else { "s" },
        parts.join(", ")
    ))
}

/// Where a finding is, for people: `app.py:12:15`, or the path alone (escaped).
fn location(f: &Finding) -> String {
    let path = escape(&f.path);
    match (f.line, f.column) {
        (Some(l), Some(c)) => format!("{path}:{l}:{c}"),
        _ => path,
    }
}

/// The three columns: location, rule name, preview and fingerprint (or what is wrong).
fn row(f: &Finding) -> [String; 3] {
    let location = location(f);
    let detail = match f.kind {
        Kind::Secret => {
            let mut d = format!(
                "{}  fp:{}",
                f.preview.as_deref().unwrap_or(""),
                f.fingerprint.as_deref().unwrap_or("")
            );
            if let Some(c) = &f.commit {
                let id = c.id.to_string();
                d.push_str(&format!(
                    "  commit {} ({})",
                    &id[..id.len().min(10)],
                    date(c.author_time)
                ));
            } else if f.pre_existing {
                d.push_str("  (already in history)");
            }
            d
        }
        Kind::Warning => format!(
            "{}  fp:{}  (warning{})",
            f.preview.as_deref().unwrap_or(""),
            f.fingerprint.as_deref().unwrap_or(""),
            if f.blocking { ", --strict" } else { "" }
        ),
        Kind::ForbiddenFile if f.blocking => "must not be committed".into(),
        Kind::ForbiddenFile => "should stay local (warning)".into(),
        Kind::NotScanned => "not scanned".into(),
    };
    [location, escape(f.rule_name.as_bytes()), detail]
}

impl Human {
    fn guidance(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        let shown: Vec<&Finding> = outcome.shown().collect();
        let files: Vec<&Finding> = shown
            .iter()
            .copied()
            .filter(|f| f.kind == Kind::ForbiddenFile)
            .collect();
        // A key inside a forbidden file that blocks is covered by that file's advice (unstage
        // it, ignore it): telling the developer to edit the file and stage it again would
        // contradict it.
        let new: Vec<&Finding> = shown
            .iter()
            .copied()
            .filter(|f| f.kind == Kind::Secret && !f.pre_existing)
            .filter(|f| !advice::inside_blocked_file(f, &files))
            .collect();
        let old: Vec<&Finding> = shown
            .iter()
            .copied()
            .filter(|f| f.kind == Kind::Secret && f.pre_existing)
            .collect();
        let warnings: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.kind == Kind::Warning)
            .collect();
        let skipped: Vec<&Finding> = shown
            .iter()
            .copied()
            .filter(|f| f.kind == Kind::NotScanned)
            .collect();
        let staged = matches!(self.context, Context::Commit | Context::Staged);
        let message = self.context == Context::Message;
        // Asked once: it looks at `PATH`.
        let invocation = std::cell::OnceCell::new();
        let keyward = || invocation.get_or_init(self.invocation).clone();

        if !new.is_empty() && message {
            self.message_guidance(&new, out)?;
        } else if !new.is_empty() {
            writeln!(out)?;
            let title = match (staged, new.len()) {
                (true, 1) => "This key has not left your machine yet. Keep it out of git:".into(),
                (true, n) => {
                    format!("These {n} keys have not left your machine yet. Keep them out of git:")
                }
                (false, _) => "Keep keys out of files that get committed:".into(),
            };
            writeln!(out, "  {}", self.paint(BOLD, &title))?;
            let mut seen: Vec<(&[u8], &str)> = Vec::new();
            for f in &new {
                let env = f.env_var.as_deref().unwrap_or("API_KEY");
                if seen.contains(&(f.path.as_slice(), env)) || seen.len() == 5 {
                    continue;
                }
                seen.push((&f.path, env));
                let here = new
                    .iter()
                    .filter(|g| {
                        g.path == f.path && g.env_var.as_deref().unwrap_or("API_KEY") == env
                    })
                    .count();
                let it = if here == 1 { "it" } else { "them" };
                writeln!(
                    out,
                    "    - Remove {it} from {} and read {it} from the environment: {}",
                    escape(&f.path),
                    env_snippet(&f.path, escape(env.as_bytes()).as_str())
                )?;
            }
            writeln!(
                out,
                "    - Keep local values in .env.local, listed in .gitignore"
            )?;
            writeln!(
                out,
                "    - In production, use a secret manager (Kubernetes Secrets, AWS Secrets Manager, HashiCorp Vault, Azure Key Vault)"
            )?;
            if staged {
                writeln!(
                    out,
                    "    - Then stage the fixed file again: git add {}",
                    shell_paths(&new)
                )?;
            }
        }
        if !old.is_empty() {
            writeln!(out)?;
            let strict = if old.iter().any(|f| f.blocking) {
                ""
            } else {
                " (not blocking; --strict blocks it)"
            };
            writeln!(
                out,
                "  {}{strict}",
                self.paint(
                    BOLD,
                    "Already in history: anyone with a clone has this key."
                )
            )?;
            let mut urls: Vec<String> = old.iter().map(|f| escape(f.remedy.as_bytes())).collect();
            urls.dedup();
            for url in urls {
                writeln!(out, "    - Revoke it now and create a new one: {url}")?;
            }
            writeln!(
                out,
                "    - Check the provider's usage logs for activity you don't recognise"
            )?;
            writeln!(
                out,
                "    - Review git history; rewriting it (git filter-repo) removes the copy, not the leak"
            )?;
        }
        self.recorded_text_guidance(outcome, out)?;
        for f in &files {
            self.file_guidance(f, &shown, &files, &keyward, out)?;
        }
        // Warnings point at a practice, not a key: each rule's fix once.
        let mut explained: Vec<&str> = Vec::new();
        for f in &warnings {
            if explained.contains(&f.rule_id.as_str()) {
                continue;
            }
            explained.push(&f.rule_id);
            writeln!(out)?;
            let strict = if f.blocking {
                ""
            } else {
                " (a warning; --strict blocks it)"
            };
            writeln!(
                out,
                "  {}{strict}",
                self.paint(BOLD, &format!("{}:", f.rule_name))
            )?;
            writeln!(out, "    {}", f.remedy)?;
        }
        if !skipped.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "  {} raise the cap with --max-file-size if they should be scanned.",
                self.paint(BOLD, "Files over the size cap were not scanned:")
            )?;
        }
        if outcome.blocked() {
            writeln!(out)?;
            let allowable = advice::allowable(&shown, &files);
            if !allowable.is_empty() {
                let line = if message {
                    "that line of the message"
                } else {
                    "a comment on that line"
                };
                let title = if allowable.len() == 1 {
                    format!(
                        "Not a secret? Add `keyward:allow` on {line}, or record it for the team:"
                    )
                } else {
                    "Not secrets? Add `keyward:allow` on each key's line, or record each for the team:".to_owned()
                };
                writeln!(out, "  {title}")?;
                for f in &allowable {
                    let fp = f.fingerprint.as_deref().unwrap_or_default();
                    let mut command = format!(
                        "{} allow {fp} --reason \"why this is not a leak\"",
                        keyward()
                    );
                    if allowable.len() > 1 {
                        // Which line each command is for; a shell reads it as a comment.
                        command.push_str(&format!("  # {}", location(f)));
                    }
                    writeln!(out, "    {command}")?;
                }
            }
            if self.context == Context::Push {
                writeln!(
                    out,
                    "  The push was rejected: rotate the key, remove it from your commits (git rebase -i, or git filter-repo) and push again."
                )?;
            }
            if staged || message {
                writeln!(
                    out,
                    "  Bypass once (not recommended): git commit --no-verify"
                )?;
            }
        }
        Ok(())
    }

    /// One forbidden file's advice, coherent with the keys inside it: unstage and ignore it
    /// (which keeps its keys out of git too), keep a template instead, and, for a file that
    /// blocks, the exact exemption that lets it through — with an allow command for each key
    /// it holds, which would block on its own.
    fn file_guidance(
        &self,
        f: &Finding,
        shown: &[&Finding],
        files: &[&Finding],
        keyward: &dyn Fn() -> String,
        out: &mut dyn io::Write,
    ) -> io::Result<()> {
        writeln!(out)?;
        let quoted = shell_quote(&f.path);
        let title = if f.blocking {
            format!("{quoted} must not be committed. Unstage it and ignore it (your copy stays on disk):")
        } else {
            format!("{quoted} is usually kept local. Unstage it and ignore it (your copy stays on disk):")
        };
        writeln!(out, "  {}", self.paint(BOLD, &title))?;
        writeln!(
            out,
            "    git rm --cached {quoted} && {}",
            ignore_command(&f.path)
        )?;
        writeln!(out, "    Instead: {}", escape(f.remedy.as_bytes()))?;
        if !f.blocking {
            return Ok(());
        }
        let keys: Vec<&Finding> = shown
            .iter()
            .copied()
            .filter(|k| {
                k.kind != Kind::ForbiddenFile
                    && advice::covering_file(k, files).is_some_and(|c| std::ptr::eq(c, f))
            })
            .filter(|k| k.blocking && k.fingerprint.is_some())
            .collect();
        // Only a key the commit is adding has not left the machine; one HEAD already holds
        // gets the history advice above.
        let in_commit = matches!(self.context, Context::Commit | Context::Staged);
        match keys.iter().filter(|k| !k.pre_existing).count() {
            0 => {}
            1 if in_commit => writeln!(out, "    That keeps the key in it out of git too: it has not left your machine.")?,
            n if in_commit => writeln!(out, "    That keeps the {n} keys in it out of git too: they have not left your machine.")?,
            _ => {}
        }
        let Some(entry) = advice::allow_files_entry(&f.path) else {
            return Ok(());
        };
        let what = match keys.len() {
            0 => "",
            1 => ", key and all",
            _ => ", keys and all",
        };
        writeln!(
            out,
            "  Meant to commit it{what}? Exempt it in {}, under [allow]: files = [{entry}]",
            crate::config::FILE_NAME
        )?;
        if !keys.is_empty() {
            let these = if keys.len() == 1 {
                "its key (it blocks on its own)"
            } else {
                "each of its keys (they block on their own)"
            };
            writeln!(out, "  and record {these}:")?;
        }
        let mut seen: Vec<&str> = Vec::new();
        for k in keys {
            let fp = k.fingerprint.as_deref().unwrap_or_default();
            if seen.contains(&fp) {
                continue;
            }
            seen.push(fp);
            writeln!(
                out,
                "    {} allow {fp} --reason \"why this is not a leak\"  # {}",
                keyward(),
                location(k)
            )?;
        }
        Ok(())
    }

    /// How to take a key out of a commit's or tag's message or identity (the key itself is
    /// revoked as any committed key is).
    fn recorded_text_guidance(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        let texts: Vec<&Finding> = outcome
            .shown()
            .filter(|f| f.place == Place::Message && f.kind == Kind::Secret)
            .collect();
        if texts.is_empty() {
            return Ok(());
        }
        writeln!(out)?;
        writeln!(
            out,
            "  {}",
            self.paint(BOLD, "Take the key out of the message, then push again:")
        )?;
        if texts.iter().any(|f| f.path.starts_with(b"commit ")) {
            writeln!(
                out,
                "    - The last commit: git commit --amend (an author or committer: --reset-author or --author=\"Name <email>\")"
            )?;
            writeln!(
                out,
                "    - An earlier one: git rebase -i <commit>^ and mark it `reword` (or `edit` for an author)"
            )?;
        }
        // `tag NAME message` / `tag NAME tagger`: the name is what lies between.
        let mut tags: Vec<String> = texts
            .iter()
            .filter_map(|f| {
                let rest = f.path.strip_prefix(b"tag ")?;
                let end = rest.iter().rposition(|&b| b == b' ')?;
                Some(shell_quote(&rest[..end]))
            })
            .collect();
        tags.dedup();
        for tag in tags {
            writeln!(
                out,
                "    - Tag {tag}: delete it and create it again without the key: git tag -d {tag} && git tag -a {tag} <commit>"
            )?;
        }
        Ok(())
    }

    /// A key in the message of the commit being made: the commit was not made, git kept the
    /// message, and the key is out of it in one command. Reading keys from the environment
    /// does not apply: nobody meant to put a key in a message. The key has left the machine
    /// only if it was pasted somewhere else too.
    fn message_guidance(&self, new: &[&Finding], out: &mut dyn io::Write) -> io::Result<()> {
        writeln!(out)?;
        match &self.kept {
            Some(kept) => {
                writeln!(
                    out,
                    "  {}",
                    self.paint(
                        BOLD,
                        &format!(
                            "The commit was not made; git kept your message in {}.",
                            kept.file
                        )
                    )
                )?;
                writeln!(
                    out,
                    "    - Take the key out of it and commit again: {}",
                    kept.retry
                )?;
            }
            None => {
                writeln!(
                    out,
                    "  {}",
                    self.paint(BOLD, "The commit was not made: take the key out of the message and commit again.")
                )?;
            }
        }
        let mut urls: Vec<String> = new.iter().map(|f| escape(f.remedy.as_bytes())).collect();
        urls.dedup();
        for url in urls {
            let at = if url.is_empty() {
                String::new()
            } else {
                format!(": {url}")
            };
            writeln!(
                out,
                "    - Pasted it anywhere else too (a chat, a ticket)? Revoke it and create a new one{at}"
            )?;
        }
        Ok(())
    }

    fn allowed_note(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        match allowed_summary(outcome) {
            Some(line) => writeln!(out, "keyward: {}", self.paint(DIM, &line)),
            None => Ok(()),
        }
    }

    fn binary_note(&self, outcome: &Outcome, out: &mut dyn io::Write) -> io::Result<()> {
        if outcome.binary.is_empty() {
            return Ok(());
        }
        let mut names = outcome.binary[..outcome.binary.len().min(BINARY_LISTED)]
            .iter()
            .map(|p| escape(p))
            .collect::<Vec<_>>()
            .join(", ");
        if outcome.binary.len() > BINARY_LISTED {
            names.push_str(&format!(
                " (+{} more)",
                outcome.binary.len() - BINARY_LISTED
            ));
        }
        let n = outcome.binary.len();
        let note = format!(
            "keyward: {n} binary file{} checked for prefixed keys only: {names}",
            if n == 1 { "" } else { "s" }
        );
        if outcome.shown().next().is_some() {
            writeln!(out)?;
        }
        writeln!(out, "{}", self.paint(DIM, &note))
    }
}

/// How code in this file's language reads an environment variable.
fn env_snippet(path: &[u8], var: &str) -> String {
    if var.is_empty() {
        return "an environment variable or your secret manager".into();
    }
    let ext = path.rsplit(|&b| b == b'.').next().unwrap_or_default();
    match ext {
        b"py" | b"ipynb" => format!("os.environ[\"{var}\"]"),
        b"js" | b"mjs" | b"cjs" | b"ts" | b"tsx" | b"jsx" => format!("process.env.{var}"),
        b"go" => format!("os.Getenv(\"{var}\")"),
        b"rs" => format!("std::env::var(\"{var}\")"),
        b"rb" => format!("ENV[\"{var}\"]"),
        b"java" | b"kt" | b"scala" => format!("System.getenv(\"{var}\")"),
        b"cs" => format!("Environment.GetEnvironmentVariable(\"{var}\")"),
        b"php" => format!("getenv('{var}')"),
        b"sh" | b"bash" | b"zsh" | b"yml" | b"yaml" | b"toml" | b"env" => format!("${{{var}}}"),
        _ => format!("the {var} environment variable"),
    }
}

/// A path quoted for a POSIX shell (single quotes unless it is plainly safe), with control
/// characters escaped for the terminal (such a path is shown, not meant to be pasted).
fn shell_quote(path: &[u8]) -> String {
    let safe = path
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+@%:,".contains(b));
    let shown = crate::redact::escape(path);
    if safe && !path.is_empty() {
        shown
    } else {
        format!("'{}'", shown.replace('\'', r"'\''"))
    }
}

/// The command that adds `path` to `.gitignore` as a pattern for that file: `echo .env >>
/// .gitignore`. git reads some names as something else — a leading `#` as a comment (Emacs's
/// `#.env#`), a leading `!` as a negation, `*`, `?`, `[` and `\` as wildcards and escapes,
/// trailing spaces as nothing — so those are escaped, and the pattern is written with
/// `printf`, which, unlike some shells' `echo`, leaves backslashes alone.
fn ignore_command(path: &[u8]) -> String {
    let mut pattern = Vec::with_capacity(path.len() + 2);
    let trailing_spaces = path.len() - path.iter().rev().take_while(|&&b| b == b' ').count();
    for (i, &b) in path.iter().enumerate() {
        if matches!(b, b'*' | b'?' | b'[' | b'\\')
            || (i == 0 && matches!(b, b'#' | b'!'))
            || (b == b' ' && i >= trailing_spaces)
        {
            pattern.push(b'\\');
        }
        pattern.push(b);
    }
    if pattern == path && !path.starts_with(b"-") {
        return format!("echo {} >> .gitignore", shell_quote(path));
    }
    // Single quotes keep the backslashes as they are; only the text between them is escaped
    // for the terminal.
    let shown: Vec<String> = pattern
        .split(|&b| b == b'\\')
        .map(crate::redact::escape)
        .collect();
    format!(
        "printf '%s\\n' '{}' >> .gitignore",
        shown.join("\\").replace('\'', r"'\''")
    )
}

fn shell_paths(findings: &[&Finding]) -> String {
    let mut paths: Vec<String> = findings.iter().map(|f| shell_quote(&f.path)).collect();
    paths.dedup();
    paths.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_snippets_follow_the_language() {
        assert_eq!(
            env_snippet(b"src/app.py", "OPENAI_API_KEY"),
            "os.environ[\"OPENAI_API_KEY\"]"
        );
        assert_eq!(env_snippet(b"web/index.ts", "K"), "process.env.K");
        assert_eq!(env_snippet(b"README", "K"), "the K environment variable");
    }

    #[test]
    fn ignore_commands_write_a_pattern_for_that_file_alone() {
        for (path, command) in [
            (&b".env"[..], "echo .env >> .gitignore"),
            (b"config/.env.local", "echo config/.env.local >> .gitignore"),
            (b".env~", "echo '.env~' >> .gitignore"),
            (b"#.env#", r"printf '%s\n' '\#.env#' >> .gitignore"),
            (b"config/#.env#", "echo 'config/#.env#' >> .gitignore"),
            (b".#.env", "echo '.#.env' >> .gitignore"),
            (b"!.env", r"printf '%s\n' '\!.env' >> .gitignore"),
            (b".env [1]", r"printf '%s\n' '.env \[1]' >> .gitignore"),
            (b".env ", r"printf '%s\n' '.env\ ' >> .gitignore"),
            (b".env copy", "echo '.env copy' >> .gitignore"),
        ] {
            assert_eq!(
                ignore_command(path),
                command,
                "{}",
                String::from_utf8_lossy(path)
            );
        }
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote(b"config/.env"), "config/.env");
        assert_eq!(shell_quote(b"my dir/.env"), "'my dir/.env'");
        assert_eq!(shell_quote(b"it's/.env"), r"'it'\''s/.env'");
    }
}
