//! `keyward pre-receive` reads a push's blobs in process, from git's quarantine and the
//! repository behind it, along the delta chains of the pushed pack — and git's `cat-file` only
//! where gix cannot. Real pushes to a bare repository: the hook logs what git left it (the
//! quarantine's packs, as `git verify-pack` sees them) and every git command keyward runs
//! (`GIT_TRACE`), so each test shows which reader did the work, and what git did with the push.

use crate::history::remote_ref;
use crate::keys::{self, assert_no_leak};
use crate::repo::{isolated, write_executable, Out, Repo, Run, SpawnAndWait, KEYWARD};
use std::path::PathBuf;

/// A bare repository guarded by keyward, whose hook logs into `log/`, and a clone.
pub(crate) struct Server {
    pub(crate) repo: Repo,
    tmp: tempfile::TempDir,
    pub(crate) bare: PathBuf,
}

impl Server {
    /// `extra_env` is set for keyward alone (e.g. `KEYWARD_GIT_BACKEND=cli`).
    pub(crate) fn new(extra_env: &str) -> Server {
        Server::new_with(extra_env, &[])
    }

    /// [`Server::new`], both repositories created with `init_args` too.
    pub(crate) fn new_with(extra_env: &str, init_args: &[&str]) -> Server {
        Server::at("origin.git", extra_env, init_args)
    }

    /// [`Server::new_with`], the bare repository at `name` in the temporary directory.
    fn at(name: &str, extra_env: &str, init_args: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tmp");
        let bare = tmp.path().join(name);
        let init = isolated("git", tmp.path())
            .args(["init", "-q", "--bare", "-b", "main"])
            .args(init_args)
            .arg(&bare)
            .run()
            .expect("git init --bare");
        assert!(init.status.success());
        let log = tmp.path().join("log");
        std::fs::create_dir(&log).expect("log dir");
        let script = format!(
            "#!/bin/sh\n\
             echo \"$GIT_QUARANTINE_PATH\" > '{log}/quarantine'\n\
             echo \"$GIT_ALTERNATE_OBJECT_DIRECTORIES\" > '{log}/alternates'\n\
             for idx in \"$GIT_OBJECT_DIRECTORY\"/pack/*.idx; do\n\
             \x20 [ -f \"$idx\" ] && git verify-pack -v \"$idx\"\n\
             done > '{log}/packs' 2>&1\n\
             GIT_TRACE='{log}/trace' {extra_env} exec '{KEYWARD}' pre-receive\n",
            log = log.display(),
        );
        write_executable(&bare.join("hooks/pre-receive"), script.as_bytes(), 0o755);
        let repo = Repo::new_with(init_args);
        repo.git(&["remote", "add", "origin", bare.to_str().expect("utf-8")])
            .assert_ok();
        Server { repo, tmp, bare }
    }

    pub(crate) fn config(&self, key: &str, value: &str) {
        let set = isolated("git", self.tmp.path())
            .arg("--git-dir")
            .arg(&self.bare)
            .args(["config", key, value])
            .run()
            .expect("git config");
        assert!(set.status.success());
    }

