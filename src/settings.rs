//! The effective settings, and where each came from: command-line flags win, then
//! `.keyward.toml` (the team's policy), then git config (`keyward.*`: a person's choices, or a
//! server's), then the defaults. One merge, written once, for every setting — except that a
//! refusal beats a permission from any layer: `strict` set anywhere, or inline allows
//! refused anywhere (`--no-inline-allow`, `keyward.inlineAllow=false`, `git -c`), holds
//! whatever `.keyward.toml` says, so a file committed in the change it should judge cannot
//! switch a check off.

use crate::config::Config;
use crate::model::Size;

/// The size cap when nothing sets one: generous enough for any source or config file.
pub(crate) const DEFAULT_MAX_FILE_SIZE: Size = Size(64 << 20);

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Color {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl Color {
    /// `auto`, `always` or `never` (git's `true` and `false` too).
    pub(crate) fn parse(s: &str) -> Option<Color> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Color::Auto),
            "always" | "true" => Some(Color::Always),
            "never" | "false" => Some(Color::Never),
            _ => None,
        }
    }
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Color::Auto => "auto",
            Color::Always => "always",
            Color::Never => "never",
        })
    }
}

/// The settings the command line gave: `None` where no flag was used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// `--strict`.
    pub(crate) strict: Option<bool>,
    /// `--no-inline-allow`.
    pub(crate) inline_allow: Option<bool>,
    /// `--max-file-size`.
    pub(crate) max_file_size: Option<Size>,
    /// `--color`.
    pub(crate) color: Option<Color>,
}

/// A `keyward.*` git config value that means nothing.
#[derive(Debug, thiserror::Error)]
#[error("git config: keyward.{key}: `{value}` is not {what}")]
pub struct SettingsError {
    /// The key, as git spells it (`maxFileSize`).
    pub(crate) key: &'static str,
    /// The value, escaped for the terminal.
    pub(crate) value: String,
    /// What it should be.
    pub(crate) what: &'static str,
}

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Built in.
    Default,
    /// `git config keyward.<key>`.
    GitConfig(&'static str),
    /// `.keyward.toml`, at this line.
    File(usize),
    /// A command-line flag.
    Flag,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::GitConfig(key) => write!(f, "git config keyward.{key}"),
            Origin::File(line) => write!(f, "{}:{line}", crate::config::FILE_NAME),
            Origin::Flag => f.write_str("command line"),
        }
    }
}

/// The settings a scan runs with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Block secrets already in history too.
    pub(crate) strict: bool,
    /// Honour inline `keyward:allow` markers.
    pub(crate) inline_allow: bool,
    /// Blobs larger than this are reported as not scanned.
    pub(crate) max_file_size: Size,
    /// When to colour.
    pub(crate) color: Color,
    /// `(name, value, origin)` of each setting, for `keyward config`.
    pub(crate) origins: Vec<(&'static str, String, Origin)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            strict: false,
            inline_allow: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            color: Color::Auto,
            origins: Vec::new(),
        }
    }
}

/// A git config key (camelCase, as documented), how to read its value, and what the value
/// should be (for the error).
type GitKey<T> = (&'static str, fn(&str) -> Option<T>, &'static str);

