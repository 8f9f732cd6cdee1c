//! A git repository in a temporary directory, with every git isolated from the user's and
//! the machine's configuration, and keyward installed as its pre-commit hook.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::RwLock;

/// The keyward binary under test.
pub const KEYWARD: &str = env!("CARGO_BIN_EXE_keyward");

/// Orders writing executables against starting processes.
///
/// The tests run on many threads of one process. A child forked while another thread holds a
/// file open for writing inherits that descriptor until its own `exec`, and while it does, any
/// `exec` of that file fails with ETXTBSY ("Text file busy"): git could not run the hook it was
/// handed. So every process is started under the read side (many at once; `spawn` returns only
/// once the child has exec'd, dropping the inherited descriptors), and every executable is
/// written under the write side, its descriptor closed before the lock is released. Nothing can
/// hold a writer on a file git is about to run.
static SPAWN: RwLock<()> = RwLock::new(());

/// Runs `cmd` to completion and captures its output, as [`Command::output`] does (standard
/// input is empty), starting it under [`SPAWN`]. Every test process starts here.
pub fn output(cmd: &mut Command) -> std::io::Result<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A panicking test poisons nothing we care about: the lock guards no data.
    let child = {
        let _started = SPAWN.read().unwrap_or_else(|e| e.into_inner());
        #[allow(clippy::disallowed_methods)] // this is the one place that spawns
        cmd.spawn()
    }?;
    child.wait_with_output()
}

/// [`output`] as a method, for builder chains.
pub trait Run {
    /// Runs the command to completion under [`SPAWN`], capturing its output.
    fn run(&mut self) -> std::io::Result<Output>;
}

impl Run for Command {
    fn run(&mut self) -> std::io::Result<Output> {
        output(self)
    }
}

/// Starts a command whose standard streams the caller set, under [`SPAWN`], and waits.
pub trait SpawnAndWait {
    /// Spawns (under the lock) and waits for the output; panics if it cannot start.
    fn spawn_and_wait(&mut self) -> Output;
}

impl SpawnAndWait for Command {
    fn spawn_and_wait(&mut self) -> Output {
        let child = {
            let _started = SPAWN.read().unwrap_or_else(|e| e.into_inner());
            #[allow(clippy::disallowed_methods)] // the lock is held
            self.spawn()
        };
        child.expect("spawn").wait_with_output().expect("wait")
    }
}

/// Writes an executable file (mode `mode`) under [`SPAWN`]: to a temporary file in the same
/// directory, closed, then renamed into place, so the path git executes never names a file
/// open for writing, not even briefly in a forked child.
/// (On Windows, where files have no mode bits, the file is written as it is: Git for Windows
/// runs a hook by its name, whatever its mode.)
pub fn write_executable(path: &Path, bytes: &[u8], mode: u32) {
    use std::io::Write;
    let dir = path.parent().expect("parent");
    std::fs::create_dir_all(dir).expect("mkdir");
    let _writing = SPAWN.write().unwrap_or_else(|e| e.into_inner());
    let mut builder = tempfile::Builder::new();
    builder.prefix(".executable-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    let mut tmp = builder.tempfile_in(dir).expect("temp file");
    tmp.write_all(bytes).expect("write executable");
    // Exactly `mode`, whatever the umask.
    #[cfg(unix)]
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
        .expect("chmod");
    #[cfg(not(unix))]
    let _ = mode;
    // Closed before the lock is released (the descriptor `persist` hands back is dropped here).
    drop(tmp.persist(path).expect("rename into place"));
}

/// A link at `at` to the directory `target` (a shared `node_modules`).
pub fn link_dir(target: &Path, at: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, at).expect("symlink");
    #[cfg(windows)]
    std::os::windows::fs::symlink_dir(target, at).expect("directory link");
}

/// A link at `at` to the file `target`.
pub fn link_file(target: &Path, at: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, at).expect("symlink");
    #[cfg(windows)]
    std::os::windows::fs::symlink_file(target, at).expect("file link");
}

/// A file's permission bits; `None` where files have none (Windows).
pub fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::metadata(path).expect("meta").permissions().mode() & 0o777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// A throwaway repository.
pub struct Repo {
    _tmp: tempfile::TempDir,
    /// Working tree root.
    pub dir: PathBuf,
    pub home: PathBuf,
}

/// A command with git's environment isolated: no inherited repository variables, no system
/// or global config, fixed identities and dates.
pub fn isolated(program: &str, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_PREFIX",
        "NO_COLOR",
        "KEYWARD_GIT_BACKEND",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
    cmd
}