    pub(crate) fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.tmp.path().join("log").join(name)).unwrap_or_default()
    }

    /// Forgets what the last push logged.
    fn clear_log(&self) {
        for name in ["quarantine", "alternates", "packs", "trace"] {
            let _ = std::fs::remove_file(self.tmp.path().join("log").join(name));
        }
    }

    /// The git commands keyward ran during the last push.
    pub(crate) fn git_commands(&self) -> Vec<String> {
        git_commands(&self.log("trace"))
    }

    /// Runs `pushes` with the hook set aside: what the server had before keyward guarded it.
    pub(crate) fn unguarded(&self, pushes: impl FnOnce()) {
        let hook = self.bare.join("hooks/pre-receive");
        let parked = self.bare.join("hooks/parked");
        std::fs::rename(&hook, &parked).expect("park the hook");
        pushes();
        std::fs::rename(&parked, &hook).expect("restore the hook");
    }

    /// keyward listed the last push with git's plumbing (`git rev-list`).
    pub(crate) fn assert_listed_by_git(&self) {
        let commands = self.git_commands();
        assert!(
            commands.iter().any(|c| c.starts_with("rev-list")),
            "{commands:?}"
        );
    }

    /// keyward listed and read the last push in process: it ran no git command.
    pub(crate) fn assert_ran_no_git(&self) {
        let commands = self.git_commands();
        assert!(commands.is_empty(), "{commands:?}");
    }

    /// The last push's pack in the quarantine held at least `at_least` blobs as deltas.
    fn assert_pushed_deltas(&self, at_least: usize) {
        let packs = self.log("packs");
        assert!(deltified_blobs(&packs).len() >= at_least, "{packs}");
    }

    /// Whether keyward read blobs through `git cat-file --batch` in the last push.
    fn read_with_cat_file(&self) -> bool {
        read_with_cat_file(&self.git_commands())
    }

    pub(crate) fn push(&self, refspec: &str) -> Out {
        self.clear_log();
        self.repo.git(&["push", "origin", refspec])
    }

    pub(crate) fn remote(&self, name: &str) -> Option<String> {
        remote_ref(&self.bare, self.tmp.path(), name)
    }

    /// Whether the server's repository holds object `id` (outside any quarantine).
    /// A first commit (a README) pushed through the hook, which accepts it: the ref that
    /// later pushes move, or must leave where it is.
    pub(crate) fn accept_first_push(&self) -> Option<String> {
        let repo = &self.repo;
        repo.write("README.md", "hello\n");
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
        repo.git(&["push", "-q", "origin", "main"]).assert_ok();
        let accepted = self.remote("main");
        assert_eq!(accepted, repo.head(), "the first push was refused");
        accepted
    }

    pub(crate) fn has_object(&self, id: &str) -> bool {
        isolated("git", self.tmp.path())
            .arg("--git-dir")
            .arg(&self.bare)
            .args(["cat-file", "-e", id])
            .run()
            .expect("cat-file")
            .status
            .success()
    }
}

/// The git commands a `GIT_TRACE` log shows, one per line.
fn git_commands(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter_map(|l| {
            l.split_once("trace: built-in: git ")
                .map(|(_, c)| c.to_owned())
        })
        .collect()
}

/// Whether `commands` read blobs through `git cat-file --batch` (the listing's
/// `--batch-check` aside).
fn read_with_cat_file(commands: &[String]) -> bool {
    commands.iter().any(|c| {
        c.split_whitespace()
            .any(|w| w == "--batch" || w == "'--batch'")
    })
}

/// A source-like file of `lines + v` lines, version `v`: line `i` changes every 7 versions,
/// so consecutive versions differ by a few lines, as edits do, and each is larger than the
/// one before (git then stores the newest whole and older ones as deltas of newer ones).
fn version(lines: usize, v: usize) -> Vec<String> {
    (0..lines + v)
        .map(|i| {
            let rev = if i % 7 == v % 7 { v } else { 0 };
            format!("    let value_{i} = compute({i}, {rev}); // step {i} of the handler")
        })
        .collect()
}

/// Commits `count` versions of `path` (see [`version`]); in the version `planted` (if any),
/// `secret` replaces line `at` (1-based), and only that version carries it.
fn commit_versions(
    repo: &Repo,
    path: &str,
    count: usize,
    lines: usize,
    planted: Option<(usize, usize, &str)>,
) {
    for v in 1..=count {
        let mut text = version(lines, v);
        if let Some((at_version, at, secret)) = planted {
            if v == at_version {
                text[at - 1] = format!("TOKEN = \"{secret}\"");
            }
        }
        repo.write(path, text.join("\n") + "\n");
        repo.git(&["add", path]).assert_ok();
        repo.commit_unchecked(&[]);
    }
}

