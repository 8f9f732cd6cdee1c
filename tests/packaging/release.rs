//! The release artifacts this machine can build, made by `scripts/release-artifacts.sh` as a
//! maintainer would make them, then each installed where there is no Rust toolchain — the
//! archive by its `./install.sh`, the wheel by pip from the folder, the npm packages from their
//! tarballs, offline — and each blocking a key through a real `git commit`. The aarch64
//! artifacts cannot run here: they are checked to be what they say (a static aarch64
//! executable in each), and run under `qemu-aarch64` where it is installed.
//!
//! The build uses its own target directory (`target/release-artifacts-build`, kept between
//! runs) and cargo's profile overrides for speed (`CARGO_PROFILE_RELEASE_LTO=false`, 16
//! codegen units): what is tested is the packaging, which those settings do not change.

use crate::machine::{skip, which};
use crate::repo::output;
use crate::{dev_without_toolchain, ok, serial};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const X86: &str = "x86_64-unknown-linux-musl";
const ARM: &str = "aarch64-unknown-linux-musl";

/// Runs the script into `out`; what it printed.
fn build_artifacts(out: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    let run = ok(
        output(
            Command::new("sh")
                .arg(root.join("scripts/release-artifacts.sh"))
                .arg("--out")
                .arg(out)
                .env(
                    "CARGO_TARGET_DIR",
                    root.join("target/release-artifacts-build"),
                )
                .env("CARGO_PROFILE_RELEASE_LTO", "false")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
                .env_remove("RUSTFLAGS"),
        ),
        "scripts/release-artifacts.sh",
    );
    eprintln!(
        "release artifacts built: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    run.all()
}

/// Whether `bytes` are a static executable for `machine` (ELF `e_machine`): 64-bit, with no
/// program interpreter (nothing to load it but the kernel).
fn static_elf(bytes: &[u8], machine: u16) -> bool {
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return false;
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u64_at = |at: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(b) as usize
    };
    if u16_at(18) != machine {
        return false;
    }
    let (phoff, phentsize, phnum) = (u64_at(32), u16_at(54) as usize, u16_at(56) as usize);
    // PT_INTERP is 3.
    (0..phnum).all(|i| {
        let at = phoff + i * phentsize;
        at + 4 <= bytes.len()
            && u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) != 3
    })
}

/// The files of a gzipped tarball, extracted under `into`.
fn untar(tarball: &Path, into: &Path) {
    std::fs::create_dir_all(into).expect("mkdir");
    ok(
        output(
            Command::new("tar")
                .arg("-xzf")
                .arg(tarball)
                .arg("-C")
                .arg(into),
        ),
        "tar -xzf",
    );
}

/// The one file of the zip `wheel` whose name ends with `suffix`.
fn from_wheel(wheel: &Path, suffix: &str, into: &Path) -> PathBuf {
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
        n = [i for i in z.namelist() if i.endswith(sys.argv[2])]\nassert len(n) == 1, n\n\
        open(sys.argv[3], 'wb').write(z.read(n[0]))\n";
    let dest = into.join("from-wheel");
    ok(
        output(
            Command::new("python3")
                .args(["-c", script])
                .arg(wheel)
                .arg(suffix)
                .arg(&dest),
        ),
        "read the wheel",
    );
    dest
}

