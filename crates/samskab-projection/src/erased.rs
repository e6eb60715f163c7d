//! A projector behind a trait object, so the binary can keep every projection in one table
//! (`Vec<Box<dyn RunProjection>>`) and start, rebuild or report them by name.

use futures::future::BoxFuture;

use crate::{CancellationToken, Projection, Projector, ReadModel, RebuildReport};

/// What the binary does with a projection, whatever its type.
pub trait RunProjection: Send + Sync {
    fn read_model(&self) -> ReadModel;
    /// See [`Projector::run`].
    fn run(self: Box<Self>, shutdown: CancellationToken) -> BoxFuture<'static, anyhow::Result<()>>;
    /// See [`Projector::rebuild`]; `progress(done, total)` is called as the replay goes.
    fn rebuild<'a>(
        &'a self,
        progress: &'a (dyn Fn(u64, u64) + Send + Sync),
    ) -> BoxFuture<'a, anyhow::Result<RebuildReport>>;
}

impl<P: Projection> RunProjection for Projector<P> {
    fn read_model(&self) -> ReadModel {
        ReadModel {
            name: self.projection.name(),
            schema: self.projection.schema(),
        }
    }

    fn run(self: Box<Self>, shutdown: CancellationToken) -> BoxFuture<'static, anyhow::Result<()>> {
        Box::pin(async move { Projector::run(&self, shutdown).await })
    }

    fn rebuild<'a>(
        &'a self,
        progress: &'a (dyn Fn(u64, u64) + Send + Sync),
    ) -> BoxFuture<'a, anyhow::Result<RebuildReport>> {
        Box::pin(Projector::rebuild(self, progress))
    }
}
