//! keyward installed the ways a team installs it without a Rust toolchain — the wheel, the
//! pre-commit framework installing that wheel, the npm package, the GitHub Action's script —
//! each then blocking a staged key through a real `git commit`.
//!
//! A test binary of its own: maturin builds the wheel with cargo from this checkout, reusing
//! `target/debug` (a few seconds, where a separate target directory would compile everything
//! again). cargo runs test binaries one after another, so no test of the other binary runs
//! keyward while that build could touch it; here, the tests take [`SERIAL`]. A test whose
//! tools (python3 with venv, npm) are missing says so and passes; with them, it needs the
//! package registries (maturin, pre-commit, husky, setuptools).

#[allow(dead_code)]
#[path = "../integration/keys.rs"]
mod keys;
#[allow(dead_code)]
#[path = "../integration/machine.rs"]
mod machine;
mod release;
#[allow(dead_code)]
#[path = "../integration/repo.rs"]
mod repo;

use machine::{path_without, py_tools, skip, wheel_dir, which, Dev, HUSKY};
use repo::{isolated, output, write_executable, Out, Repo, Run, KEYWARD};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

/// One packaging test at a time (see the module's documentation).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// `PATH` with neither keyward nor a Rust toolchain on it.
fn no_toolchain() -> String {
    path_without(&["cargo", "rustc", "rustup"])
}

/// A fresh machine ([`Dev::new`]) whose `PATH` holds no Rust toolchain.
fn dev_without_toolchain() -> Dev {
    Dev {
        path: no_toolchain(),
        ..Dev::new()
    }
}

fn ok(out: std::io::Result<std::process::Output>, what: &str) -> Out {
    let out = Out(out.expect(what));
    assert!(out.0.status.success(), "{what}: {}", out.all());
    out
}

/// A fresh virtualenv with the wheel installed from `wheels` (no index, no toolchain); its
/// `keyward`.
fn pip_install(wheels: &Path, into: &Path) -> PathBuf {
    let python = py_tools().expect("python").join("bin/python3");
    let started = Instant::now();
    ok(
        output(
            Command::new(&python)
                .args(["-m", "venv"])
                .arg(into)
                .env("PATH", no_toolchain()),
        ),
        "python3 -m venv",
    );
    ok(
        output(
            Command::new(into.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-index",
                    "--find-links",
                ])
                .arg(wheels)
                .arg("keyward-hook")
                .env("PATH", no_toolchain()),
        ),
        "pip install keyward-hook",
    );
    eprintln!(
        "venv + pip install of the wheel: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    into.join("bin/keyward")
}

#[test]
fn the_wheel_installs_without_a_toolchain_and_blocks_a_key() {
    let _one = serial();
    let started = Instant::now();
    let Some(wheels) = wheel_dir() else { return };
    eprintln!("maturin build: {:.1} s", started.elapsed().as_secs_f64());
    let dev = dev_without_toolchain();
    let venv = dev.home.join("venv");
    let keyward = pip_install(&wheels, &venv);
    let version = ok(
        output(Command::new(&keyward).arg("--version")),
        "keyward --version",
    );
    assert!(
        version
            .stdout_text()
            .starts_with(&format!("keyward {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        version.all()
    );
    // The venv is not activated: nothing of it is on PATH.
    let out = dev.run(&keyward, &["install"]);
    out.assert_ok();
    assert_eq!(dev.run(&keyward, &["status"]).code(), Some(0));
    let report = dev.assert_key_blocked(&[]);
    // The printed command names the venv's keyward and runs as printed.
    let allow = report
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" allow ") && l.contains("--reason"))
        .expect("an allow command")
        .to_owned();
    assert!(allow.starts_with("~/venv/bin/keyward allow "), "{allow}");
    dev.run("sh", &["-c", &allow]).assert_ok();
}

/// The team's own pre-commit framework configuration.
const TEAM_CONFIG: &str = "repos:\n  - repo: local\n    hooks:\n      - id: team-check\n        name: team check\n        entry: \"true\"\n        language: system\n        pass_filenames: false\n";