/// The blob ids `git verify-pack -v` lists as deltas (with a depth) in `packs`.
fn deltified_blobs(packs: &str) -> Vec<String> {
    packs
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 7 && f[1] == "blob").then(|| f[0].to_owned())
        })
        .collect()
}

/// The blob `path` holds at `rev`.
fn blob_at(repo: &Repo, rev: &str, path: &str) -> String {
    repo.git(&["rev-parse", &format!("{rev}:{path}")])
        .stdout_text()
        .trim()
        .to_owned()
}

/// The push refused for `key`, reported at `place` (`path:line`) and nowhere printed whole.
fn assert_refused_for(
    push: &Out,
    server: &Server,
    before: Option<&str>,
    place: &str,
    key: &keys::Key,
) {
    assert_refused(push, server, "refs/heads/main", before);
    assert!(
        push.all().contains(place),
        "not at {place}:\n{}",
        push.all()
    );
    assert_no_leak(&push.all(), key);
}

pub(crate) fn assert_refused(push: &Out, server: &Server, name: &str, before: Option<&str>) {
    assert!(!push.0.status.success(), "push accepted:\n{}", push.all());
    assert!(
        push.all().contains("remote: keyward: push rejected"),
        "{}",
        push.all()
    );
    assert_eq!(server.remote(name).as_deref(), before, "{name} moved");
}

#[test]
fn a_key_in_a_delta_of_the_pushed_pack_is_found_in_process() {
    let server = Server::new("");
    // Packs kept as pushed, however small the push: the quarantine holds a pack.
    server.config("receive.unpackLimit", "1");
    let repo = &server.repo;
    let accepted = server.accept_first_push();
    // 30 versions of a 400-line file; version 17 alone carries the key, on line 123.
    let key = keys::github();
    commit_versions(repo, "src/handler.py", 30, 400, Some((17, 123, &key.value)));
    let planted = blob_at(repo, "HEAD~13", "src/handler.py");

    let push = server.push("main");
    assert_refused_for(
        &push,
        &server,
        accepted.as_deref(),
        "src/handler.py:123",
        &key,
    );
    // The key's version came in the pushed pack, as a delta, in git's quarantine; it stays
    // out of the repository.
    assert!(!server.log("quarantine").trim().is_empty(), "no quarantine");
    let deltas = deltified_blobs(&server.log("packs"));
    assert!(deltas.len() >= 20, "few deltas:\n{}", server.log("packs"));
    assert!(
        deltas.contains(&planted),
        "the key's version is not a delta:\n{}",
        server.log("packs")
    );
    assert!(!server.has_object(&planted));
    // Listed and read in process.
    server.assert_ran_no_git();
}

/// The rows of the report git relayed from the hook.
pub(crate) fn remote_lines(push: &Out) -> Vec<String> {
    push.all()
        .lines()
        .filter(|l| l.starts_with("remote:"))
        .map(str::to_owned)
        .collect()
}

/// Runs `scenario` (which returns the push it judged) against a server whose hook lists and
/// reads in process and one whose hook uses git's plumbing
/// (`KEYWARD_GIT_BACKEND=cli`), and checks both reported the same: returns the two servers.
pub(crate) fn with_both_readers(scenario: impl Fn(&Server) -> Out) -> [Server; 2] {
    let servers = [Server::new(""), Server::new("KEYWARD_GIT_BACKEND=cli")];
    let reports: Vec<Vec<String>> = servers
        .iter()
        .map(|server| remote_lines(&scenario(server)))
        .collect();
    assert_eq!(reports[0], reports[1]);
    servers
}

