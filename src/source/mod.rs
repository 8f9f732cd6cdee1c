//! Sources: what to scan.

pub mod commits;
pub mod paths;
