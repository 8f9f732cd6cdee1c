//! Command-line arguments → [`Command`], with the settings the flags give
//! ([`crate::settings::Flags`]). Nothing here runs anything.

mod help;

use crate::model::{Selection, Size};
use crate::report::Format;
use crate::settings::{Color, Flags};
use std::ffi::OsString;
use std::path::PathBuf;

/// Usage text for `keyward --help`.
pub(crate) const USAGE: &str = "\
keyward — block staged API keys and env files at git commit

Usage:
  keyward hook [OPTIONS]            scan what the commit will record (the pre-commit hook)
  keyward commit-msg FILE [OPTIONS] scan the commit message git will record (the commit-msg
                                    hook; FILE is the message file git passes it): exit 1
                                    when it holds a key, with where the message is kept
  keyward scan --staged [OPTIONS]   the same, from the command line
  keyward scan [OPTIONS] PATH...    scan files and directories on disk (honours .gitignore);
                                    a PATH that is a symbolic link is followed, links met
                                    inside a directory are not; a PATH that cannot be read
                                    is named on stderr and makes the exit code 2
  keyward scan --range A..B         the blobs the commits in A..B introduce (pull-request CI)
  keyward scan --history [--branch B]   every blob in history, once (audit)
  keyward pre-receive               server-side hook: rejects pushes that introduce secrets
  keyward rules [--format json]     list every rule: id, name, what it blocks or warns about
  keyward rules check FILE...       check a rule file (the schema of the built-in rules and of
                                    [[rule]] in .keyward.toml): each rule must compile, find
                                    its examples and none of its negative examples
  keyward install [--global] [REPO...]    install the pre-commit and commit-msg hooks where
                                          git runs them: git's hooks directory (chaining a
                                          hook already there), husky, lefthook, the pre-commit
                                          framework, committed hooks (core.hooksPath)
  keyward uninstall [--global] [REPO...]  remove both, restoring what was there before
  keyward status [--global] [REPO...]     check both; exit 1 with one line when either is
                                          missing, not keyward's, or older than this keyward
  keyward allow FINGERPRINT --reason WHY [--expires YYYY-MM-DD]
                                    record an exception in .keyward.toml (keyed to the
                                    finding's fingerprint, never to the secret)
  keyward config                    the effective settings and where each came from
  keyward help [COMMAND]            this text, or one command's (also: COMMAND --help)

Options:
  --strict                 also block secrets that are already in HEAD
  --no-inline-allow        refuse inline keyward:allow markers (for CI)
  --policy FILE            use FILE as the policy instead of the repository's .keyward.toml
                           (CI and servers pin their own; also KEYWARD_POLICY=FILE)
  --no-repo-policy         ignore the repository's .keyward.toml
  --max-file-size SIZE     at a commit and on disk, skip (and name) files larger than SIZE,
                           e.g. 512k, 64m [default: 64m]; ranges, history and pushes scan
                           them in windows instead (never let through unscanned)
  --format FORMAT          human, json, sarif (SARIF 2.1.0) or github (Actions
                           annotations) [default: human]
  --output FILE            write the report to FILE instead of standard output (any format;
                           the exit code is the same)
  --color auto|always|never
  --audit FILE             also write what was judged to FILE (`-`: standard error), one line
                           each: blob id, what it is (file, symlink, ref, message), commit,
                           path: what keyward looked at (the hook: KEYWARD_AUDIT=FILE)
  -h, --help               this text
  -V, --version            the version

Settings come from flags, then .keyward.toml at the repository root, then git config
(keyward.strict, keyward.maxFileSize, keyward.inlineAllow, keyward.color; `git -c` works);
strict or a refusal of inline allows from any of them holds whatever the file says.
Installed as .git/hooks/pre-commit (or invoked under that name), keyward runs `hook`; as
.git/hooks/commit-msg, `commit-msg FILE`.
Exit codes: 0 clean, 1 blocked, 2 error (the hook then blocks too).";

/// Options shared by the scanning commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The settings the flags give (they win over `.keyward.toml` and git config).
    pub(crate) flags: Flags,
    /// Output format.
    pub(crate) format: Format,
    /// Which policy file applies.
    pub(crate) policy: PolicyChoice,
    /// `--audit FILE`: also write every item judged (blob, path) to FILE (`-`: standard
    /// error). The hook, which git runs without arguments, reads `KEYWARD_AUDIT` instead.
    pub(crate) audit: Option<PathBuf>,
    /// `--output FILE`: the report goes to FILE, not standard output (a CI step uploads it).
    pub(crate) output: Option<PathBuf>,
}

