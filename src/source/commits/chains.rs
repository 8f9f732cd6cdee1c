//! The packs' delta chains as a [`Feed::Chains`](crate::source::feed::Feed::Chains): the
//! versions of a file git packed against each other are built along their chains, each right
//! after its base, with the ranges where it differs (see [`crate::git::packs`]).

use crate::git::packs::{Job, PackError, Plan};
use crate::source::feed::{self, ChainWalk, ChainWalker, Stop};
use crate::source::SourceError;

/// A plan of the packs' chains, and its jobs numbered.
pub(super) struct PackChains {
    plan: Plan,
    jobs: Vec<Job>,
}

impl PackChains {
    pub(super) fn new(plan: Plan) -> Self {
        let jobs = plan.jobs();
        PackChains { plan, jobs }
    }

    /// How many items the chains build, and how many they leave to be read one by one.
    pub(super) fn planned(&self) -> (usize, usize) {
        (self.plan.len(), self.plan.rest.len())
    }
}

impl ChainWalk for PackChains {
    fn chains(&self) -> usize {
        self.jobs.len()
    }

    fn walker(&self) -> Box<dyn ChainWalker + '_> {
        Box::new(PackWalker {
            chains: self,
            inflate: gix::zlib::Decompress::default(),
        })
    }

    fn rest(&self) -> &[usize] {
        &self.plan.rest
    }
}

/// One worker's walker: its own inflate state.
struct PackWalker<'c> {
    chains: &'c PackChains,
    inflate: gix::zlib::Decompress,
}

/// Why a walk of the packs ended early.
enum Halt {
    Pack(PackError),
    Stopped,
}

impl From<PackError> for Halt {
    fn from(e: PackError) -> Self {
        Halt::Pack(e)
    }
}

impl ChainWalker for PackWalker<'_> {
    fn walk(
        &mut self,
        chain: usize,
        cap: u64,
        visit: &mut feed::Visit<'_>,
        skipped: &mut Vec<usize>,
    ) -> Result<(), SourceError> {
        let mut versions = |v: crate::git::packs::Version<'_>, base: Option<&usize>| {
            let version = feed::Version {
                item: v.item,
                data: v.data,
                changed: v.changed,
            };
            visit(version, base.copied()).map_err(|Stop| Halt::Stopped)
        };
        let job = self.chains.jobs[chain];
        match self
            .chains
            .plan
            .walk(job, cap, &mut self.inflate, &mut versions, skipped)
        {
            Ok(()) | Err(Halt::Stopped) => Ok(()),
            Err(Halt::Pack(e)) => Err(crate::git::GitError::from(e).into()),
        }
    }
}