/// A repository with the team's own pre-commit framework configuration, committed.
fn framework_repo(tools: &Path) -> (Dev, PathBuf) {
    let dev = dev_without_toolchain();
    dev.write(".pre-commit-config.yaml", TEAM_CONFIG);
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    dev.git(&["commit", "-q", "--no-verify", "-m", "hooks"])
        .assert_ok();
    (dev, tools.join("bin/pre-commit"))
}

/// The environment a commit through the framework needs: its cache in the test's home, and
/// the wheel where pip looks besides the index (until keyward-hook is published there).
fn framework_env(dev: &Dev, wheels: &Path) -> Vec<(String, String)> {
    vec![
        (
            "PRE_COMMIT_HOME".into(),
            dev.home.join("pre-commit").to_string_lossy().into_owned(),
        ),
        (
            "PIP_FIND_LINKS".into(),
            wheels.to_string_lossy().into_owned(),
        ),
    ]
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The wheel route (the README's setup script: a private virtualenv linked into
/// `~/.local/bin`), then the framework: its entry runs that keyward.
#[test]
fn pre_commit_framework_first_then_keyward_runs_the_wheel_s_keyward_through_its_config() {
    let _one = serial();
    let Some(wheels) = wheel_dir() else { return };
    let tools = py_tools().expect("tools");
    let (dev, pre_commit) = framework_repo(&tools);
    let venv = dev.home.join(".local/share/keyward");
    let keyward = pip_install(&wheels, &venv);
    std::fs::create_dir_all(dev.home.join(".local/bin")).expect("mkdir");
    repo::link_file(&keyward, &dev.local_bin());
    let env = framework_env(&dev, &wheels);
    let mut install = dev.cmd(&pre_commit, &["install"]);
    install.envs(env.iter().map(|(k, v)| (k, v)));
    ok(output(&mut install), "pre-commit install");
    let status = dev.status(1);
    assert!(
        status.contains("git runs the pre-commit framework")
            && status.contains(".pre-commit-config.yaml does not run keyward"),
        "{status}"
    );
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text().contains(
            "added keyward to .pre-commit-config.yaml (a tracked file: commit the change"
        ),
        "{}",
        out.all()
    );
    // The framework has no commit-msg hook here: keyward's own checks messages meanwhile.
    assert!(
        out.stdout_text().contains(
            "installed .git/hooks/commit-msg (until the pre-commit framework installs its commit-msg hook)"
        ),
        "{}",
        out.all()
    );
    dev.status(0);
    // The framework refuses to run with its configuration unstaged: the team commits it.
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    let started = Instant::now();
    dev.assert_key_blocked(&pairs(&env));
    eprintln!(
        "first commit through the framework (it builds keyward's environment from the wheel): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    dev.assert_message_blocked(&pairs(&env));
    dev.stage_clean("a.txt");
    dev.commit_env(&pairs(&env)).assert_passed();

    // Another clone, as a teammate sets it up: a plain `pre-commit install` now installs the
    // commit-msg hook too (default_install_hook_types), and the framework runs keyward's check.
    std::fs::remove_file(dev.repo.git_dir().join("hooks/commit-msg")).expect("rm");
    let status = dev.status(1);
    assert!(
        status
            .contains("the pre-commit framework's commit-msg hook is not installed in this clone"),
        "{status}"
    );
    let mut install = dev.cmd(&pre_commit, &["install"]);
    install.envs(env.iter().map(|(k, v)| (k, v)));
    ok(output(&mut install), "pre-commit install");
    let status = dev.status(0);
    assert!(
        status.contains("commit messages: git runs the pre-commit framework (.git/hooks/commit-msg), and .pre-commit-config.yaml runs keyward"),
        "{status}"
    );
    dev.assert_message_blocked(&pairs(&env));
    dev.stage_clean("b.txt");
    dev.commit_env(&pairs(&env)).assert_passed();
    // Uninstall gives the team's configuration back byte for byte.
    dev.keyward(&["uninstall"]).assert_ok();
    assert_eq!(
        std::fs::read_to_string(dev.dir().join(".pre-commit-config.yaml")).expect("read"),
        TEAM_CONFIG
    );
}

#[test]
fn keyward_first_then_pre_commit_framework_runs_it_from_its_config() {
    let _one = serial();
    let Some(wheels) = wheel_dir() else { return };
    let tools = py_tools().expect("tools");
    let (dev, pre_commit) = framework_repo(&tools);
    let dev = dev.with_local_bin();
    let env = framework_env(&dev, &wheels);
    // No framework hook yet: keyward installs its own (the framework will keep it).
    // The configuration is here, the framework's hook not yet: keyward goes into the
    // configuration, and its own scripts run meanwhile.
    dev.keyward(&["install"]).assert_ok();
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    let mut install = dev.cmd(&pre_commit, &["install"]);
    install.envs(env.iter().map(|(k, v)| (k, v)));
    ok(output(&mut install), "pre-commit install");
    dev.status(0);
    dev.assert_key_blocked(&pairs(&env));
    dev.assert_message_blocked(&pairs(&env));
    // Installing again takes keyward's scripts, now the framework's `.legacy` hooks, out of
    // the way.
    let out = dev.keyward(&["install"]);
    assert!(
        out.stdout_text()
            .contains("removed keyward's unused earlier hook"),
        "{}",
        out.all()
    );
    dev.git(&["add", ".pre-commit-config.yaml"]).assert_ok();
    let status = dev.status(0);
    assert!(
        status.contains(".pre-commit-config.yaml runs keyward"),
        "{status}"
    );
    dev.assert_key_blocked(&pairs(&env));
    dev.assert_message_blocked(&pairs(&env));
    // The framework installed its commit-msg hook too (keyward's `default_install_hook_types`):
    // no script of keyward's is left beside either hook.
    let status = dev.status(0);
    assert!(
        status.contains(
            "commit messages: git runs the pre-commit framework (.git/hooks/commit-msg), and .pre-commit-config.yaml runs keyward"
        ),
        "{status}"
    );
    for legacy in ["hooks/pre-commit.legacy", "hooks/commit-msg.legacy"] {
        assert!(!dev.repo.git_dir().join(legacy).exists(), "{legacy}");
    }
    dev.assert_message_blocked(&pairs(&env));
}

/// A copy of the binary under test without its debug information (17 MB instead of 100: npm
/// compresses it in a few seconds), when `strip` is there.
fn small_binary(dir: &Path) -> PathBuf {
    let copy = dir.join("keyward");
    write_executable(&copy, &std::fs::read(KEYWARD).expect("read"), 0o755);
    if which("strip").is_some() {
        ok(output(Command::new("strip").arg(&copy)), "strip");
    }
    copy
}

#[test]
fn the_npm_package_blocks_a_key_through_husky_without_a_toolchain() {
    let _one = serial();
    let Some(npm) = which("npm") else {
        skip("npm is not installed");
        return;
    };
    let started = Instant::now();
    let dev = dev_without_toolchain();
    let packs = dev.home.join("packs");
    std::fs::create_dir_all(&packs).expect("mkdir");
    let binary = small_binary(&packs);
    let npm_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("npm");
    let platform = packs.join("platform");
    ok(
        output(
            Command::new("node")
                .arg(npm_dir.join("make-platform-package.js"))
                .args(["linux", "x64"])
                .arg(&binary)
                .arg(&platform),
        ),
        "make-platform-package.js",
    );
    for dir in [platform.as_path(), &npm_dir.join("keyward")] {
        ok(
            output(
                Command::new(&npm)
                    .args(["pack", "--quiet", "--pack-destination"])
                    .arg(&packs)
                    .arg(dir)
                    .env("HOME", &dev.home),
            ),
            "npm pack",
        );
    }
    let version = env!("CARGO_PKG_VERSION");
    let main = packs.join(format!("keyward-{version}.tgz"));
    let plat = packs.join(format!("keyward-linux-x64-{version}.tgz"));
    eprintln!(
        "npm packages made: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    dev.write(
        "package.json",
        "{\n  \"name\": \"app\",\n  \"private\": true\n}\n",
    );
    dev.write(".gitignore", "node_modules\n");
    let installing = Instant::now();
    let out = dev.run(
        &npm,
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--save-dev",
            &plat.to_string_lossy(),
            &main.to_string_lossy(),
            HUSKY,
        ],
    );
    assert!(out.0.status.success(), "npm install: {}", out.all());
    eprintln!("npm install: {:.1} s", installing.elapsed().as_secs_f64());
    // The postinstall put the native binary in place of the node launcher.
    let bin = dev.dir().join("node_modules/keyward/bin/keyward");
    let head = std::fs::read(&bin).expect("bin");
    assert_eq!(
        &head[..4],
        b"\x7fELF",
        "bin/keyward is still the node launcher"
    );
    // The launcher works too (scripts disabled, Windows).
    let launched = dev.run("node", &["node_modules/keyward/run.js", "--version"]);
    assert!(
        launched.stdout_text().starts_with("keyward "),
        "{}",
        launched.all()
    );

    dev.run(dev.dir().join("node_modules/.bin/husky"), &["init"])
        .assert_ok();
    dev.write(".husky/pre-commit", "echo team checks ran\n");
    let out = dev.run(dev.dir().join("node_modules/.bin/keyward"), &["install"]);
    assert!(
        out.stdout_text()
            .contains("added keyward to .husky/pre-commit"),
        "{}",
        out.all()
    );
    let status = dev.run(dev.dir().join("node_modules/.bin/keyward"), &["status"]);
    assert_eq!(status.code(), Some(0), "{}", status.all());
    assert!(
        status.all().contains("node_modules/.bin/keyward"),
        "{}",
        status.all()
    );
    dev.assert_key_blocked(&[]);
    dev.stage_clean("a.txt");
    let commit = dev.commit();
    commit.assert_passed();
    eprintln!("npm package test: {:.1} s", started.elapsed().as_secs_f64());
}

/// A repository with a clean commit and, after it, one that adds a key (made without the hook,
/// as a pushed branch would be); a bare-bones origin for clones.
fn pushed_history() -> (Repo, String, String) {
    let repo = Repo::new();
    repo.write("README", "clean\n");
    repo.git(&["add", "README"]).assert_ok();
    repo.commit_unchecked(&[]);
    let base = repo.head().expect("base");
    repo.write("more.txt", "more\n");
    repo.git(&["add", "more.txt"]).assert_ok();
    repo.commit_unchecked(&[]);
    let key = keys::github();
    repo.write("config/leak.txt", format!("token = {}\n", key.value));
    repo.git(&["add", "config/leak.txt"]).assert_ok();
    repo.commit_unchecked(&[]);
    let head = repo.head().expect("head");
    (repo, base, head)
}

fn action(repo: &Repo, clone: &Path, env: &[(&str, &str)]) -> Out {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("action/scan.sh");
    let home = repo.dir.parent().expect("tmp").join("home");
    let mut cmd = isolated("sh", &home);
    cmd.arg(script)
        .current_dir(clone)
        .env("RUNNER_TEMP", home.join("runner-temp"))
        .env_remove("GITHUB_OUTPUT");
    std::fs::create_dir_all(home.join("runner-temp")).expect("mkdir");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Out(cmd.run().expect("sh"))
}

#[test]
fn the_action_says_fetch_depth_in_a_shallow_clone_and_annotates_a_range() {
    let _one = serial();
    let (repo, base, head) = pushed_history();
    let parent = repo.dir.parent().expect("tmp");
    let url = format!("file://{}", repo.dir.display());
    for (name, depth) in [("shallow", Some("1")), ("full", None)] {
        let mut args = vec!["clone", "-q"];
        if let Some(d) = depth {
            args.extend(["--depth", d]);
        }
        args.extend([url.as_str(), name]);
        repo.run_in(parent, "git", &args).assert_ok();
    }
    let pr = [
        ("KEYWARD_PR_BASE", base.as_str()),
        ("KEYWARD_PR_HEAD", head.as_str()),
        ("KEYWARD_INSTALL", KEYWARD),
    ];
    let shallow = action(&repo, &parent.join("shallow"), &pr);
    assert_eq!(shallow.code(), Some(2), "{}", shallow.all());
    assert!(
        shallow.all().contains("fetch-depth: 0"),
        "{}",
        shallow.all()
    );
    assert!(
        shallow.all().contains("::error title=keyward::"),
        "{}",
        shallow.all()
    );

    let full = action(&repo, &parent.join("full"), &pr);
    assert_eq!(full.code(), Some(1), "{}", full.all());
    assert!(
        full.stdout_text().contains("::error file=config/leak.txt"),
        "{}",
        full.all()
    );
    // An explicit range that introduces nothing.
    let range = format!("{base}..{base}");
    let clean = action(
        &repo,
        &parent.join("full"),
        &[("KEYWARD_RANGE", &range), ("KEYWARD_INSTALL", KEYWARD)],
    );
    assert_eq!(clean.code(), Some(0), "{}", clean.all());

    // keyward from the wheel, as the action installs it on a runner (pip, no toolchain).
    let Some(wheels) = wheel_dir() else { return };
    let wheels = wheels.to_string_lossy().into_owned();
    let path = no_toolchain();
    let pip = action(
        &repo,
        &parent.join("full"),
        &[
            ("KEYWARD_PR_BASE", &base),
            ("KEYWARD_PR_HEAD", &head),
            ("KEYWARD_INSTALL", "pip"),
            ("PIP_FIND_LINKS", &wheels),
            (
                "PATH",
                &format!("{}:{path}", py_tools().expect("py").join("bin").display()),
            ),
        ],
    );
    assert_eq!(pip.code(), Some(1), "{}", pip.all());
    assert!(
        pip.stdout_text().contains("::error file=config/leak.txt"),
        "{}",
        pip.all()
    );
}

#[test]
fn package_versions_agree_with_the_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let version = env!("CARGO_PKG_VERSION");
    let npm: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("npm/keyward/package.json")).expect("package.json"),
    )
    .expect("json");
    assert_eq!(npm["version"], version);
    let optional = npm["optionalDependencies"].as_object().expect("optional");
    assert_eq!(optional.len(), 5);
    for (name, v) in optional {
        assert_eq!(v, version, "{name}");
    }
    // The wheel takes Cargo.toml's version.
    let pyproject = std::fs::read_to_string(root.join("pyproject.toml")).expect("pyproject");
    assert!(pyproject.contains("dynamic = [\"version\"]"));
    assert!(pyproject.contains("name = \"keyward-hook\""));
    assert!(pyproject.contains("bindings = \"bin\""));
    // Every pinned install in the documentation names this version.
    for doc in ["README.md", ".pre-commit-hooks.yaml"] {
        let text = std::fs::read_to_string(root.join(doc)).expect("doc");
        for (i, _) in text.match_indices("keyward-hook==") {
            let pinned: String = text[i + "keyward-hook==".len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            assert_eq!(pinned.trim_end_matches('.'), version, "{doc}");
        }
    }
}