/// One setting's layers, from the strongest.
struct Layers<T> {
    name: &'static str,
    flag: Option<T>,
    /// The file's value and its key there.
    file: Option<(T, &'static str)>,
    /// The git config key (camelCase, as documented) and how to read its value.
    git: Option<GitKey<T>>,
    default: T,
}

/// Merges flags, `.keyward.toml` and the `keyward.*` git config entries (`git`: keys
/// lowercased, every level in git's order: the last of a key is its value, and a refusal at
/// any level counts) over the defaults.
pub(crate) fn resolve(
    flags: &Flags,
    file: Option<&Config>,
    git: &[(String, String)],
) -> Result<Settings, SettingsError> {
    let mut origins = Vec::new();
    let from_file = |key: &'static str| file.and_then(|c| c.line_of(key));
    let strict = pick_safest(
        true,
        Layers {
            name: "strict",
            flag: flags.strict,
            file: file.and_then(|c| c.file.strict).map(|v| (v, "strict")),
            git: Some(("strict", git_bool, "a boolean")),
            default: false,
        },
        git,
        from_file,
        &mut origins,
    )?;
    let inline_allow = pick_safest(
        false,
        Layers {
            name: "inline-allow",
            flag: flags.inline_allow,
            file: file
                .and_then(|c| c.file.inline_allow)
                .map(|v| (v, "inline-allow")),
            git: Some(("inlineAllow", git_bool, "a boolean")),
            default: true,
        },
        git,
        from_file,
        &mut origins,
    )?;
    let max_file_size = pick(
        Layers {
            name: "max-file-size",
            flag: flags.max_file_size,
            file: file
                .and_then(|c| c.max_file_size)
                .map(|v| (v, "max-file-size")),
            git: Some(("maxFileSize", |v| v.parse().ok(), "a size")),
            default: DEFAULT_MAX_FILE_SIZE,
        },
        git,
        from_file,
        &mut origins,
    )?;
    let color = pick(
        Layers {
            name: "color",
            flag: flags.color,
            file: None,
            git: Some(("color", Color::parse, "auto, always or never")),
            default: Color::Auto,
        },
        git,
        from_file,
        &mut origins,
    )?;
    Ok(Settings {
        strict,
        inline_allow,
        max_file_size,
        color,
        origins,
    })
}

/// For a switch whose `safe` value is a refusal: the strongest layer that sets `safe`, if
/// any does; otherwise as [`pick`].
fn pick_safest(
    safe: bool,
    layers: Layers<bool>,
    git: &[(String, String)],
    line_of: impl Fn(&'static str) -> Option<usize>,
    origins: &mut Vec<(&'static str, String, Origin)>,
) -> Result<bool, SettingsError> {
    // Any level of git config that refuses counts, not only the last.
    let mut git_refusal = None;
    if let Some((key, parse, what)) = layers.git {
        let lower = format!("keyward.{}", key.to_ascii_lowercase());
        for (_, raw) in git.iter().filter(|(k, _)| *k == lower) {
            let value = parse(raw).ok_or_else(|| SettingsError {
                key,
                value: crate::redact::escape(raw.as_bytes()),
                what,
            })?;
            if value == safe {
                git_refusal = Some(key);
            }
        }
    }
    let refusal = if layers.flag == Some(safe) {
        Some(Origin::Flag)
    } else if layers.file.is_some_and(|(v, _)| v == safe) {
        layers
            .file
            .map(|(_, key)| Origin::File(line_of(key).unwrap_or(1)))
    } else {
        git_refusal.map(Origin::GitConfig)
    };
    if let Some(origin) = refusal {
        origins.push((layers.name, safe.to_string(), origin));
        return Ok(safe);
    }
    pick(layers, git, line_of, origins)
}

/// The strongest layer that has a value, recorded with its origin.
fn pick<T: Copy + std::fmt::Display>(
    layers: Layers<T>,
    git: &[(String, String)],
    line_of: impl Fn(&'static str) -> Option<usize>,
    origins: &mut Vec<(&'static str, String, Origin)>,
) -> Result<T, SettingsError> {
    let (value, origin) = if let Some(v) = layers.flag {
        (v, Origin::Flag)
    } else if let Some((v, key)) = layers.file {
        (v, Origin::File(line_of(key).unwrap_or(1)))
    } else if let Some((key, v)) = layers.git.and_then(|(key, parse, what)| {
        let lower = format!("keyward.{}", key.to_ascii_lowercase());
        let raw = git.iter().rev().find(|(k, _)| *k == lower)?.1.as_str();
        Some((
            key,
            parse(raw).ok_or_else(|| SettingsError {
                key,
                value: crate::redact::escape(raw.as_bytes()),
                what,
            }),
        ))
    }) {
        (v?, Origin::GitConfig(key))
    } else {
        (layers.default, Origin::Default)
    };
    origins.push((layers.name, value.to_string(), origin));
    Ok(value)
}

/// git's boolean spellings.
pub(crate) fn git_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" | "" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn flags_beat_git_config_beats_defaults() {
        let s = resolve(&Flags::default(), None, &[]).expect("defaults");
        assert!(!s.strict && s.inline_allow);
        assert_eq!(s.max_file_size, DEFAULT_MAX_FILE_SIZE);
        assert!(s.origins.iter().all(|(_, _, o)| *o == Origin::Default));
        let g = git(&[("keyward.strict", "yes"), ("keyward.maxfilesize", "1m")]);
        let s = resolve(&Flags::default(), None, &g).expect("git");
        assert!(s.strict);
        assert_eq!(s.max_file_size, Size(1 << 20));
        assert_eq!(s.origins[0].2, Origin::GitConfig("strict"));
        let flags = Flags {
            max_file_size: Some(Size(5)),
            ..Flags::default()
        };
        let s = resolve(&flags, None, &g).expect("flag");
        assert_eq!(s.max_file_size, Size(5));
        assert_eq!(s.origins[2].2, Origin::Flag);
    }

    #[test]
    fn a_refusal_from_any_layer_beats_the_file() {
        let file = Config::parse("strict = false\ninline-allow = true\n").expect("valid");
        let g = git(&[("keyward.strict", "true"), ("keyward.inlineallow", "false")]);
        let s = resolve(&Flags::default(), Some(&file), &g).expect("resolves");
        assert!(s.strict, "git config's strict holds over the file");
        assert!(!s.inline_allow, "git config's refusal holds over the file");
        assert_eq!(s.origins[0].2, Origin::GitConfig("strict"));
        let s = resolve(&Flags::default(), Some(&file), &[]).expect("resolves");
        assert!(
            !s.strict && s.inline_allow,
            "the file decides when nothing refuses"
        );
        assert_eq!(s.origins[0].2, Origin::File(1));
    }

    #[test]
    fn a_bad_git_value_names_the_key() {
        let e = resolve(&Flags::default(), None, &git(&[("keyward.color", "pink")]))
            .expect_err("bad colour");
        assert_eq!(
            e.to_string(),
            "git config: keyward.color: `pink` is not auto, always or never"
        );
    }
}
