//! keyward stops secrets at `git commit`.
//!
//! Installed as a repository's pre-commit hook, it reads what the commit is about to record —
//! the staged blobs, from the index and the object database, never the files on disk — finds
//! API keys and forbidden files in them, and blocks the commit with guidance. Installed as its
//! commit-msg hook, it does the same for the message the commit will record.
//!
//! ```text
//!  Source ──▶ Candidates ──▶ Confirmed ──▶ Policy ──▶ Report ──▶ exit code
//!  (blobs      (keyword       (rule regex,  (forbidden   (human,     0 clean
//!   with path)  prefilter)     entropy,      files, new   JSON,       1 blocked
//!                              placeholders) vs history,  SARIF,      2 error
//!                                            allowlists)  GitHub;
//!                                                         redacted)
//! ```
//!
//! The pipeline is the layout; each stage depends only on those before it:
//!
//! - [`source`] — what to scan: the staged index, the commit message, commits (ranges,
//!   pushes, history), paths.
//! - [`git`] — the repository opened once, the lean index reader, pack files, git plumbing.
//! - [`scan`] — the scan stage: keyword prefilter, lazily compiled regexes, filters, decoding.
//! - [`policy`] — the policy stage: forbidden files, exceptions, new versus pre-existing.
//! - [`engine`] — one step per item on every core, and history's delta-aware driver.
//! - [`report`] — human, JSON, SARIF and GitHub-annotation output; the rule list.
//! - [`model`] — what the stages hand each other: items, findings, outcomes.
//! - [`rules`] — the rule schema, the one rule check, the built-in catalog (TOML data).
//! - [`config`] — `.keyward.toml`; [`settings`] — flags over the file over git config.
//! - [`redact`] — previews, fingerprints, identities, terminal escaping; [`cores`] — how many
//!   cores a scan may use.
//! - [`app`] — one function per command; [`cli`] — arguments; [`install`] — the hook.
//! - [`fuzzing`] — the fuzz targets' entry points (`fuzz/`), also run over their corpora by
//!   `cargo test`.
//!
//! The library never prints: commands write to the writers they are given, and `main` maps
//! the outcome to an exit code.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule
#![warn(clippy::print_stdout, clippy::print_stderr)]

/// Object ids, as the sources name blobs and commits.
pub use gix::ObjectId;

pub mod app;
pub mod cli;
pub(crate) mod config;
pub(crate) mod cores;
pub(crate) mod engine;
pub mod floor;
pub mod fuzzing;
pub mod git;
pub(crate) mod install;
pub mod model;
pub(crate) mod policy;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub(crate) mod settings;
pub mod source;

/// Marks a file as keyward's hook: the binary carries it (it is part of `--version`), so an
/// installer can tell keyward's hook from a team's own without running it.
pub(crate) const HOOK_MARKER: &str = "keyward-pre-commit-hook";
