//! git is the oracle. Seeded random histories — branches, merges and octopus merges, equal and
//! skewed dates, renames, type changes, symbolic links, submodule entries, files becoming
//! directories and back, mode changes, packed and loose pushes, a commit-graph on and off,
//! several refs per push, deletions, force pushes, tags to commits, trees and blobs — are
//! pushed to a server whose hook records what keyward judged (`--audit`) and reported
//! (`--format json`), then accepts. After each push:
//! - every (path, blob) git's plumbing lists for it (`git rev-list TIPS --not <refs before>`,
//!   `git diff-tree -r -m --root` per commit, `git ls-tree -r` for a tree, the blob a ref
//!   points at) is among what keyward judged;
//! - nothing keyward lets through as already in history is new: its value was in a blob the
//!   server held before the push.
//!
//! And for the hook: random staged states, then `git commit` (plain, `-a`, `--only`), and the
//! files and links HEAD gains are exactly those keyward judged.
//!
//! Bounded by default (`KEYWARD_ORACLE_HISTORIES`, `KEYWARD_ORACLE_PUSHES`,
//! `KEYWARD_ORACLE_COMMITS` say how many; `KEYWARD_ORACLE_SEED` replays one seed). A failure
//! names the seed, the step and git's and keyward's views.

use crate::exactness::{audited_commit, gained, judged};
use crate::keys;
use crate::receive::Server;
use crate::repo::{isolated, write_executable, Out, Repo, SpawnAndWait, KEYWARD};
use std::collections::{BTreeMap, BTreeSet};

/// A small deterministic generator (xorshift64*), so a seed replays a failure exactly.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (at least 1).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }
}

/// A count from the environment, or `default`.
fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The seeds to run: `KEYWARD_ORACLE_SEED` alone, or `count` fixed ones.
fn seeds(count: usize, salt: u64) -> Vec<u64> {
    match std::env::var("KEYWARD_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(seed) => vec![seed],
        None => (1..=count as u64).map(|i| i * 7919 + salt).collect(),
    }
}

/// Paths the generator writes: nested, overlapping (a name that is a file in one commit
/// and a directory in another), with a space and non-ASCII in some.
const PATHS: &[&str] = &[
    "a.txt",
    "b.py",
    "x",
    "x/y.txt",
    "x/z/deep.cfg",
    "dir/one.txt",
    "dir/two words.txt",
    "dir/sub/three.rs",
    "dir/sub",
    "ünï/cödé.txt",
    ".env",
    "conf/app.yml",
];

/// Runs `git ARGS` in `repo` with `env` and a date; its output (failures are the caller's to
/// judge: a random step may ask git for something it refuses).
fn git_at(repo: &Repo, args: &[&str], date: i64) -> Out {
    let stamp = format!("@{date} +0000");
    Out(isolated("git", &repo.home)
        .args(args)
        .env("GIT_AUTHOR_DATE", &stamp)
        .env("GIT_COMMITTER_DATE", &stamp)
        .current_dir(&repo.dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait())
}

/// The work a generator does on a client repository.
struct Client<'a> {
    repo: &'a Repo,
    rng: Rng,
    keys: Vec<String>,
    date: i64,
    branches: Vec<String>,
    log: Vec<String>,
}