/// Which policy file applies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum PolicyChoice {
    /// `.keyward.toml` at the repository root, unless `KEYWARD_POLICY` names another.
    #[default]
    Repository,
    /// `--policy FILE`: this file instead (CI and servers pin their own).
    File(PathBuf),
    /// `--no-repo-policy`: none (built-in rules, settings from flags and git config).
    None,
}

/// What to do.
#[derive(Debug, Clone)]
pub enum Command {
    /// The pre-commit hook.
    Hook(Options),
    /// The commit-msg hook: `commit-msg FILE`, the message file git passes.
    CommitMsg(Options, PathBuf),
    /// `scan --staged`.
    ScanStaged(Options),
    /// `scan PATH...`.
    ScanPaths(Options, Vec<PathBuf>),
    /// `scan --range A..B` or `scan --history [--branch B]`.
    ScanHistory(Options, Selection),
    /// `pre-receive`: the server-side hook (reads `old new ref` lines on standard input).
    PreReceive(Options),
    /// `rules`: list the rules.
    Rules(Format),
    /// `rules check FILE…`: check rule files.
    RulesCheck(Vec<PathBuf>),
    /// `install`, `uninstall` or `status` of the hook.
    Hooks(HookAction, Target),
    /// `allow FINGERPRINT --reason …`: record an exception in `.keyward.toml`.
    Allow {
        /// The finding's fingerprint.
        fingerprint: String,
        /// Why.
        reason: String,
        /// `YYYY-MM-DD`, optional.
        expires: Option<String>,
    },
    /// `config`: the effective settings and where each came from.
    Config(Options),
    /// Print usage: all of it, or one command's (`help install`, `install --help`).
    Help(Option<String>),
    /// Print the version.
    Version,
}

/// What to do with the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAction {
    /// Install or update.
    Install,
    /// Remove, restoring the previous hook.
    Uninstall,
    /// Check.
    Status,
}

/// Where: repositories (the current one when none is named), or git's template directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// These repositories.
    Repos(Vec<PathBuf>),
    /// Every repository created or cloned from now on (`init.templateDir`).
    Global,
}

/// A usage error, shown as one line (what the user typed in it escaped, like any untrusted text).
#[derive(Debug, thiserror::Error)]
#[error("{} (see keyward --help)", crate::redact::escape(.0.as_bytes()))]
pub struct UsageError(String);

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError(e.to_string())
    }
}

