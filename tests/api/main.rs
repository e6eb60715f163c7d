//! One integration-test binary, one file per feature (zero2prod style). Every test gets its
//! own NATS server and PostgreSQL database through `samskab_e2e::spawn_app`.

mod access;
mod bad_input;
mod certificates;
mod dashboard;
mod decisions;
mod flow;
mod grants;
mod idempotency;
mod matches;
mod matching;
mod needs;
mod notifications;
mod ops;
mod parties;
mod persons;
mod privacy;
mod read_models;
mod reports;
mod tenancy;
mod umbrellas;
mod worker_restart;
