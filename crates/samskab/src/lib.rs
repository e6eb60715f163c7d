//! The `samskab` binary's library part: what the end-to-end tests and the benchmark share with
//! the binary (the projection registry).

pub mod projections;
