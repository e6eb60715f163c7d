//! A story of one grant pool and its applications, told through the deciders, so that every
//! event in it is one `decide` would append: what the grants and the audit workers' tests
//! project. Each worker's tests tell their own story with it and record it through their own
//! [`ReadModelTest`].

use std::collections::BTreeMap;

use anyhow::Context;
use samskab_domain::{
    CaseFacts, Decider, DomainEvent, EntityKind, GrantApplication, GrantApplicationCommand,
    GrantApplicationEvent, GrantApplicationId, GrantApplicationState, GrantPool, GrantPoolCommand,
    GrantPoolEvent, GrantPoolId, GrantPoolState,
};
use samskab_eventlog::RecordedEvent;
use samskab_projection::Projection;

use super::{ProjectorHarness, ReadModelTest};

/// One event of a story, of the pool or of an application.
#[derive(Debug, Clone)]
pub enum Logged {
    Pool(GrantPoolId, GrantPoolEvent),
    Application(GrantApplicationId, GrantApplicationEvent),
}

impl Logged {
    /// The event as the runtime hands it to `model`'s projection, in `tenant` at `position`.
    pub fn recorded_in<P: Projection + Clone>(
        &self,
        model: &ReadModelTest<P>,
        tenant: &str,
        position: u64,
    ) -> RecordedEvent {
        match self {
            Logged::Pool(id, event) => model.recorded(tenant, &id.to_string(), position, event),
            Logged::Application(id, event) => {
                model.recorded(tenant, &id.to_string(), position, event)
            }
        }
    }

    /// Appends the event in `tenant` to the log the harness's projector reads; its position.
    pub async fn append_in(&self, h: &mut ProjectorHarness, tenant: &str) -> anyhow::Result<u64> {
        match self {
            Logged::Pool(id, event) => h.append_domain(tenant, id, event).await,
            Logged::Application(id, event) => h.append_domain(tenant, id, event).await,
        }
    }

    /// The entity's kind and id, as the log names them.
    pub fn entity(&self) -> (&'static str, String) {
        match self {
            Logged::Pool(id, _) => (EntityKind::GrantPool.as_str(), id.to_string()),
            Logged::Application(id, _) => (EntityKind::GrantApplication.as_str(), id.to_string()),
        }
    }

    pub fn event_type(&self) -> &'static str {
        match self {
            Logged::Pool(_, event) => event.event_type(),
            Logged::Application(_, event) => event.event_type(),
        }
    }
}

/// A pool's and its applications' commands, decided on their folded states: the events in the
/// order they were appended.
#[derive(Debug, Default)]
pub struct Story {
    pub pool_id: Option<GrantPoolId>,
    pool: Vec<GrantPoolEvent>,
    applications: BTreeMap<GrantApplicationId, Vec<GrantApplicationEvent>>,
    pub log: Vec<Logged>,
}

impl Story {
    /// The pool's command, decided: its one event is appended.
    pub fn pool(&mut self, command: GrantPoolCommand) -> anyhow::Result<&GrantPoolEvent> {
        let events = GrantPool::decide(&GrantPool::replay(&self.pool), &command)
            .map_err(|error| anyhow::anyhow!("{command:?}: {error:?}"))?;
        let [event] = events.as_slice() else {
            anyhow::bail!("{command:?} decided {events:?}, not one event");
        };
        let id = match event {
            GrantPoolEvent::Created(details) => details.id,
            _ => self.pool_id.context("the pool is created first")?,
        };
        self.pool_id = Some(id);
        self.pool.push(event.clone());
        self.log.push(Logged::Pool(id, event.clone()));
        self.pool.last().context("just pushed")
    }

    /// The application's command, decided: its one event is appended.
    pub fn application(
        &mut self,
        id: GrantApplicationId,
        command: GrantApplicationCommand,
    ) -> anyhow::Result<&GrantApplicationEvent> {
        let history = self.applications.entry(id).or_default();
        let events = GrantApplication::decide(&GrantApplication::replay(history.iter()), &command)
            .map_err(|error| anyhow::anyhow!("{command:?}: {error:?}"))?;
        let [event] = events.as_slice() else {
            anyhow::bail!("{command:?} decided {events:?}, not one event");
        };
        history.push(event.clone());
        self.log.push(Logged::Application(id, event.clone()));
        history.last().context("just pushed")
    }

    /// What the pool is told of the application before it decides.
    pub fn facts(&self, id: GrantApplicationId) -> anyhow::Result<CaseFacts> {
        let history = self.applications.get(&id).context("no such application")?;
        GrantApplication::replay(history)
            .facts()
            .context("the application is drafted")
    }

    /// The application's state, folded.
    pub fn application_state(&self, id: GrantApplicationId) -> GrantApplicationState {
        GrantApplication::replay(self.applications.get(&id).into_iter().flatten())
    }

    /// The pool's state, folded.
    pub fn pool_state(&self) -> GrantPoolState {
        GrantPool::replay(&self.pool)
    }

    /// Every event, recorded for `model` in `tenant` at positions `first`, `first + step`, ...
    pub fn recorded_in<P: Projection + Clone>(
        &self,
        model: &ReadModelTest<P>,
        tenant: &str,
        first: u64,
        step: u64,
    ) -> Vec<RecordedEvent> {
        self.log
            .iter()
            .enumerate()
            .map(|(i, logged)| logged.recorded_in(model, tenant, first + step * i as u64))
            .collect()
    }

    /// The index in the log of the first event of `event_type`.
    pub fn index_of(&self, event_type: &str) -> anyhow::Result<usize> {
        self.log
            .iter()
            .position(|l| l.event_type() == event_type)
            .context(event_type.to_owned())
    }
}
