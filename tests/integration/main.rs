//! Integration tests: real git repositories in temporary directories, real `git commit` with
//! keyward installed as the pre-commit hook, assertions on what git did and what was printed.

mod cli;
mod commit_msg;
mod commit_texts;
mod enforcement;
mod exactness;
mod fuzz;
mod global;
mod guidance;
mod history;
mod hook;
mod hook_scenarios;
mod hostile;
mod index;
mod install;
mod keys;
mod layout;
mod leaks;
#[allow(dead_code)] // the packaging tests use the rest
mod machine;
mod managers;
mod oracle;
mod output;
mod policy;
mod receive;
mod repo;
mod scan;
mod seed;