#[test]
fn the_release_artifacts_install_without_a_toolchain_and_block_a_key() {
    let _one = serial();
    if which("rustup").is_none() {
        skip("no rustup: the release targets cannot be added");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("dist");
    let printed = build_artifacts(&out);
    if printed.contains(&format!("SKIPPED {X86}")) {
        skip(&format!("rustup could not add {X86}: {printed}"));
        return;
    }
    let version = env!("CARGO_PKG_VERSION");
    // Where rustup could not add the aarch64 target, its artifacts are not checked.
    let arm_built = !printed.contains(&format!("SKIPPED {ARM}"));
    let dist = |name: String| {
        let p = out.join(&name);
        assert!(p.is_file(), "{name} was not made: {printed}");
        p
    };

    // Every artifact is in SHA256SUMS, and each sum is right.
    let sums = std::fs::read_to_string(dist("SHA256SUMS".into())).expect("sums");
    let listed: Vec<&str> = sums.lines().filter_map(|l| l.split("  ").nth(1)).collect();
    let mut made: Vec<String> = std::fs::read_dir(&out)
        .expect("dist")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    made.sort();
    assert_eq!(listed, made, "{sums}");
    ok(
        output(
            Command::new("sha256sum")
                .args(["--check", "--quiet", "SHA256SUMS"])
                .current_dir(&out),
        ),
        "sha256sum --check",
    );

    // The archive: extracted, its install.sh run inside it (the binary alone), then for a
    // repository; the key is blocked.
    let dev = dev_without_toolchain();
    let unpacked = dev.home.join("Downloads");
    untar(&dist(format!("keyward-{version}-{X86}.tar.gz")), &unpacked);
    let folder = unpacked.join(format!("keyward-{version}-{X86}"));
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["README.md", "install.sh", "keyward"]);
    let inside = ok(
        output(dev.cmd(folder.join("install.sh"), &[]).current_dir(&folder)),
        "./install.sh in the extracted folder",
    );
    assert!(
        inside.all().contains("not in a git repository"),
        "{}",
        inside.all()
    );
    assert!(dev.local_bin().is_file(), "{}", inside.all());
    let hooked = dev.run(folder.join("install.sh"), &[&dev.dir().to_string_lossy()]);
    hooked.assert_ok();
    assert!(
        hooked.all().contains("installed .git/hooks/pre-commit"),
        "{}",
        hooked.all()
    );
    dev.assert_key_blocked(&[]);

    // The wheel, from the folder, into a virtualenv: no index, no toolchain.
    if which("python3").is_some() {
        let dev = dev_without_toolchain();
        let venv = dev.home.join("venv");
        ok(
            output(dev.cmd("python3", &["-m", "venv"]).arg(&venv)),
            "python3 -m venv",
        );
        let pip = dev.run(
            venv.join("bin/pip"),
            &[
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-index",
                "--find-links",
                &out.to_string_lossy(),
                &format!("keyward-hook=={version}"),
            ],
        );
        pip.assert_ok();
        let keyward = venv.join("bin/keyward");
        dev.run(&keyward, &["install"]).assert_ok();
        dev.assert_key_blocked(&[]);
        // And the aarch64 wheel carries an aarch64 binary.
        if let Some(arm) = arm_built
            .then(|| {
                std::fs::read_dir(&out)
                    .expect("dist")
                    .map(|e| e.expect("entry").path())
                    .find(|p| p.to_string_lossy().ends_with("musllinux_1_2_aarch64.whl"))
            })
            .flatten()
        {
            let inner = from_wheel(&arm, "/scripts/keyward", tmp.path());
            assert!(static_elf(&std::fs::read(inner).expect("read"), 0xB7));
        }
    } else {
        skip("no python3: the wheel was not installed");
    }

    // The npm packages, from their tarballs, offline.
    if let Some(npm) = which("npm") {
        let dev = dev_without_toolchain();
        dev.write(
            "package.json",
            "{\n  \"name\": \"app\",\n  \"private\": true\n}\n",
        );
        dev.write(".gitignore", "node_modules\n");
        let installed = dev.run(
            &npm,
            &[
                "install",
                "--offline",
                "--no-audit",
                "--no-fund",
                "--save-dev",
                &dist(format!("keyward-linux-x64-{version}.tgz")).to_string_lossy(),
                &dist(format!("keyward-{version}.tgz")).to_string_lossy(),
            ],
        );
        assert!(
            installed.0.status.success(),
            "npm install: {}",
            installed.all()
        );
        let keyward = dev.dir().join("node_modules/.bin/keyward");
        dev.run(&keyward, &["install"]).assert_ok();
        dev.assert_key_blocked(&[]);
        // The arm64 package carries an aarch64 binary.
        if arm_built {
            let arm = tmp.path().join("npm-arm64");
            untar(&dist(format!("keyward-linux-arm64-{version}.tgz")), &arm);
            let bin = std::fs::read(arm.join("package/bin/keyward")).expect("arm64 binary");
            assert!(static_elf(&bin, 0xB7));
        }
    } else {
        skip("no npm: the npm packages were not installed");
    }

    // The aarch64 archive: a static aarch64 keyward, run where qemu can run it.
    if !arm_built {
        skip(&format!("rustup could not add {ARM}: {printed}"));
        return;
    }
    let arm = tmp.path().join("arm");
    untar(&dist(format!("keyward-{version}-{ARM}.tar.gz")), &arm);
    let binary = arm.join(format!("keyward-{version}-{ARM}/keyward"));
    assert!(static_elf(&std::fs::read(&binary).expect("read"), 0xB7));
    match which("qemu-aarch64").or_else(|| which("qemu-aarch64-static")) {
        Some(qemu) => {
            let v = ok(
                output(Command::new(qemu).arg(&binary).arg("--version")),
                "qemu-aarch64 keyward --version",
            );
            assert!(v.stdout_text().starts_with("keyward "), "{}", v.all());
        }
        None => skip("no qemu-aarch64: the aarch64 binary was checked, not run"),
    }
}
