//! `samskab`: one binary for every role of the system. See `cli.rs` for the commands.

mod cli;
mod config;
mod run;
mod seed;
mod seed_grants;
mod telemetry;

use clap::Parser;

/// See Cargo.toml: the allocator was a large share of the CPU of a registration.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    telemetry::init(cli.log_format);
    match run::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain once, at the edge.
            tracing::error!(error = format!("{e:#}"), "samskab stopped with an error");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