impl Client<'_> {
    /// A file's content: a few lines, now and then a key of the pool.
    fn content(&mut self) -> String {
        let mut text = String::new();
        for _ in 0..1 + self.rng.below(4) {
            text.push_str(&format!("line {} of something\n", self.rng.below(1000)));
        }
        if self.rng.one_in(4) {
            let key = self.rng.pick(&self.keys).clone();
            text.push_str(&format!("TOKEN = \"{key}\"\n"));
        }
        text
    }

    /// Writes `path` in the work tree (removing what stands in its way) and stages it.
    fn write(&mut self, path: &str) {
        let content = self.content();
        let full = self.repo.dir.join(path);
        // A file where a directory must go, or a directory where the file must go.
        let mut at = full.parent().map(std::path::Path::to_path_buf);
        while let Some(p) = at {
            if p == self.repo.dir {
                break;
            }
            if p.is_file() || p.is_symlink() {
                let _ = std::fs::remove_file(&p);
            }
            at = p.parent().map(std::path::Path::to_path_buf);
        }
        if full.is_dir() && !full.is_symlink() {
            let _ = std::fs::remove_dir_all(&full);
        }
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        if full.is_symlink() {
            let _ = std::fs::remove_file(&full);
        }
        std::fs::write(&full, content).expect("write");
        self.git(&["add", "-A", "."]);
    }

    /// Stages an entry by hand: a link (mode 120000) holding `target`, or a submodule.
    fn entry(&mut self, mode: &str, path: &str) {
        let id = if mode == "160000" {
            self.repo.head().unwrap_or_else(|| "1".repeat(40))
        } else {
            let content = if self.rng.one_in(3) {
                self.rng.pick(&self.keys).clone()
            } else {
                "a.txt".to_owned()
            };
            self.repo.write(".entry.tmp", content);
            let out = self.git(&["hash-object", "-w", ".entry.tmp"]);
            let _ = std::fs::remove_file(self.repo.dir.join(".entry.tmp"));
            out.stdout_text().trim().to_owned()
        };
        // Whatever the index has at or under the path goes first.
        self.git(&["rm", "-rq", "--cached", "--ignore-unmatch", path]);
        let entry = format!("{mode},{id},{path}");
        self.git(&["update-index", "--add", "--cacheinfo", &entry]);
    }

    fn git(&mut self, args: &[&str]) -> Out {
        self.log.push(format!("git {}", args.join(" ")));
        git_at(self.repo, args, self.date)
    }

    /// One random change to the index (and the work tree).
    fn change(&mut self) {
        let path = *self.rng.pick(PATHS);
        match self.rng.below(12) {
            0..=2 => self.write(path),
            // An edit that keeps what the file held (a key too) and adds a line.
            3..=5 => {
                let full = self.repo.dir.join(path);
                match std::fs::read_to_string(&full) {
                    Ok(mut text) if !full.is_symlink() => {
                        text.push_str(&format!("edited {}\n", self.rng.below(1000)));
                        std::fs::write(&full, text).expect("write");
                        self.git(&["add", "-A", "."]);
                    }
                    _ => self.write(path),
                }
            }
            6 => {
                self.git(&["rm", "-rq", "--ignore-unmatch", path]);
            }
            7 => {
                let to = *self.rng.pick(PATHS);
                self.git(&["mv", "-k", path, to]);
            }
            8 => self.entry("120000", path),
            9 => {
                // A link turned into a file holding the same blob, or a file into a link.
                let blob = self.git(&["rev-parse", &format!(":{path}")]);
                if blob.0.status.success() {
                    let blob = blob.stdout_text().trim().to_owned();
                    let mode = if self.rng.one_in(2) {
                        "100644"
                    } else {
                        "120000"
                    };
                    let entry = format!("{mode},{blob},{path}");
                    self.git(&["update-index", "--cacheinfo", &entry]);
                }
            }
            10 => {
                let flip = if self.rng.one_in(2) {
                    "--chmod=+x"
                } else {
                    "--chmod=-x"
                };
                self.git(&["update-index", flip, path]);
            }
            _ => self.entry("160000", path),
        }
    }

    /// A commit of a few changes, with an equal, later or skewed (earlier) date.
    fn commit(&mut self) {
        for _ in 0..1 + self.rng.below(3) {
            self.change();
        }
        self.date += match self.rng.below(4) {
            0 => 0,
            1 => -(self.rng.below(5_000) as i64),
            _ => self.rng.below(1_000) as i64,
        };
        self.git(&[
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "-m",
            "change",
        ]);
    }

    /// Moves to another branch, new or existing.
    fn branch(&mut self) {
        if self.rng.one_in(2) || self.branches.len() < 2 {
            let name = format!("b{}", self.branches.len());
            self.git(&["checkout", "-q", "-f", "-b", &name]);
            self.branches.push(name);
        } else {
            let name = self.rng.pick(&self.branches).clone();
            self.git(&["checkout", "-q", "-f", &name]);
            self.git(&["clean", "-qfdx"]);
        }
    }

    /// A merge of one or more other branches (an octopus), keeping ours where they conflict.
    fn merge(&mut self) {
        let mut others: Vec<String> = Vec::new();
        for _ in 0..1 + self.rng.below(2) {
            let b = self.rng.pick(&self.branches).clone();
            if !others.contains(&b) {
                others.push(b);
            }
        }
        let mut args = vec![
            "merge",
            "-q",
            "--no-verify",
            "--no-edit",
            "--allow-unrelated-histories",
        ];
        if others.len() == 1 {
            args.extend(["-s", "recursive", "-X", "ours"]);
        }
        args.extend(others.iter().map(String::as_str));
        if !self.git(&args).0.status.success() {
            self.git(&["merge", "--abort"]);
            self.git(&["reset", "-q", "--hard"]);
        }
    }
}

