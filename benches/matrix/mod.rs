//! The hook bench's matrix: one typical commit (5 modified files in 5 directories, 1 new file in
//! a sixth) in repositories of every shape a real one may have, so that what the hook costs is
//! seen to follow the change and not the repository.
//!
//! - 100,000 files at 5, 16 and 90 files per directory (20,000, 6,250 and 1,112 leaf
//!   directories under `src/mNNN/dNNN/`: large Java and JavaScript trees, the Linux kernel,
//!   generated code), each with its index in version 2 and in version 4;
//! - 1,000,000 files at 16 per directory (version 2), when `KW_BENCH_MILLION=1` (generating it
//!   takes a few minutes and about 1 GB of disk): `KW_BENCH_MILLION=1 KW_BENCH_DIR=/tmp/kwbench
//!   cargo bench --bench hook`.
//!
//! Each repository is one `git fast-import` commit; its index is made by `git read-tree`
//! (no checkout: the hook and `git diff --cached` read the index and the objects only), the
//! commit staged with `git update-index --cacheinfo`, and the cache-tree brought up to date
//! with `git write-tree`, as `git commit` leaves it before running the hook. With
//! `KW_BENCH_CALLGRIND=1` (and valgrind installed) the bench also counts both commands'
//! instructions, keyward on one thread (`KEYWARD_THREADS=1`).

use crate::support::{compare, instructions, Env, Job, Result};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Bump when the shapes change, so that a kept `KW_BENCH_DIR` is regenerated.
const MATRIX_VERSION: &str = "keyward-bench matrix v1";

/// One shape: files, files per directory, and the index versions measured.
pub struct Shape {
    files: usize,
    per_dir: usize,
    versions: &'static [u32],
    /// Largest ratio to git that meets the target.
    target: f64,
}

/// The shapes measured: the 1M-file one only when asked for.
pub fn shapes() -> Vec<Shape> {
    let mut shapes = vec![
        Shape {
            files: 100_000,
            per_dir: 5,
            versions: &[2, 4],
            target: 0.5,
        },
        Shape {
            files: 100_000,
            per_dir: 16,
            versions: &[2, 4],
            target: 0.5,
        },
        Shape {
            files: 100_000,
            per_dir: 90,
            versions: &[2, 4],
            target: 0.5,
        },
    ];
    if std::env::var_os("KW_BENCH_MILLION").is_some_and(|v| v == "1") {
        shapes.push(Shape {
            files: 1_000_000,
            per_dir: 16,
            versions: &[2],
            target: 0.25,
        });
    }
    shapes
}

/// One measured case of the matrix.
pub struct Measured {
    pub name: String,
    pub index: String,
    pub keyward: crate::support::Stats,
    pub git: crate::support::Stats,
    pub target: f64,
    /// Instructions of keyward and of git, when counted.
    pub instructions: Option<(u64, u64)>,
}

impl Shape {
    fn name(&self) -> String {
        let files = if self.files >= 1_000_000 {
            format!("{}M", self.files / 1_000_000)
        } else {
            format!("{}k", self.files / 1000)
        };
        format!("{files} files, {}/dir", self.per_dir)
    }

    fn dir(&self, root: &Path) -> PathBuf {
        root.join(format!("matrix-{}-{}", self.files, self.per_dir))
    }

    /// Where file `i` is: `src/mNNN/dNNN/fNN_i.rs`, `per_dir` files a directory, the leaf
    /// directories spread over about as many parents as each parent has leaves.
    fn path(&self, i: usize) -> String {
        let leaves = self.files.div_ceil(self.per_dir);
        let fanout = leaves.isqrt().max(1);
        let leaf = i / self.per_dir;
        format!(
            "src/m{:03}/d{:03}/f{:02}_{i}.rs",
            leaf / fanout,
            leaf % fanout,
            i % self.per_dir
        )
    }
}

/// A small file's content: a few lines that name it (no keyword of any rule).
fn content(i: usize, extra: bool) -> String {
    let mut out = String::new();
    for _ in 0..1 + i % 4 {
        out.push_str(&format!(
            "pub fn item_{i}() -> usize {{ {i} }} // value of the item\n"
        ));
    }
    if extra {
        out.push_str("// reviewed: the count is the item's own\n");
    }
    out
}

