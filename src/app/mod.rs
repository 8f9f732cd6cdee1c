//! One function per command: each builds what it needs — the settings, the engine, the
//! source — runs it and writes its report. Output goes to the writers in [`Io`]; nothing here
//! prints, and nothing here decides what blocks (that is [`crate::policy`]).

pub mod mask;

use crate::cli::{Command, HookAction, Options, PolicyChoice, Target};
use crate::config::Config;
use crate::engine::Engine;
use crate::model::{Outcome, Selection};
use crate::policy::allowlist::Allowlist;
use crate::policy::Policy;
use crate::report::{Context, Format};
use crate::rules::{RuleSet, StaticFileRule, BUILTIN_FILES, BUILTIN_RULES};
use crate::settings::{Color, Settings};
use crate::source::commits::Commits;
use crate::source::message::Message;
use crate::source::paths::Paths;
use crate::source::staged::Staged;
use crate::source::SourceError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a command writes, and what it may know about it.
pub struct Io<'a> {
    /// Standard output: reports.
    pub out: &'a mut dyn Write,
    /// Standard error: progress.
    pub err: &'a mut dyn Write,
    /// Standard output is a terminal (colour).
    pub out_is_terminal: bool,
    /// Standard error is a terminal (progress).
    pub err_is_terminal: bool,
    /// Standard input, for `pre-receive`.
    pub input: &'a mut dyn std::io::Read,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule file of the catalog is broken.
    #[error(transparent)]
    Rules(#[from] crate::rules::LoadError),
    /// A rule does not pass the rule check.
    #[error(transparent)]
    Check(#[from] crate::scan::check::CheckError),
    /// `.keyward.toml` is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A `keyward.*` git config value is invalid.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The source could not be listed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The repository could not be opened.
    #[error(transparent)]
    Git(#[from] crate::git::GitError),
    /// The scan failed.
    #[error(transparent)]
    Engine(#[from] crate::engine::Error),
    /// A file could not be read.
    #[error("{path}")]
    Read {
        /// The file, escaped.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the output failed: nobody saw the verdict.
    #[error("writing the report")]
    Write(#[source] std::io::Error),
    /// The `--output` file could not be written.
    #[error("writing the report to {path}")]
    Output {
        /// The file, escaped.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A failed command: the error, and what was being done (the hook fails closed and says how
/// to bypass; a push is rejected).
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// The scan being run, if it was one.
    pub context: Option<Context>,
}

/// Runs `command`; its exit code: 0 clean, 1 blocked (or a check failed), 2 error.
pub fn run(command: Command, io: &mut Io<'_>) -> Result<u8, Failure> {
    let plain = |error: Error| Failure {
        error,
        context: None,
    };
    match command {
        Command::Help(text) => write(
            io.out,
            format_args!("{}\n", text.as_deref().unwrap_or(crate::cli::USAGE)),
        )
        .map_err(plain),
        Command::Version => write(
            io.out,
            format_args!(
                "keyward {} ({})\n",
                env!("CARGO_PKG_VERSION"),
                crate::HOOK_MARKER
            ),
        )
        .map_err(plain),
        Command::Rules(format) => rules(format, io).map_err(plain),
        Command::RulesCheck(files) => rules_check(&files, io).map_err(plain),
        Command::Hooks(action, target) => Ok(hooks(action, target, io)),
        Command::Allow {
            fingerprint,
            reason,
            expires,
        } => allow(&fingerprint, &reason, expires.as_deref(), io).map_err(plain),
        Command::Config(options) => config(&options, io).map_err(plain),
        Command::Hook(options) => {
            // Run by the pre-commit framework as its legacy hook, with the framework's own
            // keyward hook next: that one checks (once).
            if crate::install::defers(false) {
                return Ok(0);
            }
            // The hook may be about to be replaced by a hook manager: say so where it runs.
            if let Some(warning) = crate::install::displaced() {
                // A warning that cannot be written changes no verdict.
                let _ = writeln!(io.err, "keyward: warning: {warning}");
            }
            scan(&options, Context::Commit, Scan::Staged, io)
        }
        Command::CommitMsg(options, file) => {
            if crate::install::defers(true) {
                return Ok(0);
            }
            scan(&options, Context::Message, Scan::Message(&file), io)
        }
        Command::ScanStaged(options) => scan(&options, Context::Staged, Scan::Staged, io),
        Command::ScanPaths(options, paths) => {
            scan(&options, Context::Paths, Scan::Paths(&paths), io)
        }
        Command::ScanHistory(options, selection) => {
            scan(&options, Context::History, Scan::Commits(selection), io)
        }
        Command::PreReceive(options) => {
            let fail = |error: Error| Failure {
                error,
                context: Some(Context::Push),
            };
            let mut input = String::new();
            io.input.read_to_string(&mut input).map_err(|source| {
                fail(Error::Read {
                    path: "the pushed refs (standard input)".into(),
                    source,
                })
            })?;
            let tips =
                crate::source::commits::push_tips(&input).map_err(|e| fail(Error::Source(e)))?;
            scan(
                &options,
                Context::Push,
                Scan::Commits(Selection::Push { tips }),
                io,
            )
        }
    }
}

fn write(out: &mut dyn Write, text: std::fmt::Arguments<'_>) -> Result<u8, Error> {
    out.write_fmt(text)
        .and_then(|()| out.flush())
        .map_err(Error::Write)?;
    Ok(0)
}

/// Writes a report to `path` (`--output`), replacing what was there. A file that cannot be
/// created or written is an error naming it, whatever the verdict: a CI step that uploads it
/// must not find an old or half-written report.
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let failed = |source| Error::Output {
        path: crate::redact::escape(path.as_os_str().as_encoded_bytes()),
        source,
    };
    let file = std::fs::File::create(path).map_err(failed)?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)
        .and_then(|()| out.flush())
        .and_then(|()| out.get_ref().sync_all())
        .map_err(failed)
}

/// What a scan reads.
enum Scan<'a> {
    Staged,
    /// The message file git passes the commit-msg hook.
    Message(&'a Path),
    Paths(&'a [PathBuf]),
    Commits(Selection),
}

/// What a scan found, under which settings; for the commit-msg hook, where git keeps the
/// message.
struct Scanned {
    outcome: Outcome,
    settings: Settings,
    kept: Option<crate::report::Kept>,
}

/// The scanning commands: the source, the settings of the repository it is in, the engine,
/// the report.
fn scan(
    options: &Options,
    context: Context,
    what: Scan<'_>,
    io: &mut Io<'_>,
) -> Result<u8, Failure> {
    let fail = |error: Error| Failure {
        error,
        context: Some(context),
    };
    let Scanned {
        outcome,
        settings,
        kept,
    } = scan_outcome(options, what, io).map_err(fail)?;
    // A file is not a terminal: `auto` colours only standard output on one.
    let on_terminal = io.out_is_terminal && options.output.is_none();
    let color = match settings.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => on_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let report = match kept {
        Some(kept) => options
            .format
            .message_report(color, kept, crate::install::invocation),
        None => options
            .format
            .report(color, context, crate::install::invocation),
    };
    let written = match &options.output {
        Some(path) => {
            write_file(path, |out| report.write(&outcome, out)).map_err(fail)?;
            Ok(())
        }
        None => report.write(&outcome, io.out).and_then(|()| io.out.flush()),
    };
    // What could not be read is named on stderr whatever the format: the report on stdout
    // stays what it says it is, and the exit code says the scan was incomplete.
    for u in &outcome.unreadable {
        let line = format!("cannot read {}: {} (not scanned)", u.path, u.error);
        let _ = writeln!(io.err, "keyward: {}", mask::message(&line));
    }
    let code = if outcome.unreadable.is_empty() {
        u8::from(outcome.blocked())
    } else {
        2
    };
    match written {
        Ok(()) => Ok(code),
        // Nobody saw the verdict: a blocked scan stays blocked, a clean one is an error.
        Err(_) if outcome.blocked() => Ok(1),
        Err(e) => Err(fail(Error::Write(e))),
    }
}

fn scan_outcome(options: &Options, what: Scan<'_>, io: &mut Io<'_>) -> Result<Scanned, Error> {
    let scanned = |outcome, settings| Scanned {
        outcome,
        settings,
        kept: None,
    };
    match what {
        Scan::Staged => {
            let mut source = Staged::open()?;
            let root = source.root()?;
            let git = source.keyward_config()?;
            let (engine, settings) = build(options, root.as_deref(), &git)?;
            let outcome = engine.run(&mut source, &mut |_, _| {})?;
            audit(options, &source, io)?;
            Ok(scanned(outcome, settings))
        }
        Scan::Message(file) => {
            let text = std::fs::read(file).map_err(|source| Error::Read {
                path: crate::redact::escape(file.as_os_str().as_encoded_bytes()),
                source,
            })?;
            // Settings as the pre-commit hook reads them: the repository git runs the hook in.
            let repo = repository()?;
            let (engine, settings) = build_for(options, repo.as_ref())?;
            let mut source = Message::new(text, repo)?;
            let shown = crate::install::shell_word(&crate::source::message::kept(file));
            let flag = if source.recorded().scissors {
                "-v "
            } else {
                ""
            };
            let kept = crate::report::Kept {
                retry: format!("git commit {flag}-e -F {shown}"),
                file: shown,
            };
            let outcome = engine.run(&mut source, &mut |_, _| {})?;
            audit(options, &source, io)?;
            Ok(Scanned {
                outcome,
                settings,
                kept: Some(kept),
            })
        }
        Scan::Paths(paths) => {
            let (engine, settings) = around_here(options)?;
            let mut source = Paths::open(paths);
            let outcome = engine.run(&mut source, &mut |_, _| {})?;
            audit(options, &source, io)?;
            Ok(scanned(outcome, settings))
        }
        Scan::Commits(selection) => {
            let (engine, settings) = around_here(options)?;
            let mut source = Commits::open(&selection)?;
            let total = crate::source::Source::items(&source).len();
            let mut progress = Progress::new(total, io.err_is_terminal, io.err);
            let outcome = engine.run(&mut source, &mut |done, bytes| {
                progress.show(done, bytes);
            });
            // Also when the run failed: the error's line must not follow a stale ETA.
            progress.finish();
            let outcome = outcome?;
            audit(options, &source, io)?;
            Ok(scanned(outcome, settings))
        }
    }
}

/// Writes what `source` gave the engine to judge, when `--audit FILE` (or, for the hook git
/// runs, `KEYWARD_AUDIT`) asks: one line per item, `<blob id> <what> <commit> <path>`
/// separated by tabs (`-` where there is none; the path escaped as reports escape it).
fn audit(
    options: &Options,
    source: &dyn crate::source::Source,
    io: &mut Io<'_>,
) -> Result<(), Error> {
    let Some(target) = options.audit.clone().or_else(|| {
        std::env::var_os("KEYWARD_AUDIT")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) else {
        return Ok(());
    };
    let mut text = String::new();
    for item in source.items() {
        let blob = match &item.content {
            crate::model::Content::Blob(id) => id.to_string(),
            _ => "-".into(),
        };
        let what = match item.place {
            crate::model::Place::File => "file",
            crate::model::Place::Symlink => "symlink",
            crate::model::Place::Ref => "ref",
            crate::model::Place::Message => "message",
        };
        let commit = item.commit.map_or_else(|| "-".into(), |c| c.id.to_string());
        let path = crate::redact::escape(&item.path);
        text.push_str(&format!("{blob}\t{what}\t{commit}\t{path}\n"));
    }
    if target.as_os_str() == "-" {
        return io.err.write_all(text.as_bytes()).map_err(Error::Write);
    }
    std::fs::write(&target, text).map_err(|source| Error::Read {
        path: crate::redact::escape(target.as_os_str().as_encoded_bytes()),
        source,
    })
}

/// The repository around the current directory, if there is one.
fn repository() -> Result<Option<gix::Repository>, Error> {
    match crate::git::open() {
        Ok(repo) => Ok(Some(repo)),
        Err(crate::git::GitError::NotARepository) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The engine under the policy of the repository around the current directory (its
/// `.keyward.toml` and git config), or of a `.keyward.toml` in the current directory outside
/// one.
fn around_here(options: &Options) -> Result<(Engine, Settings), Error> {
    build_for(options, repository()?.as_ref())
}

/// The engine under the policy of `repo` (see [`around_here`]).
fn build_for(
    options: &Options,
    repo: Option<&gix::Repository>,
) -> Result<(Engine, Settings), Error> {
    let root = repo.and_then(crate::git::workdir);
    let git = repo.map(crate::git::keyward_config).unwrap_or_default();
    build(options, root.as_deref(), &git)
}

/// Reads the policy — the file `--policy` or `KEYWARD_POLICY` names, none with
/// `--no-repo-policy`, else `.keyward.toml` in `root` (the current directory when `None`) —,
/// merges the settings and builds the engine: the team's rules first (a team's rule names its own
/// secrets best), then the built-in ones.
fn build(
    options: &Options,
    root: Option<&Path>,
    git: &[(String, String)],
) -> Result<(Engine, Settings), Error> {
    let pinned = match &options.policy {
        PolicyChoice::File(path) => Some(path.clone()),
        PolicyChoice::Repository => std::env::var_os("KEYWARD_POLICY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        PolicyChoice::None => None,
    };
    let config = match (&options.policy, pinned) {
        (_, Some(path)) => Some(Config::load_file(&path)?),
        (PolicyChoice::None, None) => None,
        (_, None) => Config::load(root.unwrap_or(Path::new(".")))?,
    };
    let settings = crate::settings::resolve(&options.flags, config.as_ref(), git)?;
    // Every rule runs: those `allow.rules` turns off are reported as allowed, not dropped.
    let custom: Vec<_> = config
        .iter()
        .flat_map(|c| c.file.rule.iter().cloned())
        .collect();
    let files = BUILTIN_FILES.iter().map(StaticFileRule::to_rule).collect();
    let policy = Policy::new(
        settings.strict,
        settings.inline_allow,
        files,
        Allowlist::new(config),
    );
    let engine = Engine::new(custom, BUILTIN_RULES, policy, settings.max_file_size);
    Ok((engine, settings))
}

/// A progress line on a terminal: blobs, bytes, rate, time left; its last frame is final —
/// what was read, in how long, with no time left to show (a stale ETA would stay on screen).
struct Progress<'a> {
    total: usize,
    show: bool,
    err: &'a mut dyn Write,
    start: std::time::Instant,
    last: std::time::Instant,
    /// The latest `(done, bytes)`, for the final frame.
    seen: (usize, u64),
    /// The final frame is written.
    finished: bool,
}

impl<'a> Progress<'a> {
    fn new(total: usize, terminal: bool, err: &'a mut dyn Write) -> Self {
        let now = std::time::Instant::now();
        Progress {
            total,
            show: terminal && total > 0,
            err,
            start: now,
            last: now,
            seen: (0, 0),
            finished: false,
        }
    }

    fn show(&mut self, done: usize, bytes: u64) {
        self.seen = (done, bytes);
        if done >= self.total {
            return self.finish();
        }
        let now = std::time::Instant::now();
        if !self.show || self.finished || now.duration_since(self.last).as_millis() < 100 {
            return;
        }
        self.last = now;
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-3);
        let rate = bytes as f64 / secs / 1e6;
        let eta = (self.total.saturating_sub(done)) as f64 * secs / done.max(1) as f64;
        // Progress is a courtesy: a terminal that stopped listening changes no verdict.
        let _ = write!(
            self.err,
            "\rkeyward: {done}/{} blobs, {:.1} MB, {rate:.1} MB/s, ETA {eta:.0} s   ",
            self.total,
            bytes as f64 / 1e6
        );
    }

    /// The final frame, once: the blobs and bytes read, the time it took. Called when the
    /// engine reports the last blob and again when the run ends (whichever comes first).
    fn finish(&mut self) {
        if !self.show || self.finished {
            return;
        }
        self.finished = true;
        let secs = self.start.elapsed().as_secs_f64().max(1e-3);
        let (done, bytes) = self.seen;
        // The trailing spaces clear what a longer frame with an ETA left on the line.
        let _ = writeln!(
            self.err,
            "\rkeyward: {done}/{} blobs, {:.1} MB in {secs:.1} s ({:.1} MB/s)            ",
            self.total,
            bytes as f64 / 1e6,
            bytes as f64 / secs / 1e6
        );
    }
}

/// `keyward rules`.
fn rules(format: Format, io: &mut Io<'_>) -> Result<u8, Error> {
    let set = RuleSet::builtin()?;
    let list = crate::report::rule_list(&set);
    let written = match format {
        Format::Json => crate::report::write_rules_json(&list, io.out),
        _ => crate::report::write_rules_human(&list, io.out),
    };
    written
        .and_then(|()| io.out.flush())
        .map_err(Error::Write)?;
    Ok(0)
}

/// `keyward rules check FILE…`: 0 when every rule of every file passes; the first failure is
/// the error.
fn rules_check(files: &[PathBuf], io: &mut Io<'_>) -> Result<u8, Error> {
    for file in files {
        let shown = crate::redact::escape(file.as_os_str().as_encoded_bytes());
        let text = std::fs::read_to_string(file).map_err(|source| Error::Read {
            path: shown.clone(),
            source,
        })?;
        let count = crate::scan::check::check_file(&shown, &text)?;
        writeln!(io.out, "keyward: {shown}: {count} rules pass").map_err(Error::Write)?;
    }
    io.out.flush().map_err(Error::Write)?;
    Ok(0)
}

/// `keyward install | uninstall | status`: one line per place; 1 when a check fails, 2 on
/// an error.
fn hooks(action: HookAction, target: Target, io: &mut Io<'_>) -> u8 {
    let binary = std::env::current_exe().unwrap_or_else(|_| "keyward".into());
    let mut code = 0;
    for line in crate::install::run(action, target, &binary) {
        let (text, to_err) = match line {
            crate::install::Line::Done(text) => (format!("keyward: {text}"), false),
            crate::install::Line::Problem(text) => {
                code = code.max(1);
                (format!("keyward: {text}"), false)
            }
            crate::install::Line::Error(e) => {
                code = 2;
                (format!("keyward: error: {e}"), true)
            }
        };
        let sink: &mut dyn Write = if to_err { &mut *io.err } else { &mut *io.out };
        match writeln!(sink, "{text}") {
            Ok(()) => {}
            // Nobody reads on (`keyward status | head -1`): the work is done and the exit
            // code still says how it went.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(_) => code = 2,
        }
    }
    code
}

/// `keyward allow`: appends an exception to the repository's `.keyward.toml`.
fn allow(
    fingerprint: &str,
    reason: &str,
    expires: Option<&str>,
    io: &mut Io<'_>,
) -> Result<u8, Error> {
    let root = match crate::git::open() {
        Ok(repo) => crate::git::workdir(&repo),
        Err(_) => None,
    }
    .unwrap_or_else(|| ".".into());
    let path = crate::config::append_allow(&root, fingerprint, reason, expires)?;
    write(
        io.out,
        format_args!(
            "keyward: {fingerprint} allowed in {} — commit that file so the team shares the exception\n",
            crate::redact::escape(path.as_os_str().as_encoded_bytes())
        ),
    )
}

/// `keyward config`: each effective setting, its value and where it came from.
fn config(options: &Options, io: &mut Io<'_>) -> Result<u8, Error> {
    let (engine, settings) = around_here(options)?;
    let mut text = String::new();
    for (name, value, origin) in &settings.origins {
        text.push_str(&format!("{name:<14} {value:<10} ({origin})\n"));
    }
    match engine.policy().allowlist().config() {
        Some(c) => {
            let a = &c.file.allow;
            let today = crate::model::today();
            let expired = a
                .fingerprints
                .iter()
                .filter(|e| {
                    e.expires
                        .as_deref()
                        .and_then(crate::model::parse_date)
                        .is_some_and(|d| d < today)
                })
                .count();
            text.push_str(&format!(
                "policy         {}: {} allowed paths, {} allowed fingerprints ({expired} expired), {} rules off, {} extra forbidden paths, {} file exceptions, {} custom rules\n",
                crate::config::FILE_NAME,
                a.paths.len(),
                a.fingerprints.len(),
                a.rules.len(),
                c.file.forbid.paths.len(),
                a.files.len(),
                c.file.rule.len()
            ));
        }
        None => text.push_str(&format!("policy         no {}\n", crate::config::FILE_NAME)),
    }
    write(io.out, format_args!("{text}"))
}
