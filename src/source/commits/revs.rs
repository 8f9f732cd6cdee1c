//! Refs and revisions: what a range names, what every ref points at, annotated tags peeled.

use super::*;

/// A ref named for the report.
pub(super) fn named(id: ObjectId, name: &str) -> PushedRef {
    PushedRef {
        id,
        name: name.to_owned(),
    }
}

/// `A..B` → `(A, B)`.
pub(super) fn split_range(range: &str) -> Result<(&str, &str), SourceError> {
    let not_a_range = || SourceError::Input(format!("`{range}` is not a range (use A..B)"));
    let (a, b) = range.split_once("..").ok_or_else(not_a_range)?;
    if a.is_empty() || b.is_empty() || b.starts_with('.') {
        return Err(not_a_range());
    }
    Ok((a, b))
}

/// An unknown revision; in a shallow clone the base is often simply not fetched.
pub(super) fn unknown(revision: &str, shallow: bool) -> SourceError {
    SourceError::Revision {
        revision: crate::redact::escape(revision.as_bytes()),
        hint: shallow.then_some(
            "this clone is shallow: fetch the history the range needs (actions/checkout with fetch-depth: 0, or git fetch --unshallow)",
        ),
    }
}

/// Tips sorted by what they point at, annotated tags peeled.
#[derive(Default)]
pub(super) struct Tips {
    pub(super) commits: Vec<ObjectId>,
    pub(super) trees: Vec<ObjectId>,
    pub(super) blobs: Vec<(ObjectId, String)>,
    /// The annotated tags met on the way, each once: its name and what it records.
    pub(super) tags: Vec<(Vec<u8>, Texts)>,
}

/// The name of an annotated tag as reports show it: its `tag` line, or the ref's short name
/// when the object does not say.
pub(super) fn tag_name(tag: &gix::objs::TagRef<'_>, by: &str) -> Vec<u8> {
    match tag.name.is_empty() {
        false => tag.name.to_vec(),
        true => by
            .strip_prefix("refs/tags/")
            .unwrap_or(by)
            .as_bytes()
            .to_vec(),
    }
}

/// Longer tag chains than anyone writes mean a loop.
pub(super) const MAX_PEEL: usize = 64;

/// The commit a revision names (`main`, `origin/main`, `HEAD~3`, an id).
pub(super) fn commit_id(repo: &gix::Repository, spec: &str) -> Result<ObjectId, SourceError> {
    let unknown = || unknown(spec, repo.is_shallow().unwrap_or(false));
    let id = repo
        .rev_parse_single(spec.as_bytes().as_bstr())
        .map_err(|_| unknown())?;
    let commit = id
        .object()
        .map_err(|e| {
            GitError::read(
                format!("revision {}", crate::redact::escape(spec.as_bytes())),
                e,
            )
        })?
        .peel_to_commit()
        .map_err(|_| unknown())?;
    Ok(commit.id)
}

/// Every ref, named, pointing wherever it points.
pub(super) fn all_refs(repo: &gix::Repository) -> Result<Vec<PushedRef>, SourceError> {
    let refs = repo.references().map_err(|e| GitError::read("refs", e))?;
    let mut tips = Vec::new();
    for r in refs.all().map_err(|e| GitError::read("refs", e))? {
        let r = r.map_err(|e| GitError::read("a ref", std::io::Error::other(e.to_string())))?;
        let name = r.name().as_bstr().to_string();
        // A symbolic ref names another ref, listed on its own.
        let Some(id) = r.try_id().map(|id| id.detach()) else {
            continue;
        };
        tips.push(PushedRef { id, name });
    }
    Ok(tips)
}

/// Sorts `refs` by what they point at, peeling annotated tags, in process; commits sorted,
/// each once.
pub(super) fn peel_gix(repo: &gix::Repository, refs: Vec<PushedRef>) -> Result<Tips, SourceError> {
    let mut tips = peel(repo, repo.object_hash(), refs)?;
    tips.commits.sort();
    tips.commits.dedup();
    Ok(tips)
}

/// Sorts `refs` by what they point at, in their order, peeling annotated tags (read through
/// `objects`, of object format `hash`).
pub(super) fn peel(
    objects: &dyn Objects,
    hash: gix::hash::Kind,
    refs: Vec<PushedRef>,
) -> Result<Tips, SourceError> {
    let mut tips = Tips::default();
    let mut buf = Vec::new();
    let mut tags_seen = HashSet::new();
    for r in refs {
        let mut id = r.id;
        let mut kind = None;
        for _ in 0..MAX_PEEL {
            let found = objects.find_kind(id, &mut buf).map_err(|e| {
                GitError::read(
                    format!("{} ({id})", crate::redact::escape(r.name.as_bytes())),
                    e,
                )
            })?;
            if found != gix::objs::Kind::Tag {
                kind = Some(found);
                break;
            }
            let tag = gix::objs::TagRef::from_bytes(&buf, hash)
                .map_err(|e| GitError::read(format!("tag {id}"), e))?;
            if tags_seen.insert(id) {
                tips.tags
                    .push((tag_name(&tag, &r.name), Texts::of_tag(&tag)));
            }
            id = tag.target();
        }
        match kind {
            Some(gix::objs::Kind::Commit) => tips.commits.push(id),
            Some(gix::objs::Kind::Tree) => tips.trees.push(id),
            Some(gix::objs::Kind::Blob) => tips.blobs.push((id, r.name)),
            _ => {
                return Err(SourceError::Input(format!(
                    "{}: an annotated tag chain does not end",
                    crate::redact::escape(r.name.as_bytes())
                )))
            }
        }
    }
    Ok(tips)
}
