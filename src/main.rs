//! The `keyward` binary: parse arguments, run the library, map the outcome to an exit code.

use keyward::cli::{self, Color, Command, Format};
use keyward::engine::Engine;
use keyward::report::{Context, Human, Json, Report};
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
    let (options, context, paths) = match command {
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
        Command::Hook(o) => (o, Context::Commit, None),
        Command::ScanStaged(o) => (o, Context::Staged, None),
        Command::ScanPaths(o, paths) => (o, Context::Paths, Some(paths)),
    };
    let outcome = Engine::new(options.settings).and_then(|engine| match &paths {
        Some(paths) => engine.scan_paths(paths),
        None => engine.scan_staged(),
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("keyward: error: {e}");
            if context != Context::Paths {
                eprintln!("{BYPASS}");
            }
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let color = match options.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let report: Box<dyn Report> = match options.format {
        Format::Human => Box::new(Human { color, context }),
        Format::Json => Box::new(Json),
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
        Format::Human => keyward::report::write_rules_human(&list, &mut out),
        Format::Json => keyward::report::write_rules_json(&list, &mut out),
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

/// `keyward install | uninstall | status`: one line per repository; exit 1 when any check
/// fails, 2 on an error.
fn hooks(action: cli::HookAction, target: cli::Target) -> ExitCode {
    use keyward::install::{self, Installed};
    let places: Vec<(String, Result<std::path::PathBuf, install::InstallError>)> = match target {
        cli::Target::Global => vec![(
            "git's template directory".to_owned(),
            install::global_template().map(|t| t.join("hooks")),
        )],
        cli::Target::Repos(repos) => repos
            .into_iter()
            .map(|r| (r.display().to_string(), install::hooks_dir(&r)))
            .collect(),
    };
    let binary = std::env::current_exe().ok();
    let mut code = 0u8;
    for (name, hooks) in places {
        let result = hooks.and_then(|hooks| {
            let hook = hooks.join("pre-commit").display().to_string();
            Ok(match action {
                cli::HookAction::Install => {
                    let binary = binary.clone().unwrap_or_else(|| "keyward".into());
                    match install::install(&hooks, &binary)? {
                        Installed::Fresh => format!("installed {hook}"),
                        Installed::Chained => format!(
                            "installed {hook}; the previous hook runs after keyward passes ({})",
                            install::CHAINED
                        ),
                        Installed::Updated => format!("updated {hook}"),
                        Installed::Unchanged => format!("{hook} is already up to date"),
                    }
                }
                cli::HookAction::Uninstall => {
                    if install::uninstall(&hooks)? {
                        format!("removed keyward's hook from {hook} (any previous hook is back)")
                    } else {
                        format!("no hook at {hook}; nothing to do")
                    }
                }
                cli::HookAction::Status => match describe(&hook, &name, install::status(&hooks)) {
                    Ok(line) => line,
                    Err(problem) => {
                        code = code.max(1);
                        problem
                    }
                },
            })
        });
        match result {
            Ok(line) => println!("keyward: {line}"),
            Err(e) => {
                eprintln!("keyward: error: {e}");
                code = 2;
            }
        }
    }
    ExitCode::from(code)
}

/// One line about a hook: `Ok` when it is keyward's current hook, `Err` saying what is wrong.
fn describe(hook: &str, repo: &str, status: keyward::install::Status) -> Result<String, String> {
    use keyward::install::Status;
    let version = env!("CARGO_PKG_VERSION");
    match status {
        Status::Current { chained } => Ok(format!(
            "{hook} runs keyward {version}{}",
            if chained { ", then the previous hook" } else { "" }
        )),
        Status::Missing => Err(format!("no pre-commit hook in {repo}: run keyward install")),
        Status::Foreign => Err(format!("{hook} is not keyward's hook: run keyward install to chain it")),
        Status::Outdated(v) => Err(format!(
            "{hook} was installed by keyward {v}, older than this keyward {version}: run keyward install"
        )),
        Status::BinaryMissing(b) => Err(format!(
            "{hook} runs {}, which no longer exists: run ./install.sh",
            b.display()
        )),
    }
}