/// A server whose hook records keyward's audit and JSON report, then accepts every push.
fn recording_server(unpack_limit: Option<&str>) -> (Server, std::path::PathBuf) {
    let server = Server::new("");
    let log = server.bare.parent().expect("tmp").join("oracle");
    std::fs::create_dir_all(&log).expect("log");
    let script = format!(
        "#!/bin/sh\n'{KEYWARD}' pre-receive --format json --audit '{log}/audit' > '{log}/report.json' 2> '{log}/stderr'\n\
         echo $? > '{log}/code'\nexit 0\n",
        log = log.display()
    );
    write_executable(
        &server.bare.join("hooks/pre-receive"),
        script.as_bytes(),
        0o755,
    );
    if let Some(limit) = unpack_limit {
        server.config("receive.unpackLimit", limit);
    }
    (server, log)
}

/// Runs git in the server's repository.
fn server_git(server: &Server, args: &[&str]) -> Out {
    Out(isolated("git", &server.repo.home)
        .arg("--git-dir")
        .arg(&server.bare)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait())
}

/// The server's refs (and HEAD), name → id.
fn server_refs(server: &Server) -> BTreeMap<String, String> {
    let mut refs = BTreeMap::new();
    let out = server_git(
        server,
        &["for-each-ref", "--format=%(objectname) %(refname)"],
    );
    for line in out.stdout_text().lines() {
        if let Some((id, name)) = line.split_once(' ') {
            refs.insert(name.to_owned(), id.to_owned());
        }
    }
    let head = server_git(server, &["rev-parse", "-q", "--verify", "HEAD"]);
    if head.0.status.success() {
        refs.insert("HEAD".into(), head.stdout_text().trim().to_owned());
    }
    refs
}

