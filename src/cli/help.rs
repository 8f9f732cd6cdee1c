//! Help for one command (`keyward help install`, `keyward install --help`), cut from
//! [`super::USAGE`] so the two never disagree, and the nearest command to a mistyped one.

use super::USAGE;

/// Every command `keyward` takes, in the order `--help` lists them.
pub(crate) const COMMANDS: [&str; 12] = [
    "hook",
    "commit-msg",
    "scan",
    "pre-receive",
    "rules",
    "install",
    "uninstall",
    "status",
    "allow",
    "config",
    "help",
    "version",
];

/// Commands that scan, and so take the options of `--help`'s Options section.
const SCANNING: [&str; 5] = ["hook", "commit-msg", "scan", "pre-receive", "config"];

/// The help of `command`: its lines of the Usage section (with their continuation lines), and
/// for a scanning command the Options section. `None` for a name that is no command.
pub(crate) fn for_command(command: &str) -> Option<String> {
    if !COMMANDS.contains(&command) {
        return None;
    }
    let mut text = String::from("Usage:\n");
    let prefix = format!("  keyward {command}");
    let mut inside = false;
    let mut found = false;
    for line in USAGE.lines() {
        if line.starts_with("  keyward ") {
            let rest = &line[prefix.len().min(line.len())..];
            inside = line.starts_with(&prefix) && (rest.is_empty() || rest.starts_with(' '));
        } else if !line.starts_with("    ") {
            inside = false;
        }
        if inside {
            found = true;
            text.push_str(line);
            text.push('\n');
        }
    }
    if !found {
        // `version`: only the flag form is in the text.
        text.push_str("  keyward version                   the version (also -V, --version)\n");
    }
    if SCANNING.contains(&command) {
        let options = USAGE
            .split("\nOptions:\n")
            .nth(1)
            .and_then(|rest| rest.split("\n\n").next())
            .unwrap_or_default();
        text.push_str("\nOptions:\n");
        text.push_str(options);
        text.push('\n');
    } else {
        text.push_str("\nOptions:\n  -h, --help               this text\n");
    }
    text.push_str("\nAll commands: keyward --help");
    Some(text)
}

/// The command nearest to `typed`, if one is near enough to be what was meant: at most two
/// edits away (a transposition is one), and fewer than the word's own length.
pub(crate) fn nearest(typed: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .map(|c| (distance(typed, c), *c))
        .filter(|(d, _)| *d <= 2 && *d < typed.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions (optimal string alignment).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_commands_find_the_nearest() {
        for (typed, meant) in [
            ("hok", Some("hook")),
            ("instal", Some("install")),
            ("stauts", Some("status")),
            ("rule", Some("rules")),
            ("uninstal", Some("uninstall")),
            ("scna", Some("scan")),
            ("frobnicate", None),
            ("x", None),
        ] {
            assert_eq!(nearest(typed), meant, "{typed}");
        }
    }

    #[test]
    fn every_command_has_help_naming_it() {
        for command in COMMANDS {
            let text = for_command(command).expect(command);
            assert!(
                text.contains(&format!("keyward {command}")),
                "{command}:\n{text}"
            );
        }
        let install = for_command("install").expect("install");
        assert!(install.contains("--global"), "{install}");
        assert!(!install.contains("keyward uninstall"), "{install}");
        assert!(!install.contains("--max-file-size"), "{install}");
        let scan = for_command("scan").expect("scan");
        assert!(scan.contains("--output FILE"), "{scan}");
        assert!(for_command("hok").is_none());
    }
}
