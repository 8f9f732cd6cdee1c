//! A listing made with git's plumbing (`git rev-list`, `git diff-tree`, `git ls-tree`,
//! `git cat-file`): for a layout gix does not read, and what the in-process walk of a push
//! does not stand in for.

use super::*;

/// Lists what `selection` introduced with git's plumbing (`git rev-list`, `git diff-tree`,
/// `git ls-tree`): for a layout gix does not read, and what the in-process walk of a push
/// does not stand in for.
pub(super) fn list_plumbing(selection: &Selection) -> Result<Listing, SourceError> {
    let (tips, hidden): (Vec<PushedRef>, Vec<String>) = match selection {
        Selection::Push { tips } => (tips.clone(), vec!["--not".into(), "--all".into()]),
        Selection::History { branch: None } => (
            plumbing::refs()?
                .into_iter()
                .map(|(id, name)| PushedRef { id, name })
                .collect(),
            Vec::new(),
        ),
        Selection::History { branch: Some(b) } => (vec![named(plumbing_commit(b)?, b)], Vec::new()),
        Selection::Range(range) => {
            let (a, b) = split_range(range)?;
            let base = plumbing_commit(a)?;
            (
                vec![named(plumbing_commit(b)?, b)],
                vec!["--not".into(), base.to_string()],
            )
        }
    };
    let mut listing = Listing::default();
    if let Selection::Range(range) = selection {
        // What the base's tree holds is not new.
        let (a, _) = split_range(range)?;
        for (mode, id, path) in plumbing::ls_tree(plumbing_commit(a)?)? {
            if let Some(place) = place_of(octal_mode(&mode)?) {
                listing.pair(id, &path, place, Seen::HIDDEN);
            }
        }
    }
    let tips = peel_plumbing(tips)?;
    if !tips.commits.is_empty() {
        let mut args: Vec<String> = tips.commits.iter().map(ToString::to_string).collect();
        args.extend(hidden);
        let commits = plumbing::commits(&args)?;
        let listed: HashSet<ObjectId> = commits.iter().map(|c| c.id).collect();
        let ids: Vec<ObjectId> = commits.iter().map(|c| c.id).collect();
        let raw = plumbing::raw_objects(&ids)?;
        for (commit, raw) in commits.into_iter().zip(raw) {
            let parsed = gix::objs::CommitRef::from_bytes(&raw, commit.id.kind())
                .map_err(|e| GitError::read(format!("commit {}", commit.id), e))?;
            let texts = Texts::of_commit(&parsed);
            let at = Some(CommitRef {
                id: commit.id,
                author_time: commit.author_time,
            });
            // A root commit's one diff has no parent, and nothing before it was hidden.
            let hidden = |n: usize| commit.parents.get(n).is_some_and(|p| !listed.contains(p));
            let mut diffs = Vec::with_capacity(commit.diffs.len());
            for (n, records) in commit.diffs.into_iter().enumerate() {
                diffs.push(ParentDiff {
                    hidden: hidden(n),
                    changes: records
                        .into_iter()
                        .map(raw_change)
                        .collect::<Result<_, _>>()?,
                });
            }
            list_changes(&mut listing, at, &diffs);
            listing.texts(at, b"", &texts);
        }
    }
    for tree in tips.trees {
        for (mode, id, path) in plumbing::ls_tree(tree)? {
            if let Some(place) = place_of(octal_mode(&mode)?) {
                listing.pair(id, &path, place, Seen::listed(None));
            }
        }
    }
    for (blob, name) in tips.blobs {
        listing.detached(blob, &name);
    }
    for (name, texts) in &tips.tags {
        listing.texts(None, name, texts);
    }
    Ok(listing)
}

/// A line of `git diff-tree --raw` as a [`Change`].
pub(super) fn raw_change(r: plumbing::RawRecord) -> Result<Change, SourceError> {
    let old = match r.old_id {
        Some(id) => Some((id, octal_mode(&r.old_mode)?)),
        None => None,
    };
    let new = match r.status {
        b'D' => None,
        _ => Some((r.new_id, octal_mode(&r.new_mode)?)),
    };
    Ok(Change {
        old,
        new,
        path: r.path,
    })
}

/// A mode as git prints it (octal digits), canonicalised as git reads a tree's (see
/// [`tree::canon_mode`]). Anything else is not git's output: an error, never a guess (a
/// guess could read a file as a submodule, which is not scanned).
pub(super) fn octal_mode(digits: &[u8]) -> Result<u32, SourceError> {
    let mode = digits.iter().try_fold(0u32, |m, &d| match d {
        b'0'..=b'7' => m.checked_mul(8).map(|m| m | u32::from(d - b'0')),
        _ => None,
    });
    let mode = mode
        .filter(|_| !digits.is_empty())
        .ok_or_else(|| SourceError::from(plumbing::PlumbingError::Output("diff-tree")))?;
    Ok(tree::canon_mode(mode))
}

pub(super) fn peel_plumbing(refs: Vec<PushedRef>) -> Result<Tips, SourceError> {
    let mut tips = Tips::default();
    let mut pending = refs;
    let mut tags_seen = HashSet::new();
    for _ in 0..MAX_PEEL {
        if pending.is_empty() {
            return Ok(tips);
        }
        let ids: Vec<ObjectId> = pending.iter().map(|r| r.id).collect();
        let kinds = plumbing::object_kinds(&ids)?;
        let mut next = Vec::new();
        for (r, kind) in pending.into_iter().zip(kinds) {
            match kind.as_str() {
                "commit" => tips.commits.push(r.id),
                "tree" => tips.trees.push(r.id),
                "blob" => tips.blobs.push((r.id, r.name)),
                "tag" => {
                    let raw = plumbing::tag_object(r.id)?;
                    let tag = gix::objs::TagRef::from_bytes(&raw, r.id.kind())
                        .map_err(|e| GitError::read(format!("tag {}", r.id), e))?;
                    if tags_seen.insert(r.id) {
                        tips.tags
                            .push((tag_name(&tag, &r.name), Texts::of_tag(&tag)));
                    }
                    next.push(PushedRef {
                        id: tag.target(),
                        name: r.name,
                    });
                }
                other => {
                    return Err(SourceError::Input(format!(
                        "{} points at a {other}",
                        crate::redact::escape(r.name.as_bytes())
                    )))
                }
            }
        }
        pending = next;
    }
    Err(SourceError::Input(
        "an annotated tag chain does not end".into(),
    ))
}

/// The commit `revision` names, through git.
pub(super) fn plumbing_commit(revision: &str) -> Result<ObjectId, SourceError> {
    plumbing::commit_of(revision)?.ok_or_else(|| unknown(revision, false))
}
