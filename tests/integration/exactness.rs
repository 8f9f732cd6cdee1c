//! What git records or receives is exactly what keyward judged, on every path: symbolic links,
//! names built to collide with a hash, values whose short fingerprints collide, files past the
//! size cap, and a listing that must fail closed. Each test drives real git.

use crate::keys::{self, assert_no_leak};
use crate::receive::{assert_refused, Server};
use crate::repo::{Out, Repo, SpawnAndWait};

/// Writes `content` as a blob and stages it at `path` with `mode` (`120000`: a symbolic
/// link) without touching the work tree; returns the blob id.
fn stage(repo: &Repo, mode: &str, path: &str, content: &str) -> String {
    let blob = write_blob(repo, content);
    let entry = format!("{mode},{blob},{path}");
    repo.git(&["update-index", "--add", "--cacheinfo", &entry])
        .assert_ok();
    blob
}

/// Writes `content` as a blob; its id.
fn write_blob(repo: &Repo, content: &str) -> String {
    repo.write(".blob.tmp", content);
    let out = repo.git(&["hash-object", "-w", ".blob.tmp"]);
    out.assert_ok();
    std::fs::remove_file(repo.dir.join(".blob.tmp")).expect("remove");
    out.stdout_text().trim().to_owned()
}

/// The paths of the findings that are not allowed, in a JSON report.
fn paths(out: &Out) -> Vec<String> {
    let mut paths: Vec<String> = out
        .json()
        .iter()
        .filter(|f| f.get("allowed").is_none())
        .map(|f| f["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// A first commit, the base of the ranges below.
fn first_commit(repo: &Repo) -> String {
    repo.write("README.md", "hello\n");
    repo.git(&["add", "README.md"]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.head().expect("base")
}

/// `scan --range BASE..HEAD` and `scan --history` both block, reporting `expected` (a path)
/// among the findings.
fn assert_both_scans_report(repo: &Repo, base: &str, expected: &str) {
    let range = format!("{base}..HEAD");
    for args in [
        &["scan", "--range", &range, "--format", "json"][..],
        &["scan", "--history", "--format", "json"],
    ] {
        let out = repo.keyward(args);
        assert_eq!(out.code(), Some(1), "{args:?}: {}", out.all());
        assert!(
            paths(&out).iter().any(|p| p == expected),
            "{args:?}: {expected} not reported: {}",
            out.all()
        );
    }
}

#[test]
fn a_key_in_a_symbolic_links_blob_is_found_by_ranges_and_history() {
    let repo = Repo::new();
    let base = first_commit(&repo);
    let key = keys::github();
    stage(&repo, "120000", "link", &key.value);
    repo.commit_unchecked(&[]);
    assert_both_scans_report(&repo, &base, "link");
    let human = repo.keyward(&["scan", "--history"]);
    assert_no_leak(&human.all(), &key);
}

#[cfg(unix)]
#[test]
fn a_key_in_a_symbolic_links_target_is_found_on_disk() {
    let repo = Repo::new();
    let key = keys::github();
    std::fs::create_dir_all(repo.dir.join("conf")).expect("dir");
    std::os::unix::fs::symlink(&key.value, repo.dir.join("conf/link")).expect("symlink");
    let out = repo.keyward(&["scan", "conf", "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(paths(&out), ["conf/link"]);
    assert_no_leak(&out.all(), &key);
}

#[test]
fn a_push_judges_a_symbolic_links_blob() {
    let server = Server::new("");
    let accepted = server.accept_first_push();
    let repo = &server.repo;
    let key = keys::github();
    stage(repo, "120000", "link", &key.value);
    repo.commit_unchecked(&[]);
    let push = server.push("main");
    assert_refused(&push, &server, "refs/heads/main", accepted.as_deref());
    assert!(push.all().contains("link"), "{}", push.all());
    assert_no_leak(&push.all(), &key);
}

/// A key first pushed as a symbolic link's blob, then turned into a regular file (in place,
/// or deleted and added elsewhere) in the same push, is not "already in history": neither it
/// nor the same key in another file of the push gets through.
#[test]
fn a_key_a_link_carried_earlier_in_the_push_is_not_already_in_history() {
    for how in ["type change", "delete and add"] {
        let server = Server::new("");
        let accepted = server.accept_first_push();
        let repo = &server.repo;
        let key = keys::github();
        let blob = stage(repo, "120000", "link", &key.value);
        repo.commit_unchecked(&[]);
        match how {
            "type change" => {
                let entry = format!("100644,{blob},link");
                repo.git(&["update-index", "--cacheinfo", &entry])
                    .assert_ok();
            }
            _ => {
                repo.git(&["rm", "-q", "--cached", "link"]).assert_ok();
                let entry = format!("100644,{blob},moved.txt");
                repo.git(&["update-index", "--add", "--cacheinfo", &entry])
                    .assert_ok();
            }
        }
        repo.write("deploy.py", format!("TOKEN = \"{}\"\n", key.value));
        repo.git(&["add", "deploy.py"]).assert_ok();
        repo.commit_unchecked(&[]);
        let push = server.push("main");
        assert_refused(&push, &server, "refs/heads/main", accepted.as_deref());
        // Reported once, where the push first carried it.
        assert!(push.all().contains("✗ link:1:1"), "{how}: {}", push.all());
        assert_no_leak(&push.all(), &key);
    }
}

/// The 64-bit hash keyward keyed its sets of paths by (`| 1`) and compared history's lines
/// with, reproduced here to build names and lines that collide with chosen ones.
fn hash64(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    }
    let mut w = [0u8; 8];
    w[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    h ^ (h >> 29)
}

/// A path under `dir` (which must end in `/`, or be empty) whose [`hash64`] equals
/// `target`'s.
fn colliding_name(dir: &str, target: &str) -> String {
    colliding(dir, 'x', target)
}

/// `start`, padded with `pad` to a multiple of eight bytes, then sixteen more, such that its
/// [`hash64`] equals `target`'s: the hash is invertible, so the last eight bytes are solved
/// for, after eight free ones tried until the solved bytes are printable.
fn colliding(start: &str, pad: char, target: &str) -> String {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut k_inv = K;
    for _ in 0..6 {
        k_inv = k_inv.wrapping_mul(2u64.wrapping_sub(K.wrapping_mul(k_inv)));
    }
    let want = hash64(target.as_bytes());
    let mut prefix = start.to_owned();
    while !prefix.len().is_multiple_of(8) {
        prefix.push(pad);
    }
    let len = prefix.len() + 16;
    let printable = |b: u8| b.is_ascii_graphic() && !matches!(b, b'/' | b'\\' | b'"');
    for n in 0u64.. {
        // Eight free bytes: `n` in base 26 as letters.
        let free: String = (0..8)
            .map(|i| (b'a' + ((n / 26u64.pow(i)) % 26) as u8) as char)
            .collect();
        let head = format!("{prefix}{free}");
        let mut h = (len as u64).wrapping_mul(K);
        for c in head.as_bytes().chunks_exact(8) {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h.rotate_left(23) ^ w).wrapping_mul(K);
        }
        // Undo the final mix (`x ^ x >> 29`), the empty last word, then solve the word before.
        let x = want ^ (want >> 29) ^ (want >> 58);
        let before_last = x.wrapping_mul(k_inv).rotate_right(23);
        let word = before_last.wrapping_mul(k_inv) ^ h.rotate_left(23);
        let bytes = word.to_le_bytes();
        if bytes.iter().all(|&b| printable(b)) {
            let solved = format!("{head}{}", String::from_utf8_lossy(&bytes));
            assert_eq!(hash64(solved.as_bytes()), want);
            return solved;
        }
    }
    unreachable!()
}

#[test]
fn names_built_to_collide_with_a_path_hash_hide_nothing() {
    // A name whose hash equals `.env`'s, committed first with the same content.
    let repo = Repo::new();
    let base = first_commit(&repo);
    let twin = colliding_name("", ".env");
    assert_ne!(twin, ".env");
    stage(&repo, "100644", &twin, "DEBUG=1\n");
    repo.commit_unchecked(&[]);
    stage(&repo, "100644", ".env", "DEBUG=1\n");
    repo.commit_unchecked(&[]);
    assert_both_scans_report(&repo, &base, ".env");

    // A key in an allowed fixture directory, under a name whose hash equals the path it is
    // then copied to.
    let repo = Repo::new();
    repo.write(
        ".keyward.toml",
        "[allow]\npaths = [\"tests/fixtures/**\"]\n",
    );
    let base = first_commit(&repo);
    let key = keys::github();
    let content = format!("TOKEN = \"{}\"\n", key.value);
    let twin = colliding_name("tests/fixtures/", "config/deploy.py");
    stage(&repo, "100644", &twin, &content);
    repo.commit_unchecked(&[]);
    stage(&repo, "100644", "config/deploy.py", &content);
    repo.commit_unchecked(&[]);
    assert_both_scans_report(&repo, &base, "config/deploy.py");
}

#[test]
fn a_push_judges_a_path_whose_hash_collides_with_one_pushed_before() {
    let server = Server::new("");
    let accepted = server.accept_first_push();
    let repo = &server.repo;
    let twin = colliding_name("", ".env");
    stage(repo, "100644", &twin, "DEBUG=1\n");
    repo.commit_unchecked(&[]);
    stage(repo, "100644", ".env", "DEBUG=1\n");
    repo.commit_unchecked(&[]);
    let push = server.push("main");
    assert_refused(&push, &server, "refs/heads/main", accepted.as_deref());
    assert!(push.all().contains(".env "), "{}", push.all());
}

/// Two GitHub tokens whose 8-hex fingerprints are equal (a birthday search over random
/// tokens: about 2^16 tries).
fn tokens_with_one_fingerprint() -> (String, String) {
    let mut seen = std::collections::HashMap::new();
    loop {
        let token = keys::github().value;
        let fp = keyward::redact::fingerprint("kw.github.pat", token.as_bytes());
        if let Some(other) = seen.insert(fp, token.clone()) {
            if other != token {
                return (other, token);
            }
        }
    }
}

/// A new key whose short fingerprint equals one already in history is new: it blocks, and it
/// is reported (not folded into the old key's finding).
#[test]
fn a_new_key_sharing_an_old_keys_short_fingerprint_still_blocks() {
    let (old, new) = tokens_with_one_fingerprint();
    let repo = Repo::new();
    repo.write("settings.py", format!("OLD = \"{old}\"\nX = 1\n"));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    // The old key stays in an edited file (already in history); the new one arrives.
    repo.write("settings.py", format!("OLD = \"{old}\"\nX = 2\n"));
    repo.write("deploy.py", format!("NEW = \"{new}\"\n"));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let range = format!("{base}..HEAD");
    let out = repo.keyward(&["scan", "--range", &range, "--format", "json"]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    let blocking: Vec<String> = out
        .json()
        .iter()
        .filter(|f| f["blocking"] == true)
        .map(|f| f["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(blocking, ["deploy.py"], "{}", out.all());
}

/// History scans a new version where its lines differ from the version before, and the
/// lines were compared by a hash that could be inverted: a line holding a key, given a tail
/// that makes its hash equal one of the old version's lines, was never scanned.
#[test]
fn a_line_built_to_collide_with_an_old_lines_hash_is_scanned() {
    let repo = Repo::new();
    repo.write("app.py", "x = 1\nSTEADY\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let key = keys::github();
    let line = colliding(&format!("TOKEN = \"{}\"  # ", key.value), ' ', "STEADY");
    repo.write("app.py", format!("x = 1\n{line}\n"));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    // One scanning thread: the old version's lines are kept before the new one is compared.
    let out = crate::repo::Out(
        crate::repo::output(
            crate::repo::isolated(crate::repo::KEYWARD, &repo.home)
                .args(["scan", "--history", "--format", "json"])
                .env("KEYWARD_THREADS", "1")
                .current_dir(&repo.dir),
        )
        .expect("keyward"),
    );
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert_eq!(paths(&out), ["app.py"]);
    assert_no_leak(&out.all(), &key);
}

/// `keyward pre-receive` run in `repo` as git runs the hook, for `input` (`old new ref`
/// lines), with git's trace in `trace`.
fn pre_receive(repo: &Repo, input: &str, trace: &std::path::Path) -> Out {
    let stdin = repo.dir.join(".pre-receive-input");
    std::fs::write(&stdin, input).expect("input");
    let out = crate::repo::isolated(crate::repo::KEYWARD, &repo.home)
        .arg("pre-receive")
        .env("GIT_TRACE", trace)
        .current_dir(&repo.dir)
        .stdin(std::fs::File::open(&stdin).expect("input"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    std::fs::remove_file(&stdin).expect("remove");
    Out(out)
}

/// A push whose objects cannot be read — one damaged, one missing — is rejected with one
/// line naming the object; the listing does not fall back to git's plumbing, which could
/// list less.
#[test]
fn a_push_with_a_damaged_or_missing_object_fails_closed_naming_it() {
    for damage in ["damaged", "missing"] {
        let repo = Repo::new();
        let base = first_commit(&repo);
        repo.write("app.py", "x = 1\n");
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
        let new = repo.head().expect("new");
        let tree = repo.git(&["rev-parse", "HEAD^{tree}"]).stdout_text();
        let tree = tree.trim();
        let object = repo
            .git_dir()
            .join("objects")
            .join(&tree[..2])
            .join(&tree[2..]);
        match damage {
            // Loose objects are read-only: replaced, not written over.
            "damaged" => {
                std::fs::remove_file(&object).expect("remove");
                std::fs::write(&object, b"not zlib at all").expect("damage");
            }
            _ => std::fs::remove_file(&object).expect("remove"),
        }
        // The branch is where the server had it; the push moves it to `new`.
        repo.git(&["update-ref", "refs/heads/main", &base])
            .assert_ok();
        let trace = repo.dir.join(".trace");
        let out = pre_receive(&repo, &format!("{base} {new} refs/heads/main\n"), &trace);
        assert_eq!(out.code(), Some(2), "{damage}: {}", out.all());
        let stderr = String::from_utf8_lossy(&out.0.stderr).into_owned();
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("keyward: error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{damage}: {stderr}");
        assert!(errors[0].contains(tree), "{damage}: {stderr}");
        assert!(stderr.contains("push is rejected"), "{damage}: {stderr}");
        let git_ran = std::fs::read_to_string(&trace).unwrap_or_default();
        assert!(
            !git_ran.contains("rev-list"),
            "{damage}: fell back:\n{git_ran}"
        );
    }
}

/// `git commit` in `repo` authored and committed at `date` (seconds), without the hook.
fn commit_at(repo: &Repo, message: &str, date: i64) {
    let stamp = format!("@{date} +0000");
    let out = crate::repo::isolated("git", &repo.home)
        .args([
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "-m",
            message,
        ])
        .env("GIT_AUTHOR_DATE", &stamp)
        .env("GIT_COMMITTER_DATE", &stamp)
        .current_dir(&repo.dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    Out(out).assert_ok();
}

/// With a commit-graph, git lists exactly the commits no ref reaches; without one, its
/// date-ordered walk also lists, under clock skew, commits the server has. keyward lists what
/// `git rev-list` lists on that server: a key the server already had, in a commit git does
/// not list, does not reject a clean push.
#[test]
fn a_server_with_a_commit_graph_is_listed_as_git_lists_it() {
    let server = Server::new("");
    let repo = &server.repo;
    let key = keys::github();
    // The server's history, pushed before keyward guarded it: a key in P, then a long line of
    // commits whose clocks run behind P's.
    server.unguarded(|| {
        repo.write("README.md", "hello\n");
        repo.git(&["add", "."]).assert_ok();
        commit_at(repo, "R", 1_000_000);
        repo.write("old.py", format!("TOKEN = \"{}\"\n", key.value));
        repo.git(&["add", "."]).assert_ok();
        commit_at(repo, "P", 5_000_000);
        for i in 0..8 {
            commit_at(repo, &format!("Y{i}"), 500_000 - 50_000 * i);
        }
        repo.git(&["push", "-q", "origin", "main"]).assert_ok();
    });
    let graph = crate::repo::isolated("git", &repo.home)
        .arg("--git-dir")
        .arg(&server.bare)
        .args(["commit-graph", "write", "--reachable"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    Out(graph).assert_ok();
    // A new branch from P, whose one commit changes nothing with a key.
    repo.git(&["checkout", "-q", "-b", "topic", "main~8"])
        .assert_ok();
    repo.write("README.md", "hello again\n");
    repo.git(&["add", "."]).assert_ok();
    commit_at(repo, "N", 6_000_000);
    let push = server.push("topic");
    push.assert_ok();
    assert_eq!(server.remote("refs/heads/topic"), repo.head());
    server.assert_listed_by_git();
}

/// A text file of about `size` bytes whose last line holds `key`.
fn padded_with_key(size: usize, key: &str) -> String {
    let mut text = String::with_capacity(size + 100);
    let mut n = 0;
    while text.len() < size {
        text.push_str(&format!("filler line {n} of a generated data file\n"));
        n += 1;
    }
    text.push_str(&format!("TOKEN = \"{key}\"\n"));
    text
}

/// The server never lets a file through unscanned because it is large: one past the size cap,
/// with a key at its end, is scanned in windows and refused — read as loose objects, from the
/// pushed pack, and through git's plumbing.
#[test]
fn a_push_of_a_file_over_the_size_cap_is_scanned_not_waved_through() {
    let cases = [
        // The default cap (64 MiB), the push unpacked into loose objects.
        ("", 65 << 20, None, None),
        // A lowered cap: the pushed pack, then git's plumbing.
        ("", 3 << 20, Some("1m"), Some("1")),
        ("KEYWARD_GIT_BACKEND=cli", 3 << 20, Some("1m"), Some("1")),
    ];
    for (env, size, cap, unpack_limit) in cases {
        let server = Server::new(env);
        if let Some(cap) = cap {
            server.config("keyward.maxFileSize", cap);
        }
        if let Some(limit) = unpack_limit {
            server.config("receive.unpackLimit", limit);
        }
        let accepted = server.accept_first_push();
        let repo = &server.repo;
        let key = keys::github();
        repo.write("data/big.txt", padded_with_key(size, &key.value));
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
        let push = server.push("main");
        assert_refused(&push, &server, "refs/heads/main", accepted.as_deref());
        assert!(
            push.all().contains("data/big.txt"),
            "{env} {size}: {}",
            push.all()
        );
        assert!(!push.all().contains("not scanned"), "{}", push.all());
        assert_no_leak(&push.all(), &key);
    }
}

/// `scan --range` and `scan --history` scan a file past the size cap in windows too.
#[test]
fn ranges_and_history_scan_a_file_over_the_size_cap() {
    let repo = Repo::new();
    let base = first_commit(&repo);
    let key = keys::github();
    repo.write("data/big.txt", padded_with_key(3 << 20, &key.value));
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let range = format!("{base}..HEAD");
    for (packed, args) in [
        (
            false,
            &["scan", "--max-file-size", "1m", "--range", &range][..],
        ),
        (true, &["scan", "--max-file-size", "1m", "--history"]),
    ] {
        if packed {
            repo.git(&["gc", "-q"]).assert_ok();
        }
        let out = repo.keyward(args);
        assert_eq!(out.code(), Some(1), "{args:?}: {}", out.all());
        assert!(out.all().contains("data/big.txt"), "{}", out.all());
        assert!(!out.all().contains("not scanned"), "{}", out.all());
        assert_no_leak(&out.all(), &key);
    }
}

/// Rewrites the cache-tree (`TREE` extension) of `repo`'s index (version 2, as `git
/// read-tree` writes it): the root invalid, holding one node, `dir` naming `tree` as valid
/// with `count` entries. The entries stay as they are, and so do they for git: it records a
/// valid node's tree as it is.
fn craft_cache_tree(repo: &Repo, dir: &str, tree: &str, count: usize) {
    let path = repo.git_dir().join("index");
    let index = std::fs::read(&path).expect("index");
    assert_eq!(&index[..4], b"DIRC");
    assert_eq!(u32::from_be_bytes(index[4..8].try_into().expect("4")), 2);
    let entries = u32::from_be_bytes(index[8..12].try_into().expect("4")) as usize;
    let mut at = 12;
    for _ in 0..entries {
        let name = index[at + 62..].iter().position(|&b| b == 0).expect("name");
        at += (62 + name + 8) / 8 * 8;
    }
    let end = index.len() - 20;
    let mut out = index[..at].to_vec();
    // Extensions other than TREE are kept.
    while at < end {
        let len = u32::from_be_bytes(index[at + 4..at + 8].try_into().expect("4")) as usize;
        if &index[at..at + 4] != b"TREE" {
            out.extend_from_slice(&index[at..at + 8 + len]);
        }
        at += 8 + len;
    }
    let mut node = b"\0-1 1\n".to_vec();
    node.extend_from_slice(format!("{dir}\0{count} 0\n").as_bytes());
    let id = gix::ObjectId::from_hex(tree.as_bytes()).expect("tree id");
    node.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"TREE");
    out.extend_from_slice(&(node.len() as u32).to_be_bytes());
    out.extend_from_slice(&node);
    let mut hasher = gix::hash::hasher(gix::hash::Kind::Sha1);
    hasher.update(&out);
    out.extend_from_slice(hasher.try_finalize().expect("sha1").as_bytes());
    std::fs::write(&path, out).expect("index");
}

/// A tree object of `entries` (`mode`, blob id, name).
fn make_tree(repo: &Repo, entries: &[(&str, &str, &str)]) -> String {
    let input: String = entries
        .iter()
        .map(|(mode, id, name)| format!("{mode} blob {id}\t{name}\n"))
        .collect();
    let listing = repo.dir.join(".mktree");
    std::fs::write(&listing, input).expect("listing");
    let out = crate::repo::isolated("git", &repo.home)
        .arg("mktree")
        .current_dir(&repo.dir)
        .stdin(std::fs::File::open(&listing).expect("listing"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait();
    std::fs::remove_file(&listing).expect("remove");
    let out = Out(out);
    out.assert_ok();
    out.stdout_text().trim().to_owned()
}

/// The paths of the files `rev`'s tree holds.
fn files_at(repo: &Repo, rev: &str) -> Vec<String> {
    let out = repo.git(&["ls-tree", "-r", "--name-only", rev]);
    out.assert_ok();
    out.stdout_text().lines().map(str::to_owned).collect()
}

/// The cache-tree is trusted as git trusts it: a valid node names the tree `git commit`
/// records there, whatever the entries say. A node naming a tree other than HEAD's — over a
/// directory HEAD has, over a new one, in a first commit — is judged as that tree; a plain
/// `git commit` without the hook shows the key would have landed.
#[test]
fn a_valid_cache_tree_node_is_judged_as_the_tree_git_records() {
    for case in ["changed directory", "new directory", "first commit"] {
        let repo = Repo::new();
        let key = keys::github();
        let a = write_blob(&repo, "x = 1\n");
        let secret = write_blob(&repo, &format!("TOKEN = \"{}\"\n", key.value));
        if case != "first commit" {
            repo.write("README.md", "hello\n");
            if case == "changed directory" {
                repo.write("d/a.txt", "x = 1\n");
            }
            repo.git(&["add", "."]).assert_ok();
            repo.commit_unchecked(&[]);
        }
        let before = repo.head();
        // Something to commit, so that git does not stop at "nothing to commit".
        repo.write("README.md", "hello again\n");
        repo.git(&["add", "README.md"]).assert_ok();
        // The index holds `d/a.txt` as HEAD does (or as a new file); the cache-tree says `d`
        // is a tree that also holds the key.
        repo.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{a},d/a.txt"),
        ])
        .assert_ok();
        let crafted = make_tree(
            &repo,
            &[("100644", &a, "a.txt"), ("100644", &secret, "secret.txt")],
        );
        craft_cache_tree(&repo, "d", &crafted, 1);
        let commit = repo.commit(&[]);
        commit.assert_blocked();
        assert_eq!(repo.head(), before, "{case}");
        assert!(
            commit.out.all().contains("d/secret.txt"),
            "{case}: {}",
            commit.out.all()
        );
        assert_no_leak(&commit.out.all(), &key);
        // What git records without the hook: the cached tree, key and all.
        repo.commit_unchecked(&[]);
        assert!(
            files_at(&repo, "HEAD").contains(&"d/secret.txt".to_owned()),
            "{case}: {:?}",
            files_at(&repo, "HEAD")
        );
    }
}

/// What `git commit ARGS` made HEAD gain, and what keyward's hook judged (`KEYWARD_AUDIT`),
/// as sets of (path, blob): HEAD gains a blob at a path where the first parent had another
/// one, or none, or had it as a link and now as a file (or back).
fn commit_and_compare(repo: &Repo, args: &[&str]) {
    let before = repo.head();
    let (out, audit) = audited_commit(repo, args);
    out.assert_ok();
    assert_ne!(repo.head(), before, "{args:?}: nothing committed");
    let judged = judged(&audit.expect("the hook's audit"));
    assert_eq!(gained(repo, "HEAD"), judged, "{args:?}");
}

/// `git commit -m audited ARGS` with the hook told to write what it judged
/// (`KEYWARD_AUDIT`): what git printed, and the audit, unless the hook did not run.
pub(crate) fn audited_commit(repo: &Repo, args: &[&str]) -> (Out, Option<String>) {
    let audit = repo.dir.join(".git/keyward-audit");
    let _ = std::fs::remove_file(&audit);
    let mut all = vec!["commit", "-q", "-m", "audited"];
    all.extend_from_slice(args);
    let out = Out(crate::repo::isolated("git", &repo.home)
        .args(&all)
        .env("KEYWARD_AUDIT", &audit)
        .current_dir(&repo.dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn_and_wait());
    (out, std::fs::read_to_string(&audit).ok())
}

/// (path, blob) of the files and links an audit lists.
pub(crate) fn judged(audit: &str) -> std::collections::BTreeSet<(String, String)> {
    audit
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            matches!(f[1], "file" | "symlink").then(|| (f[3].to_owned(), f[0].to_owned()))
        })
        .collect()
}

/// (path, blob) of what commit `rev` brought relative to its first parent (everything, for a
/// root commit), as `git diff-tree` lists it: files and links, not submodules.
pub(crate) fn gained(repo: &Repo, rev: &str) -> std::collections::BTreeSet<(String, String)> {
    let parents = repo
        .git(&["rev-list", "--parents", "-n", "1", rev])
        .stdout_text();
    let first = parents.split_whitespace().nth(1).map(str::to_owned);
    let mut args = vec!["diff-tree", "-r", "-z", "--no-renames", "--no-abbrev"];
    let spec;
    match &first {
        Some(parent) => {
            spec = [parent.clone(), rev.to_owned()];
            args.extend([spec[0].as_str(), spec[1].as_str()]);
        }
        None => args.extend(["--root", rev]),
    }
    let out = repo.git(&args);
    out.assert_ok();
    let raw = out.0.stdout;
    let mut fields = raw.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut set = std::collections::BTreeSet::new();
    while let Some(meta) = fields.next() {
        let meta = String::from_utf8_lossy(meta);
        if !meta.starts_with(':') {
            continue; // the commit id --root prints
        }
        let path = fields.next().expect("a path");
        let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let (old_mode, new_mode, old, new) = (f[0], f[1], f[2], f[3]);
        let content = |m: &str| m.starts_with("100") || m == "120000";
        let link_changed = (old_mode == "120000") != (new_mode == "120000");
        if content(new_mode) && (old != new || (content(old_mode) && link_changed)) {
            set.insert((keyward::redact::escape(path), new.to_owned()));
        }
    }
    set
}

/// For `git commit`, `-a`, `--only`, `-- path`, a first commit and a merge, the files and
/// links HEAD gains are exactly those the hook judged: no more (nothing judged that is not
/// recorded) and no less.
#[test]
fn the_hook_judges_exactly_what_each_kind_of_commit_records() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.write("dir/b.txt", "b\n");
    repo.write("dir/sub/c.txt", "c\n");
    repo.write("gone.txt", "gone\n");
    repo.git(&["add", "."]).assert_ok();
    commit_and_compare(&repo, &[]);
    // Plain: an edit, a new file, a link, a deletion, a mode change.
    repo.write("a.txt", "a2\n");
    repo.write("dir/new.txt", "new\n");
    stage(&repo, "120000", "dir/link", "a.txt");
    repo.git(&["rm", "-q", "gone.txt"]).assert_ok();
    repo.git(&["update-index", "--chmod=+x", "dir/b.txt"])
        .assert_ok();
    repo.git(&["add", "a.txt", "dir/new.txt"]).assert_ok();
    commit_and_compare(&repo, &[]);
    // -a: what the work tree holds for tracked files, not what is staged.
    repo.write("a.txt", "a3 staged\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    repo.write("a.txt", "a3 in the work tree\n");
    repo.write("dir/sub/c.txt", "c2\n");
    repo.write("untracked.txt", "not committed\n");
    commit_and_compare(&repo, &["-a"]);
    // --only and -- path: those paths as in the work tree, the rest of the index left out.
    repo.write("dir/b.txt", "b2 staged\n");
    repo.git(&["add", "dir/b.txt"]).assert_ok();
    repo.write("dir/sub/c.txt", "c3\n");
    commit_and_compare(&repo, &["--only", "dir/sub/c.txt"]);
    repo.write("a.txt", "a4\n");
    commit_and_compare(&repo, &["--", "a.txt"]);
    commit_and_compare(&repo, &[]); // dir/b.txt, still staged
                                    // A merge: what the merged branch brings, and a conflict resolved by hand.
    repo.git(&["checkout", "-q", "-b", "side"]).assert_ok();
    repo.write("side.txt", "side\n");
    repo.write("a.txt", "a side\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    repo.git(&["checkout", "-q", "main"]).assert_ok();
    repo.write("a.txt", "a main\n");
    repo.write("main.txt", "main\n");
    repo.git(&["add", "."]).assert_ok();
    repo.commit_unchecked(&[]);
    let merge = repo.git(&["merge", "-q", "--no-commit", "side"]);
    assert!(!merge.0.status.success(), "a conflict was expected");
    repo.write("a.txt", "a resolved\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    commit_and_compare(&repo, &[]);
    assert!(repo
        .git(&["rev-parse", "-q", "--verify", "HEAD^2"])
        .0
        .status
        .success());
}
