//! How many cores a scan may use: one answer for the stage that lists (a push's tree diffs)
//! and the engine that scans.

/// `KEYWARD_THREADS` when it is set to a number from 1 to 1024 (a CI runner sharing its
/// cores; a measurement of what more cores would do), otherwise the cores this process may
/// use. Each stage caps what it starts (eight at most).
pub(crate) fn cores() -> usize {
    std::env::var("KEYWARD_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| (1..=1024).contains(n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