/// What git's plumbing says a push of `tips` (new ids) onto refs `before` brings: (path, blob)
/// of files and links, and the blobs refs point at.
fn git_listing(
    server: &Server,
    tips: &[String],
    before: &BTreeMap<String, String>,
) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let (mut files, mut blobs) = (BTreeSet::new(), BTreeSet::new());
    let mut commits = Vec::new();
    for tip in tips {
        let peeled = server_git(server, &["rev-parse", &format!("{tip}^{{}}")]);
        let peeled = peeled.stdout_text().trim().to_owned();
        let kind = server_git(server, &["cat-file", "-t", &peeled]).stdout_text();
        match kind.trim() {
            "commit" => commits.push(peeled),
            "tree" => {
                let out = server_git(server, &["ls-tree", "-r", "-z", "--full-tree", &peeled]);
                for record in out.0.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
                    let tab = record.iter().position(|&b| b == b'\t').expect("tab");
                    let meta = String::from_utf8_lossy(&record[..tab]).into_owned();
                    let f: Vec<&str> = meta.split(' ').collect();
                    if f[0].starts_with("100") || f[0] == "120000" {
                        files
                            .insert((keyward::redact::escape(&record[tab + 1..]), f[2].to_owned()));
                    }
                }
            }
            "blob" => {
                blobs.insert(peeled);
            }
            other => panic!("a tip of kind {other}"),
        }
    }
    if commits.is_empty() {
        return (files, blobs);
    }
    let mut args = vec!["rev-list".to_owned(), "--topo-order".to_owned()];
    args.extend(commits);
    args.push("--not".into());
    args.extend(before.values().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let listed = server_git(server, &args);
    listed.assert_ok();
    for commit in listed.stdout_text().lines() {
        let out = server_git(
            server,
            &[
                "diff-tree",
                "-r",
                "-m",
                "--root",
                "--no-renames",
                "--no-abbrev",
                "-z",
                commit,
            ],
        );
        let mut fields = out.0.stdout.split(|&b| b == 0).filter(|f| !f.is_empty());
        while let Some(meta) = fields.next() {
            let meta = String::from_utf8_lossy(meta).trim().to_owned();
            if !meta.starts_with(':') {
                continue;
            }
            let path = fields.next().expect("path");
            let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
            let (new_mode, new, status) = (f[1], f[3], f[4]);
            if status != "D" && (new_mode.starts_with("100") || new_mode == "120000") {
                files.insert((keyward::redact::escape(path), new.to_owned()));
            }
        }
    }
    (files, blobs)
}

/// The pool keys that some blob reachable from the server's refs holds.
fn keys_on_server(server: &Server, keys: &[String]) -> BTreeSet<String> {
    let objects = server_git(server, &["rev-list", "--objects", "--all"]).stdout_text();
    let ids: String = objects
        .lines()
        .filter_map(|l| l.split(' ').next())
        .map(|id| format!("{id}\n"))
        .collect();
    let input = server.bare.parent().expect("tmp").join("oracle/ids");
    std::fs::write(&input, ids).expect("ids");
    let out = isolated("git", &server.repo.home)
        .arg("--git-dir")
        .arg(&server.bare)
        .args(["cat-file", "--batch"])
        .stdin(std::fs::File::open(&input).expect("ids"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    let all = String::from_utf8_lossy(&out.stdout);
    keys.iter()
        .filter(|k| all.contains(k.as_str()))
        .cloned()
        .collect()
}

/// Pushes `refspecs` and checks keyward's view of the push against git's (see the module
/// docs); `what` names the step for a failure.
fn push_and_check(
    server: &Server,
    log: &std::path::Path,
    refspecs: &[String],
    keys: &[String],
    what: &str,
) -> Option<usize> {
    let before = server_refs(server);
    let had = keys_on_server(server, keys);
    for name in ["audit", "report.json", "code", "stderr"] {
        let _ = std::fs::remove_file(log.join(name));
    }
    let mut args = vec!["push", "-q", "--force", "origin"];
    args.extend(refspecs.iter().map(String::as_str));
    server.repo.git(&args);
    // Whatever git made of the push (it may refuse a ref: a deletion of one the server does
    // not have), the refs that moved are what the hook was asked about, among others.
    let code = std::fs::read_to_string(log.join("code")).unwrap_or_default();
    if code.is_empty() {
        return None; // nothing to update: git ran no hook
    }
    let stderr = std::fs::read_to_string(log.join("stderr")).unwrap_or_default();
    assert!(
        matches!(code.trim(), "0" | "1"),
        "{what}: keyward failed ({code}): {stderr}"
    );
    let after = server_refs(server);
    let tips: Vec<String> = after
        .iter()
        .filter(|(name, id)| name.as_str() != "HEAD" && before.get(*name) != Some(id))
        .map(|(_, id)| id.clone())
        .collect();
    let (files, blobs) = git_listing(server, &tips, &before);
    let audit = std::fs::read_to_string(log.join("audit")).unwrap_or_default();
    let ours = judged(&audit);
    let missing: Vec<_> = files.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "{what}: git lists what keyward did not judge: {missing:?}\naudit:\n{audit}"
    );
    let refs: BTreeSet<String> = audit
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("ref"))
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    assert!(
        blobs.is_subset(&refs),
        "{what}: blobs {blobs:?} not judged:\n{audit}"
    );
    // What keyward let through as already in history was on the server before.
    let report = std::fs::read_to_string(log.join("report.json")).unwrap_or_default();
    let findings: Vec<serde_json::Value> = serde_json::from_str(&report)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {report}{stderr}"));
    for f in findings {
        if f["kind"] != "secret" || f["blocking"] == true || f.get("allowed").is_some() {
            continue;
        }
        let rule = f["rule_id"].as_str().unwrap_or_default();
        let fp = f["fingerprint"].as_str().unwrap_or_default();
        let key = keys
            .iter()
            .find(|k| keyward::redact::fingerprint(rule, k.as_bytes()) == fp);
        let key = key.unwrap_or_else(|| panic!("{what}: an unknown value let through: {f}"));
        assert!(
            had.contains(key),
            "{what}: a key the server did not have was let through as already in history: {f}"
        );
    }
    Some(files.len() + blobs.len())
}

