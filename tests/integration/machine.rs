//! A developer's machine in a temporary directory: a repository, a home directory, and a
//! `PATH` that holds git, sh and node but no keyward — so every recipe is tested as it runs
//! where `~/.local/bin` is not on `PATH`. Also the real third-party tools the tests drive
//! (husky and lefthook from the npm registry; the pre-commit framework and maturin from the
//! Python package index), installed once into the target directory and reused by later runs.

use crate::keys;
use crate::repo::{isolated, output, write_executable, Commit, Out, Repo, KEYWARD};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where installed tools are cached between runs (`target/tmp`).
const CACHE: &str = env!("CARGO_TARGET_TMPDIR");

/// The versions the manager tests install: the releases measured in
/// `shared/notes/hook-managers.md`.
pub const HUSKY: &str = "husky@9.1.7";
/// See [`HUSKY`].
pub const LEFTHOOK: &str = "lefthook@2.2.1";
/// See [`HUSKY`].
pub const SIMPLE_GIT_HOOKS: &str = "simple-git-hooks@2.13.1";
/// See [`HUSKY`].
pub const PRE_COMMIT: &str = "pre-commit==4.*";
/// See [`HUSKY`].
pub const MATURIN: &str = "maturin>=1.5,<2";

/// The first `program` on the process's `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// The process's `PATH` less every directory holding one of `programs` (or keyward).
pub fn path_without(programs: &[&str]) -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| {
            !["keyward"]
                .iter()
                .chain(programs)
                .any(|p| d.join(p).exists())
        })
        .collect();
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

/// Says why a test does nothing, where `cargo test` shows it (with `--nocapture`) and in the
/// test's captured output on failure.
pub fn skip(why: &str) {
    eprintln!("SKIPPED: {why}");
}

/// A developer's machine: a repository without any hook, a home directory, no keyward on
/// `PATH`.
pub struct Dev {
    /// The repository.
    pub repo: Repo,
    /// `$HOME`.
    pub home: PathBuf,
    /// `$PATH` for everything run here.
    pub path: String,
}