/// Parses arguments; `argv0` decides whether the binary runs as the hook itself.
pub fn parse(argv0: &str, args: Vec<OsString>) -> Result<Command, UsageError> {
    use lexopt::prelude::*;
    let hook_name = std::path::Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| matches!(*n, "pre-commit" | "commit-msg" | "pre-receive"));
    let as_hook = hook_name.is_some();
    let mut parser = lexopt::Parser::from_args(args);
    let mut options = Options {
        flags: Flags::default(),
        format: Format::Human,
        policy: PolicyChoice::Repository,
        audit: None,
        output: None,
    };
    let (mut reason, mut expires) = (None, None);
    let mut sub: Option<String> =
        hook_name.map(|n| if n == "pre-commit" { "hook" } else { n }.to_owned());
    let (mut range, mut history, mut branch) = (None, false, None);
    let (mut staged, mut global, mut paths) = (false, false, Vec::<PathBuf>::new());
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => {
                return match sub.as_deref() {
                    Some("help") => match paths.first() {
                        Some(name) => help_for(&lossy(name)),
                        None => help_for("help"),
                    },
                    Some(name) => help_for(name),
                    None => Ok(Command::Help(None)),
                }
            }
            Short('V') | Long("version") => return Ok(Command::Version),
            Long("strict") => options.flags.strict = Some(true),
            Long("no-inline-allow") => options.flags.inline_allow = Some(false),
            Long("staged") => staged = true,
            Long("policy") => {
                if options.policy == PolicyChoice::None {
                    return Err(UsageError(
                        "--policy and --no-repo-policy exclude each other".into(),
                    ));
                }
                options.policy = PolicyChoice::File(PathBuf::from(parser.value()?));
            }
            Long("no-repo-policy") => {
                if matches!(options.policy, PolicyChoice::File(_)) {
                    return Err(UsageError(
                        "--policy and --no-repo-policy exclude each other".into(),
                    ));
                }
                options.policy = PolicyChoice::None;
            }
            Long("global") => global = true,
            Long("audit") => options.audit = Some(PathBuf::from(parser.value()?)),
            Long("output") => options.output = Some(PathBuf::from(parser.value()?)),
            Long("max-file-size") => {
                let v = parser.value()?.string()?;
                let size = v.parse::<Size>().map_err(|()| {
                    UsageError(format!(
                        "invalid size `{}` for --max-file-size",
                        crate::redact::escape(v.as_bytes())
                    ))
                })?;
                options.flags.max_file_size = Some(size);
            }
            Long("format") => {
                options.format = match parser.value()?.string()?.as_str() {
                    "human" => Format::Human,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    "github" => Format::Github,
                    other => {
                        return Err(UsageError(format!(
                            "unknown format `{other}` (human, json, sarif, github)"
                        )))
                    }
                }
            }
            Long("color") | Long("colour") => {
                options.flags.color = Some(match parser.value()?.string()?.as_str() {
                    "auto" => Color::Auto,
                    "always" => Color::Always,
                    "never" => Color::Never,
                    other => {
                        return Err(UsageError(format!(
                            "unknown colour choice `{}`",
                            crate::redact::escape(other.as_bytes())
                        )))
                    }
                });
            }
            Long("reason") => reason = Some(parser.value()?.string()?),
            Long("range") => range = Some(parser.value()?.string()?),
            Long("history") => history = true,
            Long("branch") => branch = Some(parser.value()?.string()?),
            Long("expires") => expires = Some(parser.value()?.string()?),
            Value(v) if sub.is_none() => sub = Some(v.string()?),
            Value(v)
                if matches!(
                    sub.as_deref(),
                    Some(
                        "scan"
                            | "install"
                            | "uninstall"
                            | "status"
                            | "allow"
                            | "rules"
                            | "commit-msg"
                            | "help"
                    )
                ) =>
            {
                paths.push(PathBuf::from(v))
            }
            Value(v) if as_hook => {
                // git passes no arguments to pre-commit; tolerate any without acting on them.
                let _ = v;
            }
            _ => return Err(arg.unexpected().into()),
        }
    }
    match sub.as_deref() {
        Some("hook") if !staged => Ok(Command::Hook(options)),
        Some("commit-msg") => match <[PathBuf; 1]>::try_from(paths) {
            Ok([file]) if !staged => Ok(Command::CommitMsg(options, file)),
            // The pre-commit framework filters the message file like any file name: a
            // configuration's top-level `files:` or `exclude:` can leave the hook without it.
            Err(none) if none.is_empty() && !staged => Err(UsageError(
                "commit-msg needs FILE, the commit message file git passes to the hook (the pre-commit framework passes none when its configuration's top-level `files:` or `exclude:` leaves out .git/COMMIT_EDITMSG)".into(),
            )),
            _ => Err(UsageError(
                "commit-msg takes one FILE: the commit message file git passes to the hook".into(),
            )),
        },
        Some("scan") if range.is_some() || history => {
            if staged || !paths.is_empty() || (range.is_some() && (history || branch.is_some())) {
                return Err(UsageError(
                    "--range and --history [--branch] take no other source".into(),
                ));
            }
            let selection = match range {
                Some(r) => Selection::Range(r),
                None => Selection::History { branch },
            };
            Ok(Command::ScanHistory(options, selection))
        }
        Some("pre-receive") if paths.is_empty() && !staged => Ok(Command::PreReceive(options)),
        Some("scan") => match (staged, paths.is_empty()) {
            (true, true) => Ok(Command::ScanStaged(options)),
            (false, false) => Ok(Command::ScanPaths(options, paths)),
            (true, false) => Err(UsageError("--staged takes no paths".into())),
            (false, true) => Err(UsageError(
                "scan needs --staged or at least one PATH".into(),
            )),
        },
        Some("rules") if !staged && paths.is_empty() => Ok(Command::Rules(options.format)),
        Some("rules") if !staged && paths.first().is_some_and(|p| p == "check") => {
            if paths.len() < 2 {
                return Err(UsageError("rules check needs a FILE".into()));
            }
            Ok(Command::RulesCheck(paths[1..].to_vec()))
        }
        Some(action @ ("install" | "uninstall" | "status")) => {
            let action = match action {
                "install" => HookAction::Install,
                "uninstall" => HookAction::Uninstall,
                _ => HookAction::Status,
            };
            let target = match (global, paths.is_empty()) {
                (true, true) => Target::Global,
                (true, false) => return Err(UsageError("--global takes no repository".into())),
                (false, true) => Target::Repos(vec![PathBuf::from(".")]),
                (false, false) => Target::Repos(paths),
            };
            Ok(Command::Hooks(action, target))
        }
        Some("allow") => {
            let [fingerprint] = paths.as_slice() else {
                return Err(UsageError("allow takes one FINGERPRINT".into()));
            };
            let reason = reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
                UsageError("allow needs --reason \"why this is not a leak\"".into())
            })?;
            Ok(Command::Allow {
                fingerprint: fingerprint.to_string_lossy().into_owned(),
                reason,
                expires,
            })
        }
        Some("config") if paths.is_empty() => Ok(Command::Config(options)),
        Some("help") => match paths.as_slice() {
            [] => Ok(Command::Help(None)),
            [name] => help_for(&lossy(name)),
            _ => Err(UsageError("help takes one COMMAND".into())),
        },
        Some("version") => Ok(Command::Version),
        Some(other) => Err(unknown(other)),
        None => Err(UsageError("missing command".into())),
    }
}

