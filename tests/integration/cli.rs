//! What the command line does around the scan: a reader that goes away, the progress line,
//! help for one command, a mistyped command.

use crate::keys;
use crate::repo::{Out, Repo, KEYWARD};

/// Runs `keyward ARGS` in `repo` with its standard output read by `reader` (a shell
/// pipeline); keyward's own exit code and standard error, as files, then.
fn piped(repo: &Repo, args: &str, reader: &str) -> (Option<i32>, String) {
    let dir = repo.home.join("piped");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let script = format!(
        "( sleep 0.3; '{KEYWARD}' {args} 2>'{d}/err'; echo $? >'{d}/code' ) | {reader}; wait",
        d = dir.display()
    );
    repo.run_in(&repo.dir, "sh", &["-c", &script]).assert_ok();
    let code = std::fs::read_to_string(dir.join("code")).expect("code");
    let err = std::fs::read_to_string(dir.join("err")).expect("err");
    (code.trim().parse().ok(), err)
}

#[test]
fn a_closed_pipe_ends_silently_with_the_verdict() {
    let repo = Repo::new();
    // The reader is gone before keyward writes a byte.
    for (args, reader) in [
        ("rules", "true"),
        ("rules", "head -c 1 >/dev/null"),
        ("--help", "true"),
    ] {
        let (code, err) = piped(&repo, args, reader);
        assert_eq!(code, Some(0), "{args} | {reader}: {err}");
        assert_eq!(err, "", "{args} | {reader}");
    }
    // A scan's verdict survives: clean is 0, blocked is 1, and nothing is said about the pipe.
    repo.write("a.txt", "clean\n");
    repo.git(&["add", "a.txt"]).assert_ok();
    assert_eq!(
        piped(&repo, "scan --staged", "true"),
        (Some(0), String::new())
    );
    let key = keys::github();
    repo.write("b.txt", format!("token = {}\n", key.value));
    repo.git(&["add", "b.txt"]).assert_ok();
    assert_eq!(
        piped(&repo, "scan --staged", "true"),
        (Some(1), String::new())
    );
}

#[test]
fn the_last_progress_frame_is_final() {
    if crate::repo::output(std::process::Command::new("script").arg("--version")).is_err() {
        eprintln!("skipped: no `script` to give keyward a terminal");
        return;
    }
    let repo = Repo::new();
    for i in 0..30 {
        repo.write(&format!("f{i}.txt"), format!("{i}\n"));
        repo.git(&["add", "."]).assert_ok();
        repo.commit_unchecked(&[]);
    }
    // `script` gives keyward a terminal, where it shows progress.
    let command = format!("'{KEYWARD}' scan --history --color never");
    let out = repo.run_in(&repo.dir, "script", &["-qec", &command, "/dev/null"]);
    out.assert_ok();
    let text = out.stdout_text();
    let frames: Vec<&str> = text
        .split(['\r', '\n'])
        .filter(|f| f.contains(" blobs, "))
        .collect();
    let last = frames
        .last()
        .unwrap_or_else(|| panic!("no progress:\n{text:?}"));
    assert!(!last.contains("ETA"), "{last}");
    // Every item counted: `N/N blobs`.
    let counts = last
        .split("keyward: ")
        .nth(1)
        .and_then(|r| r.split(" blobs").next())
        .and_then(|r| r.split_once('/'))
        .unwrap_or_else(|| panic!("{last}"));
    assert_eq!(counts.0, counts.1, "{last}");
    assert!(last.contains(" in "), "{last}");
}

#[test]
fn help_for_one_command() {
    let repo = Repo::new();
    let help = repo.keyward(&["help", "install"]);
    help.assert_ok();
    let text = help.stdout_text();
    assert!(
        text.contains("keyward install [--global] [REPO...]"),
        "{text}"
    );
    assert!(!text.contains("keyward scan"), "{text}");
    let flag = repo.keyward(&["install", "--help"]);
    flag.assert_ok();
    assert_eq!(flag.stdout_text(), text);
    // A scanning command's help carries the options.
    let scan = repo.keyward(&["scan", "--help"]).stdout_text();
    assert!(scan.contains("--output FILE"), "{scan}");
    // The whole text is still there.
    let all = repo.keyward(&["help"]).stdout_text();
    assert!(all.contains("keyward uninstall"), "{all}");
    assert!(
        !repo.dir.join(".git/hooks/commit-msg").exists(),
        "help installed nothing"
    );
}

#[test]
fn a_mistyped_command_suggests_the_nearest_one() {
    let repo = Repo::new();
    for (typed, meant) in [("hok", "hook"), ("stauts", "status"), ("instal", "install")] {
        let out: Out = repo.keyward(&[typed]);
        assert_eq!(out.code(), Some(2), "{}", out.all());
        let err = String::from_utf8_lossy(&out.0.stderr).into_owned();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&format!("did you mean `{meant}`?")), "{err}");
    }
    let help = repo.keyward(&["help", "instal"]);
    assert_eq!(help.code(), Some(2), "{}", help.all());
    assert!(
        help.all().contains("did you mean `install`?"),
        "{}",
        help.all()
    );
    let far = repo.keyward(&["frobnicate"]);
    assert!(!far.all().contains("did you mean"), "{}", far.all());
}