/// The README's setup script, exactly as printed, on a machine without keyward (the wheel
/// comes from `PIP_FIND_LINKS` until keyward-hook is on the Python package index).
#[test]
fn the_readme_setup_script_runs_as_written() {
    let _one = serial();
    let Some(wheels) = wheel_dir() else { return };
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let start = readme
        .find("#!/bin/sh\n# scripts/bootstrap.sh")
        .expect("the setup script in the README");
    let script = &readme[start..start + readme[start..].find("```").expect("end")];
    let dev = Dev::new();
    // python3 from the tools' environment; no toolchain, no keyward on PATH.
    let python = py_tools().expect("python").join("bin");
    let dev = Dev {
        path: format!("{}:{}", python.display(), no_toolchain()),
        ..dev
    };
    write_executable(
        &dev.dir().join("scripts/bootstrap.sh"),
        script.as_bytes(),
        0o755,
    );
    let bootstrap = || {
        let mut cmd = dev.cmd("sh", &["scripts/bootstrap.sh"]);
        cmd.env("PIP_FIND_LINKS", &wheels);
        Out(cmd.run().expect("sh"))
    };
    let out = bootstrap();
    assert!(out.0.status.success(), "{}", out.all());
    assert!(
        out.stdout_text()
            .contains("installed .git/hooks/pre-commit"),
        "{}",
        out.all()
    );
    assert!(out.stdout_text().contains("runs keyward"), "{}", out.all());
    dev.assert_key_blocked(&[]);
    // A team with committed hooks: the shim finds this keyward through ~/.local/bin, which is
    // not on PATH. Running the script again is harmless.
    dev.git(&["config", "core.hooksPath", ".githooks"])
        .assert_ok();
    let out = bootstrap();
    assert!(out.0.status.success(), "{}", out.all());
    assert!(
        out.stdout_text().contains("wrote .githooks/pre-commit"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout_text().contains("keyward's shim, which runs"),
        "{}",
        out.all()
    );
    dev.assert_key_blocked(&[]);
}