#[test]
fn every_push_is_judged_as_git_lists_it() {
    let histories = setting("KEYWARD_ORACLE_HISTORIES", 16);
    let pushes = setting("KEYWARD_ORACLE_PUSHES", 8);
    let (mut checked, mut compared) = (0, 0);
    let started = std::time::Instant::now();
    for seed in seeds(histories, 1) {
        let mut rng = Rng::new(seed);
        let unpack = if rng.one_in(2) { Some("1") } else { None };
        let (server, log) = recording_server(unpack);
        let keys: Vec<String> = (0..4).map(|_| keys::github().value).collect();
        let mut client = Client {
            repo: &server.repo,
            rng,
            keys: keys.clone(),
            date: 1_700_000_000,
            branches: vec!["main".into()],
            log: Vec::new(),
        };
        client.write("a.txt");
        client.git(&["commit", "-q", "--no-verify", "-m", "root"]);
        for push in 0..pushes {
            for _ in 0..1 + client.rng.below(4) {
                match client.rng.below(8) {
                    0 => client.branch(),
                    1 => client.merge(),
                    _ => client.commit(),
                }
            }
            // The refs to push: branches (some forced back), tags to commits, trees and blobs.
            let mut refspecs: Vec<String> = Vec::new();
            for b in client.branches.clone() {
                if client.rng.one_in(2) {
                    refspecs.push(format!("refs/heads/{b}:refs/heads/{b}"));
                }
            }
            let current = client
                .git(&["rev-parse", "--abbrev-ref", "HEAD"])
                .stdout_text();
            let current = current.trim().to_owned();
            if client.rng.one_in(4) {
                // A force push of the branch back a commit.
                client.git(&["reset", "-q", "--hard", "HEAD~1"]);
            }
            refspecs.push(format!("refs/heads/{current}:refs/heads/{current}"));
            refspecs.sort();
            refspecs.dedup();
            match client.rng.below(6) {
                0 => {
                    let tag = format!("t{push}");
                    client.git(&["tag", "-f", "-a", "-m", "release", &tag]);
                    refspecs.push(format!("refs/tags/{tag}"));
                }
                1 => {
                    let tree = client.git(&["rev-parse", "HEAD^{tree}"]).stdout_text();
                    refspecs.push(format!("{}:refs/tags/tree{push}", tree.trim()));
                }
                2 => {
                    let blob = client.git(&["rev-parse", "HEAD:a.txt"]);
                    if blob.0.status.success() {
                        refspecs.push(format!(
                            "{}:refs/tags/blob{push}",
                            blob.stdout_text().trim()
                        ));
                    }
                }
                3 if client.branches.len() > 2 => {
                    let gone = client.rng.pick(&client.branches[1..]).clone();
                    refspecs.push(format!(":refs/heads/{gone}"));
                }
                _ => {}
            }
            if client.rng.one_in(3) {
                server_git(&server, &["commit-graph", "write", "--reachable"]);
            }
            let what = format!(
                "seed {seed}, push {push} ({refspecs:?}); steps:\n{}",
                client.log.join("\n")
            );
            if let Some(n) = push_and_check(&server, &log, &refspecs, &keys, &what) {
                checked += 1;
                compared += n;
            }
        }
    }
    eprintln!(
        "oracle: {checked} pushes of {histories} histories checked, {compared} (path, blob) pairs listed by git, in {:.1?}",
        started.elapsed()
    );
    assert!(
        checked >= histories,
        "too few pushes reached the hook: {checked}"
    );
    assert!(compared > 0);
}

