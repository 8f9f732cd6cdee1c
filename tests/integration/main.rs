//! Integration tests: real git repositories in temporary directories, real `git commit` with
//! keyward installed as the pre-commit hook, assertions on what git did and what was printed.

mod fuzz;
mod history;
mod hook;
mod hostile;
mod index;
mod install;
mod keys;
mod policy;
mod repo;
mod scan;