#[test]
fn both_readers_give_the_same_report_on_a_push() {
    let (old, new) = (keys::github(), keys::openai_project());
    let [in_process, plumbing] = with_both_readers(|server| {
        let repo = &server.repo;
        // The server has a key already, pushed before keyward guarded it.
        server.unguarded(|| {
            repo.write("settings.env.sample", format!("OLD={}\nX=1\n", old.value));
            repo.git(&["add", "."]).assert_ok();
            repo.commit_unchecked(&[]);
            repo.git(&["push", "-q", "origin", "main"]).assert_ok();
        });
        // The push kept as a pack: its versions are built along their deltas.
        server.config("receive.unpackLimit", "1");
        let before = server.remote("main");
        // Edits around the old key, and a new key in one version of another file.
        commit_versions(repo, "lib/client.py", 12, 200, Some((5, 40, &new.value)));
        repo.write("settings.env.sample", format!("OLD={}\nX=2\n", old.value));
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
        let push = server.push("main");
        assert_refused(&push, server, "refs/heads/main", before.as_deref());
        assert!(push.all().contains("lib/client.py:40"), "{}", push.all());
        assert!(
            push.all().contains("settings.env.sample:1"),
            "{}",
            push.all()
        );
        assert_no_leak(&push.all(), &old);
        assert_no_leak(&push.all(), &new);
        server.assert_pushed_deltas(6);
        push
    });
    // The trace tells the readers apart.
    in_process.assert_ran_no_git();
    assert!(
        plumbing.read_with_cat_file(),
        "{:?}",
        plumbing.git_commands()
    );
}

/// A branch pushed on top of an old commit brings what its own commits changed, not what
/// that old commit held: a key the server had before keyward guarded it (in a file since
/// deleted on main) is not reported again; the new key, in a file renamed on the branch, and
/// a merge of main are. The in-process walk and git's plumbing give the same report, and the
/// walk runs no git command.
#[test]
fn a_branch_on_an_old_commit_brings_only_its_own_changes() {
    let (old, new) = (keys::github(), keys::openai_project());
    let [in_process, plumbing] = with_both_readers(|server| {
        let repo = &server.repo;
        let mut legacy = None;
        server.unguarded(|| {
            repo.write("config/legacy.py", format!("KEY = \"{}\"\n", old.value));
            repo.write("src/app.py", "print('v1')\n");
            repo.git(&["add", "."]).assert_ok();
            repo.commit_unchecked(&[]);
            legacy = repo.head();
            repo.git(&["rm", "-q", "config/legacy.py"]).assert_ok();
            repo.commit_unchecked(&[]);
            repo.git(&["push", "-q", "origin", "main"]).assert_ok();
        });
        server.config("receive.unpackLimit", "1");
        let legacy = legacy.expect("legacy commit");
        repo.git(&["checkout", "-q", "-b", "feature", &legacy])
            .assert_ok();
        repo.git(&["mv", "src/app.py", "src/main.py"]).assert_ok();
        repo.commit_unchecked(&[]);
        repo.write(
            "src/main.py",
            format!("print('v2')\nKEY = \"{}\"\n", new.value),
        );
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
        repo.git(&["merge", "-q", "--no-edit", "main"]).assert_ok();
        let push = server.push("feature");
        assert_refused(&push, server, "refs/heads/feature", None);
        assert!(push.all().contains("src/main.py:2"), "{}", push.all());
        assert!(!push.all().contains("legacy.py"), "{}", push.all());
        assert_no_leak(&push.all(), &old);
        assert_no_leak(&push.all(), &new);
        push
    });
    in_process.assert_ran_no_git();
    plumbing.assert_listed_by_git();
}