fn lossy(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

/// `Help` for `name`, or the error for a name that is no command.
fn help_for(name: &str) -> Result<Command, UsageError> {
    match help::for_command(name) {
        Some(text) => Ok(Command::Help(Some(text))),
        None => Err(unknown(name)),
    }
}

/// An unknown command, with the nearest one when it looks mistyped.
fn unknown(typed: &str) -> UsageError {
    match help::nearest(typed) {
        Some(meant) => UsageError(format!(
            "unknown command `{typed}`; did you mean `{meant}`?"
        )),
        None => UsageError(format!("unknown command `{typed}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn runs_as_the_hook_under_the_name_pre_commit() {
        assert!(matches!(
            parse("/repo/.git/hooks/pre-commit", args(&[])),
            Ok(Command::Hook(_))
        ));
        assert!(matches!(
            parse("keyward", args(&["hook"])),
            Ok(Command::Hook(_))
        ));
    }

    #[test]
    fn runs_the_commit_msg_hook_with_its_file_also_under_that_name() {
        for (argv0, list) in [
            ("keyward", &["commit-msg", ".git/COMMIT_EDITMSG"][..]),
            ("/repo/.git/hooks/commit-msg", &[".git/COMMIT_EDITMSG"][..]),
            (
                "keyward",
                &["commit-msg", "--format", "json", ".git/COMMIT_EDITMSG"][..],
            ),
        ] {
            assert!(
                matches!(parse(argv0, args(list)), Ok(Command::CommitMsg(_, f)) if f == Path::new(".git/COMMIT_EDITMSG")),
                "{argv0} {list:?}"
            );
        }
        assert!(parse("keyward", args(&["commit-msg"])).is_err());
        assert!(parse("keyward", args(&["commit-msg", "a", "b"])).is_err());
        assert!(parse("/repo/.git/hooks/commit-msg", args(&[])).is_err());
        assert!(parse("keyward", args(&["commit-msg", "--staged", "a"])).is_err());
    }

    #[test]
    fn scan_forms() {
        assert!(
            matches!(parse("keyward", args(&["scan", "--staged", "--format", "json"])), Ok(Command::ScanStaged(o)) if o.format == Format::Json)
        );
        assert!(
            matches!(parse("keyward", args(&["scan", "a", "b"])), Ok(Command::ScanPaths(_, p)) if p.len() == 2)
        );
        assert!(matches!(
            parse("keyward", args(&["rules", "--format", "json"])),
            Ok(Command::Rules(Format::Json))
        ));
        assert!(
            matches!(parse("keyward", args(&["install"])), Ok(Command::Hooks(HookAction::Install, Target::Repos(r))) if r == [PathBuf::from(".")])
        );
        assert!(matches!(
            parse("keyward", args(&["status", "--global"])),
            Ok(Command::Hooks(HookAction::Status, Target::Global))
        ));
        assert!(parse("keyward", args(&["install", "--global", "repo"])).is_err());
        assert!(parse("keyward", args(&["scan"])).is_err());
        assert!(parse("keyward", args(&["scan", "--staged", "x"])).is_err());
        assert!(parse("keyward", args(&["frobnicate"])).is_err());
        assert!(parse("keyward", args(&["hook", "--format", "xml"])).is_err());
        assert!(parse("keyward", args(&["hook", "--max-file-size", "lots"])).is_err());
        assert!(
            matches!(parse("keyward", args(&["rules", "check", "a.toml"])), Ok(Command::RulesCheck(p)) if p == [PathBuf::from("a.toml")])
        );
        assert!(parse("keyward", args(&["rules", "check"])).is_err());
    }
}
