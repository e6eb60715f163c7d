//! Every projection this installation runs, in one table: `samskab all`, `samskab worker`,
//! `samskab rebuild`, `/ops/projections` and the end-to-end tests all take it from here.
//! Adding a read model is one line in [`all`].

use samskab_audit_worker::AuditProjection;
use samskab_directory_worker::DirectoryProjection;
use samskab_eventlog::EventLog;
use samskab_grants_worker::GrantsProjection;
use samskab_matching_worker::MatchingProjection;
use samskab_notify_worker::NotifyProjection;
use samskab_projection::{Projection, Projector, ProjectorConfig, ReadModel, RunProjection};
use samskab_reporting_worker::ReportingProjection;
use sqlx::PgPool;

/// A registered projection: which read model it writes, and how to start its projector.
#[derive(Clone, Copy)]
pub struct Registered {
    pub read_model: ReadModel,
    start: fn(EventLog, PgPool, ProjectorConfig) -> Box<dyn RunProjection>,
}

impl Registered {
    pub fn projector(
        &self,
        log: EventLog,
        pool: PgPool,
        config: ProjectorConfig,
    ) -> Box<dyn RunProjection> {
        (self.start)(log, pool, config)
    }
}

/// The registry: one line per projection.
pub fn all() -> Vec<Registered> {
    vec![
        register::<DirectoryProjection>(),
        register::<MatchingProjection>(),
        register::<GrantsProjection>(),
        register::<AuditProjection>(),
        register::<ReportingProjection>(),
        register::<NotifyProjection>(),
    ]
}

/// The read models of [`all`], for the API's lag report.
pub fn read_models() -> Vec<ReadModel> {
    all().iter().map(|r| r.read_model).collect()
}

/// The projection registered under `name`, or an error that lists the names there are.
pub fn named(name: &str) -> anyhow::Result<Registered> {
    let all = all();
    all.iter()
        .find(|r| r.read_model.name == name)
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|r| r.read_model.name).collect();
            anyhow::anyhow!(
                "no projection named {name:?}; projections: {}",
                names.join(", ")
            )
        })
}

fn register<P: Projection + Default>() -> Registered {
    let projection = P::default();
    Registered {
        read_model: ReadModel {
            name: projection.name(),
            schema: projection.schema(),
        },
        start: |log, pool, config| Box::new(Projector::new(P::default(), log, pool, config)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_schemas_are_unique() {
        let models = read_models();
        for (i, a) in models.iter().enumerate() {
            for b in &models[i + 1..] {
                assert_ne!(a.name, b.name, "two projections named {}", a.name);
                assert_ne!(a.schema, b.schema, "two projections in schema {}", a.schema);
            }
        }
    }

    #[test]
    fn the_directory_is_registered_under_its_catalogue_name() {
        let found = named("directory").map(|r| r.read_model).ok();
        assert_eq!(found, Some(samskab_projection::read_model::DIRECTORY));
        assert!(named("nope").is_err());
    }

    #[test]
    fn matching_is_registered_under_its_catalogue_name() {
        let found = named("matching").map(|r| r.read_model).ok();
        assert_eq!(found, Some(samskab_projection::read_model::MATCHING));
    }
}
