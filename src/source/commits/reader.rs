//! Reads the blobs a listing names, and the versions they replaced: from the packs where they
//! are, through gix, from a push's quarantine, or through git's `cat-file`.

use super::*;

/// Reads the blobs some commits introduced, and the versions they replaced.
pub(crate) struct CommitReader {
    /// For each item, the item whose version it replaced at its path, when the walk listed
    /// that version too (see [`BlobRead::base`]).
    pub(super) bases: Vec<Option<usize>>,
    /// For each item, the version the hidden side held at its path (see
    /// [`Listing::previous`]).
    pub(super) previous: Vec<Option<ObjectId>>,
    /// For each item, the other paths its blob had on the hidden side.
    pub(super) elsewhere: Vec<Vec<Vec<u8>>>,
    pub(super) reader: Reader,
    /// The packs, read directly before gix is asked (see [`CommitReader::read_id`]).
    pub(super) packs: Option<crate::git::packs::Reader<Arc<Packs>>>,
}

pub(super) enum Reader {
    Gix(Box<gix::Repository>),
    /// A push's objects and the repository's, in process; git's `cat-file` (started on first
    /// use) for what gix cannot read.
    Pushed(Quarantine, Option<CatFile>),
    Plumbing(Option<CatFile>),
}

impl CommitReader {
    pub(super) fn read_id(
        &mut self,
        id: ObjectId,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<ReadBlob, GitError> {
        if let Some(packs) = &mut self.packs {
            // A blob stored as a delta is built from the nearest object the reader kept:
            // gix's cache keeps only the chains' bases, and where `git fast-import` chained
            // each blob to the one written before it, fifty deep, every version rebuilt its
            // chain (5 billion instructions of inflating for 5,000 versions).
            let read = packs
                .read_blob(&id, cap)
                .map_err(|e| GitError::read(format!("blob {id}"), e))?;
            if let Some(data) = read {
                buf.clear();
                buf.extend_from_slice(&data);
                return Ok(ReadBlob::Read);
            }
        }
        match &mut self.reader {
            Reader::Gix(repo) => crate::git::read_blob(repo, id, buf, cap),
            Reader::Pushed(objects, cat) => match objects.read_blob(id, buf, cap) {
                Ok(read) => Ok(read),
                // git accepted these objects and reads them in every layout: where gix cannot
                // (a layout it does not know), git's answer counts. What git cannot read
                // either fails the scan, with gix's reason (it names the damage; git's
                // `cat-file --batch` only says "missing").
                Err(e) => match cat_file(cat).and_then(|c| Ok(c.read(id, buf, cap)?)) {
                    Ok(read) => Ok(read),
                    Err(_) => Err(e),
                },
            },
            Reader::Plumbing(cat) => Ok(cat_file(cat)?.read(id, buf, cap)?),
        }
    }
}

/// The `git cat-file --batch` in `slot`, started on first use.
pub(super) fn cat_file(slot: &mut Option<CatFile>) -> Result<&mut CatFile, GitError> {
    Ok(match slot {
        Some(cat) => cat,
        slot @ None => slot.insert(CatFile::spawn()?),
    })
}

impl BlobRead for CommitReader {
    fn read(&mut self, item: &Item, buf: &mut Vec<u8>, cap: u64) -> Result<ReadBlob, SourceError> {
        let Content::Blob(id) = item.content else {
            return Err(SourceError::Input("a commit's item is not a blob".into()));
        };
        Ok(self.read_id(id, buf, cap)?)
    }

    /// The version this one replaced when the hidden side held it (the base of a range,
    /// what the server had before a push): a secret it holds already was not introduced
    /// here. A version the selection itself brings is judged as its own item, never as
    /// history.
    fn previous(
        &mut self,
        index: usize,
        _item: &Item,
        buf: &mut Vec<u8>,
        cap: u64,
    ) -> Result<bool, SourceError> {
        buf.clear();
        let Some(previous) = self.previous[index] else {
            return Ok(false);
        };
        Ok(self.read_id(previous, buf, cap)? == ReadBlob::Read)
    }

    fn elsewhere(&self, index: usize) -> &[Vec<u8>] {
        &self.elsewhere[index]
    }

    fn base(&self, index: usize) -> Option<usize> {
        self.bases[index]
    }

    /// A blob as a stream, for one too large to hold (what is committed is never let through
    /// unscanned): a loose one inflated here as it is read, a packed one through `git cat-file
    /// blob`, which streams it (gix would build it whole).
    fn stream(
        &mut self,
        item: &Item,
        from: u64,
        cap: u64,
    ) -> Result<Option<Stream<'_>>, SourceError> {
        let Content::Blob(id) = item.content else {
            return Ok(None);
        };
        let in_range = |size: u64| size > from && size <= cap;
        let dirs: Vec<std::path::PathBuf> = match &self.reader {
            Reader::Gix(repo) => vec![repo.objects.store_ref().path().to_owned()],
            Reader::Pushed(objects, _) => objects.dirs().to_vec(),
            Reader::Plumbing(_) => Vec::new(),
        };
        for dir in dirs {
            let loose = crate::git::loose::Loose::new(dir);
            let mut scratch = crate::git::loose::Scratch::default();
            if let Some(size) = loose.open(id, &mut scratch)? {
                if !in_range(size) {
                    return Ok(None);
                }
                return Ok(Some((Box::new(loose.stream(&mut scratch)?), size)));
            }
        }
        let size = match &self.reader {
            Reader::Gix(repo) => gix::odb::Header::try_header(&repo.objects, &id)
                .map_err(|e| GitError::read(format!("blob {id}"), e))?
                .map(|h| h.size())
                .ok_or_else(|| GitError::read(format!("blob {id}"), not_found()))?,
            Reader::Pushed(objects, _) => objects.blob_size(id)?,
            Reader::Plumbing(_) => plumbing::blob_size(id)?,
        };
        if !in_range(size) {
            return Ok(None);
        }
        Ok(Some((Box::new(plumbing::blob_stream(id)?), size)))
    }
}

/// An object that is not there.
pub(super) fn not_found() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::NotFound, "not in the repository")
}
