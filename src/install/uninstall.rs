//! `keyward uninstall`: takes out exactly what `install` put in, for both hooks, and puts back
//! what keyward's scripts replaced.

use super::edit;
use super::files::{self, exists};
use super::managers::{self, Route};
use super::place::Place;
use super::script::{Hook, Kind};
use super::{io, tidy, InstallError, Line, HUSKY8_HEADER};
use std::path::Path;

/// Takes keyward out of `place`: what `install` added, and keyward's scripts wherever git
/// would find them, putting back what they replaced.
pub(super) fn uninstall(place: &Place) -> Result<Vec<Line>, InstallError> {
    let mut lines = Vec::new();
    // `created`: what is left of a file keyward created (husky's commit-msg file, from its
    // header), when it did.
    let remove = |file: &Path,
                  take: &dyn Fn(&str) -> Option<String>,
                  runs: &dyn Fn(&str) -> bool,
                  created: Option<&str>|
     -> Result<Line, InstallError> {
        let shown = place.show(file);
        let text = std::fs::read_to_string(file).unwrap_or_default();
        Ok(match take(&text) {
            // A file keyward created holds nothing else: it goes, unless the team committed it.
            Some(new) if created == Some(new.as_str()) && !place.tracked(file) => {
                std::fs::remove_file(file).map_err(|e| io(file, e))?;
                Line::Done(format!("removed {shown}, which only ran keyward"))
            }
            Some(new) => {
                files::write_file(file, new.as_bytes(), 0o644)?;
                let hint = if place.tracked(file) {
                    " (a tracked file: commit the change)"
                } else {
                    ""
                };
                Line::Done(format!("removed keyward from {shown}{hint}"))
            }
            None if runs(&text) => Line::Problem(format!(
                "{shown} runs keyward in lines keyward did not write: remove them by hand"
            )),
            None => Line::Done(format!("{shown} does not run keyward; nothing to do")),
        })
    };
    let route = managers::route(place);
    // What install added to the files of the route: the manager's, the committed hooks.
    match &route {
        Route::Husky { v8, .. } => {
            for hook in Hook::ALL {
                let file = route.file(hook).unwrap_or_default();
                if hook == Hook::CommitMsg && !exists(&file) {
                    continue;
                }
                // The commit-msg file is keyward's when install created it from the header.
                let created =
                    (hook == Hook::CommitMsg).then_some(if *v8 { HUSKY8_HEADER } else { "" });
                lines.push(remove(
                    &file,
                    &|t| edit::sh_remove(t, hook),
                    &|t| hook.runs(t),
                    created,
                )?);
            }
        }
        Route::Lefthook { config, .. } => lines.push(remove(
            config,
            &edit::lefthook_remove,
            &|t| Hook::ALL.iter().any(|h| h.runs(t)),
            None,
        )?),
        Route::PreCommit { config, .. } => lines.push(remove(
            config,
            &edit::precommit_remove,
            &|t| Hook::ALL.iter().any(|h| h.runs(t)),
            None,
        )?),
        Route::Manual {
            what, file, hooks, ..
        } if hooks.iter().any(|(_, runs)| *runs) => lines.push(Line::Problem(format!(
            "{} runs keyward through {what}: remove it there by hand",
            place.show(file)
        ))),
        Route::TreeHooks => {
            for which in Hook::ALL {
                let hook = place.hook(which);
                match files::hook_kind(&hook) {
                    Some(Kind::Shim(_)) if place.tracked(&hook) => {
                        lines.push(Line::Problem(format!(
                            "{} is keyward's shim, committed for the team: remove it with git rm",
                            place.show(&hook)
                        )))
                    }
                    Some(Kind::Shim(_)) => {
                        std::fs::remove_file(&hook).map_err(|e| io(&hook, e))?;
                        lines.push(Line::Done(format!("removed {}", place.show(&hook))));
                    }
                    Some(Kind::Other) => lines.push(remove(
                        &hook,
                        &|t| edit::sh_remove(t, which),
                        &|t| which.runs(t),
                        None,
                    )?),
                    _ => {}
                }
            }
        }
        Route::Manual { .. } | Route::Plain => {}
    }
    let handled = !lines.is_empty();
    for hook in Hook::ALL {
        let path = place.hook(hook);
        let shown = place.show(&path);
        if managers::is_keyward_script(&path) {
            files::uninstall(&place.hooks, hook)?;
            lines.push(Line::Done(format!(
                "removed keyward's hook from {shown} (any previous hook is back)"
            )));
        } else if !exists(&path) && !handled {
            lines.push(Line::Done(format!("no hook at {shown}; nothing to do")));
        } else if hook == Hook::PreCommit && !handled {
            lines.push(Line::Error(InstallError::Foreign(shown)));
        }
    }
    for hook in Hook::ALL {
        for suffix in [".old", ".legacy"] {
            lines.extend(tidy(place, hook, suffix)?);
        }
    }
    Ok(lines)
}