/// Generates the shape's repository (unless a kept one is current), with one saved index per
/// version: `.git/kw-bench-index-v2`, `.git/kw-bench-index-v4`.
fn prepare(env: &Env, root: &Path, shape: &Shape) -> Result<PathBuf> {
    let dir = shape.dir(root);
    let marker = dir.join(".git/kw-bench-matrix-ready");
    if fs::read_to_string(&marker).is_ok_and(|m| m == MATRIX_VERSION) {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    eprintln!("generating {} in {}", shape.name(), dir.display());
    fs::create_dir_all(&dir)?;
    env.git(&dir, &["init", "-q", "."])?;
    let mut child = env
        .command("git", &dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().ok_or("fast-import has no stdin")?;
    let written = (|| -> std::io::Result<()> {
        let mut w = BufWriter::with_capacity(1 << 20, stdin);
        let author = "keyward bench <bench@example.invalid> 1700000000 +0000";
        write!(
            w,
            "commit refs/heads/main\nauthor {author}\ncommitter {author}\ndata 5\nshape\n"
        )?;
        for i in 0..shape.files {
            let data = content(i, false);
            write!(
                w,
                "M 100644 inline {}\ndata {}\n{data}\n",
                shape.path(i),
                data.len()
            )?;
        }
        w.write_all(b"\n")?;
        w.flush()
    })();
    let status = child.wait()?;
    written?;
    if !status.success() {
        return Err(format!("git fast-import: {status}").into());
    }
    env.git(&dir, &["read-tree", "main"])?;
    // The typical commit: 5 files modified in 5 directories, 1 new file in a sixth.
    let picks: Vec<usize> = (0..6).map(|k| shape.files * k / 6 + 3).collect();
    let mut staged = Vec::new();
    for &i in &picks[..5] {
        staged.push((shape.path(i), content(i, true)));
    }
    let new_dir = shape.path(picks[5]);
    let new_dir = new_dir.rsplit_once('/').map_or("", |(d, _)| d);
    staged.push((
        format!("{new_dir}/retry_policy.rs"),
        content(7, true).repeat(20),
    ));
    for (path, data) in staged {
        let tmp = dir.join(".git/kw-bench-blob");
        fs::write(&tmp, data)?;
        let tmp = tmp.to_string_lossy().into_owned();
        let id = env.git(&dir, &["hash-object", "-w", &tmp])?;
        let info = format!("100644,{},{path}", id.trim());
        env.git(&dir, &["update-index", "--add", "--cacheinfo", &info])?;
    }
    let git_dir = dir.join(".git");
    for version in shape.versions {
        env.git(
            &dir,
            &["update-index", "--index-version", &version.to_string()],
        )?;
        env.git(&dir, &["write-tree"])?;
        fs::copy(
            git_dir.join("index"),
            git_dir.join(format!("kw-bench-index-v{version}")),
        )?;
    }
    fs::write(&marker, MATRIX_VERSION)?;
    Ok(dir)
}

/// Measures the typical commit in every shape and index version.
pub fn run(env: &Env, root: &Path, keyward: &Path, runs: usize) -> Result<Vec<Measured>> {
    let count = std::env::var_os("KW_BENCH_CALLGRIND").is_some_and(|v| v == "1");
    let mut out = Vec::new();
    for shape in shapes() {
        let dir = prepare(env, root, &shape)?;
        for version in shape.versions {
            let index = dir.join(".git/index");
            fs::copy(dir.join(format!(".git/kw-bench-index-v{version}")), &index)?;
            let size = fs::metadata(&index)?.len();
            let hook = Job::new(env, &dir, keyward, &["hook"]);
            let names = Job::new(env, &dir, "git", &["diff", "--cached", "--name-only"]);
            let (kw, git) = compare(runs, &hook, &names)?;
            let instructions = if count {
                let one = [("KEYWARD_THREADS", "1")];
                instructions(&hook, &one)?.zip(instructions(&names, &[])?)
            } else {
                None
            };
            out.push(Measured {
                name: format!("{}, v{version}", shape.name()),
                index: format!("{:.1} MB", size as f64 / 1e6),
                keyward: kw,
                git,
                target: shape.target,
                instructions,
            });
        }
    }
    Ok(out)
}