impl Dev {
    /// A fresh machine (keyward not installed anywhere).
    pub fn new() -> Dev {
        let repo = Repo::new();
        let hooks = repo
            .git(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
            .stdout_text();
        std::fs::remove_file(Path::new(hooks.trim()).join("pre-commit")).expect("rm hook");
        let home = repo.dir.parent().expect("tmp").join("home");
        Dev {
            repo,
            home,
            path: path_without(&[]),
        }
    }

    /// keyward installed as `install.sh` does: `~/.local/bin/keyward`, not on `PATH`.
    pub fn with_local_bin(self) -> Dev {
        let binary = std::fs::read(KEYWARD).expect("read keyward");
        write_executable(&self.local_bin(), &binary, 0o755);
        self
    }

    /// `~/.local/bin/keyward`.
    pub fn local_bin(&self) -> PathBuf {
        self.home.join(".local/bin/keyward")
    }

    /// The repository's root.
    pub fn dir(&self) -> &Path {
        &self.repo.dir
    }

    /// `program ARGS` in the repository with this machine's environment.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
        let mut cmd = isolated(&program.as_ref().to_string_lossy(), &self.home);
        cmd.args(args)
            .current_dir(&self.repo.dir)
            .env("PATH", &self.path)
            // lefthook's npm postinstall, and other tools, change behaviour under CI.
            .env_remove("CI")
            .env_remove("GITHUB_ACTIONS")
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs `program ARGS` here.
    pub fn run(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Out {
        Out(output(&mut self.cmd(program, args)).expect("spawn"))
    }

    /// `git ARGS` here.
    pub fn git(&self, args: &[&str]) -> Out {
        self.run("git", args)
    }

    /// The keyward a developer would type: `~/.local/bin/keyward` when installed there, else
    /// the binary under test (by its full path).
    pub fn keyward(&self, args: &[&str]) -> Out {
        let bin = if self.local_bin().exists() {
            self.local_bin()
        } else {
            PathBuf::from(KEYWARD)
        };
        self.run(bin, args)
    }

    /// Writes a file in the work tree.
    pub fn write(&self, rel: &str, text: &str) {
        self.repo.write(rel, text);
    }

    /// Stages a file holding a new GitHub token.
    pub fn stage_key(&self) {
        let key = keys::github();
        self.write("config/leak.txt", &format!("token = {}\n", key.value));
        self.git(&["add", "config/leak.txt"]).assert_ok();
    }

    /// Stages a clean file.
    pub fn stage_clean(&self, name: &str) {
        self.write(name, "nothing secret here\n");
        self.git(&["add", name]).assert_ok();
    }

    /// `git commit`, with what git (and the hooks) printed.
    pub fn commit(&self) -> Commit {
        self.commit_env(&[])
    }

    /// `git commit` with extra environment variables.
    pub fn commit_env(&self, env: &[(&str, &str)]) -> Commit {
        let before = self.repo.head();
        let mut cmd = self.cmd("git", &["commit", "-q", "-m", "change"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = Out(output(&mut cmd).expect("git"));
        Commit {
            moved: self.repo.head() != before,
            out,
        }
    }

    /// Asserts that a commit of a staged key was blocked by keyward itself (its report, not
    /// some other failure), then unstages the key.
    pub fn assert_key_blocked(&self, env: &[(&str, &str)]) -> String {
        self.stage_key();
        let commit = self.commit_env(env);
        commit.assert_blocked();
        let text = commit.out.all();
        assert!(text.contains("commit blocked"), "{text}");
        assert!(text.contains("config/leak.txt"), "{text}");
        self.git(&["rm", "-q", "--cached", "config/leak.txt"])
            .assert_ok();
        text
    }

    /// Asserts that a commit whose message holds a new key was refused by keyward's
    /// commit-msg check (its report, not some other failure) and HEAD did not move, then
    /// unstages what it staged; returns the report.
    pub fn assert_message_blocked(&self, env: &[(&str, &str)]) -> String {
        let name = format!("message-{}.txt", keys::random("abcdefghij", 8));
        self.write(&name, "nothing secret\n");
        self.git(&["add", &name]).assert_ok();
        let key = keys::github();
        let before = self.repo.head();
        let mut cmd = self.cmd("git", &["commit", "-q", "-m"]);
        cmd.arg(format!("Deploy\n\nwith {}\n", key.value));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let commit = Commit {
            out: Out(output(&mut cmd).expect("git")),
            moved: false,
        };
        assert_eq!(
            self.repo.head(),
            before,
            "HEAD moved:\n{}",
            commit.out.all()
        );
        commit.assert_blocked();
        let text = commit.out.all();
        assert!(text.contains("problem in your commit message"), "{text}");
        assert!(text.contains("commit message:3:6"), "{text}");
        keys::assert_no_leak(&text, &key);
        self.git(&["rm", "-q", "--cached", &name]).assert_ok();
        text
    }

    /// `keyward status`, asserting its exit code and that it is one line; returns the line.
    pub fn status(&self, code: i32) -> String {
        let out = self.keyward(&["status"]);
        let text = out.all();
        assert_eq!(out.code(), Some(code), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
        text
    }
}

/// Installs once per process (and, through the cache directory, once per target directory):
/// runs `install` into a fresh directory, then renames it into place, so a half-done install
/// is never used and two test processes never share one. A virtualenv cannot be moved (its
/// scripts name their interpreter by full path): `in_place` installs where it stays, and a
/// half-done one is started again.
fn cached(
    name: &str,
    in_place: bool,
    install: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let dir = Path::new(CACHE).join(name);
    if dir.join(".done").exists() {
        return Ok(dir);
    }
    if in_place {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        install(&dir)?;
        std::fs::write(dir.join(".done"), "").map_err(|e| e.to_string())?;
        return Ok(dir);
    }
    let tmp = Path::new(CACHE).join(format!("{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    install(&tmp)?;
    std::fs::write(tmp.join(".done"), "").map_err(|e| e.to_string())?;
    if std::fs::rename(&tmp, &dir).is_err() {
        // Another process finished first: use its install.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Ok(dir)
}

fn checked(out: std::io::Result<std::process::Output>, what: &str) -> Result<(), String> {
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

/// `node_modules` with husky, lefthook and simple-git-hooks from the npm registry; `None` (with the reason
/// printed) when npm is not installed. npm's own cache (the user's) makes a second install
/// cheap; scripts are not run (lefthook's postinstall would install hooks here).
pub fn npm_tools() -> Option<PathBuf> {
    static TOOLS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let Some(npm) = which("npm") else {
        skip("npm is not installed, so husky and lefthook cannot be");
        return None;
    };
    let tools = TOOLS.get_or_init(|| {
        cached("npm-hook-managers-v2", false, |dir| {
            std::fs::write(dir.join("package.json"), "{\"private\":true}\n")
                .map_err(|e| e.to_string())?;
            checked(
                output(
                    Command::new(&npm)
                        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts"])
                        .args([HUSKY, LEFTHOOK, SIMPLE_GIT_HOOKS])
                        .current_dir(dir),
                ),
                "npm install husky lefthook simple-git-hooks",
            )
        })
        .map(|d| d.join("node_modules"))
    });
    Some(tools.clone().expect("npm install of husky and lefthook"))
}

/// A virtualenv with the pre-commit framework and maturin from the Python package index;
/// `None` (with the reason printed) when Python cannot make one.
pub fn py_tools() -> Option<PathBuf> {
    static TOOLS: OnceLock<Option<Result<PathBuf, String>>> = OnceLock::new();
    let tools = TOOLS.get_or_init(|| {
        let python = which("python3")?;
        let venv_ok = output(Command::new(&python).args(["-c", "import venv, ensurepip"]))
            .is_ok_and(|o| o.status.success());
        if !venv_ok {
            return None;
        }
        Some(cached("py-tools-v1", true, |dir| {
            checked(
                output(Command::new(&python).args(["-m", "venv"]).arg(dir)),
                "python3 -m venv",
            )?;
            checked(
                output(
                    Command::new(dir.join("bin/pip"))
                        .args(["install", "--quiet", "--disable-pip-version-check"])
                        .args([PRE_COMMIT, MATURIN]),
                ),
                "pip install pre-commit maturin",
            )
        }))
    });
    match tools {
        None => {
            skip("python3 with venv is not installed, so pre-commit and maturin cannot be");
            None
        }
        Some(t) => Some(t.clone().expect("pip install of pre-commit and maturin")),
    }
}

/// The keyward wheel, built once per process by maturin from this checkout (the debug
/// profile: cargo reuses the test build). `None` when Python tools are unavailable.
pub fn wheel_dir() -> Option<PathBuf> {
    static WHEELS: OnceLock<Option<PathBuf>> = OnceLock::new();
    WHEELS
        .get_or_init(|| {
            let tools = py_tools()?;
            let out = Path::new(CACHE).join("wheels");
            let _ = std::fs::remove_dir_all(&out);
            let built = output(
                Command::new(tools.join("bin/maturin"))
                    .args(["build", "--locked", "--strip", "--quiet", "-o"])
                    .arg(&out)
                    .current_dir(env!("CARGO_MANIFEST_DIR")),
            )
            .expect("maturin");
            assert!(
                built.status.success(),
                "maturin build: {}",
                String::from_utf8_lossy(&built.stderr)
            );
            Some(out)
        })
        .clone()
}