impl Repo {
    /// `git init` with the given extra arguments, and keyward installed as the hook.
    pub fn new_with(init_args: &[&str]) -> Repo {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = tmp.path().join("home");
        let dir = tmp.path().join("repo");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::write(
            home.join(".gitconfig"),
            "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        )
        .expect("global config");
        let repo = Repo {
            _tmp: tmp,
            dir,
            home,
        };
        let mut args = vec!["init", "-q"];
        args.extend_from_slice(init_args);
        let target = repo.dir.to_string_lossy().into_owned();
        args.push(&target);
        repo.run_in(repo.dir.parent().expect("parent"), "git", &args)
            .assert_ok();
        repo.install_hook();
        repo
    }

    /// A fresh repository with the hook.
    pub fn new() -> Repo {
        Repo::new_with(&[])
    }

    /// Copies the binary to where git says hooks live.
    pub fn install_hook(&self) {
        let hooks = self
            .git(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
            .stdout_text();
        let hooks = PathBuf::from(hooks.trim());
        std::fs::create_dir_all(&hooks).expect("hooks dir");
        let binary = std::fs::read(KEYWARD).expect("read keyward");
        write_executable(&hooks.join("pre-commit"), &binary, 0o755);
    }

    /// Runs `program` in `dir` with the isolated environment.
    pub fn run_in(&self, dir: &Path, program: &str, args: &[&str]) -> Out {
        let out = output(isolated(program, &self.home).args(args).current_dir(dir)).expect("spawn");
        Out(out)
    }

    /// `git ARGS` in the working tree.
    pub fn git(&self, args: &[&str]) -> Out {
        self.run_in(&self.dir, "git", args)
    }

    /// `keyward ARGS` in the working tree.
    pub fn keyward(&self, args: &[&str]) -> Out {
        self.run_in(&self.dir, KEYWARD, args)
    }

    /// Writes a file (creating directories).
    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }

    /// `git commit -m msg ARGS`, returning whether HEAD moved and what git printed.
    pub fn commit(&self, args: &[&str]) -> Commit {
        let before = self.head();
        let mut all = vec!["commit", "-q", "-m", "test"];
        all.extend_from_slice(args);
        let out = self.git(&all);
        let after = self.head();
        Commit {
            moved: before != after,
            out,
        }
    }

    /// `git GLOBAL_ARGS commit -m msg` (e.g. `-c keyward.strict=true`), like [`Repo::commit`].
    pub fn commit_with(&self, global: &[&str]) -> Commit {
        let before = self.head();
        let mut all = global.to_vec();
        all.extend_from_slice(&["commit", "-q", "-m", "test"]);
        let out = self.git(&all);
        let after = self.head();
        Commit {
            moved: before != after,
            out,
        }
    }

    /// The commit HEAD names, if any.
    pub fn head(&self) -> Option<String> {
        let out = self.git(&["rev-parse", "-q", "--verify", "HEAD"]);
        out.0
            .status
            .success()
            .then(|| out.stdout_text().trim().to_owned())
    }

    /// Commits without the hook (to set up history).
    pub fn commit_unchecked(&self, path_args: &[&str]) {
        let mut all = vec!["commit", "-q", "--no-verify", "-m", "setup"];
        all.extend_from_slice(path_args);
        self.git(&all).assert_ok();
    }

    /// The git directory, absolute.
    pub fn git_dir(&self) -> PathBuf {
        PathBuf::from(
            self.git(&["rev-parse", "--absolute-git-dir"])
                .stdout_text()
                .trim(),
        )
    }
}

/// What a command did.
pub struct Out(pub Output);

impl Out {
    /// Standard output as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    /// Both streams, as text.
    pub fn all(&self) -> String {
        format!(
            "{}{}",
            String::from_utf8_lossy(&self.0.stdout),
            String::from_utf8_lossy(&self.0.stderr)
        )
    }
    /// The exit code.
    pub fn code(&self) -> Option<i32> {
        self.0.status.code()
    }
    /// Panics with the output unless the command succeeded.
    pub fn assert_ok(&self) {
        assert!(self.0.status.success(), "command failed: {}", self.all());
    }
    /// The JSON array printed on stdout.
    pub fn json(&self) -> Vec<serde_json::Value> {
        serde_json::from_slice(&self.0.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.all()))
    }
}

/// The result of a `git commit` attempt.
pub struct Commit {
    /// HEAD changed.
    pub moved: bool,
    /// What git (and the hook through it) printed.
    pub out: Out,
}

impl Commit {
    /// The commit went through.
    pub fn assert_passed(&self) {
        assert!(self.moved, "commit should pass:\n{}", self.out.all());
    }
    /// The hook blocked the commit, saying so.
    pub fn assert_blocked(&self) {
        assert!(!self.moved, "commit should be blocked:\n{}", self.out.all());
        assert!(
            self.out.all().contains("git commit --no-verify"),
            "no bypass hint:\n{}",
            self.out.all()
        );
    }
}