#[test]
fn every_commit_records_what_the_hook_judged() {
    let repos = setting("KEYWARD_ORACLE_HISTORIES", 16);
    let commits = setting("KEYWARD_ORACLE_COMMITS", 12);
    let (mut checked, mut compared, mut blocked) = (0, 0, 0);
    let started = std::time::Instant::now();
    for seed in seeds(repos, 2) {
        let repo = Repo::new();
        let mut client = Client {
            repo: &repo,
            rng: Rng::new(seed),
            keys: (0..3).map(|_| keys::github().value).collect(),
            date: 1_700_000_000,
            branches: vec!["main".into()],
            log: Vec::new(),
        };
        client.write("a.txt");
        client.git(&["commit", "-q", "--no-verify", "-m", "root"]);
        for step in 0..commits {
            if client.rng.one_in(5) {
                client.branch();
            }
            for _ in 0..1 + client.rng.below(4) {
                client.change();
            }
            // Changes left in the work tree only, for -a and --only to pick up.
            for _ in 0..client.rng.below(3) {
                let path = *client.rng.pick(PATHS);
                let full = repo.dir.join(path);
                if full.is_file() && !full.is_symlink() {
                    let text = client.content();
                    std::fs::write(&full, text).expect("write");
                }
            }
            let tracked = client.git(&["ls-files"]).stdout_text();
            let tracked: Vec<String> = tracked.lines().map(str::to_owned).collect();
            let variant = client.rng.below(3);
            let mut args: Vec<String> = vec!["--allow-empty".into()];
            match variant {
                0 => {}
                1 => args.push("-a".into()),
                _ if !tracked.is_empty() => {
                    args.push("--only".into());
                    args.push(client.rng.pick(&tracked).clone());
                }
                _ => {}
            }
            let what = format!(
                "seed {seed}, commit {step} {args:?}; steps:\n{}",
                client.log.join("\n")
            );
            let before = repo.head();
            let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let (out, audit) = audited_commit(&repo, &arg_refs);
            let Some(listed) = audit else {
                // git stopped before the hook (a path it will not commit): nothing to compare.
                assert_eq!(repo.head(), before, "{what}: committed without the hook");
                continue;
            };
            if repo.head() == before {
                // The hook blocked (a key): what it judged is what would have been recorded;
                // record it without the hook and compare.
                assert!(
                    out.all().contains("commit blocked"),
                    "{what}: {}",
                    out.all()
                );
                let mut again = vec!["commit", "-q", "--no-verify", "-m", "unchecked"];
                again.extend(args.iter().map(String::as_str));
                let forced = client.git(&again);
                forced.assert_ok();
                blocked += 1;
            }
            let recorded = gained(&repo, "HEAD");
            assert_eq!(recorded, judged(&listed), "{what}");
            checked += 1;
            compared += recorded.len();
        }
    }
    eprintln!(
        "oracle: {checked} commits of {repos} repositories checked ({blocked} blocked by a key), {compared} (path, blob) pairs recorded, in {:.1?}",
        started.elapsed()
    );
    assert!(
        checked >= repos,
        "too few commits reached the hook: {checked}"
    );
    assert!(compared > 0);
}
