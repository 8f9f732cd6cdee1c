//! `keyward install --global` and `uninstall --global`: git's template directory, as `git
//! init` and `git clone` use it.

use crate::keys;
use crate::repo::{isolated, Out, Repo, Run, KEYWARD};
use std::path::Path;

fn run(program: &str, home: &Path, dir: &Path, args: &[&str]) -> Out {
    Out(isolated(program, home)
        .args(args)
        .current_dir(dir)
        .run()
        .expect("spawn"))
}

fn template_dir(home: &Path) -> Option<String> {
    let out = run(
        "git",
        home,
        home,
        &["config", "--global", "--get", "init.templateDir"],
    );
    out.0
        .status
        .success()
        .then(|| out.stdout_text().trim().to_owned())
}

#[test]
fn a_new_repository_from_keywards_template_has_git_info_and_is_protected() {
    let repo = Repo::new(); // an isolated HOME
    let home = repo.home.clone();
    // Looking changes nothing: no template is created or registered.
    let status = run(KEYWARD, &home, &home, &["status", "--global"]);
    assert_eq!(status.code(), Some(1), "{}", status.all());
    assert!(
        status.all().contains("install --global"),
        "{}",
        status.all()
    );
    assert_eq!(template_dir(&home), None);
    run(KEYWARD, &home, &home, &["install", "--global"]).assert_ok();
    assert!(template_dir(&home).is_some());

    let new = home.join("new");
    run("git", &home, &home, &["init", "-q", "new"]).assert_ok();
    // `.git/info/exclude` is there as git's own template makes it, and works.
    let exclude = new.join(".git/info/exclude");
    let text = std::fs::read_to_string(&exclude).expect(".git/info/exclude");
    assert!(
        text.starts_with("# git ls-files --others --exclude-from"),
        "{text}"
    );
    std::fs::write(&exclude, format!("{text}local.txt\n")).expect("append");
    std::fs::write(new.join("local.txt"), "x\n").expect("write");
    run("git", &home, &new, &["check-ignore", "-q", "local.txt"]).assert_ok();
    // And the hook blocks.
    let key = keys::github();
    std::fs::write(new.join("leak.txt"), format!("token = {}\n", key.value)).expect("write");
    run("git", &home, &new, &["add", "leak.txt"]).assert_ok();
    let blocked = run("git", &home, &new, &["commit", "-q", "-m", "x"]);
    assert_eq!(blocked.code(), Some(1), "{}", blocked.all());

    // Uninstall takes the template keyward registered away with its hooks.
    let out = run(KEYWARD, &home, &home, &["uninstall", "--global"]);
    out.assert_ok();
    assert!(
        out.stdout_text().contains("unset init.templateDir"),
        "{}",
        out.all()
    );
    assert_eq!(template_dir(&home), None);
    run("git", &home, &home, &["init", "-q", "after"]).assert_ok();
    assert!(home.join("after/.git/info/exclude").exists());
    assert!(!home.join("after/.git/hooks/pre-commit").exists());
}

#[test]
fn uninstall_global_leaves_a_template_directory_the_user_chose() {
    let repo = Repo::new();
    let home = repo.home.clone();
    let mine = home.join("my-template");
    std::fs::create_dir_all(&mine).expect("mkdir");
    let mine_s = mine.to_string_lossy().into_owned();
    run(
        "git",
        &home,
        &home,
        &["config", "--global", "init.templateDir", &mine_s],
    )
    .assert_ok();
    run(KEYWARD, &home, &home, &["install", "--global"]).assert_ok();
    assert!(mine.join("hooks/pre-commit").exists());
    // keyward does not add to a template that is the user's.
    assert!(!mine.join("info").exists());
    let out = run(KEYWARD, &home, &home, &["uninstall", "--global"]);
    out.assert_ok();
    assert!(!out.stdout_text().contains("unset"), "{}", out.all());
    assert_eq!(template_dir(&home).as_deref(), Some(mine_s.as_str()));
}
