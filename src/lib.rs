//! keyward stops secrets at `git commit`.
//!
//! Installed as a repository's pre-commit hook, it reads what the commit is about to record —
//! the staged blobs, from the index and the object database, never the files on disk — finds
//! API keys and forbidden files in them, and blocks the commit with guidance.
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
//! - [`git`] — the repository as git set it up for the hook; staged changes; blob reads.
//! - [`index`] — a lean reader of the index file, for the hook's walk.
//! - [`source`] — files on disk for `keyward scan PATH`.
//! - [`history`] — commits as a source: `--range`, `--history`, pushes (`pre-receive`).
//! - [`packs`] — their blobs built along the packs' delta chains, with what each version adds.
//! - [`rules`] — the rule schema and the built-in catalog (TOML data).
//! - [`scan`] — the [`scan::Scanner`]: Aho-Corasick keywords, then lazily compiled regexes.
//! - [`decode`] — encoded secrets: Kubernetes `Secret` data values.
//! - [`filters`] — entropy, placeholders, and what a value assigned to `password` can be instead.
//! - [`policy`] — forbidden files, inline allows, new versus pre-existing secrets.
//! - [`config`] — `.keyward.toml`, `keyward.*` git config, the effective settings.
//! - [`redact`] — previews, fingerprints, terminal escaping.
//! - [`report`] — human, JSON, SARIF and GitHub-annotation output.
//! - [`engine`] — the pipeline that ties them together.
//! - [`install`] — the hook script: install, chain, uninstall, status.
//! - [`cli`] — arguments.
//! - [`fuzzing`] — the fuzz targets' entry points (`fuzz/`), also run over their corpora by
//!   `cargo test`.
//!
//! The library never prints; `main` maps its outcome to an exit code.

#![allow(clippy::disallowed_methods)] // see clippy.toml: only the integration tests need the rule

/// Object ids, as the sources name blobs and commits.
pub use gix::ObjectId;

pub mod cli;
pub mod config;
pub mod decode;
pub mod engine;
pub mod filters;
pub mod fuzzing;
pub mod git;
pub mod history;
pub mod index;
pub mod install;
pub mod packs;
pub mod policy;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;

/// Marks a file as keyward's hook: the binary carries it (it is part of `--version`), so an
/// installer can tell keyward's hook from a team's own without running it.
pub const HOOK_MARKER: &str = "keyward-pre-commit-hook";
