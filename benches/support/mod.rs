//! What the benchmarks share: an isolated environment for every process (like the
//! integration tests': no system or user git config, fixed identities and dates), timed and
//! interleaved runs with their median, and peak memory from GNU time.

#![allow(dead_code)] // each bench uses part of it

use std::error::Error;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The benches' result type.
pub type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// Untimed runs of each command before the timed ones.
pub const WARMUP: usize = 5;
/// Peak memory is the largest `ru_maxrss` over this many runs.
pub const RSS_RUNS: usize = 3;

pub const GITCONFIG: &str = "\
[init]
\tdefaultBranch = main
[user]
\tname = keyward bench
\temail = bench@example.invalid
[gc]
\tauto = 0
[advice]
\tdetachedHead = false
";

pub fn runs_from_env(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Err(_) => default,
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("{var}={v:?} is not a positive number; using {default}");
                default
            }
        },
    }
}

/// The isolated environment every git and keyward process runs in, like the integration tests'.
pub struct Env {
    /// The `HOME` every process gets.
    pub home: PathBuf,
}

impl Env {
    /// An environment whose home is `root/home`.
    pub fn new(root: &Path) -> io::Result<Env> {
        let home = root.join("home");
        fs::create_dir_all(&home)?;
        fs::write(home.join(".gitconfig"), GITCONFIG)?;
        Ok(Env { home })
    }

    /// `program` in `dir`, isolated.
    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir).stdin(Stdio::null());
        for var in [
            "GIT_DIR",
            "GIT_INDEX_FILE",
            "GIT_WORK_TREE",
            "GIT_COMMON_DIR",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_CEILING_DIRECTORIES",
            "GIT_CONFIG",
            "GIT_CONFIG_PARAMETERS",
            "GIT_CONFIG_COUNT",
            "GIT_NAMESPACE",
            "GIT_PREFIX",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_AUTHOR_NAME", "keyward bench")
            .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
            .env("GIT_AUTHOR_DATE", "1700000000 +0000")
            .env("GIT_COMMITTER_NAME", "keyward bench")
            .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
            .env("GIT_COMMITTER_DATE", "1700000000 +0000")
            .env("LC_ALL", "C");
        cmd
    }

    /// Runs git for set-up; its stdout, or an error with its stderr.
    pub fn git(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let out = self.command("git", dir).args(args).output()?;
        if !out.status.success() {
            return Err(format!(
                "git {}: {}: {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8(out.stdout)?)
    }
}

/// A command to measure: where it runs, its argv, and the file it reads on stdin.
pub struct Job<'a> {
    env: &'a Env,
    dir: &'a Path,
    argv: Vec<OsString>,
    /// The file it reads on stdin.
    pub stdin: Option<PathBuf>,
}

impl<'a> Job<'a> {
    /// `program args` in `dir`.
    pub fn new(env: &'a Env, dir: &'a Path, program: impl AsRef<OsStr>, args: &[&str]) -> Job<'a> {
        let mut argv = vec![program.as_ref().to_owned()];
        argv.extend(args.iter().map(OsString::from));
        Job {
            env,
            dir,
            argv,
            stdin: None,
        }
    }

    /// The command, run under `wrapper` (a program and its arguments) if not empty.
    fn command(&self, wrapper: &[&OsStr]) -> io::Result<Command> {
        let mut argv = wrapper
            .iter()
            .copied()
            .chain(self.argv.iter().map(OsString::as_os_str));
        let mut cmd = self
            .env
            .command(argv.next().expect("argv is not empty"), self.dir);
        cmd.args(argv).stdout(Stdio::null()).stderr(Stdio::null());
        if let Some(path) = &self.stdin {
            cmd.stdin(File::open(path)?);
        }
        Ok(cmd)
    }

    /// One timed run: wall time and exit status.
    pub fn time_once(&self) -> io::Result<(Duration, ExitStatus)> {
        let mut cmd = self.command(&[])?;
        let start = Instant::now();
        let status = cmd.status()?;
        Ok((start.elapsed(), status))
    }
}

/// Median and minimum of the timed runs, and the first unsuccessful exit status if any.
pub struct Stats {
    /// Median wall time.
    pub median: Duration,
    /// Fastest run.
    pub min: Duration,
    /// The first unsuccessful exit status.
    pub failure: Option<ExitStatus>,
}

impl Stats {
    /// The statistics of `runs`.
    pub fn of(runs: &mut [(Duration, ExitStatus)]) -> Stats {
        runs.sort_by_key(|r| r.0);
        let n = runs.len();
        let median = if n % 2 == 1 {
            runs[n / 2].0
        } else {
            (runs[n / 2 - 1].0 + runs[n / 2].0) / 2
        };
        Stats {
            median,
            min: runs[0].0,
            failure: runs.iter().map(|r| r.1).find(|s| !s.success()),
        }
    }
}

/// Warm-up runs of both, then `runs` of each, interleaved (a b, b a, a b, …).
pub fn compare(runs: usize, a: &Job, b: &Job) -> io::Result<(Stats, Stats)> {
    for _ in 0..WARMUP {
        a.time_once()?;
        b.time_once()?;
    }
    let (mut ta, mut tb) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for i in 0..runs {
        if i.is_multiple_of(2) {
            ta.push(a.time_once()?);
            tb.push(b.time_once()?);
        } else {
            tb.push(b.time_once()?);
            ta.push(a.time_once()?);
        }
    }
    Ok((Stats::of(&mut ta), Stats::of(&mut tb)))
}

/// Largest peak RSS in KiB over a few runs, from GNU time (`ru_maxrss` of the child it waits
/// for: GNU time forks, so the child's image before `exec` is GNU time's own 2 MB). `None`
/// without GNU time.
pub fn peak_rss_kib(job: &Job) -> Result<Option<u64>> {
    let report = tempfile::NamedTempFile::new()?;
    let mut peak = None;
    for _ in 0..RSS_RUNS {
        let wrapper = [
            OsStr::new("/usr/bin/time"),
            OsStr::new("-f"),
            OsStr::new("%M"),
            OsStr::new("-o"),
            report.path().as_os_str(),
        ];
        match job.command(&wrapper)?.status() {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        // GNU time may put "Command exited with non-zero status N" first.
        let text = fs::read_to_string(report.path())?;
        let Some(kib) = text
            .lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
        else {
            return Ok(None);
        };
        peak = peak.max(Some(kib));
    }
    Ok(peak)
}

/// Instructions the command runs, counted by callgrind (`valgrind --tool=callgrind`), with
/// `extra` in its environment; `None` without valgrind. The machine's load does not move
/// them, which makes them the figure to compare across runs.
pub fn instructions(job: &Job, extra: &[(&str, &str)]) -> Result<Option<u64>> {
    let wrapper = [
        OsStr::new("valgrind"),
        OsStr::new("--tool=callgrind"),
        OsStr::new("--callgrind-out-file=/dev/null"),
    ];
    let mut cmd = job.command(&wrapper)?;
    cmd.envs(extra.iter().copied()).stderr(Stdio::piped());
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // `==123== Collected : 43269342`
    let text = String::from_utf8_lossy(&out.stderr);
    Ok(text
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok()))
}

/// The one-minute load average.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}