/// A shallow server's history is cut where its `shallow` file says: git's plumbing lists the
/// push there (the in-process walk does not stand in for it), and the key is still found.
#[test]
fn a_push_to_a_shallow_server_is_listed_by_git() {
    let server = Server::new("");
    let repo = &server.repo;
    let accepted = server.accept_first_push();
    let cut = accepted.clone().expect("accepted");
    std::fs::write(server.bare.join("shallow"), format!("{cut}\n")).expect("shallow");
    let key = keys::github();
    repo.write("deploy/ci.yml", format!("token: {}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let push = server.push("main");
    assert_refused_for(&push, &server, accepted.as_deref(), "deploy/ci.yml:1", &key);
    server.assert_listed_by_git();
}

#[test]
fn a_clean_big_push_is_accepted_and_read_in_process() {
    let server = Server::new("");
    let repo = &server.repo;
    // 3 files × 40 versions: over git's 100-object unpack limit, so the push stays a pack.
    for (n, path) in ["src/a.rs", "src/b.rs", "docs/c.md"].iter().enumerate() {
        commit_versions(repo, path, 40, 150 + 50 * n, None);
    }
    let push = server.push("main");
    assert!(push.0.status.success(), "{}", push.all());
    assert_eq!(server.remote("main"), repo.head(), "main not moved");
    server.assert_pushed_deltas(60);
    assert!(!server.read_with_cat_file(), "{:?}", server.git_commands());
}

#[test]
fn a_key_in_a_small_push_of_loose_objects_is_found_in_the_quarantine() {
    let server = Server::new("");
    let repo = &server.repo;
    let accepted = server.accept_first_push();
    let key = keys::github();
    repo.write(
        "deploy/ci.yml",
        format!("steps:\n  - token: {}\n", key.value),
    );
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let blob = blob_at(repo, "HEAD", "deploy/ci.yml");
    let push = server.push("main");
    assert_refused_for(&push, &server, accepted.as_deref(), "deploy/ci.yml:2", &key);
    // A few objects are unpacked loose into the quarantine: no pack there.
    assert!(!server.log("quarantine").trim().is_empty());
    assert!(
        server.log("packs").trim().is_empty(),
        "{}",
        server.log("packs")
    );
    assert!(!server.has_object(&blob));
    assert!(!server.read_with_cat_file(), "{:?}", server.git_commands());
}

#[test]
fn a_sha256_push_is_read_in_process() {
    let server = Server::new_with("", &["--object-format=sha256"]);
    server.config("receive.unpackLimit", "1");
    let repo = &server.repo;
    let key = keys::github();
    commit_versions(repo, "app/settings.py", 20, 120, Some((8, 50, &key.value)));
    let push = server.push("main");
    assert_refused_for(&push, &server, None, "app/settings.py:50", &key);
    server.assert_pushed_deltas(10);
    assert!(!server.read_with_cat_file(), "{:?}", server.git_commands());
}

/// Where gix cannot take git's object directories as given — a repository path holding the
/// path separator, which git then quotes in `GIT_ALTERNATE_OBJECT_DIRECTORIES` — the blobs are
/// read through `git cat-file`, with the same verdict.
#[test]
fn a_quoted_alternate_is_left_to_git() {
    let server = Server::at("srv:1/origin.git", "", &[]);
    server.config("receive.unpackLimit", "1");
    let repo = &server.repo;
    let key = keys::github();
    commit_versions(repo, "app/settings.py", 8, 60, Some((3, 20, &key.value)));
    let push = server.push("main");
    assert_refused_for(&push, &server, None, "app/settings.py:20", &key);
    assert!(
        server.log("alternates").starts_with('"'),
        "{}",
        server.log("alternates")
    );
    assert!(server.read_with_cat_file(), "{:?}", server.git_commands());
}

/// Run by hand, outside git's hook (no quarantine), `keyward pre-receive` reads the
/// repository's own objects in process.
#[test]
fn pre_receive_outside_a_hook_reads_the_repository_in_process() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    // A commit no ref reaches yet, as a push would bring it.
    let key = keys::github();
    repo.write("deploy.sh", format!("export TOKEN={}\n", key.value));
    repo.git(&["add", "."]).assert_ok();
    let tree = repo.git(&["write-tree"]).stdout_text().trim().to_owned();
    let head = repo.head().expect("head");
    let commit = repo
        .git(&["commit-tree", &tree, "-p", &head, "-m", "pushed"])
        .stdout_text()
        .trim()
        .to_owned();
    let logs = tempfile::tempdir().expect("tmp");
    let input = logs.path().join("input");
    std::fs::write(&input, format!("{head} {commit} refs/heads/main\n")).expect("input");
    let trace = logs.path().join("trace");
    let out = isolated(KEYWARD, logs.path())
        .arg("pre-receive")
        .current_dir(&repo.dir)
        .env("GIT_TRACE", &trace)
        .stdin(std::fs::File::open(&input).expect("open input"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    let out = Out(out);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(out.all().contains("deploy.sh:1"), "{}", out.all());
    assert_no_leak(&out.all(), &key);
    // Listed and read in process: keyward ran no git command (git writes no trace then).
    let commands = git_commands(&std::fs::read_to_string(&trace).unwrap_or_default());
    assert!(commands.is_empty(), "{commands:?}");
}

/// A pushed blob that cannot be read — corrupt, or missing — fails the hook closed: exit 2,
/// one line saying what could not be read, never a pass. (git checks that a push is whole
/// before it runs pre-receive, so keyward is run here as git would run it, on a quarantine
/// built by hand.)
#[test]
fn an_unreadable_pushed_blob_fails_closed() {
    for damage in ["corrupt", "missing"] {
        let tmp = tempfile::tempdir().expect("tmp");
        let bare = tmp.path().join("origin.git");
        let init = isolated("git", tmp.path())
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&bare)
            .run()
            .expect("git init --bare");
        assert!(init.status.success());
        let repo = Repo::new();
        repo.write("app.py", "print('hello')\n");
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
        let commit = repo.head().expect("commit");
        let tree = repo
            .git(&["rev-parse", "HEAD^{tree}"])
            .stdout_text()
            .trim()
            .to_owned();
        let blob = blob_at(&repo, "HEAD", "app.py");
        // The quarantine: the commit and its tree as pushed, the blob damaged or absent.
        let quarantine = bare.join("objects/tmp_objdir-incoming-test");
        for id in [&commit, &tree, &blob] {
            let rel = format!("{}/{}", &id[..2], &id[2..]);
            let to = quarantine.join(&rel);
            std::fs::create_dir_all(to.parent().expect("dir")).expect("mkdir");
            if *id != blob {
                let bytes = std::fs::read(repo.git_dir().join("objects").join(&rel)).expect("read");
                std::fs::write(&to, bytes).expect("copy");
            } else if damage == "corrupt" {
                std::fs::write(&to, b"x\x9c not a zlib stream at all").expect("write");
            }
        }
        let input = tmp.path().join("input");
        std::fs::write(
            &input,
            format!("{} {commit} refs/heads/main\n", "0".repeat(40)),
        )
        .expect("input");
        let out = isolated(KEYWARD, tmp.path())
            .arg("pre-receive")
            .current_dir(&bare)
            .env("GIT_DIR", ".")
            .env("GIT_QUARANTINE_PATH", &quarantine)
            .env("GIT_OBJECT_DIRECTORY", &quarantine)
            .env("GIT_ALTERNATE_OBJECT_DIRECTORIES", bare.join("objects"))
            .stdin(std::fs::File::open(&input).expect("open input"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn_and_wait();
        let out = Out(out);
        assert_eq!(out.code(), Some(2), "{damage}: {}", out.all());
        // One error naming the blob, and the verdict.
        let stderr = String::from_utf8_lossy(&out.0.stderr).into_owned();
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{damage}: {stderr}");
        assert!(
            lines[0].starts_with("keyward: error: ") && lines[0].contains(&blob),
            "{damage}: {stderr}"
        );
        assert!(lines[1].contains("push is rejected"), "{damage}: {stderr}");
        assert!(!out.all().contains("panicked"), "{}", out.all());
    }
}
