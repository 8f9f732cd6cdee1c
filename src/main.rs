//! The `keyward` binary: parse arguments, run the library, map the outcome to an exit code.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

use keyward::cli::{self, Color, Command, Format};
use keyward::engine::Engine;
use keyward::git::Blob;
use keyward::history::Selection;
use keyward::report::{Context, Github, Human, Json, Report, Sarif};
use keyward::ObjectId as GixObjectId;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Fails closed: an internal error blocks the commit and says how to bypass it once.
const BYPASS: &str = "keyward: the commit is blocked until the scan can run; bypass once (not recommended): git commit --no-verify";

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        // The payload could quote data; the location is enough to report the bug.
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("keyward: error: internal error{at}");
        eprintln!("{BYPASS}");
        std::process::exit(2);
    }));
    let mut args = std::env::args_os();
    let argv0 = args
        .next()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let command = match cli::parse(&argv0, args.collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keyward: error: {e}");
            return ExitCode::from(2);
        }
    };
    let (options, context, source) = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!(
                "keyward {} ({})",
                env!("CARGO_PKG_VERSION"),
                keyward::HOOK_MARKER
            );
            return ExitCode::SUCCESS;
        }
        Command::Rules(format) => return list_rules(format),
        Command::Hooks(action, target) => return hooks(action, target),
        Command::Allow {
            fingerprint,
            reason,
            expires,
        } => return allow(&fingerprint, &reason, expires.as_deref()),
        Command::Config(o) => return show_config(&o),
        Command::Hook(o) => {
            if let Some(warning) = keyward::install::displaced() {
                eprintln!("keyward: warning: {warning}");
            }
            (o, Context::Commit, Source::Staged)
        }
        Command::ScanStaged(o) => (o, Context::Staged, Source::Staged),
        Command::ScanPaths(o, paths) => (o, Context::Paths, Source::Paths(paths)),
        Command::ScanHistory(o, selection) => (o, Context::History, Source::History(selection)),
        Command::PreReceive(o) => {
            let mut input = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut input) {
                eprintln!("keyward: error: reading the pushed refs: {e}");
                return ExitCode::from(2);
            }
            match keyward::history::push_tips(&input) {
                Ok(tips) => (o, Context::Push, Source::History(Selection::Push { tips })),
                Err(e) => {
                    eprintln!("keyward: error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let outcome = match &source {
        Source::Paths(paths) => {
            Engine::for_paths(&options).and_then(|(e, r)| Ok((e.scan_paths(paths)?, r)))
        }
        Source::Staged => {
            Engine::for_staged(&options).and_then(|(e, r, staged)| Ok((e.scan_index(staged)?, r)))
        }
        Source::History(selection) => scan_history(&options, selection),
    };
    let (outcome, resolved) = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("keyward: error: {e}");
            match context {
                Context::Commit | Context::Staged => eprintln!("{BYPASS}"),
                Context::Push => eprintln!("keyward: the push is rejected until the scan can run"),
                Context::Paths | Context::History => {}
            }
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let color = match resolved.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let report: Box<dyn Report> = match options.format {
        Format::Human => Box::new(Human { color, context }),
        Format::Json => Box::new(Json),
        Format::Sarif => Box::new(Sarif),
        Format::Github => Box::new(Github),
    };
    let mut out = stdout.lock();
    if report
        .write(&outcome, &mut out)
        .and_then(|()| out.flush())
        .is_err()
    {
        // Nobody saw the verdict: do not let the commit through on a silent report.
        return ExitCode::from(if outcome.blocked() { 1 } else { 2 });
    }
    ExitCode::from(u8::from(outcome.blocked()))
}

/// What a scan reads.
enum Source {
    Staged,
    Paths(Vec<std::path::PathBuf>),
    History(Selection),
}

/// `scan --range`, `scan --history`, `pre-receive`: lists what the commits introduced, then
/// scans it with a progress line on a terminal.
fn scan_history(
    options: &cli::Options,
    selection: &Selection,
) -> Result<(keyward::engine::Outcome, keyward::config::Resolved), keyward::engine::Error> {
    let (engine, resolved) = Engine::for_paths(options)?;
    // A push's objects are quarantined where only git sees them while pre-receive runs: list
    // and read them through git's plumbing. Otherwise gix reads history in-process.
    // Where gix cannot read the repository (a layout it does not support), git can.
    let push = matches!(selection, Selection::Push { .. });
    let mut repo = if push {
        None
    } else {
        keyward::history::open().ok()
    };
    // The packs, read directly: see `keyward::packs`.
    let packs = repo
        .as_ref()
        .and_then(|r| keyward::packs::Packs::open(r).ok());
    let items = match repo
        .as_ref()
        .map(|r| keyward::history::introduced(r, packs.as_ref(), selection))
    {
        Some(Ok(items)) => items,
        Some(Err(e @ keyward::history::HistoryError::Revision(_)))
        | Some(Err(e @ keyward::history::HistoryError::Input(_))) => return Err(e.into()),
        Some(Err(_)) | None => {
            repo = None;
            keyward::history::introduced_cli(selection)?
        }
    };
    let mut plumbing = None;
    let mut read =
        |id: GixObjectId, buf: &mut Vec<u8>, cap: u64| -> Result<Blob, keyward::engine::Error> {
            match &repo {
                Some(repo) => keyward::history::read_blob(repo, id, buf, cap).map_err(Into::into),
                None => {
                    let p = match &mut plumbing {
                        Some(p) => p,
                        slot @ None => slot.insert(keyward::git::Plumbing::spawn()?),
                    };
                    Ok(p.read(id, buf, cap)?)
                }
            }
        };
    let total = items.len();
    let show = std::io::stderr().is_terminal() && total > 0;
    let start = std::time::Instant::now();
    let mut last = start;
    let mut progress = |done: usize, bytes: u64| {
        let now = std::time::Instant::now();
        if !show || (now.duration_since(last).as_millis() < 100 && done < total) {
            return;
        }
        last = now;
        let secs = now.duration_since(start).as_secs_f64().max(1e-3);
        let rate = bytes as f64 / secs / 1e6;
        let eta = (total - done) as f64 * secs / done.max(1) as f64;
        eprint!(
            "\rkeyward: {done}/{total} blobs, {:.1} MB, {rate:.1} MB/s, ETA {eta:.0} s   ",
            bytes as f64 / 1e6
        );
        if done == total {
            eprintln!();
        }
    };
    // Where git packed versions of a file against each other (as it does when it packs),
    // their delta chains are walked; otherwise each version is read and compared with the
    // one before.
    let plan = packs
        .filter(|_| repo.is_some())
        .and_then(|p| keyward::packs::plan(p, &items));
    let outcome = engine.scan_history(plan.as_ref(), &mut read, &items, &mut progress)?;
    Ok((outcome, resolved))
}

/// `keyward rules`.
fn list_rules(format: Format) -> ExitCode {
    let set = match keyward::rules::RuleSet::builtin() {
        Ok(set) => set,
        Err(e) => {
            eprintln!("keyward: error: {e}");
            return ExitCode::from(2);
        }
    };
    let list = keyward::report::rule_list(&set);
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => keyward::report::write_rules_json(&list, &mut out),
        _ => keyward::report::write_rules_human(&list, &mut out),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

/// `keyward install | uninstall | status`: one line per place; exit 1 when a check fails,
/// 2 on an error.
fn hooks(action: cli::HookAction, target: cli::Target) -> ExitCode {
    let binary = std::env::current_exe().unwrap_or_else(|_| "keyward".into());
    let mut code = 0;
    for line in keyward::install::run(action, target, &binary) {
        match line {
            keyward::install::Line::Done(text) => println!("keyward: {text}"),
            keyward::install::Line::Problem(text) => {
                println!("keyward: {text}");
                code = code.max(1);
            }
            keyward::install::Line::Error(e) => {
                eprintln!("keyward: error: {e}");
                code = 2;
            }
        }
    }
    ExitCode::from(code)
}

/// `keyward allow`: appends an exception to the repository's `.keyward.toml`.
fn allow(fingerprint: &str, reason: &str, expires: Option<&str>) -> ExitCode {
    let root = keyward::git::discover()
        .and_then(|(root, _)| root)
        .unwrap_or_else(|| ".".into());
    match keyward::config::append_allow(&root, fingerprint, reason, expires) {
        Ok(path) => {
            println!(
                "keyward: {fingerprint} allowed in {} — commit that file so the team shares the exception",
                keyward::redact::escape(path.as_os_str().as_encoded_bytes())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keyward: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `keyward config`: each effective setting, its value and where it came from.
fn show_config(options: &cli::Options) -> ExitCode {
    match keyward::engine::Engine::for_paths(options) {
        Ok((engine, resolved)) => {
            for (name, value, source) in &resolved.sources {
                println!("{name:<14} {value:<10} ({source})");
            }
            match engine.config() {
                Some(c) => {
                    let a = &c.file.allow;
                    let today = keyward::config::today();
                    let expired = a
                        .fingerprints
                        .iter()
                        .filter(|e| {
                            e.expires
                                .as_deref()
                                .and_then(keyward::config::parse_date)
                                .is_some_and(|d| d < today)
                        })
                        .count();
                    println!(
                        "policy         {}: {} allowed paths, {} allowed fingerprints ({expired} expired), {} rules off, {} extra forbidden paths, {} file exceptions, {} custom rules",
                        keyward::config::FILE_NAME,
                        a.paths.len(),
                        a.fingerprints.len(),
                        a.rules.len(),
                        c.file.forbid.paths.len(),
                        a.files.len(),
                        c.file.rule.len()
                    );
                }
                None => println!("policy         no {}", keyward::config::FILE_NAME),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("keyward: error: {e}");
            ExitCode::from(2)
        }
    }
}
