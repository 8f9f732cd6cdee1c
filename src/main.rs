//! The `keyward` binary: parse the arguments, run the command, map the outcome to an exit
//! code. This is the one place that prints errors, each with what looks like a secret in it
//! masked ([`app::mask::message`]): errors quote what the user typed.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

use keyward::app::{self, Failure, Io};
use keyward::report::Context;
use std::io::IsTerminal;
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
    let command = match keyward::cli::parse(&argv0, args.collect()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keyward: error: {}", app::mask::message(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let mut io = Io {
        out_is_terminal: stdout.is_terminal(),
        err_is_terminal: stderr.is_terminal(),
        out: &mut stdout.lock(),
        err: &mut stderr.lock(),
        input: &mut std::io::stdin().lock(),
    };
    match app::run(command, &mut io) {
        Ok(code) => ExitCode::from(code),
        // The reader went away (`keyward rules | head -1`): it had all it wanted, as with
        // ripgrep and git. A blocked scan still exits 1 (app::run keeps that verdict).
        Err(Failure {
            error: app::Error::Write(e),
            ..
        }) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure { error, context }) => {
            eprintln!("keyward: error: {}", app::mask::message(&chain(&error)));
            match context {
                Some(Context::Commit | Context::Staged | Context::Message) => eprintln!("{BYPASS}"),
                Some(Context::Push) => {
                    eprintln!("keyward: the push is rejected until the scan can run");
                }
                _ => {}
            }
            ExitCode::from(2)
        }
    }
}

/// An error and its causes, on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let part = e.to_string();
        if !part.is_empty() && !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = e.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
